//! The OpenAPI 3.1 document: info, servers, tags and security schemes, with every path
//! collected from the routes themselves (utoipa-actix-web), so the spec cannot drift.

use actix_web::App;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

/// Top-level document; paths come from `routes::configure`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "idpc-hub API",
        description = "The directory of a global civil-society network and the onward grants it makes. \
            Errors are application/problem+json (RFC 9457). Lists are cursor-paginated.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    servers((url = "/", description = "This server")),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "auth", description = "Login, tokens, password reset, invitations"),
        (name = "account", description = "The caller's own account"),
        (name = "users", description = "User administration (admin)"),
        (name = "api-clients", description = "Partner apps and their credentials (admin)"),
        (name = "directory", description = "Member organisations and partners"),
        (name = "membership", description = "Membership applications and decisions"),
        (name = "admin", description = "Secretariat tools: the outbox"),
        (name = "funds", description = "Money the network receives from donors"),
        (name = "grants", description = "Onward grants to partners and their life cycle"),
        (name = "disbursements", description = "Tranches of grants: request, four-eyes approval, payment"),
        (name = "reports", description = "Reports the grantees owe"),
        (name = "exports", description = "The 360Giving package of published grants"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from /api/v1/auth/login or /api/v1/auth/token",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/api/v1/auth/token",
                    Scopes::from_iter([
                        ("directory:read", "Read the directory"),
                        ("grants:read", "Read grants"),
                        ("webhooks:manage", "Manage webhooks"),
                    ]),
                ))],
                "OAuth2 client credentials for partner apps",
            )),
        );
    }
}

/// The contract of parameters that many operations share, stated once: the request
/// headers of optimistic concurrency and idempotency, and the page size of every list.
struct SharedParameters;

impl Modify for SharedParameters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{RefOr, Schema};
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                for p in op.parameters.iter_mut().flatten() {
                    let schema = match p.name.as_str() {
                        // Any visible ASCII, as the service checks it.
                        "Idempotency-Key" => ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some("^[\\x21-\\x7E]{1,255}$"))
                            .build(),
                        // An ETag as the service issues it: a quoted version number.
                        "If-Match" => ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some("^\"[0-9]{1,18}\"$"))
                            .build(),
                        "limit" => ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                                utoipa::openapi::schema::KnownFormat::Int64,
                            )))
                            .minimum(Some(1))
                            .maximum(Some(crate::pagination::MAX_LIMIT))
                            .build(),
                        _ => continue,
                    };
                    p.schema = Some(RefOr::T(Schema::Object(schema)));
                }
            }
        }
    }
}

/// The full document, as served at `/openapi.json` and printed by `idpc-hub openapi`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let mut doc = App::new()
        .into_utoipa_app()
        .openapi(doc)
        .configure(crate::routes::configure)
        .split_for_parts()
        .1;
    // After the routes are collected: this walks their operations.
    SharedParameters.modify(&mut doc);
    crate::webhooks::openapi::add_to(&mut doc);
    doc
}

/// The document as pretty JSON with a trailing newline (the committed file's form).
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

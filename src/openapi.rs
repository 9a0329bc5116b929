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

/// The full document, as served at `/openapi.json` and printed by `idpc-hub openapi`.
pub fn spec() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    App::new()
        .into_utoipa_app()
        .openapi(doc)
        .configure(crate::routes::configure)
        .split_for_parts()
        .1
}

/// The document as pretty JSON with a trailing newline (the committed file's form).
pub fn spec_json() -> String {
    let mut s = spec().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

//! The OpenAPI 3.1 document: info, servers, tags and security schemes, with every path
//! collected from the routes themselves (utoipa-actix-web), so the spec cannot drift.

use actix_web::App;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

pub mod contract;
mod cross_field;
pub mod descriptions;
pub mod examples;
pub mod shared;
mod text;

/// Top-level document; paths come from `routes::configure`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "idpc-hub API",
        description = "The directory of a global civil-society network and the onward grants it makes. \
            Errors are application/problem+json (RFC 9457). Lists are cursor-paginated.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
        contact(name = "idpc-hub maintainers (the network secretariat)"),
    ),
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
        (name = "documents", description = "Files on grants, reports, tranches, organisations and membership applications: streamed, checked by content, encrypted at rest, versioned"),
        (name = "exports", description = "Open data on published grants: the 360Giving package, the IATI 2.03 activity file, and how each fund is published"),
        (name = "webhooks", description = "Subscriptions through which partner apps hear of changes, signed and retried. \
            Each event is POSTed to every enabled subscription that asked for it and whose app may read it. \
            Verify with any Standard Webhooks library: webhook-signature holds `v1,` + base64(HMAC-SHA256(key, \"{webhook-id}.{webhook-timestamp}.{body}\")), \
            the key being the base64 part of the `whsec_` secret; during a secret rotation it holds two signatures separated by a space. \
            Deduplicate on webhook-id (the same on retries and replays). Answer 2xx quickly; anything else is retried with exponential backoff, 410 disables the subscription."),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&SecuritySchemes),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, response) in crate::error::docs::components() {
            components.responses.insert(name, response.into());
        }
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
/// headers of optimistic concurrency and idempotency, the page size of every list, ids, and
/// the currency of an exchange rate (any but the deployment's base currency, whose rate is 1).
struct SharedParameters<'a> {
    base_currency: &'a str,
}

impl Modify for SharedParameters<'_> {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{RefOr, Schema};
        for (path, item) in openapi.paths.paths.iter_mut() {
            // Every id is a UUID, except that an organisation is also found by its slug.
            let by_slug = path.starts_with("/api/v1/organisations/");
            for op in operations_mut(item) {
                for p in op.parameters.iter_mut().flatten() {
                    let schema = match p.name.as_str() {
                        "id" | "delivery_id"
                            if p.parameter_in == utoipa::openapi::path::ParameterIn::Path
                                && !by_slug =>
                        {
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                                    utoipa::openapi::schema::KnownFormat::Uuid,
                                )))
                                .build()
                        }
                        // The codes `money::currency` accepts.
                        "currency"
                            if p.parameter_in == utoipa::openapi::path::ParameterIn::Path =>
                        {
                            let mut codes = crate::codes::schema::currency();
                            if let Some(values) = codes.enum_values.as_mut() {
                                values.retain(|v| v != self.base_currency);
                            }
                            codes
                        }
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

/// The operations of a path item that the API has (GET, POST, PATCH, PUT, DELETE), for the
/// modifiers that walk every operation.
pub(crate) fn operations_mut(
    item: &mut utoipa::openapi::path::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.patch,
        &mut item.put,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

/// The document with the default `PUBLIC_BASE_URL` as its server: what `idpc-hub openapi`
/// prints and the committed file holds, so the file does not depend on the machine.
pub fn spec() -> utoipa::openapi::OpenApi {
    use crate::config::var;
    // PUBLIC_BASE_URL's default is empty (it follows PORT): the document names the default port.
    let default_base = format!("http://127.0.0.1:{}", var::PORT.default);
    spec_for(&default_base, var::BASE_CURRENCY.default)
}

/// The document as a deployment serves it at `/openapi.json`: its one server is the
/// deployment's `PUBLIC_BASE_URL`, and its `BASE_CURRENCY` has no exchange rate to set.
pub fn spec_for(public_base_url: &str, base_currency: &str) -> utoipa::openapi::OpenApi {
    let mut doc = build(base_currency);
    doc.servers = Some(vec![
        utoipa::openapi::server::ServerBuilder::new()
            .url(public_base_url.trim_end_matches('/'))
            .description(Some("This deployment (PUBLIC_BASE_URL)"))
            .build(),
    ]);
    doc
}

/// The document as it is published (served at `/openapi.json` and committed): `spec` as
/// JSON, with the rules that tie two fields together ([`cross_field`]), the code lists
/// written once under `components/schemas` ([`shared::name_code_lists`]) and the
/// parameters several operations share stated once under `components/parameters`
/// ([`shared::share_parameters`]), and an example on every request body and answer
/// ([`examples::add_to`]).
pub fn document(spec: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut doc = serde_json::to_value(spec).unwrap_or_default();
    cross_field::add_to(&mut doc);
    shared::name_code_lists(&mut doc);
    shared::share_parameters(&mut doc);
    // Last: the examples are built from the schemas as they are published.
    examples::add_to(&mut doc);
    doc
}

/// A strong ETag for the served document: a digest of its JSON.
pub fn etag(doc: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(doc.to_string().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn build(base_currency: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    let mut doc = App::new()
        .into_utoipa_app()
        .openapi(doc)
        .configure(crate::routes::configure)
        .split_for_parts()
        .1;
    // After the routes are collected: this walks their operations.
    SharedParameters { base_currency }.modify(&mut doc);
    reference_page_items(&mut doc);
    untagged_views_are_any_of(&mut doc);
    text::add_to(&mut doc);
    crate::openapi::contract::Contract.modify(&mut doc);
    crate::webhooks::openapi::add_to(&mut doc);
    doc
}

/// utoipa inlines a generic's argument, so `Page_Grant` would carry a second copy of
/// `Grant`. Each page's `data` items refer to the item's own schema instead.
fn reference_page_items(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{ArrayItems, Schema};
    use utoipa::openapi::{Ref, RefOr};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let known: std::collections::HashSet<String> = components.schemas.keys().cloned().collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(item) = name.strip_prefix("Page_").filter(|i| known.contains(*i)) else {
            continue;
        };
        let RefOr::T(Schema::Object(page)) = schema else {
            continue;
        };
        if let Some(RefOr::T(Schema::Array(data))) = page.properties.get_mut("data") {
            data.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(item))));
        }
    }
}

/// utoipa writes a `#[serde(untagged)]` enum as `oneOf`, which demands that exactly one variant
/// matches. The caller-dependent views (`UserView`, `GrantAnswer`, `GrantItem`) are not
/// exclusive: a whole account also satisfies the staff view. Each answer matches at least one
/// variant, which is what `anyOf` says.
fn untagged_views_are_any_of(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AnyOf, Schema};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::OneOf(one)) = schema else {
            continue;
        };
        if one.discriminator.is_some() {
            continue;
        }
        let mut any = AnyOf::new();
        any.items = one.items.clone();
        any.description = one.description.clone();
        *schema = RefOr::T(Schema::AnyOf(any));
    }
}

/// The document as pretty JSON with a trailing newline (the committed file's form).
pub fn spec_json() -> String {
    let mut s = serde_json::to_string_pretty(&document(&spec())).unwrap_or_default();
    s.push('\n');
    s
}

/// Issue 9 asked that restructuring the code not grow the published document. Operations,
/// webhooks and stricter schemas have been added since it was filed, so the measure that
/// compares like with like is the document cut down to the operations it had then (and what
/// they refer to), in the committed form, against the committed file of that time.
#[cfg(test)]
mod size {
    use serde_json::{Map, Value};

    /// The committed `openapi/openapi.json` at bf1ff61, when issue 9 was filed.
    const BASELINE_BYTES: usize = 272_262;

    /// Adds to `keep` every component `value` refers to, directly or through another one.
    fn referred(doc: &Value, value: &Value, keep: &mut Map<String, Value>) {
        match value {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                    let mut parts = r.trim_start_matches("#/components/").splitn(2, '/');
                    if let (Some(kind), Some(name)) = (parts.next(), parts.next()) {
                        let section = keep
                            .entry(kind)
                            .or_insert_with(|| Value::Object(Map::new()));
                        if section.get(name).is_none() {
                            let target = doc["components"][kind][name].clone();
                            section[name] = target.clone();
                            referred(doc, &target, keep);
                        }
                    }
                }
                o.values().for_each(|v| referred(doc, v, keep));
            }
            Value::Array(a) => a.iter().for_each(|v| referred(doc, v, keep)),
            _ => {}
        }
    }

    /// Removes the media-type examples issue 29 added: a feature asked for after issue 9, not
    /// a restructuring, so they are not part of what issue 9's measure compares.
    fn strip_media_examples(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Object(content)) = o.get_mut("content") {
                    for media in content.values_mut() {
                        if let Some(m) = media.as_object_mut() {
                            m.remove("example");
                        }
                    }
                }
                o.values_mut().for_each(strip_media_examples);
            }
            Value::Array(a) => a.iter_mut().for_each(strip_media_examples),
            _ => {}
        }
    }

    #[test]
    fn the_operations_of_the_issue_9_baseline_take_no_more_room_than_they_did() {
        let mut doc = super::document(&super::spec());
        strip_media_examples(&mut doc);
        let mut paths = Map::new();
        let mut count = 0;
        for line in include_str!("baseline_operations.txt").lines() {
            let Some((method, path)) = line.split_once(' ').filter(|_| !line.starts_with('#'))
            else {
                continue;
            };
            let method = method.to_lowercase();
            let op = doc["paths"][path][&method].clone();
            assert!(op.is_object(), "{method} {path} is gone from the document");
            let item = paths
                .entry(path)
                .or_insert_with(|| Value::Object(Map::new()));
            item[&method] = op;
            count += 1;
        }
        assert_eq!(count, 65);
        let paths = Value::Object(paths);
        let mut components = Map::new();
        referred(&doc, &paths, &mut components);
        components.insert(
            "securitySchemes".into(),
            doc["components"]["securitySchemes"].clone(),
        );
        let mut cut = doc.clone();
        cut["paths"] = paths;
        cut["components"] = Value::Object(components);
        if let Some(root) = cut.as_object_mut() {
            root.remove("webhooks");
        }
        let bytes = serde_json::to_string_pretty(&cut).unwrap().len() + 1;
        let whole = serde_json::to_string_pretty(&doc).unwrap().len() + 1;
        println!(
            "baseline operations: {bytes} bytes (was {BASELINE_BYTES}); whole document: {whole}"
        );
        assert!(
            bytes <= BASELINE_BYTES,
            "the baseline's operations now take {bytes} bytes, more than {BASELINE_BYTES}"
        );
    }
}

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
pub mod examples;
pub mod shared;
mod text;

/// Top-level document; paths come from `routes::configure`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "idpc-hub API",
        description = "The directory of a global civil-society network and the onward grants it makes. \
            Errors are application/problem+json (RFC 9457). Lists are cursor-paginated. \
            Languages: English, Spanish and French (`en`, `es`, `fr`). A problem's `title` and \
            field `message` follow `Accept-Language` (its `type` and field `code` never change) and \
            every response says `Content-Language`; a profile's `description` is read in the \
            reader's language when it has one. A language is added as translation files \
            (`locales/<code>/*.ftl` and one line in `src/i18n/mod.rs`; see the README, \
            \"Languages, and adding a language\").",
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
        (name = "budgets", description = "Budget lines and indicators of grants, and revisions of approved budgets under four eyes"),
        (name = "bank accounts", description = "Payee bank accounts: proposed, confirmed by a second person, usable after a cooling-off period; numbers encrypted and masked"),
        (name = "payment runs", description = "Finance's payment runs: approved tranches gathered per currency, approved under four eyes, exported as ISO 20022 pain.001 and CSV, recorded paid or returned"),
        (name = "payments", description = "The payments register: paid and reversed tranches with totals per currency and in the base currency"),
        (name = "portfolio", description = "Portfolio reporting against the strategic plan: money by pillar, priority area, region, country, fund, donor and year; membership growth; donor fund statements; CSV, XLSX and PDF downloads"),
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
/// headers of optimistic concurrency and idempotency, the page size of every list, and
/// the currency of an exchange rate (any but the deployment's base currency, whose rate is 1).
struct SharedParameters<'a> {
    base_currency: &'a str,
}

impl Modify for SharedParameters<'_> {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{RefOr, Schema};
        for item in openapi.paths.paths.values_mut() {
            for op in operations_mut(item) {
                for p in op.parameters.iter_mut().flatten() {
                    let schema = match p.name.as_str() {
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
    // The middleware's own fact: the headers state the limits at run time.
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            if let Some(op) = op.as_object_mut() {
                op.remove(crate::http_contract::RATE_LIMITS);
            }
        }
    }
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

/// The document as utoipa collects it from the handlers of `routes::configure`, before
/// any modifier: what each handler declares, and nothing else.
pub(crate) fn collected() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    App::new()
        .into_utoipa_app()
        .openapi(doc)
        .configure(crate::routes::configure)
        .split_for_parts()
        .1
}

fn build(base_currency: &str) -> utoipa::openapi::OpenApi {
    let mut doc = collected();
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

/// The published document's meaning as a snapshot (`insta`): each operation with who may call
/// it, the limits its handler counts, its parameters, body and answers, and each schema's
/// fields. A change to the API shows here as a short, reviewable diff (`cargo insta review`);
/// `openapi/openapi.json` stays the full text, and `scripts/openapi-diff.py` compares two of
/// them in depth.
#[cfg(test)]
mod snapshot {
    use serde_json::Value;

    /// `#/components/schemas/Grant` → `Grant`; an inline schema → its type.
    fn schema_name(schema: &Value) -> String {
        if let Some(r) = schema["$ref"].as_str() {
            return r.rsplit('/').next().unwrap_or(r).to_string();
        }
        match (&schema["type"], &schema["items"]) {
            (Value::String(t), items) if t == "array" => format!("[{}]", schema_name(items)),
            (Value::Null, _) => "{…}".into(),
            (t, _) => t.to_string().replace('"', ""),
        }
    }

    fn contents(v: &Value) -> String {
        let Some(content) = v["content"].as_object() else {
            return String::new();
        };
        content
            .iter()
            .map(|(media, m)| format!(" {media}:{}", schema_name(&m["schema"])))
            .collect()
    }

    fn operation(doc: &Value, method: &str, path: &str, op: &Value, out: &mut String) {
        use std::fmt::Write;
        let security: Vec<String> = op["security"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| s.to_string().replace('"', ""))
            .collect();
        let _ = writeln!(
            out,
            "{} {path} ({}) security=[{}]",
            method.to_uppercase(),
            op["operationId"].as_str().unwrap_or_default(),
            security.join(" | "),
        );
        if let Some(limits) = op.get(crate::http_contract::RATE_LIMITS) {
            let _ = writeln!(out, "  rate limits {limits}");
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            let p = match p["$ref"].as_str() {
                Some(r) => &doc["components"]["parameters"][r.rsplit('/').next().unwrap_or(r)],
                None => p,
            };
            let required = if p["required"] == true { "" } else { "?" };
            let _ = writeln!(
                out,
                "  {} {}{required}: {}",
                p["in"].as_str().unwrap_or_default(),
                p["name"].as_str().unwrap_or_default(),
                serde_json::to_string(&p["schema"]).unwrap_or_default(),
            );
        }
        if let Some(body) = op.get("requestBody") {
            let _ = writeln!(out, "  body{}", contents(body));
        }
        for (status, response) in op["responses"].as_object().into_iter().flatten() {
            let shown = match response["$ref"].as_str() {
                Some(r) => format!(" → {}", r.rsplit('/').next().unwrap_or(r)),
                None => contents(response),
            };
            let _ = writeln!(out, "  {status}{shown}");
        }
    }

    /// The summary the snapshot holds: operations, then schemas with their fields.
    fn surface(doc: &Value, with_limits: &Value) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let mut op = op.clone();
                if let Some(limits) =
                    with_limits["paths"][path][method].get(crate::http_contract::RATE_LIMITS)
                {
                    op[crate::http_contract::RATE_LIMITS] = limits.clone();
                }
                operation(doc, method, path, &op, &mut out);
            }
        }
        for (name, schema) in doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields: Vec<String> = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, s)| {
                    let mark = if required.contains(&field.as_str()) {
                        ""
                    } else {
                        "?"
                    };
                    format!("{field}{mark}: {}", schema_name(s))
                })
                .collect();
            let _ = writeln!(out, "schema {name} {{{}}}", fields.join(", "));
        }
        out
    }

    #[test]
    fn the_meaning_of_the_published_document_is_the_reviewed_one() {
        let spec = super::spec();
        let with_limits = serde_json::to_value(&spec).unwrap();
        let doc = super::document(&spec);
        insta::assert_snapshot!("openapi_surface", surface(&doc, &with_limits));
    }
}

//! The generic half of the OpenAPI contract, applied to every operation after the routes are
//! collected, so operations added later get it without a line in their annotations: what the
//! description can add from the parameters (idempotency, `If-Match`, paging), a documented
//! 500, and the headers the server sends on every answer (`X-Request-Id`), on 401
//! (`WWW-Authenticate`), 429 and 503 (`Retry-After`, and the rate-limit fields on 429), on
//! replays (`Idempotent-Replayed`) and on pages (`Link`), each stated once under
//! `components.headers` and referenced. Who may call an operation (`security`) and its
//! description are the handler's own, on its `#[utoipa::path]`.

use serde_json::{Value, json};
use utoipa::Modify;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

use crate::error::PROBLEM_JSON;

/// The shared header components: (name in components, header name, description, schema).
fn header_components() -> Vec<(&'static str, Value)> {
    vec![
        (
            "XRequestId",
            json!({
                "description": "The id of this request (the caller's own `X-Request-Id` when it is 1-128 characters of `A-Za-z0-9-_.:`, else a new UUID); quote it when reporting a problem.",
                "schema": {"type": "string", "maxLength": 128}
            }),
        ),
        (
            "RetryAfter",
            json!({
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1}
            }),
        ),
        (
            "WWWAuthenticate",
            json!({
                "description": "The scheme to authenticate with: `Bearer`.",
                "schema": {"type": "string"}
            }),
        ),
        (
            "IdempotentReplayed",
            json!({
                "description": "`true` when this is the stored answer to an earlier request with the same `Idempotency-Key` (the command did not run again).",
                "schema": {"type": "string", "enum": ["true"]}
            }),
        ),
        (
            "RateLimitPolicy",
            json!({
                "description": "The limits of this route (IETF draft `RateLimit-Policy`): `\"ip\";q=10;w=60` allows 10 requests per client address per 60 seconds.",
                "schema": {"type": "string"}
            }),
        ),
        (
            "RateLimit",
            json!({
                "description": "The state of the exhausted limit (IETF draft `RateLimit`): `\"ip\";r=0;t=42` has nothing left for 42 seconds.",
                "schema": {"type": "string"}
            }),
        ),
        (
            "Link",
            json!({
                "description": "`<…?cursor=…>; rel=\"next\"` when there is a next page: the same query with the next cursor.",
                "schema": {"type": "string"}
            }),
        ),
    ]
}

/// The header names and components a response of `status` carries.
fn headers_for(
    status: &str,
    method: &str,
    idempotent: bool,
    paged: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("X-Request-Id", "XRequestId")];
    match status {
        "401" => out.push(("WWW-Authenticate", "WWWAuthenticate")),
        "429" => out.extend([
            ("Retry-After", "RetryAfter"),
            ("RateLimit-Policy", "RateLimitPolicy"),
            ("RateLimit", "RateLimit"),
        ]),
        "503" => out.push(("Retry-After", "RetryAfter")),
        s if s.starts_with('2') => {
            if idempotent {
                out.push(("Idempotent-Replayed", "IdempotentReplayed"));
            }
            if paged && method == "GET" && s == "200" {
                out.push(("Link", "Link"));
            }
        }
        _ => {}
    }
    out
}

/// Puts `$ref`s to the header components on a response, keeping the headers it states.
/// The typed model has no header references, so they go through its extension map, which
/// serializes flat beside `description` (the typed `headers` map is emptied into it).
fn reference_headers(response: &mut Response, headers: &[(&str, &str)]) {
    let mut map = serde_json::Map::new();
    if let Some(Value::Object(existing)) =
        response.extensions.as_ref().and_then(|e| e.get("headers"))
    {
        map.extend(existing.clone());
    }
    for (name, header) in std::mem::take(&mut response.headers) {
        map.insert(name, serde_json::to_value(header).unwrap_or(Value::Null));
    }
    for (name, component) in headers {
        map.entry(name.to_string())
            .or_insert_with(|| json!({"$ref": format!("#/components/headers/{component}")}));
    }
    // Not `ExtensionsBuilder::add`, which prefixes every key with `x-`.
    response
        .extensions
        .get_or_insert_with(Extensions::default)
        .insert("headers".into(), Value::Object(map));
}

/// The operation's written description (who, what, emails) followed by what the document
/// itself proves about retries, concurrency and paging.
fn describe(op: &mut Operation, method: &str, idempotent: bool, versioned: bool, paged: bool) {
    let mut text = op.description.clone().unwrap_or_default();
    let mut add = |s: &str| {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(s);
    };
    if idempotent {
        add(
            "Idempotent with an `Idempotency-Key`: a retry with the same key and body answers the first outcome again (24 h); the same key with another body is 422.",
        );
    } else if method == "GET" {
        add("Safe: HEAD answers with the same headers and no body.");
    }
    if versioned {
        add(
            "Optimistic concurrency: `If-Match` with the ETag of the version read is required (428 without it, 412 when stale).",
        );
    }
    if paged {
        add(
            "Cursor-paged: follow `next_cursor` (or the `Link: rel=\"next\"` header) until it is null.",
        );
    }
    op.description = (!text.is_empty()).then_some(text);
}

/// The modifier; see the module documentation.
pub struct Contract;

impl Modify for Contract {
    fn modify(&self, openapi: &mut OpenApi) {
        add_shared_components(openapi);
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                ("GET", &mut item.get),
                ("POST", &mut item.post),
                ("PUT", &mut item.put),
                ("PATCH", &mut item.patch),
                ("DELETE", &mut item.delete),
            ];
            for (method, op) in ops {
                if let Some(op) = op.as_mut() {
                    complete_operation(method, op);
                }
            }
        }
    }
}

/// The documented 500, the headers of the shared responses and the header components they
/// reference.
fn add_shared_components(openapi: &mut OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    components.responses.insert(
        "InternalError".into(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "Something failed on the server; the problem carries the request id to quote",
                )
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build(),
        ),
    );
    for (name, response) in components.responses.iter_mut() {
        if let RefOr::T(response) = response {
            let status = crate::error::docs::RESPONSES
                .iter()
                .find(|(_, n, _)| n == name)
                .map_or("500", |(s, _, _)| *s);
            reference_headers(response, &headers_for(status, "", false, false));
        }
    }
    let headers: serde_json::Map<String, Value> = header_components()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    components
        .extensions
        .get_or_insert_with(Extensions::default)
        .insert("headers".into(), Value::Object(headers));
}

/// What an operation's parameters say about it.
#[derive(Default)]
struct Traits {
    /// It takes an `Idempotency-Key`.
    idempotent: bool,
    /// It takes a `cursor`: a page of a list.
    paged: bool,
    /// It takes `If-Match`.
    versioned: bool,
    /// It takes a path or query parameter.
    takes_text: bool,
}

impl Traits {
    fn of(op: &Operation) -> Self {
        let mut t = Traits::default();
        for p in op.parameters.iter().flatten() {
            t.idempotent |= p.name == crate::idempotency::HEADER;
            t.paged |= p.name == "cursor";
            t.versioned |= p.name == "If-Match";
            t.takes_text |= matches!(
                p.parameter_in,
                utoipa::openapi::path::ParameterIn::Path
                    | utoipa::openapi::path::ParameterIn::Query
            );
        }
        t
    }
}

/// The description, the 400 and 500 every such route can answer, and the headers of each
/// response of one operation.
fn complete_operation(method: &str, op: &mut Operation) {
    let t = Traits::of(op);
    describe(op, method, t.idempotent, t.versioned, t.paged);
    // A path or query parameter with a control character (NUL …) is a 400 on
    // every route (the request-context middleware refuses it before routing).
    if t.takes_text {
        op.responses
            .responses
            .entry("400".into())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name("BadRequest")));
    }
    op.responses
        .responses
        .entry("500".into())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name("InternalError")));
    for (status, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            reference_headers(
                response,
                &headers_for(status, method, t.idempotent, t.paged),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_written_description() {
        // The handlers' own words, before the contract appends what the document proves.
        let doc = crate::openapi::collected();
        let mut missing = Vec::new();
        for item in doc.paths.paths.values() {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                .into_iter()
                .flatten()
            {
                if op.description.as_deref().is_none_or(str::is_empty) {
                    missing.push(op.operation_id.clone().unwrap_or_default());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "no `description = ...` on the #[utoipa::path] of {missing:?}"
        );
    }

    #[test]
    fn every_operation_states_security_and_a_500() {
        let doc = serde_json::to_value(crate::openapi::spec()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert!(op["security"].is_array(), "{method} {path} has no security");
                assert!(
                    op["responses"]["500"]["$ref"] == "#/components/responses/InternalError",
                    "{method} {path} has no 500"
                );
            }
        }
    }

    #[test]
    fn partner_operations_list_the_client_credentials_scheme() {
        let doc = serde_json::to_value(crate::openapi::spec()).unwrap();
        let security = &doc["paths"]["/api/v1/grants"]["get"]["security"];
        assert!(
            security
                .as_array()
                .unwrap()
                .contains(&json!({"oauth2": ["grants:read"]})),
            "{security}"
        );
        assert!(
            security
                .as_array()
                .unwrap()
                .contains(&json!({"bearer": []}))
        );
        assert_eq!(
            doc["paths"]["/api/v1/auth/login"]["post"]["security"],
            json!([])
        );
    }

    #[test]
    fn every_response_documents_its_request_id_and_retry_headers() {
        let doc = serde_json::to_value(crate::openapi::spec()).unwrap();
        let x_request_id = json!({"$ref": "#/components/headers/XRequestId"});
        for (name, response) in doc["components"]["responses"].as_object().unwrap() {
            assert_eq!(response["headers"]["X-Request-Id"], x_request_id, "{name}");
        }
        let responses = &doc["components"]["responses"];
        assert!(responses["TooManyRequests"]["headers"]["Retry-After"].is_object());
        assert!(responses["TooManyRequests"]["headers"]["RateLimit-Policy"].is_object());
        assert!(responses["Unauthorized"]["headers"]["WWW-Authenticate"].is_object());
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    if response.get("$ref").is_none() {
                        assert_eq!(
                            response["headers"]["X-Request-Id"], x_request_id,
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        assert!(doc["components"]["headers"]["XRequestId"]["schema"].is_object());
        assert!(doc["servers"][0]["url"] == "http://127.0.0.1:8080");
    }
}

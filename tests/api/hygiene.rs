//! Input hygiene, driven by the OpenAPI document so every operation is covered, including
//! ones added later: a NUL (or another control character) in any text of any request body,
//! query parameter or path segment is a 400 that names the field, on both backends, and
//! never a 500.

use actix_web::http::Method;
use serde_json::{Map, Value, json};

use crate::common::TestApp;
use crate::on_both;

const NUL_TEXT: &str = "bad\u{0}text";
const SOME_ID: &str = "01936b2e-0000-7000-8000-000000000000";

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => match schema
            .get("oneOf")
            .or(schema.get("anyOf"))
            .or(schema.get("allOf"))
        {
            // The first non-null alternative stands for the field.
            Some(Value::Array(alts)) => alts
                .iter()
                .map(|a| resolve(doc, a))
                .find(|a| a.get("type") != Some(&json!("null")))
                .unwrap_or(schema),
            _ => schema,
        },
    }
}

fn types(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => vec![],
    }
}

/// A plausible value for a schema, good enough to get past deserialization.
fn sample(doc: &Value, schema: &Value) -> Value {
    let s = resolve(doc, schema);
    if let Some(Value::Array(e)) = s.get("enum") {
        return e
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .unwrap_or(Value::Null);
    }
    if let Some(ex) = s.get("example") {
        return ex.clone();
    }
    let t = types(s);
    let has = |x: &str| t.iter().any(|y| y == x);
    if has("object") || s.get("properties").is_some() {
        // Required properties only: optional ones might have rules a sample cannot guess.
        let required: Vec<&str> = s["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut m = Map::new();
        for (k, v) in s["properties"].as_object().into_iter().flatten() {
            if required.contains(&k.as_str()) {
                m.insert(k.clone(), sample(doc, v));
            }
        }
        Value::Object(m)
    } else if has("array") {
        json!([])
    } else if has("integer") || has("number") {
        json!(1)
    } else if has("boolean") {
        json!(true)
    } else if has("string") {
        match s.get("format").and_then(Value::as_str) {
            Some("date") => json!("2026-01-01"),
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            Some("uuid") => json!(SOME_ID),
            _ => json!("Plain text"),
        }
    } else {
        Value::Null
    }
}

/// Top-level properties of a body schema that hold text.
fn text_fields(doc: &Value, schema: &Value) -> Vec<String> {
    let s = resolve(doc, schema);
    s["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| types(resolve(doc, v)).iter().any(|t| t == "string"))
        .map(|(k, _)| k.clone())
        .collect()
}

fn concrete(path: &str, id: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').map(|j| i + j + 1).unwrap_or(rest.len());
        out.push_str(id);
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

on_both! {
    async fn a_nul_byte_in_any_body_field_is_a_400_naming_that_field(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let doc = serde_json::to_value(idpc_hub::openapi::spec()).unwrap();
        let mut checked = 0;
        let mut failures = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(content) = op["requestBody"]["content"].as_object() else { continue };
                let Some((media, body)) = content.iter().find(|(m, _)| m.contains("json")) else { continue };
                let schema = &body["schema"];
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let uri = concrete(path, SOME_ID);
                for field in text_fields(&doc, schema) {
                    let mut b = sample(&doc, schema);
                    b[&field] = json!(NUL_TEXT);
                    let r = app
                        .req(method.clone(), &uri)
                        .bearer(&admin.token)
                        .header("if-match", "\"1\"")
                        .body(media, serde_json::to_vec(&b).unwrap())
                        .send()
                        .await;
                    checked += 1;
                    // An admin may lack the role (pay is finance's): the role check comes first.
                    if r.status == 403 {
                        continue;
                    }
                    let named = r.body["errors"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| e["field"] == json!(field)));
                    if r.status != 400 || !named {
                        failures.push(format!("{method} {path} {field}: {} {}", r.status, r.text));
                    }
                }
            }
        }
        assert!(checked > 50, "only {checked} fields were checked");
        assert!(failures.is_empty(), "NUL not refused by field:\n{}", failures.join("\n"));
    }
}

on_both! {
    async fn a_nul_byte_in_any_query_parameter_or_path_segment_is_a_400(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let doc = serde_json::to_value(idpc_hub::openapi::spec()).unwrap();
        let mut failures = Vec::new();
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    let (uri, expected_field) = match p["in"].as_str() {
                        Some("query") => (format!("{}?{name}=bad%00text", concrete(path, SOME_ID)), name.to_string()),
                        Some("path") => (concrete(path, "bad%00text"), "path".to_string()),
                        _ => continue,
                    };
                    let r = app.req(method.clone(), &uri).bearer(&admin.token).send().await;
                    checked += 1;
                    let named = r.body["errors"]
                        .as_array()
                        .is_some_and(|e| e.iter().any(|e| e["field"] == json!(expected_field)));
                    if r.status != 400 || !named {
                        failures.push(format!("{method} {uri}: {} {}", r.status, r.text));
                    }
                }
            }
        }
        assert!(checked > 30, "only {checked} parameters were checked");
        assert!(failures.is_empty(), "NUL not refused:\n{}", failures.join("\n"));
    }
}

on_both! {
    async fn a_nul_byte_in_the_token_form_is_refused_without_a_500(backend) {
        let app = TestApp::start(backend).await;
        for form in [
            "grant_type=client_credentials&client_id=bad%00id&client_secret=x",
            "grant_type=client_credentials&client_id=x&client_secret=bad%00secret",
            "grant_type=client%00credentials&client_id=x&client_secret=y",
        ] {
            let r = app
                .post("/api/v1/auth/token")
                .body("application/x-www-form-urlencoded", form)
                .send()
                .await;
            assert!(r.status == 400 || r.status == 401, "{form}: {} {}", r.status, r.text);
        }
    }
}

on_both! {
    async fn bidi_overrides_and_zero_width_characters_in_names_are_refused_naming_the_field(backend) {
        use crate::common::console::Browser;
        let app = TestApp::start_with(backend, &[("APPLICATION_RATE_LIMIT_PER_IP", "100")]).await;
        let w = crate::grants::world(&app).await;
        let tricks = ["\u{202E}ayneK", "Ken\u{200B}ya", "Ken\u{2066}ya\u{2069}", "\u{FEFF}Kenya", "Ken\u{2060}ya", "Ken\u{200D}ya"];
        for (i, name) in tricks.iter().enumerate() {
            let mut failures = Vec::new();
            let mut check = |what: &str, r: crate::common::http::Resp, field: &str| {
                if r.status != 400 || r.first_error_field() != field {
                    failures.push(format!("{what}: {} {}", r.status, r.text));
                }
            };
            check("new organisation", app.post("/api/v1/organisations").bearer(&w.admin.token)
                .json(&json!({"name": name, "kind": "member", "country": "KE", "region": "africa"})).send().await, "name");
            let org = app.get(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.admin.token).send().await.expect(200);
            let etag = org.header("etag").unwrap();
            for field in ["name", "acronym"] {
                check(&format!("organisation {field}"), app.patch(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.admin.token)
                    .header("if-match", &etag).json(&json!({field: name})).send().await, field);
            }
            check("new user", app.post("/api/v1/users").bearer(&w.admin.token)
                .json(&json!({"email": format!("trick{i}@staff.example"), "display_name": name, "role": "grant_officer"})).send().await, "display_name");
            check("own name", app.patch("/api/v1/me").bearer(&w.officer.token).json(&json!({"display_name": name})).send().await, "display_name");
            check("application", app.post("/api/v1/membership-applications").json(&json!({
                "organisation": {"name": name, "country": "BR", "region": "latin_america_caribbean", "focus_areas": ["support_dont_punish"]},
                "contact": {"name": "Carla", "email": format!("trick{i}@apply.example")},
                "motivation": "We want to join the network's advocacy for drug policy reform.",
            })).send().await, "organisation.name");
            let mut grant = crate::grants::grant_body(&w.fund, &w.grantee, "USD", "100.00");
            grant["title"] = json!(name);
            check("grant title", app.post("/api/v1/grants").bearer(&w.officer.token).json(&grant).send().await, "title");
            check("fund title", app.post("/api/v1/funds").bearer(&w.officer.token).json(&json!({
                "donor_organisation_id": w.donor, "title": name, "reference": format!("T-{i}"),
                "currency": "USD", "amount": "100.00", "starts_on": "2026-01-01", "ends_on": "2027-12-31",
            })).send().await, "title");
            assert!(failures.is_empty(), "{name:?}: {failures:#?}");
        }
        // Nothing was stored under a trick name.
        let list = app.get("/api/v1/organisations?limit=100").bearer(&w.admin.token).send().await.expect(200);
        assert!(!list.text.contains("ayneK") && !list.text.contains("\\u200b"), "{}", list.text);
        // The console's invitation form shows it at the field.
        app.emails().await;
        app.post("/api/v1/users").bearer(&w.admin.token)
            .json(&json!({"email": "invited@staff.example", "display_name": "Invited", "role": "grant_officer"})).send().await.expect(201);
        let token = app.emails().await.iter().find_map(|m| m.link_param("http://hub.test/accept-invitation", "token")).unwrap();
        let mut b = Browser::new(&app);
        let r = b.submit("/accept-invitation", &[("token", &token), ("display_name", "Ken\u{200B}ya"), ("password", "a long enough password")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"accept-display_name-error\""), "{}", r.text);
        // The documented name patterns exclude them, so a schema-valid name is never refused.
        let doc = app.get("/openapi.json").send().await.expect(200).body;
        for (schema, field) in [("NewOrganisation", "name"), ("OrganisationPatch", "name"), ("OrganisationPatch", "acronym"), ("NewUser", "display_name"),
                                ("MePatch", "display_name"), ("AcceptInvitation", "display_name"), ("ApplicationOrganisation", "name"),
                                ("NewGrant", "title"), ("GrantPatch", "title"), ("NewFund", "title"), ("FundPatch", "title")] {
            let pattern = doc["components"]["schemas"][schema]["properties"][field]["pattern"].as_str().unwrap_or_else(|| panic!("{schema}.{field} has a pattern"));
            assert!(pattern.contains(idpc_hub::kit::INVISIBLE_CLASS), "{schema}.{field}: {pattern}");
        }
    }
}

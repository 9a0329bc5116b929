//! Examples in the published document, so a partner developer reading /docs sees a filled-in
//! request and answer next to every schema: every request body, every 2xx JSON answer and the
//! main problems (400, 404, 409) carry an OpenAPI 3.1 media-type `example`.
//!
//! Request bodies come from one hand-kept table of values the demo network accepts (the ids
//! in it are the [`IDS`] placeholders a caller swaps for real ones); answers are built from
//! their schema with real-looking values per field name, and problems are rendered by
//! [`ApiError::problem`] itself. Tests check that every example validates against its own
//! schema and that every request-body example is accepted by a server seeded with demo data.

use serde_json::{Map, Value, json};

use crate::error::{ApiError, ConflictCode};

/// The ids the examples use, by what they name; a test swaps each for a real demo id.
pub const IDS: &[(&str, &str)] = &[
    ("fund", "0193a4e2-7c1d-7b3e-9f10-2b4c6d8e0a11"),
    ("grantee", "0193a4e2-6a40-7c55-8e21-4f0a9b3c2d17"),
    ("donor", "0193a4e2-6a3f-7d02-a1b4-7c9e5f6a8b20"),
    ("api_client", "0193a4e2-8f12-7a6b-b3c4-1d2e3f4a5b6c"),
    ("disbursement", "0193a4e2-9a01-7b2c-8d3e-4f5a6b7c8d9e"),
    ("bank_account", "0193a4e2-9b02-7c3d-9e4f-5a6b7c8d9eaf"),
    ("member_user", "0193a4e2-9c03-7d4e-8f5a-6b7c8d9eafb0"),
];

/// The example id named `name` in [`IDS`].
fn id(name: &str) -> &'static str {
    IDS.iter()
        .find(|(n, _)| *n == name)
        .map_or("0193a4e2-0000-7000-8000-000000000000", |(_, v)| *v)
}

/// The example of each request body, by its component schema: values the demo network
/// accepts as they stand, apart from the [`IDS`] and the opaque tokens only email delivers.
pub fn request_bodies() -> Vec<(&'static str, Value)> {
    [
        account_bodies(),
        directory_bodies(),
        fund_bodies(),
        grant_bodies(),
        budget_bodies(),
        payment_and_document_bodies(),
    ]
    .concat()
}

/// Sign-in, accounts, users, partner apps and their webhooks.
fn account_bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "AcceptInvitation",
            json!({
                "token": "Jm3kQ0y9b8Yc2u5tZr1xVwq4sN7eLh6P",
                "password": "paralegal-training-2027",
                "display_name": "Wanjiru Kamau"
            }),
        ),
        (
            "ChangePassword",
            json!({"current_password": "demo-member-password", "new_password": "paralegal-training-2027"}),
        ),
        (
            "LoginRequest",
            json!({"email": "admin@demo.idpc.example", "password": "demo-admin-password"}),
        ),
        ("MePatch", json!({"display_name": "Mateo Otieno"})),
        ("HandOver", json!({"user_id": id("member_user")})),
        (
            "NewApiClient",
            json!({
                "name": "Harm reduction services map",
                "organisation_id": id("grantee"),
                "scopes": ["directory:read", "grants:read"]
            }),
        ),
        (
            "NewUser",
            json!({
                "email": "wanjiru.kamau@hrn-kenya.example.org",
                "display_name": "Wanjiru Kamau",
                "role": "member",
                "organisation_id": id("grantee")
            }),
        ),
        (
            "PasswordResetConfirm",
            json!({"token": "Jm3kQ0y9b8Yc2u5tZr1xVwq4sN7eLh6P", "password": "paralegal-training-2027"}),
        ),
        (
            "PasswordResetRequest",
            json!({"email": "member@demo.idpc.example"}),
        ),
        (
            "RefreshRequest",
            json!({"refresh_token": "rt_8xQ2m0Vb7yLk4cN1pZs9tRw6uEh3JfAa"}),
        ),
        (
            "TokenForm",
            json!({
                "grant_type": "client_credentials",
                "client_id": "idpc_c1a2b3c4d5e6f708",
                "client_secret": "idpc_s_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
            }),
        ),
        ("UserPatch", json!({"status": "disabled"})),
        (
            "NewSubscription",
            json!({
                "url": "https://partner.example.org/hooks/idpc",
                "events": ["grant.published", "grant.updated"],
                "description": "Grants shown on the partner map",
                "api_client_id": id("api_client")
            }),
        ),
        (
            "SubscriptionPatch",
            json!({"url": "https://partner.example.org/hooks/idpc-v2", "enabled": true}),
        ),
    ]
}

/// The directory: organisations, membership and applications.
fn directory_bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "DeclineRenewal",
            json!({"reason": "The 2026 dues are still unpaid; renewal follows their payment."}),
        ),
        (
            "MembershipCommand",
            json!({"action": "suspend", "reason": "Membership dues unpaid since March."}),
        ),
        (
            "NewApplication",
            json!({
                "organisation": {
                    "name": "Uganda Harm Reduction Network",
                    "country": "UG",
                    "region": "africa",
                    "website": "https://uhrn.example.org",
                    "focus_areas": ["support_dont_punish", "women_drug_policy"],
                    "description": "A national network of 24 community-led harm reduction services."
                },
                "contact": {"name": "Grace Nakato", "email": "grace.nakato@uhrn.example.org"},
                "motivation": "We want to join the regional advocacy on decriminalisation in East Africa."
            }),
        ),
        (
            "NewOrganisation",
            json!({"name": "Uganda Harm Reduction Network", "kind": "member", "country": "UG", "region": "africa"}),
        ),
        ("OrganisationPatch", json!({"acronym": "HRNK"})),
        (
            "RejectApplication",
            json!({"reason": "The network works on tobacco control, outside our priority areas."}),
        ),
    ]
}

/// Funds, their publication and the exchange rates they are reported in.
fn fund_bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "NewFund",
            json!({
                "donor_organisation_id": id("donor"),
                "title": "Community-led harm reduction",
                "reference": "OSF-HR-2027-031",
                "currency": "USD",
                "amount": "25000.00",
                "starts_on": "2027-01-01",
                "ends_on": "2027-12-31"
            }),
        ),
        (
            "FundPatch",
            json!({"title": "Core support to drug policy networks", "reference": "OSF-DP-2027-014"}),
        ),
        (
            "FundPublication",
            json!({"publish_incoming": true, "regrant_type": "FRG010", "donor_activity_id": "GB-GOV-1-300123"}),
        ),
        ("ConfirmIncrease", json!({"amount": "900000.00"})),
        (
            "FxRateConfirmBody",
            json!({"rate": "1.085300", "as_of": "2026-12-01"}),
        ),
        (
            "FxRateBody",
            json!({"rate": "1.085300", "as_of": "2026-12-01"}),
        ),
    ]
}

/// Onward grants, their tranches and reports.
fn grant_bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "NewGrant",
            json!({
                "fund_id": id("fund"),
                "grantee_organisation_id": id("grantee"),
                "title": "Paralegal support for people who use drugs",
                "description": "Legal first aid and paralegal training in Nairobi.",
                "pillar": "capacity_strengthening",
                "priority_areas": ["decriminalisation_justice_reform"],
                "currency": "USD",
                "amount": "12500.00",
                "planned_start": "2027-01-01",
                "planned_end": "2027-12-31",
                "budget": [
                    {"category": "activities", "description": "Paralegal trainings", "amount": "8000.00"},
                    {"category": "staff", "description": "Trainer fees", "amount": "3500.00"},
                    {"category": "overheads", "description": "Office and audit", "amount": "1000.00"}
                ],
                "indicators": [{
                    "name": "Paralegals trained", "unit": "people", "baseline": "0", "target": "40",
                    "pillar": "capacity_strengthening", "priority_area": "decriminalisation_justice_reform"
                }]
            }),
        ),
        (
            "GrantPatch",
            json!({
                "title": "Peer-led overdose prevention on the Kenyan coast",
                "description": "Naloxone training for peer workers in Mombasa and Kilifi."
            }),
        ),
        (
            "NewDisbursement",
            json!({
                "amount": "2500.00",
                "planned_date": "2027-03-01",
                "note": "Second quarter: naloxone trainings in Mombasa."
            }),
        ),
        (
            "PayBody",
            json!({"payment_reference": "BANK-2026-11-0042", "paid_on": "2026-11-30", "bank_account_id": id("bank_account")}),
        ),
        (
            "ReasonBody",
            json!({"reason": "The budget does not match the activities planned."}),
        ),
        (
            "NewReport",
            json!({"kind": "narrative", "due_on": "2027-06-30", "title": "Mid-term narrative report"}),
        ),
        (
            "SubmitReport",
            json!({
                "summary": "We trained 40 paralegals in Nairobi and Mombasa.",
                "document_url": "https://hrn-kenya.example.org/reports/2026-annual.pdf"
            }),
        ),
    ]
}

/// A grant's budget lines and indicators.
fn budget_bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "BudgetBody",
            json!({
                "lines": [
                    {"category": "activities", "description": "Paralegal trainings", "amount": "8000.00"},
                    {"category": "staff", "description": "Trainer fees", "amount": "3500.00"},
                    {"category": "overheads", "description": "Office and audit", "amount": "1000.00"}
                ]
            }),
        ),
        (
            "IndicatorsBody",
            json!({
                "indicators": [{
                    "name": "Paralegals trained", "unit": "people", "baseline": "0", "target": "40",
                    "pillar": "capacity_strengthening", "priority_area": "decriminalisation_justice_reform"
                }]
            }),
        ),
    ]
}

/// Bank accounts, payment runs and documents.
fn payment_and_document_bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "NewAccount",
            json!({
                "holder_name": "Harm Reduction Network Kenya",
                "currency": "KES",
                "account_number": "0123456789012",
                "bank_name": "Kenya Commercial Bank",
                "bic": "KCBLKENX",
                "bank_country": "KE"
            }),
        ),
        (
            "NewRun",
            json!({
                "currency": "USD",
                "value_date": "2027-06-30",
                "lines": [{"disbursement_id": id("disbursement"), "bank_account_id": id("bank_account")}]
            }),
        ),
        (
            "RecordBody",
            json!({"bank_reference": "BANK-2026-12-0007", "paid_on": "2026-12-08"}),
        ),
        (
            "DocumentUpload",
            json!({"kind": "report_file", "title": "Financial report 2026", "file": "line,amount\r\ntraining,1200.00\r\n"}),
        ),
        (
            "VersionUpload",
            json!({"title": "Financial report 2026 (corrected)", "file": "line,amount\r\ntraining,1250.00\r\n"}),
        ),
    ]
}

/// Real-looking values for answer fields, by field name.
fn field_value(name: &str) -> Option<Value> {
    let v = match name {
        "id" => json!("0193a4e2-9b7c-7e41-8d2a-5c6b7a8e9f01"),
        "fund_id" => json!(id("fund")),
        "grantee_organisation_id" | "organisation_id" => json!(id("grantee")),
        "donor_organisation_id" => json!(id("donor")),
        "api_client_id" => json!(id("api_client")),
        "email" => json!("member@demo.idpc.example"),
        "display_name" => json!("Mateo Member"),
        "name" => json!("Harm Reduction Network Kenya"),
        "title" => json!("Peer-led overdose prevention in Nairobi and Mombasa"),
        "slug" => json!("harm-reduction-network-kenya"),
        "currency" | "fund_currency" | "base_currency" => json!("USD"),
        "country" => json!("KE"),
        "region" => json!("africa"),
        "url" | "website" | "document_url" => json!("https://hrn-kenya.example.org"),
        "reference" | "payment_reference" => json!("BANK-2026-11-0042"),
        "rate" | "fx_rate" => json!("1.085300"),
        "access_token" => {
            json!("eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiIwMTkzIn0.c2lnbmF0dXJl")
        }
        "refresh_token" => json!("rt_8xQ2m0Vb7yLk4cN1pZs9tRw6uEh3JfAa"),
        "token_type" => json!("Bearer"),
        "client_id" => json!("idpc_c1a2b3c4d5e6f708"),
        "client_secret" => json!("idpc_s_9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        "secret" => json!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        "scope" => json!("directory:read grants:read"),
        "reason" | "decision_reason" => {
            json!("The budget does not match the activities planned.")
        }
        "description" | "summary" | "note" => {
            json!("Naloxone training for peer workers in Mombasa and Kilifi.")
        }
        "next_cursor" => Value::Null,
        "total" => json!(1),
        _ if name.ends_with("_id") || name.ends_with("_by") => {
            json!("0193a4e2-5d10-7f3a-9c21-8b7a6e5d4c3b")
        }
        _ if name.ends_with("_at") => json!("2026-11-30T09:30:00Z"),
        _ if name.ends_with("_on") || name.ends_with("_date") => json!("2026-11-30"),
        _ if is_amount(name) => json!("12500.00"),
        _ => return None,
    };
    Some(v)
}

fn is_amount(name: &str) -> bool {
    [
        "amount",
        "committed",
        "paid",
        "remaining",
        "awarded",
        "disbursed",
        "approved",
        "requested",
    ]
    .iter()
    .any(|a| name == *a || name.starts_with(&format!("{a}_")) || name.ends_with(&format!("_{a}")))
}

/// The component schema a `$ref` names.
fn resolve<'a>(schemas: &'a Value, mut schema: &'a Value) -> &'a Value {
    let mut hops = 0;
    while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let Some(name) = r.strip_prefix("#/components/schemas/") else {
            break;
        };
        schema = &schemas[name];
        hops += 1;
        if hops > 16 {
            break;
        }
    }
    schema
}

fn has_type(schema: &Value, t: &str) -> bool {
    match &schema["type"] {
        Value::String(s) => s == t,
        Value::Array(ts) => ts.iter().any(|x| x == t),
        _ => false,
    }
}

/// A real-looking value for `schema`, found under the field `field` (`""` at the top).
fn sample(schemas: &Value, schema: &Value, field: &str, depth: usize) -> Value {
    let s = resolve(schemas, schema);
    if depth > 8 {
        return Value::Null;
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
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
    if let Some(ex) = s.get("examples").and_then(|e| e.get(0)) {
        return ex.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(variants)) = s.get(key) {
            // The first variant that is not `null`: the fullest view comes first.
            if let Some(v) = variants
                .iter()
                .find(|v| resolve(schemas, v).get("type") != Some(&json!("null")))
            {
                let base = sample(schemas, v, field, depth + 1);
                return merge(base, object_sample(schemas, s, depth));
            }
        }
    }
    if s.get("properties").is_some() || s.get("allOf").is_some() || has_type(s, "object") {
        let mut out = Value::Object(Map::new());
        for p in s["allOf"].as_array().into_iter().flatten() {
            out = merge(out, sample(schemas, p, field, depth + 1));
        }
        return merge(out, object_sample(schemas, s, depth));
    }
    if has_type(s, "array") {
        let item = sample(schemas, &s["items"], field, depth + 1);
        return if item.is_null() {
            json!([])
        } else {
            json!([item])
        };
    }
    // An optional value is shown absent, as in a fresh object (a requested tranche has no
    // payment yet), so the example reads as one consistent state.
    if has_type(s, "null") && depth >= 1 {
        return Value::Null;
    }
    if let Some(v) = field_value(field).filter(|_| has_type(s, "string")) {
        return v;
    }
    if has_type(s, "integer") || has_type(s, "number") {
        return field_value(field)
            .filter(Value::is_number)
            .unwrap_or_else(|| s.get("minimum").cloned().unwrap_or(json!(1)));
    }
    if has_type(s, "boolean") {
        return json!(true);
    }
    if has_type(s, "string") {
        return match s.get("format").and_then(Value::as_str) {
            Some("date") => json!("2026-11-30"),
            Some("date-time") => json!("2026-11-30T09:30:00Z"),
            Some("uuid") => json!("0193a4e2-9b7c-7e41-8d2a-5c6b7a8e9f01"),
            Some("uri") => json!("https://hrn-kenya.example.org"),
            Some("email") => json!("member@demo.idpc.example"),
            _ => json!("Harm reduction"),
        };
    }
    Value::Null
}

/// Every property of an object schema, each with its own sample.
fn object_sample(schemas: &Value, s: &Value, depth: usize) -> Value {
    let mut m = Map::new();
    for (k, v) in s["properties"].as_object().into_iter().flatten() {
        m.insert(k.clone(), sample(schemas, v, k, depth + 1));
    }
    Value::Object(m)
}

/// `over`'s fields on top of `base`'s, for objects; otherwise `base` unless it is null.
fn merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            b.extend(o);
            Value::Object(b)
        }
        (b, Value::Object(o)) if o.is_empty() => b,
        (Value::Object(b), o) if b.is_empty() => o,
        (Value::Null, o) => o,
        (b, _) => b,
    }
}

/// The problem documents the main error answers show, rendered by the error type itself.
fn problems() -> Vec<(&'static str, Value)> {
    let render = |e: ApiError, instance: &str| {
        let mut p = serde_json::to_value(e.problem()).unwrap_or_default();
        p["instance"] = json!(instance);
        p["request_id"] = json!("0193a4e2-c0de-7a11-9b22-3c4d5e6f7a8b");
        p
    };
    vec![
        (
            "BadRequest",
            render(
                ApiError::field("amount", "invalid", "USD amounts have at most 2 decimals."),
                "/api/v1/grants",
            ),
        ),
        (
            "NotFound",
            render(
                ApiError::NotFound,
                "/api/v1/grants/0193a4e2-9b7c-7e41-8d2a-5c6b7a8e9f01",
            ),
        ),
        (
            "Conflict",
            render(
                ApiError::Conflict {
                    code: ConflictCode::InvalidTransition,
                    detail: "A grant can be approved only when it is submitted.".into(),
                },
                "/api/v1/grants/0193a4e2-9b7c-7e41-8d2a-5c6b7a8e9f01/approve",
            ),
        ),
    ]
}

/// The RFC 6749 error the token endpoint answers with `status`, as it renders one.
fn oauth_error(status: &str) -> Option<Value> {
    let (error, description) = match status {
        "400" => (
            "invalid_scope",
            "The scope webhooks:manage is not granted to this client.",
        ),
        "401" => (
            "invalid_client",
            "Unknown client, wrong secret, or revoked client.",
        ),
        _ => return None,
    };
    serde_json::to_value(crate::identity::model::OAuthError {
        error,
        error_description: description.into(),
    })
    .ok()
}

/// The status a command leaves its resource in, by the command's verb (the last segment of
/// `POST /…/{id}/{verb}`).
const AFTER: &[(&str, &str)] = &[
    ("approve", "approved"),
    ("reject", "rejected"),
    ("cancel", "cancelled"),
    ("pay", "paid"),
    ("reverse", "reversed"),
    ("submit", "submitted"),
    ("activate", "active"),
    ("close", "closed"),
    ("accept", "accepted"),
    ("return", "returned"),
    ("review", "under_review"),
];

/// A command's answer shows the resource in the status the command leaves it in (an approval
/// answers `approved`, not the first status of the list), when the schema lists that status.
fn after_command(path: &str, schemas: &Value, media: &mut Value) {
    let verb = path.rsplit('/').next().unwrap_or_default();
    let Some((_, status)) = AFTER.iter().find(|(v, _)| *v == verb) else {
        return;
    };
    let listed = resolve(schemas, &media["schema"])
        .pointer("/properties/status")
        .map(|s| resolve(schemas, s))
        .and_then(|s| s.get("enum"))
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|v| v == status));
    if listed {
        media["example"]["status"] = json!(status);
    }
}

/// The content entries (`{media type: {schema, ...}}`) of a request body or response.
fn contents(v: &mut Value) -> impl Iterator<Item = &mut Value> {
    v.get_mut("content")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|c| c.values_mut())
}

/// Adds the examples to the published document.
pub fn add_to(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let requests = request_bodies();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for op in item.values_mut() {
                if let Some(body) = op.get_mut("requestBody") {
                    for media in contents(body) {
                        let name = media["schema"]["$ref"]
                            .as_str()
                            .and_then(|r| r.rsplit('/').next())
                            .unwrap_or_default()
                            .to_string();
                        if let Some((_, ex)) = requests.iter().find(|(n, _)| *n == name) {
                            media["example"] = ex.clone();
                        }
                    }
                }
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                for (status, response) in responses.iter_mut() {
                    if let Some(example) = oauth_error(status) {
                        // The token endpoint answers RFC 6749 errors, not problems.
                        for media in contents(response) {
                            if media["schema"]["$ref"] == "#/components/schemas/OAuthError" {
                                media["example"] = example.clone();
                            }
                        }
                    }
                    if !status.starts_with('2') {
                        continue;
                    }
                    for media in contents(response) {
                        if media.get("example").is_some() || !media["schema"].is_object() {
                            continue;
                        }
                        media["example"] = sample(&schemas, &media["schema"], "", 0);
                        after_command(path, &schemas, media);
                    }
                }
            }
        }
    }
    if let Some(responses) = doc
        .pointer_mut("/components/responses")
        .and_then(Value::as_object_mut)
    {
        for (name, example) in problems() {
            if let Some(r) = responses.get_mut(name) {
                for media in contents(r) {
                    media["example"] = example.clone();
                }
            }
        }
    }
}

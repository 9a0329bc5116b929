//! The examples of the published document are true: every request body and every 2xx answer
//! has one, each validates against its own schema, and each request-body example, sent as it
//! stands to a server seeded with demo data (ids and emailed tokens swapped for real ones),
//! gets the documented status; a created resource's `Location` GETs what was created.

use std::collections::BTreeSet;

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::on_both;

/// The published document, as `/openapi.json` serves it.
fn document() -> Value {
    idpc_hub::openapi::document(&idpc_hub::openapi::spec())
}

/// Whether `example` is valid against `schema`, whose `$ref`s point into `doc`.
fn errors_of(doc: &Value, schema: &Value, example: &Value) -> Vec<String> {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "$ref": "#/x",
        "x": schema,
    });
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("the schema compiles");
    validator
        .iter_errors(example)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete"];

#[test]
fn every_request_body_2xx_answer_and_main_error_has_an_example_that_its_own_schema_accepts() {
    let doc = document();
    let (mut checked, mut missing, mut invalid) = (0, Vec::new(), Vec::new());
    let mut check = |place: String, media: &Value| {
        let Some(example) = media.get("example") else {
            missing.push(place);
            return;
        };
        checked += 1;
        let errors = errors_of(&doc, &media["schema"], example);
        if !errors.is_empty() {
            invalid.push(format!("{place}: {errors:?}"));
        }
    };
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(*method) else {
                continue;
            };
            for (ct, media) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                check(format!("{method} {path} request {ct}"), media);
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                // Every success, and the main errors an operation states inline (the shared
                // ones are checked once, below).
                let main_error = ["400", "404", "409"].contains(&status.as_str())
                    && response.get("$ref").is_none();
                if !status.starts_with('2') && !main_error {
                    continue;
                }
                for (ct, media) in response["content"].as_object().into_iter().flatten() {
                    check(format!("{method} {path} {status} {ct}"), media);
                }
            }
        }
    }
    // The main problems: validation, not found, conflict.
    for name in ["BadRequest", "NotFound", "Conflict"] {
        let content = doc["components"]["responses"][name]["content"]
            .as_object()
            .unwrap();
        for (ct, media) in content {
            check(format!("{name} {ct}"), media);
        }
    }
    assert!(missing.is_empty(), "without an example: {missing:#?}");
    assert!(
        invalid.is_empty(),
        "examples their schema refuses: {invalid:#?}"
    );
    assert!(checked > 100, "{checked} examples checked");
}

#[test]
fn an_example_that_breaks_its_schema_is_caught() {
    // The check above can fail: a grant example without its required fund is refused.
    let doc = document();
    let media =
        &doc["paths"]["/api/v1/grants"]["post"]["requestBody"]["content"]["application/json"];
    let mut example = media["example"].clone();
    assert!(errors_of(&doc, &media["schema"], &example).is_empty());
    example.as_object_mut().unwrap().remove("fund_id");
    assert!(!errors_of(&doc, &media["schema"], &example).is_empty());
}

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
enum Who {
    Public,
    Admin,
    Officer,
    Officer2,
    Finance,
    Member,
    Member2,
}

/// Every operation with a request body, in the order they are sent (later ones would undo
/// what earlier ones need: the member's password changes last), with who sends it.
const PLAN: &[(&str, Who)] = &[
    ("POST /api/v1/auth/login", Who::Public),
    ("POST /api/v1/auth/refresh", Who::Public),
    ("POST /api/v1/auth/logout", Who::Public),
    ("POST /api/v1/auth/token", Who::Public),
    ("POST /api/v1/api-clients", Who::Admin),
    ("POST /api/v1/users", Who::Admin),
    ("POST /api/v1/auth/invitations/accept", Who::Public),
    ("POST /api/v1/organisations", Who::Admin),
    ("PATCH /api/v1/organisations/{id}", Who::Admin),
    ("POST /api/v1/organisations/{id}/membership", Who::Admin),
    (
        "POST /api/v1/membership/renewal-requests/{id}/decline",
        Who::Admin,
    ),
    ("POST /api/v1/membership-applications", Who::Public),
    (
        "POST /api/v1/membership-applications/{id}/reject",
        Who::Admin,
    ),
    ("PUT /api/v1/fx-rates/{currency}", Who::Finance),
    ("POST /api/v1/funds", Who::Officer),
    ("PATCH /api/v1/funds/{id}", Who::Officer),
    ("PUT /api/v1/funds/{id}/publication", Who::Admin),
    ("POST /api/v1/fx-rates/{currency}/confirm", Who::Admin),
    (
        "POST /api/v1/funds/{id}/amount-increase/approve",
        Who::Admin,
    ),
    ("POST /api/v1/grants", Who::Officer),
    ("PATCH /api/v1/grants/{id}", Who::Officer),
    ("PUT /api/v1/grants/{id}/budget", Who::Officer),
    ("PUT /api/v1/grants/{id}/indicators", Who::Officer),
    ("POST /api/v1/budget-revisions/{id}/reject", Who::Officer2),
    ("POST /api/v1/grants/{id}/reject", Who::Officer2),
    ("POST /api/v1/grants/{id}/cancel", Who::Officer),
    ("POST /api/v1/grants/{id}/reports", Who::Officer),
    ("POST /api/v1/grants/{id}/disbursements", Who::Member),
    ("POST /api/v1/disbursements/{id}/reject", Who::Officer2),
    ("POST /api/v1/disbursements/{id}/cancel", Who::Officer),
    ("POST /api/v1/disbursements/{id}/pay", Who::Finance),
    ("POST /api/v1/disbursements/{id}/reverse", Who::Finance),
    ("POST /api/v1/organisations/{id}/bank-accounts", Who::Member),
    ("POST /api/v1/payment-runs", Who::Finance),
    ("POST /api/v1/payment-runs/{id}/record", Who::Finance),
    (
        "POST /api/v1/payment-runs/{id}/lines/{line_id}/return",
        Who::Finance,
    ),
    ("POST /api/v1/reports/{id}/submit", Who::Member),
    ("POST /api/v1/reports/{id}/return", Who::Officer),
    ("POST /api/v1/{parents}/{id}/documents", Who::Member),
    ("POST /api/v1/documents/{id}/versions", Who::Member),
    ("POST /api/v1/webhooks", Who::Admin),
    ("PATCH /api/v1/webhooks/{id}", Who::Admin),
    ("PATCH /api/v1/me", Who::Member2),
    ("PATCH /api/v1/users/{id}", Who::Admin),
    ("PUT /api/v1/organisations/{id}/primary-contact", Who::Admin),
    ("POST /api/v1/me/password", Who::Member),
    ("POST /api/v1/auth/password-reset", Who::Public),
    ("POST /api/v1/auth/password-reset/confirm", Who::Public),
];

struct Demo {
    tokens: Vec<(&'static str, String)>,
    partner: idpc_hub::demo::PartnerApp,
}

impl Demo {
    fn token(&self, who: Who) -> Option<&str> {
        let email = match who {
            Who::Public => return None,
            Who::Admin => "admin@",
            Who::Officer => "grants@",
            Who::Officer2 => "grants2@",
            Who::Finance => "finance@",
            Who::Member => "member@",
            Who::Member2 => "member2@",
        };
        self.tokens
            .iter()
            .find(|(e, _)| e.starts_with(email))
            .map(|(_, t)| t.as_str())
    }
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect(200)
        .body
}

fn items(body: &Value) -> Vec<Value> {
    body["data"].as_array().cloned().unwrap_or_default()
}

/// The first item of `list` (as `who`) that `keep` accepts.
async fn first(
    app: &TestApp,
    token: Option<&str>,
    list: &str,
    keep: impl Fn(&Value) -> bool,
) -> Value {
    let sep = if list.contains('?') { '&' } else { '?' };
    let r = app
        .get(&format!("{list}{sep}limit=100"))
        .auth(token)
        .send()
        .await
        .expect(200);
    items(&r.body)
        .into_iter()
        .find(|i| keep(i))
        .unwrap_or_else(|| panic!("the demo has no fitting item in {list}: {}", r.text))
}

fn str_of(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .to_string()
}

/// A JSON example as `multipart/form-data`: each field a part, `file` as a file part.
fn multipart_of(body: &Value) -> (String, Vec<u8>) {
    let boundary = "example-boundary-4c1e";
    let mut out = Vec::new();
    for (name, value) in body.as_object().unwrap() {
        let filename = if name == "file" {
            "; filename=\"example.csv\""
        } else {
            ""
        };
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(value.as_str().unwrap().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

/// Swaps every occurrence of each `from` in the JSON body for its `to`.
fn swap(body: &Value, swaps: &[(String, String)]) -> Value {
    let mut text = body.to_string();
    for (from, to) in swaps {
        text = text.replace(from.as_str(), to);
    }
    serde_json::from_str(&text).unwrap()
}

on_both! {
    async fn every_request_body_example_is_accepted_by_a_demo_server_and_each_created_location_gets_it(backend) {
        // Accounts are usable at once, so the example run can pay to one.
        let app = TestApp::start_with(backend, &[("BANK_ACCOUNT_COOLING_OFF_HOURS", "0")]).await;
        let seeded = idpc_hub::demo::seed(&app.state).await.unwrap();
        let partner = seeded.partner_app.clone().expect("the partner app is new");
        app.emails().await; // the seed's own mail
        let mut tokens = Vec::new();
        for u in idpc_hub::demo::DEMO_USERS {
            let t = login(&app, u.email, u.password).await;
            tokens.push((u.email, str_of(&t, "access_token")));
        }
        let demo = Demo { tokens, partner };
        let doc = serde_json::to_value(&*app.state.openapi).unwrap();

        // Every operation with a body is in the plan, and nothing else.
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in METHODS {
                if item.get(*method).is_some_and(|op| op.get("requestBody").is_some()) {
                    documented.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        let planned: BTreeSet<String> = PLAN.iter().map(|(op, _)| op.to_string()).collect();
        assert_eq!(planned, documented, "the plan covers every request body of the document");

        // The real ids the examples' placeholders stand for.
        let admin = demo.token(Who::Admin);
        let me = app.get("/api/v1/me").auth(demo.token(Who::Member)).send().await.expect(200).body;
        let kenya = str_of(&me, "organisation_id");
        let usd_fund = first(&app, admin, "/api/v1/funds", |f| f["currency"] == "USD").await;
        let client = first(&app, admin, "/api/v1/api-clients", |c| c["name"] == demo.partner.name).await;
        let id_of = |name: &str| match name {
            "fund" => str_of(&usd_fund, "id"),
            "grantee" => kenya.clone(),
            "donor" => str_of(&usd_fund, "donor_organisation_id"),
            "api_client" => str_of(&client, "id"),
            // Made by the steps that use them (a payment run's tranche and account).
            "disbursement" | "bank_account" => idpc_hub::openapi::examples::IDS.iter().find(|(n, _)| *n == name).unwrap().1.to_string(),
            "member_user" => str_of(&me, "id"),
            other => panic!("no demo id for the example id {other}"),
        };
        let base_swaps: Vec<(String, String)> = idpc_hub::openapi::examples::IDS
            .iter()
            .map(|(name, placeholder)| (placeholder.to_string(), id_of(name)))
            .collect();

        let mut created = 0;
        for (op, who) in PLAN {
            let (method, template) = op.split_once(' ').unwrap();
            let spec = &doc["paths"][template][method.to_lowercase()];
            let (content_type, media) = spec["requestBody"]["content"].as_object().unwrap().iter().next().unwrap();
            let token = demo.token(*who);
            let mut swaps = base_swaps.clone();
            // A second id in the path (a line of a run).
            let mut second: Option<String> = None;
            // The resource each command acts on, and the opaque values only the server makes.
            let target: Option<String> = match *op {
                "POST /api/v1/auth/refresh" | "POST /api/v1/auth/logout" => {
                    let pair = login(&app, "member2@demo.idpc.example", "demo-member2-password").await;
                    swaps.push((str_of(&media["example"], "refresh_token"), str_of(&pair, "refresh_token")));
                    None
                }
                "POST /api/v1/auth/token" => {
                    swaps.push((str_of(&media["example"], "client_id"), demo.partner.client_id.clone()));
                    swaps.push((str_of(&media["example"], "client_secret"), demo.partner.client_secret.clone()));
                    None
                }
                "POST /api/v1/auth/invitations/accept" | "POST /api/v1/auth/password-reset/confirm" => {
                    let page = if op.contains("invitations") { "accept-invitation" } else { "reset-password" };
                    let mails = app.emails().await;
                    let real = mails
                        .iter()
                        .find_map(|m| m.link_param(&format!("http://hub.test/{page}"), "token"))
                        .unwrap_or_else(|| panic!("the step before {op} emailed a {page} link"));
                    swaps.push((str_of(&media["example"], "token"), real));
                    None
                }
                "PATCH /api/v1/organisations/{id}" => Some(kenya.clone()),
                "POST /api/v1/organisations/{id}/membership" => {
                    let org = first(&app, admin, "/api/v1/organisations?kind=member&membership_status=active", |o| {
                        o["id"] != kenya.as_str() && o["name"] != "Lisbon Drug Policy Forum"
                    }).await;
                    Some(str_of(&org, "id"))
                }
                "POST /api/v1/membership/renewal-requests/{id}/decline" => {
                    let r = first(&app, admin, "/api/v1/membership/renewal-requests?status=open", |_| true).await;
                    Some(str_of(&r, "id"))
                }
                "POST /api/v1/membership-applications/{id}/reject" => {
                    let a = first(&app, admin, "/api/v1/membership-applications", |a| a["status"] == "submitted" || a["status"] == "under_review").await;
                    Some(str_of(&a, "id"))
                }
                "PUT /api/v1/fx-rates/{currency}" => Some("EUR".into()),
                "POST /api/v1/fx-rates/{currency}/confirm" => {
                    // A currency's first rate waits for a second person: finance proposes the
                    // example's rate, the admin confirms it.
                    let proposed = json!({"rate": str_of(&media["example"], "rate"), "as_of": str_of(&media["example"], "as_of")});
                    app.req(Method::PUT, "/api/v1/fx-rates/CHF").auth(demo.token(Who::Finance))
                        .json(&proposed).send().await.expect(202);
                    Some("CHF".into())
                }
                "POST /api/v1/funds/{id}/amount-increase/approve" => {
                    // An officer raises the fund above the second-person threshold; the admin
                    // confirms the amount that waits.
                    let officer = demo.token(Who::Officer);
                    let id = str_of(&usd_fund, "id");
                    let path = format!("/api/v1/funds/{id}");
                    let current = app.get(&path).auth(officer).send().await.expect(200);
                    let (units, cents) = current.body["amount"].as_str().unwrap().split_once('.').unwrap();
                    let raised = format!("{}.{cents}", units.parse::<i64>().unwrap() + 500_000);
                    let r = app.patch(&path).auth(officer).header("if-match", &current.header("etag").unwrap())
                        .json(&json!({"amount": raised})).send().await.expect(200);
                    swaps.push((str_of(&media["example"], "amount"), str_of(&r.body, "pending_amount")));
                    Some(id)
                }
                "PATCH /api/v1/funds/{id}" | "PUT /api/v1/funds/{id}/publication" => Some(str_of(&usd_fund, "id")),
                "PATCH /api/v1/grants/{id}" | "PUT /api/v1/grants/{id}/budget" | "PUT /api/v1/grants/{id}/indicators" => {
                    Some(str_of(&first(&app, token, "/api/v1/grants?status=draft", |_| true).await, "id"))
                }
                "POST /api/v1/budget-revisions/{id}/reject" => {
                    // A revision of an active grant's budget beyond the tolerance, proposed by
                    // the other officer: half of the grant on its first line, half on a new one.
                    let officer = demo.token(Who::Officer);
                    let g = first(&app, officer, "/api/v1/grants?status=active", |_| true).await;
                    let path = format!("/api/v1/grants/{}/budget", str_of(&g, "id"));
                    let b = app.get(&path).auth(officer).send().await.expect(200);
                    let minor: i64 = b.body["amount"].as_str().unwrap().replace('.', "").parse().unwrap();
                    let (half, rest) = (minor / 2, minor - minor / 2);
                    let l = &b.body["lines"][0];
                    let lines = vec![
                        json!({"id": l["id"], "category": l["category"], "description": l["description"], "amount": format!("{}.{:02}", half / 100, half % 100)}),
                        json!({"category": "travel", "description": "Travel to the regional trainings", "amount": format!("{}.{:02}", rest / 100, rest % 100)}),
                    ];
                    let r = app.req(Method::PUT, &path).auth(officer).header("if-match", &b.header("etag").unwrap())
                        .json(&json!({"lines": lines, "reason": "Everything on trainings"})).send().await.expect(202);
                    Some(str_of(&r.body, "id"))
                }
                "POST /api/v1/grants/{id}/reject" => {
                    Some(str_of(&first(&app, token, "/api/v1/grants?status=submitted", |_| true).await, "id"))
                }
                "POST /api/v1/grants/{id}/cancel" => {
                    Some(str_of(&first(&app, token, "/api/v1/grants?status=approved", |_| true).await, "id"))
                }
                "POST /api/v1/grants/{id}/reports" => {
                    Some(str_of(&first(&app, token, "/api/v1/grants?status=active", |_| true).await, "id"))
                }
                "POST /api/v1/grants/{id}/disbursements" => {
                    let g = first(&app, token, "/api/v1/grants?status=active", |g| g["grantee_organisation_id"] == kenya.as_str()).await;
                    Some(str_of(&g, "id"))
                }
                "POST /api/v1/disbursements/{id}/reject" => {
                    let t = first(&app, token, "/api/v1/disbursements?awaiting=me", |t| t["status"] == "requested").await;
                    Some(str_of(&t, "id"))
                }
                "POST /api/v1/disbursements/{id}/cancel" => {
                    Some(str_of(&first(&app, token, "/api/v1/disbursements?status=requested", |_| true).await, "id"))
                }
                "POST /api/v1/disbursements/{id}/pay" => {
                    // The payment names a usable account of the tranche's grantee in its currency.
                    let t = first(&app, token, "/api/v1/disbursements?status=approved", |_| true).await;
                    let a = app.payee(&str_of(&t, "grantee_organisation_id"), &str_of(&t, "currency")).await;
                    let placeholder = idpc_hub::openapi::examples::IDS.iter().find(|(k, _)| *k == "bank_account").unwrap().1;
                    swaps.push((placeholder.to_string(), a));
                    Some(str_of(&t, "id"))
                }
                "POST /api/v1/disbursements/{id}/reverse" => {
                    Some(str_of(&first(&app, token, "/api/v1/disbursements?status=paid", |_| true).await, "id"))
                }
                "POST /api/v1/reports/{id}/submit" => {
                    let report = str_of(&first(&app, token, "/api/v1/reports?status=due", |_| true).await, "id");
                    // The demo's due reports are financial: submitted with a file only.
                    let (ct, bytes) = multipart_of(&json!({"kind": "report_file", "file": "line,amount\r\ntraining,1200.00\r\n"}));
                    app.post(&format!("/api/v1/reports/{report}/documents")).auth(token).body(&ct, bytes).send().await.expect(201);
                    Some(report)
                }
                "POST /api/v1/reports/{id}/return" => {
                    Some(str_of(&first(&app, token, "/api/v1/reports?status=submitted", |_| true).await, "id"))
                }
                "POST /api/v1/organisations/{id}/bank-accounts" => Some(kenya.clone()),
                "POST /api/v1/payment-runs" => {
                    // An approved USD tranche of the member's organisation and a confirmed
                    // USD account of it.
                    let member = demo.token(Who::Member);
                    let g = first(&app, member, "/api/v1/grants?status=active", |g| g["grantee_organisation_id"] == kenya.as_str() && g["currency"] == "USD").await;
                    let t = app.post(&format!("/api/v1/grants/{}/disbursements", str_of(&g, "id"))).auth(member)
                        .json(&json!({"amount": "10.00", "planned_date": "2026-12-31"})).send().await.expect(201);
                    let t = str_of(&t.body, "id");
                    app.post(&format!("/api/v1/disbursements/{t}/approve")).auth(demo.token(Who::Officer)).send().await.expect(200);
                    let a = app.post(&format!("/api/v1/organisations/{kenya}/bank-accounts")).auth(member)
                        .json(&json!({"holder_name": "Harm Reduction Network Kenya", "currency": "USD", "iban": "DE44500105175407324931", "bic": "MARKDEF1500"}))
                        .send().await.expect(201);
                    let a = str_of(&a.body, "id");
                    app.post(&format!("/api/v1/organisations/{kenya}/bank-accounts/{a}/confirm")).auth(token).send().await.expect(200);
                    let ids = idpc_hub::openapi::examples::IDS;
                    let placeholder = |n: &str| ids.iter().find(|(k, _)| *k == n).unwrap().1.to_string();
                    swaps.push((placeholder("disbursement"), t));
                    swaps.push((placeholder("bank_account"), a));
                    None
                }
                "POST /api/v1/payment-runs/{id}/record" => {
                    // A second finance officer approves the run the step before prepared.
                    let run = app.get("/api/v1/payment-runs").auth(token).send().await.expect(200).body[0].clone();
                    let finance2 = app.user("finance_officer", None).await;
                    app.post(&format!("/api/v1/payment-runs/{}/approve", str_of(&run, "id"))).bearer(&finance2.token).send().await.expect(200);
                    Some(str_of(&run, "id"))
                }
                "POST /api/v1/payment-runs/{id}/lines/{line_id}/return" => {
                    let run = app.get("/api/v1/payment-runs").auth(token).send().await.expect(200).body[0].clone();
                    second = Some(str_of(&run["lines"][0], "id"));
                    Some(str_of(&run, "id"))
                }
                // Both path parameters at once: the collection and the member's organisation.
                "POST /api/v1/{parents}/{id}/documents" => Some(format!("organisations/{kenya}")),
                "POST /api/v1/documents/{id}/versions" => {
                    let list = format!("/api/v1/organisations/{kenya}/documents");
                    Some(str_of(&first(&app, token, &list, |_| true).await, "id"))
                }
                "PATCH /api/v1/webhooks/{id}" => {
                    Some(str_of(&first(&app, token, "/api/v1/webhooks", |_| true).await, "id"))
                }
                "PUT /api/v1/organisations/{id}/primary-contact" => Some(kenya.clone()),
                "PATCH /api/v1/users/{id}" => {
                    let u = first(&app, token, "/api/v1/users", |u| u["email"] == "member2@demo.idpc.example").await;
                    Some(str_of(&u, "id"))
                }
                _ => None,
            };
            let path = match (&target, template.find('{')) {
                (Some(t), Some(open)) => {
                    // A target with a slash stands for every parameter of the path.
                    let close = if t.contains('/') { template.rfind('}').unwrap() } else { open + template[open..].find('}').unwrap() };
                    format!("{}{t}{}", &template[..open], &template[close + 1..])
                }
                (None, None) => template.to_string(),
                _ => panic!("{op}: a path id and a target go together"),
            };
            let path = match &second {
                Some(line) => path.replace("{line_id}", line),
                None => path,
            };
            let body = swap(&media["example"], &swaps);
            let mut req = app.req(Method::from_bytes(method.as_bytes()).unwrap(), &path).auth(token);
            let parameters = spec["parameters"].to_string();
            if parameters.contains("If-Match") {
                let current = app.get(&path).auth(token).send().await.expect(200);
                req = req.header("if-match", &current.header("etag").expect("an ETag to match"));
            }
            if parameters.contains("Idempotency-Key") {
                req = req.header("idempotency-key", &format!("examples-{created}-{}", path.len()));
            }
            let req = if content_type == "application/x-www-form-urlencoded" {
                req.body(content_type, serde_urlencoded::to_string(&body).unwrap())
            } else if content_type == "multipart/form-data" {
                let (ct, bytes) = multipart_of(&body);
                req.body(&ct, bytes)
            } else {
                req.body(content_type, body.to_string())
            };
            let r = req.send().await;
            println!("{op} as {who:?}: {}", r.status);
            let documented: Vec<u16> = spec["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|s| s.starts_with('2'))
                .map(|s| s.parse().unwrap())
                .collect();
            assert!(documented.contains(&r.status), "{op} with its example {body} answered {}: {}", r.status, r.text);
            if r.status == 201 {
                created += 1;
                let location = r.header("location").unwrap_or_else(|| panic!("{op}: 201 without Location"));
                // The public submits an application; the secretariat reads it.
                let reader = if matches!(who, Who::Public) { admin } else { token };
                let got = app.get(&location).auth(reader).send().await;
                assert_eq!(got.status, 200, "{op}: its Location {location} answered {}", got.text);
                assert_eq!(got.body["id"], r.body["id"], "{op}: {location} is the created resource");
            }
        }
        assert_eq!(created, 13, "every creation of the document was checked");
    }
}

on_both! {
    async fn the_readmes_first_hour_works_the_printed_secret_verifies_the_demo_ping_and_no_spent_invitation_is_mailed(backend) {
        use crate::webhooks::{LOOPBACK, Receiver, deliver, stock_verify};
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let seeded = idpc_hub::demo::seed(&app.state).await.unwrap();
        let partner = seeded.partner_app.clone().expect("the partner app is new");
        let printed = seeded.report();
        for shown in [&partner.webhook_id, &partner.webhook_secret] {
            assert!(printed.contains(shown.as_str()), "demo-data prints {shown}: {printed}");
        }
        assert!(printed.contains("WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8"), "{printed}");
        // The accounts accepted their invitations during the seed: no spent link is mailed.
        let mails = app.emails().await;
        assert!(!mails.is_empty(), "the seed's other emails are sent");
        let spent: Vec<String> = mails
            .iter()
            .filter(|m| m.link("http://hub.test/accept-invitation").is_some())
            .map(|m| m.recipient())
            .collect();
        assert!(spent.is_empty(), "invitation links mailed after they were used: {spent:?}");

        // The partner app may not change its own subscription (no webhooks:manage): the admin does.
        let receiver = Receiver::start().await;
        let patch = json!({"url": receiver.url(), "enabled": true});
        let hook = format!("/api/v1/webhooks/{}", partner.webhook_id);
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}",
            partner.client_id, partner.client_secret
        );
        let app_token = app.post("/api/v1/auth/token").body("application/x-www-form-urlencoded", form).send().await.expect(200);
        let app_token = str_of(&app_token.body, "access_token");
        app.patch(&hook).bearer(&app_token).json(&patch).send().await.expect_problem(403);
        let admin = login(&app, "admin@demo.idpc.example", "demo-admin-password").await;
        app.patch(&hook).bearer(&str_of(&admin, "access_token")).json(&patch).send().await.expect(200);
        deliver(&app).await;
        let hits = receiver.hits();
        assert_eq!(hits.iter().map(|h| h.event()).collect::<Vec<_>>(), ["ping"], "{hits:?}");
        assert!(stock_verify(&partner.webhook_secret, &hits[0]), "the printed secret verifies the ping");
        receiver.stop().await;
    }
}

/// The values of the enumeration a field refers to (through a nullable `oneOf` and a `$ref`).
fn enum_of(doc: &Value, schema: &str, field: &str) -> Vec<String> {
    let mut s = &doc["components"]["schemas"][schema]["properties"][field];
    loop {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            s = &doc["components"]["schemas"][r.rsplit('/').next().unwrap()];
        } else if let Some(alts) = s
            .get("oneOf")
            .or_else(|| s.get("anyOf"))
            .and_then(Value::as_array)
        {
            s = alts
                .iter()
                .find(|a| a.get("type") != Some(&json!("null")))
                .unwrap();
        } else {
            break;
        }
    }
    s["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{schema}.{field} is an enumeration: {s}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// Whether `value` is valid for the field `field` of the component `schema`.
fn field_accepts(doc: &Value, schema: &str, field: &str, value: &Value) -> bool {
    errors_of(
        doc,
        &doc["components"]["schemas"][schema]["properties"][field],
        value,
    )
    .is_empty()
}

on_both! {
    async fn the_document_lists_only_the_statuses_and_lengths_the_server_accepts(backend) {
        let app = TestApp::start(backend).await;
        let doc = serde_json::to_value(&*app.state.openapi).unwrap();
        let w = crate::grants::world(&app).await;

        // A user's status: `invited` is where an account starts, not a value to set.
        let statuses = enum_of(&doc, "UserPatch", "status");
        assert_eq!(statuses, ["active", "disabled"]);
        let user = app.user("finance_officer", None).await;
        for status in statuses.iter().rev() {
            app.patch(&format!("/api/v1/users/{}", user.id)).bearer(&w.admin.token)
                .json(&json!({"status": status})).send().await.expect(200);
        }
        let r = app.patch(&format!("/api/v1/users/{}", user.id)).bearer(&w.admin.token)
            .json(&json!({"status": "invited"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "status");

        // A fund's status: every listed value is accepted, anything else is outside the schema.
        let statuses = enum_of(&doc, "FundPatch", "status");
        assert_eq!(statuses, ["active", "closed"]);
        let fund = format!("/api/v1/funds/{}", w.fund);
        for status in statuses.iter().rev() {
            let etag = app.get(&fund).bearer(&w.officer.token).send().await.expect(200).header("etag").unwrap();
            app.patch(&fund).bearer(&w.officer.token).header("if-match", &etag)
                .json(&json!({"status": status})).send().await.expect(200);
        }

        // An organisation's acronym: 20 characters once trimmed, as the schema now says.
        let org = format!("/api/v1/organisations/{}", w.grantee);
        for (acronym, accepted) in [(format!("  {}  ", "A".repeat(20)), true), ("A".repeat(21), false)] {
            assert_eq!(field_accepts(&doc, "OrganisationPatch", "acronym", &json!(acronym)), accepted, "{acronym:?}");
            let etag = app.get(&org).bearer(&w.admin.token).send().await.expect(200).header("etag").unwrap();
            let r = app.patch(&org).bearer(&w.admin.token).header("if-match", &etag)
                .body("application/merge-patch+json", json!({"acronym": acronym}).to_string())
                .send().await;
            assert_eq!(r.status, if accepted { 200 } else { 400 }, "{acronym:?}: {}", r.text);
        }
    }
}

//! Demo data that exercises everything: after `demo-data`, every list operation the OpenAPI
//! document describes shows at least one item to an account that may call it, the printed
//! partner-app secret gets a token that reads grants, and the money is in every state, all
//! written through the services (audit and outbox rows included). A rerun adds nothing.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::TestApp;
use crate::on_both;

/// Who calls a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Admin,
    GrantOfficer,
    Finance,
    Member,
    PartnerApp,
    Public,
}

/// The only hand-kept part: which staff or member accounts to walk a list with, where the
/// admin alone would not show that the list has something for the people who work from it.
/// Every other list operation in the document is walked as the admin; on top, as the partner
/// app when its security names the OAuth2 scheme with scopes the demo app holds, and without
/// a token when it allows anonymous calls (both read from the document).
const CALLERS: &[(&str, &[Caller])] = &[
    // The officers' approval queue and finance's payment queue are the same list.
    (
        "/api/v1/disbursements",
        &[Caller::Admin, Caller::GrantOfficer, Caller::Finance],
    ),
    // A member sees its own organisation's grants (the demo members' organisations have some).
    ("/api/v1/grants", &[Caller::Admin, Caller::Member]),
    ("/api/v1/organisations", &[Caller::Admin, Caller::Member]),
    // Finance keeps the reference rates.
    ("/api/v1/fx-rates", &[Caller::Admin, Caller::Finance]),
    ("/api/v1/funds", &[Caller::Admin, Caller::Finance]),
];

/// Scopes of the demo partner app.
const APP_SCOPES: &[&str] = &["directory:read", "grants:read"];

fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        schema = &doc["components"]["schemas"][name];
    }
    schema
}

fn is_array(doc: &Value, schema: &Value) -> bool {
    let s = resolve(doc, schema);
    match &s["type"] {
        Value::String(t) => t == "array",
        Value::Array(ts) => ts.iter().any(|t| t == "array"),
        _ => false,
    }
}

/// A list operation: a GET whose JSON 200 body is an array, or a page holding one in `data`
/// (or `items`).
struct ListOp {
    path: String,
    /// Anonymous calls allowed (`{}` among its security requirements).
    public: bool,
    /// The demo partner app may call it (OAuth2 with scopes the app holds).
    app: bool,
}

/// Lists of this release that `demo-data` does not fill yet (the seeded payee accounts belong
/// to the grantees the demo pays, which the walk's organisation list may not reach first; runs
/// wait for a second finance officer's approval the seeder does not give; documents need a
/// store): named here so that every other list keeps its item, and this list only shrinks.
/// The register is filled: the demo pays its tranches to seeded accounts of the grantees.
const NOT_SEEDED_YET: &[&str] = &[
    "/api/v1/organisations/{id}/bank-accounts",
    "/api/v1/payment-runs",
    "/api/v1/{parents}/{id}/documents",
];

fn list_operations(doc: &Value) -> Vec<ListOp> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let Some(schema) = get["responses"]["200"]["content"]["application/json"].get("schema")
        else {
            continue;
        };
        let body = resolve(doc, schema);
        let listed = is_array(doc, body)
            || ["data", "items"]
                .iter()
                .any(|k| body["properties"].get(*k).is_some_and(|p| is_array(doc, p)));
        if !listed {
            continue;
        }
        let security = get["security"].as_array().cloned().unwrap_or_default();
        let public = security
            .iter()
            .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
        let app = security.iter().any(|r| {
            r["oauth2"].as_array().is_some_and(|scopes| {
                scopes
                    .iter()
                    .all(|s| APP_SCOPES.contains(&s.as_str().unwrap_or("")))
            })
        });
        out.push(ListOp {
            path: path.clone(),
            public,
            app,
        });
    }
    out
}

fn items(body: &Value) -> Vec<Value> {
    body.as_array()
        .or_else(|| body["data"].as_array())
        .or_else(|| body["items"].as_array())
        .cloned()
        .unwrap_or_default()
}

struct Tokens {
    admin: String,
    officer: String,
    finance: String,
    member: String,
    app: String,
}

impl Tokens {
    fn of(&self, who: Caller) -> Option<&str> {
        match who {
            Caller::Admin => Some(&self.admin),
            Caller::GrantOfficer => Some(&self.officer),
            Caller::Finance => Some(&self.finance),
            Caller::Member => Some(&self.member),
            Caller::PartnerApp => Some(&self.app),
            Caller::Public => None,
        }
    }
}

async fn login(app: &TestApp, email: &str, password: &str) -> String {
    let r = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect(200);
    r.body["access_token"].as_str().unwrap().to_string()
}

async fn app_token(app: &TestApp, partner: &idpc_hub::demo::PartnerApp) -> String {
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        partner.client_id, partner.client_secret
    );
    let r = app
        .post("/api/v1/auth/token")
        .body("application/x-www-form-urlencoded", form)
        .send()
        .await
        .expect(200);
    r.body["access_token"].as_str().unwrap().to_string()
}

/// GETs `path` as `token` with every `{param}` filled from the parent list (the path up to
/// the parameter): true when some parent item gives a page with an item.
async fn shows_an_item(app: &TestApp, tokens: &Tokens, path: &str, who: Option<&str>) -> bool {
    let Some(open) = path.find('{') else {
        let r = app.get(&format!("{path}?limit=100")).auth(who).send().await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        return !items(&r.body).is_empty();
    };
    let close = open + path[open..].find('}').unwrap();
    let param = &path[open + 1..close];
    let parent = path[..open].trim_end_matches('/');
    let r = app
        .get(&format!("{parent}?limit=100"))
        .bearer(&tokens.admin)
        .send()
        .await;
    assert_eq!(
        r.status, 200,
        "{path}: its {{{param}}} is filled from GET {parent}, which answers {}",
        r.text
    );
    for item in items(&r.body) {
        let value = item.get(param).unwrap_or(&item["id"]);
        let concrete = format!(
            "{}{}{}",
            &path[..open],
            value.as_str().unwrap(),
            &path[close + 1..]
        );
        if Box::pin(shows_an_item(app, tokens, &concrete, who)).await {
            return true;
        }
    }
    false
}

on_both! {
    async fn after_demo_data_every_list_operation_shows_an_item_to_who_may_call_it_and_the_partner_app_reads_grants(backend) {
        let app = TestApp::start(backend).await;
        let seeded = idpc_hub::demo::seed(&app.state).await.unwrap();
        // The printed report carries every password it set and the partner app's secret, once.
        let printed = seeded.report();
        let partner = seeded.partner_app.clone().expect("the first run creates the partner app");
        assert!(printed.contains(&partner.client_secret) && printed.contains(&partner.client_id), "{printed}");
        for u in idpc_hub::demo::DEMO_USERS {
            assert!(printed.contains(u.email) && printed.contains(u.password), "{printed}");
        }
        let [admin, officer, _, finance, member, _] = idpc_hub::demo::DEMO_USERS else { panic!("six demo accounts") };
        let tokens = Tokens {
            admin: login(&app, admin.email, admin.password).await,
            officer: login(&app, officer.email, officer.password).await,
            finance: login(&app, finance.email, finance.password).await,
            member: login(&app, member.email, member.password).await,
            app: app_token(&app, &partner).await,
        };
        // The secret as printed gets a token that reads grants.
        let grants = app.get("/api/v1/grants").bearer(&tokens.app).send().await.expect(200);
        assert!(!items(&grants.body).is_empty(), "the partner app reads published grants: {}", grants.text);
        let doc = serde_json::to_value(&*app.state.openapi).unwrap();
        let ops = list_operations(&doc);
        assert!(ops.len() >= 10, "the document's list operations were found: {}", ops.len());
        let mut empty = Vec::new();
        for op in ops.iter().filter(|op| !NOT_SEEDED_YET.contains(&op.path.as_str())) {
            let mut callers: Vec<Caller> = CALLERS
                .iter()
                .find(|(p, _)| *p == op.path)
                .map(|(_, c)| c.to_vec())
                .unwrap_or_else(|| vec![Caller::Admin]);
            if op.app {
                callers.push(Caller::PartnerApp);
            }
            if op.public {
                callers.push(Caller::Public);
            }
            println!("GET {} as {callers:?}", op.path);
            for who in callers {
                if !shows_an_item(&app, &tokens, &op.path, tokens.of(who)).await {
                    empty.push(format!("GET {} as {who:?}", op.path));
                }
            }
        }
        assert!(empty.is_empty(), "lists without an item after demo-data: {empty:#?}");
    }
}

fn statuses(list: &Value) -> BTreeSet<String> {
    items(list)
        .iter()
        .map(|i| i["status"].as_str().unwrap().to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

on_both! {
    async fn demo_data_puts_money_in_every_state_through_the_services_and_a_rerun_adds_nothing(backend) {
        let app = TestApp::start(backend).await;
        let seeded = idpc_hub::demo::seed(&app.state).await.unwrap();
        assert_eq!(seeded.users.len(), idpc_hub::demo::DEMO_USERS.len());
        assert_eq!(seeded.applications, 2);
        assert_eq!(seeded.webhooks, 1);
        let admin = login(&app, "admin@demo.idpc.example", "demo-admin-password").await;
        let funds = app.get("/api/v1/funds?limit=100").bearer(&admin).send().await.expect(200).body;
        let currencies: BTreeSet<String> = items(&funds).iter().map(|f| f["currency"].as_str().unwrap().to_string()).collect();
        assert_eq!(currencies, set(&["EUR", "GBP", "USD"]));
        let rates = app.get("/api/v1/fx-rates").bearer(&admin).send().await.expect(200).body;
        assert_eq!(statuses_of(&rates, "currency"), set(&["EUR", "GBP"]));
        let grants = app.get("/api/v1/grants?limit=100").bearer(&admin).send().await.expect(200).body;
        assert_eq!(statuses(&grants), set(&["active", "approved", "cancelled", "closed", "draft", "rejected", "submitted"]));
        assert!(items(&grants).iter().any(|g| g["currency"] != g["fund_currency"] && !g["fx_rate"].is_null()), "one grant is in another currency than its fund: {grants}");
        let tranches = app.get("/api/v1/disbursements?limit=100").bearer(&admin).send().await.expect(200).body;
        assert_eq!(statuses(&tranches), set(&["approved", "cancelled", "paid", "rejected", "requested", "reversed"]));
        // Four eyes: no tranche approved by whoever asked for it, and one approved by two.
        for t in items(&tranches) {
            let by = t["approved_by"].as_array().unwrap();
            assert!(!by.contains(&t["requested_by"]), "{t}");
            assert!(by.len() < 2 || by[0] != by[1], "{t}");
        }
        assert!(items(&tranches).iter().any(|t| t["status"] == "approved" && t["approved_by"].as_array().unwrap().len() == 2), "one tranche was approved by two: {tranches}");
        // The queues people work from: officers approve requested tranches, finance pays approved ones.
        let officer = login(&app, "grants2@demo.idpc.example", "demo-grants2-password").await;
        let finance = login(&app, "finance@demo.idpc.example", "demo-finance-password").await;
        for (token, status) in [(&officer, "requested"), (&finance, "approved")] {
            let queue = app.get(&format!("/api/v1/disbursements?status={status}")).bearer(token).send().await.expect(200).body;
            assert!(!items(&queue).is_empty(), "the {status} queue has work: {queue}");
        }
        let today = chrono::Utc::now().date_naive();
        let reports: Vec<(String, chrono::NaiveDate)> = app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::grant_reports as r;
            r::table.select((r::status, r::due_on)).load(c).unwrap()
        }).await;
        let report_states: BTreeSet<String> = reports.iter().map(|(s, _)| s.clone()).collect();
        assert_eq!(report_states, set(&["accepted", "due", "returned", "submitted"]));
        assert!(reports.iter().any(|(s, d)| s == "due" && *d < today), "a report is overdue");
        assert!(reports.iter().any(|(s, d)| s == "due" && *d > today), "a report is due later");
        let applications = app.get("/api/v1/membership-applications").bearer(&admin).send().await.expect(200).body;
        assert_eq!(statuses(&applications), set(&["submitted", "under_review"]));
        // Written by the services: audit rows of the demo's commands, and their emails queued.
        let (audited, queued): (i64, i64) = app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::{audit_events as a, outbox as o};
            (
                a::table.filter(a::request_id.eq("demo-data")).filter(a::action.like("disbursement.%")).count().get_result(c).unwrap(),
                o::table.count().get_result(c).unwrap(),
            )
        }).await;
        assert!(audited >= 10, "tranche moves are audited: {audited}");
        assert!(queued > 0);
        // A rerun adds nothing and says so.
        let again = idpc_hub::demo::seed(&app.state).await.unwrap();
        assert!(again.is_empty(), "{again:?}");
        assert!(again.report().contains("already seeded"), "{}", again.report());
        let after = app.get("/api/v1/grants?limit=100").bearer(&admin).send().await.expect(200).body;
        assert_eq!(after["total"], grants["total"]);
    }
}

fn statuses_of(list: &Value, field: &str) -> BTreeSet<String> {
    items(list)
        .iter()
        .map(|i| i[field].as_str().unwrap().to_string())
        .collect()
}

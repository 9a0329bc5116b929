//! The partner data boundary: what a partner app's token receives, asserted on the bodies.
//! Every GET operation of the OpenAPI document is called with an app holding every scope,
//! with real ids of a grant that has tranches, reports and notes; no answer may hold a
//! report, a tranche, a staff id or a note, and what an app may not see is 404.
//! A grantee hidden from the public is named in no answer that travels (export, CSV, apps).

use serde_json::{Value, json};

use crate::common::{TestApp, TestUser};
use crate::grants::{World, active, grant_body, world};
use crate::on_both;

/// An id nothing has.
const UNKNOWN: &str = "00000000-0000-7000-8000-000000000000";

/// Text planted in every internal field, so its absence can be asserted.
const SECRETS: [&str; 6] = [
    "TRANCHE-NOTE-SECRET",
    "REJECTION-REASON-SECRET",
    "REPORT-SUMMARY-SECRET",
    "https://secret.example.org/report.pdf",
    "RETURN-REASON-SECRET",
    "REVERSAL-REASON-SECRET",
];

/// Field names of internal objects and staff ids.
const INTERNAL_KEYS: [&str; 13] = [
    "\"disbursements\"",
    "\"reports\"",
    "\"created_by\"",
    "\"approved_by\"",
    "\"decision_reason\"",
    "\"requested_by\"",
    "\"submitted_by\"",
    "\"decided_by\"",
    "\"paid_by\"",
    "\"reversed_by\"",
    "\"return_reason\"",
    "\"summary\"",
    "\"note\"",
];

const HIDDEN_NAME: &str = "Saigon Safe Harbour Collective";
const HIDDEN_TITLE: &str = "Core support to Saigon Safe Harbour Collective";

struct Seeded {
    w: World,
    app_token: String,
    grant: String,
    hidden_org: String,
    hidden_slug: String,
    hidden_grant: String,
    draft: String,
    tranches: Vec<String>,
    reports: Vec<String>,
    webhook: String,
    staff_ids: Vec<String>,
}

async fn post(
    app: &TestApp,
    who: &TestUser,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> Value {
    let mut r = app.post(path).bearer(&who.token);
    if let Some(b) = &body {
        r = r.json(b);
    }
    r.send().await.expect(status).body
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

async fn seed(app: &TestApp) -> Seeded {
    let w = world(app).await;
    let (_, _, app_token) = app
        .api_client(
            &w.admin,
            &w.grantee,
            &["directory:read", "grants:read", "webhooks:manage"],
        )
        .await;
    // The app subscribes to grant events first, so its delivery log holds grant payloads.
    let hook = app
        .post("/api/v1/webhooks")
        .bearer(&app_token)
        .json(&json!({"url": "https://partner.example.org/hook", "events": ["grant.published", "grant.updated", "grant.closed", "fund.updated"]}))
        .send()
        .await
        .expect(201);
    let webhook = id(&hook.body);
    // A raise of the fund that waits for a second person (its author is a staff id).
    app.patch(&format!("/api/v1/funds/{}", w.fund))
        .bearer(&w.officer.token)
        .header("if-match", "\"1\"")
        .json(&json!({"amount": "900000.00"}))
        .send()
        .await
        .expect(200);
    let grant = active(app, &w, "9000.00").await;
    let mut tranches = Vec::new();
    let request =
        |note: &str| json!({"amount": "100.00", "planned_date": "2026-05-01", "note": note});
    let path = format!("/api/v1/grants/{grant}/disbursements");
    // Requested; rejected with a reason; paid; paid and reversed.
    for _ in 0..4 {
        tranches.push(id(&post(
            app,
            &w.officer,
            &path,
            Some(request("TRANCHE-NOTE-SECRET")),
            201,
        )
        .await));
    }
    post(
        app,
        &w.officer2,
        &format!("/api/v1/disbursements/{}/reject", tranches[1]),
        Some(json!({"reason": "REJECTION-REASON-SECRET"})),
        200,
    )
    .await;
    for t in &tranches[2..] {
        post(
            app,
            &w.officer2,
            &format!("/api/v1/disbursements/{t}/approve"),
            None,
            200,
        )
        .await;
        let today = chrono::Utc::now().date_naive().to_string();
        post(
            app,
            &w.finance,
            &format!("/api/v1/disbursements/{t}/pay"),
            Some(
                json!({"payment_reference": format!("PAY-{t}"), "paid_on": today,
                "bank_account_id": app.payee(&w.grantee, "USD").await}),
            ),
            200,
        )
        .await;
    }
    post(
        app,
        &w.finance,
        &format!("/api/v1/disbursements/{}/reverse", tranches[3]),
        Some(json!({"reason": "REVERSAL-REASON-SECRET"})),
        200,
    )
    .await;
    // A report submitted and accepted, one submitted and returned with a reason.
    let mut reports = Vec::new();
    for verb in ["accept", "return"] {
        let r = id(&post(
            app,
            &w.officer,
            &format!("/api/v1/grants/{grant}/reports"),
            Some(json!({"kind": "narrative", "due_on": "2026-12-31", "title": "Mid-term report"})),
            201,
        )
        .await);
        post(
            app,
            &w.member,
            &format!("/api/v1/reports/{r}/submit"),
            Some(json!({"summary": "REPORT-SUMMARY-SECRET", "document_url": SECRETS[3]})),
            200,
        )
        .await;
        let body = (verb == "return").then(|| json!({"reason": "RETURN-REASON-SECRET"}));
        post(
            app,
            &w.officer,
            &format!("/api/v1/reports/{r}/{verb}"),
            body,
            200,
        )
        .await;
        reports.push(r);
    }
    // A grant to an organisation hidden from the public, with a title that names it.
    let hidden_org = app
        .org_with(
            HIDDEN_NAME,
            idpc_hub::directory::OrganisationKind::Member,
            None,
            "VN",
            "asia",
        )
        .await;
    let hidden_slug = app
        .get(&format!("/api/v1/organisations/{hidden_org}"))
        .bearer(&w.admin.token)
        .send()
        .await
        .expect(200)
        .body["slug"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(&format!("/api/v1/organisations/{hidden_org}"))
        .bearer(&w.admin.token)
        .header("if-match", "\"1\"")
        .json(&json!({"hidden_from_public": true}))
        .send()
        .await
        .expect(200);
    let mut body = grant_body(&w.fund, &hidden_org, "USD", "4321.00");
    body["title"] = json!(HIDDEN_TITLE);
    body["description"] = json!(format!(
        "Rent and outreach workers for {HIDDEN_NAME} in District 4"
    ));
    let hidden_grant = id(&post(app, &w.officer, "/api/v1/grants", Some(body), 201).await);
    post(
        app,
        &w.officer,
        &format!("/api/v1/grants/{hidden_grant}/submit"),
        None,
        200,
    )
    .await;
    post(
        app,
        &w.officer2,
        &format!("/api/v1/grants/{hidden_grant}/approve"),
        None,
        200,
    )
    .await;
    post(
        app,
        &w.officer,
        &format!("/api/v1/grants/{hidden_grant}/activate"),
        None,
        200,
    )
    .await;
    let draft = id(&post(
        app,
        &w.officer,
        "/api/v1/grants",
        Some(grant_body(&w.fund, &w.grantee, "USD", "5.00")),
        201,
    )
    .await);
    let staff_ids = vec![
        w.admin.id.clone(),
        w.officer.id.clone(),
        w.officer2.id.clone(),
        w.finance.id.clone(),
        w.member.id.clone(),
    ];
    Seeded {
        w,
        app_token,
        grant,
        hidden_org,
        hidden_slug,
        hidden_grant,
        draft,
        tranches,
        reports,
        webhook,
        staff_ids,
    }
}

/// The ids to try for a path parameter, by the collection it follows.
fn candidates(s: &Seeded, collection: &str, param: &str) -> Vec<String> {
    let mut ids = match (collection, param) {
        ("grants", _) => vec![s.grant.clone(), s.hidden_grant.clone(), s.draft.clone()],
        ("disbursements", _) => s.tranches.clone(),
        ("reports", _) => s.reports.clone(),
        ("organisations", _) => vec![
            s.w.grantee.clone(),
            s.hidden_org.clone(),
            s.hidden_slug.clone(),
        ],
        ("funds", _) => vec![s.w.fund.clone()],
        ("users", _) => s.staff_ids.clone(),
        ("webhooks", _) => vec![s.webhook.clone()],
        ("fx-rates", _) => vec!["EUR".to_string()],
        _ => Vec::new(),
    };
    if param != "currency" {
        ids.push(UNKNOWN.to_string());
    }
    ids
}

/// Every concrete URL of a path template.
fn urls(s: &Seeded, template: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let segments: Vec<&str> = template.split('/').filter(|x| !x.is_empty()).collect();
    for (i, seg) in segments.iter().enumerate() {
        let options = match seg.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            Some(param) => candidates(s, segments[i - 1], param),
            None => vec![seg.to_string()],
        };
        out = out
            .iter()
            .flat_map(|u| options.iter().map(move |o| format!("{u}/{o}")))
            .collect();
    }
    out
}

/// Objects partner apps must never learn exist: their routes answer 404, never 403. (An
/// organisation's history is 403 to every app alike: it tells nothing of what exists.)
fn about_internal_objects(template: &str) -> bool {
    template == "/api/v1/grants"
        || template.starts_with("/api/v1/grants/")
        || template.starts_with("/api/v1/disbursements/")
        || template.starts_with("/api/v1/reports/")
        || template.starts_with("/api/v1/funds/{id}/history")
        || template == "/api/v1/organisations/{id}"
}

fn callable_by_apps(op: &utoipa::openapi::path::Operation) -> bool {
    serde_json::to_value(op).unwrap()["security"]
        .as_array()
        .is_some_and(|reqs| reqs.iter().any(|r| r.get("oauth2").is_some()))
}

on_both! {
    async fn a_partner_app_never_receives_a_report_a_tranche_a_staff_id_or_a_note(backend) {
        let app = TestApp::start(backend).await;
        let s = seed(&app).await;
        app.deliver_mail().await;
        let spec = idpc_hub::openapi::spec();
        let mut leaks = Vec::new();
        let mut forbidden: Vec<String> = SECRETS.iter().map(|x| x.to_string()).collect();
        forbidden.extend(s.staff_ids.iter().cloned());
        forbidden.extend(s.tranches.iter().cloned());
        forbidden.extend(s.reports.iter().cloned());
        forbidden.extend([HIDDEN_NAME.to_string(), HIDDEN_TITLE.to_string(), s.hidden_org.clone(), s.hidden_slug.clone()]);
        let mut called = 0;
        for (template, item) in spec.paths.paths.iter() {
            let Some(op) = &item.get else { continue };
            let mut targets = urls(&s, template);
            if template == "/api/v1/grants" {
                targets.push(format!("/api/v1/grants?grantee_organisation_id={}", s.hidden_org));
                targets.push("/api/v1/grants?status=draft".into());
            }
            for url in targets {
                let r = app.get(&url).bearer(&s.app_token).send().await;
                called += 1;
                let must_hide = callable_by_apps(op) || about_internal_objects(template);
                let allowed: &[u16] = if must_hide { &[200, 404] } else { &[200, 403, 404] };
                if !allowed.contains(&r.status) {
                    leaks.push(format!("GET {url}: status {} (allowed {allowed:?}) {}", r.status, r.text));
                }
                // A problem names the path asked for (`instance`): the caller's own words.
                let path = url.split('?').next().unwrap_or_default();
                let text = r.text.replace(path, "");
                for f in &forbidden {
                    if text.contains(f.as_str()) {
                        leaks.push(format!("GET {url}: the body holds {f}"));
                    }
                }
                for k in INTERNAL_KEYS {
                    if text.contains(k) {
                        leaks.push(format!("GET {url}: the body holds the field {k}"));
                    }
                }
            }
        }
        // What webhooks sent the app: the same boundary.
        let bodies: Vec<String> = app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::webhook_deliveries as d;
            d::table.select(d::body).load::<String>(c).unwrap()
        }).await;
        assert!(bodies.iter().any(|b| b.contains("fund.updated")) && bodies.iter().any(|b| b.contains("grant.published")));
        for b in &bodies {
            for f in forbidden.iter().map(String::as_str).chain(INTERNAL_KEYS).chain(["pending_by"]) {
                if b.contains(f) {
                    leaks.push(format!("a webhook delivery holds {f}: {b}"));
                }
            }
        }
        assert!(called > 40, "the walk called {called} URLs");
        assert!(leaks.is_empty(), "what a partner app received:\n{}", leaks.join("\n"));

        // What an app may see, it sees: the published grant with its amounts.
        let g = app.get(&format!("/api/v1/grants/{}", s.grant)).bearer(&s.app_token).send().await.expect(200).body;
        assert_eq!(g["amount"], "9000.00");
        assert_eq!(g["amount_disbursed"], "100.00", "one payment stands, one was reversed");
        assert_eq!(g["grantee_organisation_id"], s.w.grantee.as_str());
        // Tranches and reports are 404 whether they exist or not.
        for t in s.tranches.iter().map(String::as_str).chain([UNKNOWN]) {
            app.get(&format!("/api/v1/disbursements/{t}")).bearer(&s.app_token).send().await.expect_problem(404);
        }
        app.get(&format!("/api/v1/organisations/{}", s.hidden_slug)).bearer(&s.app_token).send().await.expect_problem(404);
        app.get(&format!("/api/v1/organisations/{}", s.hidden_org)).bearer(&s.app_token).send().await.expect_problem(404);
        // The delivery log carried grant payloads, and they were checked above.
        let log = app.get(&format!("/api/v1/webhooks/{}/deliveries", s.webhook)).bearer(&s.app_token).send().await.expect(200);
        assert!(log.text.contains("grant.published") && log.text.contains("fund.updated"), "{}", log.text);
    }
}

on_both! {
    async fn a_withheld_grantee_is_named_in_no_export_csv_or_partner_answer(backend) {
        let app = TestApp::start(backend).await;
        let s = seed(&app).await;
        let csv = app.get("/api/v1/grants.csv").bearer(&s.w.finance.token).send().await.expect(200);
        let giving = app.get("/api/v1/exports/360giving.json").send().await.expect(200);
        let iati = app.get("/api/v1/exports/iati-activities.xml").send().await.expect(200);
        let list = app.get("/api/v1/grants?limit=100").bearer(&s.app_token).send().await.expect(200);
        let one = app.get(&format!("/api/v1/grants/{}", s.hidden_grant)).bearer(&s.app_token).send().await.expect(200);
        for (what, text) in [("CSV", &csv.text), ("360Giving", &giving.text), ("IATI", &iati.text), ("partner list", &list.text), ("partner grant", &one.text)] {
            for secret in [HIDDEN_NAME, HIDDEN_TITLE, "District 4", s.hidden_org.as_str(), s.hidden_slug.as_str()] {
                assert!(!text.contains(secret), "{what} holds {secret}");
            }
        }
        // The grant is there, with its amount, its dates and its region only.
        let title = idpc_hub::grants::access::WITHHELD_TITLE;
        assert_eq!(one.body["title"], title);
        assert_eq!(one.body["description"], idpc_hub::grants::access::WITHHELD_DESCRIPTION);
        assert_eq!(one.body["amount"], "4321.00");
        assert_eq!(one.body["planned_start"], "2026-02-01");
        assert_eq!(one.body["grantee_region"], "asia");
        assert_eq!(one.body["grantee_organisation_id"], Value::Null);
        assert!(list.body["data"].as_array().unwrap().iter().any(|g| g["id"] == s.hidden_grant.as_str() && g["title"] == title));
        let exported = giving.body["grants"].as_array().unwrap().iter()
            .find(|g| g["amountAwarded"] == json!(4321.0))
            .expect("the hidden grantee's grant is exported");
        assert_eq!(exported["title"], title);
        assert_eq!(exported["plannedDates"][0]["startDate"], "2026-02-01");
        assert!(exported["beneficiaryLocation"].as_array().unwrap().iter().all(|l| l.get("countryCode").is_none()), "no location finer than the region");
        assert!(csv.text.contains(title) && csv.text.contains("4321.00"), "{}", csv.text);
        // Staff still read the grant as written.
        let staff = app.get(&format!("/api/v1/grants/{}", s.hidden_grant)).bearer(&s.w.officer.token).send().await.expect(200);
        assert_eq!(staff.body["title"], HIDDEN_TITLE);
    }
}

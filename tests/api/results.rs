//! Results in reports (issue 25): a financial report gives actual spend per budget line and
//! the API answers budget, actual, variance and its share per line and in total, flagging
//! lines beyond the tolerance; a narrative report gives an actual for each of the grant's
//! indicators, which are set with the grant.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::grants::{World, grant_body, world};
use crate::on_both;

/// An active grant of 1000.00 USD with lines activities 600.00 and staff 400.00 and one
/// indicator (target 40 people); returns (grant id, budget answer).
async fn planned(app: &TestApp, w: &World) -> (String, Value) {
    let mut body = grant_body(&w.fund, &w.grantee, "USD", "1000.00");
    body["budget"] = json!([
        {"category": "activities", "description": "Trainings", "amount": "600.00"},
        {"category": "staff", "description": "Trainer fees", "amount": "400.00"},
    ]);
    body["indicators"] = json!([{
        "name": "Paralegals trained", "unit": "people", "baseline": "0", "target": "40",
        "pillar": "capacity_strengthening", "priority_area": "decriminalisation_justice_reform",
    }]);
    let id = app
        .post("/api/v1/grants")
        .bearer(&w.officer.token)
        .json(&body)
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (verb, token) in [
        ("submit", &w.officer.token),
        ("approve", &w.officer2.token),
        ("activate", &w.officer.token),
    ] {
        app.post(&format!("/api/v1/grants/{id}/{verb}"))
            .bearer(token)
            .send()
            .await
            .expect(200);
    }
    let budget = app
        .get(&format!("/api/v1/grants/{id}/budget"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200)
        .body;
    (id, budget)
}

/// A report of `kind` asked of the grantee; a financial one gets its accounts file uploaded,
/// since a financial report is submitted only with a file.
async fn ask(app: &TestApp, w: &World, grant: &str, kind: &str) -> String {
    let id = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token)
        .json(&json!({"kind": kind, "due_on": "2026-09-30", "title": format!("Annual {kind} report")}))
        .send().await.expect(201).body["id"].as_str().unwrap().to_string();
    if kind == "financial" {
        let path = format!("/api/v1/reports/{id}/documents");
        let pdf = crate::documents::pdf(2_000, 3);
        crate::documents::upload(
            app,
            &w.member.token,
            &path,
            "report_file",
            "accounts.pdf",
            &pdf,
        )
        .await
        .expect(201);
    }
    id
}

fn submit(extra: Value) -> Value {
    let mut body =
        json!({"summary": "What we did", "document_url": "https://example.org/report.pdf"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

on_both! {
    async fn a_financial_report_with_actuals_answers_variance_per_line_and_in_total_and_flags_lines_beyond_the_tolerance(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let (grant, budget) = planned(&app, &w).await;
        let (activities, staff) = (budget["lines"][0]["id"].clone(), budget["lines"][1]["id"].clone());
        let report = ask(&app, &w, &grant, "financial").await;
        let body = submit(json!({"actuals": [
            {"budget_line_id": activities, "amount": "690.00"},
            {"budget_line_id": staff, "amount": "380.00"},
        ]}));
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&body).send().await.expect(200);
        let r = app.get(&format!("/api/v1/reports/{report}/results")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(r["kind"], "financial");
        assert_eq!(r["currency"], "USD");
        assert_eq!(r["tolerance_percent"], 10);
        let a = &r["lines"][0];
        assert_eq!(a["category"], "activities");
        assert_eq!((a["budget"].as_str(), a["actual"].as_str(), a["variance"].as_str(), a["variance_percent"].as_str()),
            (Some("600.00"), Some("690.00"), Some("90.00"), Some("15.00")));
        assert_eq!(a["over_tolerance"], true);
        let s = &r["lines"][1];
        assert_eq!((s["budget"].as_str(), s["actual"].as_str(), s["variance"].as_str(), s["variance_percent"].as_str()),
            (Some("400.00"), Some("380.00"), Some("-20.00"), Some("-5.00")));
        assert_eq!(s["over_tolerance"], false);
        let t = &r["total"];
        assert_eq!((t["budget"].as_str(), t["actual"].as_str(), t["variance"].as_str(), t["variance_percent"].as_str()),
            (Some("1000.00"), Some("1070.00"), Some("70.00"), Some("7.00")));
        assert_eq!(t["over_tolerance"], false);
        // The grantee's members read it too; another organisation gets 404.
        let m = app.get(&format!("/api/v1/reports/{report}/results")).bearer(&w.member.token).send().await.expect(200).body;
        assert_eq!(m["lines"][0]["actual"], "690.00");
        let other = app.member_org("Other Org").await;
        let stranger = app.user("member", Some(&other)).await;
        app.get(&format!("/api/v1/reports/{report}/results")).bearer(&stranger.token).send().await.expect_problem(404);

        // A tighter tolerance flags the staff line too.
        let strict = TestApp::start_with(backend, &[("BUDGET_VARIANCE_TOLERANCE_PERCENT", "4")]).await;
        let w = world(&strict).await;
        let (grant, budget) = planned(&strict, &w).await;
        let report = ask(&strict, &w, &grant, "financial").await;
        let body = submit(json!({"actuals": [{"budget_line_id": budget["lines"][1]["id"], "amount": "380.00"}]}));
        strict.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&body).send().await.expect(200);
        let r = strict.get(&format!("/api/v1/reports/{report}/results")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(r["lines"][1]["over_tolerance"], true);
        // A line the report leaves out spent nothing.
        assert_eq!((r["lines"][0]["actual"].as_str(), r["lines"][0]["variance_percent"].as_str()), (Some("0.00"), Some("-100.00")));
    }
}

on_both! {
    async fn actuals_name_lines_of_the_grant_and_only_a_financial_report_carries_them(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let (grant, budget) = planned(&app, &w).await;
        let line = budget["lines"][0]["id"].clone();
        let financial = ask(&app, &w, &grant, "financial").await;
        let path = format!("/api/v1/reports/{financial}/submit");
        let bad = submit(json!({"actuals": [{"budget_line_id": "0193a4e2-0000-7000-8000-000000000000", "amount": "1.00"}]}));
        let r = app.post(&path).bearer(&w.member.token).json(&bad).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "actuals.0.budget_line_id");
        let bad = submit(json!({"actuals": [{"budget_line_id": line, "amount": "1.001"}]}));
        let r = app.post(&path).bearer(&w.member.token).json(&bad).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "actuals.0.amount");
        let report = app.get(&format!("/api/v1/reports/{financial}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(report["status"], "due", "a refused submission changes nothing");
        let narrative = ask(&app, &w, &grant, "narrative").await;
        let r = app.post(&format!("/api/v1/reports/{narrative}/submit")).bearer(&w.member.token)
            .json(&submit(json!({"actuals": [{"budget_line_id": line, "amount": "1.00"}]}))).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "actuals");

        // Once spend is recorded on a line, a revision may change its amount but not remove it.
        app.post(&path).bearer(&w.member.token).json(&submit(json!({"actuals": [{"budget_line_id": line, "amount": "0"}]}))).send().await.expect(200);
        let bpath = format!("/api/v1/grants/{grant}/budget");
        let tag = app.get(&bpath).bearer(&w.officer.token).send().await.expect(200).header("etag").unwrap();
        let only_staff = json!({"lines": [{"id": budget["lines"][1]["id"], "category": "staff", "description": "Trainer fees", "amount": "1000.00"}], "reason": "No trainings"});
        let r = app.req(actix_web::http::Method::PUT, &bpath).bearer(&w.officer.token).header("if-match", &tag).json(&only_staff).send().await.expect_problem(409);
        assert!(r.body["type"].as_str().unwrap().ends_with("has-actuals"), "{}", r.text);
    }
}

on_both! {
    async fn a_narrative_report_gives_actuals_for_the_indicators_set_with_the_grant(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let (grant, _) = planned(&app, &w).await;
        let list = app.get(&format!("/api/v1/grants/{grant}/indicators")).bearer(&w.member.token).send().await.expect(200).body;
        assert_eq!(list[0]["name"], "Paralegals trained");
        assert_eq!((list[0]["baseline"].as_str(), list[0]["target"].as_str()), (Some("0"), Some("40")));
        assert_eq!((list[0]["pillar"].as_str(), list[0]["priority_area"].as_str()), (Some("capacity_strengthening"), Some("decriminalisation_justice_reform")));
        let indicator = list[0]["id"].clone();
        let report = ask(&app, &w, &grant, "narrative").await;
        let path = format!("/api/v1/reports/{report}/submit");
        let r = app.post(&path).bearer(&w.member.token)
            .json(&submit(json!({"indicators": [{"indicator_id": indicator, "actual": "many"}]}))).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "indicators.0.actual");
        app.post(&path).bearer(&w.member.token)
            .json(&submit(json!({"indicators": [{"indicator_id": indicator, "actual": "32", "note": "Two trainings postponed"}]}))).send().await.expect(200);
        let r = app.get(&format!("/api/v1/reports/{report}/results")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(r["kind"], "narrative");
        let i = &r["indicators"][0];
        assert_eq!((i["target"].as_str(), i["actual"].as_str(), i["unit"].as_str()), (Some("40"), Some("32"), Some("people")));
        assert_eq!(i["met"], false);
        assert_eq!(i["note"], "Two trainings postponed");
        assert!(r["total"].is_null() && r["lines"] == json!([]));

        // Targets are set while the grant is a draft; after approval they stand.
        let ipath = format!("/api/v1/grants/{grant}/indicators");
        let tag = app.get(&ipath).bearer(&w.officer.token).send().await.expect(200).header("etag").unwrap();
        let r = app.req(actix_web::http::Method::PUT, &ipath).bearer(&w.officer.token).header("if-match", &tag)
            .json(&json!({"indicators": []})).send().await.expect_problem(409);
        assert!(r.body["type"].as_str().unwrap().ends_with("not-draft"), "{}", r.text);

        // On a draft, writing indicators makes the writer a contributor.
        let draft = app.post("/api/v1/grants").bearer(&w.officer.token).json(&grant_body(&w.fund, &w.grantee, "USD", "10.00")).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let ipath = format!("/api/v1/grants/{draft}/indicators");
        let tag = app.get(&ipath).bearer(&w.officer2.token).send().await.expect(200).header("etag").unwrap();
        let bad = json!({"indicators": [{"name": "Policies changed", "unit": "policies", "baseline": "0", "target": "2", "pillar": "lobbying", "priority_area": "women_drug_policy"}]});
        let r = app.req(actix_web::http::Method::PUT, &ipath).bearer(&w.officer2.token).header("if-match", &tag).json(&bad).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "indicators.0.pillar");
        let mut good = bad.clone();
        good["indicators"][0]["pillar"] = json!("international_advocacy");
        let r = app.req(actix_web::http::Method::PUT, &ipath).bearer(&w.officer2.token).header("if-match", &tag).json(&good).send().await.expect(200);
        assert_eq!(r.body[0]["priority_area"], "women_drug_policy");
        app.post(&format!("/api/v1/grants/{draft}/submit")).bearer(&w.officer.token).send().await.expect(200);
        let r = app.post(&format!("/api/v1/grants/{draft}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert!(r.body["detail"].as_str().unwrap().contains("you edited its indicators"), "{}", r.text);
    }
}

on_both! {
    async fn the_iati_file_carries_budgets_planned_disbursements_and_results_and_still_validates(backend) {
        let app = TestApp::start_with(backend, &[("OPEN_DATA_ORG_ID", "XI-IATI-EXAMPLE")]).await;
        let w = world(&app).await;
        let (grant, _) = planned(&app, &w).await;
        let list = app.get(&format!("/api/v1/grants/{grant}/indicators")).bearer(&w.officer.token).send().await.expect(200).body;
        let report = ask(&app, &w, &grant, "narrative").await;
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token)
            .json(&submit(json!({"indicators": [{"indicator_id": list[0]["id"], "actual": "32"}]}))).send().await.expect(200);
        // A result is published once its report is accepted.
        let before = app.get("/api/v1/exports/iati-activities.xml").send().await.expect(200).text;
        assert!(!before.contains("<actual "), "{before}");
        app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.officer.token).send().await.expect(200);
        let xml = app.get("/api/v1/exports/iati-activities.xml").send().await.expect(200).text;
        crate::exports::validate_iati(&xml);
        assert!(xml.contains("<budget type=\"1\" status=\"2\">"), "{xml}");
        assert!(xml.contains("<planned-disbursement type=\"1\">"), "{xml}");
        assert!(xml.contains("<narrative>Paralegals trained (people)</narrative>"), "{xml}");
        assert!(xml.contains("<target value=\"40\"/>") && xml.contains("<actual value=\"32\"/>"), "{xml}");
        assert!(xml.contains("<baseline year=\"2026\" iso-date=\"2026-02-01\" value=\"0\"/>"), "{xml}");
        // 360Giving still validates (its schema test reads the same data).
        let giving = app.get("/api/v1/exports/360giving.json").send().await;
        assert_eq!(giving.status, 200, "{}", giving.text);
    }
}

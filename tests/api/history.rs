//! Histories over HTTP: staff read the audit events of a fund, a grant, a tranche and a
//! report, each with actor, action, time and before → after per changed field, cursor-paged;
//! every move of a fund's counters is an event of the fund. Members and apps get 404.

use serde_json::{Value, json};

use crate::common::{TestApp, TestUser};
use crate::grants::{active, world};
use crate::on_both;

async fn history(app: &TestApp, who: &TestUser, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}/history?limit=2&cursor={c}"),
            None => format!("{path}/history?limit=2"),
        };
        let page = app
            .get(&url)
            .bearer(&who.token)
            .send()
            .await
            .expect(200)
            .body;
        out.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert_eq!(page["total"], out.len(), "total counts every page");
                return out;
            }
        }
    }
}

fn actions(h: &[Value]) -> Vec<&str> {
    h.iter().map(|e| e["action"].as_str().unwrap()).collect()
}

/// The change of `field` in an entry, as (before, after).
fn change(e: &Value, field: &str) -> (Value, Value) {
    let c = e["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in {e}"));
    (c["before"].clone(), c["after"].clone())
}

on_both! {
    async fn staff_read_fund_grant_tranche_and_report_history_with_before_and_after(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let g = active(&app, &w, "1000.00").await;
        let t = app.post(&format!("/api/v1/grants/{g}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "100.00", "planned_date": "2026-05-01"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{t}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let today = chrono::Utc::now().date_naive().to_string();
        app.post(&format!("/api/v1/disbursements/{t}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "BACS-1", "paid_on": today, "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{t}/reverse")).bearer(&w.finance.token)
            .json(&json!({"reason": "Returned by the bank"})).send().await.expect(200);
        let r = app.post(&format!("/api/v1/grants/{g}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": "2026-12-31", "title": "Accounts"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/reports/{r}/submit")).bearer(&w.member.token)
            .json(&json!({"summary": "Spent as planned", "document_url": "https://example.org/a.pdf"})).send().await.expect(200);
        app.post(&format!("/api/v1/reports/{r}/accept")).bearer(&w.officer.token).send().await.expect(200);
        // A second grant approved and cancelled gives its award back.
        let g2 = active(&app, &w, "50.00").await;
        app.post(&format!("/api/v1/grants/{g2}/cancel")).bearer(&w.officer.token).json(&json!({"reason": "Withdrawn"})).send().await.expect(200);

        // The fund: its creation and every counter move, by whom, before → after.
        let fund = history(&app, &w.finance, &format!("/api/v1/funds/{}", w.fund)).await;
        assert_eq!(actions(&fund), [
            "fund.created", "fund.reserved", "fund.committed", "fund.paid", "fund.reversed",
            "fund.reserved", "fund.released",
        ]);
        let reserved = &fund[1];
        assert_eq!(reserved["actor_kind"], "user");
        assert_eq!(reserved["actor_id"], w.officer2.id.as_str());
        assert!(reserved["occurred_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(change(reserved, "awarded"), (json!("0.00"), json!("1000.00")));
        assert_eq!(change(&fund[2], &format!("grants.{g}.committed")), (json!("0.00"), json!("100.00")));
        assert_eq!(change(&fund[3], "disbursed"), (json!("0.00"), json!("100.00")));
        assert_eq!(fund[3]["actor_id"], w.finance.id.as_str());
        assert_eq!(change(&fund[4], "disbursed"), (json!("100.00"), json!("0.00")));
        assert_eq!(change(&fund[4], &format!("grants.{g}.paid")), (json!("100.00"), json!("0.00")));
        assert_eq!(change(&fund[6], "awarded"), (json!("1050.00"), json!("1000.00")));

        // The grant, the tranche and the report.
        let grant = history(&app, &w.admin, &format!("/api/v1/grants/{g}")).await;
        assert_eq!(actions(&grant), ["grant.created", "grant.submitted", "grant.approved", "grant.active"]);
        assert_eq!(change(&grant[2], "status"), (json!("submitted"), json!("approved")));
        assert_eq!(grant[2]["actor_id"], w.officer2.id.as_str());
        let tranche = history(&app, &w.officer, &format!("/api/v1/disbursements/{t}")).await;
        assert_eq!(actions(&tranche), ["disbursement.requested", "disbursement.approved", "disbursement.paid", "disbursement.reversed"]);
        assert_eq!(change(&tranche[2], "payment_reference"), (Value::Null, json!("BACS-1")));
        let report = history(&app, &w.officer2, &format!("/api/v1/reports/{r}")).await;
        assert_eq!(actions(&report), ["report.created", "report.submitted", "report.accepted"]);
        assert_eq!(report[1]["actor_id"], w.member.id.as_str());

        // Members and apps are not told these exist; unknown ids are 404 for staff.
        let (_, _, app_token) = app.api_client(&w.admin, &w.grantee, &["grants:read"]).await;
        for path in [format!("funds/{}", w.fund), format!("grants/{g}"), format!("disbursements/{t}"), format!("reports/{r}")] {
            let url = format!("/api/v1/{path}/history");
            app.get(&url).bearer(&w.member.token).send().await.expect_problem(404);
            app.get(&url).bearer(&app_token).send().await.expect_problem(404);
            app.get(&url).send().await.expect_problem(401);
        }
        for kind in ["funds", "grants", "disbursements", "reports"] {
            app.get(&format!("/api/v1/{kind}/00000000-0000-7000-8000-000000000000/history")).bearer(&w.finance.token).send().await.expect_problem(404);
        }
        app.get(&format!("/api/v1/grants/{g}/history?limit=101")).bearer(&w.admin.token).send().await.expect_problem(400);
        let bad = app.get(&format!("/api/v1/grants/{g}/history?cursor=bogus")).bearer(&w.admin.token).send().await.expect_problem(400);
        assert_eq!(bad.first_error_field(), "cursor");
    }
}

//! Work queues: `GET /disbursements?awaiting=me` lists what the caller may approve or pay now,
//! never what it requested or already approved; `GET /reports` by status; their items carry
//! the grant's reference and title and the people's names, not only ids.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::grants::{active, world};
use crate::on_both;

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

on_both! {
    async fn awaiting_me_never_lists_a_tranche_the_caller_requested_or_already_approved(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "100000.00").await;
        let request = |token: String, amount: &'static str| {
            let app = &app;
            let grant = grant.clone();
            async move {
                app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&token)
                    .json(&json!({"amount": amount, "planned_date": "2026-05-01"}))
                    .send().await.expect(201).body["id"].as_str().unwrap().to_string()
            }
        };
        let mine = request(w.officer.token.clone(), "100.00").await;
        let big = request(w.member.token.clone(), "60000.00").await;
        let awaiting = |token: String| {
            let app = &app;
            async move { app.get("/api/v1/disbursements?awaiting=me").bearer(&token).send().await.expect(200).body }
        };
        let page = awaiting(w.officer.token.clone()).await;
        assert_eq!(ids(&page), vec![big.clone()], "not the tranche the officer requested");
        let item = &page["data"][0];
        assert_eq!(item["grant_title"], "Community paralegals");
        assert!(item["grant_reference"].as_str().unwrap().starts_with("IDPC-"));
        assert_eq!(item["grantee_name"], "Harm Reduction Kenya");
        assert_eq!(item["requester_name"], "Test member");
        assert_eq!(item["amount"], "60000.00");
        assert_eq!(item["base_currency"], "USD");
        assert_eq!(item["base_amount"], "60000.00");
        assert_eq!(item["approvals_required"], 2);
        // After its first approval it leaves the first approver's queue, not the second's.
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.officer.token).send().await.expect(200);
        assert!(ids(&awaiting(w.officer.token.clone()).await).is_empty());
        let second = ids(&awaiting(w.officer2.token.clone()).await);
        assert_eq!(second.len(), 2);
        assert!(second.contains(&big) && second.contains(&mine));
        // Finance waits for approved tranches only.
        assert!(ids(&awaiting(w.finance.token.clone()).await).is_empty());
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        assert_eq!(ids(&awaiting(w.finance.token.clone()).await), vec![big.clone()]);
        assert_eq!(ids(&awaiting(w.officer2.token.clone()).await), vec![mine.clone()]);
        // Other queues are refused by name; members have no tranche queue.
        let r = app.get("/api/v1/disbursements?awaiting=you").bearer(&w.officer.token).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "awaiting");
        app.get("/api/v1/disbursements?awaiting=me").bearer(&w.member.token).send().await.expect_problem(403);
        // The plain list carries the names too.
        let all = app.get("/api/v1/disbursements?status=requested").bearer(&w.finance.token).send().await.expect(200).body;
        assert_eq!(all["data"][0]["requester_name"], "Test grant_officer");
    }
}

on_both! {
    async fn the_report_queue_lists_by_status_with_names_and_members_see_their_own(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let ask = |title: &'static str, due: &'static str| {
            let (app, grant, token) = (&app, grant.clone(), w.officer.token.clone());
            async move {
                app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&token)
                    .json(&json!({"kind": "narrative", "due_on": due, "title": title}))
                    .send().await.expect(201).body["id"].as_str().unwrap().to_string()
            }
        };
        let late = ask("Late report", "2020-01-31").await;
        let sent = ask("Annual report", "2099-12-31").await;
        app.post(&format!("/api/v1/reports/{sent}/submit")).bearer(&w.member.token)
            .json(&json!({"summary": "What we did", "document_url": "https://docs.example/r.pdf"}))
            .send().await.expect(200);
        let list = |q: &'static str, token: String| {
            let app = &app;
            async move { app.get(&format!("/api/v1/reports{q}")).bearer(&token).send().await.expect(200).body }
        };
        let submitted = list("?status=submitted", w.officer.token.clone()).await;
        assert_eq!(ids(&submitted), vec![sent.clone()]);
        let item = &submitted["data"][0];
        assert_eq!(item["submitter_name"], "Test member");
        assert_eq!(item["grant_title"], "Community paralegals");
        assert_eq!(item["grantee_name"], "Harm Reduction Kenya");
        assert_eq!(item["overdue"], false);
        assert_eq!(ids(&list("?status=overdue", w.finance.token.clone()).await), vec![late.clone()]);
        assert_eq!(ids(&list("?status=due", w.officer.token.clone()).await), vec![late.clone()]);
        assert_eq!(ids(&list(Box::leak(format!("?grant_id={grant}").into_boxed_str()), w.member.token.clone()).await).len(), 2);
        // Another organisation's member sees none of them, and not one by id.
        let other_org = app.member_org("Other Org").await;
        let other = app.user("member", Some(&other_org)).await;
        assert_eq!(list("", other.token.clone()).await["total"], 0);
        app.get(&format!("/api/v1/reports/{sent}")).bearer(&other.token).send().await.expect_problem(404);
        let r = app.get("/api/v1/reports?status=lost").bearer(&w.officer.token).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "status");
    }
}

//! Tranches: the grant budget under concurrency, four eyes, finance-only payment exactly once,
//! reversal, and each rule refused cleanly with the state unchanged.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::grants::{World, active, world, world_with_fund};
use crate::on_both;

async fn request(app: &TestApp, w: &World, grant: &str, amount: &str) -> String {
    app.post(&format!("/api/v1/grants/{grant}/disbursements"))
        .bearer(&w.officer.token)
        .json(&json!({"amount": amount, "planned_date": "2026-05-01", "note": "Tranche"}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn grant_counters(app: &TestApp, w: &World, grant: &str) -> Value {
    app.get(&format!("/api/v1/grants/{grant}"))
        .bearer(&w.finance.token)
        .send()
        .await
        .expect(200)
        .body
}

on_both! {
    async fn a_hundred_concurrent_requests_and_approvals_never_exceed_the_grant(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        // 1000.00 covers exactly 6 tranches of 150.00.
        let grant = active(&app, &w, "1000.00").await;
        // A request above what is neither committed nor requested is refused at once
        // (issue 10), so exactly six requests are taken and each of them is approved.
        let runs = (0..100).map(|_| {
            let (app, w, grant) = (&app, &w, grant.clone());
            async move {
                let r = app.post(&format!("/api/v1/grants/{grant}/disbursements"))
                    .bearer(&w.officer.token)
                    .json(&json!({"amount": "150.00", "planned_date": "2026-05-01", "note": "Load"}))
                    .send().await;
                if r.status == 409 {
                    return r;
                }
                assert_eq!(r.status, 201, "{}", r.text);
                let id = r.body["id"].as_str().unwrap().to_string();
                app.post(&format!("/api/v1/disbursements/{id}/approve")).bearer(&w.officer2.token).send().await
            }
        });
        let answers = join_all(runs).await;
        let approved = answers.iter().filter(|r| r.status == 200).count();
        let refused: Vec<&str> = answers.iter().filter(|r| r.status != 200).map(|r| r.body["type"].as_str().unwrap_or(&r.text)).collect();
        assert_eq!(approved, 6, "{refused:?}");
        assert!(refused.iter().all(|t| *t == "urn:idpc-hub:problem:grant-exhausted"), "{refused:?}");
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!(g["committed"], "900.00");
        assert_eq!(g["totals"]["approved"], "900.00");
        assert_eq!(g["totals"]["requested"], "0.00");
        // Paying every approved tranche, twice over and at once, pays each exactly once.
        let approved_ids: Vec<String> = g["disbursements"].as_array().unwrap().iter()
            .filter(|d| d["status"] == "approved").map(|d| d["id"].as_str().unwrap().to_string()).collect();
        let payee = app.payee(&w.grantee, "USD").await;
        let pays = approved_ids.iter().chain(approved_ids.iter()).map(|id| {
            app.post(&format!("/api/v1/disbursements/{id}/pay")).bearer(&w.finance.token)
                .json(&json!({"payment_reference": format!("PAY-{id}"), "paid_on": "2026-05-02", "bank_account_id": payee})).send()
        });
        let answers = join_all(pays).await;
        assert_eq!(answers.iter().filter(|r| r.status == 200).count(), 6);
        assert_eq!(answers.iter().filter(|r| r.status == 409).count(), 6);
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!(g["paid"], "900.00");
        assert_eq!(g["committed"], "900.00");
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(f.body["disbursed"], "900.00");
        // No more tranches fit: 100.00 are left, 150.00 are asked.
        let r = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "150.00", "planned_date": "2026-05-01"})).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:grant-exhausted");
        assert!(r.body["detail"].as_str().unwrap().contains("100.00 USD left"), "{}", r.text);
    }
}

on_both! {
    async fn each_tranche_rule_is_refused_cleanly_and_changes_nothing(backend) {
        let app = TestApp::start(backend).await;
        let w = world_with_fund(&app, "USD", "200000.00").await;
        let grant = active(&app, &w, "100000.00").await;
        // Self-approval.
        let d = request(&app, &w, &grant, "100.00").await;
        let r = app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        let after = app.get(&format!("/api/v1/disbursements/{d}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!((after.body["status"].as_str(), after.body["approved_by"].clone()), (Some("requested"), json!([])));
        // Approving a rejected tranche.
        app.post(&format!("/api/v1/disbursements/{d}/reject")).bearer(&w.officer2.token).json(&json!({"reason": "Wrong period"})).send().await.expect(200);
        let r = app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        assert!(r.body["detail"].as_str().unwrap().contains("rejected"));
        // Payment by anyone but finance.
        let d = request(&app, &w, &grant, "200.00").await;
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let pay = json!({"payment_reference": "P-1", "paid_on": "2026-05-02", "bank_account_id": app.payee(&w.grantee, "USD").await});
        for who in [&w.officer, &w.officer2, &w.admin, &w.member] {
            let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&who.token).json(&pay).send().await.expect_problem(403);
            assert!(r.body["detail"].as_str().unwrap().contains("finance_officer"));
        }
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!((g["paid"].as_str(), g["committed"].as_str()), (Some("0.00"), Some("200.00")));
        // Approving a paid tranche.
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token).json(&pay).send().await.expect(200);
        let r = app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.admin.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token).json(&pay).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!((g["paid"].as_str(), g["committed"].as_str()), (Some("200.00"), Some("200.00")));
        // A second approval by the first approver (above the threshold).
        let big = request(&app, &w, &grant, "50000.01").await;
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let r = app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:same-approver");
        let r = app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval", "the requester is never an approver");
        let after = app.get(&format!("/api/v1/disbursements/{big}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(after.body["status"], "requested");
        assert_eq!(after.body["approved_by"], json!([w.officer2.id]));
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.admin.token).send().await.expect(200);
        // Approval before the required report is accepted.
        let report = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "financial", "due_on": "2026-09-30", "title": "Mid-term accounts"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let waits = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "300.00", "planned_date": "2026-10-01", "requires_report_id": report})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let r = app.post(&format!("/api/v1/disbursements/{waits}/approve")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:report-not-accepted");
        let after = app.get(&format!("/api/v1/disbursements/{waits}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(after.body["status"], "requested");
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!(g["committed"], "50200.01");
        // A report of another grant cannot be required.
        let other = active(&app, &w, "10.00").await;
        let r = app.post(&format!("/api/v1/grants/{other}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "1.00", "planned_date": "2026-10-01", "requires_report_id": report})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "requires_report_id");
        // Bad amounts name the field.
        let r = app.post(&format!("/api/v1/grants/{other}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "1.001", "planned_date": "2026-10-01"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "amount");
        // Finance officers and partner apps do not request tranches.
        app.post(&format!("/api/v1/grants/{other}/disbursements")).bearer(&w.finance.token)
            .json(&json!({"amount": "1.00", "planned_date": "2026-10-01"})).send().await.expect_problem(403);
    }
}

on_both! {
    async fn a_reversal_releases_the_amount_and_a_paid_tranche_is_never_edited(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "500.00").await;
        let d = request(&app, &w, &grant, "500.00").await;
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-9", "paid_on": "2026-05-02", "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        app.emails().await;
        // A paid tranche cannot be cancelled or rejected.
        app.post(&format!("/api/v1/disbursements/{d}/cancel")).bearer(&w.officer.token).json(&json!({"reason": "Not needed"})).send().await.expect_problem(409);
        app.post(&format!("/api/v1/disbursements/{d}/reject")).bearer(&w.officer.token).json(&json!({"reason": "x"})).send().await.expect_problem(409);
        app.post(&format!("/api/v1/disbursements/{d}/reverse")).bearer(&w.officer.token).json(&json!({"reason": "Bounced"})).send().await.expect_problem(403);
        let r = app.post(&format!("/api/v1/disbursements/{d}/reverse")).bearer(&w.finance.token).json(&json!({"reason": "Bank returned it"})).send().await.expect(200);
        assert_eq!(r.body["status"], "reversed");
        assert_eq!(r.body["reversal_reason"], "Bank returned it");
        assert_eq!(r.body["payment_reference"], "P-9", "the payment stays on record");
        // The grantee and every grant officer are told; finance too, but not its author.
        let mail = app.emails().await;
        let mut to: Vec<String> = mail.iter().map(|m| m.recipient()).collect();
        to.sort();
        let mut expected = vec![w.member.email.clone(), w.officer.email.clone(), w.officer2.email.clone()];
        expected.sort();
        assert_eq!(to, expected);
        assert!(mail.iter().all(|m| m.subject().contains("reversed") && m.text().contains("Bank returned it")));
        app.post(&format!("/api/v1/disbursements/{d}/reverse")).bearer(&w.finance.token).json(&json!({"reason": "again"})).send().await.expect_problem(409);
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!((g["paid"].as_str(), g["committed"].as_str(), g["totals"]["reversed"].as_str()), (Some("0.00"), Some("0.00"), Some("500.00")));
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(f.body["disbursed"], "0.00");
        // The released amount can be requested and approved again.
        let again = request(&app, &w, &grant, "500.00").await;
        app.post(&format!("/api/v1/disbursements/{again}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        // Cancelling an approved tranche releases it too.
        app.post(&format!("/api/v1/disbursements/{again}/cancel")).bearer(&w.officer.token).json(&json!({"reason": "The partner withdrew"})).send().await.expect(200);
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!(g["committed"], "0.00");
    }
}

on_both! {
    async fn the_second_approval_threshold_is_configured_per_currency(backend) {
        let app = TestApp::start_with(backend, &[("SECOND_APPROVAL_THRESHOLD", "100.00")]).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let at = request(&app, &w, &grant, "100.00").await;
        let above = request(&app, &w, &grant, "100.01").await;
        let r = app.post(&format!("/api/v1/disbursements/{at}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        assert_eq!((r.body["status"].as_str(), r.body["approvals_required"].as_i64()), (Some("approved"), Some(1)));
        let r = app.post(&format!("/api/v1/disbursements/{above}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        assert_eq!((r.body["status"].as_str(), r.body["approvals_required"].as_i64()), (Some("requested"), Some(2)));
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!(g["committed"], "100.00", "a first approval commits nothing");
        let r = app.post(&format!("/api/v1/disbursements/{above}/approve")).bearer(&w.admin.token).send().await.expect(200);
        assert_eq!(r.body["status"], "approved");
        let g = grant_counters(&app, &w, &grant).await;
        assert_eq!(g["committed"], "200.01");
    }
}

on_both! {
    async fn ending_a_grant_cancels_its_waiting_tranches(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "500.00").await;
        let waiting = request(&app, &w, &grant, "100.00").await;
        let approved = request(&app, &w, &grant, "100.00").await;
        app.post(&format!("/api/v1/disbursements/{approved}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        // Not while an approved tranche awaits payment.
        let r = app.post(&format!("/api/v1/grants/{grant}/close")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:unpaid-tranches");
        app.post(&format!("/api/v1/disbursements/{approved}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-5", "paid_on": "2026-05-02", "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        let r = app.post(&format!("/api/v1/grants/{grant}/close")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["status"], "closed");
        let d = app.get(&format!("/api/v1/disbursements/{waiting}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(d.body["status"], "cancelled");
        let trail = crate::grants::audit_actions(&app, &waiting).await;
        assert_eq!(trail.last().unwrap().0, "disbursement.cancelled");
        let r = app.post(&format!("/api/v1/disbursements/{waiting}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        let r = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "1.00", "planned_date": "2026-10-01"})).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:grant-not-active");
    }
}

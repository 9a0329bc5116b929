//! The grant controls of issue 10: four eyes on grants, one currency for limits, second
//! approvals that splitting does not avoid, tranches refused at request time when the grant
//! has nothing left, and payment dates.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::grants::{World, active, draft, grant_body, world};
use crate::on_both;

async fn contributions(app: &TestApp, grant: &str) -> Vec<(String, String)> {
    let id = grant.to_string();
    app.db(move |c| {
        use diesel::prelude::*;
        use idpc_hub::db::schema::grant_contributors as gc;
        gc::table
            .filter(gc::grant_id.eq(id))
            .order(gc::id.asc())
            .select((gc::user_id, gc::contribution))
            .load::<(String, String)>(c)
            .unwrap()
    })
    .await
}

async fn grant_status(app: &TestApp, w: &World, id: &str) -> Value {
    app.get(&format!("/api/v1/grants/{id}"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200)
        .body
}

on_both! {
    async fn an_officer_who_edited_a_grant_cannot_approve_it(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        // Officer A drafts 1,000.00; officer B raises it to 90,000.00, submits and tries to approve.
        let g = draft(&app, &w, "1000.00").await;
        let id = g["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/grants/{id}");
        app.patch(&path).bearer(&w.officer2.token).header("if-match", "\"1\"")
            .json(&json!({"amount": "90000.00"})).send().await.expect(200);
        app.post(&format!("{path}/submit")).bearer(&w.officer2.token).send().await.expect(200);
        let r = app.post(&format!("{path}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        assert!(r.body["detail"].as_str().unwrap().contains("you edited its amount"), "{}", r.text);
        // The creator may not approve either.
        let r = app.post(&format!("{path}/approve")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert!(r.body["detail"].as_str().unwrap().contains("you created it"), "{}", r.text);
        assert_eq!(grant_status(&app, &w, &id).await["status"], "submitted");
        let recorded = contributions(&app, &id).await;
        assert_eq!(recorded, vec![
            (w.officer.id.clone(), "created".to_string()),
            (w.officer2.id.clone(), "edited_amount".to_string()),
            (w.officer2.id.clone(), "submitted".to_string()),
        ]);
        // A third officer, who wrote nothing of it, approves.
        let third = app.user("grant_officer", None).await;
        let r = app.post(&format!("{path}/approve")).bearer(&third.token).send().await.expect(200);
        assert_eq!(r.body["approved_by"], third.id.as_str());
    }
}

on_both! {
    async fn a_submitter_cannot_approve_and_an_edit_after_submission_returns_the_grant_to_draft(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let g = draft(&app, &w, "1000.00").await;
        let id = g["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/grants/{id}");
        app.post(&format!("{path}/submit")).bearer(&w.officer2.token).send().await.expect(200);
        let r = app.post(&format!("{path}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert!(r.body["detail"].as_str().unwrap().contains("you submitted it"), "{}", r.text);
        // An edit of the title after submission sends it back to draft.
        let r = app.patch(&path).bearer(&w.admin.token).header("if-match", "\"2\"")
            .json(&json!({"title": "Community paralegals, phase 2"})).send().await.expect(200);
        assert_eq!(r.body["status"], "draft");
        let r = app.post(&format!("{path}/approve")).bearer(&w.admin.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        // The admin only changed the title: once resubmitted by the author, the admin may approve.
        app.post(&format!("{path}/submit")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("{path}/approve")).bearer(&w.admin.token).send().await.expect(200);
    }
}

on_both! {
    async fn an_absurd_exchange_rate_is_refused_naming_fx_rate_with_the_allowed_range(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        // GBP 5,000,000 on a USD 100,000 fund at 0.000001 would count as 5.00 USD.
        let mut body = grant_body(&w.fund, &w.grantee, "GBP", "5000000.00");
        body["fx_rate"] = json!("0.000001");
        body["fx_rate_date"] = json!("2026-01-15");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "fx_rate");
        assert_eq!(r.body["errors"][0]["code"], "outside_band");
        let message = r.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("1.143000") && message.contains("1.397000"), "{message}");
        // A currency finance has no rate for: refused too.
        let mut chf = grant_body(&w.fund, &w.grantee, "CHF", "1000.00");
        chf["fx_rate"] = json!("1.1");
        chf["fx_rate_date"] = json!("2026-01-15");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&chf).send().await.expect_problem(400);
        assert_eq!(r.body["errors"][0]["code"], "no_reference_rate");
        // Within the band: accepted.
        body["fx_rate"] = json!("1.30");
        body["amount"] = json!("1000.00");
        app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect(201);
        let total: i64 = app.db(|c| {
            use diesel::prelude::*;
            idpc_hub::db::schema::grants::table.count().get_result(c).unwrap()
        }).await;
        assert_eq!(total, 1);
    }
}

on_both! {
    async fn finance_keeps_the_rates_table_and_every_change_is_audited(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let put = |token: String, currency: &'static str, body: Value| {
            let app = &app;
            async move {
                app.req(actix_web::http::Method::PUT, &format!("/api/v1/fx-rates/{currency}"))
                    .bearer(&token).json(&body).send().await
            }
        };
        put(w.officer.token.clone(), "EUR", json!({"rate": "1.1", "as_of": "2026-02-01"})).await.expect_problem(403);
        let r = put(w.finance.token.clone(), "EUR", json!({"rate": "1.1234567", "as_of": "2026-02-01"})).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "rate");
        let r = put(w.finance.token.clone(), "USD", json!({"rate": "1", "as_of": "2026-02-01"})).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "currency");
        let r = put(w.admin.token.clone(), "EUR", json!({"rate": "1.1", "as_of": "2026-02-01"})).await.expect(200);
        assert_eq!(r.body["rate"], "1.100000");
        assert_eq!(r.body["base_currency"], "USD");
        let r = app.get("/api/v1/fx-rates/EUR").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["as_of"], "2026-02-01");
        let list = app.get("/api/v1/fx-rates").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(list.body.as_array().unwrap().len(), 3);
        app.get("/api/v1/fx-rates/CHF").bearer(&w.officer.token).send().await.expect_problem(404);
        app.get("/api/v1/fx-rates").bearer(&w.member.token).send().await.expect_problem(403);
        let audit = crate::grants::audit_actions(&app, "EUR").await;
        let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(actions, ["fx_rate.created", "fx_rate.updated"]);
        assert!(audit[1].2.as_deref().unwrap().contains("1.080000"));
        assert!(audit[1].3.as_deref().unwrap().contains("1.100000"));
    }
}

async fn tranche(app: &TestApp, w: &World, grant: &str, amount: &str) -> crate::common::http::Resp {
    app.post(&format!("/api/v1/grants/{grant}/disbursements"))
        .bearer(&w.officer.token)
        .json(&json!({"amount": amount, "planned_date": "2026-05-01"}))
        .send()
        .await
}

async fn active_in(app: &TestApp, w: &World, currency: &str, amount: &str, rate: &str) -> String {
    let mut body = grant_body(&w.fund, &w.grantee, currency, amount);
    body["fx_rate"] = json!(rate);
    body["fx_rate_date"] = json!("2026-01-15");
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
    app.post(&format!("/api/v1/grants/{id}/submit"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/grants/{id}/approve"))
        .bearer(&w.officer2.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/grants/{id}/activate"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    id
}

on_both! {
    async fn a_tranche_in_any_currency_above_the_base_threshold_needs_two_approvers(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        // GBP 45,000 is USD 57,150 at the table's 1.27: above USD 50,000.
        let grant = active_in(&app, &w, "GBP", "70000.00", "1.27").await;
        let r = tranche(&app, &w, &grant, "45000.00").await.expect(201);
        assert_eq!(r.body["approvals_required"], 2);
        let small = tranche(&app, &w, &grant, "20000.00").await.expect(201);
        assert_eq!(small.body["approvals_required"], 1);
        // Once the currency has no rate it cannot be converted: two approvers, never one.
        app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::fx_rates as f;
            diesel::delete(f::table.find("GBP")).execute(c).unwrap();
        }).await;
        let r = tranche(&app, &w, &grant, "1.00").await.expect(201);
        assert_eq!(r.body["approvals_required"], 2);
        let id = r.body["id"].as_str().unwrap().to_string();
        let stored: i32 = app.db(move |c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::disbursements as d;
            d::table.find(id).select(d::approvals_required).first(c).unwrap()
        }).await;
        assert_eq!(stored, 2);
    }
}

on_both! {
    async fn splitting_a_payment_into_small_tranches_does_not_avoid_the_second_approver(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "90000.00").await;
        // Three tranches of 20,000.00, each below the threshold alone.
        let mut ids = Vec::new();
        for _ in 0..3 {
            let r = tranche(&app, &w, &grant, "20000.00").await.expect(201);
            assert_eq!(r.body["approvals_required"], 1);
            ids.push(r.body["id"].as_str().unwrap().to_string());
        }
        for id in &ids[..2] {
            let r = app.post(&format!("/api/v1/disbursements/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
            assert_eq!(r.body["status"], "approved");
        }
        // The third would bring officer2's approvals on this grant to 60,000.00.
        let third = &ids[2];
        let r = app.post(&format!("/api/v1/disbursements/{third}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        assert_eq!(r.body["status"], "requested");
        assert_eq!(r.body["approvals_required"], 2);
        assert_eq!(r.body["approved_by"], json!([w.officer2.id]));
        let r = app.post(&format!("/api/v1/disbursements/{third}/approve")).bearer(&w.admin.token).send().await.expect(200);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["approved_by"], json!([w.officer2.id, w.admin.id]));
    }
}

on_both! {
    async fn a_tranche_above_what_is_left_uncommitted_is_refused_at_request_time(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let first = tranche(&app, &w, &grant, "600.00").await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{first}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        tranche(&app, &w, &grant, "300.00").await.expect(201);
        let r = tranche(&app, &w, &grant, "100.01").await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:grant-exhausted");
        assert!(r.body["detail"].as_str().unwrap().contains("100.00 USD left"), "{}", r.text);
        let count: i64 = app.db(|c| {
            use diesel::prelude::*;
            idpc_hub::db::schema::disbursements::table.count().get_result(c).unwrap()
        }).await;
        assert_eq!(count, 2);
        tranche(&app, &w, &grant, "100.00").await.expect(201);
    }
}

on_both! {
    async fn a_payment_date_more_than_a_day_ahead_is_refused_naming_paid_on(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let id = tranche(&app, &w, &grant, "100.00").await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let later = (chrono::Utc::now().date_naive() + chrono::Days::new(2)).to_string();
        let r = app.post(&format!("/api/v1/disbursements/{id}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-1", "paid_on": later})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "paid_on");
        let g = grant_status(&app, &w, &grant).await;
        assert_eq!(g["paid"], "0.00");
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
        app.post(&format!("/api/v1/disbursements/{id}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-1", "paid_on": tomorrow})).send().await.expect(200);
    }
}

on_both! {
    async fn every_money_post_honours_the_idempotency_key(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let fund = json!({"donor_organisation_id": w.donor, "title": "Second fund", "reference": "R-2",
            "currency": "USD", "amount": "10.00", "starts_on": "2026-01-01", "ends_on": "2026-12-31"});
        let a = app.post("/api/v1/funds").bearer(&w.officer.token).header("idempotency-key", "fund-1").json(&fund).send().await.expect(201);
        let b = app.post("/api/v1/funds").bearer(&w.officer.token).header("idempotency-key", "fund-1").json(&fund).send().await.expect(201);
        assert_eq!(a.body["id"], b.body["id"]);
        assert_eq!(b.header("idempotent-replayed").as_deref(), Some("true"));
        let funds: i64 = app.db(|c| {
            use diesel::prelude::*;
            idpc_hub::db::schema::funds::table.count().get_result(c).unwrap()
        }).await;
        assert_eq!(funds, 2);
        // Cancel and reject, of grants and tranches, replay their first answer.
        let g = draft(&app, &w, "100.00").await["id"].as_str().unwrap().to_string();
        let why = json!({"reason": "Duplicate"});
        for _ in 0..2 {
            let r = app.post(&format!("/api/v1/grants/{g}/cancel")).bearer(&w.officer.token).header("idempotency-key", "cancel-1").json(&why).send().await.expect(200);
            assert_eq!(r.body["status"], "cancelled");
        }
        let grant = active(&app, &w, "1000.00").await;
        let d = tranche(&app, &w, &grant, "10.00").await.expect(201).body["id"].as_str().unwrap().to_string();
        for _ in 0..2 {
            let r = app.post(&format!("/api/v1/disbursements/{d}/reject")).bearer(&w.officer2.token).header("idempotency-key", "reject-1").json(&why).send().await.expect(200);
            assert_eq!(r.body["status"], "rejected");
        }
        let d2 = tranche(&app, &w, &grant, "10.00").await.expect(201).body["id"].as_str().unwrap().to_string();
        for _ in 0..2 {
            let r = app.post(&format!("/api/v1/disbursements/{d2}/cancel")).bearer(&w.officer.token).header("idempotency-key", "cancel-2").send().await.expect(200);
            assert_eq!(r.body["status"], "cancelled");
        }
        let cancelled = crate::grants::audit_actions(&app, &d2).await.iter().filter(|a| a.0 == "disbursement.cancelled").count();
        assert_eq!(cancelled, 1);
    }
}

on_both! {
    async fn raising_a_fund_above_the_threshold_waits_for_a_second_finance_officer_or_admin(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let other_finance = app.user("finance_officer", None).await;
        let fund = format!("/api/v1/funds/{}", w.fund);
        let patch = |etag: &str, amount: &str, who: &str| {
            app.patch(&fund).bearer(who).header("if-match", etag).json(&json!({"amount": amount})).send()
        };
        // A raise within the threshold (100000.00 USD) applies at once.
        let r = patch("\"1\"", "150000.00", &w.officer.token).await.expect(200);
        assert_eq!(r.body["amount"], "150000.00");
        assert_eq!(r.body["pending_amount"], Value::Null);
        // A larger raise waits; the amount stays.
        let r = patch("\"2\"", "900000.00", &w.officer.token).await.expect(200);
        assert_eq!(r.body["amount"], "150000.00");
        assert_eq!(r.body["pending_amount"], "900000.00");
        assert_eq!(r.body["pending_by"], w.officer.id.as_str());
        let approve = format!("{fund}/amount-increase/approve");
        // A grant officer does not confirm; nor does whoever asked (an admin asks here).
        app.post(&approve).bearer(&w.officer2.token).send().await.expect_problem(403);
        let r = patch("\"3\"", "800000.00", &w.admin.token).await.expect(200);
        assert_eq!(r.body["pending_by"], w.admin.id.as_str(), "a new raise replaces the one that waited");
        let r = app.post(&approve).bearer(&w.admin.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        // A different finance officer confirms it.
        let r = app.post(&approve).bearer(&other_finance.token).send().await.expect(200);
        assert_eq!(r.body["amount"], "800000.00");
        assert_eq!(r.body["pending_amount"], Value::Null);
        app.post(&approve).bearer(&w.finance.token).send().await.expect_problem(409);
        // The fund's history shows who asked and who confirmed.
        let h = app.get(&format!("{fund}/history?limit=100")).bearer(&w.finance.token).send().await.expect(200).body;
        let last = h["data"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "fund.amount_increase_approved");
        assert_eq!(last["actor_id"], other_finance.id.as_str());
        assert!(last["changes"].as_array().unwrap().iter().any(|c| c["field"] == "amount" && c["before"] == "150000.00" && c["after"] == "800000.00"));
    }
}

on_both! {
    async fn members_of_a_suspended_organisation_read_grants_but_cannot_request_tranches_or_submit_reports(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let g = active(&app, &w, "1000.00").await;
        let report = app.post(&format!("/api/v1/grants/{g}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": "2026-12-31", "title": "Mid-term"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        for (action, word) in [("suspend", "suspended"), ("withdraw", "withdrawn")] {
            let grantee = w.grantee.clone();
            app.db(move |c| {
                use diesel::prelude::*;
                use idpc_hub::db::schema::organisations as o;
                diesel::update(o::table.find(grantee)).set(o::membership_status.eq(word)).execute(c).unwrap();
            }).await;
            let _ = action;
            app.get(&format!("/api/v1/grants/{g}")).bearer(&w.member.token).send().await.expect(200);
            let r = app.post(&format!("/api/v1/grants/{g}/disbursements")).bearer(&w.member.token)
                .json(&json!({"amount": "10.00", "planned_date": "2026-05-01"})).send().await.expect_problem(403);
            assert!(r.body["detail"].as_str().unwrap().contains(&format!("membership is {word}")), "{}", r.text);
            let r = app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token)
                .json(&json!({"summary": "Done", "document_url": "https://example.org/r.pdf"})).send().await.expect_problem(403);
            assert!(r.body["detail"].as_str().unwrap().contains(&format!("membership is {word}")), "{}", r.text);
        }
        // Staff still request tranches on the grant.
        app.post(&format!("/api/v1/grants/{g}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "10.00", "planned_date": "2026-05-01"})).send().await.expect(201);
    }
}

on_both! {
    async fn huge_amounts_and_absurd_rates_are_refused_naming_the_field_never_with_a_500(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let max = "92233720368547758.07"; // i64::MAX minor units of a 2-decimal currency
        let mut failures = Vec::new();
        let mut check = |what: &str, r: crate::common::http::Resp, field: &str| {
            let named = match r.status {
                400 => r.body["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["field"] == field)),
                409 => r.body["detail"].as_str().is_some_and(|d| d.contains(field)),
                _ => false,
            };
            if !named {
                failures.push(format!("{what}: expected 400/409 naming {field}, got {} {}", r.status, r.text));
            }
        };
        let fund = |amount: &str| json!({"donor_organisation_id": w.donor, "title": "Huge fund", "reference": "H-1",
            "currency": "USD", "amount": amount, "starts_on": "2026-01-01", "ends_on": "2026-12-31"});
        for amount in [max, "1e300", "9223372036854775807", "99999999999999999999999999.99"] {
            let r = app.post("/api/v1/funds").bearer(&w.officer.token).json(&fund(amount)).send().await;
            check(&format!("POST /funds amount {amount}"), r, "amount");
            let r = app.patch(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).header("if-match", "\"1\"").json(&json!({"amount": amount})).send().await;
            check(&format!("PATCH /funds amount {amount}"), r, "amount");
        }
        for rate in ["1e300", "9223372036854775807", "99999999999999999999.999999"] {
            let r = app.req(actix_web::http::Method::PUT, "/api/v1/fx-rates/EUR").bearer(&w.finance.token)
                .json(&json!({"rate": rate, "as_of": "2026-01-15"})).send().await;
            check(&format!("PUT /fx-rates rate {rate}"), r, "rate");
        }
        // Grants: the amount itself, an absurd rate, and a conversion past the money bound.
        for (currency, amount, rate, field) in [
            ("USD", max, None, "amount"),
            ("JPY", "9223372036854775807", Some("0.0067"), "amount"),
            ("EUR", "1000.00", Some("1e300"), "fx_rate"),
            ("EUR", "1000.00", Some("9223372036854775807"), "fx_rate"),
            ("EUR", "1000.00", Some("0.000001"), "fx_rate"),
            ("EUR", "9999999999999.99", Some("1.08"), "amount"),
        ] {
            let mut body = grant_body(&w.fund, &w.grantee, currency, amount);
            if let Some(r) = rate {
                body["fx_rate"] = json!(r);
                body["fx_rate_date"] = json!("2026-01-15");
            }
            let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await;
            check(&format!("POST /grants {currency} {amount} at {rate:?}"), r, field);
        }
        let d = draft(&app, &w, "10.00").await;
        let id = d["id"].as_str().unwrap().to_string();
        for (patch, field) in [
            (json!({"amount": max}), "amount"),
            (json!({"currency": "EUR", "fx_rate": "1e300", "fx_rate_date": "2026-01-15"}), "fx_rate"),
            (json!({"currency": "EUR", "amount": "9999999999999.99", "fx_rate": "1.08", "fx_rate_date": "2026-01-15"}), "amount"),
        ] {
            let r = app.patch(&format!("/api/v1/grants/{id}")).bearer(&w.officer.token).header("if-match", "\"1\"").json(&patch).send().await;
            check(&format!("PATCH /grants {patch}"), r, field);
        }
        let g = active(&app, &w, "100.00").await;
        for amount in [max, "1e300"] {
            let r = app.post(&format!("/api/v1/grants/{g}/disbursements")).bearer(&w.officer.token)
                .json(&json!({"amount": amount, "planned_date": "2026-05-01"})).send().await;
            check(&format!("POST tranche {amount}"), r, "amount");
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

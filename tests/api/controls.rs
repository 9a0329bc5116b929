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
        crate::grants::rebudget(&app, &w.officer2.token, &id, "90000.00").await;
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
            (w.officer2.id.clone(), "edited_budget".to_string()),
            (w.officer2.id.clone(), "submitted".to_string()),
        ]);
        // A third officer, who wrote nothing of it, approves.
        let third = app.user("grant_officer", None).await;
        let r = app.post(&format!("{path}/approve")).bearer(&third.token).send().await.expect(200);
        assert_eq!(r.body["approved_by"], third.id.as_str());
    }
}

on_both! {
    async fn a_submitter_cannot_approve_and_an_edit_after_submission_returns_the_grant_to_draft_and_bars_its_editor(backend) {
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
        // The title is what an approver reads: the admin who rewrote it wrote the grant, and
        // may not approve it once resubmitted; a person who wrote none of it may.
        app.post(&format!("{path}/submit")).bearer(&w.officer.token).send().await.expect(200);
        let r = app.post(&format!("{path}/approve")).bearer(&w.admin.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        assert!(r.body["detail"].as_str().unwrap().contains("you edited its title"), "{}", r.text);
        let third = app.user("grant_officer", None).await;
        app.post(&format!("{path}/approve")).bearer(&third.token).send().await.expect(200);
    }
}

on_both! {
    async fn whoever_edits_any_field_of_a_grant_after_it_was_created_may_not_approve_it(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let third = app.user("grant_officer", None).await;
        for (patch, why, recorded) in [
            (json!({"title": "Paralegals in Mombasa"}), "you edited its title", "edited_title"),
            (json!({"description": "Legal aid, and bail funds"}), "you edited its description", "edited_description"),
            (json!({"pillar": "building_evidence"}), "you edited its pillar", "edited_pillar"),
            (json!({"priority_areas": ["women_drug_policy"]}), "you edited its priority areas", "edited_priority_areas"),
            (json!({"planned_start": "2026-03-01"}), "you edited its dates", "edited_dates"),
            (json!({"planned_end": "2026-11-30"}), "you edited its dates", "edited_dates"),
            (json!({"amount": "1200.00"}), "you edited its amount", "edited_amount"),
        ] {
            let id = draft(&app, &w, "1000.00").await["id"].as_str().unwrap().to_string();
            let path = format!("/api/v1/grants/{id}");
            // officer2 edits one field only; the creator submits.
            app.patch(&path).bearer(&w.officer2.token).header("if-match", "\"1\"").json(&patch).send().await.expect(200);
            if let Some(amount) = patch["amount"].as_str() {
                crate::grants::rebudget(&app, &w.officer.token, &id, amount).await;
            }
            app.post(&format!("{path}/submit")).bearer(&w.officer.token).send().await.expect(200);
            let r = app.post(&format!("{path}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
            assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval", "{patch}");
            assert!(r.body["detail"].as_str().unwrap().contains(why), "{patch}: {}", r.text);
            assert_eq!(grant_status(&app, &w, &id).await["status"], "submitted");
            assert!(contributions(&app, &id).await.contains(&(w.officer2.id.clone(), recorded.to_string())), "{patch}");
            // Someone who wrote nothing of it may approve it (and the grant is released again).
            app.post(&format!("{path}/approve")).bearer(&third.token).send().await.expect(200);
            app.post(&format!("{path}/cancel")).bearer(&third.token).json(&json!({"reason": "Test over"})).send().await.expect(200);
        }
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
        let day = crate::grants::rate_date();
        put(w.officer.token.clone(), "EUR", json!({"rate": "1.1", "as_of": day})).await.expect_problem(403);
        let r = put(w.finance.token.clone(), "EUR", json!({"rate": "1.1234567", "as_of": day})).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "rate");
        let r = put(w.finance.token.clone(), "USD", json!({"rate": "1", "as_of": day})).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "currency");
        // Within the change band of the confirmed 1.08: applies at once.
        let r = put(w.admin.token.clone(), "EUR", json!({"rate": "1.1", "as_of": day})).await.expect(200);
        assert_eq!(r.body["rate"], "1.100000");
        assert_eq!(r.body["base_currency"], "USD");
        assert_eq!(r.body["pending"], Value::Null);
        let r = app.get("/api/v1/fx-rates/EUR").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["as_of"], day.as_str());
        let list = app.get("/api/v1/fx-rates").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(list.body.as_array().unwrap().len(), 3);
        app.get("/api/v1/fx-rates/CHF").bearer(&w.officer.token).send().await.expect_problem(404);
        app.get("/api/v1/fx-rates").bearer(&w.member.token).send().await.expect_problem(403);
        let audit = crate::grants::audit_actions(&app, "EUR").await;
        let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
        // The first rate was proposed by finance and confirmed by the admin (the world).
        assert_eq!(actions, ["fx_rate.proposed", "fx_rate.created", "fx_rate.updated"]);
        assert!(audit[2].2.as_deref().unwrap().contains("1.080000"));
        assert!(audit[2].3.as_deref().unwrap().contains("1.100000"));
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
            .json(&json!({"payment_reference": "P-1", "paid_on": later, "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "paid_on");
        let g = grant_status(&app, &w, &grant).await;
        assert_eq!(g["paid"], "0.00");
        let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1)).to_string();
        app.post(&format!("/api/v1/disbursements/{id}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-1", "paid_on": tomorrow, "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
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
            let r = app.post(&format!("/api/v1/disbursements/{d2}/cancel")).bearer(&w.officer.token).header("idempotency-key", "cancel-2").json(&json!({"reason": "Not needed"})).send().await.expect(200);
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
        let confirm = |who: &str, amount: &str| {
            app.post(&approve).bearer(who).json(&json!({"amount": amount})).send()
        };
        // A grant officer does not confirm; nor does whoever asked (an admin asks here).
        confirm(&w.officer2.token, "900000.00").await.expect_problem(403);
        let r = patch("\"3\"", "800000.00", &w.admin.token).await.expect(200);
        assert_eq!(r.body["pending_by"], w.admin.id.as_str(), "a new raise replaces the one that waited");
        let r = confirm(&w.admin.token, "800000.00").await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        // A different finance officer confirms it, naming the amount.
        let r = confirm(&other_finance.token, "800000.00").await.expect(200);
        assert_eq!(r.body["amount"], "800000.00");
        assert_eq!(r.body["pending_amount"], Value::Null);
        confirm(&w.finance.token, "800000.00").await.expect_problem(409);
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
                .json(&json!({"rate": rate, "as_of": crate::grants::rate_date()})).send().await;
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

/// (kind, recipient) of every email delivered since the last call, sorted.
async fn mails(app: &TestApp) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = app
        .emails()
        .await
        .iter()
        .map(|m| (m.header("X-IDPC-Kind").unwrap_or_default(), m.recipient()))
        .collect();
    out.sort();
    out
}

fn sent(kind: &str, to: &[&crate::common::TestUser]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = to
        .iter()
        .map(|u| (kind.to_string(), u.email.clone()))
        .collect();
    out.sort();
    out
}

async fn put_rate(
    app: &TestApp,
    token: &str,
    currency: &str,
    rate: &str,
    as_of: &str,
) -> crate::common::http::Resp {
    app.req(
        actix_web::http::Method::PUT,
        &format!("/api/v1/fx-rates/{currency}"),
    )
    .bearer(token)
    .json(&json!({"rate": rate, "as_of": as_of}))
    .send()
    .await
}

on_both! {
    async fn a_rate_outside_the_change_band_waits_for_a_second_person_and_a_grant_at_it_is_refused(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let day = crate::grants::rate_date();
        mails(&app).await;
        // GBP is 1.27; 0.000001 is far outside the 15 % change band: it waits, and says so.
        let r = put_rate(&app, &w.finance.token, "GBP", "0.000001", &day).await.expect(202);
        assert_eq!(r.body["rate"], "1.270000");
        assert_eq!(r.body["pending"]["rate"], "0.000001");
        assert_eq!(r.body["pending"]["proposed_by"], w.finance.id.as_str());
        // The confirmers (other finance officers and admins) hear of it; not its author.
        assert_eq!(mails(&app).await, sent("fx_rate_pending", &[&finance2, &w.admin]));
        let r = app.get("/api/v1/fx-rates/GBP").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["rate"], "1.270000");
        assert_eq!(r.body["pending"]["rate"], "0.000001");
        let list = app.get("/api/v1/fx-rates").bearer(&w.officer.token).send().await.expect(200).body;
        let gbp = list.as_array().unwrap().iter().find(|r| r["currency"] == "GBP").unwrap().clone();
        assert_eq!(gbp["rate"], "1.270000");
        assert_eq!(gbp["pending"]["rate"], "0.000001");
        // A GBP 5,000,000.00 grant priced at the unconfirmed rate is refused: it is not the reference.
        let mut body = grant_body(&w.fund, &w.grantee, "GBP", "5000000.00");
        body["fx_rate"] = json!("0.000001");
        body["fx_rate_date"] = json!(day);
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "fx_rate");
        assert_eq!(r.body["errors"][0]["code"], "outside_band");
        // Tranche limits still convert at 1.27: GBP 45,000.00 is above USD 50,000.00.
        let g = active_in(&app, &w, "GBP", "60000.00", "1.27").await;
        assert_eq!(tranche(&app, &w, &g, "45000.00").await.expect(201).body["approvals_required"], 2);
        mails(&app).await;
        // Its author may not confirm it; a confirmation naming another rate is refused.
        let confirm = |token: String, rate: &'static str| {
            let (app, day) = (&app, day.clone());
            async move {
                app.post("/api/v1/fx-rates/GBP/confirm").bearer(&token)
                    .json(&json!({"rate": rate, "as_of": day})).send().await
            }
        };
        let r = confirm(w.finance.token.clone(), "0.000001").await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        confirm(w.officer.token.clone(), "0.000001").await.expect_problem(403);
        // Another finance officer replaces it with 1.60 before anyone confirms: the admin who
        // read 0.000001 is refused, and confirms 1.60 once read.
        put_rate(&app, &finance2.token, "GBP", "1.60", &day).await.expect(202);
        mails(&app).await;
        let r = confirm(w.admin.token.clone(), "0.000001").await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:pending-changed");
        assert_eq!(app.get("/api/v1/fx-rates/GBP").bearer(&w.officer.token).send().await.expect(200).body["rate"], "1.270000");
        let r = confirm(w.admin.token.clone(), "1.60").await.expect(200);
        assert_eq!(r.body["rate"], "1.600000");
        assert_eq!(r.body["pending"], Value::Null);
        // Grant officers and finance hear that the rate changed (the admin acted).
        let mut to = vec![&w.officer, &w.officer2, &w.finance, &finance2];
        to.sort_by(|a, b| a.email.cmp(&b.email));
        assert_eq!(mails(&app).await, sent("fx_rate_changed", &to));
        // The history, newest first: who set each rate and who confirmed it.
        let h = app.get("/api/v1/fx-rates/GBP/history").bearer(&w.finance.token).send().await.expect(200).body;
        let rows: Vec<(String, String, Value)> = h["data"].as_array().unwrap().iter()
            .map(|e| (e["rate"].as_str().unwrap().to_string(), e["status"].as_str().unwrap().to_string(), e["confirmed_by"].clone()))
            .collect();
        assert_eq!(rows, vec![
            ("1.600000".to_string(), "applied".to_string(), json!(w.admin.id)),
            ("0.000001".to_string(), "superseded".to_string(), Value::Null),
            ("1.270000".to_string(), "applied".to_string(), json!(w.admin.id)),
        ]);
        assert_eq!(h["total"], 3);
        let page = app.get("/api/v1/fx-rates/GBP/history?limit=1").bearer(&w.officer.token).send().await.expect(200).body;
        let next = page["next_cursor"].as_str().unwrap().to_string();
        let page2 = app.get(&format!("/api/v1/fx-rates/GBP/history?limit=1&cursor={next}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(page2["data"][0]["rate"], "0.000001");
        app.get("/api/v1/fx-rates/GBP/history").bearer(&w.member.token).send().await.expect_problem(403);
        app.get("/api/v1/fx-rates/CHF/history").bearer(&w.finance.token).send().await.expect_problem(404);
    }
}

on_both! {
    async fn the_first_rate_of_a_currency_does_not_apply_until_a_second_person_confirms_it(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let day = crate::grants::rate_date();
        let r = put_rate(&app, &w.admin.token, "CHF", "1.12", &day).await.expect(202);
        assert_eq!(r.body["rate"], Value::Null);
        assert_eq!(r.body["pending"]["rate"], "1.120000");
        // Until confirmed there is no reference: a CHF grant is refused.
        let mut chf = grant_body(&w.fund, &w.grantee, "CHF", "1000.00");
        chf["fx_rate"] = json!("1.12");
        chf["fx_rate_date"] = json!(day);
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&chf).send().await.expect_problem(400);
        assert_eq!(r.body["errors"][0]["code"], "no_reference_rate");
        let stored: i64 = app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::fx_rates as f;
            f::table.filter(f::currency.eq("CHF")).count().get_result(c).unwrap()
        }).await;
        assert_eq!(stored, 0);
        let r = app.post("/api/v1/fx-rates/CHF/confirm").bearer(&w.finance.token)
            .json(&json!({"rate": "1.120000", "as_of": day})).send().await.expect(200);
        assert_eq!(r.body["rate"], "1.120000");
        app.post("/api/v1/grants").bearer(&w.officer.token).json(&chf).send().await.expect(201);
        // A move within the band now applies at once, by one person.
        let r = put_rate(&app, &w.finance.token, "CHF", "1.20", &day).await.expect(200);
        assert_eq!(r.body["rate"], "1.200000");
    }
}

on_both! {
    async fn a_rate_of_absurd_magnitude_or_dated_in_the_future_or_too_long_ago_is_refused_naming_the_field(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let day = crate::grants::rate_date();
        let r = put_rate(&app, &w.finance.token, "EUR", "20000", &day).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "rate");
        assert_eq!(r.body["errors"][0]["code"], "out_of_bounds");
        let ahead = (chrono::Utc::now().date_naive() + chrono::Days::new(5)).to_string();
        let old = (chrono::Utc::now().date_naive() - chrono::Days::new(400)).to_string();
        for (as_of, code) in [(ahead.as_str(), "in_future"), (old.as_str(), "too_old"), ("0000-01-01", "too_old")] {
            let r = put_rate(&app, &w.finance.token, "EUR", "1.08", as_of).await.expect_problem(400);
            assert_eq!(r.first_error_field(), "as_of", "{as_of}");
            assert_eq!(r.body["errors"][0]["code"], code, "{as_of}");
        }
        let h = app.get("/api/v1/fx-rates/EUR/history").bearer(&w.finance.token).send().await.expect(200).body;
        assert_eq!(h["total"], 1, "nothing refused is stored");
    }
}

async fn fund_of(app: &TestApp, w: &World, id: &str) -> Value {
    app.get(&format!("/api/v1/funds/{id}"))
        .bearer(&w.finance.token)
        .send()
        .await
        .expect(200)
        .body
}

on_both! {
    async fn ten_raises_of_a_fund_by_one_officer_within_the_window_wait_from_the_one_that_crosses_the_threshold(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        mails(&app).await;
        let path = format!("/api/v1/funds/{}", w.fund);
        let mut outcomes = Vec::new();
        for _ in 0..10 {
            let f = fund_of(&app, &w, &w.fund).await;
            let amount: f64 = f["amount"].as_str().unwrap().parse().unwrap();
            let r = app.patch(&path).bearer(&w.officer.token).header("if-match", &format!("\"{}\"", f["version"]))
                .json(&json!({"amount": format!("{:.2}", amount + 100000.0)})).send().await.expect(200);
            outcomes.push((r.body["amount"].as_str().unwrap().to_string(), r.body["pending_amount"].clone()));
        }
        // The first 100,000.00 is at the threshold and applies; the second would make
        // 200,000.00 raised alone within the window: it and every later one wait.
        assert_eq!(outcomes[0], ("200000.00".to_string(), Value::Null));
        for o in &outcomes[1..] {
            assert_eq!(o, &("200000.00".to_string(), json!("300000.00")));
        }
        // Each raise that waits is emailed to who may confirm it (finance, admins), not its asker.
        let mut to: Vec<(String, String)> = Vec::new();
        for _ in 0..9 {
            to.extend(sent("fund_increase_pending", &[&w.finance, &finance2, &w.admin]));
        }
        to.sort();
        assert_eq!(mails(&app).await, to);
        // It is in their queue.
        let q = app.get("/api/v1/funds?pending=true").bearer(&finance2.token).send().await.expect(200).body;
        assert_eq!(q["total"], 1);
        assert_eq!(q["data"][0]["id"], w.fund.as_str());
        assert_eq!(app.get("/api/v1/funds").bearer(&finance2.token).send().await.expect(200).body["total"], 1);
        let r = app.post(&format!("{path}/amount-increase/approve")).bearer(&finance2.token)
            .json(&json!({"amount": "300000.00"})).send().await.expect(200);
        assert_eq!(r.body["amount"], "300000.00");
        assert_eq!(app.get("/api/v1/funds?pending=true").bearer(&finance2.token).send().await.expect(200).body["total"], 0);
        // The confirmed raise was decided by two; the first one, applied alone, still counts:
        // another 100,000.00 by the officer within the window waits too.
        let f = fund_of(&app, &w, &w.fund).await;
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", &format!("\"{}\"", f["version"]))
            .json(&json!({"amount": "400000.00"})).send().await.expect(200);
        assert_eq!(r.body["pending_amount"], "400000.00");
        assert_eq!(r.body["amount"], "300000.00");
    }
}

on_both! {
    async fn a_fund_created_above_the_threshold_has_no_amount_and_takes_no_grant_until_a_second_person_confirms_it(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        mails(&app).await;
        let r = app.post("/api/v1/funds").bearer(&w.officer.token).json(&json!({
            "donor_organisation_id": w.donor, "title": "Huge pledge", "reference": "HP-1",
            "currency": "USD", "amount": "9999999999999.99", "starts_on": "2026-01-01", "ends_on": "2027-12-31",
        })).send().await.expect(201);
        let fund = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(r.body["amount"], "0.00");
        assert_eq!(r.body["remaining"], "0.00");
        assert_eq!(r.body["pending_amount"], "9999999999999.99");
        assert_eq!(r.body["opening_pending"], true);
        assert_eq!(mails(&app).await, sent("fund_increase_pending", &[&w.finance, &w.admin]));
        // A grant on it cannot be approved.
        let id = app.post("/api/v1/grants").bearer(&w.officer.token).json(&grant_body(&fund, &w.grantee, "USD", "1000.00"))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect(200);
        let r = app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:fund-exhausted");
        // Its creator cannot confirm it (a grant officer may not at all); finance does.
        let approve = format!("/api/v1/funds/{fund}/amount-increase/approve");
        app.post(&approve).bearer(&w.officer.token).json(&json!({"amount": "9999999999999.99"})).send().await.expect_problem(403);
        let r = app.post(&approve).bearer(&w.finance.token).json(&json!({"amount": "9999999999999.99"})).send().await.expect(200);
        assert_eq!(r.body["amount"], "9999999999999.99");
        assert_eq!(r.body["opening_pending"], false);
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        // A fund within the threshold applies at once.
        let r = app.post("/api/v1/funds").bearer(&w.officer.token).json(&json!({
            "donor_organisation_id": w.donor, "title": "Small pledge", "reference": "SP-1",
            "currency": "USD", "amount": "100000.00", "starts_on": "2026-01-01", "ends_on": "2027-12-31",
        })).send().await.expect(201);
        assert_eq!(r.body["amount"], "100000.00");
        assert_eq!(r.body["pending_amount"], Value::Null);
    }
}

on_both! {
    async fn confirming_a_raise_that_changed_after_it_was_read_is_refused(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let path = format!("/api/v1/funds/{}", w.fund);
        app.patch(&path).bearer(&w.officer.token).header("if-match", "\"1\"")
            .json(&json!({"amount": "1100000.00"})).send().await.expect(200);
        // Finance reads 1,100,000.00; the officer then asks for 99,100,000.00.
        let read = fund_of(&app, &w, &w.fund).await;
        assert_eq!(read["pending_amount"], "1100000.00");
        app.patch(&path).bearer(&w.officer.token).header("if-match", "\"2\"")
            .json(&json!({"amount": "99100000.00"})).send().await.expect(200);
        let r = app.post(&format!("{path}/amount-increase/approve")).bearer(&w.finance.token)
            .json(&json!({"amount": read["pending_amount"]})).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:pending-changed");
        let now = fund_of(&app, &w, &w.fund).await;
        assert_eq!(now["amount"], "100000.00");
        assert_eq!(now["pending_amount"], "99100000.00");
        // An amount that is not an amount is a 400 naming it.
        let r = app.post(&format!("{path}/amount-increase/approve")).bearer(&w.finance.token)
            .json(&json!({"amount": "lots"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "amount");
    }
}

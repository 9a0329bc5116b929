//! Controls that read other rows to decide a write hold when the requests come at once, to
//! two instances on one database: the split window of one officer's tranche approvals, the
//! window of a fund's raises, and the fund ceiling (issue 21). Each command locks the row its
//! rule is about (grant, fund) before it reads, or states the rule in its UPDATE.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::grants::{active, submitted, world, world_with_fund};
use crate::on_both;

on_both! {
    async fn six_concurrent_approvals_by_one_officer_of_tranches_that_split_a_payment_approve_one_and_leave_five_for_a_second_approver(backend) {
        let one = TestApp::start(backend).await;
        let two = one.second_instance().await;
        let w = world_with_fund(&one, "USD", "400000.00").await;
        let grant = active(&one, &w, "300000.00").await;
        // Six tranches of 50,000.00: each alone is at the threshold and needs one approval.
        let mut ids = Vec::new();
        for _ in 0..6 {
            let r = one.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.officer.token)
                .json(&json!({"amount": "50000.00", "planned_date": "2026-05-01"})).send().await.expect(201);
            assert_eq!(r.body["approvals_required"], 1);
            ids.push(r.body["id"].as_str().unwrap().to_string());
        }
        // officer2 approves all six at the same moment, half through each instance.
        let reqs = ids.iter().enumerate().map(|(i, id)| {
            let app = if i % 2 == 0 { &one } else { &two };
            app.post(&format!("/api/v1/disbursements/{id}/approve")).bearer(&w.officer2.token).send()
        });
        let answers = join_all(reqs).await;
        let statuses: Vec<(u16, Value)> = answers.iter().map(|r| (r.status, r.body["status"].clone())).collect();
        let approved: Vec<_> = answers.iter().filter(|r| r.status == 200 && r.body["status"] == "approved").collect();
        let waiting: Vec<_> = answers.iter().filter(|r| r.status == 200 && r.body["status"] == "requested").collect();
        assert_eq!((approved.len(), waiting.len()), (1, 5), "{statuses:?}");
        assert_eq!(approved[0].body["approved_by"], json!([w.officer2.id]));
        for r in &waiting {
            assert_eq!(r.body["approvals_required"], 2);
            assert_eq!(r.body["approved_by"], json!([w.officer2.id]));
        }
        // The database agrees: one approved tranche, 50,000.00 committed.
        let rows: Vec<(String, i32, Option<String>)> = one.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::disbursements as d;
            d::table.select((d::status, d::approvals_required, d::approver_2)).load(c).unwrap()
        }).await;
        assert_eq!(rows.iter().filter(|r| r.0 == "approved").count(), 1);
        assert_eq!(rows.iter().filter(|r| r.0 == "requested" && r.1 == 2 && r.2.is_none()).count(), 5);
        let g = one.get(&format!("/api/v1/grants/{grant}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(g["committed"], "50000.00");
        // A second person completes one of the others.
        let second = waiting[0].body["id"].as_str().unwrap().to_string();
        let r = two.post(&format!("/api/v1/disbursements/{second}/approve")).bearer(&w.admin.token).send().await.expect(200);
        assert_eq!(r.body["status"], "approved");
    }
}

on_both! {
    async fn concurrent_raises_of_a_fund_by_one_officer_apply_at_most_one_and_the_window_counts_it(backend) {
        let one = TestApp::start(backend).await;
        let two = one.second_instance().await;
        let w = world(&one).await;
        let path = format!("/api/v1/funds/{}", w.fund);
        // Six raises of 60,000.00 at once, each alone within the threshold, three per instance.
        let reqs = (0..6).map(|i| {
            let app = if i % 2 == 0 { &one } else { &two };
            app.patch(&path).bearer(&w.officer.token).header("if-match", "\"1\"")
                .json(&json!({"amount": "160000.00"})).send()
        });
        let answers = join_all(reqs).await;
        let statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 5, "{statuses:?}");
        let f = one.get(&path).bearer(&w.finance.token).send().await.expect(200).body;
        assert_eq!(f["amount"], "160000.00");
        // Six more at once, each with the version it read: the first to run applies nothing
        // alone (60,000.00 + 60,000.00 within the window is above 100,000.00), so the one
        // that wins waits for a second person.
        let version = f["version"].as_i64().unwrap();
        let reqs = (0..6).map(|i| {
            let app = if i % 2 == 0 { &one } else { &two };
            app.patch(&path).bearer(&w.officer.token).header("if-match", &format!("\"{version}\""))
                .json(&json!({"amount": "220000.00"})).send()
        });
        let answers = join_all(reqs).await;
        let ok: Vec<_> = answers.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].body["amount"], "160000.00");
        assert_eq!(ok[0].body["pending_amount"], "220000.00");
        let raises: i64 = one.db(|c| {
            use diesel::prelude::*;
            idpc_hub::db::schema::fund_raises::table.count().get_result(c).unwrap()
        }).await;
        assert_eq!(raises, 1);
    }
}

on_both! {
    async fn concurrent_approvals_of_grants_that_together_exceed_the_fund_approve_only_what_it_holds(backend) {
        let one = TestApp::start(backend).await;
        let two = one.second_instance().await;
        let w = world(&one).await;
        // Six grants of 30,000.00 on a fund of 100,000.00: three fit.
        let mut ids = Vec::new();
        for _ in 0..6 {
            ids.push(submitted(&one, &w, "30000.00").await);
        }
        let reqs = ids.iter().enumerate().map(|(i, id)| {
            let app = if i % 2 == 0 { &one } else { &two };
            app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send()
        });
        let answers = join_all(reqs).await;
        let ok = answers.iter().filter(|r| r.status == 200).count();
        let exhausted = answers.iter().filter(|r| r.status == 409 && r.body["type"] == "urn:idpc-hub:problem:fund-exhausted").count();
        assert_eq!((ok, exhausted), (3, 3), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
        let f = one.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.finance.token).send().await.expect(200).body;
        assert_eq!(f["awarded"], "90000.00");
        let approved: i64 = one.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::grants as g;
            g::table.filter(g::status.eq("approved")).count().get_result(c).unwrap()
        }).await;
        assert_eq!(approved, 3);
    }
}

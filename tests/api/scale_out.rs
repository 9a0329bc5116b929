//! Two instances of the service behind one address, on one database: every money invariant
//! and every rate limit holds across both, because neither lives in a process.

use futures_util::future::join_all;
use serde_json::json;

use crate::common::TestApp;
use crate::grants::{active, world};
use crate::on_both;

on_both! {
    async fn two_instances_on_one_database_keep_every_money_invariant_under_races(backend) {
        let one = TestApp::start(backend).await;
        let two = one.second_instance().await;
        let w = world(&one).await;
        // 1000.00 covers exactly 6 tranches of 150.00, whichever instance answers.
        let grant = active(&one, &w, "1000.00").await;
        let runs = (0..24).map(|i| {
            let (w, grant) = (&w, grant.clone());
            let (ask, decide) = if i % 2 == 0 { (&one, &two) } else { (&two, &one) };
            async move {
                let r = ask
                    .post(&format!("/api/v1/grants/{grant}/disbursements"))
                    .bearer(&w.officer.token)
                    .json(&json!({"amount": "150.00", "planned_date": "2026-05-01", "note": "Race"}))
                    .send()
                    .await;
                if r.status != 201 {
                    return r;
                }
                let id = r.body["id"].as_str().unwrap().to_string();
                decide.post(&format!("/api/v1/disbursements/{id}/approve")).bearer(&w.officer2.token).send().await
            }
        });
        let answers = join_all(runs).await;
        let approved: Vec<String> = answers
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.body["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(approved.len(), 6, "{:?}", answers.iter().map(|r| (r.status, r.body["type"].clone())).collect::<Vec<_>>());
        for r in answers.iter().filter(|r| r.status != 200) {
            assert_eq!(r.body["type"], "urn:idpc-hub:problem:grant-exhausted", "{}", r.text);
        }
        // Each approved tranche paid twice over, at once, through both instances: paid once.
        let payee = one.payee(&w.grantee, "USD").await;
        let pays = approved.iter().chain(approved.iter()).enumerate().map(|(i, id)| {
            let app = if i % 2 == 0 { &one } else { &two };
            app.post(&format!("/api/v1/disbursements/{id}/pay"))
                .bearer(&w.finance.token)
                .json(&json!({"payment_reference": format!("PAY-{id}"), "paid_on": "2026-05-02", "bank_account_id": payee}))
                .send()
        });
        let answers = join_all(pays).await;
        assert_eq!(answers.iter().filter(|r| r.status == 200).count(), 6);
        assert_eq!(answers.iter().filter(|r| r.status == 409).count(), 6);
        for app in [&one, &two] {
            let g = app.get(&format!("/api/v1/grants/{grant}")).bearer(&w.finance.token).send().await.expect(200);
            assert_eq!(g.body["committed"], "900.00");
            assert_eq!(g.body["paid"], "900.00");
            let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.finance.token).send().await.expect(200);
            assert_eq!(f.body["disbursed"], "900.00");
        }
    }
}

on_both! {
    async fn two_instances_enforce_one_login_rate_limit_per_address(backend) {
        let one = TestApp::start_with(backend, &[("AUTH_RATE_LIMIT_PER_IP", "6")]).await;
        let two = one.second_instance().await;
        // Wrong passwords for unknown addresses, alternating between the instances.
        let mut statuses = Vec::new();
        for i in 0..10 {
            let app = if i % 2 == 0 { &one } else { &two };
            let r = app
                .post("/api/v1/auth/login")
                .json(&json!({"email": format!("nobody{i}@example.org"), "password": "wrong password here"}))
                .send()
                .await;
            statuses.push(r.status);
        }
        // One limit of 6 for the address across both: the 7th attempt on is refused, whichever
        // instance takes it. Limits held per process would have allowed 6 on each.
        assert_eq!(&statuses[..6], &[401; 6], "{statuses:?}");
        assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    }
}

on_both! {
    async fn two_instances_enforce_one_membership_application_limit_per_address(backend) {
        let one = TestApp::start_with(backend, &[("APPLICATION_RATE_LIMIT_PER_IP", "3")]).await;
        let two = one.second_instance().await;
        let mut statuses = Vec::new();
        for i in 0..6 {
            let app = if i % 2 == 0 { &one } else { &two };
            let r = app
                .post("/api/v1/membership-applications")
                .json(&json!({
                    "organisation": {"name": format!("Applicant collective {i}"), "country": "BR", "region": "latin_america_caribbean"},
                    "contact": {"name": "Carla Contact", "email": format!("applicant-{i}@scale.example")},
                    "motivation": "We want to join the network's advocacy for drug policy reform.",
                }))
                .send()
                .await;
            statuses.push(r.status);
        }
        // One limit of 3 for the address across both instances, counted in the database.
        assert_eq!(&statuses[..3], &[201; 3], "{statuses:?}");
        assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    }
}

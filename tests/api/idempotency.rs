//! Idempotency-Key on money-moving POSTs: one effect per key, replays, 422 on another body,
//! a duplicate that waits for the first (409 past its bound), and 24-hour expiry.

use futures_util::future::join_all;
use serde_json::json;

use crate::common::TestApp;
use crate::grants::{active, grant_body, submitted, world};
use crate::on_both;

on_both! {
    async fn one_key_sent_ten_times_at_once_creates_one_disbursement(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let body = json!({"amount": "100.00", "planned_date": "2026-05-01", "note": "Once"});
        let reqs = (0..10).map(|_| {
            app.post(&format!("/api/v1/grants/{grant}/disbursements"))
                .bearer(&w.member.token)
                .header("idempotency-key", "tranche-2026-05")
                .json(&body)
                .send()
        });
        let answers = join_all(reqs).await;
        let created: Vec<&str> = answers.iter().filter(|r| r.status == 201).map(|r| r.body["id"].as_str().unwrap()).collect();
        assert!(!created.is_empty());
        assert!(created.iter().all(|id| *id == created[0]), "every 201 is the same tranche");
        for r in answers.iter().filter(|r| r.status != 201) {
            assert_eq!(r.status, 409, "{}", r.text);
            assert_eq!(r.body["type"], "urn:idpc-hub:problem:idempotency-in-flight");
        }
        let detail = app.get(&format!("/api/v1/grants/{grant}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(detail.body["disbursements"].as_array().unwrap().len(), 1);
        // Later retries replay the first answer.
        let r = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .header("idempotency-key", "tranche-2026-05").json(&body).send().await.expect(201);
        assert_eq!(r.body["id"], created[0]);
    }
}

on_both! {
    async fn a_replay_returns_the_first_answer_and_another_body_gets_422(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let body = grant_body(&w.fund, &w.grantee, "USD", "100.00");
        let first = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "k-1").json(&body).send().await.expect(201);
        let again = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "k-1").json(&body).send().await.expect(201);
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        let mut other = body.clone();
        other["amount"] = json!("200.00");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "k-1").json(&other).send().await.expect_problem(422);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:idempotency-key-reused");
        // Keys belong to their caller: another officer's same key is a new request.
        app.post("/api/v1/grants").bearer(&w.officer2.token).header("idempotency-key", "k-1").json(&other).send().await.expect(201);
        let list = app.get("/api/v1/grants").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(list.body["total"], 2);
        // Approve, pay and reverse accept keys too.
        let g = submitted(&app, &w, "50.00").await;
        let a1 = app.post(&format!("/api/v1/grants/{g}/approve")).bearer(&w.officer2.token).header("idempotency-key", "approve-1").send().await.expect(200);
        let a2 = app.post(&format!("/api/v1/grants/{g}/approve")).bearer(&w.officer2.token).header("idempotency-key", "approve-1").send().await.expect(200);
        assert_eq!(a1.body, a2.body);
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "50.00", "counted once");
        let grant = active(&app, &w, "300.00").await;
        let d = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "100.00", "planned_date": "2026-05-01"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).header("idempotency-key", "ap").send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).header("idempotency-key", "ap").send().await.expect(200);
        let pay = json!({"payment_reference": "P-1", "paid_on": "2026-05-02", "bank_account_id": app.payee(&w.grantee, "USD").await});
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token).header("idempotency-key", "pay").json(&pay).send().await.expect(200);
        let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token).header("idempotency-key", "pay").json(&pay).send().await.expect(200);
        assert_eq!(r.body["status"], "paid");
        let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token).header("idempotency-key", "pay")
            .json(&json!({"payment_reference": "P-2", "paid_on": "2026-05-02", "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect_problem(422);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:idempotency-key-reused");
        app.post(&format!("/api/v1/disbursements/{d}/reverse")).bearer(&w.finance.token).header("idempotency-key", "rev").json(&json!({"reason": "Returned"})).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{d}/reverse")).bearer(&w.finance.token).header("idempotency-key", "rev").json(&json!({"reason": "Returned"})).send().await.expect(200);
        let g = app.get(&format!("/api/v1/grants/{grant}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!((g.body["paid"].as_str(), g.body["committed"].as_str()), (Some("0.00"), Some("0.00")));
        // A bad key is named.
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "has space").json(&body).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "Idempotency-Key");
    }
}

on_both! {
    async fn a_failed_command_releases_its_key_and_keys_expire_after_a_day(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let mut body = grant_body(&w.fund, &w.grantee, "USD", "100.00");
        body["pillar"] = json!("nonsense");
        app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "k").json(&body).send().await.expect_problem(400);
        body["pillar"] = json!("building_evidence");
        let first = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "k").json(&body).send().await.expect(201);
        // A day later the key is forgotten: the same key starts a new request.
        app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::idempotency_keys as k;
            diesel::update(k::table).set(k::created_at.eq(chrono::Utc::now().naive_utc() - chrono::Duration::hours(25))).execute(c).unwrap();
        }).await;
        let second = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "k").json(&body).send().await.expect(201);
        assert_ne!(second.body["id"], first.body["id"]);
        assert!(second.header("idempotent-replayed").is_none());
    }
}

/// Holds the grant row `grant` (PostgreSQL) or the whole database (SQLite, whose writers are
/// serialised) from a separate connection until `release` fires, so a command on it waits.
fn hold_grant(
    url: String,
    grant: String,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    use diesel::connection::SimpleConnection;
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held_tx, held) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let url = idpc_hub::db::DatabaseUrl::parse(&url).unwrap();
        let mut c = idpc_hub::db::establish(&url).unwrap();
        match url {
            idpc_hub::db::DatabaseUrl::Postgres(_) => c
                .batch_execute(&format!(
                    "BEGIN; SELECT id FROM grants WHERE id = '{grant}' FOR UPDATE;"
                ))
                .unwrap(),
            idpc_hub::db::DatabaseUrl::Sqlite(_) => c.batch_execute("BEGIN IMMEDIATE;").unwrap(),
        }
        held_tx.send(()).unwrap();
        let _ = released.recv();
        c.batch_execute("ROLLBACK;").unwrap();
    });
    held.recv().unwrap();
    (release, thread)
}

on_both! {
    async fn a_duplicate_on_another_instance_while_the_command_is_held_waits_and_never_runs_it_twice(backend) {
        let app = TestApp::start(backend).await;
        let other = app.second_instance().await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let path = format!("/api/v1/grants/{grant}/disbursements");
        let body = json!({"amount": "100.00", "planned_date": "2026-05-01", "note": "Held"});
        let (release, holder) = hold_grant(app.db.url.clone(), grant.clone());
        let started = std::time::Instant::now();
        let hold = std::time::Duration::from_secs(3);
        let first = app.post(&path).bearer(&w.member.token).header("idempotency-key", "held-1").json(&body).send();
        let retry = async {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
            other.post(&path).bearer(&w.member.token).header("idempotency-key", "held-1").json(&body).send().await
        };
        let releaser = async {
            actix_web::rt::time::sleep(hold).await;
            release.send(()).unwrap();
        };
        let (a, b, ()) = futures_util::join!(first, retry, releaser);
        holder.join().unwrap();
        assert!(started.elapsed() >= hold, "both waited for the held row");
        let ran: Vec<_> = [&a, &b].into_iter().filter(|r| r.status == 201 && r.header("idempotent-replayed").is_none()).collect();
        assert_eq!(ran.len(), 1, "exactly one ran: {} {} / {} {}", a.status, a.text, b.status, b.text);
        // The duplicate waited for the first instead of being turned away, then replayed it.
        let replayed: Vec<_> = [&a, &b].into_iter().filter(|r| r.header("idempotent-replayed").as_deref() == Some("true")).collect();
        assert_eq!(replayed.len(), 1, "{} {} / {} {}", a.status, a.text, b.status, b.text);
        assert_eq!(replayed[0].status, 201);
        assert_eq!(replayed[0].body, ran[0].body, "the duplicate replays the first answer");
        let count: i64 = app.db(move |c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::disbursements as d;
            d::table.filter(d::grant_id.eq(grant)).count().get_result(c).unwrap()
        }).await;
        assert_eq!(count, 1, "one tranche in the database");
    }
}

on_both! {
    async fn a_failed_command_leaves_no_key_behind(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "100.00").await;
        let path = format!("/api/v1/grants/{grant}/disbursements");
        // More than the grant: refused inside the command, after its key was claimed; the key
        // rolls back with it.
        let r = app.post(&path).bearer(&w.member.token).header("idempotency-key", "too-much")
            .json(&json!({"amount": "500.00", "planned_date": "2026-05-01"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "amount");
        let keys: i64 = app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::idempotency_keys as k;
            k::table.filter(k::idem_key.eq("too-much")).count().get_result(c).unwrap()
        }).await;
        assert_eq!(keys, 0);
    }
}

/// PostgreSQL only: SQLite's writers queue on one database lock, so there the held command
/// itself would time out behind the test's lock rather than hold its key.
#[actix_web::test]
#[cfg_attr(
    not(idpc_pg_tests),
    ignore = "TEST_DATABASE_URL was not set: not run on PostgreSQL"
)]
async fn a_duplicate_that_waits_longer_than_its_bound_gets_409_and_the_first_still_runs_once() {
    let app = TestApp::start(crate::common::Backend::Postgres).await;
    let other = app.second_instance().await;
    let w = world(&app).await;
    let grant = active(&app, &w, "1000.00").await;
    let path = format!("/api/v1/grants/{grant}/disbursements");
    let body = json!({"amount": "100.00", "planned_date": "2026-05-01", "note": "Held long"});
    let (release, holder) = hold_grant(app.db.url.clone(), grant.clone());
    let hold = idpc_hub::idempotency::WAIT + std::time::Duration::from_secs(2);
    let first = app
        .post(&path)
        .bearer(&w.member.token)
        .header("idempotency-key", "held-2")
        .json(&body)
        .send();
    let retry = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
        other
            .post(&path)
            .bearer(&w.member.token)
            .header("idempotency-key", "held-2")
            .json(&body)
            .send()
            .await
    };
    let releaser = async {
        actix_web::rt::time::sleep(hold).await;
        release.send(()).unwrap();
    };
    let (a, b, ()) = futures_util::join!(first, retry, releaser);
    holder.join().unwrap();
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(b.status, 409, "{}", b.text);
    assert_eq!(b.body["type"], "urn:idpc-hub:problem:idempotency-in-flight");
    // Afterwards the key replays the first answer.
    let again = other
        .post(&path)
        .bearer(&w.member.token)
        .header("idempotency-key", "held-2")
        .json(&body)
        .send()
        .await
        .expect(201);
    assert_eq!(again.body, a.body);
    let count: i64 = app
        .db(move |c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::disbursements as d;
            d::table
                .filter(d::grant_id.eq(grant))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(count, 1);
}

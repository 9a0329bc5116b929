//! Where `Idempotency-Key` is honoured and where it is refused, and how a key whose holder
//! died becomes usable again after its lease.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use idpc_hub::db::schema::idempotency_keys;
use serde_json::json;

use crate::common::TestApp;
use crate::grants::{grant_body, world};
use crate::on_both;

on_both! {
    async fn a_key_sent_to_an_operation_that_does_not_honour_it_is_refused_and_changes_nothing(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let r = app
            .post("/api/v1/organisations")
            .bearer(&admin.token)
            .header("idempotency-key", "org-1")
            .json(&json!({"name": "Keyed Org", "kind": "member", "country": "KE", "region": "africa"}))
            .send()
            .await
            .expect_problem(400);
        assert_eq!(r.first_error_field(), "Idempotency-Key");
        assert_eq!(r.body["errors"][0]["code"], "not_supported");
        let list = app.get("/api/v1/organisations?q=Keyed").bearer(&admin.token).send().await.expect(200);
        assert_eq!(list.body["total"], 0, "nothing was created");
        // Unknown paths stay 404, whatever the headers.
        app.post("/api/v1/nowhere").header("idempotency-key", "x").send().await.expect_problem(404);
    }
}

on_both! {
    async fn a_key_whose_holder_died_is_retried_after_its_lease(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let body = grant_body(&w.fund, &w.grantee, "USD", "100.00");
        let officer = w.officer.id.clone();
        // A request claimed the key and its process died before recording an outcome.
        let claim = move |age: Duration| {
            let officer = officer.clone();
            move |c: &mut idpc_hub::db::DbConn| {
                diesel::delete(idempotency_keys::table.filter(idempotency_keys::idem_key.eq("crashed-1")))
                    .execute(c)
                    .unwrap();
                diesel::insert_into(idempotency_keys::table)
                    .values((
                        idempotency_keys::caller_id.eq(format!("user:{officer}")),
                        idempotency_keys::idem_key.eq("crashed-1"),
                        idempotency_keys::method_path.eq("POST /api/v1/grants"),
                        idempotency_keys::request_hash.eq("unknown"),
                        idempotency_keys::completed.eq(false),
                        idempotency_keys::created_at.eq(Utc::now().naive_utc() - age),
                    ))
                    .execute(c)
                    .unwrap();
            }
        };
        // Within the lease the key is still held: 409, nothing created.
        app.db(claim(Duration::seconds(1))).await;
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "crashed-1").json(&body).send().await;
        assert!(r.status == 409 || r.status == 422, "{} {}", r.status, r.text);
        // After the lease a retry with the same key and body runs, and later ones replay it.
        // The crashed request had the retry's body: take its hash from a probe with that body.
        app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "probe-1").json(&body).send().await.expect(201);
        let probe_hash: String = app
            .db(|c| {
                idempotency_keys::table
                    .filter(idempotency_keys::idem_key.eq("probe-1"))
                    .select(idempotency_keys::request_hash)
                    .first(c)
                    .unwrap()
            })
            .await;
        app.db(claim(Duration::minutes(2))).await;
        app.db(move |c| {
            diesel::update(idempotency_keys::table)
                .set(idempotency_keys::request_hash.eq(probe_hash))
                .execute(c)
                .unwrap();
        })
        .await;
        let first = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "crashed-1").json(&body).send().await.expect(201);
        let again = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "crashed-1").json(&body).send().await.expect(201);
        assert_eq!(again.body["id"], first.body["id"]);
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        let list = app.get("/api/v1/grants").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(list.body["total"], 2, "the probe and the retried grant, once each");
    }
}

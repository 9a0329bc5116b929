//! Where `Idempotency-Key` is honoured and where it is refused, and why a key without a
//! recorded answer is never run again.

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
    async fn a_key_without_a_recorded_answer_is_never_run_again_however_old(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let body = grant_body(&w.fund, &w.grantee, "USD", "100.00");
        // Take the hash of this body from a probe, then plant a row for the same request as a
        // process would have left it before answers were stored with the command's effect.
        app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "probe-1").json(&body).send().await.expect(201);
        let officer = w.officer.id.clone();
        app.db(move |c| {
            let hash: String = idempotency_keys::table
                .filter(idempotency_keys::idem_key.eq("probe-1"))
                .select(idempotency_keys::request_hash)
                .first(c)
                .unwrap();
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::caller_id.eq(format!("user:{officer}")),
                    idempotency_keys::idem_key.eq("crashed-1"),
                    idempotency_keys::method_path.eq("POST /api/v1/grants"),
                    idempotency_keys::request_hash.eq(hash),
                    idempotency_keys::completed.eq(false),
                    idempotency_keys::created_at.eq(Utc::now().naive_utc() - Duration::hours(2)),
                ))
                .execute(c)
                .unwrap();
        })
        .await;
        // Its command may have committed: no lease hands it over, it stays 409 until it expires.
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).header("idempotency-key", "crashed-1").json(&body).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:idempotency-in-flight");
        let list = app.get("/api/v1/grants").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(list.body["total"], 1, "only the probe's grant");
    }
}

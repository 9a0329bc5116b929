//! The one queue (`idpc_hub::queue`) under both kinds it delivers today, email and webhooks:
//! a job one worker claimed is no other worker's, an expired lease is taken up again, and
//! each failed attempt waits longer than the one before. (Dead letter, the admin view and
//! re-queueing are shown per kind in `outbox.rs` and `webhooks.rs`.)

use std::collections::HashSet;

use chrono::Duration;
use diesel::prelude::*;
use idpc_hub::db::schema::webhook_deliveries;
use idpc_hub::db::write_tx;
use idpc_hub::notify::{Kind, OutboxRow, Recipient, enqueue};
use idpc_hub::queue::{self, Job};
use idpc_hub::webhooks::model::DeliveryRow;

use crate::common::TestApp;
use crate::on_both;
use crate::webhooks::{LOOPBACK, Receiver, deliver, partner, subscribe};

/// Enqueues `n` emails, each in its own transaction.
async fn enqueue_mail(app: &TestApp, n: usize) {
    let config = app.state.config.clone();
    app.db(move |c| {
        for i in 0..n {
            let to = Recipient {
                email: format!("q{i}@member.example"),
                name: format!("Q{i}"),
                user_id: None,
                lang: Default::default(),
            };
            let ctx = serde_json::json!({"link": "http://hub.test/forgot-password"});
            write_tx(c, |c| {
                enqueue(c, &config, Kind::PasswordChanged, &to, ctx, None)
            })
            .unwrap();
        }
    })
    .await;
}

/// Claims for `worker` what is due now, up to `limit`, leased for a minute; returns the ids.
async fn claim<J: Job>(app: &TestApp, worker: &'static str, limit: i64) -> Vec<String> {
    let now = app.clock.naive();
    app.db(move |c| {
        queue::claim::<J>(c, worker, Duration::minutes(1), limit, now)
            .unwrap()
            .iter()
            .map(|j| j.id().to_string())
            .collect()
    })
    .await
}

/// The second worker gets only what the first left, and a third finds nothing.
async fn assert_claims_are_disjoint<J: Job>(app: &TestApp, due: usize) {
    let a = claim::<J>(app, "worker-a", 2).await;
    let b = claim::<J>(app, "worker-b", 100).await;
    let c = claim::<J>(app, "worker-c", 100).await;
    assert_eq!(a.len(), 2, "{}", J::TABLE);
    assert_eq!(b.len(), due - 2, "{}", J::TABLE);
    assert!(c.is_empty(), "{}: everything is leased", J::TABLE);
    let all: HashSet<&String> = a.iter().chain(&b).collect();
    assert_eq!(all.len(), due, "{}: no job claimed twice", J::TABLE);
}

on_both! {
    async fn two_workers_never_claim_the_same_email_or_webhook_delivery(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        for i in 0..4 {
            app.member_org(&format!("Queue Org {i}")).await;
        }
        app.emails().await;
        enqueue_mail(&app, 5).await;
        assert_claims_are_disjoint::<OutboxRow>(&app, 5).await;
        // The ping and four organisations, each its own resource.
        assert_claims_are_disjoint::<DeliveryRow>(&app, 5).await;
        assert_eq!(deliver(&app).await, 0, "leased deliveries wait for their lease");
        assert!(rx.hits().is_empty());
        rx.stop().await;
    }
}

on_both! {
    async fn a_webhook_delivery_whose_lease_expired_is_taken_up_again(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        let (id, _) = subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        // A worker claims the ping and dies before sending it.
        let now = app.clock.naive();
        let claimed = app.db(move |c| queue::claim::<DeliveryRow>(c, "dead-worker", Duration::milliseconds(200), 10, now).unwrap()).await;
        assert_eq!(claimed.len(), 1);
        assert_eq!(deliver(&app).await, 0, "a live lease is respected");
        app.clock.advance(Duration::milliseconds(300));
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(rx.hits().len(), 1);
        let log = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).bearer(&token).send().await.expect(200);
        assert_eq!(log.body["data"][0]["status"], "delivered");
        assert_eq!(log.body["data"][0]["attempts"], 1);
        rx.stop().await;
    }
}

on_both! {
    async fn a_failing_webhook_waits_longer_after_each_attempt_then_arrives_once(backend) {
        let mut env = LOOPBACK.to_vec();
        env.push(("WEBHOOK_RETRY_BASE_MS", "200"));
        let app = TestApp::start_with(backend, &env).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        rx.answer(503);
        let (id, _) = subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        let next = || app.db(|c| webhook_deliveries::table.select(webhook_deliveries::next_attempt_at).first::<chrono::NaiveDateTime>(c).unwrap());
        let mut delays = Vec::new();
        for _ in 0..3 {
            let due = next().await;
            if due > app.clock.naive() {
                app.clock.advance(due - app.clock.naive());
            }
            let tried_at = app.clock.naive();
            assert_eq!(deliver(&app).await, 1);
            delays.push((next().await - tried_at).num_milliseconds());
        }
        assert!(delays[0] >= 150 && delays[1] > delays[0] && delays[2] > delays[1], "growing delays: {delays:?}");
        rx.answer(200);
        app.clock.advance(Duration::milliseconds(2 * delays[2] + 2000));
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(deliver(&app).await, 0, "delivered once");
        let log = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).bearer(&token).send().await.expect(200);
        let d = &log.body["data"][0];
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["attempts"], 4);
        assert_eq!(d["attempt_log"].as_array().unwrap().len(), 4);
        assert_eq!(rx.hits().len(), 4);
        rx.stop().await;
    }
}

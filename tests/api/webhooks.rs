//! Webhooks for partner apps: signed deliveries a stock Standard Webhooks library verifies,
//! retries that lose nothing and keep order, the SSRF guard, the scope and hidden-organisation
//! boundaries, secret rotation, and the delivery log with retry and replay. A real HTTP
//! receiver listens on loopback inside each test.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use idpc_hub::db::schema::{webhook_deliveries, webhook_subscriptions};
use idpc_hub::webhooks::worker::Dispatcher;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{TestApp, TestUser};
use crate::on_both;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// What the receiver answered.
    pub answered: u16,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
    pub fn event(&self) -> String {
        self.json()["type"].as_str().unwrap().to_string()
    }
}

/// A webhook receiver on an ephemeral loopback port; answers with a settable status.
pub struct Receiver {
    pub port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(
    req: actix_web::HttpRequest,
    body: actix_web::web::Bytes,
    hits: actix_web::web::Data<Arc<Mutex<Vec<Hit>>>>,
    status: actix_web::web::Data<Arc<AtomicU16>>,
) -> actix_web::HttpResponse {
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let code = status.load(Ordering::SeqCst);
    let delay = u64::from(code / 1000);
    if delay > 0 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let code = code % 1000;
    hits.lock().unwrap().push(Hit {
        path: req.path().to_string(),
        id: h("webhook-id"),
        timestamp: h("webhook-timestamp"),
        signature: h("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered: code,
    });
    let mut r =
        actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap());
    if code == 302 {
        r.insert_header(("location", "/redirected"));
    }
    r.body(format!("answer {code}"))
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (h, s) = (hits.clone(), status.clone());
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(actix_web::web::Data::new(h.clone()))
                .app_data(actix_web::web::Data::new(s.clone()))
                .default_service(actix_web::web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Receiver {
            port,
            hits,
            status,
            handle,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Answers `status` after `delay_ms` (at most 64 ms).
    pub fn answer_slowly(&self, status: u16, delay_ms: u16) {
        self.status
            .store(delay_ms.min(64) * 1000 + status, Ordering::SeqCst);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    pub fn take(&self) -> Vec<Hit> {
        std::mem::take(&mut *self.hits.lock().unwrap())
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The Standard Webhooks scheme, written out independently of the service's code.
pub fn expected_signature(secret: &str, id: &str, ts: &str, body: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Verifies a hit with the stock `standardwebhooks` crate.
pub fn stock_verify(secret: &str, hit: &Hit) -> bool {
    let mut headers = http::HeaderMap::new();
    headers.insert("webhook-id", hit.id.parse().unwrap());
    headers.insert("webhook-timestamp", hit.timestamp.parse().unwrap());
    headers.insert("webhook-signature", hit.signature.parse().unwrap());
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(hit.body.as_bytes(), &headers)
        .is_ok()
}

/// Settings of every webhook test: loopback receivers allowed; retries wait a minute, so a
/// test decides when they are due (`due_now`).
pub const LOOPBACK: &[(&str, &str)] = &[
    ("WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8,::1/128"),
    ("WEBHOOK_RETRY_BASE_MS", "60000"),
    ("WEBHOOK_TIMEOUT_MS", "3000"),
];

/// A partner app with `scopes`; returns its access token.
pub async fn partner(app: &TestApp, admin: &TestUser, scopes: &[&str]) -> String {
    let org = app
        .donor_org(&format!("Partner {}", uuid::Uuid::now_v7()))
        .await;
    app.api_client(admin, &org, scopes).await.2
}

/// Subscribes with `token`; returns (id, secret).
pub async fn subscribe(app: &TestApp, token: &str, url: &str, events: &[&str]) -> (String, String) {
    let r = app
        .post("/api/v1/webhooks")
        .bearer(token)
        .json(&json!({"url": url, "events": events, "description": "test receiver"}))
        .send()
        .await
        .expect(201);
    (
        r.body["id"].as_str().unwrap().to_string(),
        r.body["secret"].as_str().unwrap().to_string(),
    )
}

/// Sends everything due, as the worker would.
pub async fn deliver(app: &TestApp) -> usize {
    Dispatcher::new(app.state.clone())
        .unwrap()
        .drain()
        .await
        .unwrap()
}

/// Makes every pending delivery due now (instead of waiting out the backoff).
pub async fn due_now(app: &TestApp) {
    let now = app.clock.naive();
    app.db(move |c| {
        diesel::update(webhook_deliveries::table.filter(webhook_deliveries::status.eq("pending")))
            .set(webhook_deliveries::next_attempt_at.eq(now - chrono::Duration::seconds(1)))
            .execute(c)
            .unwrap()
    })
    .await;
}

pub const ALL_EVENTS: &[&str] = &[
    "organisation.created",
    "organisation.updated",
    "organisation.hidden",
    "organisation.unhidden",
    "membership.changed",
    "grant.published",
    "grant.updated",
    "grant.closed",
    "grant.cancelled",
    "fund.created",
    "fund.updated",
    "ping",
];

on_both! {
    async fn a_partner_app_subscribes_and_a_stock_library_verifies_the_grant_it_receives(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["grants:read", "webhooks:manage"]).await;
        let (id, secret) = subscribe(&app, &token, &rx.url(), &["grant.published", "grant.updated", "grant.closed"]).await;
        assert!(secret.starts_with("whsec_"));
        let shown = app.get(&format!("/api/v1/webhooks/{id}")).bearer(&token).send().await.expect(200);
        assert!(shown.body.get("secret").is_none(), "the secret is shown once");

        let grant = crate::grants::active(&app, &w, "1500.00").await;
        assert_eq!(deliver(&app).await, 3, "ping, published, updated");
        let hits = rx.take();
        let events: Vec<String> = hits.iter().map(Hit::event).collect();
        assert_eq!(events, ["ping", "grant.published", "grant.updated"]);
        for h in &hits {
            assert!(stock_verify(&secret, h), "standardwebhooks verifies {h:?}");
            assert_eq!(h.signature, expected_signature(&secret, &h.id, &h.timestamp, &h.body));
            assert!(!stock_verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h), "a wrong secret fails");
        }
        let data = &hits[1].json()["data"];
        assert_eq!(data["id"], grant.as_str());
        assert_eq!(data["status"], "approved");
        assert_eq!(data["amount"], "1500.00");
        for hidden in ["created_by", "approved_by", "decision_reason", "disbursements", "reports"] {
            assert!(data.get(hidden).is_none(), "{hidden} is not for partner apps");
        }
        assert!(!hits[1].body.contains(&w.officer.id) && !hits[1].body.contains(&w.officer2.id), "no staff ids");

        // The delivery log shows each delivery and its attempt.
        let log = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).bearer(&token).send().await.expect(200);
        assert_eq!(log.body["total"], 3);
        for d in log.body["data"].as_array().unwrap() {
            assert_eq!(d["status"], "delivered");
            assert_eq!(d["attempts"], 1);
            assert_eq!(d["attempt_log"][0]["status_code"], 200);
            assert_eq!(d["attempt_log"][0]["response_body"], "answer 200");
        }
        rx.stop().await;
    }
}

on_both! {
    async fn with_the_receiver_down_every_event_arrives_later_once_and_in_order(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["grants:read", "webhooks:manage"]).await;
        let (_, secret) = subscribe(&app, &token, &rx.url(), &["grant.published", "grant.updated", "grant.closed", "fund.updated"]).await;
        rx.answer(503);
        let a = crate::grants::active(&app, &w, "1000.00").await;
        app.post(&format!("/api/v1/grants/{a}/close")).bearer(&w.officer.token).send().await.expect(200);
        let b = crate::grants::active(&app, &w, "2000.00").await;
        for _ in 0..3 {
            deliver(&app).await;
            due_now(&app).await;
        }
        let failed = rx.take();
        assert!(failed.iter().all(|h| h.answered == 503));
        // While a resource's first event fails, its later events wait: only heads were tried.
        let tried: std::collections::BTreeSet<String> = failed.iter().map(|h| h.json()["data"]["id"].as_str().map(str::to_string).unwrap_or_default() + &h.event()).collect();
        assert_eq!(tried.len(), 3, "ping, a's and b's first events only: {tried:?}");
        let first_a = failed.iter().find(|h| h.event() == "grant.published" && h.json()["data"]["id"] == a.as_str()).unwrap().id.clone();
        assert_eq!(failed.iter().filter(|h| h.id == first_a).count(), 3, "retries keep the webhook-id");

        rx.answer(200);
        for _ in 0..10 {
            due_now(&app).await;
            if deliver(&app).await == 0 { break; }
        }
        let hits = rx.take();
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), unique.len(), "none twice once accepted");
        assert_eq!(hits.len(), 1 + 3 + 2, "ping, a: published, updated, closed; b: published, updated");
        for h in &hits {
            assert!(stock_verify(&secret, h));
        }
        let of = |g: &str| hits.iter().filter(|h| h.json()["data"]["id"] == g).map(Hit::event).collect::<Vec<_>>();
        assert_eq!(of(&a), ["grant.published", "grant.updated", "grant.closed"]);
        assert_eq!(of(&b), ["grant.published", "grant.updated"]);
        let pending: i64 = app.db(|c| webhook_deliveries::table.filter(webhook_deliveries::status.ne("delivered")).count().get_result(c).unwrap()).await;
        assert_eq!(pending, 0);
        rx.stop().await;
    }
}

on_both! {
    async fn a_loopback_destination_is_refused_at_send_time_unless_allowed(backend) {
        let app = TestApp::start(backend).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        let (id, _) = subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        let (by_name, _) = subscribe(&app, &token, &format!("http://localhost:{}/hook", rx.port), &["organisation.created"]).await;
        app.member_org("Visible Network").await;
        deliver(&app).await;
        assert!(rx.hits().is_empty(), "nothing reached loopback");
        for sub in [&id, &by_name] {
            let log = app.get(&format!("/api/v1/webhooks/{sub}/deliveries")).bearer(&token).send().await.expect(200);
            for d in log.body["data"].as_array().unwrap() {
                assert_eq!(d["status"], "pending", "refusals are retried like failures");
                let err = d["last_error"].as_str().unwrap();
                assert!(err.contains("refused"), "{err}");
                assert!(d["last_status_code"].is_null());
            }
        }
        rx.stop().await;
    }
}

on_both! {
    async fn redirects_are_not_followed(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        rx.answer(302);
        let (id, _) = subscribe(&app, &token, &rx.url(), &["ping"]).await;
        deliver(&app).await;
        let hits = rx.hits();
        assert_eq!(hits.len(), 1);
        assert!(hits.iter().all(|h| h.path == "/hook"), "the Location was never requested");
        let log = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).bearer(&token).send().await.expect(200);
        assert_eq!(log.body["data"][0]["status"], "pending");
        assert_eq!(log.body["data"][0]["last_status_code"], 302);
        rx.stop().await;
    }
}

on_both! {
    async fn hidden_organisations_are_withdrawn_and_apps_see_only_their_scopes(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let full = partner(&app, &w.admin, &["directory:read", "grants:read", "webhooks:manage"]).await;
        let dir_only = partner(&app, &w.admin, &["directory:read", "webhooks:manage"]).await;
        let rx2 = Receiver::start().await;
        subscribe(&app, &full, &rx.url(), ALL_EVENTS).await;
        subscribe(&app, &dir_only, &rx2.url(), ALL_EVENTS).await;

        let secret_name = "Quiet Harm Reduction Collective";
        let quiet = app.member_org(secret_name).await;
        let v = app.get(&format!("/api/v1/organisations/{quiet}")).bearer(&w.admin.token).send().await.expect(200).body["version"].as_i64().unwrap();
        app.patch(&format!("/api/v1/organisations/{quiet}")).bearer(&w.admin.token).header("if-match", &format!("\"{v}\"")).json(&json!({"hidden_from_public": true})).send().await.expect(200);
        app.patch(&format!("/api/v1/organisations/{quiet}")).bearer(&w.admin.token).header("if-match", &format!("\"{}\"", v + 1)).json(&json!({"profile": {"description": "Works where drug use is criminalised"}})).send().await.expect(200);
        // A grant to the hidden organisation, published and closed.
        let body = crate::grants::grant_body(&w.fund, &quiet, "USD", "700.00");
        let g = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/grants/{g}/submit")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("/api/v1/grants/{g}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        // A visible grant and a fund change.
        let visible = crate::grants::active(&app, &w, "900.00").await;
        app.patch(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).header("if-match", "\"1\"").json(&json!({"title": "Core support 2026-27"})).send().await;
        deliver(&app).await;

        let hits = rx.take();
        let hidden_at = hits.iter().position(|h| h.event() == "organisation.hidden").expect("a withdrawal");
        assert_eq!(hits[hidden_at].json()["data"], json!({"id": quiet}), "the id only");
        for h in &hits[hidden_at..] {
            assert!(!h.body.contains(secret_name) && !h.body.contains("criminalised"), "{}", h.body);
            if h.json()["data"]["id"] == g.as_str() {
                assert_neutral(&h.json()["data"]);
            }
        }
        assert!(hits.iter().any(|h| h.event() == "grant.published" && h.json()["data"]["id"] == g.as_str()), "a grant to a hidden organisation, in the neutral view");
        assert!(hits.iter().any(|h| h.event() == "grant.published" && h.json()["data"]["id"] == visible.as_str()));

        let dir_hits = rx2.take();
        assert!(dir_hits.iter().any(|h| h.event() == "organisation.hidden"));
        assert!(dir_hits.iter().all(|h| !h.event().starts_with("grant.") && !h.event().starts_with("fund.")), "no grants:read, no grant or fund events");

        // Unhidden: the public view comes back.
        let v = app.get(&format!("/api/v1/organisations/{quiet}")).bearer(&w.admin.token).send().await.expect(200).body["version"].as_i64().unwrap();
        app.patch(&format!("/api/v1/organisations/{quiet}")).bearer(&w.admin.token).header("if-match", &format!("\"{v}\"")).json(&json!({"hidden_from_public": false})).send().await.expect(200);
        deliver(&app).await;
        let back = rx.take();
        let events: Vec<String> = back.iter().map(Hit::event).collect();
        assert_eq!(events, ["organisation.unhidden", "grant.updated"], "the grant comes back with its grantee");
        assert_eq!(back[1].json()["data"]["grantee_organisation_id"], quiet.as_str());
        assert_eq!(back[0].json()["data"]["name"], secret_name);
        assert!(back[0].json()["data"].get("hidden_from_public").is_none(), "the public view");
        rx.stop().await;
        rx2.stop().await;
    }
}

on_both! {
    async fn during_a_rotation_both_secrets_sign_and_afterwards_only_the_new_one(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["grants:read", "webhooks:manage"]).await;
        let (id, old) = subscribe(&app, &token, &rx.url(), &["fund.created"]).await;
        deliver(&app).await;
        rx.take();
        let r = app.post(&format!("/api/v1/webhooks/{id}/rotate-secret")).bearer(&token).send().await.expect(200);
        let new = r.body["secret"].as_str().unwrap().to_string();
        assert!(r.body["previous_secret_valid_until"].is_string());
        assert_ne!(new, old);
        crate::grants::create_fund(&app, &w.officer, &w.donor, "EUR", "5000.00").await;
        deliver(&app).await;
        let hits = rx.take();
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        let sigs: Vec<&str> = h.signature.split(' ').collect();
        assert_eq!(sigs.len(), 2, "{}", h.signature);
        assert!(sigs.contains(&expected_signature(&new, &h.id, &h.timestamp, &h.body).as_str()));
        assert!(sigs.contains(&expected_signature(&old, &h.id, &h.timestamp, &h.body).as_str()));
        assert!(stock_verify(&new, h) && stock_verify(&old, h));

        // The window ends.
        app.db(move |c| diesel::update(webhook_subscriptions::table.find(&id)).set(webhook_subscriptions::previous_secret_until.eq(Some(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)))).execute(c).unwrap()).await;
        crate::grants::create_fund(&app, &w.officer, &w.donor, "EUR", "6000.00").await;
        deliver(&app).await;
        let h = rx.take().remove(0);
        assert_eq!(h.signature, expected_signature(&new, &h.id, &h.timestamp, &h.body));
        assert!(stock_verify(&new, &h) && !stock_verify(&old, &h));
        rx.stop().await;
    }
}

on_both! {
    async fn the_log_shows_each_attempt_and_retry_and_replay_resend_with_the_same_id(backend) {
        let mut env = LOOPBACK.to_vec();
        env.push(("WEBHOOK_MAX_ATTEMPTS", "2"));
        let app = TestApp::start_with(backend, &env).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["grants:read", "webhooks:manage"]).await;
        rx.answer(500);
        let (id, secret) = subscribe(&app, &token, &rx.url(), &["fund.created"]).await;
        deliver(&app).await;
        due_now(&app).await;
        deliver(&app).await;
        let log = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).bearer(&token).send().await.expect(200);
        let d = &log.body["data"][0];
        assert_eq!(d["status"], "failed");
        assert_eq!(d["attempts"], 2);
        assert_eq!(d["attempt_log"].as_array().unwrap().len(), 2);
        assert_eq!(d["attempt_log"][1]["status_code"], 500);
        assert_eq!(d["attempt_log"][1]["response_body"], "answer 500");
        let delivery = d["id"].as_str().unwrap().to_string();
        let sub = app.get(&format!("/api/v1/webhooks/{id}")).bearer(&token).send().await.expect(200);
        assert_eq!(sub.body["enabled"], false, "a delivery failing for good disables the subscription");
        assert!(sub.body["disabled_reason"].is_string());
        let retry = format!("/api/v1/webhooks/{id}/deliveries/{delivery}/retry");
        app.post(&retry).bearer(&token).send().await.expect_problem(409);

        rx.answer(200);
        app.patch(&format!("/api/v1/webhooks/{id}")).bearer(&token).json(&json!({"enabled": true})).send().await.expect(200);
        app.post(&retry).bearer(&token).send().await.expect(200);
        deliver(&app).await;
        let first = rx.take();
        let retried = first.last().unwrap();
        assert_eq!(retried.answered, 200);
        assert_eq!(first.iter().filter(|h| h.id == retried.id).count(), 3, "two failures and the retry share the id");
        assert!(stock_verify(&secret, retried));

        crate::grants::create_fund(&app, &w.officer, &w.donor, "EUR", "100.00").await;
        deliver(&app).await;
        let before_replay: Vec<String> = rx.take().iter().map(|h| h.id.clone()).collect();
        assert_eq!(before_replay.len(), 1);
        let r = app.post(&format!("/api/v1/webhooks/{id}/replay?since=2000-01-01T00:00:00Z")).bearer(&token).send().await.expect(202);
        assert_eq!(r.body["queued"], 2, "the retried ping and the new event");
        deliver(&app).await;
        let replayed = rx.take();
        assert_eq!(replayed.len(), 2);
        assert!(replayed.iter().all(|h| stock_verify(&secret, h)));
        assert_eq!(replayed.last().unwrap().id, before_replay[0], "a replay keeps the webhook-id");
        app.post(&format!("/api/v1/webhooks/{id}/replay?since=yesterday")).bearer(&token).send().await.expect_problem(400);
        rx.stop().await;
    }
}

on_both! {
    async fn a_410_disables_the_subscription_at_once(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        rx.answer(410);
        let (id, _) = subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        deliver(&app).await;
        let sub = app.get(&format!("/api/v1/webhooks/{id}")).bearer(&token).send().await.expect(200);
        assert_eq!(sub.body["enabled"], false);
        assert_eq!(sub.body["disabled_reason"], "The receiver answered 410 Gone.");
        let mails = app.emails().await;
        let told: Vec<_> = mails.iter().filter(|m| m.subject() == "[IDPC] A partner app's webhook was disabled").collect();
        assert_eq!(told.len(), 1, "the admins are told");
        assert_eq!(told[0].recipient(), admin.email);
        assert!(told[0].text().contains(&rx.url()), "{}", told[0].text());
        app.member_org("After Gone").await;
        due_now(&app).await;
        assert_eq!(deliver(&app).await, 0, "a disabled subscription gets nothing");
        assert_eq!(rx.hits().len(), 1);
        rx.stop().await;
    }
}

on_both! {
    async fn apps_manage_only_their_own_subscriptions_and_admins_all(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let a = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        let b = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        let no_manage = partner(&app, &admin, &["directory:read"]).await;
        let (id, _) = subscribe(&app, &a, "https://partner.example.org/hook", &["organisation.created"]).await;
        for path in [format!("/api/v1/webhooks/{id}"), format!("/api/v1/webhooks/{id}/deliveries")] {
            app.get(&path).bearer(&b).send().await.expect_problem(404);
        }
        app.delete(&format!("/api/v1/webhooks/{id}")).bearer(&b).send().await.expect_problem(404);
        app.get("/api/v1/webhooks").bearer(&no_manage).send().await.expect_problem(403);
        let member_org = app.member_org("Member Org").await;
        let member = app.user("member", Some(&member_org)).await;
        app.get("/api/v1/webhooks").bearer(&member.token).send().await.expect_problem(403);
        assert_eq!(app.get("/api/v1/webhooks").bearer(&b).send().await.expect(200).body["total"], 0);
        let all = app.get("/api/v1/webhooks").bearer(&admin.token).send().await.expect(200);
        assert_eq!(all.body["total"], 1);
        let bad = app.post("/api/v1/webhooks").bearer(&a).json(&json!({"url": "ftp://x", "events": ["ping"]})).send().await.expect_problem(400);
        assert_eq!(bad.first_error_field(), "url");
        let bad = app.post("/api/v1/webhooks").bearer(&a).json(&json!({"url": "https://x.example", "events": []})).send().await.expect_problem(400);
        assert_eq!(bad.first_error_field(), "events");
        app.post("/api/v1/webhooks").bearer(&a).json(&json!({"url": "https://x.example", "events": ["grant.nope"]})).send().await.expect_problem(400);
        let bad = app.post("/api/v1/webhooks").bearer(&admin.token).json(&json!({"url": "https://x.example", "events": ["ping"]})).send().await.expect_problem(400);
        assert_eq!(bad.first_error_field(), "api_client_id");
        let patched = app.patch(&format!("/api/v1/webhooks/{id}")).bearer(&admin.token).json(&json!({"description": null, "enabled": false})).send().await.expect(200);
        assert_eq!(patched.body["enabled"], false);
        assert!(patched.body["description"].is_null());
        app.delete(&format!("/api/v1/webhooks/{id}")).bearer(&a).send().await.expect(204);
        app.get(&format!("/api/v1/webhooks/{id}")).bearer(&a).send().await.expect_problem(404);
    }
}

on_both! {
    async fn production_requires_https_destinations(backend) {
        let app = TestApp::start_with(backend, &[("APP_ENV", "production")]).await;
        let admin = app.admin().await;
        let a = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        let bad = app.post("/api/v1/webhooks").bearer(&a).json(&json!({"url": "http://partner.example.org/hook", "events": ["ping"]})).send().await.expect_problem(400);
        assert_eq!(bad.first_error_field(), "url");
        subscribe(&app, &a, "https://partner.example.org/hook", &["ping"]).await;
    }
}

on_both! {
    async fn two_workers_draining_together_never_send_a_delivery_twice(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        for i in 0..40 {
            app.member_org(&format!("Network {i}")).await;
        }
        rx.answer_slowly(200, 5);
        let (one, two) = (Dispatcher::new(app.state.clone()).unwrap(), Dispatcher::new(app.state.clone()).unwrap());
        let (a, b) = futures_util::future::join(one.drain(), two.drain()).await;
        assert_eq!(a.unwrap() + b.unwrap(), 41, "ping and 40 organisations, each sent by one worker");
        let hits = rx.take();
        let ids: std::collections::HashSet<String> = hits.iter().map(|h| h.id.clone()).collect();
        assert_eq!((hits.len(), ids.len()), (41, 41));
        rx.stop().await;
    }
}

/// Seeds an app, a subscription to `hook` and `n` pending deliveries over 10 resources
/// straight into the database (foreign keys off: only the webhook tables matter here).
fn seed_burst(url: &str, hook: &str, n: usize) -> String {
    use diesel::connection::SimpleConnection;
    use idpc_hub::identity::model::ApiClientRow;
    use idpc_hub::webhooks::model::{EventType, SubscriptionRow};
    let mut vars = std::collections::BTreeMap::new();
    vars.insert("DATABASE_URL".to_string(), url.to_string());
    let config = idpc_hub::config::Config::from_map(&vars).unwrap();
    let pool = idpc_hub::db::build_pool(&config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    idpc_hub::db::run_migrations(&mut conn).unwrap();
    conn.batch_execute("PRAGMA foreign_keys = OFF").unwrap();
    let now = chrono::Utc::now().naive_utc();
    diesel::insert_into(idpc_hub::db::schema::api_clients::table)
        .values(&ApiClientRow {
            id: "app-1".into(),
            name: "App".into(),
            organisation_id: "org-1".into(),
            client_id: "idpc_app1".into(),
            secret_hash: "x".into(),
            scopes: "grants:read webhooks:manage".into(),
            created_by: "user-1".into(),
            created_at: now,
            revoked_at: None,
        })
        .execute(&mut conn)
        .unwrap();
    let secret = idpc_hub::webhooks::sign::new_secret();
    diesel::insert_into(webhook_subscriptions::table)
        .values(&SubscriptionRow {
            id: "sub-1".into(),
            api_client_id: "app-1".into(),
            url: hook.into(),
            events: "fund.created".into(),
            description: None,
            enabled: true,
            disabled_reason: None,
            secret: secret.clone(),
            previous_secret: None,
            previous_secret_until: None,
            consecutive_failures: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .execute(&mut conn)
        .unwrap();
    for i in 0..n {
        let body =
            json!({"type": "fund.created", "data": {"n": i, "resource": i % 10}}).to_string();
        idpc_hub::webhooks::events::enqueue(
            &mut conn,
            now,
            "sub-1",
            EventType::FundCreated,
            &format!("fund:{}", i % 10),
            &body,
            None,
        )
        .unwrap();
    }
    secret
}

#[actix_web::test]
async fn sigkill_during_a_burst_loses_no_delivery_and_keeps_each_resource_in_order() {
    const BIN: &str = env!("CARGO_BIN_EXE_idpc-hub");
    const N: usize = 300;
    let rx = Receiver::start().await;
    rx.answer_slowly(200, 10);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("data/hub.db").display());
    let secret = seed_burst(&url, &rx.url(), N);
    let log = |life: &str| dir.path().join(format!("{life}.log"));
    let tail = |life: &str| {
        let text = std::fs::read_to_string(log(life)).unwrap_or_default();
        text.lines().rev().take(15).collect::<Vec<_>>().join("\n")
    };
    let spawn = |life: &str| {
        let port = crate::common::MailSink::reserve_port();
        std::process::Command::new(BIN)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("DATABASE_URL", &url)
            .env("MAIL_TRANSPORT", "log")
            .env("WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8")
            .env("WEBHOOK_POLL_MS", "50")
            .env("WEBHOOK_TIMEOUT_MS", "5000")
            .env("WEBHOOK_RETRY_BASE_MS", "100")
            .env("RUST_LOG", "warn")
            .arg("worker")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log(life)).unwrap())
            .spawn()
            .unwrap()
    };
    let accepted = |rx: &Receiver| {
        rx.hits()
            .iter()
            .filter(|h| h.answered == 200)
            .map(|h| h.id.clone())
            .collect::<std::collections::HashSet<_>>()
    };
    let mut first = spawn("first");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while accepted(&rx).len() < N / 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first worker never got going: {} hits, {} accepted; log:\n{}",
            rx.hits().len(),
            accepted(&rx).len(),
            tail("first")
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL mid-burst
    let _ = first.wait();
    let at_kill = accepted(&rx).len();
    assert!(at_kill < N, "killed mid-burst");

    let mut second = spawn("second");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while accepted(&rx).len() < N {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {N} arrived; log:\n{}",
            accepted(&rx).len(),
            tail("second")
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
    let _ = second.kill();
    let _ = second.wait();
    let hits = rx.take();
    let ok: Vec<&Hit> = hits.iter().filter(|h| h.answered == 200).collect();
    // At-least-once: what was in flight at the kill may come again, with its webhook-id.
    assert!(ok.len() - N <= 64, "{} duplicates", ok.len() - N);
    let mut first_seen: Vec<&Hit> = Vec::new();
    for h in &ok {
        assert!(stock_verify(&secret, h));
        if !first_seen.iter().any(|f| f.id == h.id) {
            first_seen.push(h);
        }
    }
    assert_eq!(first_seen.len(), N, "every delivery arrived");
    for r in 0..10 {
        let ns: Vec<i64> = first_seen
            .iter()
            .map(|h| h.json()["data"].clone())
            .filter(|d| d["resource"] == r)
            .map(|d| d["n"].as_i64().unwrap())
            .collect();
        assert!(
            ns.windows(2).all(|w| w[0] < w[1]),
            "resource {r} in order: {ns:?}"
        );
    }
    rx.stop().await;
}

on_both! {
    async fn every_change_to_a_subscription_is_in_the_audit_trail_before_and_after_without_its_secret(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        let (id, secret) = subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        deliver(&app).await;
        let hook = format!("/api/v1/webhooks/{id}");
        app.patch(&hook).bearer(&token).json(&json!({"description": "CRM sync"})).send().await.expect(200);
        let rotated = app.post(&format!("{hook}/rotate-secret")).bearer(&token).send().await.expect(200);
        let log = app.get(&format!("{hook}/deliveries")).bearer(&token).send().await.expect(200);
        let ping = log.body["data"][0]["id"].as_str().unwrap().to_string();
        app.post(&format!("{hook}/deliveries/{ping}/retry")).bearer(&token).send().await.expect(200);
        app.post(&format!("{hook}/replay?since=2000-01-01T00:00:00Z")).bearer(&token).send().await.expect(202);
        rx.answer(410);
        deliver(&app).await;
        app.delete(&hook).bearer(&admin.token).send().await.expect(204);

        let trail = crate::grants::audit_actions(&app, &id).await;
        let actions: Vec<&str> = trail.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(
            actions,
            [
                "webhook_subscription.created",
                "webhook_subscription.updated",
                "webhook_subscription.secret_rotated",
                "webhook_subscription.delivery_retried",
                "webhook_subscription.replayed",
                "webhook_subscription.disabled",
                "webhook_subscription.deleted",
            ]
        );
        let json = |s: &Option<String>| s.as_deref().map(|s| serde_json::from_str::<Value>(s).unwrap());
        let (before, after) = (json(&trail[1].2).unwrap(), json(&trail[1].3).unwrap());
        assert_eq!((&before["description"], &after["description"]), (&json!("test receiver"), &json!("CRM sync")));
        let after = json(&trail[2].3).unwrap();
        assert_eq!(after["previous_secret_valid_until"], rotated.body["previous_secret_valid_until"]);
        let (before, after) = (json(&trail[5].2).unwrap(), json(&trail[5].3).unwrap());
        assert_eq!((&before["enabled"], &after["enabled"]), (&json!(true), &json!(false)));
        assert_eq!(after["disabled_reason"], "The receiver answered 410 Gone.");
        assert!(trail[5].1.is_none(), "the service disabled it, not a person");
        assert!(json(&trail[6].2).is_some() && trail[6].3.is_none());
        let new_secret = rotated.body["secret"].as_str().unwrap();
        for (action, _, before, after) in &trail {
            for text in [before, after].into_iter().flatten() {
                assert!(!text.contains(&secret) && !text.contains(new_secret) && !text.contains("whsec_"), "{action}: {text}");
            }
        }
        rx.stop().await;
    }
}

/// Hides (or shows again) an organisation as an admin does.
async fn set_hidden(app: &TestApp, admin: &TestUser, org: &str, hidden: bool) {
    let path = format!("/api/v1/organisations/{org}");
    let v = app
        .get(&path)
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .as_i64()
        .unwrap();
    app.patch(&path)
        .bearer(&admin.token)
        .header("if-match", &format!("\"{v}\""))
        .json(&json!({"hidden_from_public": hidden}))
        .send()
        .await
        .expect(200);
}

/// An active grant to `grantee` whose title names `name`; returns its id.
async fn active_grant_naming(
    app: &TestApp,
    w: &crate::grants::World,
    grantee: &str,
    name: &str,
) -> String {
    let mut body = crate::grants::grant_body(&w.fund, grantee, "USD", "800.00");
    body["title"] = json!(format!("Paralegals of {name}"));
    let g = app
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
    app.post(&format!("/api/v1/grants/{g}/submit"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/grants/{g}/approve"))
        .bearer(&w.officer2.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/grants/{g}/activate"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    g
}

/// The grant fields that name nobody: what a grant to a withheld grantee shows.
fn assert_neutral(data: &Value) {
    assert_eq!(data["grantee_withheld"], true, "{data}");
    assert_eq!(data["grantee_organisation_id"], Value::Null, "{data}");
    assert_eq!(
        data["title"],
        idpc_hub::grants::access::WITHHELD_TITLE,
        "{data}"
    );
    assert_eq!(
        data["description"],
        idpc_hub::grants::access::WITHHELD_DESCRIPTION,
        "{data}"
    );
    assert_eq!(data["grantee_region"], "europe", "the region only");
}

on_both! {
    async fn hiding_a_grantee_sends_grant_updated_with_the_neutral_view_for_each_of_its_published_grants(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["directory:read", "grants:read", "webhooks:manage"]).await;
        subscribe(&app, &token, &rx.url(), ALL_EVENTS).await;
        let name = "Harm Reduction Kenya";
        let g1 = active_grant_naming(&app, &w, &w.grantee, name).await;
        let g2 = active_grant_naming(&app, &w, &w.grantee, name).await;
        // A draft is not published: hiding its grantee tells apps nothing of it.
        let draft = crate::grants::draft(&app, &w, "100.00").await["id"].as_str().unwrap().to_string();
        deliver(&app).await;
        assert!(rx.take().iter().any(|h| h.body.contains(name)), "before hiding, the grants name the grantee");

        set_hidden(&app, &w.admin, &w.grantee, true).await;
        deliver(&app).await;
        let hits = rx.take();
        let events: Vec<String> = hits.iter().map(Hit::event).collect();
        assert_eq!(events, ["organisation.hidden", "grant.updated", "grant.updated"], "{events:?}");
        assert_eq!(hits[0].json()["data"], json!({"id": w.grantee}));
        let mut updated: Vec<String> = hits[1..].iter().map(|h| h.json()["data"]["id"].as_str().unwrap().to_string()).collect();
        updated.sort();
        let mut expected = vec![g1.clone(), g2.clone()];
        expected.sort();
        assert_eq!(updated, expected, "one grant.updated per published grant, none for the draft {draft}");
        for h in &hits[1..] {
            assert_neutral(&h.json()["data"]);
            assert!(!h.body.contains(name) && !h.body.contains(&w.grantee), "{}", h.body);
        }

        // Shown again: each grant comes back with its grantee.
        set_hidden(&app, &w.admin, &w.grantee, false).await;
        deliver(&app).await;
        let back = rx.take();
        let grants: Vec<&Hit> = back.iter().filter(|h| h.event() == "grant.updated").collect();
        assert_eq!(grants.len(), 2);
        assert!(grants.iter().all(|h| h.json()["data"]["grantee_organisation_id"] == w.grantee.as_str() && h.body.contains(name)));
        rx.stop().await;
    }
}

on_both! {
    async fn a_replay_after_hiding_an_organisation_sends_nothing_that_names_it_and_no_hidden_donor_id(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["directory:read", "grants:read", "webhooks:manage"]).await;
        let (id, _) = subscribe(&app, &token, &rx.url(), ALL_EVENTS).await;
        let (grantee_name, donor_name) = ("Harm Reduction Kenya", "Open Society Donor");
        let fund = crate::grants::create_fund(&app, &w.officer, &w.donor, "USD", "5000.00").await;
        let g = active_grant_naming(&app, &w, &w.grantee, grantee_name).await;
        let v = app.get(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.admin.token).send().await.expect(200).body["version"].as_i64().unwrap();
        app.patch(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.admin.token).header("if-match", &format!("\"{v}\""))
            .json(&json!({"profile": {"description": "Works where drug use is criminalised"}})).send().await.expect(200);
        deliver(&app).await;
        let before = rx.take();
        let names = |h: &Hit| [grantee_name, w.grantee.as_str(), donor_name, w.donor.as_str(), "criminalised", "OSF-2026-7"].iter().any(|s| h.body.contains(s));
        assert!(before.iter().any(|h| h.event() == "organisation.updated" && h.body.contains("criminalised")));
        assert!(before.iter().any(|h| h.event() == "fund.created" && h.json()["data"]["donor_organisation_id"] == w.donor.as_str()));
        let published = before.iter().find(|h| h.event() == "grant.published").expect("published").clone();
        assert!(names(&published), "before hiding, the grant names its grantee");

        set_hidden(&app, &w.admin, &w.grantee, true).await;
        set_hidden(&app, &w.admin, &w.donor, true).await;
        deliver(&app).await;
        // Hiding the donor sends each of its funds again, naming no donor.
        let hid = rx.take();
        let funds: Vec<&Hit> = hid.iter().filter(|h| h.event() == "fund.updated").collect();
        assert_eq!(funds.len(), 2, "{hid:?}");
        assert!(funds.iter().all(|h| h.json()["data"]["donor_withheld"] == true && !names(h)));

        app.post(&format!("/api/v1/webhooks/{id}/replay?since=2000-01-01T00:00:00Z")).bearer(&token).send().await.expect(202);
        deliver(&app).await;
        let replayed = rx.take();
        assert!(!replayed.is_empty());
        for h in &replayed {
            if h.event() == "organisation.hidden" {
                assert!(h.json()["data"] == json!({"id": w.grantee}) || h.json()["data"] == json!({"id": w.donor}), "{}", h.body);
            } else {
                assert!(!names(h), "a replay names a hidden organisation: {}", h.body);
            }
            assert!(!["organisation.created", "organisation.updated", "membership.changed"].contains(&h.event().as_str()), "{}", h.body);
        }
        let grant = replayed.iter().find(|h| h.event() == "grant.published").expect("the grant, in today's view");
        assert_eq!(grant.id, published.id, "the same webhook-id");
        assert_eq!(grant.json()["data"]["id"], g.as_str());
        assert_neutral(&grant.json()["data"]);
        let f = replayed.iter().find(|h| h.event() == "fund.created" && h.json()["data"]["id"] == fund.as_str()).expect("the fund");
        assert_eq!(f.json()["data"]["donor_organisation_id"], Value::Null);
        assert_eq!(f.json()["data"]["donor_withheld"], true);
        // Live fund events name no hidden donor either.
        app.patch(&format!("/api/v1/funds/{fund}")).bearer(&w.officer.token).header("if-match", "\"1\"").json(&json!({"title": "Core support 2026-27"})).send().await.expect(200);
        deliver(&app).await;
        let live = rx.take();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].event(), "fund.updated");
        assert!(!names(&live[0]), "{}", live[0].body);
        rx.stop().await;
    }
}

on_both! {
    async fn tranches_and_reports_are_not_events_and_a_payment_updates_the_grant_and_the_fund(backend) {
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["directory:read", "grants:read", "webhooks:manage"]).await;
        // Not in the catalogue: subscribing to them is refused, and the document has no entry.
        for gone in ["disbursement.updated", "report.updated"] {
            app.post("/api/v1/webhooks").bearer(&token).json(&json!({"url": rx.url(), "events": [gone]})).send().await.expect_problem(400);
        }
        let doc = app.get("/openapi.json").send().await.expect(200).body;
        let hooks = doc["webhooks"].as_object().unwrap();
        assert!(hooks.contains_key("grant.updated"));
        assert!(!hooks.contains_key("disbursement.updated") && !hooks.contains_key("report.updated"));

        subscribe(&app, &token, &rx.url(), ALL_EVENTS).await;
        let g = crate::grants::active(&app, &w, "900.00").await;
        deliver(&app).await;
        rx.take();
        let t = app.post(&format!("/api/v1/grants/{g}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "400.00", "planned_date": "2026-05-01", "note": "Tranche"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{t}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let report = app.post(&format!("/api/v1/grants/{g}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": "2026-09-30", "title": "Annual report"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token)
            .json(&json!({"summary": "Done", "document_url": "https://example.org/annual.pdf"})).send().await.expect(200);
        deliver(&app).await;
        assert!(rx.take().is_empty(), "requesting and approving a tranche, asking for and submitting a report: no event");

        let today = chrono::Utc::now().date_naive().to_string();
        let account = app.grant_payee(&w.finance.token, &g).await;
        app.post(&format!("/api/v1/disbursements/{t}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "PAY-1", "paid_on": today, "bank_account_id": account})).send().await.expect(200);
        deliver(&app).await;
        let hits = rx.take();
        let events: Vec<String> = hits.iter().map(Hit::event).collect();
        assert_eq!(events, ["grant.updated", "fund.updated"]);
        assert_eq!(hits[0].json()["data"]["id"], g.as_str());
        assert_eq!(hits[0].json()["data"]["amount_disbursed"], "400.00");
        assert_eq!(hits[1].json()["data"]["id"], w.fund.as_str());
        assert_eq!(hits[1].json()["data"]["disbursed"], "400.00");
        for h in &hits {
            assert!(!h.body.contains(&t) && !h.body.contains(&report) && !h.body.contains("PAY-1"), "{}", h.body);
        }
        let kinds: Vec<String> = app.db(|c| webhook_deliveries::table.select(webhook_deliveries::event_type).load(c).unwrap()).await;
        assert!(kinds.iter().all(|k| !k.starts_with("disbursement.") && !k.starts_with("report.")), "{kinds:?}");
        rx.stop().await;
    }
}

on_both! {
    async fn replays_beyond_the_hourly_limit_answer_429_with_retry_after_on_every_instance(backend) {
        let mut env = LOOPBACK.to_vec();
        env.push(("WEBHOOK_REPLAYS_PER_HOUR", "2"));
        let app = TestApp::start_with(backend, &env).await;
        let two = app.second_instance().await;
        let rx = Receiver::start().await;
        let w = crate::grants::world(&app).await;
        let token = partner(&app, &w.admin, &["grants:read", "webhooks:manage"]).await;
        let (id, _) = subscribe(&app, &token, &rx.url(), &["fund.created"]).await;
        let (other, _) = subscribe(&app, &token, &rx.url(), &["fund.created"]).await;
        crate::grants::create_fund(&app, &w.officer, &w.donor, "EUR", "100.00").await;
        assert_eq!(deliver(&app).await, 4, "two pings, two fund.created");
        let replay = |sub: &str| format!("/api/v1/webhooks/{sub}/replay?since=2000-01-01T00:00:00Z");
        let first = app.post(&replay(&id)).bearer(&token).send().await.expect(202);
        assert_eq!(first.body["queued"], 2);
        // What the first replay queued is still waiting: a second one does not queue it again.
        let second = two.post(&replay(&id)).bearer(&token).send().await.expect(202);
        assert_eq!(second.body["queued"], 0);
        for instance in [&app, &two] {
            let r = instance.post(&replay(&id)).bearer(&token).send().await.expect_problem(429);
            assert_eq!(r.body["status"], 429);
            let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
            assert!((1..=3600).contains(&wait), "{wait}");
        }
        // The limit is per subscription.
        app.post(&replay(&other)).bearer(&token).send().await.expect(202);
        rx.take();
        deliver(&app).await;
        assert_eq!(rx.take().len(), 4, "each replayed message once");
        rx.stop().await;
    }
}

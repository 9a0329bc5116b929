//! Webhook delivery under a burst: N partner subscriptions, a burst of changes, a loopback
//! receiver that verifies every signature, against the raw HTTP POST rate of the same client
//! to the same receiver, measured in the same run on the same machine.
//!
//! `cargo bench --bench webhooks` seeds SUBSCRIPTIONS partner apps (each with its own secret)
//! subscribed to `organisation.created`, starts the receiver (actix-web, its own thread),
//! commits CHANGES organisations (each a write transaction that records one delivery per
//! subscription) while the dispatcher runs, and reports deliveries per second, end-to-end
//! p50/p99 from commit to receipt, lost, duplicated and badly signed deliveries. The baseline
//! POSTs the same number of signed bodies with the same HTTP client settings and the same
//! concurrency. SQLite first, then PostgreSQL (`BENCH_PG_URL`) unless `BENCH_PG=off`.
//! Killing the worker mid-burst is covered by the integration test
//! `webhooks::sigkill_during_a_burst_loses_no_delivery_and_keeps_each_resource_in_order`.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use idpc_hub::AppState;
use idpc_hub::audit::Actor;
use idpc_hub::config::Config;
use idpc_hub::directory::{NewOrganisation, OrganisationKind, PartnerType};
use idpc_hub::identity::model::{ApiClientRow, UserRow};
use idpc_hub::webhooks::model::SubscriptionRow;
use idpc_hub::webhooks::worker::Dispatcher;
use sha2::Sha256;

const SUBSCRIPTIONS: usize = 20;
const CHANGES: usize = 200;
const CONCURRENCY: usize = 16;

#[derive(Default)]
struct Seen {
    /// webhook-id → receipts.
    receipts: HashMap<String, u32>,
    /// Latency from commit to first receipt.
    latencies: Vec<Duration>,
    bad_signatures: usize,
    last: Option<Instant>,
}

#[derive(Clone)]
struct Shared {
    secrets: Arc<RwLock<HashMap<String, String>>>,
    commits: Arc<RwLock<HashMap<String, Instant>>>,
    seen: Arc<Mutex<Seen>>,
}

fn verify(secret: &str, id: &str, ts: &str, body: &[u8], header: &str) -> bool {
    let Ok(key) = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    header.split(' ').any(|s| s == expected)
}

async fn receive(
    req: actix_web::HttpRequest,
    body: actix_web::web::Bytes,
    shared: actix_web::web::Data<Shared>,
) -> actix_web::HttpResponse {
    let now = Instant::now();
    let h = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let sub = req.path().rsplit('/').next().unwrap_or("").to_string();
    let secret = shared.secrets.read().unwrap().get(&sub).cloned();
    let ok = secret.is_some_and(|s| {
        verify(
            &s,
            &h("webhook-id"),
            &h("webhook-timestamp"),
            &body,
            &h("webhook-signature"),
        )
    });
    let org = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["data"]["id"].as_str().map(str::to_string));
    let committed = org.and_then(|o| shared.commits.read().unwrap().get(&o).copied());
    let mut seen = shared.seen.lock().unwrap();
    if !ok {
        seen.bad_signatures += 1;
    }
    let n = seen.receipts.entry(h("webhook-id")).or_insert(0);
    *n += 1;
    if *n == 1
        && let Some(t) = committed
    {
        seen.latencies.push(now.saturating_duration_since(t));
    }
    seen.last = Some(now);
    actix_web::HttpResponse::NoContent().finish()
}

fn start_receiver(shared: Shared) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || {
                actix_web::App::new()
                    .app_data(actix_web::web::Data::new(shared.clone()))
                    .default_service(actix_web::web::to(receive))
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap();
        });
    });
    port
}

fn bench_config(database_url: &str) -> Config {
    let vars: BTreeMap<String, String> = [
        ("DATABASE_URL", database_url.to_string()),
        ("MAIL_TRANSPORT", "log".into()),
        ("RUST_LOG", "error".into()),
        (
            "JWT_KEYS",
            "bench:0123456789abcdef0123456789abcdef0123".into(),
        ),
        ("WORKER_ENABLED", "false".into()),
        ("WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/8".into()),
        ("WEBHOOK_CONCURRENCY", CONCURRENCY.to_string()),
        (
            "WEBHOOK_CONCURRENCY_PER_DESTINATION",
            CONCURRENCY.to_string(),
        ),
        ("WEBHOOK_POLL_MS", "20".into()),
        ("WEBHOOK_RETRY_BASE_MS", "200".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Config::from_map(&vars).unwrap()
}

/// One partner organisation, an admin, SUBSCRIPTIONS apps each with one subscription.
fn seed(state: &AppState, port: u16, shared: &Shared) {
    let mut c = state.pool.get().unwrap();
    let org = idpc_hub::directory::create(
        &mut c,
        &state.config,
        &Actor::System,
        None,
        NewOrganisation {
            name: "Partner Apps Ltd".into(),
            slug: None,
            kind: OrganisationKind::Partner,
            partner_type: Some(PartnerType::Other),
            country: "GB".into(),
            region: "europe".into(),
            identifiers: Vec::new(),
        },
    )
    .unwrap()
    .id;
    let now = chrono::Utc::now().naive_utc();
    let admin = uuid::Uuid::now_v7().to_string();
    idpc_hub::identity::insert_user(
        &mut c,
        &UserRow {
            id: admin.clone(),
            email: "bench-admin@example.org".into(),
            display_name: "Bench".into(),
            role: idpc_hub::auth::Role::Admin,
            organisation_id: None,
            status: idpc_hub::auth::UserStatus::Active,
            password_hash: None,
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now,
            updated_at: now,
            language: "en".into(),
        },
    )
    .unwrap();
    for i in 0..SUBSCRIPTIONS {
        let app = uuid::Uuid::now_v7().to_string();
        diesel::insert_into(idpc_hub::db::schema::api_clients::table)
            .values(&ApiClientRow {
                id: app.clone(),
                name: format!("App {i}"),
                organisation_id: org.clone(),
                client_id: format!("idpc_bench_{i}"),
                secret_hash: "unused".into(),
                scopes: "directory:read webhooks:manage".into(),
                created_by: admin.clone(),
                created_at: now,
                revoked_at: None,
            })
            .execute(&mut c)
            .unwrap();
        let id = uuid::Uuid::now_v7().to_string();
        let secret = idpc_hub::webhooks::sign::new_secret();
        diesel::insert_into(idpc_hub::db::schema::webhook_subscriptions::table)
            .values(&SubscriptionRow {
                id: id.clone(),
                api_client_id: app,
                url: format!("http://127.0.0.1:{port}/hook/{id}"),
                events: "organisation.created".into(),
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
            .execute(&mut c)
            .unwrap();
        shared.secrets.write().unwrap().insert(id, secret);
    }
}

/// The raw rate: the same number of signed POSTs, same client settings and concurrency.
async fn raw_rate(port: u16, shared: &Shared, n: usize) -> f64 {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let (sub, secret) = shared
        .secrets
        .read()
        .unwrap()
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let body =
        serde_json::json!({"type": "organisation.created", "timestamp": "2026-11-30T00:00:00Z",
        "data": {"id": "raw", "name": "A network of people who use drugs", "slug": "a-network"}})
        .to_string();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let workers = (0..CONCURRENCY).map(|_| {
        let (client, next, body, sub, secret) = (
            client.clone(),
            next.clone(),
            body.clone(),
            sub.clone(),
            secret.clone(),
        );
        async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
                let id = format!("msg_raw_{}", uuid::Uuid::now_v7().simple());
                let ts = chrono::Utc::now().timestamp();
                let sig = idpc_hub::webhooks::sign::signature_header(&[&secret], &id, ts, &body);
                let r = client
                    .post(format!("http://127.0.0.1:{port}/hook/{sub}"))
                    .header("content-type", "application/json")
                    .header("webhook-id", id)
                    .header("webhook-timestamp", ts.to_string())
                    .header("webhook-signature", sig)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
            }
        }
    });
    futures_util::future::join_all(workers).await;
    n as f64 / start.elapsed().as_secs_f64()
}

fn run(backend: &str, database_url: &str) {
    let config = bench_config(database_url);
    let state = AppState::new(config).unwrap();
    let shared = Shared {
        secrets: Arc::default(),
        commits: Arc::default(),
        seen: Arc::default(),
    };
    let port = start_receiver(shared.clone());
    seed(&state, port, &shared);
    let total = SUBSCRIPTIONS * CHANGES;
    actix_web::rt::System::new().block_on(async move {
        let raw = raw_rate(port, &shared, total).await;
        *shared.seen.lock().unwrap() = Seen::default();

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let dispatcher = Dispatcher::new(state.clone()).unwrap();
        let worker = actix_web::rt::spawn(dispatcher.run(stop_rx));
        // The burst: one organisation per transaction, from a writer thread.
        let (writer_state, commits) = (state.clone(), shared.commits.clone());
        let start = Instant::now();
        let writer = std::thread::spawn(move || {
            let mut c = writer_state.pool.get().unwrap();
            for i in 0..CHANGES {
                let row = idpc_hub::directory::create(
                    &mut c,
                    &writer_state.config,
                    &Actor::System,
                    None,
                    NewOrganisation {
                        name: format!("Network {i}"),
                        slug: None,
                        kind: OrganisationKind::Partner,
                        partner_type: Some(PartnerType::CommunityNetwork),
                        country: "KE".into(),
                        region: "africa".into(),
                        identifiers: Vec::new(),
                    },
                )
                .unwrap();
                commits.write().unwrap().insert(row.id, Instant::now());
            }
            start.elapsed()
        });
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let got = shared.seen.lock().unwrap().receipts.len();
            if got >= total || Instant::now() > deadline {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        let burst = writer.join().unwrap();
        // Anything arriving late would be a duplicate.
        actix_web::rt::time::sleep(Duration::from_millis(500)).await;
        let _ = stop_tx.send(true);
        let _ = worker.await;
        let seen = shared.seen.lock().unwrap();
        let elapsed = seen.last.unwrap_or(start).duration_since(start);
        let rate = seen.receipts.len() as f64 / elapsed.as_secs_f64();
        let dup = seen.receipts.values().filter(|n| **n > 1).count();
        let mut lat = seen.latencies.clone();
        lat.sort();
        println!("\n## {backend}\n");
        println!("| measure | value |\n|---|---|");
        println!("| subscriptions × changes | {SUBSCRIPTIONS} × {CHANGES} = {total} deliveries |");
        println!(
            "| delivered (distinct webhook-id) | {} |",
            seen.receipts.len()
        );
        println!("| lost | {} |", total.saturating_sub(seen.receipts.len()));
        println!("| duplicated | {dup} |");
        println!(
            "| the burst's {CHANGES} transactions committed within | {:.0} ms |",
            ms(burst)
        );
        println!("| bad signatures | {} |", seen.bad_signatures);
        println!("| deliveries/s (first commit → last receipt) | {rate:.0} |");
        println!("| raw signed POST/s, same client and concurrency ({CONCURRENCY}) | {raw:.0} |");
        println!("| ratio | {:.2} (target ≥ 0.5) |", rate / raw);
        println!(
            "| commit → receipt p50 / p99 | {:.1} ms / {:.1} ms |",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        );
    });
}

fn main() {
    println!("# Webhook delivery benchmark\n\nMachine: {}", machine());
    let dir = tempfile::tempdir().unwrap();
    run(
        "SQLite",
        &format!("sqlite://{}", dir.path().join("bench.db").display()),
    );
    if std::env::var("BENCH_PG").as_deref() != Ok("off") {
        let db = PgDb::create("idpc_bench_webhooks");
        run("PostgreSQL", &db.url());
    }
}

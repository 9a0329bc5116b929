//! Login throughput against raw argon2id, measured in the same run on the same machine.
//!
//! `cargo bench --bench login` starts the real app (release profile, SQLite in a temp folder)
//! on a loopback port, measures how many argon2id hashes per second the machine computes with
//! the configured parameters and concurrency, then drives correct-password logins over HTTP
//! and reports logins per second as a ratio of that baseline, with latency percentiles.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use idpc_hub::config::Config;
use idpc_hub::identity::UserRow;
use idpc_hub::{AppState, build_app};

const PASSWORD: &str = "benchmark password 123";
const SECONDS: u64 = 6;

fn argon(config: &Config) -> argon2::Argon2<'static> {
    let p = argon2::Params::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        config.argon2_parallelism,
        None,
    )
    .unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p)
}

/// Raw hashes per second with `threads` threads.
fn baseline(config: &Config, threads: usize) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let stop = stop.clone();
            let a = argon(config);
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let _ = a
                        .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(SECONDS));
    stop.store(true, Ordering::Relaxed);
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

fn login(port: u16, body: &str) -> Option<(u16, Duration)> {
    let t = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some((out.split_whitespace().nth(1)?.parse().ok()?, t.elapsed()))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let vars: std::collections::BTreeMap<String, String> = [
        (
            "DATABASE_URL",
            format!("sqlite://{}/bench.db", dir.path().display()),
        ),
        ("PORT", port.to_string()),
        ("MAIL_TRANSPORT", "log".into()),
        ("RUST_LOG", "error".into()),
        (
            "JWT_KEYS",
            "bench:0123456789abcdef0123456789abcdef0123".into(),
        ),
        ("AUTH_RATE_LIMIT_PER_IP", "1000000".into()),
        ("AUTH_RATE_LIMIT_PER_ACCOUNT", "1000000".into()),
        ("PASSWORD_HASH_CONCURRENCY", threads.to_string()),
        ("WORKER_ENABLED", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = Config::from_map(&vars).unwrap();

    println!(
        "argon2id m={} KiB t={} p={}; {threads} hashing threads; {SECONDS} s per measurement",
        config.argon2_memory_kib, config.argon2_iterations, config.argon2_parallelism
    );
    let raw = baseline(&config, threads);

    let server_config = config.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let state = AppState::new(server_config).unwrap();
            let hash = argon(&state.config)
                .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            let now = chrono::Utc::now().naive_utc();
            let row = UserRow {
                id: uuid::Uuid::now_v7().to_string(),
                email: "bench@example.org".into(),
                display_name: "Bench".into(),
                role: idpc_hub::auth::Role::Admin,
                organisation_id: None,
                status: idpc_hub::auth::UserStatus::Active,
                password_hash: Some(hash),
                failed_logins: 0,
                locked_until: None,
                last_login_at: None,
                created_at: now,
                updated_at: now,
                language: "en".into(),
            };
            state
                .db(move |c| idpc_hub::identity::insert_user(c, &row))
                .await
                .unwrap();
            let s = state.clone();
            actix_web::HttpServer::new(move || build_app(s.clone()))
                .workers(threads)
                .bind(("127.0.0.1", port))
                .unwrap()
                .run()
                .await
                .unwrap();
        });
    });
    let body = format!(r#"{{"email":"bench@example.org","password":"{PASSWORD}"}}"#);
    let deadline = Instant::now() + Duration::from_secs(30);
    while login(port, &body).map(|(s, _)| s) != Some(200) {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Clients: as many as the hashing permits, so the server is saturated but not shedding.
    let clients = threads;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, body) = (stop.clone(), body.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut other = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    match login(port, &body) {
                        Some((200, d)) => lat.push(d),
                        _ => other += 1,
                    }
                }
                (lat, other)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(SECONDS));
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    let mut other = 0;
    for h in handles {
        let (l, o) = h.join().unwrap();
        lat.extend(l);
        other += o;
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    let logins = lat.len() as f64 / elapsed;
    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| raw argon2id hashes/s ({threads} threads) | {raw:.1} |");
    println!("| successful logins/s over HTTP ({clients} clients) | {logins:.1} |");
    println!("| ratio logins / raw hashes | {:.2} |", logins / raw);
    println!(
        "| login p50 / p99 latency | {:.1} ms / {:.1} ms |",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3
    );
    println!("| non-200 answers | {other} |");
}

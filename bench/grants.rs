//! The approval and payment path under load across many grants, against pgbench's write TPS
//! on the same PostgreSQL, measured in the same run on the same machine.
//!
//! `bench/run.sh grants` (or `cargo bench --bench grants`) serves the real app (release
//! profile) on a loopback port over a fresh PostgreSQL database, seeds one fund and 2,000
//! active grants over HTTP (create, submit, approve by a second officer, activate), then 32
//! clients each loop for a fixed time over the grants: request a tranche (grant officer) →
//! approve it (another grant officer) → pay it (finance officer). The baseline is
//! `pgbench -N` with 32 clients on its own database, dropped afterwards. Then the same on
//! SQLite, where there is no pgbench baseline.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use common::*;
use idpc_hub::AppState;
use idpc_hub::audit::Actor;
use idpc_hub::directory::{NewOrganisation, OrganisationKind, PartnerType};
use idpc_hub::identity::UserRow;

const GRANTS: usize = 2_000;
const GRANTEES: usize = 50;
const CLIENTS: usize = 32;
const PASSWORD: &str = "benchmark password 123";

fn seconds() -> u64 {
    std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

/// Creates the users and organisations in the database, logs the staff in over HTTP.
/// Returns (officer, officer2, finance tokens, donor id, grantee ids).
fn cast(state: &AppState, port: u16) -> ([String; 3], String, Vec<String>) {
    let config = &state.config;
    let params = argon2::Params::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        config.argon2_parallelism,
        None,
    )
    .unwrap();
    let hash = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    let mut conn = state.pool.get().unwrap();
    let org = |c: &mut idpc_hub::db::DbConn, name: String, partner: bool| {
        let new = NewOrganisation {
            name,
            slug: None,
            kind: if partner {
                OrganisationKind::Partner
            } else {
                OrganisationKind::Member
            },
            partner_type: partner.then_some(PartnerType::Donor),
            country: "GB".into(),
            region: "europe".into(),
            identifiers: Vec::new(),
        };
        idpc_hub::directory::create(c, &state.config, &Actor::System, None, new)
            .unwrap()
            .id
    };
    let donor = org(&mut conn, "Bench Donor Foundation".into(), true);
    let grantees: Vec<String> = (0..GRANTEES)
        .map(|i| org(&mut conn, format!("Bench Grantee {i}"), false))
        .collect();
    let mut tokens = Vec::new();
    let mut client = Client::connect(port).unwrap();
    for (i, role) in ["grant_officer", "grant_officer", "finance_officer"]
        .into_iter()
        .enumerate()
    {
        let now = chrono::Utc::now().naive_utc();
        let email = format!("bench{i}@example.org");
        let row = UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            email: email.clone(),
            display_name: format!("Bench {role} {i}"),
            role: role.parse().expect("a known role"),
            organisation_id: None,
            status: idpc_hub::auth::UserStatus::Active,
            password_hash: Some(hash.clone()),
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now,
            updated_at: now,
            language: "en".into(),
        };
        idpc_hub::identity::insert_user(&mut conn, &row).unwrap();
        let body = serde_json::json!({"email": email, "password": PASSWORD}).to_string();
        let (s, b) = client.request("POST", "/api/v1/auth/login", "", Some(&body));
        assert_eq!(s, 200, "login: {b}");
        tokens.push(json_str(&b, "access_token"));
    }
    (tokens.try_into().unwrap(), donor, grantees)
}

/// One fund and `GRANTS` active grants, over HTTP from one client per core.
fn seed(port: u16, tokens: &[String; 3], donor: &str, grantees: &[String]) -> Vec<String> {
    let [officer, officer2, _] = tokens;
    let mut c = Client::connect(port).unwrap();
    let fund = serde_json::json!({
        "donor_organisation_id": donor, "title": "Core support (benchmark)", "reference": "BENCH-1",
        "currency": "USD", "amount": "1000000000.00", "starts_on": "2026-01-01", "ends_on": "2030-12-31",
    });
    let (s, b) = c.request("POST", "/api/v1/funds", officer, Some(&fund.to_string()));
    assert_eq!(s, 201, "fund: {b}");
    let fund = json_str(&b, "id");
    let threads = cores() * 2;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (officer, officer2, fund) = (officer.clone(), officer2.clone(), fund.clone());
            let grantees = grantees.to_vec();
            std::thread::spawn(move || {
                let mut c = Client::connect(port).unwrap();
                let mut ids = Vec::new();
                for n in (t..GRANTS).step_by(threads) {
                    let body = serde_json::json!({
                        "fund_id": fund, "grantee_organisation_id": grantees[n % grantees.len()],
                        "title": format!("Community paralegals {n}"),
                        "description": "Legal aid for people who use drugs",
                        "pillar": "capacity_strengthening",
                        "priority_areas": ["decriminalisation_justice_reform"],
                        "currency": "USD", "amount": "100000.00",
                        "planned_start": "2026-02-01", "planned_end": "2026-12-31",
                    });
                    let (s, b) =
                        c.request("POST", "/api/v1/grants", &officer, Some(&body.to_string()));
                    assert_eq!(s, 201, "grant: {b}");
                    let id = json_str(&b, "id");
                    for (verb, who) in [
                        ("submit", &officer),
                        ("approve", &officer2),
                        ("activate", &officer),
                    ] {
                        let (s, b) =
                            c.request("POST", &format!("/api/v1/grants/{id}/{verb}"), who, None);
                        assert_eq!(s, 200, "{verb}: {b}");
                    }
                    ids.push(id);
                }
                ids
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

#[derive(Default)]
struct Load {
    chains: u64,
    failures: Vec<String>,
    steps: [Vec<Duration>; 3],
    chain: Vec<Duration>,
    elapsed: f64,
}

/// `CLIENTS` clients loop request → approve → pay over the grants for `seconds()`.
fn drive(port: u16, tokens: &[String; 3], grants: &[String]) -> Load {
    let tokens = Arc::new(tokens.clone());
    let grants = Arc::new(grants.to_vec());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds());
    let handles: Vec<_> = (0..CLIENTS)
        .map(|t| {
            let (tokens, grants) = (tokens.clone(), grants.clone());
            std::thread::spawn(move || {
                let [officer, officer2, finance] = &*tokens;
                let mut c = Client::connect(port).unwrap();
                let mut load = Load::default();
                let mut n = t;
                while Instant::now() < deadline {
                    let grant = &grants[n % grants.len()];
                    n += CLIENTS;
                    let t0 = Instant::now();
                    let body = r#"{"amount":"10.00","planned_date":"2026-05-01","note":"Benchmark tranche"}"#;
                    let (s, b) = c.request(
                        "POST",
                        &format!("/api/v1/grants/{grant}/disbursements"),
                        officer,
                        Some(body),
                    );
                    load.steps[0].push(t0.elapsed());
                    if s != 201 {
                        load.failures.push(format!("request {s}: {b}"));
                        continue;
                    }
                    let id = json_str(&b, "id");
                    let t1 = Instant::now();
                    let (s, b) = c.request(
                        "POST",
                        &format!("/api/v1/disbursements/{id}/approve"),
                        officer2,
                        None,
                    );
                    load.steps[1].push(t1.elapsed());
                    if s != 200 {
                        load.failures.push(format!("approve {s}: {b}"));
                        continue;
                    }
                    let t2 = Instant::now();
                    let pay = format!(r#"{{"payment_reference":"BENCH-{id}","paid_on":"2026-05-02"}}"#);
                    let (s, b) = c.request(
                        "POST",
                        &format!("/api/v1/disbursements/{id}/pay"),
                        finance,
                        Some(&pay),
                    );
                    load.steps[2].push(t2.elapsed());
                    if s != 200 {
                        load.failures.push(format!("pay {s}: {b}"));
                        continue;
                    }
                    load.chain.push(t0.elapsed());
                    load.chains += 1;
                }
                load
            })
        })
        .collect();
    let mut all = Load::default();
    for h in handles {
        let l = h.join().unwrap();
        all.chains += l.chains;
        all.failures.extend(l.failures);
        for (a, b) in all.steps.iter_mut().zip(l.steps) {
            a.extend(b);
        }
        all.chain.extend(l.chain);
    }
    all.elapsed = started.elapsed().as_secs_f64();
    for v in all.steps.iter_mut() {
        v.sort();
    }
    all.chain.sort();
    all
}

fn run_backend(label: &str, database_url: &str) -> Load {
    let port = free_port();
    let state = AppState::new(config(database_url, port)).unwrap();
    let s = state.clone();
    serve(s, port);
    let (tokens, donor, grantees) = cast(&state, port);
    let t = Instant::now();
    let grants = seed(port, &tokens, &donor, &grantees);
    eprintln!(
        "{label}: seeded {} active grants over HTTP in {:.1} s",
        grants.len(),
        t.elapsed().as_secs_f64()
    );
    let load = drive(port, &tokens, &grants);
    eprintln!(
        "{label}: {} chains in {:.1} s, {} failures",
        load.chains,
        load.elapsed,
        load.failures.len()
    );
    load
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "machine: {}; 1 fund, {GRANTS} active grants, {CLIENTS} clients, {} s per measurement",
        machine(),
        seconds()
    );
    let pg = PgDb::create("idpc_bench_grants");
    let pg_load = run_backend("PostgreSQL", &pg.url());
    let pgbench_n = pgbench("-N", CLIENTS, seconds());
    eprintln!("pgbench -N: {pgbench_n:.0} TPS");
    let lite = run_backend(
        "SQLite",
        &format!("sqlite://{}/bench.db", dir.path().display()),
    );

    println!();
    println!(
        "| backend | measurement | per second | p50 | p99 | ratio to `pgbench -N` TPS | failures |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| PostgreSQL | `pgbench -N` TPS (scale 1, {CLIENTS} clients) | {pgbench_n:.0} | | | 1 | |"
    );
    for (label, l) in [("PostgreSQL", &pg_load), ("SQLite", &lite)] {
        let ratio = |v: f64| {
            if label == "PostgreSQL" {
                format!("{:.3}", v / pgbench_n)
            } else {
                "—".into()
            }
        };
        let chains = l.chains as f64 / l.elapsed;
        println!(
            "| {label} | tranche paid end to end (request → approve → pay) | {chains:.1} | {:.1} ms | {:.1} ms | {} | {} |",
            ms(percentile(&l.chain, 0.5)),
            ms(percentile(&l.chain, 0.99)),
            ratio(chains),
            l.failures.len()
        );
        println!(
            "| {label} | write requests (3 per tranche) | {:.1} | | | {} | |",
            chains * 3.0,
            ratio(chains * 3.0)
        );
        for (i, step) in [
            "POST /grants/{id}/disbursements",
            "POST /disbursements/{id}/approve",
            "POST /disbursements/{id}/pay",
        ]
        .iter()
        .enumerate()
        {
            println!(
                "| {label} | {step} | {:.1} | {:.1} ms | {:.1} ms | | |",
                l.steps[i].len() as f64 / l.elapsed,
                ms(percentile(&l.steps[i], 0.5)),
                ms(percentile(&l.steps[i], 0.99))
            );
        }
    }
    for (label, l) in [("PostgreSQL", &pg_load), ("SQLite", &lite)] {
        let mut kinds: Vec<String> = l
            .failures
            .iter()
            .map(|f| f.chars().take(160).collect())
            .collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds.iter().take(5) {
            println!("{label} failure: {k}");
        }
    }
}

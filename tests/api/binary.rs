//! The real binary: configuration errors, PostgreSQL start-up, the file mail transport, and
//! surviving SIGKILL without losing mail.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idpc_hub::config::{Config, DatabaseUrl};
use idpc_hub::notify::{Kind, Recipient};

use crate::common::{Backend, MailSink, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_idpc-hub");

fn free_port() -> u16 {
    MailSink::reserve_port()
}

/// A plain HTTP/1.1 GET, as a script would do it.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(dir: &std::path::Path, env: &[(&str, String)]) -> Running {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Running(
        cmd.arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn idpc-hub"),
    )
}

fn wait_ready(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some((200, body)) = http_get(port, "/health/ready") {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server on {port} never became ready");
}

#[test]
fn a_bad_port_stops_the_start_with_one_line_naming_port() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("PORT", "abc")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("PORT"), "{stderr}");
}

#[test]
fn an_unknown_database_scheme_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("DATABASE_URL", "mysql://root@localhost/x")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}

#[test]
fn the_default_configuration_serves_sqlite_on_a_fresh_folder() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = spawn(dir.path(), &[("PORT", port.to_string())]);
    let body = wait_ready(port);
    assert!(body.contains("\"database\":\"sqlite\""), "{body}");
    assert!(dir.path().join("data/idpc-hub.db").exists());
}

#[test]
#[cfg_attr(
    not(idpc_pg_tests),
    ignore = "TEST_DATABASE_URL was not set: not run on PostgreSQL"
)]
fn the_binary_migrates_and_serves_a_new_postgres_database() {
    let db = TestDb::create(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    // Start from an empty database so the binary itself applies every migration.
    {
        let mut c = idpc_hub::db::establish(&DatabaseUrl::parse(&db.url).unwrap()).unwrap();
        idpc_hub::db::revert_all_migrations(&mut c).unwrap();
    }
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("DATABASE_URL", &db.url)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));
    let port = free_port();
    let server = spawn(
        dir.path(),
        &[("PORT", port.to_string()), ("DATABASE_URL", db.url.clone())],
    );
    let body = wait_ready(port);
    assert!(body.contains("\"database\":\"postgres\""), "{body}");
    drop(server);
}

fn enqueue_into(url: &str, n: usize) {
    let mut vars = std::collections::BTreeMap::new();
    vars.insert("DATABASE_URL".to_string(), url.to_string());
    let config = Config::from_map(&vars).unwrap();
    let pool = idpc_hub::db::build_pool(&config.database_url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    idpc_hub::db::run_migrations(&mut conn).unwrap();
    for i in 0..n {
        let to = Recipient {
            email: format!("member{i}@example.org"),
            name: format!("Member {i}"),
            user_id: None,
            lang: Default::default(),
        };
        let ctx = serde_json::json!({"link": "http://127.0.0.1:8080/forgot-password"});
        idpc_hub::notify::enqueue(&mut conn, &config, Kind::PasswordChanged, &to, ctx, None)
            .unwrap();
    }
}

#[test]
fn the_default_configuration_writes_eml_files_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("data/idpc-hub.db");
    enqueue_into(&format!("sqlite://{}", db_path.display()), 2);
    let port = free_port();
    let _server = spawn(
        dir.path(),
        &[("PORT", port.to_string()), ("OUTBOX_POLL_MS", "100".into())],
    );
    wait_ready(port);
    let mail_dir = dir.path().join("data/mail");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let files: Vec<_> = std::fs::read_dir(&mail_dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        if files.len() == 2 {
            let text = std::fs::read_to_string(files[0].path()).unwrap();
            assert!(
                text.contains("Subject: Your IDPC password was changed"),
                "{text}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "expected 2 .eml files, found {}",
            files.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[actix_web::test]
async fn sigkill_with_mail_pending_loses_none_and_the_next_start_sends_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("data/hub.db").display());
    enqueue_into(&url, 5);
    let smtp_port = MailSink::reserve_port();
    let env = |port: u16| {
        vec![
            ("PORT", port.to_string()),
            ("DATABASE_URL", url.clone()),
            ("MAIL_TRANSPORT", "smtp".into()),
            ("SMTP_HOST", "127.0.0.1".into()),
            ("SMTP_PORT", smtp_port.to_string()),
            ("SMTP_SECURITY", "none".into()),
            ("SMTP_TIMEOUT_SECS", "1".into()),
            ("OUTBOX_RETRY_BASE_MS", "100".into()),
            ("OUTBOX_POLL_MS", "50".into()),
        ]
    };
    // First life: the mail server is down, so everything stays pending; then SIGKILL.
    let port = free_port();
    let mut first = spawn(dir.path(), &env(port));
    wait_ready(port);
    std::thread::sleep(Duration::from_millis(500));
    first.0.kill().unwrap(); // SIGKILL
    let _ = first.0.wait();
    // Second life, with the mail server up.
    let sink = MailSink::start_on(smtp_port);
    let port = free_port();
    let _second = spawn(dir.path(), &env(port));
    wait_ready(port);
    let got = sink.wait_for(5, Duration::from_secs(30)).await;
    std::thread::sleep(Duration::from_millis(500));
    let got_after = sink.all();
    assert_eq!(
        got.len(),
        5,
        "every pending message is sent after the restart"
    );
    assert_eq!(got_after.len(), 5, "and none twice");
    let mut ids: Vec<String> = got_after.iter().map(|m| m.message_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);
}

/// Each stops `serve` before anything starts, with one line naming the variable.
#[test]
fn bad_settings_stop_the_start_with_one_line_naming_the_variable() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("WORKER_ENABLED", "yes")], "WORKER_ENABLED"),
        (&[("RUST_LOG", "bogus=[")], "RUST_LOG"),
        (
            &[("APP_ENV", "production"), ("MAIL_TRANSPORT", "log")],
            "MAIL_TRANSPORT",
        ),
    ];
    for (env, var) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir.path()).env_clear();
        for (k, v) in *env {
            cmd.env(k, v);
        }
        let out = cmd.arg("serve").output().unwrap();
        assert!(!out.status.success(), "{var}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(var), "{stderr}");
        assert!(
            !dir.path().join("data").exists(),
            "{var}: stopped before opening a database or writing a key"
        );
    }
}

/// A plain HTTP/1.1 POST of a JSON body with a bearer token and an Idempotency-Key; `None`
/// when the server closed the connection without answering.
fn http_post_keyed(
    port: u16,
    path: &str,
    token: &str,
    key: &str,
    body: &str,
) -> Option<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    Some((status, head.to_ascii_lowercase(), body.to_string()))
}

async fn killed_between_commit_and_answer(backend: Backend) {
    use crate::grants::{active, world};
    use diesel::prelude::*;
    use idpc_hub::db::schema::{disbursements as d, idempotency_keys as k};

    let app = crate::common::TestApp::start(backend).await;
    let w = world(&app).await;
    let grant = active(&app, &w, "1000.00").await;
    let dir = tempfile::tempdir().unwrap();
    // The test app's settings (its JWT keys sign the tokens the binary must accept).
    let settings = crate::common::base_env(&app.db.url, app.mail.port);
    let env = |port: u16, crash: bool| {
        let mut vars: Vec<(&str, String)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        vars.push(("PORT", port.to_string()));
        if crash {
            vars.push((idpc_hub::idempotency::CRASH_AFTER_COMMIT, "1".into()));
        }
        vars
    };
    let path = format!("/api/v1/grants/{grant}/disbursements");
    let body = r#"{"amount": "100.00", "planned_date": "2026-05-01", "note": "Crash"}"#;
    // First life: the command commits, then the process dies before answering.
    let port = free_port();
    let mut first = spawn(dir.path(), &env(port, true));
    wait_ready(port);
    let answer = http_post_keyed(port, &path, &w.member.token, "crash-1", body);
    assert!(
        answer.is_none(),
        "no answer from a server that died: {answer:?}"
    );
    let status = first.0.wait().unwrap();
    assert!(!status.success(), "the process aborted");
    let g = grant.clone();
    let (tranches, completed): (Vec<String>, Vec<bool>) = app
        .db(move |c| {
            let t = d::table
                .filter(d::grant_id.eq(g))
                .select(d::id)
                .load(c)
                .unwrap();
            let k = k::table
                .filter(k::idem_key.eq("crash-1"))
                .select(k::completed)
                .load(c)
                .unwrap();
            (t, k)
        })
        .await;
    assert_eq!(tranches.len(), 1, "the effect committed");
    assert_eq!(completed, vec![true], "with its answer");
    // Second life: the retry replays the answer the first life stored, and runs nothing.
    let port = free_port();
    let _second = spawn(dir.path(), &env(port, false));
    wait_ready(port);
    let (status, head, body) =
        http_post_keyed(port, &path, &w.member.token, "crash-1", body).expect("an answer");
    assert_eq!(status, 201, "{body}");
    assert!(head.contains("idempotent-replayed: true"), "{head}");
    let replayed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(replayed["id"], tranches[0].as_str());
    let count: i64 = app
        .db(move |c| {
            d::table
                .filter(d::grant_id.eq(grant))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(count, 1, "one tranche after the retry");
}

#[actix_web::test]
async fn a_server_killed_between_commit_and_answer_replays_the_first_answer_on_sqlite() {
    killed_between_commit_and_answer(Backend::Sqlite).await;
}

#[actix_web::test]
#[cfg_attr(
    not(idpc_pg_tests),
    ignore = "TEST_DATABASE_URL was not set: not run on PostgreSQL"
)]
async fn a_server_killed_between_commit_and_answer_replays_the_first_answer_on_postgres() {
    killed_between_commit_and_answer(Backend::Postgres).await;
}

/// A typo in a setting's name would otherwise leave the default silently in force.
#[test]
fn a_misspelt_setting_is_named_with_the_closest_one_a_warning_in_development() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("SMTP_HSOT", "mail.example")
        .arg("migrate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("ignored setting SMTP_HSOT: not a known setting; did you mean SMTP_HOST?"),
        "{stderr}"
    );
}

#[test]
fn a_misspelt_setting_stops_a_production_start_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("APP_ENV", "production")
        .env("IDPC_WORKER_ENABLED", "false")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "error: invalid configuration: IDPC_WORKER_ENABLED: not a known setting; \
         did you mean WORKER_ENABLED?"
    );
    assert!(
        !dir.path().join("data").exists(),
        "stopped before opening a database"
    );
}

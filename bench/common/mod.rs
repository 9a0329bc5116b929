//! Shared by the directory and grants benchmarks: start the real app in-process on a loopback
//! port, a tiny keep-alive HTTP/1.1 client, throwaway PostgreSQL databases, wrk and pgbench.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use idpc_hub::config::Config;
use idpc_hub::{AppState, build_app};

/// The PostgreSQL server used for the app and for pgbench (`BENCH_PG_URL`).
pub fn pg_admin_url() -> String {
    std::env::var("BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `pg_admin_url` with another database name.
pub fn pg_url(db: &str) -> String {
    let base = pg_admin_url();
    let cut = base.rfind('/').expect("postgres URL with a database");
    format!("{}/{db}", &base[..cut])
}

/// A throwaway PostgreSQL database, dropped when this goes out of scope.
pub struct PgDb {
    pub name: String,
}

impl PgDb {
    pub fn create(prefix: &str) -> PgDb {
        let name = format!("{prefix}_{}", std::process::id());
        let mut c = PgConnection::establish(&pg_admin_url()).expect("connect to PostgreSQL");
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop database");
        c.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        PgDb { name }
    }

    pub fn url(&self) -> String {
        pg_url(&self.name)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = PgConnection::establish(&pg_admin_url()) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// The app's configuration for a benchmark: product defaults except what a load test needs.
pub fn config(database_url: &str, port: u16) -> Config {
    let vars: BTreeMap<String, String> = [
        ("DATABASE_URL", database_url.to_string()),
        ("PORT", port.to_string()),
        ("MAIL_TRANSPORT", "log".into()),
        ("RUST_LOG", "error".into()),
        (
            "JWT_KEYS",
            "bench:0123456789abcdef0123456789abcdef0123".into(),
        ),
        ("ACCESS_TOKEN_TTL_SECS", "3600".into()),
        ("AUTH_RATE_LIMIT_PER_IP", "1000000".into()),
        ("AUTH_RATE_LIMIT_PER_ACCOUNT", "1000000".into()),
        ("WORKER_ENABLED", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Config::from_map(&vars).unwrap()
}

/// Serves `state` on 127.0.0.1:`port` with one worker per core, in a background thread, and
/// waits until it answers. The server lives until the process ends.
pub fn serve(state: AppState, port: u16) {
    let workers = cores();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || build_app(state.clone()))
                .workers(workers)
                .bind(("127.0.0.1", port))
                .unwrap()
                .run()
                .await
                .unwrap();
        });
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut c) = Client::connect(port)
            && c.request("GET", "/health/ready", "", None).0 == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One keep-alive HTTP/1.1 connection (bodies have Content-Length; no compression asked).
pub struct Client {
    port: u16,
    reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(port: u16) -> std::io::Result<Client> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Client {
            port,
            reader: BufReader::new(s),
        })
    }

    /// Sends one request with a bearer `token` ("" for none); returns (status, body). Status 0
    /// means the connection failed (it is reopened for the next request).
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        json: Option<&str>,
    ) -> (u16, String) {
        match self.try_request(method, path, token, json) {
            Ok(r) => r,
            Err(_) => {
                if let Ok(c) = Client::connect(self.port) {
                    *self = c;
                }
                (0, String::new())
            }
        }
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        json: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if !token.is_empty() {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = json.unwrap_or("");
        if json.is_some() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.reader.get_mut().write_all(head.as_bytes())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or(std::io::ErrorKind::InvalidData)?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut buf = vec![0; len];
        self.reader.read_exact(&mut buf)?;
        Ok((status, String::from_utf8_lossy(&buf).into_owned()))
    }
}

/// The string value of `key` in a JSON object.
pub fn json_str(body: &str, key: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v[key].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no {key} in {body}"))
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// What wrk reported.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wrk {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    pub errors: u64,
}

fn wrk_ms(s: &str) -> f64 {
    let (num, unit): (String, String) = s.chars().partition(|c| c.is_ascii_digit() || *c == '.');
    let v: f64 = num.parse().unwrap_or(f64::NAN);
    match unit.as_str() {
        "us" => v / 1e3,
        "ms" => v,
        "s" => v * 1e3,
        "m" => v * 6e4,
        _ => f64::NAN,
    }
}

/// Runs wrk with `connections` connections for `seconds` against `url` with a Lua script.
pub fn wrk(url: &str, script: &std::path::Path, connections: usize, seconds: u64) -> Wrk {
    let out = Command::new("wrk")
        .args([
            "-t",
            &cores().to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk is installed (bench/run.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut w = Wrk::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            ["50%", v] => w.p50_ms = wrk_ms(v),
            ["99%", v] => w.p99_ms = wrk_ms(v),
            ["Requests/sec:", v] => w.rps = v.parse().unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => w.non_2xx = n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                w.errors = rest
                    .iter()
                    .filter_map(|s| s.trim_end_matches(',').parse::<u64>().ok())
                    .sum()
            }
            _ => {}
        }
    }
    assert!(
        w.rps > 0.0,
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    w
}

/// pgbench's TPS for `mode` (`-S` or `-N`) with `clients` clients on a fresh database of
/// scale 1 (100,000 accounts), created with `pgbench -i` and dropped afterwards.
pub fn pgbench(mode: &str, clients: usize, seconds: u64) -> f64 {
    let bin = std::env::var("PGBENCH").unwrap_or_else(|_| {
        let p = "/usr/lib/postgresql/15/bin/pgbench";
        if std::path::Path::new(p).exists() {
            p.into()
        } else {
            "pgbench".into()
        }
    });
    let db = PgDb::create("idpc_bench_pgbench");
    let init = Command::new(&bin)
        .args(["-i", "-q", "-s", "1"])
        .arg(db.url())
        .output()
        .expect("pgbench runs");
    assert!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = Command::new(&bin)
        .args([
            mode,
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            &cores().to_string(),
            "-T",
            &seconds.to_string(),
        ])
        .arg(db.url())
        .output()
        .expect("pgbench runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("tps = ")
                .and_then(|r| r.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or_else(|| {
            panic!(
                "pgbench {mode}: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// A short description of the machine: cores, memory, CPU model.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|k| format!("{:.0} GiB", k / 1048576.0))
        .unwrap_or_default();
    format!("{} cores ({cpu}), {mem}", cores())
}

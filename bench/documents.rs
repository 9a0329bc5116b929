//! Document upload and download throughput and the server's memory, against `cp`.
//!
//! `cargo bench --bench documents` writes a 100 MiB PDF-looking file (`BENCH_DOC_MIB` to
//! change it), seeds the demo network on SQLite in a temporary folder, and starts the service
//! as a separate process (this binary again, in server mode) with local document storage and
//! `DOCUMENT_MAX_BYTES` raised above the file. It then times, in the same run:
//! `cp` of the file (the baseline), a streamed multipart upload with `curl -F` (the member
//! uploads to its organisation), and a download with `curl -o`; checks the downloaded SHA-256,
//! and reads the server's peak resident memory (`VmHWM`) before and after. The upload is
//! hashed, type-checked and encrypted as it streams, so the peak must stay flat: far below
//! the file's size.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const SERVE: &str = "BENCH_DOCUMENTS_SERVE";
const KEYS: &str = "e1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

fn env_of(dir: &Path, port: u16, max: u64) -> Vec<(String, String)> {
    [
        (
            "DATABASE_URL",
            format!("sqlite://{}/bench.db", dir.display()),
        ),
        (
            "DOCUMENT_STORE",
            dir.join("documents").display().to_string(),
        ),
        ("DOCUMENT_MAX_BYTES", max.to_string()),
        ("DOCUMENT_QUOTA_BYTES", (max * 4).to_string()),
        ("PORT", port.to_string()),
        ("MAIL_TRANSPORT", "log".into()),
        ("WORKER_ENABLED", "false".into()),
        ("ENCRYPTION_KEYS", KEYS.into()),
        (
            "JWT_KEYS",
            "k1:bench-secret-0123456789abcdef0123456789".into(),
        ),
        ("RUST_LOG", "warn".into()),
        ("AUTH_RATE_LIMIT_PER_IP", "100000".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn config(env: &[(String, String)]) -> idpc_hub::config::Config {
    let map = env.iter().cloned().collect();
    idpc_hub::config::Config::from_map(&map).expect("bench config")
}

fn vm(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

fn write_file(path: &Path, mib: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(b"%PDF-1.7\n").unwrap();
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..mib {
        for b in block.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        f.write_all(&block).unwrap();
    }
}

fn sha_of(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).unwrap();
    hex::encode(h.finalize())
}

fn timed(cmd: &mut Command) -> (Duration, String) {
    let t = Instant::now();
    let out = cmd.stderr(Stdio::inherit()).output().expect("command runs");
    assert!(out.status.success(), "{cmd:?} failed");
    (
        t.elapsed(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    if std::env::var(SERVE).is_ok() {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let config = config(&env);
        actix_web::rt::System::new()
            .block_on(idpc_hub::serve(config, true))
            .expect("server runs");
        return;
    }
    let mib: usize = std::env::var("BENCH_DOC_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.pdf");
    write_file(&file, mib);
    let size = std::fs::metadata(&file).unwrap().len();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = env_of(dir.path(), port, size + (1 << 20));

    // Seed the demo network (this process), then serve it from a child process.
    let seed_config = config(&env);
    actix_web::rt::System::new().block_on(async move {
        let state = actix_web::web::block(move || idpc_hub::AppState::new(seed_config))
            .await
            .unwrap()
            .unwrap();
        idpc_hub::demo::seed(&state).await.expect("demo seeds");
    });
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .env(SERVE, "1")
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let login = r#"{"email":"member@demo.idpc.example","password":"demo-member-password"}"#;
    let (_, out) = timed(Command::new("curl").args([
        "-sf",
        "-H",
        "content-type: application/json",
        "-d",
        login,
        &format!("{base}/api/v1/auth/login"),
    ]));
    let token = serde_json::from_str::<serde_json::Value>(&out).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, out) = timed(Command::new("curl").args([
        "-sf",
        "-H",
        &format!("authorization: Bearer {token}"),
        &format!("{base}/api/v1/me"),
    ]));
    let org = serde_json::from_str::<serde_json::Value>(&out).unwrap()["organisation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let idle = vm(pid, "VmHWM:");

    let copy = dir.path().join("copy.pdf");
    let (cp, _) = timed(Command::new("cp").arg(&file).arg(&copy));
    let auth = format!("authorization: Bearer {token}");
    let (up, out) = timed(
        Command::new("curl")
            .args(["-sf", "-H", &auth, "-F", "kind=other", "-F"])
            .arg(format!("file=@{}", file.display()))
            .arg(format!("{base}/api/v1/organisations/{org}/documents")),
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let after_up = vm(pid, "VmHWM:");
    let back = dir.path().join("back.pdf");
    let (down, _) = timed(
        Command::new("curl")
            .args(["-sf", "-H", &auth, "-o"])
            .arg(&back)
            .arg(format!(
                "{base}/api/v1/documents/{}/content",
                doc["id"].as_str().unwrap()
            )),
    );
    let after_down = vm(pid, "VmHWM:");
    let sha = sha_of(&file);
    assert_eq!(
        doc["sha256"].as_str(),
        Some(sha.as_str()),
        "the server hashed what was sent"
    );
    assert_eq!(sha_of(&back), sha, "the download is the upload");

    let mb = |d: Duration| size as f64 / (1 << 20) as f64 / d.as_secs_f64();
    let report = format!(
        "| measure | value |\n|---|---|\n\
         | file | {mib} MiB |\n\
         | cp (baseline) | {:.0} ms, {:.0} MiB/s |\n\
         | upload (curl -F, streamed, hashed, sniffed, encrypted, local disk) | {:.0} ms, {:.0} MiB/s, **{:.1}x cp** |\n\
         | download (curl -o, decrypted, streamed) | {:.0} ms, {:.0} MiB/s, **{:.1}x cp** |\n\
         | server peak RSS before the upload (VmHWM) | {:.1} MiB |\n\
         | server peak RSS after the upload | {:.1} MiB (+{:.1} MiB, {:.1}% of the file) |\n\
         | server peak RSS after the download | {:.1} MiB (+{:.1} MiB) |\n",
        cp.as_secs_f64() * 1e3,
        mb(cp),
        up.as_secs_f64() * 1e3,
        mb(up),
        up.as_secs_f64() / cp.as_secs_f64(),
        down.as_secs_f64() * 1e3,
        mb(down),
        down.as_secs_f64() / cp.as_secs_f64(),
        idle as f64 / 1048576.0,
        after_up as f64 / 1048576.0,
        (after_up - idle) as f64 / 1048576.0,
        (after_up - idle) as f64 * 100.0 / size as f64,
        after_down as f64 / 1048576.0,
        (after_down - idle) as f64 / 1048576.0,
    );
    println!("{report}");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench/results/raw");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(out.join("documents.md"), &report);
    drop(server);
}

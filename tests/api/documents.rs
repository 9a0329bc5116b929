//! Documents: streamed, type-checked, encrypted uploads on grants, reports and tranches, read
//! by exactly who may read the object, on local disk and on a real S3-compatible server
//! (`s3s-fs`, which `.ci/run` installs), with key rotation and `documents verify`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_service::Service;
use actix_web::http::header::HeaderMap;
use actix_web::test::TestRequest;
use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{Backend, MailSink, TestApp, TestDb, base_env};
use crate::grants::{World, active, world};
use crate::on_both;

/// A running `s3s-fs` on a free port, serving a throwaway folder; killed when dropped.
struct S3Server {
    child: Child,
    port: u16,
    _root: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `s3s-fs` binary: `IDPC_S3S_FS`, or where `.ci/run` installs it.
fn s3s_binary() -> Option<PathBuf> {
    let path = std::env::var_os("IDPC_S3S_FS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/tools/bin/s3s-fs"));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "s3s-fs is missing at {} (.ci/run installs it); the S3 path must be tested in CI",
        path.display()
    );
    eprintln!(
        "NOTE: s3s-fs not found at {}: the S3 store is not tested in this run (set IDPC_S3S_FS or run .ci/run)",
        path.display()
    );
    None
}

impl S3Server {
    fn start() -> Option<S3Server> {
        let bin = s3s_binary()?;
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("idpc-docs")).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(bin)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--access-key",
                "AKTEST",
                "--secret-key",
                "SKTEST-secret",
            ])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("s3s-fs starts");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(S3Server {
                    child,
                    port,
                    _root: root,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("s3s-fs did not listen on port {port}");
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DOCUMENT_STORE".into(), "s3://idpc-docs/hub".into()),
            (
                "S3_ENDPOINT".into(),
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("S3_ACCESS_KEY_ID".into(), "AKTEST".into()),
            ("S3_SECRET_ACCESS_KEY".into(), "SKTEST-secret".into()),
        ]
    }
}

/// Where a test keeps its documents: a folder, or a bucket on a local S3 server.
struct Storage {
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
    _s3: Option<S3Server>,
}

impl Storage {
    fn local() -> Storage {
        let dir = tempfile::tempdir().unwrap();
        Storage {
            env: vec![("DOCUMENT_STORE".into(), dir.path().display().to_string())],
            _dir: dir,
            _s3: None,
        }
    }

    /// S3 on PostgreSQL (local disk when no s3s-fs is installed outside CI), local on SQLite.
    fn for_backend(backend: Backend) -> Storage {
        match (backend, backend == Backend::Postgres) {
            (_, true) => match S3Server::start() {
                Some(s3) => Storage {
                    env: s3.env(),
                    _dir: tempfile::tempdir().unwrap(),
                    _s3: Some(s3),
                },
                None => Storage::local(),
            },
            _ => Storage::local(),
        }
    }

    async fn app(&self, backend: Backend, extra: &[(&str, &str)]) -> TestApp {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(extra);
        TestApp::start_with(backend, &env).await
    }
}

/// A `multipart/form-data` body of (name, file name, bytes) parts.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----idpc-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        // A name with characters a header cannot carry goes percent-encoded (RFC 5987).
        let param = |f: &str| {
            if f.contains('%') {
                format!("filename*=UTF-8''{f}")
            } else {
                format!("filename=\"{f}\"")
            }
        };
        match file {
            Some(f) => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; {}\r\nContent-Type: application/pdf\r\n\r\n", param(f)).as_bytes()),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A PDF of about `size` bytes whose content varies with `seed`.
pub(crate) fn pdf(size: usize, seed: u8) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    v.extend((0..size.saturating_sub(v.len())).map(|i| ((i * 31 + seed as usize) % 251) as u8));
    v
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    kind: &str,
    name: &str,
    bytes: &[u8],
) -> crate::common::http::Resp {
    let (ct, body) = multipart(&[("kind", None, kind.as_bytes()), ("file", Some(name), bytes)]);
    app.post(path).bearer(token).body(&ct, body).send().await
}

/// GET returning the raw bytes (the JSON helper would mangle binary content).
async fn fetch(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, HeaderMap, Vec<u8>) {
    let mut tr = TestRequest::get().uri(path);
    if let Some(t) = token {
        tr = tr.insert_header(("authorization", format!("Bearer {t}")));
    }
    for (k, v) in headers {
        tr = tr.insert_header((*k, *v));
    }
    let res = app.svc.call(tr.to_request()).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = actix_web::body::to_bytes(res.into_body())
        .await
        .unwrap_or_default();
    (status, headers, body.to_vec())
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn report_of(app: &TestApp, w: &World, grant: &str, kind: &str) -> String {
    let body = json!({"kind": kind, "due_on": "2026-12-31", "title": "Final accounts"});
    let r = app
        .post(&format!("/api/v1/grants/{grant}/reports"))
        .bearer(&w.officer.token)
        .json(&body)
        .send()
        .await
        .expect(201);
    r.body["id"].as_str().unwrap().to_string()
}

async fn stored_keys(app: &TestApp) -> Vec<String> {
    app.state.documents.keys().await.unwrap()
}

on_both! {
    async fn a_grantee_uploads_a_report_file_and_the_officer_downloads_the_same_bytes(backend) {
        let storage = Storage::for_backend(backend);
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let report = report_of(&app, &w, &grant, "financial").await;
        // Three segments and a bit: ranges cross segment boundaries.
        let file = pdf(3 * 64 * 1024 + 1234, 1);
        let r = upload(&app, &w.member.token, &format!("/api/v1/reports/{report}/documents"), "report_file", "accounts-2026.pdf", &file).await.expect(201);
        let doc = r.body.clone();
        assert_eq!((doc["kind"].as_str(), doc["file_name"].as_str(), doc["media_type"].as_str()), (Some("report_file"), Some("accounts-2026.pdf"), Some("application/pdf")));
        assert_eq!((doc["size"].as_u64(), doc["sha256"].as_str(), doc["version"].as_i64()), (Some(file.len() as u64), Some(sha(&file).as_str()), Some(1)));
        assert_eq!(doc["uploaded_by"], w.member.id.as_str());
        let id = doc["id"].as_str().unwrap();
        assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/documents/{id}").as_str()));
        let submit = json!({"summary": "All spent as planned", "document_url": "https://example.org/accounts.pdf"});
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect(200);
        // The officer lists and downloads it.
        let list = app.get(&format!("/api/v1/reports/{report}/documents")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
        let (status, h, bytes) = fetch(&app, &format!("/api/v1/documents/{id}/content"), Some(&w.officer.token), &[]).await;
        assert_eq!(status, 200);
        assert_eq!(sha(&bytes), sha(&file));
        assert_eq!(header(&h, "content-type"), "application/pdf");
        assert_eq!(header(&h, "etag"), format!("\"{}\"", sha(&file)));
        assert_eq!(header(&h, "x-content-type-options"), "nosniff");
        assert!(header(&h, "content-disposition").starts_with("attachment; filename=\"accounts-2026.pdf\""), "{h:?}");
        // A range across a segment boundary, and an open-ended one.
        let (status, h, part) = fetch(&app, &format!("/api/v1/documents/{id}/content"), Some(&w.officer.token), &[("range", "bytes=65530-65545")]).await;
        assert_eq!((status, part.as_slice()), (206, &file[65530..65546]));
        assert_eq!(header(&h, "content-range"), format!("bytes 65530-65545/{}", file.len()));
        let (status, _, tail) = fetch(&app, &format!("/api/v1/documents/{id}/content"), Some(&w.officer.token), &[("range", "bytes=-100")]).await;
        assert_eq!((status, tail.as_slice()), (206, &file[file.len() - 100..]));
        let (status, _, _) = fetch(&app, &format!("/api/v1/documents/{id}/content"), Some(&w.officer.token), &[("range", format!("bytes={}-", file.len() + 5).as_str())]).await;
        assert_eq!(status, 416);
        // What the store holds is not the plaintext: no 64-byte run of the file appears in it.
        let key: String = {
            let id = id.to_string();
            app.db(move |c| {
                use diesel::prelude::*;
                use idpc_hub::db::schema::documents::dsl as d;
                d::documents.find(id).select(d::storage_key).first(c).unwrap()
            }).await
        };
        let raw = app.state.documents.raw(&key).await.unwrap();
        assert_eq!(raw.len(), file.len() + 4 * 16);
        for at in [0, 4096, 70_000, 150_000, file.len() - 64] {
            assert!(!raw.windows(64).any(|win| win == &file[at..at + 64]), "plaintext at {at} is in the store");
        }
        assert!(!raw.starts_with(b"%PDF"));
    }
}

on_both! {
    async fn after_a_key_rotation_old_and_new_files_both_open(backend) {
        let storage = Storage::for_backend(backend);
        // Before: only the old key e0.
        let old_key = crate::common::TEST_ENCRYPTION_KEYS.split(',').nth(1).unwrap();
        let before = storage.app(backend, &[("ENCRYPTION_KEYS", old_key)]).await;
        let w = world(&before).await;
        let org = format!("/api/v1/organisations/{}/documents", w.grantee);
        let old = pdf(70_000, 2);
        let old_doc = upload(&before, &w.member.token, &org, "registration", "certificate.pdf", &old).await.expect(201).body;
        // After: e1 first, e0 kept; a second instance on the same database and store.
        let mut vars = base_env(&before.db.url, before.mail.port);
        for (k, v) in &storage.env {
            vars.insert(k.clone(), v.clone());
        }
        let after = TestApp::from_parts(TestDb::alias(&before.db), MailSink::start(), vars).await;
        let new = pdf(1000, 3);
        let new_doc = upload(&after, &w.member.token, &org, "safeguarding_policy", "policy.pdf", &new).await.expect(201).body;
        for (doc, bytes) in [(&old_doc, &old), (&new_doc, &new)] {
            let (status, _, got) = fetch(&after, &format!("/api/v1/documents/{}/content", doc["id"].as_str().unwrap()), Some(&w.member.token), &[]).await;
            assert_eq!((status, sha(&got)), (200, sha(bytes)));
        }
        let kids: Vec<String> = after.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::documents::dsl as d;
            d::documents.order(d::uploaded_at.asc()).select(d::key_id).load(c).unwrap()
        }).await;
        assert_eq!(kids, vec!["e0".to_string(), "e1".to_string()]);
    }
}

/// A body stream that counts what the server pulls from it.
fn counted_stream(total: usize, pulled: Arc<AtomicUsize>) -> actix_http::Payload {
    const CHUNK: usize = 64 * 1024;
    let head = b"------idpc-test-boundary-7d1f\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n\r\n%PDF-1.7\n".to_vec();
    let chunks = std::iter::once(head).chain((0..total / CHUNK).map(|_| vec![b'x'; CHUNK]));
    // Like a socket, each chunk arrives after a pending poll: the reader gets what has come.
    let stream =
        futures_util::stream::unfold((chunks, pulled), |(mut chunks, pulled)| async move {
            tokio::task::yield_now().await;
            let c = chunks.next()?;
            pulled.fetch_add(c.len(), Ordering::SeqCst);
            Some((
                Ok::<_, actix_http::error::PayloadError>(Bytes::from(c)),
                (chunks, pulled),
            ))
        });
    actix_http::Payload::Stream {
        payload: Box::pin(stream),
    }
}

on_both! {
    async fn a_26_mib_upload_is_refused_with_413_without_being_read_whole(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let path = format!("/api/v1/organisations/{}/documents", w.grantee);
        let size = 26 * 1024 * 1024;
        let ct = "multipart/form-data; boundary=----idpc-test-boundary-7d1f";
        for declared in [true, false] {
            let pulled = Arc::new(AtomicUsize::new(0));
            let mut tr = TestRequest::post().uri(&path).insert_header(("authorization", format!("Bearer {}", w.member.token))).insert_header(("content-type", ct));
            if declared {
                tr = tr.insert_header(("content-length", size.to_string()));
            }
            let (req, _) = tr.to_request().replace_payload(counted_stream(size, pulled.clone()));
            let res = app.svc.call(req).await.unwrap();
            assert_eq!(res.status().as_u16(), 413, "declared length: {declared}");
            let body: Value = serde_json::from_slice(&actix_web::body::to_bytes(res.into_body()).await.unwrap()).unwrap();
            assert_eq!(body["type"], "urn:idpc-hub:problem:payload-too-large");
            let read = pulled.load(Ordering::SeqCst);
            if declared {
                assert_eq!(read, 0, "Content-Length alone decides");
            } else {
                assert!(read <= 25 * 1024 * 1024 + 256 * 1024, "read {read} bytes: stopped at the limit");
            }
        }
        // Nothing kept: no row, no object.
        let list = app.get(&path).bearer(&w.member.token).send().await.expect(200);
        assert_eq!(list.body["total"], 0);
        assert!(stored_keys(&app).await.is_empty());
    }
}

on_both! {
    async fn an_executable_named_report_pdf_is_415_and_file_names_are_stored_cleaned(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let path = format!("/api/v1/organisations/{}/documents", w.grantee);
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
        elf.extend(vec![0u8; 4000]);
        let r = upload(&app, &w.member.token, &path, "other", "report.pdf", &elf).await.expect_problem(415);
        assert!(r.body["detail"].as_str().unwrap().contains("application/x-executable"), "{}", r.body);
        assert!(stored_keys(&app).await.is_empty());
        // A name with folders, control and bidi characters.
        let csv = b"line,amount\nrent,100\n";
        let r = upload(&app, &w.member.token, &path, "budget", "..%2F..%2Fetc%2Fbud%07get%E2%80%AE.csv", csv).await.expect(201);
        assert_eq!(r.body["file_name"], "budget.csv");
        assert_eq!(r.body["media_type"], "text/csv");
        // A bad kind, and no file at all: 400 naming the field, nothing kept.
        let r = upload(&app, &w.member.token, &path, "poem", "a.pdf", &pdf(100, 1)).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "kind");
        let (ct, body) = multipart(&[("kind", None, b"other")]);
        let r = app.post(&path).bearer(&w.member.token).body(&ct, body).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "file");
        assert_eq!(stored_keys(&app).await.len(), 1);
    }
}

on_both! {
    async fn partner_apps_other_organisations_members_and_anonymous_callers_never_get_a_document(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let r = upload(&app, &w.officer.token, &format!("/api/v1/grants/{grant}/documents"), "agreement", "agreement.pdf", &pdf(5000, 4)).await.expect(201);
        let id = r.body["id"].as_str().unwrap().to_string();
        let (_, _, app_token) = app.api_client(&w.admin, &w.donor, &["grants:read", "directory:read"]).await;
        let other_org = app.member_org("Elsewhere").await;
        let outsider = app.user("member", Some(&other_org)).await;
        for token in [app_token.as_str(), outsider.token.as_str()] {
            for path in [format!("/api/v1/documents/{id}"), format!("/api/v1/documents/{id}/content"), format!("/api/v1/grants/{grant}/documents")] {
                let (status, _, _) = fetch(&app, &path, Some(token), &[]).await;
                assert_eq!(status, 404, "{path}");
            }
            upload(&app, token, &format!("/api/v1/grants/{grant}/documents"), "other", "x.pdf", &pdf(100, 1)).await.expect_problem(404);
            app.delete(&format!("/api/v1/documents/{id}")).bearer(token).send().await.expect_problem(404);
        }
        let (status, _, _) = fetch(&app, &format!("/api/v1/documents/{id}/content"), None, &[]).await;
        assert_eq!(status, 401);
        // The grantee's own member reads it.
        let (status, _, bytes) = fetch(&app, &format!("/api/v1/documents/{id}/content"), Some(&w.member.token), &[]).await;
        assert_eq!((status, sha(&bytes)), (200, sha(&pdf(5000, 4))));
    }
}

on_both! {
    async fn documents_of_an_accepted_report_or_a_paid_tranche_are_never_deleted_only_superseded(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        // A due report is a draft: its grantee deletes a file.
        let report = report_of(&app, &w, &grant, "narrative").await;
        let path = format!("/api/v1/reports/{report}/documents");
        let draft = upload(&app, &w.member.token, &path, "report_file", "draft.pdf", &pdf(300, 5)).await.expect(201).body;
        app.delete(&format!("/api/v1/documents/{}", draft["id"].as_str().unwrap())).bearer(&w.member.token).send().await.expect(204);
        assert!(stored_keys(&app).await.is_empty());
        let kept = upload(&app, &w.member.token, &path, "report_file", "final.pdf", &pdf(300, 6)).await.expect(201).body;
        let kept_id = kept["id"].as_str().unwrap().to_string();
        let submit = json!({"summary": "Done", "document_url": "https://example.org/r.pdf"});
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect(200);
        let r = app.delete(&format!("/api/v1/documents/{kept_id}")).bearer(&w.member.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:document-locked");
        app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.officer.token).send().await.expect(200);
        app.delete(&format!("/api/v1/documents/{kept_id}")).bearer(&w.officer.token).send().await.expect_problem(409);
        // Accepted: read-only, no new file nor version.
        upload(&app, &w.member.token, &path, "report_file", "late.pdf", &pdf(300, 7)).await.expect_problem(409);
        let (ct, body) = multipart(&[("file", Some("v2.pdf"), &pdf(300, 8))]);
        app.post(&format!("/api/v1/documents/{kept_id}/versions")).bearer(&w.member.token).body(&ct, body).send().await.expect_problem(409);
        // A paid tranche's proof of payment: superseded by a new version, never deleted.
        let d = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "200.00", "planned_date": "2026-05-01", "note": "Tranche"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token).json(&json!({"payment_reference": "P-1", "paid_on": "2026-05-02", "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        let proof = upload(&app, &w.finance.token, &format!("/api/v1/disbursements/{d}/documents"), "proof_of_payment", "bank.pdf", &pdf(800, 9)).await.expect(201).body;
        let proof_id = proof["id"].as_str().unwrap().to_string();
        app.delete(&format!("/api/v1/documents/{proof_id}")).bearer(&w.finance.token).send().await.expect_problem(409);
        let (ct, body) = multipart(&[("file", Some("bank-corrected.pdf"), &pdf(900, 10)), ("title", None, b"Corrected statement")]);
        let v2 = app.post(&format!("/api/v1/documents/{proof_id}/versions")).bearer(&w.finance.token).body(&ct, body).send().await.expect(201).body;
        assert_eq!((v2["version"].as_i64(), v2["document_id"].as_str(), v2["kind"].as_str()), (Some(2), Some(proof_id.as_str()), Some("proof_of_payment")));
        let old = app.get(&format!("/api/v1/documents/{proof_id}")).bearer(&w.member.token).send().await.expect(200);
        assert_eq!(old.body["superseded"], true);
        let (status, _, bytes) = fetch(&app, &format!("/api/v1/documents/{proof_id}/content"), Some(&w.member.token), &[]).await;
        assert_eq!((status, sha(&bytes)), (200, sha(&pdf(800, 9))));
        let list = app.get(&format!("/api/v1/disbursements/{d}/documents")).bearer(&w.member.token).send().await.expect(200);
        let names: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|d| d["file_name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["bank-corrected.pdf"]);
    }
}

on_both! {
    async fn an_upload_with_the_same_idempotency_key_is_stored_once(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let path = format!("/api/v1/organisations/{}/documents", w.grantee);
        let (ct, body) = multipart(&[("kind", None, b"statutes"), ("file", Some("statutes.pdf"), &pdf(2000, 11))]);
        let first = app.post(&path).bearer(&w.member.token).header("idempotency-key", "upload-1").body(&ct, body.clone()).send().await.expect(201);
        let again = app.post(&path).bearer(&w.member.token).header("idempotency-key", "upload-1").body(&ct, body).send().await.expect(201);
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(first.body["id"], again.body["id"]);
        assert_eq!(stored_keys(&app).await.len(), 1);
    }
}

on_both! {
    async fn documents_verify_names_a_tampered_object(backend) {
        let storage = Storage::for_backend(backend);
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let path = format!("/api/v1/organisations/{}/documents", w.grantee);
        let good = upload(&app, &w.member.token, &path, "statutes", "statutes.pdf", &pdf(1000, 12)).await.expect(201).body;
        let bad = upload(&app, &w.member.token, &path, "registration", "registration.pdf", &pdf(100_000, 13)).await.expect(201).body;
        let report = idpc_hub::documents::verify::run(&app.state).await.unwrap();
        assert_eq!((report.checked, report.mismatches.len()), (2, 0));
        let bad_id = bad["id"].as_str().unwrap().to_string();
        let key: String = {
            let id = bad_id.clone();
            app.db(move |c| {
                use diesel::prelude::*;
                use idpc_hub::db::schema::documents::dsl as d;
                d::documents.find(id).select(d::storage_key).first(c).unwrap()
            }).await
        };
        let mut raw = app.state.documents.raw(&key).await.unwrap().to_vec();
        raw[70_000] ^= 0x01;
        app.state.documents.put_raw(&key, Bytes::from(raw)).await.unwrap();
        let report = idpc_hub::documents::verify::run(&app.state).await.unwrap();
        assert_eq!(report.mismatches.len(), 1);
        assert_eq!(report.mismatches[0].id, bad_id);
        assert_eq!(report.mismatches[0].file_name, "registration.pdf");
        // The command line says the same and exits non-zero.
        let mut vars = base_env(&app.db.url, app.mail.port);
        for (k, v) in &storage.env {
            vars.insert(k.clone(), v.clone());
        }
        let out = Command::new(env!("CARGO_BIN_EXE_idpc-hub")).args(["documents", "verify"]).env_clear()
            .envs(vars).env("PATH", std::env::var("PATH").unwrap_or_default()).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{stdout}");
        assert!(stdout.contains(&format!("TAMPERED {bad_id} (registration.pdf)")), "{stdout}");
        assert!(!stdout.contains(good["id"].as_str().unwrap()), "{stdout}");
    }
}

on_both! {
    async fn the_daily_sweep_removes_objects_no_row_names_once_a_day_old(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let path = format!("/api/v1/organisations/{}/documents", w.grantee);
        upload(&app, &w.member.token, &path, "statutes", "statutes.pdf", &pdf(500, 14)).await.expect(201);
        app.state.documents.put_raw("orphan-of-a-crash", Bytes::from_static(b"sealed bytes")).await.unwrap();
        assert_eq!(idpc_hub::documents::sweep::run(&app.state).await.unwrap(), 0, "too young to tell from an upload in flight");
        app.clock.advance(chrono::Duration::days(2));
        assert_eq!(idpc_hub::documents::sweep::run(&app.state).await.unwrap(), 1);
        let keys = stored_keys(&app).await;
        assert_eq!(keys.len(), 1);
        assert!(!keys.contains(&"orphan-of-a-crash".to_string()));
    }
}

on_both! {
    async fn a_financial_report_is_submitted_only_with_a_file_and_the_officer_email_lists_its_files(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let report = report_of(&app, &w, &grant, "financial").await;
        // Without a file (a link alone is not enough): 409 naming the documents, nothing moves.
        let submit = json!({"summary": "All spent as planned", "document_url": "https://example.org/a.pdf"});
        app.emails().await;
        let r = app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:report-files-missing");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("at least one file") && detail.contains(&format!("/api/v1/reports/{report}/documents")), "{detail}");
        let after = app.get(&format!("/api/v1/reports/{report}")).bearer(&w.member.token).send().await.expect(200);
        assert_eq!(after.body["status"], "due");
        assert!(app.emails().await.is_empty());
        // With two files, and no link: submitted; the officer's email names both with sizes.
        let path = format!("/api/v1/reports/{report}/documents");
        upload(&app, &w.member.token, &path, "report_file", "accounts-2026.pdf", &pdf(49_357, 1)).await.expect(201);
        upload(&app, &w.member.token, &path, "report_file", "receipts.pdf", &pdf(812, 2)).await.expect(201);
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&json!({"summary": "All spent as planned"})).send().await.expect(200);
        let mails = app.emails().await;
        let to_officer = mails.iter().find(|m| m.recipient() == w.officer.email).expect("the officer is told");
        assert!(to_officer.subject().contains("submitted"), "{}", to_officer.subject());
        for body in [to_officer.text(), to_officer.html()] {
            assert!(body.contains("accounts-2026.pdf (48.2 KB)"), "{body}");
            assert!(body.contains("receipts.pdf (812 bytes)"), "{body}");
        }
        // A narrative report still goes without files.
        let narrative = report_of(&app, &w, &grant, "narrative").await;
        app.post(&format!("/api/v1/reports/{narrative}/submit")).bearer(&w.member.token).json(&json!({"summary": "What we did"})).send().await.expect(200);
    }
}

on_both! {
    async fn a_server_missing_the_key_of_a_stored_document_refuses_to_start_naming_the_key(backend) {
        let storage = Storage::local();
        let app = storage.app(backend, &[]).await;
        let w = world(&app).await;
        let org = format!("/api/v1/organisations/{}/documents", w.grantee);
        // Sealed under e1, the newest key of the test ring.
        upload(&app, &w.member.token, &org, "statutes", "statutes.pdf", &pdf(500, 4)).await.expect(201);
        // A second start on the same database whose ENCRYPTION_KEYS lost e1 (only e0 left).
        let mut vars = base_env(&app.db.url, app.mail.port);
        for (k, v) in &storage.env {
            vars.insert(k.clone(), v.clone());
        }
        let old_only = crate::common::TEST_ENCRYPTION_KEYS.split(',').nth(1).unwrap();
        vars.insert("ENCRYPTION_KEYS".into(), old_only.into());
        let config = idpc_hub::config::Config::from_map(&vars).unwrap();
        let started = actix_web::web::block(move || idpc_hub::AppState::new(config)).await.unwrap();
        let err = started.err().expect("the start is refused").to_string();
        assert!(err.contains("ENCRYPTION_KEYS lacks the key id(s) \"e1\" (1 stored document(s))"), "{err}");
        // With the key back (after the new one), it starts.
        vars.insert("ENCRYPTION_KEYS".into(), crate::common::TEST_ENCRYPTION_KEYS.into());
        let config = idpc_hub::config::Config::from_map(&vars).unwrap();
        assert!(actix_web::web::block(move || idpc_hub::AppState::new(config)).await.unwrap().is_ok());
    }
}

//! Documents in a real browser (headless Chromium over WebDriver, the helpers of
//! `browser.rs`, every page audited with axe-core and at phone width): a grantee's member
//! uploads a file to a financial report from its page (a plain multipart form, no
//! JavaScript) and submits it; the officer downloads it from the report page and gets the
//! same bytes; finance uploads the bank's proof of payment on the tranche page.

use std::net::TcpListener;

use fantoccini::{Client, Locator};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::browser::{
    audit, browser_or_refuse, click, fill, sign_in, sign_out, start_driver, visit, wait_text,
};
use crate::common::{Backend, TestApp};
use crate::grants::{active, world};
use crate::on_both;

/// The app on a real port with its documents in `store`.
async fn serve(backend: Backend, store: &str) -> (TestApp, String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let app = TestApp::start_with(
        backend,
        &[("PUBLIC_BASE_URL", &base), ("DOCUMENT_STORE", store)],
    )
    .await;
    let state = app.state.clone();
    let server = actix_web::HttpServer::new(move || idpc_hub::build_app(state.clone()))
        .workers(2)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (app, base, handle)
}

/// A PDF of `size` bytes written to `dir/name`; its bytes and path.
fn pdf_file(dir: &std::path::Path, name: &str, size: usize, seed: u8) -> (Vec<u8>, String) {
    let mut v = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    v.extend((0..size - v.len()).map(|i| ((i * 17 + seed as usize) % 251) as u8));
    let path = dir.join(name);
    std::fs::write(&path, &v).unwrap();
    (v, path.display().to_string())
}

/// Chooses the file at `path` in the file input `css` (as a person picking it would).
async fn choose_file(c: &Client, css: &str, path: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(path)
        .await
        .unwrap();
}

/// A browser like `browser::open_browser`'s (headless, a phone's width) that saves
/// downloads into `dir` without asking.
async fn open_browser_saving_to(
    chromium: &str,
    driver: &crate::browser::Driver,
    dir: &std::path::Path,
) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0}},
            "prefs": {
                "download.default_directory": dir.display().to_string(),
                "download.prompt_for_download": false,
                "safebrowsing.enabled": false,
            },
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port()))
        .await
        .expect("a WebDriver session in headless Chromium")
}

/// Clicks the download link `css` and waits for the browser to have saved `name` in `dir`.
async fn download(c: &Client, css: &str, dir: &std::path::Path, name: &str) -> Vec<u8> {
    click(c, css).await;
    let path = dir.join(name);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < until {
        let partial = std::fs::read_dir(dir).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".crdownload")
        });
        if path.exists() && !partial {
            return std::fs::read(&path).unwrap();
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the browser did not save {name} in {}", dir.display());
}

on_both! {
    async fn a_grantee_uploads_a_report_file_and_submits_the_officer_downloads_it_and_finance_adds_a_proof_of_payment(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let store = tempfile::tempdir().unwrap();
        let files = tempfile::tempdir().unwrap();
        let (app, base, server) = serve(backend, &store.path().display().to_string()).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let report = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "financial", "due_on": "2026-12-31", "title": "Annual accounts"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let tranche = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "200.00", "planned_date": "2026-05-01", "note": "First tranche"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{tranche}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let account = app.grant_payee(&w.finance.token, &grant).await;
        app.post(&format!("/api/v1/disbursements/{tranche}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "BANK-7", "paid_on": "2026-05-02", "bank_account_id": account})).send().await.expect(200);
        let (accounts, accounts_path) = pdf_file(files.path(), "accounts-2026.pdf", 70_000, 1);
        let (_, proof_path) = pdf_file(files.path(), "bank-statement.pdf", 3_000, 2);

        let driver = start_driver(&driver);
        let saved = tempfile::tempdir().unwrap();
        let c = open_browser_saving_to(&chromium, &driver, saved.path()).await;

        // The member: a financial report is not submitted without a file; with one it is.
        visit(&c, &format!("{base}/reports/{report}")).await;
        sign_in(&c, &w.member.email).await;
        wait_text(&c, "#status", "due").await;
        wait_text(&c, ".documents", "No files yet.").await;
        audit(&c).await;
        fill(&c, "#submit-summary", "Spent as planned; the accounts are attached.").await;
        click(&c, &format!("form[action='/reports/{report}/submit'] button[type=submit]")).await;
        wait_text(&c, &format!("form[action='/reports/{report}/submit'] .alert"), "at least one file").await;
        audit(&c).await;
        choose_file(&c, "#upload-file", &accounts_path).await;
        fill(&c, "#upload-title", "Audited accounts 2026").await;
        click(&c, &format!("form[action='/reports/{report}/documents'] button[type=submit]")).await;
        wait_text(&c, ".notice", "accounts-2026.pdf is uploaded").await;
        wait_text(&c, ".files", "accounts-2026.pdf").await;
        wait_text(&c, ".files", "application/pdf · 68.4 KB").await;
        audit(&c).await;
        fill(&c, "#submit-summary", "Spent as planned; the accounts are attached.").await;
        click(&c, &format!("form[action='/reports/{report}/submit'] button[type=submit]")).await;
        wait_text(&c, "#status", "submitted").await;
        audit(&c).await;
        sign_out(&c).await;

        // The officer opens the report and downloads the same bytes.
        visit(&c, &format!("{base}/reports/{report}")).await;
        sign_in(&c, &w.officer.email).await;
        wait_text(&c, ".files", "accounts-2026.pdf").await;
        audit(&c).await;
        let got = download(&c, ".files a", saved.path(), "accounts-2026.pdf").await;
        assert_eq!(hex::encode(Sha256::digest(&got)), hex::encode(Sha256::digest(&accounts)));
        sign_out(&c).await;

        // Finance adds the bank's proof of payment to the paid tranche.
        visit(&c, &format!("{base}/disbursements/{tranche}")).await;
        sign_in(&c, &w.finance.email).await;
        wait_text(&c, "#status", "paid").await;
        audit(&c).await;
        choose_file(&c, "#upload-file", &proof_path).await;
        click(&c, &format!("form[action='/disbursements/{tranche}/documents'] button[type=submit]")).await;
        wait_text(&c, ".notice", "bank-statement.pdf is uploaded").await;
        wait_text(&c, ".files", "proof of payment").await;
        audit(&c).await;
        c.close().await.unwrap();
        drop(driver);

        let r = app.get(&format!("/api/v1/reports/{report}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["status"], "submitted");
        let docs = app.get(&format!("/api/v1/reports/{report}/documents")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(docs.body["data"][0]["title"], "Audited accounts 2026");
        let proofs = app.get(&format!("/api/v1/disbursements/{tranche}/documents")).bearer(&w.member.token).send().await.expect(200);
        assert_eq!((proofs.body["data"][0]["kind"].as_str(), proofs.body["data"][0]["file_name"].as_str()), (Some("proof_of_payment"), Some("bank-statement.pdf")));
        server.stop(true).await;
    }
}

//! The console in a real browser: the app on a real TCP port, headless Chromium driven over
//! WebDriver (chromedriver + fantoccini). A member accepts the invitation from the link in
//! the email, signs in and submits a report; an officer opens the inbox and approves a
//! tranche; a second officer gives the second approval; finance pays.
//!
//! When Chromium or chromedriver is missing the test fails saying so (`.ci/run` installs
//! them); set IDPC_SKIP_BROWSER_TESTS=1 to skip it knowingly, which it then prints.
//!
//! Every page a browser test shows is checked by [`audit`]: axe-core finds no serious or
//! critical accessibility violation, and the page fits a 390 px wide window.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::common::{PASSWORD, TestApp};
use crate::grants::{active, world};
use crate::on_both;

/// chromedriver, stopped when dropped.
pub(crate) struct Driver {
    child: Child,
    pub(crate) port: u16,
}

impl Driver {
    /// The port chromedriver listens on.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The browser and its driver, or why they cannot run.
fn tools() -> Result<(String, String), String> {
    let chromium = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    for (what, path) in [("chromium", &chromium), ("chromedriver", &driver)] {
        if !Path::new(path).exists() {
            return Err(format!("{what} is not installed at {path}"));
        }
    }
    Ok((chromium, driver))
}

/// `None` when the browser test must not run (and says so); panics when it cannot run
/// without having been told to skip.
pub(crate) fn browser_or_refuse() -> Option<(String, String)> {
    match tools() {
        Ok(t) => Some(t),
        Err(why) if std::env::var("IDPC_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") => {
            eprintln!("BROWSER TEST DID NOT RUN: {why} (IDPC_SKIP_BROWSER_TESTS=1)");
            None
        }
        Err(why) => panic!(
            "the browser test cannot run: {why}. Install them with `apt-get install -y chromium \
             chromium-driver` (.ci/run does), or set IDPC_SKIP_BROWSER_TESTS=1 to skip it knowingly."
        ),
    }
}

pub(crate) fn start_driver(driver: &str) -> Driver {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let d = Driver { child, port };
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "chromedriver did not listen within 20 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    d
}

pub(crate) async fn open_browser(chromium: &str, driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            // A phone's viewport: the pages must fit it (see `audit`). Chromium keeps a window
            // at least 500 px wide, so the width is emulated rather than set on the window.
            "mobileEmulation": {"deviceMetrics": {"width": PHONE_WIDTH, "height": 844, "pixelRatio": 1.0}},
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless Chromium")
}

/// The narrowest window every page must fit without scrolling sideways.
const PHONE_WIDTH: i64 = 390;

/// Where `.ci/run` installs axe-core, unless AXE_CORE_JS names the file.
fn axe_path() -> String {
    std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/.ci/tools/node_modules/axe-core/axe.min.js"
        )
        .into()
    })
}

/// axe-core's source, read once; `None` (said once) when it is missing outside CI. Under
/// CI=true a missing axe-core fails the test: an accessibility check that silently does not
/// run is no check.
fn axe_source() -> Option<&'static str> {
    static AXE: OnceLock<Option<String>> = OnceLock::new();
    AXE.get_or_init(|| {
        let path = axe_path();
        match std::fs::read_to_string(&path) {
            Ok(js) => Some(js),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
                "axe-core is not readable at {path} ({e}): the accessibility check cannot run. \
                 Install it with `npm install --prefix .ci/tools axe-core` (.ci/run does) or set \
                 AXE_CORE_JS to its axe.min.js."
            ),
            Err(e) => {
                eprintln!("ACCESSIBILITY CHECK DID NOT RUN: axe-core not readable at {path} ({e})");
                None
            }
        }
    })
    .as_deref()
}

/// Checks the page the browser shows as a person with a phone or a screen reader would meet
/// it: it fits 390 px without a sideways scroll, and axe-core finds no serious or critical
/// violation (their list, with the elements concerned, is the failure message).
pub(crate) async fn audit(c: &Client) {
    let found = audit_findings(c).await;
    let url = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    assert!(
        found.is_empty(),
        "{url} fails its audit:\n{}",
        found.join("\n")
    );
}

/// What [`audit`] finds wrong with the page the browser shows, one line each.
async fn audit_findings(c: &Client) -> Vec<String> {
    let widths = c
        .execute(
            // A phone widens its layout to what overflows, so the screen is the window here.
            "return [window.screen.width, document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (window, page) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert_eq!(window, PHONE_WIDTH, "the window is not a phone's width");
    let mut found = Vec::new();
    if page > PHONE_WIDTH {
        found.push(format!(
            "the page is {page} px wide: it does not fit {PHONE_WIDTH} px"
        ));
    }
    let Some(axe) = axe_source() else {
        return found;
    };
    c.execute(&format!("{axe}\n;window.axe = axe; return true;"), vec![])
        .await
        .unwrap_or_else(|e| panic!("axe-core did not load: {e}"));
    let violations = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']})
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)))
               .catch(e => done([`axe-core failed: ${e}`]));",
            vec![],
        )
        .await
        .unwrap_or_else(|e| panic!("axe-core did not run: {e}"));
    found.extend(serde_json::from_value::<Vec<String>>(violations).unwrap());
    found
}

/// Opens `url` and audits the page it lands on.
pub(crate) async fn visit(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    audit(c).await;
}

pub(crate) async fn fill(c: &Client, css: &str, text: &str) {
    let e = c
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

pub(crate) async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits until the element at `css` shows `want` (the page may still be the previous one, or
/// be replaced while it is read).
pub(crate) async fn wait_text(c: &Client, css: &str, want: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while Instant::now() < until {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
        {
            if t.contains(want) {
                return;
            }
            seen = t;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let url = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    panic!("{css} never showed {want:?} (last {seen:?}) on {url}");
}

/// Saves what the browser shows as `name`.png when IDPC_SCREENSHOTS names a folder (to look
/// at the pages as a person would).
pub(crate) async fn snap(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("IDPC_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

pub(crate) async fn sign_in(c: &Client, email: &str) {
    fill(c, "#sign_in-email", email).await;
    fill(c, "#sign_in-password", PASSWORD).await;
    click(c, "form[action='/sign-in'] button[type=submit]").await;
    wait_text(c, "header .who", "Signed in as").await;
    audit(c).await;
}

pub(crate) async fn sign_out(c: &Client) {
    click(c, "form[action='/sign-out'] button").await;
    c.wait()
        .for_element(Locator::Css("#sign_in-email"))
        .await
        .unwrap();
    audit(c).await;
}

on_both! {
    async fn from_the_invitation_email_to_a_paid_tranche_in_a_real_browser(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        // The app on a real port, its email links pointing at it.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let app = TestApp::start_with(backend, &[("PUBLIC_BASE_URL", &base)]).await;
        let state = app.state.clone();
        let server = actix_web::HttpServer::new(move || idpc_hub::build_app(state.clone()))
            .workers(2)
            .listen(listener)
            .unwrap()
            .run();
        let server_handle = server.handle();
        actix_web::rt::spawn(server);

        let w = world(&app).await;
        // The grantee's usable account the payment names (the pay form offers it).
        app.payee(&w.grantee, "USD").await;
        let grant = active(&app, &w, "100000.00").await;
        let report = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": "2026-12-31", "title": "Annual report"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        // Above SECOND_APPROVAL_THRESHOLD: two approvers.
        let tranche = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "60000.00", "planned_date": "2026-05-01", "note": "Second half"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post("/api/v1/users").bearer(&w.admin.token)
            .json(&json!({"email": "amina@hrk.example", "display_name": "Amina", "role": "member", "organisation_id": w.grantee}))
            .send().await.expect(201);
        let mails = app.emails().await;
        let invitation = mails.iter().find_map(|m| m.link(&format!("{base}/accept-invitation"))).expect("the invitation email has its link");
        let awaits = mails.iter().find(|m| m.recipient() == w.officer.email && m.text().contains("60,000.00"))
            .expect("the officer is told a tranche awaits approval");
        let awaits_link = awaits.link(&base).expect("with a link");

        let driver = start_driver(&driver);
        let c = open_browser(&chromium, &driver).await;

        // The new member accepts the invitation from the email and submits the report.
        visit(&c, &invitation).await;
        fill(&c, "#accept-display_name", "Amina Wanjiru").await;
        fill(&c, "#accept-password", PASSWORD).await;
        click(&c, "form[action='/accept-invitation'] button[type=submit]").await;
        wait_text(&c, "header .who", "Amina Wanjiru").await;
        audit(&c).await;
        click(&c, &format!("a[href='/reports/{report}']")).await;
        wait_text(&c, "#status", "due").await;
        audit(&c).await;
        fill(&c, "#submit-summary", "Paralegals supported 140 people in 2026.").await;
        fill(&c, "#submit-document_url", "https://docs.example/annual-2026.pdf").await;
        click(&c, &format!("form[action='/reports/{report}/submit'] button[type=submit]")).await;
        wait_text(&c, "#status", "submitted").await;
        audit(&c).await;
        snap(&c, "report").await;
        sign_out(&c).await;

        // The officer follows the email's link, signs in, and approves from the inbox.
        visit(&c, &awaits_link).await;
        visit(&c, &format!("{base}/inbox")).await;
        sign_in(&c, &w.officer.email).await;
        wait_text(&c, "h1", "Inbox").await;
        snap(&c, "inbox").await;
        click(&c, &format!("a[href='/disbursements/{tranche}']")).await;
        wait_text(&c, "#status", "requested").await;
        audit(&c).await;
        click(&c, &format!("form[action='/disbursements/{tranche}/approve'] button")).await;
        wait_text(&c, ".notice", "approval is recorded").await;
        wait_text(&c, "#status", "requested").await;
        audit(&c).await;
        sign_out(&c).await;

        // The second officer gives the second approval.
        visit(&c, &format!("{base}/inbox")).await;
        sign_in(&c, &w.officer2.email).await;
        click(&c, &format!("a[href='/disbursements/{tranche}']")).await;
        click(&c, &format!("form[action='/disbursements/{tranche}/approve'] button")).await;
        wait_text(&c, "#status", "approved").await;
        audit(&c).await;
        sign_out(&c).await;

        // Finance pays it.
        visit(&c, &format!("{base}/payments")).await;
        sign_in(&c, &w.finance.email).await;
        click(&c, &format!("a[href='/disbursements/{tranche}']")).await;
        fill(&c, "#pay-payment_reference", "BANK-2026-118").await;
        snap(&c, "tranche").await;
        let today = chrono::Utc::now().date_naive().to_string();
        // A date input's typing depends on the browser's locale; the value is set directly.
        c.execute("document.getElementById('pay-paid_on').value = arguments[0];", vec![json!(today)]).await.unwrap();
        click(&c, &format!("form[action='/disbursements/{tranche}/pay'] button")).await;
        wait_text(&c, "#status", "paid").await;
        audit(&c).await;
        c.close().await.unwrap();
        drop(driver);

        let t = app.get(&format!("/api/v1/disbursements/{tranche}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(t.body["status"], "paid");
        assert_eq!(t.body["payment_reference"], "BANK-2026-118");
        assert_eq!(t.body["approved_by"], json!([w.officer.id, w.officer2.id]));
        let r = app.get(&format!("/api/v1/reports/{report}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["status"], "submitted");
        assert_eq!(r.body["submitter_name"], "Amina Wanjiru");
        server_handle.stop(true).await;
    }
}

/// The audit itself is checked on a page made to fail it, so a passing audit means something.
#[actix_web::test]
async fn the_page_audit_reports_an_unlabelled_field_and_a_page_wider_than_a_phone() {
    let Some((chromium, driver)) = browser_or_refuse() else {
        return;
    };
    let driver = start_driver(&driver);
    let c = open_browser(&chromium, &driver).await;
    c.goto("data:text/html,<!doctype html><html lang=en><meta name=viewport content='width=device-width'>\
            <title>t</title><main><h1>t</h1>\
            <input type=text><div style='width:600px'>wide</div></main></html>")
        .await
        .unwrap();
    let found = audit_findings(&c).await;
    c.close().await.unwrap();
    assert!(
        found.iter().any(|f| f.contains("does not fit 390 px")),
        "{found:?}"
    );
    if axe_source().is_some() {
        assert!(
            found.iter().any(|f| f.starts_with("critical label:")),
            "{found:?}"
        );
    }
}

//! Money out the door in a real browser (headless Chromium over WebDriver, every page audited
//! with axe-core and at phone width): a member proposes its organisation's bank account, a
//! finance officer confirms it, and once the cooling-off period has passed (the settable
//! clock) one finance officer prepares a run of the approved tranche, another approves it and
//! downloads its bank file.

use std::net::TcpListener;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{
    audit, browser_or_refuse, click, fill, open_browser, sign_in, sign_out, start_driver, visit,
    wait_text,
};
use crate::common::{Backend, TestApp};
use crate::grants::{active, world};
use crate::on_both;

/// The app on a real port, its email links pointing at it, with a debtor account for files.
async fn serve(backend: Backend) -> (TestApp, String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let app = TestApp::start_with(
        backend,
        &[
            ("PUBLIC_BASE_URL", &base),
            ("PAYMENT_DEBTOR_ACCOUNT", "GB82WEST12345698765432"),
            ("PAYMENT_DEBTOR_BIC", "NWBKGB2L"),
        ],
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

/// A date input's typing depends on the browser's locale; its value is set directly.
async fn set_date(c: &Client, id: &str, date: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![json!(id), json!(date)],
    )
    .await
    .unwrap();
}

/// What the page's link at `css` downloads, fetched with the browser's own session cookies
/// (the console's content security policy lets no script fetch it).
async fn download(c: &Client, app: &TestApp, css: &str) -> (String, String) {
    let href = c
        .find(Locator::Css(css))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .expect("the link has an href");
    let cookies = c
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|k| format!("{}={}", k.name(), k.value()))
        .collect::<Vec<_>>()
        .join("; ");
    let r = app
        .get(&href)
        .header("cookie", &cookies)
        .send()
        .await
        .expect(200);
    (r.header("content-disposition").unwrap_or_default(), r.text)
}

on_both! {
    async fn a_member_proposes_an_account_finance_confirms_it_and_after_cooling_off_two_officers_run_and_export_a_payment(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let (app, base, server) = serve(backend).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let grant = active(&app, &w, "5000.00").await;
        let t = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "1200.00", "planned_date": "2026-05-01"})).send().await.expect(201);
        let tranche = t.body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{tranche}/approve")).bearer(&w.officer.token).send().await.expect(200);
        let driver = start_driver(&driver);
        let c = open_browser(&chromium, &driver).await;

        // The member proposes the account from its organisation's page.
        let accounts = format!("/organisations/{}/bank-accounts", w.grantee);
        visit(&c, &format!("{base}{accounts}")).await;
        sign_in(&c, &w.member.email).await;
        wait_text(&c, "h1", "Bank accounts of").await;
        fill(&c, "#propose-holder_name", "Harm Reduction Kenya").await;
        fill(&c, "#propose-currency", "USD").await;
        fill(&c, "#propose-iban", "DE44 5001 0517 5407 3249 31").await;
        fill(&c, "#propose-bic", "MARKDEF1").await;
        click(&c, &format!("form[action='{accounts}'] button")).await;
        wait_text(&c, ".notice", "The account is proposed").await;
        wait_text(&c, "#number", "****4931").await;
        audit(&c).await;
        sign_out(&c).await;

        // A finance officer confirms it from the accounts that wait.
        visit(&c, &format!("{base}/payments/accounts")).await;
        sign_in(&c, &w.finance.email).await;
        click(&c, &format!("a[href^='{accounts}/']")).await;
        wait_text(&c, "#number", "DE44500105175407324931").await;
        audit(&c).await;
        click(&c, "form[action$='/confirm'] button").await;
        wait_text(&c, "#status", "confirmed").await;
        audit(&c).await;
        sign_out(&c).await;

        // After the cooling-off period, one officer prepares the run…
        app.clock.advance(chrono::Duration::hours(73));
        visit(&c, &format!("{base}/payment-runs")).await;
        sign_in(&c, &w.finance.email).await;
        set_date(&c, "prepare-value_date", &app.clock.today().to_string()).await;
        click(&c, "form[action='/payment-runs'] button").await;
        wait_text(&c, ".notice", "The run is prepared").await;
        wait_text(&c, "#status", "prepared").await;
        audit(&c).await;
        let run_url = c.current_url().await.unwrap().to_string();
        sign_out(&c).await;

        // …and another approves it and downloads its bank file.
        visit(&c, &run_url).await;
        sign_in(&c, &finance2.email).await;
        click(&c, "form[action$='/approve'] button").await;
        wait_text(&c, "#status", "approved").await;
        audit(&c).await;
        let (disposition, xml) = download(&c, &app, "#pain001").await;
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert!(xml.contains("<NbOfTxs>1</NbOfTxs>") && xml.contains("<CtrlSum>1200.00</CtrlSum>") && xml.contains("DE44500105175407324931"), "{xml}");
        let (_, csv) = download(&c, &app, "#lines-csv").await;
        assert!(csv.contains("1200.00"), "{csv}");
        c.close().await.unwrap();
        drop(driver);
        server.stop(true).await;
    }
}

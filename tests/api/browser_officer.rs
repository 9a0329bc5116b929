//! The officers' and finance's day in a real browser (headless Chromium over WebDriver, the
//! helpers of `browser.rs`, every page audited with axe-core and at phone width): an officer
//! drafts and submits a grant, a second officer approves it from the "Decide on the grant"
//! email, the first activates it; an officer cancels an approved tranche with a reason and
//! finance, told why, confirms a fund raise from its email.

use std::net::TcpListener;

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{
    audit, browser_or_refuse, click, fill, open_browser, sign_in, sign_out, start_driver, visit,
    wait_text,
};
use crate::common::Backend;
use crate::common::TestApp;
use crate::grants::{active, world};
use crate::on_both;

/// The app on a real port, its email links pointing at it.
pub(crate) async fn serve(backend: Backend) -> (TestApp, String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let app = TestApp::start_with(backend, &[("PUBLIC_BASE_URL", &base)]).await;
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

pub(crate) async fn choose(c: &Client, css: &str, value: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap();
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

on_both! {
    async fn an_officer_drafts_a_grant_a_second_approves_it_from_the_email_and_the_first_activates_it(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let (app, base, server) = serve(backend).await;
        let w = world(&app).await;
        app.emails().await;
        let driver = start_driver(&driver);
        let c = open_browser(&chromium, &driver).await;

        // The officer drafts the grant from the grants list and submits it.
        visit(&c, &format!("{base}/grants")).await;
        sign_in(&c, &w.officer.email).await;
        click(&c, "a[href='/grants/new']").await;
        wait_text(&c, "h1", "New grant").await;
        audit(&c).await;
        choose(&c, "#grant-fund_id", &w.fund).await;
        choose(&c, "#grant-grantee_organisation_id", &w.grantee).await;
        fill(&c, "#grant-title", "Paralegal network 2026").await;
        fill(&c, "#grant-description", "Legal aid for people who use drugs.").await;
        choose(&c, "#grant-pillar", "capacity_strengthening").await;
        fill(&c, "#grant-currency", "USD").await;
        fill(&c, "#grant-amount", "24000.00").await;
        set_date(&c, "grant-planned_start", "2026-02-01").await;
        set_date(&c, "grant-planned_end", "2026-12-31").await;
        click(&c, "form[action='/grants/new'] button[type=submit]").await;
        wait_text(&c, ".notice", "The draft is created.").await;
        audit(&c).await;
        let url = c.current_url().await.unwrap().to_string();
        let grant = url.rsplit('/').next().unwrap().to_string();
        click(&c, &format!("form[action='/grants/{grant}/submit'] button")).await;
        wait_text(&c, "#status", "submitted").await;
        wait_text(&c, ".waiting", "Waiting for another officer to approve").await;
        audit(&c).await;
        sign_out(&c).await;

        // The second officer follows "Decide on the grant" from the email and approves it.
        let mails = app.emails().await;
        let decide = mails.iter().find(|m| m.recipient() == w.officer2.email && m.text().contains("Paralegal network 2026"))
            .expect("the second officer is asked to decide");
        let link = decide.link(&format!("{base}/grants/")).expect("its link opens the grant");
        c.goto(&link).await.unwrap();
        sign_in(&c, &w.officer2.email).await;
        wait_text(&c, "#status", "submitted").await;
        audit(&c).await;
        click(&c, &format!("form[action='/grants/{grant}/approve'] button")).await;
        wait_text(&c, ".notice", "The grant is approved.").await;
        wait_text(&c, "#status", "approved").await;
        audit(&c).await;
        sign_out(&c).await;

        // The first officer activates it.
        visit(&c, &format!("{base}/grants/{grant}")).await;
        sign_in(&c, &w.officer.email).await;
        click(&c, &format!("form[action='/grants/{grant}/activate'] button")).await;
        wait_text(&c, "#status", "active").await;
        audit(&c).await;
        c.close().await.unwrap();
        drop(driver);

        let g = app.get(&format!("/api/v1/grants/{grant}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(g["status"], "active");
        assert_eq!(g["amount"], "24000.00");
        server.stop(true).await;
    }
}

on_both! {
    async fn an_officer_cancels_an_approved_tranche_and_finance_confirms_a_raise_from_its_email(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let (app, base, server) = serve(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "20000.00").await;
        let tranche = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "3000.00", "planned_date": "2026-05-01", "note": "First quarter"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{tranche}/approve")).bearer(&w.officer.token).send().await.expect(200);
        app.emails().await;
        let driver = start_driver(&driver);
        let c = open_browser(&chromium, &driver).await;

        // The officer cancels the approved tranche, with its reason, and raises the fund.
        visit(&c, &format!("{base}/disbursements/{tranche}")).await;
        sign_in(&c, &w.officer2.email).await;
        fill(&c, "#cancel-reason", "The partner closed its bank account.").await;
        click(&c, &format!("form[action='/disbursements/{tranche}/cancel'] button")).await;
        wait_text(&c, "#status", "cancelled").await;
        audit(&c).await;
        click(&c, "a[href='/funds']").await;
        wait_text(&c, "h1", "Funds").await;
        audit(&c).await;
        click(&c, &format!("a[href='/funds/{}']", w.fund)).await;
        fill(&c, "#raise-amount", "400000.00").await;
        click(&c, &format!("form[action='/funds/{}/raise'] button", w.fund)).await;
        wait_text(&c, ".notice", "waits for another finance officer").await;
        audit(&c).await;
        sign_out(&c).await;

        // Finance reads why the tranche must not be paid, and confirms the raise from its email.
        let mails = app.emails().await;
        let told = mails.iter().find(|m| m.recipient() == w.finance.email && m.subject().contains("Do not pay"))
            .expect("finance is told the approved tranche is cancelled");
        assert!(told.text().contains("The partner closed its bank account."), "{}", told.text());
        let raise = mails.iter().find(|m| m.recipient() == w.finance.email && m.subject().contains("awaits your confirmation"))
            .expect("finance is asked to confirm the raise");
        c.goto(&raise.link(&format!("{base}/funds/")).expect("its link opens the fund")).await.unwrap();
        sign_in(&c, &w.finance.email).await;
        wait_text(&c, "#pending", "400000.00").await;
        audit(&c).await;
        click(&c, &format!("form[action='/funds/{}/confirm'] button", w.fund)).await;
        wait_text(&c, "#amount", "400000.00").await;
        wait_text(&c, "#pending", "none").await;
        audit(&c).await;
        visit(&c, &format!("{base}/payments")).await;
        c.close().await.unwrap();
        drop(driver);

        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.finance.token).send().await.expect(200).body;
        assert_eq!(f["amount"], "400000.00");
        let t = app.get(&format!("/api/v1/disbursements/{tranche}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(t["status"], "cancelled");
        assert_eq!(t["decision_reason"], "The partner closed its bank account.");
        server.stop(true).await;
    }
}

//! The web console: every link of every email of a full flow opens a page for its recipient;
//! forms keep what was typed and show each error at its field; a POST without the CSRF token
//! is refused; a member cannot open another organisation's grant.

use std::collections::BTreeMap;

use chrono::{Days, Utc};
use serde_json::json;

use crate::common::console::{Browser, links_in, path_of};
use crate::common::{PASSWORD, Received, TestApp};
use crate::grants::{World, active, world};
use crate::on_both;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn request_tranche(app: &TestApp, w: &World, grant: &str, amount: &str) -> String {
    app.post(&format!("/api/v1/grants/{grant}/disbursements"))
        .bearer(&w.member.token)
        .json(&json!({"amount": amount, "planned_date": "2026-05-01", "note": "Second quarter"}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn ask_report(app: &TestApp, w: &World, grant: &str) -> String {
    app.post(&format!("/api/v1/grants/{grant}/reports"))
        .bearer(&w.officer.token)
        .json(&json!({"kind": "narrative", "due_on": "2026-12-31", "title": "Annual report"}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn tranche_status(app: &TestApp, w: &World, id: &str) -> String {
    app.get(&format!("/api/v1/disbursements/{id}"))
        .bearer(&w.finance.token)
        .send()
        .await
        .expect(200)
        .body["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn is_page(text: &str) -> bool {
    text.contains("<h1") && text.to_ascii_lowercase().contains("<html")
}

on_both! {
    async fn every_link_in_every_email_of_a_full_flow_opens_a_page_for_its_recipient(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        app.emails().await;
        let mut mails: Vec<Received> = Vec::new();
        // Who can sign in, with which password.
        let mut accounts: BTreeMap<String, String> = [&w.admin, &w.officer, &w.officer2, &w.finance, &w.member]
            .iter()
            .map(|u| (u.email.clone(), PASSWORD.to_string()))
            .collect();

        // A membership application: the admin reviews and approves it in the console.
        let applicant = "carla@apply.example";
        let r = app.post("/api/v1/membership-applications").json(&json!({
            "organisation": {"name": "Rede Brasil", "country": "BR", "region": "latin_america_caribbean",
                "focus_areas": ["support_dont_punish"]},
            "contact": {"name": "Carla", "email": applicant},
            "motivation": "We want to join the network's advocacy for drug policy reform.",
        })).send().await.expect(201);
        let application = r.body["id"].as_str().unwrap().to_string();
        mails.extend(app.emails().await);
        let mut admin = Browser::new(&app);
        admin.sign_in(&w.admin.email, PASSWORD).await;
        let page = format!("/admin/membership-applications/{application}");
        assert_eq!(admin.open(&page).await.status, 200);
        let r = admin.submit(&format!("{page}/review"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("under_review"));
        let r = admin.submit(&format!("{page}/approve"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("approved"));
        let new = app.emails().await;
        let invitation = new.iter().find(|m| m.recipient() == applicant && m.link("http://hub.test/accept-invitation").is_some())
            .expect("the contact is invited").link("http://hub.test/accept-invitation").unwrap();
        mails.extend(new);

        // The contact accepts in the console, then forgets and resets the password there.
        let mut carla = Browser::new(&app);
        assert_eq!(carla.open(&path_of(&invitation)).await.status, 200);
        let token = invitation.split("token=").nth(1).unwrap().to_string();
        let r = carla.submit("/accept-invitation", &[("token", &token), ("display_name", "Carla Souza"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Carla Souza"), "signed in after accepting");
        let mut anon = Browser::new(&app);
        assert_eq!(anon.open("/forgot-password").await.status, 200);
        let r = anon.submit("/forgot-password", &[("email", applicant)]).await;
        assert_eq!(r.status, 200);
        let new = app.emails().await;
        let reset = new.iter().find_map(|m| m.link("http://hub.test/reset-password")).expect("a reset link");
        mails.extend(new);
        let token = reset.split("token=").nth(1).unwrap().to_string();
        assert_eq!(anon.open(&path_of(&reset)).await.status, 200);
        let r = anon.submit("/reset-password", &[("token", &token), ("password", NEW_PASSWORD)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        accounts.insert(applicant.to_string(), NEW_PASSWORD.to_string());
        mails.extend(app.emails().await);

        // A grant's whole life over the API: tranches approved, paid and reversed, a report
        // returned and accepted.
        let grant = active(&app, &w, "100000.00").await;
        let small = request_tranche(&app, &w, &grant, "1000.00").await;
        app.post(&format!("/api/v1/disbursements/{small}/approve")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{small}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "BANK-1", "paid_on": Utc::now().date_naive().to_string(), "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{small}/reverse")).bearer(&w.finance.token)
            .json(&json!({"reason": "Returned by the bank"})).send().await.expect(200);
        let big = request_tranche(&app, &w, &grant, "60000.00").await;
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let report = ask_report(&app, &w, &grant).await;
        let submit = json!({"summary": "What we did", "document_url": "https://docs.example/report.pdf"});
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect(200);
        app.post(&format!("/api/v1/reports/{report}/return")).bearer(&w.officer.token).json(&json!({"reason": "Add the budget"})).send().await.expect(200);
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect(200);
        app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.officer.token).send().await.expect(200);
        mails.extend(app.emails().await);
        // The other hand-offs of the matrix: a tranche rejected and one cancelled, the last
        // one paid and the grant closed, a renewal asked for, a membership suspended and
        // reinstated, and a password changed.
        let rejected = request_tranche(&app, &w, &grant, "500.00").await;
        app.post(&format!("/api/v1/disbursements/{rejected}/reject")).bearer(&w.officer.token)
            .json(&json!({"reason": "Not in the plan"})).send().await.expect(200);
        let cancelled = request_tranche(&app, &w, &grant, "400.00").await;
        app.post(&format!("/api/v1/disbursements/{cancelled}/cancel")).bearer(&w.officer.token).json(&json!({"reason": "Asked twice"})).send().await.expect(200);
        // An approved tranche cancelled (finance is told) and a fund raise that waits (finance
        // confirms it on the fund's page).
        let withdrawn = request_tranche(&app, &w, &grant, "300.00").await;
        app.post(&format!("/api/v1/disbursements/{withdrawn}/approve")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{withdrawn}/cancel")).bearer(&w.officer2.token).json(&json!({"reason": "The partner withdrew"})).send().await.expect(200);
        let fund = format!("/api/v1/funds/{}", w.fund);
        let version = app.get(&fund).bearer(&w.officer.token).send().await.expect(200).body["version"].to_string();
        app.patch(&fund).bearer(&w.officer.token).header("if-match", &format!("\"{version}\""))
            .json(&json!({"amount": "400000.00"})).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{big}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "BANK-2", "paid_on": Utc::now().date_naive().to_string(), "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        app.post(&format!("/api/v1/grants/{grant}/close")).bearer(&w.officer.token).send().await.expect(200);
        let membership = format!("/api/v1/organisations/{}/membership", w.grantee);
        app.post(&format!("{membership}/renewal-requests")).bearer(&w.member.token).send().await.expect(202);
        app.post(&membership).bearer(&w.admin.token).json(&json!({"action": "suspend", "reason": "Unpaid dues"})).send().await.expect(200);
        app.post(&membership).bearer(&w.admin.token).json(&json!({"action": "reinstate"})).send().await.expect(200);
        app.post("/api/v1/me/password").bearer(&w.officer2.token)
            .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})).send().await.expect(204);
        accounts.insert(w.officer2.email.clone(), NEW_PASSWORD.to_string());
        mails.extend(app.emails().await);
        // The daily jobs: membership reminders and report reminders.
        let later = Utc::now().date_naive().checked_add_days(Days::new(350)).unwrap();
        idpc_hub::jobs::run_daily(&app.state, later).await.expect("daily jobs");
        mails.extend(app.emails().await);

        // Every link, opened by its recipient.
        let mut browsers: BTreeMap<String, Browser<'_>> = BTreeMap::new();
        let mut opened = 0;
        let mut paths = std::collections::BTreeSet::new();
        for m in &mails {
            let to = m.recipient();
            for link in links_in(&m.text()) {
                assert!(link.starts_with("http://hub.test"), "{link} in {:?} points at this service", m.subject());
                if !browsers.contains_key(&to) {
                    let mut b = Browser::new(&app);
                    if let Some(pw) = accounts.get(&to) {
                        b.sign_in(&to, pw).await;
                    }
                    browsers.insert(to.clone(), b);
                }
                let b = browsers.get_mut(&to).unwrap();
                let path = path_of(&link);
                let r = b.open(&path).await;
                // A one-time link that was already used says so (410) instead of its form.
                let spent = r.status == 410 && r.text.contains("already used")
                    && (path.starts_with("/accept-invitation") || path.starts_with("/reset-password"));
                assert!(r.status == 200 || spent, "{link} of {:?} for {to}: {} {}", m.subject(), r.status, r.text);
                if !path.starts_with("/docs") {
                    assert!(is_page(&r.text), "{link} answers a page");
                }
                paths.insert(path.split(['?', '/']).nth(1).unwrap_or("").to_string());
                opened += 1;
            }
        }
        assert!(opened >= 10, "links were followed ({opened})");
        // Every page an email can link to (src/notify/links.rs) was reached from an email.
        for pattern in idpc_hub::notify::links::ALL {
            let family = pattern.split(['?', '/']).nth(1).unwrap_or("").to_string();
            assert!(paths.contains(&family), "a link to {pattern} was followed: {paths:?}");
        }
    }
}

on_both! {
    async fn a_wrong_form_value_is_shown_at_its_field_and_the_other_values_are_kept(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let report = ask_report(&app, &w, &grant).await;
        let mut member = Browser::new(&app);
        member.sign_in(&w.member.email, PASSWORD).await;
        let page = format!("/reports/{report}");
        assert_eq!(member.open(&page).await.status, 200);
        let r = member.submit(&format!("{page}/submit"), &[("summary", "What we did this year"), ("document_url", "not a link")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        let error_at = r.text.find("id=\"submit-document_url-error\"").unwrap_or_else(|| panic!("the error is at its field: {}", r.text));
        let field_at = r.text.find("id=\"submit-document_url\"").expect("the field");
        assert!(error_at < field_at, "the error comes right before its field");
        assert!(r.text.contains(">What we did this year</textarea>"), "the summary is kept");
        assert!(r.text.contains("value=\"not a link\""), "the wrong value is kept to correct it");
        let status = app.get(&format!("/api/v1/reports/{report}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(status.body["status"], "due");
        assert_eq!(status.body["grant_title"], "Community paralegals");

        // A wrong password keeps the email; the officer's reason is required.
        let mut someone = Browser::new(&app);
        someone.get("/sign-in").await;
        let r = someone.submit("/sign-in", &[("email", &w.officer.email), ("password", "wrong password!")]).await;
        assert_eq!(r.status, 401);
        assert!(r.text.contains("id=\"sign_in-password-error\""));
        assert!(r.text.contains(&format!("value=\"{}\"", w.officer.email)));
        let tranche = request_tranche(&app, &w, &grant, "100.00").await;
        let mut officer = Browser::new(&app);
        officer.sign_in(&w.officer.email, PASSWORD).await;
        let r = officer.submit(&format!("/disbursements/{tranche}/reject"), &[("reason", "  ")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"reject-reason-error\""));
        assert_eq!(tranche_status(&app, &w, &tranche).await, "requested");
        app.post(&format!("/api/v1/disbursements/{tranche}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let mut finance = Browser::new(&app);
        finance.sign_in(&w.finance.email, PASSWORD).await;
        let r = finance.submit(&format!("/disbursements/{tranche}/pay"), &[("payment_reference", "BANK-9"), ("paid_on", "yesterday")]).await;
        assert_eq!(r.status, 400);
        assert!(r.text.contains("id=\"pay-paid_on-error\""));
        assert!(r.text.contains("value=\"BANK-9\""));
    }
}

on_both! {
    async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let tranche = request_tranche(&app, &w, &grant, "100.00").await;
        let mut officer = Browser::new(&app);
        officer.sign_in(&w.officer.email, PASSWORD).await;
        let approve = format!("/disbursements/{tranche}/approve");
        let r = officer.post_raw(&approve, &[]).await;
        assert_eq!(r.status, 403);
        assert!(r.text.contains("This form has expired"), "{}", r.text);
        let r = officer.post_raw(&approve, &[("csrf".into(), "0".repeat(64))]).await;
        assert_eq!(r.status, 403);
        assert_eq!(tranche_status(&app, &w, &tranche).await, "requested");
        // Signing in without the token is refused too (no login CSRF).
        let mut other = Browser::new(&app);
        let r = other.post_raw("/sign-in", &[("email".into(), w.finance.email.clone()), ("password".into(), PASSWORD.into())]).await;
        assert_eq!(r.status, 403);
        assert!(!other.cookies.contains_key("idpc_session"));
        // With the token, it is approved.
        let r = officer.submit(&approve, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Your approval is recorded."));
        assert_eq!(tranche_status(&app, &w, &tranche).await, "approved");
        // The session cookie is HttpOnly and SameSite=Strict.
        let mut b = Browser::new(&app);
        b.get("/sign-in").await;
        let csrf = b.csrf();
        let cookie = b.cookies["idpc_csrf"].clone();
        let body = format!("csrf={csrf}&email={}&password={}", crate::common::console::encode(&w.finance.email), crate::common::console::encode(PASSWORD));
        let r = app.post("/sign-in").header("cookie", &format!("idpc_csrf={cookie}")).body("application/x-www-form-urlencoded", body).send().await;
        assert_eq!(r.status, 303);
        let session = r.headers.get_all("set-cookie").filter_map(|v| v.to_str().ok()).find(|v| v.starts_with("idpc_session=")).expect("a session cookie").to_string();
        assert!(session.contains("HttpOnly"), "{session}");
        assert!(session.contains("SameSite=Strict"), "{session}");
        assert!(!session.contains("Secure"), "not Secure on an http base URL");
        let page = b.open("/sign-in").await;
        let csp = page.header("content-security-policy").expect("pages carry a CSP");
        assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"), "{csp}");
    }
}

on_both! {
    async fn a_member_cannot_open_pages_of_another_organisations_grant(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let tranche = request_tranche(&app, &w, &grant, "100.00").await;
        let report = ask_report(&app, &w, &grant).await;
        let other_org = app.member_org("Other Org").await;
        let other = app.user("member", Some(&other_org)).await;
        let mut stranger = Browser::new(&app);
        stranger.sign_in(&other.email, PASSWORD).await;
        for path in [format!("/grants/{grant}"), format!("/disbursements/{tranche}"), format!("/reports/{report}"), format!("/organisations/{}/membership", w.grantee)] {
            let r = stranger.open(&path).await;
            assert_eq!(r.status, 404, "{path}");
            assert!(!r.text.contains("Community paralegals"), "{path} shows nothing of the grant");
        }
        let r = stranger.submit(&format!("/reports/{report}/submit"), &[("summary", "x"), ("document_url", "https://x.example")]).await;
        assert_eq!(r.status, 404);
        // Its own members see it; staff pages are not theirs.
        let mut member = Browser::new(&app);
        member.sign_in(&w.member.email, PASSWORD).await;
        for path in [format!("/grants/{grant}"), format!("/disbursements/{tranche}"), format!("/reports/{report}"), format!("/organisations/{}/membership", w.grantee), "/grants".to_string()] {
            let r = member.open(&path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text);
        }
        let home = member.open("/").await;
        assert!(home.text.contains(&format!("href=\"/disbursements/{tranche}\"")), "a member's home lists its tranches");
        assert!(home.text.contains(&format!("href=\"/reports/{report}\"")), "and the reports it owes");
        assert_eq!(member.open("/admin/membership-applications").await.status, 403);
        // Without a session, a page is the sign-in form that comes back to it.
        let mut anon = Browser::new(&app);
        let r = anon.open(&format!("/grants/{grant}")).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains(&format!("name=\"next\" value=\"&#x2f;grants&#x2f;{grant}\"")), "{}", r.text);
        assert!(!r.text.contains("Community paralegals"));
        // A link followed from a mail client arrives without the SameSite=Strict session
        // cookie: a browser that holds the session's mark reloads the page once from here.
        let mut from_mail = Browser::new(&app);
        from_mail.cookies.insert("idpc_signed_in".into(), "1".into());
        let r = from_mail.get("/inbox").await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("http-equiv=\"refresh\""), "{}", r.text);
        assert!(!from_mail.cookies.contains_key("idpc_signed_in"), "the mark goes, so it reloads once");
        let r = from_mail.get("/inbox").await;
        assert!(r.text.contains("name=\"next\""), "then it is the sign-in page");
    }
}

on_both! {
    async fn a_member_asks_for_renewal_from_the_membership_page_and_the_admins_are_told(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        app.deliver_mail().await;
        app.mail.take();
        let page = format!("/organisations/{}/membership", w.grantee);
        let mut member = Browser::new(&app);
        member.sign_in(&w.member.email, PASSWORD).await;
        let r = member.open(&page).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("Ask for renewal"), "{}", r.text);
        // Without the CSRF token nothing is recorded.
        let form = format!("{page}/renewal-request");
        assert_eq!(member.post_raw(&form, &[]).await.status, 403);
        let r = member.submit(&form, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("Renewal requested"), "{}", r.text);
        let grantee = w.grantee.clone();
        let open: i64 = app
            .db(move |c| {
                use diesel::prelude::*;
                use idpc_hub::db::schema::membership_renewal_requests as r;
                r::table
                    .filter(r::organisation_id.eq(&grantee))
                    .filter(r::status.eq("open"))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        assert_eq!(open, 1);
        app.deliver_mail().await;
        let mails = app.mail.take();
        let to_admin: Vec<_> = mails
            .iter()
            .filter(|m| m.header("X-IDPC-Kind").as_deref() == Some("membership_renewal_requested"))
            .collect();
        assert_eq!(to_admin.len(), 1, "{:?}", mails.iter().map(|m| m.subject()).collect::<Vec<_>>());
        assert_eq!(to_admin[0].recipient(), w.admin.email);
        // Asking twice is refused with the reason, and nothing more is sent.
        let again = member.submit(&form, &[]).await;
        assert_eq!(again.status, 409, "{}", again.text);
        // Staff see the page without the form.
        let mut admin = Browser::new(&app);
        admin.sign_in(&w.admin.email, PASSWORD).await;
        let r = admin.open(&page).await;
        assert_eq!(r.status, 200);
        assert!(!r.text.contains("Ask for renewal"));
    }
}

/// A refused answer to a form: the form again (a page, 400), with the error at `field`.
fn refused_at(r: &crate::common::http::Resp, field_id: &str, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text);
    assert!(is_page(&r.text), "{what} answers a page: {}", r.text);
    assert!(
        r.text.contains(&format!("id=\"{field_id}-error\"")),
        "{what}: the error is at {field_id}: {}",
        r.text
    );
    assert!(
        !r.text.contains('\0') && !r.text.contains('\u{1b}'),
        "{what}: nothing refused is echoed"
    );
}

on_both! {
    async fn a_nul_or_an_escape_code_in_any_console_form_is_shown_at_its_field_and_nothing_is_stored(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        app.emails().await;
        for bad in ["with\0nul", "with\u{1b}[31mescape"] {
            // Anonymous forms: sign in, forgot password.
            let mut anon = Browser::new(&app);
            anon.get("/sign-in").await;
            let email = format!("{bad}@example.org");
            let r = anon.submit("/sign-in", &[("email", &email), ("password", PASSWORD)]).await;
            refused_at(&r, "sign_in-email", "sign-in");
            assert!(!anon.cookies.contains_key("idpc_session"));
            let r = anon.submit("/sign-in", &[("email", &w.member.email), ("password", bad)]).await;
            refused_at(&r, "sign_in-password", "sign-in password");
            let r = anon.submit("/forgot-password", &[("email", &email)]).await;
            refused_at(&r, "forgot-email", "forgot-password");
            assert!(app.emails().await.is_empty(), "no reset is sent");

            // An invitation and a reset link: a bad name or password changes nothing.
            let invited = format!("invited-{}@staff.example", bad.len());
            app.post("/api/v1/users").bearer(&w.admin.token)
                .json(&json!({"email": invited, "display_name": "Invited", "role": "grant_officer"})).send().await.expect(201);
            let invite = app.emails().await.iter().find_map(|m| m.link_param("http://hub.test/accept-invitation", "token")).expect("an invitation");
            let r = anon.submit("/accept-invitation", &[("token", &invite), ("display_name", bad), ("password", NEW_PASSWORD)]).await;
            refused_at(&r, "accept-display_name", "accept-invitation");
            assert!(!anon.cookies.contains_key("idpc_session"));
            let forgetful = app.user("grant_officer", None).await;
            app.post("/api/v1/auth/password-reset").json(&json!({"email": forgetful.email})).send().await.expect(202);
            let reset = app.emails().await.iter().find_map(|m| m.link_param("http://hub.test/reset-password", "token")).expect("a reset link");
            let r = anon.submit("/reset-password", &[("token", &reset), ("password", &format!("{bad} long enough"))]).await;
            refused_at(&r, "reset-password", "reset-password");
            // Both links still work: the refused forms used up nothing.
            app.post("/api/v1/auth/invitations/accept").json(&json!({"token": invite, "password": NEW_PASSWORD, "display_name": "Invited"})).send().await.expect(200);
            app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": reset, "password": NEW_PASSWORD})).send().await.expect(204);

            // Tranche decisions.
            let tranche = request_tranche(&app, &w, &grant, "100.00").await;
            let mut officer = Browser::new(&app);
            officer.sign_in(&w.officer.email, PASSWORD).await;
            let r = officer.submit(&format!("/disbursements/{tranche}/reject"), &[("reason", bad)]).await;
            refused_at(&r, "reject-reason", "tranche reject");
            assert_eq!(tranche_status(&app, &w, &tranche).await, "requested");
            officer.submit(&format!("/disbursements/{tranche}/approve"), &[]).await;
            assert_eq!(tranche_status(&app, &w, &tranche).await, "approved");
            let mut finance = Browser::new(&app);
            finance.sign_in(&w.finance.email, PASSWORD).await;
            let today = Utc::now().date_naive().to_string();
            let payee = app.payee(&w.grantee, "USD").await;
            let r = finance.submit(&format!("/disbursements/{tranche}/pay"), &[("bank_account_id", &payee), ("payment_reference", bad), ("paid_on", &today)]).await;
            refused_at(&r, "pay-payment_reference", "tranche pay");
            assert_eq!(tranche_status(&app, &w, &tranche).await, "approved");
            finance.submit(&format!("/disbursements/{tranche}/pay"), &[("bank_account_id", &payee), ("payment_reference", "BANK-1"), ("paid_on", &today)]).await;
            let r = finance.submit(&format!("/disbursements/{tranche}/reverse"), &[("reason", bad)]).await;
            refused_at(&r, "reverse-reason", "tranche reverse");
            assert_eq!(tranche_status(&app, &w, &tranche).await, "paid");

            // Report decisions.
            let report = ask_report(&app, &w, &grant).await;
            let mut member = Browser::new(&app);
            member.sign_in(&w.member.email, PASSWORD).await;
            let r = member.submit(&format!("/reports/{report}/submit"), &[("summary", bad), ("document_url", "https://docs.example/r.pdf")]).await;
            refused_at(&r, "submit-summary", "report submit");
            let status = app.get(&format!("/api/v1/reports/{report}")).bearer(&w.officer.token).send().await.expect(200);
            assert_eq!(status.body["status"], "due");
            app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token)
                .json(&json!({"summary": "What we did", "document_url": "https://docs.example/r.pdf"})).send().await.expect(200);
            let r = officer.submit(&format!("/reports/{report}/return"), &[("reason", bad)]).await;
            refused_at(&r, "return-reason", "report return");
            let status = app.get(&format!("/api/v1/reports/{report}")).bearer(&w.officer.token).send().await.expect(200);
            assert_eq!(status.body["status"], "submitted");

            // A membership application's decision.
            let r = app.post("/api/v1/membership-applications").json(&json!({
                "organisation": {"name": format!("Rede {}", bad.len()), "country": "BR", "region": "latin_america_caribbean",
                    "focus_areas": ["support_dont_punish"]},
                "contact": {"name": "Carla", "email": format!("carla{}@apply.example", bad.len())},
                "motivation": "We want to join the network's advocacy for drug policy reform.",
            })).send().await.expect(201);
            let application = r.body["id"].as_str().unwrap().to_string();
            let mut admin = Browser::new(&app);
            admin.sign_in(&w.admin.email, PASSWORD).await;
            let r = admin.submit(&format!("/admin/membership-applications/{application}/reject"), &[("reason", bad)]).await;
            refused_at(&r, "reject-reason", "application reject");
            let a = app.get(&format!("/api/v1/membership-applications/{application}")).bearer(&w.admin.token).send().await.expect(200);
            assert_eq!(a.body["status"], "submitted");

            // The renewal form carries no text of its own: a smuggled one is refused too.
            let r = member.submit(&format!("/organisations/{}/membership/renewal-request", w.grantee), &[("note", bad)]).await;
            assert_eq!(r.status, 400, "{}", r.text);
            assert!(is_page(&r.text));
            let grantee = w.grantee.clone();
            let open: i64 = app
                .db(move |c| {
                    use diesel::prelude::*;
                    use idpc_hub::db::schema::membership_renewal_requests as r;
                    r::table.filter(r::organisation_id.eq(&grantee)).count().get_result(c).unwrap()
                })
                .await;
            assert_eq!(open, 0, "no renewal is asked");
            app.emails().await;
        }
    }
}

on_both! {
    async fn a_csrf_token_of_another_session_or_browser_is_refused(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let tranche = request_tranche(&app, &w, &grant, "100.00").await;
        let approve = format!("/disbursements/{tranche}/approve");
        let mut first = Browser::new(&app);
        first.get("/sign-in").await;
        let before_sign_in = first.csrf();
        first.sign_in(&w.officer.email, PASSWORD).await;
        let mut second = Browser::new(&app);
        second.sign_in(&w.officer.email, PASSWORD).await;
        assert_ne!(first.csrf(), second.csrf(), "each session has its own token");
        assert_ne!(first.csrf(), before_sign_in, "signing in changes the token");
        assert_ne!(first.csrf(), first.cookies["idpc_csrf"], "the token is not the cookie");
        // The same user's other session, the browser's token from before signing in, and
        // the cookie's value itself: all refused, nothing approved.
        for token in [second.csrf(), before_sign_in.clone(), first.cookies["idpc_csrf"].clone()] {
            let r = first.post_raw(&approve, &[("csrf".into(), token)]).await;
            assert_eq!(r.status, 403, "{}", r.text);
            assert!(r.text.contains("This form has expired"), "{}", r.text);
        }
        assert_eq!(tranche_status(&app, &w, &tranche).await, "requested");
        // Signing out ends the token with the session.
        let old = second.csrf();
        second.submit("/sign-out", &[]).await;
        second.sign_in(&w.officer.email, PASSWORD).await;
        let r = second.post_raw(&approve, &[("csrf".into(), old)]).await;
        assert_eq!(r.status, 403);
        assert_eq!(tranche_status(&app, &w, &tranche).await, "requested");
        let r = first.submit(&approve, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(tranche_status(&app, &w, &tranche).await, "approved");
    }
}

on_both! {
    async fn over_https_the_session_and_csrf_cookies_are_host_prefixed_and_secure(backend) {
        let app = TestApp::start_with(backend, &[("PUBLIC_BASE_URL", "https://hub.example")]).await;
        let user = app.user("grant_officer", None).await;
        let mut b = Browser::new(&app);
        let page = b.get("/sign-in").await;
        let set: Vec<String> = page.headers.get_all("set-cookie").filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
        let csrf = set.iter().find(|c| c.starts_with("__Host-idpc_csrf=")).unwrap_or_else(|| panic!("a __Host- CSRF cookie: {set:?}"));
        for attr in ["Secure", "Path=/", "HttpOnly", "SameSite=Strict"] {
            assert!(csrf.contains(attr), "{attr} in {csrf}");
        }
        assert!(!csrf.to_ascii_lowercase().contains("domain="), "{csrf}");
        assert!(!b.cookies.contains_key("idpc_csrf"));
        let r = b.submit("/sign-in", &[("email", &user.email), ("password", PASSWORD), ("next", "/")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(b.cookies.contains_key("__Host-idpc_session"), "{:?}", b.cookies.keys());
        assert!(!b.cookies.contains_key("idpc_session"));
        assert!(r.text.contains("Sign out"), "signed in: {}", r.text);
    }
}

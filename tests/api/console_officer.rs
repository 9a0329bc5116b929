//! The officer's and finance's console (issue 26): a tranche cancel takes a reason and tells
//! finance when it was approved; a fund raise is confirmed from its email's page; a page
//! never offers an action its viewer may not take (the first approver, the grant's author,
//! the raise's asker see what they wait for instead).

use serde_json::json;

use crate::common::console::{Browser, path_of};
use crate::common::{PASSWORD, TestApp};
use crate::grants::{World, active, submitted, world};
use crate::on_both;

/// How a page names the form posting to `path` (the template escapes its slashes).
fn action(path: &str) -> String {
    format!("action=\"{}\"", path.replace('/', "&#x2f;"))
}

async fn tranche(app: &TestApp, w: &World, grant: &str, amount: &str) -> String {
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

on_both! {
    async fn cancelling_an_approved_tranche_needs_a_reason_and_tells_finance_why(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "10000.00").await;
        let t = tranche(&app, &w, &grant, "1500.00").await;
        let path = format!("/api/v1/disbursements/{t}");
        app.post(&format!("{path}/approve")).bearer(&w.officer.token).send().await.expect(200);
        app.emails().await;

        // Without a reason: 400 naming it, and nothing changes.
        let r = app.post(&format!("{path}/cancel")).bearer(&w.officer2.token).json(&json!({})).send().await.expect_problem(400);
        assert_eq!(r.body["errors"][0]["field"], "reason", "{}", r.text);
        let r = app.post(&format!("{path}/cancel")).bearer(&w.officer2.token).json(&json!({"reason": "  "})).send().await.expect_problem(400);
        assert_eq!(r.body["errors"][0]["field"], "reason", "{}", r.text);
        assert_eq!(app.get(&path).bearer(&w.officer.token).send().await.expect(200).body["status"], "approved");
        app.deliver_mail().await;
        assert!(app.emails().await.is_empty(), "a refused cancel sends nothing");

        let r = app.post(&format!("{path}/cancel")).bearer(&w.officer2.token)
            .json(&json!({"reason": "The partner closed its account"})).send().await.expect(200);
        assert_eq!(r.body["status"], "cancelled");
        assert_eq!(r.body["decision_reason"], "The partner closed its account");
        let mails = app.emails().await;
        let to_finance: Vec<_> = mails.iter().filter(|m| m.recipient() == w.finance.email).collect();
        assert_eq!(to_finance.len(), 1, "finance is told once");
        let m = to_finance[0];
        assert!(m.subject().contains("Do not pay"), "{}", m.subject());
        assert!(m.text().contains("Reason: The partner closed its account"), "{}", m.text());
        let link = m.link("http").expect("the email links the tranche");
        assert!(link.ends_with(&format!("/disbursements/{t}")), "{link}");
        assert!(mails.iter().all(|m| m.recipient() != w.officer2.email), "never its author");
        // The link opens the tranche for finance, with the reason and nothing to pay.
        let mut b = Browser::new(&app);
        b.sign_in(&w.finance.email, PASSWORD).await;
        let page = b.open(&path_of(&link)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("The partner closed its account"));
        assert!(!page.text.contains(&action(&format!("/disbursements/{t}/pay"))));
    }
}

on_both! {
    async fn a_cancel_in_the_console_shows_the_missing_reason_under_its_field_then_tells_finance(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "10000.00").await;
        let t = tranche(&app, &w, &grant, "1500.00").await;
        app.post(&format!("/api/v1/disbursements/{t}/approve")).bearer(&w.officer.token).send().await.expect(200);
        app.emails().await;
        let mut b = Browser::new(&app);
        b.sign_in(&w.officer2.email, PASSWORD).await;
        let page = b.open(&format!("/disbursements/{t}")).await;
        assert!(page.text.contains(&action(&format!("/disbursements/{t}/cancel"))), "an officer may cancel it");

        let r = b.submit(&format!("/disbursements/{t}/cancel"), &[("reason", "")]).await;
        assert_eq!(r.status, 400);
        assert!(r.text.contains("id=\"cancel-reason-error\""), "{}", r.text);
        assert!(r.text.contains("aria-describedby=\"cancel-reason-hint cancel-reason-error\""), "{}", r.text);
        let r = b.submit(&format!("/disbursements/{t}/cancel"), &[("reason", "Duplicate of another tranche")]).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("The tranche is cancelled."), "the notice shows once");
        let again = b.open(&format!("/disbursements/{t}")).await;
        assert!(!again.text.contains("The tranche is cancelled."), "and only once");
        let mails = app.emails().await;
        assert!(mails.iter().any(|m| m.recipient() == w.finance.email && m.text().contains("Duplicate of another tranche")));
    }
}

on_both! {
    async fn finance_confirms_a_fund_raise_from_the_link_in_its_email(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let fund = format!("/api/v1/funds/{}", w.fund);
        let version = app.get(&fund).bearer(&w.officer.token).send().await.expect(200).body["version"].to_string();
        app.emails().await;
        // The officer raises it above the threshold in the console: it waits.
        let mut b = Browser::new(&app);
        b.sign_in(&w.officer.email, PASSWORD).await;
        let page = b.open(&format!("/funds/{}", w.fund)).await;
        assert!(page.text.contains(&action(&format!("/funds/{}/raise", w.fund))), "an officer may raise it");
        assert!(!page.text.contains(&action(&format!("/funds/{}/confirm", w.fund))), "nothing waits yet");
        let r = b.submit(&format!("/funds/{}/raise", w.fund), &[("amount", "350000.00"), ("version", &version)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("waits for another finance officer"), "{}", r.text);
        let f = app.get(&fund).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!((f["amount"].as_str(), f["pending_amount"].as_str()), (Some("100000.00"), Some("350000.00")));

        let mails = app.emails().await;
        let to: Vec<String> = mails.iter().map(|m| m.recipient()).collect();
        assert!(to.contains(&w.finance.email) && to.contains(&finance2.email), "{to:?}");
        assert!(!to.contains(&w.officer.email), "never the asker");
        let mail = mails.iter().find(|m| m.recipient() == w.finance.email).unwrap();
        let link = mail.link("http").expect("a link to the fund");
        assert!(link.ends_with(&format!("/funds/{}", w.fund)), "{link}");

        // Finance opens the link and confirms in one click.
        let mut fb = Browser::new(&app);
        fb.sign_in(&w.finance.email, PASSWORD).await;
        let page = fb.open(&path_of(&link)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("Confirm USD 350000.00"), "{}", page.text);
        assert!(!page.text.contains(&action(&format!("/funds/{}/raise", w.fund))), "finance does not write funds");
        let r = fb.submit(&format!("/funds/{}/confirm", w.fund), &[("amount", "350000.00")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The fund&#x27;s amount is set.") || r.text.contains("The fund's amount is set."), "{}", r.text);
        let f = app.get(&fund).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(f["amount"], "350000.00");
        assert!(f["pending_amount"].is_null());
    }
}

on_both! {
    async fn the_asker_of_a_raise_sees_it_waiting_and_is_not_offered_confirm(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let fund = format!("/api/v1/funds/{}", w.fund);
        let version = app.get(&fund).bearer(&w.admin.token).send().await.expect(200).body["version"].to_string();
        app.patch(&fund).bearer(&w.admin.token).header("if-match", &format!("\"{version}\""))
            .json(&json!({"amount": "300000.00"})).send().await.expect(200);
        let mut b = Browser::new(&app);
        b.sign_in(&w.admin.email, PASSWORD).await;
        let page = b.open(&format!("/funds/{}", w.fund)).await;
        assert!(page.text.contains("You asked for this raise"), "{}", page.text);
        assert!(!page.text.contains(&action(&format!("/funds/{}/confirm", w.fund))), "no confirm for its asker");
        // Posting it anyway is refused on the form by the API's rule; nothing changes.
        let r = b.submit(&format!("/funds/{}/confirm", w.fund), &[("amount", "300000.00")]).await;
        assert_eq!(r.status, 409);
        let f = app.get(&fund).bearer(&w.admin.token).send().await.expect(200).body;
        assert_eq!(f["amount"], "100000.00");
    }
}

on_both! {
    async fn the_officer_who_gave_the_first_approval_is_not_offered_approve_again(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "90000.00").await;
        // Above SECOND_APPROVAL_THRESHOLD: two approvers.
        let t = tranche(&app, &w, &grant, "60000.00").await;
        let mut b = Browser::new(&app);
        b.sign_in(&w.officer.email, PASSWORD).await;
        let approve = action(&format!("/disbursements/{t}/approve"));
        assert!(b.open(&format!("/disbursements/{t}")).await.text.contains(&approve));
        let r = b.submit(&format!("/disbursements/{t}/approve"), &[]).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("Your approval is recorded."));
        assert!(r.text.contains("waiting for a second approver"), "{}", r.text);
        assert!(!r.text.contains(&approve), "no Approve for the first approver");
        let inbox = b.open("/inbox").await;
        assert!(!inbox.text.contains(&format!("/disbursements/{t}\"")), "nor in its inbox");

        let mut b2 = Browser::new(&app);
        b2.sign_in(&w.officer2.email, PASSWORD).await;
        assert!(b2.open(&format!("/disbursements/{t}")).await.text.contains(&approve), "the second officer may");
    }
}

on_both! {
    async fn the_author_of_a_grant_waits_for_another_officer_who_finds_it_in_the_inbox(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = submitted(&app, &w, "5000.00").await;
        let approve = action(&format!("/grants/{grant}/approve"));
        let mut b = Browser::new(&app);
        b.sign_in(&w.officer.email, PASSWORD).await;
        let page = b.open(&format!("/grants/{grant}")).await;
        assert!(page.text.contains("Waiting for another officer to approve"), "{}", page.text);
        assert!(!page.text.contains(&approve));
        assert!(!b.open("/inbox").await.text.contains(&format!("/grants/{grant}\"")));

        let mut b2 = Browser::new(&app);
        b2.sign_in(&w.officer2.email, PASSWORD).await;
        assert!(b2.open("/inbox").await.text.contains(&format!("/grants/{grant}\"")));
        assert!(b2.open(&format!("/grants/{grant}")).await.text.contains(&approve));
        let r = b2.submit(&format!("/grants/{grant}/reject"), &[("reason", "")]).await;
        assert_eq!(r.status, 400, "a reject needs its reason");
        assert!(r.text.contains("id=\"reject-reason-error\""), "{}", r.text);
        let r = b2.submit(&format!("/grants/{grant}/approve"), &[]).await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("The grant is approved."));
        let g = app.get(&format!("/api/v1/grants/{grant}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(g["status"], "approved");
    }
}

on_both! {
    async fn an_officer_creates_submits_and_activates_a_grant_in_the_console(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let mut b = Browser::new(&app);
        b.sign_in(&w.officer.email, PASSWORD).await;
        let form = b.open("/grants/new").await;
        assert!(form.text.contains("<label for=\"grant-title\">Title</label>"));
        let fields = |title: &'static str, amount: &'static str| {
            vec![("fund_id", w.fund.clone()), ("grantee_organisation_id", w.grantee.clone()),
                 ("title", title.to_string()), ("description", "Legal aid".to_string()),
                 ("pillar", "capacity_strengthening".to_string()), ("currency", "USD".to_string()),
                 ("amount", amount.to_string()), ("planned_start", "2026-02-01".to_string()),
                 ("planned_end", "2026-12-31".to_string())]
        };
        let bad = fields("Paralegals", "12.345");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.submit("/grants/new", &bad).await;
        assert_eq!(r.status, 400);
        assert!(r.text.contains("id=\"grant-amount-error\""), "{}", r.text);
        assert!(r.text.contains("value=\"Paralegals\""), "what was typed is kept");
        let good = fields("Paralegals", "12000.00");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.submit("/grants/new", &good).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The draft is created."));
        let list = app.get("/api/v1/grants?status=draft").bearer(&w.officer.token).send().await.expect(200).body;
        let id = list["data"][0]["id"].as_str().unwrap().to_string();
        let r = b.submit(&format!("/grants/{id}/submit"), &[]).await;
        assert!(r.text.contains("The grant is submitted for approval."));
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let r = b.submit(&format!("/grants/{id}/activate"), &[]).await;
        assert!(r.text.contains("The grant is active."));
        let r = b.submit(&format!("/grants/{id}/report"), &[("kind", "narrative"), ("title", "Mid-term report"), ("due_on", "2026-06-30")]).await;
        assert!(r.text.contains("The report is asked for"), "{}", r.text);
        let g = app.get(&format!("/api/v1/grants/{id}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(g["status"], "active");
        // The list filters by status.
        let active_list = b.open("/grants?status=active").await;
        assert!(active_list.text.contains(&format!("/grants/{id}\"")));
        assert!(!b.open("/grants?status=draft").await.text.contains(&format!("/grants/{id}\"")));
    }
}

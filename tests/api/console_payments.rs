//! Payments at the console (issue 24): a member proposes its organisation's bank account (an
//! IBAN, or a local account with its bank) with errors at their fields and sees it masked;
//! finance confirms what it did not propose; runs are prepared from the approved tranches,
//! approved by another officer, downloaded, recorded paid and a line returned; the register
//! shows totals and filters. Every page is the console framework's, on both backends.

use serde_json::json;

use crate::common::console::Browser;
use crate::common::{PASSWORD, TestApp};
use crate::grants::{World, active, world};
use crate::on_both;

const DEBTOR: &[(&str, &str)] = &[
    ("BANK_ACCOUNT_COOLING_OFF_HOURS", "0"),
    ("PAYMENT_DEBTOR_ACCOUNT", "GB82WEST12345698765432"),
    ("PAYMENT_DEBTOR_BIC", "NWBKGB2L"),
];

/// How a page names the form posting to `path` (the template escapes its slashes).
fn action(path: &str) -> String {
    format!("action=\"{}\"", path.replace('/', "&#x2f;"))
}

/// An approved tranche of `grant` (the member requests it, the officer approves it).
async fn approved(app: &TestApp, w: &World, grant: &str, amount: &str) -> String {
    let d = app
        .post(&format!("/api/v1/grants/{grant}/disbursements"))
        .bearer(&w.member.token)
        .json(&json!({"amount": amount, "planned_date": "2026-05-01"}))
        .send()
        .await
        .expect(201);
    let d = d.body["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/disbursements/{d}/approve"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    d
}

on_both! {
    async fn a_member_proposes_its_organisations_account_with_errors_at_their_fields_and_sees_it_masked(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let mut m = Browser::new(&app);
        m.sign_in(&w.member.email, PASSWORD).await;
        let page_path = format!("/organisations/{}/bank-accounts", w.grantee);
        let page = m.open(&page_path).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("No bank accounts yet") && page.text.contains(&action(&page_path)), "{}", page.text);
        // A wrong IBAN checksum is shown at the IBAN; what was typed stays.
        let r = m.submit(&page_path, &[("holder_name", "Harm Reduction Kenya"), ("currency", "eur"), ("iban", "DE45 5001 0517 5407 3249 31"), ("bic", "MARKDEF1500")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"propose-iban-error\"") && r.text.contains("value=\"Harm Reduction Kenya\""), "{}", r.text);
        // A local account without its bank and country: both fields say so.
        let r = m.submit(&page_path, &[("holder_name", "Harm Reduction Kenya"), ("currency", "KES"), ("account_number", "0123456789012"), ("bic", "KCBLKENX")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"propose-bank_name-error\"") && r.text.contains("id=\"propose-bank_country-error\""), "{}", r.text);
        let stored = app.get(&format!("/api/v1{page_path}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(stored.body["total"], 0, "nothing refused is stored");
        // The local form is taken, and the account shows only its last four.
        let r = m.submit(&page_path, &[("holder_name", "Harm Reduction Kenya"), ("currency", "KES"), ("account_number", "0123456789012"),
            ("bank_name", "Kenya Commercial Bank"), ("bic", "KCBLKENX"), ("bank_country", "KE")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The account is proposed") && r.text.contains("****9012") && !r.text.contains("0123456789012"), "{}", r.text);
        let list = m.open(&page_path).await;
        assert!(list.text.contains("****9012") && list.text.contains("not yet confirmed") && !list.text.contains("0123456789012"), "{}", list.text);
        // Another organisation's member knows of no such page.
        let other = app.member_org("Other Org").await;
        let stranger = app.user("member", Some(&other)).await;
        let mut s = Browser::new(&app);
        s.sign_in(&stranger.email, PASSWORD).await;
        assert_eq!(s.open(&page_path).await.status, 404);
    }
}

on_both! {
    async fn finance_confirms_from_the_accounts_to_confirm_page_but_never_an_account_it_proposed(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let path = format!("/api/v1/organisations/{}/bank-accounts", w.grantee);
        let iban = json!({"holder_name": "Harm Reduction Kenya", "currency": "EUR", "iban": "DE44 5001 0517 5407 3249 31", "bic": "MARKDEF1500"});
        let theirs = app.post(&path).bearer(&w.member.token).json(&iban).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let own = app.post(&path).bearer(&finance2.token).json(&iban).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let mut f2 = Browser::new(&app);
        f2.sign_in(&finance2.email, PASSWORD).await;
        let list = f2.open("/payments/accounts").await;
        assert_eq!(list.status, 200, "{}", list.text);
        assert!(list.text.contains(&theirs) && list.text.contains(&own) && list.text.contains("you (another finance officer confirms it)"), "{}", list.text);
        // Its own proposal: told it waits for someone else, no confirm form.
        let page = f2.open(&format!("/organisations/{}/bank-accounts/{own}", w.grantee)).await;
        assert!(page.text.contains("another finance officer confirms it") && !page.text.contains("/confirm"), "{}", page.text);
        let r = f2.submit(&format!("/organisations/{}/bank-accounts/{own}/confirm", w.grantee), &[]).await;
        assert_eq!(r.status, 409, "{}", r.text);
        // The member's proposal: finance sees it in full and confirms it.
        let page = f2.open(&format!("/organisations/{}/bank-accounts/{theirs}", w.grantee)).await;
        assert!(page.text.contains("DE44500105175407324931") && page.text.contains("Confirm the account"), "{}", page.text);
        let r = f2.submit(&format!("/organisations/{}/bank-accounts/{theirs}/confirm", w.grantee), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The account is confirmed"), "{}", r.text);
        let a = app.get(&format!("{path}/{theirs}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(a.body["status"], "confirmed");
        let list = f2.open("/payments/accounts").await;
        assert!(!list.text.contains(&theirs), "{}", list.text);
        // Members are not finance.
        let mut m = Browser::new(&app);
        m.sign_in(&w.member.email, PASSWORD).await;
        assert_eq!(m.open("/payments/accounts").await.status, 403);
    }
}

on_both! {
    async fn a_run_is_prepared_approved_by_another_officer_downloaded_recorded_paid_and_a_line_returned_and_the_register_adds_up(backend) {
        let app = TestApp::start_with(backend, DEBTOR).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        app.payee(&w.grantee, "USD").await;
        let grant = active(&app, &w, "5000.00").await;
        let tranches = [approved(&app, &w, &grant, "100.00").await, approved(&app, &w, &grant, "250.50").await];
        let today = app.clock.today().to_string();

        let mut f1 = Browser::new(&app);
        f1.sign_in(&w.finance.email, PASSWORD).await;
        let page = f1.open("/payment-runs").await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("No payment runs yet") && page.text.contains("<option value=\"USD\""), "{}", page.text);
        // A value date in the past is refused at its field.
        let r = f1.submit("/payment-runs", &[("currency", "USD"), ("value_date", "2020-01-01")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"prepare-value_date-error\""), "{}", r.text);
        let r = f1.submit("/payment-runs", &[("currency", "USD"), ("value_date", &today)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The run is prepared") && r.text.contains("USD 350.50") && r.text.contains("another finance officer approves it"), "{}", r.text);
        let runs = app.get("/api/v1/payment-runs").bearer(&w.finance.token).send().await.expect(200);
        let run = runs.body[0]["id"].as_str().unwrap().to_string();
        let run_page = format!("/payment-runs/{run}");
        // The preparer is offered no approval, and no file before it.
        assert!(!r.text.contains(&action(&format!("{run_page}/approve"))) && !r.text.contains("files/pain001.xml"), "{}", r.text);
        assert_eq!(f1.open(&format!("{run_page}/files/pain001.xml")).await.status, 409);

        let mut f2 = Browser::new(&app);
        f2.sign_in(&finance2.email, PASSWORD).await;
        let r = f2.submit(&format!("{run_page}/approve"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The run is approved") && r.text.contains("files/pain001.xml"), "{}", r.text);
        let xml = f2.open(&format!("{run_page}/files/pain001.xml")).await;
        assert_eq!(xml.status, 200);
        assert!(xml.text.contains("<NbOfTxs>2</NbOfTxs>") && xml.text.contains("<CtrlSum>350.50</CtrlSum>"), "{}", xml.text);
        let csv = f2.open(&format!("{run_page}/files/lines.csv")).await;
        assert_eq!((csv.status, csv.header("content-type").unwrap().starts_with("text/csv")), (200, true));

        // Recorded paid: a bad date at its field first, then both tranches paid.
        let r = f1.submit(&format!("{run_page}/record"), &[("bank_reference", "BANK-1"), ("paid_on", "soon")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"record-paid_on-error\""), "{}", r.text);
        let r = f1.submit(&format!("{run_page}/record"), &[("bank_reference", "BANK-1"), ("paid_on", &today)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The run is recorded paid"), "{}", r.text);
        for t in &tranches {
            let t = app.get(&format!("/api/v1/disbursements/{t}")).bearer(&w.finance.token).send().await.expect(200);
            assert_eq!(t.body["status"], "paid");
        }
        // The bank returns the first line: its tranche is approved again.
        let lines = app.get(&format!("/api/v1/payment-runs/{run}")).bearer(&w.finance.token).send().await.expect(200).body["lines"].clone();
        let first = lines.as_array().unwrap().iter().find(|l| l["line_no"] == 1).unwrap()["id"].as_str().unwrap().to_string();
        let r = f1.submit(&format!("{run_page}/lines/{first}/return"), &[("reason", "")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"return-1-reason-error\""), "{}", r.text);
        let r = f1.submit(&format!("{run_page}/lines/{first}/return"), &[("reason", "Account closed")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("returned: Account closed"), "{}", r.text);
        let t = app.get(&format!("/api/v1/disbursements/{}", tranches[0])).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(t.body["status"], "approved");

        // The register: what stayed paid, with its total, filtered, and as CSV.
        let reg = f1.open("/payments/register").await;
        assert_eq!(reg.status, 200, "{}", reg.text);
        let api = app.get("/api/v1/payments").bearer(&w.finance.token).send().await.expect(200);
        let usd = api.body["totals"].as_array().unwrap().iter().find(|t| t["currency"] == "USD").unwrap()["paid"].as_str().unwrap().to_string();
        assert!(reg.text.contains(&format!("USD {usd}")) && reg.text.contains("Harm Reduction Kenya · ****4931"), "{}", reg.text);
        let reg = f1.open("/payments/register?currency=EUR").await;
        assert!(reg.text.contains("No payments match."), "{}", reg.text);
        let reg = f1.open("/payments/register?from=someday").await;
        assert_eq!(reg.status, 400, "{}", reg.text);
        assert!(reg.text.contains("id=\"filter-from-error\""), "{}", reg.text);
        let csv = f1.open("/payments/register.csv?currency=USD").await;
        assert_eq!(csv.status, 200);
        assert!(csv.text.starts_with("row,disbursement_id") && csv.text.contains(&format!(",USD,{usd},")), "{}", csv.text);
        let mut m = Browser::new(&app);
        m.sign_in(&w.member.email, PASSWORD).await;
        assert_eq!(m.open("/payments/register").await.status, 403);
        assert_eq!(m.open("/payment-runs").await.status, 403);
    }
}

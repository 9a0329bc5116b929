//! Money out the door (issue 24): payee bank accounts under change control, payment runs with
//! their ISO 20022 bank file, returned payments and the payments register, on both backends.

use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, TestUser};
use crate::grants::{World, grant_body, rate_date, world};
use crate::on_both;

const IBAN: &str = "DE44 5001 0517 5407 3249 31";
const DEBTOR: &[(&str, &str)] = &[
    ("PAYMENT_DEBTOR_ACCOUNT", "GB82WEST12345698765432"),
    ("PAYMENT_DEBTOR_BIC", "NWBKGB2L"),
];

async fn mails(app: &TestApp) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = app
        .emails()
        .await
        .iter()
        .map(|m| (m.header("X-IDPC-Kind").unwrap_or_default(), m.recipient()))
        .collect();
    out.sort();
    out
}

fn sent(kind: &str, to: &[&TestUser]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = to
        .iter()
        .map(|u| (kind.to_string(), u.email.clone()))
        .collect();
    out.sort();
    out
}

async fn login(app: &TestApp, email: &str) -> String {
    let r = app
        .post("/api/v1/auth/login")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect(200);
    r.body["access_token"].as_str().unwrap().to_string()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn propose(app: &TestApp, who: &TestUser, org: &str, body: Value) -> Value {
    app.post(&format!("/api/v1/organisations/{org}/bank-accounts"))
        .bearer(&who.token)
        .json(&body)
        .send()
        .await
        .expect(201)
        .body
}

fn iban_account(currency: &str) -> Value {
    json!({"holder_name": "Harm Reduction Kenya", "currency": currency, "iban": IBAN, "bic": "MARKDEF1500"})
}

/// A confirmed account of the grantee in `currency` (its member proposes, finance confirms).
async fn confirmed_account(app: &TestApp, w: &World, currency: &str) -> String {
    let a = id(&propose(app, &w.member, &w.grantee, iban_account(currency)).await);
    app.post(&format!(
        "/api/v1/organisations/{}/bank-accounts/{a}/confirm",
        w.grantee
    ))
    .bearer(&w.finance.token)
    .send()
    .await
    .expect(200);
    a
}

/// An active EUR grant of a USD fund at the stored rate 1.08; returns its id.
async fn eur_grant(app: &TestApp, w: &World, amount: &str) -> String {
    let mut body = grant_body(&w.fund, &w.grantee, "EUR", amount);
    body["fx_rate"] = json!("1.08");
    body["fx_rate_date"] = json!(rate_date());
    let g = id(&app
        .post("/api/v1/grants")
        .bearer(&w.officer.token)
        .json(&body)
        .send()
        .await
        .expect(201)
        .body);
    for (verb, who) in [
        ("submit", &w.officer),
        ("approve", &w.officer2),
        ("activate", &w.officer),
    ] {
        app.post(&format!("/api/v1/grants/{g}/{verb}"))
            .bearer(&who.token)
            .send()
            .await
            .expect(200);
    }
    g
}

/// An approved tranche of `grant` (requested by the member, approved by the officer).
async fn approved(app: &TestApp, w: &World, grant: &str, amount: &str) -> String {
    let d = app
        .post(&format!("/api/v1/grants/{grant}/disbursements"))
        .bearer(&w.member.token)
        .json(&json!({"amount": amount, "planned_date": "2026-05-01", "note": "Tranche"}))
        .send()
        .await
        .expect(201);
    let d = id(&d.body);
    app.post(&format!("/api/v1/disbursements/{d}/approve"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    d
}

fn sealed_columns(app: &TestApp) -> impl std::future::Future<Output = Vec<Vec<u8>>> + '_ {
    app.db(|c| {
        use diesel::prelude::*;
        use idpc_hub::db::schema::bank_accounts as a;
        a::table
            .select(a::number_sealed)
            .load::<Vec<u8>>(c)
            .unwrap()
    })
}

on_both! {
    async fn a_member_proposes_an_account_finance_confirms_it_and_nothing_is_paid_to_it_before_the_cooling_off_ends(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let member2 = app.user("member", Some(&w.grantee)).await;
        let finance2 = app.user("finance_officer", None).await;
        app.emails().await;
        let a = propose(&app, &w.member, &w.grantee, iban_account("USD")).await;
        assert_eq!((a["status"].as_str(), a["usable"].as_bool(), a["number"].as_str()), (Some("proposed"), Some(false), Some("****4931")));
        let a = id(&a);
        // Every other member is told the details are changing; finance is asked to confirm.
        let mut expected = sent("bank_account_changing", &[&member2]);
        expected.extend(sent("bank_account_pending", &[&w.finance, &finance2]));
        expected.sort();
        assert_eq!(mails(&app).await, expected);
        let path = format!("/api/v1/organisations/{}/bank-accounts/{a}", w.grantee);
        // The proposer cannot confirm it (nor can any member: finance confirms).
        let r = app.post(&format!("{path}/confirm")).bearer(&w.member.token).send().await.expect_problem(403);
        assert!(r.body["detail"].as_str().unwrap().contains("finance_officer"), "{}", r.text);
        // A finance officer who proposed an account cannot confirm it either.
        let own = id(&propose(&app, &w.finance, &w.grantee, iban_account("USD")).await);
        let r = app.post(&format!("/api/v1/organisations/{}/bank-accounts/{own}/confirm", w.grantee)).bearer(&w.finance.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        app.emails().await;
        let c = app.post(&format!("{path}/confirm")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!((c.body["status"].as_str(), c.body["usable"].as_bool()), (Some("confirmed"), Some(false)));
        // Every member of the organisation (the proposer too) is told it is confirmed.
        assert_eq!(mails(&app).await, sent("bank_account_confirmed", &[&w.member, &member2]));
        // Before the cooling-off period ends no tranche is paid to it.
        let grant = crate::grants::active(&app, &w, "1000.00").await;
        let d = approved(&app, &w, &grant, "100.00").await;
        let pay = json!({"payment_reference": "P-1", "paid_on": app.clock.today().to_string(), "bank_account_id": a});
        let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token).json(&pay).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:account-not-usable");
        assert!(r.body["detail"].as_str().unwrap().contains("cooling-off"), "{}", r.text);
        let t = app.get(&format!("/api/v1/disbursements/{d}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(t.body["status"], "approved");
        // An account of another organisation is no payee of this grant.
        let other = app.member_org("Other Org").await;
        let stranger = app.user("member", Some(&other)).await;
        let theirs = id(&propose(&app, &stranger, &other, iban_account("USD")).await);
        let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-1", "paid_on": app.clock.today().to_string(), "bank_account_id": theirs})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "bank_account_id");
        // Once it has passed, it is.
        app.clock.advance(chrono::Duration::hours(73));
        let finance = login(&app, &w.finance.email).await;
        let pay = json!({"payment_reference": "P-1", "paid_on": app.clock.today().to_string(), "bank_account_id": a});
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&finance).json(&pay).send().await.expect(200);
        let acct = app.get(&path).bearer(&finance).send().await.expect(200);
        assert_eq!((acct.body["usable"].as_bool(), acct.body["number"].as_str()), (Some(true), Some("DE44500105175407324931")));
        let audit = crate::grants::audit_actions(&app, &a).await;
        let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(actions, ["bank_account.proposed", "bank_account.confirmed"]);
        assert_eq!(audit[0].1.as_deref(), Some(w.member.id.as_str()));
        assert_eq!(audit[1].1.as_deref(), Some(w.finance.id.as_str()));
    }
}

on_both! {
    async fn a_wrong_iban_checksum_is_a_400_naming_iban_and_a_kenyan_account_is_taken_with_its_bank(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let path = format!("/api/v1/organisations/{}/bank-accounts", w.grantee);
        let mut bad = iban_account("EUR");
        bad["iban"] = json!("DE45 5001 0517 5407 3249 31");
        let r = app.post(&path).bearer(&w.member.token).json(&bad).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "iban");
        let mut bad_bic = iban_account("EUR");
        bad_bic["bic"] = json!("not a bic");
        let r = app.post(&path).bearer(&w.member.token).json(&bad_bic).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "bic");
        // Kenya has no IBAN: an account number, its bank, SWIFT and country.
        let kenya = json!({"holder_name": "Harm Reduction Kenya", "currency": "KES", "account_number": "0123456789012",
            "bank_name": "Kenya Commercial Bank", "bic": "KCBLKENX", "bank_country": "KE"});
        let local_missing = json!({"holder_name": "Harm Reduction Kenya", "currency": "KES", "account_number": "0123456789012", "bic": "KCBLKENX"});
        let r = app.post(&path).bearer(&w.member.token).json(&local_missing).send().await.expect_problem(400);
        let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["bank_name", "bank_country"]);
        let a = propose(&app, &w.member, &w.grantee, kenya).await;
        assert_eq!((a["scheme"].as_str(), a["number"].as_str(), a["bank_country"].as_str()), (Some("local"), Some("****9012"), Some("KE")));
        // Nothing was stored by the refused requests.
        assert_eq!(sealed_columns(&app).await.len(), 1);
    }
}

on_both! {
    async fn account_numbers_are_sealed_at_rest_and_only_finance_sees_more_than_the_last_four(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let a = id(&propose(&app, &w.member, &w.grantee, iban_account("EUR")).await);
        for sealed in sealed_columns(&app).await {
            let text = String::from_utf8_lossy(&sealed).to_string();
            assert!(!text.contains("5407324931") && !text.contains("5407 3249"), "plaintext at rest: {text}");
        }
        let path = format!("/api/v1/organisations/{}/bank-accounts", w.grantee);
        for who in [&w.member, &w.officer, &w.admin] {
            let r = app.get(&path).bearer(&who.token).send().await.expect(200);
            assert_eq!(r.body["data"][0]["number"], "****4931");
            assert!(!r.text.contains("5407324931"), "{}", r.text);
        }
        let r = app.get(&format!("{path}/{a}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(r.body["number"], "DE44500105175407324931");
        // Another organisation's member and a partner app know of no such account.
        let other = app.member_org("Other Org").await;
        let stranger = app.user("member", Some(&other)).await;
        let (_, _, app_token) = app.api_client(&w.admin, &other, &["directory:read", "grants:read"]).await;
        for token in [&stranger.token, &app_token] {
            let r = app.get(&path).bearer(token).send().await.expect_problem(404);
            assert!(!r.text.contains("4931"));
            app.get(&format!("{path}/{a}")).bearer(token).send().await.expect_problem(404);
        }
        // The emails carry only the last four.
        let all = app.emails().await;
        assert!(!all.is_empty());
        assert!(all.iter().all(|m| !m.raw.contains("5407324931")));
    }
}

/// Three approved EUR tranches with a usable account, in a run prepared by `w.finance`.
async fn eur_run(app: &TestApp, w: &World) -> (String, Vec<String>, String) {
    let account = confirmed_account(app, w, "EUR").await;
    let grant = eur_grant(app, w, "9000.00").await;
    let mut tranches = Vec::new();
    for amount in ["1000.00", "2000.50", "300.25"] {
        tranches.push(approved(app, w, &grant, amount).await);
    }
    let lines: Vec<Value> = tranches
        .iter()
        .map(|d| json!({"disbursement_id": d, "bank_account_id": account}))
        .collect();
    let r = app.post("/api/v1/payment-runs").bearer(&w.finance.token)
        .json(&json!({"currency": "EUR", "value_date": app.clock.today().to_string(), "lines": lines})).send().await.expect(201);
    assert_eq!(
        (
            r.body["control_sum"].as_str(),
            r.body["line_count"].as_i64()
        ),
        (Some("3300.75"), Some(3))
    );
    (id(&r.body), tranches, grant)
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

fn validate_pain001(xml: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.xml");
    std::fs::write(&file, xml).unwrap();
    let xsd = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/standards/iso20022/pain.001.001.09.xsd"
    );
    std::process::Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&file)
        .output()
        .expect("xmllint runs")
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    s.split(open)
        .skip(1)
        .map(|p| p.split(close).next().unwrap())
        .collect()
}

on_both! {
    async fn a_run_of_three_eur_tranches_is_approved_by_a_second_officer_exported_as_valid_pain001_and_paid_once(backend) {
        let app = TestApp::start_with(backend, &[&[("BANK_ACCOUNT_COOLING_OFF_HOURS", "0")], DEBTOR].concat()).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let (run, tranches, grant) = eur_run(&app, &w).await;
        assert_eq!(mails(&app).await.into_iter().filter(|m| m.0 == "payment_run_pending").collect::<Vec<_>>(), sent("payment_run_pending", &[&finance2]));
        // A tranche is in at most one open run.
        let again = json!({"currency": "EUR", "value_date": app.clock.today().to_string(),
            "lines": [{"disbursement_id": tranches[0], "bank_account_id": app.get(&format!("/api/v1/payment-runs/{run}")).bearer(&w.finance.token).send().await.body["lines"][0]["bank_account_id"]}]});
        let r = app.post("/api/v1/payment-runs").bearer(&finance2.token).json(&again).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:already-in-run");
        // The preparer cannot approve it, and its file waits for the approval.
        let r = app.post(&format!("/api/v1/payment-runs/{run}/approve")).bearer(&w.finance.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        app.get(&format!("/api/v1/payment-runs/{run}/pain001")).bearer(&w.finance.token).send().await.expect_problem(409);
        for who in [&w.officer, &w.admin, &w.member] {
            app.post(&format!("/api/v1/payment-runs/{run}/approve")).bearer(&who.token).send().await.expect_problem(403);
        }
        let r = app.post(&format!("/api/v1/payment-runs/{run}/approve")).bearer(&finance2.token).send().await.expect(200);
        assert_eq!(r.body["status"], "approved");
        // The file validates against the schema; its count and control sum are the lines'.
        let x = app.get(&format!("/api/v1/payment-runs/{run}/pain001")).bearer(&w.finance.token).send().await.expect(200);
        let out = validate_pain001(&x.text);
        assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stderr), x.text);
        assert_eq!(between(&x.text, "<NbOfTxs>", "</NbOfTxs>"), ["3", "3"]);
        assert_eq!(between(&x.text, "<CtrlSum>", "</CtrlSum>"), ["3300.75", "3300.75"]);
        assert_eq!(between(&x.text, "<InstdAmt Ccy=\"EUR\">", "</InstdAmt>"), ["1000.00", "2000.50", "300.25"]);
        let csv = app.get(&format!("/api/v1/payment-runs/{run}/csv")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(csv.text.lines().count(), 4, "{}", csv.text);
        // Only finance downloads the file with the numbers in it.
        app.get(&format!("/api/v1/payment-runs/{run}/pain001")).bearer(&w.officer.token).send().await.expect_problem(403);
        // Recording it paid pays each tranche once, also when the request is repeated.
        let body = json!({"bank_reference": "BANK-77", "paid_on": app.clock.today().to_string()});
        let first = app.post(&format!("/api/v1/payment-runs/{run}/record")).bearer(&w.finance.token).header("idempotency-key", "run-77").json(&body).send().await.expect(200);
        let second = app.post(&format!("/api/v1/payment-runs/{run}/record")).bearer(&w.finance.token).header("idempotency-key", "run-77").json(&body).send().await.expect(200);
        assert_eq!(first.body, second.body);
        assert_eq!(first.body["status"], "completed");
        app.post(&format!("/api/v1/payment-runs/{run}/record")).bearer(&w.finance.token).json(&body).send().await.expect_problem(409);
        for d in &tranches {
            let t = app.get(&format!("/api/v1/disbursements/{d}")).bearer(&w.finance.token).send().await.expect(200);
            assert_eq!(t.body["status"], "paid");
        }
        let g = app.get(&format!("/api/v1/grants/{grant}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(g.body["paid"], "3300.75");
        let paid_events = app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::audit_events as a;
            a::table.filter(a::action.eq("disbursement.paid")).count().get_result::<i64>(c).unwrap()
        }).await;
        assert_eq!(paid_events, 3);
    }
}

on_both! {
    async fn a_line_returned_by_the_bank_puts_its_tranche_back_to_approved_and_tells_its_approvers(backend) {
        let app = TestApp::start_with(backend, &[&[("BANK_ACCOUNT_COOLING_OFF_HOURS", "0")], DEBTOR].concat()).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let (run, tranches, grant) = eur_run(&app, &w).await;
        app.post(&format!("/api/v1/payment-runs/{run}/approve")).bearer(&finance2.token).send().await.expect(200);
        let body = json!({"bank_reference": "BANK-78", "paid_on": app.clock.today().to_string()});
        let r = app.post(&format!("/api/v1/payment-runs/{run}/record")).bearer(&w.finance.token).json(&body).send().await.expect(200);
        let line = r.body["lines"][1]["id"].as_str().unwrap().to_string();
        app.emails().await;
        let r = app.post(&format!("/api/v1/payment-runs/{run}/lines/{line}/return")).bearer(&finance2.token)
            .json(&json!({"reason": "Account closed"})).send().await.expect(200);
        assert_eq!((r.body["lines"][1]["status"].as_str(), r.body["lines"][1]["return_reason"].as_str()), (Some("returned"), Some("Account closed")));
        let t = app.get(&format!("/api/v1/disbursements/{}", tranches[1])).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!((t.body["status"].as_str(), t.body["decision_reason"].as_str(), t.body["payment_reference"].as_str()), (Some("approved"), Some("Account closed"), None));
        let g = app.get(&format!("/api/v1/grants/{grant}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!((g.body["paid"].as_str(), g.body["committed"].as_str()), (Some("1300.25"), Some("3300.75")));
        // The tranche's approver and finance (not the one who recorded the return) are told.
        let mut expected = sent("payment_returned", &[&w.officer, &w.finance]);
        expected.sort();
        assert_eq!(mails(&app).await, expected);
        // Returned twice is refused; the tranche may go into a new run.
        app.post(&format!("/api/v1/payment-runs/{run}/lines/{line}/return")).bearer(&finance2.token)
            .json(&json!({"reason": "Again"})).send().await.expect_problem(409);
        let account = r.body["lines"][1]["bank_account_id"].as_str().unwrap();
        app.post("/api/v1/payment-runs").bearer(&w.finance.token)
            .json(&json!({"currency": "EUR", "value_date": app.clock.today().to_string(), "lines": [{"disbursement_id": tranches[1], "bank_account_id": account}]}))
            .send().await.expect(201);
    }
}

on_both! {
    async fn the_payments_register_totals_equal_the_paid_tranches_per_currency_and_in_the_base_currency(backend) {
        let app = TestApp::start_with(backend, &[&[("BANK_ACCOUNT_COOLING_OFF_HOURS", "0")], DEBTOR].concat()).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let (run, _, _) = eur_run(&app, &w).await;
        app.post(&format!("/api/v1/payment-runs/{run}/approve")).bearer(&finance2.token).send().await.expect(200);
        let body = json!({"bank_reference": "BANK-79", "paid_on": app.clock.today().to_string()});
        app.post(&format!("/api/v1/payment-runs/{run}/record")).bearer(&w.finance.token).json(&body).send().await.expect(200);
        // A USD tranche paid by hand, and one paid then reversed.
        // (The reversed one's reference would run as a formula in a spreadsheet.)
        let usd = crate::grants::active(&app, &w, "1000.00").await;
        let usd_account = confirmed_account(&app, &w, "USD").await;
        for (amount, reverse, reference) in [("250.00", false, "HAND-1"), ("99.00", true, "=HYPERLINK(\"http://x.test\")")] {
            let d = approved(&app, &w, &usd, amount).await;
            app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
                .json(&json!({"payment_reference": reference, "paid_on": app.clock.today().to_string(), "bank_account_id": usd_account})).send().await.expect(200);
            if reverse {
                app.post(&format!("/api/v1/disbursements/{d}/reverse")).bearer(&w.finance.token).json(&json!({"reason": "Duplicate"})).send().await.expect(200);
            }
        }
        let r = app.get("/api/v1/payments").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["total"], 5);
        assert_eq!(r.body["totals"], json!([
            {"currency": "EUR", "count": 3, "paid": "3300.75"},
            {"currency": "USD", "count": 1, "paid": "250.00"},
        ]));
        // EUR at the grants' stored rate 1.08: 3300.75 × 1.08 = 3564.81 (each line rounded).
        let eur_in_base: f64 = r.body["data"].as_array().unwrap().iter().filter(|p| p["currency"] == "EUR")
            .map(|p| p["amount_in_base"].as_str().unwrap().parse::<f64>().unwrap()).sum();
        let total_in_base: f64 = r.body["total_in_base"].as_str().unwrap().parse().unwrap();
        assert!((total_in_base - (eur_in_base + 250.0)).abs() < 0.001, "{}", r.text);
        assert!((eur_in_base - 3564.81).abs() < 0.02, "{eur_in_base}");
        assert!(r.body["data"].as_array().unwrap().iter().filter(|p| p["currency"] == "EUR").all(|p| p["account"] == "****4931" && p["run_id"] == run.as_str()));
        assert!(!r.text.contains("5407324931"));
        // Filters: by run, and by currency.
        let r = app.get(&format!("/api/v1/payments?run_id={run}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(r.body["total"], 3);
        let r = app.get("/api/v1/payments?currency=USD").bearer(&w.finance.token).send().await.expect(200);
        assert_eq!((r.body["total"].as_i64(), r.body["total_in_base"].as_str()), (Some(2), Some("250.00")));
        let r = app.get("/api/v1/payments?currency=XXX").bearer(&w.finance.token).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "currency");
        app.get("/api/v1/payments").bearer(&w.member.token).send().await.expect_problem(403);
        // The CSV: the same rows, filters and totals, and the formula defused.
        let all = app.get("/api/v1/payments").bearer(&w.officer.token).send().await.expect(200).body;
        let csv = app.get("/api/v1/payments.csv").bearer(&w.officer.token).send().await.expect(200);
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        let rows = csv_rows(&csv.text);
        assert_eq!(rows[0], idpc_hub::payments::register::CSV_HEADER);
        assert_eq!(rows.iter().filter(|r| r[0] == "payment").count(), 5);
        let totals: Vec<(&str, &str)> = rows.iter().filter(|r| r[0] == "total").map(|r| (r[11].as_str(), r[12].as_str())).collect();
        assert_eq!(totals, [("EUR", "3300.75"), ("USD", "250.00")]);
        let base: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "total_in_base").collect();
        assert_eq!((base.len(), base[0][14].as_str()), (1, all["total_in_base"].as_str().unwrap()));
        assert!(rows.iter().any(|r| r[10] == "'=HYPERLINK(\"http://x.test\")"), "{}", csv.text);
        assert!(!csv.text.contains("5407324931"));
        let csv = app.get("/api/v1/payments.csv?currency=USD").bearer(&w.finance.token).send().await.expect(200);
        let rows = csv_rows(&csv.text);
        assert_eq!(rows.iter().filter(|r| r[0] == "payment").count(), 2);
        assert_eq!(rows.iter().find(|r| r[0] == "total_in_base").unwrap()[14], "250.00");
        app.get("/api/v1/payments.csv").bearer(&w.member.token).send().await.expect_problem(403);
    }
}

on_both! {
    async fn the_links_of_the_account_and_run_emails_open_console_pages_where_finance_confirms_and_approves(backend) {
        use crate::common::console::{Browser, path_of};
        let app = TestApp::start_with(backend, &[("BANK_ACCOUNT_COOLING_OFF_HOURS", "0")]).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        app.emails().await;
        propose(&app, &w.member, &w.grantee, iban_account("EUR")).await;
        let mails = app.emails().await;
        let to_finance = mails.iter().find(|m| m.recipient() == w.finance.email).expect("finance is asked");
        let link = to_finance.link("http://hub.test/organisations/").expect("a link to the account");
        let mut b = Browser::new(&app);
        b.sign_in(&w.finance.email, PASSWORD).await;
        let page = b.open(&path_of(&link)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("****4931") || page.text.contains("DE44500105175407324931"), "{}", page.text);
        let r = b.submit(&format!("{}/confirm", path_of(&link)), &[]).await;
        assert!(r.status == 200 || r.status == 303, "{}", r.text);
        let a = app.get(&format!("/api/v1{}", path_of(&link))).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(a.body["status"], "confirmed");
        // A member opens the same link and sees only the last four.
        let mut m = Browser::new(&app);
        m.sign_in(&w.member.email, PASSWORD).await;
        let page = m.open(&path_of(&link)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("****4931") && !page.text.contains("5407324931"));
        // The run email's link: the second finance officer approves there.
        let grant = eur_grant(&app, &w, "900.00").await;
        let d = approved(&app, &w, &grant, "100.00").await;
        app.emails().await;
        let r = app.post("/api/v1/payment-runs").bearer(&w.finance.token)
            .json(&json!({"currency": "EUR", "value_date": app.clock.today().to_string(), "lines": [{"disbursement_id": d, "bank_account_id": a.body["id"]}]}))
            .send().await.expect(201);
        let mails = app.emails().await;
        let link = mails.iter().find(|m| m.recipient() == finance2.email).and_then(|m| m.link("http://hub.test/payment-runs/")).expect("a link to the run");
        let mut f2 = Browser::new(&app);
        f2.sign_in(&finance2.email, PASSWORD).await;
        let page = f2.open(&path_of(&link)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains("Approve"), "{}", page.text);
        f2.submit(&format!("{}/approve", path_of(&link)), &[]).await;
        let run = app.get(&format!("/api/v1/payment-runs/{}", id(&r.body))).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(run.body["status"], "approved");
    }
}

on_both! {
    async fn a_payee_name_that_starts_like_a_formula_is_defused_in_the_run_csv(backend) {
        let app = TestApp::start_with(backend, &[&[("BANK_ACCOUNT_COOLING_OFF_HOURS", "0")], DEBTOR].concat()).await;
        let w = world(&app).await;
        let finance2 = app.user("finance_officer", None).await;
        let mut account = iban_account("EUR");
        account["holder_name"] = json!("=SUM(A1:A9) Kenya");
        let account = id(&propose(&app, &w.member, &w.grantee, account).await);
        app.post(&format!("/api/v1/organisations/{}/bank-accounts/{account}/confirm", w.grantee))
            .bearer(&w.finance.token).send().await.expect(200);
        let grant = eur_grant(&app, &w, "9000.00").await;
        let tranche = approved(&app, &w, &grant, "1000.00").await;
        let run = app.post("/api/v1/payment-runs").bearer(&w.finance.token)
            .json(&json!({"currency": "EUR", "value_date": app.clock.today().to_string(),
                "lines": [{"disbursement_id": tranche, "bank_account_id": account}]}))
            .send().await.expect(201);
        let run = id(&run.body);
        app.post(&format!("/api/v1/payment-runs/{run}/approve")).bearer(&finance2.token).send().await.expect(200);
        let csv = app.get(&format!("/api/v1/payment-runs/{run}/csv")).bearer(&w.finance.token).send().await.expect(200);
        let row: Vec<&str> = csv.text.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(row[3], "'=SUM(A1:A9) Kenya", "{}", csv.text);
        assert!(csv.text.ends_with("\r\n"), "lines end as RFC 4180 asks");
    }
}

on_both! {
    async fn a_tranche_is_paid_only_to_a_named_usable_account_of_its_grantee_in_its_currency_whose_holder_approvers_and_finance_see(backend) {
        use crate::common::console::Browser;
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = crate::grants::active(&app, &w, "1000.00").await;
        let d = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "100.00", "planned_date": "2026-05-01"})).send().await.expect(201);
        let d = id(&d.body);
        // Before the grantee has a usable account, the approver is told there is none.
        let t = app.get(&format!("/api/v1/disbursements/{d}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(t.body["payee_account"], Value::Null);
        let usable = app.payee(&w.grantee, "USD").await;
        let t = app.get(&format!("/api/v1/disbursements/{d}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(t.body["payee_account"]["id"], usable.as_str());
        assert_eq!((t.body["payee_account"]["holder_name"].as_str(), t.body["payee_account"]["number"].as_str()), (Some("Harm Reduction Kenya"), Some("****4931")));
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer.token).send().await.expect(200);
        // Finance's queue names who approved it and where the money goes.
        let q = app.get("/api/v1/disbursements?awaiting=me").bearer(&w.finance.token).send().await.expect(200);
        let item = q.body["data"].as_array().unwrap().iter().find(|i| i["id"] == d.as_str()).expect("in finance's queue").clone();
        let officer = app.get("/api/v1/me").bearer(&w.officer.token).send().await.expect(200).body["display_name"].clone();
        assert_eq!(item["approver_names"], json!([officer]));
        assert_eq!(item["payee_account"]["holder_name"], "Harm Reduction Kenya");
        let path = format!("/api/v1/disbursements/{d}/pay");
        let today = app.clock.today().to_string();
        // No account named: 400 at bank_account_id.
        let r = app.post(&path).bearer(&w.finance.token).json(&json!({"payment_reference": "P-1", "paid_on": today})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "bank_account_id");
        // A usable account in another currency, or one not yet confirmed: 409.
        let euro = app.payee(&w.grantee, "EUR").await;
        let proposed = id(&propose(&app, &w.member, &w.grantee, iban_account("USD")).await);
        for (account, says) in [(&euro, "EUR"), (&proposed, "proposed")] {
            let r = app.post(&path).bearer(&w.finance.token)
                .json(&json!({"payment_reference": "P-1", "paid_on": today, "bank_account_id": account})).send().await.expect_problem(409);
            assert_eq!(r.body["type"], "urn:idpc-hub:problem:account-not-usable");
            assert!(r.body["detail"].as_str().unwrap().contains(says), "{}", r.text);
        }
        let t = app.get(&format!("/api/v1/disbursements/{d}")).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(t.body["status"], "approved");
        // The finance officer's page shows the approver and the account, and offers only it.
        let mut b = Browser::new(&app);
        b.sign_in(&w.finance.email, PASSWORD).await;
        let page = b.open(&format!("/disbursements/{d}")).await;
        assert!(page.text.contains(officer.as_str().unwrap()) && page.text.contains("Harm Reduction Kenya · ****4931"), "{}", page.text);
        assert!(page.text.contains(&format!("value=\"{usable}\"")) && !page.text.contains(&format!("value=\"{euro}\"")), "{}", page.text);
        let r = b.submit(&format!("/disbursements/{d}/pay"), &[("bank_account_id", &usable), ("payment_reference", "BANK-1"), ("paid_on", &today)]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let t = app.get(&format!("/api/v1/disbursements/{d}")).bearer(&w.member.token).send().await.expect(200);
        assert_eq!((t.body["status"].as_str(), t.body["bank_account_id"].as_str()), (Some("paid"), Some(usable.as_str())));
        assert_eq!(t.body["payee_account"]["number"], "****4931");
    }
}

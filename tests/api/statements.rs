//! Donor fund statements (`/api/v1/funds/{id}/statement`) over the demo data, on both
//! backends: closing = opening + received − paid + reversed, the next period opens at the
//! closing, the paid figure agrees with the payments register, and the CSV and the PDF (its
//! text read back) carry the closing balance.

use serde_json::Value;

use crate::common::TestApp;
use crate::on_both;
use crate::portfolio::{demo, login, minor};

fn balance_holds(s: &Value) {
    let f = |k: &str| minor(&s[k]);
    assert_eq!(
        f("closing_balance"),
        f("opening_balance") + f("received") - f("paid") + f("reversed"),
        "closing = opening + received − paid + reversed: {s}"
    );
}

on_both! {
    async fn a_statement_closes_at_opening_plus_received_minus_paid_plus_reversed_and_its_pdf_shows_the_closing_balance(backend) {
        let app = TestApp::start(backend).await;
        let staff = demo(&app).await;
        let today = app.clock.today();
        let funds = app.get("/api/v1/funds").bearer(&staff).send().await.expect(200).body;
        let mut with_reversal = None;
        for f in funds["data"].as_array().unwrap() {
            let id = f["id"].as_str().unwrap();
            let s = app.get(&format!("/api/v1/funds/{id}/statement")).bearer(&staff).send().await.expect(200).body;
            balance_holds(&s);
            assert_eq!(s["currency"], f["currency"]);
            assert_eq!(minor(&s["opening_balance"]), 0, "nothing happens before a fund starts: {s}");
            if minor(&s["reversed"]) > 0 {
                with_reversal = Some((id.to_string(), s));
            }
        }
        let (fund, whole) = with_reversal.expect("the demo data has a fund with a paid and a reversed tranche");
        assert!(minor(&whole["paid"]) > 0 && minor(&whole["received"]) > 0, "{whole}");
        assert!(!whole["lines"].as_array().unwrap().is_empty());
        // The paid tranches net of reversals are the register's paid total for the fund.
        let register = app.get(&format!("/api/v1/payments?fund_id={fund}")).bearer(&staff).send().await.expect(200).body;
        let totals = register["totals"].as_array().unwrap();
        if totals.len() == 1 && totals[0]["currency"] == whole["currency"] {
            assert_eq!(minor(&totals[0]["paid"]), minor(&whole["paid"]) - minor(&whole["reversed"]));
        }
        // Split at a day: the second period opens at the first one's closing.
        let mid = today - chrono::Duration::days(10);
        let first = app.get(&format!("/api/v1/funds/{fund}/statement?to={mid}")).bearer(&staff).send().await.expect(200).body;
        let next = mid + chrono::Duration::days(1);
        let second = app.get(&format!("/api/v1/funds/{fund}/statement?from={next}&to={today}")).bearer(&staff).send().await.expect(200).body;
        balance_holds(&first);
        balance_holds(&second);
        assert_eq!(second["opening_balance"], first["closing_balance"]);
        assert_eq!(second["closing_balance"], whole["closing_balance"]);
        assert_eq!(minor(&first["paid"]) + minor(&second["paid"]), minor(&whole["paid"]));

        let closing = whole["closing_balance"].as_str().unwrap();
        let csv = app.get(&format!("/api/v1/funds/{fund}/statement.csv")).bearer(&staff).send().await.expect(200);
        assert!(csv.text.contains(&format!("closing_balance,{closing},,,,\n")), "{}", csv.text);
        let pdf = app.get(&format!("/api/v1/funds/{fund}/statement.pdf")).bearer(&staff).send().await.expect(200);
        assert_eq!(pdf.header("content-type").unwrap(), "application/pdf");
        let doc = lopdf::Document::load_mem(&pdf.bytes).expect("a PDF that parses");
        let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
        let text = doc.extract_text(&pages).expect("its text can be extracted");
        let currency = whole["currency"].as_str().unwrap();
        assert!(text.contains(&format!("closing balance: {currency} {closing}")), "{text}");
        assert!(text.contains(whole["reference"].as_str().unwrap()), "{text}");
    }
}

on_both! {
    async fn a_statement_is_for_staff_an_unknown_fund_is_404_and_a_period_ending_before_it_starts_is_400(backend) {
        let app = TestApp::start(backend).await;
        let staff = demo(&app).await;
        let funds = app.get("/api/v1/funds").bearer(&staff).send().await.expect(200).body;
        let fund = funds["data"][0]["id"].as_str().unwrap().to_string();
        let member = &idpc_hub::demo::DEMO_USERS[4];
        let member_token = login(&app, member.email, member.password).await;
        app.get(&format!("/api/v1/funds/{fund}/statement")).bearer(&member_token).send().await.expect_problem(403);
        app.get(&format!("/api/v1/funds/{fund}/statement.pdf")).send().await.expect_problem(401);
        app.get(&format!("/api/v1/funds/{}/statement", uuid::Uuid::now_v7())).bearer(&staff).send().await.expect_problem(404);
        let r = app.get(&format!("/api/v1/funds/{fund}/statement?from=2026-05-01&to=2026-04-01")).bearer(&staff).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "to");
    }
}

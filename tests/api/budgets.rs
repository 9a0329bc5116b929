//! Budgets (issue 25): a grant's budget lines sum to its amount before it is submitted (409
//! naming the difference); writing them makes you a contributor who may not approve; after
//! approval a move within the tolerance applies at once and a larger one waits for another
//! officer, who is emailed a link to a console page where it is decided.

use serde_json::{Value, json};

use crate::common::console::{Browser, path_of};
use crate::common::{PASSWORD, TestApp};
use crate::grants::{World, grant_body, world};
use crate::on_both;

fn line(category: &str, description: &str, amount: &str) -> Value {
    json!({"category": category, "description": description, "amount": amount})
}

/// A draft of 1000.00 USD with `lines`; returns its id.
async fn draft_with(app: &TestApp, w: &World, lines: Value) -> String {
    let mut body = grant_body(&w.fund, &w.grantee, "USD", "1000.00");
    body["budget"] = lines;
    app.post("/api/v1/grants")
        .bearer(&w.officer.token)
        .json(&body)
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn etag(app: &TestApp, path: &str, token: &str) -> String {
    app.get(path)
        .bearer(token)
        .send()
        .await
        .expect(200)
        .header("etag")
        .expect("an ETag")
}

/// An active grant of 1000.00 USD with lines of 500.00 (activities) and 500.00 (staff).
async fn active_with_two_lines(app: &TestApp, w: &World) -> String {
    let id = draft_with(
        app,
        w,
        json!([
            line("activities", "Trainings", "500.00"),
            line("staff", "Trainer fees", "500.00")
        ]),
    )
    .await;
    app.post(&format!("/api/v1/grants/{id}/submit"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/grants/{id}/approve"))
        .bearer(&w.officer2.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/grants/{id}/activate"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    id
}

/// The lines of a budget answer with new amounts, in order (ids kept).
fn moved(budget: &Value, amounts: &[&str]) -> Value {
    let lines: Vec<Value> = budget["lines"].as_array().unwrap().iter().zip(amounts)
        .map(|(l, a)| json!({"id": l["id"], "category": l["category"], "description": l["description"], "amount": a}))
        .collect();
    Value::Array(lines)
}

on_both! {
    async fn a_grant_whose_budget_lines_do_not_sum_to_its_amount_cannot_be_submitted_and_the_409_names_the_difference(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let id = draft_with(&app, &w, json!([line("activities", "Trainings", "600.00"), line("staff", "Trainer fees", "300.00")])).await;
        let path = format!("/api/v1/grants/{id}/budget");
        let b = app.get(&path).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!((b["amount"].as_str(), b["total"].as_str(), b["difference"].as_str()), (Some("1000.00"), Some("900.00"), Some("100.00")));
        assert_eq!(b["balanced"], false);
        assert_eq!(b["lines"][0]["category"], "activities");
        let r = app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert!(r.body["type"].as_str().unwrap().ends_with("budget-mismatch"), "{}", r.text);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("900.00") && detail.contains("1000.00") && detail.contains("difference of 100.00"), "{detail}");
        let g = app.get(&format!("/api/v1/grants/{id}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(g["status"], "draft", "a refused submission changes nothing");

        // Lines above the amount: the difference is negative.
        let tag = etag(&app, &path, &w.officer.token).await;
        let over = json!({"lines": moved(&b, &["800.00", "300.00"])});
        let r = app.req(actix_web::http::Method::PUT, &path).bearer(&w.officer.token).header("if-match", &tag).json(&over).send().await.expect(200);
        assert_eq!(r.body["difference"], "-100.00");
        let r = app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert!(r.body["detail"].as_str().unwrap().contains("difference of -100.00"), "{}", r.text);

        // Balanced, it is submitted.
        let tag = etag(&app, &path, &w.officer.token).await;
        let fixed = json!({"lines": moved(&b, &["700.00", "300.00"])});
        let r = app.req(actix_web::http::Method::PUT, &path).bearer(&w.officer.token).header("if-match", &tag).json(&fixed).send().await.expect(200);
        assert_eq!(r.body["balanced"], true);
        assert_eq!(r.body["lines"][0]["id"], b["lines"][0]["id"], "a line given back by id is kept");
        app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect(200);

        // A grant without lines cannot be submitted either.
        let bare = draft_with(&app, &w, json!([])).await;
        let r = app.post(&format!("/api/v1/grants/{bare}/submit")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert!(r.body["detail"].as_str().unwrap().contains("no budget lines"), "{}", r.text);
    }
}

on_both! {
    async fn an_officer_who_edited_a_budget_line_cannot_approve_the_grant(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let id = draft_with(&app, &w, json!([line("activities", "Trainings", "1000.00")])).await;
        app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect(200);
        let path = format!("/api/v1/grants/{id}/budget");
        let b = app.get(&path).bearer(&w.officer2.token).send().await.expect(200).body;
        let tag = etag(&app, &path, &w.officer2.token).await;
        // officer2 changes a line of the submitted grant: it returns to draft.
        let mut lines = moved(&b, &["1000.00"]);
        lines[0]["description"] = json!("Trainings in Nairobi and Mombasa");
        app.req(actix_web::http::Method::PUT, &path).bearer(&w.officer2.token).header("if-match", &tag)
            .json(&json!({"lines": lines})).send().await.expect(200);
        let g = app.get(&format!("/api/v1/grants/{id}")).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(g["status"], "draft", "an edit sends a submitted grant back to draft");
        app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect(200);
        let r = app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        assert!(r.body["type"].as_str().unwrap().ends_with("self-approval"), "{}", r.text);
        assert!(r.body["detail"].as_str().unwrap().contains("you edited its budget lines"), "{}", r.text);
        // Someone who wrote nothing approves it.
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.admin.token).send().await.expect(200);
    }
}

on_both! {
    async fn budget_lines_are_checked_field_by_field_under_if_match_and_only_staff_write_them(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let id = draft_with(&app, &w, json!([line("activities", "Trainings", "1000.00")])).await;
        let path = format!("/api/v1/grants/{id}/budget");
        let tag = etag(&app, &path, &w.officer.token).await;
        let put = |body: Value, tag: &str, token: &str| {
            app.req(actix_web::http::Method::PUT, &path).bearer(token).header("if-match", tag).json(&body).send()
        };
        let r = put(json!({"lines": [line("activities", "Trainings", "10.001")]}), &tag, &w.officer.token).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "lines.0.amount");
        let r = put(json!({"lines": [line("catering", "Lunch", "10.00")]}), &tag, &w.officer.token).await.expect_problem(400);
        assert!(r.text.contains("lines"), "{}", r.text);
        let r = put(json!({"lines": [{"id": "0193a4e2-0000-7000-8000-000000000000", "category": "other", "description": "x", "amount": "1.00"}]}), &tag, &w.officer.token).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "lines.0.id");
        let r = put(json!({"lines": [line("other", " ", "1.00")]}), &tag, &w.officer.token).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "lines.0.description");
        put(json!({"lines": [line("other", "Other", "1.00")]}), "\"999\"", &w.officer.token).await.expect_problem(412);
        app.req(actix_web::http::Method::PUT, &path).bearer(&w.officer.token).json(&json!({"lines": []})).send().await.expect_problem(428);
        put(json!({"lines": []}), &tag, &w.finance.token).await.expect_problem(403);
        put(json!({"lines": []}), &tag, &w.member.token).await.expect_problem(403);
        // A refused write changed nothing.
        let b = app.get(&path).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(b["lines"].as_array().unwrap().len(), 1);
        assert_eq!(b["lines"][0]["amount"], "1000.00");
        // The grantee's members read the budget once the grant is submitted; others get 404.
        app.get(&path).bearer(&w.member.token).send().await.expect_problem(404);
        app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect(200);
        let m = app.get(&path).bearer(&w.member.token).send().await.expect(200).body;
        assert_eq!(m["total"], "1000.00");
        let other_org = app.member_org("Other Org").await;
        let stranger = app.user("member", Some(&other_org)).await;
        app.get(&path).bearer(&stranger.token).send().await.expect_problem(404);
    }
}

on_both! {
    async fn a_revision_above_the_tolerance_waits_for_an_officer_who_is_emailed_and_decides_it_in_the_console(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let id = active_with_two_lines(&app, &w).await;
        let path = format!("/api/v1/grants/{id}/budget");
        let put = |body: Value, tag: String| {
            app.req(actix_web::http::Method::PUT, &path).bearer(&w.officer.token).header("if-match", &tag).json(&body).send()
        };
        let b = app.get(&path).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(b["revision_tolerance_percent"], 10);
        app.emails().await;

        // An approved budget changes with a reason, and still sums to the amount.
        let r = put(json!({"lines": moved(&b, &["450.00", "550.00"])}), etag(&app, &path, &w.officer.token).await).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "reason");
        let r = put(json!({"lines": moved(&b, &["450.00", "500.00"]), "reason": "Fewer trainings"}), etag(&app, &path, &w.officer.token).await).await.expect_problem(409);
        assert!(r.body["type"].as_str().unwrap().ends_with("budget-mismatch"), "{}", r.text);

        // 10 % of a line: within the tolerance, it applies at once and is recorded.
        let r = put(json!({"lines": moved(&b, &["450.00", "550.00"]), "reason": "A trainer costs more"}), etag(&app, &path, &w.officer.token).await).await.expect(200);
        assert_eq!(r.body["lines"][0]["amount"], "450.00");
        assert_eq!(r.body["revisions"][0]["status"], "applied");
        assert_eq!(r.body["revisions"][0]["largest_move_percent"], "10.00");
        assert!(app.emails().await.is_empty(), "a revision within the tolerance asks nobody");

        // 1/3 of a line: it waits; the budget stays as it is.
        let r = put(json!({"lines": moved(&b, &["300.00", "700.00"]), "reason": "Trainings moved online"}), etag(&app, &path, &w.officer.token).await).await.expect(202);
        assert_eq!(r.body["status"], "pending");
        assert_eq!(r.body["largest_move_percent"], "33.34");
        let rev = r.body["id"].as_str().unwrap().to_string();
        let now = app.get(&path).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!((now["lines"][0]["amount"].as_str(), now["lines"][1]["amount"].as_str()), (Some("450.00"), Some("550.00")));
        // One pending revision at a time.
        let r = put(json!({"lines": moved(&b, &["400.00", "600.00"]), "reason": "Again"}), etag(&app, &path, &w.officer.token).await).await.expect_problem(409);
        assert!(r.body["type"].as_str().unwrap().ends_with("budget-revision-pending"), "{}", r.text);

        // Exactly the grant officers who did not propose it are emailed, with a link.
        let mails = app.emails().await;
        let to: Vec<String> = mails.iter().map(|m| m.recipient()).collect();
        assert_eq!(to, vec![w.officer2.email.clone()], "{to:?}");
        assert_eq!(mails[0].header("X-IDPC-Kind").unwrap_or_default(), "budget_revision_pending");
        assert!(mails[0].text().contains("Trainings moved online") && mails[0].text().contains("33.34"), "{}", mails[0].text());
        let link = mails[0].link("http").expect("a link to the revision");
        assert!(link.ends_with(&format!("/budget-revisions/{rev}")), "{link}");

        // Its proposer may not decide it, in the API or the console.
        let r = app.post(&format!("/api/v1/budget-revisions/{rev}/approve")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert!(r.body["type"].as_str().unwrap().ends_with("self-approval"), "{}", r.text);
        let mut mine = Browser::new(&app);
        mine.sign_in(&w.officer.email, PASSWORD).await;
        let page = mine.open(&path_of(&link)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("waits for another grant officer"), "{}", page.text);
        assert!(!page.text.contains("Approve the revision"), "no approve for its proposer");

        // The other officer opens the link and approves: the lines change.
        let mut b2 = Browser::new(&app);
        b2.sign_in(&w.officer2.email, PASSWORD).await;
        let page = b2.open(&path_of(&link)).await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("USD 700.00") && page.text.contains("Approve the revision"), "{}", page.text);
        let r = b2.submit(&format!("/budget-revisions/{rev}/approve"), &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains("The revision is approved"), "{}", r.text);
        let now = app.get(&path).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!((now["lines"][0]["amount"].as_str(), now["lines"][1]["amount"].as_str()), (Some("300.00"), Some("700.00")));
        assert_eq!(now["revisions"][0]["status"], "approved");
        assert_eq!(now["revisions"][0]["decided_by"], w.officer2.id.as_str());
        let audit = crate::grants::audit_actions(&app, &rev).await;
        let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(actions, ["budget_revision.pending", "budget_revision.approved"]);

        // A rejected revision leaves the budget as it is.
        let r = put(json!({"lines": moved(&now, &["700.00", "300.00"]), "reason": "Back to trainings"}), etag(&app, &path, &w.officer.token).await).await.expect(202);
        let rev = r.body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/budget-revisions/{rev}/reject")).bearer(&w.officer2.token)
            .json(&json!({"reason": "Keep the online format"})).send().await.expect(200);
        let after = app.get(&path).bearer(&w.officer.token).send().await.expect(200).body;
        assert_eq!(after["lines"][0]["amount"], "300.00");
        assert_eq!(after["revisions"][0]["status"], "rejected");
        app.post(&format!("/api/v1/budget-revisions/{rev}/approve")).bearer(&w.officer2.token).send().await.expect_problem(409);
        // Members never see the revisions; finance cannot decide them.
        let m = app.get(&path).bearer(&w.member.token).send().await.expect(200).body;
        assert_eq!(m["revisions"], json!([]));
        app.get(&format!("/api/v1/budget-revisions/{rev}")).bearer(&w.member.token).send().await.expect_problem(403);
    }
}

//! Funds and onward grants: who may do what, references, currencies, the state machine, the
//! fund budget under concurrency, members' view, and the whole lifecycle over HTTP.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser};
use crate::on_both;

/// The cast of a grant test: staff of every role, a grantee with a member, a donor and a fund.
pub struct World {
    pub admin: TestUser,
    pub officer: TestUser,
    pub officer2: TestUser,
    pub finance: TestUser,
    pub grantee: String,
    pub member: TestUser,
    pub donor: String,
    pub fund: String,
}

pub async fn world(app: &TestApp) -> World {
    world_with_fund(app, "USD", "100000.00").await
}

pub async fn world_with_fund(app: &TestApp, currency: &str, amount: &str) -> World {
    let admin = app.admin().await;
    let officer = app.user("grant_officer", None).await;
    let officer2 = app.user("grant_officer", None).await;
    let finance = app.user("finance_officer", None).await;
    let grantee = app.member_org("Harm Reduction Kenya").await;
    let member = app.user("member", Some(&grantee)).await;
    let donor = app.donor_org("Open Society Donor").await;
    let fund = create_fund(app, &officer, &donor, currency, amount).await;
    // A fund above the raise threshold waits for a second person: the admin confirms it.
    let path = format!("/api/v1/funds/{fund}");
    let f = app
        .get(&path)
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body;
    if let Some(pending) = f["pending_amount"].as_str() {
        app.post(&format!("{path}/amount-increase/approve"))
            .bearer(&admin.token)
            .json(&json!({"amount": pending}))
            .send()
            .await
            .expect(200);
    }
    // Finance keeps the reference rates (in USD) that grants in other currencies are checked
    // against; a currency's first rate waits until a second person (the admin) confirms it.
    let as_of = rate_date();
    for (c, rate) in [("EUR", "1.08"), ("JPY", "0.0067"), ("GBP", "1.27")] {
        app.req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/fx-rates/{c}"),
        )
        .bearer(&finance.token)
        .json(&json!({"rate": rate, "as_of": as_of}))
        .send()
        .await
        .expect(202);
        app.post(&format!("/api/v1/fx-rates/{c}/confirm"))
            .bearer(&admin.token)
            .json(&json!({"rate": rate, "as_of": as_of}))
            .send()
            .await
            .expect(200);
    }
    World {
        admin,
        officer,
        officer2,
        finance,
        grantee,
        member,
        donor,
        fund,
    }
}

/// The date the world's reference rates carry: a recent one, as finance would give.
pub fn rate_date() -> String {
    (chrono::Utc::now().date_naive() - chrono::Days::new(3)).to_string()
}

pub async fn create_fund(
    app: &TestApp,
    who: &TestUser,
    donor: &str,
    currency: &str,
    amount: &str,
) -> String {
    app.post("/api/v1/funds")
        .bearer(&who.token)
        .json(&json!({
            "donor_organisation_id": donor, "title": "Core support 2026", "reference": "OSF-2026-7",
            "currency": currency, "amount": amount,
            "starts_on": "2026-01-01", "ends_on": "2027-12-31",
        }))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn grant_body(fund: &str, grantee: &str, currency: &str, amount: &str) -> Value {
    json!({
        "fund_id": fund, "grantee_organisation_id": grantee,
        "title": "Community paralegals", "description": "Legal aid for people who use drugs",
        "pillar": "capacity_strengthening",
        "priority_areas": ["decriminalisation_justice_reform", "support_dont_punish"],
        "currency": currency, "amount": amount,
        "planned_start": "2026-02-01", "planned_end": "2026-12-31",
        "budget": [{"category": "activities", "description": "Paralegal trainings", "amount": amount}],
    })
}

/// A draft grant in the fund's currency; returns its body.
/// Puts the whole of `amount` on one budget line of draft `grant`, as `token` (after a test
/// changed the grant's amount, so its lines sum to it again and it can be submitted).
pub async fn rebudget(app: &TestApp, token: &str, grant: &str, amount: &str) {
    let path = format!("/api/v1/grants/{grant}/budget");
    let tag = app
        .get(&path)
        .bearer(token)
        .send()
        .await
        .expect(200)
        .header("etag")
        .expect("etag");
    app.req(actix_web::http::Method::PUT, &path)
        .bearer(token)
        .header("if-match", &tag)
        .json(&json!({"lines": [{"category": "activities", "description": "Trainings", "amount": amount}]}))
        .send()
        .await
        .expect(200);
}

pub async fn draft(app: &TestApp, w: &World, amount: &str) -> Value {
    app.post("/api/v1/grants")
        .bearer(&w.officer.token)
        .json(&grant_body(&w.fund, &w.grantee, "USD", amount))
        .send()
        .await
        .expect(201)
        .body
}

/// A grant moved to `submitted`; returns its id.
pub async fn submitted(app: &TestApp, w: &World, amount: &str) -> String {
    let id = draft(app, w, amount).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/grants/{id}/submit"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    id
}

/// An active grant (created and submitted by officer, approved by officer2); returns its id.
pub async fn active(app: &TestApp, w: &World, amount: &str) -> String {
    let id = submitted(app, w, amount).await;
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

pub async fn audit_actions(
    app: &TestApp,
    entity_id: &str,
) -> Vec<(String, Option<String>, Option<String>, Option<String>)> {
    let id = entity_id.to_string();
    app.db(move |c| {
        use diesel::prelude::*;
        use idpc_hub::db::schema::audit_events as a;
        a::table
            .filter(a::entity_id.eq(id))
            .order(a::id.asc())
            .select((a::action, a::actor_id, a::before_json, a::after_json))
            .load::<(String, Option<String>, Option<String>, Option<String>)>(c)
            .unwrap()
    })
    .await
}

on_both! {
    async fn funds_are_written_by_grant_staff_read_by_finance_and_refused_to_others(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let r = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(r.body["currency"], "USD");
        assert_eq!(r.body["amount"], "100000.00");
        assert_eq!(r.body["awarded"], "0.00");
        assert_eq!(r.body["disbursed"], "0.00");
        assert_eq!(r.body["remaining"], "100000.00");
        assert_eq!(r.header("etag").as_deref(), Some("\"1\""));
        app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.member.token).send().await.expect_problem(403);
        let (_, _, client) = app.api_client(&w.admin, &w.grantee, &["grants:read"]).await;
        app.get("/api/v1/funds").bearer(&client).send().await.expect_problem(403);
        let list = app.get("/api/v1/funds").bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(list.body["total"], 1);
        // Finance reads but does not write.
        app.post("/api/v1/funds").bearer(&w.finance.token)
            .json(&json!({"donor_organisation_id": w.donor, "title": "X fund", "reference": "R",
                "currency": "USD", "amount": "1.00", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}))
            .send().await.expect_problem(403);
        // The donor must be a donor partner; money is checked per currency.
        let bad = |donor: &str, currency: &str, amount: &str| json!({"donor_organisation_id": donor,
            "title": "X fund", "reference": "R", "currency": currency, "amount": amount,
            "starts_on": "2026-01-01", "ends_on": "2026-12-31"});
        let r = app.post("/api/v1/funds").bearer(&w.officer.token).json(&bad(&w.grantee, "USD", "5.00")).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "donor_organisation_id");
        for (currency, amount) in [("USD", "5.001"), ("JPY", "5.5"), ("USD", "-5"), ("USD", "0"), ("USD", "five")] {
            let r = app.post("/api/v1/funds").bearer(&w.officer.token).json(&bad(&w.donor, currency, amount)).send().await.expect_problem(400);
            assert_eq!(r.first_error_field(), "amount", "{currency} {amount}");
        }
        let r = app.post("/api/v1/funds").bearer(&w.officer.token).json(&bad(&w.donor, "ZZZ", "5")).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "currency");
        // PATCH needs If-Match and never drops below what is awarded.
        let path = format!("/api/v1/funds/{}", w.fund);
        app.patch(&path).bearer(&w.officer.token).json(&json!({"title": "Renamed"})).send().await.expect_problem(428);
        app.patch(&path).bearer(&w.officer.token).header("if-match", "\"7\"").json(&json!({"title": "Renamed"})).send().await.expect_problem(412);
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", "\"1\"").json(&json!({"title": "Renamed"})).send().await.expect(200);
        assert_eq!(r.body["title"], "Renamed");
        assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
        let g = submitted(&app, &w, "60000.00").await;
        app.post(&format!("/api/v1/grants/{g}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", "\"2\"").json(&json!({"amount": "50000.00"})).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:amount-below-awarded");
        let r = app.get(&path).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["awarded"], "60000.00");
        assert_eq!(r.body["remaining"], "40000.00");
    }
}

on_both! {
    async fn grant_references_are_unique_and_numbered_per_year_even_when_created_at_once(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let body = grant_body(&w.fund, &w.grantee, "USD", "100.00");
        let reqs = (0..12).map(|_| app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send());
        let mut refs: Vec<String> = join_all(reqs).await.into_iter()
            .map(|r| r.expect(201).body["reference"].as_str().unwrap().to_string()).collect();
        refs.sort();
        let year = chrono::Utc::now().format("%Y").to_string();
        let expected: Vec<String> = (1..=12).map(|n| format!("IDPC-{year}-{n:04}")).collect();
        assert_eq!(refs, expected);
    }
}

on_both! {
    async fn a_grant_in_another_currency_needs_its_rate_and_counts_in_fund_currency(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let mut body = grant_body(&w.fund, &w.grantee, "EUR", "10000.00");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect_problem(400);
        let fields: Vec<&str> = r.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["fx_rate", "fx_rate_date"]);
        body["fx_rate"] = json!("1.0853");
        body["fx_rate_date"] = json!("2026-01-15");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect(201);
        assert_eq!(r.body["currency"], "EUR");
        assert_eq!(r.body["amount"], "10000.00");
        assert_eq!(r.body["fx_rate"], "1.085300");
        assert_eq!(r.body["fx_rate_date"], "2026-01-15");
        assert_eq!(r.body["fund_currency"], "USD");
        assert_eq!(r.body["amount_in_fund_currency"], "10853.00");
        let id = r.body["id"].as_str().unwrap().to_string();
        // A rate in the fund's own currency makes no sense.
        let mut same = grant_body(&w.fund, &w.grantee, "USD", "5.00");
        same["fx_rate"] = json!("1.1");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&same).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "fx_rate");
        // JPY has no minor unit.
        let mut jpy = grant_body(&w.fund, &w.grantee, "JPY", "1500000");
        jpy["fx_rate"] = json!("0.006712");
        jpy["fx_rate_date"] = json!("2026-01-15");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&jpy).send().await.expect(201);
        assert_eq!(r.body["amount"], "1500000");
        assert_eq!(r.body["amount_in_fund_currency"], "10068.00");
        // Submitted and approved, it counts against the fund in USD.
        app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "10853.00");
        assert_eq!(f.body["remaining"], "89147.00");
    }
}

on_both! {
    async fn drafts_are_edited_with_if_match_and_only_while_draft(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let g = draft(&app, &w, "500.00").await;
        let path = format!("/api/v1/grants/{}", g["id"].as_str().unwrap());
        app.patch(&path).bearer(&w.officer.token).json(&json!({"title": "New title"})).send().await.expect_problem(428);
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", "\"1\"")
            .json(&json!({"title": "New title", "amount": "750.50", "priority_areas": ["women_drug_policy"]}))
            .send().await.expect(200);
        assert_eq!(r.body["title"], "New title");
        assert_eq!(r.body["amount"], "750.50");
        assert_eq!(r.body["priority_areas"], json!(["women_drug_policy"]));
        assert_eq!(r.body["version"], 2);
        app.patch(&path).bearer(&w.officer.token).header("if-match", "\"1\"").json(&json!({"title": "Stale"})).send().await.expect_problem(412);
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", "yesterday").json(&json!({"title": "Odd"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "If-Match");
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", "\"2\"").json(&json!({"pillar": "nonsense"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "pillar");
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", "\"2\"").json(&json!({"colour": "red"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "colour");
        rebudget(&app, &w.officer.token, g["id"].as_str().unwrap(), "750.50").await;
        app.post(&format!("{path}/submit")).bearer(&w.officer.token).send().await.expect(200);
        // An edit after submission returns the grant to draft (issue 10: four eyes); once
        // approved it can no longer be edited.
        let tag = app.get(&path).bearer(&w.officer.token).send().await.expect(200).header("etag").expect("etag");
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", &tag).json(&json!({"title": "Not too late"})).send().await.expect(200);
        assert_eq!(r.body["status"], "draft");
        assert!(r.body["submitted_at"].is_null());
        app.post(&format!("{path}/submit")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("{path}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let tag = app.get(&path).bearer(&w.officer.token).send().await.expect(200).header("etag").expect("etag");
        let r = app.patch(&path).bearer(&w.officer.token).header("if-match", &tag).json(&json!({"title": "Too late"})).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:not-draft");
    }
}

on_both! {
    async fn self_approval_is_refused_and_changes_nothing(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let id = submitted(&app, &w, "1000.00").await;
        let r = app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:self-approval");
        let g = app.get(&format!("/api/v1/grants/{id}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(g.body["status"], "submitted");
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "0.00");
        // Finance and members may not approve at all.
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.finance.token).send().await.expect_problem(403);
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.member.token).send().await.expect_problem(403);
        // Approving twice is a transition error, not a second count.
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let r = app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.admin.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "1000.00");
    }
}

on_both! {
    async fn concurrent_grant_approvals_never_exceed_the_fund(backend) {
        let app = TestApp::start(backend).await;
        // The fund covers exactly 7 grants of 100.00.
        let w = world_with_fund(&app, "USD", "750.00").await;
        let mut ids = Vec::new();
        for _ in 0..40 {
            ids.push(submitted(&app, &w, "100.00").await);
        }
        let reqs = ids.iter().map(|id| {
            app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send()
        });
        let answers = join_all(reqs).await;
        let ok = answers.iter().filter(|r| r.status == 200).count();
        let exhausted = answers.iter().filter(|r| r.status == 409 && r.body["type"] == "urn:idpc-hub:problem:fund-exhausted").count();
        assert_eq!((ok, exhausted), (7, 33), "{:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "700.00");
        let approved = app.get("/api/v1/grants?status=approved").bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(approved.body["total"], 7);
    }
}

on_both! {
    async fn cancelling_an_approved_grant_gives_its_amount_back_to_the_fund(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let id = submitted(&app, &w, "2500.00").await;
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "2500.00");
        let r = app.post(&format!("/api/v1/grants/{id}/cancel")).bearer(&w.officer.token).json(&json!({"reason": "Partner merged"})).send().await.expect(200);
        assert_eq!(r.body["status"], "cancelled");
        assert_eq!(r.body["decision_reason"], "Partner merged");
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "0.00");
        let r = app.post(&format!("/api/v1/grants/{id}/activate")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
    }
}

on_both! {
    async fn members_see_and_request_tranches_only_on_their_own_grants(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let own = active(&app, &w, "1000.00").await;
        let other_org = app.member_org("Other Network").await;
        let outsider = app.user("member", Some(&other_org)).await;
        let hidden_draft = draft(&app, &w, "10.00").await["id"].as_str().unwrap().to_string();
        // The member sees its organisation's grant; not its drafts.
        app.get(&format!("/api/v1/grants/{own}")).bearer(&w.member.token).send().await.expect(200);
        app.get(&format!("/api/v1/grants/{hidden_draft}")).bearer(&w.member.token).send().await.expect_problem(404);
        let list = app.get("/api/v1/grants").bearer(&w.member.token).send().await.expect(200);
        assert_eq!(list.body["total"], 1);
        assert_eq!(list.body["data"][0]["id"], own.as_str());
        // Another organisation's member sees nothing and can request nothing.
        app.get(&format!("/api/v1/grants/{own}")).bearer(&outsider.token).send().await.expect_problem(404);
        let list = app.get("/api/v1/grants").bearer(&outsider.token).send().await.expect(200);
        assert_eq!(list.body["total"], 0);
        let tranche = json!({"amount": "100.00", "planned_date": "2026-03-01", "note": "First"});
        app.post(&format!("/api/v1/grants/{own}/disbursements")).bearer(&outsider.token).json(&tranche).send().await.expect_problem(404);
        let r = app.post(&format!("/api/v1/grants/{own}/disbursements")).bearer(&w.member.token).json(&tranche).send().await.expect(201);
        let d = r.body["id"].as_str().unwrap().to_string();
        app.get(&format!("/api/v1/disbursements/{d}")).bearer(&outsider.token).send().await.expect_problem(404);
        app.post(&format!("/api/v1/disbursements/{d}/cancel")).bearer(&outsider.token).json(&json!({"reason": "Not mine"})).send().await.expect_problem(404);
        // Staff lists and the approval queue are not for members.
        app.get("/api/v1/disbursements?status=requested").bearer(&w.member.token).send().await.expect_problem(403);
        let q = app.get("/api/v1/disbursements?status=requested").bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(q.body["total"], 1);
        let none = app.get(&format!("/api/v1/disbursements?status=requested&grant_id={}", hidden_draft)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(none.body["total"], 0);
    }
}

on_both! {
    async fn partner_apps_need_grants_read_and_see_published_grants_with_withheld_grantees_unnamed(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let published = active(&app, &w, "1000.00").await;
        let pending = submitted(&app, &w, "10.00").await;
        let shy = app.member_org("Quiet Collective").await;
        let mut body = grant_body(&w.fund, &shy, "USD", "20.00");
        let hidden_grant = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/grants/{hidden_grant}/submit")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("/api/v1/grants/{hidden_grant}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let shy2 = shy.clone();
        app.db(move |c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::organisations as o;
            diesel::update(o::table.find(shy2)).set(o::hidden_from_public.eq(true)).execute(c).unwrap();
        }).await;
        let (_, _, reader) = app.api_client(&w.admin, &w.grantee, &["grants:read"]).await;
        let (_, _, directory_only) = app.api_client(&w.admin, &w.grantee, &["directory:read"]).await;
        app.get("/api/v1/grants").bearer(&directory_only).send().await.expect_problem(403);
        app.get(&format!("/api/v1/grants/{published}")).bearer(&directory_only).send().await.expect_problem(403);
        let list = app.get("/api/v1/grants").bearer(&reader).send().await.expect(200);
        assert_eq!(list.body["total"], 2, "published grants, the withheld grantee's too");
        assert_eq!(list.body["data"][0]["id"], published.as_str());
        app.get(&format!("/api/v1/grants/{pending}")).bearer(&reader).send().await.expect_problem(404);
        // A grant to a hidden organisation: amount and dates kept, grantee and words withheld.
        let g = app.get(&format!("/api/v1/grants/{hidden_grant}")).bearer(&reader).send().await.expect(200).body;
        assert_eq!(g["title"], idpc_hub::grants::access::WITHHELD_TITLE);
        assert_eq!(g["amount"], "20.00");
        assert_eq!(g["grantee_organisation_id"], Value::Null);
        assert_eq!(g["grantee_region"], "europe");
        // ... and never found through the organisation it is withheld from.
        let by = app.get(&format!("/api/v1/grants?grantee_organisation_id={shy}")).bearer(&reader).send().await.expect(200);
        assert_eq!(by.body["total"], 0);
        body["title"] = json!("x");
        // Partner apps never write.
        app.post("/api/v1/grants").bearer(&reader).json(&grant_body(&w.fund, &w.grantee, "USD", "1.00")).send().await.expect_problem(403);
    }
}

on_both! {
    async fn grant_lists_filter_and_page(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let a = submitted(&app, &w, "10.00").await;
        let _b = draft(&app, &w, "20.00").await;
        let mut other = grant_body(&w.fund, &w.grantee, "USD", "30.00");
        other["pillar"] = json!("building_evidence");
        other["priority_areas"] = json!(["women_drug_policy"]);
        app.post("/api/v1/grants").bearer(&w.officer.token).json(&other).send().await.expect(201);
        let get = |q: &str| app.get(&format!("/api/v1/grants?{q}")).bearer(&w.officer.token).send();
        assert_eq!(get("status=submitted").await.expect(200).body["data"][0]["id"], a.as_str());
        assert_eq!(get("pillar=building_evidence").await.expect(200).body["total"], 1);
        assert_eq!(get("priority_area=support_dont_punish").await.expect(200).body["total"], 2);
        assert_eq!(get("priority_area=women_drug_policy").await.expect(200).body["total"], 1);
        assert_eq!(get(&format!("fund_id={}", w.fund)).await.expect(200).body["total"], 3);
        assert_eq!(get(&format!("grantee_organisation_id={}", w.grantee)).await.expect(200).body["total"], 3);
        let year = chrono::Utc::now().format("%Y").to_string();
        assert_eq!(get(&format!("year={year}")).await.expect(200).body["total"], 3);
        assert_eq!(get("year=1999").await.expect(200).body["total"], 0);
        assert_eq!(get("status=bogus").await.expect_problem(400).first_error_field(), "status");
        assert_eq!(get("limit=0").await.expect_problem(400).first_error_field(), "limit");
        let p1 = get("limit=2").await.expect(200);
        assert_eq!(p1.body["data"].as_array().unwrap().len(), 2);
        assert_eq!(p1.body["total"], 3);
        let cursor = p1.body["next_cursor"].as_str().unwrap().to_string();
        let p2 = get(&format!("limit=2&cursor={cursor}")).await.expect(200);
        assert_eq!(p2.body["data"].as_array().unwrap().len(), 1);
        assert!(p2.body["next_cursor"].is_null());
    }
}

on_both! {
    async fn the_whole_lifecycle_works_over_http_with_emails_and_audit(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let colleague = app.user("member", Some(&w.grantee)).await;
        let third = app.user("grant_officer", None).await;
        app.emails().await;
        // Grant: created, submitted (grant officers emailed), approved (author and grantee emailed).
        let g = draft(&app, &w, "90000.00").await;
        let id = g["id"].as_str().unwrap().to_string();
        let reference = g["reference"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/grants/{id}/submit")).bearer(&w.officer.token).send().await.expect(200);
        let mail = app.emails().await;
        let mut to: Vec<String> = mail.iter().map(|m| m.recipient()).collect();
        to.sort();
        // The submitter is not emailed about their own submission (the command context never
        // emails the acting user).
        let mut officers = vec![w.officer2.email.clone(), third.email.clone()];
        officers.sort();
        assert_eq!(to, officers);
        assert!(mail.iter().all(|m| m.subject() == format!("[IDPC] Grant {reference} awaits approval")));
        assert!(mail[0].text().contains(&format!("http://hub.test/grants/{id}")));
        app.post(&format!("/api/v1/grants/{id}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let mail = app.emails().await;
        let mut to: Vec<String> = mail.iter().map(|m| m.recipient()).collect();
        to.sort();
        let mut expected = vec![w.officer.email.clone(), w.member.email.clone(), colleague.email.clone()];
        expected.sort();
        assert_eq!(to, expected);
        assert!(mail.iter().all(|m| m.subject() == format!("[IDPC] Grant {reference} approved")));
        app.post(&format!("/api/v1/grants/{id}/activate")).bearer(&w.officer.token).send().await.expect(200);
        let mail = app.emails().await;
        assert_eq!(mail.len(), 2, "the grantee's members hear the grant is active");
        assert!(mail.iter().all(|m| m.subject() == format!("[IDPC] Grant {reference} is active")));
        // A report is owed (the grantee is asked); the tranche waits on it.
        let report = app.post(&format!("/api/v1/grants/{id}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": "2026-06-30", "title": "Inception report"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let mail = app.emails().await;
        assert_eq!(mail.len(), 2, "the grantee's members are asked for the report");
        assert!(mail.iter().all(|m| m.subject() == "[IDPC] Report \"Inception report\" due on 30 June 2026"));
        // Above the USD 50 000 threshold: two approvers.
        let d = app.post(&format!("/api/v1/grants/{id}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "60000.00", "planned_date": "2026-07-01", "note": "First tranche", "requires_report_id": report}))
            .send().await.expect(201);
        assert_eq!(d.body["approvals_required"], 2);
        assert_eq!(d.body["status"], "requested");
        let d = d.body["id"].as_str().unwrap().to_string();
        let mail = app.emails().await;
        assert_eq!(mail.len(), 3, "grant officers are told of the request");
        assert!(mail.iter().all(|m| m.subject() == format!("[IDPC] Tranche of USD 60,000.00 requested on grant {reference}")));
        let r = app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:report-not-accepted");
        // Report submitted by the grantee, returned once, then accepted.
        let submit = json!({"summary": "We trained 40 paralegals.", "document_url": "https://example.org/report.pdf"});
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect(200);
        assert_eq!(app.emails().await.len(), 3, "every grant officer hears of the submitted report");
        app.post(&format!("/api/v1/reports/{report}/return")).bearer(&w.officer.token).json(&json!({"reason": "Add the budget annex"})).send().await.expect(200);
        let mail = app.emails().await;
        assert_eq!(mail.len(), 2);
        assert!(mail.iter().all(|m| m.subject() == "[IDPC] Report \"Inception report\" returned for changes" && m.text().contains("Add the budget annex")));
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&colleague.token).json(&submit).send().await.expect(200);
        assert_eq!(app.emails().await.len(), 3);
        let r = app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["status"], "accepted");
        let mail = app.emails().await;
        assert_eq!(mail.len(), 2);
        assert!(mail.iter().all(|m| m.subject() == "[IDPC] Report \"Inception report\" accepted"));
        // First approval leaves it requested; the second, by another officer, approves it.
        let r = app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["status"], "requested");
        assert_eq!(r.body["approved_by"], json!([w.officer.id]));
        // The other officers who may approve are asked for the second approval.
        let mail = app.emails().await;
        let mut to: Vec<String> = mail.iter().map(|m| m.recipient()).collect();
        to.sort();
        let mut expected = vec![w.officer2.email.clone(), third.email.clone()];
        expected.sort();
        assert_eq!(to, expected);
        let r = app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["approved_by"], json!([w.officer.id, w.officer2.id]));
        let mail = app.emails().await;
        let mut to: Vec<String> = mail.iter().map(|m| m.recipient()).collect();
        to.sort();
        let mut expected = vec![w.finance.email.clone(), w.member.email.clone(), colleague.email.clone()];
        expected.sort();
        assert_eq!(to, expected);
        assert!(mail.iter().all(|m| m.subject() == format!("[IDPC] Tranche of USD 60,000.00 approved on grant {reference}")));
        // Paid by finance.
        let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "BACS-2026-0193", "paid_on": "2026-07-02", "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        assert_eq!(r.body["status"], "paid");
        assert_eq!(r.body["paid_by"], w.finance.id.as_str());
        let mail = app.emails().await;
        let mut to: Vec<String> = mail.iter().map(|m| m.recipient()).collect();
        to.sort();
        let mut expected = vec![w.member.email.clone(), colleague.email.clone()];
        expected.sort();
        assert_eq!(to, expected);
        assert!(mail.iter().all(|m| m.subject() == format!("[IDPC] Tranche of USD 60,000.00 paid on grant {reference}") && m.text().contains("BACS-2026-0193")));
        // Totals everywhere.
        let detail = app.get(&format!("/api/v1/grants/{id}")).bearer(&w.member.token).send().await.expect(200);
        assert_eq!(detail.body["totals"]["paid"], "60000.00");
        assert_eq!(detail.body["totals"]["remaining"], "30000.00");
        assert_eq!(detail.body["paid"], "60000.00");
        assert_eq!(detail.body["reports"][0]["status"], "accepted");
        assert_eq!(detail.body["disbursements"][0]["status"], "paid");
        let f = app.get(&format!("/api/v1/funds/{}", w.fund)).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(f.body["awarded"], "90000.00");
        assert_eq!(f.body["disbursed"], "60000.00");
        assert_eq!(f.body["remaining"], "10000.00");
        // The audit trail shows every step with its actor and before → after.
        let grant_trail = audit_actions(&app, &id).await;
        let steps: Vec<(&str, &str)> = grant_trail.iter().map(|(a, who, _, _)| (a.as_str(), who.as_deref().unwrap())).collect();
        assert_eq!(steps, [
            ("grant.created", w.officer.id.as_str()),
            ("grant.submitted", w.officer.id.as_str()),
            ("grant.approved", w.officer2.id.as_str()),
            ("grant.active", w.officer.id.as_str()),
        ]);
        for (action, _, before, after) in &grant_trail[1..] {
            let before: Value = serde_json::from_str(before.as_deref().unwrap()).unwrap();
            let after: Value = serde_json::from_str(after.as_deref().unwrap()).unwrap();
            assert_ne!(before["status"], after["status"], "{action}");
        }
        let report_trail = audit_actions(&app, &report).await;
        let steps: Vec<(&str, &str)> = report_trail.iter().map(|(a, who, _, _)| (a.as_str(), who.as_deref().unwrap())).collect();
        assert_eq!(steps, [
            ("report.created", w.officer.id.as_str()),
            ("report.submitted", w.member.id.as_str()),
            ("report.returned", w.officer.id.as_str()),
            ("report.submitted", colleague.id.as_str()),
            ("report.accepted", w.officer.id.as_str()),
        ]);
        let tranche_trail = audit_actions(&app, &d).await;
        let steps: Vec<(&str, &str)> = tranche_trail.iter().map(|(a, who, _, _)| (a.as_str(), who.as_deref().unwrap())).collect();
        assert_eq!(steps, [
            ("disbursement.requested", w.member.id.as_str()),
            ("disbursement.first_approval", w.officer.id.as_str()),
            ("disbursement.approved", w.officer2.id.as_str()),
            ("disbursement.paid", w.finance.id.as_str()),
        ]);
        let (_, _, before, after) = &tranche_trail[3];
        let before: Value = serde_json::from_str(before.as_deref().unwrap()).unwrap();
        let after: Value = serde_json::from_str(after.as_deref().unwrap()).unwrap();
        assert_eq!((before["status"].as_str(), after["status"].as_str()), (Some("approved"), Some("paid")));
        assert_eq!(after["payment_reference"], "BACS-2026-0193");
    }
}

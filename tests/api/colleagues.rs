//! An organisation's colleagues over the API: its primary contact (the first member user the
//! secretariat invites) invites colleagues into its own organisation only, and hands the role
//! over; other members may do neither.

use serde_json::{Value, json};

use crate::common::{PASSWORD, TestApp, TestUser};
use crate::on_both;

/// Accepts the invitation emailed to `email` and logs in; the user's access token.
async fn accept(app: &TestApp, email: &str, name: &str) -> String {
    let token = app
        .emails()
        .await
        .iter()
        .find(|m| m.recipient() == email)
        .and_then(|m| m.link_param("http://hub.test/accept-invitation", "token"))
        .unwrap_or_else(|| panic!("{email} is invited"));
    let r = app
        .post("/api/v1/auth/invitations/accept")
        .json(&json!({"token": token, "password": PASSWORD, "display_name": name}))
        .send()
        .await
        .expect(200);
    r.body["access_token"].as_str().unwrap().to_string()
}

fn invite(email: &str) -> Value {
    json!({"email": email, "display_name": "A colleague", "role": "member"})
}

/// An organisation whose first member user (its primary contact) accepted; (org, admin,
/// contact's token).
async fn with_contact(app: &TestApp) -> (String, TestUser, String) {
    let admin = app.admin().await;
    let org = app.member_org("Harm Reduction Kenya").await;
    app.post("/api/v1/users")
        .bearer(&admin.token)
        .json(&json!({"email": "amina@hrk.example", "display_name": "Amina", "role": "member", "organisation_id": org}))
        .send()
        .await
        .expect(201);
    let amina = accept(app, "amina@hrk.example", "Amina Wanjiru").await;
    (org, admin, amina)
}

async fn user_count(app: &TestApp, admin: &TestUser) -> i64 {
    app.get("/api/v1/users")
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["total"]
        .as_i64()
        .unwrap()
}

on_both! {
    async fn a_primary_contact_invites_a_colleague_who_accepts_and_signs_in(backend) {
        let app = TestApp::start(backend).await;
        let (org, _admin, amina) = with_contact(&app).await;
        let r = app.post("/api/v1/users").bearer(&amina).json(&invite("otieno@hrk.example")).send().await.expect(201);
        assert_eq!(r.body["organisation_id"], org.as_str(), "a colleague joins the contact's organisation");
        assert_eq!(r.body["role"], "member");
        assert_eq!(r.body["status"], "invited");
        let mails = app.emails().await;
        let mail = mails.iter().find(|m| m.recipient() == "otieno@hrk.example").expect("the colleague is emailed");
        assert!(mail.text().contains("Amina Wanjiru"), "it says who invites: {}", mail.text());
        let token = mail.link_param("http://hub.test/accept-invitation", "token").unwrap();
        app.post("/api/v1/auth/invitations/accept")
            .json(&json!({"token": token, "password": PASSWORD, "display_name": "Otieno"})).send().await.expect(200);
        let me = app.post("/api/v1/auth/login").json(&json!({"email": "otieno@hrk.example", "password": PASSWORD})).send().await.expect(200);
        let token = me.body["access_token"].as_str().unwrap().to_string();
        let me = app.get("/api/v1/me").bearer(&token).send().await.expect(200);
        assert_eq!(me.body["organisation_id"], org.as_str());
    }
}

on_both! {
    async fn only_the_primary_contact_invites_and_only_members_of_its_own_organisation(backend) {
        let app = TestApp::start(backend).await;
        let (org, admin, amina) = with_contact(&app).await;
        let colleague = app.user("member", Some(&org)).await;
        let other_org = app.member_org("Elsewhere").await;
        let grant_officer = app.user("grant_officer", None).await;
        let before = user_count(&app, &admin).await;

        let r = app.post("/api/v1/users").bearer(&colleague.token).json(&invite("x@hrk.example")).send().await.expect_problem(403);
        assert!(r.body["detail"].as_str().unwrap().contains("primary contact"));
        let mut other = invite("y@hrk.example");
        other["organisation_id"] = json!(other_org);
        app.post("/api/v1/users").bearer(&amina).json(&other).send().await.expect_problem(404);
        let mut officer = invite("z@hrk.example");
        officer["role"] = json!("grant_officer");
        app.post("/api/v1/users").bearer(&amina).json(&officer).send().await.expect_problem(403);
        let r = app.post("/api/v1/users").bearer(&amina).json(&json!({"email": "not an email", "display_name": "", "role": "member"}))
            .send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "email");
        app.post("/api/v1/users").bearer(&grant_officer.token).json(&invite("w@hrk.example")).send().await.expect_problem(403);

        assert_eq!(user_count(&app, &admin).await, before, "a refused invitation creates no one");
        assert!(app.emails().await.is_empty(), "and emails no one");
    }
}

on_both! {
    async fn the_primary_contact_hands_the_role_to_a_colleague_who_then_invites(backend) {
        let app = TestApp::start(backend).await;
        let (org, admin, amina) = with_contact(&app).await;
        let colleague = app.user("member", Some(&org)).await;
        let other_org = app.member_org("Elsewhere").await;
        let outsider = app.user("member", Some(&other_org)).await;
        let path = format!("/api/v1/organisations/{org}/primary-contact");

        let r = app.req(actix_web::http::Method::PUT, &path).bearer(&amina).json(&json!({"user_id": outsider.id})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "user_id");
        app.req(actix_web::http::Method::PUT, &path).bearer(&outsider.token).json(&json!({"user_id": outsider.id})).send().await.expect_problem(404);
        app.req(actix_web::http::Method::PUT, &path).bearer(&colleague.token).json(&json!({"user_id": colleague.id})).send().await.expect_problem(403);

        let r = app.req(actix_web::http::Method::PUT, &path).bearer(&amina).json(&json!({"user_id": colleague.id})).send().await.expect(200);
        assert_eq!(r.body["user_id"], colleague.id.as_str());
        assert_eq!(r.body["organisation_id"], org.as_str());
        app.post("/api/v1/users").bearer(&amina).json(&invite("late@hrk.example")).send().await.expect_problem(403);
        app.post("/api/v1/users").bearer(&colleague.token).json(&invite("new@hrk.example")).send().await.expect(201);
        // An admin may hand it back.
        let amina_id = app.get("/api/v1/me").bearer(&amina).send().await.expect(200).body["id"].as_str().unwrap().to_string();
        let r = app.req(actix_web::http::Method::PUT, &path).bearer(&admin.token).json(&json!({"user_id": amina_id})).send().await.expect(200);
        assert_eq!(r.body["user_id"], amina_id.as_str());
        app.post("/api/v1/users").bearer(&amina).json(&invite("again@hrk.example")).send().await.expect(201);
    }
}

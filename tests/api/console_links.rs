//! Links into the console as their readers meet them: a sign-in link followed by someone
//! already signed in lands on the page it was for, and an invitation or reset link that was
//! used or has expired says so before the page asks for anything.

use serde_json::json;

use crate::common::console::{Browser, path_of};
use crate::common::{PASSWORD, TestApp};
use crate::on_both;

/// Invites `email` as a member of a new organisation; the invitation link's path.
async fn invited(app: &TestApp, email: &str) -> String {
    let admin = app.admin().await;
    let org = app.member_org("Harm Reduction Kenya").await;
    app.post("/api/v1/users")
        .bearer(&admin.token)
        .json(&json!({"email": email, "display_name": "Amina", "role": "member", "organisation_id": org}))
        .send()
        .await
        .expect(201);
    let link = app
        .emails()
        .await
        .iter()
        .find_map(|m| m.link("http://hub.test/accept-invitation"))
        .expect("the invitation email has its link");
    path_of(&link)
}

on_both! {
    async fn a_used_invitation_link_says_it_is_used_before_asking_for_a_password(backend) {
        let app = TestApp::start(backend).await;
        let link = invited(&app, "amina@hrk.example").await;
        let mut amina = Browser::new(&app);
        let first = amina.open(&link).await;
        assert_eq!(first.status, 200);
        assert!(first.text.contains("type=\"password\""), "a live link asks for a password");
        let token = link.split("token=").nth(1).unwrap().to_string();
        app.post("/api/v1/auth/invitations/accept")
            .json(&json!({"token": token, "password": PASSWORD, "display_name": "Amina Wanjiru"}))
            .send().await.expect(200);

        let again = Browser::new(&app).open(&link).await;
        assert_eq!(again.status, 410);
        assert!(again.text.contains("This invitation was already used"), "{}", again.text);
        assert!(!again.text.contains("type=\"password\""), "no password is asked for");
        assert!(again.text.contains("sign in with that password"), "it offers to sign in instead");
    }
}

on_both! {
    async fn an_expired_invitation_or_reset_link_says_so_and_a_made_up_one_is_unknown(backend) {
        let app = TestApp::start(backend).await;
        let link = invited(&app, "amina@hrk.example").await;
        app.clock.advance(chrono::Duration::days(8));
        let r = Browser::new(&app).open(&link).await;
        assert_eq!(r.status, 410);
        assert!(r.text.contains("This invitation link no longer works"), "{}", r.text);
        assert!(!r.text.contains("type=\"password\""));

        let r = Browser::new(&app).open("/reset-password?token=made-up").await;
        assert_eq!(r.status, 404);
        assert!(r.text.contains("This link no longer works"), "{}", r.text);
        assert!(r.text.contains("Ask for a new link</a>"), "it offers a new link");
        assert!(!r.text.contains("type=\"password\""));
    }
}

on_both! {
    async fn a_sign_in_link_takes_someone_already_signed_in_to_the_page_it_was_for(backend) {
        let app = TestApp::start(backend).await;
        let officer = app.user("grant_officer", None).await;
        let mut b = Browser::new(&app);
        b.sign_in(&officer.email, PASSWORD).await;

        let r = b.get("/sign-in?next=/grants").await;
        assert_eq!(r.status, 303);
        assert_eq!(r.header("location").as_deref(), Some("/grants"));
        let r = b.open("/sign-in").await;
        assert_eq!(r.status, 200);
        assert!(r.text.contains("<h1>Inbox</h1>"), "the officer lands on the inbox: {}", r.text);
        assert!(!r.text.contains("id=\"sign_in-password\""));
        // Someone else's link to another site is not followed.
        let r = b.get("/sign-in?next=//evil.example").await;
        assert_eq!(r.header("location").as_deref(), Some("/"));
    }
}

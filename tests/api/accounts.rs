//! Account controls: lockouts that tell nothing and lock no owner out, one-time links checked
//! before any password work, limits shared by every instance, `nbf`, members of suspended
//! organisations, and sent mail that keeps no usable link.

use std::net::SocketAddr;

use actix_web::test::TestRequest;
use diesel::prelude::*;
use idpc_hub::db::schema::{auth_throttle, organisations, outbox};
use serde_json::{Value, json};

use crate::common::http::{Resp, send};
use crate::common::{PASSWORD, TestApp, base_env};
use crate::on_both;

fn login_body(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

/// A POST with a JSON body from the TCP peer `from`.
async fn post_from(app: &TestApp, from: &str, path: &str, body: &Value) -> Resp {
    let peer: SocketAddr = format!("{from}:40000").parse().unwrap();
    let req = TestRequest::post()
        .uri(path)
        .peer_addr(peer)
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string());
    send(&app.svc, req).await
}

/// The body of a problem without what differs per request.
fn stable(r: &Resp) -> Value {
    let mut b = r.body.clone();
    let o = b.as_object_mut().expect("a problem body");
    o.remove("request_id");
    o.remove("instance");
    b
}

async fn throttle_keys(app: &TestApp) -> Vec<String> {
    app.db(|c| {
        auth_throttle::table
            .select(auth_throttle::key)
            .load::<String>(c)
            .unwrap()
    })
    .await
}

on_both! {
    async fn a_locked_login_answers_exactly_as_a_wrong_password_for_known_and_unknown_emails(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("member", Some(&app.member_org("Org").await)).await;
        let attacker = "198.51.100.7";
        for _ in 0..5 {
            post_from(&app, attacker, "/api/v1/auth/login", &login_body(&user.email, "wrong password!!")).await.expect_problem(401);
            post_from(&app, attacker, "/api/v1/auth/login", &login_body("ghost@nowhere.example", "wrong password!!")).await.expect_problem(401);
        }
        // Locked now, for both: even the right password gets the wrong-password answer.
        let known = post_from(&app, attacker, "/api/v1/auth/login", &login_body(&user.email, PASSWORD)).await;
        let unknown = post_from(&app, attacker, "/api/v1/auth/login", &login_body("ghost@nowhere.example", PASSWORD)).await;
        let wrong = post_from(&app, "198.51.100.8", "/api/v1/auth/login", &login_body(&user.email, "wrong password!!")).await;
        assert_eq!(known.status, 401, "{}", known.text);
        assert_eq!((known.status, stable(&known)), (unknown.status, stable(&unknown)));
        assert_eq!(stable(&known), stable(&wrong), "a lockout looks like a wrong password");
        assert_eq!(known.header("retry-after"), None);
        assert_eq!(unknown.header("retry-after"), None);
        assert_eq!(known.header("content-type"), unknown.header("content-type"));

        // The owner, from their own address, is not locked out.
        post_from(&app, "203.0.113.9", "/api/v1/auth/login", &login_body(&user.email, PASSWORD)).await.expect(200);
        // The owner is told once, when the lockout starts.
        let mails = app.emails().await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].subject(), "Your IDPC account was locked after failed logins");

        // A password reset unlocks every address, the attacker's included.
        app.post("/api/v1/auth/password-reset").json(&json!({"email": user.email})).send().await.expect(202);
        let token = app.emails().await[0].link_param("http://hub.test/reset-password", "token").unwrap();
        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": token, "password": "a brand new password"})).send().await.expect(204);
        let prefix = format!("lock:login:{}|", user.email);
        assert!(!throttle_keys(&app).await.iter().any(|k| k.starts_with(&prefix)), "the lockout rows are gone");
        post_from(&app, attacker, "/api/v1/auth/login", &login_body(&user.email, "a brand new password")).await.expect(200);
        // The unknown email stays locked at that address.
        assert!(throttle_keys(&app).await.iter().any(|k| k == &format!("lock:login:ghost@nowhere.example|{attacker}")));
    }
}

on_both! {
    async fn invitation_and_reset_links_are_checked_before_any_password_is_hashed(backend) {
        let app = TestApp::start_with(backend, &[("PASSWORD_HASH_CONCURRENCY", "1")]).await;
        // With one hashing slot, eight concurrent requests that hashed would mostly get 503.
        let bogus = |path: &'static str| {
            let app = &app;
            async move {
                app.post(path)
                    .json(&json!({"token": "not-a-real-token", "password": "a long enough password", "display_name": "X"}))
                    .send()
                    .await
            }
        };
        let accepts = futures_util::future::join_all((0..8).map(|_| bogus("/api/v1/auth/invitations/accept"))).await;
        for r in &accepts {
            assert_eq!(r.status, 400, "{}", r.text);
            assert_eq!(r.first_error_field(), "token");
        }
        let resets = futures_util::future::join_all((0..8).map(|_| async {
            app.post("/api/v1/auth/password-reset/confirm")
                .json(&json!({"token": "not-a-real-token", "password": "a long enough password"}))
                .send()
                .await
        }))
        .await;
        for r in &resets {
            assert_eq!(r.status, 400, "{}", r.text);
            assert_eq!(r.first_error_field(), "token");
        }
    }
}

on_both! {
    async fn invitation_acceptance_reset_confirmation_and_password_change_are_rate_limited_like_login(backend) {
        let app = TestApp::start_with(backend, &[("AUTH_RATE_LIMIT_PER_IP", "3"), ("AUTH_RATE_LIMIT_PER_ACCOUNT", "3")]).await;
        for _ in 0..3 {
            app.post("/api/v1/auth/invitations/accept").json(&json!({"token": "bogus", "password": "a long enough password", "display_name": "X"})).send().await.expect_problem(400);
            app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": "bogus", "password": "a long enough password"})).send().await.expect_problem(400);
        }
        let r = app.post("/api/v1/auth/invitations/accept").json(&json!({"token": "bogus", "password": "a long enough password", "display_name": "X"})).send().await.expect_problem(429);
        assert!(r.header("retry-after").is_some());
        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": "bogus", "password": "a long enough password"})).send().await.expect_problem(429);

        let user = app.user("grant_officer", None).await;
        for _ in 0..3 {
            let r = app.post("/api/v1/me/password").bearer(&user.token).json(&json!({"current_password": "not my password", "new_password": "a brand new password"})).send().await.expect_problem(400);
            assert_eq!(r.first_error_field(), "current_password");
        }
        // The right password does not help once the limit is reached.
        app.post("/api/v1/me/password").bearer(&user.token).json(&json!({"current_password": PASSWORD, "new_password": "a brand new password"})).send().await.expect_problem(429);
    }
}

on_both! {
    async fn two_instances_over_one_database_share_one_login_limit(backend) {
        let app = TestApp::start_with(backend, &[("AUTH_RATE_LIMIT_PER_IP", "4")]).await;
        let mut vars = base_env(&app.db.url, app.mail.port);
        vars.insert("AUTH_RATE_LIMIT_PER_IP".into(), "4".into());
        let config = idpc_hub::config::Config::from_map(&vars).unwrap();
        let state = actix_web::web::block(move || idpc_hub::AppState::new(config)).await.unwrap().unwrap();
        let other = crate::common::http::init(idpc_hub::build_app(state)).await;
        let login = |i: usize| {
            TestRequest::post()
                .uri("/api/v1/auth/login")
                .peer_addr("192.0.2.44:5000".parse().unwrap())
                .insert_header(("content-type", "application/json"))
                .set_payload(login_body(&format!("u{i}@x.example"), "whatever password").to_string())
        };
        // Two attempts on each instance: four in all, the limit.
        for i in 0..4 {
            let svc = if i % 2 == 0 { &app.svc } else { &other };
            send(svc, login(i)).await.expect_problem(401);
        }
        // The fifth is refused by whichever instance gets it.
        let r = send(&other, login(5)).await.expect_problem(429);
        assert!(r.header("retry-after").is_some());
        send(&app.svc, login(6)).await.expect_problem(429);
        let hits: i32 = app.db(|c| {
            auth_throttle::table
                .find("login:ip:192.0.2.44")
                .select(auth_throttle::hits)
                .first(c)
                .unwrap()
        }).await;
        assert_eq!(hits, 6);
    }
}

on_both! {
    async fn a_token_that_is_not_valid_yet_is_refused(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("admin", None).await;
        let now = chrono::Utc::now().timestamp();
        let token = |nbf: i64| crate::identity::resign(&user.token, "nbf", json!(nbf));
        app.get("/api/v1/me").bearer(&token(now - 10)).send().await.expect(200);
        app.get("/api/v1/me").bearer(&token(now + 3600)).send().await.expect_problem(401);
    }
}

on_both! {
    async fn members_of_a_suspended_or_withdrawn_organisation_are_refused_writes_naming_why(backend) {
        use idpc_hub::auth::caller::OrgMember;
        use idpc_hub::auth::principal::{Principal, UserPrincipal};
        use idpc_hub::auth::Role;

        let app = TestApp::start(backend).await;
        let org = app.member_org("Harm Reduction Kenya").await;
        let member = app.user("member", Some(&org)).await;
        let caller = OrgMember::try_from(&Principal::User(UserPrincipal {
            id: member.id.clone(),
            role: Role::Member,
            organisation_id: Some(org.clone()),
            session_id: "s".into(),
        }))
        .unwrap();
        for (status, allowed) in [("active", true), ("grace", true), ("lapsed", true), ("suspended", false), ("withdrawn", false)] {
            let (o, c) = (org.clone(), caller.clone());
            let answer = app.db(move |conn| {
                diesel::update(organisations::table.find(&o))
                    .set(organisations::membership_status.eq(status))
                    .execute(conn)
                    .unwrap();
                c.require_in_good_standing(conn)
            }).await;
            match answer {
                Ok(()) => assert!(allowed, "{status} may not write"),
                Err(e) => {
                    assert!(!allowed, "{status} may write");
                    let p = e.problem();
                    assert_eq!(p.status, 403);
                    assert!(p.detail.starts_with(&format!("Your organisation's membership is {status}")), "{}", p.detail);
                }
            }
        }
        // Reading goes on as before.
        app.get("/api/v1/me").bearer(&member.token).send().await.expect(200);
    }
}

on_both! {
    async fn sent_invitations_and_resets_leave_no_usable_token_in_the_outbox(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let user = app.user("finance_officer", None).await;
        app.post("/api/v1/users").bearer(&admin.token).json(&json!({"email": "new@staff.example", "display_name": "New", "role": "grant_officer"})).send().await.expect(201);
        app.post("/api/v1/auth/password-reset").json(&json!({"email": user.email})).send().await.expect(202);
        let mails = app.emails().await;
        assert_eq!(mails.len(), 2);
        let invite = mails.iter().find_map(|m| m.link_param("http://hub.test/accept-invitation", "token")).unwrap();
        let reset = mails.iter().find_map(|m| m.link_param("http://hub.test/reset-password", "token")).unwrap();

        let bodies: Vec<(String, String, String)> = app.db(|c| {
            outbox::table
                .select((outbox::status, outbox::body_text, outbox::body_html))
                .load(c)
                .unwrap()
        }).await;
        assert_eq!(bodies.len(), 2);
        for (status, text, html) in &bodies {
            assert_eq!(status, "sent");
            for token in [&invite, &reset] {
                assert!(!text.contains(token.as_str()) && !html.contains(token.as_str()), "a sent body keeps a token");
            }
            assert!(text.contains("token=[redacted]"), "{text}");
            assert!(html.contains("token=[redacted]"), "{html}");
        }
        // The emailed links still work.
        app.post("/api/v1/auth/invitations/accept").json(&json!({"token": invite, "password": "a long enough password", "display_name": "New"})).send().await.expect(200);
        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": reset, "password": "a brand new password"})).send().await.expect(204);
        app.post("/api/v1/auth/login").json(&login_body(&user.email, "a brand new password")).send().await.expect(200);
    }
}

/// The token of the first `token=` link in `body`.
fn token_in(body: &str) -> String {
    body.split("token=")
        .nth(1)
        .expect("a link with a token")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

on_both! {
    async fn a_reset_token_read_from_an_outbox_row_never_works_pending_or_dead(backend) {
        let port = crate::common::MailSink::reserve_port();
        let app = TestApp::start_with(backend, &[("SMTP_PORT", &port.to_string()), ("OUTBOX_MAX_ATTEMPTS", "1"), ("SMTP_TIMEOUT_SECS", "1")]).await;
        let user = app.user("finance_officer", None).await;
        app.post("/api/v1/auth/password-reset").json(&json!({"email": user.email})).send().await.expect(202);
        let pending: (String, String) = app.db(|c| outbox::table.select((outbox::status, outbox::body_text)).first(c).unwrap()).await;
        assert_eq!(pending.0, "pending");
        let token = token_in(&pending.1);
        assert!(token.len() > 20, "{}", pending.1);
        // Read from the queue before it was sent: refused, naming the token.
        let r = app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": token, "password": "an outbox reader's password"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "token");
        // The mail server is down: one attempt and the message is dead, its link redacted.
        app.deliver_mail().await;
        let dead: (String, String, String) = app.db(|c| outbox::table.select((outbox::status, outbox::body_text, outbox::body_html)).first(c).unwrap()).await;
        assert_eq!(dead.0, "dead");
        assert!(!dead.1.contains(&token) && !dead.2.contains(&token), "a dead row keeps its token");
        assert!(dead.1.contains("token=[redacted]"), "{}", dead.1);
        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": token, "password": "an outbox reader's password"})).send().await.expect_problem(400);
        app.post("/api/v1/auth/login").json(&login_body(&user.email, "an outbox reader's password")).send().await.expect_problem(401);
        app.post("/api/v1/auth/login").json(&login_body(&user.email, PASSWORD)).send().await.expect(200);
    }
}

on_both! {
    async fn the_daily_jobs_forget_login_counters_whose_window_ended_a_day_ago(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("member", Some(&app.member_org("Org").await)).await;
        post_from(&app, "198.51.100.7", "/api/v1/auth/login", &login_body(&user.email, "wrong password!!")).await.expect_problem(401);
        let keys = throttle_keys(&app).await;
        assert!(keys.len() >= 2, "{keys:?}");
        // One counter's window started two days ago; the others are today's.
        let old = keys[0].clone();
        let key = old.clone();
        let two_days_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(2);
        app.db(move |c| {
            diesel::update(auth_throttle::table.find(key))
                .set((auth_throttle::window_start.eq(two_days_ago), auth_throttle::locked_until.eq(None::<chrono::NaiveDateTime>)))
                .execute(c)
                .unwrap()
        })
        .await;
        idpc_hub::jobs::run_daily(&app.state, chrono::Utc::now().date_naive()).await.expect("daily jobs");
        let left = throttle_keys(&app).await;
        assert!(!left.contains(&old), "{old} is forgotten");
        assert_eq!(left.len(), keys.len() - 1, "today's counters stay: {left:?}");
    }
}

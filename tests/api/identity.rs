//! Identity end to end: invitations, login, refresh, logout, password reset and change,
//! lockout, partner-app tokens, forged tokens, bursts, and secrets that never leak.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::prelude::*;
use idpc_hub::db::schema::{audit_events, users};
use serde_json::{Value, json};

use crate::common::{Backend, PASSWORD, TEST_JWT_KEYS, TestApp};
use crate::on_both;

fn login_body(email: &str, password: &str) -> Value {
    json!({"email": email, "password": password})
}

async fn audit_actions(app: &TestApp, entity_id: &str) -> Vec<String> {
    let id = entity_id.to_string();
    app.db(move |c| {
        audit_events::table
            .filter(audit_events::entity_id.eq(id))
            .order(audit_events::occurred_at)
            .select(audit_events::action)
            .load::<String>(c)
            .unwrap()
    })
    .await
}

on_both! {
    async fn an_invited_member_accepts_by_email_link_and_logs_in(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Harm Reduction Kenya").await;
        let r = app
            .post("/api/v1/users")
            .bearer(&admin.token)
            .json(&json!({"email": "Wanjiru@HRK.example", "display_name": "Wanjiru", "role": "member", "organisation_id": org}))
            .send()
            .await
            .expect(201);
        assert_eq!(r.body["email"], "wanjiru@hrk.example");
        assert_eq!(r.body["status"], "invited");
        let user_id = r.body["id"].as_str().unwrap().to_string();
        assert_eq!(r.header("location").unwrap(), format!("/api/v1/users/{user_id}"));

        let mails = app.emails().await;
        assert_eq!(mails.len(), 1);
        let invite = &mails[0];
        assert_eq!(invite.recipient(), "wanjiru@hrk.example");
        assert_eq!(invite.subject(), "You are invited to IDPC");
        assert!(invite.text().contains("Harm Reduction Kenya"), "{}", invite.text());
        let token = invite.link_param("http://hub.test/accept-invitation", "token").expect("link with token");

        // An invited user cannot log in yet.
        app.post("/api/v1/auth/login").json(&login_body("wanjiru@hrk.example", "a long enough password")).send().await.expect_problem(401);

        let short = app.post("/api/v1/auth/invitations/accept").json(&json!({"token": token, "password": "short", "display_name": "W"})).send().await.expect_problem(400);
        assert_eq!(short.first_error_field(), "password");
        let pair = app
            .post("/api/v1/auth/invitations/accept")
            .json(&json!({"token": token, "password": "a long enough password", "display_name": "Wanjiru M."}))
            .send()
            .await
            .expect(200);
        assert_eq!(pair.body["token_type"], "Bearer");
        let me = app.get("/api/v1/me").bearer(pair.body["access_token"].as_str().unwrap()).send().await.expect(200);
        assert_eq!(me.body["status"], "active");
        assert_eq!(me.body["display_name"], "Wanjiru M.");
        assert_eq!(me.body["organisation_id"], org.as_str());

        // The link works once.
        let again = app.post("/api/v1/auth/invitations/accept").json(&json!({"token": token, "password": "another long password", "display_name": "X"})).send().await.expect_problem(400);
        assert_eq!(again.first_error_field(), "token");
        app.post("/api/v1/auth/login").json(&login_body("WANJIRU@hrk.example", "a long enough password")).send().await.expect(200);
        assert_eq!(
            audit_actions(&app, &user_id).await,
            ["user.created", "auth.login_failed", "user.invitation_accepted", "auth.login_succeeded"]
        );
    }
}

on_both! {
    async fn a_resent_invitation_replaces_the_earlier_link(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let r = app.post("/api/v1/users").bearer(&admin.token).json(&json!({"email": "go@staff.example", "display_name": "Go", "role": "grant_officer"})).send().await.expect(201);
        let id = r.body["id"].as_str().unwrap().to_string();
        let first = app.emails().await[0].link_param("http://hub.test/accept-invitation", "token").unwrap();
        app.post(&format!("/api/v1/users/{id}/invitation")).bearer(&admin.token).send().await.expect(202);
        let second = app.emails().await[0].link_param("http://hub.test/accept-invitation", "token").unwrap();
        assert_ne!(first, second);
        app.post("/api/v1/auth/invitations/accept").json(&json!({"token": first, "password": "a long enough password", "display_name": "Go"})).send().await.expect_problem(400);
        app.post("/api/v1/auth/invitations/accept").json(&json!({"token": second, "password": "a long enough password", "display_name": "Go"})).send().await.expect(200);
        app.post(&format!("/api/v1/users/{id}/invitation")).bearer(&admin.token).send().await.expect_problem(409);
    }
}

on_both! {
    async fn a_password_reset_emails_a_single_use_link_and_ends_every_session(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("finance_officer", None).await;
        let unknown = app.post("/api/v1/auth/password-reset").json(&json!({"email": "nobody@nowhere.example"})).send().await;
        let known = app.post("/api/v1/auth/password-reset").json(&json!({"email": user.email.to_uppercase()})).send().await;
        assert_eq!((unknown.status, known.status), (202, 202), "no account enumeration");
        assert_eq!(unknown.text, known.text);
        let mails = app.emails().await;
        assert_eq!(mails.len(), 1, "only the real account gets mail");
        assert_eq!(mails[0].recipient(), user.email);
        assert_eq!(mails[0].subject(), "Reset your IDPC password");
        assert!(mails[0].text().contains("30 minutes"));
        let token = mails[0].link_param("http://hub.test/reset-password", "token").unwrap();

        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": token, "password": "a brand new password"})).send().await.expect(204);
        // Existing access and refresh tokens are cut off at once.
        app.get("/api/v1/me").bearer(&user.token).send().await.expect_problem(401);
        app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": user.refresh_token})).send().await.expect_problem(401);
        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": token, "password": "yet another password"})).send().await.expect_problem(400);
        app.post("/api/v1/auth/login").json(&login_body(&user.email, PASSWORD)).send().await.expect_problem(401);
        app.post("/api/v1/auth/login").json(&login_body(&user.email, "a brand new password")).send().await.expect(200);
        let changed = app.emails().await;
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].subject(), "Your IDPC password was changed");
    }
}

on_both! {
    async fn changing_the_password_keeps_this_session_and_ends_the_others(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("grant_officer", None).await;
        let other = app.post("/api/v1/auth/login").json(&login_body(&user.email, PASSWORD)).send().await.expect(200);
        let wrong = app.post("/api/v1/me/password").bearer(&user.token).json(&json!({"current_password": "not the password", "new_password": "a brand new password"})).send().await.expect_problem(400);
        assert_eq!(wrong.first_error_field(), "current_password");
        app.post("/api/v1/me/password").bearer(&user.token).json(&json!({"current_password": PASSWORD, "new_password": "a brand new password"})).send().await.expect(204);
        app.get("/api/v1/me").bearer(&user.token).send().await.expect(200);
        app.get("/api/v1/me").bearer(other.body["access_token"].as_str().unwrap()).send().await.expect_problem(401);
        let mails = app.emails().await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].subject(), "Your IDPC password was changed");
        assert!(audit_actions(&app, &user.id).await.contains(&"user.password_changed".to_string()));
    }
}

on_both! {
    async fn refresh_rotates_and_a_reused_token_revokes_the_whole_family(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("member", Some(&app.member_org("Org").await)).await;
        let second = app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": user.refresh_token})).send().await.expect(200);
        let third = app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": second.body["refresh_token"]})).send().await.expect(200);
        let third_access = third.body["access_token"].as_str().unwrap().to_string();
        app.get("/api/v1/me").bearer(&third_access).send().await.expect(200);
        // Replaying the spent first token: refused, and the whole family dies.
        app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": user.refresh_token})).send().await.expect_problem(401);
        app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": third.body["refresh_token"]})).send().await.expect_problem(401);
        app.get("/api/v1/me").bearer(&third_access).send().await.expect_problem(401);
        assert!(audit_actions(&app, &user.id).await.contains(&"auth.refresh_token_reused".to_string()));
    }
}

on_both! {
    async fn logout_cuts_off_the_sessions_access_tokens_at_once(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("admin", None).await;
        let other = app.post("/api/v1/auth/login").json(&login_body(&user.email, PASSWORD)).send().await.expect(200);
        app.get("/api/v1/me").bearer(&user.token).send().await.expect(200);
        app.post("/api/v1/auth/logout").json(&json!({"refresh_token": user.refresh_token})).send().await.expect(204);
        app.get("/api/v1/me").bearer(&user.token).send().await.expect_problem(401);
        app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": user.refresh_token})).send().await.expect_problem(401);
        // The other session is untouched.
        app.get("/api/v1/me").bearer(other.body["access_token"].as_str().unwrap()).send().await.expect(200);
    }
}

on_both! {
    async fn disabling_a_user_cuts_off_their_tokens_at_once(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let user = app.user("grant_officer", None).await;
        app.get("/api/v1/me").bearer(&user.token).send().await.expect(200);
        let r = app.patch(&format!("/api/v1/users/{}", user.id)).bearer(&admin.token).json(&json!({"status": "disabled"})).send().await.expect(200);
        assert_eq!(r.body["status"], "disabled");
        app.get("/api/v1/me").bearer(&user.token).send().await.expect_problem(401);
        app.post("/api/v1/auth/login").json(&login_body(&user.email, PASSWORD)).send().await.expect_problem(401);
        let actions = audit_actions(&app, &user.id).await;
        assert!(actions.contains(&"user.status_changed".to_string()));
        // A role change is audited and takes effect on the next request.
        let r = app.patch(&format!("/api/v1/users/{}", user.id)).bearer(&admin.token).json(&json!({"status": "active", "role": "finance_officer"})).send().await.expect(200);
        assert_eq!(r.body["role"], "finance_officer");
        assert!(audit_actions(&app, &user.id).await.contains(&"user.role_changed".to_string()));
        let self_demote = app.patch(&format!("/api/v1/users/{}", admin.id)).bearer(&admin.token).json(&json!({"role": "grant_officer"})).send().await.expect_problem(409);
        assert_eq!(self_demote.body["type"], "urn:idpc-hub:problem:self-lockout");
    }
}

on_both! {
    async fn repeated_failures_lock_the_account_and_email_the_user(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("member", Some(&app.member_org("Org").await)).await;
        let mut wrong = Vec::new();
        for _ in 0..5 {
            wrong.push(app.post("/api/v1/auth/login").json(&login_body(&user.email, "wrong password!!")).send().await.expect_problem(401));
        }
        // Locked now: even the right password gets the wrong-password answer (this pinned a
        // 429 that told a known email from an unknown one; issue 10).
        let locked = app.post("/api/v1/auth/login").json(&login_body(&user.email, PASSWORD)).send().await.expect_problem(401);
        assert_eq!(locked.body["detail"], wrong[0].body["detail"]);
        assert_eq!(locked.header("retry-after"), None);
        let mails = app.emails().await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].recipient(), user.email);
        assert_eq!(mails[0].subject(), "Your IDPC account was locked after failed logins");
        let failures = audit_actions(&app, &user.id).await.iter().filter(|a| *a == "auth.login_failed").count();
        assert_eq!(failures, 6);
    }
}

on_both! {
    async fn login_and_reset_are_rate_limited_per_ip_and_per_account(backend) {
        let app = TestApp::start_with(backend, &[("AUTH_RATE_LIMIT_PER_IP", "5"), ("AUTH_RATE_LIMIT_PER_ACCOUNT", "3")]).await;
        for i in 0..3 {
            app.post("/api/v1/auth/password-reset").json(&json!({"email": "same@account.example"})).send().await.expect(202);
            let _ = i;
        }
        let r = app.post("/api/v1/auth/password-reset").json(&json!({"email": "same@account.example"})).send().await.expect_problem(429);
        assert!(r.header("retry-after").is_some());
        for i in 0..5 {
            app.post("/api/v1/auth/login").json(&login_body(&format!("u{i}@x.example"), "whatever password")).send().await.expect_problem(401);
        }
        app.post("/api/v1/auth/login").json(&login_body("u9@x.example", "whatever password")).send().await.expect_problem(429);
    }
}

on_both! {
    async fn a_partner_app_gets_a_token_by_client_credentials_and_loses_it_on_revocation(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Partner host").await;
        let created = app.post("/api/v1/api-clients").bearer(&admin.token).json(&json!({"name": "Map app", "organisation_id": org, "scopes": ["directory:read", "grants:read"]})).send().await.expect(201);
        let (id, client_id, secret) = (
            created.body["id"].as_str().unwrap().to_string(),
            created.body["client_id"].as_str().unwrap().to_string(),
            created.body["client_secret"].as_str().unwrap().to_string(),
        );
        // HTTP Basic, narrowed scope.
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
        let t = app.post("/api/v1/auth/token").header("authorization", &format!("Basic {basic}")).body("application/x-www-form-urlencoded", "grant_type=client_credentials&scope=directory:read").send().await.expect(200);
        assert_eq!(t.body["token_type"], "Bearer");
        assert_eq!(t.body["scope"], "directory:read");
        assert_eq!(t.body["expires_in"], 900);
        let token = t.body["access_token"].as_str().unwrap().to_string();
        // RFC 6749 errors.
        let bad = app.post("/api/v1/auth/token").body("application/x-www-form-urlencoded", format!("grant_type=client_credentials&client_id={client_id}&client_secret=wrong")).send().await.expect(401);
        assert_eq!(bad.body["error"], "invalid_client");
        assert!(bad.header("www-authenticate").unwrap().starts_with("Basic"));
        let scope = app.post("/api/v1/auth/token").body("application/x-www-form-urlencoded", format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}&scope=webhooks:manage")).send().await.expect(400);
        assert_eq!(scope.body["error"], "invalid_scope");
        let grant = app.post("/api/v1/auth/token").body("application/x-www-form-urlencoded", "grant_type=password").send().await.expect(400);
        assert_eq!(grant.body["error"], "unsupported_grant_type");
        // A client is not a user.
        app.get("/api/v1/me").bearer(&token).send().await.expect_problem(403);
        // The list never shows secrets.
        let list = app.get("/api/v1/api-clients").bearer(&admin.token).send().await.expect(200);
        assert_eq!(list.body["total"], 1);
        assert!(!list.text.contains(&secret) && !list.text.contains("secret"));
        // Revocation cuts the token off at once: from 403 (a client has no account) to 401.
        app.delete(&format!("/api/v1/api-clients/{id}")).bearer(&admin.token).send().await.expect(204);
        app.get("/api/v1/me").bearer(&token).send().await.expect_problem(401);
        let after = app.post("/api/v1/auth/token").header("authorization", &format!("Basic {basic}")).body("application/x-www-form-urlencoded", "grant_type=client_credentials").send().await.expect(401);
        assert_eq!(after.body["error"], "invalid_client");
        let actions = audit_actions(&app, &id).await;
        assert_eq!(actions, ["api_client.created", "api_client.revoked"]);
    }
}

fn sign(header: Value, claims: Value, secret: &str) -> String {
    use hmac_sign::sign_hs256;
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let c = URL_SAFE_NO_PAD.encode(claims.to_string());
    let sig = sign_hs256(format!("{h}.{c}").as_bytes(), secret.as_bytes());
    format!("{h}.{c}.{}", URL_SAFE_NO_PAD.encode(sig))
}

mod hmac_sign {
    use sha2::{Digest, Sha256};

    /// HMAC-SHA256 (RFC 2104), written out so the test forges tokens independently of the app.
    pub fn sign_hs256(msg: &[u8], key: &[u8]) -> Vec<u8> {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let ih = Sha256::new()
            .chain_update(&inner)
            .chain_update(msg)
            .finalize();
        Sha256::new()
            .chain_update(&outer)
            .chain_update(ih)
            .finalize()
            .to_vec()
    }
}

/// `token` with claim `name` set to `value`, signed again with the signing key.
pub(crate) fn resign(token: &str, name: &str, value: Value) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims[name] = value;
    sign(
        json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
        claims,
        &key("k1"),
    )
}

fn key(kid: &str) -> String {
    TEST_JWT_KEYS
        .split(',')
        .find_map(|kv| kv.strip_prefix(&format!("{kid}:")))
        .unwrap()
        .to_string()
}

on_both! {
    async fn forged_and_stale_tokens_get_401_and_rotated_keys_still_verify(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("admin", None).await;
        // Decode the real token's claims to forge variants of it.
        let payload = user.token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let now = chrono::Utc::now().timestamp();
        let with = |k: &str, v: Value| { let mut c = claims.clone(); c[k] = v; c };
        let without = |k: &str| { let mut c = claims.clone(); c.as_object_mut().unwrap().remove(k); c };
        let hs = |kid: &str| json!({"alg": "HS256", "typ": "JWT", "kid": kid});
        let (k1, k0) = (key("k1"), key("k0"));

        // Sanity: a token we sign ourselves with the real key is accepted.
        app.get("/api/v1/me").bearer(&sign(hs("k1"), claims.clone(), &k1)).send().await.expect(200);
        // Rotation: k0 is no longer the signing key but still configured, so it verifies.
        app.get("/api/v1/me").bearer(&sign(hs("k0"), claims.clone(), &k0)).send().await.expect(200);

        let alg_none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": "k1"}).to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let forged = [
            ("alg none", alg_none),
            ("other key", sign(hs("k1"), claims.clone(), "an-attacker-secret-0123456789abcdef")),
            ("expired", sign(hs("k1"), with("exp", json!(now - 120)), &k1)),
            ("wrong aud", sign(hs("k1"), with("aud", json!("someone-else")), &k1)),
            ("wrong iss", sign(hs("k1"), with("iss", json!("https://evil.example")), &k1)),
            ("unknown kid", sign(hs("k9"), claims.clone(), &k1)),
            ("no kid", sign(json!({"alg": "HS256", "typ": "JWT"}), claims.clone(), &k1)),
            ("missing exp", sign(hs("k1"), without("exp"), &k1)),
            ("missing jti", sign(hs("k1"), without("jti"), &k1)),
            ("missing iat", sign(hs("k1"), without("iat"), &k1)),
            ("HS512", sign(json!({"alg": "HS512", "typ": "JWT", "kid": "k1"}), claims.clone(), &k1)),
            ("garbage", "not.a.token".to_string()),
        ];
        for (what, token) in forged {
            let r = app.get("/api/v1/me").bearer(&token).send().await;
            assert_eq!(r.status, 401, "{what}: {}", r.text);
            assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"), "{what}");
        }
        // Within the 30 s leeway an expired token still passes; beyond it, not.
        app.get("/api/v1/me").bearer(&sign(hs("k1"), with("exp", json!(now - 10)), &k1)).send().await.expect(200);
    }
}

#[actix_web::test]
async fn a_token_signed_with_a_removed_key_is_refused_after_rotation() {
    let db = crate::common::TestDb::create(Backend::Sqlite);
    let sink = crate::common::MailSink::start();
    let vars = crate::common::base_env(&db.url, sink.port);
    let app = TestApp::from_parts(db, sink, vars).await;
    let user = app.user("admin", None).await;
    // Restart with only a new key: the old token's kid is gone.
    let TestApp { db, mail, .. } = app;
    let mut vars = crate::common::base_env(&db.url, mail.port);
    vars.insert(
        "JWT_KEYS".into(),
        "k2:a-completely-new-secret-0123456789abcdef".into(),
    );
    let app = TestApp::from_parts(db, mail, vars).await;
    app.get("/api/v1/me")
        .bearer(&user.token)
        .send()
        .await
        .expect_problem(401);
}

#[actix_web::test]
async fn a_burst_of_200_wrong_password_logins_answers_fast_and_liveness_stays_responsive() {
    let app = TestApp::start_with(
        Backend::Sqlite,
        &[
            ("AUTH_RATE_LIMIT_PER_IP", "100"),
            ("PASSWORD_HASH_CONCURRENCY", "2"),
        ],
    )
    .await;
    let user = app.user("member", Some(&app.member_org("Org").await)).await;
    let started = Instant::now();
    let burst = futures_util::future::join_all((0..200).map(|i| {
        let body = login_body(
            if i % 2 == 0 {
                &user.email
            } else {
                "ghost@nowhere.example"
            },
            "definitely wrong password",
        );
        let app = &app;
        async move {
            let t = Instant::now();
            let r = app.post("/api/v1/auth/login").json(&body).send().await;
            (r.status, r.header("retry-after"), t.elapsed())
        }
    }));
    let live = async {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        let t = Instant::now();
        let r = app.get("/health/live").send().await;
        (r.status, t.elapsed())
    };
    let (results, (live_status, live_time)) = futures_util::future::join(burst, live).await;
    assert_eq!(live_status, 200);
    assert!(
        live_time < Duration::from_secs(2),
        "liveness took {live_time:?}"
    );
    for (status, retry, took) in &results {
        assert!(matches!(status, 401 | 429 | 503), "status {status}");
        if *status == 429 || *status == 503 {
            assert!(retry.is_some(), "{status} carries Retry-After");
        }
        assert!(*took < Duration::from_secs(5), "an answer took {took:?}");
    }
    assert!(results.iter().any(|(s, _, _)| *s == 401));
    assert!(started.elapsed() < Duration::from_secs(10));
}

on_both! {
    async fn no_response_ever_contains_a_password_hash_a_token_hash_or_a_later_secret(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Org").await;
        let member = app.user("member", Some(&org)).await;
        let created = app.post("/api/v1/api-clients").bearer(&admin.token).json(&json!({"name": "App", "organisation_id": org, "scopes": ["directory:read"]})).send().await.expect(201);
        let secret = created.body["client_secret"].as_str().unwrap().to_string();
        let client_id = created.body["id"].as_str().unwrap().to_string();
        let hashes: Vec<String> = app
            .db(|c| {
                let mut v: Vec<String> = users::table.select(users::password_hash).load::<Option<String>>(c).unwrap().into_iter().flatten().collect();
                v.extend(idpc_hub::db::schema::refresh_tokens::table.select(idpc_hub::db::schema::refresh_tokens::token_hash).load::<String>(c).unwrap());
                v.extend(idpc_hub::db::schema::api_clients::table.select(idpc_hub::db::schema::api_clients::secret_hash).load::<String>(c).unwrap());
                v
            })
            .await;
        assert!(hashes.len() >= 5);
        let mut bodies = Vec::new();
        for (path, token) in [
            ("/api/v1/users".to_string(), &admin.token),
            (format!("/api/v1/users/{}", member.id), &admin.token),
            ("/api/v1/me".to_string(), &member.token),
            ("/api/v1/api-clients".to_string(), &admin.token),
            ("/api/v1/admin/outbox".to_string(), &admin.token),
            (format!("/api/v1/organisations/{org}"), &member.token),
        ] {
            bodies.push(app.get(&path).bearer(token).send().await.expect(200).text);
        }
        bodies.push(app.patch("/api/v1/me").bearer(&member.token).json(&json!({"display_name": "New name"})).send().await.expect(200).text);
        bodies.push(app.post("/api/v1/auth/refresh").json(&json!({"refresh_token": member.refresh_token})).send().await.expect(200).text);
        let audit: Vec<Option<String>> = app.db(|c| audit_events::table.select(audit_events::after_json).load(c).unwrap()).await;
        for body in bodies.iter().chain(audit.iter().flatten()) {
            for h in &hashes {
                assert!(!body.contains(h.as_str()), "a stored hash leaked: {body}");
            }
            assert!(!body.contains("$argon2id$"), "{body}");
            assert!(!body.contains(&secret), "the client secret reappeared: {body}");
            assert!(!body.contains("password_hash") && !body.contains("secret_hash") && !body.contains("token_hash"));
        }
        let _ = client_id;
    }
}

on_both! {
    async fn eleven_wrong_logins_from_eleven_addresses_never_keep_the_owner_out(backend) {
        let app = TestApp::start_with(backend, &[("AUTH_RATE_LIMIT_PER_ACCOUNT", "10")]).await;
        let owner = app.user("finance_officer", None).await;
        let ghost = "nobody@nowhere.example";
        let mut wrong = Vec::new();
        for i in 1..=11 {
            let ip = format!("198.51.100.{i}");
            wrong.push(app.post("/api/v1/auth/login").peer_ip(&ip).json(&login_body(&owner.email, "wrong password!!")).send().await.expect_problem(401));
            app.post("/api/v1/auth/login").peer_ip(&ip).json(&login_body(ghost, "wrong password!!")).send().await.expect_problem(401);
        }
        // The owner, from an address that never failed: in.
        let ok = app.post("/api/v1/auth/login").peer_ip("203.0.113.9").json(&login_body(&owner.email, PASSWORD)).send().await.expect(200);
        assert!(ok.body["access_token"].is_string());
        // A guessing address is slowed with 429, and a known account reads as an unknown one.
        let known = app.post("/api/v1/auth/login").peer_ip("198.51.100.1").json(&login_body(&owner.email, "another guess!!")).send().await.expect_problem(429);
        let unknown = app.post("/api/v1/auth/login").peer_ip("198.51.100.1").json(&login_body(ghost, "another guess!!")).send().await.expect_problem(429);
        // (Each names its own Retry-After, counted from when that email's window started.)
        for field in ["type", "title", "status"] {
            assert_eq!(known.body[field], unknown.body[field], "{field}");
        }
        assert!(known.header("retry-after").is_some() && unknown.header("retry-after").is_some());
        assert_eq!(wrong[10].body["detail"], wrong[0].body["detail"], "the 11th wrong login reads as the first");
        assert!(app.emails().await.is_empty(), "no address failed five times: nothing locked");
    }
}

on_both! {
    async fn the_owner_hears_of_a_lockout_once_per_period_however_many_addresses_lock(backend) {
        let app = TestApp::start(backend).await;
        let owner = app.user("finance_officer", None).await;
        for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
            for _ in 0..5 {
                app.post("/api/v1/auth/login").peer_ip(ip).json(&login_body(&owner.email, "wrong password!!")).send().await.expect_problem(401);
            }
            // That address is locked out: even the right password reads as a wrong one there.
            app.post("/api/v1/auth/login").peer_ip(ip).json(&login_body(&owner.email, PASSWORD)).send().await.expect_problem(401);
        }
        let mails = app.emails().await;
        assert_eq!(mails.len(), 1, "three lockouts, one email");
        assert_eq!(mails[0].recipient(), owner.email);
        // And the owner still signs in from elsewhere.
        app.post("/api/v1/auth/login").peer_ip("203.0.113.9").json(&login_body(&owner.email, PASSWORD)).send().await.expect(200);
    }
}

on_both! {
    async fn per_address_limits_count_an_ipv6_slash_64_as_one_address(backend) {
        let app = TestApp::start_with(backend, &[("AUTH_RATE_LIMIT_PER_IP", "3"), ("TRUSTED_PROXIES", "10.0.0.1")]).await;
        let via_proxy = |client: &str| {
            app.post("/api/v1/auth/login").peer_ip("10.0.0.1").header("x-forwarded-for", client)
                .json(&login_body("someone@x.example", "whatever password"))
        };
        for client in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa::3"] {
            via_proxy(client).send().await.expect_problem(401);
        }
        // A fourth address of the same /64 is the same bucket.
        let r = via_proxy("2001:db8:1:2:ffff:ffff:ffff:ffff").send().await.expect_problem(429);
        assert!(r.header("retry-after").is_some());
        // The next /64 is another subscriber.
        via_proxy("2001:db8:1:3::1").send().await.expect_problem(401);
    }
}

/// Cuts the test database off: no new connections, and every open one (the app's pool's
/// included) terminated, as when the server goes down.
fn take_postgres_down(url: &str, down: bool) {
    let name = url.rsplit_once('/').unwrap().1.to_string();
    let mut admin =
        diesel::PgConnection::establish(&crate::common::db::admin_url().unwrap()).unwrap();
    diesel::sql_query(format!(
        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {}",
        !down
    ))
    .execute(&mut admin)
    .unwrap();
    if down {
        diesel::sql_query(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .execute(&mut admin)
        .unwrap();
    }
}

#[actix_web::test]
#[cfg_attr(
    not(idpc_pg_tests),
    ignore = "TEST_DATABASE_URL was not set: not run on PostgreSQL"
)]
async fn while_the_database_is_down_the_token_endpoint_login_and_every_route_answer_503() {
    let app = TestApp::start(Backend::Postgres).await;
    let admin = app.admin().await;
    let org = app.member_org("Partner Org").await;
    let (client_id, secret, _) = app.api_client(&admin, &org, &["directory:read"]).await;
    let url = app.db.url.clone();
    actix_web::web::block(move || take_postgres_down(&url, true))
        .await
        .unwrap();
    let answers = [
        app.post("/api/v1/auth/token")
            .body(
                "application/x-www-form-urlencoded",
                format!(
                    "grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
                ),
            )
            .send()
            .await,
        app.post("/api/v1/auth/login")
            .json(&login_body(&admin.email, PASSWORD))
            .send()
            .await,
        app.get("/api/v1/organisations").send().await,
        app.get("/api/v1/grants").bearer(&admin.token).send().await,
    ];
    let url = app.db.url.clone();
    actix_web::web::block(move || take_postgres_down(&url, false))
        .await
        .unwrap();
    // Once the server is back, the pool drops its dead connections and serves again: at most
    // one failure per pooled connection, then 200.
    let mut back = false;
    for _ in 0..12 {
        let r = app.get("/api/v1/organisations").send().await;
        if r.status == 200 {
            back = true;
            break;
        }
        assert_eq!(r.status, 503, "{}", r.text);
    }
    assert!(back, "the service recovers when the database is back");
    for r in answers {
        assert_eq!(r.status, 503, "{}", r.text);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert!(r.header("retry-after").is_some());
        assert!(
            !r.text.contains("terminat") && !r.text.contains("server"),
            "no database detail: {}",
            r.text
        );
    }
}

on_both! {
    async fn an_access_token_is_refused_once_its_lifetime_and_leeway_have_passed(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("admin", None).await;
        // 900 s of lifetime plus 30 s of leeway: still good just before the end.
        app.clock.advance(chrono::Duration::seconds(900 + 20));
        app.get("/api/v1/me").bearer(&user.token).send().await.expect(200);
        app.clock.advance(chrono::Duration::seconds(20));
        app.get("/api/v1/me").bearer(&user.token).send().await.expect_problem(401);
    }
}

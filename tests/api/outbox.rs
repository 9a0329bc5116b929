//! The transactional outbox: mail is sent only for committed changes, exactly once, and is
//! never lost while the mail server is down or a worker dies.

use std::collections::HashSet;
use std::time::Duration;

use diesel::prelude::*;
use idpc_hub::AppState;
use idpc_hub::db::schema::outbox;
use idpc_hub::db::write_tx;
use idpc_hub::error::ApiError;
use idpc_hub::notify::worker::Notifier;
use idpc_hub::notify::{Kind, OutboxRow, Recipient, enqueue};

use crate::common::{Backend, MailSink, TestApp, TestDb, base_env};
use crate::on_both;

fn ana() -> Recipient {
    Recipient {
        email: "ana@member.example".into(),
        name: "Ana <Director>".into(),
        user_id: None,
        lang: Default::default(),
    }
}

/// Enqueues a password-reset email (it carries a link) in its own transaction.
async fn enqueue_reset(state: &AppState, to: Recipient, commit: bool) {
    let config = state.config.clone();
    let r = state
        .db(move |c| {
            write_tx(c, |c| {
                let ctx = serde_json::json!({"link": "http://hub.test/reset?token=tok123", "expires_in": "30 minutes"});
                enqueue(c, &config, Kind::PasswordReset, &to, ctx, None)?;
                if commit { Ok(()) } else { Err(ApiError::Conflict { code: idpc_hub::error::ConflictCode::ConcurrentUpdate, detail: "roll back".into() }) }
            })
        })
        .await;
    assert_eq!(r.is_ok(), commit);
}

async fn rows(app: &TestApp) -> Vec<OutboxRow> {
    app.db(|c| {
        outbox::table
            .select(OutboxRow::as_select())
            .order(outbox::created_at)
            .load(c)
            .unwrap()
    })
    .await
}

on_both! {
    async fn a_rolled_back_email_is_never_sent_and_a_committed_one_exactly_once(backend) {
        let app = TestApp::start(backend).await;
        enqueue_reset(&app.state, Recipient { email: "ghost@member.example".into(), name: "Ghost".into(), user_id: None, lang: Default::default() }, false).await;
        enqueue_reset(&app.state, ana(), true).await;
        assert_eq!(rows(&app).await.len(), 1, "the rolled-back message left no row");

        let mails = app.emails().await;
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        assert_eq!(m.recipient(), "ana@member.example");
        assert_eq!(m.subject(), "Reset your IDPC password");
        assert!(m.text().contains("Dear Ana <Director>,"), "{}", m.text());
        assert!(m.html().contains("Ana &lt;Director&gt;"), "HTML escapes the name: {}", m.html());
        assert_eq!(m.link("http://hub.test/reset").as_deref(), Some("http://hub.test/reset?token=tok123"));
        assert!(m.message_id().ends_with("@idpc.test>"));

        // Running the notifier again sends nothing more.
        assert_eq!(app.deliver_mail().await, 0);
        assert!(app.mail.take().is_empty());
        let stored = rows(&app).await;
        assert_eq!(stored[0].status.as_str(), "sent");
        assert_eq!(stored[0].attempts, 1);
        assert_eq!(format!("<{}>", stored[0].message_id.trim_matches(|c| c == '<' || c == '>')), m.message_id());
    }
}

on_both! {
    async fn with_smtp_down_mail_waits_with_growing_delays_then_arrives_once(backend) {
        let port = MailSink::reserve_port();
        let app = TestApp::start_with(backend, &[("SMTP_PORT", &port.to_string()), ("OUTBOX_RETRY_BASE_MS", "200"), ("SMTP_TIMEOUT_SECS", "1")]).await;
        for i in 0..3 {
            enqueue_reset(&app.state, Recipient { email: format!("m{i}@member.example"), name: format!("M{i}"), user_id: None, lang: Default::default() }, true).await;
        }
        let notifier = Notifier::new(app.state.clone()).unwrap();
        let mut delays = Vec::new();
        for attempt in 1..=3 {
            // Move time to when the last message is due again, then try.
            let due = rows(&app).await.iter().map(|r| r.next_attempt_at).max().unwrap();
            if due > app.clock.naive() {
                app.clock.advance(due - app.clock.naive());
            }
            let tried_at = app.clock.naive();
            assert_eq!(notifier.run_once(None).await.unwrap(), 3);
            let now_rows = rows(&app).await;
            for r in &now_rows {
                assert_eq!(r.status.as_str(), "pending");
                assert_eq!(r.attempts, attempt);
                assert!(r.last_error.is_some());
            }
            delays.push((now_rows[0].next_attempt_at - tried_at).num_milliseconds());
        }
        assert!(delays[0] >= 150 && delays[1] > delays[0] && delays[2] > delays[1], "growing delays: {delays:?}");

        // The server comes back: every message arrives, none twice.
        let sink = MailSink::start_on(port);
        // Each message has its own jittered retry time: deliver as each falls due, for as long
        // as the longest delay could be (twice the first message's, with room to spare).
        app.clock.advance(chrono::Duration::milliseconds(2 * delays[2] + 2000));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while sink.all().len() < 3 && std::time::Instant::now() < deadline {
            app.deliver_mail().await;
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        app.deliver_mail().await;
        let got = sink.all();
        assert_eq!(got.len(), 3);
        let ids: HashSet<String> = got.iter().map(|m| m.message_id()).collect();
        assert_eq!(ids.len(), 3);
        assert!(rows(&app).await.iter().all(|r| r.status.as_str() == "sent" && r.attempts == 4));
    }
}

on_both! {
    async fn a_message_whose_lease_expired_is_taken_up_again(backend) {
        let app = TestApp::start(backend).await;
        enqueue_reset(&app.state, ana(), true).await;
        // A worker claims it and dies before sending.
        let now = app.clock.now().naive_utc();
        let claimed = app.db(move |c| idpc_hub::queue::claim::<OutboxRow>(c, "dead-worker", chrono::Duration::milliseconds(200), 10, now).unwrap()).await;
        assert_eq!(claimed.len(), 1);
        assert_eq!(app.deliver_mail().await, 0, "a live lease is respected");
        app.clock.advance(chrono::Duration::milliseconds(300));
        assert_eq!(app.deliver_mail().await, 1);
        assert_eq!(app.mail.take().len(), 1);
    }
}

on_both! {
    async fn a_reminder_with_the_same_dedupe_key_is_enqueued_once(backend) {
        let app = TestApp::start(backend).await;
        let config = app.state.config.clone();
        let ids = app
            .db(move |c| {
                (0..3)
                    .map(|_| {
                        write_tx(c, |c| {
                            enqueue(c, &config, Kind::PasswordChanged, &ana(), serde_json::json!({"link": "http://hub.test/forgot-password"}), Some("reminder:x:30".into()))
                        })
                        .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        assert!(ids[0].is_some() && ids[1].is_none() && ids[2].is_none());
        assert_eq!(app.emails().await.len(), 1);
    }
}

#[actix_web::test]
#[cfg_attr(
    not(idpc_pg_tests),
    ignore = "TEST_DATABASE_URL was not set: not run on PostgreSQL"
)]
async fn two_workers_on_one_postgres_send_200_messages_exactly_once() {
    let sink = MailSink::start();
    let db = TestDb::create(Backend::Postgres);
    let vars = base_env(&db.url, sink.port);
    let second_state = {
        let config = idpc_hub::config::Config::from_map(&vars).unwrap();
        actix_web::web::block(move || AppState::new(config))
            .await
            .unwrap()
            .unwrap()
    };
    let app = TestApp::from_parts(db, sink.clone(), vars).await;
    let config = app.state.config.clone();
    app.db(move |c| {
        for i in 0..200 {
            let to = Recipient {
                email: format!("m{i}@member.example"),
                name: format!("M{i}"),
                user_id: None,
                lang: Default::default(),
            };
            write_tx(c, |c| {
                enqueue(
                    c,
                    &config,
                    Kind::PasswordChanged,
                    &to,
                    serde_json::json!({"link": "http://hub.test/forgot-password"}),
                    None,
                )
            })
            .unwrap();
        }
    })
    .await;
    let a = Notifier::new(app.state.clone()).unwrap();
    let b = Notifier::new(second_state).unwrap();
    let drain = |n: Notifier| async move {
        let mut sent = 0;
        loop {
            let k = n.run_once(None).await.unwrap();
            if k == 0 {
                return sent;
            }
            sent += k;
        }
    };
    let (sa, sb) = futures_util::future::join(drain(a), drain(b)).await;
    assert_eq!(sa + sb, 200);
    assert!(sa > 0 && sb > 0, "both workers took part: {sa} + {sb}");
    let got = sink.wait_for(200, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 200);
    let ids: HashSet<String> = got.iter().map(|m| m.message_id()).collect();
    assert_eq!(ids.len(), 200, "no Message-ID twice");
    let sent = app
        .db(|c| {
            outbox::table
                .filter(outbox::status.eq("sent"))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(sent, 200);
}

on_both! {
    async fn after_max_attempts_a_message_is_dead_visible_to_admins_and_retry_requeues_it(backend) {
        let port = MailSink::reserve_port();
        let app = TestApp::start_with(backend, &[("SMTP_PORT", &port.to_string()), ("OUTBOX_MAX_ATTEMPTS", "2"), ("OUTBOX_RETRY_BASE_MS", "10"), ("SMTP_TIMEOUT_SECS", "1")]).await;
        let admin = app.admin().await;
        enqueue_reset(&app.state, ana(), true).await;
        let notifier = Notifier::new(app.state.clone()).unwrap();
        for _ in 0..2 {
            // Past the retry delay (10 ms base, jittered).
            app.clock.advance(chrono::Duration::milliseconds(50));
            notifier.run_once(None).await.unwrap();
        }
        let dead = app.get("/api/v1/admin/outbox?status=dead").bearer(&admin.token).send().await.expect(200);
        assert_eq!(dead.body["total"], 1);
        let msg = &dead.body["data"][0];
        assert_eq!(msg["status"], "dead");
        assert_eq!(msg["attempts"], 2);
        assert_eq!(msg["recipient_email"], "ana@member.example");
        assert!(msg["last_error"].as_str().unwrap().len() > 3);
        assert!(msg.get("body_text").is_none());
        let id = msg["id"].as_str().unwrap().to_string();

        // Only dead messages can be retried, and only by admins.
        let member_org = app.member_org("Org A").await;
        let member = app.user("member", Some(&member_org)).await;
        app.post(&format!("/api/v1/admin/outbox/{id}/retry")).bearer(&member.token).send().await.expect_problem(403);
        app.get("/api/v1/admin/outbox").send().await.expect_problem(401);

        let sink = MailSink::start_on(port);
        let r = app.post(&format!("/api/v1/admin/outbox/{id}/retry")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(r.body["status"], "pending");
        assert_eq!(r.body["attempts"], 0);
        app.post(&format!("/api/v1/admin/outbox/{id}/retry")).bearer(&admin.token).send().await.expect_problem(409);
        app.deliver_mail().await;
        let got = sink.all();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].subject(), "Reset your IDPC password");
        let sent = app.get("/api/v1/admin/outbox?status=sent").bearer(&admin.token).send().await.expect(200);
        assert_eq!(sent.body["total"], 1);
    }
}

on_both! {
    async fn the_admin_view_lists_webhook_deliveries_beside_emails_and_retries_a_dead_one(backend) {
        use crate::webhooks::{LOOPBACK, Receiver, deliver, partner, subscribe};
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let rx = Receiver::start().await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        rx.answer(410);
        let (sub, _) = subscribe(&app, &token, &rx.url(), &["organisation.created"]).await;
        deliver(&app).await;
        enqueue_reset(&app.state, ana(), true).await;

        // One list, both kinds, each with its kind, state, attempts, next attempt and last error.
        let all = app.get("/api/v1/admin/outbox?limit=100").bearer(&admin.token).send().await.expect(200);
        let queues: HashSet<&str> = all.body["data"].as_array().unwrap().iter().map(|m| m["queue"].as_str().unwrap()).collect();
        assert_eq!(queues, HashSet::from(["email", "webhook"]), "{}", all.body);
        let dead = app.get("/api/v1/admin/outbox?queue=webhook&status=dead").bearer(&admin.token).send().await.expect(200);
        assert_eq!(dead.body["total"], 1, "{}", dead.body);
        let d = &dead.body["data"][0];
        assert_eq!((d["queue"].as_str(), d["status"].as_str(), d["attempts"].as_i64()), (Some("webhook"), Some("dead"), Some(1)));
        assert_eq!(d["subscription_id"], sub.as_str());
        assert!(d["kind"].as_str().is_some_and(|k| !k.is_empty()) && d["next_attempt_at"].is_string());
        assert!(d["last_error"].as_str().is_some_and(|e| e.contains("410")), "{d}");
        assert!(d["recipient_email"].is_null() && d["subject"].is_null());
        let emails = app.get("/api/v1/admin/outbox?queue=email").bearer(&admin.token).send().await.expect(200);
        assert!(emails.body["data"].as_array().unwrap().iter().all(|m| m["queue"] == "email" && m["recipient_email"].is_string()));

        // Retry: not while the subscription is disabled, then once it is enabled again.
        let id = d["id"].as_str().unwrap().to_string();
        let retry = format!("/api/v1/admin/outbox/{id}/retry");
        let r = app.post(&retry).bearer(&admin.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:subscription-disabled");
        app.patch(&format!("/api/v1/webhooks/{sub}")).bearer(&token).json(&serde_json::json!({"enabled": true})).send().await.expect(200);
        rx.answer(200);
        let r = app.post(&retry).bearer(&admin.token).send().await.expect(200);
        assert_eq!((r.body["status"].as_str(), r.body["attempts"].as_i64()), (Some("pending"), Some(0)));
        app.post(&retry).bearer(&admin.token).send().await.expect_problem(409);
        assert_eq!(deliver(&app).await, 1);
        assert_eq!(rx.hits().len(), 2, "the ping again, with the same webhook-id");
        let sent = app.get("/api/v1/admin/outbox?queue=webhook&status=sent").bearer(&admin.token).send().await.expect(200);
        assert_eq!(sent.body["data"][0]["id"], id.as_str());
        rx.stop().await;
    }
}

on_both! {
    async fn the_admin_view_pages_through_both_kinds_newest_first(backend) {
        use crate::webhooks::{LOOPBACK, partner, subscribe};
        let app = TestApp::start_with(backend, LOOPBACK).await;
        let admin = app.admin().await;
        let token = partner(&app, &admin, &["directory:read", "webhooks:manage"]).await;
        subscribe(&app, &token, "http://127.0.0.1:9/hook", &["organisation.created"]).await;
        for _ in 0..3 {
            enqueue_reset(&app.state, ana(), true).await;
            app.member_org(&format!("Paged {}", uuid::Uuid::now_v7())).await;
        }
        let whole = app.get("/api/v1/admin/outbox?limit=100").bearer(&admin.token).send().await.expect(200);
        let total = whole.body["total"].as_i64().unwrap();
        let ids = |v: &serde_json::Value| v["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
        let mut paged = Vec::new();
        let mut url = "/api/v1/admin/outbox?limit=2".to_string();
        loop {
            let page = app.get(&url).bearer(&admin.token).send().await.expect(200);
            assert_eq!(page.body["total"].as_i64(), Some(total));
            paged.extend(ids(&page.body));
            match page.body["next_cursor"].as_str() {
                Some(c) => url = format!("/api/v1/admin/outbox?limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(paged, ids(&whole.body), "two at a time, the same list in the same order");
        assert!(total >= 7, "three emails, three organisations and the ping: {total}");
        let created: Vec<String> = whole.body["data"].as_array().unwrap().iter().map(|m| m["created_at"].as_str().unwrap().to_string()).collect();
        assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first: {created:?}");
    }
}

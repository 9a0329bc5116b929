//! Membership: the public application, its review, approval (organisation + invitation) or
//! rejection, each step emailed; the secretariat's decisions; and the daily lifecycle job.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::common::{Received, TestApp, TestUser};
use crate::on_both;

fn application(name: &str, email: &str) -> Value {
    json!({
        "organisation": {
            "name": name,
            "country": "BR",
            "region": "latin_america_caribbean",
            "website": "https://example.org",
            "description": "Community-led harm reduction in São Paulo.",
            "focus_areas": ["support_dont_punish"],
        },
        "contact": {"name": "Carla Contact", "email": email},
        "motivation": "We want to join the network's advocacy for drug policy reform.",
    })
}

fn to<'a>(mails: &'a [Received], email: &str) -> Vec<&'a Received> {
    mails.iter().filter(|m| m.recipient() == email).collect()
}

async fn submit(app: &TestApp, name: &str, email: &str) -> String {
    let r = app
        .post("/api/v1/membership-applications")
        .json(&application(name, email))
        .send()
        .await
        .expect(201);
    assert_eq!(r.body["status"], "submitted");
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.header("location").unwrap(),
        format!("/api/v1/membership-applications/{id}")
    );
    id
}

on_both! {
    async fn the_membership_flow_works_end_to_end_over_http(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let applicant = "carla@novo.example";

        let id = submit(&app, "Coletivo Novo", applicant).await;
        let mails = app.emails().await;
        assert_eq!(mails.len(), 2, "{:?}", mails.iter().map(|m| m.subject()).collect::<Vec<_>>());
        // Applicant text stays out of the confirmation and of every subject line (this test
        // pinned both before issue 10); the admin's notice quotes the name in its body.
        assert!(!to(&mails, applicant)[0].text().contains("Coletivo Novo"));
        let notice = to(&mails, &admin.email);
        assert_eq!(notice.len(), 1);
        assert!(!notice[0].subject().contains("Coletivo Novo"));
        assert!(notice[0].text().contains("> Coletivo Novo"));
        assert!(notice[0].link(&format!("http://hub.test/admin/membership-applications/{id}")).is_some());

        let r = app.post(&format!("/api/v1/membership-applications/{id}/review")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(r.body["status"], "under_review");
        let mails = app.emails().await;
        assert_eq!(mails.len(), 1);
        assert!(mails[0].subject().contains("under review"));

        let r = app.post(&format!("/api/v1/membership-applications/{id}/approve")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(r.body["status"], "approved");
        let org = r.body["organisation_id"].as_str().unwrap().to_string();
        // Approving twice is refused.
        app.post(&format!("/api/v1/membership-applications/{id}/approve")).bearer(&admin.token).send().await.expect_problem(409);

        let mails = app.emails().await;
        let mine = to(&mails, applicant);
        assert_eq!(mine.len(), 2, "approval and invitation");
        assert!(mine.iter().any(|m| m.subject().contains("Welcome")));
        let invitation = mine.iter().find(|m| m.subject().contains("invited")).expect("invitation email");
        assert!(invitation.text().contains("Coletivo Novo"));
        let token = invitation.link_param("http://hub.test/accept-invitation", "token").expect("token in link");

        // The new organisation is in the public directory, active for a year.
        let public = app.get(&format!("/api/v1/organisations/{org}")).send().await.expect(200);
        assert_eq!(public.body["name"], "Coletivo Novo");
        assert_eq!(public.body["slug"], "coletivo-novo");
        assert_eq!(public.body["profile"]["focus_areas"], json!(["support_dont_punish"]));

        let pair = app.post("/api/v1/auth/invitations/accept")
            .json(&json!({"token": token, "password": "a long enough password", "display_name": "Carla"}))
            .send().await.expect(200);
        let carla = pair.body["access_token"].as_str().unwrap().to_string();

        let own = app.get(&format!("/api/v1/organisations/{org}")).bearer(&carla).send().await.expect(200);
        assert_eq!(own.body["membership"]["status"], "active");
        assert!(own.body["membership"]["period_end"].is_string());
        assert_eq!(own.body["contact"]["email"], applicant);
        let etag = own.header("etag").unwrap();
        let r = app.patch(&format!("/api/v1/organisations/{org}")).bearer(&carla)
            .header("if-match", &etag)
            .json(&json!({"acronym": "CN", "profile": {"city": "São Paulo", "languages": ["pt"]}}))
            .send().await.expect(200);
        assert_eq!(r.body["profile"]["city"], "São Paulo");
        let found = app.get("/api/v1/organisations?language=pt").send().await.expect(200);
        assert_eq!(found.body["data"][0]["acronym"], "CN");

        let list = app.get("/api/v1/membership-applications?status=approved").bearer(&admin.token).send().await.expect(200);
        assert_eq!(list.body["total"], 1);
        assert_eq!(list.body["data"][0]["organisation_id"], org.as_str());
    }
}

on_both! {
    async fn a_rejection_emails_the_applicant_the_reason_and_ends_the_application(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let id = submit(&app, "Too Far Org", "tf@apply.example").await;
        app.emails().await;
        let path = format!("/api/v1/membership-applications/{id}/reject");
        let r = app.post(&path).bearer(&admin.token).json(&json!({"reason": ""})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "reason");
        let r = app.post(&path).bearer(&admin.token).json(&json!({"reason": "Outside the network's mandate."})).send().await.expect(200);
        assert_eq!(r.body["status"], "rejected");
        assert_eq!(r.body["decision_reason"], "Outside the network's mandate.");
        let mails = app.emails().await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].recipient(), "tf@apply.example");
        assert!(mails[0].text().contains("Outside the network's mandate."));
        let r = app.post(&format!("/api/v1/membership-applications/{id}/approve")).bearer(&admin.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        app.post(&format!("/api/v1/membership-applications/{id}/review")).bearer(&admin.token).send().await.expect_problem(409);
        let orgs = app.get("/api/v1/organisations").bearer(&admin.token).send().await.expect(200);
        assert_eq!(orgs.body["total"], 0, "a rejection creates nothing");
    }
}

on_both! {
    async fn applications_are_validated_rate_limited_and_listed_for_admins_only(backend) {
        let app = TestApp::start_with(backend, &[("APPLICATION_RATE_LIMIT_PER_IP", "3")]).await;
        let admin = app.admin().await;
        let mut bad = application("Bad Org", "bad@apply.example");
        bad["organisation"]["country"] = json!("XX");
        let r = app.post("/api/v1/membership-applications").json(&bad).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "organisation.country");
        let mut bad = application("Bad Org", "bad@apply.example");
        bad["organisation"]["focus_areas"] = json!(["world_peace"]);
        let r = app.post("/api/v1/membership-applications").json(&bad).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "organisation.focus_areas");
        let mut bad = application("Bad Org", "bad@apply.example");
        bad["contact"]["phone"] = json!("123");
        let r = app.post("/api/v1/membership-applications").json(&bad).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "contact.phone");
        // Two well-formed attempts counted (the unknown field never reached the handler); the
        // third is accepted and the fourth within the minute refused.
        submit(&app, "Third", "three@apply.example").await;
        let r = app.post("/api/v1/membership-applications").json(&application("Fourth", "four@apply.example")).send().await.expect_problem(429);
        assert!(r.header("retry-after").is_some());

        let app = TestApp::start(backend).await;
        let admin2 = app.admin().await;
        let a = submit(&app, "First Applicant", "one@apply.example").await;
        submit(&app, "Second Applicant", "two@apply.example").await;
        app.post(&format!("/api/v1/membership-applications/{a}/review")).bearer(&admin2.token).send().await.expect(200);
        let all = app.get("/api/v1/membership-applications?limit=1").bearer(&admin2.token).send().await.expect(200);
        assert_eq!(all.body["total"], 2);
        assert_eq!(all.body["data"][0]["organisation"]["name"], "First Applicant");
        let c = all.body["next_cursor"].as_str().unwrap();
        let next = app.get(&format!("/api/v1/membership-applications?limit=1&cursor={c}")).bearer(&admin2.token).send().await.expect(200);
        assert_eq!(next.body["data"][0]["organisation"]["name"], "Second Applicant");
        let submitted = app.get("/api/v1/membership-applications?status=submitted").bearer(&admin2.token).send().await.expect(200);
        assert_eq!(submitted.body["total"], 1);
        app.get(&format!("/api/v1/membership-applications/{a}")).bearer(&admin2.token).send().await.expect(200);
        let member_org = app.member_org("Some Member").await;
        let member = app.user("member", Some(&member_org)).await;
        app.get("/api/v1/membership-applications").bearer(&member.token).send().await.expect_problem(403);
        app.get("/api/v1/membership-applications").send().await.expect_problem(401);
        app.post(&format!("/api/v1/membership-applications/{a}/approve")).bearer(&member.token).send().await.expect_problem(403);
        drop(admin);
    }
}

async fn set_period_end(app: &TestApp, admin: &TestUser, org: &str, end: &str) {
    let v = app
        .get(&format!("/api/v1/organisations/{org}"))
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .as_i64()
        .unwrap();
    app.patch(&format!("/api/v1/organisations/{org}"))
        .bearer(&admin.token)
        .header("if-match", &format!("\"{v}\""))
        .json(&json!({"membership": {"period_start": "2030-04-01", "period_end": end}}))
        .send()
        .await
        .expect(200);
}

async fn status_of(app: &TestApp, admin: &TestUser, org: &str) -> String {
    app.get(&format!("/api/v1/organisations/{org}"))
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["membership"]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

on_both! {
    async fn the_lifecycle_job_moves_memberships_by_date_and_sends_each_reminder_once(backend) {
        let app = TestApp::start_with(backend, &[("MEMBERSHIP_GRACE_DAYS", "30")]).await;
        let admin = app.admin().await;
        let org = app.member_org("Ending Org").await;
        let open_ended = app.member_org("Open Ended Org").await;
        let m1 = app.user("member", Some(&org)).await;
        let m2 = app.user("member", Some(&org)).await;
        app.user("member", Some(&open_ended)).await;
        set_period_end(&app, &admin, &org, "2031-03-31").await;
        app.emails().await;

        let run = |d: &'static str| {
            let state = app.state.clone();
            async move { idpc_hub::jobs::run_daily(&state, day(d)).await.unwrap() }
        };
        // 40 days before: nothing to do.
        run("2031-02-19").await;
        assert!(app.emails().await.is_empty());
        // 30 days before, twice: one reminder to each active member.
        run("2031-03-01").await;
        run("2031-03-01").await;
        run("2031-03-02").await;
        let mails = app.emails().await;
        assert_eq!(mails.len(), 2, "{:?}", mails.iter().map(|m| (m.recipient(), m.subject())).collect::<Vec<_>>());
        let mut rcpt: Vec<String> = mails.iter().map(|m| m.recipient()).collect();
        rcpt.sort();
        let mut expected = vec![m1.email.clone(), m2.email.clone()];
        expected.sort();
        assert_eq!(rcpt, expected);
        assert!(mails[0].subject().contains("30 days"));
        assert!(mails[0].text().contains("31 March 2031"), "dates written out: {}", mails[0].text());
        // 7 days before, twice: the 7-day reminder once each.
        run("2031-03-24").await;
        run("2031-03-24").await;
        let mails = app.emails().await;
        assert_eq!(mails.len(), 2);
        assert!(mails[0].subject().contains("7 days"));
        run("2031-03-28").await;
        assert!(app.emails().await.is_empty());
        // The end date is still in the period; the day after, grace.
        run("2031-03-31").await;
        assert_eq!(status_of(&app, &admin, &org).await, "active");
        run("2031-04-01").await;
        run("2031-04-01").await;
        assert_eq!(status_of(&app, &admin, &org).await, "grace");
        // Entering grace is told once: to the members (renew by the lapse date) and the admins.
        let mails = app.emails().await;
        let mut rcpt: Vec<String> = mails.iter().map(|m| m.recipient()).collect();
        rcpt.sort();
        let mut expected = vec![m1.email.clone(), m2.email.clone(), admin.email.clone()];
        expected.sort();
        assert_eq!(rcpt, expected);
        assert!(mails[0].text().contains("lapses on 1 May 2031"), "{}", mails[0].text());
        // Grace is still listed publicly.
        app.get(&format!("/api/v1/organisations/{org}")).send().await.expect(200);
        run("2031-04-30").await;
        assert_eq!(status_of(&app, &admin, &org).await, "grace");
        run("2031-05-01").await;
        assert_eq!(status_of(&app, &admin, &org).await, "lapsed");
        let mails = app.emails().await;
        assert_eq!(mails.len(), 3, "the lapse is told to the members and the admin, and no reminder after the end");
        assert!(mails.iter().all(|m| m.subject().contains("has lapsed")));
        // A lapsed member leaves the public directory; open-ended memberships never move.
        app.get(&format!("/api/v1/organisations/{org}")).send().await.expect_problem(404);
        assert_eq!(status_of(&app, &admin, &open_ended).await, "active");

        let history = app.get(&format!("/api/v1/organisations/{org}/history")).bearer(&admin.token).send().await.expect(200);
        let actions: Vec<&str> = history.body["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["organisation.created", "organisation.updated", "membership.grace_started", "membership.lapsed"]);

        // Renewal after lapse starts a new year from today's date... and new reminders.
        let r = app.post(&format!("/api/v1/organisations/{org}/membership")).bearer(&admin.token)
            .json(&json!({"action": "renew"})).send().await.expect(200);
        assert_eq!(r.body["membership"]["status"], "active");
    }
}

on_both! {
    async fn a_lifecycle_job_that_runs_late_sends_no_grace_email_whose_deadline_has_passed(backend) {
        let app = TestApp::start_with(backend, &[("MEMBERSHIP_GRACE_DAYS", "30")]).await;
        let admin = app.admin().await;
        let late = app.member_org("Late Org").await;
        let later = app.member_org("Later Org").await;
        let member = app.user("member", Some(&late)).await;
        app.user("member", Some(&later)).await;
        set_period_end(&app, &admin, &late, "2031-03-31").await;
        set_period_end(&app, &admin, &later, "2031-01-31").await;
        app.emails().await;

        // First run since 20 April: one org is inside its grace, the other's grace is over.
        idpc_hub::jobs::run_daily(&app.state, day("2031-04-20")).await.unwrap();
        assert_eq!(status_of(&app, &admin, &late).await, "grace");
        assert_eq!(status_of(&app, &admin, &later).await, "lapsed");
        let mails = app.emails().await;
        let grace: Vec<_> = mails.iter().filter(|m| m.subject().contains("has ended")).collect();
        assert!(!grace.is_empty());
        for m in &grace {
            assert!(m.text().contains("Late Org"), "only the org still in grace is told to renew: {}", m.subject());
            assert!(m.subject().contains("renew it before 1 May 2031"), "{}", m.subject());
            assert!(m.text().contains("By when: before 1 May 2031."), "{}", m.text());
        }
        assert!(grace.iter().any(|m| m.recipient() == member.email));
        let lapsed: Vec<_> = mails.iter().filter(|m| m.subject().contains("has lapsed")).collect();
        assert!(!lapsed.is_empty() && lapsed.iter().all(|m| m.subject().contains("Later Org")));
        assert_eq!(grace.len() + lapsed.len(), mails.len(), "no other email: {:?}", mails.iter().map(|m| m.subject()).collect::<Vec<_>>());
    }
}

on_both! {
    async fn membership_decisions_follow_the_rules_and_are_for_admins(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Decided Org").await;
        set_period_end(&app, &admin, &org, "2040-03-31").await;
        let path = format!("/api/v1/organisations/{org}/membership");
        let member = app.user("member", Some(&org)).await;
        app.post(&path).bearer(&member.token).json(&json!({"action": "renew"})).send().await.expect_problem(403);

        let r = app.post(&path).bearer(&admin.token).json(&json!({"action": "suspend"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "reason");
        let r = app.post(&path).bearer(&admin.token).json(&json!({"action": "pause", "reason": "x"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "action");
        let r = app.post(&path).bearer(&admin.token).json(&json!({"action": "suspend", "reason": "Unpaid dues"})).send().await.expect(200);
        assert_eq!(r.body["membership"]["status"], "suspended");
        app.get(&format!("/api/v1/organisations/{org}")).send().await.expect_problem(404);
        let r = app.post(&path).bearer(&admin.token).json(&json!({"action": "renew"})).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        app.post(&path).bearer(&admin.token).json(&json!({"action": "reinstate"})).send().await.expect(200);
        let r = app.post(&path).bearer(&admin.token).json(&json!({"action": "renew"})).send().await.expect(200);
        assert_eq!(r.body["membership"]["period_end"], "2041-03-31");
        let r = app.post(&path).bearer(&admin.token).json(&json!({"action": "withdraw", "reason": "Organisation closed"})).send().await.expect(200);
        assert_eq!(r.body["membership"]["status"], "withdrawn");
        app.post(&path).bearer(&admin.token).json(&json!({"action": "reinstate"})).send().await.expect_problem(409);

        let partner = app.donor_org("Donor Org").await;
        let r = app.post(&format!("/api/v1/organisations/{partner}/membership")).bearer(&admin.token).json(&json!({"action": "renew"})).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:not-a-member");
        let history = app.get(&format!("/api/v1/organisations/{org}/history")).bearer(&admin.token).send().await.expect(200);
        let suspended = history.body["data"].as_array().unwrap().iter().find(|e| e["action"] == "membership.suspended").unwrap();
        assert!(suspended["changes"].as_array().unwrap().iter().any(|c| c["field"] == "membership.status" && c["after"] == "suspended"));
    }
}

async fn count_applications(app: &TestApp) -> i64 {
    app.db(|c| {
        use diesel::prelude::*;
        use idpc_hub::db::schema::membership_applications;
        membership_applications::table
            .count()
            .get_result::<i64>(c)
            .unwrap()
    })
    .await
}

on_both! {
    async fn applicant_text_never_reaches_a_subject_and_is_quoted_unlinked_in_the_admin_notice(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let victim = "victim@bank.example";
        let phish = "Your account is locked, verify at https://evil.example/login";
        let mut body = application(phish, victim);
        body["motivation"] = json!("Visit www.evil.example to claim your refund today.");
        app.post("/api/v1/membership-applications").json(&body).send().await.expect(201);
        let mails = app.emails().await;
        assert_eq!(mails.len(), 2);
        for m in &mails {
            assert!(!m.subject().contains("evil"), "applicant text in a subject: {}", m.subject());
            assert!(!m.subject().contains("locked"), "applicant text in a subject: {}", m.subject());
        }
        // The confirmation to the (possibly impersonated) contact carries none of it.
        let confirmation = to(&mails, victim);
        assert_eq!(confirmation.len(), 1);
        for part in [confirmation[0].text(), confirmation[0].html()] {
            assert!(!part.contains("evil"), "{part}");
            assert!(!part.contains("locked"), "{part}");
            assert!(!part.contains("refund"), "{part}");
        }
        assert!(confirmation[0].text().contains("Dear Carla Contact"));
        // The admin's notice quotes it as the applicant's words, with the link broken.
        let notice = to(&mails, &admin.email);
        let text = notice[0].text();
        assert!(text.contains("The applicant wrote"), "{text}");
        assert!(text.contains("> Your account is locked, verify at hxxps[:]//evil[.]example/login"), "{text}");
        assert!(!text.contains("https://evil"), "{text}");
        let html = notice[0].html();
        // minijinja escapes `/` in HTML as `&#x2f;`.
        assert!(html.contains("<blockquote><code>Your account is locked, verify at hxxps[:]"), "{html}");
        assert!(html.contains("evil[.]example"), "{html}");
        assert!(!html.contains("https:"), "{html}");
        assert!(notice[0].link("http://hub.test/admin/membership-applications/").is_some());
    }
}

on_both! {
    async fn a_second_open_application_of_the_same_email_or_name_is_a_conflict(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let first = submit(&app, "Coletivo Duplo", "duplo@apply.example").await;
        app.emails().await;
        // Same contact email (any case), another name.
        let r = app.post("/api/v1/membership-applications")
            .json(&application("Another Name", "DUPLO@apply.example")).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:duplicate-application", "{}", r.body);
        // Same name, another case and email.
        let r = app.post("/api/v1/membership-applications")
            .json(&application("coletivo DUPLO", "other@apply.example")).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:duplicate-application");
        assert_eq!(count_applications(&app).await, 1);
        assert!(app.emails().await.is_empty(), "a refused application sends nothing");
        // Still open while under review; once decided, the same organisation may apply again.
        app.post(&format!("/api/v1/membership-applications/{first}/review")).bearer(&admin.token).send().await.expect(200);
        app.post("/api/v1/membership-applications")
            .json(&application("Coletivo Duplo", "duplo@apply.example")).send().await.expect_problem(409);
        app.post(&format!("/api/v1/membership-applications/{first}/reject")).bearer(&admin.token)
            .json(&json!({"reason": "Incomplete."})).send().await.expect(200);
        submit(&app, "Coletivo Duplo", "duplo@apply.example").await;
        assert_eq!(count_applications(&app).await, 2);
    }
}

on_both! {
    async fn applications_per_contact_email_are_limited_per_day(backend) {
        let app = TestApp::start_with(backend, &[("APPLICATION_LIMIT_PER_EMAIL_PER_DAY", "2")]).await;
        let admin = app.admin().await;
        let email = "busy@apply.example";
        for name in ["Busy One", "Busy Two"] {
            let id = submit(&app, name, email).await;
            app.post(&format!("/api/v1/membership-applications/{id}/reject")).bearer(&admin.token)
                .json(&json!({"reason": "No."})).send().await.expect(200);
        }
        app.emails().await;
        let r = app.post("/api/v1/membership-applications")
            .json(&application("Busy Three", email)).send().await.expect_problem(429);
        assert!(r.header("retry-after").is_some());
        assert_eq!(count_applications(&app).await, 2);
        assert!(app.emails().await.is_empty());
        // Another recipient is not affected.
        submit(&app, "Calm One", "calm@apply.example").await;
    }
}

on_both! {
    async fn control_characters_in_application_text_are_refused_naming_the_field(backend) {
        let app = TestApp::start(backend).await;
        for (path, value, field) in [
            (&["organisation", "name"][..], "Evil\u{1b}[31m Org", "organisation.name"),
            (&["organisation", "name"][..], "Two\nLines", "organisation.name"),
            (&["contact", "name"][..], "Tab\tName", "contact.name"),
            (&["motivation"][..], "Ten chars and a bell \u{7}", "motivation"),
            (&["organisation", "description"][..], "NUL \u{0} here", "organisation.description"),
        ] {
            let mut body = application("Clean Org", "clean@apply.example");
            match path {
                [a, b] => body[*a][*b] = json!(value),
                [a] => body[*a] = json!(value),
                _ => unreachable!(),
            }
            let r = app.post("/api/v1/membership-applications").json(&body).send().await.expect_problem(400);
            assert_eq!(r.first_error_field(), field, "{}", r.body);
        }
        // Line breaks and tabs stay allowed in multi-line text.
        let mut body = application("Clean Org", "clean@apply.example");
        body["motivation"] = json!("First line.\n\tSecond line, indented.");
        app.post("/api/v1/membership-applications").json(&body).send().await.expect(201);
        // A link in the contact's name (it greets the recipient in every email) is refused.
        let mut body = application("Linked Org", "linked@apply.example");
        body["contact"]["name"] = json!("Claim at evil.example/www.x");
        let r = app.post("/api/v1/membership-applications").json(&body).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "contact.name");
        assert_eq!(count_applications(&app).await, 1);
    }
}

on_both! {
    async fn members_of_an_applicant_organisation_are_refused_writes_naming_why_never_with_a_500(backend) {
        let app = TestApp::start(backend).await;
        let w = crate::grants::world(&app).await;
        let g = crate::grants::active(&app, &w, "1000.00").await;
        let report = app.post(&format!("/api/v1/grants/{g}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": "2026-12-31", "title": "Mid-term"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        let grantee = w.grantee.clone();
        app.db(move |c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::organisations as o;
            diesel::update(o::table.find(grantee)).set(o::membership_status.eq("applicant")).execute(c).unwrap();
        }).await;
        let why = "membership application is not approved yet";
        // Reading goes on.
        app.get(&format!("/api/v1/grants/{g}")).bearer(&w.member.token).send().await.expect(200);
        let own = app.get(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.member.token).send().await.expect(200);
        assert_eq!(own.body["membership"]["status"], "applicant");
        let version = own.body["version"].as_i64().unwrap();
        let r = app.patch(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.member.token)
            .header("if-match", &format!("\"{version}\"")).json(&json!({"profile": {"city": "Quito"}})).send().await.expect_problem(403);
        assert!(r.body["detail"].as_str().unwrap().contains(why), "{}", r.text);
        let r = app.post(&format!("/api/v1/grants/{g}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "10.00", "planned_date": "2026-05-01"})).send().await.expect_problem(403);
        assert!(r.body["detail"].as_str().unwrap().contains(why), "{}", r.text);
        let r = app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token)
            .json(&json!({"summary": "Done", "document_url": "https://example.org/r.pdf"})).send().await.expect_problem(403);
        assert!(r.body["detail"].as_str().unwrap().contains(why), "{}", r.text);
        // Nothing was written.
        let own = app.get(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.member.token).send().await.expect(200);
        assert_ne!(own.body["profile"]["city"], "Quito");
        let r = app.get(&format!("/api/v1/reports/{report}")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["status"], "due");
    }
}

on_both! {
    async fn an_application_named_like_an_organisations_id_never_gets_that_id_as_its_slug(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let existing = app.member_org("Harm Reduction Kenya").await;
        let id = submit(&app, &existing, "copycat@apply.example").await;
        let r = app.post(&format!("/api/v1/membership-applications/{id}/approve")).bearer(&admin.token).send().await.expect(200);
        let new_org = r.body["organisation_id"].as_str().unwrap().to_string();
        let created = app.get(&format!("/api/v1/organisations/{new_org}")).bearer(&admin.token).send().await.expect(200);
        let slug = created.body["slug"].as_str().unwrap().to_string();
        assert_ne!(slug, existing);
        assert!(uuid::Uuid::try_parse(&slug).is_err(), "a slug never has an id's form: {slug}");
        assert_eq!(created.body["name"], existing.as_str());
        // The id still names the organisation it belongs to, and the slug the new one.
        let original = app.get(&format!("/api/v1/organisations/{existing}")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(original.body["name"], "Harm Reduction Kenya");
        let by_slug = app.get(&format!("/api/v1/organisations/{slug}")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(by_slug.body["id"], new_org.as_str());
    }
}

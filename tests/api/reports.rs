//! Grant reports: who submits and decides, and reminders that go out once each however often
//! the job runs.

use chrono::{Days, NaiveDate};
use serde_json::json;

use crate::common::TestApp;
use crate::grants::{active, world};
use crate::on_both;

on_both! {
    async fn reminders_go_out_fourteen_and_three_days_before_and_when_overdue_once_each(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let colleague = app.user("member", Some(&w.grantee)).await;
        let grant = active(&app, &w, "1000.00").await;
        let due = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        let report = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": due.to_string(), "title": "Annual report"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.emails().await;
        let day = |n: i64| if n >= 0 { due.checked_sub_days(Days::new(n as u64)).unwrap() } else { due.checked_add_days(Days::new((-n) as u64)).unwrap() };
        // Too early: nothing.
        idpc_hub::grants::jobs::run(&app.state, day(20)).await.unwrap();
        assert!(app.emails().await.is_empty());
        for (days_before, subject) in [
            (14, "[IDPC] Report \"Annual report\" due in 14 days"),
            (3, "[IDPC] Report \"Annual report\" due in 3 days"),
            (-1, "[IDPC] Report \"Annual report\" is overdue"),
        ] {
            idpc_hub::grants::jobs::run(&app.state, day(days_before)).await.unwrap();
            idpc_hub::grants::jobs::run(&app.state, day(days_before)).await.unwrap();
            let (officer, mail): (Vec<_>, Vec<_>) = app.emails().await.into_iter().partition(|m| m.recipient() == w.officer.email);
            // Once overdue, the officer who asked for it is told too (and before, nobody).
            assert_eq!(officer.len(), usize::from(days_before < 0), "{subject}");
            let mut to: Vec<String> = mail.iter().map(|m| m.recipient()).collect();
            to.sort();
            let mut expected = vec![w.member.email.clone(), colleague.email.clone()];
            expected.sort();
            assert_eq!(to, expected, "{subject}");
            assert!(mail.iter().all(|m| m.subject() == subject), "{subject}: {:?}", mail.iter().map(|m| m.subject()).collect::<Vec<_>>());
            assert!(mail[0].text().contains("30 September 2026"), "{}", mail[0].text());
            // The next days inside the same window send nothing new.
            idpc_hub::grants::jobs::run(&app.state, day(days_before - 1)).await.unwrap();
            assert!(app.emails().await.is_empty(), "{subject} again");
        }
        // Once accepted, no more reminders.
        let submit = json!({"summary": "Done", "document_url": "https://example.org/annual.pdf"});
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect(200);
        app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.officer.token).send().await.expect(200);
        app.emails().await;
        let later = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        idpc_hub::grants::jobs::run(&app.state, later).await.unwrap();
        assert!(app.emails().await.is_empty());
    }
}

on_both! {
    async fn reports_are_submitted_by_the_grantee_and_decided_by_grant_officers(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let outsider_org = app.member_org("Elsewhere").await;
        let outsider = app.user("member", Some(&outsider_org)).await;
        let new = json!({"kind": "narrative", "due_on": "2026-12-31", "title": "Final accounts"});
        app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.member.token).json(&new).send().await.expect_problem(403);
        app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.finance.token).json(&new).send().await.expect_problem(403);
        let r = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token).json(&json!({"kind": "poem", "due_on": "2026-12-31", "title": "x"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "kind");
        let report = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token).json(&new).send().await.expect(201);
        assert_eq!(report.body["status"], "due");
        let report = report.body["id"].as_str().unwrap().to_string();
        let submit = json!({"summary": "All spent as planned", "document_url": "https://example.org/accounts.pdf"});
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&outsider.token).json(&submit).send().await.expect_problem(404);
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.officer.token).json(&submit).send().await.expect_problem(403);
        let r = app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&json!({"summary": "x", "document_url": "ftp://nope"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "document_url");
        let r = app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.officer.token).send().await.expect_problem(409);
        assert_eq!(r.body["type"], "urn:idpc-hub:problem:invalid-transition");
        let r = app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&w.member.token).json(&submit).send().await.expect(200);
        assert_eq!(r.body["status"], "submitted");
        assert_eq!(r.body["submitted_by"], w.member.id.as_str());
        app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.member.token).send().await.expect_problem(403);
        let r = app.post(&format!("/api/v1/reports/{report}/return")).bearer(&w.officer.token).json(&json!({"reason": ""})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "reason");
        app.emails().await;
        let r = app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body["status"], "accepted");
        let mail = app.emails().await;
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].recipient(), w.member.email);
        assert_eq!(mail[0].subject(), "[IDPC] Report \"Final accounts\" accepted");
    }
}

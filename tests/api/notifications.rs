//! The notification matrix, walked: every event is triggered over the API (or by its daily
//! job), and the SMTP sink shows that exactly its recipients got its message, once each, and
//! that the author of the change got nothing. Also: amounts, dates and names as people read
//! them, links built from APP_BASE_URL, renewal requests and staff reading staff names.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use idpc_hub::notify::matrix::MATRIX;
use serde_json::{Value, json};

use crate::common::{Received, TestApp, TestUser};
use crate::grants::{World, active, create_fund, grant_body, world};
use crate::on_both;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn kind_of(m: &Received) -> String {
    m.header("X-IDPC-Kind").unwrap_or_default()
}

fn application(name: &str, email: &str) -> Value {
    json!({
        "organisation": {
            "name": name, "country": "BR", "region": "latin_america_caribbean",
            "focus_areas": ["support_dont_punish"],
        },
        "contact": {"name": "Carla Contact", "email": email},
        "motivation": "We want to join the network's advocacy for drug policy reform.",
    })
}

fn emails(users: &[&TestUser]) -> Vec<String> {
    users.iter().map(|u| u.email.clone()).collect()
}

/// The lines of the matrix walked so far, as `Event/kind` (`Event/` for a silent line).
#[derive(Default)]
struct Walk {
    walked: BTreeSet<String>,
}

impl Walk {
    /// Delivers what the last step queued and checks it kind by kind: each kind went to
    /// exactly `to` (once each), nothing else was sent, and `author` got nothing.
    async fn step(
        &mut self,
        app: &TestApp,
        author: Option<&TestUser>,
        expect: &[(&str, &str, Vec<String>)],
    ) -> Vec<Received> {
        let mails = app.emails().await;
        let seen: Vec<(String, String)> =
            mails.iter().map(|m| (kind_of(m), m.recipient())).collect();
        for (event, kind, to) in expect {
            let mut got: Vec<String> = mails
                .iter()
                .filter(|m| kind_of(m) == *kind)
                .map(|m| m.recipient())
                .collect();
            got.sort();
            let mut want = to.clone();
            want.sort();
            assert_eq!(
                got, want,
                "{event} sends {kind} to exactly its people, once each; sent: {seen:?}"
            );
            self.walked.insert(format!("{event}/{kind}"));
        }
        let kinds: Vec<&str> = expect.iter().map(|(_, k, _)| *k).collect();
        let stray: Vec<&(String, String)> = seen
            .iter()
            .filter(|(k, _)| !kinds.contains(&k.as_str()))
            .collect();
        assert!(stray.is_empty(), "sent beyond the matrix: {stray:?}");
        if let Some(a) = author {
            assert!(
                mails.iter().all(|m| m.recipient() != a.email),
                "the author is never told: {seen:?}"
            );
        }
        mails
    }

    /// A silent line: the step sent nothing at all.
    async fn silent(&mut self, app: &TestApp, event: &str) {
        let mails = app.emails().await;
        let seen: Vec<(String, String)> =
            mails.iter().map(|m| (kind_of(m), m.recipient())).collect();
        assert!(mails.is_empty(), "{event} tells nobody: {seen:?}");
        self.walked.insert(format!("{event}/"));
    }
}

async fn etag(app: &TestApp, path: &str, token: &str) -> String {
    app.get(path)
        .bearer(token)
        .send()
        .await
        .expect(200)
        .header("etag")
        .unwrap()
}

fn id(r: &crate::common::http::Resp) -> String {
    r.body["id"].as_str().unwrap().to_string()
}

/// The people of the walk beyond the grant world.
struct More {
    admin2: TestUser,
    officer3: TestUser,
    finance2: TestUser,
    colleague: TestUser,
    outsider_org: String,
    outsider: TestUser,
}

async fn people(app: &TestApp, w: &World) -> More {
    let outsider_org = app.member_org("Outside Collective").await;
    let outsider = app.user("member", Some(&outsider_org)).await;
    More {
        admin2: app.admin().await,
        officer3: app.user("grant_officer", None).await,
        finance2: app.user("finance_officer", None).await,
        colleague: app.user("member", Some(&w.grantee)).await,
        outsider_org,
        outsider,
    }
}

on_both! {
    async fn every_line_of_the_matrix_tells_exactly_its_people_once_and_never_the_author(backend) {
        let app = TestApp::start_with(backend, &[("MEMBERSHIP_GRACE_DAYS", "30")]).await;
        let w = world(&app).await;
        let p = people(&app, &w).await;
        let mut walk = Walk::default();
        app.emails().await;
        let (admin, admin2) = (&w.admin, &p.admin2);
        let (o1, o2, o3) = (&w.officer, &w.officer2, &p.officer3);
        let (f1, f2) = (&w.finance, &p.finance2);
        let (m1, m2) = (&w.member, &p.colleague);
        let grantee = emails(&[m1, m2]);
        let officers = emails(&[o1, o2, o3]);

        // Applications: the applicant (who has no account) and the admins.
        let a = app.post("/api/v1/membership-applications").json(&application("Coletivo Novo", "carla@apply.example")).send().await.expect(201);
        let application_id = id(&a);
        walk.step(&app, None, &[
            ("ApplicationSubmitted", "application_received", vec!["carla@apply.example".into()]),
            ("ApplicationSubmitted", "application_notice", emails(&[admin, admin2])),
        ]).await;
        app.post(&format!("/api/v1/membership-applications/{application_id}/review")).bearer(&admin.token).send().await.expect(200);
        walk.step(&app, Some(admin), &[("ApplicationUnderReview", "application_under_review", vec!["carla@apply.example".into()])]).await;
        app.post(&format!("/api/v1/membership-applications/{application_id}/approve")).bearer(&admin.token).send().await.expect(200);
        // Approval creates the organisation and admits it (silent lines) and invites the contact.
        walk.step(&app, Some(admin), &[
            ("ApplicationApproved", "application_approved", vec!["carla@apply.example".into()]),
            ("UserInvited", "invitation", vec!["carla@apply.example".into()]),
        ]).await;
        walk.walked.extend(["OrganisationCreated/".to_string(), "MembershipAdmitted/".to_string()]);
        let b = app.post("/api/v1/membership-applications").json(&application("Otro Colectivo", "otro@apply.example")).send().await.expect(201);
        app.emails().await;
        app.post(&format!("/api/v1/membership-applications/{}/reject", id(&b))).bearer(&admin2.token).json(&json!({"reason": "Outside the mandate."})).send().await.expect(200);
        walk.step(&app, Some(admin2), &[("ApplicationRejected", "application_rejected", vec!["otro@apply.example".into()])]).await;

        // Accounts: the owner hears of security events even when they act themselves.
        let owner = app.user("member", Some(&p.outsider_org)).await;
        app.post("/api/v1/users").bearer(&admin.token).json(&json!({"email": "new@staff.example", "display_name": "New Officer", "role": "grant_officer"})).send().await.expect(201);
        walk.step(&app, Some(admin), &[("UserInvited", "invitation", vec!["new@staff.example".into()])]).await;
        app.post("/api/v1/auth/password-reset").json(&json!({"email": owner.email})).send().await.expect(202);
        let mails = walk.step(&app, None, &[("PasswordResetRequested", "password_reset", emails(&[&owner]))]).await;
        let token = mails[0].link_param("http://hub.test/reset-password", "token").unwrap();
        app.post("/api/v1/auth/password-reset/confirm").json(&json!({"token": token, "password": "a brand new password"})).send().await.expect(204);
        walk.step(&app, None, &[("PasswordChanged", "password_changed", emails(&[&owner]))]).await;
        for _ in 0..5 {
            app.post("/api/v1/auth/login").json(&json!({"email": owner.email, "password": "wrong password!!"})).send().await.expect_problem(401);
        }
        walk.step(&app, None, &[("AccountLocked", "account_locked", emails(&[&owner]))]).await;

        // Funds and drafts ask nothing of anyone.
        let fund = create_fund(&app, o1, &w.donor, "USD", "50000.00").await;
        walk.silent(&app, "FundCreated").await;
        let tag = etag(&app, &format!("/api/v1/funds/{fund}"), &o1.token).await;
        app.patch(&format!("/api/v1/funds/{fund}")).bearer(&o1.token).header("if-match", &tag).json(&json!({"title": "Core support 2027"})).send().await.expect(200);
        walk.silent(&app, "FundUpdated").await;
        // A fund above the raise threshold waits: finance and admins may confirm it.
        let big = create_fund(&app, o1, &w.donor, "USD", "500000.00").await;
        walk.step(&app, Some(o1), &[("FundIncreaseAwaitsConfirmation", "fund_increase_pending", emails(&[f1, f2, admin, admin2]))]).await;
        app.post(&format!("/api/v1/funds/{big}/amount-increase/approve")).bearer(&f2.token).json(&json!({"amount": "500000.00"})).send().await.expect(200);
        walk.silent(&app, "FundUpdated").await;

        // Reference rates: a move within the band applies and tells officers and finance; a
        // larger one waits for the other finance officers and admins.
        let rate_day = crate::grants::rate_date();
        let put = |who: &TestUser, rate: &str| {
            app.req(actix_web::http::Method::PUT, "/api/v1/fx-rates/GBP").bearer(&who.token)
                .json(&json!({"rate": rate, "as_of": rate_day})).send()
        };
        put(f1, "1.30").await.expect(200);
        walk.step(&app, Some(f1), &[("FxRateChanged", "fx_rate_changed", emails(&[o1, o2, o3, f2]))]).await;
        put(f1, "2.00").await.expect(202);
        walk.step(&app, Some(f1), &[("FxRateAwaitsConfirmation", "fx_rate_pending", emails(&[f2, admin, admin2]))]).await;
        app.post("/api/v1/fx-rates/GBP/confirm").bearer(&admin.token).json(&json!({"rate": "2.00", "as_of": rate_day})).send().await.expect(200);
        walk.step(&app, Some(admin), &[("FxRateChanged", "fx_rate_changed", emails(&[o1, o2, o3, f1, f2]))]).await;
        let g = app.post("/api/v1/grants").bearer(&o1.token).json(&grant_body(&w.fund, &w.grantee, "USD", "90000.00")).send().await.expect(201);
        let grant = id(&g);
        walk.silent(&app, "GrantCreated").await;
        let tag = etag(&app, &format!("/api/v1/grants/{grant}"), &o1.token).await;
        app.patch(&format!("/api/v1/grants/{grant}")).bearer(&o1.token).header("if-match", &tag).json(&json!({"title": "Community paralegals, phase one"})).send().await.expect(200);
        walk.silent(&app, "GrantUpdated").await;

        // A grant's life.
        app.post(&format!("/api/v1/grants/{grant}/submit")).bearer(&o1.token).send().await.expect(200);
        walk.step(&app, Some(o1), &[("GrantSubmitted", "grant_submitted", emails(&[o2, o3]))]).await;
        app.post(&format!("/api/v1/grants/{grant}/approve")).bearer(&o2.token).send().await.expect(200);
        walk.step(&app, Some(o2), &[("GrantApproved", "grant_approved", emails(&[o1, m1, m2]))]).await;
        app.post(&format!("/api/v1/grants/{grant}/activate")).bearer(&o3.token).send().await.expect(200);
        walk.step(&app, Some(o3), &[("GrantActivated", "grant_activated", emails(&[o1, m1, m2]))]).await;

        // Reports: asked, submitted, returned, submitted again, accepted.
        let r = app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&o2.token)
            .json(&json!({"kind": "narrative", "due_on": "2027-03-31", "title": "Inception report"})).send().await.expect(201);
        let report = id(&r);
        walk.step(&app, Some(o2), &[("ReportRequested", "report_requested", grantee.clone())]).await;
        let submit = json!({"summary": "We trained 40 paralegals.", "document_url": "https://example.org/report.pdf"});
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&m1.token).json(&submit).send().await.expect(200);
        walk.step(&app, Some(m1), &[("ReportSubmitted", "report_submitted", officers.clone())]).await;
        app.post(&format!("/api/v1/reports/{report}/return")).bearer(&o2.token).json(&json!({"reason": "Add the budget annex"})).send().await.expect(200);
        walk.step(&app, Some(o2), &[("ReportReturned", "report_returned", grantee.clone())]).await;
        app.post(&format!("/api/v1/reports/{report}/submit")).bearer(&m2.token).json(&submit).send().await.expect(200);
        walk.step(&app, Some(m2), &[("ReportSubmitted", "report_submitted", officers.clone())]).await;
        app.post(&format!("/api/v1/reports/{report}/accept")).bearer(&o3.token).send().await.expect(200);
        walk.step(&app, Some(o3), &[("ReportAccepted", "report_accepted", grantee.clone())]).await;

        // Reminders from the daily job: due soon to the grantee; overdue to the officer too.
        app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&o1.token)
            .json(&json!({"kind": "financial", "due_on": "2027-01-15", "title": "Interim accounts"})).send().await.expect(201);
        walk.step(&app, Some(o1), &[("ReportRequested", "report_requested", grantee.clone())]).await;
        idpc_hub::grants::jobs::run(&app.state, day("2027-01-05")).await.unwrap();
        walk.step(&app, None, &[("ReportDueSoon", "report_due", grantee.clone())]).await;
        idpc_hub::grants::jobs::run(&app.state, day("2027-01-20")).await.unwrap();
        walk.step(&app, None, &[
            ("ReportOverdue", "report_overdue", grantee.clone()),
            ("ReportOverdue", "report_overdue_officer", emails(&[o1])),
        ]).await;

        // Tranches: rejected, cancelled, and one of two approvals paid and reversed.
        let tranche = |amount: &'static str| {
            let (app, grant, m1) = (&app, grant.clone(), m1.clone());
            async move {
                id(&app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&m1.token)
                    .json(&json!({"amount": amount, "planned_date": "2026-07-01", "note": "Tranche"}))
                    .send().await.expect(201))
            }
        };
        let small = tranche("1000.00").await;
        let mails = walk.step(&app, Some(m1), &[("TrancheRequested", "disbursement_requested", officers.clone())]).await;
        assert!(mails[0].text().contains("It needs one approval."), "{}", mails[0].text());
        app.post(&format!("/api/v1/disbursements/{small}/reject")).bearer(&o2.token).json(&json!({"reason": "Wrong account"})).send().await.expect(200);
        walk.step(&app, Some(o2), &[("TrancheRejected", "disbursement_rejected", emails(&[m1]))]).await;
        let small = tranche("500.00").await;
        app.emails().await;
        app.post(&format!("/api/v1/disbursements/{small}/cancel")).bearer(&o2.token).json(&json!({"reason": "Asked twice"})).send().await.expect(200);
        walk.step(&app, Some(o2), &[("TrancheCancelled", "disbursement_cancelled", emails(&[m1]))]).await;
        // An approved tranche that is cancelled: finance, told to pay it, learns why it must not.
        let withdrawn = tranche("800.00").await;
        app.post(&format!("/api/v1/disbursements/{withdrawn}/approve")).bearer(&o2.token).send().await.expect(200);
        app.emails().await;
        app.post(&format!("/api/v1/disbursements/{withdrawn}/cancel")).bearer(&o1.token).json(&json!({"reason": "The partner withdrew"})).send().await.expect(200);
        let mails = walk.step(&app, Some(o1), &[
            ("ApprovedTrancheCancelled", "disbursement_withdrawn", emails(&[f1, f2])),
            ("TrancheCancelled", "disbursement_cancelled", emails(&[m1])),
        ]).await;
        assert!(mails.iter().any(|m| m.text().contains("Reason: The partner withdrew")));
        let big = tranche("60000.00").await;
        let mails = walk.step(&app, Some(m1), &[("TrancheRequested", "disbursement_requested", officers.clone())]).await;
        assert!(mails[0].text().contains("It needs two approvals by two different officers"), "{}", mails[0].text());
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&o1.token).send().await.expect(200);
        walk.step(&app, Some(o1), &[("TrancheAwaitsSecondApproval", "disbursement_second_approval", emails(&[o2, o3]))]).await;
        app.post(&format!("/api/v1/disbursements/{big}/approve")).bearer(&o2.token).send().await.expect(200);
        walk.step(&app, Some(o2), &[("TrancheApproved", "disbursement_approved", emails(&[f1, f2, m1, m2]))]).await;
        app.post(&format!("/api/v1/disbursements/{big}/pay")).bearer(&f1.token)
            .json(&json!({"payment_reference": "BACS-2026-0193", "paid_on": "2026-07-02", "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        walk.step(&app, Some(f1), &[("TranchePaid", "disbursement_paid", grantee.clone())]).await;
        app.post(&format!("/api/v1/disbursements/{big}/reverse")).bearer(&f1.token).json(&json!({"reason": "Bank returned it"})).send().await.expect(200);
        walk.step(&app, Some(f1), &[("TrancheReversed", "disbursement_reversed", emails(&[m1, m2, f2, o1, o2, o3]))]).await;
        app.post(&format!("/api/v1/grants/{grant}/close")).bearer(&o2.token).send().await.expect(200);
        walk.step(&app, Some(o2), &[("GrantClosed", "grant_closed", emails(&[m1, m2, o1, f1, f2]))]).await;

        // A rejected grant tells its author; a cancelled one everyone, and its waiting tranche's requester.
        let rejected = id(&app.post("/api/v1/grants").bearer(&o1.token).json(&grant_body(&w.fund, &w.grantee, "USD", "1000.00")).send().await.expect(201));
        app.post(&format!("/api/v1/grants/{rejected}/submit")).bearer(&o1.token).send().await.expect(200);
        app.emails().await;
        app.post(&format!("/api/v1/grants/{rejected}/reject")).bearer(&o2.token).json(&json!({"reason": "Out of scope"})).send().await.expect(200);
        walk.step(&app, Some(o2), &[("GrantRejected", "grant_rejected", emails(&[o1]))]).await;
        let cancelled = active(&app, &w, "2000.00").await;
        let waiting = id(&app.post(&format!("/api/v1/grants/{cancelled}/disbursements")).bearer(&m1.token)
            .json(&json!({"amount": "700.00", "planned_date": "2026-07-01", "note": "Tranche"})).send().await.expect(201));
        app.emails().await;
        app.post(&format!("/api/v1/grants/{cancelled}/cancel")).bearer(&o3.token).json(&json!({"reason": "The project stopped"})).send().await.expect(200);
        let mails = walk.step(&app, Some(o3), &[
            ("GrantCancelled", "grant_cancelled", emails(&[m1, m2, o1, f1, f2])),
            ("TrancheCancelled", "disbursement_cancelled", emails(&[m1])),
        ]).await;
        assert!(mails.iter().any(|m| m.text().contains(&format!("/disbursements/{waiting}"))));

        // Membership decisions: the members, and the other admins.
        let org = format!("/api/v1/organisations/{}", w.grantee);
        let tag = etag(&app, &org, &admin.token).await;
        app.patch(&org).bearer(&admin.token).header("if-match", &tag).json(&json!({"acronym": "HRK"})).send().await.expect(200);
        walk.silent(&app, "OrganisationUpdated").await;
        // A member hides its organisation: the secretariat is told.
        let tag = etag(&app, &org, &m1.token).await;
        app.patch(&org).bearer(&m1.token).header("if-match", &tag).json(&json!({"hidden_from_public": true})).send().await.expect(200);
        walk.step(&app, Some(m1), &[("OrganisationHidden", "organisation_hidden", emails(&[admin, admin2]))]).await;
        let tag = etag(&app, &org, &admin.token).await;
        app.patch(&org).bearer(&admin.token).header("if-match", &tag).json(&json!({"hidden_from_public": false})).send().await.expect(200);
        app.emails().await;
        let decide = |who: &TestUser, action: &str| {
            let body = json!({"action": action, "reason": "Dues unpaid"});
            let (app, org, token) = (&app, org.clone(), who.token.clone());
            async move { app.post(&format!("{org}/membership")).bearer(&token).json(&body).send().await.expect(200) }
        };
        decide(admin, "suspend").await;
        walk.step(&app, Some(admin), &[("MembershipSuspended", "membership_suspended", emails(&[m1, m2, admin2]))]).await;
        decide(admin2, "reinstate").await;
        walk.step(&app, Some(admin2), &[("MembershipReinstated", "membership_reinstated", emails(&[m1, m2, admin]))]).await;
        app.post(&format!("{org}/membership/renewal-requests")).bearer(&m1.token).send().await.expect(202);
        walk.step(&app, Some(m1), &[("MembershipRenewalRequested", "membership_renewal_requested", emails(&[admin, admin2]))]).await;
        decide(admin, "renew").await;
        walk.step(&app, Some(admin), &[("MembershipRenewed", "membership_renewed", emails(&[m1, m2, admin2]))]).await;
        let asked = app.post(&format!("{org}/membership/renewal-requests")).bearer(&m2.token).send().await.expect(202).body;
        walk.step(&app, Some(m2), &[("MembershipRenewalRequested", "membership_renewal_requested", emails(&[admin, admin2]))]).await;
        app.post(&format!("/api/v1/membership/renewal-requests/{}/decline", asked["id"].as_str().unwrap())).bearer(&admin2.token)
            .json(&json!({"reason": "Dues unpaid"})).send().await.expect(200);
        walk.step(&app, Some(admin2), &[("MembershipRenewalDeclined", "membership_renewal_declined", emails(&[m1, m2, admin]))]).await;
        app.post(&format!("/api/v1/organisations/{}/membership", p.outsider_org)).bearer(&admin.token)
            .json(&json!({"action": "withdraw", "reason": "Left the network"})).send().await.expect(200);
        walk.step(&app, Some(admin), &[("MembershipWithdrawn", "membership_withdrawn", emails(&[&p.outsider, &owner, admin2]))]).await;

        // The calendar: reminders, grace and lapse. Dates near today, so that only this
        // organisation's period ends within them.
        let today = chrono::Utc::now().date_naive();
        let end = today + chrono::Days::new(10);
        let ending = app.member_org("Ending Org").await;
        let m_end = app.user("member", Some(&ending)).await;
        let path = format!("/api/v1/organisations/{ending}");
        let tag = etag(&app, &path, &admin.token).await;
        app.patch(&path).bearer(&admin.token).header("if-match", &tag)
            .json(&json!({"membership": {"period_start": (end - chrono::Days::new(365)).to_string(), "period_end": end.to_string()}}))
            .send().await.expect(200);
        app.emails().await;
        idpc_hub::directory::jobs::run(&app.state, today).await.unwrap();
        walk.step(&app, None, &[("MembershipEndingSoon", "membership_reminder", emails(&[&m_end]))]).await;
        idpc_hub::directory::jobs::run(&app.state, end + chrono::Days::new(1)).await.unwrap();
        let mails = walk.step(&app, None, &[("MembershipGraceStarted", "membership_grace", emails(&[&m_end, admin, admin2]))]).await;
        let lapses_on = (end + chrono::Days::new(31)).format("%-d %B %Y").to_string();
        assert!(mails[0].text().contains(&lapses_on), "{lapses_on}: {}", mails[0].text());
        idpc_hub::directory::jobs::run(&app.state, end + chrono::Days::new(31)).await.unwrap();
        walk.step(&app, None, &[("MembershipLapsed", "membership_lapsed", emails(&[&m_end, admin, admin2]))]).await;

        // Every line of the matrix was walked (the webhook line by the webhooks module:
        // webhooks::a_410_disables_the_subscription_at_once; the bank account and payment run
        // lines by the payments module, which checks each of their recipients).
        let missing: Vec<String> = MATRIX
            .iter()
            .map(|l| format!("{:?}/{}", l.event, l.kind.map(|k| k.name()).unwrap_or("")))
            // The budget revision line by budgets::a_revision_above_the_tolerance_waits_for_an_officer_….
            .filter(|l| !walk.walked.contains(l) && l != "WebhookDisabled/webhook_disabled")
            .filter(|l| l != "BudgetRevisionProposed/budget_revision_pending")
            .filter(|l| !PAYMENTS_LINES.contains(&l.as_str()))
            .collect();
        assert!(missing.is_empty(), "lines not walked: {missing:?}");
    }
}

on_both! {
    async fn a_payment_email_gives_the_amount_the_date_the_reference_and_who_paid_as_people_write_them(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "90000.00").await;
        app.emails().await;
        let d = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "60000.00", "planned_date": "2026-07-01", "note": "First tranche"}))
            .send().await.expect(201);
        let d = id(&d);
        let requested = app.emails().await;
        let to_officer = requested.iter().find(|m| m.recipient() == w.officer.email).expect("officers are asked");
        assert_eq!(to_officer.subject(), format!("[IDPC] Tranche of USD 60,000.00 requested on grant {}", grant_reference(&app, &w, &grant).await));
        for body in [to_officer.text(), to_officer.html()] {
            assert!(body.contains("Test member has requested a tranche of USD 60,000.00"), "{body}");
            assert!(body.contains("planned for 1 July 2026"), "{body}");
            assert!(body.contains("It needs two approvals by two different officers"), "{body}");
        }
        // (The HTML body escapes the slashes of its links; a mail client reads them alike.)
        assert!(to_officer.link(&format!("http://hub.test/disbursements/{d}")).is_some());
        assert!(to_officer.link("http://hub.test/inbox").is_some());
        for officer in [&w.officer, &w.officer2] {
            app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&officer.token).send().await.expect(200);
        }
        app.emails().await;
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "BACS-2026-0193", "paid_on": "2026-07-02", "bank_account_id": app.payee(&w.grantee, "USD").await})).send().await.expect(200);
        let paid = app.emails().await;
        assert_eq!(paid.len(), 1, "the member who asked (and its colleagues) only");
        let text = paid[0].text();
        assert!(text.contains("Test finance_officer has recorded the payment of a tranche of USD 60,000.00"), "{text}");
        assert!(text.contains("paid on 2 July 2026, reference BACS-2026-0193"), "{text}");
        assert!(text.contains("What to do next:") && text.contains("By when:"), "{text}");
        assert!(!text.contains("60000.00"), "no machine amounts: {text}");
    }
}

async fn grant_reference(app: &TestApp, w: &World, grant: &str) -> String {
    app.get(&format!("/api/v1/grants/{grant}"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200)
        .body["reference"]
        .as_str()
        .unwrap()
        .to_string()
}

on_both! {
    async fn every_email_link_is_built_from_app_base_url_with_the_console_paths(backend) {
        let app = TestApp::start_with(backend, &[("APP_BASE_URL", "https://console.example.org/")]).await;
        let w = world(&app).await;
        app.emails().await;
        let r = app.post("/api/v1/users").bearer(&w.admin.token)
            .json(&json!({"email": "new@staff.example", "display_name": "New", "role": "grant_officer"})).send().await.expect(201);
        let invitation = app.emails().await;
        assert!(invitation[0].link("https://console.example.org/accept-invitation?token=").is_some(), "{}", invitation[0].text());
        assert_eq!(id(&r).len(), 36);
        let grant = active(&app, &w, "1000.00").await;
        let mails = app.emails().await;
        assert!(mails.iter().all(|m| m.text().contains(&format!("https://console.example.org/grants/{grant}"))));
        assert!(mails.iter().all(|m| !m.text().contains("http://hub.test/grants")), "PUBLIC_BASE_URL is not the console");
        app.post(&format!("/api/v1/organisations/{}/membership/renewal-requests", w.grantee)).bearer(&w.member.token).send().await.expect(202);
        let asked = app.emails().await;
        assert!(asked[0].link(&format!("https://console.example.org/organisations/{}/membership", w.grantee)).is_some(), "{}", asked[0].text());
    }
}

on_both! {
    async fn a_member_asks_once_to_renew_its_own_membership_and_an_admin_decision_closes_the_request(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let other = app.member_org("Another Org").await;
        let outsider = app.user("member", Some(&other)).await;
        let path = format!("/api/v1/organisations/{}/membership/renewal-requests", w.grantee);
        app.post(&path).bearer(&outsider.token).send().await.expect_problem(404);
        app.post(&path).bearer(&w.officer.token).send().await.expect_problem(403);
        let r = app.post(&path).bearer(&w.member.token).send().await.expect(202);
        assert_eq!(r.body["organisation_id"], w.grantee.as_str());
        assert_eq!(r.body["requested_by"], w.member.id.as_str());
        assert_eq!(r.body["status"], "open");
        let again = app.post(&path).bearer(&w.member.token).send().await.expect_problem(409);
        assert_eq!(again.body["type"], "urn:idpc-hub:problem:renewal-already-requested");
        let request_id = id(&r);
        let audited = crate::grants::audit_actions(&app, &request_id).await;
        assert_eq!(audited.len(), 1, "{audited:?}");
        assert_eq!(audited[0].0, "membership_renewal_request.requested");
        app.post(&format!("/api/v1/organisations/{}/membership", w.grantee)).bearer(&w.admin.token)
            .json(&json!({"action": "renew"})).send().await.expect(200);
        let audited = crate::grants::audit_actions(&app, &request_id).await;
        assert_eq!(audited.last().unwrap().0, "membership_renewal_request.closed");
        app.post(&path).bearer(&w.member.token).send().await.expect(202);
    }
}

on_both! {
    async fn staff_read_other_staff_names_and_roles_and_nothing_more(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let r = app.get(&format!("/api/v1/users/{}", w.finance.id)).bearer(&w.officer.token).send().await.expect(200);
        assert_eq!(r.body, json!({"id": w.finance.id, "display_name": "Test finance_officer", "role": "finance_officer"}));
        let r = app.get(&format!("/api/v1/users/{}", w.officer2.id)).bearer(&w.finance.token).send().await.expect(200);
        assert_eq!(r.body["role"], "grant_officer");
        assert!(r.body.get("email").is_none());
        app.get(&format!("/api/v1/users/{}", w.member.id)).bearer(&w.officer.token).send().await.expect_problem(404);
        let r = app.get(&format!("/api/v1/users/{}", w.member.id)).bearer(&w.admin.token).send().await.expect(200);
        assert_eq!(r.body["email"], w.member.email.as_str());
        app.get(&format!("/api/v1/users/{}", w.officer.id)).bearer(&w.member.token).send().await.expect_problem(403);
    }
}

/// The lines walked by `payments.rs` (each test there asserts the recipients).
const PAYMENTS_LINES: &[&str] = &[
    "BankAccountProposed/bank_account_changing",
    "BankAccountProposed/bank_account_pending",
    "BankAccountConfirmed/bank_account_confirmed",
    "PaymentRunAwaitsApproval/payment_run_pending",
    "PaymentReturned/payment_returned",
];

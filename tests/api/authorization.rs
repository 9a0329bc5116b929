//! The authorization matrix: every route against every kind of caller. Each cell states the
//! status that caller must get; no cell may be a 500. Add every new route here.
//!
//! Commands that consume state (submit, approve, pay...) get one fresh object per caller, so
//! each cell shows what that caller may do rather than what the previous caller left behind.

use serde_json::{Value, json};

use crate::common::{Backend, TestApp, TestUser};

/// The callers, in column order.
const CALLERS: [&str; 8] = [
    "anonymous",
    "member_a",
    "member_b",
    "grant_officer",
    "finance_officer",
    "admin",
    "client_scoped",
    "client_unscoped",
];

/// Column of the admin, whose token reads the current ETag for `If-Match` rows.
const ADMIN: usize = 5;

/// One object id per caller, in column order.
type PerCaller = Vec<String>;

struct World {
    tokens: Vec<Option<String>>,
    member_a: TestUser,
    member_b: TestUser,
    invited_id: String,
    spare_client_ids: PerCaller,
    org_a: String,
    /// A member organisation hidden from the public directory.
    org_hidden: String,
    pending_outbox_id: String,
    donor: String,
    fund: String,
    /// An active grant to organisation A: reads, tranche requests, reports.
    grant_active: String,
    /// A draft grant to organisation A: members and apps may not see it yet.
    grant_draft: String,
    grants_to_submit: PerCaller,
    grants_to_approve: PerCaller,
    grants_to_reject: PerCaller,
    grants_to_activate: PerCaller,
    grants_to_close: PerCaller,
    grants_to_cancel: PerCaller,
    /// A requested tranche of `grant_active`.
    tranche: String,
    /// A paid tranche of `grant_active`.
    tranche_paid: String,
    tranches_to_approve: PerCaller,
    tranches_to_reject: PerCaller,
    /// Requested by member A for member A's column, by a grant officer for the others.
    tranches_to_cancel: PerCaller,
    tranches_to_pay: PerCaller,
    tranches_to_reverse: PerCaller,
    /// A usable USD account of organisation A that tranches are paid to.
    payee: String,
    reports_to_submit: PerCaller,
    reports_to_accept: PerCaller,
    reports_to_return: PerCaller,
    application: String,
    applications_to_review: PerCaller,
    applications_to_approve: PerCaller,
    applications_to_reject: PerCaller,
    /// An open renewal request of organisation B, for the admin to decline.
    renewal: String,
    /// A webhook subscription of the app with `webhooks:manage` (the unscoped column).
    webhook: String,
    /// Its ping delivery.
    webhook_delivery: String,
    webhooks_to_delete: PerCaller,
    /// A grant officer who is not a caller: staff may read its name and role.
    staff_user: String,
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_string()
}

fn grant_body(fund: &str, grantee: &str, amount: &str) -> Value {
    json!({
        "fund_id": fund, "grantee_organisation_id": grantee,
        "title": "Community paralegals", "description": "Legal aid for people who use drugs",
        "pillar": "capacity_strengthening",
        "priority_areas": ["decriminalisation_justice_reform", "support_dont_punish"],
        "currency": "USD", "amount": amount,
        "planned_start": "2026-02-01", "planned_end": "2026-12-31",
        "budget": [{"category": "activities", "description": "Paralegal trainings", "amount": amount}],
    })
}

fn application_body(n: &str) -> Value {
    json!({
        "organisation": {
            "name": format!("Applicant collective {n}"),
            "country": "BR",
            "region": "latin_america_caribbean",
            "website": "https://example.org",
            "description": "Community-led harm reduction.",
            "focus_areas": ["support_dont_punish"],
        },
        "contact": {"name": "Carla Contact", "email": format!("applicant-{n}@matrix.example")},
        "motivation": "We want to join the network's advocacy for drug policy reform.",
    })
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// Builds the objects of the world over the public API, as the staff who would.
struct Setup<'a> {
    app: &'a TestApp,
    admin: String,
    /// A grant officer who is not a caller: the author of every grant and tranche, so the
    /// callers may approve them.
    author: String,
    finance: String,
    member_a: String,
    org_a: String,
    fund: String,
    /// A usable USD account of organisation A.
    payee: String,
}

impl Setup<'_> {
    async fn post(
        &self,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let mut req = self.app.post(path).auth(token);
        if let Some(b) = &body {
            req = req.json(b);
        }
        req.send().await.expect(status).body
    }

    /// A grant to organisation A taken to `status` (draft, submitted, approved or active).
    async fn grant(&self, status: &str, amount: &str) -> String {
        let body = grant_body(&self.fund, &self.org_a, amount);
        let id = id_of(
            &self
                .post(Some(&self.author), "/api/v1/grants", Some(body), 201)
                .await,
        );
        let steps: &[(&str, &str)] = match status {
            "draft" => &[],
            "submitted" => &[("submit", &self.author)],
            "approved" => &[("submit", &self.author), ("approve", &self.admin)],
            "active" => &[
                ("submit", &self.author),
                ("approve", &self.admin),
                ("activate", &self.author),
            ],
            other => panic!("no recipe for a {other} grant"),
        };
        for (verb, token) in steps {
            let path = format!("/api/v1/grants/{id}/{verb}");
            self.post(Some(token), &path, None, 200).await;
        }
        id
    }

    async fn grants(&self, status: &str) -> PerCaller {
        let mut out = Vec::new();
        for _ in CALLERS {
            out.push(self.grant(status, "10.00").await);
        }
        out
    }

    /// A tranche of `grant` requested by `requester`, taken to `status` (requested, approved
    /// or paid).
    async fn tranche(&self, grant: &str, requester: &str, status: &str) -> String {
        let body = json!({"amount": "100.00", "planned_date": "2026-05-01", "note": "Tranche"});
        let path = format!("/api/v1/grants/{grant}/disbursements");
        let id = id_of(&self.post(Some(requester), &path, Some(body), 201).await);
        if status == "approved" || status == "paid" {
            let path = format!("/api/v1/disbursements/{id}/approve");
            self.post(Some(&self.admin), &path, None, 200).await;
        }
        if status == "paid" {
            let path = format!("/api/v1/disbursements/{id}/pay");
            let body = json!({"payment_reference": format!("PAY-{id}"), "paid_on": today(), "bank_account_id": self.payee});
            self.post(Some(&self.finance), &path, Some(body), 200).await;
        }
        id
    }

    async fn tranches(&self, grant: &str, status: &str) -> PerCaller {
        let mut out = Vec::new();
        for _ in CALLERS {
            out.push(self.tranche(grant, &self.author, status).await);
        }
        out
    }

    /// Reports owed on `grant`, one per caller, taken to `status` (due or submitted).
    async fn reports(&self, grant: &str, status: &str) -> PerCaller {
        let mut out = Vec::new();
        for i in 0..CALLERS.len() {
            let body = json!({"kind": "narrative", "due_on": "2026-12-31", "title": format!("Report {i}")});
            let path = format!("/api/v1/grants/{grant}/reports");
            let id = id_of(&self.post(Some(&self.author), &path, Some(body), 201).await);
            if status == "submitted" {
                let body =
                    json!({"summary": "Done", "document_url": "https://example.org/report.pdf"});
                let path = format!("/api/v1/reports/{id}/submit");
                self.post(Some(&self.member_a), &path, Some(body), 200)
                    .await;
            }
            out.push(id);
        }
        out
    }

    /// Membership applications, one per caller, as submitted by the public.
    async fn applications(&self, prefix: &str) -> PerCaller {
        let mut out = Vec::new();
        for i in 0..CALLERS.len() {
            let body = application_body(&format!("{prefix}-{i}"));
            let r = self
                .post(None, "/api/v1/membership-applications", Some(body), 201)
                .await;
            out.push(id_of(&r));
        }
        out
    }
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin().await;
    let org_a = app.member_org("Organisation A").await;
    let org_b = app.member_org("Organisation B").await;
    let org_hidden = app.member_org("Quiet Collective").await;
    let donor = app.donor_org("Open Society Donor").await;
    let member_a = app.user("member", Some(&org_a)).await;
    let member_b = app.user("member", Some(&org_b)).await;
    let renewal = id_of(
        &app.post(&format!(
            "/api/v1/organisations/{org_b}/membership/renewal-requests"
        ))
        .bearer(&member_b.token)
        .send()
        .await
        .expect(202)
        .body,
    );
    let go = app.user("grant_officer", None).await;
    let author = app.user("grant_officer", None).await;
    let fo = app.user("finance_officer", None).await;
    let (_, _, scoped) = app
        .api_client(&admin, &org_a, &["directory:read", "grants:read"])
        .await;
    let (_, _, unscoped) = app.api_client(&admin, &org_b, &["webhooks:manage"]).await;
    let mut webhooks_to_delete = Vec::new();
    for _ in 0..=CALLERS.len() {
        let hook = json!({"url": "https://partner.example.org/hook", "events": ["ping"]});
        let r = app
            .post("/api/v1/webhooks")
            .bearer(&unscoped)
            .json(&hook)
            .send()
            .await;
        webhooks_to_delete.push(id_of(&r.expect(201).body));
    }
    let webhook = webhooks_to_delete.pop().unwrap();
    let webhook_delivery = id_of(
        &app.get(&format!("/api/v1/webhooks/{webhook}/deliveries"))
            .bearer(&unscoped)
            .send()
            .await
            .expect(200)
            .body["data"][0],
    );
    let invited = app
        .post("/api/v1/users")
        .bearer(&admin.token)
        .json(&json!({"email": "invited@matrix.example", "display_name": "Invited", "role": "grant_officer"}))
        .send()
        .await
        .expect(201);
    let mut spare_client_ids = Vec::new();
    for i in 0..CALLERS.len() {
        let r = app
            .post("/api/v1/api-clients")
            .bearer(&admin.token)
            .json(&json!({"name": format!("Spare {i}"), "organisation_id": org_b, "scopes": ["grants:read"]}))
            .send()
            .await
            .expect(201);
        spare_client_ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    app.patch(&format!("/api/v1/organisations/{org_hidden}"))
        .bearer(&admin.token)
        .header("if-match", "\"1\"")
        .json(&json!({"hidden_from_public": true}))
        .send()
        .await
        .expect(200);
    let fund = app
        .post("/api/v1/funds")
        .bearer(&author.token)
        .json(&json!({
            "donor_organisation_id": donor, "title": "Core support 2026", "reference": "OSF-2026-7",
            "currency": "USD", "amount": "10000000.00",
            "starts_on": "2026-01-01", "ends_on": "2027-12-31",
        }))
        .send()
        .await
        .expect(201);
    // Its amount is above the raise threshold: a second person (the finance officer) confirms it.
    app.post(&format!(
        "/api/v1/funds/{}/amount-increase/approve",
        id_of(&fund.body)
    ))
    .bearer(&fo.token)
    .json(&json!({"amount": "10000000.00"}))
    .send()
    .await
    .expect(200);
    let s = Setup {
        app,
        admin: admin.token.clone(),
        author: author.token.clone(),
        finance: fo.token.clone(),
        member_a: member_a.token.clone(),
        org_a: org_a.clone(),
        fund: id_of(&fund.body),
        payee: app.payee(&org_a, "USD").await,
    };
    let grant_active = s.grant("active", "500000.00").await;
    let grant_draft = s.grant("draft", "10.00").await;
    let mut tranches_to_cancel = Vec::new();
    for i in 0..CALLERS.len() {
        let requester = if i == 1 { &s.member_a } else { &s.author };
        tranches_to_cancel.push(s.tranche(&grant_active, requester, "requested").await);
    }
    let pending_outbox_id = app
        .get("/api/v1/admin/outbox?status=pending&limit=1")
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tokens = vec![
        None,
        Some(member_a.token.clone()),
        Some(member_b.token.clone()),
        Some(go.token),
        Some(fo.token.clone()),
        Some(admin.token.clone()),
        Some(scoped),
        Some(unscoped),
    ];
    World {
        member_a,
        member_b,
        invited_id: invited.body["id"].as_str().unwrap().to_string(),
        spare_client_ids,
        org_a,
        org_hidden,
        pending_outbox_id,
        donor,
        grants_to_submit: s.grants("draft").await,
        grants_to_approve: s.grants("submitted").await,
        grants_to_reject: s.grants("submitted").await,
        grants_to_activate: s.grants("approved").await,
        grants_to_close: s.grants("active").await,
        grants_to_cancel: s.grants("draft").await,
        tranche: s.tranche(&grant_active, &s.author, "requested").await,
        tranche_paid: s.tranche(&grant_active, &s.author, "paid").await,
        tranches_to_approve: s.tranches(&grant_active, "requested").await,
        tranches_to_reject: s.tranches(&grant_active, "requested").await,
        tranches_to_cancel,
        tranches_to_pay: s.tranches(&grant_active, "approved").await,
        tranches_to_reverse: s.tranches(&grant_active, "paid").await,
        payee: s.payee.clone(),
        reports_to_submit: s.reports(&grant_active, "due").await,
        reports_to_accept: s.reports(&grant_active, "submitted").await,
        reports_to_return: s.reports(&grant_active, "submitted").await,
        application: s.applications("single").await.remove(0),
        applications_to_review: s.applications("review").await,
        applications_to_approve: s.applications("approve").await,
        applications_to_reject: s.applications("reject").await,
        renewal,
        fund: s.fund.clone(),
        webhook,
        webhook_delivery,
        webhooks_to_delete,
        staff_user: author.id.clone(),
        grant_active,
        grant_draft,
        tokens,
    }
}

/// One row: method, the path each caller sends, the body for caller i, expected statuses.
struct Row {
    method: &'static str,
    paths: Vec<String>,
    body: Box<dyn Fn(usize) -> Option<Value>>,
    form: Option<&'static str>,
    /// Send `If-Match` with the resource's current ETag (read by the admin just before).
    if_match: bool,
    expect: [u16; 8],
}

impl Row {
    /// The same JSON body shape for every caller, built from the caller's column.
    fn body(mut self, body: impl Fn(usize) -> Value + 'static) -> Row {
        self.body = Box::new(move |i| Some(body(i)));
        self
    }

    /// Sends the current ETag in `If-Match`.
    fn if_match(mut self) -> Row {
        self.if_match = true;
        self
    }
}

fn row(method: &'static str, path: impl Into<String>, expect: [u16; 8]) -> Row {
    let path = path.into();
    Row {
        method,
        paths: vec![path; CALLERS.len()],
        body: Box::new(|_| None),
        form: None,
        if_match: false,
        expect,
    }
}

fn with_body(
    method: &'static str,
    path: impl Into<String>,
    body: impl Fn(usize) -> Value + 'static,
    expect: [u16; 8],
) -> Row {
    row(method, path, expect).body(body)
}

/// A row where each caller works on its own object: `path` makes the path from its id.
fn each(
    method: &'static str,
    ids: &[String],
    path: impl Fn(&str) -> String,
    expect: [u16; 8],
) -> Row {
    assert_eq!(ids.len(), CALLERS.len(), "one object per caller");
    Row {
        paths: ids.iter().map(|id| path(id)).collect(),
        ..row(method, String::new(), expect)
    }
}

const ALL_200: [u16; 8] = [200; 8];
const ADMIN_ONLY: [u16; 8] = [401, 403, 403, 403, 403, 200, 403, 403];
const USERS_ONLY: [u16; 8] = [401, 200, 200, 200, 200, 200, 403, 403];
/// The public directory: everyone, but an app needs directory:read.
const DIRECTORY: [u16; 8] = [200, 200, 200, 200, 200, 200, 200, 403];
/// Admins and the organisation's own members; members of other organisations are not told.
const OWN_ORGANISATION: [u16; 8] = [401, 200, 404, 403, 403, 200, 403, 403];
/// Staff read money: admins, grant and finance officers.
const READ_STAFF: [u16; 8] = [401, 403, 403, 200, 200, 200, 403, 403];
/// Admins and grant officers decide on grants, tranches and reports.
const GRANT_STAFF: [u16; 8] = [401, 403, 403, 200, 403, 200, 403, 403];
const GRANT_STAFF_CREATE: [u16; 8] = [401, 403, 403, 201, 403, 201, 403, 403];
/// Webhooks: admins and apps holding webhooks:manage.
const WEBHOOKS: [u16; 8] = [401, 403, 403, 403, 403, 200, 403, 200];
/// Histories of money: staff read them; members and apps are not told they exist.
const HISTORY: [u16; 8] = [401, 404, 404, 200, 200, 200, 404, 404];
/// A grant's internals (budget, indicators, report results): staff and the grantee's members;
/// other members and apps are not told they exist.
const GRANT_INTERNALS: [u16; 8] = [401, 200, 404, 200, 200, 200, 404, 404];
/// A budget revision no one has: grant staff learn it is unknown, the others are refused first.
const GRANT_STAFF_UNKNOWN: [u16; 8] = [401, 403, 403, 404, 403, 404, 403, 403];
/// Paid and reversed by finance officers only.
const FINANCE_ONLY: [u16; 8] = [401, 403, 403, 403, 200, 403, 403, 403];

/// An id no object has: the answer shows the role check, made before any lookup.
const UNKNOWN: &str = "0193a4e2-0000-7000-8000-000000000000";
/// Payment runs are finance's: an unknown run is 404 to finance and 403 to everyone else.
const FINANCE_UNKNOWN: [u16; 8] = [401, 403, 403, 403, 404, 403, 403, 403];
/// An unknown document or bank account is 404 to every user; apps never see either.
const UNKNOWN_DOCUMENT: [u16; 8] = [401, 404, 404, 404, 404, 404, 404, 404];

fn reason(_: usize) -> Value {
    json!({"reason": "Not this time"})
}

fn rows(w: &World) -> Vec<Row> {
    let donor = w.donor.clone();
    let fund = w.fund.clone();
    let org_a = w.org_a.clone();
    vec![
        // Operations
        row("GET", "/health/live", ALL_200),
        row("GET", "/health/ready", ALL_200),
        row("GET", "/metrics", ALL_200),
        // Authentication: open to all; the body decides.
        with_body(
            "POST",
            "/api/v1/auth/login",
            |_| json!({"email": "nobody@x.example", "password": "wrong password"}),
            [401; 8],
        ),
        with_body(
            "POST",
            "/api/v1/auth/refresh",
            |_| json!({"refresh_token": "bogus"}),
            [401; 8],
        ),
        with_body(
            "POST",
            "/api/v1/auth/logout",
            |_| json!({"refresh_token": "bogus"}),
            [204; 8],
        ),
        Row {
            form: Some("grant_type=client_credentials"),
            ..row("POST", "/api/v1/auth/token", [401; 8])
        },
        with_body(
            "POST",
            "/api/v1/auth/password-reset",
            |_| json!({"email": "nobody@x.example"}),
            [202; 8],
        ),
        with_body(
            "POST",
            "/api/v1/auth/password-reset/confirm",
            |_| json!({"token": "bogus", "password": "a long enough password"}),
            [400; 8],
        ),
        with_body(
            "POST",
            "/api/v1/auth/invitations/accept",
            |_| json!({"token": "bogus", "password": "a long enough password", "display_name": "X"}),
            [400; 8],
        ),
        // The caller's account
        row("GET", "/api/v1/me", USERS_ONLY),
        with_body(
            "PATCH",
            "/api/v1/me",
            |i| json!({"display_name": format!("Name {i}")}),
            USERS_ONLY,
        ),
        with_body(
            "POST",
            "/api/v1/me/password",
            |_| json!({"current_password": "not the password", "new_password": "a long enough password"}),
            [401, 400, 400, 400, 400, 400, 403, 403],
        ),
        // Users (admin)
        row("GET", "/api/v1/users", ADMIN_ONLY),
        with_body(
            "POST",
            "/api/v1/users",
            |i| json!({"email": format!("new{i}@matrix.example"), "display_name": "New", "role": "finance_officer"}),
            [401, 403, 403, 403, 403, 201, 403, 403],
        ),
        // Staff read other staff's names and roles; only admins see member users.
        row(
            "GET",
            format!("/api/v1/users/{}", w.member_a.id),
            [401, 403, 403, 404, 404, 200, 403, 403],
        ),
        row(
            "GET",
            format!("/api/v1/users/{}", w.staff_user),
            READ_STAFF,
        ),
        row(
            "GET",
            "/api/v1/users/00000000-0000-7000-8000-000000000000",
            [401, 403, 403, 404, 404, 404, 403, 403],
        ),
        with_body(
            "PATCH",
            format!("/api/v1/users/{}", w.member_b.id),
            |_| json!({"role": "member"}),
            ADMIN_ONLY,
        ),
        row(
            "POST",
            format!("/api/v1/users/{}/invitation", w.invited_id),
            [401, 403, 403, 403, 403, 202, 403, 403],
        ),
        // Partner apps (admin)
        row("GET", "/api/v1/api-clients", ADMIN_ONLY),
        with_body(
            "POST",
            "/api/v1/api-clients",
            |_| json!({"name": "Another app", "organisation_id": "00000000-0000-7000-8000-000000000000", "scopes": ["grants:read"]}),
            [401, 403, 403, 403, 403, 400, 403, 403],
        ),
        row(
            "GET",
            format!("/api/v1/api-clients/{}", w.spare_client_ids[0]),
            ADMIN_ONLY,
        ),
        each(
            "DELETE",
            &w.spare_client_ids,
            |id| format!("/api/v1/api-clients/{id}"),
            [401, 403, 403, 403, 403, 204, 403, 403],
        ),
        // Directory
        with_body(
            "POST",
            "/api/v1/organisations",
            |i| json!({"name": format!("Matrix org {i}"), "kind": "member", "country": "FR", "region": "europe"}),
            [401, 403, 403, 403, 403, 201, 403, 403],
        ),
        row("GET", "/api/v1/organisations", DIRECTORY),
        // Filtering by membership standing is for staff, whoever else asks.
        row(
            "GET",
            "/api/v1/organisations?membership_status=active",
            [403, 403, 403, 200, 200, 200, 403, 403],
        ),
        row("GET", "/api/v1/organisations/facets", DIRECTORY),
        row("GET", "/api/v1/organisations.csv", DIRECTORY),
        row("GET", format!("/api/v1/organisations/{org_a}"), DIRECTORY),
        // Hidden from the public (and apps, which read as the public), not from the network.
        row(
            "GET",
            format!("/api/v1/organisations/{}", w.org_hidden),
            [404, 200, 200, 200, 200, 200, 404, 403],
        ),
        with_body(
            "PATCH",
            format!("/api/v1/organisations/{org_a}"),
            |i| json!({"acronym": format!("OA{i}")}),
            OWN_ORGANISATION,
        )
        .if_match(),
        row(
            "GET",
            format!("/api/v1/organisations/{org_a}/history"),
            OWN_ORGANISATION,
        ),
        with_body(
            "POST",
            format!("/api/v1/organisations/{org_a}/membership"),
            |_| json!({"action": "renew"}),
            ADMIN_ONLY,
        ),
        // Members of the organisation ask to renew; another organisation's member is not told.
        row(
            "POST",
            format!("/api/v1/organisations/{org_a}/membership/renewal-requests"),
            [401, 202, 404, 403, 403, 403, 403, 403],
        ),
        // The secretariat lists renewal requests and declines one (the first refusal
        // consumes nothing; after the admin's decline the apps are refused by role).
        row("GET", "/api/v1/membership/renewal-requests", ADMIN_ONLY),
        row(
            "POST",
            format!("/api/v1/membership/renewal-requests/{}/decline", w.renewal),
            ADMIN_ONLY,
        )
        .body(reason),
        // Membership applications: anyone applies; the secretariat decides.
        with_body(
            "POST",
            "/api/v1/membership-applications",
            |i| application_body(&format!("matrix-{i}")),
            [201; 8],
        ),
        row("GET", "/api/v1/membership-applications", ADMIN_ONLY),
        row(
            "GET",
            format!("/api/v1/membership-applications/{}", w.application),
            ADMIN_ONLY,
        ),
        each(
            "POST",
            &w.applications_to_review,
            |id| format!("/api/v1/membership-applications/{id}/review"),
            ADMIN_ONLY,
        ),
        each(
            "POST",
            &w.applications_to_approve,
            |id| format!("/api/v1/membership-applications/{id}/approve"),
            ADMIN_ONLY,
        ),
        each(
            "POST",
            &w.applications_to_reject,
            |id| format!("/api/v1/membership-applications/{id}/reject"),
            ADMIN_ONLY,
        )
        .body(reason),
        // Funds
        with_body(
            "POST",
            "/api/v1/funds",
            move |i| {
                json!({
                    "donor_organisation_id": donor, "title": format!("Matrix fund {i}"),
                    "reference": format!("MX-{i}"), "currency": "USD", "amount": "1000.00",
                    "starts_on": "2026-01-01", "ends_on": "2026-12-31",
                })
            },
            GRANT_STAFF_CREATE,
        ),
        row("GET", "/api/v1/funds", READ_STAFF),
        row("GET", format!("/api/v1/funds/{fund}"), READ_STAFF),
        with_body(
            "PATCH",
            format!("/api/v1/funds/{fund}"),
            |i| json!({"title": format!("Core support (edit {i})")}),
            GRANT_STAFF,
        )
        .if_match(),
        row("GET", format!("/api/v1/funds/{fund}/history"), HISTORY),
        // No raise waits on this fund: finance officers and admins are told so.
        with_body(
            "POST",
            format!("/api/v1/funds/{fund}/amount-increase/approve"),
            |_| json!({"amount": "1.00"}),
            [401, 403, 403, 403, 409, 409, 403, 403],
        ),
        // How a fund is published in open data.
        row("GET", format!("/api/v1/funds/{fund}/publication"), READ_STAFF),
        with_body(
            "PUT",
            format!("/api/v1/funds/{fund}/publication"),
            |_| json!({"publish_incoming": false}),
            GRANT_STAFF,
        ),
        // Reference exchange rates: finance officers and admins set them, staff read them.
        with_body(
            "PUT",
            "/api/v1/fx-rates/EUR",
            |_| json!({"rate": "1.08", "as_of": crate::grants::rate_date()}),
            // The first EUR rate here: it waits for a second person.
            [401, 403, 403, 403, 202, 202, 403, 403],
        ),
        row("GET", "/api/v1/fx-rates", READ_STAFF),
        row("GET", "/api/v1/fx-rates/EUR", READ_STAFF),
        row("GET", "/api/v1/fx-rates/EUR/history", READ_STAFF),
        // The finance officer confirms the admin's rate; then none waits for the admin.
        with_body(
            "POST",
            "/api/v1/fx-rates/EUR/confirm",
            |_| json!({"rate": "1.08", "as_of": crate::grants::rate_date()}),
            [401, 403, 403, 403, 200, 409, 403, 403],
        ),
        // Grants
        with_body(
            "POST",
            "/api/v1/grants",
            move |_| grant_body(&fund, &org_a, "10.00"),
            GRANT_STAFF_CREATE,
        ),
        // Members see their own organisation's grants (an empty list for B), apps by scope.
        row("GET", "/api/v1/grants", [401, 200, 200, 200, 200, 200, 200, 403]),
        row("GET", "/api/v1/grants.csv", READ_STAFF),
        row(
            "GET",
            format!("/api/v1/grants/{}", w.grant_active),
            [401, 200, 404, 200, 200, 200, 200, 403],
        ),
        row(
            "GET",
            format!("/api/v1/grants/{}/history", w.grant_active),
            HISTORY,
        ),
        // A draft is the secretariat's until submitted; apps see published grants only.
        row(
            "GET",
            format!("/api/v1/grants/{}", w.grant_draft),
            [401, 404, 404, 200, 200, 200, 404, 403],
        ),
        with_body(
            "PATCH",
            format!("/api/v1/grants/{}", w.grant_draft),
            |i| json!({"title": format!("Community paralegals, edit {i}")}),
            GRANT_STAFF,
        )
        .if_match(),
        each(
            "POST",
            &w.grants_to_submit,
            |id| format!("/api/v1/grants/{id}/submit"),
            GRANT_STAFF,
        ),
        each(
            "POST",
            &w.grants_to_approve,
            |id| format!("/api/v1/grants/{id}/approve"),
            GRANT_STAFF,
        ),
        // Approving a grant that is already active is a state-machine refusal.
        row(
            "POST",
            format!("/api/v1/grants/{}/approve", w.grant_active),
            [401, 403, 403, 409, 403, 409, 403, 403],
        ),
        each(
            "POST",
            &w.grants_to_reject,
            |id| format!("/api/v1/grants/{id}/reject"),
            GRANT_STAFF,
        )
        .body(reason),
        each(
            "POST",
            &w.grants_to_activate,
            |id| format!("/api/v1/grants/{id}/activate"),
            GRANT_STAFF,
        ),
        each(
            "POST",
            &w.grants_to_close,
            |id| format!("/api/v1/grants/{id}/close"),
            GRANT_STAFF,
        ),
        each(
            "POST",
            &w.grants_to_cancel,
            |id| format!("/api/v1/grants/{id}/cancel"),
            GRANT_STAFF,
        )
        .body(reason),
        // Budgets and indicators: read like a grant's internals (members of the grantee too,
        // apps never); written by grant staff under If-Match; revisions decided by grant staff.
        row(
            "GET",
            format!("/api/v1/grants/{}/budget", w.grant_active),
            GRANT_INTERNALS,
        ),
        with_body(
            "PUT",
            format!("/api/v1/grants/{}/budget", w.grant_draft),
            |i| json!({"lines": [{"category": "activities", "description": format!("Line {i}"), "amount": "10.00"}]}),
            GRANT_STAFF,
        )
        .if_match(),
        row(
            "GET",
            format!("/api/v1/grants/{}/indicators", w.grant_active),
            GRANT_INTERNALS,
        ),
        with_body(
            "PUT",
            format!("/api/v1/grants/{}/indicators", w.grant_draft),
            |_| json!({"indicators": []}),
            GRANT_STAFF,
        )
        .if_match(),
        row("GET", format!("/api/v1/budget-revisions/{UNKNOWN}"), GRANT_STAFF_UNKNOWN),
        row(
            "POST",
            format!("/api/v1/budget-revisions/{UNKNOWN}/approve"),
            GRANT_STAFF_UNKNOWN,
        ),
        with_body(
            "POST",
            format!("/api/v1/budget-revisions/{UNKNOWN}/reject"),
            reason,
            GRANT_STAFF_UNKNOWN,
        ),
        row(
            "GET",
            format!("/api/v1/reports/{}/results", w.reports_to_return[0]),
            GRANT_INTERNALS,
        ),
        // Tranches: grant officers and the grantee's members request them.
        with_body(
            "POST",
            format!("/api/v1/grants/{}/disbursements", w.grant_active),
            |i| json!({"amount": "100.00", "planned_date": "2026-06-01", "note": format!("Matrix {i}")}),
            [401, 201, 404, 201, 403, 201, 403, 403],
        ),
        row("GET", "/api/v1/disbursements", READ_STAFF),
        // DESIGN, Access: partner apps never see a tranche (404, whatever their scopes).
        row(
            "GET",
            format!("/api/v1/disbursements/{}", w.tranche),
            [401, 200, 404, 200, 200, 200, 404, 404],
        ),
        row(
            "GET",
            format!("/api/v1/disbursements/{}/history", w.tranche),
            HISTORY,
        ),
        each(
            "POST",
            &w.tranches_to_approve,
            |id| format!("/api/v1/disbursements/{id}/approve"),
            GRANT_STAFF,
        ),
        each(
            "POST",
            &w.tranches_to_reject,
            |id| format!("/api/v1/disbursements/{id}/reject"),
            GRANT_STAFF,
        )
        .body(reason),
        // A member cancels the tranches it requested (member A's is its own).
        each(
            "POST",
            &w.tranches_to_cancel,
            |id| format!("/api/v1/disbursements/{id}/cancel"),
            [401, 200, 404, 200, 403, 200, 403, 403],
        )
        .body(reason),
        each(
            "POST",
            &w.tranches_to_pay,
            |id| format!("/api/v1/disbursements/{id}/pay"),
            FINANCE_ONLY,
        )
        .body({
            let payee = w.payee.clone();
            move |i| json!({"payment_reference": format!("MATRIX-{i}"), "paid_on": today(), "bank_account_id": payee})
        }),
        // Paying a paid tranche again is a state-machine refusal.
        with_body(
            "POST",
            format!("/api/v1/disbursements/{}/pay", w.tranche_paid),
            {
                let payee = w.payee.clone();
                move |_| json!({"payment_reference": "AGAIN", "paid_on": today(), "bank_account_id": payee})
            },
            [401, 403, 403, 403, 409, 403, 403, 403],
        ),
        each(
            "POST",
            &w.tranches_to_reverse,
            |id| format!("/api/v1/disbursements/{id}/reverse"),
            FINANCE_ONLY,
        )
        .body(reason),
        // Reports: grant officers ask, the grantee's members submit, grant officers decide.
        with_body(
            "POST",
            format!("/api/v1/grants/{}/reports", w.grant_active),
            |i| json!({"kind": "financial", "due_on": "2026-12-31", "title": format!("Accounts {i}")}),
            GRANT_STAFF_CREATE,
        ),
        // The report queue: staff see every report, members their organisation's (member B
        // none of A's); partner apps never see reports.
        row("GET", "/api/v1/reports", USERS_ONLY),
        row(
            "GET",
            format!("/api/v1/reports/{}", w.reports_to_accept[0]),
            // An app with grants:read: 404 whether it exists or not (the partner data
            // boundary); without the scope, 403 naming it, as on every grants route.
            [401, 200, 404, 200, 200, 200, 404, 403],
        ),
        each(
            "POST",
            &w.reports_to_submit,
            |id| format!("/api/v1/reports/{id}/submit"),
            [401, 200, 404, 403, 403, 403, 403, 403],
        )
        .body(|_| json!({"summary": "All spent as planned", "document_url": "https://example.org/r.pdf"})),
        row(
            "GET",
            format!("/api/v1/reports/{}/history", w.reports_to_accept[0]),
            HISTORY,
        ),
        each(
            "POST",
            &w.reports_to_accept,
            |id| format!("/api/v1/reports/{id}/accept"),
            GRANT_STAFF,
        ),
        each(
            "POST",
            &w.reports_to_return,
            |id| format!("/api/v1/reports/{id}/return"),
            GRANT_STAFF,
        )
        .body(reason),
        // Exports
        row("GET", "/api/v1/exports/360giving.json", ALL_200),
        row("GET", "/api/v1/exports/iati-activities.xml", ALL_200),
        // Payee bank accounts (an unknown account: the role check answers before the lookup)
        row(
            "GET",
            format!("/api/v1/organisations/{}/bank-accounts", w.org_a),
            [401, 200, 404, 200, 200, 200, 404, 404],
        ),
        with_body(
            "POST",
            format!("/api/v1/organisations/{}/bank-accounts", w.org_a),
            |_| json!({"holder_name": "Matrix", "currency": "EUR", "iban": "DE44500105175407324931", "bic": "MARKDEF1500"}),
            [401, 201, 404, 403, 201, 403, 404, 404],
        ),
        row(
            "GET",
            format!("/api/v1/organisations/{}/bank-accounts/{UNKNOWN}", w.org_a),
            [401, 404, 404, 404, 404, 404, 404, 404],
        ),
        row(
            "POST",
            format!("/api/v1/organisations/{}/bank-accounts/{UNKNOWN}/confirm", w.org_a),
            UNKNOWN_DOCUMENT,
        ),
        row(
            "POST",
            format!("/api/v1/organisations/{}/bank-accounts/{UNKNOWN}/retire", w.org_a),
            UNKNOWN_DOCUMENT,
        ),
        // Payment runs and the payments register
        with_body(
            "POST",
            "/api/v1/payment-runs",
            |_| json!({"currency": "EUR", "value_date": "2026-12-31", "lines": []}),
            [401, 403, 403, 403, 400, 403, 403, 403],
        ),
        row("GET", "/api/v1/payment-runs", FINANCE_ONLY),
        row("GET", format!("/api/v1/payment-runs/{UNKNOWN}"), FINANCE_UNKNOWN),
        row("POST", format!("/api/v1/payment-runs/{UNKNOWN}/approve"), FINANCE_UNKNOWN),
        with_body(
            "POST",
            format!("/api/v1/payment-runs/{UNKNOWN}/record"),
            |_| json!({"bank_reference": "BANK-1", "paid_on": "2026-12-01"}),
            FINANCE_UNKNOWN,
        ),
        with_body(
            "POST",
            format!("/api/v1/payment-runs/{UNKNOWN}/lines/{UNKNOWN}/return"),
            reason,
            FINANCE_UNKNOWN,
        ),
        row("GET", format!("/api/v1/payment-runs/{UNKNOWN}/pain001"), FINANCE_UNKNOWN),
        row("GET", format!("/api/v1/payment-runs/{UNKNOWN}/csv"), FINANCE_UNKNOWN),
        row("GET", "/api/v1/payments", READ_STAFF),
        row("GET", "/api/v1/payments.csv", READ_STAFF),
        // Portfolio reporting: open tables (hidden organisations left out but for staff);
        // fund statements for staff
        row("GET", "/api/v1/portfolio", ALL_200),
        row("GET", "/api/v1/portfolio.csv", ALL_200),
        row("GET", "/api/v1/portfolio.xlsx", ALL_200),
        row("GET", "/api/v1/portfolio/membership", ALL_200),
        row("GET", "/api/v1/portfolio/membership.csv", ALL_200),
        row("GET", "/api/v1/portfolio/membership.xlsx", ALL_200),
        row("GET", format!("/api/v1/funds/{}/statement", w.fund), READ_STAFF),
        row("GET", format!("/api/v1/funds/{}/statement.csv", w.fund), READ_STAFF),
        row("GET", format!("/api/v1/funds/{}/statement.pdf", w.fund), READ_STAFF),
        row("GET", format!("/api/v1/funds/{UNKNOWN}/statement"), [401, 403, 403, 404, 404, 404, 403, 403]),
        // Documents: lists follow the object; apps never see documents
        row(
            "GET",
            format!("/api/v1/organisations/{}/documents", w.org_a),
            [401, 200, 404, 200, 200, 200, 404, 404],
        ),
        row(
            "POST",
            format!("/api/v1/organisations/{}/documents", w.org_a),
            [401, 415, 404, 415, 415, 415, 404, 404],
        ),
        row("GET", format!("/api/v1/documents/{UNKNOWN}"), UNKNOWN_DOCUMENT),
        row("GET", format!("/api/v1/documents/{UNKNOWN}/content"), UNKNOWN_DOCUMENT),
        row("POST", format!("/api/v1/documents/{UNKNOWN}/versions"), UNKNOWN_DOCUMENT),
        row("DELETE", format!("/api/v1/documents/{UNKNOWN}"), UNKNOWN_DOCUMENT),
        // Colleagues: the primary contact, or an admin, hands the role over
        with_body(
            "PUT",
            format!("/api/v1/organisations/{}/primary-contact", w.org_a),
            |_| json!({"user_id": UNKNOWN}),
            [401, 403, 404, 403, 403, 400, 403, 403],
        ),
        // Admin tools
        row("GET", "/api/v1/admin/outbox", ADMIN_ONLY),
        row(
            "POST",
            format!("/api/v1/admin/outbox/{}/retry", w.pending_outbox_id),
            [401, 403, 403, 403, 403, 409, 403, 403],
        ),
        // Webhooks: apps with webhooks:manage (the unscoped column) and admins. An admin must
        // name the app it subscribes for, hence 400 without api_client_id.
        with_body(
            "POST",
            "/api/v1/webhooks",
            |_| json!({"url": "https://partner.example.org/hook", "events": ["ping"]}),
            [401, 403, 403, 403, 403, 400, 403, 201],
        ),
        row("GET", "/api/v1/webhooks", WEBHOOKS),
        row("GET", format!("/api/v1/webhooks/{}", w.webhook), WEBHOOKS),
        with_body(
            "PATCH",
            format!("/api/v1/webhooks/{}", w.webhook),
            |_| json!({"description": "Matrix"}),
            WEBHOOKS,
        ),
        row(
            "POST",
            format!("/api/v1/webhooks/{}/rotate-secret", w.webhook),
            WEBHOOKS,
        ),
        row(
            "GET",
            format!("/api/v1/webhooks/{}/deliveries", w.webhook),
            WEBHOOKS,
        ),
        row(
            "POST",
            format!(
                "/api/v1/webhooks/{}/deliveries/{}/retry",
                w.webhook, w.webhook_delivery
            ),
            WEBHOOKS,
        ),
        row(
            "POST",
            // Without the required `since`: the callers allowed in get a 400 naming it.
            format!("/api/v1/webhooks/{}/replay", w.webhook),
            [401, 403, 403, 403, 403, 400, 403, 400],
        ),
        each(
            "DELETE",
            &w.webhooks_to_delete,
            |id| format!("/api/v1/webhooks/{id}"),
            [401, 403, 403, 403, 403, 204, 403, 204],
        ),
    ]
}

/// The app of the matrix: membership applications are not rate-limited here, since every
/// caller applies from the same test address.
async fn start() -> TestApp {
    TestApp::start_with(
        Backend::Sqlite,
        &[("APPLICATION_RATE_LIMIT_PER_IP", "1000")],
    )
    .await
}

#[actix_web::test]
async fn every_route_answers_every_caller_as_the_access_rules_say() {
    let app = start().await;
    let w = world(&app).await;
    let mut failures = Vec::new();
    for r in rows(&w) {
        for (i, caller) in CALLERS.iter().enumerate() {
            let path = &r.paths[i];
            let body = (r.body)(i);
            let mut req = app
                .req(r.method.parse().unwrap(), path)
                .auth(w.tokens[i].as_deref());
            if r.if_match {
                let etag = app
                    .get(path)
                    .auth(w.tokens[ADMIN].as_deref())
                    .send()
                    .await
                    .expect(200)
                    .header("etag")
                    .expect("an ETag");
                req = req.header("if-match", &etag);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            if let Some(f) = r.form {
                req = req.body("application/x-www-form-urlencoded", f);
            }
            let res = req.send().await;
            if res.status >= 500 {
                failures.push(format!("{} {path} as {caller}: 500 {}", r.method, res.text));
            } else if res.status != r.expect[i] {
                failures.push(format!(
                    "{} {path} as {caller}: expected {}, got {} {}",
                    r.method, r.expect[i], res.status, res.text
                ));
            } else if res.status >= 400 && path != "/api/v1/auth/token" {
                assert_eq!(
                    res.header("content-type").as_deref(),
                    Some("application/problem+json"),
                    "{} {path} as {caller}",
                    r.method
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix failures:\n{}",
        failures.join("\n")
    );
}

#[actix_web::test]
async fn every_documented_route_appears_in_the_matrix() {
    let app = start().await;
    let w = world(&app).await;
    let covered: Vec<(String, String)> = rows(&w)
        .iter()
        .map(|r| (r.method.to_string(), r.paths[0].clone()))
        .collect();
    let spec = idpc_hub::openapi::spec();
    for (path, item) in spec.paths.paths.iter() {
        let def = actix_web::dev::ResourceDef::new(path.as_str());
        for (method, present) in [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
            ("PUT", item.put.is_some()),
        ] {
            if present {
                let hit = covered
                    .iter()
                    .any(|(m, p)| m == method && (p == path || def.is_match(p)));
                assert!(hit, "{method} {path} is not in the authorization matrix");
            }
        }
    }
}

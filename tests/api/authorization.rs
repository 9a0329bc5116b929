//! The authorization matrix: every route against every kind of caller. Each cell states the
//! status that caller must get; no cell may be a 500. Add every new route here.

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

struct World {
    tokens: Vec<Option<String>>,
    member_a: TestUser,
    member_b: TestUser,
    invited_id: String,
    spare_client_ids: Vec<String>,
    org_a: String,
    pending_outbox_id: String,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin().await;
    let org_a = app.member_org("Organisation A").await;
    let org_b = app.member_org("Organisation B").await;
    let member_a = app.user("member", Some(&org_a)).await;
    let member_b = app.user("member", Some(&org_b)).await;
    let go = app.user("grant_officer", None).await;
    let fo = app.user("finance_officer", None).await;
    let (_, _, scoped) = app
        .api_client(&admin, &org_a, &["directory:read", "grants:read"])
        .await;
    let (_, _, unscoped) = app.api_client(&admin, &org_b, &["webhooks:manage"]).await;
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
    World {
        tokens: vec![
            None,
            Some(member_a.token.clone()),
            Some(member_b.token.clone()),
            Some(go.token),
            Some(fo.token),
            Some(admin.token),
            Some(scoped),
            Some(unscoped),
        ],
        member_a,
        member_b,
        invited_id: invited.body["id"].as_str().unwrap().to_string(),
        spare_client_ids,
        org_a,
        pending_outbox_id,
    }
}

/// One row: method, path, body for caller i, expected statuses per caller.
struct Row {
    method: &'static str,
    path: String,
    body: Box<dyn Fn(usize) -> Option<Value>>,
    form: Option<&'static str>,
    expect: [u16; 8],
}

fn row(method: &'static str, path: impl Into<String>, expect: [u16; 8]) -> Row {
    Row {
        method,
        path: path.into(),
        body: Box::new(|_| None),
        form: None,
        expect,
    }
}

fn with_body(
    method: &'static str,
    path: impl Into<String>,
    body: impl Fn(usize) -> Value + 'static,
    expect: [u16; 8],
) -> Row {
    Row {
        method,
        path: path.into(),
        body: Box::new(move |i| Some(body(i))),
        form: None,
        expect,
    }
}

const ALL_200: [u16; 8] = [200; 8];
const ADMIN_ONLY: [u16; 8] = [401, 403, 403, 403, 403, 200, 403, 403];
const USERS_ONLY: [u16; 8] = [401, 200, 200, 200, 200, 200, 403, 403];

fn rows(w: &World) -> Vec<Row> {
    let spare = w.spare_client_ids.clone();
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
            method: "POST",
            path: "/api/v1/auth/token".into(),
            body: Box::new(|_| None),
            form: Some("grant_type=client_credentials"),
            expect: [401; 8],
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
        row(
            "GET",
            format!("/api/v1/users/{}", w.member_a.id),
            ADMIN_ONLY,
        ),
        row(
            "GET",
            "/api/v1/users/00000000-0000-7000-8000-000000000000",
            [401, 403, 403, 403, 403, 404, 403, 403],
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
        Row {
            method: "DELETE",
            path: String::new(),
            body: Box::new(move |i| Some(json!(spare[i]))),
            form: None,
            expect: [401, 403, 403, 403, 403, 204, 403, 403],
        },
        // Directory
        with_body(
            "POST",
            "/api/v1/organisations",
            |i| json!({"name": format!("Matrix org {i}"), "kind": "member", "country": "FR", "region": "europe"}),
            [401, 403, 403, 403, 403, 201, 403, 403],
        ),
        row("GET", format!("/api/v1/organisations/{}", w.org_a), ALL_200),
        // Admin tools
        row("GET", "/api/v1/admin/outbox", ADMIN_ONLY),
        row(
            "POST",
            format!("/api/v1/admin/outbox/{}/retry", w.pending_outbox_id),
            [401, 403, 403, 403, 403, 409, 403, 403],
        ),
    ]
}

#[actix_web::test]
async fn every_route_answers_every_caller_as_the_access_rules_say() {
    let app = TestApp::start(Backend::Sqlite).await;
    let w = world(&app).await;
    let mut failures = Vec::new();
    for r in rows(&w) {
        for (i, caller) in CALLERS.iter().enumerate() {
            let (path, body) = if r.method == "DELETE" {
                (
                    format!(
                        "/api/v1/api-clients/{}",
                        (r.body)(i).unwrap().as_str().unwrap()
                    ),
                    None,
                )
            } else {
                (r.path.clone(), (r.body)(i))
            };
            let mut req = app
                .req(r.method.parse().unwrap(), &path)
                .auth(w.tokens[i].as_deref());
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
    let app = TestApp::start(Backend::Sqlite).await;
    let w = world(&app).await;
    let covered: Vec<(String, String)> = rows(&w)
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                if r.method == "DELETE" {
                    "/api/v1/api-clients/{id}".into()
                } else {
                    r.path.clone()
                },
            )
        })
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

//! HTTP as clients expect it, on every route at once: HEAD, CORS refusals as problems,
//! `Link` on pages, `Cache-Control` per answer, the document's ETag, strong `If-Match`,
//! and the rate-limit fields.

use actix_web::http::Method;
use serde_json::json;

use crate::common::{PASSWORD, TestApp};
use crate::on_both;

/// Every GET path of the document, `{…}` parameters filled with an unknown id.
fn get_paths(app: &TestApp) -> Vec<String> {
    let doc = serde_json::to_value(&*app.state.openapi).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_some() {
            let mut p = String::new();
            let mut rest = path.as_str();
            while let Some(start) = rest.find('{') {
                p.push_str(&rest[..start]);
                p.push_str("0190f0e0-0000-7000-8000-000000000000");
                rest = &rest[rest[start..].find('}').unwrap() + start + 1..];
            }
            p.push_str(rest);
            out.push(p);
        }
    }
    assert!(out.len() > 10, "{out:?}");
    out
}

on_both! {
    async fn head_answers_like_get_on_every_get_route(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let mut paths = get_paths(&app);
        paths.extend(["/openapi.json".to_string(), "/docs/".to_string()]);
        for path in paths {
            for token in [None, Some(admin.token.as_str())] {
                let get = app.get(&path).auth(token).send().await;
                let head = app.req(Method::HEAD, &path).auth(token).send().await;
                assert_eq!(head.status, get.status, "HEAD {path} ({token:?}): {}", get.text);
                assert!(head.text.is_empty(), "HEAD {path} sent a body: {}", head.text);
                assert_eq!(
                    head.header("content-type"),
                    get.header("content-type"),
                    "HEAD {path}"
                );
                assert!(head.header("x-request-id").is_some(), "HEAD {path}");
                if !path.starts_with("/metrics") && !path.starts_with("/health") {
                    assert_eq!(
                        head.header("content-length"),
                        get.header("content-length"),
                        "HEAD {path}"
                    );
                }
            }
        }
    }
}

on_both! {
    async fn a_refused_cors_request_or_preflight_is_a_problem_with_a_request_id(backend) {
        let app = TestApp::start_with(backend, &[("CORS_ALLOWED_ORIGINS", "https://partner.example")]).await;
        let preflight = app
            .req(Method::OPTIONS, "/api/v1/grants")
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "GET")
            .send()
            .await
            .expect_problem(400);
        assert_eq!(preflight.header("access-control-allow-origin"), None);
        let allowed = app
            .req(Method::OPTIONS, "/api/v1/grants")
            .header("origin", "https://partner.example")
            .header("access-control-request-method", "GET")
            .send()
            .await
            .expect(200);
        assert_eq!(
            allowed.header("access-control-allow-origin").as_deref(),
            Some("https://partner.example")
        );
        let refused = app
            .get("/api/v1/organisations")
            .header("origin", "https://evil.example")
            .send()
            .await;
        if refused.status >= 400 {
            refused.expect_problem(400);
        } else {
            assert_eq!(refused.header("access-control-allow-origin"), None);
        }
    }
}

on_both! {
    async fn a_page_with_a_next_cursor_links_to_the_next_page_keeping_the_query(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        for _ in 0..3 {
            app.user("admin", None).await;
        }
        let first = app
            .get("/api/v1/users?limit=2")
            .bearer(&admin.token)
            .send()
            .await
            .expect(200);
        let cursor = first.body["next_cursor"].as_str().expect("a next page").to_string();
        let link = first.header("link").expect("Link header");
        let expected = format!("</api/v1/users?limit=2&cursor={cursor}>; rel=\"next\"");
        assert_eq!(link, expected);
        let next = link.trim_start_matches('<').split('>').next().unwrap().to_string();
        let second = app.get(&next).bearer(&admin.token).send().await.expect(200);
        assert_eq!(second.body["data"].as_array().unwrap().len(), 2);
        assert!(second.body["next_cursor"].is_null());
        assert_eq!(second.header("link"), None, "the last page has no next link");
    }
}

on_both! {
    async fn cache_control_fits_each_answer(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        assert_eq!(app.get("/health/live").send().await.header("cache-control").as_deref(), Some("no-store"));
        let login = app
            .post("/api/v1/auth/login")
            .json(&json!({"email": admin.email, "password": PASSWORD}))
            .send()
            .await
            .expect(200);
        assert_eq!(login.header("cache-control").as_deref(), Some("no-store"));
        let org = app.member_org("Cache Org").await;
        let got = app
            .get(&format!("/api/v1/organisations/{org}"))
            .bearer(&admin.token)
            .send()
            .await
            .expect(200);
        assert!(got.header("etag").is_some());
        assert_eq!(got.header("cache-control").as_deref(), Some("private, no-cache"));
        // A list has no ETag: not stored.
        let list = app.get("/api/v1/users").bearer(&admin.token).send().await.expect(200);
        assert_eq!(list.header("cache-control").as_deref(), Some("no-store"));

        let doc = app.get("/openapi.json").send().await.expect(200);
        let etag = doc.header("etag").expect("the document has an ETag");
        assert!(doc.header("cache-control").unwrap().starts_with("public, max-age="));
        let again = app
            .get("/openapi.json")
            .header("if-none-match", &etag)
            .send()
            .await
            .expect(304);
        assert!(again.text.is_empty());
        assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
        let asset = app.get("/docs/swagger-ui.css").send().await.expect(200);
        assert!(asset.header("cache-control").unwrap().starts_with("public, max-age="));
    }
}

on_both! {
    async fn the_served_document_names_this_deployment_as_its_server(backend) {
        let app = TestApp::start_with(backend, &[("PUBLIC_BASE_URL", "https://hub.example.org/")]).await;
        let doc = app.get("/openapi.json").send().await.expect(200);
        assert_eq!(doc.body["servers"][0]["url"], "https://hub.example.org");
        assert_eq!(
            doc.body["paths"]["/api/v1/grants"]["get"]["security"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s.get("oauth2").is_some())
                .count(),
            1
        );
    }
}

on_both! {
    async fn a_rate_limited_answer_carries_retry_after_and_ratelimit_fields(backend) {
        let app = TestApp::start_with(backend, &[("AUTH_RATE_LIMIT_PER_IP", "2")]).await;
        let body = json!({"email": "nobody@users.example", "password": "wrong password 123"});
        let first = app.post("/api/v1/auth/login").json(&body).send().await;
        let per_account = app.state.config.auth_rate_limit_per_account;
        assert_eq!(
            first.header("ratelimit-policy").unwrap(),
            format!("\"ip\";q=2;w=60, \"account\";q={per_account};w=60")
        );
        app.post("/api/v1/auth/login").json(&body).send().await;
        let refused = app.post("/api/v1/auth/login").json(&body).send().await.expect_problem(429);
        let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry));
        assert_eq!(refused.header("ratelimit").unwrap(), format!("\"ip\";r=0;t={retry}"));
        assert!(refused.header("ratelimit-policy").is_some());
    }
}

/// Sent to a route that uses `crate::extract::IfMatch`.
#[actix_web::test]
#[ignore = "passes once the directory branch uses crate::extract::IfMatch (today's local copy strips W/)"]
async fn a_weak_if_match_is_refused_with_412() {
    let app = TestApp::start(crate::common::Backend::Sqlite).await;
    let admin = app.admin().await;
    let org = app.member_org("Weak Tag Org").await;
    let r = app
        .patch(&format!("/api/v1/organisations/{org}"))
        .bearer(&admin.token)
        .header("if-match", "W/\"1\"")
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .expect_problem(412);
    assert_eq!(r.body["current_version"], 1);
    app.patch(&format!("/api/v1/organisations/{org}"))
        .bearer(&admin.token)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .expect(200);
}

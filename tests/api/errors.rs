//! Every failure is problem+json with its status and the request id; nothing internal leaks.

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, web};

use crate::common::{Backend, TestApp, http};

#[actix_web::test]
async fn unknown_route_is_a_404_problem() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app
        .get("/api/v1/nothing-here")
        .send()
        .await
        .expect_problem(404);
    assert_eq!(r.body["instance"], "/api/v1/nothing-here");
    assert_eq!(r.body["type"], "urn:idpc-hub:problem:not-found");
}

#[actix_web::test]
async fn wrong_method_is_a_405_problem_with_allow() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app.delete("/health/ready").send().await.expect_problem(405);
    assert_eq!(r.header("allow").as_deref(), Some("GET, HEAD"));
}

#[actix_web::test]
async fn a_sane_request_id_is_echoed_and_an_insane_one_replaced() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app
        .get("/nope")
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect_problem(404);
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
    let bad = "x".repeat(300);
    let r = app
        .get("/nope")
        .header("x-request-id", &bad)
        .send()
        .await
        .expect_problem(404);
    let id = r.header("x-request-id").unwrap();
    assert_ne!(id, bad);
    assert_eq!(id.len(), 36, "a generated UUID");
}

async fn boom() -> HttpResponse {
    panic!("boom in /srv/idpc-hub/src/secret.rs with SELECT * FROM users");
}

#[actix_web::test]
async fn a_handler_panic_is_a_500_problem_and_the_server_keeps_serving() {
    let svc = http::init(
        App::new()
            .route("/boom", web::get().to(boom))
            .route(
                "/ok",
                web::get().to(|| async { HttpResponse::Ok().body("fine") }),
            )
            .wrap(from_fn(idpc_hub::middleware::request_context)),
    )
    .await;
    let r = http::send(&svc, actix_web::test::TestRequest::get().uri("/boom"))
        .await
        .expect_problem(500);
    assert!(
        !r.text.contains("SELECT") && !r.text.contains("secret.rs") && !r.text.contains("boom in"),
        "{}",
        r.text
    );
    assert_eq!(r.body["instance"], "/boom");
    let ok = http::send(&svc, actix_web::test::TestRequest::get().uri("/ok"))
        .await
        .expect(200);
    assert_eq!(ok.text, "fine");
}

#[actix_web::test]
async fn malformed_json_is_a_400_naming_the_position() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app
        .post("/api/v1/auth/login")
        .body(
            "application/json",
            r#"{"email": "a@b.example", "password": "#,
        )
        .send()
        .await
        .expect_problem(400);
    assert_eq!(r.first_error_field(), "body");
    assert_eq!(r.body["errors"][0]["code"], "malformed_json");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 1 column"),
        "{}",
        r.text
    );
}

#[actix_web::test]
async fn a_mistyped_or_missing_or_unknown_field_is_a_400_naming_it() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({"email": 42, "password": "x"}))
        .send()
        .await
        .expect_problem(400);
    assert_eq!(r.first_error_field(), "email");
    let r = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({"email": "a@b.example"}))
        .send()
        .await
        .expect_problem(400);
    assert_eq!(
        (
            r.first_error_field().as_str(),
            r.body["errors"][0]["code"].as_str()
        ),
        ("password", Some("required"))
    );
    let r = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({"email": "a@b.example", "password": "x", "remember": true}))
        .send()
        .await
        .expect_problem(400);
    assert_eq!(
        (
            r.first_error_field().as_str(),
            r.body["errors"][0]["code"].as_str()
        ),
        ("remember", Some("unknown_field"))
    );
    let r = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!(["a", "b"]))
        .send()
        .await
        .expect_problem(400);
    assert_eq!(r.first_error_field(), "body");
}

#[actix_web::test]
async fn a_wrong_content_type_is_a_415() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app
        .post("/api/v1/auth/login")
        .body("text/plain", "email=a")
        .send()
        .await
        .expect_problem(415);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

#[actix_web::test]
async fn a_body_over_the_configured_limit_is_a_413() {
    let app = TestApp::start_with(Backend::Sqlite, &[("MAX_BODY_BYTES", "2048")]).await;
    let big = format!(
        r#"{{"email": "a@b.example", "password": "{}"}}"#,
        "x".repeat(4096)
    );
    let r = app
        .post("/api/v1/auth/login")
        .body("application/json", big)
        .send()
        .await
        .expect_problem(413);
    assert!(r.body["detail"].as_str().unwrap().contains("2048"));
    // Just under the limit is read (and is merely a wrong password).
    let ok = format!(
        r#"{{"email": "a@b.example", "password": "{}"}}"#,
        "x".repeat(1900)
    );
    app.post("/api/v1/auth/login")
        .body("application/json", ok)
        .send()
        .await
        .expect_problem(401);
}

#[actix_web::test]
async fn the_default_body_limit_is_one_mebibyte() {
    let app = TestApp::start(Backend::Sqlite).await;
    let big = format!(
        r#"{{"email": "a@b.example", "password": "{}"}}"#,
        "x".repeat(1 << 20)
    );
    app.post("/api/v1/auth/login")
        .body("application/json", big)
        .send()
        .await
        .expect_problem(413);
}

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

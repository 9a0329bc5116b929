//! Health, readiness, metrics, the docs page and the generated files that must stay true.

use crate::common::{Backend, TestApp};
use crate::on_both;

on_both! {
    async fn readiness_names_the_backend_and_current_migrations(backend) {
        let app = TestApp::start(backend).await;
        let r = app.get("/health/ready").send().await.expect(200);
        assert_eq!(r.body["status"], "ready");
        assert_eq!(r.body["database"], if backend == Backend::Sqlite { "sqlite" } else { "postgres" });
        assert_eq!(r.body["migrations"], "current");
    }
}

on_both! {
    async fn liveness_answers_without_a_database_round_trip(backend) {
        let app = TestApp::start(backend).await;
        let r = app.get("/health/live").send().await.expect(200);
        assert_eq!(r.body["status"], "live");
        assert!(r.header("x-request-id").is_some());
    }
}

#[actix_web::test]
async fn metrics_report_requests_by_route_pool_state_and_outbox() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.get("/health/live").send().await.expect(200);
    let r = app.get("/metrics").send().await.expect(200);
    assert!(
        r.text
            .contains("idpc_hub_http_requests_total{endpoint=\"/health/live\""),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("idpc_hub_http_requests_duration_seconds_bucket")
    );
    assert!(
        r.text
            .contains("idpc_hub_db_pool_connections{state=\"max\"} 8")
    );
    assert!(
        r.text
            .contains("idpc_hub_outbox_messages{status=\"pending\"} 0")
    );
    assert!(
        r.text
            .contains("idpc_hub_outbox_oldest_pending_age_seconds 0")
    );
}

#[actix_web::test]
async fn api_responses_carry_security_headers() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app.get("/health/live").send().await;
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
}

#[actix_web::test]
async fn cors_allows_only_configured_origins() {
    let app = TestApp::start_with(
        Backend::Sqlite,
        &[("CORS_ALLOWED_ORIGINS", "https://partner.example")],
    )
    .await;
    let ok = app
        .get("/health/live")
        .header("origin", "https://partner.example")
        .send()
        .await;
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some("https://partner.example")
    );
    let other = app
        .get("/health/live")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[actix_web::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app
        .get("/openapi.json")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect(200);
    assert_eq!(r.header("content-encoding").as_deref(), Some("gzip"));
}

#[actix_web::test]
async fn docs_page_is_served_from_the_binary_and_references_no_external_host() {
    let app = TestApp::start(Backend::Sqlite).await;
    let redirect = app.get("/docs").send().await;
    assert_eq!(redirect.status, 308);
    let page = app.get("/docs/").send().await.expect(200);
    assert!(page.text.contains("swagger-ui"));
    let mut assets = vec!["swagger-initializer.js".to_string()];
    for attr in ["src=\"", "href=\""] {
        for part in page.text.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(
                !url.contains("://") && !url.starts_with("//"),
                "external reference {url}"
            );
            assets.push(url.trim_start_matches("./").to_string());
        }
    }
    for asset in assets {
        let r = app.get(&format!("/docs/{asset}")).send().await;
        assert_eq!(r.status, 200, "asset {asset} is served");
        if asset.ends_with("initializer.js") {
            assert!(
                r.text.contains("/openapi.json"),
                "initializer loads our spec: {}",
                r.text
            );
            assert!(
                r.text.contains("\"validatorUrl\": \"none\"")
                    || r.text.contains("\"validatorUrl\":\"none\""),
                "{}",
                r.text
            );
            assert!(
                !r.text.contains("https://"),
                "initializer names no external host: {}",
                r.text
            );
        }
    }
}

#[actix_web::test]
async fn openapi_document_is_3_1_with_security_schemes() {
    let app = TestApp::start(Backend::Sqlite).await;
    let r = app.get("/openapi.json").send().await.expect(200);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(
        r.body["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["tokenUrl"],
        "/api/v1/auth/token"
    );
    assert!(r.body["paths"]["/health/ready"]["get"].is_object());
}

/// Regenerate with `cargo run -- openapi > openapi/openapi.json`.
#[test]
fn committed_openapi_file_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap_or_default();
    let generated = idpc_hub::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

/// Regenerate with `cargo run -- env-example > .env.example`.
#[test]
fn committed_env_example_matches_the_settings() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.example"))
        .unwrap_or_default();
    assert!(
        committed == idpc_hub::config::env_example(),
        ".env.example is stale: run `cargo run -- env-example > .env.example`"
    );
}

/// Regenerate with `cargo run -q -- env-example --readme` pasted between the markers.
#[test]
fn committed_readme_settings_table_matches_the_settings() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split_once("<!-- settings-table:")
        .and_then(|(_, rest)| rest.split_once("-->\n"))
        .and_then(|(_, rest)| rest.split_once("<!-- /settings-table -->"))
        .map(|(table, _)| table)
        .expect("README.md has the settings-table markers");
    assert!(
        table == idpc_hub::config::readme_table(),
        "README.md's configuration table is stale: paste `cargo run -q -- env-example --readme` \
         between its settings-table markers"
    );
}

#[test]
fn env_example_lists_every_setting_of_the_design() {
    let example = idpc_hub::config::env_example();
    for name in [
        "BIND_ADDR",
        "PORT",
        "DATABASE_URL",
        "DATABASE_POOL_SIZE",
        "APP_ENV",
        "PUBLIC_BASE_URL",
        "NETWORK_NAME",
        "JWT_KEYS",
        "MAIL_TRANSPORT",
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_SECURITY",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "MAIL_FROM",
        "OUTBOX_MAX_ATTEMPTS",
        "OUTBOX_RETRY_BASE_MS",
        "LOG_FORMAT",
        "RUST_LOG",
    ] {
        assert!(example.contains(&format!("\n{name}=")), "{name} missing");
    }
}

#[test]
fn the_readme_documents_every_setting() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for s in idpc_hub::config::SETTINGS {
        assert!(
            readme.contains(&format!("`{}`", s.name)),
            "README.md lacks {}",
            s.name
        );
    }
}

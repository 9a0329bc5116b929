//! Operations endpoints: liveness, readiness (a database round trip and current migrations)
//! and Prometheus metrics. They carry no secrets and need no token.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::db;
use crate::error::ApiError;
use crate::error::docs::Unavailable;

/// Liveness answer.
#[derive(Serialize, ToSchema)]
pub struct Live {
    /// Always `live`.
    pub status: &'static str,
}

/// Readiness answer.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// `current` when every migration is applied.
    pub migrations: &'static str,
    /// The running version.
    pub version: &'static str,
}

/// The process is up.
#[utoipa::path(
    description = "Anyone. Changes nothing; answers 200 while the process runs (for liveness probes).",
    security(),
    tag = "operations", responses((status = 200, description = "Alive", body = Live)))]
#[get("/health/live")]
pub async fn live() -> web::Json<Live> {
    web::Json(Live { status: "live" })
}

/// The database answers and every migration is applied.
#[utoipa::path(
    description = "Anyone. Changes nothing; 503 while the database is unreachable or a migration is pending (for readiness probes).",
    security(),
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Ready),
        Unavailable,
    )
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<Ready>, ApiError> {
    let backend = state.config.database_url.backend();
    let checked = state
        .db(|conn| {
            db::backend::ping(conn)?;
            Ok(db::migrations_current(conn)?)
        })
        .await;
    match checked {
        Ok(true) => Ok(web::Json(Ready {
            status: "ready",
            database: backend,
            migrations: "current",
            version: env!("CARGO_PKG_VERSION"),
        })),
        Ok(false) => Err(ApiError::Unavailable(
            "Database migrations are pending.".into(),
            5,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::Unavailable(
                "The database is not reachable.".into(),
                5,
            ))
        }
    }
}

/// Prometheus metrics: requests and latency by route, pool and outbox state.
#[utoipa::path(
    description = "Anyone who can reach it (keep it off the public network). Prometheus text format; changes nothing.",
    security(),
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain", example = json!(metrics_example())))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let pool_state = state.pool.state();
    let m = &state.metrics;
    m.pool
        .with_label_values(&["max"])
        .set(i64::from(state.pool.max_size()));
    m.pool
        .with_label_values(&["open"])
        .set(i64::from(pool_state.connections));
    m.pool
        .with_label_values(&["idle"])
        .set(i64::from(pool_state.idle_connections));
    let st = state.get_ref().clone();
    if let Err(e) = crate::notify::refresh_metrics(&st).await {
        tracing::warn!(error = %e, "could not refresh outbox metrics");
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(m.render())
}

/// The example of the metrics answer: one counter.
fn metrics_example() -> serde_json::Value {
    serde_json::json!(
        "# HELP idpc_hub_http_requests_total Total number of HTTP requests\n\
         # TYPE idpc_hub_http_requests_total counter\n\
         idpc_hub_http_requests_total{endpoint=\"/api/v1/grants\",method=\"GET\",status=\"200\"} 12\n"
    )
}

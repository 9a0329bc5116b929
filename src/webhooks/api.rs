//! HTTP for webhooks: subscriptions (partner apps with `webhooks:manage` manage their own,
//! admins any), secret rotation, the delivery log, retry and replay. Thin: every rule is in
//! `service.rs`.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::model::*;
use super::service;
use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{
    AuthErrors, BodyErrors, ConflictError, NotFoundError, QueryErrors, RateLimited,
};
use crate::extract::Json;
use crate::pagination::{self, Page};

/// Paging of the subscription list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Filters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// pending, delivered or failed.
    pub status: Option<super::model::DeliveryStatus>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// What to replay.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReplayQuery {
    /// Re-send every delivery recorded at or after this time (RFC 3339).
    #[param(example = "2026-11-30T00:00:00Z", format = DateTime)]
    pub since: String,
}

/// Subscribe a partner app to events (apps with `webhooks:manage`, or admins naming the app).
#[utoipa::path(
    description = "Partner apps with `webhooks:manage`, or admins naming the app. Only HTTPS receivers on public addresses; a ping is queued. Audited.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    request_body = NewSubscription,
    responses(
        (status = 201, description = "Created; the secret is shown this once and a ping is queued", body = CreatedSubscription, headers(("Location" = String, description = "URL of the subscription"))),
        BodyErrors, AuthErrors,
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<NewSubscription>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let created = state
        .db(move |c| service::create(c, &config, &who, &meta, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/webhooks/{}", created.subscription.id),
        ))
        .json(created))
}

/// List the caller's subscriptions (every subscription for admins).
#[utoipa::path(
    description = "Partner apps with `webhooks:manage` (their own) and admins (all). Changes nothing.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(SubscriptionQuery),
    responses(
        (status = 200, description = "A page of subscriptions", body = Page<Subscription>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<SubscriptionQuery>,
) -> Result<web::Json<Page<Subscription>>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let cursor = q.cursor.clone();
    let now = state.clock().naive();
    let page = state
        .db(move |c| service::list(c, &who, limit, cursor.as_deref(), now))
        .await?;
    Ok(web::Json(page))
}

/// One subscription (never its secret).
#[utoipa::path(
    description = "The owning app, or admins. Changes nothing.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = Subscription),
        AuthErrors, NotFoundError,
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Subscription>, ApiError> {
    let now = state.clock().naive();
    let s = state.db(move |c| service::get(c, &who, &id, now)).await?;
    Ok(web::Json(s))
}

/// Change a subscription (merge patch). Enabling it again clears the reason it was disabled.
#[utoipa::path(
    description = "The owning app, or admins. Audited.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id")),
    request_body = SubscriptionPatch,
    responses(
        (status = 200, description = "The changed subscription", body = Subscription),
        BodyErrors, AuthErrors, NotFoundError,
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<SubscriptionPatch>,
) -> Result<web::Json<Subscription>, ApiError> {
    let config = state.config.clone();
    let s = state
        .db(move |c| service::update(c, &config, &who, &meta, &id, body.0))
        .await?;
    Ok(web::Json(s))
}

/// Delete a subscription with its delivery log.
#[utoipa::path(
    description = "The owning app, or admins. Deletes the subscription with its delivery log; audited.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        AuthErrors, NotFoundError,
    )
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    state
        .db(move |c| service::delete(c, &config, &who, &meta, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Replace the signing secret. During the rotation window deliveries carry signatures with
/// both the new and the previous secret.
#[utoipa::path(
    description = "The owning app, or admins. Audited; the new secret is in this answer only.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The new secret, shown this once", body = RotatedSecret),
        AuthErrors, NotFoundError,
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<RotatedSecret>, ApiError> {
    let config = state.config.clone();
    let r = state
        .db(move |c| service::rotate_secret(c, &config, &who, &meta, &id))
        .await?;
    Ok(web::Json(r))
}

/// The delivery log, newest first: status, attempts (each with its answer), next attempt.
#[utoipa::path(
    description = "The owning app, or admins. Changes nothing.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id"), DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<Delivery>),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    q: web::Query<DeliveryQuery>,
) -> Result<web::Json<Page<Delivery>>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let (status, cursor) = (q.status, q.cursor.clone());
    let page = state
        .db(move |c| service::deliveries(c, &who, &id, status, limit, cursor.as_deref()))
        .await?;
    Ok(web::Json(page))
}

/// Send a delivery again now, with the same `webhook-id` and body, signed afresh.
#[utoipa::path(
    description = "The owning app, or admins; the subscription must be enabled.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Subscription id"),
        ("delivery_id" = uuid::Uuid, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "Queued for now", body = Delivery),
        AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Delivery>, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let config = state.config.clone();
    let d = state
        .db(move |c| service::retry(c, &config, &who, &meta, &id, &delivery_id))
        .await?;
    Ok(web::Json(d))
}

/// Re-send everything recorded since a time (what a receiver missed), in the original order
/// and with the original `webhook-id`s, each as the app may read it today.
#[utoipa::path(
    description = "The owning app, or admins; the subscription must be enabled. At most a bounded number of deliveries per call, and `WEBHOOK_REPLAYS_PER_HOUR` calls per subscription in any hour (429 with `Retry-After` beyond). Each event is rendered through today's partner view: nothing hidden since is sent again.",
    tag = "webhooks",
    security(("bearer" = []), ("oauth2" = ["webhooks:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Subscription id"), ReplayQuery),
    responses(
        (status = 202, description = "Queued", body = ReplayResult),
        QueryErrors, AuthErrors, NotFoundError, ConflictError, RateLimited,
    )
)]
#[post("/webhooks/{id}/replay")]
pub async fn replay_webhook(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    // Who may replay is decided before the parameters are read: 403 comes before 400.
    service::Manager::of(&who)?;
    let q = web::Query::<ReplayQuery>::from_query(req.query_string())
        .map_err(|e| ApiError::field("since", "invalid", e.to_string()))?;
    let since = chrono::DateTime::parse_from_rfc3339(q.since.trim())
        .map_err(|_| {
            ApiError::field(
                "since",
                "invalid",
                "Use an RFC 3339 time such as 2026-11-30T00:00:00Z.",
            )
        })?
        .naive_utc();
    let config = state.config.clone();
    let r = state
        .db(move |c| service::replay(c, &config, &who, &meta, &id, since))
        .await?;
    Ok(HttpResponse::Accepted().json(r))
}

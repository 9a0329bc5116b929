//! Handlers of funds.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::AppState;
use crate::auth::caller::{FinanceOrAdmin, GrantStaff, Staff};
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{
    AuthErrors, BodyErrors, ConflictError, IdempotencyErrors, NotFoundError, QueryErrors,
    VersionErrors,
};
use crate::extract::{IfMatch, Json, etag};
use crate::grants::fund::{self, ConfirmIncrease, Fund, FundPatch, NewFund};
use crate::idempotency::{self, Call, Outcome};
use crate::pagination::{self, Page};

/// Create a fund (admins and grant officers). Accepts Idempotency-Key.
#[utoipa::path(
    description = "Admins and grant officers. Records money received from a donor; audited. Emails nothing.",
    tag = "funds",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = NewFund,
    responses(
        (status = 201, description = "Created", body = Fund, headers(("Location" = String, description = "URL of the fund"), ("ETag" = String, description = "Version"))),
        AuthErrors, BodyErrors, IdempotencyErrors,
    )
)]
#[post("/funds")]
pub async fn create_fund(
    state: web::Data<AppState>,
    who: crate::auth::Principal,
    meta: RequestMeta,
    req: HttpRequest,
    body: Json<NewFund>,
) -> Result<HttpResponse, ApiError> {
    let staff = GrantStaff::try_from(&who)?;
    let config = state.config.clone();
    if req.headers().contains_key(idempotency::HEADER) {
        let fp = super::fingerprint(&body.0)?;
        return idempotency::run(&state, &who, &req, fp, move |c| {
            let row = fund::create(c, &config, &staff, &meta, body.0)?;
            Outcome::created(format!("/api/v1/funds/{}", row.id), &Fund::from(row))
        })
        .await;
    }
    let row = state
        .db(move |c| fund::create(c, &config, &staff, &meta, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/funds/{}", row.id)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(Fund::from(row)))
}

/// Filters of the fund list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FundListParams {
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Only funds whose amount waits for a second person (a raise, or a new fund's amount):
    /// the queue of finance officers and admins.
    #[serde(default)]
    pub pending: bool,
}

/// List funds (staff); `pending=true` lists those whose amount waits for confirmation.
#[utoipa::path(
    description = "Staff (admins, grant officers, finance). Funds with their counters. Changes nothing.",
    tag = "funds",
    security(("bearer" = [])),
    params(FundListParams),
    responses(
        (status = 200, description = "A page of funds", body = Page<Fund>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/funds")]
pub async fn list_funds(
    state: web::Data<AppState>,
    who: crate::auth::Principal,
    q: web::Query<FundListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let who = Staff::try_from(&who)?;
    let cursor = q.cursor.clone();
    let pending = q.pending;
    let page = state
        .db(move |c| fund::list(c, &who, pending, limit, cursor.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A fund with what is awarded, disbursed and remaining (staff).
#[utoipa::path(
    description = "Staff. A fund with what is reserved, awarded, paid and remaining. Changes nothing.",
    tag = "funds",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Fund id")),
    responses(
        (status = 200, description = "The fund", body = Fund, headers(("ETag" = String, description = "Version"))),
        AuthErrors, NotFoundError,
    )
)]
#[get("/funds/{id}")]
pub async fn get_fund(
    state: web::Data<AppState>,
    who: Staff,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = state.db(move |c| fund::get(c, &who, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Fund::from(row)))
}

/// Change a fund (admins and grant officers; If-Match required).
#[utoipa::path(
    description = "Admins and grant officers. Changes a fund; its amount may never fall below what is reserved. Audited.",
    tag = "funds",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Fund id"), ("If-Match" = String, Header, description = "ETag of the fund")),
    request_body = FundPatch,
    responses(
        (status = 200, description = "Updated", body = Fund, headers(("ETag" = String, description = "Version"))),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, VersionErrors,
    )
)]
#[patch("/funds/{id}")]
pub async fn update_fund(
    state: web::Data<AppState>,
    who: crate::auth::Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<FundPatch>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let who = GrantStaff::try_from(&who)?;
    let config = state.config.clone();
    let row = state
        .db(move |c| fund::update(c, &config, &who, &meta, &id, version, body.0))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Fund::from(row)))
}

/// Confirm the amount of a fund that waits as `pending_amount` (a raise, or a new fund's
/// amount), naming the amount read: a finance officer or admin other than the one who asked
/// for it (409 `self_approval` otherwise; 409 `pending_changed` when another amount waits by
/// now; 409 when none waits). Accepts Idempotency-Key.
#[utoipa::path(
    description = "A finance officer or admin other than the one who asked for the raise. Applies the pending amount to the fund; audited as an event of the fund.",
    tag = "funds",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Fund id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ConfirmIncrease,
    responses(
        (status = 200, description = "The fund with its new amount", body = Fund),
        BodyErrors, AuthErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/funds/{id}/amount-increase/approve")]
pub async fn approve_fund_increase(
    call: Call,
    id: web::Path<String>,
    body: Json<ConfirmIncrease>,
) -> Result<HttpResponse, ApiError> {
    let me = FinanceOrAdmin::try_from(&call.who)?;
    let id = id.into_inner();
    let fp = super::fingerprint(&body.0)?;
    call.once(fp, move |c, config, _, meta| {
        let row = fund::approve_increase(c, config, &me, meta, &id, body.0)?;
        Outcome::ok(&Fund::from(row))
    })
    .await
}

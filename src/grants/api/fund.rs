//! Handlers of funds.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};

use crate::AppState;
use crate::auth::Role;
use crate::auth::caller::{GrantStaff, Staff};
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{
    AuthErrors, BodyErrors, ConflictError, IdempotencyErrors, NotFoundError, QueryErrors,
    VersionErrors,
};
use crate::extract::{IfMatch, Json, etag};
use crate::grants::fund::{self, Fund, FundPatch, NewFund};
use crate::idempotency::{self, Outcome};
use crate::pagination::{self, Page, PageParams};

/// Create a fund (admins and grant officers). Accepts Idempotency-Key.
#[utoipa::path(
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

/// List funds (staff).
#[utoipa::path(
    tag = "funds",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of funds", body = Page<Fund>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/funds")]
pub async fn list_funds(
    state: web::Data<AppState>,
    who: crate::auth::Principal,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let who = Staff::try_from(&who)?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| fund::list(c, &who, limit, cursor.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A fund with what is awarded, disbursed and remaining (staff).
#[utoipa::path(
    tag = "funds",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Fund id")),
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
    tag = "funds",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Fund id"), ("If-Match" = String, Header, description = "ETag of the fund")),
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

/// Confirm the raise of a fund's amount that waits as `pending_amount` (a finance officer or
/// admin other than the one who asked for it: 409 `self_approval` otherwise; 409 when none
/// waits). Accepts Idempotency-Key.
#[utoipa::path(
    tag = "funds",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Fund id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The fund with its new amount", body = Fund),
        QueryErrors, AuthErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/funds/{id}/amount-increase/approve")]
pub async fn approve_fund_increase(
    state: web::Data<AppState>,
    who: crate::auth::Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let me = who
        .require_role(&[Role::FinanceOfficer, Role::Admin])?
        .clone();
    let config = state.config.clone();
    let id = id.into_inner();
    idempotency::run(&state, &who, &req, serde_json::Value::Null, move |c| {
        let row = fund::approve_increase(c, &config, &me, &meta, &id)?;
        Outcome::ok(&Fund::from(row))
    })
    .await
}

//! HTTP handlers for funds, grants, tranches, reports and exports: parse, call one service
//! function, answer. Money-moving POSTs go through `crate::idempotency`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::export;
use super::model::*;
use super::service::{self, GrantCommand, ReportCommand, TrancheCommand};
use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::db::DbConn;
use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::idempotency::{self, Outcome};
use crate::pagination::{self, Page};

/// Paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Filters and paging of the grant list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantListParams {
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// draft, submitted, approved, active, closed, rejected or cancelled.
    pub status: Option<String>,
    /// Fund id.
    pub fund_id: Option<String>,
    /// Grantee organisation id.
    pub grantee_organisation_id: Option<String>,
    /// Strategic pillar.
    pub pillar: Option<String>,
    /// One priority area.
    pub priority_area: Option<String>,
    /// Year of the reference (IDPC-YEAR-NNNN).
    pub year: Option<i32>,
}

/// Filters and paging of the tranche list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisbursementListParams {
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// requested (the approval queue), approved, rejected, cancelled, paid or reversed.
    pub status: Option<String>,
    /// Only tranches of this grant.
    pub grant_id: Option<String>,
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version named by `If-Match` (`"3"` or `W/"3"`): 428 without it, 400 when unreadable.
fn if_match(req: &HttpRequest) -> Result<i64, ApiError> {
    let raw = req
        .headers()
        .get(header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .unwrap_or("");
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map_err(|_| {
            ApiError::field(
                "If-Match",
                "invalid",
                "Send the ETag of the resource, such as \"3\".",
            )
        })
}

fn fingerprint<T: Serialize>(body: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(ApiError::internal)
}

fn tranche_answer(
    c: &mut DbConn,
    command: impl FnOnce(&mut DbConn) -> Result<DisbursementRow, ApiError>,
) -> Result<Disbursement, ApiError> {
    let row = command(c)?;
    let currency = service::grant_by_id(c, &row.grant_id)?.currency;
    Ok(Disbursement::from_row(row, &currency))
}

/// Create a fund (admins and grant officers).
#[utoipa::path(
    tag = "funds",
    security(("bearer" = [])),
    request_body = NewFund,
    responses(
        (status = 201, description = "Created", body = Fund, headers(("Location" = String, description = "URL of the fund"), ("ETag" = String, description = "Version"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/funds")]
pub async fn create_fund(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<NewFund>,
) -> Result<HttpResponse, ApiError> {
    let row = state
        .db(move |c| service::create_fund(c, &who, &meta, body.0))
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
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/funds")]
pub async fn list_funds(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let cursor = q.cursor.clone();
    let page = state
        .db(move |c| service::list_funds(c, &who, limit, cursor.as_deref()))
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
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/funds/{id}")]
pub async fn get_fund(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let row = state.db(move |c| service::get_fund(c, &who, &id)).await?;
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
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The amount would drop below what is awarded", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/funds/{id}")]
pub async fn update_fund(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
    body: Json<FundPatch>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let row = state
        .db(move |c| service::update_fund(c, &who, &meta, &id, version, body.0))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Fund::from(row)))
}

/// Create a draft grant (grant officers). Accepts Idempotency-Key.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = NewGrant,
    responses(
        (status = 201, description = "Created", body = Grant, headers(("Location" = String, description = "URL of the grant"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key in flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants")]
pub async fn create_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    req: HttpRequest,
    body: Json<NewGrant>,
) -> Result<HttpResponse, ApiError> {
    let new = body.0;
    let fingerprint = fingerprint(&new)?;
    let st = state.clone();
    let w = who.clone();
    idempotency::run(&state, &who, &req, fingerprint, || async move {
        let row = st
            .db(move |c| service::create_grant(c, &w, &meta, new))
            .await?;
        Outcome::created(format!("/api/v1/grants/{}", row.id), &Grant::from(row))
    })
    .await
}

/// List the grants the caller may see, with filters.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(GrantListParams),
    responses(
        (status = 200, description = "A page of grants", body = Page<Grant>),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/grants")]
pub async fn list_grants(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<GrantListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let q = q.into_inner();
    let cursor = q.cursor.clone();
    let filter = service::GrantFilter {
        status: q.status,
        fund_id: q.fund_id,
        grantee_organisation_id: q.grantee_organisation_id,
        pillar: q.pillar,
        priority_area: q.priority_area,
        year: q.year,
    };
    let page = state
        .db(move |c| service::list_grants(c, &who, &filter, limit, cursor.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Every grant as CSV (staff).
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV with a header row", body = String, content_type = "text/csv"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/grants.csv")]
pub async fn grants_csv(
    state: web::Data<AppState>,
    who: Principal,
) -> Result<HttpResponse, ApiError> {
    let csv = state.db(move |c| export::grants_csv(c, &who)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"grants.csv\"",
        ))
        .body(csv))
}

/// A grant with its tranches, reports and totals.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The grant", body = GrantDetail, headers(("ETag" = String, description = "Version"))),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/grants/{id}")]
pub async fn get_grant(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let detail = state
        .db(move |c| service::grant_detail(c, &who, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(detail.grant.version)))
        .json(detail))
}

/// Change a draft grant (grant officers; If-Match required).
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id"), ("If-Match" = String, Header, description = "ETag of the grant")),
    request_body = GrantPatch,
    responses(
        (status = 200, description = "Updated", body = Grant, headers(("ETag" = String, description = "Version"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/grants/{id}")]
pub async fn update_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
    body: Json<GrantPatch>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match(&req)?;
    let row = state
        .db(move |c| service::update_grant(c, &who, &meta, &id, version, body.0))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Grant::from(row)))
}

/// Submit a draft grant for approval; grant officers are emailed.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a draft (invalid_transition)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/submit")]
pub async fn submit_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            service::grant_command(c, &config, &who, &meta, &id, GrantCommand::Submit, None)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Grant::from(row)))
}

/// Approve a submitted grant (a grant officer other than its author); counts it against the fund. Accepts Idempotency-Key.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "self_approval, fund_exhausted, invalid_transition or idempotency_in_flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/approve")]
pub async fn approve_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let st = state.clone();
    let w = who.clone();
    let config = state.config.clone();
    idempotency::run(&state, &who, &req, serde_json::Value::Null, || async move {
        let row = st
            .db(move |c| {
                service::grant_command(c, &config, &w, &meta, &id, GrantCommand::Approve, None)
            })
            .await?;
        Outcome::ok(&Grant::from(row))
    })
    .await
}

/// Reject a submitted grant with a reason.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted (invalid_transition)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/reject")]
pub async fn reject_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            service::grant_command(
                c,
                &config,
                &who,
                &meta,
                &id,
                GrantCommand::Reject,
                Some(body.0.reason),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(Grant::from(row)))
}

/// Activate an approved grant: tranches may then be requested.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved (invalid_transition)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/activate")]
pub async fn activate_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            service::grant_command(c, &config, &who, &meta, &id, GrantCommand::Activate, None)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Grant::from(row)))
}

/// Close an active grant once no approved tranche awaits payment.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition or unpaid_tranches", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/close")]
pub async fn close_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            service::grant_command(c, &config, &who, &meta, &id, GrantCommand::Close, None)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Grant::from(row)))
}

/// Cancel a grant without committed tranches; an approved award goes back to the fund.
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition or grant_has_tranches", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/cancel")]
pub async fn cancel_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            service::grant_command(
                c,
                &config,
                &who,
                &meta,
                &id,
                GrantCommand::Cancel,
                Some(body.0.reason),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(Grant::from(row)))
}

/// Request a tranche (grant officers, or members of the grantee). Accepts Idempotency-Key.
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = NewDisbursement,
    responses(
        (status = 201, description = "Requested", body = Disbursement, headers(("Location" = String, description = "URL of the tranche"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "grant_not_active or idempotency_in_flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/disbursements")]
pub async fn request_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
    body: Json<NewDisbursement>,
) -> Result<HttpResponse, ApiError> {
    let new = body.0;
    let fingerprint = fingerprint(&new)?;
    let st = state.clone();
    let w = who.clone();
    let config = state.config.clone();
    idempotency::run(&state, &who, &req, fingerprint, || async move {
        let (row, currency) = st
            .db(move |c| {
                let row = service::request_disbursement(c, &config, &w, &meta, &id, new)?;
                let currency = service::grant_by_id(c, &row.grant_id)?.currency;
                Ok((row, currency))
            })
            .await?;
        Outcome::created(
            format!("/api/v1/disbursements/{}", row.id),
            &Disbursement::from_row(row, &currency),
        )
    })
    .await
}

/// The approval queue and other tranche lists (staff).
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(DisbursementListParams),
    responses(
        (status = 200, description = "A page of tranches", body = Page<Disbursement>),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/disbursements")]
pub async fn list_disbursements(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<DisbursementListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let q = q.into_inner();
    let page = state
        .db(move |c| {
            service::list_disbursements(
                c,
                &who,
                q.status.as_deref(),
                q.grant_id.as_deref(),
                limit,
                q.cursor.as_deref(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A tranche.
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tranche id")),
    responses(
        (status = 200, description = "The tranche", body = Disbursement),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/disbursements/{id}")]
pub async fn get_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (row, grant) = state
        .db(move |c| service::visible_disbursement(c, &who, &id))
        .await?;
    Ok(HttpResponse::Ok().json(Disbursement::from_row(row, &grant.currency)))
}

/// Approve a tranche (not its requester; two different approvers above the threshold). Accepts Idempotency-Key.
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The updated tranche", body = Disbursement),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "self_approval, same_approver, report_not_accepted, grant_exhausted, invalid_transition or idempotency_in_flight", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/disbursements/{id}/approve")]
pub async fn approve_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let fingerprint = serde_json::Value::Null;
    let command = TrancheCommand::Approve;
    let st = state.clone();
    let w = who.clone();
    let config = state.config.clone();
    idempotency::run(&state, &who, &req, fingerprint, || async move {
        let out = st
            .db(move |c| {
                tranche_answer(c, |c| {
                    service::tranche_command(c, &config, &w, &meta, &id, command)
                })
            })
            .await?;
        Outcome::ok(&out)
    })
    .await
}

/// Reject a requested tranche with a reason.
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tranche id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated tranche", body = Disbursement),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not requested (invalid_transition)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/disbursements/{id}/reject")]
pub async fn reject_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let command = TrancheCommand::Reject(b.reason);
    let config = state.config.clone();
    let w = who;
    let out = state
        .db(move |c| {
            tranche_answer(c, |c| {
                service::tranche_command(c, &config, &w, &meta, &id, command)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Cancel a requested or approved tranche (its requester or a grant officer).
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tranche id")),
    responses(
        (status = 200, description = "The updated tranche", body = Disbursement),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "invalid_transition", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/disbursements/{id}/cancel")]
pub async fn cancel_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let command = TrancheCommand::Cancel;
    let config = state.config.clone();
    let w = who;
    let out = state
        .db(move |c| {
            tranche_answer(c, |c| {
                service::tranche_command(c, &config, &w, &meta, &id, command)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Record the payment of an approved tranche (finance officers only; exactly once). Accepts Idempotency-Key.
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = PayBody,
    responses(
        (status = 200, description = "The updated tranche", body = Disbursement),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a finance officer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not approved (invalid_transition) or idempotency_in_flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/disbursements/{id}/pay")]
pub async fn pay_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
    body: Json<PayBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let fingerprint = fingerprint(&b)?;
    let command = TrancheCommand::Pay(b);
    let st = state.clone();
    let w = who.clone();
    let config = state.config.clone();
    idempotency::run(&state, &who, &req, fingerprint, || async move {
        let out = st
            .db(move |c| {
                tranche_answer(c, |c| {
                    service::tranche_command(c, &config, &w, &meta, &id, command)
                })
            })
            .await?;
        Outcome::ok(&out)
    })
    .await
}

/// Reverse a paid tranche with a reason (finance officers only); the amount is released. Accepts Idempotency-Key.
#[utoipa::path(
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated tranche", body = Disbursement),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a finance officer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not paid (invalid_transition) or idempotency_in_flight", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/disbursements/{id}/reverse")]
pub async fn reverse_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let fingerprint = fingerprint(&b)?;
    let command = TrancheCommand::Reverse(b.reason);
    let st = state.clone();
    let w = who.clone();
    let config = state.config.clone();
    idempotency::run(&state, &who, &req, fingerprint, || async move {
        let out = st
            .db(move |c| {
                tranche_answer(c, |c| {
                    service::tranche_command(c, &config, &w, &meta, &id, command)
                })
            })
            .await?;
        Outcome::ok(&out)
    })
    .await
}

/// Ask the grantee for a report (grant officers).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    request_body = NewReport,
    responses(
        (status = 201, description = "Created", body = Report, headers(("Location" = String, description = "URL of the grant"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "grant_finished", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/grants/{id}/reports")]
pub async fn create_report(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let row = state
        .db(move |c| service::create_report(c, &who, &meta, &id, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/grants/{}", row.grant_id)))
        .json(Report::from(row)))
}

/// Submit a report (a member of the grantee organisation).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id")),
    request_body = SubmitReport,
    responses(
        (status = 200, description = "The updated report", body = Report),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member user", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not due or returned (invalid_transition)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/{id}/submit")]
pub async fn submit_report(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<SubmitReport>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            service::report_command(c, &config, &who, &meta, &id, ReportCommand::Submit(b))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Report::from(row)))
}

/// Accept a submitted report (grant officers); the grantee is emailed.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id")),
    responses(
        (status = 200, description = "The updated report", body = Report),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted (invalid_transition)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/{id}/accept")]
pub async fn accept_report(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| service::report_command(c, &config, &who, &meta, &id, ReportCommand::Accept))
        .await?;
    Ok(HttpResponse::Ok().json(Report::from(row)))
}

/// Return a submitted report with a reason (grant officers); the grantee is emailed.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated report", body = Report),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role or scope missing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted (invalid_transition)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/reports/{id}/return")]
pub async fn return_report(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            service::report_command(
                c,
                &config,
                &who,
                &meta,
                &id,
                ReportCommand::Return(b.reason),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(Report::from(row)))
}

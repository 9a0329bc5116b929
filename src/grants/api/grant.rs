//! Handlers of grants.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::fingerprint;
use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{
    AuthErrors, BodyErrors, ConflictError, IdempotencyErrors, NotFoundError, QueryErrors,
    VersionErrors,
};
use crate::extract::{IfMatch, Json, etag};
use crate::grants::access::Reader;
use crate::grants::grant::read::{self, GrantAnswer, GrantFilter, GrantItem};
use crate::grants::grant::{Grant, GrantCommand, GrantPatch, NewGrant, ReasonBody, command, edit};
use crate::idempotency::{Call, Outcome};
use crate::pagination::{self, Page};

/// Filters and paging of the grant list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantListParams {
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// draft, submitted, approved, active, closed, rejected or cancelled.
    #[param(value_type = Option<crate::grants::grant::GrantStatus>)]
    pub status: Option<String>,
    /// Fund id.
    pub fund_id: Option<String>,
    /// Grantee organisation id.
    pub grantee_organisation_id: Option<String>,
    /// Strategic pillar.
    #[param(schema_with = crate::codes::schema::pillar)]
    pub pillar: Option<String>,
    /// One priority area.
    #[param(schema_with = crate::codes::schema::priority_area)]
    pub priority_area: Option<String>,
    /// Year of the reference (IDPC-YEAR-NNNN).
    pub year: Option<i32>,
}

/// Create a draft grant (grant officers). Accepts Idempotency-Key.
#[utoipa::path(
    description = "Grant officers and admins. Creates a draft; audited. Emails nothing.",
    tag = "grants",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = NewGrant,
    responses(
        (status = 201, description = "Created", body = Grant, headers(("Location" = String, description = "URL of the grant"))),
        AuthErrors, BodyErrors, IdempotencyErrors,
    )
)]
#[post("/grants")]
pub async fn create_grant(call: Call, body: Json<NewGrant>) -> Result<HttpResponse, ApiError> {
    let new = body.0;
    let fingerprint = fingerprint(&new)?;
    let staff = GrantStaff::try_from(&call.who)?;
    call.once(fingerprint, move |c, config, _, meta| {
        let row = edit::create(c, config, &staff, meta, new)?;
        Outcome::created(format!("/api/v1/grants/{}", row.id), &Grant::from(row))
    })
    .await
}

/// List the grants the caller may see, with filters. Partner apps get the published view of
/// each (no staff ids or notes; neutral text for a withheld grantee).
#[utoipa::path(
    description = "Staff see every grant; members see their organisation's; partner apps (`grants:read`) see published grants, with the partner view only. Changes nothing.",
    tag = "grants",
    security(("bearer" = []), ("oauth2" = ["grants:read"])),
    params(GrantListParams),
    responses(
        (status = 200, description = "A page of grants", body = Page<GrantItem>),
        QueryErrors, AuthErrors,
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
    let filter = GrantFilter {
        status: q.status,
        fund_id: q.fund_id,
        grantee_organisation_id: q.grantee_organisation_id,
        pillar: q.pillar,
        priority_area: q.priority_area,
        year: q.year,
    };
    let reader = Reader::try_from(&who)?;
    let page = state
        .db(move |c| read::list(c, &reader, &filter, limit, cursor.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A grant with its tranches, reports and totals; partner apps get its published view only.
#[utoipa::path(
    description = "Staff, members of the grantee, and partner apps (published grants, partner view). Changes nothing.",
    tag = "grants",
    security(("bearer" = []), ("oauth2" = ["grants:read"])),
    params(("id" = uuid::Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The grant", body = GrantAnswer, headers(("ETag" = String, description = "Version"))),
        AuthErrors, NotFoundError,
    )
)]
#[get("/grants/{id}")]
pub async fn get_grant(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reader = Reader::try_from(&who)?;
    let (answer, version) = state.db(move |c| read::detail(c, &reader, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(answer))
}

/// Change a draft grant (grant officers; If-Match required).
#[utoipa::path(
    description = "Grant officers and admins. Changes a draft grant; every editor of its amount, grantee, fund or currency becomes a contributor who may not approve it. Audited.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), ("If-Match" = String, Header, description = "ETag of the grant")),
    request_body = GrantPatch,
    responses(
        (status = 200, description = "Updated", body = Grant, headers(("ETag" = String, description = "Version"))),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, VersionErrors,
    )
)]
#[patch("/grants/{id}")]
pub async fn update_grant(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<GrantPatch>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let who = GrantStaff::try_from(&who)?;
    let config = state.config.clone();
    let row = state
        .db(move |c| edit::update(c, &config, &who, &meta, &id, version, body.0))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Grant::from(row)))
}

/// Runs a grant command and answers with the grant; once per `Idempotency-Key` on the
/// routes that document one (the others refuse a key before they get here).
async fn move_grant(
    call: Call,
    id: web::Path<String>,
    command: GrantCommand,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let fingerprint = fingerprint(&reason)?;
    let staff = GrantStaff::try_from(&call.who)?;
    let id = id.into_inner();
    call.once(fingerprint, move |c, config, _, meta| {
        let row = command::run(c, config, &staff, meta, &id, command, reason)?;
        Outcome::ok(&Grant::from(row))
    })
    .await
}

/// Submit a draft grant for approval; grant officers are emailed.
#[utoipa::path(
    description = "Grant officers and admins. Submits a draft for approval; the submitter becomes a contributor; the other grant officers are emailed. Audited.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        QueryErrors, AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/grants/{id}/submit")]
pub async fn submit_grant(call: Call, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    move_grant(call, id, GrantCommand::Submit, None).await
}

/// Approve a submitted grant (a grant officer other than its author); counts it against the fund. Accepts Idempotency-Key.
#[utoipa::path(
    description = "A grant officer or admin who contributed nothing to the grant (four eyes; 409 `self_approval` otherwise). Reserves the amount in the fund in the same UPDATE that checks the ceiling; the author and the grantee's members are emailed. Audited.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        QueryErrors, AuthErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/grants/{id}/approve")]
pub async fn approve_grant(call: Call, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    move_grant(call, id, GrantCommand::Approve, None).await
}

/// Reject a submitted grant with a reason. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Grant officers and admins, with a reason. Audited; its author is emailed.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/grants/{id}/reject")]
pub async fn reject_grant(
    call: Call,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    move_grant(call, id, GrantCommand::Reject, Some(body.0.reason)).await
}

/// Activate an approved grant: tranches may then be requested.
#[utoipa::path(
    description = "Grant officers and admins. An approved grant becomes active: tranches may then be requested. Audited; the grantee's members and the author are emailed.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        QueryErrors, AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/grants/{id}/activate")]
pub async fn activate_grant(call: Call, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    move_grant(call, id, GrantCommand::Activate, None).await
}

/// Close an active grant once no approved tranche awaits payment.
#[utoipa::path(
    description = "Grant officers and admins. Closes an active grant once no approved tranche awaits payment. Audited; the grantee's members, the author and finance are emailed.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        QueryErrors, AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/grants/{id}/close")]
pub async fn close_grant(call: Call, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    move_grant(call, id, GrantCommand::Close, None).await
}

/// Cancel a grant without committed tranches; an approved award goes back to the fund. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Grant officers and admins. Cancels a grant without committed tranches; an approved award returns to the fund. Audited; the grantee's members, the author and finance are emailed.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated grant", body = Grant),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/grants/{id}/cancel")]
pub async fn cancel_grant(
    call: Call,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    move_grant(call, id, GrantCommand::Cancel, Some(body.0.reason)).await
}

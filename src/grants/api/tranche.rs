//! Handlers of tranches (`/disbursements`).

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::fingerprint;
use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::Staff;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::error::docs::{
    AuthErrors, BodyErrors, ConflictError, IdempotencyErrors, NotFoundError, QueryErrors,
};
use crate::extract::Json;
use crate::grants::access::{self, Reader};
use crate::grants::grant::{self, ReasonBody};
use crate::grants::queue::{self, TrancheFilter, TrancheItem};
use crate::grants::tranche::{NewTranche, PayBody, Tranche, TrancheCommand, TrancheRow, command};
use crate::idempotency::{Call, Outcome};
use crate::pagination::{self, Page};

/// Filters and paging of the tranche list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrancheListParams {
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// requested (the approval queue), approved, rejected, cancelled, paid or reversed.
    #[param(value_type = Option<crate::grants::tranche::TrancheStatus>)]
    pub status: Option<String>,
    /// Only tranches of this grant.
    pub grant_id: Option<String>,
    /// `me`: only what the caller may act on now: a grant officer or admin the requested
    /// tranches it did not request nor already approve (and whose report, if any, is
    /// accepted); finance the approved tranches to pay.
    #[param(schema_with = awaiting_schema)]
    pub awaiting: Option<String>,
}

/// The one queue there is (`queue::tranches` refuses any other).
fn awaiting_schema() -> utoipa::openapi::Object {
    crate::codes::schema::one_of(["me"])
}

/// The wire form of `row` with the account it is paid to.
fn answer(
    c: &mut DbConn,
    now: chrono::NaiveDateTime,
    row: TrancheRow,
) -> Result<Tranche, ApiError> {
    let g = grant::by_id(c, &row.grant_id)?;
    let payee = crate::grants::tranche::payee::payee_of(
        c,
        &row,
        &g.grantee_organisation_id,
        &g.currency,
        now,
    )?;
    Ok(Tranche {
        payee_account: payee,
        ..Tranche::from_row(row, &g.currency)
    })
}

/// Runs a tranche command once per `Idempotency-Key`, `fingerprint` being its parsed body.
async fn move_tranche(
    call: Call,
    id: web::Path<String>,
    cmd: TrancheCommand,
    fingerprint: serde_json::Value,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    call.once(fingerprint, move |c, config, who, meta| {
        let row = command::run(c, config, who, meta, &id, cmd)?;
        Outcome::ok(&answer(c, config.clock.naive(), row)?)
    })
    .await
}

/// Request a tranche (grant officers, or members of the grantee). Accepts Idempotency-Key.
#[utoipa::path(
    description = "Grant officers, or members of the grantee in good standing. Requests a tranche; refused at once (409 `grant_exhausted`) above what is left on the grant. The other grant officers are emailed, told whether it needs one approval or two. Audited.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = NewTranche,
    responses(
        (status = 201, description = "Requested", body = Tranche, headers(("Location" = String, description = "URL of the tranche"))),
        AuthErrors, BodyErrors, NotFoundError, IdempotencyErrors,
    )
)]
#[post("/grants/{id}/disbursements")]
pub async fn request_disbursement(
    call: Call,
    id: web::Path<String>,
    body: Json<NewTranche>,
) -> Result<HttpResponse, ApiError> {
    let (new, id) = (body.0, id.into_inner());
    let fingerprint = fingerprint(&new)?;
    call.once(fingerprint, move |c, config, who, meta| {
        let row = command::request(c, config, who, meta, &id, new)?;
        let out = answer(c, config.clock.naive(), row)?;
        Outcome::created(format!("/api/v1/disbursements/{}", out.id), &out)
    })
    .await
}

/// The approval queue and other tranche lists (staff). Items carry the grant's reference and
/// title, the grantee's and the requester's names and the amount in the base currency.
#[utoipa::path(
    description = "Staff. Tranches with filters: the approval and payment queues. Changes nothing.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(TrancheListParams),
    responses(
        (status = 200, description = "A page of tranches", body = Page<TrancheItem>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/disbursements")]
pub async fn list_disbursements(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<TrancheListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let who = Staff::try_from(&who)?;
    let q = q.into_inner();
    let filter = TrancheFilter {
        status: q.status,
        grant_id: q.grant_id,
        awaiting: q.awaiting,
    };
    let config = state.config.clone();
    let page = state
        .db(move |c| queue::tranches(c, &config, &who, &filter, limit, q.cursor.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A tranche (staff, and members of the grantee; partner apps get 404).
#[utoipa::path(
    description = "Staff and members of the grantee. One tranche. Changes nothing.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Tranche id")),
    responses(
        (status = 200, description = "The tranche", body = Tranche),
        AuthErrors, NotFoundError,
    )
)]
#[get("/disbursements/{id}")]
pub async fn get_disbursement(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reader = Reader::internal(&who)?;
    let config = state.config.clone();
    let tranche = state
        .db(move |c| {
            let (row, _) = access::visible_tranche(c, &reader, &id)?;
            answer(c, config.clock.naive(), row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(tranche))
}

/// Approve a tranche (not its requester; two different approvers above the threshold). Accepts Idempotency-Key.
#[utoipa::path(
    description = "A grant officer or admin other than its requester; above the base-currency threshold (also counted over one officer's approvals in the rolling window) two different approvers. Commits the amount in the grant in the same UPDATE that checks it; when a second approval is still needed the other officers are asked by email; once fully approved finance, the requester and the grantee's members are emailed. Audited.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The updated tranche", body = Tranche),
        QueryErrors, AuthErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/disbursements/{id}/approve")]
pub async fn approve_disbursement(
    call: Call,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    move_tranche(call, id, TrancheCommand::Approve, serde_json::Value::Null).await
}

/// Reject a requested tranche with a reason. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Grant officers and admins, with a reason. Audited; the requester is emailed.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated tranche", body = Tranche),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/disbursements/{id}/reject")]
pub async fn reject_disbursement(
    call: Call,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let fp = fingerprint(&body.0)?;
    move_tranche(call, id, TrancheCommand::Reject(body.0.reason), fp).await
}

/// Cancel a requested or approved tranche with a reason (its requester or a grant officer); finance is told when it was approved. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Its requester or a grant officer, with a reason. Cancels a requested or approved tranche; a committed amount returns to the grant. Audited; the requester is emailed, and finance too (with the reason) when the tranche was approved.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated tranche", body = Tranche),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/disbursements/{id}/cancel")]
pub async fn cancel_disbursement(
    call: Call,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let fp = fingerprint(&body.0)?;
    move_tranche(call, id, TrancheCommand::Cancel(body.0.reason), fp).await
}

/// Record the payment of an approved tranche (finance officers only; exactly once). Accepts Idempotency-Key.
#[utoipa::path(
    description = "Finance officers only, exactly once. Records the payment (reference and date, not more than a day ahead) and moves the amount from committed to paid in the fund and grant; the requester and the grantee's members are emailed. Audited.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = PayBody,
    responses(
        (status = 200, description = "The updated tranche", body = Tranche),
        AuthErrors, BodyErrors, NotFoundError, IdempotencyErrors,
    )
)]
#[post("/disbursements/{id}/pay")]
pub async fn pay_disbursement(
    call: Call,
    id: web::Path<String>,
    body: Json<PayBody>,
) -> Result<HttpResponse, ApiError> {
    let fp = fingerprint(&body.0)?;
    move_tranche(call, id, TrancheCommand::Pay(body.0), fp).await
}

/// Reverse a paid tranche with a reason (finance officers only); the amount is released. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Finance officers only, with a reason. Reverses a payment and releases its amount; audited; the grantee's members, finance and the grant officers are emailed.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Tranche id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated tranche", body = Tranche),
        AuthErrors, BodyErrors, NotFoundError, IdempotencyErrors,
    )
)]
#[post("/disbursements/{id}/reverse")]
pub async fn reverse_disbursement(
    call: Call,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let fp = fingerprint(&body.0)?;
    move_tranche(call, id, TrancheCommand::Reverse(body.0.reason), fp).await
}

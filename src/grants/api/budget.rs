//! Handlers of budgets and results: a grant's budget lines and indicators, the revisions of
//! an approved budget, and what a report says against them.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};

use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, ConflictError, NotFoundError, VersionErrors};
use crate::extract::{IfMatch, Json, etag};
use crate::grants::access::Reader;
use crate::grants::actuals::{self, ReportResults};
use crate::grants::budget_revisions::{self, Budget, BudgetBody, BudgetRevision, Written};
use crate::grants::grant::ReasonBody;
use crate::grants::indicators::{self, Indicator, IndicatorsBody};

/// A grant's budget lines, their sum against its amount, and (for staff) its revisions.
#[utoipa::path(
    description = "Staff and members of the grantee (not for drafts); anyone else gets 404. `balanced` says whether the lines sum to the grant's amount, which submitting the grant requires. Changes nothing.",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The budget", body = Budget, headers(("ETag" = String, description = "The grant's version"))),
        AuthErrors, NotFoundError,
    )
)]
#[get("/grants/{id}/budget")]
pub async fn get_budget(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reader = Reader::internal(&who)?;
    let config = state.config.clone();
    let budget = state
        .db(move |c| budget_revisions::read(c, &config, &reader, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(budget.version)))
        .json(budget))
}

/// Replace a grant's budget lines (the whole set; If-Match required).
#[utoipa::path(
    description = "Grant officers and admins. Replaces every line (give a line's `id` to keep it; lines left out are removed). A draft or submitted grant: the lines are written, the writer becomes a contributor who may not approve it, and a submitted grant returns to draft (200). An approved or active grant: a revision with a `reason`; the lines must still sum to the amount (409 `budget_mismatch`). When no line moves by more than BUDGET_REVISION_TOLERANCE_PERCENT of its amount it applies at once (200, recorded in `revisions`); otherwise it waits for a grant officer other than its proposer, who is emailed (202 with the revision). Audited.",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), ("If-Match" = String, Header, description = "ETag of the grant (or of its budget)")),
    request_body = BudgetBody,
    responses(
        (status = 200, description = "The budget as written", body = Budget, headers(("ETag" = String, description = "The grant's version"))),
        (status = 202, description = "A revision that waits for an officer; the budget is unchanged", body = BudgetRevision),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, VersionErrors,
    )
)]
#[put("/grants/{id}/budget")]
pub async fn put_budget(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<BudgetBody>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let staff = GrantStaff::try_from(&who)?;
    let reader = Reader::internal(&who)?;
    let config = state.config.clone();
    let written = state
        .db(move |c| {
            match budget_revisions::replace(c, &config, &staff, &meta, &id, version, body.0)? {
                Written::Applied(_) => Ok(Ok(budget_revisions::read(c, &config, &reader, &id)?)),
                Written::Pending(r) => Ok(Err(r)),
            }
        })
        .await?;
    Ok(match written {
        Ok(budget) => HttpResponse::Ok()
            .insert_header((header::ETAG, etag(budget.version)))
            .json(budget),
        Err(revision) => HttpResponse::Accepted().json(revision),
    })
}

/// A budget revision (grant staff).
#[utoipa::path(
    description = "Grant officers and admins. Changes nothing.",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Budget revision id")),
    responses(
        (status = 200, description = "The revision", body = BudgetRevision),
        AuthErrors, NotFoundError,
    )
)]
#[get("/budget-revisions/{id}")]
pub async fn get_budget_revision(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    GrantStaff::try_from(&who)?;
    let r = state.db(move |c| budget_revisions::show(c, &id)).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Approve a pending budget revision: its lines apply.
#[utoipa::path(
    description = "A grant officer or admin other than its proposer (409 `self_approval`). The lines apply if the budget is still what the revision changed (409 `pending_changed` otherwise). Audited.",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Budget revision id")),
    responses(
        (status = 200, description = "The approved revision", body = BudgetRevision),
        AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/budget-revisions/{id}/approve")]
pub async fn approve_budget_revision(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let staff = GrantStaff::try_from(&who)?;
    let config = state.config.clone();
    let r = state
        .db(move |c| budget_revisions::decide(c, &config, &staff, &meta, &id, None))
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Reject a pending budget revision with a reason: the budget stays as it is.
#[utoipa::path(
    description = "A grant officer or admin other than its proposer (409 `self_approval`), with a reason. Audited.",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Budget revision id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The rejected revision", body = BudgetRevision),
        AuthErrors, BodyErrors, NotFoundError, ConflictError,
    )
)]
#[post("/budget-revisions/{id}/reject")]
pub async fn reject_budget_revision(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let staff = GrantStaff::try_from(&who)?;
    let config = state.config.clone();
    let reason = Some(body.0.reason);
    let r = state
        .db(move |c| budget_revisions::decide(c, &config, &staff, &meta, &id, reason))
        .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// A grant's indicators: the results it aims at, with baselines and targets.
#[utoipa::path(
    description = "Staff and members of the grantee (not for drafts); anyone else gets 404. Changes nothing.",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id")),
    responses(
        (status = 200, description = "The indicators, in order", body = Vec<Indicator>, headers(("ETag" = String, description = "The grant's version"))),
        AuthErrors, NotFoundError,
    )
)]
#[get("/grants/{id}/indicators")]
pub async fn get_indicators(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reader = Reader::internal(&who)?;
    let (list, version) = state.db(move |c| indicators::read(c, &reader, &id)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(list))
}

/// Replace a draft grant's indicators (the whole set; If-Match required).
#[utoipa::path(
    description = "Grant officers and admins, while the grant is a draft or submitted (409 `not_draft` after). Give an indicator's `id` to keep it; those left out are removed (409 `has_actuals` for one a report gave an actual for). The writer becomes a contributor who may not approve the grant; a submitted grant returns to draft. Audited.",
    tag = "budgets",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), ("If-Match" = String, Header, description = "ETag of the grant")),
    request_body = IndicatorsBody,
    responses(
        (status = 200, description = "The indicators as written", body = Vec<Indicator>, headers(("ETag" = String, description = "The grant's version"))),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, VersionErrors,
    )
)]
#[put("/grants/{id}/indicators")]
pub async fn put_indicators(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Json<IndicatorsBody>,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.required()?;
    let staff = GrantStaff::try_from(&who)?;
    let config = state.config.clone();
    let (list, version) = state
        .db(move |c| indicators::replace(c, &config, &staff, &meta, &id, version, body.0))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(list))
}

/// What a report says against the plan: budget, actual and variance per line (financial), or
/// each indicator's actual against its target (narrative).
#[utoipa::path(
    description = "Staff and members of the grantee; anyone else gets 404. A financial report answers, per budget line and in total, budget, actual, variance (actual − budget) and its share of the budget, flagging lines beyond BUDGET_VARIANCE_TOLERANCE_PERCENT; a narrative report answers each indicator's baseline, target and actual. Changes nothing.",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Report id")),
    responses(
        (status = 200, description = "The results", body = ReportResults),
        AuthErrors, NotFoundError,
    )
)]
#[get("/reports/{id}/results")]
pub async fn get_report_results(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reader = Reader::internal(&who)?;
    let config = state.config.clone();
    let results = state
        .db(move |c| actuals::read(c, &config, &reader, &id))
        .await?;
    Ok(HttpResponse::Ok().json(results))
}

//! Handlers of the histories of funds, grants, tranches and reports (staff).

use actix_web::{get, web};

use crate::AppState;
use crate::audit::history::HistoryEntry;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, NotFoundError, QueryErrors};
use crate::grants::history::{self, Subject};
use crate::pagination::{self, Page, PageParams};

async fn answer(
    state: web::Data<AppState>,
    who: Principal,
    subject: Subject,
    id: String,
    page: PageParams,
) -> Result<web::Json<Page<HistoryEntry>>, ApiError> {
    let limit = pagination::limit(page.limit)?;
    let out = state
        .db(move |c| history::read(c, &who, subject, &id, limit, page.cursor.as_deref()))
        .await?;
    Ok(web::Json(out))
}

/// A fund's history: its edits and every move of its counters (reserve, release, commit,
/// pay, reverse) with before → after per field (staff; others get 404).
#[utoipa::path(
    description = "Staff (admins, grant officers, finance); anyone else gets 404. Edits and every counter move of the fund, each with before and after. Changes nothing.",
    tag = "funds",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Fund id"), PageParams),
    responses(
        (status = 200, description = "Audit events, oldest first", body = Page<HistoryEntry>),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/funds/{id}/history")]
pub async fn fund_history(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<HistoryEntry>>, ApiError> {
    answer(
        state,
        who,
        Subject::Fund,
        id.into_inner(),
        page.into_inner(),
    )
    .await
}

/// A grant's history with before → after per field (staff; others get 404).
#[utoipa::path(
    description = "Staff; anyone else gets 404. Every audited change of the grant with before and after. Changes nothing.",
    tag = "grants",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id"), PageParams),
    responses(
        (status = 200, description = "Audit events, oldest first", body = Page<HistoryEntry>),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/grants/{id}/history")]
pub async fn grant_history(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<HistoryEntry>>, ApiError> {
    answer(
        state,
        who,
        Subject::Grant,
        id.into_inner(),
        page.into_inner(),
    )
    .await
}

/// A tranche's history with before → after per field (staff; others get 404).
#[utoipa::path(
    description = "Staff; anyone else gets 404. Every audited change of the tranche with before and after. Changes nothing.",
    tag = "disbursements",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Tranche id"), PageParams),
    responses(
        (status = 200, description = "Audit events, oldest first", body = Page<HistoryEntry>),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/disbursements/{id}/history")]
pub async fn disbursement_history(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<HistoryEntry>>, ApiError> {
    let id = id.into_inner();
    answer(state, who, Subject::Tranche, id, page.into_inner()).await
}

/// A report's history with before → after per field (staff; others get 404).
#[utoipa::path(
    description = "Staff; anyone else gets 404. Every audited change of the report with before and after. Changes nothing.",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Report id"), PageParams),
    responses(
        (status = 200, description = "Audit events, oldest first", body = Page<HistoryEntry>),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/reports/{id}/history")]
pub async fn report_history(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<PageParams>,
) -> Result<web::Json<Page<HistoryEntry>>, ApiError> {
    answer(
        state,
        who,
        Subject::Report,
        id.into_inner(),
        page.into_inner(),
    )
    .await
}

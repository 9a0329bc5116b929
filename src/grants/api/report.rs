//! Handlers of grant reports.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, ConflictError, NotFoundError, QueryErrors};
use crate::extract::Json;
use crate::grants::access::Reader;
use crate::grants::grant::ReasonBody;
use crate::grants::queue::{self, ReportFilter, ReportItem};
use crate::grants::report::{self, NewReport, Report, ReportCommand, SubmitReport};
use crate::pagination::{self, Page};

/// Runs a report command and answers with the report.
async fn move_report(
    state: &web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: String,
    cmd: ReportCommand,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| report::run(c, &config, &who, &meta, &id, cmd))
        .await?;
    Ok(HttpResponse::Ok().json(Report::from(row)))
}

/// Ask the grantee for a report (grant officers).
#[utoipa::path(
    description = "Grant officers and admins. Asks the grantee for a report with a due date; audited; the grantee's members are emailed.",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Grant id")),
    request_body = NewReport,
    responses(
        (status = 201, description = "Created", body = Report, headers(("Location" = String, description = "URL of the report"))),
        AuthErrors, BodyErrors, NotFoundError, ConflictError,
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
    let who = GrantStaff::try_from(&who)?;
    let config = state.config.clone();
    let row = state
        .db(move |c| report::create(c, &config, &who, &meta, &id, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/reports/{}", row.id)))
        .json(Report::from(row)))
}

/// Submit a report (a member of the grantee organisation).
#[utoipa::path(
    description = "Members of the grantee organisation in good standing. Submits the report; a financial report needs at least one file uploaded to its documents first (409 `report_files_missing` otherwise); `document_url` is optional. Audited; the grant officers are emailed, with the report's files listed by name and size.",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Report id")),
    request_body = SubmitReport,
    responses(
        (status = 200, description = "The updated report", body = Report),
        AuthErrors, BodyErrors, NotFoundError, ConflictError,
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
    move_report(
        &state,
        who,
        meta,
        id.into_inner(),
        ReportCommand::Submit(body.0),
    )
    .await
}

/// Accept a submitted report (grant officers); the grantee is emailed.
#[utoipa::path(
    description = "Grant officers and admins. Accepts a submitted report; the grantee is emailed. Audited.",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Report id")),
    responses(
        (status = 200, description = "The updated report", body = Report),
        QueryErrors, AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/reports/{id}/accept")]
pub async fn accept_report(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    move_report(&state, who, meta, id.into_inner(), ReportCommand::Accept).await
}

/// Return a submitted report with a reason (grant officers); the grantee is emailed.
#[utoipa::path(
    description = "Grant officers and admins, with a reason. Returns a submitted report for changes; the grantee is emailed. Audited.",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Report id")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The updated report", body = Report),
        AuthErrors, BodyErrors, NotFoundError, ConflictError,
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
    move_report(
        &state,
        who,
        meta,
        id.into_inner(),
        ReportCommand::Return(body.0.reason),
    )
    .await
}

/// The report statuses and `overdue`, as `queue::reports` reads the filter.
fn report_status_schema() -> utoipa::openapi::Object {
    use crate::grants::report::ReportStatus;
    crate::codes::schema::one_of(
        ReportStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(["overdue"]),
    )
}

/// Filters and paging of the report list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportListParams {
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// due, submitted (the review queue), accepted, returned, or overdue (owed and past its
    /// due date).
    #[param(schema_with = report_status_schema)]
    pub status: Option<String>,
    /// Only reports of this grant.
    pub grant_id: Option<String>,
}

/// Grant reports: staff see every report, a grantee's members their organisation's. Items
/// carry the grant's reference and title and the grantee's and submitter's names.
#[utoipa::path(
    description = "Staff see every report; members of a grantee see their organisation's; partner apps never see reports. Filter by status and grant. Changes nothing.",
    tag = "reports",
    security(("bearer" = [])),
    params(ReportListParams),
    responses(
        (status = 200, description = "A page of reports", body = Page<ReportItem>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<ReportListParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let reader = Reader::try_from(&who)?;
    let q = q.into_inner();
    let filter = ReportFilter {
        status: q.status,
        grant_id: q.grant_id,
    };
    let today = state.clock().today();
    let page = state
        .db(move |c| queue::reports(c, &reader, &filter, limit, q.cursor.as_deref(), today))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A grant report, with its grant's reference and title and the grantee's name.
#[utoipa::path(
    description = "Staff and members of the grantee; anyone else gets 404. Changes nothing.",
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Report id")),
    responses(
        (status = 200, description = "The report", body = ReportItem),
        AuthErrors, NotFoundError,
    )
)]
#[get("/reports/{id}")]
pub async fn get_report(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let reader = Reader::try_from(&who)?;
    let today = state.clock().today();
    let item = state
        .db(move |c| queue::visible_report(c, &reader, &id, today))
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

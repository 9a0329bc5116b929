//! Handlers of grant reports.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};

use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, ConflictError, NotFoundError, QueryErrors};
use crate::extract::Json;
use crate::grants::grant::ReasonBody;
use crate::grants::report::{self, NewReport, Report, ReportCommand, SubmitReport};

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
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Grant id")),
    request_body = NewReport,
    responses(
        (status = 201, description = "Created", body = Report, headers(("Location" = String, description = "URL of the grant"))),
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
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id")),
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
    tag = "reports",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Report id")),
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

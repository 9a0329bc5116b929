//! Handlers of the grant exports: the staff CSV and the public 360Giving package.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use crate::AppState;
use crate::auth::caller::Staff;
use crate::auth::{MaybePrincipal, Principal};
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, Unauthenticated};
use crate::grants::{csv, export};

/// Every grant as CSV (staff).
#[utoipa::path(
    tag = "grants",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV with a header row", body = String, content_type = "text/csv"),
        AuthErrors,
    )
)]
#[get("/grants.csv")]
pub async fn grants_csv(
    state: web::Data<AppState>,
    who: Principal,
) -> Result<HttpResponse, ApiError> {
    let who = Staff::try_from(&who)?;
    let csv = state.db(move |c| csv::grants_csv(c, &who)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"grants.csv\"",
        ))
        .body(csv))
}

/// The published grants (approved, active, closed) as a 360Giving data package. Public:
/// organisations hidden from the public are not named.
#[utoipa::path(
    tag = "exports",
    responses(
        (status = 200, description = "A 360Giving 1.4 package", body = Object),
        Unauthenticated,
    )
)]
#[get("/exports/360giving.json")]
pub async fn giving_export(
    state: web::Data<AppState>,
    _who: MaybePrincipal,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let package = state
        .db(move |c| export::giving_package(c, &config))
        .await?;
    Ok(HttpResponse::Ok().json(package))
}

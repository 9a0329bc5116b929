//! The staff CSV of grants. The public open-data exports live in `crate::exports`.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};

use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::Staff;
use crate::error::ApiError;
use crate::error::docs::AuthErrors;
use crate::grants::csv;

/// Every grant as CSV (staff).
#[utoipa::path(
    description = "Staff. Every grant the caller may see as CSV (formula injection defused). Changes nothing.",
    tag = "grants",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV with a header row", body = String, content_type = "text/csv", example = json!(csv_example())),
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

/// The example of the CSV answer: its header row.
fn csv_example() -> serde_json::Value {
    serde_json::json!(format!("{}\r\n", csv::HEADER.join(",")))
}

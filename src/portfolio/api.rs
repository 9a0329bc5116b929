//! Handlers of the portfolio (`/portfolio`), the membership table (`/portfolio/membership`)
//! and fund statements (`/funds/{id}/statement`), each with its downloads. Thin: parse, call
//! the service, write the answer.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use utoipa::ToSchema;

use super::aggregate::{self, Portfolio, PortfolioParams};
use super::membership::{self, MembershipParams, MembershipTable};
use super::statement::{self, FundStatement, StatementParams};
use super::tables;
use crate::AppState;
use crate::auth::MaybePrincipal;
use crate::auth::caller::Staff;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, NotFoundError, QueryErrors, Unauthenticated};

/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The bytes of a download (XLSX or PDF).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Download(#[allow(dead_code)] Vec<u8>);

fn download(content_type: &str, name: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

async fn portfolio_of(
    state: &web::Data<AppState>,
    who: MaybePrincipal,
    p: PortfolioParams,
) -> Result<Portfolio, ApiError> {
    let config = state.config.clone();
    state
        .db(move |c| aggregate::read(c, &config, who.0.as_ref(), &p))
        .await
}

async fn membership_of(
    state: &web::Data<AppState>,
    who: MaybePrincipal,
    p: MembershipParams,
) -> Result<MembershipTable, ApiError> {
    let today = state.clock().today();
    state
        .db(move |c| membership::read(c, who.0.as_ref(), &p, today))
        .await
}

async fn statement_of(
    state: &web::Data<AppState>,
    who: Staff,
    id: String,
    p: StatementParams,
) -> Result<FundStatement, ApiError> {
    let today = state.clock().today();
    state
        .db(move |c| statement::read(c, &who, &id, &p, today))
        .await
}

/// The portfolio: committed, paid and outstanding in the base currency, grouped by one or two
/// dimensions.
#[utoipa::path(
    description = "Anyone. Committed (awarded), paid (net of reversals) and outstanding money of the grants in the base currency, at each grant's stored rate, grouped by one or two of pillar, priority_area, region, country, fund, donor, year, with filters. A grant tagged with several priority areas is split evenly between them (remainders of a minor unit to the areas in the plan's order), so every grouping adds up to the same total. Grants to organisations hidden from the public count for staff only; other answers leave them out and say so (`includes_hidden_organisations`). Changes nothing.",
    tag = "portfolio",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    params(PortfolioParams),
    responses(
        (status = 200, description = "The table", body = Portfolio),
        QueryErrors, Unauthenticated,
    )
)]
#[get("/portfolio")]
pub async fn get_portfolio(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    q: web::Query<PortfolioParams>,
) -> Result<HttpResponse, ApiError> {
    let p = portfolio_of(&state, who, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// The portfolio table as CSV (one column per dimension, the sums, a total row).
#[utoipa::path(
    description = "Anyone; the portfolio's rules and visibility. The table of `GET /portfolio` as CSV, its last row the total. Changes nothing.",
    tag = "portfolio",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    params(PortfolioParams),
    responses(
        (status = 200, description = "CSV with a header row", body = String, content_type = "text/csv", example = json!("priority_area,grants,committed,paid,outstanding\ntotal,1,1000.00,0.00,1000.00\n")),
        QueryErrors, Unauthenticated,
    )
)]
#[get("/portfolio.csv")]
pub async fn portfolio_csv(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    q: web::Query<PortfolioParams>,
) -> Result<HttpResponse, ApiError> {
    let p = portfolio_of(&state, who, q.into_inner()).await?;
    let csv = tables::csv(&tables::portfolio(&p))?;
    Ok(download(
        "text/csv; charset=utf-8",
        "portfolio.csv",
        csv.into_bytes(),
    ))
}

/// The portfolio table as an Excel workbook.
#[utoipa::path(
    description = "Anyone; the portfolio's rules and visibility. The table of `GET /portfolio` as XLSX (amounts as numbers), its last row the total. Changes nothing.",
    tag = "portfolio",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    params(PortfolioParams),
    responses(
        (status = 200, description = "An XLSX workbook", body = Download, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", example = json!("PK...")),
        QueryErrors, Unauthenticated,
    )
)]
#[get("/portfolio.xlsx")]
pub async fn portfolio_xlsx(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    q: web::Query<PortfolioParams>,
) -> Result<HttpResponse, ApiError> {
    let p = portfolio_of(&state, who, q.into_inner()).await?;
    let book = tables::xlsx(&tables::portfolio(&p), "Portfolio")?;
    Ok(download(XLSX, "portfolio.xlsx", book))
}

/// Members per year by region, country or kind: joined, lapsed, withdrawn, active at year end.
#[utoipa::path(
    description = "Anyone. Organisations per year by region, country or kind: joined, lapsed, withdrawn and active at the year's end. Organisations hidden from the public count for staff only. Changes nothing.",
    tag = "portfolio",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    params(MembershipParams),
    responses(
        (status = 200, description = "The table", body = MembershipTable),
        QueryErrors, Unauthenticated,
    )
)]
#[get("/portfolio/membership")]
pub async fn get_membership_table(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    q: web::Query<MembershipParams>,
) -> Result<HttpResponse, ApiError> {
    let m = membership_of(&state, who, q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(m))
}

/// The membership table as CSV.
#[utoipa::path(
    description = "Anyone; the membership table's rules and visibility, as CSV. Changes nothing.",
    tag = "portfolio",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    params(MembershipParams),
    responses(
        (status = 200, description = "CSV with a header row", body = String, content_type = "text/csv", example = json!("year,region,joined,lapsed,withdrawn,active_at_year_end\n2026,africa,3,0,0,3\n")),
        QueryErrors, Unauthenticated,
    )
)]
#[get("/portfolio/membership.csv")]
pub async fn membership_csv(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    q: web::Query<MembershipParams>,
) -> Result<HttpResponse, ApiError> {
    let m = membership_of(&state, who, q.into_inner()).await?;
    let csv = tables::csv(&tables::membership(&m))?;
    Ok(download(
        "text/csv; charset=utf-8",
        "membership.csv",
        csv.into_bytes(),
    ))
}

/// The membership table as an Excel workbook.
#[utoipa::path(
    description = "Anyone; the membership table's rules and visibility, as XLSX. Changes nothing.",
    tag = "portfolio",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    params(MembershipParams),
    responses(
        (status = 200, description = "An XLSX workbook", body = Download, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", example = json!("PK...")),
        QueryErrors, Unauthenticated,
    )
)]
#[get("/portfolio/membership.xlsx")]
pub async fn membership_xlsx(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    q: web::Query<MembershipParams>,
) -> Result<HttpResponse, ApiError> {
    let m = membership_of(&state, who, q.into_inner()).await?;
    let book = tables::xlsx(&tables::membership(&m), "Membership")?;
    Ok(download(XLSX, "membership.xlsx", book))
}

/// A fund's statement for a period, in the fund's currency (staff).
#[utoipa::path(
    description = "Staff. Opening balance, received, awarded, paid, reversed and closing balance of the fund in its currency, with each grant's line; closing = opening + received − paid + reversed. Changes nothing.",
    tag = "portfolio",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Fund id"), StatementParams),
    responses(
        (status = 200, description = "The statement", body = FundStatement),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/funds/{id}/statement")]
pub async fn fund_statement(
    state: web::Data<AppState>,
    who: Staff,
    id: web::Path<String>,
    q: web::Query<StatementParams>,
) -> Result<HttpResponse, ApiError> {
    let s = statement_of(&state, who, id.into_inner(), q.into_inner()).await?;
    Ok(HttpResponse::Ok().json(s))
}

/// A fund's statement as CSV (staff).
#[utoipa::path(
    description = "Staff. The statement of `GET /funds/{id}/statement` as CSV: the summary rows, then one row per grant. Changes nothing.",
    tag = "portfolio",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Fund id"), StatementParams),
    responses(
        (status = 200, description = "CSV", body = String, content_type = "text/csv", example = json!("fund,OSF-2026,Drug policy reform\nclosing_balance,100000.00\n")),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/funds/{id}/statement.csv")]
pub async fn fund_statement_csv(
    state: web::Data<AppState>,
    who: Staff,
    id: web::Path<String>,
    q: web::Query<StatementParams>,
) -> Result<HttpResponse, ApiError> {
    let s = statement_of(&state, who, id.into_inner(), q.into_inner()).await?;
    let csv = statement::csv(&s)?;
    Ok(download(
        "text/csv; charset=utf-8",
        "statement.csv",
        csv.into_bytes(),
    ))
}

/// A fund's statement as PDF (staff).
#[utoipa::path(
    description = "Staff. The statement of `GET /funds/{id}/statement` as a PDF whose text (summary and grant lines) can be extracted. Changes nothing.",
    tag = "portfolio",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Fund id"), StatementParams),
    responses(
        (status = 200, description = "A PDF document", body = Download, content_type = "application/pdf", example = json!("%PDF-1.5 ...")),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/funds/{id}/statement.pdf")]
pub async fn fund_statement_pdf(
    state: web::Data<AppState>,
    who: Staff,
    id: web::Path<String>,
    q: web::Query<StatementParams>,
) -> Result<HttpResponse, ApiError> {
    let s = statement_of(&state, who, id.into_inner(), q.into_inner()).await?;
    let pdf = tables::statement_pdf(&s)?;
    Ok(download("application/pdf", "statement.pdf", pdf))
}

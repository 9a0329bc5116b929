//! HTTP handlers of the open-data exports and of a fund's publication choices.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};

use super::{data, etag_of, giving, iati, publication};
use crate::AppState;
use crate::auth::MaybePrincipal;
use crate::auth::caller::{GrantStaff, Staff};
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, NotFoundError, Unauthenticated};
use crate::extract::Json;

/// True when `If-None-Match` lists `etag` (or is `*`).
fn not_modified(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
        })
}

/// The body with its ETag, or 304 when the client has it.
fn cacheable(req: &HttpRequest, content_type: &str, body: Vec<u8>) -> HttpResponse {
    let etag = etag_of(&body);
    if not_modified(req, &etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body)
}

/// The published grants (approved, active, closed) as a 360Giving 1.4 package. Public.
/// Onward grants carry no regrantType; funds the network chose to publish appear as incoming
/// grants with theirs. Organisations are identified by org-id where they have one;
/// organisations hidden from the public are not named, identified or located beyond their
/// region. Cacheable: answers 304 to a matching `If-None-Match`.
#[utoipa::path(
    description = "Anyone. Open data; changes nothing.",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    tag = "exports",
    responses(
        (status = 200, description = "A 360Giving 1.4 package", body = Object, headers(("ETag" = String, description = "Changes when the data changes")), example = json!(giving_example())),
        (status = 304, description = "Not modified"),
        Unauthenticated,
    )
)]
#[get("/exports/360giving.json")]
pub async fn giving_export(
    state: web::Data<AppState>,
    _who: MaybePrincipal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let package = state
        .db(move |c| Ok(giving::package(&data::load(c)?, &config)))
        .await?;
    let body = serde_json::to_vec(&package).map_err(|_| ApiError::internal("package JSON"))?;
    Ok(cacheable(&req, "application/json", body))
}

/// The published grants as an IATI 2.03 activity file, reported by the network. Public, with
/// the 360Giving export's visibility. One iati-activity per grant: participating donor
/// (funding), network (extending) and grantee (implementing); a commitment at approval, a
/// disbursement per payment and a negative disbursement per reversal. Cacheable: answers 304
/// to a matching `If-None-Match`.
#[utoipa::path(
    description = "Anyone. Open data; changes nothing.",
    security((), ("bearer" = []), ("oauth2" = ["grants:read"])),
    tag = "exports",
    responses(
        (status = 200, description = "An IATI 2.03 iati-activities document", body = String, content_type = "application/xml", headers(("ETag" = String, description = "Changes when the data changes")), example = json!(iati_example())),
        (status = 304, description = "Not modified"),
        Unauthenticated,
    )
)]
#[get("/exports/iati-activities.xml")]
pub async fn iati_export(
    state: web::Data<AppState>,
    _who: MaybePrincipal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let xml = state
        .db(move |c| Ok(iati::activities(&data::load(c)?, &config)))
        .await?;
    Ok(cacheable(
        &req,
        "application/xml; charset=utf-8",
        xml.into_bytes(),
    ))
}

/// How a fund appears in open data (staff): published as an incoming grant or not, its
/// regrantType, and the donor's IATI activity. Defaults when never set.
#[utoipa::path(
    description = "Staff. Changes nothing.",
    tag = "exports",
    params(("id" = uuid::Uuid, Path, description = "Fund id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The fund's publication choices", body = publication::FundPublication),
        AuthErrors,
        NotFoundError,
    )
)]
#[get("/funds/{id}/publication")]
pub async fn get_fund_publication(
    state: web::Data<AppState>,
    who: Staff,
    id: web::Path<String>,
) -> Result<web::Json<publication::FundPublication>, ApiError> {
    let id = id.into_inner();
    let p = state.db(move |c| publication::get(c, &who, &id)).await?;
    Ok(web::Json(p))
}

/// Set how a fund appears in open data (admins and grant officers).
#[utoipa::path(
    description = "Admins and grant officers. Changes how the fund appears in the open-data exports; audited.",
    tag = "exports",
    params(("id" = uuid::Uuid, Path, description = "Fund id")),
    request_body = publication::FundPublication,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The fund's publication choices", body = publication::FundPublication),
        BodyErrors,
        AuthErrors,
        NotFoundError,
    )
)]
#[put("/funds/{id}/publication")]
pub async fn set_fund_publication(
    state: web::Data<AppState>,
    who: GrantStaff,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<publication::FundPublication>,
) -> Result<web::Json<publication::FundPublication>, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    let p = state
        .db(move |c| publication::set(c, &config, &who, &meta, &id, body.0))
        .await?;
    Ok(web::Json(p))
}

/// The example of the IATI answer: an activity file without activities.
fn iati_example() -> serde_json::Value {
    serde_json::json!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <iati-activities version=\"2.03\" generated-datetime=\"2026-11-30T09:30:00Z\">\n\
         </iati-activities>\n"
    )
}

/// The example of the 360Giving answer: a package without grants.
fn giving_example() -> serde_json::Value {
    serde_json::json!({
        "version": giving::VERSION,
        "title": "IDPC onward grants",
        "identifier": "360G-IDPC-onward-grants",
        "issued": "2026-11-30",
        "modified": "2026-11-30T09:30:00Z",
        "publisher": {"identifier": "360G-IDPC", "name": "IDPC", "prefix": "360G-IDPC"},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "accessURL": "http://127.0.0.1:8080/api/v1/exports/360giving.json",
        "grants": []
    })
}

//! HTTP handlers for the directory, membership applications and membership decisions.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::membership;
use super::model::*;
use super::search::{self, Endpoint};
use super::service::{self, Viewer};
use crate::AppState;
use crate::auth::principal::RequestMeta;
use crate::auth::{MaybePrincipal, Principal, Role};
use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::pagination::Page;

/// Filters shared by the list, the facets and the CSV export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FilterParams {
    /// Case-insensitive text in name, acronym or (where the caller may see it) description.
    q: Option<String>,
    /// member or partner.
    kind: Option<String>,
    /// Region code.
    region: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    country: Option<String>,
    /// Priority area; repeat the parameter to match any of several.
    #[param(explode = true)]
    focus_area: Option<Vec<String>>,
    /// ISO 639-1 language code.
    language: Option<String>,
    /// Staff only (403 for anyone else): active, grace, lapsed, suspended or withdrawn.
    membership_status: Option<String>,
    /// A full org-id identifier, e.g. GB-CHC-1234567 (a scheme not on the list is a 400).
    identifier: Option<String>,
}

/// Sorting and paging of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SortPageParams {
    /// name (default), joined_on or updated_at; a leading `-` sorts descending.
    sort: Option<String>,
    /// Page size, 1–100 (default 25).
    limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    cursor: Option<String>,
}

fn viewer(who: &MaybePrincipal) -> Result<Viewer, ApiError> {
    Viewer::of(who.0.as_ref())
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// Parses `If-Match`: absent → None; `"N"` (or `W/"N"`, or `N`) → Some(N); else 400.
fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("").trim();
    let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
    s.parse::<i64>().map(Some).map_err(|_| {
        ApiError::field(
            "If-Match",
            "invalid",
            "Send the ETag of the version you edited, e.g. If-Match: \"3\".",
        )
    })
}

/// True when `If-None-Match` lists the current ETag (or is `*`).
fn not_modified(req: &HttpRequest, version: i64) -> bool {
    let Some(v) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let current = etag(version);
    v.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t == current || t.strip_prefix("W/") == Some(current.as_str()))
}

/// Create an organisation (admin). Profile fields are set afterwards with PATCH.
#[utoipa::path(
    tag = "directory",
    request_body = NewOrganisation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Organisation, headers(("Location" = String, description = "URL of the new organisation"), ("ETag" = String, description = "Quoted version"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    who.require_role(&[Role::Admin])?;
    let actor = who.actor();
    let row = state
        .db(move |c| service::create(c, &actor, meta.request_id.as_deref(), body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organisations/{}", row.id)))
        .insert_header((header::ETAG, etag(row.version)))
        .json(Organisation::from(row)))
}

/// Search the directory. Each caller sees only the organisations and field groups it may:
/// the public and partner apps (`directory:read`) see public groups of listed organisations
/// that are not hidden; members see members-level groups; staff see everything.
#[utoipa::path(
    tag = "directory",
    params(FilterParams, SortPageParams),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "A page of organisations", body = Page<Organisation>),
        (status = 400, description = "Unknown parameter or invalid value (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "App without directory:read, or membership_status by non-staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
) -> Result<web::Json<Page<Organisation>>, ApiError> {
    let viewer = viewer(&who)?;
    let q = search::parse_query(req.query_string(), &viewer, Endpoint::List)?;
    let page = state.db(move |c| search::list(c, &viewer, &q)).await?;
    Ok(web::Json(page))
}

/// Counts per region, country, focus area and kind, over what the caller may see.
#[utoipa::path(
    tag = "directory",
    params(FilterParams),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "Facet counts", body = Facets),
        (status = 400, description = "Unknown parameter or invalid value (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "App without directory:read, or membership_status by non-staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/facets")]
pub async fn organisation_facets(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
) -> Result<web::Json<Facets>, ApiError> {
    let viewer = viewer(&who)?;
    let q = search::parse_query(req.query_string(), &viewer, Endpoint::Facets)?;
    let facets = state
        .db(move |c| search::facets(c, &viewer, &q.filters))
        .await?;
    Ok(web::Json(facets))
}

/// Rows fetched per round trip while streaming the export.
const EXPORT_PAGE: i64 = 500;

/// The directory as CSV, with the list's filters and visibility, streamed page by page.
#[utoipa::path(
    tag = "directory",
    params(FilterParams, ("sort" = Option<String>, Query, description = "name (default), joined_on or updated_at; a leading - sorts descending")),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "CSV with a header row; fields the caller may not see are empty", body = String, content_type = "text/csv"),
        (status = 400, description = "Unknown parameter or invalid value (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "App without directory:read, or membership_status by non-staff", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations.csv")]
pub async fn export_organisations(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&who)?;
    let mut q = search::parse_query(req.query_string(), &viewer, Endpoint::Export)?;
    q.limit = EXPORT_PAGE;
    let state = state.into_inner();
    let header_line = search::csv_line(search::CSV_HEADER);
    let stream = futures_util::stream::unfold(Some((q, true)), move |st| {
        let (state, viewer, header_line) = (state.clone(), viewer.clone(), header_line.clone());
        async move {
            let (mut q, first) = st?;
            let (v, qq) = (viewer.clone(), q.clone());
            match state.db(move |c| search::page(c, &v, &qq, false)).await {
                Ok((rows, next, _)) => {
                    let mut buf = if first { header_line } else { String::new() };
                    for r in rows {
                        buf.push_str(&search::csv_row(&viewer, r));
                    }
                    let next_state = next.map(|n| {
                        q.cursor = Some(n);
                        (q, false)
                    });
                    Some((Ok::<_, actix_web::Error>(Bytes::from(buf)), next_state))
                }
                Err(e) => {
                    tracing::error!(error = %e, "CSV export failed mid-stream");
                    Some((Err(e.into()), None))
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"organisations.csv\"",
        ))
        .streaming(stream))
}

/// An organisation by id or slug, as the caller may see it. Answers 304 to a matching
/// `If-None-Match`.
#[utoipa::path(
    tag = "directory",
    params(("id" = String, Path, description = "Organisation id or slug")),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String, description = "Quoted version"))),
        (status = 304, description = "Not modified"),
        (status = 401, description = "Invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "App without directory:read", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let viewer = viewer(&who)?;
    let id = id.into_inner();
    let org = state.db(move |c| service::get(c, &viewer, &id)).await?;
    if not_modified(&req, org.version) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(org.version)))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(org.version)))
        .insert_header((header::VARY, "Authorization"))
        .json(org))
}

/// Change an organisation (JSON merge-patch). Admins, or member users of that organisation;
/// members may not change kind, slug, joined_on or membership. `If-Match` is required.
#[utoipa::path(
    tag = "directory",
    params(
        ("id" = String, Path, description = "Organisation id"),
        ("If-Match" = String, Header, description = "ETag of the version being edited, e.g. \"3\""),
    ),
    request_body(content = OrganisationPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated organisation", body = Organisation, headers(("ETag" = String, description = "Quoted new version"))),
        (status = 400, description = "Invalid, unknown or protected field (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Neither an admin nor a member", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another organisation's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match; carries current_version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<OrganisationPatch>,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(&req)?;
    let id = id.into_inner();
    let w = who.clone();
    let row = state
        .db(move |c| service::update(c, &w, meta.request_id.as_deref(), &id, expected, body.0))
        .await?;
    let level = Viewer::of(Some(&who))?.level_for(&row.id);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Organisation::view(row, level)))
}

/// The organisation's audit history with before/after per field (admins and the
/// organisation's own members; other members get 404, other staff and apps 403).
#[utoipa::path(
    tag = "directory",
    params(("id" = String, Path, description = "Organisation id or slug"), crate::identity::api::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Audit events, oldest first", body = Page<HistoryEntry>),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin nor a member", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, or another organisation's", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{id}/history")]
pub async fn organisation_history(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<crate::identity::api::PageParams>,
) -> Result<web::Json<Page<HistoryEntry>>, ApiError> {
    let limit = crate::pagination::limit(page.limit)?;
    let cursor = page.cursor.clone();
    let id = id.into_inner();
    let out = state
        .db(move |c| service::history(c, &who, &id, limit, cursor.as_deref()))
        .await?;
    Ok(web::Json(out))
}

/// Decide on a member's standing (admin): suspend, reinstate, withdraw or renew.
#[utoipa::path(
    tag = "membership",
    params(("id" = String, Path, description = "Organisation id or slug")),
    request_body = MembershipCommand,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation after the decision", body = Organisation),
        (status = 400, description = "Invalid field (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the current standing, or a partner", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{id}/membership")]
pub async fn change_membership(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<MembershipCommand>,
) -> Result<HttpResponse, ApiError> {
    who.require_role(&[Role::Admin])?;
    let id = id.into_inner();
    let today = Utc::now().date_naive();
    let row = state
        .db(move |c| membership::decide(c, &who, &meta, &id, body.0, today))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Organisation::from(row)))
}

/// Apply for membership (public, no account; rate-limited per IP). The applicant gets a
/// confirmation email and every active admin a notification.
#[utoipa::path(
    tag = "membership",
    request_body = NewApplication,
    security(()),
    responses(
        (status = 201, description = "Received", body = Application, headers(("Location" = String, description = "URL of the application (admin)"))),
        (status = 400, description = "Invalid field (named)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many applications from this address (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/membership-applications")]
pub async fn submit_application(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<NewApplication>,
) -> Result<HttpResponse, ApiError> {
    state.limiter.hit(
        &format!("application:ip:{}", meta.ip),
        state.config.application_rate_limit_per_ip,
    )?;
    let config = state.config.clone();
    let row = state
        .db(move |c| membership::submit(c, &config, &meta, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/membership-applications/{}", row.id),
        ))
        .json(Application::from(row)))
}

/// Filter and paging of applications.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplicationParams {
    /// Only applications in this status.
    pub status: Option<ApplicationStatus>,
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Membership applications, oldest first (admin).
#[utoipa::path(
    tag = "membership",
    params(ApplicationParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of applications", body = Page<Application>),
        (status = 400, description = "Invalid parameter (named)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/membership-applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<ApplicationParams>,
) -> Result<web::Json<Page<Application>>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let q = q.into_inner();
    let limit = crate::pagination::limit(q.limit)?;
    let page = state
        .db(move |c| membership::list_applications(c, q.status, limit, q.cursor.as_deref()))
        .await?;
    Ok(web::Json(page))
}

/// One membership application (admin).
#[utoipa::path(
    tag = "membership",
    params(("id" = String, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = Application),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown application", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/membership-applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Application>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let id = id.into_inner();
    let row = state
        .db(move |c| membership::get_application(c, &id))
        .await?;
    Ok(web::Json(row.into()))
}

/// Start reviewing an application (admin): submitted → under_review; emails the applicant.
#[utoipa::path(
    tag = "membership",
    params(("id" = String, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = Application),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not submitted", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/membership-applications/{id}/review")]
pub async fn review_application(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<Application>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let (id, config) = (id.into_inner(), state.config.clone());
    let row = state
        .db(move |c| membership::start_review(c, &config, &who, &meta, &id))
        .await?;
    Ok(web::Json(row.into()))
}

/// Approve an application (admin): creates the member organisation and invites the contact
/// as its first member user by email.
#[utoipa::path(
    tag = "membership",
    params(("id" = String, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application, with organisation_id", body = Application),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided, or the contact's email already has an account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/membership-applications/{id}/approve")]
pub async fn approve_application(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<Application>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let (id, config) = (id.into_inner(), state.config.clone());
    let today = Utc::now().date_naive();
    let row = state
        .db(move |c| membership::approve(c, &config, &who, &meta, &id, today))
        .await?;
    Ok(web::Json(row.into()))
}

/// Reject an application with a reason (admin); emails the applicant.
#[utoipa::path(
    tag = "membership",
    params(("id" = String, Path, description = "Application id")),
    request_body = RejectApplication,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = Application),
        (status = 400, description = "Invalid reason", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown application", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/membership-applications/{id}/reject")]
pub async fn reject_application(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<RejectApplication>,
) -> Result<web::Json<Application>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let (id, config) = (id.into_inner(), state.config.clone());
    let row = state
        .db(move |c| membership::reject(c, &config, &who, &meta, &id, body.0))
        .await?;
    Ok(web::Json(row.into()))
}

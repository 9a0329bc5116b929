//! HTTP handlers for the directory, membership applications and membership decisions.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::applications::{
    self, Application, ApplicationStatus, NewApplication, RejectApplication,
};
use super::membership::{self, MembershipCommand};
use super::organisation::{self, HistoryEntry, NewOrganisation, Organisation, OrganisationPatch};
use super::renewal::{self, DeclineRenewal, RenewalRequest, RenewalRequestStatus};
use super::search::{self, Endpoint, Facets, OrganisationPage};
use super::visibility::Viewer;
use crate::AppState;
use crate::auth::caller::{Admin, OrgMember};
use crate::auth::principal::RequestMeta;
use crate::auth::{MaybePrincipal, Principal};
use crate::error::ApiError;
use crate::error::docs::{
    AuthErrors, BodyErrors, ConflictError, NotFoundError, QueryErrors, RateLimited, VersionErrors,
};
use crate::extract::{IfMatch, Json, etag, not_modified};
use crate::pagination::Page;

/// The statuses `membership_status` filters by (`MembershipStatus::parse`).
fn membership_status_schema() -> utoipa::openapi::Object {
    crate::codes::schema::one_of(membership::MembershipStatus::ALL.iter().map(|s| s.as_str()))
}

fn sort_schema() -> utoipa::openapi::Object {
    crate::codes::schema::one_of([
        "relevance",
        "name",
        "-name",
        "joined_on",
        "-joined_on",
        "updated_at",
        "-updated_at",
    ])
}

/// Filters shared by the list, the facets and the CSV export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FilterParams {
    /// Words to find, accent- and case-insensitively in any script (`bogota` finds
    /// `Bogotá`): in the name or acronym (anywhere in them, so a word inside a Thai name is
    /// found), or as the start of a word of the city or description where the caller may see
    /// the profile group. Every word must be found; at most 8 count, 200 characters.
    #[param(max_length = 200)]
    q: Option<String>,
    /// member or partner.
    kind: Option<super::organisation::OrganisationKind>,
    /// Kind of partner (partners only).
    partner_type: Option<super::organisation::PartnerType>,
    /// Region code.
    #[param(schema_with = crate::codes::schema::region)]
    region: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[param(schema_with = crate::codes::schema::country)]
    country: Option<String>,
    /// Priority area; repeat the parameter to match any of several. Matches only where the
    /// caller may see the profile group.
    #[param(explode = true, schema_with = crate::codes::schema::priority_areas)]
    focus_area: Option<Vec<String>>,
    /// Strategic pillar. Matches only where the caller may see the profile group.
    #[param(schema_with = crate::codes::schema::pillar)]
    pillar: Option<String>,
    /// ISO 639-1 language code. Matches only where the caller may see the profile group.
    #[param(schema_with = crate::codes::schema::language)]
    language: Option<String>,
    /// Staff only (403 for anyone else): active, grace, lapsed, suspended or withdrawn.
    #[param(schema_with = membership_status_schema)]
    membership_status: Option<String>,
    /// A full org-id identifier, e.g. GB-CHC-1234567 (a scheme not on the list is a 400).
    #[param(schema_with = crate::codes::schema::org_identifier)]
    identifier: Option<String>,
}

/// Sorting of the CSV export (no paging: it streams every row).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportSortParams {
    /// name (default), relevance (with `q`), joined_on or updated_at; a leading `-` sorts
    /// descending (not relevance).
    #[param(schema_with = sort_schema)]
    sort: Option<String>,
}

/// Sorting and paging of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SortPageParams {
    /// relevance (the default with `q`: name or acronym matches first, then profile matches,
    /// each by name), name (the default without `q`), joined_on or updated_at; a leading `-`
    /// sorts descending (not relevance).
    #[param(schema_with = sort_schema)]
    sort: Option<String>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`, valid only with the same filters and
    /// sort (else 400 naming `cursor`).
    cursor: Option<String>,
}

/// Create an organisation (admin). Profile fields are set afterwards with PATCH.
#[utoipa::path(
    description = "Admins. Creates an organisation (a partner or a member); audited. Emails nothing.",
    tag = "directory",
    request_body = NewOrganisation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Organisation, headers(("Location" = String, description = "URL of the new organisation"), ("ETag" = String, description = "Quoted version"))),
        BodyErrors, AuthErrors, ConflictError
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    body: Json<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(move |c| organisation::create(c, &config, &admin, meta.request_id.as_deref(), body.0))
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
    description = "Anyone; what each caller sees follows the directory's one visibility rule. Changes nothing.",
    tag = "directory",
    params(FilterParams, SortPageParams),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "A page of organisations; `total` is exact up to 1,000", body = OrganisationPage),
        QueryErrors, AuthErrors
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
) -> Result<web::Json<OrganisationPage>, ApiError> {
    let viewer = Viewer::try_from(&who)?;
    let q = search::parse_query(req.query_string(), &viewer, Endpoint::List)?;
    let mut page = state.db(move |c| search::list(c, &viewer, &q)).await?;
    let wanted = reader_languages(&req);
    page.data = page
        .data
        .into_iter()
        .map(|o| o.for_reader(&wanted))
        .collect();
    Ok(web::Json(page))
}

/// The languages the reader asks descriptions in (`Accept-Language`), best first.
fn reader_languages(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(organisation::descriptions::accepted)
        .unwrap_or_default()
}

/// Counts per region, country, kind, partner type, focus area, pillar and language, over
/// what the caller may see, with the list's filters: a value's count is the list's total
/// with that value added to the filters.
#[utoipa::path(
    description = "Anyone; counted over what the caller may see, with the list's filters. Changes nothing.",
    tag = "directory",
    params(FilterParams),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "Facet counts", body = Facets),
        QueryErrors, AuthErrors
    )
)]
#[get("/organisations/facets")]
pub async fn organisation_facets(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
) -> Result<web::Json<Facets>, ApiError> {
    let viewer = Viewer::try_from(&who)?;
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
    description = "Anyone; the list's visibility and filters as CSV (formula injection defused). Changes nothing.",
    tag = "directory",
    params(FilterParams, ExportSortParams),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "CSV with a header row; fields the caller may not see are empty", body = String, content_type = "text/csv", example = json!(csv_example())),
        QueryErrors, AuthErrors
    )
)]
#[get("/organisations.csv")]
pub async fn export_organisations(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let viewer = Viewer::try_from(&who)?;
    let mut q = search::parse_query(req.query_string(), &viewer, Endpoint::Export)?;
    q.limit = EXPORT_PAGE;
    let state = state.into_inner();
    let header_line = search::csv::header()?;
    let stream = futures_util::stream::unfold(Some((q, true)), move |st| {
        let (state, viewer, header_line) = (state.clone(), viewer.clone(), header_line.clone());
        async move {
            let (mut q, first) = st?;
            let (v, qq) = (viewer.clone(), q.clone());
            match state.db(move |c| search::page(c, &v, &qq)).await {
                Ok((rows, next, _)) => {
                    let mut buf = if first { header_line } else { String::new() };
                    match search::csv::rows(&viewer, rows) {
                        Ok(lines) => buf.push_str(&lines),
                        Err(e) => return Some((Err(e.into()), None)),
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
/// `If-None-Match`, and 301 to the current slug when asked by an old one (after a rename).
#[utoipa::path(
    description = "Anyone; the field groups the caller may see. A hidden organisation is 404 to the public and to partner apps. The profile's `description` is in the language `Accept-Language` prefers when the profile has it, else in the organisation's first language; `description_language` says which and `descriptions` holds every language. Changes nothing.",
    tag = "directory",
    params(("id" = String, Path, description = "Organisation id or slug")),
    security((), ("bearer" = []), ("oauth2" = ["directory:read"])),
    responses(
        (status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String, description = "Quoted version"))),
        (status = 301, description = "An old slug: the organisation is at the URL in Location", headers(("Location" = String, description = "URL of the organisation by its current slug"))),
        (status = 304, description = "Not modified"),
        AuthErrors, NotFoundError
    )
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    who: MaybePrincipal,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let viewer = Viewer::try_from(&who)?;
    let id = id.into_inner();
    let org = match state
        .db(move |c| organisation::get(c, &viewer, &id))
        .await?
    {
        organisation::Found::Here(org) => org,
        organisation::Found::Moved(slug) => {
            return Ok(HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, format!("/api/v1/organisations/{slug}")))
                .insert_header((header::VARY, "Authorization"))
                .finish());
        }
    };
    let org = org.for_reader(&reader_languages(&req));
    if not_modified(&req, org.version) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(org.version)))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(org.version)))
        .insert_header((header::VARY, "Authorization, Accept-Language"))
        .json(org))
}

/// Change an organisation (JSON merge-patch). Admins, or member users of that organisation;
/// members may not change kind, slug, joined_on or membership. `If-Match` is required.
#[utoipa::path(
    description = "Admins, or member users of that organisation in good standing. Changes the profile (JSON merge patch); audited, and partner apps' webhooks hear of public changes.",
    tag = "directory",
    params(
        ("id" = String, Path, description = "Organisation id"),
        ("If-Match" = String, Header, description = "ETag of the version being edited, e.g. \"3\""),
    ),
    request_body(content = OrganisationPatch, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated organisation", body = Organisation, headers(("ETag" = String, description = "Quoted new version"))),
        BodyErrors, AuthErrors, NotFoundError, ConflictError, VersionErrors
    )
)]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    if_match: IfMatch,
    id: web::Path<String>,
    body: Json<OrganisationPatch>,
) -> Result<HttpResponse, ApiError> {
    let (id, config, w) = (id.into_inner(), state.config.clone(), who.clone());
    let row = state
        .db(move |c| organisation::update(c, &config, &w, &meta, &id, if_match.0, body.0))
        .await?;
    let groups = Viewer::of(Some(&who))?.field_groups(&row);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Organisation::view(row, groups)))
}

/// The organisation's audit history with before/after per field (admins and the
/// organisation's own members; other members get 404, other staff and apps 403).
#[utoipa::path(
    description = "Admins and the organisation's own members. The audit trail, newest first. Changes nothing.",
    tag = "directory",
    params(("id" = String, Path, description = "Organisation id or slug"), crate::pagination::PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Audit events, oldest first", body = Page<HistoryEntry>),
        QueryErrors, AuthErrors, NotFoundError
    )
)]
#[get("/organisations/{id}/history")]
pub async fn organisation_history(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    page: web::Query<crate::pagination::PageParams>,
) -> Result<web::Json<Page<HistoryEntry>>, ApiError> {
    let limit = crate::pagination::limit(page.limit)?;
    let cursor = page.cursor.clone();
    let id = id.into_inner();
    let out = state
        .db(move |c| organisation::history(c, &who, &id, limit, cursor.as_deref()))
        .await?;
    Ok(web::Json(out))
}

/// Decide on a member's standing (admin): suspend, reinstate, withdraw or renew.
#[utoipa::path(
    description = "Admins. Suspends, reinstates, withdraws or renews a membership; audited; the organisation's members and the admins are emailed, and an open renewal request is closed.",
    tag = "membership",
    params(("id" = String, Path, description = "Organisation id or slug")),
    request_body = MembershipCommand,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation after the decision", body = Organisation),
        BodyErrors, AuthErrors, NotFoundError, ConflictError
    )
)]
#[post("/organisations/{id}/membership")]
pub async fn change_membership(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<MembershipCommand>,
) -> Result<HttpResponse, ApiError> {
    let (id, config) = (id.into_inner(), state.config.clone());
    let today = state.clock().today();
    let row = state
        .db(move |c| membership::decide(c, &config, &admin, &meta, &id, body.0, today))
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(Organisation::from(row)))
}

/// Ask the secretariat to renew the caller's organisation's membership (a member of that
/// organisation). Every active admin is emailed; an admin decides with
/// `POST /organisations/{id}/membership` (`renew`), which closes the request. 404 for another
/// organisation; 409 `renewal_already_requested` while one is open, `invalid_transition` when
/// the membership cannot be renewed (suspended, withdrawn).
#[utoipa::path(
    description = "Members of that organisation. Records one open renewal request and emails every active admin; an admin's membership decision closes it. Audited.",
    tag = "membership",
    params(("id" = String, Path, description = "Organisation id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Asked; the admins decide", body = RenewalRequest),
        AuthErrors, NotFoundError, ConflictError
    )
)]
#[post("/organisations/{id}/membership/renewal-requests")]
pub async fn request_renewal(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let member = OrgMember::try_from(&who)?;
    let (id, config) = (id.into_inner(), state.config.clone());
    let today = state.clock().today();
    let row = state
        .db(move |c| renewal::request(c, &config, &member, &meta, &id, today))
        .await?;
    Ok(HttpResponse::Accepted().json(RenewalRequest::from(row)))
}

/// Filter and paging of renewal requests.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RenewalParams {
    /// Only requests in this status (`open`: those waiting for a decision).
    pub status: Option<RenewalRequestStatus>,
    /// Page size, 1–100 (default 25).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// Members' requests to renew their membership, oldest first (admins). An admin renews with
/// `POST /organisations/{id}/membership` (`renew`) or declines with `.../{id}/decline`.
#[utoipa::path(
    description = "Admins. Renewal requests with their status, oldest first. Changes nothing.",
    tag = "membership",
    params(RenewalParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of renewal requests", body = Page<RenewalRequest>),
        QueryErrors, AuthErrors
    )
)]
#[get("/membership/renewal-requests")]
pub async fn list_renewal_requests(
    state: web::Data<AppState>,
    admin: Admin,
    q: web::Query<RenewalParams>,
) -> Result<web::Json<Page<RenewalRequest>>, ApiError> {
    let q = q.into_inner();
    let limit = crate::pagination::limit(q.limit)?;
    let page = state
        .db(move |c| renewal::list(c, &admin, q.status, limit, q.cursor.as_deref()))
        .await?;
    Ok(web::Json(page))
}

/// Decline an open renewal request, saying why (admins): the membership is left as it is.
#[utoipa::path(
    description = "Admins. Closes the open request with the reason; audited; the organisation's members and the other admins are emailed why. 409 when it was already decided.",
    tag = "membership",
    params(("id" = uuid::Uuid, Path, description = "Renewal request id")),
    request_body = DeclineRenewal,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The closed request", body = RenewalRequest),
        AuthErrors, BodyErrors, NotFoundError, ConflictError
    )
)]
#[post("/membership/renewal-requests/{id}/decline")]
pub async fn decline_renewal_request(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<DeclineRenewal>,
) -> Result<web::Json<RenewalRequest>, ApiError> {
    let (id, config) = (id.into_inner(), state.config.clone());
    let today = state.clock().today();
    let row = state
        .db(move |c| renewal::decline(c, &config, &admin, &meta, &id, body.0, today))
        .await?;
    Ok(web::Json(row.into()))
}

/// Apply for membership (public, no account; rate-limited per IP and per contact email).
/// The applicant gets a confirmation email and every active admin a notification. 409
/// `duplicate_application` while an application of the same contact email or organisation
/// name is open.
#[utoipa::path(
    description = "Anyone, without an account. Records the application; the applicant gets a confirmation (with no applicant text beyond their name) and every active admin a notice (applicant text never in a subject).",
    extensions(("x-rate-limits" = json!([crate::http_contract::Limit::ApplicationPerIp]))),
    tag = "membership",
    request_body = NewApplication,
    security(()),
    responses(
        (status = 201, description = "Received", body = Application, headers(("Location" = String, description = "URL of the application (admin)"))),
        BodyErrors, ConflictError, RateLimited
    )
)]
#[post("/membership-applications")]
pub async fn submit_application(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<NewApplication>,
) -> Result<HttpResponse, ApiError> {
    // Counted in the database, so every instance behind one address enforces one limit.
    let per_ip = (
        format!("application:ip:{}", crate::config::address_bucket(&meta.ip)),
        state.config.application_rate_limit_per_ip,
    );
    crate::auth::throttle::limit(&state, vec![per_ip]).await?;
    let config = state.config.clone();
    let row = state
        .db(move |c| applications::submit(c, &config, &meta, body.0))
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
    description = "Admins. Applications with their status, oldest first. Changes nothing.",
    tag = "membership",
    params(ApplicationParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of applications", body = Page<Application>),
        QueryErrors, AuthErrors
    )
)]
#[get("/membership-applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    admin: Admin,
    q: web::Query<ApplicationParams>,
) -> Result<web::Json<Page<Application>>, ApiError> {
    let q = q.into_inner();
    let limit = crate::pagination::limit(q.limit)?;
    let page = state
        .db(move |c| {
            applications::list_applications(c, &admin, q.status, limit, q.cursor.as_deref())
        })
        .await?;
    Ok(web::Json(page))
}

/// One membership application (admin).
#[utoipa::path(
    description = "Admins. One application. Changes nothing.",
    tag = "membership",
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = Application),
        AuthErrors, NotFoundError
    )
)]
#[get("/membership-applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
) -> Result<web::Json<Application>, ApiError> {
    let id = id.into_inner();
    let row = state
        .db(move |c| applications::get_application(c, &admin, &id))
        .await?;
    Ok(web::Json(row.into()))
}

/// Start reviewing an application (admin): submitted → under_review; emails the applicant.
#[utoipa::path(
    description = "Admins. Moves the application to under review; audited; the applicant is emailed.",
    tag = "membership",
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = Application),
        AuthErrors, NotFoundError, ConflictError
    )
)]
#[post("/membership-applications/{id}/review")]
pub async fn review_application(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<Application>, ApiError> {
    let (id, config) = (id.into_inner(), state.config.clone());
    let row = state
        .db(move |c| applications::start_review(c, &config, &admin, &meta, &id))
        .await?;
    Ok(web::Json(row.into()))
}

/// Approve an application (admin): creates the member organisation and invites the contact
/// as its first member user by email.
#[utoipa::path(
    description = "Admins. Creates the member organisation and invites its contact as the first member user (emailed); audited.",
    tag = "membership",
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application, with organisation_id", body = Application),
        AuthErrors, NotFoundError, ConflictError
    )
)]
#[post("/membership-applications/{id}/approve")]
pub async fn approve_application(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<Application>, ApiError> {
    let (id, config) = (id.into_inner(), state.config.clone());
    let today = state.clock().today();
    let row = state
        .db(move |c| applications::approve(c, &config, &admin, &meta, &id, today))
        .await?;
    Ok(web::Json(row.into()))
}

/// Reject an application with a reason (admin); emails the applicant.
#[utoipa::path(
    description = "Admins, with a reason. Audited; the applicant is emailed the reason.",
    tag = "membership",
    params(("id" = uuid::Uuid, Path, description = "Application id")),
    request_body = RejectApplication,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = Application),
        BodyErrors, AuthErrors, NotFoundError, ConflictError
    )
)]
#[post("/membership-applications/{id}/reject")]
pub async fn reject_application(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<RejectApplication>,
) -> Result<web::Json<Application>, ApiError> {
    let (id, config) = (id.into_inner(), state.config.clone());
    let row = state
        .db(move |c| applications::reject(c, &config, &admin, &meta, &id, body.0))
        .await?;
    Ok(web::Json(row.into()))
}

/// The example of the CSV answer: its header row.
fn csv_example() -> serde_json::Value {
    let header = crate::directory::search::csv::CSV_HEADER;
    serde_json::json!(format!("{}\r\n", header.join(",")))
}

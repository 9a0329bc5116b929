//! The web console: server-rendered pages (minijinja templates compiled in, plain forms, no
//! JavaScript) for the flows that emails start. Every link in an email lands here. Pages call
//! the same service functions as the API — never a second copy of a rule — with a cookie
//! session instead of a bearer token, and a CSRF token on every form.

pub mod account;
pub mod admin;
pub mod bank_accounts;
pub mod budgets;
pub mod console;
pub mod dashboard;
pub mod documents;
pub mod funds;
pub mod grant_desk;
pub mod member;
pub mod membership;
pub mod page;
pub mod payments;
pub mod preferences;
pub mod session;
pub mod work;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::AppState;
use crate::auth::Principal;
use session::Visitor;

/// Every page of the console, outside `/api/v1`. The paths of email links are part of the
/// contract with the emails (README, "Email links").
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(account::home))
        .route("/sign-in", web::get().to(account::sign_in_form))
        .route("/sign-in", web::post().to(account::sign_in))
        .route("/sign-out", web::post().to(account::sign_out))
        .route("/accept-invitation", web::get().to(account::accept_form))
        .route("/accept-invitation", web::post().to(account::accept))
        .route("/forgot-password", web::get().to(account::forgot_form))
        .route("/forgot-password", web::post().to(account::forgot))
        .route("/reset-password", web::get().to(account::reset_form))
        .route("/reset-password", web::post().to(account::reset))
        .route("/account", web::get().to(preferences::account))
        .route("/account", web::post().to(preferences::save_account))
        .route("/inbox", web::get().to(work::inbox))
        // Before the `/{collection}/{id}/{verb}` forms, which would take `documents` as a verb.
        .route(
            "/{parents}/{id}/documents",
            web::post().to(documents::upload),
        )
        .route(
            "/documents/{id}/download",
            web::get().to(documents::download),
        )
        .route("/payments", web::get().to(work::payments))
        .route("/grants", web::get().to(work::grants))
        .route("/grants/new", web::get().to(grant_desk::new_grant))
        .route("/grants/new", web::post().to(grant_desk::create_grant))
        .route("/grants/{id}", web::get().to(work::grant))
        .route(
            "/grants/{id}/{verb}",
            web::post().to(grant_desk::move_grant),
        )
        .route("/dashboard", web::get().to(dashboard::dashboard))
        .route(
            "/dashboard/download/{file}",
            web::get().to(dashboard::download),
        )
        .route("/funds", web::get().to(funds::funds))
        .route("/funds", web::post().to(funds::create_fund))
        .route("/funds/{id}", web::get().to(funds::fund))
        .route("/funds/{id}/{verb}", web::post().to(funds::move_fund))
        .route("/disbursements/{id}", web::get().to(work::tranche))
        .route(
            "/disbursements/{id}/{verb}",
            web::post().to(work::move_tranche),
        )
        .route("/reports/{id}", web::get().to(work::report))
        .route("/reports/{id}/{verb}", web::post().to(work::move_report))
        .route(
            "/admin/membership-applications",
            web::get().to(admin::applications),
        )
        .route(
            "/admin/membership-applications/{id}",
            web::get().to(admin::application),
        )
        .route(
            "/admin/membership-applications/{id}/{verb}",
            web::post().to(admin::decide),
        )
        .route("/budget-revisions/{id}", web::get().to(budgets::revision))
        .route(
            "/budget-revisions/{id}/{verb}",
            web::post().to(budgets::decide),
        )
        .configure(organisation_pages);
    payment_pages(cfg);
}

/// Payee bank accounts (members and finance) and finance's runs and register.
fn payment_pages(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/organisations/{id}/bank-accounts",
        web::get().to(bank_accounts::accounts),
    )
    .route(
        "/organisations/{id}/bank-accounts",
        web::post().to(bank_accounts::propose),
    )
    .route(
        "/organisations/{id}/bank-accounts/{account_id}",
        web::get().to(bank_accounts::account),
    )
    .route(
        "/organisations/{id}/bank-accounts/{account_id}/confirm",
        web::post().to(bank_accounts::confirm_account),
    )
    .route(
        "/payments/accounts",
        web::get().to(payments::accounts_to_confirm),
    )
    .route("/payments/register", web::get().to(payments::register_page))
    .route(
        "/payments/register.csv",
        web::get().to(payments::register_csv),
    )
    .route("/payment-runs", web::get().to(payments::runs_list))
    .route("/payment-runs", web::post().to(payments::prepare_run))
    .route("/payment-runs/{id}", web::get().to(payments::run))
    .route(
        "/payment-runs/{id}/files/{kind}",
        web::get().to(payments::run_file),
    )
    .route(
        "/payment-runs/{id}/lines/{line_id}/return",
        web::post().to(payments::return_line),
    )
    .route(
        "/payment-runs/{id}/{verb}",
        web::post().to(payments::move_run),
    );
}

/// An organisation's own pages: membership and renewals, profile, colleagues.
fn organisation_pages(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/renewal-requests",
        web::get().to(membership::renewals),
    )
    .route(
        "/organisations/{id}/membership",
        web::get().to(membership::membership),
    )
    .route(
        "/organisations/{id}/membership/{verb}",
        web::post().to(membership::move_membership),
    )
    .route(
        "/organisations/{id}/profile",
        web::get().to(member::profile),
    )
    .route(
        "/organisations/{id}/profile",
        web::post().to(member::save_profile),
    )
    .route(
        "/organisations/{id}/colleagues",
        web::get().to(member::colleagues_list),
    )
    .route(
        "/organisations/{id}/colleagues/{verb}",
        web::post().to(member::move_colleagues),
    );
}

/// The visitor of a page that needs a session, with its caller; otherwise the page to answer
/// (the error page, or the sign-in form that comes back here).
pub async fn signed_in_visitor(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(Visitor, Principal), HttpResponse> {
    let v = visitor(req, state).await?;
    let who = signed_in(&v, state, req)?;
    Ok((v, who))
}

/// A posted form of a page that needs a session, with its caller; otherwise the page to
/// answer (a refused CSRF token, or the sign-in form that comes back here).
pub async fn posted_signed_in(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<(Posted, Principal), HttpResponse> {
    let p = posted(req, state, body).await?;
    let who = signed_in(&p.0, state, req)?;
    Ok((p, who))
}

/// The visitor of a request, or the error page when its session cannot be read.
pub async fn visitor(req: &HttpRequest, state: &AppState) -> Result<Visitor, HttpResponse> {
    Visitor::of(req, state).await.map_err(|e| {
        let v = Visitor {
            user: None,
            name: String::new(),
            csrf: String::new(),
            browser: String::new(),
            new_csrf: false,
            token: None,
            marked_only: false,
            secure: false,
            notice: None,
            lang: session::browser_language(req),
        };
        page::error_page(&v, &state.config.network_name, e, req.path())
    })
}

/// A form posted with its visitor.
pub struct Posted(pub Visitor, pub BTreeMap<String, String>);

/// Reads a posted form and refuses it (403 page) unless it carries this browser's CSRF token.
pub async fn posted(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<Posted, HttpResponse> {
    let v = visitor(req, state).await?;
    let f = session::fields(body);
    if !v.csrf_matches(&f) {
        return Err(page::message(
            &v,
            &state.config.network_name,
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was not sent from this site, or it is too old. Go back, reload the page and send it again.",
        ));
    }
    Ok(Posted(v, f))
}

/// The API's text check on every field of a posted form (`kit::control_characters`, line
/// breaks allowed as in a JSON body): a NUL or an escape code is a field error shown on the
/// form, before any service or database sees it. The services then check lengths and
/// formats as they do for the API.
pub fn form_text(fields: &BTreeMap<String, String>) -> Result<(), crate::error::ApiError> {
    let mut errors = Vec::new();
    for (name, value) in fields {
        crate::kit::control_characters(&mut errors, name, value, true);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(crate::error::ApiError::Validation(errors))
    }
}

/// The signed-in caller, or the sign-in page (coming back to `req`'s page afterwards).
#[expect(
    clippy::result_large_err,
    reason = "the error is the page answered at once, once per request"
)]
pub fn signed_in(
    v: &Visitor,
    state: &AppState,
    req: &HttpRequest,
) -> Result<Principal, HttpResponse> {
    v.principal().ok_or_else(|| {
        let path = match req.query_string() {
            "" => req.path().to_string(),
            q => format!("{}?{q}", req.path()),
        };
        page::sign_in_first(v, &state.config.network_name, &path)
    })
}

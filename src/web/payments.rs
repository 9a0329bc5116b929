//! The console's payments pages that emails link to: a payee bank account (finance confirms
//! it here) and a payment run (a second finance officer approves it here). They call the
//! API's own service functions (`payments::accounts::run`, `payments::runs::approve`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::page::{error_page, render};
use super::session::see_other;
use super::work::{Done, network};
use super::{Posted, posted_signed_in, signed_in_visitor};
use crate::AppState;
use crate::auth::Role;
use crate::auth::caller::Finance;
use crate::auth::principal::RequestMeta;
use crate::payments::accounts::{self, AccountCommand, AccountStatus, Viewer};
use crate::payments::runs::{self, RunStatus};

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "confirm" => "The account is confirmed; it is usable after the cooling-off period.",
        "approve" => "The payment run is approved; its bank file may be downloaded.",
        _ => return None,
    })
}

/// A payee bank account, with the confirm form for finance.
pub async fn account(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<Done>,
) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let page = req.path().to_string();
    let viewer = match Viewer::try_from(&who) {
        Ok(x) => x,
        Err(e) => return error_page(&v, network(&state), e, &page),
    };
    let (org, id) = path.into_inner();
    let (config, keyring) = (state.config.clone(), state.keyring.clone());
    let found = state
        .db(move |c| {
            let row = accounts::get(c, &viewer, &org, &id)?;
            viewer.show(&row, &keyring, config.clock.naive())
        })
        .await;
    match found {
        Ok(a) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "bank_account.html",
            context! {
                title => format!("Bank account of {}", a.holder_name),
                notice => notice(q.done.as_deref()),
                can_confirm => who.role() == Some(Role::FinanceOfficer) && a.status == AccountStatus::Proposed,
                a => a,
            },
        ),
        Err(e) => error_page(&v, network(&state), e, &page),
    }
}

/// Confirm an account from its page.
pub async fn confirm_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (Posted(v, _), who) = match posted_signed_in(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (org, id) = path.into_inner();
    let page = format!("/organisations/{org}/bank-accounts/{id}");
    let (config, keyring) = (state.config.clone(), state.keyring.clone());
    let w = who.clone();
    let done = state
        .db(move |c| {
            accounts::run(
                c,
                &config,
                &keyring,
                &w,
                &meta,
                &org,
                &id,
                AccountCommand::Confirm,
            )
        })
        .await;
    match done {
        Ok(_) => see_other(&v, &format!("{page}?done=confirm")),
        Err(e) => error_page(&v, network(&state), e, &page),
    }
}

/// A payment run with its lines, and the approve form for another finance officer.
pub async fn run(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Done>,
) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let page = req.path().to_string();
    let finance = match Finance::try_from(&who) {
        Ok(f) => f,
        Err(e) => return error_page(&v, network(&state), e, &page),
    };
    let keyring = state.keyring.clone();
    let id = id.into_inner();
    let found = state
        .db(move |c| {
            let r = runs::by_id(c, &id)?;
            runs::show(c, &keyring, r)
        })
        .await;
    match found {
        Ok(r) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "payment_run.html",
            context! {
                title => format!("Payment run of {} {}", r.currency, r.control_sum),
                notice => notice(q.done.as_deref()),
                can_approve => r.status == RunStatus::Prepared && r.prepared_by != finance.id,
                r => r,
            },
        ),
        Err(e) => error_page(&v, network(&state), e, &page),
    }
}

/// Approve a run from its page.
pub async fn approve_run(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (Posted(v, _), who) = match posted_signed_in(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let id = id.into_inner();
    let page = format!("/payment-runs/{id}");
    let finance = match Finance::try_from(&who) {
        Ok(f) => f,
        Err(e) => return error_page(&v, network(&state), e, &page),
    };
    let (config, keyring) = (state.config.clone(), state.keyring.clone());
    let done = state
        .db(move |c| runs::approve(c, &config, &keyring, &finance, &meta, &id))
        .await;
    match done {
        Ok(_) => see_other(&v, &format!("{page}?done=approve")),
        Err(e) => error_page(&v, network(&state), e, &page),
    }
}

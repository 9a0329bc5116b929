//! The grant work of the console: the officer's inbox, finance's payments, a member's grants
//! and reports, and the tranche and report pages with their decisions. Lists come from
//! `grants::queue`, decisions go through `tranche::command::run` and `report::run`: the API's
//! functions, with its rules, audit events and emails.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use minijinja::{Value, context};
use serde::Deserialize;

use super::page::{Failure, Form, error_page, on_form, render};
use super::session::{Visitor, see_other};
use super::{Posted, form_text, posted_signed_in, signed_in_visitor};
use crate::AppState;
use crate::auth::caller::Staff;
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::grants::access::{self, Reader};
use crate::grants::grant::read::{self, GrantFilter};
use crate::grants::queue::{self, ReportFilter, TrancheFilter};
use crate::grants::report::{self, ReportCommand, ReportStatus, SubmitReport};
use crate::grants::tranche::{self, PayBody, TrancheCommand, TrancheStatus, command};

/// `?done=` after a decision, to say it happened.
#[derive(Debug, Deserialize)]
pub struct Done {
    /// The verb that was done.
    pub done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "approve" => "Your approval is recorded.",
        "reject" => "The tranche is rejected.",
        "pay" => "The payment is recorded.",
        "reverse" => "The payment is reversed.",
        "submit" => "The report is submitted.",
        "accept" => "The report is accepted.",
        "return" => "The report is returned for changes.",
        "review" => "The review has started.",
        "approved" => "The application is approved and its contact invited.",
        "rejected" => "The application is rejected.",
        _ => return None,
    })
}

pub(super) fn network(state: &AppState) -> &str {
    &state.config.network_name
}

const LIST_LIMIT: i64 = 100;

/// The officer's inbox: tranches awaiting my approval, reports awaiting a decision.
pub async fn inbox(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match who.role() {
        Some(Role::FinanceOfficer) => return see_other(&v, "/payments"),
        Some(Role::Member) => return see_other(&v, "/grants"),
        _ => {}
    }
    let (staff, reader) = match (Staff::try_from(&who), Reader::try_from(&who)) {
        (Ok(s), Ok(r)) => (s, r),
        (Err(e), _) | (_, Err(e)) => return error_page(&v, network(&state), e, "/inbox"),
    };
    let config = state.config.clone();
    let found = state
        .db(move |c| {
            let awaiting = TrancheFilter {
                awaiting: Some("me".into()),
                ..TrancheFilter::default()
            };
            let tranches = queue::tranches(c, &config, &staff, &awaiting, LIST_LIMIT, None)?;
            let submitted = ReportFilter {
                status: Some(ReportStatus::Submitted.as_str().into()),
                grant_id: None,
            };
            let today = config.clock.today();
            let reports = queue::reports(c, &reader, &submitted, LIST_LIMIT, None, today)?;
            Ok((tranches.data, reports.data))
        })
        .await;
    match found {
        Ok((tranches, reports)) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "inbox.html",
            context! {
                title => "Inbox",
                tranches => tranches,
                reports => reports,
                base_currency => state.config.base_currency.clone(),
            },
        ),
        Err(e) => error_page(&v, network(&state), e, "/inbox"),
    }
}

/// Finance's queue: approved tranches to pay, and paid ones (to reverse).
pub async fn payments(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let staff = match Staff::try_from(&who) {
        Ok(s) => s,
        Err(e) => return error_page(&v, network(&state), e, "/payments"),
    };
    let config = state.config.clone();
    let found = state
        .db(move |c| {
            let approved = TrancheFilter {
                status: Some(TrancheStatus::Approved.as_str().into()),
                ..TrancheFilter::default()
            };
            let paid = TrancheFilter {
                status: Some(TrancheStatus::Paid.as_str().into()),
                ..TrancheFilter::default()
            };
            let to_pay = queue::tranches(c, &config, &staff, &approved, LIST_LIMIT, None)?;
            let paid = queue::tranches(c, &config, &staff, &paid, LIST_LIMIT, None)?;
            Ok((to_pay.data, paid.data))
        })
        .await;
    match found {
        Ok((to_pay, paid)) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "payments.html",
            context! { title => "Payments", to_pay => to_pay, paid => paid },
        ),
        Err(e) => error_page(&v, network(&state), e, "/payments"),
    }
}

/// The grants the caller may see; for a member, with the reports its organisation owes.
pub async fn grants(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let reader = match Reader::try_from(&who) {
        Ok(r) => r,
        Err(e) => return error_page(&v, network(&state), e, "/grants"),
    };
    let is_member = who.role() == Some(Role::Member);
    let config = state.config.clone();
    let found = state
        .db(move |c| {
            let grants = read::list(c, &reader, &GrantFilter::default(), LIST_LIMIT, None)?;
            let (owed, tranches) = if is_member {
                let today = config.clock.today();
                let owed = queue::reports(
                    c,
                    &reader,
                    &ReportFilter::default(),
                    LIST_LIMIT,
                    None,
                    today,
                )?
                .data
                .into_iter()
                .filter(|r| matches!(r.report.status, ReportStatus::Due | ReportStatus::Returned))
                .collect();
                // The member's grants are the ones it may see, so are their tranches.
                let mut rows = Vec::new();
                for g in &grants.data {
                    if let read::GrantItem::Full(g) = g {
                        rows.extend(tranche::of_grant(c, &g.id)?);
                    }
                }
                (owed, queue::tranche_items(c, &config, rows)?)
            } else {
                (Vec::new(), Vec::new())
            };
            Ok((grants.data, owed, tranches))
        })
        .await;
    match found {
        Ok((grants, reports, tranches)) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "grants.html",
            context! {
                title => if is_member { "Your organisation's grants" } else { "Grants" },
                grants => grants,
                reports => reports,
                tranches => tranches,
            },
        ),
        Err(e) => error_page(&v, network(&state), e, "/grants"),
    }
}

/// A grant with its tranches and reports; another organisation's grant is 404.
pub async fn grant(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let reader = match Reader::try_from(&who) {
        Ok(r) => r,
        Err(e) => return error_page(&v, network(&state), e, req.path()),
    };
    let id = id.into_inner();
    let found = state
        .db(move |c| {
            // Partner apps have no console session: a page always reads the full grant.
            let read::GrantAnswer::Full(d) = read::detail(c, &reader, &id)?.0 else {
                return Err(ApiError::NotFound);
            };
            let grantee = access::organisation(c, &d.grant.grantee_organisation_id)?
                .map(|o| o.name)
                .unwrap_or_default();
            Ok((d, grantee))
        })
        .await;
    match found {
        Ok((d, grantee)) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "grant.html",
            context! {
                title => format!("{} · {}", d.grant.reference, d.grant.title),
                grant => Value::from_serialize(&d.grant),
                grantee_name => grantee,
                totals => d.totals,
                tranches => d.disbursements,
                reports => d.reports,
            },
        ),
        Err(e) => error_page(&v, network(&state), e, req.path()),
    }
}

fn forms_of(names: &[&str], failed: Option<Form>) -> BTreeMap<String, Form> {
    let mut forms: BTreeMap<String, Form> = names
        .iter()
        .map(|n| (n.to_string(), Form::named(n)))
        .collect();
    if let Some(f) = failed {
        forms.insert(f.name.clone(), f);
    }
    forms
}

#[expect(
    clippy::too_many_arguments,
    reason = "a page and what its last form said"
)]
async fn tranche_page(
    v: &Visitor,
    state: &AppState,
    who: &Principal,
    id: String,
    path: &str,
    status: StatusCode,
    failed: Option<Form>,
    done: Option<&str>,
) -> HttpResponse {
    let reader = match Reader::try_from(who) {
        Ok(r) => r,
        Err(e) => return error_page(v, network(state), e, path),
    };
    let config = state.config.clone();
    let found = state
        .db(move |c| queue::visible_tranche(c, &config, &reader, &id))
        .await;
    let t = match found {
        Ok(t) => t,
        Err(e) => return error_page(v, network(state), e, path),
    };
    let role = who.role();
    let s = t.tranche.status;
    render(
        v,
        network(state),
        status,
        "tranche.html",
        context! {
            title => format!("Tranche of {}", t.grant_reference),
            notice => notice(done),
            can_decide => matches!(role, Some(Role::GrantOfficer | Role::Admin)) && s == TrancheStatus::Requested,
            can_pay => role == Some(Role::FinanceOfficer) && s == TrancheStatus::Approved,
            can_reverse => role == Some(Role::FinanceOfficer) && s == TrancheStatus::Paid,
            forms => forms_of(&["approve", "reject", "pay", "reverse"], failed),
            t => t,
        },
    )
}

/// A tranche with the decisions the caller may take on it.
pub async fn tranche(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Done>,
) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let path = req.path().to_string();
    tranche_page(
        &v,
        &state,
        &who,
        id.into_inner(),
        &path,
        StatusCode::OK,
        None,
        q.done.as_deref(),
    )
    .await
}

/// The tranche command a form stands for, or the form with its errors.
fn tranche_command(verb: &str, f: &BTreeMap<String, String>) -> Result<TrancheCommand, Form> {
    let text = |k: &str| f.get(k).cloned().unwrap_or_default();
    Ok(match verb {
        "approve" => TrancheCommand::Approve,
        "reject" => TrancheCommand::Reject(text("reason")),
        "reverse" => TrancheCommand::Reverse(text("reason")),
        "pay" => {
            let paid_on = NaiveDate::parse_from_str(text("paid_on").trim(), "%Y-%m-%d");
            match paid_on {
                Ok(paid_on) => TrancheCommand::Pay(PayBody {
                    payment_reference: text("payment_reference"),
                    paid_on,
                    bank_account_id: Some(text("bank_account_id")).filter(|a| !a.trim().is_empty()),
                }),
                Err(_) => {
                    let mut form = Form::posted("pay", f)
                        .at("paid_on", "Give the date of payment as year-month-day.");
                    if text("payment_reference").trim().is_empty() {
                        form = form.at("payment_reference", "Give the payment reference.");
                    }
                    return Err(form);
                }
            }
        }
        _ => return Err(Form::named("unknown")),
    })
}

/// Approve, reject, pay or reverse a tranche from its page.
pub async fn move_tranche(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (Posted(v, f), who) = match posted_signed_in(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (id, verb) = path.into_inner();
    let page = format!("/disbursements/{id}");
    if let Err(e) = form_text(&f) {
        return match on_form(
            e,
            Form::posted(&verb, &f),
            &["reason", "payment_reference", "paid_on"],
        ) {
            Failure::Form(status, form) => {
                tranche_page(&v, &state, &who, id, &page, status, Some(form), None).await
            }
            Failure::Page(e) => error_page(&v, network(&state), e, &page),
        };
    }
    let cmd = match tranche_command(&verb, &f) {
        Ok(c) => c,
        Err(form) if form.name == "unknown" => {
            return error_page(&v, network(&state), ApiError::NotFound, &page);
        }
        Err(form) => {
            return tranche_page(
                &v,
                &state,
                &who,
                id,
                &page,
                StatusCode::BAD_REQUEST,
                Some(form),
                None,
            )
            .await;
        }
    };
    let config = state.config.clone();
    let (w, tid) = (who.clone(), id.clone());
    let moved = state
        .db(move |c| command::run(c, &config, &w, &meta, &tid, cmd))
        .await;
    match moved {
        Ok(_) => see_other(&v, &format!("{page}?done={verb}")),
        Err(e) => match on_form(
            e,
            Form::posted(&verb, &f),
            &["reason", "payment_reference", "paid_on"],
        ) {
            Failure::Form(status, form) => {
                tranche_page(&v, &state, &who, id, &page, status, Some(form), None).await
            }
            Failure::Page(e) => error_page(&v, network(&state), e, &page),
        },
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "a page and what its last form said"
)]
async fn report_page(
    v: &Visitor,
    state: &AppState,
    who: &Principal,
    id: String,
    path: &str,
    status: StatusCode,
    failed: Option<Form>,
    done: Option<&str>,
) -> HttpResponse {
    let reader = match Reader::try_from(who) {
        Ok(r) => r,
        Err(e) => return error_page(v, network(state), e, path),
    };
    let today = state.clock().today();
    let found = state
        .db(move |c| queue::visible_report(c, &reader, &id, today))
        .await;
    let r = match found {
        Ok(r) => r,
        Err(e) => return error_page(v, network(state), e, path),
    };
    let role = who.role();
    let s = r.report.status;
    render(
        v,
        network(state),
        status,
        "report.html",
        context! {
            title => format!("Report: {}", r.report.title),
            notice => notice(done),
            can_submit => role == Some(Role::Member) && matches!(s, ReportStatus::Due | ReportStatus::Returned),
            can_decide => matches!(role, Some(Role::GrantOfficer | Role::Admin)) && s == ReportStatus::Submitted,
            forms => forms_of(&["submit", "accept", "return"], failed),
            r => r,
        },
    )
}

/// A report: a member of the grantee submits it; grant staff accept or return it.
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Done>,
) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let path = req.path().to_string();
    report_page(
        &v,
        &state,
        &who,
        id.into_inner(),
        &path,
        StatusCode::OK,
        None,
        q.done.as_deref(),
    )
    .await
}

/// Submit, accept or return a report from its page.
pub async fn move_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (Posted(v, f), who) = match posted_signed_in(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (id, verb) = path.into_inner();
    let page = format!("/reports/{id}");
    let text = |k: &str| f.get(k).cloned().unwrap_or_default();
    let cmd = match verb.as_str() {
        "submit" => ReportCommand::Submit(SubmitReport {
            summary: text("summary"),
            document_url: text("document_url"),
        }),
        "accept" => ReportCommand::Accept,
        "return" => ReportCommand::Return(text("reason")),
        _ => return error_page(&v, network(&state), ApiError::NotFound, &page),
    };
    let config = state.config.clone();
    let (w, rid) = (who.clone(), id.clone());
    let moved = match form_text(&f) {
        Ok(()) => {
            state
                .db(move |c| report::run(c, &config, &w, &meta, &rid, cmd))
                .await
        }
        Err(e) => Err(e),
    };
    match moved {
        Ok(_) => see_other(&v, &format!("{page}?done={verb}")),
        Err(e) => match on_form(
            e,
            Form::posted(&verb, &f),
            &["summary", "document_url", "reason"],
        ) {
            Failure::Form(status, form) => {
                report_page(&v, &state, &who, id, &page, status, Some(form), None).await
            }
            Failure::Page(e) => error_page(&v, network(&state), e, &page),
        },
    }
}

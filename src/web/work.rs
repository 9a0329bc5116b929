//! The grant work of the console: the officer's inbox, finance's payments, a member's grants
//! and reports, and the tranche and report pages with their decisions. Lists come from
//! `grants::queue`, decisions go through `tranche::command::run` and `report::run`: the API's
//! functions, with its rules, audit events and emails.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use minijinja::context;

use super::console::{Page, Reply, reply};
use super::documents;
use super::page::Form;
use super::session::see_other;
use crate::AppState;
use crate::auth::Role;
use crate::auth::caller::Staff;
use crate::auth::principal::RequestMeta;
use crate::documents::ParentType;
use crate::error::ApiError;
use crate::grants::access::Reader;
use crate::grants::grant::read::{self, GrantFilter};
use crate::grants::queue::{self, ReportFilter, TrancheFilter, TrancheItem};
use crate::grants::report::{self, ReportCommand, ReportStatus, SubmitReport};
use crate::grants::tranche::{self, PayBody, TrancheCommand, TrancheStatus, command};
use crate::payments::payees;

/// `?done=` after a decision, for pages that still say what happened in their address.
#[derive(Debug, serde::Deserialize)]
pub struct Done {
    /// The verb that was done.
    pub done: Option<String>,
}

pub(super) fn network(state: &AppState) -> &str {
    &state.config.network_name
}

pub(super) const LIST_LIMIT: i64 = 100;

/// The officer's inbox: tranches awaiting my approval, reports awaiting a decision.
pub async fn inbox(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(async { inbox_page(&Page::open(&req, &state).await?).await }.await)
}

async fn inbox_page(p: &Page) -> Reply {
    match p.role() {
        Some(Role::FinanceOfficer) => return Ok(see_other(&p.v, "/payments")),
        Some(Role::Member) => return Ok(see_other(&p.v, "/grants")),
        _ => {}
    }
    let (staff, reader): (Staff, Reader) = (p.as_a()?, p.as_a()?);
    let me = p.who.user().map(|u| u.id.clone()).unwrap_or_default();
    let config = p.state.config.clone();
    let (tranches, reports, grants) = p
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
            let grants = super::grant_desk::awaiting_me(c, &reader, &me)?;
            Ok((tranches.data, reports.data, grants))
        })
        .await?;
    Ok(p.show(
        "inbox.html",
        "Inbox",
        Vec::new(),
        None,
        context! {
            tranches => tranches,
            reports => reports,
            grants => grants,
            base_currency => p.state.config.base_currency.clone(),
        },
    ))
}

/// Finance's queue: approved tranches to pay (with who approved them), and paid ones.
pub async fn payments(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let staff: Staff = p.as_a()?;
            let config = p.state.config.clone();
            let (to_pay, paid, names) = p
                .db(move |c| {
                    let of = |s: TrancheStatus| TrancheFilter {
                        status: Some(s.as_str().into()),
                        ..TrancheFilter::default()
                    };
                    let approved = of(TrancheStatus::Approved);
                    let to_pay = queue::tranches(c, &config, &staff, &approved, LIST_LIMIT, None)?;
                    let paid = of(TrancheStatus::Paid);
                    let paid = queue::tranches(c, &config, &staff, &paid, LIST_LIMIT, None)?;
                    let mut names = BTreeMap::new();
                    for id in to_pay
                        .data
                        .iter()
                        .flat_map(|t| t.tranche.approved_by.iter())
                    {
                        names.insert(id.clone(), crate::grants::mails::display_name(c, id)?);
                    }
                    Ok((to_pay.data, paid.data, names))
                })
                .await?;
            Ok(p.show(
                "payments.html",
                "Payments",
                Vec::new(),
                None,
                context! { to_pay => to_pay, paid => paid, names => names },
            ))
        }
        .await,
    )
}

/// The grants the caller may see; for a member, with the reports its organisation owes.
pub async fn grants(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            if p.who.is_staff() {
                return super::grant_desk::grants(&p, req.query_string()).await;
            }
            let reader: Reader = p.as_a()?;
            let config = p.state.config.clone();
            let (grants, reports, tranches) = p
                .db(move |c| {
                    let grants = read::list(c, &reader, &GrantFilter::default(), LIST_LIMIT, None)?;
                    let today = config.clock.today();
                    let all = ReportFilter::default();
                    let owed = queue::reports(c, &reader, &all, LIST_LIMIT, None, today)?
                        .data
                        .into_iter()
                        .filter(|r| {
                            matches!(r.report.status, ReportStatus::Due | ReportStatus::Returned)
                        })
                        .collect::<Vec<_>>();
                    // The member's grants are the ones it may see, so are their tranches.
                    let mut rows = Vec::new();
                    for g in &grants.data {
                        if let read::GrantItem::Full(g) = g {
                            rows.extend(tranche::of_grant(c, &g.id)?);
                        }
                    }
                    Ok((grants.data, owed, queue::tranche_items(c, &config, rows)?))
                })
                .await?;
            Ok(p.show(
                "grants.html",
                &p.t("grants-member-title"),
                Vec::new(),
                None,
                context! { grants => grants, reports => reports, tranches => tranches },
            ))
        }
        .await,
    )
}

/// A grant with its tranches and reports, and the moves the viewer may make; another
/// organisation's grant is 404.
pub async fn grant(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            super::grant_desk::grant_page(&p, id.into_inner(), None).await
        }
        .await,
    )
}

/// The decisions the viewer may take on tranche `t`, and what the page says instead when it
/// waits on someone else (the officer who gave the first approval waits for a second one).
fn tranche_forms(
    p: &Page,
    t: &TrancheItem,
    payees: Vec<(String, String)>,
) -> (Vec<Form>, Option<&'static str>) {
    let at = |verb: &str, button: &str| {
        Form::new(
            verb,
            &format!("/disbursements/{}/{verb}", t.tranche.id),
            button,
        )
    };
    let me = p.who.user().map(|u| u.id.clone()).unwrap_or_default();
    let cancel = at("cancel", "Cancel the tranche")
        .heading("Cancel")
        .textarea("reason", "Reason for cancelling")
        .hint("Whoever was told of it is told why.")
        .secondary();
    let mut forms = Vec::new();
    let mut waiting = None;
    match (p.role(), t.tranche.status) {
        (Some(Role::GrantOfficer | Role::Admin), TrancheStatus::Requested) => {
            if t.tranche.approved_by.contains(&me) {
                waiting = Some("You approved this tranche; it is waiting for a second approver.");
            } else if t.tranche.requested_by != me {
                forms.push(at("approve", "Approve").heading("Approve"));
            }
            forms.push(
                at("reject", "Reject")
                    .heading("Reject")
                    .textarea("reason", "Reason for rejecting")
                    .secondary(),
            );
            forms.push(cancel);
        }
        (Some(Role::GrantOfficer | Role::Admin), TrancheStatus::Approved) => forms.push(cancel),
        (Some(Role::Member), TrancheStatus::Requested | TrancheStatus::Approved)
            if t.tranche.requested_by == me =>
        {
            forms.push(cancel)
        }
        (Some(Role::FinanceOfficer), TrancheStatus::Approved) => forms.push(
            at("pay", "Mark paid")
                .heading("Record the payment")
                .select("bank_account_id", "Paid to the account", payees)
                .hint("A confirmed account of the grantee in the tranche's currency, past its cooling-off period.")
                .text("payment_reference", "Payment reference")
                .date("paid_on", "Date paid"),
        ),
        (Some(Role::FinanceOfficer), TrancheStatus::Paid) => forms.push(
            at("reverse", "Reverse")
                .heading("Reverse the payment")
                .textarea("reason", "Reason for reversing")
                .secondary(),
        ),
        _ => {}
    }
    (forms, waiting)
}

pub(super) async fn tranche_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let reader: Reader = p.as_a()?;
    let config = p.state.config.clone();
    let finance = p.role() == Some(Role::FinanceOfficer);
    let tid = id.clone();
    let (t, payees) = p
        .db(move |c| {
            let t = queue::visible_tranche(c, &config, &reader, &tid)?;
            let payees = match finance && t.tranche.status == TrancheStatus::Approved {
                true => payees::payable(
                    c,
                    &t.grantee_organisation_id,
                    &t.tranche.currency,
                    config.clock.naive(),
                )?,
                false => Vec::new(),
            };
            Ok((t, payees))
        })
        .await?;
    let payees = payees
        .iter()
        .map(|a| (a.id.clone(), format!("{} · {}", a.holder_name, a.masked())))
        .collect();
    let (mut forms, waiting) = tranche_forms(p, &t, payees);
    let (docs, upload) = documents::section(p, ParentType::Disbursement, &id).await?;
    forms.extend(upload);
    Ok(p.show(
        "tranche.html",
        &format!("Tranche of {}", t.grant_reference),
        forms,
        failed,
        context! { waiting => waiting, t => t, docs => docs },
    ))
}

/// A tranche with the decisions the caller may take on it.
pub async fn tranche(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async { tranche_page(&Page::open(&req, &state).await?, id.into_inner(), None).await }.await,
    )
}

/// The tranche command a form stands for, or the form with its errors.
#[expect(
    clippy::result_large_err,
    reason = "the error is the form shown again, once per request"
)]
fn tranche_command(verb: &str, f: &BTreeMap<String, String>) -> Result<TrancheCommand, Form> {
    let text = |k: &str| f.get(k).cloned().unwrap_or_default();
    Ok(match verb {
        "approve" => TrancheCommand::Approve,
        "reject" => TrancheCommand::Reject(text("reason")),
        "reverse" => TrancheCommand::Reverse(text("reason")),
        "cancel" => TrancheCommand::Cancel(text("reason")),
        "pay" => {
            let paid_on = NaiveDate::parse_from_str(text("paid_on").trim(), "%Y-%m-%d");
            match paid_on {
                Ok(paid_on) => TrancheCommand::Pay(PayBody {
                    payment_reference: text("payment_reference"),
                    paid_on,
                    bank_account_id: text("bank_account_id"),
                }),
                Err(_) => {
                    let mut form = Form::posted("pay", f)
                        .at("paid_on", "Give the date of payment as year-month-day.");
                    if text("payment_reference").trim().is_empty() {
                        form = form.at("payment_reference", "Give the payment reference.");
                    }
                    form.status = StatusCode::BAD_REQUEST;
                    return Err(form);
                }
            }
        }
        _ => return Err(Form::named("unknown")),
    })
}

fn tranche_notice(verb: &str) -> &'static str {
    match verb {
        "approve" => "Your approval is recorded.",
        "reject" => "The tranche is rejected.",
        "pay" => "The payment is recorded.",
        "reverse" => "The payment is reversed.",
        _ => "The tranche is cancelled.",
    }
}

/// Approve, reject, pay or reverse a tranche from its page.
pub async fn move_tranche(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let (id, verb) = path.into_inner();
            let cmd = match tranche_command(&verb, &f) {
                Ok(c) => c,
                Err(form) if form.name == "unknown" => return Err(p.fail(ApiError::NotFound)),
                Err(form) => return tranche_page(&p, id, Some(form)).await,
            };
            let (config, w, tid) = (p.state.config.clone(), p.who.clone(), id.clone());
            let form = Form::named(&verb)
                .text("reason", "")
                .text("payment_reference", "")
                .text("paid_on", "");
            match p
                .command(form, &f, move |c| {
                    command::run(c, &config, &w, &meta, &tid, cmd)
                })
                .await?
            {
                Ok(_) => Ok(p.done(&format!("/disbursements/{id}"), tranche_notice(&verb))),
                Err(form) => tranche_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

/// The report's forms the viewer may send: a member of the grantee submits it; grant staff
/// accept or return it.
fn report_forms(p: &Page, r: &queue::ReportItem) -> Vec<Form> {
    let at = |verb: &str, button: &str| {
        Form::new(verb, &format!("/reports/{}/{verb}", r.report.id), button)
    };
    match (p.role(), r.report.status) {
        (Some(Role::Member), ReportStatus::Due | ReportStatus::Returned) => vec![
            at("submit", "Submit")
                .heading("Submit the report")
                .textarea("summary", "Summary")
                .hint(
                    "Upload the report's files below first; a financial report needs at least one.",
                )
                .text("document_url", "Link to a document elsewhere (optional)")
                .hint("An http(s) link, if some of the report is hosted elsewhere."),
        ],
        (Some(Role::GrantOfficer | Role::Admin), ReportStatus::Submitted) => vec![
            at("accept", "Accept the report").heading("Accept"),
            at("return", "Return")
                .heading("Return for changes")
                .textarea("reason", "What must change")
                .secondary(),
        ],
        _ => Vec::new(),
    }
}

pub(super) async fn report_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let reader: Reader = p.as_a()?;
    let today = p.state.clock().today();
    let rid = id.clone();
    let r = p
        .db(move |c| queue::visible_report(c, &reader, &rid, today))
        .await?;
    let mut forms = report_forms(p, &r);
    let (docs, upload) = documents::section(p, ParentType::Report, &id).await?;
    forms.extend(upload);
    Ok(p.show(
        "report.html",
        &format!("Report: {}", r.report.title),
        forms,
        failed,
        context! { r => r, docs => docs },
    ))
}

/// A report: a member of the grantee submits it; grant staff accept or return it.
pub async fn report(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async { report_page(&Page::open(&req, &state).await?, id.into_inner(), None).await }.await,
    )
}

/// Submit, accept or return a report from its page.
pub async fn move_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let (id, verb) = path.into_inner();
            let text = |k: &str| f.get(k).cloned().unwrap_or_default();
            let (cmd, notice) = match verb.as_str() {
                "submit" => (
                    ReportCommand::Submit(SubmitReport {
                        summary: text("summary"),
                        document_url: Some(text("document_url")),
                        actuals: Vec::new(),
                        indicators: Vec::new(),
                    }),
                    "The report is submitted.",
                ),
                "accept" => (ReportCommand::Accept, "The report is accepted."),
                "return" => (
                    ReportCommand::Return(text("reason")),
                    "The report is returned for changes.",
                ),
                _ => return Err(p.fail(ApiError::NotFound)),
            };
            let (config, w, rid) = (p.state.config.clone(), p.who.clone(), id.clone());
            let form = Form::named(&verb)
                .text("summary", "")
                .text("document_url", "")
                .text("reason", "");
            match p
                .command(form, &f, move |c| {
                    report::run(c, &config, &w, &meta, &rid, cmd)
                })
                .await?
            {
                Ok(_) => Ok(p.done(&format!("/reports/{id}"), notice)),
                Err(form) => report_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

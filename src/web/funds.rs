//! Funds at the console: the list with balances and raises that wait, a new fund, and a
//! fund's page where grant staff change its amount and a finance officer or admin other than
//! the asker confirms a raise (the link of the "awaits your confirmation" email). The moves are
//! `fund::create`, `fund::update` and `fund::approve_increase`, as in the API.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use minijinja::context;

use super::console::{Page, Reply, reply};
use super::page::Form;
use super::work::LIST_LIMIT;
use crate::AppState;
use crate::auth::Role;
use crate::auth::caller::{FinanceOrAdmin, GrantStaff, Staff};
use crate::auth::principal::RequestMeta;
use crate::error::{ApiError, FieldError};
use crate::grants::access;
use crate::grants::fund::{self, ConfirmIncrease, Fund, FundPatch, NewFund};

fn text(f: &BTreeMap<String, String>, k: &str) -> String {
    f.get(k).cloned().unwrap_or_default()
}

fn new_fund_form(donors: Vec<(String, String)>) -> Form {
    Form::new("fund", "/funds", "Create the fund")
        .heading("New fund")
        .select("donor_organisation_id", "Donor", donors)
        .text("title", "Title")
        .text("reference", "Donor's reference")
        .text("currency", "Currency")
        .hint("ISO 4217 code, e.g. USD")
        .text("amount", "Amount")
        .date("starts_on", "Starts on")
        .date("ends_on", "Ends on")
}

async fn funds_page(p: &Page, failed: Option<Form>) -> Reply {
    let staff: Staff = p.as_a()?;
    let (funds, donors) = p
        .db(move |c| {
            let funds = fund::list(c, &staff, false, LIST_LIMIT, None)?.data;
            Ok((funds, access::donor_names(c)?))
        })
        .await?;
    let forms = match p.role() {
        // Funds are written by grant staff (the API's rule); finance confirms raises.
        Some(Role::GrantOfficer | Role::Admin) => vec![new_fund_form(donors)],
        _ => Vec::new(),
    };
    Ok(p.show(
        "funds.html",
        "Funds",
        forms,
        failed,
        context! { funds => funds },
    ))
}

/// Funds with their balances and the raises that wait.
pub async fn funds(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(async { funds_page(&Page::open(&req, &state).await?, None).await }.await)
}

/// Creates a fund and opens it.
pub async fn create_fund(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let staff: GrantStaff = p.as_a()?;
            let mut errors = Vec::new();
            let mut day = |k: &str| {
                NaiveDate::parse_from_str(text(&f, k).trim(), "%Y-%m-%d").unwrap_or_else(|_| {
                    errors.push(FieldError::new(
                        k,
                        "invalid",
                        "Give a date as year-month-day.",
                    ));
                    NaiveDate::default()
                })
            };
            let (starts_on, ends_on) = (day("starts_on"), day("ends_on"));
            let new = NewFund {
                donor_organisation_id: text(&f, "donor_organisation_id"),
                title: text(&f, "title"),
                reference: text(&f, "reference"),
                currency: text(&f, "currency").trim().to_uppercase(),
                amount: text(&f, "amount"),
                starts_on,
                ends_on,
            };
            let config = p.state.config.clone();
            let made = p
                .command(new_fund_form(Vec::new()), &f, move |c| {
                    if !errors.is_empty() {
                        return Err(ApiError::Validation(errors));
                    }
                    fund::create(c, &config, &staff, &meta, new)
                })
                .await?;
            match made {
                Ok(row) => Ok(p.done(&format!("/funds/{}", row.id), "The fund is recorded.")),
                Err(form) => funds_page(&p, Some(form)).await,
            }
        }
        .await,
    )
}

/// What the viewer may do on fund `f`: grant staff change its amount; finance or an admin
/// confirms a raise another person asked for (its author sees that it waits for someone else).
fn fund_forms(p: &Page, f: &Fund) -> (Vec<Form>, Option<&'static str>) {
    let me = p.who.user().map(|u| u.id.as_str()).unwrap_or_default();
    let finance = matches!(p.role(), Some(Role::FinanceOfficer | Role::Admin));
    let writer = matches!(p.role(), Some(Role::GrantOfficer | Role::Admin));
    let mut forms = Vec::new();
    let mut waiting = None;
    if let Some(pending) = &f.pending_amount {
        if f.pending_by.as_deref() == Some(me) {
            waiting = Some(
                "You asked for this raise; it waits for another finance officer or admin to confirm it.",
            );
        } else if finance {
            forms.push(
                Form::new(
                    "confirm",
                    &format!("/funds/{}/confirm", f.id),
                    "Confirm the new amount",
                )
                .heading(&format!("Confirm {} {}", f.currency, pending))
                .hidden("amount", pending),
            );
        }
    }
    if writer {
        forms.push(
            Form::new("raise", &format!("/funds/{}/raise", f.id), "Set the amount")
                .heading("Change the amount")
                .text("amount", "New amount")
                .hint("A raise above the threshold waits for a second person.")
                .hidden("version", &f.version.to_string()),
        );
    }
    (forms, waiting)
}

async fn fund_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let staff: Staff = p.as_a()?;
    let f = p
        .db(move |c| Ok(Fund::from(fund::get(c, &staff, &id)?)))
        .await?;
    let (forms, waiting) = fund_forms(p, &f);
    let title = format!("Fund {} · {}", f.reference, f.title);
    Ok(p.show(
        "fund.html",
        &title,
        forms,
        failed,
        context! { f => f, waiting => waiting },
    ))
}

/// A fund with its balances and what the viewer may do on it.
pub async fn fund(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(async { fund_page(&Page::open(&req, &state).await?, id.into_inner(), None).await }.await)
}

/// Raise (or set) a fund's amount, or confirm the raise that waits.
pub async fn move_fund(
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
            let (config, fid, amount) = (p.state.config.clone(), id.clone(), text(&f, "amount"));
            let form = Form::named(&verb).text("amount", "");
            let moved = match verb.as_str() {
                "raise" => {
                    let staff: GrantStaff = p.as_a()?;
                    let version = text(&f, "version").parse().unwrap_or(-1);
                    let patch = FundPatch {
                        amount: Some(amount),
                        ..FundPatch::default()
                    };
                    p.command(form, &f, move |c| {
                        fund::update(c, &config, &staff, &meta, &fid, version, patch)
                    })
                    .await?
                }
                "confirm" => {
                    let me: FinanceOrAdmin = p.as_a()?;
                    let body = ConfirmIncrease { amount };
                    p.command(form, &f, move |c| {
                        fund::approve_increase(c, &config, &me, &meta, &fid, body)
                    })
                    .await?
                }
                _ => return Err(p.fail(ApiError::NotFound)),
            };
            match moved {
                Ok(row) if row.pending_amount.is_some() => Ok(p.done(
                    &format!("/funds/{id}"),
                    "The new amount waits for another finance officer or admin to confirm it.",
                )),
                Ok(_) => Ok(p.done(&format!("/funds/{id}"), "The fund's amount is set.")),
                Err(form) => fund_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

//! The grant officer's desk: grants with filters, a new draft, and a grant's page with the
//! moves the viewer may make (edit, submit, approve or reject, activate, close, cancel, ask
//! for a report). Every move goes through `grant::command::run` (or `edit`, `report::create`):
//! the API's functions, its four-eyes rule, audit events and emails.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

use super::console::{Page, Reply, checked, date, reply, text};
use super::page::Form;
use super::work::LIST_LIMIT;
use crate::AppState;
use crate::auth::Role;
use crate::auth::caller::{GrantStaff, Staff};
use crate::auth::principal::RequestMeta;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::grants::access::{self, Reader};
use crate::grants::budget_lines::{BudgetCategory, BudgetLineInput};
use crate::grants::fund;
use crate::grants::grant::read::{self, GrantFilter, GrantItem};
use crate::grants::grant::{
    self, GrantCommand, GrantPatch, GrantRow, GrantStatus, NewGrant, command, contributors, edit,
};
use crate::grants::report::{self, NewReport, ReportKind};

/// Submitted grants the caller may approve: none it wrote or edited.
pub fn awaiting_me(c: &mut DbConn, reader: &Reader, me: &str) -> Result<Vec<GrantItem>, ApiError> {
    let submitted = GrantFilter {
        status: Some(GrantStatus::Submitted.as_str().into()),
        ..GrantFilter::default()
    };
    let mut out = Vec::new();
    for g in read::list(c, reader, &submitted, LIST_LIMIT, None)?.data {
        let GrantItem::Full(full) = &g else { continue };
        let row = grant::by_id(c, &full.id)?;
        if contributors::why_not(c, &row, me)?.is_none() {
            out.push(g);
        }
    }
    Ok(out)
}

fn filter_form(q: &BTreeMap<String, String>) -> Form {
    let statuses = [
        "",
        "draft",
        "submitted",
        "approved",
        "active",
        "closed",
        "rejected",
        "cancelled",
    ];
    let options = statuses
        .iter()
        .map(|s| {
            (
                s.to_string(),
                if s.is_empty() {
                    "any".into()
                } else {
                    s.to_string()
                },
            )
        })
        .collect();
    let pillars = std::iter::once(String::new())
        .chain(crate::codes::PILLARS.iter().map(|p| p.to_string()))
        .map(|p| {
            (
                p.clone(),
                if p.is_empty() {
                    "any".into()
                } else {
                    p.replace('_', " ")
                },
            )
        })
        .collect();
    Form::new("filter", "/grants", "Filter")
        .select("status", "Status", options)
        .select("pillar", "Pillar", pillars)
        .filled(q)
}

/// Staff's grants list, filtered by status and pillar (`?status=&pillar=`).
pub async fn grants(p: &Page, query: &str) -> Reply {
    let q: BTreeMap<String, String> = crate::web::session::fields(query.as_bytes());
    let reader: Reader = p.as_a()?;
    let filter = GrantFilter {
        status: q.get("status").filter(|s| !s.is_empty()).cloned(),
        pillar: q.get("pillar").filter(|s| !s.is_empty()).cloned(),
        ..GrantFilter::default()
    };
    let grants = p
        .db(move |c| Ok(read::list(c, &reader, &filter, LIST_LIMIT, None)?.data))
        .await?;
    let filter = filter_form(&q);
    let new = matches!(p.role(), Some(Role::GrantOfficer | Role::Admin));
    Ok(p.show(
        "grants.html",
        &p.t("grants-title"),
        Vec::new(),
        None,
        context! { grants => grants, filter => filter, can_create => new },
    ))
}

/// The form of a new draft, with the active funds and the organisations to choose from.
fn new_grant_form(funds: Vec<(String, String)>, orgs: Vec<(String, String)>) -> Form {
    let pillars = crate::codes::PILLARS
        .iter()
        .map(|p| (p.to_string(), p.replace('_', " ")))
        .collect();
    let categories = BudgetCategory::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), c.as_str().replace('_', "-")))
        .collect();
    Form::new("grant", "/grants/new", "Create the draft")
        .select("fund_id", "Fund", funds)
        .select("grantee_organisation_id", "Grantee", orgs)
        .text("title", "Title")
        .textarea("description", "Description")
        .select("pillar", "Strategic pillar", pillars)
        .text("currency", "Currency")
        .hint("ISO 4217 code, e.g. USD; the fund's currency needs no rate.")
        .text("amount", "Amount")
        .hint("For example 25000.00")
        .select("budget_category", "Budget category", categories)
        .hint("The whole amount starts as one budget line of this category; split it into lines with PUT /api/v1/grants/{id}/budget.")
        .date("planned_start", "Planned start")
        .date("planned_end", "Planned end")
}

async fn new_grant_page(p: &Page, failed: Option<Form>) -> Reply {
    let staff: Staff = p.as_a()?;
    let (funds, orgs) = p
        .db(move |c| {
            let funds = fund::list(c, &staff, false, LIST_LIMIT, None)?
                .data
                .into_iter()
                .filter(|f| f.status == fund::FundStatus::Active)
                .map(|f| {
                    (
                        f.id,
                        format!("{} ({} {} left)", f.title, f.currency, f.remaining),
                    )
                })
                .collect();
            Ok((funds, access::organisation_names(c)?))
        })
        .await?;
    let form = new_grant_form(funds, orgs);
    Ok(p.show("form.html", "New grant", vec![form], failed, context! {}))
}

/// The form of a new draft grant.
pub async fn new_grant(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(async { new_grant_page(&Page::open(&req, &state).await?, None).await }.await)
}

/// Creates a draft grant and opens it.
pub async fn create_grant(
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
            let new = NewGrant {
                fund_id: text(&f, "fund_id"),
                grantee_organisation_id: text(&f, "grantee_organisation_id"),
                title: text(&f, "title"),
                description: text(&f, "description"),
                pillar: text(&f, "pillar"),
                priority_areas: Vec::new(),
                currency: text(&f, "currency").trim().to_uppercase(),
                amount: text(&f, "amount"),
                fx_rate: None,
                fx_rate_date: None,
                planned_start: date(&f, "planned_start", &mut errors),
                planned_end: date(&f, "planned_end", &mut errors),
                budget: vec![BudgetLineInput {
                    id: None,
                    category: text(&f, "budget_category")
                        .parse()
                        .unwrap_or(BudgetCategory::Activities),
                    description: text(&f, "title"),
                    amount: text(&f, "amount"),
                }],
                indicators: Vec::new(),
            };
            let config = p.state.config.clone();
            let form = new_grant_form(Vec::new(), Vec::new());
            let made = p
                .command(form, &f, move |c| {
                    let new = checked(errors, new)?;
                    edit::create(c, &config, &staff, &meta, new)
                })
                .await?;
            match made {
                Ok(g) => Ok(p.done(&format!("/grants/{}", g.id), "The draft is created.")),
                Err(form) => new_grant_page(&p, Some(form)).await,
            }
        }
        .await,
    )
}

/// The moves the viewer may make on grant `g`, and what the page says when it waits on
/// someone else (an officer who wrote or edited it may not approve it).
pub fn grant_forms(p: &Page, g: &GrantRow, why_not: Option<String>) -> (Vec<Form>, Option<String>) {
    if !matches!(p.role(), Some(Role::GrantOfficer | Role::Admin)) {
        return (Vec::new(), None);
    }
    let at =
        |verb: &str, button: &str| Form::new(verb, &format!("/grants/{}/{verb}", g.id), button);
    let cancel = at("cancel", "Cancel the grant")
        .heading("Cancel")
        .textarea("reason", "Reason for cancelling")
        .secondary();
    let mut waiting = None;
    let mut forms = match g.status {
        GrantStatus::Draft => vec![
            at("submit", "Submit for approval").heading("Submit"),
            at("edit", "Save the draft")
                .heading("Edit the draft")
                .text("title", "Title")
                .value("title", &g.title)
                .textarea("description", "Description")
                .value("description", &g.description)
                .text("amount", "Amount")
                .value("amount", &crate::money::format(g.amount, &g.currency))
                .hidden("version", &g.version.to_string()),
        ],
        GrantStatus::Submitted => match why_not {
            Some(why) => {
                waiting = Some(format!("Waiting for another officer to approve: {why}"));
                Vec::new()
            }
            None => vec![
                at("approve", "Approve").heading("Approve"),
                at("reject", "Reject")
                    .heading("Reject")
                    .textarea("reason", "Reason for rejecting")
                    .secondary(),
            ],
        },
        GrantStatus::Approved => vec![at("activate", "Activate").heading("Activate")],
        GrantStatus::Active => vec![
            at("report", "Ask for the report")
                .heading("Ask for a report")
                .select(
                    "kind",
                    "Kind",
                    vec![
                        ("narrative".into(), "narrative".into()),
                        ("financial".into(), "financial".into()),
                    ],
                )
                .text("title", "Title")
                .date("due_on", "Due on"),
            at("close", "Close the grant").heading("Close"),
        ],
        _ => return (Vec::new(), None),
    };
    forms.push(cancel);
    (forms, waiting)
}

/// A grant's page with the moves the viewer may make.
pub async fn grant_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let reader: Reader = p.as_a()?;
    let me = p.who.user().map(|u| u.id.clone()).unwrap_or_default();
    let (d, grantee, row, why_not) = p
        .db(move |c| {
            // Partner apps have no console session: a page always reads the full grant.
            let read::GrantAnswer::Full(d) = read::detail(c, &reader, &id)?.0 else {
                return Err(ApiError::NotFound);
            };
            let grantee = access::organisation(c, &d.grant.grantee_organisation_id)?
                .map(|o| o.name)
                .unwrap_or_default();
            let row = grant::by_id(c, &id)?;
            let why_not = contributors::why_not(c, &row, &me)?;
            Ok((d, grantee, row, why_not))
        })
        .await?;
    let (mut forms, waiting) = grant_forms(p, &row, why_not);
    let (docs, upload) =
        super::documents::section(p, crate::documents::ParentType::Grant, &row.id).await?;
    forms.extend(upload);
    Ok(p.show(
        "grant.html",
        &format!("{} · {}", d.grant.reference, d.grant.title),
        forms,
        failed,
        context! {
            waiting => waiting,
            grant => Value::from_serialize(&d.grant),
            grantee_name => grantee,
            totals => d.totals,
            tranches => d.disbursements,
            reports => d.reports,
            docs => docs,
        },
    ))
}

/// What a grant's form does, with the notice it leaves.
enum Move {
    Command(GrantCommand, Option<String>),
    Edit(i64, GrantPatch),
    Report(NewReport),
}

fn grant_move(verb: &str, f: &BTreeMap<String, String>) -> Result<(Move, &'static str), ApiError> {
    let reason = || Some(text(f, "reason"));
    let mut errors = Vec::new();
    let m = match verb {
        "submit" => (
            Move::Command(GrantCommand::Submit, None),
            "The grant is submitted for approval.",
        ),
        "approve" => (
            Move::Command(GrantCommand::Approve, None),
            "The grant is approved.",
        ),
        "reject" => (
            Move::Command(GrantCommand::Reject, reason()),
            "The grant is rejected.",
        ),
        "activate" => (
            Move::Command(GrantCommand::Activate, None),
            "The grant is active.",
        ),
        "close" => (
            Move::Command(GrantCommand::Close, None),
            "The grant is closed.",
        ),
        "cancel" => (
            Move::Command(GrantCommand::Cancel, reason()),
            "The grant is cancelled.",
        ),
        "edit" => {
            let patch = GrantPatch {
                title: Some(text(f, "title")),
                description: Some(text(f, "description")),
                amount: Some(text(f, "amount")),
                ..GrantPatch::default()
            };
            let version = text(f, "version").parse().unwrap_or(-1);
            (Move::Edit(version, patch), "The draft is saved.")
        }
        "report" => {
            let kind = match text(f, "kind").as_str() {
                "financial" => ReportKind::Financial,
                _ => ReportKind::Narrative,
            };
            let due_on = date(f, "due_on", &mut errors);
            let new = NewReport {
                kind,
                due_on,
                title: text(f, "title"),
            };
            (
                Move::Report(new),
                "The report is asked for; the grantee is told.",
            )
        }
        _ => return Err(ApiError::NotFound),
    };
    checked(errors, m)
}

/// A move on a grant from its page.
pub async fn move_grant(
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
            let staff: GrantStaff = p.as_a()?;
            let (config, gid) = (p.state.config.clone(), id.clone());
            let form = Form::named(&verb)
                .text("reason", "")
                .text("title", "")
                .text("description", "")
                .text("amount", "")
                .text("due_on", "");
            let parsed = grant_move(&verb, &f);
            let notice = parsed.as_ref().map(|m| m.1).unwrap_or_default();
            let moved = p
                .command(form, &f, move |c| match parsed?.0 {
                    Move::Command(cmd, reason) => {
                        command::run(c, &config, &staff, &meta, &gid, cmd, reason).map(|_| ())
                    }
                    Move::Edit(version, patch) => {
                        edit::update(c, &config, &staff, &meta, &gid, version, patch).map(|_| ())
                    }
                    Move::Report(new) => {
                        report::create(c, &config, &staff, &meta, &gid, new).map(|_| ())
                    }
                })
                .await?;
            match moved {
                Ok(()) => Ok(p.done(&format!("/grants/{id}"), notice)),
                Err(form) => grant_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

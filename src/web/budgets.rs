//! Budget revisions at the console: the page an officer reaches from the "awaits your
//! decision" email, showing each line now and as proposed, where a grant officer other than
//! the proposer approves or rejects it. The moves are `budget_revisions::decide`, as in the API.

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Serialize;

use super::console::{Page, Reply, reply, text};
use super::page::Form;
use crate::AppState;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::grants::budget_revisions::{self, BudgetRevision, RevisionStatus};
use crate::grants::grant;

/// One line of the page: now and as proposed.
#[derive(Debug, Serialize)]
struct Row {
    category: String,
    description: String,
    before: String,
    proposed: String,
}

fn rows(r: &BudgetRevision) -> Vec<Row> {
    let mut out: Vec<Row> = r
        .proposed
        .iter()
        .map(|p| Row {
            category: p.category.as_str().replace('_', "-"),
            description: p.description.clone(),
            before: r
                .before
                .iter()
                .find(|b| b.id == p.id)
                .map_or("0".into(), |b| b.amount.clone()),
            proposed: p.amount.clone(),
        })
        .collect();
    for b in r
        .before
        .iter()
        .filter(|b| !r.proposed.iter().any(|p| p.id == b.id))
    {
        out.push(Row {
            category: b.category.as_str().replace('_', "-"),
            description: b.description.clone(),
            before: b.amount.clone(),
            proposed: "0 (removed)".into(),
        });
    }
    out
}

fn forms(p: &Page, r: &BudgetRevision) -> (Vec<Form>, Option<&'static str>) {
    let me = p.who.user().map(|u| u.id.as_str()).unwrap_or_default();
    if r.status != RevisionStatus::Pending {
        return (Vec::new(), None);
    }
    if r.proposed_by == me {
        return (
            Vec::new(),
            Some("You proposed this revision; it waits for another grant officer to decide it."),
        );
    }
    let approve = Form::new(
        "approve",
        &format!("/budget-revisions/{}/approve", r.id),
        "Approve the revision",
    )
    .heading("Approve");
    let reject = Form::new(
        "reject",
        &format!("/budget-revisions/{}/reject", r.id),
        "Reject the revision",
    )
    .heading("Reject")
    .textarea("reason", "Why it is rejected")
    .secondary();
    (vec![approve, reject], None)
}

async fn revision_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let _staff: GrantStaff = p.as_a()?;
    let (r, g) = p
        .db(move |c| {
            let r = budget_revisions::show(c, &id)?;
            let g = grant::by_id(c, &r.grant_id)?;
            Ok((r, g))
        })
        .await?;
    let (offered, waiting) = forms(p, &r);
    let title = format!("Budget revision of grant {}", g.reference);
    Ok(p.show(
        "budget_revision.html",
        &title,
        offered,
        failed,
        context! {
            rows => rows(&r),
            r => r,
            currency => g.currency,
            grant_reference => g.reference,
            grant_title => g.title,
            tolerance => p.state.config.budget_revision_tolerance_percent,
            waiting => waiting,
        },
    ))
}

/// A budget revision, with the decision the viewer may take.
pub async fn revision(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async { revision_page(&Page::open(&req, &state).await?, id.into_inner(), None).await }
            .await,
    )
}

/// Approves or rejects a budget revision.
pub async fn decide(
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
            let (rejection, notice) = match verb.as_str() {
                "approve" => (None, "The revision is approved; the budget changed."),
                "reject" => (Some(text(&f, "reason")), "The revision is rejected."),
                _ => return Err(p.fail(ApiError::NotFound)),
            };
            let form = Form::named(&verb).textarea("reason", "");
            let (config, rid) = (p.state.config.clone(), id.clone());
            let done = p
                .command(form, &f, move |c| {
                    budget_revisions::decide(c, &config, &staff, &meta, &rid, rejection)
                })
                .await?;
            match done {
                Ok(_) => Ok(p.done(&format!("/budget-revisions/{id}"), notice)),
                Err(form) => revision_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

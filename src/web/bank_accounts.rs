//! An organisation's payee bank accounts at the console: its members (and finance) see them,
//! masked but for finance, and propose a new one (an IBAN, or an account number with its bank
//! where IBAN does not exist); an account's page, where a finance officer other than the
//! proposer confirms it (the link of the "awaits confirmation" email). The moves are
//! `accounts::propose` and `accounts::run`, as in the API.

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::console::{Page, Reply, reply, text};
use super::page::Form;
use crate::AppState;
use crate::auth::Role;
use crate::auth::principal::RequestMeta;
use crate::payments::accounts::{
    self, AccountCommand, AccountStatus, BankAccount, NewAccount, Viewer,
};
use crate::payments::payees;

/// The propose form: every field of both forms of an account; the IBAN one is used when an
/// IBAN is given.
fn propose_form(org: &str) -> Form {
    Form::new(
        "propose",
        &format!("/organisations/{org}/bank-accounts"),
        "Propose the account",
    )
    .heading("Propose a bank account")
    .text("holder_name", "Account holder")
    .hint("The name the bank knows the account by.")
    .text("currency", "Currency")
    .hint("ISO 4217 code, e.g. EUR or KES")
    .text("iban", "IBAN")
    .hint("Leave empty where IBAN does not exist and give the account number, bank and country below.")
    .text("bic", "SWIFT/BIC")
    .hint("8 or 11 letters and digits, e.g. KCBLKENX")
    .text("account_number", "Account number")
    .hint("Only where IBAN does not exist.")
    .text("bank_name", "Bank name")
    .text("bank_country", "Bank country")
    .hint("Two letters, e.g. KE")
}

async fn accounts_page(p: &Page, org: String, failed: Option<Form>) -> Reply {
    let viewer: Viewer = p.as_a()?;
    let (config, keyring, o) = (p.state.config.clone(), p.state.keyring.clone(), org.clone());
    let (list, name) = p
        .db(move |c| {
            let now = config.clock.naive();
            let rows = accounts::list(c, &viewer, &o)?;
            let list = rows
                .iter()
                .map(|r| viewer.show(r, &keyring, now))
                .collect::<Result<Vec<BankAccount>, _>>()?;
            Ok((list, payees::organisation_name(c, &o)?))
        })
        .await?;
    let forms = match p.role() {
        Some(Role::Member | Role::FinanceOfficer) => vec![propose_form(&org)],
        _ => Vec::new(),
    };
    Ok(p.show(
        "bank_accounts.html",
        &format!("Bank accounts of {name}"),
        forms,
        failed,
        context! { accounts => list },
    ))
}

/// An organisation's accounts, and the form to propose one.
pub async fn accounts(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> HttpResponse {
    reply(
        async { accounts_page(&Page::open(&req, &state).await?, org.into_inner(), None).await }
            .await,
    )
}

fn optional(f: &std::collections::BTreeMap<String, String>, k: &str) -> Option<String> {
    Some(text(f, k)).filter(|v| !v.trim().is_empty())
}

/// Proposes an account; its page says it waits for finance.
pub async fn propose(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    org: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let org = org.into_inner();
            let iban = optional(&f, "iban");
            let local = iban.is_none();
            let new = NewAccount {
                holder_name: text(&f, "holder_name"),
                currency: text(&f, "currency").trim().to_uppercase(),
                iban,
                account_number: optional(&f, "account_number").filter(|_| local),
                bank_name: optional(&f, "bank_name").filter(|_| local),
                bic: text(&f, "bic"),
                bank_country: optional(&f, "bank_country").filter(|_| local),
                replaces_id: None,
            };
            let (config, keyring, w, o) = (
                p.state.config.clone(),
                p.state.keyring.clone(),
                p.who.clone(),
                org.clone(),
            );
            let made = p
                .command(propose_form(&org), &f, move |c| {
                    accounts::propose(c, &config, &keyring, &w, &meta, &o, new)
                })
                .await?;
            match made {
                Ok(row) => Ok(p.done(
                    &format!("/organisations/{org}/bank-accounts/{}", row.id),
                    "The account is proposed; a finance officer confirms it, and every member is told.",
                )),
                Err(form) => accounts_page(&p, org, Some(form)).await,
            }
        }
        .await,
    )
}

async fn account_page(p: &Page, org: String, id: String, failed: Option<Form>) -> Reply {
    let viewer: Viewer = p.as_a()?;
    let (config, keyring) = (p.state.config.clone(), p.state.keyring.clone());
    let (o, i) = (org.clone(), id.clone());
    let a = p
        .db(move |c| {
            let row = accounts::get(c, &viewer, &o, &i)?;
            viewer.show(&row, &keyring, config.clock.naive())
        })
        .await?;
    let me = p.who.user().map(|u| u.id.clone()).unwrap_or_default();
    let proposed = a.status == AccountStatus::Proposed;
    let finance = p.role() == Some(Role::FinanceOfficer);
    let mut forms = Vec::new();
    let mut waiting = None;
    if proposed && finance && a.proposed_by == me {
        waiting = Some("You proposed this account; another finance officer confirms it.");
    } else if proposed && finance {
        forms.push(
            Form::new(
                "confirm",
                &format!("/organisations/{org}/bank-accounts/{id}/confirm"),
                "Confirm",
            )
            .heading("Confirm the account"),
        );
    }
    Ok(p.show(
        "bank_account.html",
        &format!("Bank account of {}", a.holder_name),
        forms,
        failed,
        context! { a => a, waiting => waiting },
    ))
}

/// A payee bank account, with the confirm form for finance.
pub async fn account(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (org, id) = path.into_inner();
    reply(async { account_page(&Page::open(&req, &state).await?, org, id, None).await }.await)
}

/// Confirms an account from its page (a finance officer other than the proposer).
pub async fn confirm_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let (org, id) = path.into_inner();
            let (config, keyring, w) = (
                p.state.config.clone(),
                p.state.keyring.clone(),
                p.who.clone(),
            );
            let (o, i) = (org.clone(), id.clone());
            let done = p
                .command(Form::named("confirm"), &f, move |c| {
                    accounts::run(
                        c,
                        &config,
                        &keyring,
                        &w,
                        &meta,
                        &o,
                        &i,
                        AccountCommand::Confirm,
                    )
                })
                .await?;
            match done {
                Ok(_) => Ok(p.done(
                    &format!("/organisations/{org}/bank-accounts/{id}"),
                    "The account is confirmed; it is usable after the cooling-off period.",
                )),
                Err(form) => account_page(&p, org, id, Some(form)).await,
            }
        }
        .await,
    )
}

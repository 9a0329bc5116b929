//! Finance's payments pages at the console: the accounts that wait for confirmation, the
//! payment runs (prepare one from the approved tranches, approve another officer's, download
//! its bank file and CSV, record it paid or a line returned) and the payments register with
//! its totals and filters. They call the API's own service functions (`payments::accounts`,
//! `payments::runs`, `payments::pain001`, `payments::register`).

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use minijinja::context;

use super::console::{Page, Reply, checked, date, reply, text};
use super::page::{Form, render};
use crate::AppState;
use crate::auth::caller::{Finance, Staff};
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::payments::accounts::Viewer;
use crate::payments::pain001;
use crate::payments::payees;
use crate::payments::register::{self, RegisterParams};
use crate::payments::runs::{self, LineStatus, NewRun, RecordBody, RunStatus};

/// Runs listed on the runs page.
const RUNS_LISTED: i64 = 50;

/// Accounts that wait for a finance officer to confirm them.
pub async fn accounts_to_confirm(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let finance: Finance = p.as_a()?;
            let (keyring, now) = (p.state.keyring.clone(), p.state.config.clock.naive());
            let me = finance.id.clone();
            let waiting = p
                .db(move |c| {
                    payees::awaiting(c, &finance)?
                        .into_iter()
                        .map(|(r, org)| {
                            let mine = r.proposed_by == me;
                            Ok((Viewer::Finance.show(&r, &keyring, now)?, org, mine))
                        })
                        .collect::<Result<Vec<_>, ApiError>>()
                })
                .await?;
            Ok(p.show(
                "accounts_to_confirm.html",
                "Bank accounts to confirm",
                Vec::new(),
                None,
                context! { waiting => waiting },
            ))
        }
        .await,
    )
}

fn prepare_form(currencies: Vec<String>) -> Form {
    let options = currencies.into_iter().map(|c| (c.clone(), c)).collect();
    Form::new("prepare", "/payment-runs", "Prepare the run")
        .heading("Prepare a run")
        .select("currency", "Currency", options)
        .hint(
            "Every approved tranche in it that no open run holds, to its grantee's usable account.",
        )
        .date("value_date", "Value date")
}

async fn runs_page(p: &Page, failed: Option<Form>) -> Reply {
    let finance: Finance = p.as_a()?;
    let keyring = p.state.keyring.clone();
    let (list, currencies) = p
        .db(move |c| {
            let list = runs::list(c, &finance, RUNS_LISTED)?
                .into_iter()
                .map(|r| runs::show(c, &keyring, r))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((list, payees::gatherable_currencies(c, &finance)?))
        })
        .await?;
    Ok(p.show(
        "payment_runs.html",
        "Payment runs",
        vec![prepare_form(currencies)],
        failed,
        context! { runs => list },
    ))
}

/// The payment runs, and the form to prepare one.
pub async fn runs_list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(async { runs_page(&Page::open(&req, &state).await?, None).await }.await)
}

/// Prepares a run of every gatherable tranche in the chosen currency.
pub async fn prepare_run(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let finance: Finance = p.as_a()?;
            let mut errors = Vec::new();
            let value_date = date(&f, "value_date", &mut errors);
            let currency = text(&f, "currency");
            let (config, keyring) = (p.state.config.clone(), p.state.keyring.clone());
            let made = p
                .command(prepare_form(Vec::new()), &f, move |c| {
                    let value_date = checked(errors, value_date)?;
                    let lines = payees::gatherable(c, &finance, &currency, config.clock.naive())?;
                    if lines.is_empty() {
                        return Err(ApiError::field(
                            "currency",
                            "nothing_to_pay",
                            "No approved tranche in this currency has a usable account of its grantee.",
                        ));
                    }
                    let new = NewRun {
                        currency,
                        value_date,
                        lines,
                    };
                    runs::prepare(c, &config, &keyring, &finance, &meta, new)
                })
                .await?;
            match made {
                Ok(run) => Ok(p.done(
                    &format!("/payment-runs/{}", run.id),
                    "The run is prepared; another finance officer approves it.",
                )),
                Err(form) => runs_page(&p, Some(form)).await,
            }
        }
        .await,
    )
}

/// The forms of run `r` for `me`: approve (another officer's prepared run), record (an
/// approved run) and return (a line of an approved or completed run).
fn run_forms(r: &runs::PaymentRun, me: &str) -> (Vec<Form>, Option<&'static str>) {
    let mut forms = Vec::new();
    let mut waiting = None;
    let at = |verb: &str, submit: &str| {
        Form::new(verb, &format!("/payment-runs/{}/{verb}", r.id), submit)
    };
    match r.status {
        RunStatus::Prepared if r.prepared_by == me => {
            waiting = Some("You prepared this run; another finance officer approves it.");
        }
        RunStatus::Prepared => forms.push(at("approve", "Approve").heading("Approve the run")),
        RunStatus::Approved => forms.push(
            at("record", "Record paid")
                .heading("Record the run paid")
                .text("bank_reference", "Bank reference")
                .date("paid_on", "Date paid"),
        ),
        RunStatus::Completed => {}
    }
    if r.status != RunStatus::Prepared {
        for l in r.lines.iter().filter(|l| l.status != LineStatus::Returned) {
            forms.push(
                Form::new(
                    &format!("return-{}", l.line_no),
                    &format!("/payment-runs/{}/lines/{}/return", r.id, l.id),
                    "Record returned",
                )
                .heading(&format!("Line {} returned by the bank", l.line_no))
                .textarea("reason", "Reason the bank gave")
                .secondary(),
            );
        }
    }
    (forms, waiting)
}

async fn run_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let finance: Finance = p.as_a()?;
    let keyring = p.state.keyring.clone();
    let r = p
        .db(move |c| {
            let r = runs::by_id(c, &id)?;
            runs::show(c, &keyring, r)
        })
        .await?;
    let (forms, waiting) = run_forms(&r, &finance.id);
    let title = format!("Payment run of {} {}", r.currency, r.control_sum);
    Ok(p.show(
        "payment_run.html",
        &title,
        forms,
        failed,
        context! { r => r, waiting => waiting },
    ))
}

/// A payment run with its lines and what finance may do on it.
pub async fn run(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(async { run_page(&Page::open(&req, &state).await?, id.into_inner(), None).await }.await)
}

/// Approves or records a run from its page.
pub async fn move_run(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let finance: Finance = p.as_a()?;
            let (id, verb) = path.into_inner();
            let (config, keyring, rid, w) = (
                p.state.config.clone(),
                p.state.keyring.clone(),
                id.clone(),
                p.who.clone(),
            );
            let moved = match verb.as_str() {
                "approve" => {
                    p.command(Form::named("approve"), &f, move |c| {
                        runs::approve(c, &config, &keyring, &finance, &meta, &rid)
                    })
                    .await?
                }
                "record" => {
                    let mut errors = Vec::new();
                    let paid_on = date(&f, "paid_on", &mut errors);
                    let body = RecordBody {
                        bank_reference: text(&f, "bank_reference"),
                        paid_on,
                    };
                    let form = Form::named("record")
                        .text("bank_reference", "")
                        .date("paid_on", "");
                    p.command(form, &f, move |c| {
                        let body = checked(errors, body)?;
                        runs::record(c, &config, &keyring, &w, &meta, &rid, body)
                    })
                    .await?
                }
                _ => return Err(p.fail(ApiError::NotFound)),
            };
            match moved {
                Ok(_) if verb == "approve" => Ok(p.done(
                    &format!("/payment-runs/{id}"),
                    "The run is approved; its bank file may be downloaded.",
                )),
                Ok(_) => Ok(p.done(
                    &format!("/payment-runs/{id}"),
                    "The run is recorded paid; each grantee is emailed.",
                )),
                Err(form) => run_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

/// Records a line returned by the bank: its tranche is approved again.
pub async fn return_line(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let finance: Finance = p.as_a()?;
            let (id, line) = path.into_inner();
            let (config, keyring, rid) =
                (p.state.config.clone(), p.state.keyring.clone(), id.clone());
            let reason = text(&f, "reason");
            let line_no = p
                .db({
                    let (rid, line) = (rid.clone(), line.clone());
                    move |c| {
                        runs::lines_of(c, &rid)?
                            .into_iter()
                            .find(|l| l.id == line)
                            .map(|l| l.line_no)
                            .ok_or(ApiError::NotFound)
                    }
                })
                .await?;
            let form = Form::named(&format!("return-{line_no}")).textarea("reason", "");
            let done = p
                .command(form, &f, move |c| {
                    runs::return_line(c, &config, &keyring, &finance, &meta, &rid, &line, &reason)
                })
                .await?;
            match done {
                Ok(_) => Ok(p.done(
                    &format!("/payment-runs/{id}"),
                    "The line is returned; its tranche is approved again and its approvers are emailed.",
                )),
                Err(form) => run_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

fn download(content_type: &str, name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

/// The run's bank file (`pain.001.001.09`) or its CSV, downloaded from its page.
pub async fn run_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let _: Finance = p.as_a()?;
            let (id, kind) = path.into_inner();
            let (config, keyring, rid) =
                (p.state.config.clone(), p.state.keyring.clone(), id.clone());
            match kind.as_str() {
                "pain001.xml" => {
                    let xml = p
                        .db(move |c| pain001::bank_file(c, &config, &keyring, &rid))
                        .await?;
                    Ok(download(
                        "application/xml; charset=utf-8",
                        &format!("run-{id}.xml"),
                        xml,
                    ))
                }
                "lines.csv" => {
                    let csv = p.db(move |c| pain001::lines_csv(c, &keyring, &rid)).await?;
                    Ok(download(
                        "text/csv; charset=utf-8",
                        &format!("run-{id}.csv"),
                        csv,
                    ))
                }
                _ => Err(p.fail(ApiError::NotFound)),
            }
        }
        .await,
    )
}

/// The register's filters from the query (`from`, `to`, `currency`); an unreadable date is
/// shown at its field.
fn register_filters(
    q: &BTreeMap<String, String>,
) -> (RegisterParams, Vec<crate::error::FieldError>) {
    let mut errors = Vec::new();
    let mut day = |k: &str| {
        Some(text(q, k))
            .filter(|v| !v.trim().is_empty())
            .map(|_| date(q, k, &mut errors))
    };
    let from: Option<NaiveDate> = day("from");
    let to: Option<NaiveDate> = day("to");
    let currency = Some(text(q, "currency").trim().to_uppercase()).filter(|c| !c.is_empty());
    let params = RegisterParams {
        from,
        to,
        currency,
        ..RegisterParams::default()
    };
    (params, errors)
}

/// The payments register with its totals, filtered by date range and currency (a GET form:
/// filtering changes nothing); a filter that cannot be read is shown at its field.
pub async fn register_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let staff: Staff = p.as_a()?;
            let q = q.into_inner();
            let (mut params, errors) = register_filters(&q);
            params.limit = Some(register::MAX_ROWS);
            let config = p.state.config.clone();
            let query = req.query_string().to_string();
            let read = p
                .state
                .db(move |c| {
                    checked(errors, ())?;
                    register::read(c, &config, &staff, &params)
                })
                .await;
            let (reg, errors, status) = match read {
                Ok(r) => (Some(r), BTreeMap::new(), StatusCode::OK),
                Err(ApiError::Validation(list)) => {
                    let errors: BTreeMap<String, String> =
                        list.into_iter().map(|e| (e.field, e.message)).collect();
                    (None, errors, StatusCode::BAD_REQUEST)
                }
                Err(e) => return Err(p.fail(e)),
            };
            let ctx = context! {
                title => "Payments register",
                reg => reg,
                errors => errors,
                values => q,
                query => query,
            };
            Ok(render(
                &p.v,
                &p.state.config.network_name,
                status,
                "register.html",
                ctx,
            ))
        }
        .await,
    )
}

/// The register as CSV, under the page's filters.
pub async fn register_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<BTreeMap<String, String>>,
) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let staff: Staff = p.as_a()?;
            let (params, errors) = register_filters(&q.into_inner());
            let config = p.state.config.clone();
            let csv = p
                .db(move |c| {
                    checked(errors, ())?;
                    register::csv(&register::read(c, &config, &staff, &params)?)
                })
                .await?;
            Ok(download("text/csv; charset=utf-8", "payments.csv", csv))
        }
        .await,
    )
}

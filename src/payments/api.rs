//! Handlers of payee bank accounts (`/organisations/{id}/bank-accounts`), payment runs
//! (`/payment-runs`) and the payments register (`/payments`). Thin: parse, call the service.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::accounts::{self, AccountCommand, BankAccount, NewAccount, Viewer};
use super::pain001;
use super::register::{self, Register, RegisterParams};
use super::runs::{self, NewRun, PaymentRun, RecordBody};
use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::{Finance, Staff};
use crate::error::ApiError;
use crate::error::docs::{
    AuthErrors, BodyErrors, ConflictError, IdempotencyErrors, NotFoundError, QueryErrors,
};
use crate::extract::Json;
use crate::grants::api::fingerprint;
use crate::grants::grant::ReasonBody;
use crate::idempotency::{Call, Outcome};

/// The accounts of an organisation.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AccountList {
    /// Every account, oldest first.
    pub data: Vec<BankAccount>,
    /// Number of accounts.
    pub total: i64,
}

/// Propose a payee bank account of an organisation (its members, or finance). Accepts Idempotency-Key.
#[utoipa::path(
    description = "The organisation's members in good standing, or finance. Stores the IBAN (checksum validated) or account number sealed with the at-rest key ring; the account is usable only after a finance officer other than the proposer confirms it and BANK_ACCOUNT_COOLING_OFF_HOURS pass. Every other member of the organisation is emailed that its bank details are changing, and finance is asked to confirm. Audited.",
    tag = "bank accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = NewAccount,
    responses(
        (status = 201, description = "Proposed; waits for finance to confirm it", body = BankAccount, headers(("Location" = String, description = "URL of the account"))),
        AuthErrors, BodyErrors, NotFoundError, IdempotencyErrors,
    )
)]
#[post("/organisations/{id}/bank-accounts")]
pub async fn propose_bank_account(
    call: Call,
    id: web::Path<String>,
    body: Json<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    let new = body.0;
    let fp = fingerprint(&new)?;
    let (keyring, id) = (call.state.keyring.clone(), id.into_inner());
    call.once(fp, move |c, config, who, meta| {
        let row = accounts::propose(c, config, &keyring, who, meta, &id, new)?;
        let shown = Viewer::try_from(who)?.show(&row, &keyring, config.clock.naive())?;
        Outcome::created(
            format!("/api/v1/organisations/{id}/bank-accounts/{}", row.id),
            &shown,
        )
    })
    .await
}

/// The bank accounts of an organisation: numbers in full for finance, the last four for
/// everyone else (its members, admins, grant officers). Partner apps and other organisations'
/// members get 404.
#[utoipa::path(
    description = "Finance (numbers in full), admins, grant officers and the organisation's own members (last four characters only). Another organisation's member and partner apps get 404. Changes nothing.",
    tag = "bank accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The accounts", body = AccountList),
        AuthErrors, NotFoundError,
    )
)]
#[get("/organisations/{id}/bank-accounts")]
pub async fn list_bank_accounts(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let viewer = Viewer::try_from(&who)?;
    let (config, keyring) = (state.config.clone(), state.keyring.clone());
    let list = state
        .db(move |c| {
            let now = config.clock.naive();
            let rows = accounts::list(c, &viewer, &id)?;
            let data = rows
                .iter()
                .map(|r| viewer.show(r, &keyring, now))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(AccountList {
                total: data.len() as i64,
                data,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A bank account of an organisation (masked except for finance).
#[utoipa::path(
    description = "As the list: numbers in full for finance only. Changes nothing.",
    tag = "bank accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id"), ("account_id" = uuid::Uuid, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = BankAccount),
        AuthErrors, NotFoundError,
    )
)]
#[get("/organisations/{id}/bank-accounts/{account_id}")]
pub async fn get_bank_account(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let viewer = Viewer::try_from(&who)?;
    let (org, id) = path.into_inner();
    let (config, keyring) = (state.config.clone(), state.keyring.clone());
    let shown = state
        .db(move |c| {
            let row = accounts::get(c, &viewer, &org, &id)?;
            viewer.show(&row, &keyring, config.clock.naive())
        })
        .await?;
    Ok(HttpResponse::Ok().json(shown))
}

async fn move_account(
    call: Call,
    path: web::Path<(String, String)>,
    cmd: AccountCommand,
) -> Result<HttpResponse, ApiError> {
    let keyring = call.state.keyring.clone();
    let (org, id) = path.into_inner();
    call.once(serde_json::Value::Null, move |c, config, who, meta| {
        let row = accounts::run(c, config, &keyring, who, meta, &org, &id, cmd)?;
        Outcome::ok(&Viewer::try_from(who)?.show(&row, &keyring, config.clock.naive())?)
    })
    .await
}

/// Confirm a proposed account (finance, never its proposer): usable after BANK_ACCOUNT_COOLING_OFF_HOURS. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Finance officers other than the proposer (409 `self_approval`). Starts the cooling-off period; an account it replaces is retired. Every member of the organisation is emailed. Audited.",
    tag = "bank accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id"), ("account_id" = uuid::Uuid, Path, description = "Account id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The confirmed account", body = BankAccount),
        QueryErrors, AuthErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/organisations/{id}/bank-accounts/{account_id}/confirm")]
pub async fn confirm_bank_account(
    call: Call,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    move_account(call, path, AccountCommand::Confirm).await
}

/// Retire an account (its organisation's members, or finance): nothing more is paid to it. Accepts Idempotency-Key.
#[utoipa::path(
    description = "The organisation's members, or finance. Nothing more is paid to the account. Audited; emails nothing.",
    tag = "bank accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id"), ("account_id" = uuid::Uuid, Path, description = "Account id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The retired account", body = BankAccount),
        QueryErrors, AuthErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/organisations/{id}/bank-accounts/{account_id}/retire")]
pub async fn retire_bank_account(
    call: Call,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    move_account(call, path, AccountCommand::Retire).await
}

/// Prepare a payment run of approved tranches in one currency (finance). Accepts Idempotency-Key.
#[utoipa::path(
    description = "Finance officers. Gathers approved tranches of one currency, each to a usable account of its grantee in that currency; a tranche already in an open run is 409 `already_in_run` (held by a unique index). The other finance officers are emailed to approve it. Audited.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = NewRun,
    responses(
        (status = 201, description = "Prepared; waits for a second finance officer", body = PaymentRun, headers(("Location" = String, description = "URL of the run"))),
        AuthErrors, BodyErrors, ConflictError, IdempotencyErrors,
    )
)]
#[post("/payment-runs")]
pub async fn prepare_payment_run(call: Call, body: Json<NewRun>) -> Result<HttpResponse, ApiError> {
    let finance = Finance::try_from(&call.who)?;
    let new = body.0;
    let fp = fingerprint(&new)?;
    let keyring = call.state.keyring.clone();
    call.once(fp, move |c, config, _, meta| {
        let run = runs::prepare(c, config, &keyring, &finance, meta, new)?;
        Outcome::created(format!("/api/v1/payment-runs/{}", run.id), &run)
    })
    .await
}

/// Paging of the runs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunListParams {
    /// Newest runs to list, 1–100 (default 25).
    pub limit: Option<i64>,
}

/// The payment runs, newest first (finance).
#[utoipa::path(
    description = "Finance officers. Changes nothing.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(RunListParams),
    responses(
        (status = 200, description = "The runs with their lines", body = Vec<PaymentRun>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/payment-runs")]
pub async fn list_payment_runs(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<RunListParams>,
) -> Result<HttpResponse, ApiError> {
    let finance = Finance::try_from(&who)?;
    let limit = crate::pagination::limit(q.limit)?;
    let keyring = state.keyring.clone();
    let list = state
        .db(move |c| {
            runs::list(c, &finance, limit)?
                .into_iter()
                .map(|r| runs::show(c, &keyring, r))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// A payment run with its lines (finance).
#[utoipa::path(
    description = "Finance officers. Changes nothing.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run", body = PaymentRun),
        AuthErrors, NotFoundError,
    )
)]
#[get("/payment-runs/{id}")]
pub async fn get_payment_run(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Finance::try_from(&who)?;
    let keyring = state.keyring.clone();
    let run = state
        .db(move |c| {
            let r = runs::by_id(c, &id)?;
            runs::show(c, &keyring, r)
        })
        .await?;
    Ok(HttpResponse::Ok().json(run))
}

/// Approve a prepared run (a finance officer other than its preparer). Accepts Idempotency-Key.
#[utoipa::path(
    description = "A finance officer other than the preparer (409 `self_approval`). Its bank file can then be exported. Audited; emails nothing.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Run id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    responses(
        (status = 200, description = "The approved run", body = PaymentRun),
        QueryErrors, AuthErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/payment-runs/{id}/approve")]
pub async fn approve_payment_run(
    call: Call,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let finance = Finance::try_from(&call.who)?;
    let (keyring, id) = (call.state.keyring.clone(), id.into_inner());
    call.once(serde_json::Value::Null, move |c, config, _, meta| {
        Outcome::ok(&runs::approve(c, config, &keyring, &finance, meta, &id)?)
    })
    .await
}

/// Record an approved run paid: every pending line's tranche is paid once. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Finance officers, once per approved run. Pays each pending line's tranche through the tranche's own pay command (its rules, audit event and email to the grantee) in one transaction.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Run id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = RecordBody,
    responses(
        (status = 200, description = "The completed run", body = PaymentRun),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/payment-runs/{id}/record")]
pub async fn record_payment_run(
    call: Call,
    id: web::Path<String>,
    body: Json<RecordBody>,
) -> Result<HttpResponse, ApiError> {
    Finance::try_from(&call.who)?;
    let b = body.0;
    let fp = fingerprint(&b)?;
    let (keyring, id) = (call.state.keyring.clone(), id.into_inner());
    call.once(fp, move |c, config, who, meta| {
        Outcome::ok(&runs::record(c, config, &keyring, who, meta, &id, b)?)
    })
    .await
}

/// A line returned by the bank: its tranche is approved again with the reason; its approvers are emailed. Accepts Idempotency-Key.
#[utoipa::path(
    description = "Finance officers. The line is closed with the reason and its tranche is approved again (a paid one gives its payment back to the grant and fund); the tranche's approvers and finance are emailed. Audited.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Run id"), ("line_id" = uuid::Uuid, Path, description = "Line id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and body (24 hours)")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The run", body = PaymentRun),
        AuthErrors, BodyErrors, NotFoundError, ConflictError, IdempotencyErrors,
    )
)]
#[post("/payment-runs/{id}/lines/{line_id}/return")]
pub async fn return_payment_line(
    call: Call,
    path: web::Path<(String, String)>,
    body: Json<ReasonBody>,
) -> Result<HttpResponse, ApiError> {
    let finance = Finance::try_from(&call.who)?;
    let b = body.0;
    let fp = fingerprint(&b)?;
    let keyring = call.state.keyring.clone();
    let (run, line) = path.into_inner();
    call.once(fp, move |c, config, _, meta| {
        Outcome::ok(&runs::return_line(
            c, config, &keyring, &finance, meta, &run, &line, &b.reason,
        )?)
    })
    .await
}

/// The run's ISO 20022 `pain.001.001.09` credit-transfer file (finance; approved runs).
#[utoipa::path(
    description = "Finance officers, for approved runs (409 before). ISO 20022 pain.001.001.09, valid against the schema in standards/iso20022; holds account numbers in full. Changes nothing.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Run id")),
    responses(
        (status = 200, description = "pain.001.001.09 XML", body = String, content_type = "application/xml", example = json!(pain001_example())),
        AuthErrors, NotFoundError, ConflictError,
    )
)]
#[get("/payment-runs/{id}/pain001")]
pub async fn payment_run_pain001(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Finance::try_from(&who)?;
    let (config, keyring) = (state.config.clone(), state.keyring.clone());
    let xml = state
        .db(move |c| pain001::bank_file(c, &config, &keyring, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(xml))
}

/// The run's lines as CSV (finance; approved runs).
#[utoipa::path(
    description = "Finance officers, for approved runs. The same lines as the bank file, with account numbers. Changes nothing.",
    tag = "payment runs",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Run id")),
    responses(
        (status = 200, description = "CSV with a header row", body = String, content_type = "text/csv", example = json!(csv_example())),
        AuthErrors, NotFoundError, ConflictError,
    )
)]
#[get("/payment-runs/{id}/csv")]
pub async fn payment_run_csv(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Finance::try_from(&who)?;
    let keyring = state.keyring.clone();
    let csv = state
        .db(move |c| pain001::lines_csv(c, &keyring, &id))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .body(csv))
}

/// The payments register: paid and reversed tranches with totals per currency and in the
/// base currency (staff).
#[utoipa::path(
    description = "Staff. Every paid and reversed tranche with its run, payee and masked account, and totals of the paid ones per currency and in the base currency (at the grant's stored rate). Changes nothing.",
    tag = "payments",
    security(("bearer" = [])),
    params(RegisterParams),
    responses(
        (status = 200, description = "The register", body = Register),
        QueryErrors, AuthErrors,
    )
)]
#[get("/payments")]
pub async fn payments_register(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<RegisterParams>,
) -> Result<HttpResponse, ApiError> {
    let staff = Staff::try_from(&who)?;
    let config = state.config.clone();
    let mut p = q.into_inner();
    // A page size the caller gives is one of the API's (1 to 100); without one, every row up
    // to the register's cap.
    p.limit = Some(match p.limit {
        Some(_) => crate::pagination::limit(p.limit)?,
        None => register::MAX_ROWS,
    });
    let reg = state
        .db(move |c| register::read(c, &config, &staff, &p))
        .await?;
    Ok(HttpResponse::Ok().json(reg))
}

/// The payments register as CSV, with the same filters and totals (staff).
#[utoipa::path(
    description = "Staff. Every row of the register under the same filters as `GET /payments` (`limit` is ignored), then a `total` row per currency and a `total_in_base` row (formula injection defused; accounts masked). Changes nothing.",
    tag = "payments",
    security(("bearer" = [])),
    params(RegisterParams),
    responses(
        (status = 200, description = "CSV with a header row", body = String, content_type = "text/csv", example = json!(register_csv_example())),
        QueryErrors, AuthErrors,
    )
)]
#[get("/payments.csv")]
pub async fn payments_register_csv(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<RegisterParams>,
) -> Result<HttpResponse, ApiError> {
    let staff = Staff::try_from(&who)?;
    let config = state.config.clone();
    let mut p = q.into_inner();
    // `limit` is checked like everywhere else, then ignored: the CSV has every row.
    if p.limit.is_some() {
        crate::pagination::limit(p.limit)?;
    }
    p.limit = None;
    let csv = state
        .db(move |c| register::csv(&register::read(c, &config, &staff, &p)?))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"payments.csv\"",
        ))
        .body(csv))
}

fn register_csv_example() -> String {
    format!("{}\r\n", register::CSV_HEADER.join(","))
}

fn pain001_example() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
     <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"><CstmrCdtTrfInitn>\n\
     </CstmrCdtTrfInitn></Document>\n"
        .into()
}

fn csv_example() -> String {
    format!("{}\r\n", pain001::CSV_HEADER.join(","))
}

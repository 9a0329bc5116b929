//! Payment runs: finance gathers approved tranches of one currency into a run, a second
//! finance officer approves it, its bank file is exported, and the run is recorded paid (each
//! tranche through the tranche's own pay command, so its rules hold) or a line returned. A
//! tranche is in at most one open line: a partial unique index refuses the second.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::{self, AccountRow};
use super::mail::{ReturnedMail, RunMail, RunPendingMail};
use crate::auth::Principal;
use crate::auth::caller::Finance;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{disbursements, payment_run_lines, payment_runs};
use crate::error::no_field_errors;
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::grants::budget;
use crate::grants::check::{collect, text_field};
use crate::grants::grant::{self, GrantRow};
use crate::grants::tranche::{self, PayBody, Tranche, TrancheCommand, TrancheRow, TrancheStatus};
use crate::kit::rfc3339;
use crate::money;
use crate::notify::matrix::{Event, Parties};

/// Most lines one run holds.
pub const MAX_LINES: usize = 5000;

crate::text_enum! {
    /// A run's place in its life.
    pub enum RunStatus {
        /// Waits for a second finance officer.
        Prepared = "prepared",
        /// Approved: its bank file may be exported.
        Approved = "approved",
        /// Recorded paid.
        Completed = "completed",
    }
}

crate::text_enum! {
    /// A line's place in its life.
    pub enum LineStatus {
        /// Not paid yet (the tranche is held by this run).
        Pending = "pending",
        /// Paid.
        Paid = "paid",
        /// Returned by the bank: the tranche is approved again.
        Returned = "returned",
    }
}

/// A stored run.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_runs)]
pub struct RunRow {
    /// UUID v7.
    pub id: String,
    /// ISO 4217 code of every line.
    pub currency: String,
    /// Requested execution date.
    pub value_date: NaiveDate,
    /// prepared, approved, completed.
    pub status: RunStatus,
    /// Number of lines.
    pub line_count: i32,
    /// Sum of the lines, minor units.
    pub control_sum: i64,
    /// Preparer.
    pub prepared_by: String,
    /// When.
    pub prepared_at: NaiveDateTime,
    /// Approver.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<NaiveDateTime>,
    /// Who recorded it paid.
    pub completed_by: Option<String>,
    /// When.
    pub completed_at: Option<NaiveDateTime>,
}

/// A stored line.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_run_lines)]
pub struct LineRow {
    /// UUID v7.
    pub id: String,
    /// The run.
    pub run_id: String,
    /// 1-based order in the run.
    pub line_no: i32,
    /// The tranche paid.
    pub disbursement_id: String,
    /// The account paid to.
    pub bank_account_id: String,
    /// Minor units.
    pub amount: i64,
    /// Reference the payee sees (end-to-end id).
    pub reference: String,
    /// pending, paid, returned.
    pub status: LineStatus,
    /// The bank's reference once paid.
    pub bank_reference: Option<String>,
    /// Date paid.
    pub paid_on: Option<NaiveDate>,
    /// Why the bank returned it.
    pub return_reason: Option<String>,
}

/// One tranche to gather, and the grantee's account it is paid to.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    /// An approved tranche in the run's currency.
    pub disbursement_id: String,
    /// A usable (confirmed, past cooling-off) account of the grantee in the run's currency.
    pub bank_account_id: String,
}

/// Prepare a run.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    /// ISO 4217 code: every tranche and account of the run is in it.
    pub currency: String,
    /// Requested execution date (YYYY-MM-DD), today or later.
    pub value_date: NaiveDate,
    /// 1–5000 lines, a tranche at most once.
    pub lines: Vec<NewLine>,
}

/// Record a run paid.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    /// The bank's reference of the transfer, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub bank_reference: String,
    /// Date the bank paid (YYYY-MM-DD).
    pub paid_on: NaiveDate,
}

/// A line as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RunLine {
    /// UUID v7.
    pub id: String,
    /// 1-based order.
    pub line_no: i32,
    /// The tranche.
    pub disbursement_id: String,
    /// The grant's reference.
    pub grant_reference: String,
    /// The payee organisation.
    pub payee_organisation_id: String,
    /// The account paid to.
    pub bank_account_id: String,
    /// The account's holder.
    pub holder_name: String,
    /// The account's number: in full for finance, else masked.
    pub account_number: String,
    /// Amount.
    pub amount: String,
    /// Reference the payee sees.
    pub reference: String,
    /// pending, paid or returned.
    pub status: LineStatus,
    /// The bank's reference once paid.
    pub bank_reference: Option<String>,
    /// Date paid.
    pub paid_on: Option<NaiveDate>,
    /// Why the bank returned it.
    pub return_reason: Option<String>,
}

/// A payment run as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentRun {
    /// UUID v7.
    pub id: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Requested execution date.
    pub value_date: NaiveDate,
    /// prepared, approved or completed.
    pub status: RunStatus,
    /// Number of lines.
    pub line_count: i32,
    /// Sum of the lines.
    pub control_sum: String,
    /// Preparer.
    pub prepared_by: String,
    /// Approver (another finance officer).
    pub approved_by: Option<String>,
    /// When it was approved.
    pub approved_at: Option<String>,
    /// Who recorded it paid.
    pub completed_by: Option<String>,
    /// The lines, in order.
    pub lines: Vec<RunLine>,
}

impl Audited for PaymentRun {
    const ENTITY: &'static str = "payment_run";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// Loads a run (404 when unknown).
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<RunRow, ApiError> {
    payment_runs::table
        .find(id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// The lines of a run, in order.
pub fn lines_of(conn: &mut DbConn, run_id: &str) -> QueryResult<Vec<LineRow>> {
    payment_run_lines::table
        .filter(payment_run_lines::run_id.eq(run_id))
        .order(payment_run_lines::line_no.asc())
        .select(LineRow::as_select())
        .load(conn)
}

/// A line with what it pays: the tranche's grant and the account.
pub struct Detailed {
    /// The line.
    pub line: LineRow,
    /// The tranche's grant.
    pub grant: GrantRow,
    /// The account paid to.
    pub account: AccountRow,
}

/// The lines of a run with their grants and accounts.
pub fn detailed(conn: &mut DbConn, run_id: &str) -> Result<Vec<Detailed>, ApiError> {
    let mut out = Vec::new();
    for line in lines_of(conn, run_id)? {
        let t = tranche::by_id(conn, &line.disbursement_id)?;
        let grant = grant::by_id(conn, &t.grant_id)?;
        let account = accounts::by_id(conn, &line.bank_account_id)?;
        out.push(Detailed {
            line,
            grant,
            account,
        });
    }
    Ok(out)
}

/// The run as finance sees it (account numbers in full when `full`).
pub fn show(
    conn: &mut DbConn,
    keyring: &crate::crypto::KeyRing,
    r: RunRow,
) -> Result<PaymentRun, ApiError> {
    let mut lines = Vec::new();
    for d in detailed(conn, &r.id)? {
        lines.push(RunLine {
            id: d.line.id,
            line_no: d.line.line_no,
            disbursement_id: d.line.disbursement_id,
            grant_reference: d.grant.reference,
            payee_organisation_id: d.account.organisation_id.clone(),
            bank_account_id: d.line.bank_account_id,
            holder_name: d.account.holder_name.clone(),
            account_number: d.account.number(keyring)?,
            amount: money::format(d.line.amount, &r.currency),
            reference: d.line.reference,
            status: d.line.status,
            bank_reference: d.line.bank_reference,
            paid_on: d.line.paid_on,
            return_reason: d.line.return_reason,
        });
    }
    Ok(PaymentRun {
        control_sum: money::format(r.control_sum, &r.currency),
        id: r.id,
        currency: r.currency,
        value_date: r.value_date,
        status: r.status,
        line_count: r.line_count,
        prepared_by: r.prepared_by,
        approved_by: r.approved_by,
        approved_at: r.approved_at.map(rfc3339),
        completed_by: r.completed_by,
        lines,
    })
}

/// The runs, newest first (finance).
pub fn list(conn: &mut DbConn, _who: &Finance, limit: i64) -> Result<Vec<RunRow>, ApiError> {
    Ok(payment_runs::table
        .order(payment_runs::id.desc())
        .limit(limit)
        .select(RunRow::as_select())
        .load(conn)?)
}

fn checked(req: &NewRun, today: NaiveDate) -> Result<String, ApiError> {
    let mut errors = Vec::new();
    let currency = collect(
        money::currency("currency", &req.currency).map_err(ApiError::from),
        &mut errors,
    )
    .unwrap_or_default();
    if req.value_date < today {
        errors.push(FieldError::new(
            "value_date",
            "in_past",
            "The value date is today or later.",
        ));
    }
    if req.lines.is_empty() || req.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            "invalid_length",
            "A run has 1 to 5000 lines.",
        ));
    }
    no_field_errors(errors)?;
    Ok(currency)
}

/// Checks one line: an approved tranche in the run's currency, paid to a usable account of
/// its grantee in that currency. Returns the tranche and its grant.
fn check_line(
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<FieldError>,
    i: usize,
    currency: &str,
    l: &NewLine,
) -> Result<Option<(TrancheRow, GrantRow)>, ApiError> {
    let field = |f: &str| format!("lines[{i}].{f}");
    let t = match tranche::by_id(ctx.conn, &l.disbursement_id) {
        Ok(t) => t,
        Err(ApiError::NotFound) => {
            errors.push(FieldError::new(
                field("disbursement_id"),
                "unknown",
                "No tranche has this id.",
            ));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let g = grant::by_id(ctx.conn, &t.grant_id)?;
    if t.status != TrancheStatus::Approved {
        errors.push(FieldError::new(
            field("disbursement_id"),
            "not_approved",
            format!("The tranche is {}; a run pays approved tranches.", t.status),
        ));
    }
    if g.currency != currency {
        errors.push(FieldError::new(
            field("disbursement_id"),
            "currency_mismatch",
            format!(
                "The tranche is in {}; the run is in {currency}.",
                g.currency
            ),
        ));
    }
    match accounts::find(ctx.conn, &l.bank_account_id)?
        .filter(|a| a.organisation_id == g.grantee_organisation_id)
    {
        None => errors.push(FieldError::new(
            field("bank_account_id"),
            "unknown",
            "The grantee has no bank account with this id.",
        )),
        Some(a) if a.currency != currency => errors.push(FieldError::new(
            field("bank_account_id"),
            "currency_mismatch",
            format!(
                "The account is in {}; the run is in {currency}.",
                a.currency
            ),
        )),
        Some(a) if !a.usable_at(ctx.now) => {
            return Err(ApiError::Conflict {
                code: ConflictCode::AccountNotUsable,
                detail: format!(
                    "The account of line {} is {} and not usable yet; nothing is paid to it before its cooling-off period ends.",
                    i + 1,
                    a.status
                ),
            });
        }
        Some(_) => {}
    }
    Ok(Some((t, g)))
}

/// Inserts a line; a tranche already in an open line (this run's or another's) is a 409.
fn insert_line(ctx: &mut Ctx<'_>, line: &LineRow) -> Result<(), ApiError> {
    match diesel::insert_into(payment_run_lines::table)
        .values(line)
        .execute(ctx.conn)
    {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ApiError::Conflict {
                code: ConflictCode::AlreadyInRun,
                detail: format!(
                    "Tranche {} is already in an open payment run.",
                    line.disbursement_id
                ),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Prepares a run (finance). The other finance officers are asked to approve it.
pub fn prepare(
    conn: &mut DbConn,
    config: &Config,
    keyring: &crate::crypto::KeyRing,
    who: &Finance,
    meta: &RequestMeta,
    req: NewRun,
) -> Result<PaymentRun, ApiError> {
    let currency = checked(&req, config.clock.today())?;
    command::run(conn, config, who, meta, |ctx| {
        let mut errors = Vec::new();
        let mut found = Vec::new();
        for (i, l) in req.lines.iter().enumerate() {
            found.push(check_line(ctx, &mut errors, i, &currency, l)?);
        }
        no_field_errors(errors)?;
        let control_sum = found
            .iter()
            .flatten()
            .try_fold(0i64, |acc, (t, _)| acc.checked_add(t.amount))
            .ok_or_else(|| ApiError::field("lines", "too_large", "The run's sum is too large."))?;
        let run = RunRow {
            id: uuid::Uuid::now_v7().to_string(),
            currency: currency.clone(),
            value_date: req.value_date,
            status: RunStatus::Prepared,
            line_count: req.lines.len() as i32,
            control_sum,
            prepared_by: who.id.clone(),
            prepared_at: ctx.now,
            approved_by: None,
            approved_at: None,
            completed_by: None,
            completed_at: None,
        };
        diesel::insert_into(payment_runs::table)
            .values(&run)
            .execute(ctx.conn)?;
        for (i, (l, (t, g))) in req
            .lines
            .iter()
            .zip(found.into_iter().flatten())
            .enumerate()
        {
            let line = LineRow {
                id: uuid::Uuid::now_v7().to_string(),
                run_id: run.id.clone(),
                line_no: i as i32 + 1,
                disbursement_id: t.id.clone(),
                bank_account_id: l.bank_account_id.clone(),
                amount: t.amount,
                reference: format!("{} {}", g.reference, &t.id[t.id.len() - 8..]),
                status: LineStatus::Pending,
                bank_reference: None,
                paid_on: None,
                return_reason: None,
            };
            insert_line(ctx, &line)?;
        }
        let shown = show(ctx.conn, keyring, run.clone())?;
        ctx.audit("prepared", None, Some(&masked(shown.clone())))?;
        let mail = RunMail::of(ctx.config, &run);
        ctx.tell(
            Event::PaymentRunAwaitsApproval,
            &Parties::default(),
            &RunPendingMail(mail),
        )?;
        Ok(shown)
    })
}

/// The audit trail keeps the last four characters of account numbers, never the number.
fn masked(mut run: PaymentRun) -> PaymentRun {
    for l in &mut run.lines {
        let n = l.account_number.chars().count();
        l.account_number = format!(
            "****{}",
            l.account_number
                .chars()
                .skip(n.saturating_sub(4))
                .collect::<String>()
        );
    }
    run
}

/// Approves a prepared run: a finance officer other than its preparer (409 `self_approval`).
pub fn approve(
    conn: &mut DbConn,
    config: &Config,
    keyring: &crate::crypto::KeyRing,
    who: &Finance,
    meta: &RequestMeta,
    id: &str,
) -> Result<PaymentRun, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        let before = by_id(ctx.conn, id)?;
        if before.prepared_by == who.id {
            return Err(ApiError::Conflict {
                code: ConflictCode::SelfApproval,
                detail: "A payment run is approved by a finance officer other than its preparer."
                    .into(),
            });
        }
        let n = diesel::update(
            payment_runs::table
                .find(id)
                .filter(payment_runs::status.eq(RunStatus::Prepared))
                .filter(payment_runs::prepared_by.ne(&who.id)),
        )
        .set((
            payment_runs::status.eq(RunStatus::Approved),
            payment_runs::approved_by.eq(Some(&who.id)),
            payment_runs::approved_at.eq(Some(ctx.now)),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(invalid(before.status, "approved"));
        }
        audited_move(ctx, keyring, before, "approved")
    })
}

fn invalid(status: RunStatus, verb: &str) -> ApiError {
    ApiError::Conflict {
        code: ConflictCode::InvalidTransition,
        detail: format!("The payment run is {status}; it cannot be {verb}."),
    }
}

fn audited_move(
    ctx: &mut Ctx<'_>,
    keyring: &crate::crypto::KeyRing,
    before: RunRow,
    verb: &str,
) -> Result<PaymentRun, ApiError> {
    let after = by_id(ctx.conn, &before.id)?;
    let b = masked(show(ctx.conn, keyring, before)?);
    let a = show(ctx.conn, keyring, after)?;
    ctx.audit(verb, Some(&b), Some(&masked(a.clone())))?;
    Ok(a)
}

/// Records an approved run paid: each pending line's tranche is paid through the tranche's
/// own pay command (its rules, audit and email to the grantee), then the run is completed.
pub fn record(
    conn: &mut DbConn,
    config: &Config,
    keyring: &crate::crypto::KeyRing,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    body: RecordBody,
) -> Result<PaymentRun, ApiError> {
    let finance = Finance::try_from(who)?;
    let mut errors = Vec::new();
    let bank_reference = text_field(&mut errors, "bank_reference", &body.bank_reference, 1, 200);
    no_field_errors(errors)?;
    command::run(conn, config, &finance, meta, |ctx| {
        let before = by_id(ctx.conn, id)?;
        let n = diesel::update(
            payment_runs::table
                .find(id)
                .filter(payment_runs::status.eq(RunStatus::Approved)),
        )
        .set((
            payment_runs::status.eq(RunStatus::Completed),
            payment_runs::completed_by.eq(Some(&finance.id)),
            payment_runs::completed_at.eq(Some(ctx.now)),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(invalid(before.status, "recorded paid"));
        }
        for line in lines_of(ctx.conn, id)? {
            if line.status != LineStatus::Pending {
                continue;
            }
            let pay = PayBody {
                payment_reference: format!("{bank_reference} {}", line.reference),
                paid_on: body.paid_on,
                bank_account_id: line.bank_account_id.clone(),
            };
            tranche::command::run(
                ctx.conn,
                ctx.config,
                who,
                meta,
                &line.disbursement_id,
                TrancheCommand::Pay(pay),
            )?;
            diesel::update(
                payment_run_lines::table
                    .find(&line.id)
                    .filter(payment_run_lines::status.eq(LineStatus::Pending)),
            )
            .set((
                payment_run_lines::status.eq(LineStatus::Paid),
                payment_run_lines::bank_reference.eq(Some(&bank_reference)),
                payment_run_lines::paid_on.eq(Some(body.paid_on)),
            ))
            .execute(ctx.conn)?;
        }
        audited_move(ctx, keyring, before, "completed")
    })
}

/// A line the bank returned: the line is closed with the reason, its tranche is approved
/// again (a paid one gives its payment back to the grant and fund, keeping the commitment),
/// and the tranche's approvers and finance are emailed.
#[expect(
    clippy::too_many_arguments,
    reason = "a command on a line of a run, with its reason"
)]
pub fn return_line(
    conn: &mut DbConn,
    config: &Config,
    keyring: &crate::crypto::KeyRing,
    who: &Finance,
    meta: &RequestMeta,
    run_id: &str,
    line_id: &str,
    reason: &str,
) -> Result<PaymentRun, ApiError> {
    let mut errors = Vec::new();
    let reason = text_field(&mut errors, "reason", reason, 1, 2000);
    no_field_errors(errors)?;
    command::run(conn, config, who, meta, |ctx| {
        let run = by_id(ctx.conn, run_id)?;
        let line = lines_of(ctx.conn, run_id)?
            .into_iter()
            .find(|l| l.id == line_id)
            .ok_or(ApiError::NotFound)?;
        if run.status == RunStatus::Prepared || line.status == LineStatus::Returned {
            return Err(ApiError::Conflict {
                code: ConflictCode::InvalidTransition,
                detail: format!(
                    "The run is {} and the line {}; only a line of an approved run is returned.",
                    run.status, line.status
                ),
            });
        }
        let n = diesel::update(
            payment_run_lines::table
                .find(line_id)
                .filter(payment_run_lines::status.eq(line.status)),
        )
        .set((
            payment_run_lines::status.eq(LineStatus::Returned),
            payment_run_lines::return_reason.eq(Some(&reason)),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::ConcurrentUpdate,
                detail: "The line changed at the same time; retry.".into(),
            });
        }
        let (t, g) = reapprove(ctx, &line, &reason)?;
        let mail = ReturnedMail {
            amount: money::for_people(line.amount, &run.currency),
            grant_reference: g.reference.clone(),
            grantee_name: grantee_name(ctx.conn, &g)?,
            reason: reason.clone(),
            run_link: crate::notify::links::payment_run(ctx.config, run_id),
        };
        let parties = Parties {
            tranche_approvers: [t.approver_1.clone(), t.approver_2.clone()]
                .into_iter()
                .flatten()
                .collect(),
            ..Parties::default()
        };
        ctx.tell(Event::PaymentReturned, &parties, &mail)?;
        let after = by_id(ctx.conn, run_id)?;
        show(ctx.conn, keyring, after)
    })
}

fn grantee_name(conn: &mut DbConn, g: &GrantRow) -> Result<String, ApiError> {
    use crate::db::schema::organisations;
    Ok(organisations::table
        .find(&g.grantee_organisation_id)
        .select(organisations::name)
        .first(conn)?)
}

/// Puts a returned line's tranche back to approved with the reason (audited).
fn reapprove(
    ctx: &mut Ctx<'_>,
    line: &LineRow,
    reason: &str,
) -> Result<(TrancheRow, GrantRow), ApiError> {
    let before = tranche::by_id(ctx.conn, &line.disbursement_id)?;
    let g = grant::by_id(ctx.conn, &before.grant_id)?;
    if before.status == TrancheStatus::Paid {
        let n = diesel::update(
            disbursements::table
                .find(&before.id)
                .filter(disbursements::status.eq(TrancheStatus::Paid)),
        )
        .set((
            disbursements::status.eq(TrancheStatus::Approved),
            disbursements::payment_reference.eq(None::<String>),
            disbursements::paid_on.eq(None::<NaiveDate>),
            disbursements::paid_by.eq(None::<String>),
            disbursements::paid_at.eq(None::<NaiveDateTime>),
            disbursements::bank_account_id.eq(None::<String>),
        ))
        .execute(ctx.conn)?;
        if n == 1 {
            // The payment goes back; the amount stays committed to the grant.
            budget::reverse(ctx, &g, before.amount)?;
            budget::commit_in_grant(ctx, &g.id, before.amount)?;
            ctx.publish(command::DomainEvent::GrantUpdated, &g.id)?;
            ctx.publish(command::DomainEvent::FundUpdated, &g.fund_id)?;
        }
    }
    diesel::update(disbursements::table.find(&before.id))
        .set((
            disbursements::decision_reason.eq(Some(reason)),
            disbursements::updated_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    let after = tranche::by_id(ctx.conn, &before.id)?;
    ctx.audit(
        "returned",
        Some(&Tranche::from_row(before, &g.currency)),
        Some(&Tranche::from_row(after.clone(), &g.currency)),
    )?;
    Ok((after, g))
}

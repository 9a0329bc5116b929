//! Requesting and moving tranches. Every move is a conditional UPDATE on the tranche's
//! status, so of two concurrent commands exactly one wins; amounts move on the grant (and
//! fund) through `budget` in the same transaction.

use diesel::prelude::*;

use super::{
    NewTranche, PayBody, Tranche, TrancheCommand, TrancheFacts, TrancheMove, TrancheRow,
    TrancheStatus, by_id, transition,
};
use crate::auth::caller::{Finance, GrantStaff, OrgMember};
use crate::auth::principal::{RequestMeta, UserPrincipal};
use crate::auth::{Principal, Role};
use crate::command::{self, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{disbursements, grant_reports, grants};
use crate::error::no_field_errors;
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::grants::access::{self, Reader};
use crate::grants::budget;
use crate::grants::check::text_field;
use crate::grants::fx;
use crate::grants::grant::{self, GrantRow, GrantStatus};
use crate::grants::mails::{
    self, TrancheApprovedMail, TrancheCancelledMail, TrancheMail, TranchePaidMail,
    TrancheRejectedMail, TrancheRequestedMail, TrancheReversedMail, TrancheSecondApprovalMail,
    TrancheWithdrawnMail,
};
use crate::grants::report::ReportStatus;
use crate::money;
use crate::notify::matrix::Event;

/// Approvals a tranche of `amount` in `currency` needs on its own: two when it is above
/// `SECOND_APPROVAL_THRESHOLD` in the base currency, or when it cannot be converted.
pub fn approvals_required(
    conn: &mut DbConn,
    config: &Config,
    currency: &str,
    amount: i64,
) -> Result<i32, ApiError> {
    Ok(match fx::to_base(conn, config, amount, currency)? {
        Some(v) if v <= config.second_approval_threshold => 1,
        _ => 2,
    })
}

/// Locks a grant's row for the transaction (a no-op UPDATE, portable to both backends). A
/// rule that sums other rows of the grant (the split window, what is left uncommitted) reads
/// them after this, so under PostgreSQL's READ COMMITTED a concurrent command waits here and
/// then sees what the one before it committed; SQLite's write transactions are serial anyway.
fn lock_grant(conn: &mut DbConn, grant_id: &str) -> Result<(), ApiError> {
    diesel::update(grants::table.find(grant_id))
        .set(grants::updated_at.eq(grants::updated_at))
        .execute(conn)?;
    Ok(())
}

/// True when what `me` approved of this grant within the window, with `amount`, is above the
/// threshold in the base currency (so splitting a payment does not avoid a second approver).
/// The caller holds the grant's lock, so two approvals by one officer cannot both miss the
/// other.
fn window_exceeded(
    ctx: &mut Ctx<'_>,
    g: &GrantRow,
    me: &str,
    amount: i64,
) -> Result<bool, ApiError> {
    let since = ctx.now - chrono::Duration::days(ctx.config.second_approval_window_days);
    let mine: Vec<i64> = disbursements::table
        .filter(disbursements::grant_id.eq(&g.id))
        .filter(disbursements::status.eq_any([TrancheStatus::Approved, TrancheStatus::Paid]))
        .filter(
            disbursements::approver_1
                .eq(me)
                .and(disbursements::approved_1_at.ge(since))
                .or(disbursements::approver_2
                    .eq(me)
                    .and(disbursements::approved_2_at.ge(since))),
        )
        .select(disbursements::amount)
        .load(ctx.conn)?;
    let total = mine.iter().try_fold(amount, |acc, x| acc.checked_add(*x));
    let in_base = match total {
        Some(t) => fx::to_base(ctx.conn, ctx.config, t, &g.currency)?,
        None => None,
    };
    Ok(in_base.is_none_or(|v| v > ctx.config.second_approval_threshold))
}

/// 409 `grant_exhausted` when `amount` is above what the grant has not committed nor been
/// asked for yet. The grant row is locked first, so two requests cannot both take the rest.
fn check_uncommitted(ctx: &mut Ctx<'_>, g: &GrantRow, amount: i64) -> Result<(), ApiError> {
    lock_grant(ctx.conn, &g.id)?;
    let g = grant::by_id(ctx.conn, &g.id)?;
    let pending: Vec<i64> = disbursements::table
        .filter(disbursements::grant_id.eq(&g.id))
        .filter(disbursements::status.eq(TrancheStatus::Requested))
        .select(disbursements::amount)
        .load(ctx.conn)?;
    let left = g.amount - g.committed - pending.iter().sum::<i64>();
    if amount > left {
        return Err(ApiError::Conflict {
            code: ConflictCode::GrantExhausted,
            detail: format!(
                "The grant has {} {cur} left to request (amount {} minus committed {} minus \
                 requested {}); this tranche asks for {} {cur}.",
                money::format(left.max(0), &g.currency),
                money::format(g.amount, &g.currency),
                money::format(g.committed, &g.currency),
                money::format(pending.iter().sum::<i64>(), &g.currency),
                money::format(amount, &g.currency),
                cur = g.currency,
            ),
        });
    }
    Ok(())
}

/// Checks a tranche request against its grant: the amount (at most the grant's), the note,
/// and the report it waits for (one of this grant's); returns the amount and the note.
fn checked_request(
    conn: &mut DbConn,
    g: &GrantRow,
    req: &NewTranche,
) -> Result<(i64, String), ApiError> {
    let mut errors = Vec::new();
    let amount =
        match money::parse_amount("amount", &req.amount, &g.currency).map_err(ApiError::from) {
            Ok(a) if a > g.amount => {
                errors.push(FieldError::new(
                    "amount",
                    "exceeds_grant",
                    "The tranche is larger than the grant.",
                ));
                0
            }
            Ok(a) => a,
            Err(ApiError::Validation(e)) => {
                errors.extend(e);
                0
            }
            Err(e) => return Err(e),
        };
    let note = text_field(&mut errors, "note", &req.note, 0, 2000);
    if let Some(r) = &req.requires_report_id {
        let belongs: i64 = grant_reports::table
            .filter(grant_reports::id.eq(r))
            .filter(grant_reports::grant_id.eq(&g.id))
            .count()
            .get_result(conn)?;
        if belongs == 0 {
            errors.push(FieldError::new(
                "requires_report_id",
                "unknown",
                "No report of this grant has this id.",
            ));
        }
    }
    no_field_errors(errors)?;
    Ok((amount, note))
}

/// A new tranche as requested: waiting for its approvals, nothing decided or paid yet.
fn requested_row(
    g: &GrantRow,
    amount: i64,
    note: String,
    req: &NewTranche,
    me_id: &str,
    approvals_required: i32,
    now: chrono::NaiveDateTime,
) -> TrancheRow {
    TrancheRow {
        id: uuid::Uuid::now_v7().to_string(),
        grant_id: g.id.clone(),
        amount,
        planned_date: req.planned_date,
        note,
        requires_report_id: req.requires_report_id.clone(),
        status: TrancheStatus::Requested,
        approvals_required,
        requested_by: me_id.to_string(),
        approver_1: None,
        approved_1_at: None,
        approver_2: None,
        approved_2_at: None,
        decided_by: None,
        decision_reason: None,
        payment_reference: None,
        paid_on: None,
        paid_by: None,
        paid_at: None,
        reversal_reason: None,
        reversed_by: None,
        reversed_at: None,
        created_at: now,
        updated_at: now,
        bank_account_id: None,
    }
}

/// Requests a tranche: a grant officer, or a member user of the grantee organisation (a member
/// of another organisation gets 404). The grant must be active.
pub fn request(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    grant_id: &str,
    req: NewTranche,
) -> Result<TrancheRow, ApiError> {
    let me = match who {
        Principal::User(u) if matches!(u.role, Role::Admin | Role::GrantOfficer | Role::Member) => {
            u.clone()
        }
        _ => {
            return Err(ApiError::Forbidden(
                "Tranches are requested by grant officers or the grantee's members.".into(),
            ));
        }
    };
    let reader = Reader::try_from(who)?;
    let member = match me.role {
        Role::Member => Some(OrgMember::try_from(who)?),
        _ => None,
    };
    command::run(conn, config, &me, meta, |ctx| {
        if let Some(m) = &member {
            m.require_in_good_standing(ctx.conn)?;
        }
        let g = access::visible_grant(ctx.conn, &reader, grant_id)?;
        if g.status != GrantStatus::Active {
            return Err(ApiError::Conflict {
                code: ConflictCode::GrantNotActive,
                detail: format!("The grant is {}; tranches need an active grant.", g.status),
            });
        }
        let (amount, note) = checked_request(ctx.conn, &g, &req)?;
        check_uncommitted(ctx, &g, amount)?;
        let approvals_required = approvals_required(ctx.conn, ctx.config, &g.currency, amount)?;
        let row = requested_row(&g, amount, note, &req, &me.id, approvals_required, ctx.now);
        diesel::insert_into(disbursements::table)
            .values(&row)
            .execute(ctx.conn)?;
        ctx.audit(
            TrancheStatus::Requested.as_str(),
            None,
            Some(&Tranche::from_row(row.clone(), &g.currency)),
        )?;
        let mail = TrancheMail::of(ctx.conn, ctx.config, &g, &row)?;
        let parties = mails::tranche_parties(&g, &row);
        ctx.tell(
            Event::TrancheRequested,
            &parties,
            &TrancheRequestedMail(mail),
        )?;
        Ok(row)
    })
}

/// Checks the text of a command's body.
fn checked(command: TrancheCommand, today: chrono::NaiveDate) -> Result<TrancheCommand, ApiError> {
    let mut errors = Vec::new();
    let command = match command {
        TrancheCommand::Reject(r) => {
            TrancheCommand::Reject(text_field(&mut errors, "reason", &r, 1, 2000))
        }
        TrancheCommand::Reverse(r) => {
            TrancheCommand::Reverse(text_field(&mut errors, "reason", &r, 1, 2000))
        }
        TrancheCommand::Cancel(r) => {
            TrancheCommand::Cancel(text_field(&mut errors, "reason", &r, 1, 2000))
        }
        TrancheCommand::Pay(p) => TrancheCommand::Pay(PayBody {
            paid_on: paid_on_not_ahead(&mut errors, p.paid_on, today),
            payment_reference: text_field(
                &mut errors,
                "payment_reference",
                &p.payment_reference,
                1,
                200,
            ),
            bank_account_id: payee_named(&mut errors, p.bank_account_id),
        }),
        other => other,
    };
    no_field_errors(errors)?;
    Ok(command)
}

/// A payment names the account it went to: blank is a 400 naming `bank_account_id`.
fn payee_named(errors: &mut Vec<FieldError>, id: String) -> String {
    let id = id.trim().to_string();
    if id.is_empty() {
        errors.push(FieldError::new(
            "bank_account_id",
            "required",
            "Name the grantee's bank account the tranche is paid to.",
        ));
    }
    id
}

/// A payment is recorded when it happened: a date more than a day ahead (a day allows for
/// time zones) is a 400 naming `paid_on`, so the exports never publish future payments.
fn paid_on_not_ahead(
    errors: &mut Vec<FieldError>,
    paid_on: chrono::NaiveDate,
    today: chrono::NaiveDate,
) -> chrono::NaiveDate {
    if paid_on > today + chrono::Days::new(1) {
        errors.push(FieldError::new(
            "paid_on",
            "in_future",
            "A payment date may be at most one day ahead of today.",
        ));
    }
    paid_on
}

/// Role checks first, here in the command, by the typed caller each move needs: 403 for the
/// action, whatever the tranche.
fn mover(who: &Principal, command: &TrancheCommand) -> Result<UserPrincipal, ApiError> {
    Ok(match command {
        TrancheCommand::Pay(_) | TrancheCommand::Reverse(_) => {
            Finance::try_from(who)?.user().clone()
        }
        TrancheCommand::Approve | TrancheCommand::Reject(_) => {
            GrantStaff::try_from(who)?.user().clone()
        }
        TrancheCommand::Cancel(_) => who
            .require_role(&[Role::Admin, Role::GrantOfficer, Role::Member])?
            .clone(),
    })
}

/// Moves a tranche: approve and reject (grant staff), cancel (grant staff, or the member who
/// requested it), pay and reverse (finance).
pub fn run(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    command: TrancheCommand,
) -> Result<TrancheRow, ApiError> {
    let me = mover(who, &command)?;
    let command = checked(command, config.clock.today())?;
    let reader = Reader::try_from(who)?;
    command::run(conn, config, &me, meta, |ctx| {
        // Lock the grant first (every tranche command takes grant → tranche → fund), then
        // read the tranche and its grant as committed by whoever held the lock before.
        let (_, g) = access::visible_tranche(ctx.conn, &reader, id)?;
        lock_grant(ctx.conn, &g.id)?;
        let (before, g) = access::visible_tranche(ctx.conn, &reader, id)?;
        if me.role == Role::Member && before.requested_by != me.id {
            return Err(ApiError::Forbidden(
                "Members may cancel only the tranches they requested.".into(),
            ));
        }
        let required_report = match &before.requires_report_id {
            Some(r) if matches!(command, TrancheCommand::Approve) => Some(
                grant_reports::table
                    .find(r)
                    .select(grant_reports::status)
                    .first::<ReportStatus>(ctx.conn)?,
            ),
            _ => None,
        };
        let approvals_required = if matches!(command, TrancheCommand::Approve)
            && before.approvals_required < 2
            && window_exceeded(ctx, &g, &me.id, before.amount)?
        {
            2
        } else {
            before.approvals_required
        };
        let facts = TrancheFacts {
            actor: me.id.clone(),
            requested_by: before.requested_by.clone(),
            approvals_required,
            approver_1: before.approver_1.clone(),
            required_report,
        };
        let step = transition(before.status, &command, &facts)?;
        let moved = apply(ctx, &before, &g, &command, step, &me.id)?;
        if moved == 0 {
            return Err(refusal_after_race(
                ctx.conn, &before, &command, facts, &me.id,
            )?);
        }
        let after = by_id(ctx.conn, id)?;
        ctx.audit(
            step.verb(),
            Some(&Tranche::from_row(before, &g.currency)),
            Some(&Tranche::from_row(after.clone(), &g.currency)),
        )?;
        // Partner apps never see a tranche; a payment or its reversal shows in the grant's
        // `amount_disbursed` and the fund's `disbursed`.
        if matches!(step, TrancheMove::Paid | TrancheMove::Reversed) {
            ctx.publish(command::DomainEvent::GrantUpdated, &g.id)?;
            ctx.publish(command::DomainEvent::FundUpdated, &g.fund_id)?;
        }
        tell(ctx, &g, &after, step)?;
        Ok(after)
    })
}

/// Why a move the table allowed changed nothing: a concurrent command moved the tranche
/// first; the refusal says what it is now.
fn refusal_after_race(
    conn: &mut DbConn,
    before: &TrancheRow,
    command: &TrancheCommand,
    facts: TrancheFacts,
    me: &str,
) -> Result<ApiError, ApiError> {
    let now = by_id(conn, &before.id)?;
    if matches!(command, TrancheCommand::Approve) && now.approver_1.as_deref() == Some(me) {
        return Ok(ApiError::Conflict {
            code: ConflictCode::SameApprover,
            detail: "This tranche needs a second approval by another officer.".into(),
        });
    }
    if now.status == before.status {
        return Ok(ApiError::Conflict {
            code: ConflictCode::ConcurrentUpdate,
            detail: "Another decision on this tranche landed at the same time; retry.".into(),
        });
    }
    let facts = TrancheFacts {
        approver_1: now.approver_1.clone(),
        ..facts
    };
    transition(now.status, command, &facts)?;
    Ok(ApiError::Conflict {
        code: ConflictCode::ConcurrentUpdate,
        detail: "Another decision on this tranche landed at the same time; retry.".into(),
    })
}

/// The tranche as it was read: the filter of every move's UPDATE, so a concurrent move makes
/// it change nothing.
fn unmoved(
    before: &TrancheRow,
) -> diesel::dsl::Filter<
    diesel::dsl::Find<disbursements::table, &String>,
    diesel::dsl::Eq<disbursements::status, TrancheStatus>,
> {
    disbursements::table
        .find(&before.id)
        .filter(disbursements::status.eq(before.status))
}

/// Applies a move with its conditional UPDATE; returns the rows moved (0: a concurrent
/// command won).
fn apply(
    ctx: &mut Ctx<'_>,
    before: &TrancheRow,
    g: &GrantRow,
    command: &TrancheCommand,
    step: TrancheMove,
    me: &str,
) -> Result<usize, ApiError> {
    let t = ctx.now;
    let base = unmoved(before);
    let n = match (step, command) {
        (TrancheMove::FirstApproval | TrancheMove::FinalApproval, _) => {
            apply_approval(ctx, before, g, step, me)?
        }
        (TrancheMove::Rejected, TrancheCommand::Reject(reason)) => diesel::update(base)
            .set((
                disbursements::status.eq(TrancheStatus::Rejected),
                disbursements::decided_by.eq(Some(me)),
                disbursements::decision_reason.eq(Some(reason)),
                disbursements::updated_at.eq(t),
            ))
            .execute(ctx.conn)?,
        (TrancheMove::Cancelled { release }, TrancheCommand::Cancel(reason)) => {
            let n = diesel::update(base)
                .set((
                    disbursements::status.eq(TrancheStatus::Cancelled),
                    disbursements::decided_by.eq(Some(me)),
                    disbursements::decision_reason.eq(Some(reason)),
                    disbursements::updated_at.eq(t),
                ))
                .execute(ctx.conn)?;
            if n == 1 && release {
                budget::release_in_grant(ctx, g, before.amount)?;
            }
            n
        }
        (TrancheMove::Paid, TrancheCommand::Pay(p)) => {
            payee_account(ctx, g, &p.bank_account_id)?;
            let n = diesel::update(base)
                .set((
                    disbursements::status.eq(TrancheStatus::Paid),
                    disbursements::payment_reference.eq(Some(&p.payment_reference)),
                    disbursements::paid_on.eq(Some(p.paid_on)),
                    disbursements::paid_by.eq(Some(me)),
                    disbursements::paid_at.eq(Some(t)),
                    disbursements::bank_account_id.eq(Some(&p.bank_account_id)),
                    disbursements::updated_at.eq(t),
                ))
                .execute(ctx.conn)?;
            if n == 1 {
                budget::pay(ctx, g, before.amount)?;
            }
            n
        }
        (TrancheMove::Reversed, TrancheCommand::Reverse(reason)) => {
            let n = diesel::update(base)
                .set((
                    disbursements::status.eq(TrancheStatus::Reversed),
                    disbursements::reversal_reason.eq(Some(reason)),
                    disbursements::reversed_by.eq(Some(me)),
                    disbursements::reversed_at.eq(Some(t)),
                    disbursements::updated_at.eq(t),
                ))
                .execute(ctx.conn)?;
            if n == 1 {
                budget::reverse(ctx, g, before.amount)?;
            }
            n
        }
        _ => {
            return Err(ApiError::internal(
                "tranche move does not match its command",
            ));
        }
    };
    Ok(n)
}

/// A tranche is paid only to a bank account of its grantee, in the grant's currency, that a
/// second person confirmed and whose cooling-off period has passed (`payments::accounts` keeps
/// the accounts): 400 naming `bank_account_id` for another organisation's or an unknown
/// account, 409 otherwise.
fn payee_account(ctx: &mut Ctx<'_>, g: &GrantRow, id: &str) -> Result<(), ApiError> {
    use crate::db::schema::bank_accounts as a;
    let found: Option<(String, String, Option<chrono::NaiveDateTime>)> = a::table
        .find(id)
        .filter(a::organisation_id.eq(&g.grantee_organisation_id))
        .select((a::status, a::currency, a::usable_from))
        .first(ctx.conn)
        .optional()?;
    let refused = |detail: String| ApiError::Conflict {
        code: ConflictCode::AccountNotUsable,
        detail,
    };
    match found {
        None => Err(ApiError::field(
            "bank_account_id",
            "unknown",
            "The grantee has no bank account with this id.",
        )),
        Some((_, currency, _)) if currency != g.currency => Err(refused(format!(
            "The account is in {currency}; this tranche is paid in {}.",
            g.currency
        ))),
        Some((status, _, Some(from))) if status == "confirmed" && from <= ctx.now => Ok(()),
        Some((status, _, from)) => Err(refused(match from.filter(|_| status == "confirmed") {
            Some(f) => format!(
                "The account is in its cooling-off period until {}; nothing is paid to it before.",
                crate::kit::rfc3339(f)
            ),
            None => format!("The account is {status}; only a confirmed account is paid to."),
        })),
    }
}

/// Applies an approval: the first of two records its approver; the final one approves the
/// tranche and commits its amount in the grant.
fn apply_approval(
    ctx: &mut Ctx<'_>,
    before: &TrancheRow,
    g: &GrantRow,
    step: TrancheMove,
    me: &str,
) -> Result<usize, ApiError> {
    let t = ctx.now;
    let base = unmoved(before);
    Ok(match step {
        TrancheMove::FirstApproval => {
            diesel::update(base.filter(disbursements::approver_1.is_null()))
                .set((
                    disbursements::approvals_required.eq(2),
                    disbursements::approver_1.eq(Some(me)),
                    disbursements::approved_1_at.eq(Some(t)),
                    disbursements::updated_at.eq(t),
                ))
                .execute(ctx.conn)?
        }
        _ => {
            let n = if before.approver_1.is_some() {
                diesel::update(base.filter(disbursements::approver_1.eq(before.approver_1.clone())))
                    .set((
                        disbursements::status.eq(TrancheStatus::Approved),
                        disbursements::approver_2.eq(Some(me)),
                        disbursements::approved_2_at.eq(Some(t)),
                        disbursements::updated_at.eq(t),
                    ))
                    .execute(ctx.conn)?
            } else {
                diesel::update(base)
                    .set((
                        disbursements::status.eq(TrancheStatus::Approved),
                        disbursements::approver_1.eq(Some(me)),
                        disbursements::approved_1_at.eq(Some(t)),
                        disbursements::updated_at.eq(t),
                    ))
                    .execute(ctx.conn)?
            };
            if n == 1 {
                budget::commit_in_grant(ctx, &g.id, before.amount)?;
            }
            n
        }
    })
}

fn tell(
    ctx: &mut Ctx<'_>,
    g: &GrantRow,
    after: &TrancheRow,
    step: TrancheMove,
) -> Result<(), ApiError> {
    let mail = TrancheMail::of(ctx.conn, ctx.config, g, after)?;
    let parties = mails::tranche_parties(g, after);
    match step {
        TrancheMove::FirstApproval => ctx.tell(
            Event::TrancheAwaitsSecondApproval,
            &parties,
            &TrancheSecondApprovalMail(mail),
        ),
        TrancheMove::FinalApproval => {
            ctx.tell(Event::TrancheApproved, &parties, &TrancheApprovedMail(mail))
        }
        TrancheMove::Rejected => {
            ctx.tell(Event::TrancheRejected, &parties, &TrancheRejectedMail(mail))
        }
        TrancheMove::Cancelled { release } => {
            if release {
                // Finance was told to pay it: it must not.
                let to_finance = TrancheMail::of(ctx.conn, ctx.config, g, after)?;
                ctx.tell(
                    Event::ApprovedTrancheCancelled,
                    &parties,
                    &TrancheWithdrawnMail(to_finance),
                )?;
            }
            ctx.tell(
                Event::TrancheCancelled,
                &parties,
                &TrancheCancelledMail(mail),
            )
        }
        TrancheMove::Paid => ctx.tell(Event::TranchePaid, &parties, &TranchePaidMail(mail)),
        TrancheMove::Reversed => {
            ctx.tell(Event::TrancheReversed, &parties, &TrancheReversedMail(mail))
        }
    }?;
    Ok(())
}

/// A grant that ends takes its still-requested tranches with it (they could never be
/// approved), each with its own audit event.
pub fn cancel_waiting(ctx: &mut Ctx<'_>, g: &GrantRow) -> Result<(), ApiError> {
    let waiting: Vec<TrancheRow> = disbursements::table
        .filter(disbursements::grant_id.eq(&g.id))
        .filter(disbursements::status.eq(TrancheStatus::Requested))
        .select(TrancheRow::as_select())
        .load(ctx.conn)?;
    for d in waiting {
        let n = diesel::update(
            disbursements::table
                .find(&d.id)
                .filter(disbursements::status.eq(TrancheStatus::Requested)),
        )
        .set((
            disbursements::status.eq(TrancheStatus::Cancelled),
            disbursements::decision_reason.eq(Some("The grant ended.")),
            disbursements::updated_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
        if n == 1 {
            let after = by_id(ctx.conn, &d.id)?;
            ctx.audit(
                TrancheStatus::Cancelled.as_str(),
                Some(&Tranche::from_row(d, &g.currency)),
                Some(&Tranche::from_row(after.clone(), &g.currency)),
            )?;
            let mail = TrancheMail::of(ctx.conn, ctx.config, g, &after)?;
            let parties = mails::tranche_parties(g, &after);
            ctx.tell(
                Event::TrancheCancelled,
                &parties,
                &TrancheCancelledMail(mail),
            )?;
        }
    }
    Ok(())
}

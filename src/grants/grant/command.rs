//! Moving a grant through its life: the transition table decides, one conditional UPDATE
//! (with the `from` status in its WHERE clause) applies, `budget` moves the fund's counter,
//! and the audit event and emails share the transaction.

use diesel::prelude::*;

use super::contributors::{self, Contribution};
use super::{Grant, GrantCommand, GrantFacts, GrantRow, GrantStatus, by_id, transition};
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::grants;
use crate::error::ApiError;
use crate::grants::check::{self, Refusal};
use crate::grants::mails::{
    self, GrantActivatedMail, GrantApprovedMail, GrantCancelledMail, GrantClosedMail, GrantMail,
    GrantRejectedMail, GrantSubmittedMail,
};
use crate::grants::{budget, budget_lines, tranche};
use crate::notify::matrix::Event;

/// Moves a grant through its life. Approval is by a grant officer who did not write it and
/// counts the grant (in fund currency) against the fund in one conditional UPDATE.
pub fn run(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    id: &str,
    command: GrantCommand,
    reason: Option<String>,
) -> Result<GrantRow, ApiError> {
    let reason = reason.as_deref().map(check::reason).transpose()?;
    command::run(conn, config, who, meta, |ctx| {
        let before = by_id(ctx.conn, id)?;
        let facts = GrantFacts {
            approver_contributed: match command {
                GrantCommand::Approve => contributors::why_not(ctx.conn, &before, &who.id)?,
                _ => None,
            },
            has_commitments: before.committed > 0,
            has_unpaid: before.committed != before.paid,
        };
        let to = transition(before.status, command, &facts)?;
        if command == GrantCommand::Submit {
            budget_lines::require_balanced(ctx.conn, &before)?;
        }
        // The status filter makes the move itself the guard against a concurrent command;
        // the counters in the filter re-check the facts at the moment of the move.
        let target = grants::table
            .find(id)
            .filter(grants::status.eq(before.status));
        let moved_to = (
            grants::status.eq(to),
            grants::updated_at.eq(ctx.now),
            grants::version.eq(grants::version + 1),
        );
        let moved = match command {
            GrantCommand::Cancel => diesel::update(target.filter(grants::committed.eq(0)))
                .set(moved_to)
                .execute(ctx.conn)?,
            GrantCommand::Close => {
                diesel::update(target.filter(grants::committed.eq(grants::paid)))
                    .set(moved_to)
                    .execute(ctx.conn)?
            }
            _ => diesel::update(target).set(moved_to).execute(ctx.conn)?,
        };
        if moved == 0 {
            return Err(refusal_after_race(ctx.conn, id, before.status, command)?);
        }
        apply(ctx, &before, command, &reason, &who.id)?;
        let after = by_id(ctx.conn, id)?;
        ctx.audit(
            to.as_str(),
            Some(&Grant::from(before.clone())),
            Some(&Grant::from(after.clone())),
        )?;
        let event = partner_event(before.status, after.status);
        if let Some(event) = event {
            ctx.publish(event, &after.id)?;
        }
        tell(ctx, &after, command, reason)?;
        Ok(after)
    })
}

/// Why a move that the table allowed changed nothing: another command moved the grant
/// first, so the refusal is the one its state now gives.
fn refusal_after_race(
    conn: &mut DbConn,
    id: &str,
    from: GrantStatus,
    command: GrantCommand,
) -> Result<ApiError, ApiError> {
    let now = by_id(conn, id)?;
    let facts = GrantFacts {
        approver_contributed: None,
        has_commitments: now.committed > 0,
        has_unpaid: now.committed != now.paid,
    };
    Ok(match transition(now.status, command, &facts) {
        Err(r) => r.into(),
        Ok(_) => Refusal::invalid(
            "grant",
            now.status.as_str(),
            command.verb(),
            &[from.as_str()],
        )
        .into(),
    })
}

/// What partner apps hear of a move: they hear of published grants only, and approval
/// publishes one.
fn partner_event(from: GrantStatus, to: GrantStatus) -> Option<command::DomainEvent> {
    let was_public = GrantStatus::PUBLISHED.contains(&from);
    match to {
        GrantStatus::Approved if !was_public => Some(command::DomainEvent::GrantPublished),
        GrantStatus::Closed if was_public => Some(command::DomainEvent::GrantClosed),
        GrantStatus::Cancelled if was_public => Some(command::DomainEvent::GrantCancelled),
        s if was_public && GrantStatus::PUBLISHED.contains(&s) => {
            Some(command::DomainEvent::GrantUpdated)
        }
        _ => None,
    }
}

/// What a move does besides the status: dates, the approver, the reason, the fund's counter
/// and the tranches left waiting.
fn apply(
    ctx: &mut Ctx<'_>,
    before: &GrantRow,
    command: GrantCommand,
    reason: &Option<String>,
    me: &str,
) -> Result<(), ApiError> {
    let row = grants::table.find(&before.id);
    match command {
        GrantCommand::Submit => {
            diesel::update(row)
                .set(grants::submitted_at.eq(Some(ctx.now)))
                .execute(ctx.conn)?;
            contributors::record(ctx, &before.id, me, Contribution::Submitted)?;
        }
        GrantCommand::Approve => {
            diesel::update(row)
                .set((
                    grants::approved_by.eq(Some(me)),
                    grants::approved_at.eq(Some(ctx.now)),
                ))
                .execute(ctx.conn)?;
            budget::reserve_in_fund(ctx, before)?;
        }
        GrantCommand::Reject | GrantCommand::Cancel => {
            diesel::update(row)
                .set(grants::decision_reason.eq(reason))
                .execute(ctx.conn)?;
            if command == GrantCommand::Cancel && before.status.holds_award() {
                budget::release_from_fund(ctx, before)?;
            }
        }
        // The business dates are columns, so exports never read them from audit actions.
        GrantCommand::Activate => {
            diesel::update(row)
                .set(grants::activated_at.eq(Some(ctx.now)))
                .execute(ctx.conn)?;
        }
        GrantCommand::Close => {
            diesel::update(row)
                .set(grants::closed_at.eq(Some(ctx.now)))
                .execute(ctx.conn)?;
        }
    }
    if matches!(command, GrantCommand::Cancel | GrantCommand::Close) {
        tranche::command::cancel_waiting(ctx, before)?;
    }
    Ok(())
}

fn tell(
    ctx: &mut Ctx<'_>,
    after: &GrantRow,
    command: GrantCommand,
    reason: Option<String>,
) -> Result<(), ApiError> {
    let parties = mails::parties(ctx.conn, after)?;
    let mail = GrantMail::of(ctx.conn, ctx.config, after, reason)?;
    match command {
        GrantCommand::Submit => {
            ctx.tell(Event::GrantSubmitted, &parties, &GrantSubmittedMail(mail))
        }
        GrantCommand::Approve => ctx.tell(Event::GrantApproved, &parties, &GrantApprovedMail(mail)),
        GrantCommand::Reject => ctx.tell(Event::GrantRejected, &parties, &GrantRejectedMail(mail)),
        GrantCommand::Activate => {
            ctx.tell(Event::GrantActivated, &parties, &GrantActivatedMail(mail))
        }
        GrantCommand::Cancel => {
            ctx.tell(Event::GrantCancelled, &parties, &GrantCancelledMail(mail))
        }
        GrantCommand::Close => ctx.tell(Event::GrantClosed, &parties, &GrantClosedMail(mail)),
    }?;
    Ok(())
}

//! Moving a grant through its life: the transition table decides, one conditional UPDATE
//! (with the `from` status in its WHERE clause) applies, `budget` moves the fund's counter,
//! and the audit event and emails share the transaction.

use diesel::prelude::*;
use serde::Serialize;

use super::contributors::{self, Contribution};
use super::{Grant, GrantCommand, GrantFacts, GrantRow, GrantStatus, by_id, transition};
use crate::auth::Role;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Ctx, DomainEvent, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::grants;
use crate::error::ApiError;
use crate::grants::check::{self, Refusal};
use crate::grants::notice::{self, GrantFacts as MailFacts};
use crate::grants::{budget, tranche};
use crate::notify::{Kind, Recipient};

/// Email to grant officers: a grant awaits approval.
#[derive(Debug, Serialize)]
pub struct GrantSubmittedMail {
    /// The grant.
    #[serde(flatten)]
    pub grant: MailFacts,
    /// Amount with currency.
    pub amount: String,
}

impl Message for GrantSubmittedMail {
    const KIND: Kind = Kind::GrantSubmitted;
}

/// Email to the author and the grantee: the grant is approved.
#[derive(Debug, Serialize)]
pub struct GrantApprovedMail {
    /// The grant.
    #[serde(flatten)]
    pub grant: MailFacts,
    /// Amount with currency.
    pub amount: String,
}

impl Message for GrantApprovedMail {
    const KIND: Kind = Kind::GrantApproved;
}

/// Email to the author and the grantee: the grant is rejected.
#[derive(Debug, Serialize)]
pub struct GrantRejectedMail {
    /// The grant.
    #[serde(flatten)]
    pub grant: MailFacts,
    /// Why.
    pub reason: Option<String>,
}

impl Message for GrantRejectedMail {
    const KIND: Kind = Kind::GrantRejected;
}

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
            let now = by_id(ctx.conn, id)?;
            let facts = GrantFacts {
                approver_contributed: None,
                has_commitments: now.committed > 0,
                has_unpaid: now.committed != now.paid,
            };
            return Err(match transition(now.status, command, &facts) {
                Err(r) => r.into(),
                Ok(_) => Refusal::invalid(
                    "grant",
                    now.status.as_str(),
                    command.verb(),
                    &[before.status.as_str()],
                )
                .into(),
            });
        }
        apply(ctx, &before, command, &reason, &who.id)?;
        let after = by_id(ctx.conn, id)?;
        ctx.audit(
            to.as_str(),
            Some(&Grant::from(before.clone())),
            Some(&Grant::from(after.clone())),
        )?;
        // Partner apps hear of published grants only: approval publishes one.
        let was_public = GrantStatus::PUBLISHED.contains(&before.status);
        let event = match after.status {
            GrantStatus::Approved if !was_public => Some("grant.published"),
            GrantStatus::Closed if was_public => Some("grant.closed"),
            GrantStatus::Cancelled if was_public => Some("grant.cancelled"),
            s if was_public && GrantStatus::PUBLISHED.contains(&s) => Some("grant.updated"),
            _ => None,
        };
        if let Some(name) = event {
            ctx.publish(DomainEvent {
                name,
                entity_id: after.id.clone(),
            })?;
        }
        tell(ctx, &after, command, reason)?;
        Ok(after)
    })
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
        GrantCommand::Activate | GrantCommand::Close => {}
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
    let facts = MailFacts::of(ctx.conn, ctx.config, after);
    let amount = notice::amount(after.amount, &after.currency);
    match command {
        GrantCommand::Submit => {
            let to = notice::staff(ctx.conn, Role::GrantOfficer)?;
            ctx.notify(
                &to,
                &GrantSubmittedMail {
                    grant: facts,
                    amount,
                },
            )?;
        }
        GrantCommand::Approve | GrantCommand::Reject => {
            let mut to: Vec<Recipient> = notice::user(ctx.conn, &after.created_by)?
                .into_iter()
                .collect();
            to.extend(notice::grantee_members(
                ctx.conn,
                &after.grantee_organisation_id,
            )?);
            if command == GrantCommand::Approve {
                ctx.notify(
                    &to,
                    &GrantApprovedMail {
                        grant: facts,
                        amount,
                    },
                )?;
            } else {
                ctx.notify(
                    &to,
                    &GrantRejectedMail {
                        grant: facts,
                        reason,
                    },
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

//! Tranches (the URL and audit trail call them disbursements): a payment requested on an
//! active grant, approved by one or two grant officers other than the requester, paid once by
//! finance and perhaps reversed. Its life is a pure transition table; `command` applies it.

pub mod command;
pub mod payee;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check::Refusal;
use super::report::ReportStatus;
use crate::command::Audited;
use crate::db::DbConn;
use crate::db::schema::disbursements;
use crate::error::{ApiError, ConflictCode};
use crate::kit::rfc3339;
use crate::money;

crate::text_enum! {
    /// A tranche's place in its life.
    pub enum TrancheStatus {
        /// Waiting for approval.
        Requested = "requested",
        /// Approved and committed against the grant; waiting for payment.
        Approved = "approved",
        /// Refused.
        Rejected = "rejected",
        /// Withdrawn (an approved amount is released).
        Cancelled = "cancelled",
        /// Paid by finance.
        Paid = "paid",
        /// Paid, then reversed.
        Reversed = "reversed",
    }
}

/// A command on a tranche.
#[derive(Debug, Clone)]
pub enum TrancheCommand {
    /// One approval (the final one commits the amount against the grant).
    Approve,
    /// requested → rejected.
    Reject(String),
    /// requested or approved → cancelled, with the reason (an approved amount is released).
    Cancel(String),
    /// approved → paid (finance only, exactly once).
    Pay(PayBody),
    /// paid → reversed (finance only); releases the amount.
    Reverse(String),
}

impl TrancheCommand {
    /// The verb, for messages.
    pub fn verb(&self) -> &'static str {
        match self {
            TrancheCommand::Approve => "approve",
            TrancheCommand::Reject(_) => "reject",
            TrancheCommand::Cancel(_) => "cancel",
            TrancheCommand::Pay(_) => "pay",
            TrancheCommand::Reverse(_) => "reverse",
        }
    }

    /// The statuses the command applies to.
    pub fn from(&self) -> &'static [TrancheStatus] {
        use TrancheStatus::*;
        match self {
            TrancheCommand::Approve | TrancheCommand::Reject(_) => &[Requested],
            TrancheCommand::Cancel(_) => &[Requested, Approved],
            TrancheCommand::Pay(_) => &[Approved],
            TrancheCommand::Reverse(_) => &[Paid],
        }
    }
}

/// What a command does to a tranche.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrancheMove {
    /// The first of two approvals: stays requested.
    FirstApproval,
    /// The last approval: requested → approved, committed against the grant.
    FinalApproval,
    /// requested → rejected.
    Rejected,
    /// → cancelled; `release` when an approved amount goes back to the grant.
    Cancelled {
        /// The amount was committed and is released.
        release: bool,
    },
    /// approved → paid.
    Paid,
    /// paid → reversed.
    Reversed,
}

impl TrancheMove {
    /// The status after the move.
    pub fn to(self) -> TrancheStatus {
        match self {
            TrancheMove::FirstApproval => TrancheStatus::Requested,
            TrancheMove::FinalApproval => TrancheStatus::Approved,
            TrancheMove::Rejected => TrancheStatus::Rejected,
            TrancheMove::Cancelled { .. } => TrancheStatus::Cancelled,
            TrancheMove::Paid => TrancheStatus::Paid,
            TrancheMove::Reversed => TrancheStatus::Reversed,
        }
    }

    /// The audit verb (`disbursement.<verb>`).
    pub fn verb(self) -> &'static str {
        match self {
            TrancheMove::FirstApproval => "first_approval",
            other => other.to().as_str(),
        }
    }
}

/// What a tranche command depends on besides the status.
#[derive(Debug, Clone, Default)]
pub struct TrancheFacts {
    /// The acting user.
    pub actor: String,
    /// Who requested the tranche.
    pub requested_by: String,
    /// Approvals needed: 1 or 2.
    pub approvals_required: i32,
    /// The first approver, when there is one.
    pub approver_1: Option<String>,
    /// The status of the report the tranche waits on, when it waits on one.
    pub required_report: Option<ReportStatus>,
}

/// The transition table of a tranche.
pub fn transition(
    from: TrancheStatus,
    command: &TrancheCommand,
    facts: &TrancheFacts,
) -> Result<TrancheMove, Refusal> {
    let allowed = command.from();
    if !allowed.contains(&from) {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        return Err(Refusal::invalid(
            "tranche",
            from.as_str(),
            command.verb(),
            &names,
        ));
    }
    Ok(match command {
        TrancheCommand::Approve => {
            if facts.requested_by == facts.actor {
                return Err(Refusal::new(
                    ConflictCode::SelfApproval,
                    "A tranche is approved by someone other than its requester.",
                ));
            }
            if facts.approver_1.as_deref() == Some(facts.actor.as_str()) {
                return Err(Refusal::new(
                    ConflictCode::SameApprover,
                    "This tranche needs a second approval by another officer.",
                ));
            }
            if let Some(status) = facts.required_report
                && status != ReportStatus::Accepted
            {
                return Err(Refusal::new(
                    ConflictCode::ReportNotAccepted,
                    format!("The tranche waits on a report that is {status}; accept it first."),
                ));
            }
            if facts.approvals_required >= 2 && facts.approver_1.is_none() {
                TrancheMove::FirstApproval
            } else {
                TrancheMove::FinalApproval
            }
        }
        TrancheCommand::Reject(_) => TrancheMove::Rejected,
        TrancheCommand::Cancel(_) => TrancheMove::Cancelled {
            release: from == TrancheStatus::Approved,
        },
        TrancheCommand::Pay(_) => TrancheMove::Paid,
        TrancheCommand::Reverse(_) => TrancheMove::Reversed,
    })
}

/// Loads a tranche (404 when unknown).
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<TrancheRow, ApiError> {
    disbursements::table
        .find(id)
        .select(TrancheRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// The tranches of a grant, oldest first.
pub fn of_grant(conn: &mut DbConn, grant_id: &str) -> QueryResult<Vec<TrancheRow>> {
    disbursements::table
        .filter(disbursements::grant_id.eq(grant_id))
        .order(disbursements::id.asc())
        .select(TrancheRow::as_select())
        .load(conn)
}

impl Audited for Tranche {
    const ENTITY: &'static str = "disbursement";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// A stored tranche.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = disbursements)]
pub struct TrancheRow {
    /// UUID v7.
    pub id: String,
    /// Grant.
    pub grant_id: String,
    /// Amount in grant minor units.
    pub amount: i64,
    /// Planned payment date.
    pub planned_date: NaiveDate,
    /// Note.
    pub note: String,
    /// Report that must be accepted first.
    pub requires_report_id: Option<String>,
    /// requested, approved, rejected, cancelled, paid, reversed.
    pub status: TrancheStatus,
    /// 1, or 2 above the threshold.
    pub approvals_required: i32,
    /// Requester.
    pub requested_by: String,
    /// First approver.
    pub approver_1: Option<String>,
    /// First approval.
    pub approved_1_at: Option<NaiveDateTime>,
    /// Second approver.
    pub approver_2: Option<String>,
    /// Second approval.
    pub approved_2_at: Option<NaiveDateTime>,
    /// Who rejected or cancelled.
    pub decided_by: Option<String>,
    /// Why.
    pub decision_reason: Option<String>,
    /// Bank or ledger reference.
    pub payment_reference: Option<String>,
    /// Payment date.
    pub paid_on: Option<NaiveDate>,
    /// Finance officer who recorded it.
    pub paid_by: Option<String>,
    /// When it was recorded.
    pub paid_at: Option<NaiveDateTime>,
    /// Why it was reversed.
    pub reversal_reason: Option<String>,
    /// Who reversed it.
    pub reversed_by: Option<String>,
    /// When.
    pub reversed_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// The grantee's bank account it was paid to.
    pub bank_account_id: Option<String>,
}

/// A tranche as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Disbursement)]
pub struct Tranche {
    /// UUID v7.
    pub id: String,
    /// The grant.
    pub grant_id: String,
    /// ISO 4217 code (the grant's).
    pub currency: String,
    /// Amount.
    pub amount: String,
    /// Planned payment date.
    pub planned_date: NaiveDate,
    /// Note from the requester.
    pub note: String,
    /// Report that must be accepted before approval.
    pub requires_report_id: Option<String>,
    /// requested, approved, rejected, cancelled, paid or reversed.
    pub status: TrancheStatus,
    /// Approvals needed: 1, or 2 above SECOND_APPROVAL_THRESHOLD (in the base currency).
    pub approvals_required: i32,
    /// Who asked for it.
    pub requested_by: String,
    /// Approvers so far, in order.
    pub approved_by: Vec<String>,
    /// Who rejected or cancelled it.
    pub decided_by: Option<String>,
    /// Why it was rejected or cancelled.
    pub decision_reason: Option<String>,
    /// Payment reference.
    pub payment_reference: Option<String>,
    /// Payment date.
    pub paid_on: Option<NaiveDate>,
    /// Finance officer who recorded the payment.
    pub paid_by: Option<String>,
    /// Why the payment was reversed.
    pub reversal_reason: Option<String>,
    /// Who reversed it.
    pub reversed_by: Option<String>,
    /// The grantee's bank account it was paid to (kept in the audit trail of the payment).
    pub bank_account_id: Option<String>,
    /// The grantee's account it is paid to, with its holder's name and the number's last four:
    /// the account it was paid to; before that the account of its open payment run line, or
    /// else the newest usable account of the grantee in the tranche's currency (null when the
    /// grantee has none yet).
    pub payee_account: Option<payee::PayeeAccount>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl Tranche {
    /// The wire form of a row of a grant in `currency`.
    pub fn from_row(r: TrancheRow, currency: &str) -> Self {
        Self {
            id: r.id,
            grant_id: r.grant_id,
            currency: currency.to_string(),
            amount: money::format(r.amount, currency),
            planned_date: r.planned_date,
            note: r.note,
            requires_report_id: r.requires_report_id,
            status: r.status,
            approvals_required: r.approvals_required,
            requested_by: r.requested_by,
            approved_by: r.approver_1.into_iter().chain(r.approver_2).collect(),
            decided_by: r.decided_by,
            decision_reason: r.decision_reason,
            payment_reference: r.payment_reference,
            paid_on: r.paid_on,
            paid_by: r.paid_by,
            reversal_reason: r.reversal_reason,
            reversed_by: r.reversed_by,
            bank_account_id: r.bank_account_id,
            payee_account: None,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// Request a tranche.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewDisbursement)]
pub struct NewTranche {
    /// Amount in the grant's currency.
    pub amount: String,
    /// Planned payment date (YYYY-MM-DD).
    pub planned_date: NaiveDate,
    /// Note, up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
    /// A report of the same grant that must be accepted before approval.
    #[serde(default)]
    pub requires_report_id: Option<String>,
}

/// Record a payment.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayBody {
    /// Bank or ledger reference, 1–200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub payment_reference: String,
    /// Date of payment (YYYY-MM-DD).
    pub paid_on: NaiveDate,
    /// The grantee's bank account paid to (required): an account of another organisation or
    /// none is 400 naming `bank_account_id`; one not confirmed, still in its cooling-off period
    /// or in another currency than the tranche's is 409 `account_not_usable`.
    pub bank_account_id: String,
}

#[cfg(test)]
mod tests {
    use super::TrancheStatus::*;
    use super::*;

    fn facts(required: i32, approver_1: Option<&str>) -> TrancheFacts {
        TrancheFacts {
            actor: "b".into(),
            requested_by: "a".into(),
            approvals_required: required,
            approver_1: approver_1.map(str::to_string),
            required_report: None,
        }
    }

    fn code(r: Result<TrancheMove, Refusal>) -> Option<ConflictCode> {
        r.err().map(|e| e.code)
    }

    fn pay() -> TrancheCommand {
        TrancheCommand::Pay(PayBody {
            payment_reference: "x".into(),
            paid_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            bank_account_id: "a".into(),
        })
    }

    #[test]
    fn a_requested_tranche_can_be_approved() {
        assert_eq!(
            transition(Requested, &TrancheCommand::Approve, &facts(1, None)),
            Ok(TrancheMove::FinalApproval)
        );
    }

    #[test]
    fn a_requested_tranche_above_the_threshold_needs_a_second_approver() {
        assert_eq!(
            transition(Requested, &TrancheCommand::Approve, &facts(2, None)),
            Ok(TrancheMove::FirstApproval)
        );
        assert_eq!(
            transition(Requested, &TrancheCommand::Approve, &facts(2, Some("c"))),
            Ok(TrancheMove::FinalApproval)
        );
    }

    #[test]
    fn a_requested_tranche_cannot_be_approved_by_its_requester() {
        let mut f = facts(1, None);
        f.actor = "a".into();
        assert_eq!(
            code(transition(Requested, &TrancheCommand::Approve, &f)),
            Some(ConflictCode::SelfApproval)
        );
    }

    #[test]
    fn a_requested_tranche_cannot_be_approved_twice_by_the_first_approver() {
        assert_eq!(
            code(transition(
                Requested,
                &TrancheCommand::Approve,
                &facts(2, Some("b"))
            )),
            Some(ConflictCode::SameApprover)
        );
    }

    #[test]
    fn a_requested_tranche_waiting_on_a_report_cannot_be_approved_before_it_is_accepted() {
        let mut f = facts(1, None);
        f.required_report = Some(ReportStatus::Submitted);
        assert_eq!(
            code(transition(Requested, &TrancheCommand::Approve, &f)),
            Some(ConflictCode::ReportNotAccepted)
        );
        f.required_report = Some(ReportStatus::Accepted);
        assert!(transition(Requested, &TrancheCommand::Approve, &f).is_ok());
    }

    #[test]
    fn a_requested_tranche_can_be_rejected_or_cancelled() {
        let f = facts(1, None);
        assert_eq!(
            transition(Requested, &TrancheCommand::Reject("r".into()), &f),
            Ok(TrancheMove::Rejected)
        );
        assert_eq!(
            transition(Requested, &TrancheCommand::Cancel("Not needed.".into()), &f),
            Ok(TrancheMove::Cancelled { release: false })
        );
    }

    #[test]
    fn an_approved_tranche_can_be_paid_or_cancelled_releasing_its_amount() {
        let f = facts(1, None);
        assert_eq!(transition(Approved, &pay(), &f), Ok(TrancheMove::Paid));
        assert_eq!(
            transition(Approved, &TrancheCommand::Cancel("Not needed.".into()), &f),
            Ok(TrancheMove::Cancelled { release: true })
        );
    }

    #[test]
    fn a_paid_tranche_can_be_reversed() {
        assert_eq!(
            transition(Paid, &TrancheCommand::Reverse("r".into()), &facts(1, None)),
            Ok(TrancheMove::Reversed)
        );
    }

    #[test]
    fn a_paid_tranche_cannot_be_cancelled_or_paid_again() {
        let f = facts(1, None);
        assert_eq!(
            code(transition(
                Paid,
                &TrancheCommand::Cancel("Not needed.".into()),
                &f
            )),
            Some(ConflictCode::InvalidTransition)
        );
        assert_eq!(
            code(transition(Paid, &pay(), &f)),
            Some(ConflictCode::InvalidTransition)
        );
    }

    #[test]
    fn a_rejected_tranche_cannot_be_approved() {
        assert_eq!(
            code(transition(
                Rejected,
                &TrancheCommand::Approve,
                &facts(1, None)
            )),
            Some(ConflictCode::InvalidTransition)
        );
    }
}

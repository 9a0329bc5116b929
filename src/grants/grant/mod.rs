//! Grants: an onward grant from a fund to an organisation, its wire form, and its life as a
//! pure transition table. Writing lives in `edit`, moving in `command`, reading in `read`.

pub mod command;
pub mod contributors;
pub mod edit;
pub mod fields;
pub mod read;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::check::Refusal;
use super::report::Report;
use super::tranche::Tranche;
use crate::command::Audited;
use crate::db::DbConn;
use crate::db::schema::grants;
use crate::error::{ApiError, ConflictCode};
use crate::kit::rfc3339;
use crate::money;

crate::text_enum! {
    /// A grant's place in its life.
    pub enum GrantStatus {
        /// Being written; may be edited.
        Draft = "draft",
        /// Waiting for approval.
        Submitted = "submitted",
        /// Approved and counted against its fund.
        Approved = "approved",
        /// Tranches may be requested.
        Active = "active",
        /// Finished.
        Closed = "closed",
        /// Refused.
        Rejected = "rejected",
        /// Withdrawn; its award is released.
        Cancelled = "cancelled",
    }
}

impl GrantStatus {
    /// Statuses that are public (exports, partner apps).
    pub const PUBLISHED: &'static [GrantStatus] = &[
        GrantStatus::Approved,
        GrantStatus::Active,
        GrantStatus::Closed,
    ];

    /// A grant that owes no more reports and takes no more tranches.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            GrantStatus::Rejected | GrantStatus::Cancelled | GrantStatus::Closed
        )
    }

    /// Whether the award counts against the fund in this status.
    pub fn holds_award(self) -> bool {
        matches!(self, GrantStatus::Approved | GrantStatus::Active)
    }
}

/// A command on a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantCommand {
    /// draft → submitted.
    Submit,
    /// submitted → approved, counted against the fund.
    Approve,
    /// submitted → rejected.
    Reject,
    /// approved → active (tranches may be requested).
    Activate,
    /// active → closed (no tranche approved and unpaid).
    Close,
    /// draft, submitted, approved, or active without tranches → cancelled; releases the award.
    Cancel,
}

impl GrantCommand {
    /// The verb, for messages.
    pub fn verb(self) -> &'static str {
        match self {
            GrantCommand::Submit => "submit",
            GrantCommand::Approve => "approve",
            GrantCommand::Reject => "reject",
            GrantCommand::Activate => "activate",
            GrantCommand::Close => "close",
            GrantCommand::Cancel => "cancel",
        }
    }

    /// The statuses the command applies to, and where it leads.
    pub fn spec(self) -> (&'static [GrantStatus], GrantStatus) {
        use GrantStatus::*;
        match self {
            GrantCommand::Submit => (&[Draft], Submitted),
            GrantCommand::Approve => (&[Submitted], Approved),
            GrantCommand::Reject => (&[Submitted], Rejected),
            GrantCommand::Activate => (&[Approved], Active),
            GrantCommand::Close => (&[Active], Closed),
            GrantCommand::Cancel => (&[Draft, Submitted, Approved, Active], Cancelled),
        }
    }
}

/// What a grant command depends on besides the status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFacts {
    /// Why the acting officer may not approve (they contributed to the grant), if they may not.
    pub approver_contributed: Option<String>,
    /// Tranches are approved or paid (committed > 0).
    pub has_commitments: bool,
    /// Approved tranches await payment (committed > paid).
    pub has_unpaid: bool,
}

/// The transition table of a grant.
pub fn transition(
    from: GrantStatus,
    command: GrantCommand,
    facts: &GrantFacts,
) -> Result<GrantStatus, Refusal> {
    let (allowed, to) = command.spec();
    if !allowed.contains(&from) {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        return Err(Refusal::invalid(
            "grant",
            from.as_str(),
            command.verb(),
            &names,
        ));
    }
    match command {
        GrantCommand::Approve => {
            if let Some(why) = &facts.approver_contributed {
                return Err(Refusal::new(
                    ConflictCode::SelfApproval,
                    format!("A grant is approved by a grant officer who did not write it: {why}."),
                ));
            }
        }
        GrantCommand::Cancel if facts.has_commitments => {
            return Err(Refusal::new(
                ConflictCode::GrantHasTranches,
                "Tranches are approved or paid on this grant; close it instead.",
            ));
        }
        GrantCommand::Close if facts.has_unpaid => {
            return Err(Refusal::new(
                ConflictCode::UnpaidTranches,
                "Approved tranches await payment; pay or cancel them first.",
            ));
        }
        _ => {}
    }
    Ok(to)
}

/// What an edit does to a grant's status: a draft stays a draft; a submitted grant goes back
/// to draft (its approval starts afresh); anything later cannot be edited.
pub fn edit_transition(from: GrantStatus) -> Result<GrantStatus, Refusal> {
    match from {
        GrantStatus::Draft | GrantStatus::Submitted => Ok(GrantStatus::Draft),
        other => Err(Refusal::new(
            ConflictCode::NotDraft,
            format!("The grant is {other}; only a draft or a submitted grant can be edited."),
        )),
    }
}

/// Loads a grant without access checks (404 when unknown).
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<GrantRow, ApiError> {
    grants::table
        .find(id)
        .select(GrantRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

impl Audited for Grant {
    const ENTITY: &'static str = "grant";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// A stored grant.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = grants)]
pub struct GrantRow {
    /// UUID v7.
    pub id: String,
    /// IDPC-YYYY-NNNN.
    pub reference: String,
    /// Year of the reference.
    pub year: i32,
    /// Fund.
    pub fund_id: String,
    /// Grantee.
    pub grantee_organisation_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Strategic pillar.
    pub pillar: String,
    /// Priority areas as `,a,b,` so one LIKE finds one area.
    pub priority_areas: String,
    /// Grant currency.
    pub currency: String,
    /// Amount in grant minor units.
    pub amount: i64,
    /// Fund-currency units per grant-currency unit, in millionths.
    pub fx_rate_micros: Option<i64>,
    /// Date of the rate.
    pub fx_rate_date: Option<NaiveDate>,
    /// Currency of the fund (never changes).
    pub fund_currency: String,
    /// Amount counted against the fund, in fund minor units.
    pub amount_in_fund_currency: i64,
    /// Approved and paid tranches, in grant minor units.
    pub committed: i64,
    /// Paid tranches, in grant minor units.
    pub paid: i64,
    /// Planned start.
    pub planned_start: NaiveDate,
    /// Planned end.
    pub planned_end: NaiveDate,
    /// draft, submitted, approved, active, closed, rejected, cancelled.
    pub status: GrantStatus,
    /// Creator.
    pub created_by: String,
    /// Submitted.
    pub submitted_at: Option<NaiveDateTime>,
    /// Approver.
    pub approved_by: Option<String>,
    /// Approved.
    pub approved_at: Option<NaiveDateTime>,
    /// Reason of a rejection or cancellation.
    pub decision_reason: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When it became active (the business date the exports publish).
    pub activated_at: Option<NaiveDateTime>,
    /// When it was closed.
    pub closed_at: Option<NaiveDateTime>,
}

impl GrantRow {
    /// The priority areas as a list.
    pub fn priority_area_list(&self) -> Vec<String> {
        self.priority_areas
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// An onward grant as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Grant {
    /// UUID v7.
    pub id: String,
    /// Unique reference, e.g. IDPC-2026-0042.
    #[schema(example = "IDPC-2026-0042")]
    pub reference: String,
    /// The fund it is paid from.
    pub fund_id: String,
    /// The organisation receiving it.
    pub grantee_organisation_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Strategic pillar.
    #[schema(example = "capacity_strengthening")]
    pub pillar: String,
    /// Priority areas.
    pub priority_areas: Vec<String>,
    /// ISO 4217 code of `amount`, `committed`, `paid` and `remaining`.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Amount of the grant.
    #[schema(example = "12500.00")]
    pub amount: String,
    /// Fund-currency units per grant-currency unit, when the currencies differ.
    pub fx_rate: Option<String>,
    /// Date of that rate (YYYY-MM-DD).
    pub fx_rate_date: Option<NaiveDate>,
    /// Currency of the fund.
    pub fund_currency: String,
    /// Amount counted against the fund, in fund currency.
    pub amount_in_fund_currency: String,
    /// Approved and paid tranches.
    pub committed: String,
    /// Paid tranches.
    pub paid: String,
    /// Amount not yet committed to tranches.
    pub remaining: String,
    /// Planned start (YYYY-MM-DD).
    pub planned_start: NaiveDate,
    /// Planned end (YYYY-MM-DD).
    pub planned_end: NaiveDate,
    /// draft, submitted, approved, active, closed, rejected or cancelled.
    pub status: GrantStatus,
    /// The grant officer who created it.
    pub created_by: String,
    /// When it was submitted (RFC 3339).
    pub submitted_at: Option<String>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// When it was approved (RFC 3339).
    pub approved_at: Option<String>,
    /// Why it was rejected or cancelled.
    pub decision_reason: Option<String>,
    /// Optimistic-concurrency version (also the ETag).
    pub version: i64,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<GrantRow> for Grant {
    fn from(r: GrantRow) -> Self {
        let c = r.currency.as_str();
        Self {
            amount: money::format(r.amount, c),
            committed: money::format(r.committed, c),
            paid: money::format(r.paid, c),
            remaining: money::format(r.amount - r.committed, c),
            fx_rate: r.fx_rate_micros.map(money::format_rate),
            amount_in_fund_currency: money::format(r.amount_in_fund_currency, &r.fund_currency),
            priority_areas: r.priority_area_list(),
            id: r.id,
            reference: r.reference,
            fund_id: r.fund_id,
            grantee_organisation_id: r.grantee_organisation_id,
            title: r.title,
            description: r.description,
            pillar: r.pillar,
            fx_rate_date: r.fx_rate_date,
            fund_currency: r.fund_currency,
            planned_start: r.planned_start,
            planned_end: r.planned_end,
            status: r.status,
            created_by: r.created_by,
            submitted_at: r.submitted_at.map(rfc3339),
            approved_by: r.approved_by,
            approved_at: r.approved_at.map(rfc3339),
            decision_reason: r.decision_reason,
            version: r.version,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            currency: r.currency,
        }
    }
}

/// Totals of a grant's tranches, in grant currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantTotals {
    /// Tranches waiting for approval.
    pub requested: String,
    /// Approved and not yet paid.
    pub approved: String,
    /// Paid.
    pub paid: String,
    /// Reversed after payment.
    pub reversed: String,
    /// Not yet committed (amount − approved − paid).
    pub remaining: String,
}

/// A grant with its tranches, reports and totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GrantDetail {
    /// The grant.
    #[serde(flatten)]
    pub grant: Grant,
    /// Its tranches, oldest first.
    pub disbursements: Vec<Tranche>,
    /// Its reports, by due date.
    pub reports: Vec<Report>,
    /// Totals of the tranches.
    pub totals: GrantTotals,
}

/// Create a draft grant.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    /// The fund it is paid from (an active fund).
    pub fund_id: String,
    /// The organisation receiving it.
    pub grantee_organisation_id: String,
    /// Title, 2–200 characters.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub title: String,
    /// Description, up to 10 000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: String,
    /// One of the five strategic pillars.
    #[schema(schema_with = crate::codes::schema::pillar)]
    pub pillar: String,
    /// Priority areas (from the five).
    #[serde(default)]
    #[schema(schema_with = crate::codes::schema::priority_areas)]
    pub priority_areas: Vec<String>,
    /// ISO 4217 code of the amount.
    #[schema(schema_with = crate::codes::schema::currency)]
    pub currency: String,
    /// Positive amount with at most the currency's decimals.
    pub amount: String,
    /// Fund-currency units per grant-currency unit (up to 6 decimals); required when the
    /// currency differs from the fund's.
    #[serde(default)]
    #[schema(schema_with = crate::codes::schema::rate_or_null)]
    pub fx_rate: Option<String>,
    /// Date of the rate; required with `fx_rate`.
    #[serde(default)]
    pub fx_rate_date: Option<NaiveDate>,
    /// Planned start (YYYY-MM-DD).
    pub planned_start: NaiveDate,
    /// Planned end (YYYY-MM-DD), not before the start.
    pub planned_end: NaiveDate,
    /// Budget lines (they must sum to `amount` when the grant is submitted); also written
    /// later with `PUT /api/v1/grants/{id}/budget`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budget: Vec<crate::grants::budget_lines::BudgetLineInput>,
    /// Indicators with their targets; also written later with
    /// `PUT /api/v1/grants/{id}/indicators`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<crate::grants::indicators::IndicatorInput>,
}

fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Change a draft grant (merge patch: a field left out is kept, `null` clears the rate).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantPatch {
    /// The organisation receiving it.
    #[serde(default)]
    pub grantee_organisation_id: Option<String>,
    /// Title, 2–200 characters.
    #[serde(default)]
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub title: Option<String>,
    /// Description, up to 10 000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Strategic pillar.
    #[serde(default)]
    #[schema(schema_with = crate::codes::schema::pillar_or_null)]
    pub pillar: Option<String>,
    /// Priority areas.
    #[serde(default)]
    #[schema(schema_with = crate::codes::schema::priority_areas_or_null)]
    pub priority_areas: Option<Vec<String>>,
    /// ISO 4217 code.
    #[serde(default)]
    #[schema(schema_with = crate::codes::schema::currency_or_null)]
    pub currency: Option<String>,
    /// Amount.
    #[serde(default)]
    pub amount: Option<String>,
    /// Exchange rate; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::codes::schema::rate_or_null)]
    pub fx_rate: Option<Option<String>>,
    /// Date of the rate; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub fx_rate_date: Option<Option<NaiveDate>>,
    /// Planned start.
    #[serde(default)]
    pub planned_start: Option<NaiveDate>,
    /// Planned end.
    #[serde(default)]
    pub planned_end: Option<NaiveDate>,
}

/// A reason for a rejection, cancellation, return or reversal.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why, 1–2000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::GrantCommand::*;
    use super::GrantStatus::*;
    use super::*;

    fn ok() -> GrantFacts {
        GrantFacts::default()
    }

    fn code(r: Result<GrantStatus, Refusal>) -> ConflictCode {
        r.err()
            .map(|e| e.code)
            .unwrap_or(ConflictCode::ConcurrentUpdate)
    }

    #[test]
    fn a_draft_grant_can_be_submitted() {
        assert_eq!(transition(Draft, Submit, &ok()), Ok(Submitted));
    }

    #[test]
    fn a_submitted_grant_can_be_approved_by_someone_who_did_not_write_it() {
        assert_eq!(transition(Submitted, Approve, &ok()), Ok(Approved));
    }

    #[test]
    fn a_submitted_grant_cannot_be_approved_by_a_contributor() {
        let facts = GrantFacts {
            approver_contributed: Some("you created it".into()),
            ..ok()
        };
        assert_eq!(
            code(transition(Submitted, Approve, &facts)),
            ConflictCode::SelfApproval
        );
    }

    #[test]
    fn a_submitted_grant_returns_to_draft_when_edited() {
        assert_eq!(edit_transition(Submitted), Ok(Draft));
        assert_eq!(edit_transition(Draft), Ok(Draft));
    }

    #[test]
    fn an_approved_grant_cannot_be_edited() {
        for s in [Approved, Active, Closed, Rejected, Cancelled] {
            assert_eq!(
                edit_transition(s).err().map(|r| r.code),
                Some(ConflictCode::NotDraft)
            );
        }
    }

    #[test]
    fn a_submitted_grant_can_be_rejected() {
        assert_eq!(transition(Submitted, Reject, &ok()), Ok(Rejected));
    }

    #[test]
    fn a_draft_grant_cannot_be_approved() {
        assert_eq!(
            code(transition(Draft, Approve, &ok())),
            ConflictCode::InvalidTransition
        );
    }

    #[test]
    fn an_approved_grant_can_be_activated() {
        assert_eq!(transition(Approved, Activate, &ok()), Ok(Active));
    }

    #[test]
    fn an_active_grant_can_be_closed_when_every_approved_tranche_is_paid() {
        assert_eq!(transition(Active, Close, &ok()), Ok(Closed));
        let unpaid = GrantFacts {
            has_unpaid: true,
            ..ok()
        };
        assert_eq!(
            code(transition(Active, Close, &unpaid)),
            ConflictCode::UnpaidTranches
        );
    }

    #[test]
    fn an_active_grant_without_commitments_can_be_cancelled() {
        assert_eq!(transition(Active, Cancel, &ok()), Ok(Cancelled));
        let committed = GrantFacts {
            has_commitments: true,
            ..ok()
        };
        assert_eq!(
            code(transition(Active, Cancel, &committed)),
            ConflictCode::GrantHasTranches
        );
    }

    #[test]
    fn a_closed_grant_cannot_be_cancelled_or_reopened() {
        for c in [Cancel, Activate, Submit, Approve, Close] {
            assert_eq!(
                code(transition(Closed, c, &ok())),
                ConflictCode::InvalidTransition
            );
        }
    }
}

//! Funds, onward grants, tranches and reports: stored rows and their wire form. Amounts are
//! minor units in rows and decimal strings on the wire (see `crate::money`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{disbursements, funds, grant_reports, grants};
use crate::kit::rfc3339;
use crate::money;

/// A stored fund.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = funds)]
pub struct FundRow {
    /// UUID v7.
    pub id: String,
    /// The donor (a partner of type donor).
    pub donor_organisation_id: String,
    /// Title.
    pub title: String,
    /// The donor's reference.
    pub reference: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Sum of approved grants, in fund minor units.
    pub awarded: i64,
    /// Sum of paid tranches converted to fund minor units.
    pub disbursed: i64,
    /// Start of the period.
    pub starts_on: NaiveDate,
    /// End of the period.
    pub ends_on: NaiveDate,
    /// active or closed.
    pub status: String,
    /// Creator.
    pub created_by: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Optimistic-concurrency version.
    pub version: i64,
}

/// A fund as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fund {
    /// UUID v7.
    pub id: String,
    /// The donor organisation.
    pub donor_organisation_id: String,
    /// Title.
    pub title: String,
    /// The donor's reference for this fund.
    pub reference: String,
    /// ISO 4217 code of every amount of this fund.
    #[schema(example = "USD")]
    pub currency: String,
    /// Amount received or pledged.
    #[schema(example = "250000.00")]
    pub amount: String,
    /// Sum of approved onward grants, in fund currency.
    pub awarded: String,
    /// Sum of paid tranches, in fund currency.
    pub disbursed: String,
    /// Amount not yet awarded.
    pub remaining: String,
    /// Start of the period (YYYY-MM-DD).
    pub starts_on: NaiveDate,
    /// End of the period (YYYY-MM-DD).
    pub ends_on: NaiveDate,
    /// active or closed.
    #[schema(example = "active")]
    pub status: String,
    /// Optimistic-concurrency version (also the ETag).
    pub version: i64,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<FundRow> for Fund {
    fn from(r: FundRow) -> Self {
        let c = r.currency.as_str();
        Self {
            amount: money::format(r.amount, c),
            awarded: money::format(r.awarded, c),
            disbursed: money::format(r.disbursed, c),
            remaining: money::format(r.amount - r.awarded, c),
            id: r.id,
            donor_organisation_id: r.donor_organisation_id,
            title: r.title,
            reference: r.reference,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            status: r.status,
            version: r.version,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            currency: r.currency,
        }
    }
}

/// Create a fund.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFund {
    /// A partner organisation of type donor.
    pub donor_organisation_id: String,
    /// Title, 2–200 characters.
    pub title: String,
    /// The donor's reference, 1–100 characters.
    pub reference: String,
    /// ISO 4217 code.
    #[schema(example = "USD")]
    pub currency: String,
    /// Positive amount with at most the currency's decimals.
    #[schema(example = "250000.00")]
    pub amount: String,
    /// Start of the period (YYYY-MM-DD).
    pub starts_on: NaiveDate,
    /// End of the period (YYYY-MM-DD), not before the start.
    pub ends_on: NaiveDate,
}

/// Change a fund (merge patch; the currency never changes).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundPatch {
    /// Title, 2–200 characters.
    #[serde(default)]
    pub title: Option<String>,
    /// The donor's reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// New amount; never below what is already awarded.
    #[serde(default)]
    pub amount: Option<String>,
    /// Start of the period.
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    /// End of the period.
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// active or closed; a closed fund takes no new grants.
    #[serde(default)]
    pub status: Option<String>,
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
    pub status: String,
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
    #[schema(example = "draft")]
    pub status: String,
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
    pub disbursements: Vec<Disbursement>,
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
    pub title: String,
    /// Description, up to 10 000 characters.
    #[serde(default)]
    pub description: String,
    /// One of the five strategic pillars.
    pub pillar: String,
    /// Priority areas (from the five).
    #[serde(default)]
    pub priority_areas: Vec<String>,
    /// ISO 4217 code of the amount.
    pub currency: String,
    /// Positive amount with at most the currency's decimals.
    pub amount: String,
    /// Fund-currency units per grant-currency unit (up to 6 decimals); required when the
    /// currency differs from the fund's.
    #[serde(default)]
    pub fx_rate: Option<String>,
    /// Date of the rate; required with `fx_rate`.
    #[serde(default)]
    pub fx_rate_date: Option<NaiveDate>,
    /// Planned start (YYYY-MM-DD).
    pub planned_start: NaiveDate,
    /// Planned end (YYYY-MM-DD), not before the start.
    pub planned_end: NaiveDate,
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
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Strategic pillar.
    #[serde(default)]
    pub pillar: Option<String>,
    /// Priority areas.
    #[serde(default)]
    pub priority_areas: Option<Vec<String>>,
    /// ISO 4217 code.
    #[serde(default)]
    pub currency: Option<String>,
    /// Amount.
    #[serde(default)]
    pub amount: Option<String>,
    /// Exchange rate; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
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
    pub reason: String,
}

/// A stored tranche.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = disbursements)]
pub struct DisbursementRow {
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
    pub status: String,
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
}

/// A tranche as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disbursement {
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
    #[schema(example = "requested")]
    pub status: String,
    /// Approvals needed: 1, or 2 above DISBURSEMENT_SECOND_APPROVAL_THRESHOLD.
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
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl Disbursement {
    /// The wire form of a row of a grant in `currency`.
    pub fn from_row(r: DisbursementRow, currency: &str) -> Self {
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
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// Request a tranche.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDisbursement {
    /// Amount in the grant's currency.
    pub amount: String,
    /// Planned payment date (YYYY-MM-DD).
    pub planned_date: NaiveDate,
    /// Note, up to 2000 characters.
    #[serde(default)]
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
    pub payment_reference: String,
    /// Date of payment (YYYY-MM-DD).
    pub paid_on: NaiveDate,
}

/// A stored report.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = grant_reports)]
pub struct ReportRow {
    /// UUID v7.
    pub id: String,
    /// Grant.
    pub grant_id: String,
    /// narrative or financial.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Due date.
    pub due_on: NaiveDate,
    /// due, submitted, accepted, returned.
    pub status: String,
    /// Summary from the grantee.
    pub summary: Option<String>,
    /// Link to the document.
    pub document_url: Option<String>,
    /// Submitter.
    pub submitted_by: Option<String>,
    /// Submitted.
    pub submitted_at: Option<NaiveDateTime>,
    /// Who accepted or returned it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<NaiveDateTime>,
    /// Why it was returned.
    pub return_reason: Option<String>,
    /// Creator.
    pub created_by: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// A grant report as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    /// UUID v7.
    pub id: String,
    /// The grant.
    pub grant_id: String,
    /// narrative or financial.
    #[schema(example = "narrative")]
    pub kind: String,
    /// Title.
    pub title: String,
    /// Due date (YYYY-MM-DD).
    pub due_on: NaiveDate,
    /// due, submitted, accepted or returned.
    #[schema(example = "due")]
    pub status: String,
    /// Summary from the grantee.
    pub summary: Option<String>,
    /// Link to the document.
    pub document_url: Option<String>,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// When (RFC 3339).
    pub submitted_at: Option<String>,
    /// Who accepted or returned it.
    pub decided_by: Option<String>,
    /// Why it was returned.
    pub return_reason: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<ReportRow> for Report {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            grant_id: r.grant_id,
            kind: r.kind,
            title: r.title,
            due_on: r.due_on,
            status: r.status,
            summary: r.summary,
            document_url: r.document_url,
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at.map(rfc3339),
            decided_by: r.decided_by,
            return_reason: r.return_reason,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// Kind of report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// What was done.
    Narrative,
    /// How the money was spent.
    Financial,
}

/// Ask the grantee for a report.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// narrative or financial.
    pub kind: ReportKind,
    /// Due date (YYYY-MM-DD).
    pub due_on: NaiveDate,
    /// Title, 2–200 characters.
    pub title: String,
}

/// Submit a report.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    /// Summary, 1–10 000 characters.
    pub summary: String,
    /// http(s) link to the document.
    pub document_url: String,
}

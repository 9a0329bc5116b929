//! What every grant, tranche and report email says, and the parties of each change. Who
//! receives which message is decided by the notification matrix (`crate::notify::matrix`);
//! this module only gathers the facts a message shows, formatted for people.

use diesel::prelude::*;
use serde::Serialize;

use super::grant::GrantRow;
use super::report::ReportRow;
use super::tranche::TrancheRow;
use crate::command::Message;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{grant_contributors, grant_reports, users};
use crate::error::ApiError;
use crate::i18n::{LocalAmount, LocalDate};
use crate::notify::matrix::Parties;
use crate::notify::{Kind, links, long_date};

/// What every grant email says of the grant.
#[derive(Debug, Clone, Serialize)]
pub struct GrantFacts {
    /// IDPC-YYYY-NNNN.
    pub grant_reference: String,
    /// Title.
    pub grant_title: String,
    /// The grantee's name.
    pub grantee_name: String,
    /// The grant's page.
    pub grant_link: String,
}

impl GrantFacts {
    /// The facts of `g`. A failed read is returned, not mapped to an empty name: inside a
    /// PostgreSQL transaction it would otherwise resurface later as "transaction is aborted".
    pub fn of(conn: &mut DbConn, config: &Config, g: &GrantRow) -> Result<Self, ApiError> {
        let grantee_name = super::access::organisation(conn, &g.grantee_organisation_id)?
            .map(|o| o.name)
            .unwrap_or_default();
        Ok(Self {
            grant_reference: g.reference.clone(),
            grant_title: g.title.clone(),
            grantee_name,
            grant_link: links::grant(config, &g.id),
        })
    }
}

/// An amount as emails show it, written out in each recipient's language when the message
/// is rendered: `USD 60,000.00`, `60.000,00 USD`, `€1,234.50`.
pub fn amount(minor: i64, currency: &str) -> LocalAmount {
    LocalAmount::new(minor, currency)
}

/// A user's display name (empty when unknown).
pub fn display_name(conn: &mut DbConn, id: &str) -> Result<String, ApiError> {
    Ok(users::table
        .find(id)
        .select(users::display_name)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_default())
}

/// The parties of a change to grant `g`: its grantee, its author, and who may not approve it
/// (its author and every contributor).
pub fn parties(conn: &mut DbConn, g: &GrantRow) -> Result<Parties, ApiError> {
    let mut not_approvers: Vec<String> = grant_contributors::table
        .filter(grant_contributors::grant_id.eq(&g.id))
        .select(grant_contributors::user_id)
        .load(conn)?;
    not_approvers.push(g.created_by.clone());
    Ok(Parties {
        organisation_id: Some(g.grantee_organisation_id.clone()),
        grant_author: Some(g.created_by.clone()),
        not_approvers,
        ..Parties::default()
    })
}

macro_rules! kinds_of {
    ($base:ident: $($(#[$doc:meta])* $name:ident => $kind:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub $base);
        impl Message for $name {
            const KIND: Kind = Kind::$kind;
        }
    )*};
}

/// What a grant email says.
#[derive(Debug, Serialize)]
pub struct GrantMail {
    /// The grant.
    #[serde(flatten)]
    pub grant: GrantFacts,
    /// The grant's amount.
    pub amount: LocalAmount,
    /// What was paid of it.
    pub paid: LocalAmount,
    /// The planned end, written out.
    pub planned_end: LocalDate,
    /// Why (rejection, cancellation).
    pub reason: Option<String>,
    /// Where to act: the grant's page.
    pub link: String,
}

impl GrantMail {
    /// The email of grant `g` (after the change).
    pub fn of(
        conn: &mut DbConn,
        config: &Config,
        g: &GrantRow,
        reason: Option<String>,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            grant: GrantFacts::of(conn, config, g)?,
            amount: amount(g.amount, &g.currency),
            paid: amount(g.paid, &g.currency),
            planned_end: long_date(g.planned_end),
            reason,
            link: links::grant(config, &g.id),
        })
    }
}

kinds_of!(GrantMail:
    /// To officers who may approve: a grant awaits approval.
    GrantSubmittedMail => GrantSubmitted,
    /// To the author and the grantee: the grant is approved.
    GrantApprovedMail => GrantApproved,
    /// To the author: the grant is rejected.
    GrantRejectedMail => GrantRejected,
    /// To the grantee and the author: the grant is active.
    GrantActivatedMail => GrantActivated,
    /// To the grantee, the author and finance: the grant is cancelled.
    GrantCancelledMail => GrantCancelled,
    /// To the grantee, the author and finance: the grant is closed.
    GrantClosedMail => GrantClosed,
);

/// What a tranche email says.
#[derive(Debug, Serialize)]
pub struct TrancheMail {
    /// The grant.
    #[serde(flatten)]
    pub grant: GrantFacts,
    /// The tranche's amount.
    pub amount: LocalAmount,
    /// When it is planned to be paid, written out.
    pub planned_date: LocalDate,
    /// Who requested it.
    pub requested_by_name: String,
    /// 1 or 2.
    pub approvals_required: i32,
    /// The title of the report it waits on.
    pub requires_report: Option<String>,
    /// Why (rejection, cancellation, reversal).
    pub reason: Option<String>,
    /// Bank or ledger reference of the payment.
    pub payment_reference: Option<String>,
    /// Date of the payment, written out.
    pub paid_on: Option<LocalDate>,
    /// Where to act: the tranche's page.
    pub link: String,
    /// What awaits the recipient's approval.
    pub inbox_link: String,
}

impl TrancheMail {
    /// The email of tranche `t` of grant `g` (after the change).
    pub fn of(
        conn: &mut DbConn,
        config: &Config,
        g: &GrantRow,
        t: &TrancheRow,
    ) -> Result<Self, ApiError> {
        let requires_report = match &t.requires_report_id {
            Some(r) => grant_reports::table
                .find(r)
                .select(grant_reports::title)
                .first::<String>(conn)
                .optional()?,
            None => None,
        };
        Ok(Self {
            grant: GrantFacts::of(conn, config, g)?,
            amount: amount(t.amount, &g.currency),
            planned_date: long_date(t.planned_date),
            requested_by_name: display_name(conn, &t.requested_by)?,
            approvals_required: t.approvals_required,
            requires_report,
            reason: t.reversal_reason.clone().or(t.decision_reason.clone()),
            payment_reference: t.payment_reference.clone(),
            paid_on: t.paid_on.map(long_date),
            link: links::disbursement(config, &t.id),
            inbox_link: links::inbox(config),
        })
    }
}

kinds_of!(TrancheMail:
    /// To officers who may approve: a tranche awaits approval.
    TrancheRequestedMail => DisbursementRequested,
    /// To the other officers: a tranche awaits its second approval.
    TrancheSecondApprovalMail => DisbursementSecondApproval,
    /// To finance, the requester and the grantee: a tranche is approved.
    TrancheApprovedMail => DisbursementApproved,
    /// To the requester: a tranche is rejected.
    TrancheRejectedMail => DisbursementRejected,
    /// To the requester: a tranche is cancelled.
    TrancheCancelledMail => DisbursementCancelled,
    /// To finance: an approved tranche it was to pay is cancelled, with the reason.
    TrancheWithdrawnMail => DisbursementWithdrawn,
    /// To the requester and the grantee: a tranche is paid.
    TranchePaidMail => DisbursementPaid,
    /// To the grantee, finance and officers: a payment is reversed.
    TrancheReversedMail => DisbursementReversed,
);

/// The parties of a change to tranche `t` of grant `g`: the grantee, the requester, and who
/// may not approve it (the requester and its first approver).
pub fn tranche_parties(g: &GrantRow, t: &TrancheRow) -> Parties {
    Parties {
        organisation_id: Some(g.grantee_organisation_id.clone()),
        grant_author: Some(g.created_by.clone()),
        requester: Some(t.requested_by.clone()),
        not_approvers: std::iter::once(t.requested_by.clone())
            .chain(t.approver_1.clone())
            .collect(),
        ..Parties::default()
    }
}

/// What a report email says.
#[derive(Debug, Serialize)]
pub struct ReportMail {
    /// The grant.
    #[serde(flatten)]
    pub grant: GrantFacts,
    /// Title of the report.
    pub report_title: String,
    /// narrative or financial.
    pub report_kind: String,
    /// Due date, written out.
    pub due_on: LocalDate,
    /// Days left until the due date (0 once due).
    pub days: i64,
    /// Why it was returned.
    pub reason: Option<String>,
    /// Where to act: the report's page.
    pub link: String,
    /// The report's files (newest versions): name and size as people read it.
    pub files: Vec<MailFile>,
}

/// A file an email lists.
#[derive(Debug, Serialize)]
pub struct MailFile {
    /// Its file name.
    pub name: String,
    /// Its size, e.g. `48.2 KB`.
    pub size: String,
}

impl ReportMail {
    /// The email of report `r` of grant `g`, `days` before it is due.
    pub fn of(
        conn: &mut DbConn,
        config: &Config,
        g: &GrantRow,
        r: &ReportRow,
        days: i64,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            grant: GrantFacts::of(conn, config, g)?,
            report_title: r.title.clone(),
            report_kind: r.kind.as_str().to_string(),
            due_on: long_date(r.due_on),
            days: days.max(0),
            reason: r.return_reason.clone(),
            link: links::report(config, &r.id),
            files: super::report::files(conn, &r.id)?
                .into_iter()
                .map(|(name, size)| MailFile {
                    name,
                    size: crate::kit::human_size(size),
                })
                .collect(),
        })
    }
}

kinds_of!(ReportMail:
    /// To the grantee: a report is asked for.
    ReportRequestedMail => ReportRequested,
    /// To the grantee: a report is due soon (the daily job).
    ReportDueMail => ReportDue,
    /// To the grantee: a report is overdue (the daily job).
    ReportOverdueMail => ReportOverdue,
    /// To the officer who asked for it: a report is overdue (the daily job).
    ReportOverdueOfficerMail => ReportOverdueOfficer,
    /// To grant officers: a report is submitted.
    ReportSubmittedMail => ReportSubmitted,
    /// To the grantee: a report is returned for changes.
    ReportReturnedMail => ReportReturned,
    /// To the grantee: a report is accepted.
    ReportAcceptedMail => ReportAccepted,
);

/// The parties of a change to report `r` of grant `g`.
pub fn report_parties(g: &GrantRow, r: &ReportRow) -> Parties {
    Parties {
        organisation_id: Some(g.grantee_organisation_id.clone()),
        grant_author: Some(g.created_by.clone()),
        report_officer: Some(r.created_by.clone()),
        ..Parties::default()
    }
}

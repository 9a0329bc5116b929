//! The notification matrix: every state change of organisations, memberships, applications,
//! funds, grants, tranches, reports and accounts, who hears of it, and with which message.
//! Declared once, here; commands name the event and the parties ([`Parties`]) and the matrix
//! decides the recipients. The author of a change is never told of it.

use diesel::prelude::*;
use serde_json::Value;

use super::service::{Recipient, enqueue};
use super::templates::Kind;
use crate::auth::{Role, UserStatus};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::users;
use crate::error::ApiError;

/// Every state change (and scheduled check) the service knows of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// An organisation was created (by an admin, or by an approved application).
    OrganisationCreated,
    /// An organisation's profile changed.
    OrganisationUpdated,
    /// An organisation hid itself (or was hidden) from the public directory.
    OrganisationHidden,
    /// A member organisation was admitted (its application was approved).
    MembershipAdmitted,
    /// A membership is coming to the end of its period (the daily job, 30 and 7 days before).
    MembershipEndingSoon,
    /// A membership's period ended: it is in grace until it lapses.
    MembershipGraceStarted,
    /// The grace days passed without renewal.
    MembershipLapsed,
    /// An admin suspended the membership.
    MembershipSuspended,
    /// An admin reinstated a suspended membership.
    MembershipReinstated,
    /// An admin withdrew the membership.
    MembershipWithdrawn,
    /// An admin renewed the membership.
    MembershipRenewed,
    /// A member asked to renew its organisation's membership.
    MembershipRenewalRequested,
    /// An admin declined a renewal request, saying why.
    MembershipRenewalDeclined,
    /// A membership application arrived.
    ApplicationSubmitted,
    /// An admin started reviewing an application.
    ApplicationUnderReview,
    /// An admin approved an application.
    ApplicationApproved,
    /// An admin rejected an application.
    ApplicationRejected,
    /// A fund was recorded.
    FundCreated,
    /// A fund was edited, closed or reopened.
    FundUpdated,
    /// A grant was drafted.
    GrantCreated,
    /// A draft grant was edited.
    GrantUpdated,
    /// A grant was submitted for approval.
    GrantSubmitted,
    /// A grant was approved.
    GrantApproved,
    /// A grant was rejected.
    GrantRejected,
    /// A grant was activated: tranches may be requested.
    GrantActivated,
    /// A grant was cancelled.
    GrantCancelled,
    /// A grant was closed.
    GrantClosed,
    /// A tranche was requested.
    TrancheRequested,
    /// A tranche got its first of two approvals and waits for the second.
    TrancheAwaitsSecondApproval,
    /// A tranche got its last approval: finance may pay it.
    TrancheApproved,
    /// A tranche was rejected.
    TrancheRejected,
    /// A tranche was cancelled (by a person, or because its grant ended).
    TrancheCancelled,
    /// An approved tranche (one finance was told to pay) was cancelled.
    ApprovedTrancheCancelled,
    /// A tranche was paid.
    TranchePaid,
    /// A payment was reversed.
    TrancheReversed,
    /// A report was asked of the grantee.
    ReportRequested,
    /// A report is due soon (the daily job, 14 and 3 days before).
    ReportDueSoon,
    /// A report is past its due date (the daily job).
    ReportOverdue,
    /// The grantee submitted a report.
    ReportSubmitted,
    /// A report was accepted.
    ReportAccepted,
    /// A report was returned for changes.
    ReportReturned,
    /// A user was invited (or invited again).
    UserInvited,
    /// Someone asked for a password reset.
    PasswordResetRequested,
    /// A password was changed or reset.
    PasswordChanged,
    /// Failed logins locked an account.
    AccountLocked,
    /// A partner app's webhook subscription was disabled after failures.
    WebhookDisabled,
    /// A fund's amount (a raise, or a new fund's) waits for a second person.
    FundIncreaseAwaitsConfirmation,
    /// A new reference rate waits for a second person.
    FxRateAwaitsConfirmation,
    /// A new reference rate applies.
    FxRateChanged,
    /// A payee bank account was proposed.
    BankAccountProposed,
    /// A payee bank account was confirmed: usable after the cooling-off period.
    BankAccountConfirmed,
    /// A payment run was prepared and waits for a second finance officer.
    PaymentRunAwaitsApproval,
    /// A revision of an approved grant's budget moves more than the tolerance and waits.
    BudgetRevisionProposed,
    /// The bank returned a line of a payment run: its tranche is approved again.
    PaymentReturned,
}

/// Who hears of an event, resolved from the event's [`Parties`] when it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The one person the event is about (an applicant, an invited user, an account's owner).
    Addressee,
    /// Active member users of the organisation concerned (the grantee, the member).
    OrganisationMembers,
    /// Every active grant officer.
    GrantOfficers,
    /// Active grant officers who may approve: none of the change's authors, nor an earlier
    /// approver.
    Approvers,
    /// Every active finance officer.
    Finance,
    /// Every active admin.
    Admins,
    /// The officer who wrote the grant.
    GrantAuthor,
    /// The user who requested the tranche.
    Requester,
    /// The officer who asked for the report.
    ReportOfficer,
    /// The officers who approved the tranche.
    TrancheApprovers,
}

/// One line of the matrix: an event, the message it sends, and to whom. An event may have
/// several lines (different people get different messages); a line without a message says
/// on purpose that nobody is emailed, and why.
#[derive(Debug, Clone, Copy)]
pub struct Line {
    /// The event.
    pub event: Event,
    /// The message, or `None` when nobody is emailed.
    pub kind: Option<Kind>,
    /// Who receives it.
    pub to: &'static [Audience],
    /// Why these people (or why nobody).
    pub why: &'static str,
}

use Audience as A;

const fn line(event: Event, kind: Kind, to: &'static [Audience], why: &'static str) -> Line {
    Line {
        event,
        kind: Some(kind),
        to,
        why,
    }
}

const fn silent(event: Event, why: &'static str) -> Line {
    Line {
        event,
        kind: None,
        to: &[],
        why,
    }
}

/// The matrix.
#[rustfmt::skip]
pub const MATRIX: &[Line] = &[
    silent(Event::OrganisationCreated, "Done by an admin (or with an approved application, which emails the applicant); nobody else must act."),
    silent(Event::OrganisationUpdated, "A profile edit asks nothing of anyone; the history keeps it."),
    line(Event::OrganisationHidden, Kind::OrganisationHidden, &[A::Admins], "The secretariat must know a member left the public directory: it may be unsafe where it works."),
    silent(Event::MembershipAdmitted, "The applicant hears through the application's approval and the invitation."),
    line(Event::MembershipEndingSoon, Kind::MembershipReminder, &[A::OrganisationMembers], "Members must ask to renew before the period ends."),
    line(Event::MembershipGraceStarted, Kind::MembershipGrace, &[A::OrganisationMembers, A::Admins], "Members must renew before it lapses; admins decide renewals."),
    line(Event::MembershipLapsed, Kind::MembershipLapsed, &[A::OrganisationMembers, A::Admins], "Members lost their standing; admins may follow up."),
    line(Event::MembershipSuspended, Kind::MembershipSuspended, &[A::OrganisationMembers, A::Admins], "Members can no longer change their data; other admins should know."),
    line(Event::MembershipReinstated, Kind::MembershipReinstated, &[A::OrganisationMembers, A::Admins], "Members may act again."),
    line(Event::MembershipWithdrawn, Kind::MembershipWithdrawn, &[A::OrganisationMembers, A::Admins], "Members left the network."),
    line(Event::MembershipRenewed, Kind::MembershipRenewed, &[A::OrganisationMembers, A::Admins], "Members learn the new end of their period; other admins see the request settled."),
    line(Event::MembershipRenewalRequested, Kind::MembershipRenewalRequested, &[A::Admins], "Admins decide renewals."),
    line(Event::MembershipRenewalDeclined, Kind::MembershipRenewalDeclined, &[A::OrganisationMembers, A::Admins], "Members learn why and may ask again or write to the secretariat; other admins see the request settled."),
    line(Event::ApplicationSubmitted, Kind::ApplicationReceived, &[A::Addressee], "The applicant learns it arrived."),
    line(Event::ApplicationSubmitted, Kind::ApplicationNotice, &[A::Admins], "Admins review applications."),
    line(Event::ApplicationUnderReview, Kind::ApplicationUnderReview, &[A::Addressee], "The applicant learns it is being read."),
    line(Event::ApplicationApproved, Kind::ApplicationApproved, &[A::Addressee], "The applicant is now a member (an invitation follows)."),
    line(Event::ApplicationRejected, Kind::ApplicationRejected, &[A::Addressee], "The applicant learns why."),
    silent(Event::FundCreated, "Funds are kept by staff who see them in the API; nobody must act."),
    silent(Event::FundUpdated, "A fund's edit or closing asks nothing of anyone; grants against it are refused with a reason."),
    silent(Event::GrantCreated, "A draft is its author's own work."),
    silent(Event::GrantUpdated, "A draft's edit is its author's own work."),
    line(Event::GrantSubmitted, Kind::GrantSubmitted, &[A::Approvers], "Officers who may approve it (not its authors) must decide."),
    line(Event::GrantApproved, Kind::GrantApproved, &[A::GrantAuthor, A::OrganisationMembers], "The author activates it; the grantee learns of its grant."),
    line(Event::GrantRejected, Kind::GrantRejected, &[A::GrantAuthor], "The author may rework it; the grantee never saw the draft."),
    line(Event::GrantActivated, Kind::GrantActivated, &[A::OrganisationMembers, A::GrantAuthor], "The grantee may request tranches."),
    line(Event::GrantCancelled, Kind::GrantCancelled, &[A::OrganisationMembers, A::GrantAuthor, A::Finance], "Nothing more is paid; waiting tranches are cancelled."),
    line(Event::GrantClosed, Kind::GrantClosed, &[A::OrganisationMembers, A::GrantAuthor, A::Finance], "The grant is finished; nothing more is paid."),
    line(Event::TrancheRequested, Kind::DisbursementRequested, &[A::Approvers], "Officers who may approve it (not its requester) must decide."),
    line(Event::TrancheAwaitsSecondApproval, Kind::DisbursementSecondApproval, &[A::Approvers], "Another officer (neither the requester nor the first approver) must decide."),
    line(Event::TrancheApproved, Kind::DisbursementApproved, &[A::Finance, A::Requester, A::OrganisationMembers], "Finance pays it; the requester and the grantee learn it is coming."),
    line(Event::TrancheRejected, Kind::DisbursementRejected, &[A::Requester], "The member who asked learns why."),
    line(Event::TrancheCancelled, Kind::DisbursementCancelled, &[A::Requester], "The member who asked learns it will not be paid."),
    line(Event::ApprovedTrancheCancelled, Kind::DisbursementWithdrawn, &[A::Finance], "Finance was told to pay it and must not; the reason says why."),
    line(Event::TranchePaid, Kind::DisbursementPaid, &[A::Requester, A::OrganisationMembers], "The grantee checks the money arrived."),
    line(Event::TrancheReversed, Kind::DisbursementReversed, &[A::OrganisationMembers, A::Finance, A::GrantOfficers], "The payment is undone: finance and officers settle it, the grantee is told."),
    line(Event::ReportRequested, Kind::ReportRequested, &[A::OrganisationMembers], "The grantee must write it by its due date."),
    line(Event::ReportDueSoon, Kind::ReportDue, &[A::OrganisationMembers], "The grantee must submit it soon."),
    line(Event::ReportOverdue, Kind::ReportOverdue, &[A::OrganisationMembers], "The grantee must submit it now."),
    line(Event::ReportOverdue, Kind::ReportOverdueOfficer, &[A::ReportOfficer], "The officer who asked for it follows up."),
    line(Event::ReportSubmitted, Kind::ReportSubmitted, &[A::ReportOfficer, A::GrantOfficers], "Grant officers review it."),
    line(Event::ReportAccepted, Kind::ReportAccepted, &[A::OrganisationMembers], "The grantee learns it is done; tranches waiting on it may proceed."),
    line(Event::ReportReturned, Kind::ReportReturned, &[A::OrganisationMembers], "The grantee must change and resubmit it."),
    line(Event::UserInvited, Kind::Invitation, &[A::Addressee], "The person sets a password."),
    line(Event::PasswordResetRequested, Kind::PasswordReset, &[A::Addressee], "The owner sets a new password."),
    line(Event::PasswordChanged, Kind::PasswordChanged, &[A::Addressee], "The owner learns of it (and acts if it was not them)."),
    line(Event::AccountLocked, Kind::AccountLocked, &[A::Addressee], "The owner learns of it (and acts if it was not them)."),
    line(Event::WebhookDisabled, Kind::WebhookDisabled, &[A::Admins], "Admins tell the partner."),
    line(Event::FundIncreaseAwaitsConfirmation, Kind::FundIncreasePending, &[A::Finance, A::Admins], "A finance officer or admin other than the one who asked must confirm it before it applies."),
    line(Event::FxRateAwaitsConfirmation, Kind::FxRatePending, &[A::Finance, A::Admins], "A finance officer or admin other than the one who set it must confirm it before it applies."),
    line(Event::BankAccountProposed, Kind::BankAccountChanging, &[A::OrganisationMembers], "Every member learns where the organisation's money will go, and tells the secretariat if it was not them."),
    line(Event::BankAccountProposed, Kind::BankAccountPending, &[A::Finance], "A finance officer other than the proposer must confirm it."),
    line(Event::BankAccountConfirmed, Kind::BankAccountConfirmed, &[A::OrganisationMembers], "Members learn when it will be paid to; the cooling-off period is their time to object."),
    line(Event::BudgetRevisionProposed, Kind::BudgetRevisionPending, &[A::Approvers], "A grant officer other than its proposer must approve or reject it before it applies."),
    line(Event::PaymentRunAwaitsApproval, Kind::PaymentRunPending, &[A::Finance], "Another finance officer (not the preparer) must approve it."),
    line(Event::PaymentReturned, Kind::PaymentReturned, &[A::TrancheApprovers, A::Finance], "The tranche waits to be paid again: its approvers check the account, finance pays it."),
    line(Event::FxRateChanged, Kind::FxRateChanged, &[A::GrantOfficers, A::Finance], "Grant rates, tranche approvals and fund limits follow it; officers and finance check what it moves."),
];

/// The people an event concerns; each [`Audience`] is resolved from these.
#[derive(Debug, Clone, Default)]
pub struct Parties {
    /// The organisation whose members hear of it.
    pub organisation_id: Option<String>,
    /// The grant's author.
    pub grant_author: Option<String>,
    /// The tranche's requester.
    pub requester: Option<String>,
    /// The officer who asked for the report.
    pub report_officer: Option<String>,
    /// Users who may not approve (authors, requester, an earlier approver).
    pub not_approvers: Vec<String>,
    /// The one person the event is about.
    pub addressee: Option<Recipient>,
    /// The officers who approved the tranche.
    pub tranche_approvers: Vec<String>,
}

/// The lines of `event`.
pub fn lines(event: Event) -> impl Iterator<Item = &'static Line> {
    MATRIX.iter().filter(move |l| l.event == event)
}

/// The matrix line that sends `kind` on `event`.
pub fn line_of(event: Event, kind: Kind) -> Option<&'static Line> {
    lines(event).find(|l| l.kind == Some(kind))
}

fn users_where(
    conn: &mut DbConn,
    role: Option<Role>,
    org: Option<&str>,
    ids: Option<&[&str]>,
) -> QueryResult<Vec<Recipient>> {
    let mut q = users::table
        .filter(users::status.eq(UserStatus::Active))
        .select((
            users::id,
            users::email,
            users::display_name,
            users::language,
        ))
        .order(users::id.asc())
        .into_boxed();
    if let Some(r) = role {
        q = q.filter(users::role.eq(r.as_str()));
    }
    if let Some(o) = org {
        q = q.filter(users::organisation_id.eq(o.to_string()));
    }
    if let Some(ids) = ids {
        q = q.filter(users::id.eq_any(ids.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
    }
    let rows: Vec<(String, String, String, String)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, email, name, language)| Recipient {
            email,
            name,
            user_id: Some(id),
            lang: crate::i18n::Lang::of_stored(&language),
        })
        .collect())
}

fn one(conn: &mut DbConn, id: &Option<String>) -> QueryResult<Vec<Recipient>> {
    match id {
        Some(id) => users_where(conn, None, None, Some(&[id.as_str()])),
        None => Ok(Vec::new()),
    }
}

/// The recipients of `audience` for an event with `parties`.
pub fn resolve(
    conn: &mut DbConn,
    audience: Audience,
    parties: &Parties,
) -> QueryResult<Vec<Recipient>> {
    match audience {
        A::Addressee => Ok(parties.addressee.clone().into_iter().collect()),
        A::OrganisationMembers => match &parties.organisation_id {
            Some(org) => users_where(conn, Some(Role::Member), Some(org), None),
            None => Ok(Vec::new()),
        },
        A::GrantOfficers => users_where(conn, Some(Role::GrantOfficer), None, None),
        A::Approvers => Ok(users_where(conn, Some(Role::GrantOfficer), None, None)?
            .into_iter()
            .filter(|r| {
                r.user_id
                    .as_ref()
                    .is_none_or(|id| !parties.not_approvers.contains(id))
            })
            .collect()),
        A::Finance => users_where(conn, Some(Role::FinanceOfficer), None, None),
        A::Admins => users_where(conn, Some(Role::Admin), None, None),
        A::GrantAuthor => one(conn, &parties.grant_author),
        A::Requester => one(conn, &parties.requester),
        A::ReportOfficer => one(conn, &parties.report_officer),
        A::TrancheApprovers => {
            let ids: Vec<&str> = parties
                .tranche_approvers
                .iter()
                .map(String::as_str)
                .collect();
            if ids.is_empty() {
                Ok(Vec::new())
            } else {
                users_where(conn, None, None, Some(&ids))
            }
        }
    }
}

/// Who acts, as a message names them.
#[derive(Debug, Clone)]
pub struct Author {
    /// The acting user (never emailed about its own change).
    pub user_id: Option<String>,
    /// The name the message gives: a user's display name, or the network's for a job.
    pub name: String,
}

/// Queues `kind` on `event` for every recipient of its matrix line, once each by address,
/// never for the author, with `actor_name` added to the context. `key` gives a dedupe key
/// per recipient (reminders). An event and kind that the matrix does not pair is a bug: 500.
#[expect(
    clippy::too_many_arguments,
    reason = "the matrix needs the connection, settings, author, event, kind, parties, context and key"
)]
pub fn deliver(
    conn: &mut DbConn,
    config: &Config,
    author: &Author,
    event: Event,
    kind: Kind,
    parties: &Parties,
    mut context: Value,
    key: &dyn Fn(&Recipient) -> Option<String>,
) -> Result<usize, ApiError> {
    let line = line_of(event, kind).ok_or_else(|| {
        ApiError::internal(format!(
            "{event:?} sends no {kind:?} in the notification matrix"
        ))
    })?;
    if let Value::Object(map) = &mut context {
        map.insert("actor_name".into(), Value::String(author.name.clone()));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut queued = 0;
    for audience in line.to {
        for r in resolve(conn, *audience, parties)? {
            let is_author = author.user_id.is_some() && r.user_id == author.user_id;
            if is_author || seen.contains(&r.email) {
                continue;
            }
            seen.push(r.email.clone());
            if enqueue(conn, config, kind, &r, context.clone(), key(&r))?.is_some() {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_message_is_sent_by_exactly_one_line_of_the_matrix() {
        for kind in Kind::all() {
            let n = MATRIX.iter().filter(|l| l.kind == Some(kind)).count();
            assert_eq!(n, 1, "{kind:?} is in {n} lines");
        }
    }

    #[test]
    fn a_silent_line_names_nobody_and_a_sending_line_names_someone() {
        for l in MATRIX {
            assert_eq!(l.kind.is_none(), l.to.is_empty(), "{:?}", l.event);
            assert!(!l.why.is_empty());
        }
    }
}

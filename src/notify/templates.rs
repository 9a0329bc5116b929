//! Every kind of message the service sends, in one list, with its subject and its plain-text
//! and HTML bodies (compiled into the binary). HTML escapes every value it is given.

use std::sync::OnceLock;

use minijinja::Environment;
use serde_json::Value;

/// Every kind of email. Adding one means a variant, a subject and two template files.
///
/// A translated kind's subject and sentences are messages of `locales/<lang>/emails.ftl`
/// (`{{ l10n("report-due-subject") }}`), written in the recipient's language; a kind not yet
/// converted is English for everyone (see `crate::i18n` on converting one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A new user is invited to set a password.
    Invitation,
    /// A password reset link.
    PasswordReset,
    /// The password was changed.
    PasswordChanged,
    /// Repeated failed logins locked the account for a while.
    AccountLocked,
    /// A membership application was received (to the applicant).
    ApplicationReceived,
    /// A membership application arrived (to every active admin).
    ApplicationNotice,
    /// A membership application is being reviewed (to the applicant).
    ApplicationUnderReview,
    /// A membership application was approved (to the applicant).
    ApplicationApproved,
    /// A membership application was rejected, with the reason (to the applicant).
    ApplicationRejected,
    /// An organisation was hidden from the public directory (to admins).
    OrganisationHidden,
    /// A membership period ends soon (to the organisation's member users).
    MembershipReminder,
    /// A membership period ended: grace until it lapses.
    MembershipGrace,
    /// A membership lapsed.
    MembershipLapsed,
    /// A membership was suspended.
    MembershipSuspended,
    /// A membership was reinstated.
    MembershipReinstated,
    /// A membership was withdrawn.
    MembershipWithdrawn,
    /// A membership was renewed.
    MembershipRenewed,
    /// A member asks to renew (to admins).
    MembershipRenewalRequested,
    /// An admin declined a renewal request, with the reason (to members and other admins).
    MembershipRenewalDeclined,
    /// A grant was submitted for approval (to officers who may approve it).
    GrantSubmitted,
    /// A grant was approved (to its author and the grantee).
    GrantApproved,
    /// A grant was rejected (to its author).
    GrantRejected,
    /// A grant was activated (to the grantee and its author).
    GrantActivated,
    /// A grant was cancelled.
    GrantCancelled,
    /// A grant was closed.
    GrantClosed,
    /// An approved tranche was cancelled (to finance, who must not pay it).
    DisbursementWithdrawn,
    /// A tranche was requested (to officers who may approve it).
    DisbursementRequested,
    /// A tranche awaits its second approval (to the other officers).
    DisbursementSecondApproval,
    /// A tranche was approved (to finance, the requester and the grantee).
    DisbursementApproved,
    /// A tranche was rejected (to its requester).
    DisbursementRejected,
    /// A tranche was cancelled (to its requester).
    DisbursementCancelled,
    /// A tranche was paid (to the requester and the grantee).
    DisbursementPaid,
    /// A payment was reversed (to the grantee, finance and officers).
    DisbursementReversed,
    /// A report was asked for (to the grantee).
    ReportRequested,
    /// A report is due soon (to the grantee).
    ReportDue,
    /// A report is overdue (to the grantee).
    ReportOverdue,
    /// A report is overdue (to the officer who asked for it).
    ReportOverdueOfficer,
    /// A report was submitted (to grant officers).
    ReportSubmitted,
    /// A report was returned (to the grantee).
    ReportReturned,
    /// A report was accepted (to the grantee).
    ReportAccepted,
    /// A partner app's webhook subscription was disabled (to every active admin).
    WebhookDisabled,
    /// A fund's amount (or a new fund's) waits for a second person (to finance and admins).
    FundIncreasePending,
    /// A reference rate waits for a second person (to finance and admins).
    FxRatePending,
    /// A reference rate changed (to grant officers and finance).
    FxRateChanged,
    /// An organisation's payee bank account is changing (to its members).
    BankAccountChanging,
    /// A payee bank account waits for confirmation (to finance).
    BankAccountPending,
    /// A payee bank account was confirmed and is usable after the cooling-off period (to members).
    BankAccountConfirmed,
    /// A payment run waits for a second finance officer's approval (to the other finance officers).
    PaymentRunPending,
    /// The bank returned a payment (to the tranche's approvers and finance).
    PaymentReturned,
    /// A revision of an approved budget waits for an officer (to officers other than its proposer).
    BudgetRevisionPending,
}

/// (kind, stored name, subject template). The single list of message kinds.
const KINDS: &[(Kind, &str, &str)] = &[
    (
        Kind::Invitation,
        "invitation",
        "You are invited to {{ network_name }}",
    ),
    (
        Kind::PasswordReset,
        "password_reset",
        "Reset your {{ network_name }} password",
    ),
    (
        Kind::PasswordChanged,
        "password_changed",
        "Your {{ network_name }} password was changed",
    ),
    (
        Kind::AccountLocked,
        "account_locked",
        "Your {{ network_name }} account was locked after failed logins",
    ),
    (
        Kind::ApplicationReceived,
        "application_received",
        "We received your application to {{ network_name }}",
    ),
    (
        Kind::ApplicationNotice,
        "application_notice",
        "New {{ network_name }} membership application",
    ),
    (
        Kind::ApplicationUnderReview,
        "application_under_review",
        "Your {{ network_name }} application is under review",
    ),
    (
        Kind::ApplicationApproved,
        "application_approved",
        "Welcome to {{ network_name }}",
    ),
    (
        Kind::ApplicationRejected,
        "application_rejected",
        "Your {{ network_name }} membership application",
    ),
    (
        Kind::MembershipReminder,
        "membership_reminder",
        "{{ l10n(\"membership-reminder-subject\") }}",
    ),
    (
        Kind::MembershipGrace,
        "membership_grace",
        "[{{ network_name }}] The membership of {{ organisation_name }} has ended: renew it before {{ lapses_on }}",
    ),
    (
        Kind::MembershipLapsed,
        "membership_lapsed",
        "[{{ network_name }}] The membership of {{ organisation_name }} has lapsed",
    ),
    (
        Kind::MembershipSuspended,
        "membership_suspended",
        "[{{ network_name }}] The membership of {{ organisation_name }} is suspended",
    ),
    (
        Kind::MembershipReinstated,
        "membership_reinstated",
        "[{{ network_name }}] The membership of {{ organisation_name }} is reinstated",
    ),
    (
        Kind::MembershipWithdrawn,
        "membership_withdrawn",
        "[{{ network_name }}] The membership of {{ organisation_name }} is withdrawn",
    ),
    (
        Kind::MembershipRenewed,
        "membership_renewed",
        "{{ l10n(\"membership-renewed-subject\") }}",
    ),
    (
        Kind::OrganisationHidden,
        "organisation_hidden",
        "[{{ network_name }}] {{ organisation_name }} is now hidden from the public directory",
    ),
    (
        Kind::MembershipRenewalRequested,
        "membership_renewal_requested",
        "[{{ network_name }}] {{ organisation_name }} asks to renew its membership",
    ),
    (
        Kind::MembershipRenewalDeclined,
        "membership_renewal_declined",
        "[{{ network_name }}] The renewal of {{ organisation_name }}'s membership was declined",
    ),
    (
        Kind::GrantSubmitted,
        "grant_submitted",
        "[{{ network_name }}] Grant {{ grant_reference }} awaits approval",
    ),
    (
        Kind::GrantApproved,
        "grant_approved",
        "[{{ network_name }}] Grant {{ grant_reference }} approved",
    ),
    (
        Kind::GrantRejected,
        "grant_rejected",
        "[{{ network_name }}] Grant {{ grant_reference }} rejected",
    ),
    (
        Kind::GrantActivated,
        "grant_activated",
        "[{{ network_name }}] Grant {{ grant_reference }} is active",
    ),
    (
        Kind::GrantCancelled,
        "grant_cancelled",
        "[{{ network_name }}] Grant {{ grant_reference }} cancelled",
    ),
    (
        Kind::GrantClosed,
        "grant_closed",
        "[{{ network_name }}] Grant {{ grant_reference }} closed",
    ),
    (
        Kind::DisbursementRequested,
        "disbursement_requested",
        "[{{ network_name }}] Tranche of {{ amount }} requested on grant {{ grant_reference }}",
    ),
    (
        Kind::DisbursementSecondApproval,
        "disbursement_second_approval",
        "[{{ network_name }}] Tranche of {{ amount }} on grant {{ grant_reference }} awaits a second approval",
    ),
    (
        Kind::DisbursementApproved,
        "disbursement_approved",
        "[{{ network_name }}] Tranche of {{ amount }} approved on grant {{ grant_reference }}",
    ),
    (
        Kind::DisbursementRejected,
        "disbursement_rejected",
        "[{{ network_name }}] Tranche of {{ amount }} rejected on grant {{ grant_reference }}",
    ),
    (
        Kind::DisbursementCancelled,
        "disbursement_cancelled",
        "[{{ network_name }}] Tranche of {{ amount }} cancelled on grant {{ grant_reference }}",
    ),
    (
        Kind::DisbursementWithdrawn,
        "disbursement_withdrawn",
        "[{{ network_name }}] Do not pay: approved tranche of {{ amount }} on grant {{ grant_reference }} is cancelled",
    ),
    (
        Kind::DisbursementPaid,
        "disbursement_paid",
        "{{ l10n(\"disbursement-paid-subject\") }}",
    ),
    (
        Kind::DisbursementReversed,
        "disbursement_reversed",
        "[{{ network_name }}] Payment of {{ amount }} reversed on grant {{ grant_reference }}",
    ),
    (
        Kind::ReportRequested,
        "report_requested",
        "[{{ network_name }}] Report \"{{ report_title }}\" due on {{ due_on }}",
    ),
    (
        Kind::ReportDue,
        "report_due",
        "{{ l10n(\"report-due-subject\") }}",
    ),
    (
        Kind::ReportOverdue,
        "report_overdue",
        "[{{ network_name }}] Report \"{{ report_title }}\" is overdue",
    ),
    (
        Kind::ReportOverdueOfficer,
        "report_overdue_officer",
        "[{{ network_name }}] Report \"{{ report_title }}\" from {{ grantee_name }} is overdue",
    ),
    (
        Kind::ReportSubmitted,
        "report_submitted",
        "[{{ network_name }}] Report \"{{ report_title }}\" submitted by {{ grantee_name }}",
    ),
    (
        Kind::ReportReturned,
        "report_returned",
        "[{{ network_name }}] Report \"{{ report_title }}\" returned for changes",
    ),
    (
        Kind::ReportAccepted,
        "report_accepted",
        "[{{ network_name }}] Report \"{{ report_title }}\" accepted",
    ),
    (
        Kind::WebhookDisabled,
        "webhook_disabled",
        "[{{ network_name }}] A partner app's webhook was disabled",
    ),
    (
        Kind::FundIncreasePending,
        "fund_increase_pending",
        "[{{ network_name }}] The amount of fund {{ fund_reference }} awaits your confirmation: {{ pending_amount }}",
    ),
    (
        Kind::FxRatePending,
        "fx_rate_pending",
        "[{{ network_name }}] A new reference rate for {{ currency }} awaits your confirmation",
    ),
    (
        Kind::FxRateChanged,
        "fx_rate_changed",
        "[{{ network_name }}] The reference rate of {{ currency }} is now {{ rate }} {{ base_currency }}",
    ),
    (
        Kind::BankAccountChanging,
        "bank_account_changing",
        "[{{ network_name }}] The bank details of {{ organisation_name }} are changing",
    ),
    (
        Kind::BankAccountPending,
        "bank_account_pending",
        "[{{ network_name }}] A bank account of {{ organisation_name }} awaits your confirmation",
    ),
    (
        Kind::BankAccountConfirmed,
        "bank_account_confirmed",
        "[{{ network_name }}] A new bank account of {{ organisation_name }} was confirmed",
    ),
    (
        Kind::BudgetRevisionPending,
        "budget_revision_pending",
        "[{{ network_name }}] A budget revision of grant {{ grant_reference }} awaits your decision",
    ),
    (
        Kind::PaymentRunPending,
        "payment_run_pending",
        "[{{ network_name }}] A payment run of {{ control_sum }} awaits your approval",
    ),
    (
        Kind::PaymentReturned,
        "payment_returned",
        "[{{ network_name }}] The bank returned a payment of {{ amount }} on grant {{ grant_reference }}",
    ),
];

macro_rules! template_files {
    ($($name:literal),* $(,)?) => {
        &[$(
            (concat!($name, ".txt"), include_str!(concat!("templates/", $name, ".txt"))),
            (concat!($name, ".html"), include_str!(concat!("templates/", $name, ".html"))),
        )*]
    };
}

const FILES: &[(&str, &str)] = template_files!(
    "invitation",
    "password_reset",
    "password_changed",
    "account_locked",
    "application_received",
    "application_notice",
    "application_under_review",
    "application_approved",
    "application_rejected",
    "membership_reminder",
    "membership_grace",
    "membership_lapsed",
    "membership_suspended",
    "membership_reinstated",
    "membership_withdrawn",
    "membership_renewed",
    "membership_renewal_requested",
    "membership_renewal_declined",
    "organisation_hidden",
    "grant_submitted",
    "grant_approved",
    "grant_rejected",
    "grant_activated",
    "grant_cancelled",
    "grant_closed",
    "disbursement_requested",
    "disbursement_second_approval",
    "disbursement_approved",
    "disbursement_rejected",
    "disbursement_cancelled",
    "disbursement_withdrawn",
    "disbursement_paid",
    "disbursement_reversed",
    "report_requested",
    "report_due",
    "report_overdue",
    "report_overdue_officer",
    "report_submitted",
    "report_returned",
    "report_accepted",
    "webhook_disabled",
    "fund_increase_pending",
    "fx_rate_pending",
    "fx_rate_changed",
    "bank_account_changing",
    "bank_account_pending",
    "bank_account_confirmed",
    "payment_run_pending",
    "payment_returned",
    "budget_revision_pending",
);
const LAYOUT: &str = include_str!("templates/layout.html");

impl Kind {
    /// The stored name of this kind.
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _, _)| *k == self)
            .map(|(_, n, _)| *n)
            .unwrap_or("unknown")
    }

    /// Every kind.
    pub fn all() -> impl Iterator<Item = Kind> {
        KINDS.iter().map(|(k, _, _)| *k)
    }

    fn subject_template(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _, _)| *k == self)
            .map(|(_, _, s)| *s)
            .unwrap_or("")
    }
}

/// The compiled templates. They are compiled into the binary and a unit test renders each,
/// so an error here is a build defect; it still surfaces as an error, never a panic.
fn env() -> Result<&'static Environment<'static>, minijinja::Error> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // `l10n("key")`: a message of locales/<lang>/emails.ftl in the recipient's language.
        env.add_function(
            "l10n",
            |state: &minijinja::State, key: String, kwargs: minijinja::value::Kwargs| {
                crate::i18n::template_function(state, &key, &kwargs)
            },
        );
        // Auto-escaping follows the file extension: .html escapes, .txt does not.
        env.add_template("layout.html", LAYOUT)
            .map_err(|e| e.to_string())?;
        for (name, src) in FILES {
            env.add_template(name, src).map_err(|e| e.to_string())?;
        }
        Ok(env)
    });
    env.as_ref()
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::TemplateNotFound, e.clone()))
}

/// A rendered message.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Renders a kind with its context (which must include `network_name`, `recipient_name`
/// and `base_url`, added by `enqueue`).
pub fn render(kind: Kind, ctx: &Value) -> Result<Rendered, minijinja::Error> {
    let env = env()?;
    let subject = env
        .render_str(kind.subject_template(), ctx)?
        .replace(['\r', '\n'], " ");
    let text = env
        .get_template(&format!("{}.txt", kind.name()))?
        .render(ctx)?;
    let html = env
        .get_template(&format!("{}.html", kind.name()))?
        .render(ctx)?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Value {
        let mut ctx = serde_json::json!({
            "network_name": "IDPC", "recipient_name": "<b>Ana</b>", "base_url": "http://x",
            "link": "http://x/accept?token=abc", "expires_in": "30 minutes", "locked_minutes": 5,
            "invited_by": "Admin", "organisation_name": "Org & Co",
            "reason": "Out of scope", "days_left": 30, "period_end": "31 January 2027",
            "grant_reference": "IDPC-2026-0001", "grant_title": "Title", "grantee_name": "Org",
            "amount": "USD 10.00", "report_title": "Report", "due_on": "1 December 2026",
            "days": 3, "payment_reference": "PAY-1", "webhook_url": "https://partner.example/hook",
            "actor_name": "Officer", "lapses_on": "1 March 2027", "status": "grace",
            "planned_end": "31 December 2026", "paid": "USD 5.00", "planned_date": "1 May 2026",
            "requested_by_name": "Member", "approvals_required": 2, "requires_report": null,
            "paid_on": "2 May 2026", "inbox_link": "http://x/inbox", "report_kind": "narrative",
            "fund_title": "Core", "fund_reference": "OSF-1", "pending_amount": "USD 900,000.00",
            "currency": "GBP", "base_currency": "USD", "rate": "1.270000", "as_of": "15 January 2026",
            "previous_rate": "1.250000", "first_rate": false,
        });
        let payments = serde_json::json!({
            "holder_name": "Org", "masked_number": "****1234", "usable_from": "4 May 2026 10:00 UTC",
            "account_link": "http://x/a", "run_link": "http://x/r", "control_sum": "EUR 3.00",
            "line_count": 3, "value_date": "4 May 2026",
            "files": [{"name": "accounts.pdf", "size": "48.2 KB"}],
            "largest_move_percent": "33.34", "tolerance_percent": 10,
            "changes": ["activities: Trainings, 450.00 → 300.00 USD"],
        });
        ctx["lang"] = "en".into();
        if let (Value::Object(all), Value::Object(more)) = (&mut ctx, payments) {
            all.extend(more);
        }
        ctx
    }

    #[test]
    fn every_kind_renders_text_and_html() {
        for kind in Kind::all() {
            let r = render(kind, &ctx()).unwrap_or_else(|e| panic!("{kind:?}: {e:#}"));
            assert!(r.subject.contains("IDPC"), "{kind:?}");
            assert!(
                r.text.contains("<b>Ana</b>"),
                "{kind:?} text keeps the name as typed"
            );
            assert!(
                r.html.contains("&lt;b&gt;Ana") && !r.html.contains("<b>"),
                "{kind:?} html escapes the name"
            );
        }
    }

    #[test]
    fn a_translated_kind_is_written_in_the_recipients_language_with_its_plural() {
        let mut c = ctx();
        c["lang"] = "es".into();
        c["days"] = 1.into();
        let r = render(Kind::ReportDue, &c).unwrap();
        assert_eq!(r.subject, "[IDPC] El informe «Report» vence en 1 día");
        assert!(r.text.starts_with("Estimada/o <b>Ana</b>:"), "{}", r.text);
        assert!(r.html.contains("<html lang=\"es\">"), "{}", r.html);
        assert!(
            r.text
                .contains("vence el 1 December 2026, dentro de 1 día."),
            "{}",
            r.text
        );
    }
}

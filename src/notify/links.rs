//! The pages email links open, in one place: the console serves these paths (it imports the
//! patterns from here), and every email builds its links with these functions from
//! `APP_BASE_URL`. A network with its own front end serves the same paths there.

use crate::config::Config;

/// Sets a password from an invitation (`?token=`); stands for `POST /api/v1/auth/invitations/accept`.
pub const ACCEPT_INVITATION: &str = "/accept-invitation";
/// Sets a new password from a reset link (`?token=`); stands for `POST /api/v1/auth/password-reset/confirm`.
pub const RESET_PASSWORD: &str = "/reset-password";
/// Asks for a password reset link; stands for `POST /api/v1/auth/password-reset`.
pub const FORGOT_PASSWORD: &str = "/forgot-password";
/// Signs in; stands for `POST /api/v1/auth/login`.
pub const SIGN_IN: &str = "/sign-in";
/// What awaits the signed-in user; stands for `GET /api/v1/disbursements?awaiting=me`.
pub const INBOX: &str = "/inbox";
/// A grant; stands for `GET /api/v1/grants/{grant_id}`.
pub const GRANT: &str = "/grants/{grant_id}";
/// A tranche; stands for `GET /api/v1/disbursements/{tranche_id}` and its commands.
pub const DISBURSEMENT: &str = "/disbursements/{tranche_id}";
/// A report; stands for `POST /api/v1/reports/{report_id}/submit` (members), `.../accept` and
/// `.../return` (grant staff).
pub const REPORT: &str = "/reports/{report_id}";
/// A membership application (admins); stands for `GET /api/v1/membership-applications/{id}`
/// and its `review`, `approve` and `reject` commands.
pub const APPLICATION: &str = "/admin/membership-applications/{application_id}";
/// An organisation's membership; stands for `POST /api/v1/organisations/{id}/membership`
/// (admins) and `.../membership/renewal-requests` (members).
pub const MEMBERSHIP: &str = "/organisations/{organisation_id}/membership";

/// A fund, with a raise of its amount to confirm; stands for `GET /api/v1/funds/{fund_id}`
/// and `POST /api/v1/funds/{fund_id}/amount-increase/approve`.
pub const FUND: &str = "/funds/{fund_id}";
/// A payee bank account (finance confirms it here); stands for
/// `GET /api/v1/organisations/{id}/bank-accounts/{account_id}` and its `confirm` command.
pub const BANK_ACCOUNT: &str = "/organisations/{organisation_id}/bank-accounts/{account_id}";
/// A payment run; stands for `GET /api/v1/payment-runs/{id}` and its commands.
pub const PAYMENT_RUN: &str = "/payment-runs/{run_id}";
/// A revision of a grant's budget (an officer approves or rejects it here); stands for
/// `POST /api/v1/budget-revisions/{revision_id}/approve` and `.../reject`.
pub const BUDGET_REVISION: &str = "/budget-revisions/{revision_id}";

/// Every path pattern above, for a test that follows every link.
pub const ALL: &[&str] = &[
    ACCEPT_INVITATION,
    RESET_PASSWORD,
    FORGOT_PASSWORD,
    SIGN_IN,
    INBOX,
    GRANT,
    DISBURSEMENT,
    REPORT,
    APPLICATION,
    MEMBERSHIP,
    FUND,
];

/// `path` under `APP_BASE_URL`.
pub fn absolute(config: &Config, path: &str) -> String {
    format!("{}{path}", config.app_base_url)
}

fn fill(pattern: &str, id: &str) -> String {
    match (pattern.find('{'), pattern.find('}')) {
        (Some(a), Some(b)) => format!("{}{id}{}", &pattern[..a], &pattern[b + 1..]),
        _ => pattern.to_string(),
    }
}

/// The invitation link carrying its one-time token.
pub fn accept_invitation(config: &Config, token: &str) -> String {
    absolute(config, &format!("{ACCEPT_INVITATION}?token={token}"))
}

/// The password reset link carrying its one-time token.
pub fn reset_password(config: &Config, token: &str) -> String {
    absolute(config, &format!("{RESET_PASSWORD}?token={token}"))
}

/// The page to ask for a new password.
pub fn forgot_password(config: &Config) -> String {
    absolute(config, FORGOT_PASSWORD)
}

/// The sign-in page.
pub fn sign_in(config: &Config) -> String {
    absolute(config, SIGN_IN)
}

/// The approval inbox.
pub fn inbox(config: &Config) -> String {
    absolute(config, INBOX)
}

/// A grant's page.
pub fn grant(config: &Config, grant_id: &str) -> String {
    absolute(config, &fill(GRANT, grant_id))
}

/// A tranche's page.
pub fn disbursement(config: &Config, tranche_id: &str) -> String {
    absolute(config, &fill(DISBURSEMENT, tranche_id))
}

/// A fund's page (finance confirms a raise there).
pub fn fund(config: &Config, fund_id: &str) -> String {
    absolute(config, &fill(FUND, fund_id))
}

/// A report's page.
pub fn report(config: &Config, report_id: &str) -> String {
    absolute(config, &fill(REPORT, report_id))
}

/// A membership application's page (admins).
pub fn application(config: &Config, application_id: &str) -> String {
    absolute(config, &fill(APPLICATION, application_id))
}

/// An organisation's membership page.
pub fn membership(config: &Config, organisation_id: &str) -> String {
    absolute(config, &fill(MEMBERSHIP, organisation_id))
}

/// The page of a payee bank account.
pub fn bank_account(config: &Config, organisation_id: &str, account_id: &str) -> String {
    absolute(
        config,
        &format!("/organisations/{organisation_id}/bank-accounts/{account_id}"),
    )
}

/// The page of a budget revision (an officer decides it there).
pub fn budget_revision(config: &Config, revision_id: &str) -> String {
    absolute(config, &fill(BUDGET_REVISION, revision_id))
}

/// The page of a payment run.
pub fn payment_run(config: &Config, run_id: &str) -> String {
    absolute(config, &fill(PAYMENT_RUN, run_id))
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn a_pattern_takes_the_id_in_place_of_its_parameter() {
        assert_eq!(fill(super::GRANT, "g1"), "/grants/g1");
        assert_eq!(
            fill(super::MEMBERSHIP, "o1"),
            "/organisations/o1/membership"
        );
        assert_eq!(fill(super::INBOX, "x"), "/inbox");
    }
}

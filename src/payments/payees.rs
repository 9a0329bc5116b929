//! Reading and seeding payee accounts outside their change-control steps: the accounts a
//! tranche may be paid to now (the pay form and run preparation offer them), the accounts that
//! wait for finance, and usable accounts written directly for the demo data and the tests'
//! fixtures (never by a request).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::accounts::{AccountRow, AccountStatus, Scheme, aad};
use super::runs::{LineStatus, MAX_LINES, NewLine};
use crate::auth::caller::Finance;
use crate::config::Config;
use crate::crypto::KeyRing;
use crate::db::DbConn;
use crate::db::schema::{bank_accounts, organisations};
use crate::db::schema::{disbursements, payment_run_lines};
use crate::error::ApiError;
use crate::grants::tranche::TrancheStatus;

/// The accounts of `organisation_id` a tranche in `currency` may be paid to at `now`, newest
/// first (the pay form offers them; the first is the one shown on an unpaid tranche).
pub fn payable(
    conn: &mut DbConn,
    organisation_id: &str,
    currency: &str,
    now: NaiveDateTime,
) -> Result<Vec<AccountRow>, ApiError> {
    Ok(bank_accounts::table
        .filter(bank_accounts::organisation_id.eq(organisation_id))
        .filter(bank_accounts::currency.eq(currency))
        .filter(bank_accounts::status.eq(AccountStatus::Confirmed))
        .filter(bank_accounts::usable_from.le(now))
        .order(bank_accounts::id.desc())
        .select(AccountRow::as_select())
        .load(conn)?)
}

/// A confirmed account already past its cooling-off period, written without the steps of
/// `propose` and `confirm`: only for the demo data and the tests' fixtures, which need a payee
/// before any tranche can be paid. `proposer` and `confirmer` are recorded as given.
pub struct Seed<'a> {
    /// The organisation paid to it.
    pub organisation_id: &'a str,
    /// Account holder.
    pub holder_name: &'a str,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// An IBAN, valid.
    pub iban: &'a str,
    /// Its bank's BIC.
    pub bic: &'a str,
    /// Who proposed it.
    pub proposer: &'a str,
    /// Who confirmed it (another person).
    pub confirmer: &'a str,
}

/// Writes `s` as a usable account at `now`; returns its id.
pub fn seed_usable(
    conn: &mut DbConn,
    keyring: &KeyRing,
    s: &Seed<'_>,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
    let number: String = s.iban.chars().filter(|c| !c.is_whitespace()).collect();
    let last4 = number[number.len().saturating_sub(4)..].to_string();
    let row = AccountRow {
        number_sealed: keyring.seal(number.as_bytes(), &aad(&id)),
        id: id.clone(),
        organisation_id: s.organisation_id.to_string(),
        holder_name: s.holder_name.to_string(),
        currency: s.currency.to_string(),
        scheme: Scheme::Iban,
        number_last4: last4,
        bic: s.bic.to_string(),
        bank_name: None,
        bank_country: Some(number.chars().take(2).collect()),
        status: AccountStatus::Confirmed,
        replaces_id: None,
        proposed_by: s.proposer.to_string(),
        proposed_at: now - chrono::Duration::days(30),
        confirmed_by: Some(s.confirmer.to_string()),
        confirmed_at: Some(now - chrono::Duration::days(29)),
        usable_from: Some(now - chrono::Duration::days(1)),
        retired_by: None,
        retired_at: None,
    };
    diesel::insert_into(bank_accounts::table)
        .values(&row)
        .execute(conn)?;
    Ok(id)
}

/// A usable account of `organisation_id` in `currency` for the demo data to pay tranches to:
/// the newest one there is, else a seeded one (an example IBAN in the organisation's name).
pub fn demo_payee(
    conn: &mut DbConn,
    config: &Config,
    organisation_id: &str,
    currency: &str,
    proposer: &str,
    confirmer: &str,
) -> Result<String, ApiError> {
    let now = config.clock.naive();
    if let Some(a) = payable(conn, organisation_id, currency, now)?.first() {
        return Ok(a.id.clone());
    }
    let holder: String = organisations::table
        .find(organisation_id)
        .select(organisations::name)
        .first(conn)?;
    let keyring = KeyRing::from_config(config).map_err(ApiError::internal)?;
    let seed = Seed {
        organisation_id,
        holder_name: &holder,
        currency,
        iban: "DE44500105175407324931",
        bic: "MARKDEF1500",
        proposer,
        confirmer,
    };
    seed_usable(conn, &keyring, &seed, now)
}

/// The accounts that wait for finance to confirm them, oldest first, with their
/// organisation's name (finance).
pub fn awaiting(conn: &mut DbConn, _who: &Finance) -> Result<Vec<(AccountRow, String)>, ApiError> {
    Ok(bank_accounts::table
        .inner_join(organisations::table)
        .filter(bank_accounts::status.eq(AccountStatus::Proposed))
        .order(bank_accounts::id.asc())
        .select((AccountRow::as_select(), organisations::name))
        .load(conn)?)
}

/// The name of organisation `id` (404 when unknown), for the pages of its accounts.
pub fn organisation_name(conn: &mut DbConn, id: &str) -> Result<String, ApiError> {
    organisations::table
        .find(id)
        .select(organisations::name)
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// The currencies of the approved tranches no open run holds (the console offers them).
pub fn gatherable_currencies(conn: &mut DbConn, _who: &Finance) -> Result<Vec<String>, ApiError> {
    use crate::db::schema::grants;
    let held = payment_run_lines::table
        .filter(payment_run_lines::status.eq(LineStatus::Pending))
        .select(payment_run_lines::disbursement_id);
    Ok(disbursements::table
        .inner_join(grants::table)
        .filter(disbursements::status.eq(TrancheStatus::Approved))
        .filter(diesel::dsl::not(disbursements::id.eq_any(held)))
        .select(grants::currency)
        .distinct()
        .order(grants::currency.asc())
        .load(conn)?)
}

/// The lines a run in `currency` would gather at `now`: every approved tranche in it that no
/// open run holds, oldest first, each to its grantee's newest usable account in the currency
/// (a tranche whose grantee has none is left for later). At most `MAX_LINES`.
pub fn gatherable(
    conn: &mut DbConn,
    _who: &Finance,
    currency: &str,
    now: NaiveDateTime,
) -> Result<Vec<NewLine>, ApiError> {
    use crate::db::schema::grants;
    use std::collections::HashMap;
    let held = payment_run_lines::table
        .filter(payment_run_lines::status.eq(LineStatus::Pending))
        .select(payment_run_lines::disbursement_id);
    let rows: Vec<(String, String)> = disbursements::table
        .inner_join(grants::table)
        .filter(disbursements::status.eq(TrancheStatus::Approved))
        .filter(grants::currency.eq(currency))
        .filter(diesel::dsl::not(disbursements::id.eq_any(held)))
        .select((disbursements::id, grants::grantee_organisation_id))
        .order(disbursements::id.asc())
        .load(conn)?;
    let mut payee: HashMap<String, Option<String>> = HashMap::new();
    let mut lines = Vec::new();
    for (tranche, org) in rows {
        if !payee.contains_key(&org) {
            let found = payable(conn, &org, currency, now)?;
            payee.insert(org.clone(), found.first().map(|a| a.id.clone()));
        }
        if let Some(Some(account)) = payee.get(&org) {
            lines.push(NewLine {
                disbursement_id: tranche,
                bank_account_id: account.clone(),
            });
        }
        if lines.len() == MAX_LINES {
            break;
        }
    }
    Ok(lines)
}

//! The account a tranche is paid to, as its `payee_account` shows it to approvers and finance:
//! the holder's name and the number's last four, read from the payee bank accounts that
//! `payments::accounts` keeps (this module reads their table; it never changes it).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{TrancheRow, TrancheStatus};
use crate::db::DbConn;
use crate::db::schema::{bank_accounts, payment_run_lines};
use crate::error::ApiError;

/// The account a tranche is paid to, as approvers and finance see it on the tranche: its
/// holder's name and the last four characters of its number.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayeeAccount {
    /// The account's id (the `bank_account_id` a payment names).
    pub id: String,
    /// Account holder, as the bank knows it.
    pub holder_name: String,
    /// `****` and the number's last four characters.
    pub number: String,
    /// ISO 4217 code of the account.
    pub currency: String,
    /// True when a tranche may be paid to it now (confirmed and past its cooling-off period).
    pub usable: bool,
}

type Columns = (
    String,
    String,
    String,
    String,
    String,
    Option<NaiveDateTime>,
);

fn shown(
    (id, holder_name, last4, currency, status, from): Columns,
    now: NaiveDateTime,
) -> PayeeAccount {
    PayeeAccount {
        id,
        holder_name,
        number: format!("****{last4}"),
        currency,
        usable: status == "confirmed" && from.is_some_and(|f| f <= now),
    }
}

const COLUMNS: (
    bank_accounts::id,
    bank_accounts::holder_name,
    bank_accounts::number_last4,
    bank_accounts::currency,
    bank_accounts::status,
    bank_accounts::usable_from,
) = (
    bank_accounts::id,
    bank_accounts::holder_name,
    bank_accounts::number_last4,
    bank_accounts::currency,
    bank_accounts::status,
    bank_accounts::usable_from,
);

/// The account tranche `t` of a grant to `grantee` in `currency` is paid to: the one it was
/// paid to, else its open run line's, else (requested and approved tranches) the grantee's
/// newest usable account in the currency.
pub fn payee_of(
    conn: &mut DbConn,
    t: &TrancheRow,
    grantee: &str,
    currency: &str,
    now: NaiveDateTime,
) -> Result<Option<PayeeAccount>, ApiError> {
    let named = match &t.bank_account_id {
        Some(a) => Some(a.clone()),
        None => payment_run_lines::table
            .filter(payment_run_lines::disbursement_id.eq(&t.id))
            .filter(payment_run_lines::status.eq("pending"))
            .select(payment_run_lines::bank_account_id)
            .first::<String>(conn)
            .optional()?,
    };
    if let Some(a) = named {
        let found: Option<Columns> = bank_accounts::table
            .find(a)
            .select(COLUMNS)
            .first(conn)
            .optional()?;
        return Ok(found.map(|c| shown(c, now)));
    }
    if !matches!(t.status, TrancheStatus::Requested | TrancheStatus::Approved) {
        return Ok(None);
    }
    let newest: Option<Columns> = bank_accounts::table
        .filter(bank_accounts::organisation_id.eq(grantee))
        .filter(bank_accounts::currency.eq(currency))
        .filter(bank_accounts::status.eq("confirmed"))
        .filter(bank_accounts::usable_from.le(now))
        .order(bank_accounts::id.desc())
        .select(COLUMNS)
        .first(conn)
        .optional()?;
    Ok(newest.map(|c| shown(c, now)))
}

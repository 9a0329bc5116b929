//! The payments register: every paid and reversed tranche, with its run, payee and account
//! (masked), amounts in the tranche's and the base currency, and totals per currency and in
//! the base currency, computed from the same rows it lists. Only staff read it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::runs::LineStatus;
use crate::auth::caller::Staff;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{bank_accounts, disbursements, grants, organisations, payment_run_lines};
use crate::error::no_field_errors;
use crate::error::{ApiError, FieldError};
use crate::grants::check::collect;
use crate::grants::tranche::TrancheStatus;
use crate::grants::{budget, fx, grant::GrantRow};
use crate::money;

/// Filters of the register.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegisterParams {
    /// Paid on or after this date (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    /// Paid on or before this date (YYYY-MM-DD).
    pub to: Option<NaiveDate>,
    /// Only tranches in this currency (ISO 4217).
    pub currency: Option<String>,
    /// Only tranches of grants of this fund.
    pub fund_id: Option<String>,
    /// Only tranches paid by this payment run.
    pub run_id: Option<String>,
    /// Only tranches paid to this organisation.
    pub grantee_organisation_id: Option<String>,
    /// Most rows in `data`, newest payment first, 1–100 (without it, every row up to 1000;
    /// the CSV has every row). `total` and the totals count every matching row.
    pub limit: Option<i64>,
}

/// Most rows the register lists at once (its totals count them all).
pub const MAX_ROWS: i64 = 1000;

/// One paid (or reversed) tranche.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Payment {
    /// The tranche.
    pub disbursement_id: String,
    /// paid or reversed.
    pub status: TrancheStatus,
    /// The grant.
    pub grant_id: String,
    /// The grant's reference.
    pub grant_reference: String,
    /// The grant's fund.
    pub fund_id: String,
    /// The payee.
    pub grantee_organisation_id: String,
    /// The payee's name.
    pub grantee_name: String,
    /// The payment run that paid it, if one did.
    pub run_id: Option<String>,
    /// The account paid to, masked (`****` and its last four), if one was named.
    pub account: Option<String>,
    /// The account's holder.
    pub holder_name: Option<String>,
    /// Date paid.
    pub paid_on: Option<NaiveDate>,
    /// Payment reference.
    pub payment_reference: Option<String>,
    /// ISO 4217 code of `amount` (the grant's).
    pub currency: String,
    /// Amount.
    pub amount: String,
    /// The amount in the base currency, at the grant's stored rate (null when it has none
    /// and no reference rate converts it).
    pub amount_in_base: Option<String>,
}

/// The total of one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrencyTotal {
    /// ISO 4217 code.
    pub currency: String,
    /// Number of paid tranches.
    pub count: i64,
    /// Sum of the paid tranches (reversed ones do not count).
    pub paid: String,
}

/// The register.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Register {
    /// The matching paid or reversed tranches, newest payment first (at most `limit`).
    pub data: Vec<Payment>,
    /// Number of matching rows.
    pub total: i64,
    /// Totals of the paid tranches per currency.
    pub totals: Vec<CurrencyTotal>,
    /// The base currency.
    pub base_currency: String,
    /// Sum of the paid tranches in the base currency (null when one cannot be converted).
    pub total_in_base: Option<String>,
}

type Row = (
    (
        String,
        TrancheStatus,
        i64,
        Option<NaiveDate>,
        Option<String>,
        Option<String>,
    ),
    GrantRow,
    String,
);

/// The tranche's amount in the base currency: as is, at the grant's stored rate to a fund
/// kept in the base currency, or else at the reference rate.
fn in_base(
    conn: &mut DbConn,
    config: &Config,
    g: &GrantRow,
    amount: i64,
) -> Result<Option<i64>, ApiError> {
    if g.currency == config.base_currency {
        Ok(Some(amount))
    } else if g.fund_currency == config.base_currency {
        Ok(Some(budget::fund_share(g, amount)))
    } else {
        Ok(fx::to_base(conn, config, amount, &g.currency)?)
    }
}

fn check(p: &RegisterParams) -> Result<Option<String>, ApiError> {
    let mut errors = Vec::new();
    let currency = p.currency.as_ref().and_then(|c| {
        collect(
            money::currency("currency", c).map_err(ApiError::from),
            &mut errors,
        )
    });
    if p.limit.is_some_and(|l| !(1..=MAX_ROWS).contains(&l)) {
        errors.push(FieldError::new(
            "limit",
            "out_of_range",
            "`limit` is 1 to 1000.",
        ));
    }
    if let (Some(f), Some(t)) = (p.from, p.to)
        && f > t
    {
        errors.push(FieldError::new(
            "to",
            "before_from",
            "`to` is on or after `from`.",
        ));
    }
    no_field_errors(errors)?;
    Ok(currency)
}

/// The register under `p`.
pub fn read(
    conn: &mut DbConn,
    config: &Config,
    _who: &Staff,
    p: &RegisterParams,
) -> Result<Register, ApiError> {
    let currency = check(p)?;
    let mut q = disbursements::table
        .inner_join(grants::table.inner_join(organisations::table))
        .filter(disbursements::status.eq_any([TrancheStatus::Paid, TrancheStatus::Reversed]))
        .select((
            (
                disbursements::id,
                disbursements::status,
                disbursements::amount,
                disbursements::paid_on,
                disbursements::payment_reference,
                disbursements::bank_account_id,
            ),
            GrantRow::as_select(),
            organisations::name,
        ))
        .order((disbursements::paid_on.desc(), disbursements::id.desc()))
        .into_boxed();
    if let Some(f) = p.from {
        q = q.filter(disbursements::paid_on.ge(f));
    }
    if let Some(t) = p.to {
        q = q.filter(disbursements::paid_on.le(t));
    }
    if let Some(c) = &currency {
        q = q.filter(grants::currency.eq(c.clone()));
    }
    if let Some(f) = &p.fund_id {
        q = q.filter(grants::fund_id.eq(f.clone()));
    }
    if let Some(o) = &p.grantee_organisation_id {
        q = q.filter(grants::grantee_organisation_id.eq(o.clone()));
    }
    if let Some(r) = &p.run_id {
        let in_run = payment_run_lines::table
            .filter(payment_run_lines::run_id.eq(r.clone()))
            .select(payment_run_lines::disbursement_id);
        q = q.filter(disbursements::id.eq_any(in_run));
    }
    let rows: Vec<Row> = q.load(conn)?;
    let mut reg = assemble(conn, config, rows)?;
    if let Some(l) = p.limit {
        reg.data.truncate(usize::try_from(l).unwrap_or(usize::MAX));
    }
    Ok(reg)
}

fn assemble(conn: &mut DbConn, config: &Config, rows: Vec<Row>) -> Result<Register, ApiError> {
    let runs: HashMap<String, String> = payment_run_lines::table
        .filter(payment_run_lines::status.eq(LineStatus::Paid))
        .select((
            payment_run_lines::disbursement_id,
            payment_run_lines::run_id,
        ))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let accounts: HashMap<String, (String, String)> = bank_accounts::table
        .select((
            bank_accounts::id,
            bank_accounts::holder_name,
            bank_accounts::number_last4,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, h, l)| (id, (h, l)))
        .collect();
    let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut base_total = Some(0i64);
    let mut data = Vec::with_capacity(rows.len());
    for ((id, status, amount, paid_on, reference, account_id), g, grantee_name) in rows {
        let base = in_base(conn, config, &g, amount)?;
        if status == TrancheStatus::Paid {
            let t = totals.entry(g.currency.clone()).or_default();
            t.0 += 1;
            t.1 += amount;
            base_total = base_total.zip(base).and_then(|(a, b)| a.checked_add(b));
        }
        let account = account_id.as_ref().and_then(|a| accounts.get(a));
        data.push(Payment {
            run_id: runs.get(&id).cloned(),
            disbursement_id: id,
            status,
            grant_id: g.id.clone(),
            grant_reference: g.reference.clone(),
            fund_id: g.fund_id.clone(),
            grantee_organisation_id: g.grantee_organisation_id.clone(),
            grantee_name,
            account: account.map(|(_, l)| format!("****{l}")),
            holder_name: account.map(|(h, _)| h.clone()),
            paid_on,
            payment_reference: reference,
            amount: money::format(amount, &g.currency),
            amount_in_base: base.map(|b| money::format(b, &config.base_currency)),
            currency: g.currency,
        });
    }
    Ok(Register {
        total: data.len() as i64,
        data,
        totals: totals
            .into_iter()
            .map(|(c, (n, sum))| CurrencyTotal {
                paid: money::format(sum, &c),
                currency: c,
                count: n,
            })
            .collect(),
        total_in_base: base_total.map(|b| money::format(b, &config.base_currency)),
        base_currency: config.base_currency.clone(),
    })
}

/// The header row of the register's CSV.
pub const CSV_HEADER: [&str; 15] = [
    "row",
    "disbursement_id",
    "status",
    "paid_on",
    "grant_reference",
    "fund_id",
    "grantee",
    "run_id",
    "account_holder",
    "account",
    "payment_reference",
    "currency",
    "amount",
    "base_currency",
    "amount_in_base",
];

/// The register as CSV (`crate::csv_text`: formulas defused, CRLF): one `payment` row per
/// tranche, then one `total` row per currency (its count in `disbursement_id`'s place is left
/// out; `amount` is the sum of the paid ones) and a `total_in_base` row.
pub fn csv(reg: &Register) -> Result<String, ApiError> {
    let mut rows: Vec<Vec<String>> = vec![CSV_HEADER.iter().map(|h| h.to_string()).collect()];
    for p in &reg.data {
        rows.push(vec![
            "payment".into(),
            p.disbursement_id.clone(),
            p.status.to_string(),
            p.paid_on.map(|d| d.to_string()).unwrap_or_default(),
            p.grant_reference.clone(),
            p.fund_id.clone(),
            p.grantee_name.clone(),
            p.run_id.clone().unwrap_or_default(),
            p.holder_name.clone().unwrap_or_default(),
            p.account.clone().unwrap_or_default(),
            p.payment_reference.clone().unwrap_or_default(),
            p.currency.clone(),
            p.amount.clone(),
            reg.base_currency.clone(),
            p.amount_in_base.clone().unwrap_or_default(),
        ]);
    }
    let blank = |n: usize| vec![String::new(); n];
    for t in &reg.totals {
        let mut row = vec!["total".to_string()];
        row.extend(blank(1));
        row.push("paid".into());
        row.extend(blank(8));
        row.extend([t.currency.clone(), t.paid.clone()]);
        row.extend(blank(2));
        rows.push(row);
    }
    let mut row = vec!["total_in_base".to_string(), String::new(), "paid".into()];
    row.extend(blank(10));
    row.extend([
        reg.base_currency.clone(),
        reg.total_in_base.clone().unwrap_or_default(),
    ]);
    rows.push(row);
    crate::csv_text::write(crate::csv_text::LineEnd::Crlf, rows)
}

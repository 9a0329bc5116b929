//! Reference exchange rates, kept by finance: for each currency, how many units of the base
//! currency (`BASE_CURRENCY`) one unit is worth, with the date of the rate. A grant in another
//! currency than its fund must give a rate within `FX_RATE_BAND_PERCENT` of the reference rate
//! of that pair (derived through the base currency), and every limit (second approvals, fund
//! increases) is compared in the base currency at these rates.
//!
//! Because every limit follows them, the rates are under four eyes: a new rate more than
//! `FX_RATE_CHANGE_BAND_PERCENT` away from the confirmed one, or the first rate of a currency,
//! waits in `fx_rate_history` as `pending` until a finance officer or admin other than its
//! author confirms it. Only `fx_rates` (the confirmed rates) is ever read as the reference.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::caller::{FinanceOrAdmin, Staff};
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited, Ctx, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{fx_rate_history, fx_rates};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::kit::rfc3339;
use crate::money::{self, RATE_SCALE};
use crate::notify::matrix::{Event, Parties};
use crate::notify::{Kind, links, long_date};
use crate::pagination::{self, Page};

/// The largest reference rate accepted: 10,000 units of the base currency per unit. No ISO
/// currency is worth more; a larger number is a typing error that would move every limit.
pub const MAX_RATE_MICROS: i64 = 10_000 * RATE_SCALE;

/// Who keeps the rates table: a finance officer or an admin.
pub type RateKeeper = FinanceOrAdmin;

crate::text_enum! {
    /// Where a proposed rate stands.
    pub enum FxRateStatus {
        /// Waits for a second person; does not apply.
        Pending = "pending",
        /// Applied (at once, or when confirmed).
        Applied = "applied",
        /// Replaced by a later proposal before anyone confirmed it.
        Superseded = "superseded",
    }
}

/// A stored reference rate.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fx_rates)]
pub struct FxRateRow {
    /// ISO 4217 code.
    pub currency: String,
    /// Units of the base currency per unit of `currency`, in millionths.
    pub rate_micros: i64,
    /// Date of the rate.
    pub as_of: NaiveDate,
    /// Who set it.
    pub updated_by: String,
    /// When.
    pub updated_at: NaiveDateTime,
}

/// One proposed rate, as stored in the history.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fx_rate_history)]
pub struct FxRateChangeRow {
    /// UUID v7.
    pub id: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Units of the base currency per unit, in millionths.
    pub rate_micros: i64,
    /// Date of the rate.
    pub as_of: NaiveDate,
    /// pending, applied or superseded.
    pub status: FxRateStatus,
    /// Who set it.
    pub proposed_by: String,
    /// When.
    pub proposed_at: NaiveDateTime,
    /// Who confirmed it (null when it applied at once, or has not applied).
    pub confirmed_by: Option<String>,
    /// When.
    pub confirmed_at: Option<NaiveDateTime>,
}

/// A rate that waits for a second finance officer or admin and does not apply yet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingFxRate {
    /// Units of the base currency per one unit of the currency, six decimals.
    #[schema(example = "1.350000")]
    pub rate: String,
    /// Date of the rate (YYYY-MM-DD).
    pub as_of: NaiveDate,
    /// Who set it (may not confirm it).
    pub proposed_by: String,
    /// When (RFC 3339).
    pub proposed_at: String,
}

/// A reference rate as the API shows it: the confirmed rate that applies, and the rate that
/// waits for confirmation, if any.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FxRate {
    /// ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: String,
    /// The base currency (`BASE_CURRENCY`).
    #[schema(example = "USD")]
    pub base_currency: String,
    /// Units of the base currency per one unit of `currency`, six decimals: the confirmed
    /// rate that applies; null while the first rate of the currency waits.
    #[schema(example = "1.085300")]
    pub rate: Option<String>,
    /// Date of the confirmed rate (YYYY-MM-DD).
    pub as_of: Option<NaiveDate>,
    /// The finance officer or admin who set the confirmed rate.
    pub updated_by: Option<String>,
    /// When it applied (RFC 3339).
    pub updated_at: Option<String>,
    /// A rate that waits for a second person and does not apply yet; null when none waits.
    pub pending: Option<PendingFxRate>,
}

impl FxRate {
    fn of(
        currency: &str,
        row: Option<FxRateRow>,
        pending: Option<FxRateChangeRow>,
        base: &str,
    ) -> Self {
        Self {
            currency: currency.to_string(),
            base_currency: base.to_string(),
            rate: row.as_ref().map(|r| money::format_rate(r.rate_micros)),
            as_of: row.as_ref().map(|r| r.as_of),
            updated_by: row.as_ref().map(|r| r.updated_by.clone()),
            updated_at: row.as_ref().map(|r| rfc3339(r.updated_at)),
            pending: pending.map(|p| PendingFxRate {
                rate: money::format_rate(p.rate_micros),
                as_of: p.as_of,
                proposed_by: p.proposed_by,
                proposed_at: rfc3339(p.proposed_at),
            }),
        }
    }
}

impl Audited for FxRate {
    const ENTITY: &'static str = "fx_rate";
    fn entity_id(&self) -> &str {
        &self.currency
    }
}

/// One entry of a rate's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FxRateChange {
    /// UUID v7.
    pub id: String,
    /// ISO 4217 code.
    pub currency: String,
    /// The base currency.
    pub base_currency: String,
    /// Units of the base currency per one unit of `currency`, six decimals.
    pub rate: String,
    /// Date of the rate (YYYY-MM-DD).
    pub as_of: NaiveDate,
    /// pending (waits for a second person), applied, or superseded (replaced before anyone
    /// confirmed it).
    pub status: FxRateStatus,
    /// Who set it.
    pub proposed_by: String,
    /// When (RFC 3339).
    pub proposed_at: String,
    /// Who confirmed it; null when it applied at once (within the change band) or never did.
    pub confirmed_by: Option<String>,
    /// When (RFC 3339).
    pub confirmed_at: Option<String>,
}

impl FxRateChange {
    fn from_row(r: FxRateChangeRow, base: &str) -> Self {
        Self {
            id: r.id,
            currency: r.currency,
            base_currency: base.to_string(),
            rate: money::format_rate(r.rate_micros),
            as_of: r.as_of,
            status: r.status,
            proposed_by: r.proposed_by,
            proposed_at: rfc3339(r.proposed_at),
            confirmed_by: r.confirmed_by,
            confirmed_at: r.confirmed_at.map(rfc3339),
        }
    }
}

/// Set a reference rate.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FxRateBody {
    /// Units of the base currency per one unit of the currency: a positive decimal string
    /// with at most 6 decimals, at most 10000.
    #[schema(schema_with = crate::codes::schema::rate)]
    pub rate: String,
    /// Date of the rate (YYYY-MM-DD): not in the future, at most FX_RATE_MAX_AGE_DAYS old.
    pub as_of: NaiveDate,
}

/// Confirm the rate that waits, naming it as it was read: if another rate waits by now,
/// the confirmation is refused (409 `pending_changed`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FxRateConfirmBody {
    /// The rate that waits, as read (`pending.rate`).
    #[schema(schema_with = crate::codes::schema::rate)]
    pub rate: String,
    /// Its date, as read (`pending.as_of`).
    pub as_of: NaiveDate,
}

/// What the email about a rate says.
#[derive(Debug, Serialize)]
pub struct FxRateMail {
    /// ISO 4217 code.
    pub currency: String,
    /// The base currency.
    pub base_currency: String,
    /// The new rate, six decimals.
    pub rate: String,
    /// Its date, written out.
    pub as_of: crate::i18n::LocalDate,
    /// The confirmed rate before it (null for a currency's first rate).
    pub previous_rate: Option<String>,
    /// What awaits the recipient's approval.
    pub inbox_link: String,
}

/// To finance and admins: a rate waits for a second person.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct FxRatePendingMail(pub FxRateMail);
impl Message for FxRatePendingMail {
    const KIND: Kind = Kind::FxRatePending;
}

/// To grant officers and finance: a rate applies.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct FxRateChangedMail(pub FxRateMail);
impl Message for FxRateChangedMail {
    const KIND: Kind = Kind::FxRateChanged;
}

fn known(config: &Config, currency: &str) -> Result<String, ApiError> {
    let c = money::currency("currency", currency)?;
    if c == config.base_currency {
        return Err(ApiError::field(
            "currency",
            "base_currency",
            format!("{c} is the base currency; its rate is 1."),
        ));
    }
    Ok(c)
}

/// Every reference rate (staff), by currency, with the rate that waits for each.
pub fn list(conn: &mut DbConn, config: &Config, _who: &Staff) -> Result<Vec<FxRate>, ApiError> {
    let rows: Vec<FxRateRow> = fx_rates::table.select(FxRateRow::as_select()).load(conn)?;
    let pending: Vec<FxRateChangeRow> = fx_rate_history::table
        .filter(fx_rate_history::status.eq(FxRateStatus::Pending))
        .select(FxRateChangeRow::as_select())
        .load(conn)?;
    let mut by_currency: std::collections::BTreeMap<
        String,
        (Option<FxRateRow>, Option<FxRateChangeRow>),
    > = std::collections::BTreeMap::new();
    for r in rows {
        let c = r.currency.clone();
        by_currency.entry(c).or_default().0 = Some(r);
    }
    for p in pending {
        let c = p.currency.clone();
        by_currency.entry(c).or_default().1 = Some(p);
    }
    Ok(by_currency
        .into_iter()
        .map(|(c, (row, pending))| FxRate::of(&c, row, pending, &config.base_currency))
        .collect())
}

/// One reference rate (staff) with the rate that waits; 404 when neither is set.
pub fn get(
    conn: &mut DbConn,
    config: &Config,
    _who: &Staff,
    currency: &str,
) -> Result<FxRate, ApiError> {
    let currency = currency.to_ascii_uppercase();
    let row = row_of(conn, &currency)?;
    let pending = pending_of(conn, &currency)?;
    if row.is_none() && pending.is_none() {
        return Err(ApiError::NotFound);
    }
    Ok(FxRate::of(&currency, row, pending, &config.base_currency))
}

/// The history of a currency's rate (staff), newest first; 404 when it never had one.
pub fn history(
    conn: &mut DbConn,
    config: &Config,
    _who: &Staff,
    currency: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<FxRateChange>, ApiError> {
    let currency = currency.to_ascii_uppercase();
    let after = pagination::decode_cursor(cursor, 1)?;
    let total: i64 = fx_rate_history::table
        .filter(fx_rate_history::currency.eq(&currency))
        .count()
        .get_result(conn)?;
    if total == 0 {
        return Err(ApiError::NotFound);
    }
    let mut q = fx_rate_history::table
        .filter(fx_rate_history::currency.eq(&currency))
        .select(FxRateChangeRow::as_select())
        .order(fx_rate_history::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(fx_rate_history::id.lt(a[0].clone()));
    }
    let mut rows: Vec<FxRateChangeRow> = q.load(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: rows
            .into_iter()
            .map(|r| FxRateChange::from_row(r, &config.base_currency))
            .collect(),
        next_cursor,
        total,
    })
}

fn row_of(conn: &mut DbConn, currency: &str) -> QueryResult<Option<FxRateRow>> {
    fx_rates::table
        .find(currency)
        .select(FxRateRow::as_select())
        .first(conn)
        .optional()
}

fn pending_of(conn: &mut DbConn, currency: &str) -> QueryResult<Option<FxRateChangeRow>> {
    fx_rate_history::table
        .filter(fx_rate_history::currency.eq(currency))
        .filter(fx_rate_history::status.eq(FxRateStatus::Pending))
        .select(FxRateChangeRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the confirmed rate of `currency` for the transaction (a no-op UPDATE, portable to
/// both backends), so a proposal and a confirmation of one currency never interleave. A
/// currency without a confirmed rate has no row to lock: there the unique index on its one
/// pending rate refuses the second of two concurrent proposals.
fn lock(conn: &mut DbConn, currency: &str) -> QueryResult<()> {
    diesel::update(fx_rates::table.find(currency))
        .set(fx_rates::updated_at.eq(fx_rates::updated_at))
        .execute(conn)
        .map(|_| ())
}

/// Checks a new rate and its date: at most [`MAX_RATE_MICROS`]; a date neither more than a
/// day ahead (a day allows for time zones) nor older than FX_RATE_MAX_AGE_DAYS.
fn checked(config: &Config, body: &FxRateBody) -> Result<i64, ApiError> {
    let mut errors = Vec::new();
    let rate = match money::parse_rate("rate", &body.rate) {
        Ok(r) if r > MAX_RATE_MICROS => {
            errors.push(FieldError::new(
                "rate",
                "out_of_bounds",
                format!(
                    "A reference rate is at most {} {} per unit.",
                    money::format_rate(MAX_RATE_MICROS),
                    config.base_currency
                ),
            ));
            0
        }
        Ok(r) => r,
        Err(e) => {
            if let ApiError::Validation(v) = ApiError::from(e) {
                errors.extend(v);
            }
            0
        }
    };
    let today = config.clock.today();
    if body.as_of > today + chrono::Days::new(1) {
        errors.push(FieldError::new(
            "as_of",
            "in_future",
            "The date of a rate may be at most one day ahead of today.",
        ));
    } else if body.as_of < today - chrono::Days::new(config.fx_rate_max_age_days.unsigned_abs()) {
        errors.push(FieldError::new(
            "as_of",
            "too_old",
            format!(
                "The date of a rate may be at most {} days in the past.",
                config.fx_rate_max_age_days
            ),
        ));
    }
    crate::error::no_field_errors(errors)?;
    Ok(rate)
}

/// What a rate command did.
pub enum Outcome {
    /// The rate applies now.
    Applied(FxRate),
    /// The rate waits for a second person.
    Pending(FxRate),
}

/// Sets the reference rate of a currency (finance officers and admins), audited. Within
/// FX_RATE_CHANGE_BAND_PERCENT of the confirmed rate it applies at once; otherwise, and for
/// a currency's first rate, it waits for a second person (and replaces a rate that waited).
pub fn put(
    conn: &mut DbConn,
    config: &Config,
    who: &RateKeeper,
    meta: &RequestMeta,
    currency: &str,
    body: FxRateBody,
) -> Result<Outcome, ApiError> {
    let currency = known(config, currency)?;
    let rate = checked(config, &body)?;
    command::run(conn, config, who, meta, |ctx| {
        lock(ctx.conn, &currency)?;
        let current = row_of(ctx.conn, &currency)?;
        diesel::update(
            fx_rate_history::table
                .filter(fx_rate_history::currency.eq(&currency))
                .filter(fx_rate_history::status.eq(FxRateStatus::Pending)),
        )
        .set(fx_rate_history::status.eq(FxRateStatus::Superseded))
        .execute(ctx.conn)?;
        let within = current.as_ref().is_some_and(|c| {
            let (low, high) = band(c.rate_micros, ctx.config.fx_rate_change_band_percent);
            (low..=high).contains(&rate)
        });
        let change = FxRateChangeRow {
            id: uuid::Uuid::now_v7().to_string(),
            currency: currency.clone(),
            rate_micros: rate,
            as_of: body.as_of,
            status: if within {
                FxRateStatus::Applied
            } else {
                FxRateStatus::Pending
            },
            proposed_by: who.id.clone(),
            proposed_at: ctx.now,
            confirmed_by: None,
            confirmed_at: None,
        };
        insert_change(ctx.conn, &change)?;
        if within {
            let after = apply(ctx, current, &change)?;
            return Ok(Outcome::Applied(after));
        }
        let base = ctx.config.base_currency.clone();
        let after = FxRate::of(&currency, current.clone(), Some(change.clone()), &base);
        ctx.audit("proposed", None, Some(&after))?;
        let mail = mail_of(ctx.config, &change, current.as_ref());
        ctx.tell(
            Event::FxRateAwaitsConfirmation,
            &Parties::default(),
            &FxRatePendingMail(mail),
        )?;
        Ok(Outcome::Pending(after))
    })
}

/// Inserts a proposal; a concurrent proposal that already waits for the same currency is a
/// 409 (the unique index on the pending rate), never a 500.
fn insert_change(conn: &mut DbConn, change: &FxRateChangeRow) -> Result<(), ApiError> {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    match diesel::insert_into(fx_rate_history::table)
        .values(change)
        .execute(conn)
    {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ApiError::Conflict {
                code: ConflictCode::ConcurrentUpdate,
                detail:
                    "Another rate for this currency was set at the same time; reload and retry."
                        .into(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Makes `change` the confirmed rate: writes `fx_rates`, audits it and tells grant officers
/// and finance.
fn apply(
    ctx: &mut Ctx<'_>,
    current: Option<FxRateRow>,
    change: &FxRateChangeRow,
) -> Result<FxRate, ApiError> {
    let row = FxRateRow {
        currency: change.currency.clone(),
        rate_micros: change.rate_micros,
        as_of: change.as_of,
        updated_by: change.proposed_by.clone(),
        updated_at: ctx.now,
    };
    if current.is_some() {
        diesel::update(fx_rates::table.find(&row.currency))
            .set((
                fx_rates::rate_micros.eq(row.rate_micros),
                fx_rates::as_of.eq(row.as_of),
                fx_rates::updated_by.eq(&row.updated_by),
                fx_rates::updated_at.eq(row.updated_at),
            ))
            .execute(ctx.conn)?;
    } else {
        diesel::insert_into(fx_rates::table)
            .values(&row)
            .execute(ctx.conn)?;
    }
    let base = ctx.config.base_currency.clone();
    let before = current
        .clone()
        .map(|b| FxRate::of(&change.currency, Some(b), None, &base));
    let after = FxRate::of(&change.currency, Some(row), None, &base);
    let verb = if before.is_some() {
        "updated"
    } else {
        "created"
    };
    ctx.audit(verb, before.as_ref(), Some(&after))?;
    let mail = mail_of(ctx.config, change, current.as_ref());
    ctx.tell(
        Event::FxRateChanged,
        &Parties::default(),
        &FxRateChangedMail(mail),
    )?;
    Ok(after)
}

fn mail_of(config: &Config, change: &FxRateChangeRow, current: Option<&FxRateRow>) -> FxRateMail {
    FxRateMail {
        currency: change.currency.clone(),
        base_currency: config.base_currency.clone(),
        rate: money::format_rate(change.rate_micros),
        as_of: long_date(change.as_of),
        previous_rate: current.map(|c| money::format_rate(c.rate_micros)),
        inbox_link: links::inbox(config),
    }
}

/// Confirms the rate of `currency` that waits: a finance officer or admin other than the one
/// who set it (409 `self_approval`), naming the rate and date it read (409 `pending_changed`
/// when another waits by now). The rate then applies.
pub fn confirm(
    conn: &mut DbConn,
    config: &Config,
    who: &RateKeeper,
    meta: &RequestMeta,
    currency: &str,
    body: FxRateConfirmBody,
) -> Result<FxRate, ApiError> {
    let currency = known(config, currency)?;
    let named = money::parse_rate("rate", &body.rate)?;
    command::run(conn, config, who, meta, |ctx| {
        lock(ctx.conn, &currency)?;
        let Some(pending) = pending_of(ctx.conn, &currency)? else {
            return Err(ApiError::Conflict {
                code: ConflictCode::InvalidTransition,
                detail: format!("No rate of {currency} waits for confirmation."),
            });
        };
        if pending.rate_micros != named || pending.as_of != body.as_of {
            return Err(ApiError::Conflict {
                code: ConflictCode::PendingChanged,
                detail: format!(
                    "The rate that waits is {} as of {}, not the one named; read it again.",
                    money::format_rate(pending.rate_micros),
                    pending.as_of
                ),
            });
        }
        if pending.proposed_by == who.id {
            return Err(ApiError::Conflict {
                code: ConflictCode::SelfApproval,
                detail: "A reference rate is confirmed by a finance officer or admin other than \
                         the one who set it."
                    .into(),
            });
        }
        let n = diesel::update(
            fx_rate_history::table
                .find(&pending.id)
                .filter(fx_rate_history::status.eq(FxRateStatus::Pending)),
        )
        .set((
            fx_rate_history::status.eq(FxRateStatus::Applied),
            fx_rate_history::confirmed_by.eq(Some(&who.id)),
            fx_rate_history::confirmed_at.eq(Some(ctx.now)),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::PendingChanged,
                detail: "The rate that waited changed meanwhile; read it again.".into(),
            });
        }
        let current = row_of(ctx.conn, &currency)?;
        apply(ctx, current, &pending)
    })
}

/// Units of the base currency per unit of `currency`, in millionths (the base itself is 1).
pub fn base_rate(conn: &mut DbConn, config: &Config, currency: &str) -> QueryResult<Option<i64>> {
    if currency == config.base_currency {
        return Ok(Some(RATE_SCALE));
    }
    Ok(row_of(conn, currency)?.map(|r| r.rate_micros))
}

/// The reference rate of a pair: units of `to` per unit of `from`, in millionths, derived
/// through the base currency; `None` when either has no rate.
pub fn reference_rate(
    conn: &mut DbConn,
    config: &Config,
    from: &str,
    to: &str,
) -> QueryResult<Option<i64>> {
    let (Some(f), Some(t)) = (base_rate(conn, config, from)?, base_rate(conn, config, to)?) else {
        return Ok(None);
    };
    let num = i128::from(f) * i128::from(RATE_SCALE);
    let den = i128::from(t);
    Ok(i64::try_from((num + den / 2) / den).ok().filter(|r| *r > 0))
}

/// The bounds (millionths) of a rate within `percent` of `reference`.
pub fn band(reference: i64, percent: i64) -> (i64, i64) {
    let r = i128::from(reference);
    let p = i128::from(percent);
    let low = (r * (100 - p) + 99) / 100;
    let high = r * (100 + p) / 100;
    (
        i64::try_from(low).unwrap_or(i64::MAX),
        i64::try_from(high).unwrap_or(i64::MAX),
    )
}

/// Checks a grant's rate `from` → `to` against the reference rate; the error names `fx_rate`
/// with the allowed range.
pub fn check_rate(
    conn: &mut DbConn,
    config: &Config,
    from: &str,
    to: &str,
    rate: i64,
) -> Result<Option<FieldError>, ApiError> {
    let Some(reference) = reference_rate(conn, config, from, to)? else {
        return Ok(Some(FieldError::new(
            "fx_rate",
            "no_reference_rate",
            format!(
                "There is no reference rate for {from} to {to}: finance sets the rates of both \
                 against {} (PUT /api/v1/fx-rates/{{currency}}).",
                config.base_currency
            ),
        )));
    };
    let (low, high) = band(reference, config.fx_rate_band_percent);
    if rate < low || rate > high {
        return Ok(Some(FieldError::new(
            "fx_rate",
            "outside_band",
            format!(
                "The rate must lie within {} % of the reference rate {} {to} per {from}: from {} to {}.",
                config.fx_rate_band_percent,
                money::format_rate(reference),
                money::format_rate(low),
                money::format_rate(high)
            ),
        )));
    }
    Ok(None)
}

/// `amount` of `currency` in minor units of the base currency, at the reference rate; `None`
/// when the currency has no rate or the result leaves the money bound.
pub fn to_base(
    conn: &mut DbConn,
    config: &Config,
    amount: i64,
    currency: &str,
) -> QueryResult<Option<i64>> {
    let Some(rate) = base_rate(conn, config, currency)? else {
        return Ok(None);
    };
    Ok(
        money::convert(amount, currency, &config.base_currency, rate)
            .filter(|v| *v <= money::MAX_MINOR),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_lies_around_the_reference_rate() {
        assert_eq!(band(1_000_000, 10), (900_000, 1_100_000));
        assert_eq!(band(1_085_300, 0), (1_085_300, 1_085_300));
    }
}

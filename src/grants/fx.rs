//! Reference exchange rates, kept by finance: for each currency, how many units of the base
//! currency (`BASE_CURRENCY`) one unit is worth, with the date of the rate. A grant in another
//! currency than its fund must give a rate within `FX_RATE_BAND_PERCENT` of the reference rate
//! of that pair (derived through the base currency), and every limit (second approvals, fund
//! increases) is compared in the base currency at these rates.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::Role;
use crate::auth::caller::Staff;
use crate::auth::principal::{RequestMeta, UserPrincipal};
use crate::command::{self, Audited};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::fx_rates;
use crate::error::{ApiError, FieldError};
use crate::kit::rfc3339;
use crate::money::{self, RATE_SCALE};

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

/// A reference rate as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FxRate {
    /// ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: String,
    /// The base currency (`BASE_CURRENCY`).
    #[schema(example = "USD")]
    pub base_currency: String,
    /// Units of the base currency per one unit of `currency`, six decimals.
    #[schema(example = "1.085300")]
    pub rate: String,
    /// Date of the rate (YYYY-MM-DD).
    pub as_of: NaiveDate,
    /// The finance officer or admin who set it.
    pub updated_by: String,
    /// When (RFC 3339).
    pub updated_at: String,
}

impl FxRate {
    fn from_row(r: FxRateRow, base: &str) -> Self {
        Self {
            rate: money::format_rate(r.rate_micros),
            base_currency: base.to_string(),
            currency: r.currency,
            as_of: r.as_of,
            updated_by: r.updated_by,
            updated_at: rfc3339(r.updated_at),
        }
    }
}

impl Audited for FxRate {
    const ENTITY: &'static str = "fx_rate";
    fn entity_id(&self) -> &str {
        &self.currency
    }
}

/// Set a reference rate.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FxRateBody {
    /// Units of the base currency per one unit of the currency: a positive decimal string
    /// with at most 6 decimals.
    #[schema(schema_with = crate::codes::schema::rate)]
    pub rate: String,
    /// Date of the rate (YYYY-MM-DD).
    pub as_of: NaiveDate,
}

/// A finance officer or an admin: who keeps the rates table.
#[derive(Debug, Clone)]
pub struct RateKeeper(UserPrincipal);

impl TryFrom<&Principal> for RateKeeper {
    type Error = ApiError;
    fn try_from(who: &Principal) -> Result<Self, ApiError> {
        Ok(RateKeeper(
            who.require_role(&[Role::FinanceOfficer, Role::Admin])?
                .clone(),
        ))
    }
}

impl crate::audit::Acting for RateKeeper {
    fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::User(self.0.id.clone())
    }
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

/// Every reference rate (staff), by currency.
pub fn list(conn: &mut DbConn, config: &Config, _who: &Staff) -> Result<Vec<FxRate>, ApiError> {
    let rows: Vec<FxRateRow> = fx_rates::table
        .order(fx_rates::currency.asc())
        .select(FxRateRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| FxRate::from_row(r, &config.base_currency))
        .collect())
}

/// One reference rate (staff); 404 when none is set.
pub fn get(
    conn: &mut DbConn,
    config: &Config,
    _who: &Staff,
    currency: &str,
) -> Result<FxRate, ApiError> {
    let row = row_of(conn, currency)?.ok_or(ApiError::NotFound)?;
    Ok(FxRate::from_row(row, &config.base_currency))
}

fn row_of(conn: &mut DbConn, currency: &str) -> QueryResult<Option<FxRateRow>> {
    fx_rates::table
        .find(currency)
        .select(FxRateRow::as_select())
        .first(conn)
        .optional()
}

/// Sets the reference rate of a currency (finance officers and admins), audited.
pub fn put(
    conn: &mut DbConn,
    config: &Config,
    who: &RateKeeper,
    meta: &RequestMeta,
    currency: &str,
    body: FxRateBody,
) -> Result<FxRate, ApiError> {
    let currency = known(config, currency)?;
    let rate = money::parse_rate("rate", &body.rate)?;
    command::run(conn, config, who, meta, |ctx| {
        let before = row_of(ctx.conn, &currency)?;
        let row = FxRateRow {
            currency: currency.clone(),
            rate_micros: rate,
            as_of: body.as_of,
            updated_by: who.0.id.clone(),
            updated_at: ctx.now,
        };
        if before.is_some() {
            diesel::update(fx_rates::table.find(&currency))
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
        let before = before.map(|b| FxRate::from_row(b, &base));
        let after = FxRate::from_row(row, &base);
        let verb = if before.is_some() {
            "updated"
        } else {
            "created"
        };
        ctx.audit(verb, before.as_ref(), Some(&after))?;
        Ok(after)
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

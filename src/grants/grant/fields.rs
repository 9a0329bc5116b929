//! The fields of a grant, checked together for a creation or an edit: the grantee, the codes,
//! the amount in its currency and, when the currency is not the fund's, the exchange rate.

use chrono::NaiveDate;

use super::super::check::{collect, text_field};
use super::super::fund::FundRow;
use super::super::fx;
use crate::codes;
use crate::config::Config;
use crate::db::DbConn;
use crate::error::no_field_errors;
use crate::error::{ApiError, FieldError};
use crate::money;

/// The checked fields of a grant.
pub struct GrantFields {
    /// grantee.
    pub grantee: String,
    /// title.
    pub title: String,
    /// description.
    pub description: String,
    /// pillar.
    pub pillar: String,
    /// priority areas.
    pub priority_areas: String,
    /// currency.
    pub currency: String,
    /// amount.
    pub amount: i64,
    /// fx rate micros.
    pub fx_rate_micros: Option<i64>,
    /// fx rate date.
    pub fx_rate_date: Option<NaiveDate>,
    /// amount in fund currency.
    pub amount_in_fund_currency: i64,
    /// planned start.
    pub planned_start: NaiveDate,
    /// planned end.
    pub planned_end: NaiveDate,
}

/// A grant's fields as sent (or as stored, for those an edit leaves out).
pub struct GrantInput<'a> {
    /// Grantee organisation id.
    pub grantee: &'a str,
    /// Title.
    pub title: &'a str,
    /// Description.
    pub description: &'a str,
    /// Pillar code.
    pub pillar: &'a str,
    /// Priority area codes.
    pub priority_areas: &'a [String],
    /// Currency code.
    pub currency: &'a str,
    /// Amount as a decimal string.
    pub amount: &'a str,
    /// Exchange rate as a decimal string.
    pub fx_rate: Option<&'a str>,
    /// Date of the rate.
    pub fx_rate_date: Option<NaiveDate>,
    /// Planned start.
    pub planned_start: NaiveDate,
    /// Planned end.
    pub planned_end: NaiveDate,
}

/// Checks every field of a grant to be paid from `fund`; 400 naming each bad field.
pub fn check(
    conn: &mut DbConn,
    config: &Config,
    fund: &FundRow,
    input: &GrantInput<'_>,
) -> Result<GrantFields, ApiError> {
    let GrantInput {
        grantee,
        title,
        description,
        pillar,
        priority_areas,
        currency,
        amount,
        planned_start,
        planned_end,
        ..
    } = *input;
    let mut errors = Vec::new();
    if super::super::access::organisation(conn, grantee)?.is_none() {
        errors.push(FieldError::new(
            "grantee_organisation_id",
            "unknown",
            "No organisation has this id.",
        ));
    }
    let title = text_field(&mut errors, "title", title, 2, 200);
    crate::kit::invisible_characters(&mut errors, "title", &title);
    let description = text_field(&mut errors, "description", description, 0, 10_000);
    if !codes::PILLARS.contains(&pillar) {
        errors.push(FieldError::new(
            "pillar",
            "unknown_code",
            format!("Use one of {}.", codes::PILLARS.join(", ")),
        ));
    }
    let areas = check_areas(&mut errors, priority_areas);
    let currency_ok = money::currency("currency", currency).map_err(ApiError::from);
    let parsed_amount = match &currency_ok {
        Ok(c) => collect(
            money::parse_amount("amount", amount, c).map_err(ApiError::from),
            &mut errors,
        ),
        Err(ApiError::Validation(e)) => {
            errors.extend(e.clone());
            None
        }
        Err(_) => None,
    };
    let currency_known = currency_ok.is_ok();
    let (rate, rate_date) = check_rate(conn, config, fund, input, currency_known, &mut errors)?;
    if planned_end < planned_start {
        errors.push(FieldError::new(
            "planned_end",
            "before_start",
            "The end is before the start.",
        ));
    }
    no_field_errors(errors)?;
    let amount = parsed_amount.ok_or_else(|| ApiError::internal("validated amount missing"))?;
    let in_fund = in_fund_currency(amount, currency, fund, rate)?;
    Ok(GrantFields {
        grantee: grantee.to_string(),
        title,
        description,
        pillar: pillar.to_string(),
        priority_areas: if areas.is_empty() {
            String::new()
        } else {
            format!(",{},", areas.join(","))
        },
        currency: currency.to_string(),
        amount,
        fx_rate_micros: rate,
        fx_rate_date: rate_date,
        amount_in_fund_currency: in_fund,
        planned_start,
        planned_end,
    })
}

/// The exchange rate and its date: none when the grant is in the fund's currency, both
/// required otherwise, the rate within the tolerance of the reference rate when the currency
/// is known.
fn check_rate(
    conn: &mut DbConn,
    config: &Config,
    fund: &FundRow,
    input: &GrantInput<'_>,
    currency_known: bool,
    errors: &mut Vec<FieldError>,
) -> Result<(Option<i64>, Option<NaiveDate>), ApiError> {
    let GrantInput {
        currency,
        fx_rate,
        fx_rate_date,
        ..
    } = *input;
    let mut rate = None;
    let mut rate_date = None;
    if currency == fund.currency {
        if fx_rate.is_some() {
            errors.push(FieldError::new(
                "fx_rate",
                "not_applicable",
                "The grant is in the fund's currency; send no rate.",
            ));
        }
        if fx_rate_date.is_some() {
            errors.push(FieldError::new(
                "fx_rate_date",
                "not_applicable",
                "The grant is in the fund's currency; send no rate date.",
            ));
        }
    } else {
        match fx_rate {
            None => errors.push(FieldError::new(
                "fx_rate",
                "required",
                format!(
                    "The grant is in {currency} and the fund in {}: give the rate ({} per {currency}).",
                    fund.currency, fund.currency
                ),
            )),
            Some(r) => {
                rate = collect(
                    money::parse_rate("fx_rate", r).map_err(ApiError::from),
                    errors,
                );
                if let (Some(micros), true) = (rate, currency_known)
                    && let Some(e) = fx::check_rate(conn, config, currency, &fund.currency, micros)?
                {
                    errors.push(e);
                }
            }
        }
        match fx_rate_date {
            None => errors.push(FieldError::new(
                "fx_rate_date",
                "required",
                "Give the date of the exchange rate.",
            )),
            Some(d) => rate_date = Some(d),
        }
    }
    Ok((rate, rate_date))
}

/// The priority areas, each known and listed once, in the order given.
fn check_areas<'a>(errors: &mut Vec<FieldError>, priority_areas: &'a [String]) -> Vec<&'a str> {
    let mut areas: Vec<&str> = Vec::new();
    for (i, a) in priority_areas.iter().enumerate() {
        if !codes::PRIORITY_AREAS.contains(&a.as_str()) {
            errors.push(FieldError::new(
                format!("priority_areas.{i}"),
                "unknown_code",
                format!("Use one of {}.", codes::PRIORITY_AREAS.join(", ")),
            ));
        } else if !areas.contains(&a.as_str()) {
            areas.push(a);
        }
    }
    areas
}

/// The amount counted against the fund: itself in the fund's currency, else converted at
/// `rate`; a conversion to nothing or past the largest amount is a 400 naming `amount`.
fn in_fund_currency(
    amount: i64,
    currency: &str,
    fund: &FundRow,
    rate: Option<i64>,
) -> Result<i64, ApiError> {
    Ok(match rate {
        None => amount,
        Some(r) => money::convert(amount, currency, &fund.currency, r)
            .filter(|v| *v > 0 && *v <= money::MAX_MINOR)
            .ok_or_else(|| {
                ApiError::field(
                    "amount",
                    "out_of_range",
                    "The amount in fund currency is zero or too large at this rate.",
                )
            })?,
    })
}

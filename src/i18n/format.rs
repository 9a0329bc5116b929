//! Dates and amounts written for a reader, through ICU4X and its CLDR data: "7 December 2026",
//! "7 de diciembre de 2026", "7 décembre 2026"; "€1,234.50", "1234,50 €", "1 234,50 €". The
//! number and the date come from CLDR; where the currency goes is a message of `formats.ftl`.
//!
//! Emails are rendered once per recipient, so a message's facts carry a [`LocalDate`] or a
//! [`LocalAmount`] (serialized as a marker object) and [`localize_json`] writes each out in
//! the recipient's language just before the templates run.

use icu_datetime::DateTimeFormatter;
use icu_datetime::fieldsets::YMD;
use icu_datetime::input::Date;
use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_locale_core::Locale;
use serde::Serialize;
use serde_json::Value;

use super::{Lang, message, t_args};

const DATE_KEY: &str = "$date";
const AMOUNT_KEY: &str = "$amount";
const CURRENCY_KEY: &str = "$currency";

fn locale(lang: Lang) -> Locale {
    lang.language().locale.parse().unwrap_or(Locale::UNKNOWN)
}

/// A date as `lang` writes it in full ("7 de diciembre de 2026"); ISO 8601 if ICU cannot.
pub fn long_date(lang: Lang, d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let iso = d.to_string();
    let Ok(month) = u8::try_from(d.month()) else {
        return iso;
    };
    let Ok(day) = u8::try_from(d.day()) else {
        return iso;
    };
    let Ok(date) = Date::try_new_iso(d.year(), month, day) else {
        return iso;
    };
    match DateTimeFormatter::try_new(locale(lang).into(), YMD::long()) {
        Ok(f) => f.format(&date).to_string(),
        Err(_) => iso,
    }
}

/// A decimal string ("-1234.50") with `lang`'s separators and grouping ("-1 234,50").
pub fn number(lang: Lang, decimal: &str) -> String {
    let (Ok(d), Ok(f)) = (
        Decimal::try_from_str(decimal),
        DecimalFormatter::try_new(locale(lang).into(), Default::default()),
    ) else {
        return decimal.to_string();
    };
    f.format(&d).to_string()
}

/// An amount in minor units as `lang` writes it: the CLDR number with the currency's
/// symbol where the language has one for it, else its ISO 4217 code ("USD 60,000.00").
pub fn amount(lang: Lang, minor: i64, currency: &str) -> String {
    let number = number(
        lang,
        &crate::money::format(minor.saturating_abs(), currency),
    );
    let sign = if minor < 0 { "-" } else { "" };
    let written = match message(lang, &format!("currency-symbol-{currency}"), None) {
        Some(symbol) => t_args(
            lang,
            "money-with-symbol",
            &[("symbol", symbol.into()), ("number", number.into())],
        ),
        None => t_args(
            lang,
            "money-with-code",
            &[
                ("code", currency.to_string().into()),
                ("number", number.into()),
            ],
        ),
    };
    format!("{sign}{written}")
}

/// A date an email writes out in its reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDate(pub chrono::NaiveDate);

impl Serialize for LocalDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(DATE_KEY, &self.0.to_string())?;
        m.end()
    }
}

/// An amount an email writes out in its reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAmount {
    /// Minor units.
    pub minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl LocalAmount {
    /// `minor` units of `currency`.
    pub fn new(minor: i64, currency: &str) -> Self {
        Self {
            minor,
            currency: currency.to_string(),
        }
    }
}

impl Serialize for LocalAmount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(AMOUNT_KEY, &self.minor)?;
        m.serialize_entry(CURRENCY_KEY, &self.currency)?;
        m.end()
    }
}

/// Writes every [`LocalDate`] and [`LocalAmount`] of `value` out in `lang`.
pub fn localize_json(value: &mut Value, lang: Lang) {
    match value {
        Value::Object(map) => {
            if let Some(written) = written_out(map, lang) {
                *value = Value::String(written);
                return;
            }
            for v in map.values_mut() {
                localize_json(v, lang);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| localize_json(v, lang)),
        _ => {}
    }
}

fn written_out(map: &serde_json::Map<String, Value>, lang: Lang) -> Option<String> {
    if let Some(Value::String(d)) = map.get(DATE_KEY) {
        let d = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
        return Some(long_date(lang, d));
    }
    match (map.get(AMOUNT_KEY), map.get(CURRENCY_KEY)) {
        (Some(Value::Number(n)), Some(Value::String(c))) => Some(amount(lang, n.as_i64()?, c)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(code: &str) -> Lang {
        Lang::from_code(code).unwrap()
    }

    #[test]
    fn dates_are_written_the_way_each_language_writes_them() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(long_date(Lang::EN, d), "7 December 2026");
        assert_eq!(long_date(lang("es"), d), "7 de diciembre de 2026");
        assert_eq!(long_date(lang("fr"), d), "7 décembre 2026");
    }

    #[test]
    fn amounts_are_written_the_way_each_language_writes_them() {
        assert_eq!(amount(Lang::EN, 123_450, "EUR"), "€1,234.50");
        assert_eq!(amount(lang("fr"), 123_450, "EUR"), "1\u{202f}234,50\u{a0}€");
        // Spanish groups thousands from five digits on (CLDR minimum grouping digits).
        assert_eq!(amount(lang("es"), 123_450, "EUR"), "1234,50\u{a0}€");
        assert_eq!(amount(lang("es"), 6_000_000, "USD"), "60.000,00\u{a0}USD");
        assert_eq!(amount(Lang::EN, 6_000_000, "USD"), "USD 60,000.00");
        assert_eq!(amount(Lang::EN, -500, "GBP"), "-£5.00");
    }

    #[test]
    fn markers_in_an_email_context_are_written_out_in_the_readers_language() {
        let mut v = serde_json::json!({
            "due_on": LocalDate(chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()),
            "nested": {"amount": LocalAmount::new(123_450, "EUR")},
            "title": "kept",
        });
        localize_json(&mut v, lang("es"));
        assert_eq!(v["due_on"], "7 de diciembre de 2026");
        assert_eq!(v["nested"]["amount"], "1234,50\u{a0}€");
        assert_eq!(v["title"], "kept");
    }
}

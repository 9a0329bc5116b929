//! Money: an `i64` count of minor units plus an ISO 4217 code, never a float. On the wire an
//! amount is a decimal string with exactly the currency's minor-unit digits (`"12500.00"`,
//! JPY `"12500"`, KWD `"12.500"`); parsing refuses anything that would lose precision.

/// A money value that cannot be accepted, naming the request field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyError {
    /// The request field.
    pub field: String,
    /// A stable code, e.g. `too_many_decimals`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

impl MoneyError {
    fn new(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Active ISO 4217 currencies with their minor-unit digits (fund codes and precious metals
/// left out; every code here is also on the 360Giving currency codelist).
#[rustfmt::skip]
pub const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2),
    ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLP", 0), ("CNY", 2), ("COP", 2), ("CRC", 2),
    ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2),
    ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2),
    ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2),
    ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2),
    ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2), ("KRW", 0),
    ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2),
    ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2), ("MOP", 2),
    ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2),
    ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2),
    ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2),
    ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2),
    ("SHP", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2), ("SZL", 2),
    ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2), ("TTD", 2), ("TWD", 2),
    ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("UYU", 2), ("UZS", 2), ("VES", 2), ("VND", 0),
    ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2),
    ("ZMW", 2), ("ZWL", 2),
];

/// Scale of an exchange rate: rates are stored as integer millionths.
pub const RATE_SCALE: i64 = 1_000_000;

/// Largest amount accepted, in minor units; keeps every sum and product far from overflow.
pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// Minor-unit digits of a currency, when it is a known ISO 4217 code.
pub fn minor_units(code: &str) -> Option<u32> {
    CURRENCIES.iter().find(|(c, _)| *c == code).map(|(_, d)| *d)
}

/// Checks a currency code (upper-case ISO 4217); 400 naming `field` otherwise.
pub fn currency(field: &str, code: &str) -> Result<String, MoneyError> {
    match minor_units(code) {
        Some(_) => Ok(code.to_string()),
        None => Err(MoneyError::new(
            field,
            "unknown_currency",
            "Use an active ISO 4217 currency code in upper case, such as USD.",
        )),
    }
}

/// Parses a positive decimal string into minor units of `currency`.
///
/// Refuses (400 naming `field`) signs, exponents, separators, more decimals than the currency
/// has, zero, and amounts above 10^18 minor units.
pub fn parse_amount(field: &str, raw: &str, currency: &str) -> Result<i64, MoneyError> {
    let digits = minor_units(currency).ok_or_else(|| {
        MoneyError::new(
            field,
            "unknown_currency",
            "The currency of this amount is unknown.",
        )
    })?;
    let invalid = |code: &str, msg: String| MoneyError::new(field, code, msg);
    let s = raw.trim();
    if s.starts_with('-') {
        return Err(invalid("negative", "An amount must be positive.".into()));
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let numeric = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !numeric(whole) || !numeric(frac) || (s.contains('.') && frac.is_empty())
    {
        return Err(invalid(
            "invalid",
            format!(
                "Write the amount as a decimal string such as \"{}\".",
                example(currency)
            ),
        ));
    }
    if frac.len() as u32 > digits {
        return Err(invalid(
            "too_many_decimals",
            format!("{currency} amounts have at most {digits} decimal places."),
        ));
    }
    let mut minor: i64 = 0;
    let padded = format!("{frac:0<width$}", width = digits as usize);
    for part in [whole, padded.as_str()] {
        for b in part.bytes() {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .filter(|m| *m <= MAX_MINOR)
                .ok_or_else(|| invalid("too_large", "The amount is too large.".into()))?;
        }
    }
    if minor == 0 {
        return Err(invalid("zero", "An amount must be more than zero.".into()));
    }
    Ok(minor)
}

fn example(currency: &str) -> String {
    format(1_250_000, currency)
}

/// Formats minor units of `currency` with exactly its minor-unit digits.
pub fn format(minor: i64, currency: &str) -> String {
    let digits = minor_units(currency).unwrap_or(2);
    if digits == 0 {
        return minor.to_string();
    }
    let scale = 10_i64.pow(digits);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = digits as usize
    )
}

/// Minor units as a JSON number in major units (for exports whose schema wants numbers).
/// Built from the decimal string, so the digits are the stored ones.
pub fn json_number(minor: i64, currency: &str) -> serde_json::Value {
    serde_json::from_str(&format(minor, currency)).unwrap_or(serde_json::Value::Null)
}

/// Parses an exchange rate (units of fund currency per one unit of grant currency) given as
/// a positive decimal string with at most six decimals; returns millionths.
pub fn parse_rate(field: &str, raw: &str) -> Result<i64, MoneyError> {
    let bad = || {
        MoneyError::new(
            field,
            "invalid",
            "Write the rate as a positive decimal string with at most 6 decimals, such as \"0.912345\".",
        )
    };
    let s = raw.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let numeric = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > RATE_WHOLE_DIGITS
        || !numeric(whole)
        || !numeric(frac)
        || frac.len() > RATE_DECIMALS
    {
        return Err(bad());
    }
    let w: i64 = whole.parse().map_err(|_| bad())?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    let micros = w * RATE_SCALE + f;
    if micros == 0 {
        return Err(bad());
    }
    Ok(micros)
}

/// Whole digits `parse_rate` accepts.
const RATE_WHOLE_DIGITS: usize = 9;
/// Decimals `parse_rate` accepts.
const RATE_DECIMALS: usize = 6;

/// A digit string of 1..=`max` digits that is not all zeros, without lookahead (which
/// schema-driven generators cannot draw from): one branch per position of the first non-zero.
fn nonzero_digits(max: usize) -> String {
    (0..max)
        .map(|k| format!("0{{{k}}}[1-9][0-9]{{0,{}}}", max - 1 - k))
        .collect::<Vec<_>>()
        .join("|")
}

/// The pattern of what `parse_rate` accepts (without the spaces it trims): up to nine whole
/// digits and six decimals, not zero.
pub fn rate_pattern() -> String {
    format!(
        "^(({})(\\.[0-9]{{0,{RATE_DECIMALS}}})?|0{{1,{RATE_WHOLE_DIGITS}}}\\.({}))$",
        nonzero_digits(RATE_WHOLE_DIGITS),
        nonzero_digits(RATE_DECIMALS),
    )
}

/// The pattern of what `parse_amount` accepts for a currency with `decimals` minor-unit
/// digits (without the spaces it trims): not zero, at most `decimals` decimals, at most
/// [`MAX_MINOR`] minor units (leading zeros are allowed).
pub fn amount_pattern(decimals: u32) -> String {
    // MAX_MINOR is a power of ten, 10^exp: an amount below it has a whole part of at most
    // exp - decimals digits; MAX_MINOR itself is a 1 and zeros, with zero decimals only.
    let exp = MAX_MINOR.ilog10() as usize;
    let d = decimals as usize;
    let below = format!("0*[1-9][0-9]{{0,{}}}", exp - 1 - d);
    let max = format!("0*10{{{}}}", exp - d);
    if d == 0 {
        return format!("^({below}|{max})$");
    }
    format!(
        "^({below}(\\.[0-9]{{1,{d}}})?|{max}(\\.0{{1,{d}}})?|0+\\.({}))$",
        nonzero_digits(d)
    )
}

/// Formats a rate in millionths as a decimal string with six decimals.
pub fn format_rate(micros: i64) -> String {
    format!("{}.{:06}", micros / RATE_SCALE, micros % RATE_SCALE)
}

/// Converts minor units of `from` into minor units of `to` at `rate_micros` (units of `to` per
/// unit of `from`, in millionths), in integer arithmetic, rounding half away from zero.
///
/// `amount · rate · 10^to_digits / (10^6 · 10^from_digits)`, computed in i128 so no
/// intermediate can overflow; `None` only when the result does not fit an i64.
pub fn convert(amount: i64, from: &str, to: &str, rate_micros: i64) -> Option<i64> {
    let from_digits = minor_units(from)?;
    let to_digits = minor_units(to)?;
    let num = i128::from(amount) * i128::from(rate_micros) * 10_i128.pow(to_digits);
    let den = i128::from(RATE_SCALE) * 10_i128.pow(from_digits);
    let q = num / den;
    let r = num % den;
    let rounded = if r.abs() * 2 >= den {
        q + num.signum()
    } else {
        q
    };
    i64::try_from(rounded).ok()
}

/// Parses `USD:50000,EUR:45000` (major units per currency) into minor-unit thresholds.
pub fn parse_thresholds(raw: &str) -> Result<Vec<(String, i64)>, String> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (code, amount) = part
            .split_once(':')
            .ok_or_else(|| format!("expected CUR:amount[,CUR:amount...], got {part:?}"))?;
        let code = code.trim();
        if minor_units(code).is_none() {
            return Err(format!("{code:?} is not an ISO 4217 currency code"));
        }
        if out.iter().any(|(c, _)| c == code) {
            return Err(format!("{code} is listed twice"));
        }
        let minor = parse_amount("threshold", amount.trim(), code).map_err(|_| {
            format!(
                "{code}: expected a positive amount, got {:?}",
                amount.trim()
            )
        })?;
        out.push((code.to_string(), minor));
    }
    Ok(out)
}

/// An amount as people read it: the code first, thousands separated, the currency's
/// minor-unit digits (`USD 60,000.00`, `JPY 1,250,000`, `KWD 12.500`).
pub fn for_people(minor: i64, currency: &str) -> String {
    let plain = format(minor, currency);
    let (sign, unsigned) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (whole, frac) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{currency} {sign}{grouped}.{f}"),
        None => format!("{currency} {sign}{grouped}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_amount_and_rate_patterns_accept_what_the_parsers_accept() {
        assert_eq!(
            10_i64.pow(MAX_MINOR.ilog10()),
            MAX_MINOR,
            "MAX_MINOR is a power of ten"
        );
        let matches = |pattern: &str, s: &str| {
            jsonschema::is_valid(
                &serde_json::json!({"type": "string", "pattern": pattern}),
                &serde_json::json!(s),
            )
        };
        for currency in ["JPY", "GBP", "KWD"] {
            let d = minor_units(currency).unwrap();
            let pattern = amount_pattern(d);
            let max_whole = (MAX_MINOR / 10_i64.pow(d)).to_string();
            let below_max = (MAX_MINOR / 10_i64.pow(d) - 1).to_string();
            let mut samples = vec![
                "1".to_string(),
                "0".into(),
                "0.0".into(),
                "0.5".into(),
                "00.5".into(),
                "1.".into(),
                ".5".into(),
                "0001".into(),
                "1.25".into(),
                "1.250".into(),
                "1.2505".into(),
                "-1".into(),
                "1e3".into(),
                max_whole.clone(),
                format!("{max_whole}0"),
                format!("0{max_whole}"),
                format!("{max_whole}.0"),
                format!("{max_whole}.1"),
                format!("{max_whole}.000"),
                below_max.clone(),
                format!("{below_max}.9"),
                format!("{below_max}.99"),
                format!("{below_max}.999"),
            ];
            samples.push(format!("1{}", "0".repeat(20)));
            for s in samples {
                assert_eq!(
                    matches(&pattern, &s),
                    parse_amount("a", &s, currency).is_ok(),
                    "{currency} {s:?} against {pattern}"
                );
            }
        }
        let pattern = rate_pattern();
        for s in [
            "1",
            "0",
            "0.0",
            "0.000001",
            "0.0000001",
            "1.",
            "123456789",
            "1234567890",
            "0.5",
            "000000000.1",
            "1.123456",
            "1.1234567",
            ".5",
            "-1",
        ] {
            assert_eq!(
                matches(&pattern, s),
                parse_rate("r", s).is_ok(),
                "{s:?} against {pattern}"
            );
        }
    }

    #[test]
    fn amounts_parse_with_the_currency_digits() {
        assert_eq!(parse_amount("a", "12500.00", "GBP").unwrap(), 1_250_000);
        assert_eq!(parse_amount("a", "12500", "GBP").unwrap(), 1_250_000);
        assert_eq!(parse_amount("a", "12500.5", "EUR").unwrap(), 1_250_050);
        assert_eq!(parse_amount("a", "12500", "JPY").unwrap(), 12_500);
        assert_eq!(parse_amount("a", "1.234", "KWD").unwrap(), 1_234);
    }

    #[test]
    fn bad_amounts_name_the_field_and_the_rule() {
        let code = |raw: &str, cur: &str| match parse_amount("amount", raw, cur) {
            Err(e) => {
                assert_eq!(e.field, "amount");
                e.code.clone()
            }
            other => panic!("{raw}: {other:?}"),
        };
        assert_eq!(code("1.001", "USD"), "too_many_decimals");
        assert_eq!(code("1.5", "JPY"), "too_many_decimals");
        assert_eq!(code("-5", "USD"), "negative");
        assert_eq!(code("0.00", "USD"), "zero");
        assert_eq!(code("abc", "USD"), "invalid");
        assert_eq!(code("1e5", "USD"), "invalid");
        assert_eq!(code("1,000", "USD"), "invalid");
        assert_eq!(code("5.", "USD"), "invalid");
        assert_eq!(code("", "USD"), "invalid");
        assert_eq!(code("99999999999999999999", "USD"), "too_large");
        assert_eq!(code("5", "XXX"), "unknown_currency");
    }

    #[test]
    fn amounts_format_with_exactly_the_currency_digits() {
        assert_eq!(format(1_250_000, "GBP"), "12500.00");
        assert_eq!(format(5, "USD"), "0.05");
        assert_eq!(format(12_500, "JPY"), "12500");
        assert_eq!(format(1_234, "BHD"), "1.234");
        assert_eq!(format(-150, "EUR"), "-1.50");
        assert_eq!(json_number(1_250_050, "EUR"), serde_json::json!(12500.5));
    }

    #[test]
    fn currency_table_has_the_common_codes_with_their_digits() {
        for (c, d) in [
            ("USD", 2),
            ("EUR", 2),
            ("GBP", 2),
            ("CHF", 2),
            ("JPY", 0),
            ("KES", 2),
            ("MXN", 2),
            ("CLP", 0),
            ("KRW", 0),
            ("VND", 0),
            ("XOF", 0),
            ("XAF", 0),
            ("UGX", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("JOD", 3),
            ("TND", 3),
            ("OMR", 3),
        ] {
            assert_eq!(minor_units(c), Some(d), "{c}");
        }
        assert_eq!(minor_units("usd"), None);
        let mut codes: Vec<&str> = CURRENCIES.iter().map(|(c, _)| *c).collect();
        codes.dedup();
        assert_eq!(codes.len(), CURRENCIES.len(), "sorted and unique");
    }

    #[test]
    fn conversion_is_integer_and_rounds_half_away_from_zero() {
        // 1000.00 EUR at 1.085 USD/EUR = 1085.00 USD.
        assert_eq!(convert(100_000, "EUR", "USD", 1_085_000), Some(108_500));
        // 100000 JPY at 0.006712 USD/JPY = 671.20 USD.
        assert_eq!(convert(100_000, "JPY", "USD", 6_712), Some(67_120));
        // 0.01 USD at 0.5 → 0.005 → rounds to 0.01.
        assert_eq!(convert(1, "USD", "EUR", 500_000), Some(1));
        // 1.000 KWD at 3.25 USD/KWD = 3.25 USD.
        assert_eq!(convert(1_000, "KWD", "USD", 3_250_000), Some(325));
    }

    #[test]
    fn rates_parse_to_millionths() {
        assert_eq!(parse_rate("fx_rate", "1.085").unwrap(), 1_085_000);
        assert_eq!(parse_rate("fx_rate", "0.000001").unwrap(), 1);
        assert_eq!(format_rate(1_085_000), "1.085000");
        assert!(parse_rate("fx_rate", "0").is_err());
        assert!(parse_rate("fx_rate", "1.0000001").is_err());
        assert!(parse_rate("fx_rate", "-1").is_err());
    }

    #[test]
    fn thresholds_parse_per_currency_in_major_units() {
        assert_eq!(
            parse_thresholds("USD:50000, EUR:45000").unwrap(),
            vec![
                ("USD".to_string(), 5_000_000),
                ("EUR".to_string(), 4_500_000)
            ]
        );
        assert!(parse_thresholds("").unwrap().is_empty());
        assert!(parse_thresholds("USD").is_err());
        assert!(parse_thresholds("XXX:5").is_err());
        assert!(parse_thresholds("USD:-5").is_err());
        assert!(parse_thresholds("USD:5,USD:6").is_err());
    }

    #[test]
    fn amounts_for_people_group_thousands_and_keep_the_currency_digits() {
        assert_eq!(for_people(6_000_000, "USD"), "USD 60,000.00");
        assert_eq!(for_people(1_250_000, "JPY"), "JPY 1,250,000");
        assert_eq!(for_people(12_500, "KWD"), "KWD 12.500");
        assert_eq!(for_people(99, "EUR"), "EUR 0.99");
        assert_eq!(for_people(12_345_678_900, "GBP"), "GBP 123,456,789.00");
        assert_eq!(for_people(-100_000, "USD"), "USD -1,000.00");
    }
}

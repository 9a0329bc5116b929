//! The parsers a setting is declared with (`settings.rs`): each turns the raw text (trimmed,
//! the default when unset or empty) into its typed value, or says what was expected. They never
//! name the variable: the caller adds it, so a message cannot name the wrong one.

use std::net::IpAddr;

use super::{
    AppEnv, EncryptionKey, IpRange, JwtKey, LogFormat, MailTransportKind, Secret, SmtpSecurity,
};

/// What a parser returns: the value, or what was expected.
pub type Parsed<T> = Result<T, String>;

/// An integer within `MIN..=MAX`, converted to the field's type.
pub fn int<T: TryFrom<i64>, const MIN: i64, const MAX: i64>(raw: &str) -> Parsed<T> {
    let expected = || format!("expected an integer from {MIN} to {MAX}, got {raw:?}");
    match raw.parse::<i64>() {
        Ok(v) if (MIN..=MAX).contains(&v) => T::try_from(v).map_err(|_| expected()),
        _ => Err(expected()),
    }
}

/// Like [`int`], but empty means "not set" (the caller picks a computed default).
pub fn optional_int<T: TryFrom<i64>, const MIN: i64, const MAX: i64>(
    raw: &str,
) -> Parsed<Option<T>> {
    if raw.is_empty() {
        return Ok(None);
    }
    int::<T, MIN, MAX>(raw).map(Some)
}

/// Exactly `true` or `false`: `yes`, `1` or `TRUE` would be guesses, and a guess about
/// whether a worker runs is a bad one to make silently.
pub fn boolean(raw: &str) -> Parsed<bool> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected true or false, got {raw:?}")),
    }
}

/// The lenient form `WEBHOOK_ALLOW_HTTP` has always accepted (true/1/yes/on, any case).
pub fn lenient_boolean(raw: &str) -> Parsed<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(format!("expected true or false, got {other:?}")),
    }
}

/// Any text, as written.
pub fn text(raw: &str) -> Parsed<String> {
    Ok(raw.to_string())
}

/// Any text; empty means none.
pub fn optional_text(raw: &str) -> Parsed<Option<String>> {
    Ok(Some(raw.to_string()).filter(|v| !v.is_empty()))
}

/// A secret; empty means none.
pub fn optional_secret(raw: &str) -> Parsed<Option<Secret>> {
    optional_text(raw).map(|v| v.map(Secret))
}

/// An IP address to listen on.
pub fn ip(raw: &str) -> Parsed<IpAddr> {
    raw.parse()
        .map_err(|_| "expected an IP address such as 127.0.0.1 or 0.0.0.0".to_string())
}

fn is_http(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// A base URL, without its trailing slash.
pub fn base_url(raw: &str) -> Parsed<String> {
    if !is_http(raw) {
        return Err("expected an http:// or https:// URL".into());
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// This service's base URL, or empty for the default that follows `PORT`.
pub fn optional_public_base_url(raw: &str) -> Parsed<Option<String>> {
    match raw {
        "" => Ok(None),
        u => base_url(u).map(Some),
    }
}

/// A base URL, or empty for `PUBLIC_BASE_URL`.
pub fn optional_base_url(raw: &str) -> Parsed<Option<String>> {
    match raw {
        "" => Ok(None),
        u if is_http(u) => Ok(Some(u.trim_end_matches('/').to_string())),
        _ => Err("expected an http:// or https:// URL, or empty for PUBLIC_BASE_URL".into()),
    }
}

/// `development` or `production`.
pub fn app_env(raw: &str) -> Parsed<AppEnv> {
    match raw {
        "development" => Ok(AppEnv::Development),
        "production" => Ok(AppEnv::Production),
        _ => Err("expected development or production".into()),
    }
}

/// `smtp`, `file` or `log`.
pub fn mail_transport(raw: &str) -> Parsed<MailTransportKind> {
    match raw {
        "smtp" => Ok(MailTransportKind::Smtp),
        "file" => Ok(MailTransportKind::File),
        "log" => Ok(MailTransportKind::Log),
        _ => Err("expected smtp, file or log".into()),
    }
}

/// `none`, `starttls` or `tls`.
pub fn smtp_security(raw: &str) -> Parsed<SmtpSecurity> {
    match raw {
        "none" => Ok(SmtpSecurity::None),
        "starttls" => Ok(SmtpSecurity::Starttls),
        "tls" => Ok(SmtpSecurity::Tls),
        _ => Err("expected none, starttls or tls".into()),
    }
}

/// `pretty` or `json`.
pub fn log_format(raw: &str) -> Parsed<LogFormat> {
    match raw {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err("expected pretty or json".into()),
    }
}

/// A tracing filter: checked here so a typo stops the start instead of silently logging
/// at `info`.
pub fn tracing_filter(raw: &str) -> Parsed<String> {
    match tracing_subscriber::EnvFilter::try_new(raw) {
        Ok(_) => Ok(raw.to_string()),
        Err(e) => Err(format!("not a valid tracing filter ({e}), got {raw:?}")),
    }
}

/// A mailbox such as `IDPC <no-reply@example.org>`.
pub fn mailbox(raw: &str) -> Parsed<String> {
    match raw.parse::<lettre::message::Mailbox>() {
        Ok(_) => Ok(raw.to_string()),
        Err(_) => Err("expected a mailbox such as IDPC <no-reply@example.org>".into()),
    }
}

/// Comma-separated http(s) origins, without trailing slashes.
pub fn origins(raw: &str) -> Parsed<Vec<String>> {
    let origins: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    match origins.iter().find(|o| !is_http(o)) {
        Some(bad) => Err(format!(
            "expected comma-separated http(s) origins, got {bad:?}"
        )),
        None => Ok(origins),
    }
}

/// Comma-separated IPs or CIDR ranges of trusted proxies.
pub fn proxies(raw: &str) -> Parsed<Vec<IpRange>> {
    super::proxies::parse_list(raw)
}

/// An ISO 4217 currency code.
pub fn currency(raw: &str) -> Parsed<String> {
    crate::money::currency("BASE_CURRENCY", raw)
        .map_err(|_| "expected an ISO 4217 code such as USD".to_string())
}

/// A decimal amount; it becomes minor units once `BASE_CURRENCY` is known (see
/// `Config::from_map`), so here it is only the text.
pub fn amount_text(raw: &str) -> Parsed<String> {
    Ok(raw.to_string())
}

/// `kid:KEY[,kid:KEY...]`: kids unique and plain, each KEY 32 bytes in standard base64.
pub fn encryption_keys(raw: &str) -> Parsed<Vec<EncryptionKey>> {
    use base64::Engine as _;
    let mut keys: Vec<EncryptionKey> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kid, key) = part
            .split_once(':')
            .ok_or("expected kid:KEY[,kid:KEY...] with KEY 32 bytes in base64")?;
        if kid.is_empty()
            || kid.len() > 32
            || !kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("each kid must be 1-32 letters, digits, - or _".into());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| "each KEY must be base64 (openssl rand -base64 32)")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "each KEY must be exactly 32 bytes (openssl rand -base64 32)")?;
        if keys.iter().any(|k| k.kid == kid) {
            return Err("each kid must be unique".into());
        }
        keys.push(EncryptionKey {
            kid: kid.to_string(),
            key: Secret(hex::encode(key)),
        });
    }
    Ok(keys)
}

/// `kid:secret[,kid:secret...]`: kids unique and plain, secrets of 32 bytes or more.
pub fn jwt_keys(raw: &str) -> Parsed<Vec<JwtKey>> {
    let mut keys: Vec<JwtKey> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kid, secret) = part
            .split_once(':')
            .ok_or("expected kid:secret[,kid:secret...]")?;
        if kid.is_empty()
            || !kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err("each kid must be letters, digits, - or _".into());
        }
        if secret.len() < 32 {
            return Err("each secret must be at least 32 bytes".into());
        }
        if keys.iter().any(|k| k.kid == kid) {
            return Err("each kid must be unique".into());
        }
        keys.push(JwtKey {
            kid: kid.to_string(),
            secret: Secret(secret.to_string()),
        });
    }
    Ok(keys)
}

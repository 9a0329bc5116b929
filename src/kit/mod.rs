//! Small pieces every domain uses and no domain owns: text-backed enums, timestamps on the
//! wire, cursors. Nothing here knows about grants, people or the directory.

pub mod text_enum;

use chrono::NaiveDateTime;

use crate::error::ApiError;

/// Formats a stored UTC timestamp as RFC 3339 with a `Z` suffix.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Normalises and checks an email address.
pub fn normalise_email(field: &str, email: &str) -> Result<String, ApiError> {
    // No trimming: the documented pattern admits no whitespace, so neither does the check.
    let e = email.to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',');
    if ok {
        Ok(e)
    } else {
        Err(ApiError::field(
            field,
            "invalid",
            "Use a valid email address.",
        ))
    }
}

/// Checks a name as the schema documents it (length counted before trimming); stored trimmed.
pub fn check_name(field: &str, name: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let n = name.chars().count();
    if n < min || n > max || name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(ApiError::field(
            field,
            "invalid",
            format!("A name needs {min} to {max} printable characters."),
        ));
    }
    Ok(name.trim().to_string())
}

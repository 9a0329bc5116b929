//! Small pieces every domain uses and no domain owns: text-backed enums, timestamps on the
//! wire, cursors. Nothing here knows about grants, people or the directory.

pub mod org_id;
pub mod ssrf;
pub mod text_enum;

use chrono::NaiveDateTime;

use crate::error::{ApiError, FieldError};

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

/// Collects a `control_character` error when `value` holds a control character: NUL,
/// escape codes, DEL, C1, and (unless `multiline`) tab and line breaks. The one text check
/// of every input: the JSON extractor runs it on every string of a body (line breaks
/// allowed), the console on every field of every form, services on single-line fields.
pub fn control_characters(errors: &mut Vec<FieldError>, field: &str, value: &str, multiline: bool) {
    if value.chars().any(|c| is_forbidden_control(c, multiline)) {
        errors.push(FieldError::new(
            field,
            "control_character",
            if multiline {
                "Remove control characters (such as NUL or escape codes) from this text."
            } else {
                "Remove control characters (such as NUL, escape codes, tabs or line breaks) from this text."
            },
        ));
    }
}

/// True for a character no text input may carry: C0 controls (NUL, escape …), DEL and C1.
/// Tab, line feed and carriage return are allowed only where `multiline` is true.
pub fn is_forbidden_control(c: char, multiline: bool) -> bool {
    match c {
        '\t' | '\n' | '\r' => !multiline,
        c => c.is_control(),
    }
}

/// The characters `is_forbidden_control(c, multiline)` refuses, as the body of a regular
/// expression class: the OpenAPI document states the check with these patterns (a test walks
/// every character to keep them equal).
pub const fn control_class(multiline: bool) -> &'static str {
    if multiline {
        "\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F"
    } else {
        "\\x00-\\x1F\\x7F-\\x9F"
    }
}

/// Percent-decodes a URL part leniently (a malformed escape stays as written).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_only_in_multiline_text() {
        assert!(is_forbidden_control('\0', true));
        assert!(is_forbidden_control('\u{1b}', true));
        assert!(is_forbidden_control('\u{7f}', true));
        assert!(is_forbidden_control('\u{85}', true));
        assert!(!is_forbidden_control('\n', true));
        assert!(is_forbidden_control('\n', false));
        assert!(!is_forbidden_control('é', false));
    }

    #[test]
    fn the_documented_control_class_is_the_checked_one() {
        // The class is a list of `\xHH` and `\xHH-\xHH`; read it back and compare.
        for multiline in [false, true] {
            let mut ranges = Vec::new();
            let mut open = None;
            for part in control_class(multiline)
                .split("\\x")
                .filter(|s| !s.is_empty())
            {
                let v = u32::from_str_radix(part.trim_end_matches('-'), 16).unwrap();
                match open.take() {
                    _ if part.ends_with('-') => open = Some(v),
                    Some(start) => ranges.push((start, v)),
                    None => ranges.push((v, v)),
                }
            }
            for c in (0..=0x10FFFF).filter_map(char::from_u32) {
                let listed = ranges.iter().any(|&(a, b)| (a..=b).contains(&(c as u32)));
                assert_eq!(listed, is_forbidden_control(c, multiline), "{c:?}");
            }
        }
    }

    #[test]
    fn percent_decoding_reads_escapes_and_keeps_bad_ones() {
        assert_eq!(percent_decode("a%00b"), "a\0b");
        assert_eq!(percent_decode("Bogot%C3%A1"), "Bogotá");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}

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
    let mut invisible = Vec::new();
    invisible_characters(&mut invisible, field, name);
    if let Some(e) = invisible.pop() {
        return Err(ApiError::Validation(vec![e]));
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

/// True for a character that changes how a name is displayed without being seen: bidi
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and zero-width
/// characters (U+200B–U+200D, U+2060, U+FEFF). A name holding one can impersonate another
/// (`Kenya` next to `Ken\u{200B}ya`) or show its text reversed in a list.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{202A}'..='\u{202E}' | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// The characters `is_invisible_format` refuses, as the body of a regular expression class:
/// the name patterns of the OpenAPI document carry it (a test keeps the two equal).
pub const INVISIBLE_CLASS: &str = "\\u200B-\\u200D\\u202A-\\u202E\\u2060\\u2066-\\u2069\\uFEFF";

/// Collects an `invisible_character` error when the name `value` holds a bidi override or
/// a zero-width character (`is_invisible_format`). Names only: such characters have uses
/// in running text, none in a name shown in a list, an email or an export.
pub fn invisible_characters(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    if value.chars().any(is_invisible_format) {
        errors.push(FieldError::new(
            field,
            "invisible_character",
            "Remove invisible characters (bidi overrides or zero-width characters) from this name.",
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

/// A size as people read it: `812 bytes`, `48.2 KB`, `3.1 MB` (1 KB = 1024 bytes).
pub fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} GB", b / (1024.0 * 1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_bytes_kilobytes_and_megabytes() {
        assert_eq!(super::human_size(812), "812 bytes");
        assert_eq!(super::human_size(49_357), "48.2 KB");
        assert_eq!(super::human_size(100 * 1024 * 1024), "100.0 MB");
    }

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
    fn the_documented_invisible_class_is_the_checked_one() {
        // The class is a list of `\uHHHH` and `\uHHHH-\uHHHH`; read it back and compare.
        let mut ranges = Vec::new();
        for part in INVISIBLE_CLASS.split("\\u").filter(|s| !s.is_empty()) {
            let v = u32::from_str_radix(part.trim_end_matches('-'), 16).unwrap();
            match ranges.last_mut() {
                Some((_, end @ None)) => *end = Some(v),
                _ => ranges.push((v, if part.ends_with('-') { None } else { Some(v) })),
            }
        }
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let listed = ranges
                .iter()
                .any(|&(a, b)| (a..=b.unwrap()).contains(&(c as u32)));
            assert_eq!(listed, is_invisible_format(c), "{c:?}");
        }
        let mut errors = Vec::new();
        invisible_characters(&mut errors, "name", "Ken\u{200B}ya");
        invisible_characters(&mut errors, "name", "Kenya");
        assert_eq!(errors.len(), 1);
        assert!(check_name("name", "\u{202E}ayneK", 1, 50).is_err());
        assert!(check_name("name", "Kenya", 1, 50).is_ok());
    }

    #[test]
    fn percent_decoding_reads_escapes_and_keeps_bad_ones() {
        assert_eq!(percent_decode("a%00b"), "a\0b");
        assert_eq!(percent_decode("Bogot%C3%A1"), "Bogotá");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}

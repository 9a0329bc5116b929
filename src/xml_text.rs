//! The one XML text escaper, for the files the service writes (IATI activities, pain.001
//! bank files): the five predefined entities, and what becomes of control characters, which
//! XML 1.0 cannot carry.

/// What becomes of a control character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controls {
    /// Tab, line feed and carriage return stay (a narrative keeps its lines); the others,
    /// below U+0020, are dropped.
    KeepLines,
    /// Every control character becomes a space (a bank file's fields are one line).
    Space,
}

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str, controls: Controls) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if controls == Controls::Space && c.is_control() => out.push(' '),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_are_escaped_and_controls_kept_or_spaced_as_asked() {
        assert_eq!(
            escape("a&b<c>\"d'", Controls::KeepLines),
            "a&amp;b&lt;c&gt;&quot;d&apos;"
        );
        assert_eq!(escape("a\nb\u{1}c", Controls::KeepLines), "a\nbc");
        assert_eq!(escape("a\nb\u{1}c", Controls::Space), "a b c");
    }
}

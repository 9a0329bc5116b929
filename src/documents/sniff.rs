//! What a file is, from its own first bytes (never from its name or declared type), against
//! the allow-list; and the file name as stored: no folders, no control or bidi characters.

/// Media types accepted, by what the content says it is.
pub const ALLOWED: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// Bytes of the file's start that decide its type.
pub const HEAD: usize = 8192;

/// The media type of a file starting with `head` (at most [`HEAD`] bytes, fewer when the
/// file is shorter), or the refusal naming what was found. Text without a known signature is
/// `text/plain`, or `text/csv` when its name ends in `.csv`.
pub fn media_type(head: &[u8], file_name: &str) -> Result<&'static str, String> {
    if let Some(kind) = infer::get(head) {
        let found = kind.mime_type();
        return ALLOWED
            .iter()
            .find(|a| **a == found)
            .copied()
            .ok_or_else(|| found.to_string());
    }
    if looks_like_text(head) {
        let csv = file_name.to_ascii_lowercase().ends_with(".csv");
        return Ok(if csv { "text/csv" } else { "text/plain" });
    }
    Err("application/octet-stream".into())
}

/// UTF-8 (a character cut at the end of `head` allowed) without control bytes other than
/// tab, CR, LF and form feed.
fn looks_like_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    valid
        && !head
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c) || b == 0x7f)
}

/// The name a file is stored under: its last path segment, without control, format (bidi)
/// or reserved characters, trimmed of dots and spaces, at most 200 bytes; `document` when
/// nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_format(*c))
        .map(|c| {
            if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut name = cleaned
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_string();
    while name.len() > 200 {
        name.pop();
    }
    if name.is_empty() {
        "document".into()
    } else {
        name
    }
}

/// Unicode format characters that reorder or hide text (bidi overrides, zero-width).
fn is_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// An ASCII fallback of a stored name for `Content-Disposition`'s `filename=`.
pub fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_decides_the_type_not_the_name() {
        // An ELF header is recognised from its first 53 bytes on.
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0".to_vec();
        elf.resize(64, 0);
        assert_eq!(media_type(b"%PDF-1.7\n...", "x.txt"), Ok("application/pdf"));
        assert_eq!(
            media_type(&elf, "report.pdf"),
            Err("application/x-executable".into())
        );
        assert_eq!(
            media_type(b"MZ\x90\0\x03\0\0\0", "report.pdf"),
            Err("application/vnd.microsoft.portable-executable".into())
        );
        assert_eq!(media_type(b"a,b\n1,2\n", "Budget.CSV"), Ok("text/csv"));
        assert_eq!(
            media_type("caf\u{e9}".as_bytes(), "notes"),
            Ok("text/plain")
        );
        assert!(media_type(b"\x00\x01\x02binary", "a.txt").is_err());
    }

    #[test]
    fn file_names_lose_folders_control_and_bidi_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(clean_file_name("re\u{0}port\u{7}\n.pdf"), "report.pdf");
        assert_eq!(clean_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean_file_name("../"), "document");
        assert_eq!(ascii_name("Informe año.pdf"), "Informe a_o.pdf");
    }
}

//! The org-id.guide register (`GB-CHC-1234567`): the scheme list shipped in
//! `standards/org-id/schemes.csv` and how a full identifier splits into scheme and id. Here
//! so that both settings and the directory can use it without depending on each other.

use std::sync::LazyLock;

/// The org-id.guide scheme codes the service accepts (code, list name).
pub static SCHEMES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    include_str!("../../standards/org-id/schemes.csv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cells = l.split(',');
            let code = cells.next()?.trim();
            let name = cells.next()?.trim();
            (!code.is_empty()).then(|| (code.to_string(), name.to_string()))
        })
        .collect()
});

/// True when `code` is a scheme on the shipped list.
pub fn is_scheme(code: &str) -> bool {
    SCHEMES.iter().any(|(c, _)| c == code)
}

/// Splits a full identifier into (scheme, id) with the longest known scheme; None when no
/// known scheme starts it.
pub fn split(full: &str) -> Option<(String, String)> {
    SCHEMES
        .iter()
        .filter_map(|(c, _)| {
            full.strip_prefix(c.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .filter(|id| valid_id(id))
                .map(|id| (c.clone(), id.to_string()))
        })
        .max_by_key(|(c, _)| c.len())
}

pub fn valid_id(id: &str) -> bool {
    (1..=100).contains(&id.chars().count())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/' | '_'))
}

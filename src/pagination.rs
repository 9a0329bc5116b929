//! Cursor pagination shared by every list: `limit` 1–100 (default 25) and an opaque cursor
//! that encodes the sort key of the last row, so pages stay stable under inserts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 25;
/// Largest page size.
pub const MAX_LIMIT: i64 = 100;

/// A page of results.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    /// The rows of this page.
    pub data: Vec<T>,
    /// Cursor for the next page, or null on the last page.
    pub next_cursor: Option<String>,
    /// Rows matching the filters, across all pages.
    pub total: i64,
}

/// Checks `limit`: 1–100, default 25.
pub fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field(
            "limit",
            "out_of_range",
            format!("limit must be from 1 to {MAX_LIMIT}."),
        )),
    }
}

/// Encodes the sort key of the last row of a page.
pub fn encode_cursor(parts: &[&str]) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(parts).unwrap_or_default())
}

/// Decodes a cursor made by [`encode_cursor`] with `n` parts.
pub fn decode_cursor(raw: Option<&str>, n: usize) -> Result<Option<Vec<String>>, ApiError> {
    let Some(raw) = raw.filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::field("cursor", "invalid", "cursor is not one this API issued.");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let parts: Vec<String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if parts.len() != n {
        return Err(bad());
    }
    Ok(Some(parts))
}

/// Trims a `limit + 1` fetch to `limit` rows and returns the cursor of the last one.
pub fn page_cursor<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    next_page(rows, limit, |r| encode_cursor(&[&key(r)]))
}

/// Trims a `limit + 1` fetch to `limit` rows and returns `cursor` of the last one, when there
/// is a next page; for cursors of several parts, made by the caller.
pub fn next_page<T>(
    rows: &mut Vec<T>,
    limit: i64,
    cursor: impl FnOnce(&T) -> String,
) -> Option<String> {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(cursor)
    } else {
        None
    }
}

/// Paging parameters of every list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

//! Small pieces every domain uses and no domain owns: text-backed enums, timestamps on the
//! wire, cursors. Nothing here knows about grants, people or the directory.

pub mod text_enum;

use chrono::NaiveDateTime;

/// Formats a stored UTC timestamp as RFC 3339 with a `Z` suffix.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

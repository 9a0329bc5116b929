//! The history of an organisation: its audit events (`audit::history`), for admins and the
//! organisation's own members.

use super::{Editor, Organisation, find};
use crate::audit::history::{self as audit_history, HistoryEntry};
use crate::auth::Principal;
use crate::command::Audited;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::pagination;

pub use crate::audit::history::{FieldChange, diff};

/// The audit history of an organisation, oldest first. Admins and the organisation's own
/// members only: members of other organisations get 404, other staff and apps 403.
pub fn history(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<HistoryEntry>, ApiError> {
    let org = find(conn, id)?;
    Editor::of(who, &org)?;
    audit_history::page(
        conn,
        <Organisation as Audited>::ENTITY,
        &org.id,
        limit,
        cursor,
    )
}

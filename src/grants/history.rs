//! The history of funds, grants, tranches and reports over HTTP: their audit events with
//! actor, action, time and before → after per changed field (`audit::history`). Staff read
//! them (grant officers, finance officers, admins); members and partner apps get 404, as for
//! anything they may not know exists.

use crate::audit::history::{self, HistoryEntry};
use crate::auth::Principal;
use crate::auth::caller::Staff;
use crate::command::Audited;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::grants::fund::{self, Fund};
use crate::grants::grant::{self, Grant};
use crate::grants::report::{self, Report};
use crate::grants::tranche::{self, Tranche};
use crate::pagination::Page;

/// Whose history is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A fund: its edits and every move of its counters.
    Fund,
    /// A grant.
    Grant,
    /// A tranche.
    Tranche,
    /// A grant report.
    Report,
}

/// The audit events of one fund, grant, tranche or report, oldest first, cursor-paged.
pub fn read(
    conn: &mut DbConn,
    who: &Principal,
    subject: Subject,
    id: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<HistoryEntry>, ApiError> {
    Staff::try_from(who).map_err(|_| ApiError::NotFound)?;
    let entity = match subject {
        Subject::Fund => fund::by_id(conn, id).map(|_| Fund::ENTITY)?,
        Subject::Grant => grant::by_id(conn, id).map(|_| Grant::ENTITY)?,
        Subject::Tranche => tranche::by_id(conn, id).map(|_| Tranche::ENTITY)?,
        Subject::Report => report::by_id(conn, id).map(|_| Report::ENTITY)?,
    };
    history::page(conn, entity, id, limit, cursor)
}

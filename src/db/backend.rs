//! The few statements whose SQL differs by backend, each behind one function with a branch
//! per backend. Everything else goes through diesel's common query builder.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConn;

/// Round trip used by readiness: one trivial query.
pub fn ping(conn: &mut DbConn) -> QueryResult<()> {
    diesel::select(diesel::dsl::sql::<BigInt>("CAST(1 AS BIGINT)"))
        .get_result::<i64>(conn)
        .map(|_| ())
}

/// Case-insensitive "contains" pattern for LIKE: `%term%` with LIKE wildcards escaped.
pub fn like_pattern(term: &str) -> String {
    let escaped = term
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

/// The name of the current database (PostgreSQL) or file (SQLite), for diagnostics.
pub fn database_name(conn: &mut DbConn) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let sql = match conn {
        DbConn::Pg(_) => "SELECT current_database() AS name",
        DbConn::Sqlite(_) => "SELECT file AS name FROM pragma_database_list WHERE name = 'main'",
    };
    diesel::sql_query(sql)
        .get_result::<Name>(conn)
        .map(|n| n.name)
}

/// Bounds how long the following statements of this transaction wait for a row lock held by
/// another transaction (`None` restores the default). PostgreSQL waits without end unless
/// told; SQLite's writers already wait at most the connection's busy timeout, so it is a no-op
/// there.
pub fn bound_lock_wait(conn: &mut DbConn, wait: Option<std::time::Duration>) -> QueryResult<()> {
    match conn {
        DbConn::Pg(_) => {
            let sql = match wait {
                Some(w) => format!("SET LOCAL lock_timeout = '{}ms'", w.as_millis()),
                None => "SET LOCAL lock_timeout TO DEFAULT".to_string(),
            };
            diesel::sql_query(sql).execute(conn).map(|_| ())
        }
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// True when `e` is a wait for another transaction's lock that ran out: PostgreSQL's
/// `lock_timeout` (SQLSTATE 55P03) or SQLite's busy timeout ("database is locked").
pub fn is_lock_wait_timeout(e: &diesel::result::Error) -> bool {
    let diesel::result::Error::DatabaseError(_, info) = e else {
        return false;
    };
    let m = info.message();
    m.contains("lock timeout") || m.contains("database is locked")
}

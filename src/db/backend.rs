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

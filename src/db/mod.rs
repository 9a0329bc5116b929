//! Storage: one connection type over SQLite and PostgreSQL, its pool and its migrations.
//!
//! The backend is chosen from the URL scheme here and nowhere else. Code above this module
//! talks to `DbConn`; backend-specific SQL lives only in [`backend`], one function per need.

pub mod backend;
pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use std::path::PathBuf;

/// Migrations for SQLite, embedded in the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL, embedded in the binary (same names as SQLite's).
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH` or `postgres://…`/`postgresql://…`; anything else is refused.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://data/idpc-hub.db".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_string()));
        }
        Err("expected sqlite://PATH or postgres://USER@HOST:PORT/DB".into())
    }

    /// The backend's short name, as shown by `/health/ready`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// PostgreSQL.
    Pg(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

impl DbConn {
    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            DbConn::Pg(_) => "postgres",
            DbConn::Sqlite(_) => "sqlite",
        }
    }
}

/// The connection pool.
pub type Pool = r2d2::Pool<DbManager>;
/// A pooled connection.
pub type PooledConn = r2d2::PooledConnection<DbManager>;

/// Opens connections for the backend named by the URL, never by trial and error.
#[derive(Debug, Clone)]
pub struct DbManager {
    url: DatabaseUrl,
}

/// A connection or pool error, with the backend's text kept for the log.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Could not connect.
    #[error("database connection failed: {0}")]
    Connection(#[from] diesel::ConnectionError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The pool gave up.
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// The data folder could not be created.
    #[error("database folder: {0}")]
    Io(#[from] std::io::Error),
}

/// Settings every SQLite connection gets: WAL, foreign keys, a busy timeout, NORMAL sync.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;";

/// Opens one connection of the right backend.
pub fn establish(url: &DatabaseUrl) -> Result<DbConn, DbError> {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
            c.batch_execute(SQLITE_PRAGMAS)?;
            Ok(DbConn::Sqlite(c))
        }
        DatabaseUrl::Postgres(url) => Ok(DbConn::Pg(PgConnection::establish(url)?)),
    }
}

impl r2d2::ManageConnection for DbManager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        // A connection returned inside a transaction (a panic mid-request) is not reused.
        let status = match conn {
            DbConn::Pg(c) => {
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
            }
            DbConn::Sqlite(c) => {
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
            }
        };
        !matches!(status, Ok(None))
    }
}

/// Builds the pool. SQLite files get their folder created first.
pub fn build_pool(url: &DatabaseUrl, size: u32) -> Result<Pool, DbError> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        // Pinging on every checkout halves throughput; broken connections are caught by has_broken.
        .test_on_check_out(false)
        .connection_timeout(Duration::from_secs(10))
        .build(DbManager { url: url.clone() })?;
    Ok(pool)
}

/// Applies every pending migration; returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> Result<usize, DbError> {
    let ran = match conn {
        DbConn::Pg(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    ran.map_err(|e| DbError::Migration(e.to_string()))
}

/// Reverts every applied migration, newest first (used by the migration round-trip test).
pub fn revert_all_migrations(conn: &mut DbConn) -> Result<usize, DbError> {
    let ran = match conn {
        DbConn::Pg(c) => c
            .revert_all_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    ran.map_err(|e| DbError::Migration(e.to_string()))
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut DbConn) -> Result<bool, DbError> {
    let pending = match conn {
        DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending
        .map(|p| !p)
        .map_err(|e| DbError::Migration(e.to_string()))
}

/// Runs `f` in a write transaction.
///
/// On SQLite it starts with `BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout
/// instead of failing when a read lock cannot be upgraded. On PostgreSQL it is a plain
/// transaction; conditional UPDATEs give the guarantees there. Nested calls become savepoints.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let sqlite_top_level = match conn {
        DbConn::Sqlite(c) => {
            matches!(
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
                Ok(None)
            )
        }
        DbConn::Pg(_) => false,
    };
    if !sqlite_top_level {
        return conn.transaction(f);
    }
    if let DbConn::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
    }
    let result = f(conn);
    let DbConn::Sqlite(c) = conn else {
        unreachable!("checked above")
    };
    match result {
        Ok(v) => match AnsiTransactionManager::commit_transaction(c) {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                Err(e.into())
            }
        },
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(c)?;
            Err(e)
        }
    }
}

//! Throwaway databases: a fresh SQLite file per test, or a PostgreSQL database cloned from a
//! migrated template made once per test process. Everything is dropped afterwards.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::prelude::*;
use diesel::{Connection, PgConnection, RunQueryDsl};

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A temporary PostgreSQL database.
    Postgres,
}

impl Backend {
    /// True when TEST_DATABASE_URL names a PostgreSQL server.
    pub fn postgres_configured() -> bool {
        admin_url().is_some()
    }
}

/// The admin connection string from TEST_DATABASE_URL.
pub fn admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// The same server with another database name.
pub fn url_for(db: &str) -> String {
    let admin = admin_url().expect("TEST_DATABASE_URL");
    let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
    format!("{base}/{db}")
}

/// A database for one test; dropped with this value.
pub struct TestDb {
    /// Its DATABASE_URL.
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
static TEMPLATE: Mutex<Option<String>> = Mutex::new(None);

fn admin() -> PgConnection {
    PgConnection::establish(&admin_url().expect("TEST_DATABASE_URL"))
        .expect("connect to TEST_DATABASE_URL")
}

/// Drops databases left by test processes that no longer run.
fn drop_stale(conn: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'idpc\\_test\\_%'")
            .load(conn)
            .unwrap_or_default();
    for n in names {
        let pid = n
            .datname
            .split('_')
            .nth(3)
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                n.datname
            ))
            .execute(conn);
        }
    }
}

extern "C" fn drop_template_at_exit() {
    if let Some(name) = TEMPLATE.lock().ok().and_then(|t| t.clone())
        && let Ok(mut c) = PgConnection::establish(&admin_url().unwrap_or_default())
    {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut c);
    }
}

fn template() -> String {
    let mut guard = TEMPLATE.lock().unwrap();
    if let Some(t) = guard.as_ref() {
        return t.clone();
    }
    let mut conn = admin();
    drop_stale(&mut conn);
    let name = format!("idpc_test_tmpl_{}", std::process::id());
    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .unwrap();
    {
        let url = idpc_hub::config::DatabaseUrl::Postgres(url_for(&name));
        let mut c = idpc_hub::db::establish(&url).expect("connect to template");
        idpc_hub::db::run_migrations(&mut c).expect("migrate template");
    }
    // SAFETY: registering a plain extern "C" function with no captured state.
    unsafe {
        libc::atexit(drop_template_at_exit);
    }
    *guard = Some(name.clone());
    name
}

impl TestDb {
    /// A fresh, migrated database.
    pub fn create(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TestDb {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let tmpl = template();
                let name = format!(
                    "idpc_test_t_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst)
                );
                let mut conn = admin();
                let mut tries = 0;
                loop {
                    match diesel::sql_query(format!(
                        "CREATE DATABASE \"{name}\" TEMPLATE \"{tmpl}\""
                    ))
                    .execute(&mut conn)
                    {
                        Ok(_) => break,
                        Err(e) if tries < 20 => {
                            tries += 1;
                            let _ = e;
                            std::thread::sleep(std::time::Duration::from_millis(100));
                        }
                        Err(e) => panic!("create test database: {e}"),
                    }
                }
                TestDb {
                    url: url_for(&name),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// Another handle on the same database that does not drop it (for a second instance).
    pub fn alias(other: &TestDb) -> TestDb {
        TestDb {
            url: other.url.clone(),
            pg_name: None,
            _dir: None,
        }
    }

    /// The backend of this database.
    pub fn backend(&self) -> Backend {
        if self.pg_name.is_some() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            let mut conn = admin();
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

//! Test harness: the real app (`build_app`) on a throwaway database, with a real SMTP server
//! in-process. Every test runs on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set.

#![allow(dead_code)]

pub mod console;
pub mod db;
pub mod fixtures;
pub mod http;
pub mod mail;

use std::collections::BTreeMap;

use idpc_hub::clock::Clock;
use idpc_hub::config::Config;
use idpc_hub::notify::worker::Notifier;
use idpc_hub::{AppState, build_app};

pub use db::{Backend, TestDb};
#[allow(unused_imports)]
pub use fixtures::{PASSWORD, TestUser};
pub use http::Svc;
pub use mail::{MailSink, Received};

/// A JWT key set shared by tests so tokens can be forged deliberately.
pub const TEST_JWT_KEYS: &str =
    "k1:test-secret-one-0123456789abcdef0123,k0:test-secret-old-0123456789abcdef0123";

/// The at-rest key ring of tests: `e1` encrypts, `e0` (an older key) still decrypts.
pub const TEST_ENCRYPTION_KEYS: &str = "e1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=,e0:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/// Runs a test body on each backend: `mod name { fn sqlite(); fn postgres(); }`.
#[macro_export]
macro_rules! on_both {
    ($(#[$m:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[$m])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($backend: $crate::common::Backend) $body
            #[actix_web::test]
            async fn sqlite() {
                run($crate::common::Backend::Sqlite).await
            }
            #[actix_web::test]
            #[cfg_attr(not(idpc_pg_tests), ignore = "TEST_DATABASE_URL was not set: not run on PostgreSQL")]
            async fn postgres() {
                run($crate::common::Backend::Postgres).await
            }
        }
    };
}

/// A running app with its database and mail sink.
pub struct TestApp {
    /// The HTTP service, called in-process with real requests.
    pub svc: Svc,
    /// Shared state (pool, config).
    pub state: AppState,
    /// The SMTP sink the app sends to.
    pub mail: MailSink,
    /// Settings this app was started with beyond the defaults.
    pub extra_env: BTreeMap<String, String>,
    /// The database, dropped with the app.
    pub db: TestDb,
    /// The app's clock: a test moves time (`app.clock.advance(..)`) instead of sleeping.
    pub clock: idpc_hub::clock::Clock,
}

impl TestApp {
    /// Starts an app on a fresh database of `backend` with default test settings.
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, &[]).await
    }

    /// Starts an app with extra settings.
    pub async fn start_with(backend: Backend, env: &[(&str, &str)]) -> TestApp {
        let mail = MailSink::start();
        let db = TestDb::create(backend);
        let mut vars = base_env(&db.url, mail.port);
        for (k, v) in env {
            vars.insert(k.to_string(), v.to_string());
        }
        let mut app = Self::from_parts(db, mail, vars).await;
        app.extra_env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        app
    }

    /// Starts an app on an existing database and sink (several apps may share them).
    pub async fn from_parts(db: TestDb, mail: MailSink, vars: BTreeMap<String, String>) -> TestApp {
        Self::on_clock(db, mail, vars, Clock::system()).await
    }

    /// [`TestApp::from_parts`] reading time from `clock` (shared with another app).
    async fn on_clock(
        db: TestDb,
        mail: MailSink,
        vars: BTreeMap<String, String>,
        clock: Clock,
    ) -> TestApp {
        let mut config = Config::from_map(&vars).expect("test config is valid");
        config.clock = clock;
        let state = actix_web::web::block(move || AppState::new(config))
            .await
            .unwrap()
            .expect("app starts");
        let svc = http::init(build_app(state.clone())).await;
        TestApp {
            svc,
            clock: state.clock().clone(),
            state,
            mail,
            extra_env: BTreeMap::new(),
            db,
        }
    }

    /// A second instance of the service on the same database (its own pool, limits held in
    /// memory, workers and mail sink), as a second `serve` process behind a load balancer.
    /// Both read the same clock: moving one's time moves the other's.
    pub async fn second_instance(&self) -> TestApp {
        let mail = MailSink::start();
        let db = TestDb::alias(&self.db);
        let mut vars = base_env(&db.url, mail.port);
        for (k, v) in self.extra_env.iter() {
            vars.insert(k.clone(), v.clone());
        }
        Self::on_clock(db, mail, vars, self.clock.clone()).await
    }

    /// Sends every due outbox message now, as the notifier would. Returns how many were sent.
    pub async fn deliver_mail(&self) -> usize {
        let notifier = Notifier::new(self.state.clone()).expect("notifier");
        let mut total = 0;
        loop {
            let n = notifier.run_once(None).await.expect("notifier round");
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    /// Delivers pending mail and returns what the sink received since the last call.
    pub async fn emails(&self) -> Vec<Received> {
        self.deliver_mail().await;
        self.mail.take()
    }

    /// A usable bank account of `organisation_id` in `currency` (confirmed, past its
    /// cooling-off period), written directly so a test that pays a tranche needs no account
    /// steps, emails or audit rows of its own; returns its id.
    pub async fn payee(&self, organisation_id: &str, currency: &str) -> String {
        let (org, cur) = (organisation_id.to_string(), currency.to_string());
        let keyring = self.state.keyring.clone();
        let now = self.clock.naive();
        self.db(move |c| {
            let seed = idpc_hub::payments::payees::Seed {
                organisation_id: &org,
                holder_name: "Harm Reduction Kenya",
                currency: &cur,
                iban: "DE44500105175407324931",
                bic: "MARKDEF1500",
                proposer: "fixture-proposer",
                confirmer: "fixture-confirmer",
            };
            idpc_hub::payments::payees::seed_usable(c, &keyring, &seed, now)
        })
        .await
        .expect("account seeded")
    }

    /// A usable account of the grantee of `grant` in the grant's currency (read as `token`).
    pub async fn grant_payee(&self, token: &str, grant: &str) -> String {
        let g = self
            .get(&format!("/api/v1/grants/{grant}"))
            .bearer(token)
            .send()
            .await
            .expect(200)
            .body;
        let org = g["grantee_organisation_id"].as_str().expect("grantee");
        self.payee(org, g["currency"].as_str().expect("currency"))
            .await
    }

    /// Runs blocking database work for assertions.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut idpc_hub::db::DbConn) -> T + Send + 'static,
    ) -> T {
        let pool = self.state.pool.clone();
        actix_web::web::block(move || f(&mut pool.get().expect("connection")))
            .await
            .unwrap()
    }
}

/// The settings every test app starts with.
pub fn base_env(database_url: &str, smtp_port: u16) -> BTreeMap<String, String> {
    let pairs = [
        ("DATABASE_URL", database_url.to_string()),
        ("DATABASE_POOL_SIZE", "8".into()),
        ("MAIL_TRANSPORT", "smtp".into()),
        ("SMTP_HOST", "127.0.0.1".into()),
        ("SMTP_PORT", smtp_port.to_string()),
        ("SMTP_SECURITY", "none".into()),
        ("SMTP_TIMEOUT_SECS", "5".into()),
        ("MAIL_FROM", "IDPC Test <no-reply@idpc.test>".into()),
        ("PUBLIC_BASE_URL", "http://hub.test".into()),
        ("NETWORK_NAME", "IDPC".into()),
        ("JWT_KEYS", TEST_JWT_KEYS.into()),
        ("ENCRYPTION_KEYS", TEST_ENCRYPTION_KEYS.into()),
        ("WORKER_ENABLED", "false".into()),
        ("OUTBOX_RETRY_BASE_MS", "50".into()),
        ("AUTH_RATE_LIMIT_PER_IP", "100000".into()),
        ("AUTH_RATE_LIMIT_PER_ACCOUNT", "100000".into()),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

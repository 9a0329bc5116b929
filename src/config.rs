//! Typed settings, read once from the environment (and `.env`) and validated at start.
//!
//! Every variable is declared once in `config/settings.rs`; this parser, `.env.example`, the
//! README table and the start-up errors come from those declarations, and a bad value stops
//! the start with one line naming it.

pub mod dev_key;
pub mod documents;
pub mod open_data;
mod parse;
mod render;
mod settings;
pub mod webhooks;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

pub use crate::db::DatabaseUrl;
pub use proxies::{IpRange, address_bucket};

mod proxies;

pub use settings::{ALSO_READ, SETTINGS, Setting, Var, var};

/// `development` or `production`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// Local work: generated secrets and the file mail transport are allowed.
    Development,
    /// Real deployments: every secret must be configured.
    Production,
}

/// How email leaves the notifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailTransportKind {
    /// Real SMTP.
    Smtp,
    /// `.eml` files under `data/mail/`.
    File,
    /// Written to the log only.
    Log,
}

/// Transport security for SMTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (local sinks such as Mailpit).
    None,
    /// STARTTLS upgrade, required.
    Starttls,
    /// Implicit TLS.
    Tls,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// A secret that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One JWT key: its id and secret.
#[derive(Clone, Debug)]
pub struct JwtKey {
    /// Key id, carried in the token header as `kid`.
    pub kid: String,
    /// HMAC secret.
    pub secret: Secret,
}

/// One key of the at-rest key ring: its id and the 32 key bytes (hex inside the secret).
#[derive(Clone, Debug)]
pub struct EncryptionKey {
    /// Key id, stored beside everything it encrypted.
    pub kid: String,
    /// The key, hex-encoded.
    pub key: Secret,
}

/// SMTP settings.
#[derive(Clone, Debug)]
pub struct SmtpConfig {
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// none, starttls or tls.
    pub security: SmtpSecurity,
    /// Optional user name.
    pub username: Option<String>,
    /// Optional password.
    pub password: Option<Secret>,
    /// Timeout per SMTP operation.
    pub timeout_secs: u64,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Listen address.
    pub bind_addr: IpAddr,
    /// Listen port.
    pub port: u16,
    /// Database location and backend.
    pub database_url: DatabaseUrl,
    /// Pool size.
    pub database_pool_size: u32,
    /// development or production.
    pub app_env: AppEnv,
    /// Base URL of this service, without a trailing slash.
    pub public_base_url: String,
    /// Base URL of the pages email links open (`APP_BASE_URL`, default `PUBLIC_BASE_URL`),
    /// without a trailing slash.
    pub app_base_url: String,
    /// The network's name.
    pub network_name: String,
    /// At-rest encryption keys (first encrypts); empty means "generate in development".
    pub encryption_keys: Vec<EncryptionKey>,
    /// Signing keys; empty means "generate in development".
    pub jwt_keys: Vec<JwtKey>,
    /// Access token lifetime in seconds.
    pub access_token_ttl_secs: i64,
    /// Refresh token lifetime in days.
    pub refresh_token_ttl_days: i64,
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id time cost.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// Hashes computed at once.
    pub password_hash_concurrency: usize,
    /// Auth requests per IP per minute.
    pub auth_rate_limit_per_ip: u32,
    /// Auth requests per account per minute.
    pub auth_rate_limit_per_account: u32,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpRange>,
    /// Mail transport.
    pub mail_transport: MailTransportKind,
    /// SMTP settings (used when the transport is smtp).
    pub smtp: SmtpConfig,
    /// Sender of every email.
    pub mail_from: String,
    /// Attempts before a message is dead.
    pub outbox_max_attempts: i32,
    /// First retry delay.
    pub outbox_retry_base_ms: i64,
    /// Poll interval of the notifier.
    pub outbox_poll_ms: u64,
    /// Run the notifier inside `serve`.
    pub worker_enabled: bool,
    /// Request body limit.
    pub max_body_bytes: usize,
    /// Allowed CORS origins.
    pub cors_allowed_origins: Vec<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// tracing filter.
    pub rust_log: String,
    /// Folder for the SQLite file's neighbours: generated keys, mail files.
    pub data_dir: PathBuf,
    /// Membership applications per IP per minute.
    pub application_rate_limit_per_ip: u32,
    /// Membership applications accepted per contact email in 24 hours.
    pub application_limit_per_email_per_day: u32,
    /// Days of grace between the end of a membership period and its lapse.
    pub membership_grace_days: i64,
    /// The network as a publisher of open data (360Giving, IATI).
    pub open_data: open_data::OpenData,
    /// The currency of every limit and of the fx-rates table.
    pub base_currency: String,
    /// How far a grant's rate may lie from the reference rate, in percent.
    pub fx_rate_band_percent: i64,
    /// Tranche amount (minor units of the base currency) above which two approvers are needed.
    pub second_approval_threshold: i64,
    /// Days over which one officer's approvals on a grant are added up.
    pub second_approval_window_days: i64,
    /// Hours a confirmed payee bank account waits before it may be paid to.
    pub bank_account_cooling_off_hours: i64,
    /// The account payment runs are paid from (pain.001 `DbtrAcct`); unset refuses the export.
    pub payment_debtor_account: Option<String>,
    /// The BIC of the debtor account's bank.
    pub payment_debtor_bic: Option<String>,
    /// Raise of a fund's amount (minor units of the base currency) that needs a second person.
    pub fund_increase_threshold: i64,
    /// Days over which the raises of a fund that one person applied alone are added up.
    pub fund_increase_window_days: i64,
    /// How far (percent) a new reference rate may move from the confirmed one and still
    /// apply without a second person.
    pub fx_rate_change_band_percent: i64,
    /// Share (percent) of a budget line an approved budget may move without an officer.
    pub budget_revision_tolerance_percent: i64,
    /// Variance (percent) of a line's actual spend beyond which it is flagged.
    pub budget_variance_tolerance_percent: i64,
    /// How old (days) the date of a new reference rate may be.
    pub fx_rate_max_age_days: i64,
    /// Document storage and limits (`DOCUMENT_*`, `S3_*`).
    pub documents: documents::DocumentSettings,
    /// Webhook delivery settings (`WEBHOOK_*`).
    pub webhooks: crate::config::webhooks::WebhookSettings,
    /// Lines to log once logging is set up: variables that look like settings but are none
    /// (a refusal in production, a warning in development).
    pub warnings: Vec<String>,
    /// The app's clock: not a setting but carried here so every command and check that has
    /// the settings reads the same time (real in production, moved by tests).
    pub clock: crate::clock::Clock,
}

/// A bad setting: the variable and the accepted form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable at fault.
    pub var: String,
    /// What was expected.
    pub message: String,
}

impl ConfigError {
    fn new(var: &str, message: impl Into<String>) -> Self {
        Self {
            var: var.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The variables as set, read only through the declared settings ([`var`]).
pub struct Env<'a> {
    vars: &'a BTreeMap<String, String>,
}

impl Env<'_> {
    /// The raw text of a setting: trimmed, the default when unset or empty.
    pub fn raw<T>(&self, setting: &Var<T>) -> &str {
        match self.vars.get(setting.name).map(|v| v.trim()) {
            Some(v) if !v.is_empty() => v,
            _ => setting.default,
        }
    }

    /// The parsed value of a setting; its error names the variable.
    pub fn get<T>(&self, setting: &Var<T>) -> Result<T, ConfigError> {
        (setting.parse)(self.raw(setting)).map_err(|m| ConfigError::new(setting.name, m))
    }
}

impl Config {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        let vars: BTreeMap<String, String> = std::env::vars().collect();
        Self::from_map(&vars)
    }

    /// Reads settings from a map; unset or empty values take their default. A variable that
    /// looks like a setting but is none is refused in production and a warning otherwise.
    pub fn from_map(vars: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let env = Env { vars };
        let app_env = env.get(&var::APP_ENV)?;
        let warnings = unknown_settings(vars, app_env)?;
        let database_url = env.get(&var::DATABASE_URL)?;
        let document_settings = documents::parse(&env, &data_dir(&database_url))?;
        let port = env.get(&var::PORT)?;
        // Unset, it follows PORT: changing only the port keeps every email link working.
        let public_base_url =
            (env.get(&var::PUBLIC_BASE_URL)?).unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
        let network_name = env.get(&var::NETWORK_NAME)?;
        // The transport first: a production start with `MAIL_TRANSPORT=log` names that variable.
        let mail_transport = mail_transport(&env, app_env)?;
        let base_currency = env.get(&var::BASE_CURRENCY)?;
        Ok(Self {
            clock: crate::clock::Clock::system(),
            bind_addr: env.get(&var::BIND_ADDR)?,
            port,
            database_pool_size: pool_size(&env, &database_url)?,
            data_dir: data_dir(&database_url),
            database_url,
            app_env,
            app_base_url: (env.get(&var::APP_BASE_URL)?).unwrap_or_else(|| public_base_url.clone()),
            public_base_url,
            jwt_keys: jwt_keys(&env, app_env)?,
            encryption_keys: encryption_keys(&env, app_env)?,
            access_token_ttl_secs: env.get(&var::ACCESS_TOKEN_TTL_SECS)?,
            refresh_token_ttl_days: env.get(&var::REFRESH_TOKEN_TTL_DAYS)?,
            argon2_memory_kib: env.get(&var::ARGON2_MEMORY_KIB)?,
            argon2_iterations: env.get(&var::ARGON2_ITERATIONS)?,
            argon2_parallelism: env.get(&var::ARGON2_PARALLELISM)?,
            password_hash_concurrency: env.get(&var::PASSWORD_HASH_CONCURRENCY)?,
            auth_rate_limit_per_ip: env.get(&var::AUTH_RATE_LIMIT_PER_IP)?,
            auth_rate_limit_per_account: env.get(&var::AUTH_RATE_LIMIT_PER_ACCOUNT)?,
            trusted_proxies: env.get(&var::TRUSTED_PROXIES)?,
            smtp: smtp(&env, mail_transport)?,
            mail_transport,
            mail_from: env.get(&var::MAIL_FROM)?,
            outbox_max_attempts: env.get(&var::OUTBOX_MAX_ATTEMPTS)?,
            outbox_retry_base_ms: env.get(&var::OUTBOX_RETRY_BASE_MS)?,
            outbox_poll_ms: env.get(&var::OUTBOX_POLL_MS)?,
            worker_enabled: env.get(&var::WORKER_ENABLED)?,
            max_body_bytes: env.get(&var::MAX_BODY_BYTES)?,
            cors_allowed_origins: env.get(&var::CORS_ALLOWED_ORIGINS)?,
            log_format: env.get(&var::LOG_FORMAT)?,
            rust_log: env.get(&var::RUST_LOG)?,
            application_rate_limit_per_ip: env.get(&var::APPLICATION_RATE_LIMIT_PER_IP)?,
            application_limit_per_email_per_day: env
                .get(&var::APPLICATION_LIMIT_PER_EMAIL_PER_DAY)?,
            membership_grace_days: env.get(&var::MEMBERSHIP_GRACE_DAYS)?,
            open_data: open_data::OpenData::parse(&env, &network_name)?,
            network_name,
            fx_rate_band_percent: env.get(&var::FX_RATE_BAND_PERCENT)?,
            second_approval_threshold: base_amount(
                &env,
                &var::SECOND_APPROVAL_THRESHOLD,
                &base_currency,
            )?,
            fund_increase_threshold: base_amount(
                &env,
                &var::FUND_INCREASE_SECOND_APPROVAL_THRESHOLD,
                &base_currency,
            )?,
            base_currency,
            second_approval_window_days: env.get(&var::SECOND_APPROVAL_WINDOW_DAYS)?,
            bank_account_cooling_off_hours: env.get(&var::BANK_ACCOUNT_COOLING_OFF_HOURS)?,
            payment_debtor_account: env.get(&var::PAYMENT_DEBTOR_ACCOUNT)?,
            payment_debtor_bic: env.get(&var::PAYMENT_DEBTOR_BIC)?,
            fund_increase_window_days: env.get(&var::FUND_INCREASE_WINDOW_DAYS)?,
            fx_rate_change_band_percent: env.get(&var::FX_RATE_CHANGE_BAND_PERCENT)?,
            budget_revision_tolerance_percent: env.get(&var::BUDGET_REVISION_TOLERANCE_PERCENT)?,
            budget_variance_tolerance_percent: env.get(&var::BUDGET_VARIANCE_TOLERANCE_PERCENT)?,
            fx_rate_max_age_days: env.get(&var::FX_RATE_MAX_AGE_DAYS)?,
            documents: document_settings,
            webhooks: webhooks::parse(&env, app_env)?,
            warnings,
        })
    }

    /// The folder where file-transport emails are written.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

/// Variables that look like settings but are none: refused in production, where a typo
/// would silently run on a default; one warning each otherwise.
fn unknown_settings(
    vars: &BTreeMap<String, String>,
    app_env: AppEnv,
) -> Result<Vec<String>, ConfigError> {
    let unknown = render::unknown_settings(vars);
    if let (Some(first), AppEnv::Production) = (unknown.first(), app_env) {
        return Err(ConfigError::new(&first.name, first.message()));
    }
    Ok(unknown
        .iter()
        .map(|u| format!("ignored setting {}: {}", u.name, u.message()))
        .collect())
}

fn pool_size(env: &Env<'_>, database_url: &DatabaseUrl) -> Result<u32, ConfigError> {
    Ok(match (env.get(&var::DATABASE_POOL_SIZE)?, database_url) {
        (Some(n), _) => n,
        // SQLite runs every query on this process's CPU: past one connection per
        // core (plus one for the background worker) a connection adds only memory,
        // about 25 MiB each under load at 100,000 organisations, and no throughput
        // (bench/results/directory.md).
        (None, DatabaseUrl::Sqlite(_)) => {
            std::thread::available_parallelism()
                .map_or(2, |n| n.get() as u32)
                .clamp(1, 16)
                + 1
        }
        (None, DatabaseUrl::Postgres(_)) => 16,
    })
}

fn data_dir(database_url: &DatabaseUrl) -> PathBuf {
    match database_url {
        DatabaseUrl::Sqlite(p) => p
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
        DatabaseUrl::Postgres(_) => PathBuf::from("data"),
    }
}

fn mail_transport(env: &Env<'_>, app_env: AppEnv) -> Result<MailTransportKind, ConfigError> {
    let transport = env.get(&var::MAIL_TRANSPORT)?;
    // In production `file` and `log` would both drop every email silently.
    if transport != MailTransportKind::Smtp && app_env == AppEnv::Production {
        return Err(ConfigError::new(
            var::MAIL_TRANSPORT.name,
            format!(
                "{} is refused when APP_ENV=production; use smtp",
                env.raw(&var::MAIL_TRANSPORT)
            ),
        ));
    }
    Ok(transport)
}

fn jwt_keys(env: &Env<'_>, app_env: AppEnv) -> Result<Vec<JwtKey>, ConfigError> {
    let keys = env.get(&var::JWT_KEYS)?;
    if keys.is_empty() && app_env == AppEnv::Production {
        return Err(ConfigError::new(
            var::JWT_KEYS.name,
            "required when APP_ENV=production: kid:secret[,kid:secret...]",
        ));
    }
    Ok(keys)
}

fn encryption_keys(env: &Env<'_>, app_env: AppEnv) -> Result<Vec<EncryptionKey>, ConfigError> {
    let keys = env.get(&var::ENCRYPTION_KEYS)?;
    if keys.is_empty() && app_env == AppEnv::Production {
        return Err(ConfigError::new(
            var::ENCRYPTION_KEYS.name,
            "required when APP_ENV=production: kid:KEY[,kid:KEY...] (openssl rand -base64 32)",
        ));
    }
    Ok(keys)
}

fn smtp(env: &Env<'_>, transport: MailTransportKind) -> Result<SmtpConfig, ConfigError> {
    let security = env.get(&var::SMTP_SECURITY)?;
    let host = env.get(&var::SMTP_HOST)?;
    if transport == MailTransportKind::Smtp && host.is_empty() {
        return Err(ConfigError::new(
            var::SMTP_HOST.name,
            "required when MAIL_TRANSPORT=smtp",
        ));
    }
    Ok(SmtpConfig {
        host,
        port: env.get(&var::SMTP_PORT)?,
        security,
        username: env.get(&var::SMTP_USERNAME)?,
        password: env.get(&var::SMTP_PASSWORD)?,
        timeout_secs: env.get(&var::SMTP_TIMEOUT_SECS)?,
    })
}

/// An amount of the base currency in minor units (the currency fixes the decimals).
fn base_amount(
    env: &Env<'_>,
    setting: &Var<String>,
    base_currency: &str,
) -> Result<i64, ConfigError> {
    let raw = env.get(setting)?;
    crate::money::parse_amount(setting.name, &raw, base_currency).map_err(|_| {
        ConfigError::new(
            setting.name,
            format!("expected a positive amount in {base_currency}, such as 50000.00"),
        )
    })
}

/// Renders `.env.example` from [`SETTINGS`].
pub fn env_example() -> String {
    render::env_example()
}

/// Renders README.md's configuration table from [`SETTINGS`].
pub fn readme_table() -> String {
    render::readme_table()
}

/// What `env-example` prints: `.env.example`, or with `--readme` the README table.
pub fn generated(readme: bool) -> String {
    if readme {
        readme_table()
    } else {
        env_example()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_default_public_base_url_follows_the_port() {
        let c = Config::from_map(&map(&[("PORT", "9090")])).unwrap();
        assert_eq!(c.public_base_url, "http://127.0.0.1:9090");
        assert_eq!(c.app_base_url, "http://127.0.0.1:9090");
        let set = Config::from_map(&map(&[
            ("PORT", "9090"),
            ("PUBLIC_BASE_URL", "https://hub.example.org/"),
        ]))
        .unwrap();
        assert_eq!(set.public_base_url, "https://hub.example.org");
    }

    #[test]
    fn defaults_give_a_development_sqlite_config() {
        let c = Config::from_map(&map(&[])).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(
            c.database_url,
            DatabaseUrl::Sqlite(PathBuf::from("data/idpc-hub.db"))
        );
        assert_eq!(c.mail_transport, MailTransportKind::File);
        assert_eq!(c.data_dir, PathBuf::from("data"));
    }

    #[test]
    fn bad_port_names_the_variable() {
        let e = Config::from_map(&map(&[("PORT", "abc")])).unwrap_err();
        assert_eq!(e.var, "PORT");
        assert!(e.to_string().contains("PORT"));
    }

    #[test]
    fn unknown_database_scheme_is_refused() {
        let e = Config::from_map(&map(&[("DATABASE_URL", "mysql://x")])).unwrap_err();
        assert_eq!(e.var, "DATABASE_URL");
    }

    #[test]
    fn production_refuses_file_mail_and_generated_keys() {
        // The default transport (file) would drop every email: that is named first.
        let e = Config::from_map(&map(&[("APP_ENV", "production")])).unwrap_err();
        assert_eq!(e.var, "MAIL_TRANSPORT");
        let smtp = [
            ("APP_ENV", "production"),
            ("MAIL_TRANSPORT", "smtp"),
            ("SMTP_HOST", "mail.example"),
        ];
        let e = Config::from_map(&map(&smtp)).unwrap_err();
        assert_eq!(e.var, "JWT_KEYS");
    }

    #[test]
    fn bad_second_approval_threshold_names_the_variable() {
        let e = Config::from_map(&map(&[("SECOND_APPROVAL_THRESHOLD", "USD:5")])).unwrap_err();
        assert_eq!(e.var, "SECOND_APPROVAL_THRESHOLD");
        let e = Config::from_map(&map(&[("BASE_CURRENCY", "usd")])).unwrap_err();
        assert_eq!(e.var, "BASE_CURRENCY");
        let c = Config::from_map(&map(&[])).unwrap();
        assert_eq!(c.base_currency, "USD");
        assert_eq!(c.second_approval_threshold, 5_000_000);
        assert_eq!(c.second_approval_window_days, 30);
        assert_eq!(c.fx_rate_band_percent, 10);
    }

    #[test]
    fn booleans_accept_only_true_and_false() {
        for bad in ["yes", "1", "TRUE", "on"] {
            let e = Config::from_map(&map(&[("WORKER_ENABLED", bad)])).unwrap_err();
            assert_eq!(e.var, "WORKER_ENABLED", "{bad:?}");
            assert!(!e.to_string().contains('\n'));
        }
        let c = Config::from_map(&map(&[("WORKER_ENABLED", "false")])).unwrap();
        assert!(!c.worker_enabled);
        let c = Config::from_map(&map(&[("WORKER_ENABLED", "true")])).unwrap();
        assert!(c.worker_enabled);
    }

    #[test]
    fn an_invalid_rust_log_names_the_variable() {
        let e = Config::from_map(&map(&[("RUST_LOG", "bogus=[")])).unwrap_err();
        assert_eq!(e.var, "RUST_LOG");
        assert!(e.to_string().contains("RUST_LOG"));
        assert!(!e.to_string().contains('\n'));
        Config::from_map(&map(&[("RUST_LOG", "info,idpc_hub=debug")])).unwrap();
    }

    #[test]
    fn production_refuses_the_log_mail_transport() {
        let e = Config::from_map(&map(&[
            ("APP_ENV", "production"),
            ("MAIL_TRANSPORT", "log"),
        ]))
        .unwrap_err();
        assert_eq!(e.var, "MAIL_TRANSPORT");
        assert!(e.to_string().contains("log"));
    }

    #[test]
    fn a_misspelt_setting_is_a_warning_in_development() {
        let c = Config::from_map(&map(&[("SMTP_HSOT", "mail.example")])).unwrap();
        assert_eq!(
            c.warnings,
            ["ignored setting SMTP_HSOT: not a known setting; did you mean SMTP_HOST?"]
        );
        assert!(Config::from_map(&map(&[])).unwrap().warnings.is_empty());
    }

    #[test]
    fn a_misspelt_setting_stops_a_production_start_naming_it_and_the_closest_setting() {
        let e = Config::from_map(&map(&[
            ("APP_ENV", "production"),
            ("MAIL_TRANSPORT", "smtp"),
            ("SMTP_HOST", "mail.example"),
            ("JWT_KEYS", "k1:0123456789abcdef0123456789abcdef"),
            ("WEBHOOK_MAX_ATTEMPT", "3"),
        ]))
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid configuration: WEBHOOK_MAX_ATTEMPT: not a known setting; \
             did you mean WEBHOOK_MAX_ATTEMPTS?"
        );
    }

    #[test]
    fn every_setting_default_parses() {
        // A default that its own parser refuses would stop every start that leaves it unset.
        let c = Config::from_map(&map(&[])).unwrap();
        assert_eq!(c.webhooks.max_attempts, 16);
        assert_eq!(c.open_data.org_name, "IDPC");
        assert_eq!(c.app_base_url, c.public_base_url);
    }

    #[test]
    fn every_setting_is_declared_once() {
        let mut names: Vec<&str> = SETTINGS.iter().chain(ALSO_READ).map(|s| s.name).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }

    #[test]
    fn short_jwt_secret_is_refused() {
        let e = Config::from_map(&map(&[("JWT_KEYS", "k1:short")])).unwrap_err();
        assert_eq!(e.var, "JWT_KEYS");
    }
}

//! Typed settings, read once from the environment (and `.env`) and validated at start.
//!
//! Every variable is declared in [`SETTINGS`]; `.env.example` and the README table are
//! generated from that list, and a bad value stops the start with one line naming it.

pub mod open_data;
mod settings;
pub mod webhooks;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

pub use crate::db::DatabaseUrl;
pub use proxies::IpRange;

mod proxies;

pub use settings::{SETTINGS, Setting};

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
    /// Raise of a fund's amount (minor units of the base currency) that needs a second person.
    pub fund_increase_threshold: i64,
    /// Webhook delivery settings (`WEBHOOK_*`).
    pub webhooks: crate::config::webhooks::WebhookSettings,
}

/// A bad setting: the variable and the accepted form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable at fault.
    pub var: &'static str,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.var, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        let vars: BTreeMap<String, String> = std::env::vars().collect();
        Self::from_map(&vars)
    }

    /// Reads settings from a map; unset or empty values take their default.
    pub fn from_map(vars: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| -> String {
            match vars.get(name) {
                Some(v) if !v.trim().is_empty() => v.trim().to_string(),
                _ => SETTINGS
                    .iter()
                    .find(|s| s.name == name)
                    .map(|s| s.default.to_string())
                    .unwrap_or_default(),
            }
        };
        let err = |var: &'static str, message: &str| ConfigError {
            var,
            message: message.to_string(),
        };

        let bind_addr = get("BIND_ADDR").parse::<IpAddr>().map_err(|_| {
            err(
                "BIND_ADDR",
                "expected an IP address such as 127.0.0.1 or 0.0.0.0",
            )
        })?;
        let port = parse_range("PORT", &get("PORT"), 1, 65535)? as u16;
        let database_url =
            DatabaseUrl::parse(&get("DATABASE_URL")).map_err(|m| err("DATABASE_URL", &m))?;
        let pool_raw = get("DATABASE_POOL_SIZE");
        let database_pool_size = if pool_raw.is_empty() {
            match database_url {
                // SQLite runs every query on this process's CPU: past one connection per
                // core (plus one for the background worker) a connection adds only memory,
                // about 25 MiB each under load at 100,000 organisations, and no throughput
                // (bench/results/directory.md).
                DatabaseUrl::Sqlite(_) => {
                    std::thread::available_parallelism()
                        .map_or(2, |n| n.get() as u32)
                        .clamp(1, 16)
                        + 1
                }
                DatabaseUrl::Postgres(_) => 16,
            }
        } else {
            parse_range("DATABASE_POOL_SIZE", &pool_raw, 1, 256)? as u32
        };
        let app_env = match get("APP_ENV").as_str() {
            "development" => AppEnv::Development,
            "production" => AppEnv::Production,
            _ => return Err(err("APP_ENV", "expected development or production")),
        };
        // Unset, it follows PORT: changing only the port keeps every email link working.
        let public_base_url = match get("PUBLIC_BASE_URL") {
            u if u.is_empty() => format!("http://127.0.0.1:{port}"),
            u => u,
        };
        if !(public_base_url.starts_with("http://") || public_base_url.starts_with("https://")) {
            return Err(err(
                "PUBLIC_BASE_URL",
                "expected an http:// or https:// URL",
            ));
        }
        let public_base_url = public_base_url.trim_end_matches('/').to_string();
        let app_base_url = match get("APP_BASE_URL") {
            u if u.is_empty() => public_base_url.clone(),
            u if u.starts_with("http://") || u.starts_with("https://") => {
                u.trim_end_matches('/').to_string()
            }
            _ => {
                return Err(err(
                    "APP_BASE_URL",
                    "expected an http:// or https:// URL, or empty for PUBLIC_BASE_URL",
                ));
            }
        };
        let network_name = get("NETWORK_NAME");
        // The transport first: a production start with `MAIL_TRANSPORT=log` names that variable.
        let mail_transport = match get("MAIL_TRANSPORT").as_str() {
            "smtp" => MailTransportKind::Smtp,
            "file" => MailTransportKind::File,
            "log" => MailTransportKind::Log,
            _ => return Err(err("MAIL_TRANSPORT", "expected smtp, file or log")),
        };
        // In production `file` and `log` would both drop every email silently.
        if mail_transport != MailTransportKind::Smtp && app_env == AppEnv::Production {
            return Err(ConfigError {
                var: "MAIL_TRANSPORT",
                message: format!(
                    "{} is refused when APP_ENV=production; use smtp",
                    get("MAIL_TRANSPORT")
                ),
            });
        }
        let jwt_keys = parse_jwt_keys(&get("JWT_KEYS"))?;
        if jwt_keys.is_empty() && app_env == AppEnv::Production {
            return Err(err(
                "JWT_KEYS",
                "required when APP_ENV=production: kid:secret[,kid:secret...]",
            ));
        }
        let access_token_ttl_secs = parse_range(
            "ACCESS_TOKEN_TTL_SECS",
            &get("ACCESS_TOKEN_TTL_SECS"),
            60,
            86_400,
        )?;
        let refresh_token_ttl_days = parse_range(
            "REFRESH_TOKEN_TTL_DAYS",
            &get("REFRESH_TOKEN_TTL_DAYS"),
            1,
            365,
        )?;
        let argon2_memory_kib = parse_range(
            "ARGON2_MEMORY_KIB",
            &get("ARGON2_MEMORY_KIB"),
            19_456,
            4_194_304,
        )? as u32;
        let argon2_iterations =
            parse_range("ARGON2_ITERATIONS", &get("ARGON2_ITERATIONS"), 2, 100)? as u32;
        let argon2_parallelism =
            parse_range("ARGON2_PARALLELISM", &get("ARGON2_PARALLELISM"), 1, 64)? as u32;
        let password_hash_concurrency = parse_range(
            "PASSWORD_HASH_CONCURRENCY",
            &get("PASSWORD_HASH_CONCURRENCY"),
            1,
            1024,
        )? as usize;
        let auth_rate_limit_per_ip = parse_range(
            "AUTH_RATE_LIMIT_PER_IP",
            &get("AUTH_RATE_LIMIT_PER_IP"),
            1,
            1_000_000,
        )? as u32;
        let auth_rate_limit_per_account = parse_range(
            "AUTH_RATE_LIMIT_PER_ACCOUNT",
            &get("AUTH_RATE_LIMIT_PER_ACCOUNT"),
            1,
            1_000_000,
        )? as u32;
        let trusted_proxies =
            proxies::parse_list(&get("TRUSTED_PROXIES")).map_err(|m| err("TRUSTED_PROXIES", &m))?;
        let security = match get("SMTP_SECURITY").as_str() {
            "none" => SmtpSecurity::None,
            "starttls" => SmtpSecurity::Starttls,
            "tls" => SmtpSecurity::Tls,
            _ => return Err(err("SMTP_SECURITY", "expected none, starttls or tls")),
        };
        let smtp_host = get("SMTP_HOST");
        if mail_transport == MailTransportKind::Smtp && smtp_host.is_empty() {
            return Err(err("SMTP_HOST", "required when MAIL_TRANSPORT=smtp"));
        }
        let optional = |name: &'static str| Some(get(name)).filter(|v| !v.is_empty());
        let smtp = SmtpConfig {
            host: smtp_host,
            port: parse_range("SMTP_PORT", &get("SMTP_PORT"), 1, 65535)? as u16,
            security,
            username: optional("SMTP_USERNAME"),
            password: optional("SMTP_PASSWORD").map(Secret),
            timeout_secs: parse_range("SMTP_TIMEOUT_SECS", &get("SMTP_TIMEOUT_SECS"), 1, 600)?
                as u64,
        };
        let mail_from = get("MAIL_FROM");
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err(
                "MAIL_FROM",
                "expected a mailbox such as IDPC <no-reply@example.org>",
            ));
        }
        let outbox_max_attempts =
            parse_range("OUTBOX_MAX_ATTEMPTS", &get("OUTBOX_MAX_ATTEMPTS"), 1, 100)? as i32;
        let outbox_retry_base_ms = parse_range(
            "OUTBOX_RETRY_BASE_MS",
            &get("OUTBOX_RETRY_BASE_MS"),
            1,
            3_600_000,
        )?;
        let outbox_poll_ms =
            parse_range("OUTBOX_POLL_MS", &get("OUTBOX_POLL_MS"), 10, 600_000)? as u64;
        let worker_enabled = parse_bool("WORKER_ENABLED", &get("WORKER_ENABLED"))?;
        let max_body_bytes =
            parse_range("MAX_BODY_BYTES", &get("MAX_BODY_BYTES"), 1024, 1 << 30)? as usize;
        let cors_allowed_origins: Vec<String> = get("CORS_ALLOWED_ORIGINS")
            .split(',')
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if let Some(bad) = cors_allowed_origins
            .iter()
            .find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(err(
                "CORS_ALLOWED_ORIGINS",
                &format!("expected comma-separated http(s) origins, got {bad:?}"),
            ));
        }
        let log_format = match get("LOG_FORMAT").as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            _ => return Err(err("LOG_FORMAT", "expected pretty or json")),
        };
        let rust_log = get("RUST_LOG");
        // Checked here so a typo stops the start instead of silently logging at `info`.
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&rust_log) {
            return Err(ConfigError {
                var: "RUST_LOG",
                message: format!("not a valid tracing filter ({e}), got {rust_log:?}"),
            });
        }
        let data_dir = match &database_url {
            DatabaseUrl::Sqlite(p) => p
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(".")),
            DatabaseUrl::Postgres(_) => PathBuf::from("data"),
        };
        let application_rate_limit_per_ip = parse_range(
            "APPLICATION_RATE_LIMIT_PER_IP",
            &get("APPLICATION_RATE_LIMIT_PER_IP"),
            1,
            1_000_000,
        )? as u32;
        let application_limit_per_email_per_day = parse_range(
            "APPLICATION_LIMIT_PER_EMAIL_PER_DAY",
            &get("APPLICATION_LIMIT_PER_EMAIL_PER_DAY"),
            1,
            1_000_000,
        )? as u32;
        let membership_grace_days = parse_range(
            "MEMBERSHIP_GRACE_DAYS",
            &get("MEMBERSHIP_GRACE_DAYS"),
            0,
            365,
        )?;
        let open_data =
            open_data::OpenData::parse(&get, &network_name).map_err(|(var, m)| err(var, &m))?;
        let base_currency = crate::money::currency("BASE_CURRENCY", &get("BASE_CURRENCY"))
            .map_err(|_| err("BASE_CURRENCY", "expected an ISO 4217 code such as USD"))?;
        let fx_rate_band_percent =
            parse_range("FX_RATE_BAND_PERCENT", &get("FX_RATE_BAND_PERCENT"), 0, 100)?;
        let base_amount = |var: &'static str| {
            crate::money::parse_amount(var, get(var).trim(), &base_currency).map_err(|_| {
                err(
                    var,
                    &format!("expected a positive amount in {base_currency}, such as 50000.00"),
                )
            })
        };
        let second_approval_threshold = base_amount("SECOND_APPROVAL_THRESHOLD")?;
        let fund_increase_threshold = base_amount("FUND_INCREASE_SECOND_APPROVAL_THRESHOLD")?;
        let second_approval_window_days = parse_range(
            "SECOND_APPROVAL_WINDOW_DAYS",
            &get("SECOND_APPROVAL_WINDOW_DAYS"),
            1,
            3650,
        )?;
        let webhooks = crate::config::webhooks::parse(&get, app_env)?;
        Ok(Self {
            bind_addr,
            port,
            database_url,
            database_pool_size,
            app_env,
            public_base_url,
            app_base_url,
            network_name,
            jwt_keys,
            access_token_ttl_secs,
            refresh_token_ttl_days,
            argon2_memory_kib,
            argon2_iterations,
            argon2_parallelism,
            password_hash_concurrency,
            auth_rate_limit_per_ip,
            auth_rate_limit_per_account,
            trusted_proxies,
            mail_transport,
            smtp,
            mail_from,
            outbox_max_attempts,
            outbox_retry_base_ms,
            outbox_poll_ms,
            worker_enabled,
            max_body_bytes,
            cors_allowed_origins,
            log_format,
            rust_log,
            data_dir,
            application_rate_limit_per_ip,
            application_limit_per_email_per_day,
            membership_grace_days,
            open_data,
            base_currency,
            fx_rate_band_percent,
            second_approval_threshold,
            second_approval_window_days,
            fund_increase_threshold,
            webhooks,
        })
    }

    /// The folder where file-transport emails are written.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

fn parse_range(var: &'static str, raw: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
    match raw.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError {
            var,
            message: format!("expected an integer from {min} to {max}, got {raw:?}"),
        }),
    }
}

fn parse_bool(var: &'static str, raw: &str) -> Result<bool, ConfigError> {
    // Exactly `true` or `false`: `yes`, `1` or `TRUE` would be guesses, and a guess about
    // whether a worker runs is a bad one to make silently.
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError {
            var,
            message: format!("expected true or false, got {raw:?}"),
        }),
    }
}

fn parse_jwt_keys(raw: &str) -> Result<Vec<JwtKey>, ConfigError> {
    let bad = |m: &str| ConfigError {
        var: "JWT_KEYS",
        message: m.to_string(),
    };
    let mut keys: Vec<JwtKey> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (kid, secret) = part
            .split_once(':')
            .ok_or_else(|| bad("expected kid:secret[,kid:secret...]"))?;
        if kid.is_empty()
            || !kid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad("each kid must be letters, digits, - or _"));
        }
        if secret.len() < 32 {
            return Err(bad("each secret must be at least 32 bytes"));
        }
        if keys.iter().any(|k| k.kid == kid) {
            return Err(bad("each kid must be unique"));
        }
        keys.push(JwtKey {
            kid: kid.to_string(),
            secret: Secret(secret.to_string()),
        });
    }
    Ok(keys)
}

/// Renders `.env.example` from [`SETTINGS`].
pub fn env_example() -> String {
    let mut out = String::from(
        "# idpc-hub settings. Copy to .env and adjust; every line shows the default.\n\
         # Generated from src/config.rs (SETTINGS); a test fails when this file is stale.\n",
    );
    for s in SETTINGS {
        out.push_str(&format!(
            "\n# {}\n{}={}\n",
            s.help,
            s.name,
            quote_env(s.default)
        ));
    }
    out
}

fn quote_env(v: &str) -> String {
    if v.contains(' ') || v.contains('<') {
        format!("\"{v}\"")
    } else {
        v.to_string()
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
    fn defaults_give_a_development_sqlite_config() {
        let c = Config::from_map(&map(&[])).unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!(
            c.database_url,
            DatabaseUrl::Sqlite(PathBuf::from("data/idpc-hub.db"))
        );
        assert_eq!(c.mail_transport, MailTransportKind::File);
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.public_base_url, "http://127.0.0.1:8080");
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
    fn short_jwt_secret_is_refused() {
        let e = Config::from_map(&map(&[("JWT_KEYS", "k1:short")])).unwrap_err();
        assert_eq!(e.var, "JWT_KEYS");
    }
}

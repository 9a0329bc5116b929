//! Webhook settings, parsed by `config::Config::from_map` through [`parse`]; the variables
//! are declared with the others in `config/settings.rs`.

use crate::config::{AppEnv, ConfigError, Env, var};
use crate::kit::ssrf::Cidr;

/// How webhooks are delivered.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Ranges a destination may resolve to although they are loopback, private or link-local.
    pub allowed_cidrs: Vec<Cidr>,
    /// Plain http destinations are accepted (always in development).
    pub allow_http: bool,
    /// Attempts before a delivery fails for good (and its subscription is disabled).
    pub max_attempts: i32,
    /// First retry delay; doubles each attempt, with jitter.
    pub retry_base_ms: i64,
    /// Total time of one attempt: connect, send, read the answer.
    pub timeout_ms: u64,
    /// Attempts in flight per destination host and worker.
    pub per_destination: usize,
    /// Attempts in flight per worker.
    pub concurrency: usize,
    /// How long the previous secret still signs after a rotation.
    pub rotation_window_secs: i64,
    /// Days attempts' response bodies are kept.
    pub log_retention_days: i64,
    /// How often the dispatcher looks for due deliveries.
    pub poll_ms: u64,
    /// Replays one subscription may ask for in any hour; a replay re-sends up to
    /// `REPLAY_MAX` deliveries, so an unbounded number of them floods the receiver.
    pub replays_per_hour: i64,
}

/// `WEBHOOK_ALLOWED_CIDRS`: comma-separated CIDR ranges.
pub fn cidrs(raw: &str) -> Result<Vec<Cidr>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| Cidr::parse(part).map_err(|m| format!("{m}: {part:?}")))
        .collect()
}

/// Reads the `WEBHOOK_*` settings (declared in `settings.rs`).
pub fn parse(env: &Env<'_>, app_env: AppEnv) -> Result<WebhookSettings, ConfigError> {
    Ok(WebhookSettings {
        allowed_cidrs: env.get(&var::WEBHOOK_ALLOWED_CIDRS)?,
        // Development always accepts plain http, so local receivers work.
        allow_http: env.get(&var::WEBHOOK_ALLOW_HTTP)? || app_env == AppEnv::Development,
        max_attempts: env.get(&var::WEBHOOK_MAX_ATTEMPTS)?,
        retry_base_ms: env.get(&var::WEBHOOK_RETRY_BASE_MS)?,
        timeout_ms: env.get(&var::WEBHOOK_TIMEOUT_MS)?,
        per_destination: env.get(&var::WEBHOOK_CONCURRENCY_PER_DESTINATION)?,
        concurrency: env.get(&var::WEBHOOK_CONCURRENCY)?,
        rotation_window_secs: env.get(&var::WEBHOOK_ROTATION_WINDOW_SECS)?,
        log_retention_days: env.get(&var::WEBHOOK_LOG_RETENTION_DAYS)?,
        poll_ms: env.get(&var::WEBHOOK_POLL_MS)?,
        replays_per_hour: env.get(&var::WEBHOOK_REPLAYS_PER_HOUR)?,
    })
}

//! Webhook settings, parsed by `config::Config::from_map` through [`parse`] so that
//! `config.rs` only gains the declarations of the variables and one field.

use crate::config::{AppEnv, ConfigError};
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

fn int(var: &'static str, raw: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
    match raw.parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ConfigError {
            var,
            message: format!("expected an integer from {min} to {max}, got {raw:?}"),
        }),
    }
}

/// Reads the `WEBHOOK_*` settings with `get` (which applies the defaults of `SETTINGS`).
pub fn parse(
    get: &dyn Fn(&'static str) -> String,
    env: AppEnv,
) -> Result<WebhookSettings, ConfigError> {
    let mut allowed_cidrs = Vec::new();
    for part in get("WEBHOOK_ALLOWED_CIDRS")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        allowed_cidrs.push(Cidr::parse(part).map_err(|m| ConfigError {
            var: "WEBHOOK_ALLOWED_CIDRS",
            message: format!("{m}: {part:?}"),
        })?);
    }
    let allow_http = match get("WEBHOOK_ALLOW_HTTP").to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => true,
        "false" | "0" | "no" | "off" => env == AppEnv::Development,
        other => {
            return Err(ConfigError {
                var: "WEBHOOK_ALLOW_HTTP",
                message: format!("expected true or false, got {other:?}"),
            });
        }
    };
    Ok(WebhookSettings {
        allowed_cidrs,
        allow_http,
        max_attempts: int("WEBHOOK_MAX_ATTEMPTS", &get("WEBHOOK_MAX_ATTEMPTS"), 1, 100)? as i32,
        retry_base_ms: int(
            "WEBHOOK_RETRY_BASE_MS",
            &get("WEBHOOK_RETRY_BASE_MS"),
            1,
            3_600_000,
        )?,
        timeout_ms: int(
            "WEBHOOK_TIMEOUT_MS",
            &get("WEBHOOK_TIMEOUT_MS"),
            100,
            120_000,
        )? as u64,
        per_destination: int(
            "WEBHOOK_CONCURRENCY_PER_DESTINATION",
            &get("WEBHOOK_CONCURRENCY_PER_DESTINATION"),
            1,
            1000,
        )? as usize,
        concurrency: int(
            "WEBHOOK_CONCURRENCY",
            &get("WEBHOOK_CONCURRENCY"),
            1,
            10_000,
        )? as usize,
        rotation_window_secs: int(
            "WEBHOOK_ROTATION_WINDOW_SECS",
            &get("WEBHOOK_ROTATION_WINDOW_SECS"),
            0,
            30 * 86_400,
        )?,
        log_retention_days: int(
            "WEBHOOK_LOG_RETENTION_DAYS",
            &get("WEBHOOK_LOG_RETENTION_DAYS"),
            1,
            3650,
        )?,
        poll_ms: int("WEBHOOK_POLL_MS", &get("WEBHOOK_POLL_MS"), 10, 600_000)? as u64,
        replays_per_hour: int(
            "WEBHOOK_REPLAYS_PER_HOUR",
            &get("WEBHOOK_REPLAYS_PER_HOUR"),
            1,
            1000,
        )?,
    })
}

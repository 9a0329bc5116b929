//! Prometheus metrics: HTTP requests and latency by route (actix-web-prom), plus gauges for
//! the pool and the outbox, refreshed when `/metrics` is scraped.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{IntGauge, IntGaugeVec, Opts, Registry};

/// The registry and the gauges the service owns.
#[derive(Clone)]
pub struct Metrics {
    /// The HTTP middleware (requests and latency per route pattern).
    pub http: PrometheusMetrics,
    /// Registry behind `/metrics`.
    pub registry: Registry,
    /// Pool gauges: `state` = max, open, idle.
    pub pool: IntGaugeVec,
    /// Outbox messages per status.
    pub outbox: IntGaugeVec,
    /// Age in seconds of the oldest pending outbox message (0 when none).
    pub outbox_oldest_pending_age: IntGauge,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let registry = Registry::new();
        let http = PrometheusMetricsBuilder::new("idpc_hub")
            .registry(registry.clone())
            .mask_unmatched_patterns("UNMATCHED")
            .build()?;
        let pool = IntGaugeVec::new(
            Opts::new("idpc_hub_db_pool_connections", "Database pool connections"),
            &["state"],
        )?;
        let outbox = IntGaugeVec::new(
            Opts::new("idpc_hub_outbox_messages", "Outbox messages by status"),
            &["status"],
        )?;
        let outbox_oldest_pending_age = IntGauge::new(
            "idpc_hub_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message in seconds",
        )?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        registry.register(Box::new(outbox_oldest_pending_age.clone()))?;
        Ok(Self {
            http,
            registry,
            pool,
            outbox,
            outbox_oldest_pending_age,
        })
    }

    /// Renders the registry in the Prometheus text format.
    pub fn render(&self) -> String {
        use prometheus::Encoder;
        let mut buf = Vec::new();
        let _ = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

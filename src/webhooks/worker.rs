//! The dispatcher: webhook POSTs as a delivery on the one queue (`crate::queue`: claim, lease,
//! backoff, dead letter). Unlike the sequential `queue::Worker`, attempts run concurrently,
//! bounded per destination and per worker, so a slow receiver never holds up the others; their
//! outcomes are settled in batches. Redirects are never followed and every destination passes
//! the SSRF guard at send time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, watch};

use super::model::{DeliveryRow, SubscriptionRow};
use super::outbox::{self as service, Answer};
use super::service::RESPONSE_BODY_KEEP;
use super::sign;
use crate::AppState;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::kit::ssrf;
use crate::queue::{self, Attempt, Delivery, Failure, Settled, poll_loop};

/// Metrics of the dispatcher.
#[derive(Clone)]
struct DispatchMetrics {
    attempts: IntCounterVec,
    latency: HistogramVec,
}

impl DispatchMetrics {
    fn new(registry: &prometheus::Registry) -> Option<Self> {
        let attempts = IntCounterVec::new(
            Opts::new(
                "idpc_hub_webhook_attempts_total",
                "Webhook delivery attempts by outcome (delivered, retry, failed)",
            ),
            &["outcome"],
        )
        .ok()?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "idpc_hub_webhook_attempt_seconds",
                "Duration of webhook delivery attempts",
            ),
            &["outcome"],
        )
        .ok()?;
        // A second dispatcher on the same registry (tests) keeps its counters to itself.
        let _ = registry.register(Box::new(attempts.clone()));
        let _ = registry.register(Box::new(latency.clone()));
        Some(Self { attempts, latency })
    }
}

struct Inner {
    state: AppState,
    client: reqwest::Client,
    worker_id: String,
    lease: chrono::Duration,
    total: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    done: Arc<Notify>,
    metrics: Option<DispatchMetrics>,
    settler: Mutex<Option<mpsc::UnboundedSender<Finished>>>,
}

/// An attempt made, waiting to be recorded; its permits are held until it is.
type Finished = (
    DeliveryRow,
    Attempt<Answer>,
    (OwnedSemaphorePermit, OwnedSemaphorePermit),
);

/// The subscriptions of one round's deliveries, by id.
type Subscriptions = HashMap<String, SubscriptionRow>;

/// One dispatcher instance (cheap to clone).
#[derive(Clone)]
pub struct Dispatcher(Arc<Inner>);

/// The error chain of a failed request, so a refusal by the SSRF guard is visible.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}

fn host_key(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or(""),
                u.port_or_known_default().unwrap_or(0)
            )
        })
        .unwrap_or_default()
}

impl Dispatcher {
    /// Builds a dispatcher with an HTTP client that follows no redirects, honours no proxy
    /// and resolves names through the SSRF guard.
    pub fn new(state: AppState) -> Result<Self, String> {
        let s = &state.config.webhooks;
        let timeout = std::time::Duration::from_millis(s.timeout_ms);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(s.per_destination)
            .user_agent(concat!("idpc-hub-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(ssrf::GuardedResolver {
                allowed: Arc::new(s.allowed_cidrs.clone()),
            }))
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        let lease = queue::lease(timeout);
        let total = Arc::new(Semaphore::new(s.concurrency));
        let metrics = DispatchMetrics::new(&state.metrics.registry);
        Ok(Self(Arc::new(Inner {
            client,
            worker_id: format!("wh-{}", uuid::Uuid::now_v7()),
            lease,
            total,
            hosts: Mutex::new(HashMap::new()),
            done: Arc::new(Notify::new()),
            metrics,
            settler: Mutex::new(None),
            state,
        })))
    }

    fn host_permit(&self, url: &str) -> Option<OwnedSemaphorePermit> {
        let per = self.0.state.config.webhooks.per_destination;
        let sem = {
            let mut hosts = self.0.hosts.lock().ok()?;
            hosts
                .entry(host_key(url))
                .or_insert_with(|| Arc::new(Semaphore::new(per)))
                .clone()
        };
        sem.try_acquire_owned().ok()
    }

    /// Claims what the free capacity allows and starts sending it. Returns how many
    /// deliveries were started; ones whose destination is at its limit are given back.
    pub async fn round(&self, shutdown: Option<&watch::Receiver<bool>>) -> Result<usize, ApiError> {
        let free = self.0.total.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let (worker, lease) = (self.0.worker_id.clone(), self.0.lease);
        let limit = free.min(200) as i64;
        let now = self.0.state.clock().naive();
        let rows = self
            .0
            .state
            .db(move |c| queue::claim::<DeliveryRow>(c, &worker, lease, limit, now))
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let claimed = rows.clone();
        let subs = Arc::new(self.0.state.db(move |c| Self::prepare(c, &claimed)).await?);
        let mut started = 0;
        for row in rows {
            let sub = subs.get(&row.subscription_id).cloned();
            let stopping = shutdown.is_some_and(|s| *s.borrow());
            let permits = match (&sub, stopping) {
                (Some(sub), false) => self.host_permit(&sub.url).and_then(|h| {
                    self.0
                        .total
                        .clone()
                        .try_acquire_owned()
                        .ok()
                        .map(|t| (h, t))
                }),
                _ => None,
            };
            let (Some(_), Some(permits)) = (sub, permits) else {
                let (id, worker) = (row.id.clone(), self.0.worker_id.clone());
                self.0
                    .state
                    .db(move |c| queue::release::<DeliveryRow>(c, &id, &worker))
                    .await?;
                continue;
            };
            started += 1;
            let (me, settler, subs) = (self.clone(), self.settler(), subs.clone());
            actix_web::rt::spawn(async move {
                let outcome = me.deliver(&row, &subs).await;
                drop(me);
                if let Some(tx) = settler {
                    // The settler ends only with the dispatcher; then the lease expires.
                    let _ = tx.send((row, outcome, permits));
                }
            });
        }
        Ok(started)
    }

    /// Waits until no attempt of this dispatcher is in flight.
    pub async fn idle(&self) {
        let n = self.0.state.config.webhooks.concurrency as u32;
        if let Ok(p) = self.0.total.acquire_many(n).await {
            drop(p);
        }
    }

    /// Sends everything that is due now and waits for the outcomes (tests, benchmarks).
    /// Returns how many attempts were made.
    pub async fn drain(&self) -> Result<usize, ApiError> {
        let mut total = 0;
        loop {
            let n = self.round(None).await?;
            self.idle().await;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// The channel to the task that records outcomes, started on first use. The task holds
    /// no reference to the dispatcher, so it ends when the dispatcher is dropped.
    fn settler(&self) -> Option<mpsc::UnboundedSender<Finished>> {
        let mut slot = self.0.settler.lock().ok()?;
        if slot.is_none() {
            let (tx, rx) = mpsc::unbounded_channel();
            actix_web::rt::spawn(settle_loop(
                self.0.state.clone(),
                self.0.worker_id.clone(),
                self.0.metrics.clone(),
                self.0.done.clone(),
                rx,
            ));
            *slot = Some(tx);
        }
        slot.clone()
    }

    /// One signed POST. Never follows a redirect; the guard refuses internal addresses.
    async fn attempt(&self, row: &DeliveryRow, sub: &SubscriptionRow) -> Attempt<Answer> {
        let at = self.0.state.clock().naive();
        let start = Instant::now();
        let fail = |error: String| Attempt {
            at,
            result: Err(Failure::transient(error)),
            report: Answer {
                duration_ms: start.elapsed().as_millis() as i64,
                ..Answer::default()
            },
        };
        let settings = &self.0.state.config.webhooks;
        let url = match reqwest::Url::parse(&sub.url) {
            Ok(u) => u,
            Err(e) => return fail(format!("invalid URL: {e}")),
        };
        if url.scheme() != "https" && !(url.scheme() == "http" && settings.allow_http) {
            return fail("https is required for webhook destinations".into());
        }
        // Literal addresses bypass the resolver, so they are checked here.
        let literal = url
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|h| h.parse::<std::net::IpAddr>().ok());
        if let Some(ip) = literal
            && let Err(e) = ssrf::check(ip, &settings.allowed_cidrs)
        {
            return fail(e);
        }
        let ts = at.and_utc().timestamp();
        let signature =
            sign::signature_header(&sub.signing_secrets(at), &row.message_id, ts, &row.body);
        let sent = self
            .0
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &row.message_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(row.body.clone())
            .send()
            .await;
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) => return fail(describe(&e)),
        };
        let status = resp.status().as_u16();
        let mut body: Vec<u8> = Vec::new();
        while body.len() < RESPONSE_BODY_KEEP {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        body.truncate(RESPONSE_BODY_KEEP);
        let body = String::from_utf8_lossy(&body).into_owned();
        let result = if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(Failure {
                error: format!("HTTP {status}"),
                permanent: status == 410,
            })
        };
        Attempt {
            at,
            result,
            report: Answer {
                status: Some(status),
                body: Some(body).filter(|b| !b.is_empty()),
                duration_ms: start.elapsed().as_millis() as i64,
            },
        }
    }

    /// Runs until `shutdown` turns true; in-flight attempts finish before it returns.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let poll = std::time::Duration::from_millis(self.0.state.config.webhooks.poll_ms);
        let id = self.0.worker_id.clone();
        let last_prune: std::cell::Cell<Option<Instant>> = std::cell::Cell::new(None);
        let wake = self.0.done.clone();
        poll_loop(
            "webhook dispatcher",
            &id,
            poll,
            shutdown,
            Some(&wake),
            |s| {
                let (me, last_prune) = (&self, &last_prune);
                async move {
                    if last_prune.get().is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
                        last_prune.set(Some(Instant::now()));
                        me.prune().await;
                    }
                    me.round(Some(&s)).await
                }
            },
        )
        .await;
        self.idle().await;
    }

    /// Forgets receivers' answers older than `WEBHOOK_LOG_RETENTION_DAYS`.
    async fn prune(&self) {
        let retention = self.0.state.config.webhooks.log_retention_days;
        let now = self.0.state.clock().naive();
        let pruned = self
            .0
            .state
            .db(move |c| service::prune(c, retention, now))
            .await;
        if let Err(e) = pruned {
            tracing::warn!(error = %e, "webhook log pruning failed");
        }
    }
}

/// How often the dispatcher forgets old receivers' answers.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Webhooks as a delivery on the one queue: a signed POST to the subscription's URL.
impl Delivery for Dispatcher {
    type Job = DeliveryRow;
    type Round = Subscriptions;

    fn prepare(conn: &mut DbConn, jobs: &[DeliveryRow]) -> Result<Subscriptions, ApiError> {
        let ids: Vec<String> = jobs.iter().map(|r| r.subscription_id.clone()).collect();
        Ok(service::subscriptions(conn, &ids)?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect())
    }

    async fn deliver(&self, row: &DeliveryRow, subs: &Subscriptions) -> Attempt<Answer> {
        match subs.get(&row.subscription_id) {
            Some(sub) => self.attempt(row, sub).await,
            None => Attempt {
                at: self.0.state.clock().naive(),
                result: Err(Failure::transient("the subscription is gone")),
                report: Answer::default(),
            },
        }
    }
}

/// Records finished attempts in batches: whatever has arrived is settled in one transaction.
async fn settle_loop(
    state: AppState,
    worker: String,
    metrics: Option<DispatchMetrics>,
    done: Arc<Notify>,
    mut rx: mpsc::UnboundedReceiver<Finished>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let items: Vec<(DeliveryRow, Attempt<Answer>)> = batch
            .iter()
            .map(|(r, o, _)| (r.clone(), o.clone()))
            .collect();
        let (config, w, n) = (state.config.clone(), worker.clone(), items.len());
        let settled = state
            .db(move |c| queue::settle_all(c, &config, &items, &w))
            .await;
        for (i, (row, outcome, _)) in batch.iter().enumerate() {
            let s = settled.as_ref().ok().and_then(|v| v.get(i)).copied();
            let label = match s {
                Some(Settled::Delivered) => "delivered",
                Some(Settled::Retry) => "retry",
                Some(Settled::Dead) => "failed",
                Some(Settled::LeaseLost) => "lease_lost",
                None => "error",
            };
            if let Some(m) = &metrics {
                m.attempts.with_label_values(&[label]).inc();
                m.latency
                    .with_label_values(&[label])
                    .observe(outcome.report.duration_ms as f64 / 1000.0);
            }
            if s != Some(Settled::Delivered) {
                tracing::warn!(id = %row.id, subscription = %row.subscription_id, attempts = row.attempts + 1, outcome = label, status = ?outcome.report.status, error = ?outcome.error(), "webhook not delivered");
            }
        }
        if let Err(e) = settled {
            tracing::error!(error = %e, attempts = n, "could not record webhook attempts");
        }
        drop(batch);
        done.notify_one();
    }
}

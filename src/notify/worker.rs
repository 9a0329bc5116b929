//! The notifier: claims due outbox rows under a lease, sends them, and records the outcome.
//! A message is marked sent only after the transport accepted it; at shutdown, rows not yet
//! started are released for the next run.

use chrono::Duration;
use lettre::message::Mailbox;
use tokio::sync::watch;

use super::service;
use super::transport::Transport;
use crate::AppState;
use crate::error::ApiError;

/// Messages claimed per round.
const BATCH: i64 = 20;

/// One notifier instance.
pub struct Notifier {
    state: AppState,
    transport: Transport,
    from: Mailbox,
    worker_id: String,
    lease: Duration,
}

impl Notifier {
    /// Builds a notifier with the configured transport.
    pub fn new(state: AppState) -> Result<Self, String> {
        let transport = Transport::from_config(&state.config)?;
        let from: Mailbox = state
            .config
            .mail_from
            .parse()
            .map_err(|e| format!("MAIL_FROM: {e}"))?;
        // The lease outlives the longest possible send so a live worker never loses its row.
        let lease = Duration::seconds((state.config.smtp.timeout_secs as i64) * 2 + 5);
        Ok(Self {
            state,
            transport,
            from,
            worker_id: format!("w-{}", uuid::Uuid::now_v7()),
            lease,
        })
    }

    /// One round: claim due messages and send them. Returns how many were attempted.
    pub async fn run_once(
        &self,
        shutdown: Option<&watch::Receiver<bool>>,
    ) -> Result<usize, ApiError> {
        let worker = self.worker_id.clone();
        let lease = self.lease;
        let now = self.state.clock().naive();
        let rows = self
            .state
            .db(move |c| service::claim(c, &worker, lease, BATCH, now))
            .await?;
        let mut attempted = 0;
        for row in rows {
            if shutdown.is_some_and(|s| *s.borrow()) {
                let (id, worker) = (row.id.clone(), self.worker_id.clone());
                self.state
                    .db(move |c| service::release(c, &id, &worker))
                    .await?;
                continue;
            }
            attempted += 1;
            let outcome = self.transport.send(&row, &self.from).await;
            let worker = self.worker_id.clone();
            let config = self.state.config.clone();
            match outcome {
                Ok(()) => {
                    let id = row.id.clone();
                    let now = self.state.clock().naive();
                    let kept = self
                        .state
                        .db(move |c| service::mark_sent(c, &id, &worker, now))
                        .await?;
                    if kept {
                        tracing::info!(id = %row.id, kind = %row.kind, to = %row.recipient_email, "email sent");
                    } else {
                        tracing::warn!(id = %row.id, "email sent after its lease was lost");
                    }
                }
                Err(e) => {
                    let r = row.clone();
                    let err = e.clone();
                    let status = self
                        .state
                        .db(move |c| service::mark_failed(c, &r, &worker, &err, &config))
                        .await?;
                    tracing::warn!(id = %row.id, attempts = row.attempts + 1, status = status.as_str(), error = %e, "email failed");
                }
            }
        }
        Ok(attempted)
    }

    /// Runs until `shutdown` turns true, polling every `OUTBOX_POLL_MS`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let poll = std::time::Duration::from_millis(self.state.config.outbox_poll_ms);
        tracing::info!(worker = %self.worker_id, "notifier started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let busy = match self.run_once(Some(&shutdown)).await {
                Ok(n) => n > 0,
                Err(e) => {
                    tracing::error!(error = %e, "notifier round failed");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.worker_id, "notifier stopped");
    }
}

//! The notifier: the queue's worker with email as its delivery. A message is marked sent
//! only after the transport accepted it (see `queue::worker` for claiming, leases, retries).

use lettre::message::Mailbox;
use tokio::sync::watch;

use super::model::OutboxRow;
use super::transport::Transport;
use crate::AppState;
use crate::clock::Clock;
use crate::db::DbConn;
use crate::error::ApiError;
use crate::queue::{Attempt, Delivery, Failure, Worker};

/// Messages claimed per round.
const BATCH: i64 = 20;

/// Email as a delivery: one message through the configured transport.
pub struct Mail {
    transport: Transport,
    from: Mailbox,
    clock: Clock,
}

impl Delivery for Mail {
    type Job = OutboxRow;
    type Round = ();

    fn prepare(_conn: &mut DbConn, _jobs: &[OutboxRow]) -> Result<(), ApiError> {
        Ok(())
    }

    async fn deliver(&self, row: &OutboxRow, _round: &()) -> Attempt<()> {
        let at = self.clock.naive();
        let result = self.transport.send(row, &self.from).await;
        Attempt {
            at,
            result: result.map_err(Failure::transient),
            report: (),
        }
    }
}

/// One notifier instance.
pub struct Notifier(Worker<Mail>);

impl Notifier {
    /// Builds a notifier with the configured transport.
    pub fn new(state: AppState) -> Result<Self, String> {
        let transport = Transport::from_config(&state.config)?;
        let from: Mailbox = state
            .config
            .mail_from
            .parse()
            .map_err(|e| format!("MAIL_FROM: {e}"))?;
        let mail = Mail {
            transport,
            from,
            clock: state.clock().clone(),
        };
        let timeout = std::time::Duration::from_secs(state.config.smtp.timeout_secs);
        let poll = std::time::Duration::from_millis(state.config.outbox_poll_ms);
        Ok(Self(Worker::new(
            state, mail, "notifier", BATCH, timeout, poll,
        )))
    }

    /// One round: claim due messages and send them. Returns how many were attempted.
    pub async fn run_once(
        &self,
        shutdown: Option<&watch::Receiver<bool>>,
    ) -> Result<usize, ApiError> {
        self.0.run_once(shutdown).await
    }

    /// Runs until `shutdown` turns true, polling every `OUTBOX_POLL_MS`.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        self.0.run(shutdown).await
    }
}

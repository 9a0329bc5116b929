//! Runs a [`Delivery`]: claims due jobs under a lease, attempts them one after the other and
//! settles each. A job is settled only after its attempt returned; at shutdown, jobs not yet
//! started are released for the next run. `poll_loop` is the loop every worker runs.

use std::future::Future;

use chrono::Duration;
use tokio::sync::{Notify, watch};

use super::{Delivery, Job, Settled};
use crate::AppState;
use crate::error::ApiError;

/// One worker of one kind of job.
pub struct Worker<D: Delivery> {
    state: AppState,
    delivery: D,
    /// Names the worker in logs.
    name: &'static str,
    id: String,
    lease: Duration,
    batch: i64,
    poll: std::time::Duration,
}

impl<D: Delivery> Worker<D> {
    /// A worker that claims `batch` jobs per round, each attempt taking at most
    /// `attempt_timeout`, and looks for due jobs every `poll` when idle.
    pub fn new(
        state: AppState,
        delivery: D,
        name: &'static str,
        batch: i64,
        attempt_timeout: std::time::Duration,
        poll: std::time::Duration,
    ) -> Self {
        Self {
            state,
            delivery,
            name,
            id: format!("{name}-{}", uuid::Uuid::now_v7()),
            lease: super::lease(attempt_timeout),
            batch,
            poll,
        }
    }

    /// One round: claim due jobs and attempt them. Returns how many were attempted.
    pub async fn run_once(
        &self,
        shutdown: Option<&watch::Receiver<bool>>,
    ) -> Result<usize, ApiError> {
        let (worker, lease, batch) = (self.id.clone(), self.lease, self.batch);
        let now = self.state.clock().naive();
        let jobs: Vec<D::Job> = self
            .state
            .db(move |c| super::claim(c, &worker, lease, batch, now))
            .await?;
        if jobs.is_empty() {
            return Ok(0);
        }
        let claimed = jobs.clone();
        let round = self.state.db(move |c| D::prepare(c, &claimed)).await?;
        let mut attempted = 0;
        for job in jobs {
            let worker = self.id.clone();
            if shutdown.is_some_and(|s| *s.borrow()) {
                let id = job.id().to_string();
                self.state
                    .db(move |c| super::release::<D::Job>(c, &id, &worker))
                    .await?;
                continue;
            }
            attempted += 1;
            let attempt = self.delivery.deliver(&job, &round).await;
            let (config, settling, recorded) =
                (self.state.config.clone(), job.clone(), attempt.clone());
            let settled = self
                .state
                .db(move |c| super::settle(c, &config, &settling, &worker, &recorded))
                .await?;
            let error = attempt.result.err().map(|f| f.error);
            match settled {
                Settled::Delivered => {
                    tracing::info!(kind = self.name, id = job.id(), "delivered")
                }
                _ => {
                    tracing::warn!(kind = self.name, id = job.id(), attempts = job.attempts() + 1, outcome = ?settled, error = ?error, "not delivered")
                }
            }
        }
        Ok(attempted)
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let (name, id, poll) = (self.name, self.id.clone(), self.poll);
        poll_loop(name, &id, poll, shutdown, None, |s| {
            let me = &self;
            async move { me.run_once(Some(&s)).await }
        })
        .await;
    }
}

/// Runs `round` until `shutdown` turns true; after a round that started nothing, waits for
/// `poll`, a `wake` (an attempt finished) or the shutdown.
pub async fn poll_loop<F, Fut>(
    name: &str,
    worker: &str,
    poll: std::time::Duration,
    mut shutdown: watch::Receiver<bool>,
    wake: Option<&Notify>,
    mut round: F,
) where
    F: FnMut(watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = Result<usize, ApiError>>,
{
    tracing::info!(worker, "{name} started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let busy = match round(shutdown.clone()).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::error!(error = %e, "{name} round failed");
                false
            }
        };
        if !busy {
            let woken = async {
                match wake {
                    Some(n) => n.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = woken => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    tracing::info!(worker, "{name} stopped");
}

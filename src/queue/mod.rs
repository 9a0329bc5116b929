//! One queue for everything delivered later (email, webhooks, and the kinds to come): a job is
//! a row that a worker claims under a lease, delivers, and settles as delivered, retried after
//! a backoff, or dead once its attempts are spent. Claim SQL, leases and backoff live here only.
//!
//! A kind of job is a [`Job`] (its table, its words for delivered and dead, what else must hold
//! before a row is claimed, what else settling one records) and a [`Delivery`] (one attempt).
//! Adding a kind is those two impls and a table with the queue's columns: `id`, `status`,
//! `attempts`, `next_attempt_at`, `lease_owner`, `lease_until`, `last_error`.

pub mod worker;

use std::future::Future;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::config::Config;
use crate::db::{DbConn, MultiBackend, write_tx};
use crate::error::ApiError;

pub use worker::{Worker, poll_loop};

/// The status word of a job waiting for its first attempt or a retry, in every kind.
pub const PENDING: &str = "pending";

/// How many attempts a kind gets and how long it waits between them.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Attempts before a job is dead.
    pub max_attempts: i32,
    /// First retry delay in ms; it doubles each attempt, plus up to 25 % jitter.
    pub retry_base_ms: i64,
}

/// Why an attempt did not deliver.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong, as the admin view shows it.
    pub error: String,
    /// No retry can help (a webhook receiver answered 410 Gone): the job is dead at once.
    pub permanent: bool,
}

impl Failure {
    /// A failure a later attempt may overcome.
    pub fn transient(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            permanent: false,
        }
    }
}

/// One attempt and what it gave.
#[derive(Debug, Clone)]
pub struct Attempt<R> {
    /// When it started.
    pub at: NaiveDateTime,
    /// Delivered, or why not.
    pub result: Result<(), Failure>,
    /// What the kind records besides the result (a webhook receiver's answer); `()` for email.
    pub report: R,
}

impl<R> Attempt<R> {
    /// The failure as stored (at most 2,000 characters), if the attempt failed.
    pub fn error(&self) -> Option<String> {
        self.result
            .as_ref()
            .err()
            .map(|f| f.error.chars().take(2000).collect())
    }
}

/// What became of a job after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Delivered; never attempted again.
    Delivered,
    /// Pending again, due after the backoff.
    Retry,
    /// The dead-letter state: attempts spent or a permanent failure. An admin may re-queue it.
    Dead,
    /// Another worker took the row after this worker's lease expired; nothing was recorded.
    LeaseLost,
}

/// A kind of job: where its rows live and what settling one also records.
pub trait Job: QueryableByName<MultiBackend> + Clone + Send + 'static {
    /// Its table, with the queue's columns (see the module documentation).
    const TABLE: &'static str;
    /// Joins the eligibility conditions need, on the candidate row `d`.
    const JOINS: &'static str = "";
    /// More conditions, each starting with `AND`, a due row `d` must meet to be claimed.
    const ELIGIBLE: &'static str = "";
    /// Its status word once delivered.
    const DELIVERED: &'static str;
    /// Its status word in the dead-letter state, the one [`Settled::Dead`] (each kind keeps the
    /// word its API has always shown: `dead` for email, `failed` for webhooks).
    const DEAD: &'static str;
    /// What an attempt reports besides its result.
    type Report: Clone + Send + 'static;

    /// The row's id.
    fn id(&self) -> &str;
    /// Attempts made before this one.
    fn attempts(&self) -> i32;
    /// When it was due.
    fn next_attempt_at(&self) -> NaiveDateTime;
    /// Its attempt budget and retry delay, from the settings.
    fn policy(config: &Config) -> Policy;
    /// What else an attempt changes, in the transaction that settled the job (never called
    /// when the lease was lost).
    fn on_settled(
        &self,
        conn: &mut DbConn,
        config: &Config,
        attempt: &Attempt<Self::Report>,
        settled: Settled,
    ) -> Result<(), ApiError>;
}

/// The accessors of a [`Job`] whose row has the queue's columns as fields of the same names.
macro_rules! job_columns {
    () => {
        fn id(&self) -> &str {
            &self.id
        }

        fn attempts(&self) -> i32 {
            self.attempts
        }

        fn next_attempt_at(&self) -> chrono::NaiveDateTime {
            self.next_attempt_at
        }
    };
}
pub(crate) use job_columns;

/// How one kind of job is delivered. An attempt never writes to the database: the queue
/// records its outcome.
pub trait Delivery {
    /// The jobs it delivers.
    type Job: Job;
    /// What the attempts of one round read from the database first (a webhook's
    /// subscriptions); `()` when nothing.
    type Round: Send + 'static;

    /// Reads what the claimed jobs' attempts need, in one query per round.
    fn prepare(conn: &mut DbConn, jobs: &[Self::Job]) -> Result<Self::Round, ApiError>;
    /// Makes one attempt.
    fn deliver(
        &self,
        job: &Self::Job,
        round: &Self::Round,
    ) -> impl Future<Output = Attempt<<Self::Job as Job>::Report>>;
}

/// How long a worker holds what it claimed: an attempt that may take `attempt` plus the
/// recording of its outcome, with room to spare, so a live worker never loses its row.
pub fn lease(attempt: std::time::Duration) -> Duration {
    Duration::milliseconds(attempt.as_millis() as i64 * 2 + 5_000)
}

/// Delay before retry `attempt` (1-based): base · 2^(attempt−1), plus up to 25 % jitter.
pub fn backoff(base_ms: i64, attempt: i32) -> Duration {
    let exp = base_ms.saturating_mul(1_i64 << (attempt.clamp(1, 30) - 1));
    let jitter = (exp / 4).max(1);
    Duration::milliseconds(exp + rand::random::<i64>().rem_euclid(jitter))
}

/// The statement for `conn`'s backend: PostgreSQL numbers its parameters `$n`, SQLite `?n`.
fn for_backend(conn: &DbConn, sql: String) -> String {
    match conn {
        DbConn::Pg(_) => sql,
        DbConn::Sqlite(_) => sql.replace('$', "?"),
    }
}

/// The one claim: due, unleased (or lease expired) pending rows that meet the kind's
/// conditions, oldest due first. PostgreSQL skips rows another worker has locked, so several
/// instances never take the same row; SQLite has one writer at a time (`BEGIN IMMEDIATE`).
fn claim_sql<J: Job>(conn: &DbConn) -> String {
    let lock = match conn {
        DbConn::Pg(_) => " FOR UPDATE OF d SKIP LOCKED",
        DbConn::Sqlite(_) => "",
    };
    let sql = format!(
        "UPDATE {t} SET lease_owner = $1, lease_until = $2 WHERE id IN (\
           SELECT d.id FROM {t} d{joins} \
           WHERE d.status = '{PENDING}' AND d.next_attempt_at <= $3 \
           AND (d.lease_until IS NULL OR d.lease_until < $3){eligible} \
           ORDER BY d.next_attempt_at, d.id LIMIT $4{lock}) RETURNING *",
        t = J::TABLE,
        joins = J::JOINS,
        eligible = J::ELIGIBLE,
    );
    for_backend(conn, sql)
}

/// Claims up to `limit` due jobs for `worker`, leased for `lease`, oldest due first.
pub fn claim<J: Job>(
    conn: &mut DbConn,
    worker: &str,
    lease: Duration,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<J>, ApiError> {
    let sql = claim_sql::<J>(conn);
    write_tx(conn, |c| {
        let mut jobs: Vec<J> = diesel::sql_query(sql)
            .bind::<Text, _>(worker)
            .bind::<Timestamp, _>(now + lease)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c)?;
        jobs.sort_by(|a, b| (a.next_attempt_at(), a.id()).cmp(&(b.next_attempt_at(), b.id())));
        Ok(jobs)
    })
}

/// Records an attempt, if `worker` still holds the job's lease: delivered, pending again after
/// the backoff, or dead once the attempts are spent; then the kind's own records, in the same
/// transaction.
pub fn settle<J: Job>(
    conn: &mut DbConn,
    config: &Config,
    job: &J,
    worker: &str,
    attempt: &Attempt<J::Report>,
) -> Result<Settled, ApiError> {
    let policy = J::policy(config);
    let attempts = job.attempts() + 1;
    let settled = match &attempt.result {
        Ok(()) => Settled::Delivered,
        Err(f) if f.permanent || attempts >= policy.max_attempts => Settled::Dead,
        Err(_) => Settled::Retry,
    };
    let (status, next) = match settled {
        Settled::Delivered => (J::DELIVERED, job.next_attempt_at()),
        Settled::Dead => (J::DEAD, job.next_attempt_at()),
        _ => (
            PENDING,
            config.clock.naive() + backoff(policy.retry_base_ms, attempts),
        ),
    };
    let error = attempt.error();
    let sql = format!(
        "UPDATE {t} SET status = $1, attempts = attempts + 1, next_attempt_at = $2, \
         lease_owner = NULL, lease_until = NULL, last_error = $3 \
         WHERE id = $4 AND lease_owner = $5 AND status = '{PENDING}'",
        t = J::TABLE
    );
    let sql = for_backend(conn, sql);
    write_tx(conn, |c| {
        let n = diesel::sql_query(sql)
            .bind::<Text, _>(status)
            .bind::<Timestamp, _>(next)
            .bind::<Nullable<Text>, _>(error)
            .bind::<Text, _>(job.id())
            .bind::<Text, _>(worker)
            .execute(c)?;
        if n == 0 {
            return Ok(Settled::LeaseLost);
        }
        job.on_settled(c, config, attempt, settled)?;
        Ok(settled)
    })
}

/// Settles several attempts in one transaction (one commit per round, not per job). On an
/// error nothing is recorded and the jobs are attempted again once their leases expire.
pub fn settle_all<J: Job>(
    conn: &mut DbConn,
    config: &Config,
    items: &[(J, Attempt<J::Report>)],
    worker: &str,
) -> Result<Vec<Settled>, ApiError> {
    write_tx(conn, |c| {
        items
            .iter()
            .map(|(job, attempt)| settle(c, config, job, worker, attempt))
            .collect()
    })
}

/// Gives a leased job back untouched (shutdown, or no capacity to attempt it now).
pub fn release<J: Job>(conn: &mut DbConn, id: &str, worker: &str) -> Result<(), ApiError> {
    let sql = format!(
        "UPDATE {t} SET lease_owner = NULL, lease_until = NULL \
         WHERE id = $1 AND lease_owner = $2",
        t = J::TABLE
    );
    let sql = for_backend(conn, sql);
    diesel::sql_query(sql)
        .bind::<Text, _>(id)
        .bind::<Text, _>(worker)
        .execute(conn)?;
    Ok(())
}

/// Which jobs a re-queue takes, and with what attempt budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Only a dead job, with a fresh attempt budget (an admin's retry of dead mail).
    DeadAfresh,
    /// A job in any state, its attempts kept: a pending one is due at once, a dead one gets one
    /// more attempt (a partner app's "send it again now").
    DueNow,
}

/// Makes a job pending and due at `now`. False when `which` does not take it, or no such job.
pub fn requeue<J: Job>(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    which: Requeue,
) -> Result<bool, ApiError> {
    let (t, dead) = (J::TABLE, J::DEAD);
    let sql = match which {
        Requeue::DeadAfresh => format!(
            "UPDATE {t} SET status = '{PENDING}', attempts = 0, next_attempt_at = $1 \
             WHERE id = $2 AND status = '{dead}'"
        ),
        Requeue::DueNow => {
            format!("UPDATE {t} SET status = '{PENDING}', next_attempt_at = $1 WHERE id = $2")
        }
    };
    let sql = for_backend(conn, sql);
    let n = diesel::sql_query(sql)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(id)
        .execute(conn)?;
    Ok(n == 1)
}

/// Where a job is in its life, as the admin view lists it across kinds (each kind stores
/// its own word for it: [`Job::DELIVERED`], [`Job::DEAD`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// Delivered.
    Delivered,
    /// In the dead-letter state.
    Dead,
}

impl State {
    /// The word kind `J` stores for this state.
    pub fn word<J: Job>(self) -> &'static str {
        match self {
            State::Pending => PENDING,
            State::Delivered => J::DELIVERED,
            State::Dead => J::DEAD,
        }
    }

    /// The state a word of kind `J` stands for.
    pub fn of<J: Job>(word: &str) -> Option<State> {
        [State::Pending, State::Delivered, State::Dead]
            .into_iter()
            .find(|s| s.word::<J>() == word)
    }
}

/// A place in a newest-first list of jobs: the creation time and id of the last one read.
pub type After = (NaiveDateTime, String);

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Up to `limit` jobs of kind `J` in `state` (any state when `None`), newest first (by
/// creation, then id), after `after`; and how many jobs are in `state` in all. The kind's
/// table has a `created_at` column.
pub fn newest<J: Job>(
    conn: &mut DbConn,
    state: Option<State>,
    after: Option<&After>,
    limit: i64,
) -> Result<(Vec<J>, i64), ApiError> {
    let t = J::TABLE;
    let status = state.map(State::word::<J>);
    let (at, id) = after.cloned().unzip();
    let list = for_backend(
        conn,
        format!(
            "SELECT * FROM {t} WHERE ($1 IS NULL OR status = $1) \
             AND ($2 IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3)) \
             ORDER BY created_at DESC, id DESC LIMIT $4"
        ),
    );
    let count = for_backend(
        conn,
        format!("SELECT COUNT(*) AS n FROM {t} WHERE ($1 IS NULL OR status = $1)"),
    );
    let jobs: Vec<J> = diesel::sql_query(list)
        .bind::<Nullable<Text>, _>(status)
        .bind::<Nullable<Timestamp>, _>(at)
        .bind::<Nullable<Text>, _>(id)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
    let total = diesel::sql_query(count)
        .bind::<Nullable<Text>, _>(status)
        .get_result::<Count>(conn)?
        .n;
    Ok((jobs, total))
}

/// Re-queues a dead job with a fresh attempt budget (an admin's retry): `None` when there is
/// no such job, else whether it was dead (and so is pending again).
pub fn retry_dead<J: Job>(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<bool>, ApiError> {
    if requeue::<J>(conn, id, now, Requeue::DeadAfresh)? {
        return Ok(Some(true));
    }
    let sql = for_backend(
        conn,
        format!("SELECT COUNT(*) AS n FROM {} WHERE id = $1", J::TABLE),
    );
    let found = diesel::sql_query(sql)
        .bind::<Text, _>(id)
        .get_result::<Count>(conn)?
        .n;
    Ok((found > 0).then_some(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_retry_waits_about_twice_as_long_as_the_one_before() {
        for attempt in 1..=5 {
            let exp = 100 * (1 << (attempt - 1));
            let d = backoff(100, attempt).num_milliseconds();
            assert!(d >= exp && d < exp + exp / 4 + 1, "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn a_lease_outlives_two_attempts() {
        let l = lease(std::time::Duration::from_secs(10));
        assert_eq!(l.num_seconds(), 25);
    }
}

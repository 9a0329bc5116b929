//! The outbox steps the dispatcher takes: claim due deliveries under a lease (FOR UPDATE SKIP
//! LOCKED on PostgreSQL), record each attempt, schedule the next one with backoff, or give up,
//! disable the subscription and tell the admins. No HTTP here.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::Serialize;

use super::model::*;
use crate::audit::Actor;
use crate::command::{self, Ctx, Message};
use crate::config::Config;
use crate::db::schema::{
    api_clients, organisations, webhook_attempts, webhook_deliveries, webhook_subscriptions,
};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;
use crate::notify::Kind;
use crate::notify::matrix::{Event, Parties};

/// Claims up to `limit` due deliveries of enabled subscriptions of unrevoked apps for `worker`. A delivery
/// waits while an earlier one of the same resource and subscription is pending, so each
/// receiver sees a resource's events in order. PostgreSQL skips rows other workers lock.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    lease: Duration,
    limit: i64,
    now: NaiveDateTime,
) -> Result<Vec<DeliveryRow>, ApiError> {
    let (pg, lite) = (
        "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2 WHERE id IN (\
           SELECT d.id FROM webhook_deliveries d \
           JOIN webhook_subscriptions s ON s.id = d.subscription_id \
           JOIN api_clients a ON a.id = s.api_client_id AND a.revoked_at IS NULL \
           WHERE d.status = 'pending' AND d.next_attempt_at <= $3 \
           AND (d.lease_until IS NULL OR d.lease_until < $3) AND s.enabled \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
             WHERE e.subscription_id = d.subscription_id AND e.resource_key = d.resource_key \
             AND e.status = 'pending' AND e.id < d.id) \
           ORDER BY d.next_attempt_at, d.id LIMIT $4 FOR UPDATE OF d SKIP LOCKED) RETURNING *",
        "UPDATE webhook_deliveries SET lease_owner = ?1, lease_until = ?2 WHERE id IN (\
           SELECT d.id FROM webhook_deliveries d \
           JOIN webhook_subscriptions s ON s.id = d.subscription_id \
           JOIN api_clients a ON a.id = s.api_client_id AND a.revoked_at IS NULL \
           WHERE d.status = 'pending' AND d.next_attempt_at <= ?3 \
           AND (d.lease_until IS NULL OR d.lease_until < ?3) AND s.enabled \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
             WHERE e.subscription_id = d.subscription_id AND e.resource_key = d.resource_key \
             AND e.status = 'pending' AND e.id < d.id) \
           ORDER BY d.next_attempt_at, d.id LIMIT ?4) RETURNING *",
    );
    let sql = match conn {
        DbConn::Pg(_) => pg,
        DbConn::Sqlite(_) => lite,
    };
    write_tx(conn, |c| {
        let mut rows: Vec<DeliveryRow> = diesel::sql_query(sql)
            .bind::<Text, _>(worker)
            .bind::<Timestamp, _>(now + lease)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c)?;
        rows.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(rows)
    })
}

/// The subscriptions of claimed deliveries.
pub fn subscriptions(conn: &mut DbConn, ids: &[String]) -> Result<Vec<SubscriptionRow>, ApiError> {
    Ok(webhook_subscriptions::table
        .filter(webhook_subscriptions::id.eq_any(ids))
        .select(SubscriptionRow::as_select())
        .load(conn)?)
}

/// What one attempt gave.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// When it started.
    pub at: NaiveDateTime,
    /// HTTP status, if an answer came.
    pub status: Option<u16>,
    /// Error text (connection, timeout, refusal, non-2xx).
    pub error: Option<String>,
    /// Start of the answer.
    pub body: Option<String>,
    /// Duration.
    pub duration_ms: i64,
}

impl Outcome {
    /// A 2xx answer.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What became of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// 2xx.
    Delivered,
    /// Will be retried.
    Retry,
    /// Gave up (attempts exhausted or 410); the subscription was disabled.
    Failed,
    /// The lease was lost meanwhile; another worker owns the row.
    LeaseLost,
}

/// Delay before retry `attempt` (1-based): base · 2^(attempt−1), plus up to 25 % jitter.
pub fn backoff(base_ms: i64, attempt: i32) -> Duration {
    crate::notify::service::backoff(base_ms, attempt)
}

/// Records an attempt and settles the delivery: delivered, retried later, or failed for good.
/// A 410 Gone, or a delivery failing for good, disables the subscription.
pub fn settle(
    conn: &mut DbConn,
    config: &Config,
    row: &DeliveryRow,
    worker: &str,
    o: &Outcome,
) -> Result<Settled, ApiError> {
    let attempts = row.attempts + 1;
    let gone = o.status == Some(410);
    let settled = if o.ok() {
        Settled::Delivered
    } else if gone || attempts >= config.webhooks.max_attempts {
        Settled::Failed
    } else {
        Settled::Retry
    };
    let status = match settled {
        Settled::Delivered => DeliveryStatus::Delivered,
        Settled::Failed => DeliveryStatus::Failed,
        _ => DeliveryStatus::Pending,
    };
    let error: Option<String> = o.error.as_ref().map(|e| e.chars().take(2000).collect());
    let next = o.at + backoff(config.webhooks.retry_base_ms, attempts);
    write_tx(conn, |c| {
        let n = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(&row.id))
                .filter(webhook_deliveries::lease_owner.eq(worker))
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending)),
        )
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::lease_owner.eq(None::<String>),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::last_status_code.eq(o.status.map(i32::from)),
            webhook_deliveries::last_error.eq(&error),
            webhook_deliveries::last_attempt_at.eq(Some(o.at)),
            webhook_deliveries::delivered_at
                .eq((settled == Settled::Delivered).then_some(config.clock.naive())),
        ))
        .execute(c)?;
        if n == 0 {
            return Ok(Settled::LeaseLost);
        }
        diesel::insert_into(webhook_attempts::table)
            .values(&AttemptRow {
                id: uuid::Uuid::now_v7().to_string(),
                delivery_id: row.id.clone(),
                attempted_at: o.at,
                status_code: o.status.map(i32::from),
                error: error.clone(),
                response_body: o.body.clone(),
                duration_ms: o.duration_ms,
            })
            .execute(c)?;
        let sub = webhook_subscriptions::table.find(&row.subscription_id);
        match settled {
            Settled::Delivered => {
                diesel::update(sub.filter(webhook_subscriptions::consecutive_failures.ne(0)))
                    .set(webhook_subscriptions::consecutive_failures.eq(0))
                    .execute(c)?;
            }
            Settled::Failed => {
                let reason = if gone {
                    "The receiver answered 410 Gone.".to_string()
                } else {
                    format!("A delivery failed {attempts} times over several days.")
                };
                let meta = crate::auth::principal::RequestMeta::default();
                command::run(c, config, &Actor::System, &meta, |ctx| {
                    disable(ctx, &row.subscription_id, reason)
                })?;
            }
            _ => {}
        }
        Ok(settled)
    })
}

/// Settles the outcomes of several attempts in one transaction (one commit per round, not
/// per delivery). On an error nothing is recorded and the rows are retried once their
/// leases expire, with the same `webhook-id`.
pub fn settle_all(
    conn: &mut DbConn,
    config: &Config,
    items: &[(DeliveryRow, Outcome)],
    worker: &str,
) -> Result<Vec<Settled>, ApiError> {
    write_tx(conn, |c| {
        items
            .iter()
            .map(|(row, o)| settle(c, config, row, worker, o))
            .collect()
    })
}

/// The email to every active admin that a partner app's subscription was disabled.
#[derive(Debug, Serialize)]
struct SubscriptionDisabled {
    /// The organisation of the partner app.
    organisation_name: String,
    /// Where deliveries went.
    webhook_url: String,
    /// Why it was disabled.
    reason: String,
}

impl Message for SubscriptionDisabled {
    const KIND: Kind = Kind::WebhookDisabled;
}

/// Disables a subscription whose receiver is gone or failing, audits it and tells the admins.
fn disable(ctx: &mut Ctx<'_>, id: &str, reason: String) -> Result<(), ApiError> {
    let before: SubscriptionRow = webhook_subscriptions::table
        .find(id)
        .select(SubscriptionRow::as_select())
        .first(ctx.conn)?;
    let mut after = before.clone();
    after.enabled = false;
    after.disabled_reason = Some(reason.clone());
    after.consecutive_failures += 1;
    after.updated_at = ctx.now;
    diesel::update(webhook_subscriptions::table.find(id))
        .set((
            webhook_subscriptions::enabled.eq(false),
            webhook_subscriptions::disabled_reason.eq(Some(&reason)),
            webhook_subscriptions::consecutive_failures
                .eq(webhook_subscriptions::consecutive_failures + 1),
            webhook_subscriptions::updated_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    let organisation_name: String = api_clients::table
        .inner_join(organisations::table)
        .filter(api_clients::id.eq(&before.api_client_id))
        .select(organisations::name)
        .first(ctx.conn)?;
    let webhook_url = before.url.clone();
    ctx.audit(
        "disabled",
        Some(&Subscription::at(before, ctx.now)),
        Some(&Subscription::at(after, ctx.now)),
    )?;
    let msg = SubscriptionDisabled {
        organisation_name,
        webhook_url,
        reason,
    };
    ctx.tell(Event::WebhookDisabled, &Parties::default(), &msg)?;
    Ok(())
}

/// Gives a leased delivery back untouched (shutdown before sending).
pub fn release(conn: &mut DbConn, id: &str, worker: &str) -> Result<(), ApiError> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::lease_owner.eq(worker)),
    )
    .set((
        webhook_deliveries::lease_owner.eq(None::<String>),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

/// Forgets receivers' answers older than the retention period.
pub fn prune(conn: &mut DbConn, days: i64, now: NaiveDateTime) -> Result<usize, ApiError> {
    let cutoff = now - Duration::days(days);
    Ok(diesel::update(
        webhook_attempts::table
            .filter(webhook_attempts::attempted_at.lt(cutoff))
            .filter(webhook_attempts::response_body.is_not_null()),
    )
    .set(webhook_attempts::response_body.eq(None::<String>))
    .execute(conn)?)
}

/// Deliveries by status, for the metrics gauges.
pub fn counts(conn: &mut DbConn) -> Result<Vec<(String, i64)>, ApiError> {
    Ok(webhook_deliveries::table
        .group_by(webhook_deliveries::status)
        .select((webhook_deliveries::status, diesel::dsl::count_star()))
        .load(conn)?)
}

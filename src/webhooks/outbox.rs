//! Webhook deliveries as jobs on the one queue (`crate::queue`): which are due, what an
//! attempt records (the receiver's answer), and what giving up does (disable the subscription
//! and tell the admins). No HTTP here.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::model::*;
use crate::audit::Actor;
use crate::command::{self, Ctx, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{
    api_clients, organisations, webhook_attempts, webhook_deliveries, webhook_subscriptions,
};
use crate::error::ApiError;
use crate::notify::Kind;
use crate::notify::matrix::{Event, Parties};
use crate::queue::{Attempt, Job, Policy, Settled};

/// The subscriptions of claimed deliveries.
pub fn subscriptions(conn: &mut DbConn, ids: &[String]) -> Result<Vec<SubscriptionRow>, ApiError> {
    Ok(webhook_subscriptions::table
        .filter(webhook_subscriptions::id.eq_any(ids))
        .select(SubscriptionRow::as_select())
        .load(conn)?)
}

/// What a receiver answered to one attempt.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// HTTP status, if an answer came.
    pub status: Option<u16>,
    /// Start of the answer.
    pub body: Option<String>,
    /// Duration.
    pub duration_ms: i64,
}

/// A webhook delivery is a kind of job on the one queue. It is claimed only while its
/// subscription is enabled and its app unrevoked, and only after every earlier pending
/// delivery of the same resource to the same subscription, so each receiver sees a
/// resource's events in order. A 410 Gone is dead at once; dead disables the subscription.
impl Job for DeliveryRow {
    const TABLE: &'static str = "webhook_deliveries";
    const JOINS: &'static str = " JOIN webhook_subscriptions s ON s.id = d.subscription_id \
        JOIN api_clients a ON a.id = s.api_client_id AND a.revoked_at IS NULL";
    const ELIGIBLE: &'static str = " AND s.enabled AND NOT EXISTS (\
        SELECT 1 FROM webhook_deliveries e \
        WHERE e.subscription_id = d.subscription_id AND e.resource_key = d.resource_key \
        AND e.status = 'pending' AND e.id < d.id)";
    const DELIVERED: &'static str = DeliveryStatus::Delivered.as_str();
    const DEAD: &'static str = DeliveryStatus::Failed.as_str();
    type Report = Answer;

    crate::queue::job_columns!();

    fn policy(config: &Config) -> Policy {
        Policy {
            max_attempts: config.webhooks.max_attempts,
            retry_base_ms: config.webhooks.retry_base_ms,
        }
    }

    /// Logs the attempt with the receiver's answer; a delivery resets the subscription's
    /// failure count, a dead one disables the subscription and tells the admins.
    fn on_settled(
        &self,
        conn: &mut DbConn,
        config: &Config,
        attempt: &Attempt<Answer>,
        settled: Settled,
    ) -> Result<(), ApiError> {
        let answer = &attempt.report;
        let error = attempt.error();
        diesel::update(webhook_deliveries::table.find(&self.id))
            .set((
                webhook_deliveries::last_status_code.eq(answer.status.map(i32::from)),
                webhook_deliveries::last_attempt_at.eq(Some(attempt.at)),
                webhook_deliveries::delivered_at
                    .eq((settled == Settled::Delivered).then_some(config.clock.naive())),
            ))
            .execute(conn)?;
        diesel::insert_into(webhook_attempts::table)
            .values(&AttemptRow {
                id: uuid::Uuid::now_v7().to_string(),
                delivery_id: self.id.clone(),
                attempted_at: attempt.at,
                status_code: answer.status.map(i32::from),
                error,
                response_body: answer.body.clone(),
                duration_ms: answer.duration_ms,
            })
            .execute(conn)?;
        let sub = webhook_subscriptions::table.find(&self.subscription_id);
        match settled {
            Settled::Delivered => {
                diesel::update(sub.filter(webhook_subscriptions::consecutive_failures.ne(0)))
                    .set(webhook_subscriptions::consecutive_failures.eq(0))
                    .execute(conn)?;
            }
            Settled::Dead => {
                let reason = if answer.status == Some(410) {
                    "The receiver answered 410 Gone.".to_string()
                } else {
                    format!(
                        "A delivery failed {} times over several days.",
                        self.attempts + 1
                    )
                };
                let meta = crate::auth::principal::RequestMeta::default();
                command::run(conn, config, &Actor::System, &meta, |ctx| {
                    disable(ctx, &self.subscription_id, reason)
                })?;
            }
            Settled::Retry | Settled::LeaseLost => {}
        }
        Ok(())
    }
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

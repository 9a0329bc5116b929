//! Subscription rules (who manages which, URL checks, secrets and their rotation) and the
//! delivery log with retry and replay. The dispatcher's steps are in `outbox.rs`. No HTTP here.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::events::{self, body};
use super::model::*;
use super::sign;
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role, Scope};
use crate::command::{self, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{
    api_clients, audit_events, webhook_attempts, webhook_deliveries, webhook_subscriptions,
};
use crate::error::{ApiError, FieldError, no_field_errors};
use crate::pagination::{self, Page};
use crate::queue::{self, Requeue};

/// Characters of a receiver's answer kept in the log.
pub const RESPONSE_BODY_KEEP: usize = 4096;
/// Most deliveries one replay queues.
pub const REPLAY_MAX: i64 = 10_000;

/// Whose subscriptions the caller manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    /// An admin: every subscription.
    Admin,
    /// A partner app with `webhooks:manage`: its own (its api_clients.id).
    App(String),
}

impl Manager {
    /// The caller's standing: admins and apps with `webhooks:manage`; anyone else 403.
    pub fn of(who: &Principal) -> Result<Self, ApiError> {
        match who {
            Principal::Client(c) if who.has_scope(Scope::WebhooksManage) => {
                Ok(Manager::App(c.id.clone()))
            }
            Principal::Client(_) => Err(ApiError::Forbidden(
                "This needs the webhooks:manage scope.".into(),
            )),
            Principal::User(u) if u.role == Role::Admin => Ok(Manager::Admin),
            Principal::User(_) => Err(ApiError::Forbidden(
                "Webhooks are managed by partner apps (webhooks:manage) and admins.".into(),
            )),
        }
    }
}

/// A subscription the caller manages; another app's is 404.
pub fn owned(conn: &mut DbConn, who: &Manager, id: &str) -> Result<SubscriptionRow, ApiError> {
    let row: SubscriptionRow = webhook_subscriptions::table
        .find(id)
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    match who {
        Manager::App(app) if *app != row.api_client_id => Err(ApiError::NotFound),
        _ => Ok(row),
    }
}

/// 409 `subscription_disabled` for a disabled subscription: nothing is sent to it, so nothing
/// is queued for it again until it is enabled.
pub fn ensure_enabled(sub: &SubscriptionRow) -> Result<(), ApiError> {
    if sub.enabled {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: crate::error::ConflictCode::SubscriptionDisabled,
        detail: "Enable the subscription first (PATCH enabled=true).".into(),
    })
}

/// Checks a destination URL: absolute http(s) with a host, https unless http is allowed.
pub fn check_url(errors: &mut Vec<FieldError>, config: &Config, url: &str) -> String {
    let url = url.trim().to_string();
    let parsed = reqwest::Url::parse(&url);
    match parsed {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty())
                && url.len() <= 2000
                && u.username().is_empty()
                && u.password().is_none() =>
        {
            if u.scheme() == "http" && !config.webhooks.allow_http {
                errors.push(FieldError::new(
                    "url",
                    "https_required",
                    "Use an https:// URL (http is accepted only in development or with WEBHOOK_ALLOW_HTTP).",
                ));
            }
        }
        _ => errors.push(FieldError::new(
            "url",
            "invalid",
            "Use an absolute http(s) URL with a host and no credentials, up to 2,000 characters.",
        )),
    }
    url
}

fn check_events(errors: &mut Vec<FieldError>, events: &[EventType]) -> Vec<EventType> {
    let mut out: Vec<EventType> = Vec::new();
    for e in events {
        if !out.contains(e) {
            out.push(*e);
        }
    }
    if out.is_empty() {
        errors.push(FieldError::new(
            "events",
            "required",
            "Subscribe to at least one event type.",
        ));
    }
    out
}

fn check_description(errors: &mut Vec<FieldError>, d: Option<String>) -> Option<String> {
    let d = d.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if d.as_ref()
        .is_some_and(|s| s.chars().count() > 500 || s.chars().any(char::is_control))
    {
        errors.push(FieldError::new(
            "description",
            "invalid_length",
            "Use at most 500 characters, without control characters.",
        ));
    }
    d
}

/// Whose subscription it is: a partner app subscribes for itself; an admin names the app.
fn check_owner(
    errors: &mut Vec<FieldError>,
    manager: &Manager,
    api_client_id: Option<String>,
) -> Option<String> {
    match (manager, api_client_id) {
        (Manager::App(app), None) => Some(app.clone()),
        (Manager::App(_), Some(_)) => {
            errors.push(FieldError::new(
                "api_client_id",
                "not_allowed",
                "A partner app subscribes for itself; leave api_client_id out.",
            ));
            None
        }
        (Manager::Admin, Some(id)) => Some(id),
        (Manager::Admin, None) => {
            errors.push(FieldError::new(
                "api_client_id",
                "required",
                "Name the partner app (api_clients id) the subscription belongs to.",
            ));
            None
        }
    }
}

/// Creates a subscription and queues its `ping`. The secret is returned this once.
pub fn create(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    req: NewSubscription,
) -> Result<CreatedSubscription, ApiError> {
    let manager = Manager::of(who)?;
    let mut errors = Vec::new();
    let url = check_url(&mut errors, config, &req.url);
    let events = check_events(&mut errors, &req.events);
    let description = check_description(&mut errors, req.description);
    let owner = check_owner(&mut errors, &manager, req.api_client_id);
    command::run(conn, config, who, meta, |ctx| {
        if let (Manager::Admin, Some(id)) = (&manager, &owner) {
            let live: Option<Option<NaiveDateTime>> = api_clients::table
                .find(id)
                .select(api_clients::revoked_at)
                .first(ctx.conn)
                .optional()?;
            if !matches!(live, Some(None)) {
                errors.push(FieldError::new(
                    "api_client_id",
                    "unknown",
                    "No active partner app has this id.",
                ));
            }
        }
        no_field_errors(std::mem::take(&mut errors))?;
        let owner = owner
            .clone()
            .ok_or_else(|| ApiError::internal("owner missing"))?;
        let row = SubscriptionRow {
            id: uuid::Uuid::now_v7().to_string(),
            api_client_id: owner,
            url: url.clone(),
            events: events_to_text(&events),
            description: description.clone(),
            enabled: req.enabled.unwrap_or(true),
            disabled_reason: None,
            secret: sign::new_secret(),
            previous_secret: None,
            previous_secret_until: None,
            consecutive_failures: 0,
            created_at: ctx.now,
            updated_at: ctx.now,
            version: 1,
        };
        diesel::insert_into(webhook_subscriptions::table)
            .values(&row)
            .execute(ctx.conn)?;
        let ping = serde_json::json!({ "subscription_id": row.id });
        events::enqueue(
            ctx.conn,
            ctx.now,
            &row.id,
            EventType::Ping,
            &format!("subscription:{}", row.id),
            &body(EventType::Ping, ctx.now, &ping),
            None,
        )?;
        let secret = row.secret.clone();
        let subscription = Subscription::at(row, ctx.now);
        ctx.audit("created", None, Some(&subscription))?;
        Ok(CreatedSubscription {
            secret,
            subscription,
        })
    })
}

/// The caller's subscriptions (all of them for admins), oldest first.
pub fn list(
    conn: &mut DbConn,
    who: &Principal,
    limit: i64,
    cursor: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<Page<Subscription>, ApiError> {
    let manager = Manager::of(who)?;
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = webhook_subscriptions::table
        .select(SubscriptionRow::as_select())
        .order(webhook_subscriptions::id.asc())
        .limit(limit + 1)
        .into_boxed();
    let mut count = webhook_subscriptions::table.count().into_boxed();
    if let Manager::App(app) = &manager {
        q = q.filter(webhook_subscriptions::api_client_id.eq(app.clone()));
        count = count.filter(webhook_subscriptions::api_client_id.eq(app.clone()));
    }
    if let Some(a) = after {
        q = q.filter(webhook_subscriptions::id.gt(a[0].clone()));
    }
    let mut rows: Vec<SubscriptionRow> = q.load(conn)?;
    let total: i64 = count.get_result(conn)?;
    let next_cursor = crate::pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: rows.into_iter().map(|r| Subscription::at(r, now)).collect(),
        next_cursor,
        total,
    })
}

/// One subscription.
pub fn get(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
    now: chrono::NaiveDateTime,
) -> Result<Subscription, ApiError> {
    let manager = Manager::of(who)?;
    Ok(Subscription::at(owned(conn, &manager, id)?, now))
}

/// Applies a merge patch.
pub fn update(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    patch: SubscriptionPatch,
) -> Result<Subscription, ApiError> {
    let manager = Manager::of(who)?;
    command::run(conn, config, who, meta, |ctx| {
        let before = owned(ctx.conn, &manager, id)?;
        let mut after = before.clone();
        let mut errors = Vec::new();
        if let Some(u) = &patch.url {
            after.url = check_url(&mut errors, config, u);
        }
        if let Some(e) = &patch.events {
            after.events = events_to_text(&check_events(&mut errors, e));
        }
        if let Some(d) = patch.description.clone() {
            after.description = check_description(&mut errors, d);
        }
        if let Some(e) = patch.enabled {
            after.enabled = e;
            if e {
                after.disabled_reason = None;
                after.consecutive_failures = 0;
            }
        }
        no_field_errors(errors)?;
        after.updated_at = ctx.now;
        after.version += 1;
        diesel::update(webhook_subscriptions::table.find(id))
            .set((
                webhook_subscriptions::url.eq(&after.url),
                webhook_subscriptions::events.eq(&after.events),
                webhook_subscriptions::description.eq(&after.description),
                webhook_subscriptions::enabled.eq(after.enabled),
                webhook_subscriptions::disabled_reason.eq(&after.disabled_reason),
                webhook_subscriptions::consecutive_failures.eq(after.consecutive_failures),
                webhook_subscriptions::updated_at.eq(after.updated_at),
                webhook_subscriptions::version.eq(webhook_subscriptions::version + 1),
            ))
            .execute(ctx.conn)?;
        let after = Subscription::at(after, ctx.now);
        ctx.audit(
            "updated",
            Some(&Subscription::at(before, ctx.now)),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// Deletes a subscription with its deliveries and their log.
pub fn delete(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<(), ApiError> {
    let manager = Manager::of(who)?;
    command::run(conn, config, who, meta, |ctx| {
        let before = owned(ctx.conn, &manager, id)?;
        let c = &mut *ctx.conn;
        // Explicit deletes: no reliance on ON DELETE CASCADE being enabled.
        let deliveries = webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(id))
            .select(webhook_deliveries::id);
        diesel::delete(
            webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(deliveries)),
        )
        .execute(c)?;
        diesel::delete(
            webhook_deliveries::table.filter(webhook_deliveries::subscription_id.eq(id)),
        )
        .execute(c)?;
        diesel::delete(webhook_subscriptions::table.find(id)).execute(c)?;
        ctx.audit("deleted", Some(&Subscription::at(before, ctx.now)), None)
    })
}

/// Replaces the secret; the old one keeps signing for `WEBHOOK_ROTATION_WINDOW_SECS`.
pub fn rotate_secret(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<RotatedSecret, ApiError> {
    let manager = Manager::of(who)?;
    command::run(conn, config, who, meta, |ctx| {
        let before = owned(ctx.conn, &manager, id)?;
        let secret = sign::new_secret();
        let window = config.webhooks.rotation_window_secs;
        let until = (window > 0).then(|| ctx.now + Duration::seconds(window));
        diesel::update(webhook_subscriptions::table.find(id))
            .set((
                webhook_subscriptions::secret.eq(&secret),
                webhook_subscriptions::previous_secret.eq(until.map(|_| before.secret.clone())),
                webhook_subscriptions::previous_secret_until.eq(until),
                webhook_subscriptions::updated_at.eq(ctx.now),
                webhook_subscriptions::version.eq(webhook_subscriptions::version + 1),
            ))
            .execute(ctx.conn)?;
        // The secrets are never in the trail: the views before and after show the new
        // version and when the old secret stops signing.
        let mut after = before.clone();
        after.previous_secret = until.map(|_| before.secret.clone());
        after.previous_secret_until = until;
        after.updated_at = ctx.now;
        after.version += 1;
        let after = Subscription::at(after, ctx.now);
        ctx.audit(
            "secret_rotated",
            Some(&Subscription::at(before, ctx.now)),
            Some(&after),
        )?;
        Ok(RotatedSecret {
            secret,
            previous_secret_valid_until: until.map(crate::kit::rfc3339),
        })
    })
}

fn attempts_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .order((
            webhook_attempts::attempted_at.asc(),
            webhook_attempts::id.asc(),
        ))
        .select(AttemptRow::as_select())
        .load(conn)
}

fn with_attempts(conn: &mut DbConn, rows: Vec<DeliveryRow>) -> QueryResult<Vec<Delivery>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut attempts = attempts_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                attempts.drain(..).partition(|a| a.delivery_id == r.id);
            attempts = rest;
            Delivery::new(r, mine)
        })
        .collect())
}

/// The delivery log of a subscription, newest first, each with its attempts.
pub fn deliveries(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
    status: Option<DeliveryStatus>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Delivery>, ApiError> {
    let manager = Manager::of(who)?;
    owned(conn, &manager, id)?;
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(id.to_string()))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(limit + 1)
        .into_boxed();
    let mut count = webhook_deliveries::table
        .filter(webhook_deliveries::subscription_id.eq(id.to_string()))
        .count()
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::status.eq(s));
        count = count.filter(webhook_deliveries::status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(webhook_deliveries::id.lt(a[0].clone()));
    }
    let mut rows: Vec<DeliveryRow> = q.load(conn)?;
    let total: i64 = count.get_result(conn)?;
    let next_cursor = crate::pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: with_attempts(conn, rows)?,
        next_cursor,
        total,
    })
}

/// Sends a delivery again now (same `webhook-id`, same body, signed afresh). A failed one
/// gets one more attempt; a pending one is made due now.
pub fn retry(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    delivery_id: &str,
) -> Result<Delivery, ApiError> {
    let manager = Manager::of(who)?;
    command::run(conn, config, who, meta, |ctx| {
        let sub = owned(ctx.conn, &manager, id)?;
        ensure_enabled(&sub)?;
        let of_subscription: i64 = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id))
            .filter(webhook_deliveries::subscription_id.eq(id))
            .count()
            .get_result(ctx.conn)?;
        if of_subscription == 0
            || !queue::requeue::<DeliveryRow>(ctx.conn, delivery_id, ctx.now, Requeue::DueNow)?
        {
            return Err(ApiError::NotFound);
        }
        let row: DeliveryRow = webhook_deliveries::table
            .find(delivery_id)
            .select(DeliveryRow::as_select())
            .first(ctx.conn)?;
        let after = serde_json::json!({ "delivery_id": delivery_id, "status": row.status });
        ctx.audit_raw(
            "webhook_subscription.delivery_retried",
            "webhook_subscription",
            id,
            None,
            Some(after),
        )?;
        Ok(with_attempts(ctx.conn, vec![row])?.remove(0))
    })
}

/// Queues again every delivery of the subscription recorded at or after `since`, in their
/// original order and with their original `webhook-id`, each rendered through today's
/// partner view: an event whose entity the app may no longer see (an organisation hidden
/// since, a grant no longer published) is not sent again, a grant to a grantee hidden since
/// carries the neutral view, and a fund never its withheld donor. At most
/// `WEBHOOK_REPLAYS_PER_HOUR` replays per subscription in any hour, counted in the audit trail
/// under a lock on the subscription's row, so every instance shares the limit.
pub fn replay(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    since: NaiveDateTime,
) -> Result<ReplayResult, ApiError> {
    let manager = Manager::of(who)?;
    command::run(conn, config, who, meta, |ctx| {
        let sub = owned(ctx.conn, &manager, id)?;
        ensure_enabled(&sub)?;
        check_replay_limit(ctx, id, config.webhooks.replays_per_hour)?;
        let now = ctx.now;
        let c = &mut *ctx.conn;
        let scopes: String = api_clients::table
            .find(&sub.api_client_id)
            .select(api_clients::scopes)
            .first(c)?;
        let scopes = Scope::parse_list(&scopes);
        let wanted = events_from_text(&sub.events);
        let rows: Vec<DeliveryRow> = webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(id))
            .filter(webhook_deliveries::created_at.ge(since))
            .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending))
            .order(webhook_deliveries::id.asc())
            .limit(REPLAY_MAX)
            .select(DeliveryRow::as_select())
            .load(c)?;
        // A message still waiting to go out (from an earlier replay, say) is not queued twice.
        let pending: Vec<String> = webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending))
            .select(webhook_deliveries::message_id)
            .load(c)?;
        let mut seen: std::collections::HashSet<String> = pending.into_iter().collect();
        let mut queued = 0;
        for r in rows {
            // A message replayed before appears once.
            if !seen.insert(r.message_id.clone()) {
                continue;
            }
            let Some(event) = EventType::parse(&r.event_type) else {
                continue;
            };
            if !wanted.contains(&event) && event != EventType::Ping {
                continue;
            }
            let Some(body) =
                events::replayed(c, event, &r.resource_key, &r.body, r.created_at, &scopes)?
            else {
                continue;
            };
            events::enqueue(
                c,
                now,
                id,
                event,
                &r.resource_key,
                &body,
                Some(&r.message_id),
            )?;
            queued += 1;
        }
        let after = serde_json::json!({ "since": crate::kit::rfc3339(since), "queued": queued });
        ctx.audit_raw(REPLAYED, "webhook_subscription", id, None, Some(after))?;
        Ok(ReplayResult { queued })
    })
}

/// The audit action of a replay; the replay limit counts these.
const REPLAYED: &str = "webhook_subscription.replayed";

/// Refuses a replay beyond `per_hour` in the last hour (429 with `Retry-After`: when the
/// oldest of them leaves the window). The no-op update locks the subscription's row first, so
/// concurrent replays of one subscription count one after another on PostgreSQL too.
fn check_replay_limit(ctx: &mut Ctx<'_>, id: &str, per_hour: i64) -> Result<(), ApiError> {
    diesel::update(webhook_subscriptions::table.find(id))
        .set(webhook_subscriptions::version.eq(webhook_subscriptions::version))
        .execute(ctx.conn)?;
    let window = Duration::hours(1);
    let recent: Vec<NaiveDateTime> = audit_events::table
        .filter(audit_events::entity_type.eq("webhook_subscription"))
        .filter(audit_events::entity_id.eq(id))
        .filter(audit_events::action.eq(REPLAYED))
        .filter(audit_events::occurred_at.gt(ctx.now - window))
        .order(audit_events::occurred_at.asc())
        .select(audit_events::occurred_at)
        .load(ctx.conn)?;
    if (recent.len() as i64) < per_hour {
        return Ok(());
    }
    let frees_at = recent[recent.len() - per_hour as usize] + window;
    let wait = (frees_at - ctx.now).num_seconds().max(1);
    Err(ApiError::TooManyRequests(u64::try_from(wait).unwrap_or(1)))
}

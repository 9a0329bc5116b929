//! Webhook rows and the API's request and response types.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_subscriptions};
use crate::kit::rfc3339;

crate::text_enum! {
    /// Where a delivery is in its life.
    pub enum DeliveryStatus {
        /// Waiting for its first attempt or a retry.
        Pending = "pending",
        /// The receiver answered 2xx.
        Delivered = "delivered",
        /// Given up: attempts exhausted or the receiver answered 410.
        Failed = "failed",
    }
}

/// The kinds of event a subscription can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// An organisation appeared in the public directory.
    #[serde(rename = "organisation.created")]
    OrganisationCreated,
    /// A listed organisation's public profile changed.
    #[serde(rename = "organisation.updated")]
    OrganisationUpdated,
    /// An organisation was hidden from the public: forget it (carries its id only).
    #[serde(rename = "organisation.hidden")]
    OrganisationHidden,
    /// A hidden organisation is public again.
    #[serde(rename = "organisation.unhidden")]
    OrganisationUnhidden,
    /// A member's standing changed (it may have left or rejoined the public directory).
    #[serde(rename = "membership.changed")]
    MembershipChanged,
    /// A grant was approved and is now public.
    #[serde(rename = "grant.published")]
    GrantPublished,
    /// A published grant changed.
    #[serde(rename = "grant.updated")]
    GrantUpdated,
    /// A published grant was closed.
    #[serde(rename = "grant.closed")]
    GrantClosed,
    /// A published grant was cancelled.
    #[serde(rename = "grant.cancelled")]
    GrantCancelled,
    /// A fund was created.
    #[serde(rename = "fund.created")]
    FundCreated,
    /// A fund changed.
    #[serde(rename = "fund.updated")]
    FundUpdated,
    /// Sent once when a subscription is created, to check the receiver.
    #[serde(rename = "ping")]
    Ping,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 12] = [
        EventType::OrganisationCreated,
        EventType::OrganisationUpdated,
        EventType::OrganisationHidden,
        EventType::OrganisationUnhidden,
        EventType::MembershipChanged,
        EventType::GrantPublished,
        EventType::GrantUpdated,
        EventType::GrantClosed,
        EventType::GrantCancelled,
        EventType::FundCreated,
        EventType::FundUpdated,
        EventType::Ping,
    ];

    /// Wire name, e.g. `grant.published`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::OrganisationCreated => "organisation.created",
            EventType::OrganisationUpdated => "organisation.updated",
            EventType::OrganisationHidden => "organisation.hidden",
            EventType::OrganisationUnhidden => "organisation.unhidden",
            EventType::MembershipChanged => "membership.changed",
            EventType::GrantPublished => "grant.published",
            EventType::GrantUpdated => "grant.updated",
            EventType::GrantClosed => "grant.closed",
            EventType::GrantCancelled => "grant.cancelled",
            EventType::FundCreated => "fund.created",
            EventType::FundUpdated => "fund.updated",
            EventType::Ping => "ping",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Stored list of event names (space-separated).
pub fn events_to_text(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses the stored list, skipping unknown names.
pub fn events_from_text(s: &str) -> Vec<EventType> {
    s.split_whitespace().filter_map(EventType::parse).collect()
}

/// A subscription row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_subscriptions)]
pub struct SubscriptionRow {
    /// UUID v7.
    pub id: String,
    /// The partner app (api_clients.id) that owns it.
    pub api_client_id: String,
    /// Destination.
    pub url: String,
    /// Event names, space-separated.
    pub events: String,
    /// Free text.
    pub description: Option<String>,
    /// Deliveries are made only while enabled.
    pub enabled: bool,
    /// Why the service disabled it (410 Gone, failures).
    pub disabled_reason: Option<String>,
    /// Current signing secret (`whsec_…`); kept in clear because it signs.
    pub secret: String,
    /// The secret before the last rotation.
    pub previous_secret: Option<String>,
    /// Until then the previous secret signs too.
    pub previous_secret_until: Option<NaiveDateTime>,
    /// Deliveries that failed for good in a row.
    pub consecutive_failures: i32,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Optimistic-concurrency version.
    pub version: i64,
}

impl SubscriptionRow {
    /// The secrets that sign at `now`: the current one, and the previous one in its window.
    pub fn signing_secrets(&self, now: NaiveDateTime) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(prev), Some(until)) = (&self.previous_secret, self.previous_secret_until)
            && until > now
        {
            out.push(prev.as_str());
        }
        out
    }
}

/// A delivery row: one event for one subscription.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    /// UUID v7.
    pub id: String,
    /// The subscription.
    pub subscription_id: String,
    /// The `webhook-id` header: the same on every attempt, retry and replay.
    pub message_id: String,
    /// Event name.
    pub event_type: String,
    /// `kind:id` of the resource; deliveries of one resource go out in order.
    pub resource_key: String,
    /// The exact JSON body sent.
    pub body: String,
    /// pending, delivered or failed.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// Not before this time.
    pub next_attempt_at: NaiveDateTime,
    /// Worker holding the lease.
    pub lease_owner: Option<String>,
    /// Lease expiry.
    pub lease_until: Option<NaiveDateTime>,
    /// HTTP status of the last attempt.
    pub last_status_code: Option<i32>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<NaiveDateTime>,
    /// When a 2xx was received.
    pub delivered_at: Option<NaiveDateTime>,
    /// When the event was recorded.
    pub created_at: NaiveDateTime,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    /// UUID v7.
    pub id: String,
    /// The delivery.
    pub delivery_id: String,
    /// When it started.
    pub attempted_at: NaiveDateTime,
    /// HTTP status received, if any.
    pub status_code: Option<i32>,
    /// Connection error, timeout or refusal.
    pub error: Option<String>,
    /// The start of the receiver's answer (a few KiB, kept for a limited time).
    pub response_body: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: i64,
}

fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Create a subscription.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// Where events are POSTed: https (http only in development or when allowed by settings).
    /// The pattern is a safe subset of what `check_url` accepts: a host name, not an address.
    #[schema(
        example = "https://partner.example.org/hooks/idpc",
        max_length = 2000,
        pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][!-~]*)?$"
    )]
    pub url: String,
    /// Event types to receive (at least one).
    #[schema(min_items = 1)]
    pub events: Vec<EventType>,
    /// Free text on one line, up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub description: Option<String>,
    /// Deliver events (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The partner app that owns it: required from admins, not allowed from partner apps
    /// (theirs is the calling app).
    #[serde(default)]
    pub api_client_id: Option<String>,
}

/// Change a subscription (merge patch: a field left out is kept).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionPatch {
    /// New destination (as on create).
    #[serde(default)]
    #[schema(
        max_length = 2000,
        pattern = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?([/?#][!-~]*)?$"
    )]
    pub url: Option<String>,
    /// New event types (at least one).
    #[serde(default)]
    #[schema(min_items = 1)]
    pub events: Option<Vec<EventType>>,
    /// New description on one line, up to 500 characters; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    pub description: Option<Option<String>>,
    /// Enable or disable; enabling clears the reason the service disabled it.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A subscription as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscription {
    /// UUID v7.
    pub id: String,
    /// The partner app that owns it.
    pub api_client_id: String,
    /// Destination.
    pub url: String,
    /// Event types delivered.
    pub events: Vec<EventType>,
    /// Free text.
    pub description: Option<String>,
    /// Deliveries are made only while enabled.
    pub enabled: bool,
    /// Why the service disabled it (410 Gone from the receiver, or failures for days).
    pub disabled_reason: Option<String>,
    /// While set, the previous secret signs too, until this time (RFC 3339).
    pub previous_secret_valid_until: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl crate::command::Audited for Subscription {
    const ENTITY: &'static str = "webhook_subscription";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

impl Subscription {
    /// The wire form of `r` as of `now` (a previous secret shows only while it still works).
    pub fn at(r: SubscriptionRow, now: chrono::NaiveDateTime) -> Self {
        Self {
            events: events_from_text(&r.events),
            previous_secret_valid_until: r
                .previous_secret_until
                .filter(|t| *t > now && r.previous_secret.is_some())
                .map(rfc3339),
            id: r.id,
            api_client_id: r.api_client_id,
            url: r.url,
            description: r.description,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// A subscription just created, with its secret (shown this once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedSubscription {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: Subscription,
    /// Signing secret, `whsec_` + base64; shown only now.
    pub secret: String,
}

/// A new secret after a rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret, `whsec_` + base64; shown only now.
    pub secret: String,
    /// Until then deliveries carry a signature with the previous secret as well (RFC 3339).
    pub previous_secret_valid_until: Option<String>,
}

/// One attempt in the delivery log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attempt {
    /// When it started (RFC 3339).
    pub attempted_at: String,
    /// HTTP status received; null on a connection error, timeout or refusal.
    pub status_code: Option<i32>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// The start of the receiver's answer (truncated, kept for a limited time).
    pub response_body: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: i64,
}

impl From<AttemptRow> for Attempt {
    fn from(r: AttemptRow) -> Self {
        Self {
            attempted_at: rfc3339(r.attempted_at),
            status_code: r.status_code,
            error: r.error,
            response_body: r.response_body,
            duration_ms: r.duration_ms,
        }
    }
}

/// A delivery in the log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// UUID v7.
    pub id: String,
    /// The `webhook-id` header (the same on every attempt, retry and replay).
    pub message_id: String,
    /// Event type.
    pub event_type: String,
    /// pending, delivered or failed.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i32,
    /// HTTP status of the last attempt.
    pub last_status_code: Option<i32>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
    /// When the last attempt was made (RFC 3339).
    pub last_attempt_at: Option<String>,
    /// When the next attempt is due, while pending (RFC 3339).
    pub next_attempt_at: Option<String>,
    /// When a 2xx answer was received (RFC 3339).
    pub delivered_at: Option<String>,
    /// When the event was recorded (RFC 3339).
    pub created_at: String,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<Attempt>,
}

impl Delivery {
    /// The log entry of a row with its attempts.
    pub fn new(r: DeliveryRow, attempts: Vec<AttemptRow>) -> Self {
        Self {
            next_attempt_at: (r.status == DeliveryStatus::Pending)
                .then(|| rfc3339(r.next_attempt_at)),
            id: r.id,
            message_id: r.message_id,
            event_type: r.event_type,
            status: r.status,
            attempts: r.attempts,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            last_attempt_at: r.last_attempt_at.map(rfc3339),
            delivered_at: r.delivered_at.map(rfc3339),
            created_at: rfc3339(r.created_at),
            attempt_log: attempts.into_iter().map(Attempt::from).collect(),
        }
    }
}

/// What a replay queued.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReplayResult {
    /// Deliveries queued again (with their original `webhook-id`).
    pub queued: i64,
}

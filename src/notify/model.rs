//! Outbox rows and their status.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::outbox;

crate::text_enum! {
    /// Where a message is in its life.
    pub enum OutboxStatus {
        /// Waiting to be sent (or to be retried).
        Pending = "pending",
        /// Accepted by the mail server.
        Sent = "sent",
        /// Gave up after the maximum number of attempts.
        Dead = "dead",
    }
}

/// One outbox row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    /// UUID v7.
    pub id: String,
    /// Message kind (see `templates::Kind`).
    pub kind: String,
    /// Recipient address.
    pub recipient_email: String,
    /// Recipient name.
    pub recipient_name: String,
    /// Rendered subject.
    pub subject: String,
    /// Rendered plain text.
    pub body_text: String,
    /// Rendered HTML.
    pub body_html: String,
    /// Stable Message-ID, the same on every attempt.
    pub message_id: String,
    /// Key that makes an enqueue happen at most once (reminders).
    pub dedupe_key: Option<String>,
    /// pending, sent or dead.
    pub status: OutboxStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// Not before this time.
    pub next_attempt_at: NaiveDateTime,
    /// Worker holding the lease.
    pub lease_owner: Option<String>,
    /// Lease expiry; after it another worker may take the row.
    pub lease_until: Option<NaiveDateTime>,
    /// Last failure.
    pub last_error: Option<String>,
    /// When enqueued.
    pub created_at: NaiveDateTime,
    /// When accepted by the server.
    pub sent_at: Option<NaiveDateTime>,
}

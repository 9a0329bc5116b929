//! Admin API for the one queue (src/queue/): its emails and webhook deliveries, pending, sent
//! or dead, with their attempts and last error; and a dead one re-queued.

use actix_web::{get, post, web};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::caller::Admin;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited};
use crate::db::DbConn;
use crate::db::schema::{outbox, webhook_deliveries};
use crate::error::ApiError;
use crate::error::ConflictCode;
use crate::error::docs::{AuthErrors, ConflictError, NotFoundError, QueryErrors};
use crate::kit::rfc3339;
use crate::notify::{OutboxRow, OutboxStatus};
use crate::pagination::{self, Page};
use crate::queue;
use crate::webhooks::model::DeliveryRow;
use crate::webhooks::service;

crate::text_enum! {
    /// What a job of the one queue delivers.
    pub enum QueueKind {
        /// An email (the outbox).
        Email = "email",
        /// A webhook delivery to a partner app's subscription.
        Webhook = "webhook",
    }
}

/// Filters of the outbox list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// pending, sent or dead (for a webhook delivery, sent is delivered and dead is failed).
    pub status: Option<OutboxStatus>,
    /// Only emails or only webhook deliveries (both when absent).
    pub queue: Option<QueueKind>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// A job of the one queue (an email or a webhook delivery) as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMessage {
    /// Id.
    pub id: String,
    /// email or webhook.
    pub queue: QueueKind,
    /// Message kind, e.g. `invitation`; for a webhook delivery its event, e.g. `grant.published`.
    pub kind: String,
    /// Recipient address (emails only).
    pub recipient_email: Option<String>,
    /// Subject line (emails only).
    pub subject: Option<String>,
    /// The subscription delivered to (webhook deliveries only).
    pub subscription_id: Option<String>,
    /// Message-ID header (for a webhook, `webhook-id`), stable across attempts.
    pub message_id: String,
    /// pending, sent or dead (for a webhook delivery, sent is delivered and dead is failed).
    pub status: OutboxStatus,
    /// Attempts so far.
    pub attempts: i32,
    /// Next attempt (RFC 3339) while pending.
    pub next_attempt_at: String,
    /// The last error, if an attempt failed.
    pub last_error: Option<String>,
    /// Enqueued (RFC 3339).
    pub created_at: String,
    /// Sent (RFC 3339).
    pub sent_at: Option<String>,
}

impl From<OutboxRow> for OutboxMessage {
    fn from(r: OutboxRow) -> Self {
        Self {
            status: r.status,
            id: r.id,
            queue: QueueKind::Email,
            kind: r.kind,
            recipient_email: Some(r.recipient_email),
            subject: Some(r.subject),
            subscription_id: None,
            message_id: r.message_id,
            attempts: r.attempts,
            next_attempt_at: rfc3339(r.next_attempt_at),
            last_error: r.last_error,
            created_at: rfc3339(r.created_at),
            sent_at: r.sent_at.map(rfc3339),
        }
    }
}

impl From<DeliveryRow> for OutboxMessage {
    fn from(r: DeliveryRow) -> Self {
        let status = match queue::State::of::<DeliveryRow>(r.status.as_str()) {
            Some(queue::State::Delivered) => OutboxStatus::Sent,
            Some(queue::State::Dead) => OutboxStatus::Dead,
            _ => OutboxStatus::Pending,
        };
        Self {
            status,
            id: r.id,
            queue: QueueKind::Webhook,
            kind: r.event_type,
            recipient_email: None,
            subject: None,
            subscription_id: Some(r.subscription_id),
            message_id: r.message_id,
            attempts: r.attempts,
            next_attempt_at: rfc3339(r.next_attempt_at),
            last_error: r.last_error,
            created_at: rfc3339(r.created_at),
            sent_at: r.delivered_at.map(rfc3339),
        }
    }
}

/// A listed job with the key the list is ordered by (newest first).
struct Listed {
    at: NaiveDateTime,
    message: OutboxMessage,
}

/// The jobs of kind `J` on one page of the list, with how many there are in all.
fn newest<J>(
    c: &mut DbConn,
    status: Option<OutboxStatus>,
    after: Option<&queue::After>,
    limit: i64,
    created_at: impl Fn(&J) -> NaiveDateTime,
) -> Result<(Vec<Listed>, i64), ApiError>
where
    J: queue::Job + Into<OutboxMessage>,
{
    let state = status.map(|s| match s {
        OutboxStatus::Pending => queue::State::Pending,
        OutboxStatus::Sent => queue::State::Delivered,
        OutboxStatus::Dead => queue::State::Dead,
    });
    let (jobs, total) = queue::newest::<J>(c, state, after, limit + 1)?;
    let listed = jobs
        .into_iter()
        .map(|j| Listed {
            at: created_at(&j),
            message: j.into(),
        })
        .collect();
    Ok((listed, total))
}

/// One page of the queue's jobs of both kinds (or the one asked for), newest first.
fn list(c: &mut DbConn, q: &OutboxQuery, limit: i64) -> Result<Page<OutboxMessage>, ApiError> {
    let bad = || ApiError::field("cursor", "invalid", "cursor is not one this API issued.");
    let after = match pagination::decode_cursor(q.cursor.as_deref(), 2)? {
        Some(parts) => {
            let at = NaiveDateTime::parse_from_str(&parts[0], CURSOR_TIME).map_err(|_| bad())?;
            Some((at, parts[1].clone()))
        }
        None => None,
    };
    let (mut listed, mut total) = (Vec::new(), 0);
    if q.queue != Some(QueueKind::Webhook) {
        let (rows, n) = newest::<OutboxRow>(c, q.status, after.as_ref(), limit, |r| r.created_at)?;
        listed.extend(rows);
        total += n;
    }
    if q.queue != Some(QueueKind::Email) {
        let (rows, n) =
            newest::<DeliveryRow>(c, q.status, after.as_ref(), limit, |r| r.created_at)?;
        listed.extend(rows);
        total += n;
    }
    listed.sort_by(|a, b| (b.at, &b.message.id).cmp(&(a.at, &a.message.id)));
    let next_cursor = pagination::next_page(&mut listed, limit, |l| {
        pagination::encode_cursor(&[&l.at.format(CURSOR_TIME).to_string(), &l.message.id])
    });
    Ok(Page {
        data: listed.into_iter().map(|l| l.message).collect(),
        next_cursor,
        total,
    })
}

/// How a cursor writes the creation time of the last job of a page.
const CURSOR_TIME: &str = "%Y-%m-%dT%H:%M:%S%.f";

/// Gives a dead email or webhook delivery a fresh attempt budget: 404 when there is no such
/// job, 409 when it is not dead (or its subscription is disabled: enable it first).
fn retry_dead(c: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<OutboxMessage, ApiError> {
    if let Some(dead) = queue::retry_dead::<OutboxRow>(c, id, now)? {
        let row: OutboxRow = outbox::table
            .find(id)
            .select(OutboxRow::as_select())
            .first(c)?;
        return if dead {
            Ok(row.into())
        } else {
            Err(not_dead(row.status))
        };
    }
    let row: DeliveryRow = webhook_deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(c)?;
    let sub = service::owned(c, &service::Manager::Admin, &row.subscription_id)?;
    service::ensure_enabled(&sub)?;
    match queue::retry_dead::<DeliveryRow>(c, id, now)? {
        Some(true) => Ok(webhook_deliveries::table
            .find(id)
            .select(DeliveryRow::as_select())
            .first::<DeliveryRow>(c)?
            .into()),
        _ => Err(not_dead(OutboxMessage::from(row).status)),
    }
}

fn not_dead(status: OutboxStatus) -> ApiError {
    ApiError::Conflict {
        code: ConflictCode::OutboxNotDead,
        detail: format!("Only a dead message can be retried; this one is {status}."),
    }
}

/// List the queue's emails and webhook deliveries, newest first (admin).
#[utoipa::path(
    description = "Admins. The one delivery queue: emails and webhook deliveries, newest first, each with its kind, state, attempts, next attempt and last error; one-time links in sent bodies are already scrubbed. Changes nothing.",
    tag = "admin",
    security(("bearer" = [])),
    params(OutboxQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<OutboxMessage>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    _admin: Admin,
    q: web::Query<OutboxQuery>,
) -> Result<web::Json<Page<OutboxMessage>>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let q = q.into_inner();
    let page = state.db(move |c| list(c, &q, limit)).await?;
    Ok(web::Json(page))
}

/// Re-queue a dead email or webhook delivery with a fresh attempt budget (admin).
#[utoipa::path(
    description = "Admins. Gives a dead email or webhook delivery a fresh attempt budget (409 when it is not dead, or when its webhook subscription is disabled); audited.",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Email or webhook delivery id")),
    responses(
        (status = 200, description = "Pending again", body = OutboxMessage),
        AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/admin/outbox/{id}/retry")]
pub async fn retry_outbox(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<OutboxMessage>, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    let row = state
        .db(move |c| {
            command::run(c, &config, &admin, &meta, |ctx| {
                let after = retry_dead(ctx.conn, &id, ctx.now)?;
                ctx.audit("retried", None, Some(&after))?;
                Ok(after)
            })
        })
        .await?;
    Ok(web::Json(row))
}

impl Audited for OutboxMessage {
    const ENTITY: &'static str = "outbox";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

//! Admin API for the outbox: see what is pending, sent or dead, and re-queue dead mail.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::caller::Admin;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited};
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, ConflictError, NotFoundError, QueryErrors};
use crate::kit::rfc3339;
use crate::notify::service;
use crate::notify::{OutboxRow, OutboxStatus};
use crate::pagination::{self, Page};

/// Filters of the outbox list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// pending, sent or dead.
    pub status: Option<OutboxStatus>,
    /// Page size, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
}

/// An outbox message as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxMessage {
    /// Id.
    pub id: String,
    /// Message kind, e.g. `invitation`.
    pub kind: String,
    /// Recipient address.
    pub recipient_email: String,
    /// Subject line.
    pub subject: String,
    /// Message-ID header, stable across attempts.
    pub message_id: String,
    /// pending, sent or dead.
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
            kind: r.kind,
            recipient_email: r.recipient_email,
            subject: r.subject,
            message_id: r.message_id,
            attempts: r.attempts,
            next_attempt_at: rfc3339(r.next_attempt_at),
            last_error: r.last_error,
            created_at: rfc3339(r.created_at),
            sent_at: r.sent_at.map(rfc3339),
        }
    }
}

/// List outbox messages, newest first (admin).
#[utoipa::path(
    description = "Admins. Messages with their delivery state; one-time links in sent bodies are already scrubbed. Changes nothing.",
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
    let (status, cursor) = (q.status, q.cursor.clone());
    let page = state
        .db(move |c| service::list(c, status, limit, cursor.as_deref()))
        .await?;
    Ok(web::Json(Page {
        data: page.data.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

/// Re-queue a dead message with a fresh attempt budget (admin).
#[utoipa::path(
    description = "Admins. Gives a dead message a fresh attempt budget; audited.",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Outbox message id")),
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
                let row = service::retry_dead(ctx.conn, &id, ctx.now)?;
                let after = OutboxMessage::from(row.clone());
                ctx.audit("retried", None, Some(&after))?;
                Ok(row)
            })
        })
        .await?;
    Ok(web::Json(row.into()))
}

impl Audited for OutboxMessage {
    const ENTITY: &'static str = "outbox";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

//! Admin API for the outbox: see what is pending, sent or dead, and re-queue dead mail.

use actix_web::{get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{OutboxRow, OutboxStatus};
use super::service;
use crate::AppState;
use crate::audit::{self, Event};
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, Problem};
use crate::kit::rfc3339;
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
            status: match r.status.as_str() {
                "sent" => OutboxStatus::Sent,
                "dead" => OutboxStatus::Dead,
                _ => OutboxStatus::Pending,
            },
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
    tag = "admin",
    security(("bearer" = [])),
    params(OutboxQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<OutboxMessage>),
        (status = 400, description = "Invalid filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<OutboxQuery>,
) -> Result<web::Json<Page<OutboxMessage>>, ApiError> {
    who.require_role(&[Role::Admin])?;
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
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Outbox message id")),
    responses(
        (status = 200, description = "Pending again", body = OutboxMessage),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown message", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The message is not dead", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/admin/outbox/{id}/retry")]
pub async fn retry_outbox(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<web::Json<OutboxMessage>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let id = id.into_inner();
    let actor = who.actor();
    let row = state
        .db(move |c| {
            crate::db::write_tx(c, |c| {
                let row = service::retry_dead(c, &id)?;
                audit::record(
                    c,
                    Event {
                        actor: &actor,
                        action: "outbox.retried",
                        entity_type: "outbox",
                        entity_id: &id,
                        before: None,
                        after: None,
                        request_id: meta.request_id.as_deref(),
                    },
                )?;
                Ok(row)
            })
        })
        .await?;
    Ok(web::Json(row.into()))
}

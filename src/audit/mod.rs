//! The audit trail: who did what to which entity, before → after. Append-only, and always
//! written inside the transaction of the change it records.

pub mod history;

use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::schema::audit_events;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A logged-in user.
    User(String),
    /// A partner app.
    ApiClient(String),
    /// The service itself (jobs, the notifier).
    System,
    /// Nobody logged in (a public form, a failed login).
    Anonymous,
}

impl Actor {
    fn parts(&self) -> (&'static str, Option<String>) {
        match self {
            Actor::User(id) => ("user", Some(id.clone())),
            Actor::ApiClient(id) => ("api_client", Some(id.clone())),
            Actor::System => ("system", None),
            Actor::Anonymous => ("anonymous", None),
        }
    }
}

/// Who is acting, for the audit trail and for "never email the author".
pub trait Acting {
    /// The audit actor.
    fn actor(&self) -> Actor;
}

impl Acting for Actor {
    fn actor(&self) -> Actor {
        self.clone()
    }
}

/// One change to record.
pub struct Event<'a> {
    /// Who acted.
    pub actor: &'a Actor,
    /// What happened, e.g. `grant.approved`.
    pub action: &'a str,
    /// Entity type, e.g. `grant`.
    pub entity_type: &'a str,
    /// Entity id.
    pub entity_id: &'a str,
    /// State before (None for a creation).
    pub before: Option<serde_json::Value>,
    /// State after (None for a deletion).
    pub after: Option<serde_json::Value>,
    /// Request id, when the change came over HTTP.
    pub request_id: Option<&'a str>,
    /// When it happened: the command's instant.
    pub at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent {
    id: String,
    occurred_at: chrono::NaiveDateTime,
    actor_kind: String,
    actor_id: Option<String>,
    action: String,
    entity_type: String,
    entity_id: String,
    before_json: Option<String>,
    after_json: Option<String>,
    request_id: Option<String>,
}

/// Appends an event; call it inside the transaction of the change.
pub fn record(conn: &mut DbConn, e: Event<'_>) -> QueryResult<()> {
    let (kind, actor_id) = e.actor.parts();
    diesel::insert_into(audit_events::table)
        .values(NewAuditEvent {
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: e.at,
            actor_kind: kind.into(),
            actor_id,
            action: e.action.into(),
            entity_type: e.entity_type.into(),
            entity_id: e.entity_id.into(),
            before_json: e.before.map(|v| v.to_string()),
            after_json: e.after.map(|v| v.to_string()),
            request_id: e.request_id.map(str::to_string),
        })
        .execute(conn)
        .map(|_| ())
}

/// Serializes a value for an audit snapshot.
pub fn snapshot<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}

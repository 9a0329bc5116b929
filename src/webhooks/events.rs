//! The event seam: [`publish`] is called by the domain services inside their write
//! transaction and records one delivery per matching subscription. It shows a partner app
//! only what its scopes let it read over REST, and never a hidden organisation's data.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::model::{DeliveryRow, DeliveryStatus, EventType, events_from_text};
use crate::auth::Scope;
use crate::command::DomainEvent;
use crate::db::DbConn;
use crate::db::schema::{api_clients, organisations, webhook_deliveries, webhook_subscriptions};
use crate::db::schema::{funds, grants};
use crate::directory::organisation::{Organisation, OrganisationRow};
use crate::directory::visibility::{Viewer, is_listed};
use crate::error::ApiError;
use crate::grants::access;
use crate::grants::fund::FundRow;
use crate::grants::grant::{GrantRow, GrantStatus};
use crate::kit::rfc3339;

/// A change partner apps may be told about. Built by the domain code from its rows; what a
/// partner app may see of them is decided here.
#[derive(Debug, Clone)]
pub enum WebhookEvent {
    /// An organisation was created.
    OrganisationCreated(OrganisationRow),
    /// An organisation's profile changed.
    OrganisationUpdated(OrganisationRow),
    /// An organisation was hidden from the public (its id).
    OrganisationHidden(String),
    /// An organisation is no longer hidden.
    OrganisationUnhidden(OrganisationRow),
    /// A member's standing changed.
    MembershipChanged(OrganisationRow),
    /// A grant was approved.
    GrantPublished(GrantRow),
    /// A published grant changed (e.g. activated).
    GrantUpdated(GrantRow),
    /// A published grant was closed.
    GrantClosed(GrantRow),
    /// A published grant was cancelled.
    GrantCancelled(GrantRow),
    /// A fund was created.
    FundCreated(FundRow),
    /// A fund changed.
    FundUpdated(FundRow),
}

impl WebhookEvent {
    /// The event of an organisation edit: hidden, unhidden, a membership change or an update.
    pub fn organisation_changed(before: &OrganisationRow, after: &OrganisationRow) -> Self {
        match (before.hidden_from_public, after.hidden_from_public) {
            (false, true) => WebhookEvent::OrganisationHidden(after.id.clone()),
            (true, false) => WebhookEvent::OrganisationUnhidden(after.clone()),
            _ if before.membership_status != after.membership_status => {
                WebhookEvent::MembershipChanged(after.clone())
            }
            _ => WebhookEvent::OrganisationUpdated(after.clone()),
        }
    }

    /// The event of a grant state change, if partner apps are told about it: approval
    /// publishes; activation updates; closing closes; cancelling a published grant cancels.
    pub fn grant_transition(before: &GrantRow, after: &GrantRow) -> Option<Self> {
        let was_public = GrantStatus::PUBLISHED.contains(&before.status);
        match after.status {
            GrantStatus::Approved if !was_public => {
                Some(WebhookEvent::GrantPublished(after.clone()))
            }
            GrantStatus::Closed if was_public => Some(WebhookEvent::GrantClosed(after.clone())),
            GrantStatus::Cancelled if was_public => {
                Some(WebhookEvent::GrantCancelled(after.clone()))
            }
            s if was_public && GrantStatus::PUBLISHED.contains(&s) => {
                Some(WebhookEvent::GrantUpdated(after.clone()))
            }
            _ => None,
        }
    }

    /// The event a command published through the command context, with the entity read as
    /// it now stands in the command's transaction; `None` for events apps do not receive.
    pub fn from_domain(conn: &mut DbConn, e: &DomainEvent) -> QueryResult<Option<Self>> {
        let org = |conn: &mut DbConn| {
            organisations::table
                .find(&e.entity_id)
                .select(OrganisationRow::as_select())
                .first(conn)
        };
        let grant = |conn: &mut DbConn| {
            grants::table
                .find(&e.entity_id)
                .select(GrantRow::as_select())
                .first(conn)
        };
        let fund = |conn: &mut DbConn| {
            funds::table
                .find(&e.entity_id)
                .select(FundRow::as_select())
                .first(conn)
        };
        Ok(Some(match e.name {
            "organisation.created" => WebhookEvent::OrganisationCreated(org(conn)?),
            "organisation.updated" => WebhookEvent::OrganisationUpdated(org(conn)?),
            "organisation.hidden" => WebhookEvent::OrganisationHidden(e.entity_id.clone()),
            "organisation.unhidden" => WebhookEvent::OrganisationUnhidden(org(conn)?),
            "membership.changed" => WebhookEvent::MembershipChanged(org(conn)?),
            "grant.published" => WebhookEvent::GrantPublished(grant(conn)?),
            "grant.updated" => WebhookEvent::GrantUpdated(grant(conn)?),
            "grant.closed" => WebhookEvent::GrantClosed(grant(conn)?),
            "grant.cancelled" => WebhookEvent::GrantCancelled(grant(conn)?),
            "fund.created" => WebhookEvent::FundCreated(fund(conn)?),
            "fund.updated" => WebhookEvent::FundUpdated(fund(conn)?),
            _ => return Ok(None),
        }))
    }
}

/// What a partner app receives of an event: its type, the scope it needs, the resource it
/// is about (deliveries of one resource go out in order) and the `data` member.
pub struct Shown {
    /// Event type.
    pub event: EventType,
    /// Scope the subscribing app must hold.
    pub scope: Scope,
    /// `kind:id`.
    pub resource_key: String,
    /// The payload's `data`.
    pub data: Value,
}

/// A grant as partner apps see it over REST: `grants::access::partner_view`, the one place.
pub fn partner_grant(conn: &mut DbConn, row: GrantRow) -> Result<Value, ApiError> {
    let view = access::partner_views(conn, vec![row])?;
    serde_json::to_value(&view[0]).map_err(ApiError::internal)
}

fn public_org(row: OrganisationRow) -> Value {
    let groups = Viewer::Public.field_groups(&row);
    serde_json::to_value(Organisation::view(row, groups)).unwrap_or(Value::Null)
}

fn grantee_hidden(conn: &mut DbConn, org: &str) -> QueryResult<bool> {
    Ok(organisations::table
        .find(org)
        .select(organisations::hidden_from_public)
        .first::<bool>(conn)
        .optional()?
        .unwrap_or(true))
}

/// Decides what partner apps see of `event`; `None` when they see nothing.
pub fn shown(conn: &mut DbConn, event: WebhookEvent) -> Result<Option<Shown>, ApiError> {
    use WebhookEvent as E;
    let org = |event, row: OrganisationRow| Shown {
        event,
        scope: Scope::DirectoryRead,
        resource_key: format!("organisation:{}", row.id),
        data: public_org(row),
    };
    let shown = match event {
        E::OrganisationCreated(r) if Viewer::Public.can_see(&r) => {
            Some(org(EventType::OrganisationCreated, r))
        }
        E::OrganisationUpdated(r) if Viewer::Public.can_see(&r) => {
            Some(org(EventType::OrganisationUpdated, r))
        }
        E::OrganisationUnhidden(r) if Viewer::Public.can_see(&r) => {
            Some(org(EventType::OrganisationUnhidden, r))
        }
        E::OrganisationCreated(_) | E::OrganisationUpdated(_) | E::OrganisationUnhidden(_) => None,
        E::OrganisationHidden(id) => Some(Shown {
            event: EventType::OrganisationHidden,
            scope: Scope::DirectoryRead,
            resource_key: format!("organisation:{id}"),
            data: json!({ "id": id }),
        }),
        E::MembershipChanged(r) if !r.hidden_from_public => {
            let listed = is_listed(&r);
            Some(Shown {
                event: EventType::MembershipChanged,
                scope: Scope::DirectoryRead,
                resource_key: format!("organisation:{}", r.id),
                data: json!({
                    "organisation_id": r.id,
                    "listed": listed,
                    "organisation": if listed { public_org(r) } else { Value::Null },
                }),
            })
        }
        E::MembershipChanged(_) => None,
        E::GrantPublished(g) | E::GrantUpdated(g) | E::GrantClosed(g)
            if !GrantStatus::PUBLISHED.contains(&g.status) =>
        {
            let _ = g;
            None
        }
        E::GrantPublished(g) | E::GrantUpdated(g) | E::GrantClosed(g) | E::GrantCancelled(g)
            if grantee_hidden(conn, &g.grantee_organisation_id)? =>
        {
            let _ = g;
            None
        }
        E::GrantPublished(g) => Some(grant(conn, EventType::GrantPublished, g)?),
        E::GrantUpdated(g) => Some(grant(conn, EventType::GrantUpdated, g)?),
        E::GrantClosed(g) => Some(grant(conn, EventType::GrantClosed, g)?),
        E::GrantCancelled(g) => Some(grant(conn, EventType::GrantCancelled, g)?),
        E::FundCreated(f) => Some(fund(EventType::FundCreated, f)?),
        E::FundUpdated(f) => Some(fund(EventType::FundUpdated, f)?),
    };
    Ok(shown)
}

fn grant(conn: &mut DbConn, event: EventType, g: GrantRow) -> Result<Shown, ApiError> {
    Ok(Shown {
        event,
        scope: Scope::GrantsRead,
        resource_key: format!("grant:{}", g.id),
        data: partner_grant(conn, g)?,
    })
}

fn fund(event: EventType, f: FundRow) -> Result<Shown, ApiError> {
    Ok(Shown {
        event,
        scope: Scope::GrantsRead,
        resource_key: format!("fund:{}", f.id),
        data: access::partner_fund(f)?,
    })
}

/// The JSON body of an event: `{"type", "timestamp", "data"}`.
pub fn body(event: EventType, data: &Value) -> String {
    json!({
        "type": event.as_str(),
        "timestamp": rfc3339(Utc::now().naive_utc()),
        "data": data,
    })
    .to_string()
}

/// Inserts one pending delivery of `body` for subscription `sub`.
pub fn enqueue(
    conn: &mut DbConn,
    sub: &str,
    event: EventType,
    resource_key: &str,
    body: &str,
    message_id: Option<&str>,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = Utc::now().naive_utc();
    let row = DeliveryRow {
        message_id: message_id
            .map(str::to_string)
            .unwrap_or_else(|| format!("msg_{}", id.replace('-', ""))),
        id: id.clone(),
        subscription_id: sub.to_string(),
        event_type: event.as_str().into(),
        resource_key: resource_key.to_string(),
        body: body.to_string(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        lease_owner: None,
        lease_until: None,
        last_status_code: None,
        last_error: None,
        last_attempt_at: None,
        delivered_at: None,
        created_at: now,
    };
    diesel::insert_into(webhook_deliveries::table)
        .values(&row)
        .execute(conn)?;
    Ok(id)
}

/// The publisher the command context calls for every [`DomainEvent`] (registered at start).
pub fn publish_domain(conn: &mut DbConn, e: &DomainEvent) -> Result<(), ApiError> {
    let event = WebhookEvent::from_domain(conn, e)?;
    publish(conn, event)
}

/// Records `event` for every enabled subscription that asked for it and whose app may read
/// it. Call it inside the transaction of the change: a rollback sends nothing.
pub fn publish(conn: &mut DbConn, event: impl Into<Option<WebhookEvent>>) -> Result<(), ApiError> {
    let Some(event) = event.into() else {
        return Ok(());
    };
    let Some(shown) = shown(conn, event)? else {
        return Ok(());
    };
    let subs: Vec<(String, String, String)> = webhook_subscriptions::table
        .inner_join(api_clients::table)
        .filter(webhook_subscriptions::enabled.eq(true))
        .filter(api_clients::revoked_at.is_null())
        .select((
            webhook_subscriptions::id,
            webhook_subscriptions::events,
            api_clients::scopes,
        ))
        .order(webhook_subscriptions::id.asc())
        .load(conn)?;
    let mut body_text: Option<String> = None;
    for (id, events, scopes) in subs {
        if !events_from_text(&events).contains(&shown.event)
            || !Scope::parse_list(&scopes).contains(&shown.scope)
        {
            continue;
        }
        let b = body_text.get_or_insert_with(|| body(shown.event, &shown.data));
        enqueue(conn, &id, shown.event, &shown.resource_key, b, None)?;
    }
    Ok(())
}

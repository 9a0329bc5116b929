//! The event seam: the command context hands every [`Published`] change to
//! [`publish_domain`] inside its write transaction, which records one delivery per matching
//! subscription. It shows a partner app only what its scopes let it read over REST, through
//! the same views (a withheld grantee's grant in the neutral view, a withheld donor's fund
//! naming no donor), and a replay renders past events through today's views ([`replayed`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::model::{DeliveryRow, DeliveryStatus, EventType, events_from_text};
use crate::auth::Scope;
use crate::command::{DomainEvent, Published};
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

/// A change partner apps may be told about, with the entity as it stands now. What a
/// partner app may see of it is decided by [`shown`].
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
    /// A published grant changed (e.g. activated, paid, its grantee hidden).
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
    /// The event of `kind` about `entity_id`, with the entity read as it stands now (inside
    /// the command's transaction, or at a replay); `None` when the entity is gone. The match
    /// is exhaustive: a new [`DomainEvent`] does not compile until its payload is decided.
    pub fn load(
        conn: &mut DbConn,
        kind: DomainEvent,
        entity_id: &str,
    ) -> QueryResult<Option<Self>> {
        use DomainEvent as D;
        use WebhookEvent as E;
        let org = |conn: &mut DbConn| {
            organisations::table
                .find(entity_id)
                .select(OrganisationRow::as_select())
                .first(conn)
                .optional()
        };
        let grant = |conn: &mut DbConn| {
            grants::table
                .find(entity_id)
                .select(GrantRow::as_select())
                .first(conn)
                .optional()
        };
        let fund = |conn: &mut DbConn| {
            funds::table
                .find(entity_id)
                .select(FundRow::as_select())
                .first(conn)
                .optional()
        };
        Ok(match kind {
            D::OrganisationCreated => org(conn)?.map(E::OrganisationCreated),
            D::OrganisationUpdated => org(conn)?.map(E::OrganisationUpdated),
            D::OrganisationHidden => Some(E::OrganisationHidden(entity_id.to_string())),
            D::OrganisationUnhidden => org(conn)?.map(E::OrganisationUnhidden),
            D::MembershipChanged => org(conn)?.map(E::MembershipChanged),
            D::GrantPublished => grant(conn)?.map(E::GrantPublished),
            D::GrantUpdated => grant(conn)?.map(E::GrantUpdated),
            D::GrantClosed => grant(conn)?.map(E::GrantClosed),
            D::GrantCancelled => grant(conn)?.map(E::GrantCancelled),
            D::FundCreated => fund(conn)?.map(E::FundCreated),
            D::FundUpdated => fund(conn)?.map(E::FundUpdated),
        })
    }
}

/// The published change a wire type stands for; `None` for `ping`, which is no change.
pub fn domain_kind(event: EventType) -> Option<DomainEvent> {
    use DomainEvent as D;
    Some(match event {
        EventType::OrganisationCreated => D::OrganisationCreated,
        EventType::OrganisationUpdated => D::OrganisationUpdated,
        EventType::OrganisationHidden => D::OrganisationHidden,
        EventType::OrganisationUnhidden => D::OrganisationUnhidden,
        EventType::MembershipChanged => D::MembershipChanged,
        EventType::GrantPublished => D::GrantPublished,
        EventType::GrantUpdated => D::GrantUpdated,
        EventType::GrantClosed => D::GrantClosed,
        EventType::GrantCancelled => D::GrantCancelled,
        EventType::FundCreated => D::FundCreated,
        EventType::FundUpdated => D::FundUpdated,
        EventType::Ping => return None,
    })
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
        // Partner apps read published grants only; a grant to a withheld grantee is shown
        // through the same neutral view as over REST (no name, no id, its region only).
        E::GrantPublished(g) | E::GrantUpdated(g) | E::GrantClosed(g)
            if !GrantStatus::PUBLISHED.contains(&g.status) =>
        {
            let _ = g;
            None
        }
        E::GrantPublished(g) => Some(grant(conn, EventType::GrantPublished, g)?),
        E::GrantUpdated(g) => Some(grant(conn, EventType::GrantUpdated, g)?),
        E::GrantClosed(g) => Some(grant(conn, EventType::GrantClosed, g)?),
        E::GrantCancelled(g) => Some(grant(conn, EventType::GrantCancelled, g)?),
        E::FundCreated(f) => Some(fund(conn, EventType::FundCreated, f)?),
        E::FundUpdated(f) => Some(fund(conn, EventType::FundUpdated, f)?),
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

fn fund(conn: &mut DbConn, event: EventType, f: FundRow) -> Result<Shown, ApiError> {
    let donor = access::organisation(conn, &f.donor_organisation_id)?
        .ok_or_else(|| ApiError::internal("fund without its donor"))?;
    Ok(Shown {
        event,
        scope: Scope::GrantsRead,
        resource_key: format!("fund:{}", f.id),
        data: serde_json::to_value(access::partner_fund(f, &donor)).map_err(ApiError::internal)?,
    })
}

/// The JSON body of an event that happened at `at`: `{"type", "timestamp", "data"}`.
pub fn body(event: EventType, at: NaiveDateTime, data: &Value) -> String {
    json!({
        "type": event.as_str(),
        "timestamp": rfc3339(at),
        "data": data,
    })
    .to_string()
}

/// Inserts one pending delivery of `body` for subscription `sub`.
pub fn enqueue(
    conn: &mut DbConn,
    now: NaiveDateTime,
    sub: &str,
    event: EventType,
    resource_key: &str,
    body: &str,
    message_id: Option<&str>,
) -> Result<String, ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
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

/// The publisher the command context calls for every [`Published`] change (registered at
/// start).
pub fn publish_domain(
    conn: &mut DbConn,
    p: &Published,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let event = WebhookEvent::load(conn, p.event, &p.entity_id)?;
    publish(conn, event, now)?;
    if matches!(
        p.event,
        DomainEvent::OrganisationHidden | DomainEvent::OrganisationUnhidden
    ) {
        visibility_changed(conn, &p.entity_id, now)?;
    }
    Ok(())
}

/// An organisation hidden or shown again changes how apps read its grants and funds: each
/// published grant to it is sent again as `grant.updated` (the neutral view while it is
/// hidden) and each fund it gives as `fund.updated`, in the transaction of the change.
fn visibility_changed(conn: &mut DbConn, org: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    let grant_rows: Vec<GrantRow> = grants::table
        .filter(grants::grantee_organisation_id.eq(org))
        .filter(grants::status.eq_any(GrantStatus::PUBLISHED))
        .order(grants::id.asc())
        .select(GrantRow::as_select())
        .load(conn)?;
    for g in grant_rows {
        publish(conn, WebhookEvent::GrantUpdated(g), now)?;
    }
    let fund_rows: Vec<FundRow> = funds::table
        .filter(funds::donor_organisation_id.eq(org))
        .order(funds::id.asc())
        .select(FundRow::as_select())
        .load(conn)?;
    for f in fund_rows {
        publish(conn, WebhookEvent::FundUpdated(f), now)?;
    }
    Ok(())
}

/// Records `event` for every enabled subscription that asked for it and whose app may read
/// it. Call it inside the transaction of the change: a rollback sends nothing.
pub fn publish(
    conn: &mut DbConn,
    event: impl Into<Option<WebhookEvent>>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
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
        let b = body_text.get_or_insert_with(|| body(shown.event, now, &shown.data));
        enqueue(conn, now, &id, shown.event, &shown.resource_key, b, None)?;
    }
    Ok(())
}

/// What a replay sends for a past delivery of `event` about `resource_key`, recorded at `at`:
/// the event rendered through today's partner view, so nothing hidden since is sent again.
/// `None` when today's view shows nothing (an organisation now hidden, a grant no longer
/// published) or the app may no longer read it; a ping is sent as recorded.
pub fn replayed(
    conn: &mut DbConn,
    event: EventType,
    resource_key: &str,
    recorded_body: &str,
    at: NaiveDateTime,
    scopes: &[Scope],
) -> Result<Option<String>, ApiError> {
    let Some(kind) = domain_kind(event) else {
        return Ok(Some(recorded_body.to_string()));
    };
    let Some((_, entity_id)) = resource_key.split_once(':') else {
        return Ok(None);
    };
    let Some(loaded) = WebhookEvent::load(conn, kind, entity_id)? else {
        return Ok(None);
    };
    let Some(shown) = shown(conn, loaded)? else {
        return Ok(None);
    };
    if shown.event != event || !scopes.contains(&shown.scope) {
        return Ok(None);
    }
    Ok(Some(body(shown.event, at, &shown.data)))
}

//! The command context: every write runs inside one, so its audit event, its emails and its
//! webhook events commit in the same transaction as the change, and nothing is written by
//! hand twice. A command never sends anything itself; the outbox workers do after commit.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::audit::{self, Acting, Actor};
use crate::auth::principal::RequestMeta;
use crate::config::Config;
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;
use crate::notify::matrix::{Author, Event, Parties};
use crate::notify::{self, Kind, Recipient};

/// An entity whose changes are audited. Its serialized form is the before → after snapshot.
pub trait Audited: Serialize {
    /// Entity type as stored in the audit trail, e.g. `grant`.
    const ENTITY: &'static str;
    /// The entity's id.
    fn entity_id(&self) -> &str;
}

/// The context of one email kind: one struct per kind, so the variables a template gets are
/// fixed by the type (and a unit test renders every template with its struct).
pub trait Message: Serialize {
    /// The kind of email this context renders.
    const KIND: Kind;
}

/// The kinds of change a command announces to partner apps, queued by [`Ctx::publish`] in
/// the same transaction as the change. The webhooks match this exhaustively to decide each
/// one's payload, so a new kind does not compile until its payload (or its silence) is
/// decided. Tranches and reports have no kind: partner apps never see them (DESIGN.md); a
/// payment shows through the grant's `amount_disbursed` as [`DomainEvent::GrantUpdated`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainEvent {
    /// An organisation was created.
    OrganisationCreated,
    /// An organisation's profile changed.
    OrganisationUpdated,
    /// An organisation was hidden from the public.
    OrganisationHidden,
    /// A hidden organisation is public again.
    OrganisationUnhidden,
    /// A member's standing changed.
    MembershipChanged,
    /// A grant was approved (it is now public).
    GrantPublished,
    /// A published grant changed (activated, paid, its grantee hidden or shown).
    GrantUpdated,
    /// A published grant was closed.
    GrantClosed,
    /// A published grant was cancelled.
    GrantCancelled,
    /// A fund was created.
    FundCreated,
    /// A fund changed.
    FundUpdated,
}

/// One published change: its kind and the id of the entity it is about.
#[derive(Debug, Clone)]
pub struct Published {
    /// What happened.
    pub event: DomainEvent,
    /// The entity's id (organisation, grant or fund, by the kind).
    pub entity_id: String,
}

/// Records a [`Published`] change inside the command's transaction.
pub type Publisher = fn(&mut DbConn, &Published, NaiveDateTime) -> Result<(), ApiError>;

static PUBLISHER: std::sync::OnceLock<Publisher> = std::sync::OnceLock::new();

/// Registers the publisher once at start. Domains depend on this module, and the webhooks
/// depend on the domains, so the webhooks are plugged in here rather than called by name.
pub fn set_publisher(publisher: Publisher) {
    let _ = PUBLISHER.set(publisher);
}

/// Everything a command may touch: the connection inside the write transaction, the clock,
/// the actor, the request id and the settings.
pub struct Ctx<'c> {
    /// The connection, inside the command's transaction.
    pub conn: &'c mut DbConn,
    /// Settings.
    pub config: &'c Config,
    /// Who acts.
    pub actor: Actor,
    /// Request id, for the audit trail.
    pub request_id: Option<String>,
    /// The command's clock: one instant for every row it writes.
    pub now: NaiveDateTime,
}

impl<'c> Ctx<'c> {
    /// Records `entity_type.verb` with before → after snapshots of typed values.
    pub fn audit<T: Audited>(
        &mut self,
        verb: &str,
        before: Option<&T>,
        after: Option<&T>,
    ) -> Result<(), ApiError> {
        let id = after
            .or(before)
            .map(|t| t.entity_id().to_string())
            .unwrap_or_default();
        self.audit_raw(
            &format!("{}.{verb}", T::ENTITY),
            T::ENTITY,
            &id,
            before.and_then(audit::snapshot),
            after.and_then(audit::snapshot),
        )
    }

    /// Records an event whose snapshots are not one typed entity (counter moves, sign-ins).
    pub fn audit_raw(
        &mut self,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<(), ApiError> {
        audit::record(
            self.conn,
            audit::Event {
                actor: &self.actor,
                action,
                entity_type,
                entity_id,
                before,
                after,
                request_id: self.request_id.as_deref(),
                at: self.now,
            },
        )?;
        Ok(())
    }

    /// Tells the people the notification matrix names for `event` with `msg` (its kind must
    /// be on the event's line), once each by address, never the acting user.
    pub fn tell<M: Message>(
        &mut self,
        event: Event,
        parties: &Parties,
        msg: &M,
    ) -> Result<usize, ApiError> {
        self.tell_keyed(event, parties, msg, |_| None)
    }

    /// As [`Ctx::tell`], with a dedupe key per recipient so a repeated job sends once.
    pub fn tell_keyed<M: Message>(
        &mut self,
        event: Event,
        parties: &Parties,
        msg: &M,
        key: impl Fn(&Recipient) -> Option<String>,
    ) -> Result<usize, ApiError> {
        let ctx = serde_json::to_value(msg).map_err(ApiError::internal)?;
        let author = self.author()?;
        notify::matrix::deliver(
            self.conn,
            self.config,
            &author,
            event,
            M::KIND,
            parties,
            ctx,
            &key,
        )
    }

    /// Who acts, as messages name them: a user's display name; the network for its own jobs.
    fn author(&mut self) -> Result<Author, ApiError> {
        Ok(match &self.actor {
            Actor::User(id) => {
                use diesel::prelude::*;
                let name: Option<String> = crate::db::schema::users::table
                    .find(id)
                    .select(crate::db::schema::users::display_name)
                    .first(self.conn)
                    .optional()?;
                Author {
                    user_id: Some(id.clone()),
                    name: name.unwrap_or_else(|| self.config.network_name.clone()),
                }
            }
            Actor::System => Author {
                user_id: None,
                name: self.config.network_name.clone(),
            },
            Actor::ApiClient(_) | Actor::Anonymous => Author {
                user_id: None,
                name: String::new(),
            },
        })
    }

    /// Queues the partner-app event `event` about `entity_id` in the command's transaction
    /// through the registered publisher (the webhooks outbox): nothing is sent for a change
    /// that rolls back.
    pub fn publish(&mut self, event: DomainEvent, entity_id: &str) -> Result<(), ApiError> {
        let published = Published {
            event,
            entity_id: entity_id.to_string(),
        };
        match PUBLISHER.get() {
            Some(publish) => publish(self.conn, &published, self.now),
            None => Ok(()),
        }
    }
}

/// Runs `f` as one command: a write transaction holding the connection, the clock, the actor
/// and the request id. Rolls back everything (change, audit, emails) when `f` fails.
pub fn run<T>(
    conn: &mut DbConn,
    config: &Config,
    who: &impl Acting,
    meta: &RequestMeta,
    f: impl FnOnce(&mut Ctx<'_>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let actor = who.actor();
    let request_id = meta.request_id.clone();
    write_tx(conn, |c| {
        let mut ctx = Ctx {
            conn: c,
            config,
            actor,
            request_id,
            now: config.clock.naive(),
        };
        f(&mut ctx)
    })
}

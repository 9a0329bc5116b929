//! The demo accounts, made as a real secretariat makes them: the admin by `create-admin`'s
//! service function, everyone else invited by that admin (`POST /users`) and then accepting
//! the emailed invitation link with the demo password (`POST /auth/invitations/accept`).
//! An account that exists already is left as it is.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::REQUEST_ID;
use crate::AppState;
use crate::auth::caller::Admin;
use crate::auth::principal::{RequestMeta, UserPrincipal};
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::db::schema::{organisations, outbox, users};
use crate::error::ApiError;
use crate::identity::model::{AcceptInvitation, NewUser};
use crate::identity::{account, users as service};
use crate::notify::Kind;
use crate::notify::model::OutboxStatus;

/// One demo account.
#[derive(Debug, Clone, Copy)]
pub struct DemoUser {
    /// Login email.
    pub email: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Role.
    pub role: Role,
    /// The known demo password.
    pub password: &'static str,
    /// The organisation of a member, by name.
    pub organisation: Option<&'static str>,
}

pub(super) fn meta() -> RequestMeta {
    RequestMeta {
        request_id: Some(REQUEST_ID.into()),
        ip: "127.0.0.1".into(),
    }
}

/// The demo account `email` as a caller, as a token of theirs would make it.
pub(super) fn principal(c: &mut DbConn, email: &str) -> Result<Principal, ApiError> {
    let (id, role, organisation_id): (String, Role, Option<String>) = users::table
        .filter(users::email.eq(email))
        .select((users::id, users::role, users::organisation_id))
        .first(c)
        .optional()?
        .ok_or_else(|| ApiError::internal(format!("demo account {email} is missing")))?;
    Ok(Principal::User(UserPrincipal {
        id,
        role,
        organisation_id,
        session_id: REQUEST_ID.into(),
    }))
}

fn exists(c: &mut DbConn, email: &str) -> Result<bool, ApiError> {
    let n: i64 = users::table
        .filter(users::email.eq(email))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

/// The token of the newest invitation emailed to `email`, read from the queued email as the
/// invitee would read it. The demo hands the email over itself (`notify::service::
/// hand_over`): a token still waiting in an unsent outbox row does not work.
fn invitation_token(c: &mut DbConn, email: &str, now: NaiveDateTime) -> Result<String, ApiError> {
    let (id, body): (String, String) = outbox::table
        .filter(outbox::recipient_email.eq(email))
        .filter(outbox::kind.eq(Kind::Invitation.name()))
        .order(outbox::created_at.desc())
        .select((outbox::id, outbox::body_text))
        .first(c)?;
    crate::notify::service::hand_over(c, &id, now)?;
    body.split("token=")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_'))
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::internal("the invitation email carries no token"))
}

/// Records the invitations the seed read and accepted for `email` as delivered: their link is
/// used, so the notifier must not write them out (into `data/mail/`) where a new user would
/// open a link that only says it is spent after a password has been typed.
fn delivered_by_hand(c: &mut DbConn, email: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    diesel::update(
        outbox::table
            .filter(outbox::recipient_email.eq(email))
            .filter(outbox::kind.eq(Kind::Invitation.name()))
            .filter(outbox::status.eq(OutboxStatus::Pending)),
    )
    .set((
        outbox::status.eq(OutboxStatus::Sent),
        outbox::sent_at.eq(Some(now)),
    ))
    .execute(c)?;
    Ok(())
}

/// Creates the demo accounts that do not exist yet; returns those it created.
pub(super) async fn seed(state: &AppState) -> Result<Vec<&'static super::DemoUser>, ApiError> {
    let mut created = Vec::new();
    let config = state.config.clone();
    for user in super::DEMO_USERS {
        let email = user.email;
        if state.db(move |c| exists(c, email)).await? {
            continue;
        }
        if user.role == Role::Admin {
            let hash = state.hasher.hash(user.password.to_string()).await?;
            let config = config.clone();
            state
                .db(move |c| service::create_admin(c, &config, email, user.name, hash))
                .await?;
        } else {
            let config = config.clone();
            state
                .db(move |c| {
                    let admin = principal(c, super::DEMO_USERS[0].email)?;
                    let organisation_id = match user.organisation {
                        Some(name) => Some(
                            organisations::table
                                .filter(organisations::name.eq(name))
                                .select(organisations::id)
                                .first::<String>(c)?,
                        ),
                        None => None,
                    };
                    let req = NewUser {
                        email: email.into(),
                        display_name: user.name.into(),
                        role: user.role,
                        organisation_id,
                        language: None,
                    };
                    service::create_user(c, &config, &Admin::try_from(&admin)?, &meta(), req)
                })
                .await?;
            let now = state.clock().naive();
            let token = state.db(move |c| invitation_token(c, email, now)).await?;
            let accept = AcceptInvitation {
                token,
                password: user.password.into(),
                display_name: user.name.into(),
            };
            account::accept_invitation(state, meta(), accept).await?;
            let now = state.clock().naive();
            state.db(move |c| delivered_by_hand(c, email, now)).await?;
        }
        created.push(user);
    }
    Ok(created)
}

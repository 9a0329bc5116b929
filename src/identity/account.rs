//! The caller's own account: reading it, its profile, its password (change, reset by email
//! link) and accepting the invitation that created it. One-time links are checked before any
//! password is hashed.

use chrono::Duration;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::lifecycle::{UserCommand, UserFacts, transition};
use super::model::*;
use super::session::{lock_key, lock_prefix, rate_limit};
use super::support::{
    INVITATION, LinkState, PASSWORD_RESET, check_display_name, invalid_link, new_one_time_token,
    one_time_link_state, open_session, owner, peek_one_time_token, revoke_sessions,
    spend_one_time_token, user_by_email, user_by_id,
};
use crate::AppState;
use crate::audit::Actor;
use crate::auth::password::check_policy;
use crate::auth::principal::{RequestMeta, UserPrincipal};
use crate::auth::throttle;
use crate::auth::{Principal, UserStatus};
use crate::command::{self, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::users;
use crate::error::{ApiError, ConflictCode};
use crate::notify::matrix::Event;
use crate::notify::{Kind, links};

/// A password reset link lives this long.
const RESET_TTL: Duration = Duration::minutes(30);

/// The email with a password reset link.
#[derive(Debug, Serialize)]
pub struct PasswordReset {
    /// The link, carrying the one-time token.
    pub link: String,
    /// How long the link works, in words.
    pub expires_in: &'static str,
}

impl Message for PasswordReset {
    const KIND: Kind = Kind::PasswordReset;
}

/// The security notice that the password changed.
#[derive(Debug, Serialize)]
pub struct PasswordChanged {
    /// Where to ask for a new password if it was not the owner.
    pub link: String,
}

impl Message for PasswordChanged {
    const KIND: Kind = Kind::PasswordChanged;
}

fn user_of<'a>(who: &'a Principal, what: &str) -> Result<&'a UserPrincipal, ApiError> {
    who.user()
        .ok_or_else(|| ApiError::Forbidden(format!("Only users have {what}.")))
}

/// The caller's own account.
pub fn me(conn: &mut DbConn, who: &Principal) -> Result<UserRow, ApiError> {
    let me = user_of(who, "an account")?;
    user_by_id(conn, &me.id)
}

/// Emails a password reset link when the account exists and is active. Always succeeds
/// from the caller's view, so it reveals nothing about which addresses have accounts.
pub async fn request_password_reset(
    state: &AppState,
    meta: RequestMeta,
    req: PasswordResetRequest,
) -> Result<(), ApiError> {
    let email = req.email.trim().to_lowercase();
    rate_limit(state, &meta, "reset", Some(&email)).await?;
    let config = state.config.clone();
    state
        .db(move |c| {
            let Some(user) = user_by_email(c, &email)? else {
                return Ok(());
            };
            if user.status != UserStatus::Active {
                return Ok(());
            }
            command::run(c, &config, &Actor::Anonymous, &meta, |ctx| {
                let token = new_one_time_token(ctx, &user.id, PASSWORD_RESET, RESET_TTL)?;
                let link = links::reset_password(ctx.config, &token);
                ctx.tell(
                    Event::PasswordResetRequested,
                    &owner(&user),
                    &PasswordReset {
                        link,
                        expires_in: "30 minutes",
                    },
                )?;
                ctx.audit_raw(
                    "user.password_reset_requested",
                    "user",
                    &user.id,
                    None,
                    Some(json!({"ip": meta.ip})),
                )
            })
        })
        .await
}

/// 400 naming `token` unless `token` is a live one-time token of `purpose`. Cheap (one
/// indexed read), so a bogus token costs no password hashing.
async fn check_link(state: &AppState, token: &str, purpose: &'static str) -> Result<(), ApiError> {
    let token = token.to_string();
    let now = state.clock().naive();
    state
        .db(move |c| peek_one_time_token(c, &token, purpose, now))
        .await?
        .map(|_| ())
        .ok_or_else(invalid_link)
}

/// The state of an invitation link (`invitation` true) or a password reset link, so a
/// page can say a link is used or expired before asking for anything.
pub async fn link_state(
    state: &AppState,
    token: &str,
    invitation: bool,
) -> Result<LinkState, ApiError> {
    let purpose = if invitation {
        INVITATION
    } else {
        PASSWORD_RESET
    };
    let token = token.to_string();
    let now = state.clock().naive();
    state
        .db(move |c| one_time_link_state(c, &token, purpose, now))
        .await
}

/// Sets a new password from a reset link and ends every session of the user.
pub async fn confirm_password_reset(
    state: &AppState,
    meta: RequestMeta,
    req: PasswordResetConfirm,
) -> Result<(), ApiError> {
    rate_limit(state, &meta, "reset-confirm", None).await?;
    check_policy("password", &req.password)?;
    check_link(state, &req.token, PASSWORD_RESET).await?;
    let hash = state.hasher.hash(req.password).await?;
    let config = state.config.clone();
    state
        .db(move |c| {
            command::run(c, &config, &Actor::Anonymous, &meta, |ctx| {
                let user_id = spend_one_time_token(ctx, &req.token, PASSWORD_RESET)?;
                // The link proves who acts.
                ctx.actor = Actor::User(user_id.clone());
                let user = user_by_id(ctx.conn, &user_id)?;
                diesel::update(users::table.find(&user_id))
                    .set((
                        users::password_hash.eq(Some(&hash)),
                        users::updated_at.eq(ctx.now),
                    ))
                    .execute(ctx.conn)?;
                revoke_sessions(ctx, &user_id, None)?;
                // The owner proved who they are: every lockout of the account ends.
                throttle::clear(ctx.conn, &lock_prefix("login", &user.email))?;
                throttle::clear(ctx.conn, &lock_prefix("password", &user.id))?;
                ctx.tell(
                    Event::PasswordChanged,
                    &owner(&user),
                    &PasswordChanged {
                        link: links::forgot_password(ctx.config),
                    },
                )?;
                ctx.audit_raw("user.password_reset", "user", &user_id, None, None)
            })
        })
        .await
}

/// Accepts an invitation: sets the password and name, activates the account, logs in.
pub async fn accept_invitation(
    state: &AppState,
    meta: RequestMeta,
    req: AcceptInvitation,
) -> Result<TokenPair, ApiError> {
    rate_limit(state, &meta, "accept", None).await?;
    let mut errors = Vec::new();
    if let Err(ApiError::Validation(e)) = check_policy("password", &req.password) {
        errors.extend(e);
    }
    let display_name = match check_display_name("display_name", &req.display_name) {
        Ok(n) => Some(n),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            None
        }
        Err(e) => return Err(e),
    };
    crate::error::no_field_errors(errors)?;
    let display_name = display_name.unwrap_or_default();
    check_link(state, &req.token, INVITATION).await?;
    let hash = state.hasher.hash(req.password).await?;
    let (jwt, config) = (state.jwt.clone(), state.config.clone());
    state
        .db(move |c| {
            command::run(c, &config, &Actor::Anonymous, &meta, |ctx| {
                let user_id = spend_one_time_token(ctx, &req.token, INVITATION)?;
                ctx.actor = Actor::User(user_id.clone());
                let before = user_by_id(ctx.conn, &user_id)?;
                let facts = UserFacts {
                    has_password: before.password_hash.is_some(),
                };
                let to = transition(before.status, UserCommand::AcceptInvitation, facts).map_err(
                    |_| {
                        ApiError::field("token", "invalid", "This invitation was already accepted.")
                    },
                )?;
                let n = diesel::update(
                    users::table
                        .find(&user_id)
                        .filter(users::status.eq(before.status)),
                )
                .set((
                    users::password_hash.eq(Some(&hash)),
                    users::display_name.eq(&display_name),
                    users::status.eq(to),
                    users::last_login_at.eq(Some(ctx.now)),
                    users::updated_at.eq(ctx.now),
                ))
                .execute(ctx.conn)?;
                if n == 0 {
                    return Err(concurrent());
                }
                let user = user_by_id(ctx.conn, &user_id)?;
                ctx.audit::<User>(
                    "invitation_accepted",
                    Some(&before.clone().into()),
                    Some(&user.clone().into()),
                )?;
                open_session(ctx, &jwt, &user)
            })
        })
        .await
}

pub(super) fn concurrent() -> ApiError {
    ApiError::Conflict {
        code: ConflictCode::ConcurrentUpdate,
        detail: "The account changed at the same time; try again.".into(),
    }
}

/// Changes one's own profile.
pub fn update_me(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    patch: MePatch,
) -> Result<UserRow, ApiError> {
    let me = user_of(who, "a profile")?;
    command::run(conn, config, who, meta, |ctx| {
        let before = user_by_id(ctx.conn, &me.id)?;
        if let Some(name) = &patch.display_name {
            let name = check_display_name("display_name", name)?;
            diesel::update(users::table.find(&me.id))
                .set((users::display_name.eq(name), users::updated_at.eq(ctx.now)))
                .execute(ctx.conn)?;
        }
        if let Some(code) = &patch.language {
            let lang = super::support::check_language("language", code)?;
            diesel::update(users::table.find(&me.id))
                .set((
                    users::language.eq(lang.code()),
                    users::updated_at.eq(ctx.now),
                ))
                .execute(ctx.conn)?;
        }
        let after = user_by_id(ctx.conn, &me.id)?;
        ctx.audit::<User>(
            "profile_updated",
            Some(&before.into()),
            Some(&after.clone().into()),
        )?;
        Ok(after)
    })
}

/// Changes one's own password and ends every other session. The current-password check is
/// rate-limited and locked out like a login; while locked it answers as a wrong password.
pub async fn change_password(
    state: &AppState,
    who: &Principal,
    meta: RequestMeta,
    req: ChangePassword,
) -> Result<(), ApiError> {
    let me = user_of(who, "a password")?.clone();
    rate_limit(state, &meta, "password", Some(&me.id)).await?;
    check_policy("new_password", &req.new_password)?;
    let key = lock_key("password", &me.id, &meta.ip);
    let (id, k) = (me.id.clone(), key.clone());
    let clock = state.clock().clone();
    let now = clock.naive();
    let (user, locked) = state
        .db(move |c| Ok((user_by_id(c, &id)?, throttle::is_locked(c, &k, now)?)))
        .await?;
    let ok = state
        .hasher
        .verify(user.password_hash.clone(), req.current_password)
        .await?;
    if !ok || locked {
        state
            .db(move |c| Ok(throttle::fail(c, &key, clock.naive())?))
            .await?;
        return Err(ApiError::field(
            "current_password",
            "mismatch",
            "The current password is wrong.",
        ));
    }
    let hash = state.hasher.hash(req.new_password).await?;
    let config = state.config.clone();
    state
        .db(move |c| {
            command::run(c, &config, &me, &meta, |ctx| {
                diesel::update(users::table.find(&me.id))
                    .set((
                        users::password_hash.eq(Some(&hash)),
                        users::updated_at.eq(ctx.now),
                    ))
                    .execute(ctx.conn)?;
                revoke_sessions(ctx, &me.id, Some(&me.session_id))?;
                throttle::clear(ctx.conn, &key)?;
                ctx.tell(
                    Event::PasswordChanged,
                    &owner(&user),
                    &PasswordChanged {
                        link: links::forgot_password(ctx.config),
                    },
                )?;
                ctx.audit_raw("user.password_changed", "user", &me.id, None, None)
            })
        })
        .await
}

//! Sessions: logging in with a password, the rotating refresh-token families, logging out.
//! A refresh token is single use; presenting a spent one revokes its whole family. Failed
//! logins count towards the account's lockout.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::model::{LoginRequest, RefreshRequest, TokenPair, UserRow};
use super::support::{issue_pair, open_session, owner, user_by_email, user_by_id};
use crate::AppState;
use crate::audit::Actor;
use crate::auth::UserStatus;
use crate::auth::principal::RequestMeta;
use crate::auth::tokens::hash_opaque;
use crate::command::{self, Message};
use crate::db::DbConn;
use crate::db::schema::{refresh_tokens, sessions, users};
use crate::error::ApiError;
use crate::notify::Kind;

/// Failures before an account is locked.
const LOCK_AFTER: i32 = 5;

/// The email telling an owner that failed logins locked the account for a while.
#[derive(Debug, Serialize)]
pub struct AccountLocked {
    /// Minutes until the next attempt is allowed, rounded up.
    pub locked_minutes: i64,
}

impl Message for AccountLocked {
    const KIND: Kind = Kind::AccountLocked;
}

pub(super) fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("The email or password is wrong.".into())
}

/// Lockout after `failures` consecutive failures: 30 s doubling per failure past the
/// threshold, at most an hour.
pub fn lockout(failures: i32) -> Option<Duration> {
    (failures >= LOCK_AFTER)
        .then(|| Duration::seconds((30_i64 << (failures - LOCK_AFTER).min(7)).min(3600)))
}

pub(super) fn throttle(
    state: &AppState,
    meta: &RequestMeta,
    what: &str,
    account: Option<&str>,
) -> Result<(), ApiError> {
    state.limiter.hit(
        &format!("{what}:ip:{}", meta.ip),
        state.config.auth_rate_limit_per_ip,
    )?;
    if let Some(a) = account {
        state.limiter.hit(
            &format!("{what}:account:{a}"),
            state.config.auth_rate_limit_per_account,
        )?;
    }
    Ok(())
}

/// Email and password login.
pub async fn login(
    state: &AppState,
    meta: RequestMeta,
    req: LoginRequest,
) -> Result<TokenPair, ApiError> {
    let email = req.email.trim().to_lowercase();
    throttle(state, &meta, "login", Some(&email))?;
    if req.password.chars().count() > crate::auth::password::MAX_LEN {
        return Err(bad_credentials());
    }
    let lookup = email.clone();
    let user = state.db(move |c| Ok(user_by_email(c, &lookup)?)).await?;
    let now = chrono::Utc::now().naive_utc();
    if let Some(until) = user
        .as_ref()
        .and_then(|u| u.locked_until)
        .filter(|t| *t > now)
    {
        let secs = (until - now).num_seconds().max(1) as u64;
        return Err(ApiError::TooManyRequests(secs));
    }
    let ok = state
        .hasher
        .verify(
            user.as_ref().and_then(|u| u.password_hash.clone()),
            req.password,
        )
        .await?;
    let Some(user) = user else {
        return Err(bad_credentials());
    };
    let (jwt, config) = (state.jwt.clone(), state.config.clone());
    if ok && user.status == UserStatus::Active {
        return state
            .db(move |c| {
                let actor = Actor::User(user.id.clone());
                command::run(c, &config, &actor, &meta, |ctx| {
                    diesel::update(users::table.find(&user.id))
                        .set((
                            users::failed_logins.eq(0),
                            users::locked_until.eq(None::<NaiveDateTime>),
                            users::last_login_at.eq(Some(ctx.now)),
                        ))
                        .execute(ctx.conn)?;
                    let pair = open_session(ctx, &jwt, &user)?;
                    ctx.audit_raw(
                        "auth.login_succeeded",
                        "user",
                        &user.id,
                        None,
                        Some(json!({"ip": meta.ip})),
                    )?;
                    Ok(pair)
                })
            })
            .await;
    }
    state
        .db(move |c| record_failure(c, &config, &meta, &user))
        .await?;
    Err(bad_credentials())
}

/// Counts a failed login on `user`, locks it past the threshold and tells its owner.
fn record_failure(
    conn: &mut DbConn,
    config: &crate::config::Config,
    meta: &RequestMeta,
    user: &UserRow,
) -> Result<(), ApiError> {
    command::run(conn, config, &Actor::Anonymous, meta, |ctx| {
        // Count in the statement itself so concurrent failures all count.
        diesel::update(users::table.find(&user.id))
            .set(users::failed_logins.eq(users::failed_logins + 1))
            .execute(ctx.conn)?;
        let failures: i32 = users::table
            .find(&user.id)
            .select(users::failed_logins)
            .first(ctx.conn)?;
        if let Some(lock) = lockout(failures) {
            diesel::update(users::table.find(&user.id))
                .set(users::locked_until.eq(Some(ctx.now + lock)))
                .execute(ctx.conn)?;
            ctx.notify(
                &[owner(user)],
                &AccountLocked {
                    locked_minutes: (lock.num_seconds() + 59) / 60,
                },
            )?;
        }
        ctx.audit_raw(
            "auth.login_failed",
            "user",
            &user.id,
            None,
            Some(json!({"ip": meta.ip, "failed_logins": failures})),
        )
    })
}

enum RefreshOutcome {
    Pair(TokenPair),
    Reused,
    Invalid,
}

/// Rotates a refresh token. A spent token revokes its whole session (family).
pub async fn refresh(
    state: &AppState,
    meta: RequestMeta,
    req: RefreshRequest,
) -> Result<TokenPair, ApiError> {
    let (jwt, config) = (state.jwt.clone(), state.config.clone());
    let hash = hash_opaque(req.refresh_token.trim());
    let outcome = state
        .db(move |c| {
            command::run(c, &config, &Actor::Anonymous, &meta, |ctx| {
                let row: Option<(String, String, NaiveDateTime, Option<NaiveDateTime>)> =
                    refresh_tokens::table
                        .filter(refresh_tokens::token_hash.eq(&hash))
                        .select((
                            refresh_tokens::id,
                            refresh_tokens::session_id,
                            refresh_tokens::expires_at,
                            refresh_tokens::spent_at,
                        ))
                        .first(ctx.conn)
                        .optional()?;
                let Some((token_id, sid, expires_at, spent_at)) = row else {
                    return Ok(RefreshOutcome::Invalid);
                };
                let (user_id, revoked_at): (String, Option<NaiveDateTime>) = sessions::table
                    .find(&sid)
                    .select((sessions::user_id, sessions::revoked_at))
                    .first(ctx.conn)?;
                if revoked_at.is_some() || expires_at <= ctx.now {
                    return Ok(RefreshOutcome::Invalid);
                }
                // Spend it in the statement: of two concurrent uses, only one wins.
                let spent = if spent_at.is_none() {
                    diesel::update(
                        refresh_tokens::table
                            .find(&token_id)
                            .filter(refresh_tokens::spent_at.is_null()),
                    )
                    .set(refresh_tokens::spent_at.eq(Some(ctx.now)))
                    .execute(ctx.conn)?
                } else {
                    0
                };
                if spent == 0 {
                    diesel::update(sessions::table.find(&sid))
                        .set(sessions::revoked_at.eq(Some(ctx.now)))
                        .execute(ctx.conn)?;
                    ctx.audit_raw(
                        "auth.refresh_token_reused",
                        "user",
                        &user_id,
                        None,
                        Some(json!({"session_id": sid, "ip": meta.ip})),
                    )?;
                    return Ok(RefreshOutcome::Reused);
                }
                let user = user_by_id(ctx.conn, &user_id)?;
                if user.status != UserStatus::Active {
                    return Ok(RefreshOutcome::Invalid);
                }
                Ok(RefreshOutcome::Pair(issue_pair(ctx, &jwt, &user, &sid)?))
            })
        })
        .await?;
    match outcome {
        RefreshOutcome::Pair(p) => Ok(p),
        RefreshOutcome::Reused => Err(ApiError::Unauthorized(
            "This refresh token was already used; the session is revoked. Log in again.".into(),
        )),
        RefreshOutcome::Invalid => Err(ApiError::Unauthorized(
            "The refresh token is invalid, expired or revoked.".into(),
        )),
    }
}

/// Ends the session a refresh token belongs to. Unknown tokens are ignored.
pub fn logout(
    conn: &mut DbConn,
    config: &crate::config::Config,
    meta: &RequestMeta,
    req: RefreshRequest,
) -> Result<(), ApiError> {
    let hash = hash_opaque(req.refresh_token.trim());
    let found: Option<(String, String)> = refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select((sessions::id, sessions::user_id))
        .first(conn)
        .optional()?;
    let Some((sid, user_id)) = found else {
        return Ok(());
    };
    command::run(conn, config, &Actor::User(user_id.clone()), meta, |ctx| {
        diesel::update(
            sessions::table
                .find(&sid)
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(Some(ctx.now)))
        .execute(ctx.conn)?;
        ctx.audit_raw(
            "auth.logout",
            "user",
            &user_id,
            None,
            Some(json!({"session_id": sid})),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_at_five_failures_and_doubles_up_to_an_hour() {
        assert_eq!(lockout(4), None);
        assert_eq!(lockout(5), Some(Duration::seconds(30)));
        assert_eq!(lockout(6), Some(Duration::seconds(60)));
        assert_eq!(lockout(50), Some(Duration::seconds(3600)));
    }
}

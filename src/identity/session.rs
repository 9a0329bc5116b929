//! Sessions: logging in with a password, the rotating refresh-token families, logging out.
//! A refresh token is single use; presenting a spent one revokes its whole family. Failed
//! logins count towards the account's lockout.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::model::{LoginRequest, RefreshRequest, TokenPair, UserRow};
use super::support::{issue_pair, open_session, owner, user_by_email, user_by_id};
use crate::AppState;
use crate::audit::Actor;
use crate::auth::UserStatus;
use crate::auth::principal::RequestMeta;
use crate::auth::throttle;
use crate::auth::tokens::hash_opaque;
use crate::command::{self, Message};
use crate::config::address_bucket;
use crate::db::DbConn;
use crate::db::schema::{refresh_tokens, sessions, users};
use crate::error::ApiError;
use crate::notify::matrix::Event;
use crate::notify::{Kind, links};

/// The email telling an owner that failed logins locked the account for a while.
#[derive(Debug, Serialize)]
pub struct AccountLocked {
    /// Minutes until the next attempt is allowed, rounded up.
    pub locked_minutes: i64,
    /// Where to ask for a new password if it was not the owner.
    pub link: String,
}

impl Message for AccountLocked {
    const KIND: Kind = Kind::AccountLocked;
}

pub(super) fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("The email or password is wrong.".into())
}

/// The rate limits of a password check on `what` (login, password), per address and per
/// account: 429 whatever the account, so they reveal nothing about which accounts exist.
pub(super) async fn rate_limit(
    state: &AppState,
    meta: &RequestMeta,
    what: &str,
    account: Option<&str>,
) -> Result<(), ApiError> {
    let mut limits = vec![(
        format!("{what}:ip:{}", address_bucket(&meta.ip)),
        state.config.auth_rate_limit_per_ip,
    )];
    if let Some(a) = account {
        limits.push((
            format!("{what}:account:{a}"),
            state.config.auth_rate_limit_per_account,
        ));
    }
    throttle::limit(state, limits).await
}

/// The lockout key of an account's password checks from one address (an IPv6 /64): failures
/// lock that pair only, so a guesser elsewhere cannot lock the owner out.
pub(super) fn lock_key(what: &str, account: &str, ip: &str) -> String {
    format!("{}{}", lock_prefix(what, account), address_bucket(ip))
}

/// The per-account limit of logins, which slows guessing without refusing the owner: every
/// attempt on `account` counts, and once the account is over its limit for the minute only
/// addresses that already failed for it (their lockout key `key` holds failures) get 429. An
/// address that never failed for it goes on to the password check, so eleven wrong logins from
/// anywhere never keep the owner out. Keyed by the email as typed: known and unknown accounts
/// answer alike.
fn limit_account(
    conn: &mut DbConn,
    max: u32,
    account: &str,
    key: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let c = throttle::count(
        conn,
        &format!("login:account:{account}"),
        throttle::RATE_WINDOW,
        now,
    )?;
    if c.hits > i32::try_from(max).unwrap_or(i32::MAX) && throttle::failures(conn, key, now)? > 0 {
        let retry = (c.window_start + throttle::RATE_WINDOW - now)
            .num_seconds()
            .max(1);
        return Err(ApiError::TooManyRequests(retry.unsigned_abs()));
    }
    Ok(())
}

/// The prefix of every lockout key of an account (all addresses), to clear them at once.
pub(super) fn lock_prefix(what: &str, account: &str) -> String {
    format!("lock:{what}:{account}|")
}

/// Email and password login. A locked pair (account, address) answers exactly as a wrong
/// password, after the same password work, for known and unknown emails alike; the owner at
/// an address that has not failed is never refused for what others did (`limit_account`).
pub async fn login(
    state: &AppState,
    meta: RequestMeta,
    req: LoginRequest,
) -> Result<TokenPair, ApiError> {
    let email = req.email.trim().to_lowercase();
    rate_limit(state, &meta, "login", None).await?;
    if req.password.chars().count() > crate::auth::password::MAX_LEN {
        return Err(bad_credentials());
    }
    let key = lock_key("login", &email, &meta.ip);
    let (lookup, k) = (email.clone(), key.clone());
    let max = state.config.auth_rate_limit_per_account;
    let clock = state.clock().clone();
    let (user, locked) = state
        .db(move |c| {
            let now = clock.naive();
            limit_account(c, max, &lookup, &k, now)?;
            Ok((user_by_email(c, &lookup)?, throttle::is_locked(c, &k, now)?))
        })
        .await?;
    let ok = state
        .hasher
        .verify(
            user.as_ref().and_then(|u| u.password_hash.clone()),
            req.password,
        )
        .await?;
    let (jwt, config) = (state.jwt.clone(), state.config.clone());
    match user {
        Some(user) if ok && !locked && user.status == UserStatus::Active => {
            state
                .db(move |c| {
                    let actor = Actor::User(user.id.clone());
                    command::run(c, &config, &actor, &meta, |ctx| {
                        diesel::update(users::table.find(&user.id))
                            .set(users::last_login_at.eq(Some(ctx.now)))
                            .execute(ctx.conn)?;
                        throttle::clear(ctx.conn, &key)?;
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
                .await
        }
        user => {
            state
                .db(move |c| record_failure(c, &config, &meta, user.as_ref(), &key))
                .await?;
            Err(bad_credentials())
        }
    }
}

/// Counts a failed login on its lockout key; for a real account, records it and tells the
/// owner when a lockout starts.
fn record_failure(
    conn: &mut DbConn,
    config: &crate::config::Config,
    meta: &RequestMeta,
    user: Option<&UserRow>,
    key: &str,
) -> Result<(), ApiError> {
    let Some(user) = user else {
        throttle::fail(conn, key, config.clock.naive())?;
        return Ok(());
    };
    command::run(conn, config, &Actor::Anonymous, meta, |ctx| {
        let (failures, lock) = throttle::fail(ctx.conn, key, ctx.now)?;
        // Each address locked out is one lock, but the owner hears of it once per period.
        let lock = match lock {
            Some(lock) if throttle::first_lock_notice(ctx.conn, &user.email, ctx.now)? => {
                Some(lock)
            }
            _ => None,
        };
        if let Some(lock) = lock {
            ctx.tell(
                Event::AccountLocked,
                &owner(user),
                &AccountLocked {
                    locked_minutes: (lock.num_seconds() + 59) / 60,
                    link: links::forgot_password(ctx.config),
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

/// (id, role, organisation, status, display name, language, session revoked at).
type SessionUserRow = (
    String,
    crate::auth::Role,
    Option<String>,
    UserStatus,
    String,
    String,
    Option<NaiveDateTime>,
);

/// A console session's user: the session's refresh token is unspent and unexpired, its
/// session not revoked (logout and password resets revoke it) and its user active. Returns
/// the caller, its display name and its language. The token is not rotated: the console keeps it in an
/// HttpOnly cookie, and its session ends as every other session does.
pub fn session_user(
    conn: &mut DbConn,
    refresh_token: &str,
    now: NaiveDateTime,
) -> Result<
    Option<(
        crate::auth::principal::UserPrincipal,
        String,
        crate::i18n::Lang,
    )>,
    ApiError,
> {
    let hash = hash_opaque(refresh_token.trim());
    let token: Option<(String, NaiveDateTime, Option<NaiveDateTime>)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select((
            refresh_tokens::session_id,
            refresh_tokens::expires_at,
            refresh_tokens::spent_at,
        ))
        .first(conn)
        .optional()?;
    let Some((sid, expires_at, None)) = token else {
        return Ok(None);
    };
    if expires_at <= now {
        return Ok(None);
    }
    let row: Option<SessionUserRow> = users::table
        .inner_join(sessions::table)
        .filter(sessions::id.eq(&sid))
        .select((
            users::id,
            users::role,
            users::organisation_id,
            users::status,
            users::display_name,
            users::language,
            sessions::revoked_at,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((id, role, organisation_id, UserStatus::Active, name, language, None)) => Some((
            crate::auth::principal::UserPrincipal {
                id,
                role,
                organisation_id,
                session_id: sid,
            },
            name,
            crate::i18n::Lang::of_stored(&language),
        )),
        _ => None,
    })
}

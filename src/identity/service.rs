//! Identity rules: how people log in and stay logged in, how sessions end, how accounts are
//! created, changed and locked, and how partner apps get tokens. Every change writes its
//! audit event and its emails in the same transaction.

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::json;

use super::model::*;
use crate::audit::{self, Actor, Event};
use crate::auth::password::check_policy;
use crate::auth::principal::RequestMeta;
use crate::auth::tokens::{JwtKeys, hash_opaque, opaque};
use crate::auth::{Principal, Role, Scope};
use crate::config::Config;
use crate::db::schema::{
    api_clients, one_time_tokens, organisations, refresh_tokens, sessions, users,
};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, FieldError};
use crate::kit::{check_name, normalise_email};
use crate::notify::{self, Kind, Recipient};
use crate::pagination::page_cursor;
use crate::{AppState, pagination};

/// Failures before an account is locked.
const LOCK_AFTER: i32 = 5;
/// An invitation link lives this long.
const INVITATION_TTL: Duration = Duration::days(7);
/// A password reset link lives this long.
const RESET_TTL: Duration = Duration::minutes(30);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized("The email or password is wrong.".into())
}

fn check_display_name(field: &str, name: &str) -> Result<String, ApiError> {
    check_name(field, name, 1, 120)
}

fn recipient(u: &UserRow) -> Recipient {
    Recipient {
        email: u.email.clone(),
        name: u.display_name.clone(),
        user_id: Some(u.id.clone()),
    }
}

fn user_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Loads a user by id (404 when unknown).
pub fn user_by_id(conn: &mut DbConn, id: &str) -> Result<UserRow, ApiError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn user_snapshot(u: &UserRow) -> Option<serde_json::Value> {
    audit::snapshot(&User::from(u.clone()))
}

/// Starts a session and issues its first token pair.
fn open_session(
    conn: &mut DbConn,
    jwt: &JwtKeys,
    config: &Config,
    user: &UserRow,
) -> Result<TokenPair, ApiError> {
    let sid = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&sid),
            sessions::user_id.eq(&user.id),
            sessions::created_at.eq(now()),
            sessions::revoked_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    issue_pair(conn, jwt, config, user, &sid)
}

fn issue_pair(
    conn: &mut DbConn,
    jwt: &JwtKeys,
    config: &Config,
    user: &UserRow,
    sid: &str,
) -> Result<TokenPair, ApiError> {
    let refresh = opaque();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            refresh_tokens::session_id.eq(sid),
            refresh_tokens::token_hash.eq(hash_opaque(&refresh)),
            refresh_tokens::expires_at.eq(now() + Duration::days(config.refresh_token_ttl_days)),
            refresh_tokens::spent_at.eq(None::<NaiveDateTime>),
            refresh_tokens::created_at.eq(now()),
        ))
        .execute(conn)?;
    let access = jwt
        .issue(
            &user.id,
            "user",
            Some(user.role.clone()),
            user.organisation_id.clone(),
            None,
            Some(sid.to_string()),
        )
        .map_err(ApiError::Internal)?;
    Ok(TokenPair {
        access_token: access,
        token_type: "Bearer",
        expires_in: jwt.ttl_secs(),
        refresh_token: refresh,
    })
}

/// Ends every open session of a user, optionally sparing one.
fn revoke_sessions(conn: &mut DbConn, user_id: &str, except: Option<&str>) -> QueryResult<usize> {
    let q = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null());
    match except {
        Some(sid) => diesel::update(q.filter(sessions::id.ne(sid)))
            .set(sessions::revoked_at.eq(Some(now())))
            .execute(conn),
        None => diesel::update(q)
            .set(sessions::revoked_at.eq(Some(now())))
            .execute(conn),
    }
}

fn throttle(
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

/// Lockout after `failures` consecutive failures: 30 s doubling per failure past the
/// threshold, at most an hour.
pub fn lockout(failures: i32) -> Option<Duration> {
    (failures >= LOCK_AFTER)
        .then(|| Duration::seconds((30_i64 << (failures - LOCK_AFTER).min(7)).min(3600)))
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
    if let Some(until) = user
        .as_ref()
        .and_then(|u| u.locked_until)
        .filter(|t| *t > now())
    {
        let secs = (until - now()).num_seconds().max(1) as u64;
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
    if ok && user.status == "active" {
        return state
            .db(move |c| {
                write_tx(c, |c| {
                    diesel::update(users::table.find(&user.id))
                        .set((
                            users::failed_logins.eq(0),
                            users::locked_until.eq(None::<NaiveDateTime>),
                            users::last_login_at.eq(Some(now())),
                        ))
                        .execute(c)?;
                    let pair = open_session(c, &jwt, &config, &user)?;
                    audit::record(
                        c,
                        Event {
                            actor: &Actor::User(user.id.clone()),
                            action: "auth.login_succeeded",
                            entity_type: "user",
                            entity_id: &user.id,
                            before: None,
                            after: Some(json!({"ip": meta.ip})),
                            request_id: meta.request_id.as_deref(),
                        },
                    )?;
                    Ok(pair)
                })
            })
            .await;
    }
    state
        .db(move |c| {
            write_tx(c, |c| {
                // Count in the statement itself so concurrent failures all count.
                diesel::update(users::table.find(&user.id))
                    .set(users::failed_logins.eq(users::failed_logins + 1))
                    .execute(c)?;
                let failures: i32 = users::table
                    .find(&user.id)
                    .select(users::failed_logins)
                    .first(c)?;
                if let Some(lock) = lockout(failures) {
                    diesel::update(users::table.find(&user.id))
                        .set(users::locked_until.eq(Some(now() + lock)))
                        .execute(c)?;
                    notify::enqueue(
                        c,
                        &config,
                        Kind::AccountLocked,
                        &recipient(&user),
                        json!({"locked_minutes": (lock.num_seconds() + 59) / 60}),
                        None,
                    )?;
                }
                audit::record(
                    c,
                    Event {
                        actor: &Actor::Anonymous,
                        action: "auth.login_failed",
                        entity_type: "user",
                        entity_id: &user.id,
                        before: None,
                        after: Some(json!({"ip": meta.ip, "failed_logins": failures})),
                        request_id: meta.request_id.as_deref(),
                    },
                )?;
                Ok(())
            })
        })
        .await?;
    Err(bad_credentials())
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
            write_tx(c, |c| {
                let row: Option<(String, String, NaiveDateTime, Option<NaiveDateTime>)> =
                    refresh_tokens::table
                        .filter(refresh_tokens::token_hash.eq(&hash))
                        .select((
                            refresh_tokens::id,
                            refresh_tokens::session_id,
                            refresh_tokens::expires_at,
                            refresh_tokens::spent_at,
                        ))
                        .first(c)
                        .optional()?;
                let Some((token_id, sid, expires_at, spent_at)) = row else {
                    return Ok(RefreshOutcome::Invalid);
                };
                let (user_id, revoked_at): (String, Option<NaiveDateTime>) = sessions::table
                    .find(&sid)
                    .select((sessions::user_id, sessions::revoked_at))
                    .first(c)?;
                if revoked_at.is_some() || expires_at <= now() {
                    return Ok(RefreshOutcome::Invalid);
                }
                // Spend it in the statement: of two concurrent uses, only one wins.
                let spent = if spent_at.is_none() {
                    diesel::update(
                        refresh_tokens::table
                            .find(&token_id)
                            .filter(refresh_tokens::spent_at.is_null()),
                    )
                    .set(refresh_tokens::spent_at.eq(Some(now())))
                    .execute(c)?
                } else {
                    0
                };
                if spent == 0 {
                    diesel::update(sessions::table.find(&sid))
                        .set(sessions::revoked_at.eq(Some(now())))
                        .execute(c)?;
                    audit::record(
                        c,
                        Event {
                            actor: &Actor::Anonymous,
                            action: "auth.refresh_token_reused",
                            entity_type: "user",
                            entity_id: &user_id,
                            before: None,
                            after: Some(json!({"session_id": sid, "ip": meta.ip})),
                            request_id: meta.request_id.as_deref(),
                        },
                    )?;
                    return Ok(RefreshOutcome::Reused);
                }
                let user = user_by_id(c, &user_id)?;
                if user.status != "active" {
                    return Ok(RefreshOutcome::Invalid);
                }
                Ok(RefreshOutcome::Pair(issue_pair(
                    c, &jwt, &config, &user, &sid,
                )?))
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
pub fn logout(conn: &mut DbConn, meta: &RequestMeta, req: RefreshRequest) -> Result<(), ApiError> {
    let hash = hash_opaque(req.refresh_token.trim());
    write_tx(conn, |c| {
        let sid: Option<String> = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select(refresh_tokens::session_id)
            .first(c)
            .optional()?;
        if let Some(sid) = sid {
            let user_id: String = sessions::table
                .find(&sid)
                .select(sessions::user_id)
                .first(c)?;
            diesel::update(
                sessions::table
                    .find(&sid)
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(Some(now())))
            .execute(c)?;
            audit::record(
                c,
                Event {
                    actor: &Actor::User(user_id.clone()),
                    action: "auth.logout",
                    entity_type: "user",
                    entity_id: &user_id,
                    before: None,
                    after: Some(json!({"session_id": sid})),
                    request_id: meta.request_id.as_deref(),
                },
            )?;
        }
        Ok(())
    })
}

fn new_one_time_token(
    conn: &mut DbConn,
    user_id: &str,
    purpose: &str,
    ttl: Duration,
) -> QueryResult<String> {
    // A new link makes earlier unused links of the same purpose worthless.
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::user_id.eq(user_id))
            .filter(one_time_tokens::purpose.eq(purpose))
            .filter(one_time_tokens::used_at.is_null()),
    )
    .set(one_time_tokens::used_at.eq(Some(now())))
    .execute(conn)?;
    let token = opaque();
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            one_time_tokens::user_id.eq(user_id),
            one_time_tokens::purpose.eq(purpose),
            one_time_tokens::token_hash.eq(hash_opaque(&token)),
            one_time_tokens::expires_at.eq(now() + ttl),
            one_time_tokens::used_at.eq(None::<NaiveDateTime>),
            one_time_tokens::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Spends a one-time token; returns its user id, or a 400 naming `token`.
fn spend_one_time_token(conn: &mut DbConn, token: &str, purpose: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::field(
            "token",
            "invalid",
            "This link is invalid, expired or already used.",
        )
    };
    let row: Option<(String, String)> = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(hash_opaque(token.trim())))
        .filter(one_time_tokens::purpose.eq(purpose))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(now()))
        .select((one_time_tokens::id, one_time_tokens::user_id))
        .first(conn)
        .optional()?;
    let (id, user_id) = row.ok_or_else(invalid)?;
    let n = diesel::update(
        one_time_tokens::table
            .find(&id)
            .filter(one_time_tokens::used_at.is_null()),
    )
    .set(one_time_tokens::used_at.eq(Some(now())))
    .execute(conn)?;
    if n == 0 {
        return Err(invalid());
    }
    Ok(user_id)
}

fn invitation_link(config: &Config, token: &str) -> String {
    format!("{}/accept-invitation?token={token}", config.public_base_url)
}

fn enqueue_invitation(
    conn: &mut DbConn,
    config: &Config,
    user: &UserRow,
    invited_by: &str,
) -> Result<(), ApiError> {
    let token = new_one_time_token(conn, &user.id, "invitation", INVITATION_TTL)?;
    let org_name: Option<String> = match &user.organisation_id {
        Some(id) => organisations::table
            .find(id)
            .select(organisations::name)
            .first(conn)
            .optional()?,
        None => None,
    };
    notify::enqueue(
        conn,
        config,
        Kind::Invitation,
        &recipient(user),
        json!({"link": invitation_link(config, &token), "expires_in": "7 days", "invited_by": invited_by, "organisation_name": org_name}),
        None,
    )?;
    Ok(())
}

/// Emails a password reset link when the account exists and is active. Always succeeds
/// from the caller's view, so it reveals nothing about which addresses have accounts.
pub async fn request_password_reset(
    state: &AppState,
    meta: RequestMeta,
    req: PasswordResetRequest,
) -> Result<(), ApiError> {
    let email = req.email.trim().to_lowercase();
    throttle(state, &meta, "reset", Some(&email))?;
    let config = state.config.clone();
    state
        .db(move |c| {
            write_tx(c, |c| {
                let Some(user) = user_by_email(c, &email)? else {
                    return Ok(());
                };
                if user.status != "active" {
                    return Ok(());
                }
                let token = new_one_time_token(c, &user.id, "password_reset", RESET_TTL)?;
                let link = format!("{}/reset-password?token={token}", config.public_base_url);
                notify::enqueue(
                    c,
                    &config,
                    Kind::PasswordReset,
                    &recipient(&user),
                    json!({"link": link, "expires_in": "30 minutes"}),
                    None,
                )?;
                audit::record(
                    c,
                    Event {
                        actor: &Actor::Anonymous,
                        action: "user.password_reset_requested",
                        entity_type: "user",
                        entity_id: &user.id,
                        before: None,
                        after: Some(json!({"ip": meta.ip})),
                        request_id: meta.request_id.as_deref(),
                    },
                )?;
                Ok(())
            })
        })
        .await
}

/// Sets a new password from a reset link and ends every session of the user.
pub async fn confirm_password_reset(
    state: &AppState,
    meta: RequestMeta,
    req: PasswordResetConfirm,
) -> Result<(), ApiError> {
    check_policy("password", &req.password)?;
    throttle(state, &meta, "reset-confirm", None)?;
    let hash = state.hasher.hash(req.password).await?;
    let config = state.config.clone();
    state
        .db(move |c| {
            write_tx(c, |c| {
                let user_id = spend_one_time_token(c, &req.token, "password_reset")?;
                let user = user_by_id(c, &user_id)?;
                diesel::update(users::table.find(&user_id))
                    .set((
                        users::password_hash.eq(Some(&hash)),
                        users::failed_logins.eq(0),
                        users::locked_until.eq(None::<NaiveDateTime>),
                        users::updated_at.eq(now()),
                    ))
                    .execute(c)?;
                revoke_sessions(c, &user_id, None)?;
                notify::enqueue(
                    c,
                    &config,
                    Kind::PasswordChanged,
                    &recipient(&user),
                    json!({}),
                    None,
                )?;
                audit::record(
                    c,
                    Event {
                        actor: &Actor::User(user_id.clone()),
                        action: "user.password_reset",
                        entity_type: "user",
                        entity_id: &user_id,
                        before: None,
                        after: None,
                        request_id: meta.request_id.as_deref(),
                    },
                )?;
                Ok(())
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
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let display_name = display_name.unwrap_or_default();
    let hash = state.hasher.hash(req.password).await?;
    let (jwt, config) = (state.jwt.clone(), state.config.clone());
    state
        .db(move |c| {
            write_tx(c, |c| {
                let user_id = spend_one_time_token(c, &req.token, "invitation")?;
                let before = user_by_id(c, &user_id)?;
                if before.status != "invited" {
                    return Err(ApiError::field(
                        "token",
                        "invalid",
                        "This invitation was already accepted.",
                    ));
                }
                diesel::update(users::table.find(&user_id))
                    .set((
                        users::password_hash.eq(Some(&hash)),
                        users::display_name.eq(&display_name),
                        users::status.eq("active"),
                        users::last_login_at.eq(Some(now())),
                        users::updated_at.eq(now()),
                    ))
                    .execute(c)?;
                let user = user_by_id(c, &user_id)?;
                audit::record(
                    c,
                    Event {
                        actor: &Actor::User(user_id.clone()),
                        action: "user.invitation_accepted",
                        entity_type: "user",
                        entity_id: &user_id,
                        before: user_snapshot(&before),
                        after: user_snapshot(&user),
                        request_id: meta.request_id.as_deref(),
                    },
                )?;
                open_session(c, &jwt, &config, &user)
            })
        })
        .await
}

/// Changes one's own profile.
pub fn update_me(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    patch: MePatch,
) -> Result<UserRow, ApiError> {
    let me = who
        .user()
        .ok_or_else(|| ApiError::Forbidden("Only users have a profile.".into()))?;
    write_tx(conn, |c| {
        let before = user_by_id(c, &me.id)?;
        if let Some(name) = &patch.display_name {
            let name = check_display_name("display_name", name)?;
            diesel::update(users::table.find(&me.id))
                .set((users::display_name.eq(name), users::updated_at.eq(now())))
                .execute(c)?;
        }
        let after = user_by_id(c, &me.id)?;
        audit::record(
            c,
            Event {
                actor: &who.actor(),
                action: "user.profile_updated",
                entity_type: "user",
                entity_id: &me.id,
                before: user_snapshot(&before),
                after: user_snapshot(&after),
                request_id: meta.request_id.as_deref(),
            },
        )?;
        Ok(after)
    })
}

/// Changes one's own password and ends every other session.
pub async fn change_password(
    state: &AppState,
    who: &Principal,
    meta: RequestMeta,
    req: ChangePassword,
) -> Result<(), ApiError> {
    let me = who
        .user()
        .ok_or_else(|| ApiError::Forbidden("Only users have a password.".into()))?
        .clone();
    check_policy("new_password", &req.new_password)?;
    let id = me.id.clone();
    let user = state.db(move |c| user_by_id(c, &id)).await?;
    if !state
        .hasher
        .verify(user.password_hash.clone(), req.current_password)
        .await?
    {
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
            write_tx(c, |c| {
                diesel::update(users::table.find(&me.id))
                    .set((
                        users::password_hash.eq(Some(&hash)),
                        users::updated_at.eq(now()),
                    ))
                    .execute(c)?;
                revoke_sessions(c, &me.id, Some(&me.session_id))?;
                notify::enqueue(
                    c,
                    &config,
                    Kind::PasswordChanged,
                    &recipient(&user),
                    json!({}),
                    None,
                )?;
                audit::record(
                    c,
                    Event {
                        actor: &Actor::User(me.id.clone()),
                        action: "user.password_changed",
                        entity_type: "user",
                        entity_id: &me.id,
                        before: None,
                        after: None,
                        request_id: meta.request_id.as_deref(),
                    },
                )?;
                Ok(())
            })
        })
        .await
}

fn check_organisation(conn: &mut DbConn, field: &str, id: &str) -> Result<(), ApiError> {
    let exists: i64 = organisations::table
        .filter(organisations::id.eq(id))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        return Err(ApiError::field(
            field,
            "unknown",
            "No organisation has this id.",
        ));
    }
    Ok(())
}

fn display_name_of(conn: &mut DbConn, who: &Principal) -> String {
    who.user()
        .and_then(|u| {
            users::table
                .find(&u.id)
                .select(users::display_name)
                .first::<String>(conn)
                .ok()
        })
        .unwrap_or_else(|| "The secretariat".into())
}

/// Creates a user in `invited` status and emails the invitation.
pub fn create_user(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    req: NewUser,
) -> Result<UserRow, ApiError> {
    who.require_role(&[Role::Admin])?;
    let mut errors: Vec<FieldError> = Vec::new();
    let email = normalise_email("email", &req.email)
        .map_err(|e| errors.push(first(e)))
        .ok();
    let name = check_display_name("display_name", &req.display_name)
        .map_err(|e| errors.push(first(e)))
        .ok();
    if req.role == Role::Member && req.organisation_id.is_none() {
        errors.push(FieldError::new(
            "organisation_id",
            "required",
            "A member user needs an organisation.",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (email, name) = (email.unwrap_or_default(), name.unwrap_or_default());
    write_tx(conn, |c| {
        if let Some(org) = &req.organisation_id {
            check_organisation(c, "organisation_id", org)?;
        }
        let row = UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            email: email.clone(),
            display_name: name.clone(),
            role: req.role.as_str().into(),
            organisation_id: req.organisation_id.clone(),
            status: "invited".into(),
            password_hash: None,
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now(),
            updated_at: now(),
        };
        insert_user(c, &row)?;
        let inviter = display_name_of(c, who);
        enqueue_invitation(c, config, &row, &inviter)?;
        audit::record(
            c,
            Event {
                actor: &who.actor(),
                action: "user.created",
                entity_type: "user",
                entity_id: &row.id,
                before: None,
                after: user_snapshot(&row),
                request_id: meta.request_id.as_deref(),
            },
        )?;
        Ok(row)
    })
}

/// Creates an invited member user of `organisation_id` and enqueues the invitation email, in
/// the caller's transaction. Used when an approved membership application brings in its
/// contact as the organisation's first member user.
#[allow(clippy::too_many_arguments)]
pub fn invite_member(
    conn: &mut DbConn,
    config: &Config,
    actor: &Actor,
    request_id: Option<&str>,
    inviter_name: &str,
    email: &str,
    display_name: &str,
    organisation_id: &str,
) -> Result<UserRow, ApiError> {
    let email = normalise_email("email", email)?;
    let name = check_display_name("display_name", display_name)?;
    let row = UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        email,
        display_name: name,
        role: Role::Member.as_str().into(),
        organisation_id: Some(organisation_id.to_string()),
        status: "invited".into(),
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        last_login_at: None,
        created_at: now(),
        updated_at: now(),
    };
    insert_user(conn, &row)?;
    enqueue_invitation(conn, config, &row, inviter_name)?;
    audit::record(
        conn,
        Event {
            actor,
            action: "user.created",
            entity_type: "user",
            entity_id: &row.id,
            before: None,
            after: user_snapshot(&row),
            request_id,
        },
    )?;
    Ok(row)
}

/// The display name of a user (for "invited by" lines), or the secretariat.
pub fn display_name_or_secretariat(conn: &mut DbConn, who: &Principal) -> String {
    display_name_of(conn, who)
}

/// Inserts a user row, turning a duplicate email into 409.
pub fn insert_user(conn: &mut DbConn, row: &UserRow) -> Result<(), ApiError> {
    match diesel::insert_into(users::table).values(row).execute(conn) {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ApiError::Conflict {
                code: crate::error::ConflictCode::EmailTaken,
                detail: "A user with this email already exists.".into(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn first(e: ApiError) -> FieldError {
    match e {
        ApiError::Validation(mut v) if !v.is_empty() => v.remove(0),
        other => FieldError::new("body", "invalid", other.to_string()),
    }
}

/// Re-sends an invitation to a user who has not accepted yet.
pub fn resend_invitation(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<UserRow, ApiError> {
    who.require_role(&[Role::Admin])?;
    write_tx(conn, |c| {
        let user = user_by_id(c, id)?;
        if user.status != "invited" {
            return Err(ApiError::Conflict {
                code: crate::error::ConflictCode::NotInvited,
                detail: format!(
                    "The user is {}; only invited users get invitations.",
                    user.status
                ),
            });
        }
        let inviter = display_name_of(c, who);
        enqueue_invitation(c, config, &user, &inviter)?;
        audit::record(
            c,
            Event {
                actor: &who.actor(),
                action: "user.invitation_resent",
                entity_type: "user",
                entity_id: &user.id,
                before: None,
                after: None,
                request_id: meta.request_id.as_deref(),
            },
        )?;
        Ok(user)
    })
}

/// Changes a user's role, status or organisation. Disabling ends every session at once.
pub fn update_user(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    patch: UserPatch,
) -> Result<UserRow, ApiError> {
    let admin = who.require_role(&[Role::Admin])?;
    write_tx(conn, |c| {
        let before = user_by_id(c, id)?;
        let role = patch
            .role
            .map(|r| r.as_str().to_string())
            .unwrap_or_else(|| before.role.clone());
        let org = patch
            .organisation_id
            .clone()
            .or_else(|| before.organisation_id.clone());
        let status = match patch.status {
            None => before.status.clone(),
            Some(UserStatus::Invited) => {
                return Err(ApiError::field(
                    "status",
                    "invalid",
                    "A status can be set to active or disabled.",
                ));
            }
            Some(UserStatus::Active) if before.password_hash.is_none() => {
                return Err(ApiError::Conflict {
                    code: crate::error::ConflictCode::InvitationPending,
                    detail: "The user has not accepted the invitation yet.".into(),
                });
            }
            Some(s) => crate::codes::wire_name(&s),
        };
        if role == "member" && org.is_none() {
            return Err(ApiError::field(
                "organisation_id",
                "required",
                "A member user needs an organisation.",
            ));
        }
        if let Some(o) = &patch.organisation_id {
            check_organisation(c, "organisation_id", o)?;
        }
        if before.id == admin.id && (role != "admin" || status == "disabled") {
            return Err(ApiError::Conflict {
                code: crate::error::ConflictCode::SelfLockout,
                detail: "Admins cannot demote or disable themselves.".into(),
            });
        }
        diesel::update(users::table.find(id))
            .set((
                users::role.eq(&role),
                users::status.eq(&status),
                users::organisation_id.eq(&org),
                users::updated_at.eq(now()),
            ))
            .execute(c)?;
        if status == "disabled" {
            revoke_sessions(c, id, None)?;
        }
        let after = user_by_id(c, id)?;
        for (changed, action) in [
            (before.role != after.role, "user.role_changed"),
            (before.status != after.status, "user.status_changed"),
            (
                before.organisation_id != after.organisation_id,
                "user.organisation_changed",
            ),
        ] {
            if changed {
                audit::record(
                    c,
                    Event {
                        actor: &who.actor(),
                        action,
                        entity_type: "user",
                        entity_id: id,
                        before: user_snapshot(&before),
                        after: user_snapshot(&after),
                        request_id: meta.request_id.as_deref(),
                    },
                )?;
            }
        }
        Ok(after)
    })
}

/// Lists users, oldest first.
pub fn list_users(
    conn: &mut DbConn,
    who: &Principal,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<User>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(users::id.gt(a[0].clone()));
    }
    let mut rows: Vec<UserRow> = q.load(conn)?;
    let total: i64 = users::table.count().get_result(conn)?;
    let next_cursor = page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(pagination::Page {
        data: rows.into_iter().map(User::from).collect(),
        next_cursor,
        total,
    })
}

/// Creates an API client; the secret is returned once and stored hashed.
pub fn create_client(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    req: NewApiClient,
) -> Result<CreatedApiClient, ApiError> {
    let admin = who.require_role(&[Role::Admin])?;
    let mut errors = Vec::new();
    if let Err(e) = check_name("name", &req.name, 2, 120) {
        errors.push(first(e));
    }
    if req.scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "required",
            "Grant at least one scope.",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut scopes: Vec<&str> = req.scopes.iter().map(|s| s.as_str()).collect();
    scopes.sort();
    scopes.dedup();
    let secret = opaque();
    let row = ApiClientRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: req.name.trim().to_string(),
        organisation_id: req.organisation_id.clone(),
        client_id: format!("idpc_{}", uuid::Uuid::new_v4().simple()),
        secret_hash: hash_opaque(&secret),
        scopes: scopes.join(" "),
        created_by: admin.id.clone(),
        created_at: now(),
        revoked_at: None,
    };
    write_tx(conn, |c| {
        check_organisation(c, "organisation_id", &req.organisation_id)?;
        diesel::insert_into(api_clients::table)
            .values(&row)
            .execute(c)?;
        audit::record(
            c,
            Event {
                actor: &who.actor(),
                action: "api_client.created",
                entity_type: "api_client",
                entity_id: &row.id,
                before: None,
                after: audit::snapshot(&ApiClient::from(row.clone())),
                request_id: meta.request_id.as_deref(),
            },
        )?;
        Ok::<(), ApiError>(())
    })?;
    Ok(CreatedApiClient {
        client: row.into(),
        client_secret: secret,
    })
}

/// Lists API clients (no secrets).
pub fn list_clients(
    conn: &mut DbConn,
    who: &Principal,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<ApiClient>, ApiError> {
    who.require_role(&[Role::Admin])?;
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = api_clients::table
        .select(ApiClientRow::as_select())
        .order(api_clients::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(api_clients::id.gt(a[0].clone()));
    }
    let mut rows: Vec<ApiClientRow> = q.load(conn)?;
    let total: i64 = api_clients::table.count().get_result(conn)?;
    let next_cursor = page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(pagination::Page {
        data: rows.into_iter().map(ApiClient::from).collect(),
        next_cursor,
        total,
    })
}

/// Revokes an API client; its tokens stop working at once.
pub fn revoke_client(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<(), ApiError> {
    who.require_role(&[Role::Admin])?;
    write_tx(conn, |c| {
        let before: ApiClientRow = api_clients::table
            .find(id)
            .select(ApiClientRow::as_select())
            .first(c)
            .optional()?
            .ok_or(ApiError::NotFound)?;
        if before.revoked_at.is_some() {
            return Ok(());
        }
        diesel::update(api_clients::table.find(id))
            .set(api_clients::revoked_at.eq(Some(now())))
            .execute(c)?;
        audit::record(
            c,
            Event {
                actor: &who.actor(),
                action: "api_client.revoked",
                entity_type: "api_client",
                entity_id: id,
                before: audit::snapshot(&ApiClient::from(before)),
                after: None,
                request_id: meta.request_id.as_deref(),
            },
        )?;
        Ok(())
    })
}

/// An RFC 6749 error from the token endpoint.
#[derive(Debug)]
pub struct OAuthFailure {
    /// HTTP status (400 or 401).
    pub status: u16,
    /// The error body.
    pub body: OAuthError,
}

fn oauth(status: u16, error: &'static str, description: &str) -> OAuthFailure {
    OAuthFailure {
        status,
        body: OAuthError {
            error,
            error_description: description.into(),
        },
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The OAuth2 client-credentials grant (RFC 6749 §4.4).
pub fn client_credentials(
    conn: &mut DbConn,
    jwt: &JwtKeys,
    grant_type: Option<&str>,
    requested_scope: Option<&str>,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> Result<ClientToken, OAuthFailure> {
    let grant_type =
        grant_type.ok_or_else(|| oauth(400, "invalid_request", "grant_type is required."))?;
    if grant_type != "client_credentials" {
        return Err(oauth(
            400,
            "unsupported_grant_type",
            "Only client_credentials is supported here.",
        ));
    }
    let (Some(client_id), Some(secret)) = (client_id, client_secret) else {
        return Err(oauth(
            401,
            "invalid_client",
            "Client authentication is required (HTTP Basic or client_id and client_secret).",
        ));
    };
    let row: Option<ApiClientRow> = api_clients::table
        .filter(api_clients::client_id.eq(client_id))
        .select(ApiClientRow::as_select())
        .first(conn)
        .optional()
        .map_err(|_| {
            oauth(
                400,
                "invalid_request",
                "The request could not be processed.",
            )
        })?;
    let client = match row {
        Some(r)
            if r.revoked_at.is_none() && constant_time_eq(&r.secret_hash, &hash_opaque(secret)) =>
        {
            r
        }
        _ => {
            return Err(oauth(
                401,
                "invalid_client",
                "Unknown client, wrong secret, or revoked client.",
            ));
        }
    };
    let granted = Scope::parse_list(&client.scopes);
    let scopes: Vec<Scope> = match requested_scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => granted.clone(),
        Some(req) => {
            let mut out = Vec::new();
            for s in req.split_whitespace() {
                match Scope::parse(s) {
                    Some(sc) if granted.contains(&sc) => out.push(sc),
                    _ => {
                        return Err(oauth(
                            400,
                            "invalid_scope",
                            &format!("The scope {s} is not granted to this client."),
                        ));
                    }
                }
            }
            out
        }
    };
    let scope = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let token = jwt
        .issue(
            &client.id,
            "client",
            None,
            Some(client.organisation_id.clone()),
            Some(scope.clone()),
            None,
        )
        .map_err(|_| oauth(400, "invalid_request", "The token could not be issued."))?;
    Ok(ClientToken {
        access_token: token,
        token_type: "Bearer",
        expires_in: jwt.ttl_secs(),
        scope,
    })
}

/// Creates an active admin with a password (the `create-admin` command).
pub fn create_admin(
    conn: &mut DbConn,
    email: &str,
    display_name: &str,
    password_hash: String,
) -> Result<UserRow, ApiError> {
    let email = normalise_email("email", email)?;
    write_tx(conn, |c| {
        let row = UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            email: email.clone(),
            display_name: display_name.to_string(),
            role: "admin".into(),
            organisation_id: None,
            status: "active".into(),
            password_hash: Some(password_hash.clone()),
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now(),
            updated_at: now(),
        };
        insert_user(c, &row)?;
        audit::record(
            c,
            Event {
                actor: &Actor::System,
                action: "user.created",
                entity_type: "user",
                entity_id: &row.id,
                before: None,
                after: user_snapshot(&row),
                request_id: None,
            },
        )?;
        Ok(row)
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

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("email", "Ana@Example.ORG").unwrap(),
            "ana@example.org"
        );
        assert!(normalise_email("email", " ana@example.org").is_err());
        assert!(normalise_email("email", "not-an-email").is_err());
        assert!(normalise_email("email", "a@b").is_err());
    }
}

//! Pieces the identity aggregates share: loading users, opening sessions and issuing token
//! pairs, one-time tokens, and field checks. Nothing here writes an audit event or an email;
//! the commands that call these do.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::model::{TokenPair, UserRow};
use crate::auth::tokens::{JwtKeys, hash_opaque, opaque};
use crate::command::Ctx;
use crate::db::DbConn;
use crate::db::schema::{one_time_tokens, organisations, refresh_tokens, sessions, users};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::kit::check_name;
use crate::notify::Recipient;
use crate::notify::matrix::Parties;

/// The purposes of one-time tokens, as stored.
pub(super) const INVITATION: &str = "invitation";
/// See [`INVITATION`].
pub(super) const PASSWORD_RESET: &str = "password_reset";

pub(super) fn check_display_name(field: &str, name: &str) -> Result<String, ApiError> {
    check_name(field, name, 1, 120)
}

/// The user as a recipient: commands never email their own author.
pub(super) fn recipient(u: &UserRow) -> Recipient {
    Recipient {
        email: u.email.clone(),
        name: u.display_name.clone(),
        user_id: Some(u.id.clone()),
        lang: crate::i18n::Lang::of_stored(&u.language),
    }
}

/// A language code a person chose: one the service speaks, else a 400 naming `field`.
pub fn check_language(field: &str, code: &str) -> Result<crate::i18n::Lang, ApiError> {
    crate::i18n::Lang::from_code(code)
        .filter(|l| l.code() == code)
        .ok_or_else(|| {
            ApiError::field(
                field,
                "unknown_code",
                format!(
                    "Choose one of the languages the service speaks: {}.",
                    crate::i18n::Lang::codes().join(", ")
                ),
            )
        })
}

/// The language of a new user: the one asked for, else the first listed language of their
/// organisation that the service speaks, else English.
pub(super) fn invitation_language(
    conn: &mut DbConn,
    asked: Option<&str>,
    organisation_id: Option<&str>,
) -> Result<String, ApiError> {
    if let Some(code) = asked {
        return Ok(check_language("language", code)?.code().to_string());
    }
    let listed: Option<String> = match organisation_id {
        Some(id) => organisations::table
            .find(id)
            .select(organisations::languages)
            .first(conn)
            .optional()?,
        None => None,
    };
    let listed: Vec<String> = serde_json::from_str(&listed.unwrap_or_default()).unwrap_or_default();
    Ok(crate::i18n::Lang::first_spoken(&listed)
        .unwrap_or_default()
        .code()
        .to_string())
}

/// The account owner as the addressee of a security notice, which goes to them even when
/// they are the one acting: it exists to tell them when it was not them.
pub(super) fn owner(u: &UserRow) -> Parties {
    Parties {
        addressee: Some(Recipient {
            user_id: None,
            ..recipient(u)
        }),
        ..Parties::default()
    }
}

pub(super) fn user_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
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

/// Starts a session and issues its first token pair.
pub(super) fn open_session(
    ctx: &mut Ctx<'_>,
    jwt: &JwtKeys,
    user: &UserRow,
) -> Result<TokenPair, ApiError> {
    let sid = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&sid),
            sessions::user_id.eq(&user.id),
            sessions::created_at.eq(ctx.now),
            sessions::revoked_at.eq(None::<NaiveDateTime>),
        ))
        .execute(ctx.conn)?;
    issue_pair(ctx, jwt, user, &sid)
}

/// Issues a token pair in session `sid`: a new refresh token of the family and an access token.
pub(super) fn issue_pair(
    ctx: &mut Ctx<'_>,
    jwt: &JwtKeys,
    user: &UserRow,
    sid: &str,
) -> Result<TokenPair, ApiError> {
    let refresh = opaque();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            refresh_tokens::session_id.eq(sid),
            refresh_tokens::token_hash.eq(hash_opaque(&refresh)),
            refresh_tokens::expires_at
                .eq(ctx.now + Duration::days(ctx.config.refresh_token_ttl_days)),
            refresh_tokens::spent_at.eq(None::<NaiveDateTime>),
            refresh_tokens::created_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    let access = jwt
        .issue(
            &user.id,
            "user",
            Some(user.role.as_str().to_string()),
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
pub(super) fn revoke_sessions(
    ctx: &mut Ctx<'_>,
    user_id: &str,
    except: Option<&str>,
) -> QueryResult<usize> {
    let q = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null());
    match except {
        Some(sid) => diesel::update(q.filter(sessions::id.ne(sid)))
            .set(sessions::revoked_at.eq(Some(ctx.now)))
            .execute(ctx.conn),
        None => diesel::update(q)
            .set(sessions::revoked_at.eq(Some(ctx.now)))
            .execute(ctx.conn),
    }
}

/// A new one-time token for `purpose`; earlier unused ones of the same purpose die with it.
pub(super) fn new_one_time_token(
    ctx: &mut Ctx<'_>,
    user_id: &str,
    purpose: &str,
    ttl: Duration,
) -> QueryResult<String> {
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::user_id.eq(user_id))
            .filter(one_time_tokens::purpose.eq(purpose))
            .filter(one_time_tokens::used_at.is_null()),
    )
    .set(one_time_tokens::used_at.eq(Some(ctx.now)))
    .execute(ctx.conn)?;
    let token = opaque();
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::id.eq(uuid::Uuid::now_v7().to_string()),
            one_time_tokens::user_id.eq(user_id),
            one_time_tokens::purpose.eq(purpose),
            one_time_tokens::token_hash.eq(hash_opaque(&token)),
            one_time_tokens::expires_at.eq(ctx.now + ttl),
            one_time_tokens::used_at.eq(None::<NaiveDateTime>),
            one_time_tokens::created_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    Ok(token)
}

pub(super) fn invalid_link() -> ApiError {
    ApiError::field(
        "token",
        "invalid",
        "This link is invalid, expired or already used.",
    )
}

/// The user a live (unused, unexpired) one-time token names, without spending it.
pub(super) fn peek_one_time_token(
    conn: &mut DbConn,
    token: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> Result<Option<(String, String)>, ApiError> {
    let found = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(hash_opaque(token.trim())))
        .filter(one_time_tokens::purpose.eq(purpose))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(now))
        .select((one_time_tokens::id, one_time_tokens::user_id))
        .first(conn)
        .optional()?;
    // A token still sitting in an outbox row that was never sent was read from the outbox,
    // not from the email: it does not work (see `notify::service::unsent_message_holds`).
    match found {
        Some(_) if crate::notify::service::unsent_message_holds(conn, token.trim())? => Ok(None),
        found => Ok(found),
    }
}

/// What a one-time link is when it is opened, read without spending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// It works: the form it opens can be filled in.
    Live,
    /// It was used already (or a newer link replaced it).
    Used,
    /// Its time ran out.
    Expired,
    /// No such link of this kind.
    Unknown,
}

/// The state of one-time `token` of `purpose` at `now`.
pub(super) fn one_time_link_state(
    conn: &mut DbConn,
    token: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> Result<LinkState, ApiError> {
    if peek_one_time_token(conn, token, purpose, now)?.is_some() {
        return Ok(LinkState::Live);
    }
    let found: Option<(Option<NaiveDateTime>, NaiveDateTime)> = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(hash_opaque(token.trim())))
        .filter(one_time_tokens::purpose.eq(purpose))
        .select((one_time_tokens::used_at, one_time_tokens::expires_at))
        .first(conn)
        .optional()?;
    Ok(match found {
        Some((Some(_), _)) => LinkState::Used,
        Some((None, expires)) if expires <= now => LinkState::Expired,
        _ => LinkState::Unknown,
    })
}

/// Spends a one-time token; returns its user id, or a 400 naming `token`.
pub(super) fn spend_one_time_token(
    ctx: &mut Ctx<'_>,
    token: &str,
    purpose: &str,
) -> Result<String, ApiError> {
    let (id, user_id) =
        peek_one_time_token(ctx.conn, token, purpose, ctx.now)?.ok_or_else(invalid_link)?;
    // Spent in the statement: of two concurrent uses, only one wins.
    let n = diesel::update(
        one_time_tokens::table
            .find(&id)
            .filter(one_time_tokens::used_at.is_null()),
    )
    .set(one_time_tokens::used_at.eq(Some(ctx.now)))
    .execute(ctx.conn)?;
    if n == 0 {
        return Err(invalid_link());
    }
    Ok(user_id)
}

pub(super) fn check_organisation(conn: &mut DbConn, field: &str, id: &str) -> Result<(), ApiError> {
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

/// The display name of user `id`, or the secretariat when there is none. A failed read is
/// returned, not read as "none": inside a PostgreSQL transaction it aborts the transaction.
pub(super) fn display_name_of(conn: &mut DbConn, id: Option<&str>) -> Result<String, ApiError> {
    let name = match id {
        Some(id) => users::table
            .find(id)
            .select(users::display_name)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    Ok(name.unwrap_or_else(|| "The secretariat".into()))
}

/// Inserts a user row, turning a duplicate email into 409.
pub fn insert_user(conn: &mut DbConn, row: &UserRow) -> Result<(), ApiError> {
    match diesel::insert_into(users::table).values(row).execute(conn) {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ApiError::Conflict {
                code: ConflictCode::EmailTaken,
                detail: "A user with this email already exists.".into(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The first field error of a validation error (to collect several into one answer).
pub(super) fn first(e: ApiError) -> FieldError {
    match e {
        ApiError::Validation(mut v) if !v.is_empty() => v.remove(0),
        other => FieldError::new("body", "invalid", other.to_string()),
    }
}

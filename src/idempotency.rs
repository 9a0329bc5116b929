//! `Idempotency-Key` for POSTs that create or move money: the same key and body replay the
//! first response; the same key with another body is a 422; a duplicate while the first is
//! still running is a 409. Keys live 24 hours and are purged as new ones arrive.
//!
//! The key is claimed FIRST, in its own committed transaction, so of ten concurrent requests
//! with one key exactly one runs the command; the unique (caller, key) constraint decides.
//! Only successful answers are stored: a failed command changed nothing (its transaction was
//! rolled back), so the key is released and a retry runs it afresh. A key whose holder died
//! before recording an outcome is leased: after [`LEASE`] a retry takes it over.

use std::future::Future;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Principal;
use crate::db::schema::idempotency_keys;
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// How long a key is remembered.
pub const TTL: Duration = Duration::hours(24);
/// How long a claimed key may stay without an outcome before another request may take it
/// over: a process that died mid-command leaves its key retryable after this lease.
pub const LEASE: Duration = Duration::seconds(30);

/// A successful answer of a command, as stored for replay.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Status code.
    pub status: u16,
    /// `Location` header, for creations.
    pub location: Option<String>,
    /// JSON body.
    pub body: serde_json::Value,
}

impl Outcome {
    /// 200 with `body`.
    pub fn ok<T: Serialize>(body: &T) -> Result<Self, ApiError> {
        Ok(Self {
            status: 200,
            location: None,
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
        })
    }

    /// 201 with `Location` and `body`.
    pub fn created<T: Serialize>(location: String, body: &T) -> Result<Self, ApiError> {
        Ok(Self {
            status: 201,
            location: Some(location),
            body: serde_json::to_value(body).map_err(ApiError::internal)?,
        })
    }

    fn response(&self, replayed: bool) -> HttpResponse {
        let mut r =
            HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        if let Some(l) = &self.location {
            r.insert_header(("Location", l.clone()));
        }
        if replayed {
            r.insert_header(("Idempotent-Replayed", "true"));
        }
        r.json(&self.body)
    }
}

enum Claim {
    Fresh,
    Replay(Outcome),
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    method_path: String,
    request_hash: String,
    completed: bool,
    status_code: Option<i32>,
    location: Option<String>,
    response_body: Option<String>,
    created_at: chrono::NaiveDateTime,
}

fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::field(
            HEADER,
            "invalid",
            "An Idempotency-Key is 1 to 255 visible ASCII characters.",
        )
    };
    let s = v.to_str().map_err(|_| bad())?.trim();
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(s.to_string()))
}

fn caller_of(who: &Principal) -> String {
    match who {
        Principal::User(u) => format!("user:{}", u.id),
        Principal::Client(c) => format!("client:{}", c.id),
    }
}

fn claim(
    conn: &mut DbConn,
    caller: &str,
    key: &str,
    method_path: &str,
    hash: &str,
) -> Result<Claim, ApiError> {
    let now = Utc::now().naive_utc();
    write_tx(conn, |c| {
        // Opportunistic purge; the index on created_at keeps it cheap.
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now - TTL)))
            .execute(c)?;
        let inserted = c.transaction(|c| {
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::caller_id.eq(caller),
                    idempotency_keys::idem_key.eq(key),
                    idempotency_keys::method_path.eq(method_path),
                    idempotency_keys::request_hash.eq(hash),
                    idempotency_keys::completed.eq(false),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok(Claim::Fresh),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
            Err(e) => return Err(e.into()),
        }
        let row: KeyRow = idempotency_keys::table
            .find((caller, key))
            .select(KeyRow::as_select())
            .first(c)?;
        if row.method_path != method_path || row.request_hash != hash {
            return Err(ApiError::Unprocessable {
                code: crate::error::ConflictCode::IdempotencyKeyReused,
                detail:
                    "This Idempotency-Key was already used with another request; use a new key."
                        .into(),
            });
        }
        if !row.completed {
            // The holder's lease ran out with no outcome (it crashed): take the key over. The
            // conditional UPDATE lets one of several concurrent retries win.
            let taken = diesel::update(
                idempotency_keys::table
                    .find((caller, key))
                    .filter(idempotency_keys::completed.eq(false))
                    .filter(idempotency_keys::created_at.eq(row.created_at))
                    .filter(idempotency_keys::created_at.lt(now - LEASE)),
            )
            .set(idempotency_keys::created_at.eq(now))
            .execute(c)?;
            if taken == 1 {
                return Ok(Claim::Fresh);
            }
            return Err(ApiError::Conflict {
                code: crate::error::ConflictCode::IdempotencyInFlight,
                detail:
                    "A request with this Idempotency-Key is still being processed; retry shortly."
                        .into(),
            });
        }
        let body = row
            .response_body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(serde_json::Value::Null);
        Ok(Claim::Replay(Outcome {
            status: row
                .status_code
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            location: row.location,
            body,
        }))
    })
}

/// Runs `command` at most once per (caller, `Idempotency-Key`); without the header it just
/// runs it. `fingerprint` is the parsed request body: equal bodies hash equally.
pub async fn run<F, Fut>(
    state: &AppState,
    who: &Principal,
    req: &HttpRequest,
    fingerprint: serde_json::Value,
    command: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Outcome, ApiError>>,
{
    let Some(key) = key_of(req)? else {
        return Ok(command().await?.response(false));
    };
    let caller = caller_of(who);
    let method_path = format!("{} {}", req.method(), req.path());
    let hash = hex::encode(Sha256::digest(
        format!("{method_path}\n{fingerprint}").as_bytes(),
    ));
    let claimed = {
        let (caller, key, method_path, hash) =
            (caller.clone(), key.clone(), method_path.clone(), hash);
        state
            .db(move |c| claim(c, &caller, &key, &method_path, &hash))
            .await?
    };
    if let Claim::Replay(outcome) = claimed {
        return Ok(outcome.response(true));
    }
    let result = command().await;
    let stored = match &result {
        Ok(outcome) => {
            let (status, location, body) = (
                i32::from(outcome.status),
                outcome.location.clone(),
                outcome.body.to_string(),
            );
            state
                .db(move |c| {
                    diesel::update(idempotency_keys::table.find((&caller, &key)))
                        .set((
                            idempotency_keys::completed.eq(true),
                            idempotency_keys::status_code.eq(Some(status)),
                            idempotency_keys::location.eq(location),
                            idempotency_keys::response_body.eq(Some(body)),
                        ))
                        .execute(c)?;
                    Ok(())
                })
                .await
        }
        Err(_) => {
            state
                .db(move |c| {
                    diesel::delete(idempotency_keys::table.find((&caller, &key))).execute(c)?;
                    Ok(())
                })
                .await
        }
    };
    if let Err(e) = stored {
        // The command's own result stands; a later retry with this key gets 409 until the
        // lease runs out.
        tracing::warn!(error = %e, "could not record the idempotency key outcome");
    }
    Ok(result?.response(false))
}

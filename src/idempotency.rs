//! `Idempotency-Key` for POSTs that create or move money: the same key and body replay the
//! first response; the same key with another body is a 422. Keys live 24 hours and are
//! purged as new ones arrive.
//!
//! Exactly once: the key is claimed, the command runs and its outcome is stored in ONE write
//! transaction on one connection, so a key row exists only together with the committed effect
//! and its answer; a crash at any point leaves both or neither. A duplicate that arrives while
//! the first is running waits on the key (PostgreSQL blocks the second INSERT of a unique key
//! until the first transaction ends; SQLite serialises writers with BEGIN IMMEDIATE) and then
//! replays the stored answer; a duplicate that waits longer than [`WAIT`] gets 409. A failed
//! command rolls back its key with it, so a retry runs it afresh. There is no lease: nothing
//! ever takes over a key whose command may have committed.

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::config::Config;
use crate::db::schema::idempotency_keys;
use crate::db::{DbConn, backend, write_tx};
use crate::error::ApiError;

/// The request header.
pub const HEADER: &str = crate::middleware::IDEMPOTENCY_KEY;
/// How long a key is remembered.
pub const TTL: Duration = Duration::hours(24);
/// How long a duplicate waits for the request holding its key before it gets 409 (as long as
/// SQLite's busy timeout, so both backends answer alike).
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Test hook: when this variable is `1` and `APP_ENV` is not `production`, the process aborts
/// right after a keyed command committed and before it answers, as a crash would. The binary
/// test of exactly-once uses it; it is not a setting and production never honours it.
pub const CRASH_AFTER_COMMIT: &str = "IDPC_TEST_CRASH_AFTER_COMMIT";
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct KeyRow {
    method_path: String,
    request_hash: String,
    completed: bool,
    status_code: Option<i32>,
    location: Option<String>,
    response_body: Option<String>,
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

/// What a keyed request ends with.
enum Answer {
    /// The command ran now and this is its answer.
    Ran(Outcome),
    /// An earlier request with this key ran it: its stored answer.
    Replay(Outcome),
}

/// Why a keyed transaction failed: the command's own error, or the database's (kept apart so
/// a wait on a held key that timed out reads as 409, not as an internal error).
enum Failure {
    Api(ApiError),
    Db(DieselError),
}

impl From<DieselError> for Failure {
    fn from(e: DieselError) -> Self {
        Failure::Db(e)
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

fn in_flight() -> ApiError {
    ApiError::Conflict {
        code: crate::error::ConflictCode::IdempotencyInFlight,
        detail: "A request with this Idempotency-Key is still being processed; retry shortly."
            .into(),
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Api(e) => e,
            Failure::Db(e) if backend::is_lock_wait_timeout(&e) => in_flight(),
            Failure::Db(e) => e.into(),
        }
    }
}

/// The request a key was first used for.
struct Request<'a> {
    caller: &'a str,
    key: &'a str,
    method_path: &'a str,
    hash: &'a str,
    /// When the request claims its key (from the app's clock).
    now: NaiveDateTime,
}

/// Claims the key inside the caller's transaction: `None` when it is new (the row is written
/// and becomes visible only when the transaction commits), or the stored answer of the request
/// that used it first. Waits while another transaction holds the same key.
fn claim(c: &mut DbConn, r: &Request<'_>) -> Result<Option<Outcome>, Failure> {
    let now = r.now;
    // Opportunistic purge; the index on created_at keeps it cheap.
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now - TTL)))
        .execute(c)?;
    backend::bound_lock_wait(c, Some(WAIT))?;
    // A savepoint, so finding the key taken does not abort the transaction on PostgreSQL.
    let inserted = c.transaction(|c| {
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::caller_id.eq(r.caller),
                idempotency_keys::idem_key.eq(r.key),
                idempotency_keys::method_path.eq(r.method_path),
                idempotency_keys::request_hash.eq(r.hash),
                idempotency_keys::completed.eq(false),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(c)
    });
    backend::bound_lock_wait(c, None)?;
    match inserted {
        Ok(_) => return Ok(None),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e.into()),
    }
    let row: KeyRow = idempotency_keys::table
        .find((r.caller, r.key))
        .select(KeyRow::as_select())
        .first(c)?;
    if row.method_path != r.method_path || row.request_hash != r.hash {
        return Err(ApiError::Unprocessable {
            code: crate::error::ConflictCode::IdempotencyKeyReused,
            detail: "This Idempotency-Key was already used with another request; use a new key."
                .into(),
        }
        .into());
    }
    if !row.completed {
        // Only rows claimed before outcomes were stored in the command's own transaction can
        // be incomplete; whether their command committed is unknown, so they are never rerun.
        return Err(in_flight().into());
    }
    let body = match row.response_body.as_deref() {
        Some(b) => serde_json::from_str(b).map_err(ApiError::internal)?,
        None => serde_json::Value::Null,
    };
    Ok(Some(Outcome {
        status: row
            .status_code
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200),
        location: row.location,
        body,
    }))
}

/// Stores the command's answer on its key, in the command's transaction.
fn record(c: &mut DbConn, r: &Request<'_>, outcome: &Outcome) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((r.caller, r.key)))
        .set((
            idempotency_keys::completed.eq(true),
            idempotency_keys::status_code.eq(Some(i32::from(outcome.status))),
            idempotency_keys::location.eq(outcome.location.clone()),
            idempotency_keys::response_body.eq(Some(outcome.body.to_string())),
        ))
        .execute(c)?;
    Ok(())
}

/// Aborts the process after a keyed command committed when the test hook asks for it.
fn crash_after_commit_if_asked(state: &AppState) {
    static ASKED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let asked = *ASKED.get_or_init(|| {
        std::env::var("IDPC_TEST_CRASH_AFTER_COMMIT").is_ok_and(|v| v == "1")
            && state.config.app_env != crate::config::AppEnv::Production
    });
    if asked {
        tracing::error!("{CRASH_AFTER_COMMIT} is set: aborting after commit, before answering");
        std::process::abort();
    }
}

/// Runs `command` at most once per (caller, `Idempotency-Key`); without the header it just
/// runs it. `fingerprint` is the parsed request body: equal bodies hash equally. `command`
/// gets the connection inside the key's write transaction: its writes (through
/// `command::run`, which nests as a savepoint) commit together with the key and its answer.
pub async fn run<F>(
    state: &AppState,
    who: &Principal,
    req: &HttpRequest,
    fingerprint: serde_json::Value,
    command: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConn) -> Result<Outcome, ApiError> + Send + 'static,
{
    let Some(key) = key_of(req)? else {
        return Ok(state.db(command).await?.response(false));
    };
    let caller = caller_of(who);
    let method_path = format!("{} {}", req.method(), req.path());
    let hash = hex::encode(Sha256::digest(
        format!("{method_path}\n{fingerprint}").as_bytes(),
    ));
    let clock = state.clock().clone();
    let answer = state
        .db(move |c| {
            let r = Request {
                caller: &caller,
                key: &key,
                method_path: &method_path,
                hash: &hash,
                now: clock.naive(),
            };
            let answer = write_tx(c, |c| -> Result<Answer, Failure> {
                if let Some(stored) = claim(c, &r)? {
                    return Ok(Answer::Replay(stored));
                }
                let outcome = command(c)?;
                record(c, &r, &outcome)?;
                Ok(Answer::Ran(outcome))
            })?;
            Ok(answer)
        })
        .await?;
    Ok(match answer {
        Answer::Ran(outcome) => {
            crash_after_commit_if_asked(state);
            outcome.response(false)
        }
        Answer::Replay(outcome) => outcome.response(true),
    })
}

/// What a command handler takes from its request besides its path and body: the app, the
/// caller (401 before anything else when there is none), the request facts its audit event
/// records, and the request itself, for its `Idempotency-Key`.
pub struct Call {
    /// The app.
    pub state: actix_web::web::Data<AppState>,
    /// The caller.
    pub who: Principal,
    /// The request id and client address.
    pub meta: RequestMeta,
    req: HttpRequest,
}

impl FromRequest for Call {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let who = Principal::from_request(req, payload);
        let meta = RequestMeta::from_request(req, payload);
        let state = req.app_data::<actix_web::web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let who = who.await?;
            let state = state.ok_or_else(|| ApiError::internal("the app state is missing"))?;
            Ok(Call {
                state,
                who,
                meta: meta.await?,
                req,
            })
        })
    }
}

impl Call {
    /// Runs `command` once per `Idempotency-Key` (`fingerprint` being the parsed body, `Null`
    /// when there is none) and answers with its outcome.
    pub async fn once<F>(
        self,
        fingerprint: serde_json::Value,
        command: F,
    ) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut DbConn, &Config, &Principal, &RequestMeta) -> Result<Outcome, ApiError>
            + Send
            + 'static,
    {
        let Call {
            state,
            who,
            meta,
            req,
        } = self;
        let (config, caller) = (state.config.clone(), who.clone());
        run(&state, &who, &req, fingerprint, move |c| {
            command(c, &config, &caller, &meta)
        })
        .await
    }
}

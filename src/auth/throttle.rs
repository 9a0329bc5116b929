//! Rate limits and lockouts of the authentication endpoints, counted in the database so every
//! instance behind one address enforces one limit. One row per key; each attempt is one
//! conditional UPDATE (or the first INSERT) that counts it within the key's window.
//!
//! A rate limit answers 429 whatever the account, so it tells nothing about which accounts
//! exist. A lockout never answers differently from a wrong password: the caller decides what
//! "locked" means for its answer (see `identity::session`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::AppState;
use crate::db::schema::auth_throttle as t;
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

/// The window of every rate limit.
pub const RATE_WINDOW: Duration = Duration::seconds(60);
/// Failures older than this are forgotten.
pub const FAILURE_WINDOW: Duration = Duration::hours(24);
/// Failures (of one account from one address) before a lockout starts.
pub const LOCK_AFTER: i32 = 5;
/// The owner of an account is told of a lockout at most once per this period, however many
/// addresses get locked out of it (the longest lockout).
pub const LOCK_NOTICE_PERIOD: Duration = Duration::hours(1);

/// The state of one key after counting an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Attempts in the current window, this one included.
    pub hits: i32,
    /// When the current window started.
    pub window_start: NaiveDateTime,
    /// Locked until then (lockout keys only).
    pub locked_until: Option<NaiveDateTime>,
}

/// Counts one attempt on `key` within `window`, starting a new window when the last one ended.
pub fn count(
    conn: &mut DbConn,
    key: &str,
    window: Duration,
    now: NaiveDateTime,
) -> QueryResult<Count> {
    write_tx(conn, |c| {
        let restarted = diesel::update(t::table.find(key).filter(t::window_start.le(now - window)))
            .set((
                t::hits.eq(1),
                t::window_start.eq(now),
                t::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        if restarted == 0 {
            let counted = diesel::update(t::table.find(key))
                .set(t::hits.eq(t::hits + 1))
                .execute(c)?;
            if counted == 0 {
                // A savepoint, so losing the race to insert does not abort the transaction.
                let inserted = c.transaction(|c| {
                    diesel::insert_into(t::table)
                        .values((
                            t::key.eq(key),
                            t::window_start.eq(now),
                            t::hits.eq(1),
                            t::locked_until.eq(None::<NaiveDateTime>),
                        ))
                        .execute(c)
                });
                match inserted {
                    Ok(_) => {}
                    Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                        diesel::update(t::table.find(key))
                            .set(t::hits.eq(t::hits + 1))
                            .execute(c)?;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        read(c, key).map(|r| {
            r.unwrap_or(Count {
                hits: 1,
                window_start: now,
                locked_until: None,
            })
        })
    })
}

fn read(conn: &mut DbConn, key: &str) -> QueryResult<Option<Count>> {
    t::table
        .find(key)
        .select((t::hits, t::window_start, t::locked_until))
        .first::<(i32, NaiveDateTime, Option<NaiveDateTime>)>(conn)
        .optional()
        .map(|r| {
            r.map(|(hits, window_start, locked_until)| Count {
                hits,
                window_start,
                locked_until,
            })
        })
}

/// Counts one request on each `(key, max)`; 429 with Retry-After once any is over its max.
pub fn hit(
    conn: &mut DbConn,
    limits: &[(String, u32)],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    for (key, max) in limits {
        let c = count(conn, key, RATE_WINDOW, now)?;
        if c.hits > i32::try_from(*max).unwrap_or(i32::MAX) {
            let retry = (c.window_start + RATE_WINDOW - now).num_seconds().max(1);
            return Err(ApiError::TooManyRequests(retry.unsigned_abs()));
        }
    }
    Ok(())
}

/// [`hit`] on the blocking pool.
pub async fn limit(state: &AppState, limits: Vec<(String, u32)>) -> Result<(), ApiError> {
    let now = state.clock().naive();
    state.db(move |c| hit(c, &limits, now)).await
}

/// The lockout after `failures` failures: 30 s doubling per failure past the threshold, at
/// most an hour.
pub fn lockout(failures: i32) -> Option<Duration> {
    (failures >= LOCK_AFTER)
        .then(|| Duration::seconds((30_i64 << (failures - LOCK_AFTER).min(7)).min(3600)))
}

/// True while `key` is locked.
pub fn is_locked(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> QueryResult<bool> {
    Ok(read(conn, key)?
        .and_then(|c| c.locked_until)
        .is_some_and(|t| t > now))
}

/// The failures counted on `key` within [`FAILURE_WINDOW`] (0 when none).
pub fn failures(conn: &mut DbConn, key: &str, now: NaiveDateTime) -> QueryResult<i32> {
    Ok(read(conn, key)?
        .filter(|c| c.window_start > now - FAILURE_WINDOW)
        .map_or(0, |c| c.hits))
}

/// Counts a lockout notice for `account`: true for the first one in [`LOCK_NOTICE_PERIOD`],
/// the only one that is sent. The count is one conditional statement, so two instances
/// locking two addresses at once still send one.
pub fn first_lock_notice(
    conn: &mut DbConn,
    account: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    Ok(count(
        conn,
        &format!("lock-notice:{account}"),
        LOCK_NOTICE_PERIOD,
        now,
    )?
    .hits
        == 1)
}

/// Counts a failure on `key` and extends its lockout by the backoff. Returns the failures so
/// far and the lockout when this failure starts one (at exactly [`LOCK_AFTER`]).
pub fn fail(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
) -> QueryResult<(i32, Option<Duration>)> {
    let c = count(conn, key, FAILURE_WINDOW, now)?;
    let lock = lockout(c.hits);
    if let Some(lock) = lock {
        diesel::update(t::table.find(key))
            .set(t::locked_until.eq(Some(now + lock)))
            .execute(conn)?;
    }
    Ok((c.hits, lock.filter(|_| c.hits == LOCK_AFTER)))
}

/// Forgets every key that starts with `prefix` (a success, or a password reset).
pub fn clear(conn: &mut DbConn, prefix: &str) -> QueryResult<usize> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    diesel::delete(t::table.filter(t::key.like(pattern).escape('\\'))).execute(conn)
}

/// Removes rows whose window ended long ago and that lock nothing (`jobs::run_daily`).
pub fn purge(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        t::table
            .filter(t::window_start.lt(now - FAILURE_WINDOW))
            .filter(t::locked_until.is_null().or(t::locked_until.lt(now))),
    )
    .execute(conn)
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

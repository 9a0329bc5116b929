//! The one source of the current time. Everything that reads "now" (commands, jobs, throttles,
//! idempotency, the outbox workers, tokens) takes it from the [`Clock`] it is given, so a test
//! moves time (`clock.advance(..)`) instead of sleeping, and a command has one instant.
//! `tests/api/architecture.rs` keeps `Utc::now()` out of every other module.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

/// Real time plus an offset that only tests move. Cloning shares the offset, so every part of
/// one app (its handlers, workers and jobs) sees the same time. Time keeps flowing after a
/// move, so leases, backoffs and timeouts that wait on real time still end.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Microseconds added to real time (the database's precision, so a test that moves time
    /// to a stored instant reaches it); zero in production (nothing outside tests moves it).
    offset_us: Arc<AtomicI64>,
}

impl Clock {
    /// The real clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::microseconds(self.offset_us.load(Ordering::SeqCst))
    }

    /// The current instant as stored in the database (UTC, no zone).
    pub fn naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Today's date in UTC.
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Moves time forward by `by` (backward when negative), for tests.
    pub fn advance(&self, by: Duration) {
        let us = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_us.fetch_add(us, Ordering::SeqCst);
    }

    /// Moves time to `at`, from where it keeps flowing, for tests.
    pub fn set(&self, at: DateTime<Utc>) {
        let us = (at - Utc::now()).num_microseconds().unwrap_or(i64::MAX);
        self.offset_us.store(us, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_a_clock_moves_every_clone_of_it() {
        let clock = Clock::system();
        let shared = clock.clone();
        let before = shared.now();
        clock.advance(Duration::days(31));
        let moved = shared.now() - before;
        assert!(moved >= Duration::days(31) && moved < Duration::days(31) + Duration::minutes(1));
    }

    #[test]
    fn a_set_clock_reads_the_instant_it_was_set_to() {
        let clock = Clock::system();
        let at = DateTime::parse_from_rfc3339("2031-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        clock.set(at);
        assert!((clock.now() - at).abs() < Duration::minutes(1));
        assert_eq!(clock.today(), at.date_naive());
    }
}

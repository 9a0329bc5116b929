//! Fixed-window rate limits for the authentication endpoints, per client IP and per account.
//! Counters live in this process; each instance limits on its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// A set of counters keyed by string.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
    window: Duration,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            inner: Arc::new(Mutex::new(HashMap::new())),
            window: Duration::from_secs(60),
        }
    }
}

impl Limiter {
    /// Counts one hit for `key`; over `max` in the window it answers 429 with Retry-After.
    pub fn hit(&self, key: &str, max: u32) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > max {
            let retry = self
                .window
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                .max(1);
            return Err(ApiError::TooManyRequests(retry));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_answers_429_after_max_hits() {
        let l = Limiter::default();
        for _ in 0..3 {
            l.hit("ip:1", 3).unwrap();
        }
        assert!(matches!(l.hit("ip:1", 3), Err(ApiError::TooManyRequests(s)) if s >= 1));
        l.hit("ip:2", 3).unwrap();
    }
}

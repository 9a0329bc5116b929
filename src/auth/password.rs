//! Passwords: argon2id (PHC strings) with configured parameters never below OWASP's floor,
//! computed off the async workers with a hard bound on concurrent hashes. Over the bound a
//! request gets 503 with Retry-After at once; nothing queues without limit.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::error::ApiError;

/// Shortest accepted password.
pub const MIN_LEN: usize = 12;
/// Longest accepted password; longer ones are refused before any hashing.
pub const MAX_LEN: usize = 128;

/// Checks a new password's length, naming `field`.
pub fn check_policy(field: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(ApiError::field(
            field,
            "too_short",
            format!("A password needs at least {MIN_LEN} characters."),
        ));
    }
    if n > MAX_LEN {
        return Err(ApiError::field(
            field,
            "too_long",
            format!("A password may have at most {MAX_LEN} characters."),
        ));
    }
    Ok(())
}

/// The hasher: parameters plus the concurrency bound.
#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy: Arc<OnceLock<String>>,
}

impl Hasher {
    /// Builds the hasher from configuration (already validated against the floor).
    pub fn new(config: &Config) -> Result<Self, String> {
        let params = Params::new(
            config.argon2_memory_kib,
            config.argon2_iterations,
            config.argon2_parallelism,
            None,
        )
        .map_err(|e| format!("argon2 parameters: {e}"))?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(config.password_hash_concurrency)),
            dummy: Arc::new(OnceLock::new()),
        })
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            ApiError::Unavailable(
                "Too many password checks at once; retry in a moment.".into(),
                1,
            )
        })
    }

    /// Hashes a password on the blocking pool.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        if password.len() > MAX_LEN * 4 {
            return Err(ApiError::field(
                "password",
                "too_long",
                "The password is too long.",
            ));
        }
        let permit = self.permit()?;
        let argon = self.argon();
        let out = actix_web::web::block(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?;
        drop(permit);
        out.map_err(|e| ApiError::Internal(format!("argon2: {e}")))
    }

    /// Verifies a password against a stored hash (or a dummy one when there is none, so an
    /// unknown account takes as long as a wrong password). Returns false on mismatch.
    pub async fn verify(&self, stored: Option<String>, password: String) -> Result<bool, ApiError> {
        if password.len() > MAX_LEN * 4 {
            return Ok(false);
        }
        let permit = self.permit()?;
        let real = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => self.dummy_hash(),
        };
        let argon = self.argon();
        let ok = actix_web::web::block(move || {
            PasswordHash::new(&stored)
                .map(|h| argon.verify_password(password.as_bytes(), &h).is_ok())
                .unwrap_or(false)
        })
        .await?;
        drop(permit);
        Ok(ok && real)
    }

    fn dummy_hash(&self) -> String {
        self.dummy
            .get_or_init(|| {
                let salt = SaltString::generate(&mut OsRng);
                self.argon()
                    .hash_password(b"dummy password for timing", &salt)
                    .map(|h| h.to_string())
                    .unwrap_or_default()
            })
            .clone()
    }

    /// Computes the dummy hash now, so the first unknown-email login is not faster.
    pub fn warm_up(&self) {
        let _ = self.dummy_hash();
    }
}

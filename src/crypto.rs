//! Encryption at rest: one key ring for everything the service stores encrypted (document
//! files, bank account numbers).
//!
//! Keys come from `ENCRYPTION_KEYS` (`kid:KEY,...`): the first encrypts, every key decrypts,
//! so a rotation puts a new key first and keeps the old ones until nothing refers to them.
//! Everything sealed carries the id of its key, so old and new ciphertexts open side by side.
//!
//! - [`KeyRing::seal`] / [`KeyRing::open`]: a short value (an account number), AES-256-GCM
//!   with a fresh random nonce, bound to what it belongs to by the associated data (e.g. the
//!   table, column and row id), so a ciphertext moved to another row does not open.
//! - [`KeyRing::cipher`]: the AEAD of one key, for streaming encryption of large objects
//!   (`aes_gcm::aead::stream`), where the caller stores the kid beside the object.

use std::collections::HashMap;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use rand::RngCore;

use crate::config::{AppEnv, Config};

/// Format tag of [`KeyRing::seal`]'s output.
const SEALED_V1: u8 = 1;
/// AES-GCM nonce length in bytes.
const NONCE_LEN: usize = 12;

/// A sealed value did not open: unknown key id, wrong associated data, or tampered bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The bytes are not something [`KeyRing::seal`] wrote.
    #[error("malformed ciphertext")]
    Malformed,
    /// The key it names is not in the ring (removed too early).
    #[error("unknown encryption key {0}")]
    UnknownKey(String),
    /// Authentication failed: tampered, or sealed for something else.
    #[error("ciphertext does not authenticate")]
    Tampered,
}

/// The at-rest keys: the current one encrypts, all decrypt.
#[derive(Clone)]
pub struct KeyRing {
    current: String,
    keys: HashMap<String, Aes256Gcm>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl KeyRing {
    /// The ring from configuration; in development with none configured, a key generated
    /// once into the data folder (production refuses an empty `ENCRYPTION_KEYS`).
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let keys: Vec<(String, [u8; 32])> = if config.encryption_keys.is_empty() {
            if config.app_env == AppEnv::Production {
                return Err("ENCRYPTION_KEYS is required in production".into());
            }
            vec![dev_key(&config.data_dir)?]
        } else {
            config
                .encryption_keys
                .iter()
                .map(|k| {
                    let bytes = hex::decode(&k.key.0).map_err(|e| e.to_string())?;
                    let key: [u8; 32] = bytes
                        .try_into()
                        .map_err(|_| "an encryption key must be 32 bytes".to_string())?;
                    Ok((k.kid.clone(), key))
                })
                .collect::<Result<_, String>>()?
        };
        Self::new(keys)
    }

    /// A ring of `(kid, key)`; the first encrypts.
    pub fn new(keys: Vec<(String, [u8; 32])>) -> Result<Self, String> {
        let current = keys
            .first()
            .map(|(kid, _)| kid.clone())
            .ok_or("an encryption key ring needs at least one key")?;
        let keys = keys
            .into_iter()
            .map(|(kid, key)| (kid, Aes256Gcm::new(&key.into())))
            .collect();
        Ok(Self { current, keys })
    }

    /// The id of the key that encrypts now.
    pub fn current_kid(&self) -> &str {
        &self.current
    }

    /// The AEAD of key `kid`, for streaming encryption (`aes_gcm::aead::stream`).
    pub fn cipher(&self, kid: &str) -> Result<&Aes256Gcm, CryptoError> {
        self.keys
            .get(kid)
            .ok_or_else(|| CryptoError::UnknownKey(kid.to_string()))
    }

    /// Encrypts `plaintext` with the current key, bound to `aad` (what it belongs to).
    /// Layout: version byte, kid length, kid, nonce, ciphertext with tag.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = &self.keys[&self.current];
        // Encryption with a valid key and an in-memory buffer cannot fail.
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let kid = self.current.as_bytes();
        let mut out = Vec::with_capacity(2 + kid.len() + NONCE_LEN + ciphertext.len());
        out.push(SEALED_V1);
        out.push(kid.len() as u8);
        out.extend_from_slice(kid);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts what [`KeyRing::seal`] wrote with the same `aad`, with whichever key it names.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (&version, rest) = sealed.split_first().ok_or(CryptoError::Malformed)?;
        let (&kid_len, rest) = rest.split_first().ok_or(CryptoError::Malformed)?;
        if version != SEALED_V1 || rest.len() < kid_len as usize + NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (kid, rest) = rest.split_at(kid_len as usize);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let kid = std::str::from_utf8(kid).map_err(|_| CryptoError::Malformed)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        self.cipher(kid)?
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// The id of the key a sealed value was written with (to find what a rotation left).
    pub fn kid_of(sealed: &[u8]) -> Option<&str> {
        let kid_len = *sealed.get(1)? as usize;
        std::str::from_utf8(sealed.get(2..2 + kid_len)?).ok()
    }
}

/// A new key in the form `ENCRYPTION_KEYS` takes (`openssl rand -base64 32` does the same).
pub fn generate_key() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

fn dev_key(data_dir: &Path) -> Result<(String, [u8; 32]), String> {
    let encoded = crate::config::dev_key::dev_secret(
        data_dir,
        "encryption-dev-key",
        "ENCRYPTION_KEYS",
        |s| key_of(s).is_some(),
        generate_key,
    )?;
    let key = key_of(&encoded).ok_or("generated key is not 32 bytes")?;
    Ok(("dev".into(), key))
}

/// The 32-byte key a base64 text holds, if it holds one.
fn key_of(encoded: &str) -> Option<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    <[u8; 32]>::try_from(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(kids: &[(&str, u8)]) -> KeyRing {
        KeyRing::new(
            kids.iter()
                .map(|(k, b)| (k.to_string(), [*b; 32]))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_associated_data_only() {
        let r = ring(&[("a", 1)]);
        let sealed = r.seal(b"NL91ABNA0417164300", b"bank_accounts.number:1");
        assert!(!sealed.windows(4).any(|w| w == b"ABNA"));
        assert_eq!(
            r.open(&sealed, b"bank_accounts.number:1").unwrap(),
            b"NL91ABNA0417164300"
        );
        assert_eq!(
            r.open(&sealed, b"bank_accounts.number:2"),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn after_a_rotation_old_and_new_values_both_open() {
        let old = ring(&[("k1", 1)]);
        let before = old.seal(b"old", b"x");
        let rotated = ring(&[("k2", 2), ("k1", 1)]);
        let after = rotated.seal(b"new", b"x");
        assert_eq!(KeyRing::kid_of(&after), Some("k2"));
        assert_eq!(rotated.open(&before, b"x").unwrap(), b"old");
        assert_eq!(rotated.open(&after, b"x").unwrap(), b"new");
        assert_eq!(
            old.open(&after, b"x"),
            Err(CryptoError::UnknownKey("k2".into()))
        );
    }

    #[test]
    fn a_flipped_bit_is_refused() {
        let r = ring(&[("a", 1)]);
        let mut sealed = r.seal(b"secret", b"");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(r.open(&sealed, b""), Err(CryptoError::Tampered));
        assert_eq!(r.open(&[1], b""), Err(CryptoError::Malformed));
    }
}

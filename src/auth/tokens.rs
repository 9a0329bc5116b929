//! Access tokens (JWT, HS256 pinned, `kid`-selected keys) and opaque tokens (random, stored
//! only as a SHA-256 hash). The first configured key signs; every configured key verifies.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{AppEnv, Config, JwtKey, Secret};

/// The audience of every access token.
pub const AUDIENCE: &str = "idpc-hub-api";
/// Leeway for clock skew, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer (PUBLIC_BASE_URL).
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// User id or API client id.
    pub sub: String,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Token id.
    pub jti: String,
    /// `user` or `client`.
    pub typ: String,
    /// Role of a user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Organisation of a member user or a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Space-separated scopes of a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Session (refresh-token family) of a user token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Not before (optional; a token that carries it is refused until then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// Signing and verifying keys.
#[derive(Clone)]
pub struct JwtKeys {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    issuer: String,
    ttl_secs: i64,
    /// The console's CSRF key: derived from the signing secret for that one purpose, so a
    /// form token can never be used as, or reveal, anything the signing key protects.
    console_csrf: [u8; 32],
    /// The app's clock, for iat/exp when issuing and checking.
    clock: crate::clock::Clock,
}

impl JwtKeys {
    /// Keys from configuration; in development with none configured, a key generated once
    /// into the data folder is used (never in production: configuration refuses that).
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let keys = if config.jwt_keys.is_empty() {
            if config.app_env == AppEnv::Production {
                return Err("JWT_KEYS is required in production".into());
            }
            vec![dev_key(&config.data_dir)?]
        } else {
            config.jwt_keys.clone()
        };
        let first = &keys[0];
        Ok(Self {
            clock: config.clock.clone(),
            signing_kid: first.kid.clone(),
            signing: EncodingKey::from_secret(first.secret.0.as_bytes()),
            verifying: keys
                .iter()
                .map(|k| {
                    (
                        k.kid.clone(),
                        DecodingKey::from_secret(k.secret.0.as_bytes()),
                    )
                })
                .collect(),
            issuer: config.public_base_url.clone(),
            ttl_secs: config.access_token_ttl_secs,
            console_csrf: Sha256::new()
                .chain_update(b"idpc-hub console csrf v1\0")
                .chain_update(first.secret.0.as_bytes())
                .finalize()
                .into(),
        })
    }

    /// The key of the console's CSRF tokens (rotates with the signing key: a form opened
    /// before a rotation asks to be reloaded).
    pub fn console_csrf_key(&self) -> &[u8; 32] {
        &self.console_csrf
    }

    /// Access token lifetime in seconds.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// The issuer every token carries.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs claims for `sub`, filling iss, aud, iat, exp and jti.
    pub fn issue(
        &self,
        sub: &str,
        typ: &str,
        role: Option<String>,
        org: Option<String>,
        scope: Option<String>,
        sid: Option<String>,
    ) -> Result<String, String> {
        let now = self.clock.now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.into(),
            sub: sub.into(),
            exp: now + self.ttl_secs,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            typ: typ.into(),
            role,
            org,
            scope,
            sid,
            nbf: None,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        encode(&header, &claims, &self.signing).map_err(|e| e.to_string())
    }

    /// Verifies a token: pinned algorithm, known `kid`, signature, iss, aud, exp and nbf when
    /// present (30 s leeway), and the presence of every required claim.
    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        let header = decode_header(token).map_err(|_| "malformed token")?;
        if header.alg != Algorithm::HS256 {
            return Err("unexpected algorithm");
        }
        let kid = header.kid.ok_or("token has no key id")?;
        let key = self.verifying.get(&kid).ok_or("unknown key id")?;
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = LEEWAY_SECS;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // exp and nbf are checked below against the app's clock, not the library's.
        v.validate_exp = false;
        v.validate_nbf = false;
        let data = decode::<Claims>(token, key, &v).map_err(|_| "invalid token")?;
        let (now, leeway) = (self.clock.now().timestamp(), LEEWAY_SECS as i64);
        if data.claims.exp < now - leeway {
            return Err("invalid token");
        }
        // A token that is not valid yet is refused (when it says so; nbf is optional).
        if data.claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err("invalid token");
        }
        if data.claims.iat > now + leeway {
            return Err("token issued in the future");
        }
        Ok(data.claims)
    }
}

fn dev_key(data_dir: &Path) -> Result<JwtKey, String> {
    let secret = crate::config::dev_key::dev_secret(
        data_dir,
        "jwt-dev-key",
        "JWT_KEYS",
        |s| s.len() >= 32,
        || hex::encode(random_bytes::<32>()),
    )?;
    Ok(JwtKey {
        kid: "dev".into(),
        secret: Secret(secret),
    })
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// A new opaque token (256 random bits, URL-safe).
pub fn opaque() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// The stored form of an opaque token.
pub fn hash_opaque(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

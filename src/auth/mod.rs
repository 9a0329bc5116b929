//! Authentication mechanics: argon2id passwords with a bounded hashing pool, JWT access
//! tokens with rotating keys, opaque one-time and refresh tokens, rate limits, and the
//! `Principal` extractor. Who may do what to which object is decided in the services.

pub mod caller;
pub mod password;
pub mod principal;
pub mod throttle;
pub mod tokens;

pub use principal::{MaybePrincipal, Principal, Role, Scope, UserStatus};

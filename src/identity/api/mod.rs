//! HTTP handlers of identity, one file per aggregate. `routes.rs` registers them from here.

mod account;
mod clients;
mod session;
mod users;

pub use account::*;
pub use clients::*;
pub use session::*;
pub use users::*;

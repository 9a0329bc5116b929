//! Identity: users and their lifecycle (invitation, login, refresh, logout, password
//! reset), API clients and the OAuth2 client-credentials grant. One module per aggregate:
//! `session`, `account`, `users`, `clients`; handlers in `api`.

pub mod account;
pub mod api;
pub mod clients;
pub mod colleagues;
pub mod lifecycle;
pub mod model;
pub mod session;
mod support;
pub mod users;

// What other domains use of identity: its paths inside this module may change, these do not.
pub use model::{UserRow, UserStatus};
pub use support::{LinkState, check_language, insert_user, user_by_id};
pub use users::{display_name_or_secretariat, invite_member, invite_member_in};

//! Identity: users and their lifecycle (invitation, login, refresh, logout, password
//! reset), API clients and the OAuth2 client-credentials grant.

pub mod api;
pub mod model;
pub mod service;

// What other domains use of identity: its paths inside this module may change, these do not.
pub use model::UserRow;
pub use service::{display_name_or_secretariat, insert_user, invite_member};

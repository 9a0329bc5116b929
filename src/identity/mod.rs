//! Identity: users and their lifecycle (invitation, login, refresh, logout, password
//! reset), API clients and the OAuth2 client-credentials grant.

pub mod api;
pub mod model;
pub mod service;

//! The network directory: organisations (members and partners), their profiles and who may
//! see which part of them, search, facets and export, membership applications and the
//! membership lifecycle.

pub mod api;
pub mod identifiers;
pub mod jobs;
pub mod membership;
pub mod model;
pub mod search;
pub mod service;

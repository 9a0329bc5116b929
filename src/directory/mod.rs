//! The network directory: organisations (members and partners), their profiles and who may
//! see which part of them.

pub mod api;
pub mod model;
pub mod service;

//! The integration-test crate: one binary, a module per capability.
//! Every test drives the real app; see `common` for the harness.

mod common;

mod authorization;
mod binary;
mod directory;
mod disbursements;
mod errors;
mod exports;
mod grants;
mod idempotency;
mod identity;
mod membership;
mod migrations;
mod operations;
mod outbox;
mod reports;
mod webhooks;

//! The integration-test crate: one binary, a module per capability.
//! Every test drives the real app; see `common` for the harness.

mod common;

mod accounts;
mod architecture;
mod audit;
mod authorization;
mod binary;
mod browser;
mod browser_officer;
mod business_dates;
mod colleagues;
mod concurrency;
mod console;
mod console_links;
mod console_officer;
mod controls;
mod delivery_queue;
mod demo_data;
mod directory;
mod disbursements;
mod documents;
mod errors;
mod examples;
mod exports;
mod grants;
mod history;
mod http_contract;
mod hygiene;
mod idempotency;
mod idempotency_rules;
mod identity;
mod languages;
mod membership;
mod migrations;
mod notifications;
mod operations;
mod outbox;
mod partner_boundary;
mod payments;
mod queues;
mod reports;
mod scale_out;
mod search;
mod webhooks;

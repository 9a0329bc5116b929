//! Webhooks for partner apps: subscriptions managed by the apps themselves, events recorded
//! in the transaction of the change (an outbox), signed with the Standard Webhooks scheme,
//! retried, logged and replayable. Never sends a hidden organisation's data, never sends
//! from inside a request, never follows a redirect or posts to an internal address.

pub mod api;
pub mod events;
pub mod model;
pub mod openapi;
pub mod outbox;
pub mod service;

pub mod sign;

pub mod worker;

pub use events::{WebhookEvent, publish, publish_domain};

//! Notifications through a transactional outbox: `enqueue` writes a rendered email in the
//! caller's transaction; the notifier worker sends it later, with retries and a lease.
//!
//! A request never sends mail itself, so a rolled-back change never sends, and a committed
//! one is sent until it succeeds or is marked dead.

pub mod links;
pub mod matrix;
pub mod model;
pub mod service;
pub mod templates;
pub mod transport;
pub mod worker;

pub use model::{OutboxRow, OutboxStatus};
pub use service::{Recipient, enqueue, refresh_metrics};
pub use templates::Kind;

/// A date as people read it in an email, written out in each recipient's language when the
/// message is rendered: `30 November 2026`, `30 de noviembre de 2026`.
pub fn long_date(d: chrono::NaiveDate) -> crate::i18n::LocalDate {
    crate::i18n::LocalDate(d)
}

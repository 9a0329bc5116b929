//! Admin API for the outbox.

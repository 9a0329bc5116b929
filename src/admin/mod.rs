//! Secretariat tools that belong to no domain: today, the outbox of emails (see what is
//! pending, sent or dead, and re-queue dead mail). Admins only.

pub mod outbox;

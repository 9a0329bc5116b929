//! Onward grants: donor funds, grants made from them to partners, tranches (disbursements)
//! with four-eyes approval and finance-only payment, grant reports and their reminders, and the
//! CSV and 360Giving exports. Budgets are enforced by conditional UPDATEs, never read-then-write.

pub mod api;
pub mod export;
pub mod jobs;
pub mod model;
pub mod service;

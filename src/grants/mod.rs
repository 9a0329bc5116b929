//! Onward grants: donor funds, grants made from them to partners, tranches with four-eyes
//! approval and finance-only payment, grant reports and their reminders, and the exports.
//! Budgets are enforced by conditional UPDATEs (`budget`), never read-then-write.

pub mod access;
pub mod actuals;
pub mod api;
pub mod budget;
pub mod budget_lines;
pub mod budget_revisions;
pub mod check;
pub mod csv;
pub mod fund;
pub mod fx;
pub mod grant;
pub mod history;
pub mod indicators;
pub mod jobs;
pub mod mails;
pub mod queue;
pub mod report;
pub mod tranche;

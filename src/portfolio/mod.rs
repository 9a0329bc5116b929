//! Portfolio reporting against the strategic plan: the money of onward grants summed in the
//! base currency by pillar, priority area, region, country, fund, donor and year (any two
//! crossed), the membership's growth per year, donor fund statements, and their downloads
//! (CSV, XLSX, PDF). Everything here only reads; nothing here may change a row.
//!
//! The split rule: a grant tagged with several priority areas counts in each of them with an
//! even share of its money. Shares are whole minor units of the base currency; the remainder
//! of the division goes one unit at a time to the areas in the plan's order (the order of
//! `codes::PRIORITY_AREAS`), so every table adds up to the same grand total with no rounding
//! loss. Budget lines per priority area may refine this rule later.

pub mod aggregate;
pub mod api;
pub mod charts;
pub mod membership;
pub mod statement;
pub mod tables;

//! Money out the door: payee bank accounts under change control (`accounts`), payment runs
//! of approved tranches with their ISO 20022 bank file (`runs`, `pain001`) and the payments
//! register (`register`). Tranches are still paid by `grants::tranche::command`; this module
//! never moves a tranche's money by another route.

pub mod accounts;
pub mod api;
pub mod mail;
pub mod pain001;
pub mod payees;
pub mod register;
pub mod runs;

//! What the payment-run emails say: a run waiting for approval, a payment the bank returned.

use serde::Serialize;

use super::runs::RunRow;
use crate::command::Message;
use crate::config::Config;
use crate::money;
use crate::notify::Kind;

/// What the email about a run says.
#[derive(Debug, Serialize)]
pub struct RunMail {
    /// Number of payments.
    pub line_count: i32,
    /// Their sum, as people write it.
    pub control_sum: String,
    /// The value date, written out.
    pub value_date: String,
    /// The run's page.
    pub run_link: String,
}

impl RunMail {
    /// The email of run `r`.
    pub fn of(config: &Config, r: &RunRow) -> Self {
        Self {
            line_count: r.line_count,
            control_sum: money::for_people(r.control_sum, &r.currency),
            value_date: r.value_date.format("%-d %B %Y").to_string(),
            run_link: crate::notify::links::payment_run(config, &r.id),
        }
    }
}

/// To the other finance officers: a run waits for approval.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct RunPendingMail(pub RunMail);
impl Message for RunPendingMail {
    const KIND: Kind = Kind::PaymentRunPending;
}

/// To the tranche's approvers and finance: the bank returned a payment.
#[derive(Debug, Serialize)]
pub struct ReturnedMail {
    /// The amount, as people write it.
    pub amount: String,
    /// The grant's reference.
    pub grant_reference: String,
    /// The payee.
    pub grantee_name: String,
    /// Why the bank returned it.
    pub reason: String,
    /// The run's page.
    pub run_link: String,
}
impl Message for ReturnedMail {
    const KIND: Kind = Kind::PaymentReturned;
}

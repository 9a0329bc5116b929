//! HTTP handlers of the grant domain, one file per aggregate: extract, call one service
//! function, answer. Money-moving POSTs go through `crate::idempotency`.

pub mod budget;
pub mod export;
pub mod fund;
pub mod fx;
pub mod grant;
pub mod history;
pub mod report;
pub mod tranche;

use serde::Serialize;

use crate::error::ApiError;

/// The parsed body of a request, as the idempotency fingerprint.
pub(crate) fn fingerprint<T: Serialize>(body: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(ApiError::internal)
}

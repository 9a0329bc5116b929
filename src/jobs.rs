//! Daily jobs, run by the worker at most once an hour (each job is idempotent, so running
//! it again the same day changes nothing and sends nothing twice).

use crate::AppState;
use crate::error::ApiError;

/// Runs every daily job for `today`.
pub async fn run_daily(state: &AppState, today: chrono::NaiveDate) -> Result<(), ApiError> {
    // Both run even if one fails, so a directory problem does not hold back report reminders.
    let directory = crate::directory::jobs::run(state, today).await.map(|_| ());
    let grants = crate::grants::jobs::run(state, today).await;
    directory.and(grants)
}

//! Daily jobs and their scheduler, which the worker runs beside the notifier: at most once an
//! hour (each job is idempotent, so running it again the same day changes nothing and sends
//! nothing twice; running hourly makes a missed day catch up soon).

use crate::AppState;
use crate::error::ApiError;

/// Runs every daily job for `today`, and forgets the authentication counters whose window
/// ended a day ago (`auth::throttle::purge`), so that table holds only live limits, and
/// sweeps document objects that no row names (`documents::sweep`).
pub async fn run_daily(state: &AppState, today: chrono::NaiveDate) -> Result<(), ApiError> {
    // All run even if one fails, so a directory problem does not hold back report reminders.
    let directory = crate::directory::jobs::run(state, today).await.map(|_| ());
    let grants = crate::grants::jobs::run(state, today).await;
    let now = state.clock().naive();
    let throttle = state
        .db(move |c| Ok(crate::auth::throttle::purge(c, now)?))
        .await
        .map(|_| ());
    let documents = crate::documents::sweep::run(state).await.map(|_| ());
    directory.and(grants).and(throttle).and(documents)
}

/// Runs the daily jobs at start and then every hour, until `shutdown` turns true.
pub async fn run_scheduler(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let every = std::time::Duration::from_secs(3600);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let today = state.clock().today();
        if let Err(e) = run_daily(&state, today).await {
            tracing::error!(error = %e, "daily jobs failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}

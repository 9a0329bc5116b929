//! The daily sweep of orphaned objects: an upload writes its object before its row, so a
//! crash or a refused upload between the two can leave an object no row names. Objects older
//! than a day that no row names are deleted; younger ones may belong to an upload in flight.

use std::collections::HashSet;

use chrono::Duration;

use crate::AppState;
use crate::error::ApiError;

/// How old an unnamed object must be before it is swept.
pub const GRACE: Duration = Duration::days(1);

/// Deletes the orphaned objects; returns how many.
pub async fn run(state: &AppState) -> Result<usize, ApiError> {
    let named: HashSet<String> = state
        .db(super::service::all)
        .await?
        .into_iter()
        .map(|r| r.storage_key)
        .collect();
    let before = state.clock().now() - GRACE;
    let mut swept = 0;
    for (key, modified) in state.documents.objects().await? {
        if !named.contains(&key) && modified < before {
            state.documents.delete(&key).await?;
            swept += 1;
        }
    }
    Ok(swept)
}

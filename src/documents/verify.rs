//! `idpc-hub documents verify`: re-reads every stored object, decrypts it and checks its
//! size and SHA-256 against its row, naming each document that differs.

use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::model::DocumentRow;
use super::store::Sealed;
use crate::AppState;
use crate::error::ApiError;

/// A stored version that does not match its row.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The version's id.
    pub id: String,
    /// Its file name.
    pub file_name: String,
    /// What is wrong.
    pub problem: String,
}

/// What a verification found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Versions checked.
    pub checked: usize,
    /// Those that differ.
    pub mismatches: Vec<Mismatch>,
}

async fn check(state: &AppState, row: &DocumentRow) -> Result<(), String> {
    let size = row.size_bytes as u64;
    let sealed = Sealed {
        key: &row.storage_key,
        size,
        key_id: &row.key_id,
        nonce_prefix: &row.nonce_prefix,
    };
    let mut stream = state
        .documents
        .read(&state.keyring, &sealed, 0..size)
        .await
        .map_err(|e| e.problem().internal.unwrap_or_else(|| e.to_string()))?;
    let mut hash = Sha256::new();
    let mut read = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("does not decrypt: {e}"))?;
        read += chunk.len() as u64;
        hash.update(&chunk);
    }
    if read != size {
        return Err(format!("{read} bytes instead of {size}"));
    }
    let digest = hex::encode(hash.finalize());
    if digest != row.sha256 {
        return Err(format!("SHA-256 {digest} instead of {}", row.sha256));
    }
    Ok(())
}

/// Checks every stored version.
pub async fn run(state: &AppState) -> Result<Report, ApiError> {
    let rows = state.db(super::service::all).await?;
    let mut report = Report::default();
    for row in rows {
        report.checked += 1;
        if let Err(problem) = check(state, &row).await {
            report.mismatches.push(Mismatch {
                id: row.id.clone(),
                file_name: row.file_name.clone(),
                problem,
            });
        }
    }
    Ok(report)
}

/// Refuses to start when a stored document was encrypted under a key `ring` lacks: every
/// key id the rows name must be in `ENCRYPTION_KEYS`, or the files it sealed would fail only
/// when someone tries to read them. The message names each missing key id.
pub fn check_key_ring(
    conn: &mut crate::db::DbConn,
    ring: &crate::crypto::KeyRing,
) -> Result<(), String> {
    use diesel::prelude::*;

    use crate::db::schema::documents;

    let used: Vec<String> = documents::table
        .select(documents::key_id)
        .distinct()
        .order(documents::key_id.asc())
        .load(conn)
        .map_err(|e| format!("cannot read the documents' key ids: {e}"))?;
    let missing: Vec<String> = used
        .into_iter()
        .filter(|kid| ring.cipher(kid).is_err())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut counts = Vec::new();
    for kid in &missing {
        let n: i64 = documents::table
            .filter(documents::key_id.eq(kid))
            .count()
            .get_result(conn)
            .map_err(|e| format!("cannot count the documents of key {kid}: {e}"))?;
        counts.push(format!("\"{kid}\" ({n} stored document(s))"));
    }
    Err(format!(
        "ENCRYPTION_KEYS lacks the key id(s) {} that encrypted stored documents; put the key(s) back in ENCRYPTION_KEYS (after a rotation old keys stay in the list, after the new one) or those files cannot be read",
        counts.join(", ")
    ))
}

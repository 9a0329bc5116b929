//! Document settings (`DOCUMENT_*`, `S3_*`), parsed by `config::Config::from_map` through
//! [`parse`]; the variables are declared with the others in `config/settings.rs`.

use std::path::PathBuf;

use crate::config::{ConfigError, Env, Secret, var};

/// Where document files are kept (always encrypted by the service).
#[derive(Clone, Debug)]
pub enum DocumentStore {
    /// A folder on local disk.
    Local(PathBuf),
    /// A bucket of an S3-compatible store.
    S3(S3Store),
}

/// An S3-compatible bucket and how to reach it.
#[derive(Clone, Debug)]
pub struct S3Store {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix inside the bucket (may be empty).
    pub prefix: String,
    /// Endpoint URL; empty for AWS itself.
    pub endpoint: Option<String>,
    /// Region.
    pub region: String,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<Secret>,
}

/// How documents are stored and limited.
#[derive(Clone, Debug)]
pub struct DocumentSettings {
    /// The store.
    pub store: DocumentStore,
    /// Largest accepted file in bytes.
    pub max_bytes: u64,
    /// Bytes of documents one organisation may keep (every version counts).
    pub quota_bytes: u64,
}

/// `DOCUMENT_STORE`: empty (a folder under the data folder), a folder path, or
/// `s3://bucket[/prefix]`.
pub fn store_url(raw: &str) -> Result<Option<String>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.split_once("://") {
        None => Ok(Some(raw.to_string())),
        Some(("s3", rest)) if !rest.is_empty() && !rest.starts_with('/') => {
            Ok(Some(raw.to_string()))
        }
        Some(("file", rest)) if rest.starts_with('/') => Ok(Some(rest.to_string())),
        _ => Err(format!(
            "expected a folder path, file:///PATH or s3://BUCKET[/PREFIX], got {raw:?}"
        )),
    }
}

/// Reads the document settings; `data_dir` holds the default folder.
pub fn parse(env: &Env<'_>, data_dir: &std::path::Path) -> Result<DocumentSettings, ConfigError> {
    let store = match env.get(&var::DOCUMENT_STORE)? {
        None => DocumentStore::Local(data_dir.join("documents")),
        Some(url) => match url.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                DocumentStore::S3(S3Store {
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                    endpoint: env.get(&var::S3_ENDPOINT)?,
                    region: env.get(&var::S3_REGION)?,
                    access_key_id: env.get(&var::S3_ACCESS_KEY_ID)?,
                    secret_access_key: env.get(&var::S3_SECRET_ACCESS_KEY)?,
                })
            }
            None => DocumentStore::Local(PathBuf::from(url)),
        },
    };
    Ok(DocumentSettings {
        store,
        max_bytes: env.get(&var::DOCUMENT_MAX_BYTES)?,
        quota_bytes: env.get(&var::DOCUMENT_QUOTA_BYTES)?,
    })
}

//! Where the encrypted bytes live: a local folder or an S3-compatible bucket, both through
//! `object_store`. Files are encrypted here, segment by segment, while they stream in, and
//! decrypted while they stream out; the store never sees plaintext and no whole file is ever
//! held in memory (at most one segment plus the store's upload buffer).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, WriteMultipart};
use sha2::{Digest, Sha256};

use super::crypt::{self, NONCE_PREFIX, SEALED_SEGMENT, SEGMENT, SegmentCipher};
use super::sniff;
use crate::config::documents::{DocumentSettings, DocumentStore};
use crate::crypto::KeyRing;
use crate::error::ApiError;

/// Bytes the store buffers before it sends a part (S3's smallest part is 5 MiB).
const PART: usize = 5 * 1024 * 1024;
/// Parts in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// The document store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.inner)
    }
}

/// What an upload wrote: enough to record it and to open it again.
#[derive(Debug, Clone)]
pub struct Written {
    /// Plaintext bytes.
    pub size: u64,
    /// SHA-256 of the plaintext, hex.
    pub sha256: String,
    /// Media type found in the content.
    pub media_type: &'static str,
    /// Key that encrypted it.
    pub key_id: String,
    /// STREAM nonce prefix, hex.
    pub nonce_prefix: String,
}

/// How to open one stored object.
#[derive(Debug, Clone)]
pub struct Sealed<'a> {
    /// Object key.
    pub key: &'a str,
    /// Plaintext size.
    pub size: u64,
    /// Key id.
    pub key_id: &'a str,
    /// Nonce prefix, hex.
    pub nonce_prefix: &'a str,
}

fn store_error(e: object_store::Error) -> ApiError {
    ApiError::Internal(format!("document store: {e}"))
}

/// The associated data that binds an object to its key (a copied object does not open
/// under another key).
fn aad(key: &str) -> Vec<u8> {
    format!("documents:{key}").into_bytes()
}

impl Store {
    /// The configured store; a local folder is created when missing.
    pub fn from_settings(settings: &DocumentSettings) -> Result<Self, String> {
        let inner: Arc<dyn ObjectStore> = match &settings.store {
            DocumentStore::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Arc::new(LocalFileSystem::new_with_prefix(dir).map_err(|e| e.to_string())?)
            }
            DocumentStore::S3(s3) => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    b = b
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some(id) = &s3.access_key_id {
                    b = b.with_access_key_id(id);
                }
                if let Some(secret) = &s3.secret_access_key {
                    b = b.with_secret_access_key(&secret.0);
                }
                let s3_store = b.build().map_err(|e| e.to_string())?;
                if s3.prefix.is_empty() {
                    Arc::new(s3_store)
                } else {
                    Arc::new(PrefixStore::new(s3_store, s3.prefix.as_str()))
                }
            }
        };
        Ok(Self { inner })
    }

    /// Encrypts `chunks` into a new object `key` while they arrive, hashing and counting the
    /// plaintext; refuses more than `max` bytes (413) and a type off the allow-list (415)
    /// without keeping anything. `file_name` only tells CSV from plain text.
    pub async fn write<S>(
        &self,
        ring: &KeyRing,
        key: &str,
        file_name: &str,
        max: u64,
        chunks: S,
    ) -> Result<Written, ApiError>
    where
        S: Stream<Item = Result<Bytes, ApiError>> + Unpin,
    {
        let upload = self
            .inner
            .put_multipart(&Path::from(key))
            .await
            .map_err(store_error)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let kid = ring.current_kid().to_string();
        let prefix = crypt::new_nonce_prefix();
        let cipher = SegmentCipher::new(
            ring.cipher(&kid).map_err(ApiError::internal)?,
            &prefix,
            &aad(key),
        );
        let mut sealer = Sealer::new(cipher, file_name, max);
        let outcome = async {
            let mut chunks = chunks;
            while let Some(chunk) = chunks.next().await {
                for sealed in sealer.push(&chunk?)? {
                    writer
                        .wait_for_capacity(PARTS_IN_FLIGHT)
                        .await
                        .map_err(store_error)?;
                    writer.write(&sealed);
                }
            }
            let sealed = sealer.finish()?;
            writer.write(&sealed);
            Ok::<_, ApiError>(())
        }
        .await;
        if let Err(e) = outcome {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await.map_err(store_error)?;
        Ok(Written {
            size: sealer.size,
            sha256: hex::encode(sealer.hash.finalize()),
            media_type: sealer.media_type.unwrap_or("application/octet-stream"),
            key_id: kid,
            nonce_prefix: hex::encode(prefix),
        })
    }

    /// Streams the plaintext bytes `range` of an object, decrypting only the segments the
    /// range touches; an object that does not authenticate ends the stream with an error.
    pub async fn read(
        &self,
        ring: &KeyRing,
        obj: &Sealed<'_>,
        range: Range<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, std::io::Error>>, ApiError> {
        let prefix: [u8; NONCE_PREFIX] = hex::decode(obj.nonce_prefix)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| ApiError::internal("malformed nonce prefix"))?;
        let key = ring.cipher(obj.key_id).map_err(ApiError::internal)?;
        let cipher = SegmentCipher::new(key, &prefix, &aad(obj.key));
        let (first, count, sealed) = crypt::sealed_range(range.start, range.end, obj.size);
        let got = self
            .inner
            .get_opts(
                &Path::from(obj.key),
                GetOptions {
                    range: Some(GetRange::Bounded(sealed)),
                    ..GetOptions::default()
                },
            )
            .await
            .map_err(store_error)?;
        let state = Opener {
            inner: got.into_stream().map_err(std::io::Error::other).boxed(),
            buf: Vec::with_capacity(SEALED_SEGMENT * 2),
            cipher,
            position: first as u32,
            end: (first + count) as u32,
            last: (crypt::segments(obj.size) - 1) as u32,
            skip: (range.start - first * SEGMENT as u64) as usize,
            left: range.end - range.start,
        };
        Ok(futures_util::stream::try_unfold(state, Opener::next).boxed())
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }

    /// Every object key in the store.
    pub async fn keys(&self) -> Result<Vec<String>, ApiError> {
        Ok(self.objects().await?.into_iter().map(|(k, _)| k).collect())
    }

    /// Every object key in the store with when it was last written.
    pub async fn objects(&self) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>, ApiError> {
        self.inner
            .list(None)
            .map_ok(|m| (m.location.to_string(), m.last_modified))
            .try_collect()
            .await
            .map_err(store_error)
    }

    /// The raw (encrypted) bytes of an object: for checks that the store holds no plaintext.
    pub async fn raw(&self, key: &str) -> Result<Bytes, ApiError> {
        let got = self
            .inner
            .get(&Path::from(key))
            .await
            .map_err(store_error)?;
        got.bytes().await.map_err(store_error)
    }

    /// Replaces the raw bytes of an object (tests of tamper detection use it).
    pub async fn put_raw(&self, key: &str, bytes: Bytes) -> Result<(), ApiError> {
        self.inner
            .put(&Path::from(key), bytes.into())
            .await
            .map(|_| ())
            .map_err(store_error)
    }
}

/// Cuts the plaintext into segments as it arrives and seals each full one; holds one back
/// until more arrives, because the last segment is sealed differently.
struct Sealer {
    cipher: SegmentCipher,
    file_name: String,
    max: u64,
    buf: Vec<u8>,
    position: u32,
    size: u64,
    hash: Sha256,
    media_type: Option<&'static str>,
}

impl Sealer {
    fn new(cipher: SegmentCipher, file_name: &str, max: u64) -> Self {
        Self {
            cipher,
            file_name: file_name.to_string(),
            max,
            buf: Vec::with_capacity(SEALED_SEGMENT),
            position: 0,
            size: 0,
            hash: Sha256::new(),
            media_type: None,
        }
    }

    /// Takes a chunk; returns the segments sealed because of it.
    fn push(&mut self, mut chunk: &[u8]) -> Result<Vec<Vec<u8>>, ApiError> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            return Err(ApiError::PayloadTooLarge(self.max as usize));
        }
        self.hash.update(chunk);
        let mut out = Vec::new();
        while !chunk.is_empty() {
            if self.buf.len() == SEGMENT {
                out.push(self.seal(false)?);
            }
            let take = (SEGMENT - self.buf.len()).min(chunk.len());
            self.buf.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        Ok(out)
    }

    /// Seals what is left as the last segment.
    fn finish(&mut self) -> Result<Vec<u8>, ApiError> {
        self.seal(true)
    }

    fn seal(&mut self, last: bool) -> Result<Vec<u8>, ApiError> {
        if self.media_type.is_none() {
            let head = &self.buf[..self.buf.len().min(sniff::HEAD)];
            let found = sniff::media_type(head, &self.file_name).map_err(|found| {
                ApiError::UnsupportedMediaType(format!(
                    "The file's content is {found}, which is not accepted; send PDF, OpenDocument or Office documents, CSV, plain text, PNG or JPEG."
                ))
            })?;
            self.media_type = Some(found);
        }
        let mut seg = std::mem::replace(&mut self.buf, Vec::with_capacity(SEALED_SEGMENT));
        self.cipher.seal(self.position, last, &mut seg);
        self.position += 1;
        Ok(seg)
    }
}

/// The state of a download: sealed bytes in, one opened segment out at a time.
struct Opener {
    inner: BoxStream<'static, Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
    cipher: SegmentCipher,
    position: u32,
    end: u32,
    last: u32,
    skip: usize,
    left: u64,
}

impl Opener {
    async fn next(mut self) -> Result<Option<(Bytes, Self)>, std::io::Error> {
        if self.position >= self.end || self.left == 0 {
            return Ok(None);
        }
        while self.buf.len() < SEALED_SEGMENT {
            match self.inner.next().await {
                Some(chunk) => self.buf.extend_from_slice(&chunk?),
                None => break,
            }
        }
        let take = self.buf.len().min(SEALED_SEGMENT);
        let mut seg: Vec<u8> = self.buf.drain(..take).collect();
        self.cipher
            .open(self.position, self.position == self.last, &mut seg)
            .map_err(std::io::Error::other)?;
        self.position += 1;
        let from = std::mem::take(&mut self.skip).min(seg.len());
        let to = (from as u64 + self.left).min(seg.len() as u64) as usize;
        self.left -= (to - from) as u64;
        Ok(Some((Bytes::copy_from_slice(&seg[from..to]), self)))
    }
}

//! Handlers of documents: streamed multipart uploads, lists, metadata, ranged downloads,
//! versions and deletion. Thin: the parent's rules are in `parent`, the transactions in
//! `service`, the bytes in `store`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_multipart::Multipart;
use actix_web::body::SizedStream;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentEncoding};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use futures_util::TryStreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::model::{Document, DocumentKind, ParentType};
use super::service::{self, Upload};
use super::sniff;
use super::store::Sealed;
use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, ConflictError, IdempotencyErrors, NotFoundError};
use crate::idempotency::{self, Outcome};
use crate::pagination::Page;

/// A new document: the file and what it is, as `multipart/form-data`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct DocumentUpload {
    /// The file (its content decides its type: PDF, OpenDocument and Office formats, CSV,
    /// plain text, PNG or JPEG); at most `DOCUMENT_MAX_BYTES`.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// What the document is.
    pub kind: DocumentKind,
    /// Optional title, up to 200 characters.
    pub title: Option<String>,
}

/// A new version of a document: the file, and optionally a new title.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct VersionUpload {
    /// The file (same rules as the first upload).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Optional new title, up to 200 characters; the old one is kept otherwise.
    pub title: Option<String>,
}

/// The bytes of a document.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileContent(#[allow(dead_code)] Vec<u8>);

/// The object whose documents these are.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ParentPath {
    /// grants, reports, disbursements, organisations or membership-applications.
    #[param(schema_with = collection_schema)]
    pub parents: String,
    /// The object's id.
    pub id: String,
}

fn collection_schema() -> utoipa::openapi::Object {
    crate::codes::schema::one_of([
        "grants",
        "reports",
        "disbursements",
        "organisations",
        "membership-applications",
    ])
}

impl ParentPath {
    fn kind(&self) -> Result<ParentType, ApiError> {
        ParentType::from_collection(&self.parents).ok_or(ApiError::NotFound)
    }
}

/// 413 from `Content-Length` alone, before a byte of the body is read (the multipart
/// envelope may add a little to the file's own limit).
pub(crate) fn refuse_declared_length(req: &HttpRequest, max: u64) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max + 64 * 1024) {
        return Err(ApiError::PayloadTooLarge(max as usize));
    }
    Ok(())
}

fn multipart_error(e: actix_multipart::MultipartError) -> ApiError {
    ApiError::BadRequest(format!("Could not read the multipart body: {e}"))
}

/// A short text field, at most `max` bytes of UTF-8.
async fn text_field(
    field: &mut actix_multipart::Field,
    name: &str,
    max: usize,
) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(multipart_error)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > max {
            return Err(ApiError::field(
                name,
                "too_long",
                format!("At most {max} bytes."),
            ));
        }
    }
    String::from_utf8(buf).map_err(|_| ApiError::field(name, "invalid", "Not UTF-8 text."))
}

/// Checks a console form's CSRF token (its `csrf` part, sent before the file).
pub(crate) type CsrfGate<'a> = &'a dyn Fn(&str) -> bool;

/// Reads the form, streaming the file into the store under a fresh key. On any refusal the
/// stored object is removed before answering. A console form passes its CSRF `gate`: the
/// token must come (and match) before the file, so no byte is stored for a forged form.
pub(crate) async fn receive(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    with_kind: bool,
    gate: Option<CsrfGate<'_>>,
) -> Result<Upload, ApiError> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::UnsupportedMediaType(
            "Send the file as multipart/form-data with a `file` part.".into(),
        ));
    }
    let key = format!("{}", uuid::Uuid::now_v7());
    let mut form = Form::default();
    let outcome = read_parts(state, req, payload, &key, &mut form, gate).await;
    let result = outcome.and_then(|()| form.finish(key.clone(), with_kind));
    if result.is_err() && form.stored {
        let _ = state.documents.delete(&key).await;
    }
    result
}

#[derive(Default)]
struct Form {
    kind: Option<String>,
    title: Option<String>,
    file: Option<(String, super::store::Written)>,
    stored: bool,
    csrf_checked: bool,
}

impl Form {
    fn finish(&mut self, storage_key: String, with_kind: bool) -> Result<Upload, ApiError> {
        let (file_name, written) = self.file.take().ok_or_else(|| {
            ApiError::field("file", "required", "Attach the file as the `file` part.")
        })?;
        let kind = match (with_kind, self.kind.as_deref()) {
            (false, _) => None,
            (true, None) => {
                return Err(ApiError::field(
                    "kind",
                    "required",
                    "Say what the document is.",
                ));
            }
            (true, Some(k)) => Some(DocumentKind::parse(k).ok_or_else(|| {
                ApiError::field(
                    "kind",
                    "invalid",
                    "Not a document kind (see the DocumentKind schema).",
                )
            })?),
        };
        let title = self
            .title
            .take()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if title
            .as_ref()
            .is_some_and(|t| t.chars().count() > 200 || t.chars().any(char::is_control))
        {
            return Err(ApiError::field(
                "title",
                "invalid",
                "Up to 200 characters, no control characters.",
            ));
        }
        Ok(Upload {
            storage_key,
            file_name,
            kind,
            title,
            written,
        })
    }
}

async fn read_parts(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    key: &str,
    form: &mut Form,
    gate: Option<CsrfGate<'_>>,
) -> Result<(), ApiError> {
    let forged = || {
        ApiError::Forbidden("The form was not sent from this site, or it is too old; reload the page and send it again.".into())
    };
    let mut parts = Multipart::new(req.headers(), payload);
    while let Some(mut field) = parts.try_next().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "kind" => form.kind = Some(text_field(&mut field, "kind", 64).await?),
            "title" => form.title = Some(text_field(&mut field, "title", 1024).await?),
            "csrf" if gate.is_some() => {
                let token = text_field(&mut field, "csrf", 256).await?;
                if !gate.is_some_and(|ok| ok(&token)) {
                    return Err(forged());
                }
                form.csrf_checked = true;
            }
            "file" if form.file.is_none() => {
                if gate.is_some() && !form.csrf_checked {
                    return Err(forged());
                }
                let raw = field
                    .content_disposition()
                    .and_then(|d| {
                        d.get_filename().map(str::to_string).or_else(|| {
                            d.get_filename_ext()
                                .map(|e| String::from_utf8_lossy(&e.value).into_owned())
                        })
                    })
                    .unwrap_or_default();
                if gate.is_some() && raw.is_empty() {
                    // A console form sent without choosing a file: an empty part, no file.
                    while field.try_next().await.map_err(multipart_error)?.is_some() {}
                    continue;
                }
                let file_name = sniff::clean_file_name(&raw);
                let chunks = field.map_err(multipart_error);
                form.stored = true;
                let written = state
                    .documents
                    .write(
                        &state.keyring,
                        key,
                        &file_name,
                        state.config.documents.max_bytes,
                        chunks,
                    )
                    .await?;
                form.file = Some((file_name, written));
            }
            other => {
                return Err(ApiError::field(
                    other,
                    "unknown",
                    "Send only the parts file, kind and title, one file each.",
                ));
            }
        }
    }
    Ok(())
}

/// Records an upload under `Idempotency-Key`; the stored object is removed when nothing
/// recorded it (refused, failed, or a replay of an earlier upload).
async fn record_once<F>(
    state: &AppState,
    who: &Principal,
    req: &HttpRequest,
    up: Upload,
    record: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut crate::db::DbConn, Upload) -> Result<Document, ApiError> + Send + 'static,
{
    let key = up.storage_key.clone();
    let fingerprint = serde_json::json!({
        "kind": up.kind, "title": up.title, "file_name": up.file_name,
        "sha256": up.written.sha256, "size": up.written.size,
    });
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let answer = idempotency::run(state, who, req, fingerprint, move |c| {
        let doc = record(c, up)?;
        flag.store(true, Ordering::SeqCst);
        Outcome::created(format!("/api/v1/documents/{}", doc.id), &doc)
    })
    .await;
    if answer.is_err() || !ran.load(Ordering::SeqCst) {
        let _ = state.documents.delete(&key).await;
    }
    answer
}

/// Upload a document to a grant, report, tranche, organisation or membership application.
/// Streamed; accepts Idempotency-Key.
#[utoipa::path(
    description = "Staff, and members of the organisation the object belongs to (a grant's, report's or tranche's grantee; the organisation itself); membership applications: staff only. Partner apps and anyone else get 404. The file streams through type detection (by content: PDF, OpenDocument and Office formats, CSV, plain text, PNG, JPEG; anything else is 415 naming the type found), SHA-256 and encryption into the store; over `DOCUMENT_MAX_BYTES` is 413 (from `Content-Length` before reading, or while streaming), over the organisation's quota 409. An accepted report or a finished grant is read-only (409). Audited; emails nothing.",
    tag = "documents",
    security(("bearer" = [])),
    params(ParentPath, ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and file (24 hours)")),
    request_body(content = DocumentUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = Document, headers(("Location" = String, description = "URL of the document"))),
        AuthErrors, BodyErrors, NotFoundError, IdempotencyErrors,
    )
)]
#[post("/{parents}/{id}/documents")]
pub async fn upload_document(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    path: web::Path<ParentPath>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let kind = path.kind()?;
    let id = path.into_inner().id;
    refuse_declared_length(&req, state.config.documents.max_bytes)?;
    let (w, pid) = (who.clone(), id.clone());
    state
        .db(move |c| super::parent::resolve(c, &w, kind, &pid)?.check_writable())
        .await?;
    let up = receive(&state, &req, payload, true, None).await?;
    let config = state.config.clone();
    let w = who.clone();
    record_once(&state, &who, &req, up, move |c, up| {
        service::record_new(c, &config, &w, &meta, kind, &id, up)
    })
    .await
}

/// The documents of an object (their newest versions).
#[utoipa::path(
    description = "Whoever may read the object (as for uploads). The newest version of each of its documents; changes nothing.",
    tag = "documents",
    security(("bearer" = [])),
    params(ParentPath),
    responses(
        (status = 200, description = "Its documents", body = Page<Document>),
        AuthErrors, NotFoundError,
    )
)]
#[get("/{parents}/{id}/documents")]
pub async fn list_documents(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<ParentPath>,
) -> Result<HttpResponse, ApiError> {
    let kind = path.kind()?;
    let id = path.into_inner().id;
    let data = state
        .db(move |c| {
            let parent = super::parent::resolve(c, &who, kind, &id)?;
            service::list(c, &parent)
        })
        .await?;
    let total = data.len() as i64;
    Ok(HttpResponse::Ok().json(Page {
        data,
        next_cursor: None,
        total,
    }))
}

/// A document version's metadata.
#[utoipa::path(
    description = "Whoever may read the object the document belongs to; partner apps and other organisations get 404. Any version, superseded ones included; changes nothing.",
    tag = "documents",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Document version id")),
    responses(
        (status = 200, description = "The document", body = Document),
        AuthErrors, NotFoundError,
    )
)]
#[get("/documents/{id}")]
pub async fn get_document(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (row, _) = state.db(move |c| service::visible(c, &who, &id)).await?;
    Ok(HttpResponse::Ok().json(Document::from(row)))
}

/// The requested byte range: `None` for the whole file, `Err` when unsatisfiable.
fn byte_range(req: &HttpRequest, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some(spec) = spec.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            (size.saturating_sub(n), size)
        }
        (s, "") => (s.parse().map_err(|_| ())?, size),
        (s, e) => {
            let e: u64 = e.parse().map_err(|_| ())?;
            (s.parse().map_err(|_| ())?, e.saturating_add(1).min(size))
        }
    };
    if start >= end || start >= size {
        Err(())
    } else {
        Ok(Some((start, end)))
    }
}

/// Download a document's bytes: the stored media type, `Content-Disposition: attachment`,
/// `ETag` = its SHA-256, and single byte ranges (`Range: bytes=…`, 206).
#[utoipa::path(
    description = "Whoever may read the object the document belongs to. Streams the decrypted bytes with the stored media type, `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and `ETag` = the SHA-256; one byte range per request (206, or 416 outside the file). Changes nothing.",
    tag = "documents",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Document version id"), ("Range" = Option<String>, Header, description = "One byte range, e.g. bytes=0-1023")),
    responses(
        (status = 200, description = "The file", body = FileContent, content_type = "application/octet-stream", headers(("ETag" = String, description = "The SHA-256 of the content, quoted"), ("Content-Disposition" = String, description = "attachment with the stored file name")), example = json!(content_example())),
        (status = 206, description = "The requested range", content_type = "application/octet-stream", body = FileContent, headers(("Content-Range" = String, description = "bytes START-END/SIZE"))),
        (status = 304, description = "Unchanged (If-None-Match matched the ETag)"),
        (status = 416, description = "The range lies outside the file", body = crate::error::Problem, content_type = "application/problem+json"),
        AuthErrors, NotFoundError,
    )
)]
#[get("/documents/{id}/content")]
pub async fn download_document(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (row, _) = state.db(move |c| service::visible(c, &who, &id)).await?;
    content(&state, &row, &req).await
}

/// The answer carrying a document version's bytes (whole, one range, or 304), for the API
/// and the console's download link alike.
pub(crate) async fn content(
    state: &AppState,
    row: &super::model::DocumentRow,
    req: &HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let size = row.size_bytes as u64;
    let etag = format!("\"{}\"", row.sha256);
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let Ok(range) = byte_range(req, size) else {
        return Ok(HttpResponse::RangeNotSatisfiable()
            .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
            .finish());
    };
    let (start, end) = range.unwrap_or((0, size));
    let sealed = Sealed {
        key: &row.storage_key,
        size,
        key_id: &row.key_id,
        nonce_prefix: &row.nonce_prefix,
    };
    let stream = state
        .documents
        .read(&state.keyring, &sealed, start..end)
        .await?;
    let mut res = HttpResponse::build(if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    });
    if range.is_some() {
        res.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", end - 1),
        ));
    }
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        sniff::ascii_name(&row.file_name),
        percent_encode(&row.file_name)
    );
    Ok(res
        .insert_header((header::CONTENT_TYPE, row.media_type.clone()))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::ETAG, etag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(ContentEncoding::Identity)
        .body(SizedStream::new(end - start, stream)))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Upload a new version of a document; the old versions stay readable. Accepts
/// Idempotency-Key.
#[utoipa::path(
    description = "Who may upload to the document's object. Adds a new version with the same rules as an upload; the previous one is marked superseded and stays readable. Refused (409) once the object is read-only (an accepted report). Audited; emails nothing.",
    tag = "documents",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Id of any version of the document"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same key and file (24 hours)")),
    request_body(content = VersionUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The new version", body = Document, headers(("Location" = String, description = "URL of the new version"))),
        AuthErrors, BodyErrors, NotFoundError, IdempotencyErrors,
    )
)]
#[post("/documents/{id}/versions")]
pub async fn upload_version(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    refuse_declared_length(&req, state.config.documents.max_bytes)?;
    let (w, of) = (who.clone(), id.clone());
    state
        .db(move |c| service::visible(c, &w, &of)?.1.check_writable())
        .await?;
    let up = receive(&state, &req, payload, false, None).await?;
    let config = state.config.clone();
    let w = who.clone();
    record_once(&state, &who, &req, up, move |c, up| {
        service::record_version(c, &config, &w, &meta, &id, up)
    })
    .await
}

/// Delete a draft's document with all its versions (who may edit the draft only).
#[utoipa::path(
    description = "Who may edit a draft: its grantee's members or staff for a due or returned report, staff for a draft grant, a requested or approved tranche, an open membership application, an organisation's own documents. Deletes every version; documents of an approved grant, a submitted or accepted report or a paid tranche are only superseded (409). Audited; emails nothing.",
    tag = "documents",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Id of any version of the document")),
    responses(
        (status = 204, description = "Deleted"),
        AuthErrors, NotFoundError, ConflictError,
    )
)]
#[delete("/documents/{id}")]
pub async fn delete_document(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    let keys = state
        .db(move |c| service::delete(c, &config, &who, &meta, &id))
        .await?;
    for key in keys {
        // The rows are gone; an object left behind is an orphan the sweep removes.
        let _ = state.documents.delete(&key).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

fn content_example() -> String {
    "line,amount\r\ntraining,1200.00\r\n".into()
}

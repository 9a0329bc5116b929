//! Documents on console pages: the files of a report, grant or tranche (name, size, type and
//! a download link) with the upload form of whoever may add one, the upload itself (a plain
//! `multipart/form-data` form: its CSRF token first, then the file streamed through the
//! documents service into the store, never held whole), and the download. The rules are the
//! API's (`documents::parent`, `documents::service`); nothing is decided here.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::console::{Page, Reply, reply};
use super::page::{Failure, Form};
use crate::AppState;
use crate::auth::principal::RequestMeta;
use crate::documents::api::{content, receive, refuse_declared_length};
use crate::documents::{Document, ParentType, parent, service};
use crate::error::ApiError;
use crate::kit::human_size;

/// A file as a page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    /// The version's id (its download link).
    pub id: String,
    /// The stored file name.
    pub file_name: String,
    /// Its title, when given.
    pub title: Option<String>,
    /// What it is, as people read it.
    pub kind: String,
    /// Its media type, as found in its content.
    pub media_type: String,
    /// Its size, e.g. `48.2 KB`.
    pub size: String,
    /// Version number.
    pub version: i32,
    /// When it was uploaded (RFC 3339).
    pub uploaded_at: String,
}

impl From<Document> for Shown {
    fn from(d: Document) -> Self {
        Self {
            kind: d.kind.as_str().replace('_', " "),
            size: human_size(d.size),
            id: d.id,
            file_name: d.file_name,
            title: d.title,
            media_type: d.media_type,
            version: d.version,
            uploaded_at: d.uploaded_at,
        }
    }
}

/// The page of a parent, where an upload comes back to.
fn page_of(kind: ParentType, id: &str) -> Option<String> {
    match kind {
        ParentType::Grant => Some(format!("/grants/{id}")),
        ParentType::Report => Some(format!("/reports/{id}")),
        ParentType::Disbursement => Some(format!("/disbursements/{id}")),
        ParentType::Organisation | ParentType::MembershipApplication => None,
    }
}

fn collection(kind: ParentType) -> &'static str {
    match kind {
        ParentType::Grant => "grants",
        ParentType::Report => "reports",
        ParentType::Disbursement => "disbursements",
        ParentType::Organisation => "organisations",
        ParentType::MembershipApplication => "membership-applications",
    }
}

/// The kinds a parent's files usually are, the most likely first.
fn kinds(kind: ParentType) -> Vec<(String, String)> {
    let pairs: &[(&str, &str)] = match kind {
        ParentType::Grant => &[
            ("agreement", "Signed agreement"),
            ("budget", "Budget"),
            ("amendment", "Amendment"),
            ("other", "Other"),
        ],
        ParentType::Report => &[("report_file", "A file of the report"), ("other", "Other")],
        ParentType::Disbursement => &[("proof_of_payment", "Proof of payment"), ("other", "Other")],
        ParentType::Organisation => &[
            ("registration", "Registration certificate"),
            ("safeguarding_policy", "Safeguarding policy"),
            ("statutes", "Statutes"),
            ("other", "Other"),
        ],
        ParentType::MembershipApplication => &[
            ("statutes", "Statutes"),
            ("registration", "Registration certificate"),
            ("other", "Other"),
        ],
    };
    pairs
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect()
}

/// The upload form of a parent (named `upload`).
pub fn upload_form(kind: ParentType, id: &str, max_bytes: u64) -> Form {
    let action = format!("/{}/{id}/documents", collection(kind));
    let mut form = Form::new("upload", &action, "Upload")
        .heading("Upload a file")
        .file("file", "File")
        .hint(&format!(
            "PDF, OpenDocument or Office documents, CSV, plain text, PNG or JPEG; up to {}.",
            human_size(max_bytes as i64)
        ))
        .select("kind", "What it is", kinds(kind))
        .text("title", "Title (optional)")
        .multipart();
    if let Some((first, _)) = kinds(kind).first() {
        form = form.value("kind", first);
    }
    form
}

/// The files of a parent as the viewer may see them, and the upload form when they may add
/// one now; the parent's error (404 for what is not theirs) otherwise.
pub async fn section(
    p: &Page,
    kind: ParentType,
    id: &str,
) -> Result<(Vec<Shown>, Option<Form>), HttpResponse> {
    let (who, pid) = (p.who.clone(), id.to_string());
    let (parent, docs) = p
        .db(move |c| {
            let parent = parent::resolve(c, &who, kind, &pid)?;
            let docs = service::list(c, &parent)?;
            Ok((parent, docs))
        })
        .await?;
    let max = p.state.config.documents.max_bytes;
    let upload = parent
        .check_writable()
        .is_ok()
        .then(|| upload_form(kind, id, max));
    Ok((docs.into_iter().map(Shown::from).collect(), upload))
}

/// The parent's page again, with the refused upload form under it.
async fn parent_page(p: &Page, kind: ParentType, id: String, failed: Form) -> Reply {
    match kind {
        ParentType::Grant => super::grant_desk::grant_page(p, id, Some(failed)).await,
        ParentType::Report => super::work::report_page(p, id, Some(failed)).await,
        _ => super::work::tranche_page(p, id, Some(failed)).await,
    }
}

/// A refusal of the file itself (too big, a type not accepted) shown at the file input.
fn at_file(e: ApiError) -> ApiError {
    match e {
        ApiError::PayloadTooLarge(max) => ApiError::field(
            "file",
            "too_large",
            format!(
                "The file is larger than {}; send a smaller one.",
                human_size(max as i64)
            ),
        ),
        ApiError::UnsupportedMediaType(m) => ApiError::field("file", "unsupported", m),
        other => other,
    }
}

/// Upload a file to a report, grant or tranche from its page.
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let (parents, id) = path.into_inner();
            let Some(kind) =
                ParentType::from_collection(&parents).filter(|k| page_of(*k, &id).is_some())
            else {
                return Err(p.fail(ApiError::NotFound));
            };
            let form = upload_form(kind, &id, state.config.documents.max_bytes);
            match store(&p, &req, meta, payload, kind, &id).await {
                Ok(doc) => Ok(p.done(
                    &page_of(kind, &id).unwrap_or_default(),
                    &format!("{} is uploaded.", doc.file_name),
                )),
                Err(ApiError::Forbidden(m)) if m.contains("not sent from this site") => {
                    Err(p.say(StatusCode::FORBIDDEN, "This form has expired", &m))
                }
                Err(e) => match form.failed(at_file(e)) {
                    Failure::Form(_, form) => parent_page(&p, kind, id, form).await,
                    Failure::Page(e) => Err(p.fail(e)),
                },
            }
        }
        .await,
    )
}

/// Streams the posted file into the store and records it; the stored object is removed when
/// it is not recorded.
async fn store(
    p: &Page,
    req: &HttpRequest,
    meta: RequestMeta,
    payload: web::Payload,
    kind: ParentType,
    id: &str,
) -> Result<Document, ApiError> {
    let state = &p.state;
    refuse_declared_length(req, state.config.documents.max_bytes)?;
    let (w, pid) = (p.who.clone(), id.to_string());
    state
        .db(move |c| parent::resolve(c, &w, kind, &pid)?.check_writable())
        .await?;
    let gate = |token: &str| {
        let sent = std::collections::BTreeMap::from([("csrf".to_string(), token.to_string())]);
        p.v.csrf_matches(&sent)
    };
    let up = receive(state, req, payload, true, Some(&gate)).await?;
    let key = up.storage_key.clone();
    let (config, w, pid) = (state.config.clone(), p.who.clone(), id.to_string());
    let recorded = state
        .db(move |c| service::record_new(c, &config, &w, &meta, kind, &pid, up))
        .await;
    if recorded.is_err() {
        let _ = state.documents.delete(&key).await;
    }
    recorded
}

/// Download a document version the viewer may read (the API's download, with a session).
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let (w, id) = (p.who.clone(), id.into_inner());
            let (row, _) = p.db(move |c| service::visible(c, &w, &id)).await?;
            content(&state, &row, &req).await.map_err(|e| p.fail(e))
        }
        .await,
    )
}

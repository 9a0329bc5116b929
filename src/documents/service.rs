//! The rules of documents in transactions: recording an upload or a new version (with its
//! audit event and the organisation's quota), listing, reading and deleting. No HTTP here;
//! the bytes are already in the store when a row is recorded, so a row never points at a
//! missing object (an object without a row is an orphan the sweep removes).

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::model::{Document, DocumentKind, DocumentRow, ParentType};
use super::parent::{self, Parent};
use super::store::Written;
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::command;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::documents;
use crate::error::{ApiError, ConflictCode};

/// A file stored and waiting to be recorded.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Where it is in the store.
    pub storage_key: String,
    /// The cleaned file name.
    pub file_name: String,
    /// What it is (a new version keeps its document's kind).
    pub kind: Option<DocumentKind>,
    /// Optional title (a new version keeps the old one when none is given).
    pub title: Option<String>,
    /// What the store wrote.
    pub written: Written,
}

/// The newest version of every document of a parent.
pub fn list(conn: &mut DbConn, parent: &Parent) -> Result<Vec<Document>, ApiError> {
    let rows: Vec<DocumentRow> = documents::table
        .filter(documents::parent_type.eq(parent.kind))
        .filter(documents::parent_id.eq(&parent.id))
        .filter(documents::superseded_at.is_null())
        .order((documents::uploaded_at.asc(), documents::id.asc()))
        .select(DocumentRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Document::from).collect())
}

/// A document version and its parent as `who` may use it; 404 when not theirs to see.
pub fn visible(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
) -> Result<(DocumentRow, Parent), ApiError> {
    let row: DocumentRow = documents::table
        .find(id)
        .select(DocumentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    let parent = parent::resolve(conn, who, row.parent_type, &row.parent_id)?;
    Ok((row, parent))
}

fn check_quota(
    conn: &mut DbConn,
    config: &Config,
    org: Option<&str>,
    add: u64,
) -> Result<(), ApiError> {
    let Some(org) = org else { return Ok(()) };
    let used: i64 = documents::table
        .filter(documents::organisation_id.eq(org))
        .select(sql::<BigInt>(
            "CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT)",
        ))
        .first(conn)?;
    let quota = config.documents.quota_bytes;
    if used as u64 + add > quota {
        return Err(ApiError::Conflict {
            code: ConflictCode::DocumentQuotaExceeded,
            detail: format!(
                "The organisation's documents use {used} of {quota} bytes; this file of {add} bytes does not fit."
            ),
        });
    }
    Ok(())
}

fn row_of(
    up: Upload,
    parent: &Parent,
    document_id: Option<String>,
    version: i32,
    who: &Principal,
    now: chrono::NaiveDateTime,
) -> Result<DocumentRow, ApiError> {
    let id = uuid::Uuid::now_v7().to_string();
    let kind = up
        .kind
        .ok_or_else(|| ApiError::field("kind", "required", "Say what the document is."))?;
    Ok(DocumentRow {
        document_id: document_id.unwrap_or_else(|| id.clone()),
        id,
        version,
        parent_type: parent.kind,
        parent_id: parent.id.clone(),
        organisation_id: parent.organisation_id.clone(),
        kind,
        title: up.title,
        file_name: up.file_name,
        media_type: up.written.media_type.to_string(),
        size_bytes: up.written.size as i64,
        sha256: up.written.sha256,
        storage_key: up.storage_key,
        key_id: up.written.key_id,
        nonce_prefix: up.written.nonce_prefix,
        uploaded_by: who.user().map(|u| u.id.clone()).unwrap_or_default(),
        uploaded_at: now,
        superseded_at: None,
    })
}

/// Records a new document on `kind`/`id` (first version), checking the parent again inside
/// the transaction.
pub fn record_new(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    kind: ParentType,
    id: &str,
    up: Upload,
) -> Result<Document, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        let parent = parent::resolve(ctx.conn, who, kind, id)?;
        parent.check_writable()?;
        check_quota(
            ctx.conn,
            config,
            parent.organisation_id.as_deref(),
            up.written.size,
        )?;
        let row = row_of(up, &parent, None, 1, who, ctx.now)?;
        diesel::insert_into(documents::table)
            .values(&row)
            .execute(ctx.conn)?;
        let doc = Document::from(row);
        ctx.audit("uploaded", None, Some(&doc))?;
        Ok(doc)
    })
}

/// Records a new version of the document that version `of` belongs to; the newest version
/// until now is marked superseded and stays readable.
pub fn record_version(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    of: &str,
    mut up: Upload,
) -> Result<Document, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        let (row, parent) = visible(ctx.conn, who, of)?;
        parent.check_writable()?;
        let newest: DocumentRow = documents::table
            .filter(documents::document_id.eq(&row.document_id))
            .order(documents::version.desc())
            .select(DocumentRow::as_select())
            .first(ctx.conn)?;
        check_quota(
            ctx.conn,
            config,
            parent.organisation_id.as_deref(),
            up.written.size,
        )?;
        up.kind = Some(newest.kind);
        up.title = up.title.or(newest.title.clone());
        let next = row_of(
            up,
            &parent,
            Some(row.document_id.clone()),
            newest.version + 1,
            who,
            ctx.now,
        )?;
        diesel::update(documents::table.find(&newest.id))
            .set(documents::superseded_at.eq(Some(ctx.now)))
            .execute(ctx.conn)?;
        diesel::insert_into(documents::table)
            .values(&next)
            .execute(ctx.conn)?;
        let before = Document::from(newest);
        let doc = Document::from(next);
        ctx.audit("versioned", Some(&before), Some(&doc))?;
        Ok(doc)
    })
}

/// Deletes a draft's document with all its versions; returns the object keys to remove
/// from the store once committed.
pub fn delete(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<Vec<String>, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        let (row, parent) = visible(ctx.conn, who, id)?;
        parent.check_deletable()?;
        let keys: Vec<String> = documents::table
            .filter(documents::document_id.eq(&row.document_id))
            .select(documents::storage_key)
            .load(ctx.conn)?;
        diesel::delete(documents::table.filter(documents::document_id.eq(&row.document_id)))
            .execute(ctx.conn)?;
        ctx.audit("deleted", Some(&Document::from(row)), None)?;
        Ok(keys)
    })
}

/// Every stored version (for `documents verify` and the orphan sweep).
pub fn all(conn: &mut DbConn) -> Result<Vec<DocumentRow>, ApiError> {
    Ok(documents::table
        .order(documents::uploaded_at.asc())
        .select(DocumentRow::as_select())
        .load(conn)?)
}

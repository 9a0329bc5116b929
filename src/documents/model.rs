//! Document rows and what the API shows of them.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::documents;
use crate::kit::rfc3339;

crate::text_enum! {
    /// What a document is attached to.
    pub enum ParentType {
        /// An onward grant (agreement, budget, amendments).
        Grant = "grant",
        /// A grant report (the report's files).
        Report = "report",
        /// A tranche (proof of payment).
        Disbursement = "disbursement",
        /// An organisation (registration certificate, safeguarding policy).
        Organisation = "organisation",
        /// A membership application (statutes, registration).
        MembershipApplication = "membership_application",
    }
}

impl ParentType {
    /// The collection in the URL (`/grants/{id}/documents`).
    pub fn from_collection(s: &str) -> Option<Self> {
        Some(match s {
            "grants" => ParentType::Grant,
            "reports" => ParentType::Report,
            "disbursements" => ParentType::Disbursement,
            "organisations" => ParentType::Organisation,
            "membership-applications" => ParentType::MembershipApplication,
            _ => return None,
        })
    }
}

crate::text_enum! {
    /// What a document is.
    pub enum DocumentKind {
        /// A signed grant agreement.
        Agreement = "agreement",
        /// A budget.
        Budget = "budget",
        /// An amendment of a grant.
        Amendment = "amendment",
        /// A file of a narrative or financial report.
        ReportFile = "report_file",
        /// The bank's proof of a payment.
        ProofOfPayment = "proof_of_payment",
        /// An organisation's statutes.
        Statutes = "statutes",
        /// A registration certificate.
        Registration = "registration",
        /// A safeguarding policy.
        SafeguardingPolicy = "safeguarding_policy",
        /// Anything else.
        Other = "other",
    }
}

/// One stored version of a document.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    /// UUID v7 of this version.
    pub id: String,
    /// Id of the document's first version, shared by all its versions.
    pub document_id: String,
    /// 1 for the first upload.
    pub version: i32,
    /// What it is attached to.
    pub parent_type: ParentType,
    /// The parent's id.
    pub parent_id: String,
    /// The organisation whose quota it counts against and whose members may see it.
    pub organisation_id: Option<String>,
    /// What it is.
    pub kind: DocumentKind,
    /// Optional title.
    pub title: Option<String>,
    /// Cleaned file name.
    pub file_name: String,
    /// Media type found in the content.
    pub media_type: String,
    /// Plaintext size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the plaintext, hex.
    pub sha256: String,
    /// Key of the encrypted object in the store.
    pub storage_key: String,
    /// Id of the key that encrypted it.
    pub key_id: String,
    /// STREAM nonce prefix, hex.
    pub nonce_prefix: String,
    /// Uploader.
    pub uploaded_by: String,
    /// Upload time.
    pub uploaded_at: NaiveDateTime,
    /// When a newer version replaced it.
    pub superseded_at: Option<NaiveDateTime>,
}

/// A document version as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Document {
    /// UUID v7 of this version.
    pub id: String,
    /// Id of the document (its first version), shared by all its versions.
    pub document_id: String,
    /// Version number, 1 for the first upload.
    #[schema(example = 1)]
    pub version: i32,
    /// What it is attached to.
    pub parent_type: ParentType,
    /// The parent's id.
    pub parent_id: String,
    /// What it is.
    pub kind: DocumentKind,
    /// Optional title.
    pub title: Option<String>,
    /// File name as stored (cleaned: no folders, no control characters).
    #[schema(example = "annual-report-2026.pdf")]
    pub file_name: String,
    /// Media type found in the content.
    #[schema(example = "application/pdf")]
    pub media_type: String,
    /// Size in bytes.
    #[schema(example = 48213)]
    pub size: i64,
    /// SHA-256 of the content, hex (also the download's ETag).
    #[schema(example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub sha256: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When (RFC 3339).
    pub uploaded_at: String,
    /// True when a newer version replaced it (it stays readable).
    pub superseded: bool,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Document {
            id: r.id,
            document_id: r.document_id,
            version: r.version,
            parent_type: r.parent_type,
            parent_id: r.parent_id,
            kind: r.kind,
            title: r.title,
            file_name: r.file_name,
            media_type: r.media_type,
            size: r.size_bytes,
            sha256: r.sha256,
            uploaded_by: r.uploaded_by,
            uploaded_at: rfc3339(r.uploaded_at),
            superseded: r.superseded_at.is_some(),
        }
    }
}

impl crate::command::Audited for Document {
    const ENTITY: &'static str = "document";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

//! Grant reports: what the grantee owes (narrative or financial), submitted by one of its
//! members and accepted or returned by grant staff. Its life is a pure transition table.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, Reader};
use super::check::{Refusal, text_field};
use super::grant::{self, GrantRow};
use super::mails::{
    self, ReportAcceptedMail, ReportMail, ReportRequestedMail, ReportReturnedMail,
    ReportSubmittedMail,
};
use crate::auth::Principal;
use crate::auth::caller::{GrantStaff, OrgMember};
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::grant_reports;
use crate::error::no_field_errors;
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::kit::rfc3339;
use crate::notify::matrix::Event;

crate::text_enum! {
    /// A report's place in its life.
    pub enum ReportStatus {
        /// Owed by the grantee.
        Due = "due",
        /// Sent by the grantee; waits for a decision.
        Submitted = "submitted",
        /// Accepted by grant staff.
        Accepted = "accepted",
        /// Sent back to the grantee for changes.
        Returned = "returned",
    }
}

crate::text_enum! {
    /// Kind of report.
    pub enum ReportKind {
        /// What was done.
        Narrative = "narrative",
        /// How the money was spent.
        Financial = "financial",
    }
}

/// A command on a report.
#[derive(Debug, Clone)]
pub enum ReportCommand {
    /// due or returned → submitted (a member of the grantee).
    Submit(SubmitReport),
    /// submitted → accepted (grant officers).
    Accept,
    /// submitted → returned (grant officers).
    Return(String),
}

impl ReportCommand {
    fn spec(&self) -> (&'static str, &'static [ReportStatus], ReportStatus) {
        use ReportStatus::*;
        match self {
            ReportCommand::Submit(_) => ("submit", &[Due, Returned], Submitted),
            ReportCommand::Accept => ("accept", &[Submitted], Accepted),
            ReportCommand::Return(_) => ("return", &[Submitted], Returned),
        }
    }
}

/// The transition table of a report.
pub fn transition(from: ReportStatus, command: &ReportCommand) -> Result<ReportStatus, Refusal> {
    let (verb, allowed, to) = command.spec();
    if allowed.contains(&from) {
        Ok(to)
    } else {
        let names: Vec<&str> = allowed.iter().map(|s| s.as_str()).collect();
        Err(Refusal::invalid("report", from.as_str(), verb, &names))
    }
}

/// A stored report.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = grant_reports)]
pub struct ReportRow {
    /// UUID v7.
    pub id: String,
    /// Grant.
    pub grant_id: String,
    /// narrative or financial.
    pub kind: ReportKind,
    /// Title.
    pub title: String,
    /// Due date.
    pub due_on: NaiveDate,
    /// due, submitted, accepted, returned.
    pub status: ReportStatus,
    /// Summary from the grantee.
    pub summary: Option<String>,
    /// Link to the document.
    pub document_url: Option<String>,
    /// Submitter.
    pub submitted_by: Option<String>,
    /// Submitted.
    pub submitted_at: Option<NaiveDateTime>,
    /// Who accepted or returned it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<NaiveDateTime>,
    /// Why it was returned.
    pub return_reason: Option<String>,
    /// Creator.
    pub created_by: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// A grant report as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    /// UUID v7.
    pub id: String,
    /// The grant.
    pub grant_id: String,
    /// narrative or financial.
    pub kind: ReportKind,
    /// Title.
    pub title: String,
    /// Due date (YYYY-MM-DD).
    pub due_on: NaiveDate,
    /// due, submitted, accepted or returned.
    pub status: ReportStatus,
    /// Summary from the grantee.
    pub summary: Option<String>,
    /// Link to the document.
    pub document_url: Option<String>,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// When (RFC 3339).
    pub submitted_at: Option<String>,
    /// Who accepted or returned it.
    pub decided_by: Option<String>,
    /// Why it was returned.
    pub return_reason: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<ReportRow> for Report {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            grant_id: r.grant_id,
            kind: r.kind,
            title: r.title,
            due_on: r.due_on,
            status: r.status,
            summary: r.summary,
            document_url: r.document_url,
            submitted_by: r.submitted_by,
            submitted_at: r.submitted_at.map(rfc3339),
            decided_by: r.decided_by,
            return_reason: r.return_reason,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// Ask the grantee for a report.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// narrative or financial.
    pub kind: ReportKind,
    /// Due date (YYYY-MM-DD).
    pub due_on: NaiveDate,
    /// Title, 2–200 characters.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub title: String,
}

/// Submit a report.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    /// Summary, 1–10 000 characters.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub summary: String,
    /// Optional http(s) link to a document hosted elsewhere; the report's files are uploaded
    /// to `/api/v1/reports/{id}/documents` (a financial report needs at least one).
    #[serde(default)]
    pub document_url: Option<String>,
    /// Financial reports: actual spend per budget line in the period (a line left out spent
    /// nothing). Replaces what an earlier submission gave.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actuals: Vec<super::actuals::ActualInput>,
    /// Narrative reports: the actual reached for each of the grant's indicators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<super::actuals::IndicatorActualInput>,
}

impl Audited for Report {
    const ENTITY: &'static str = "grant_report";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// Records `report.<verb>` (the audit trail names the entity `grant_report` and its actions
/// `report.*`).
fn audit(
    ctx: &mut Ctx<'_>,
    verb: &str,
    before: Option<&Report>,
    after: Option<&Report>,
) -> Result<(), ApiError> {
    let id = after.or(before).map(|r| r.id.clone()).unwrap_or_default();
    ctx.audit_raw(
        &format!("report.{verb}"),
        Report::ENTITY,
        &id,
        before.and_then(crate::audit::snapshot),
        after.and_then(crate::audit::snapshot),
    )
}

/// Loads a report (404 when unknown).
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<ReportRow, ApiError> {
    grant_reports::table
        .find(id)
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// Asks the grantee for a report (grant officers).
pub fn create(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    grant_id: &str,
    req: NewReport,
) -> Result<ReportRow, ApiError> {
    let mut errors = Vec::new();
    let title = text_field(&mut errors, "title", &req.title, 2, 200);
    no_field_errors(errors)?;
    command::run(conn, config, who, meta, |ctx| {
        let g = grant::by_id(ctx.conn, grant_id)?;
        if g.status.is_finished() {
            return Err(ApiError::Conflict {
                code: ConflictCode::GrantFinished,
                detail: format!("The grant is {}; it owes no more reports.", g.status),
            });
        }
        let row = ReportRow {
            id: uuid::Uuid::now_v7().to_string(),
            grant_id: g.id.clone(),
            kind: req.kind,
            title,
            due_on: req.due_on,
            status: ReportStatus::Due,
            summary: None,
            document_url: None,
            submitted_by: None,
            submitted_at: None,
            decided_by: None,
            decided_at: None,
            return_reason: None,
            created_by: who.id.clone(),
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        diesel::insert_into(grant_reports::table)
            .values(&row)
            .execute(ctx.conn)?;
        audit(ctx, "created", None, Some(&Report::from(row.clone())))?;
        let mail = ReportMail::of(
            ctx.conn,
            ctx.config,
            &g,
            &row,
            (row.due_on - ctx.now.date()).num_days(),
        )?;
        ctx.tell(
            Event::ReportRequested,
            &mails::report_parties(&g, &row),
            &ReportRequestedMail(mail),
        )?;
        Ok(row)
    })
}

fn checked(command: ReportCommand) -> Result<ReportCommand, ApiError> {
    let mut errors = Vec::new();
    let command = match command {
        ReportCommand::Submit(s) => {
            let summary = text_field(&mut errors, "summary", &s.summary, 1, 10_000);
            let url = s
                .document_url
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty());
            if url.as_ref().is_some_and(|url| {
                !(url.starts_with("https://") || url.starts_with("http://"))
                    || url.len() > 2000
                    || url.chars().any(char::is_whitespace)
            }) {
                errors.push(FieldError::new(
                    "document_url",
                    "invalid",
                    "Give an http(s) link to the document, or leave it out.",
                ));
            }
            ReportCommand::Submit(SubmitReport {
                summary,
                document_url: url,
                actuals: s.actuals,
                indicators: s.indicators,
            })
        }
        ReportCommand::Return(r) => {
            ReportCommand::Return(text_field(&mut errors, "reason", &r, 1, 2000))
        }
        other => other,
    };
    no_field_errors(errors)?;
    Ok(command)
}

/// Moves a report through due → submitted → accepted / returned: a member of the grantee
/// submits; grant staff accept or return.
pub fn run(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    command: ReportCommand,
) -> Result<ReportRow, ApiError> {
    let (me, member) = match &command {
        ReportCommand::Submit(_) => {
            let m = OrgMember::try_from(who)?;
            (m.user().clone(), Some(m))
        }
        _ => (GrantStaff::try_from(who)?.user().clone(), None),
    };
    let command = checked(command)?;
    let reader = Reader::try_from(who)?;
    command::run(conn, config, &me, meta, |ctx| {
        if let Some(m) = &member {
            m.require_in_good_standing(ctx.conn)?;
        }
        let before = by_id(ctx.conn, id)?;
        let g = access::visible_grant(ctx.conn, &reader, &before.grant_id)
            .map_err(|_| ApiError::NotFound)?;
        let to = transition(before.status, &command)?;
        if matches!(command, ReportCommand::Submit(_)) {
            require_files(ctx.conn, &before)?;
        }
        let moved = write(ctx, &before, to, &command, &me.id)?;
        if let (ReportCommand::Submit(s), true) = (&command, moved > 0) {
            super::actuals::record(ctx, &before, &g, &s.actuals, &s.indicators)?;
        }
        if moved == 0 {
            let now = by_id(ctx.conn, id)?;
            transition(now.status, &command)?;
            return Err(ApiError::Conflict {
                code: ConflictCode::ConcurrentUpdate,
                detail: "Another decision on this report landed at the same time; retry.".into(),
            });
        }
        let after = by_id(ctx.conn, id)?;
        audit(
            ctx,
            to.as_str(),
            Some(&Report::from(before)),
            Some(&Report::from(after.clone())),
        )?;
        tell(ctx, &g, &after, &command)?;
        Ok(after)
    })
}

/// The file names and sizes of a report's documents (their newest versions), oldest first.
/// Read from the documents table directly: the documents module builds on grants, not the
/// other way round.
pub fn files(conn: &mut DbConn, id: &str) -> Result<Vec<(String, i64)>, ApiError> {
    use crate::db::schema::documents;
    Ok(documents::table
        .filter(documents::parent_type.eq("report"))
        .filter(documents::parent_id.eq(id))
        .filter(documents::superseded_at.is_null())
        .order((documents::uploaded_at.asc(), documents::id.asc()))
        .select((documents::file_name, documents::size_bytes))
        .load(conn)?)
}

/// A financial report is submitted with at least one file (a state of the report, so 409
/// like the other preconditions of a command, naming what is missing and how to add it).
fn require_files(conn: &mut DbConn, r: &ReportRow) -> Result<(), ApiError> {
    if r.kind != ReportKind::Financial {
        return Ok(());
    }
    if !files(conn, &r.id)?.is_empty() {
        return Ok(());
    }
    Err(ApiError::Conflict {
        code: ConflictCode::ReportFilesMissing,
        detail: format!(
            "A financial report needs at least one file in its documents: upload the accounts to /api/v1/reports/{}/documents (kind report_file), then submit again.",
            r.id
        ),
    })
}

/// The conditional UPDATE of a report command (the `from` status in its WHERE clause).
fn write(
    ctx: &mut Ctx<'_>,
    before: &ReportRow,
    to: ReportStatus,
    command: &ReportCommand,
    me: &str,
) -> Result<usize, ApiError> {
    let id = before.id.as_str();
    let t = ctx.now;
    let q = grant_reports::table
        .find(id)
        .filter(grant_reports::status.eq(before.status));
    let moved = match command {
        ReportCommand::Submit(s) => diesel::update(q)
            .set((
                grant_reports::status.eq(to),
                grant_reports::summary.eq(Some(&s.summary)),
                grant_reports::document_url.eq(s.document_url.as_ref()),
                grant_reports::submitted_by.eq(Some(me)),
                grant_reports::submitted_at.eq(Some(t)),
                grant_reports::updated_at.eq(t),
            ))
            .execute(ctx.conn)?,
        ReportCommand::Accept => diesel::update(q)
            .set((
                grant_reports::status.eq(to),
                grant_reports::decided_by.eq(Some(me)),
                grant_reports::decided_at.eq(Some(t)),
                grant_reports::updated_at.eq(t),
            ))
            .execute(ctx.conn)?,
        ReportCommand::Return(r) => diesel::update(q)
            .set((
                grant_reports::status.eq(to),
                grant_reports::decided_by.eq(Some(me)),
                grant_reports::decided_at.eq(Some(t)),
                grant_reports::return_reason.eq(Some(r)),
                grant_reports::updated_at.eq(t),
            ))
            .execute(ctx.conn)?,
    };
    Ok(moved)
}

fn tell(
    ctx: &mut Ctx<'_>,
    g: &GrantRow,
    r: &ReportRow,
    command: &ReportCommand,
) -> Result<(), ApiError> {
    let mail = ReportMail::of(ctx.conn, ctx.config, g, r, 0)?;
    let parties = mails::report_parties(g, r);
    match command {
        ReportCommand::Submit(_) => {
            ctx.tell(Event::ReportSubmitted, &parties, &ReportSubmittedMail(mail))
        }
        ReportCommand::Accept => {
            ctx.tell(Event::ReportAccepted, &parties, &ReportAcceptedMail(mail))
        }
        ReportCommand::Return(_) => {
            ctx.tell(Event::ReportReturned, &parties, &ReportReturnedMail(mail))
        }
    }?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::ReportStatus::*;
    use super::*;

    fn submit() -> ReportCommand {
        ReportCommand::Submit(SubmitReport {
            summary: "s".into(),
            document_url: Some("https://x".into()),
            actuals: Vec::new(),
            indicators: Vec::new(),
        })
    }

    #[test]
    fn a_due_report_can_be_submitted() {
        assert_eq!(transition(Due, &submit()), Ok(Submitted));
    }

    #[test]
    fn a_returned_report_can_be_submitted_again() {
        assert_eq!(transition(Returned, &submit()), Ok(Submitted));
    }

    #[test]
    fn a_submitted_report_can_be_accepted_or_returned() {
        assert_eq!(transition(Submitted, &ReportCommand::Accept), Ok(Accepted));
        assert_eq!(
            transition(Submitted, &ReportCommand::Return("r".into())),
            Ok(Returned)
        );
    }

    #[test]
    fn a_due_report_cannot_be_accepted() {
        assert!(transition(Due, &ReportCommand::Accept).is_err());
    }

    #[test]
    fn an_accepted_report_cannot_be_submitted_again() {
        assert!(transition(Accepted, &submit()).is_err());
    }
}

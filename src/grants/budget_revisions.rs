//! Writing a grant's budget, and the revisions of an approved one. Before approval the lines
//! are grant fields: writing them makes the writer a contributor and sends a submitted grant
//! back to draft. After approval every change is a revision: within
//! BUDGET_REVISION_TOLERANCE_PERCENT of every line it applies at once (recorded); beyond it, it
//! waits for a grant officer other than its proposer, who is emailed a link to decide it.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, Reader};
use super::budget_lines::{self, BudgetLine, BudgetLineInput, LineValue};
use super::check::{self, Refusal};
use super::grant::contributors::{self, Contribution};
use super::grant::{self, GrantRow, GrantStatus, edit_transition};
use super::mails::GrantFacts;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Ctx, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{budget_revisions, grants};
use crate::error::{ApiError, ConflictCode};
use crate::kit::rfc3339;
use crate::notify::matrix::{Event, Parties};
use crate::notify::{Kind, links};

crate::text_enum! {
    /// Where a budget revision stands.
    pub enum RevisionStatus {
        /// Within the tolerance: applied when proposed.
        Applied = "applied",
        /// Beyond the tolerance: waits for an officer other than its proposer.
        Pending = "pending",
        /// Approved by an officer and applied.
        Approved = "approved",
        /// Rejected by an officer; the budget did not change.
        Rejected = "rejected",
    }
}

/// A stored revision.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_revisions)]
pub struct RevisionRow {
    /// UUID v7.
    pub id: String,
    /// Grant.
    pub grant_id: String,
    /// applied, pending, approved, rejected.
    pub status: RevisionStatus,
    /// Why the budget changes.
    pub reason: String,
    /// The largest share of a line that moves, in basis points.
    pub largest_share_basis_points: i64,
    /// The lines before (JSON of [`LineValue`]).
    pub before_json: String,
    /// The lines proposed (JSON of [`LineValue`]).
    pub proposed_json: String,
    /// Proposer.
    pub proposed_by: String,
    /// Proposed.
    pub proposed_at: NaiveDateTime,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<NaiveDateTime>,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
}

/// A change of an approved grant's budget.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetRevision {
    /// UUID v7.
    pub id: String,
    /// The grant.
    pub grant_id: String,
    /// applied (within the tolerance), pending (waits for an officer), approved or rejected.
    pub status: RevisionStatus,
    /// Why the budget changes.
    pub reason: String,
    /// The largest share of one line's amount that moves, in percent (`12.50`).
    #[schema(example = "12.50")]
    pub largest_move_percent: String,
    /// The lines before.
    pub before: Vec<BudgetLine>,
    /// The lines proposed.
    pub proposed: Vec<BudgetLine>,
    /// Who proposed it.
    pub proposed_by: String,
    /// When (RFC 3339).
    pub proposed_at: String,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    /// When (RFC 3339).
    pub decided_at: Option<String>,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
}

impl crate::command::Audited for BudgetRevision {
    const ENTITY: &'static str = "budget_revision";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

fn lines_of(json: &str) -> Result<Vec<LineValue>, ApiError> {
    serde_json::from_str(json).map_err(ApiError::internal)
}

fn revision(r: &RevisionRow, currency: &str) -> Result<BudgetRevision, ApiError> {
    let wire = |ls: Vec<LineValue>| ls.iter().map(|l| l.wire(currency)).collect();
    Ok(BudgetRevision {
        id: r.id.clone(),
        grant_id: r.grant_id.clone(),
        status: r.status,
        reason: r.reason.clone(),
        largest_move_percent: budget_lines::percent(r.largest_share_basis_points),
        before: wire(lines_of(&r.before_json)?),
        proposed: wire(lines_of(&r.proposed_json)?),
        proposed_by: r.proposed_by.clone(),
        proposed_at: rfc3339(r.proposed_at),
        decided_by: r.decided_by.clone(),
        decided_at: r.decided_at.map(rfc3339),
        decision_reason: r.decision_reason.clone(),
    })
}

/// A grant's budget: its lines, their sum against the grant's amount, and its revisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Budget {
    /// The grant.
    pub grant_id: String,
    /// The grant's status (lines are written freely in draft; revised after approval).
    pub grant_status: GrantStatus,
    /// ISO 4217 code of every amount.
    #[schema(example = "EUR")]
    pub currency: String,
    /// The grant's amount.
    #[schema(example = "12500.00")]
    pub amount: String,
    /// The sum of the lines.
    #[schema(example = "12500.00")]
    pub total: String,
    /// amount − total (`0.00` when the lines balance; negative when they exceed the amount).
    #[schema(example = "0.00")]
    pub difference: String,
    /// True when the lines sum to the amount (a grant is submitted only then).
    pub balanced: bool,
    /// Share of a line an approved budget may move without an officer, in percent.
    pub revision_tolerance_percent: i64,
    /// The lines, in order.
    pub lines: Vec<BudgetLine>,
    /// Revisions after approval, newest first (staff only; empty for members).
    pub revisions: Vec<BudgetRevision>,
    /// The grant's version (also the ETag; give it as If-Match to `PUT`).
    pub version: i64,
}

/// Replace a grant's budget lines (the whole set).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    /// Every line of the budget, in order; lines left out are removed.
    pub lines: Vec<BudgetLineInput>,
    /// Why the budget changes, 1–2000 characters; required once the grant is approved.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// What writing a budget did.
#[derive(Debug)]
pub enum Written {
    /// The lines changed (a draft's edit, or a revision within the tolerance).
    Applied(GrantRow),
    /// A revision waits for an officer.
    Pending(BudgetRevision),
}

/// Reads the budget of a grant the caller may see (partner apps: 404).
pub fn read(
    conn: &mut DbConn,
    config: &Config,
    who: &Reader,
    grant_id: &str,
) -> Result<Budget, ApiError> {
    if who.is_app() {
        return Err(ApiError::NotFound);
    }
    let g = access::visible_grant(conn, who, grant_id)?;
    let revisions = match who {
        Reader::Staff(_) => revisions(conn, &g)?,
        _ => Vec::new(),
    };
    let mut budget = answer(conn, &g, revisions)?;
    budget.revision_tolerance_percent = config.budget_revision_tolerance_percent;
    Ok(budget)
}

/// The budget of `g` as the API shows it.
pub fn answer(
    conn: &mut DbConn,
    g: &GrantRow,
    revisions: Vec<BudgetRevision>,
) -> Result<Budget, ApiError> {
    let lines = budget_lines::of_grant(conn, &g.id)?;
    let c = g.currency.as_str();
    let total = budget_lines::total(&lines);
    Ok(Budget {
        grant_id: g.id.clone(),
        grant_status: g.status,
        currency: g.currency.clone(),
        amount: crate::money::format(g.amount, c),
        total: crate::money::format(total, c),
        difference: budget_lines::signed(g.amount - total, c),
        balanced: total == g.amount && !lines.is_empty(),
        revision_tolerance_percent: 0,
        lines: lines.iter().map(|l| l.wire(c)).collect(),
        revisions,
        version: g.version,
    })
}

fn revisions(conn: &mut DbConn, g: &GrantRow) -> Result<Vec<BudgetRevision>, ApiError> {
    let rows: Vec<RevisionRow> = budget_revisions::table
        .filter(budget_revisions::grant_id.eq(&g.id))
        .order(budget_revisions::id.desc())
        .select(RevisionRow::as_select())
        .load(conn)?;
    rows.iter().map(|r| revision(r, &g.currency)).collect()
}

/// Loads a revision with its grant (404 when unknown).
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<(RevisionRow, GrantRow), ApiError> {
    let r: RevisionRow = budget_revisions::table
        .find(id)
        .select(RevisionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)?;
    let g = grant::by_id(conn, &r.grant_id)?;
    Ok((r, g))
}

/// A revision as the API shows it (grant staff).
pub fn show(conn: &mut DbConn, id: &str) -> Result<BudgetRevision, ApiError> {
    let (r, g) = by_id(conn, id)?;
    revision(&r, &g.currency)
}

/// Writes a grant's budget under `If-Match` (grant staff): a draft's lines are replaced; an
/// approved or active grant's budget is revised (at once, or pending an officer).
pub fn replace(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    grant_id: &str,
    version: i64,
    body: BudgetBody,
) -> Result<Written, ApiError> {
    let reason = body.reason.as_deref().map(check::reason).transpose()?;
    command::run(conn, config, who, meta, |ctx| {
        let before = grant::by_id(ctx.conn, grant_id)?;
        if before.version != version {
            return Err(ApiError::PreconditionFailed {
                current_version: before.version,
            });
        }
        let current = budget_lines::of_grant(ctx.conn, grant_id)?;
        let lines = budget_lines::checked("lines", &body.lines, &before.currency, &current)?;
        if before.status.holds_award() {
            let reason = reason.ok_or_else(|| {
                ApiError::field("reason", "required", "Say why an approved budget changes.")
            })?;
            return revise(ctx, &before, &current, lines, reason, &who.id);
        }
        let to = edit_transition(before.status).map_err(|r| match before.status {
            s if s.is_finished() => Refusal::new(
                ConflictCode::GrantFinished,
                format!("The grant is {s}; its budget no longer changes."),
            )
            .into(),
            _ => ApiError::from(r),
        })?;
        budget_lines::write(ctx, grant_id, &current, &lines)?;
        let after = bump(ctx, &before, to)?;
        if current != lines {
            contributors::record(ctx, grant_id, &who.id, Contribution::EditedBudget)?;
        }
        audit_lines(ctx, grant_id, "budget_updated", &current, &lines)?;
        Ok(Written::Applied(after))
    })
}

/// Moves the grant's version (the budget is part of the grant) and, for an edit, its status.
pub(crate) fn bump(
    ctx: &mut Ctx<'_>,
    before: &GrantRow,
    to: GrantStatus,
) -> Result<GrantRow, ApiError> {
    let n = diesel::update(
        grants::table
            .find(&before.id)
            .filter(grants::version.eq(before.version))
            .filter(grants::status.eq(before.status)),
    )
    .set((
        grants::status.eq(to),
        grants::submitted_at.eq(before.submitted_at.filter(|_| to == before.status)),
        grants::updated_at.eq(ctx.now),
        grants::version.eq(grants::version + 1),
    ))
    .execute(ctx.conn)?;
    let after = grant::by_id(ctx.conn, &before.id)?;
    if n == 0 {
        return Err(ApiError::PreconditionFailed {
            current_version: after.version,
        });
    }
    Ok(after)
}

fn audit_lines(
    ctx: &mut Ctx<'_>,
    grant_id: &str,
    verb: &str,
    before: &[LineValue],
    after: &[LineValue],
) -> Result<(), ApiError> {
    let json = |ls: &[LineValue]| serde_json::to_value(ls).ok();
    ctx.audit_raw(
        &format!("grant.{verb}"),
        "grant",
        grant_id,
        json(before),
        json(after),
    )
}

/// A revision of an approved budget: the lines must still sum to the amount; within the
/// tolerance it applies, beyond it it waits (one pending revision per grant).
fn revise(
    ctx: &mut Ctx<'_>,
    g: &GrantRow,
    current: &[LineValue],
    lines: Vec<LineValue>,
    reason: String,
    me: &str,
) -> Result<Written, ApiError> {
    budget_lines::balanced(g, &lines)?;
    budget_lines::keeps_reported(ctx.conn, current, &lines)?;
    let waiting: i64 = budget_revisions::table
        .filter(budget_revisions::grant_id.eq(&g.id))
        .filter(budget_revisions::status.eq(RevisionStatus::Pending))
        .count()
        .get_result(ctx.conn)?;
    if waiting > 0 {
        return Err(ApiError::Conflict {
            code: ConflictCode::BudgetRevisionPending,
            detail: "A revision of this budget waits for an officer; it is decided first.".into(),
        });
    }
    let bp = budget_lines::largest_move_basis_points(current, &lines);
    let pending = bp > ctx.config.budget_revision_tolerance_percent * 100;
    let json = |ls: &[LineValue]| serde_json::to_string(ls).map_err(ApiError::internal);
    let row = RevisionRow {
        id: uuid::Uuid::now_v7().to_string(),
        grant_id: g.id.clone(),
        status: if pending {
            RevisionStatus::Pending
        } else {
            RevisionStatus::Applied
        },
        reason,
        largest_share_basis_points: bp,
        before_json: json(current)?,
        proposed_json: json(&lines)?,
        proposed_by: me.to_string(),
        proposed_at: ctx.now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
    };
    diesel::insert_into(budget_revisions::table)
        .values(&row)
        .execute(ctx.conn)?;
    let shown = revision(&row, &g.currency)?;
    ctx.audit(row.status.as_str(), None, Some(&shown))?;
    if pending {
        tell_pending(ctx, g, &shown)?;
        return Ok(Written::Pending(shown));
    }
    budget_lines::write(ctx, &g.id, current, &lines)?;
    let after = bump(ctx, g, g.status)?;
    Ok(Written::Applied(after))
}

/// Approves (and applies) or rejects a pending revision: a grant officer or admin other than
/// its proposer. The budget must not have changed since it was proposed.
pub fn decide(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    id: &str,
    rejection: Option<String>,
) -> Result<BudgetRevision, ApiError> {
    let rejection = rejection.as_deref().map(check::reason).transpose()?;
    command::run(conn, config, who, meta, |ctx| {
        let (r, g) = by_id(ctx.conn, id)?;
        let verb = if rejection.is_some() {
            "reject"
        } else {
            "approve"
        };
        if r.status != RevisionStatus::Pending {
            return Err(
                Refusal::invalid("budget revision", r.status.as_str(), verb, &["pending"]).into(),
            );
        }
        if r.proposed_by == who.id {
            return Err(Refusal::new(
                ConflictCode::SelfApproval,
                "A budget revision is decided by a grant officer who did not propose it.",
            )
            .into());
        }
        let to = match rejection {
            Some(_) => RevisionStatus::Rejected,
            None => apply(ctx, &r, &g)?,
        };
        let n = diesel::update(
            budget_revisions::table
                .find(id)
                .filter(budget_revisions::status.eq(RevisionStatus::Pending)),
        )
        .set((
            budget_revisions::status.eq(to),
            budget_revisions::decided_by.eq(Some(&who.id)),
            budget_revisions::decided_at.eq(Some(ctx.now)),
            budget_revisions::decision_reason.eq(&rejection),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::ConcurrentUpdate,
                detail: "Another decision on this revision landed at the same time.".into(),
            });
        }
        let (after, _) = by_id(ctx.conn, id)?;
        let before = revision(&r, &g.currency)?;
        let shown = revision(&after, &g.currency)?;
        ctx.audit(to.as_str(), Some(&before), Some(&shown))?;
        Ok(shown)
    })
}

/// Applies an approved revision's lines, if the budget is still what it revised.
fn apply(ctx: &mut Ctx<'_>, r: &RevisionRow, g: &GrantRow) -> Result<RevisionStatus, ApiError> {
    if !g.status.holds_award() {
        return Err(Refusal::new(
            ConflictCode::GrantFinished,
            format!("The grant is {}; its budget no longer changes.", g.status),
        )
        .into());
    }
    let current = budget_lines::of_grant(ctx.conn, &g.id)?;
    if current != lines_of(&r.before_json)? {
        return Err(Refusal::new(
            ConflictCode::PendingChanged,
            "The budget changed since this revision was proposed; propose it again.",
        )
        .into());
    }
    budget_lines::write(ctx, &g.id, &current, &lines_of(&r.proposed_json)?)?;
    bump(ctx, g, g.status)?;
    Ok(RevisionStatus::Approved)
}

/// What the email of a pending revision says.
#[derive(Debug, Serialize)]
pub struct BudgetRevisionMail {
    /// The grant.
    #[serde(flatten)]
    pub grant: GrantFacts,
    /// Why the budget changes.
    pub reason: String,
    /// The largest share of a line that moves (`25.00`).
    pub largest_move_percent: String,
    /// The tolerance it exceeds, in percent.
    pub tolerance_percent: i64,
    /// Each line: `category: description, before → proposed`.
    pub changes: Vec<String>,
    /// Where to decide: the revision's console page.
    pub link: String,
}

impl Message for BudgetRevisionMail {
    const KIND: Kind = Kind::BudgetRevisionPending;
}

fn tell_pending(ctx: &mut Ctx<'_>, g: &GrantRow, r: &BudgetRevision) -> Result<(), ApiError> {
    let changes = r
        .proposed
        .iter()
        .map(|p| {
            let was = r.before.iter().find(|b| b.id == p.id);
            let was = was.map_or("new".to_string(), |b| b.amount.clone());
            format!(
                "{}: {}, {was} → {} {}",
                p.category, p.description, p.amount, g.currency
            )
        })
        .chain(
            r.before
                .iter()
                .filter(|b| !r.proposed.iter().any(|p| p.id == b.id))
                .map(|b| format!("{}: {}, removed", b.category, b.description)),
        )
        .collect();
    let mail = BudgetRevisionMail {
        grant: GrantFacts::of(ctx.conn, ctx.config, g)?,
        reason: r.reason.clone(),
        largest_move_percent: r.largest_move_percent.clone(),
        tolerance_percent: ctx.config.budget_revision_tolerance_percent,
        changes,
        link: links::budget_revision(ctx.config, &r.id),
    };
    let parties = Parties {
        not_approvers: vec![r.proposed_by.clone()],
        ..Parties::default()
    };
    ctx.tell(Event::BudgetRevisionProposed, &parties, &mail)?;
    Ok(())
}

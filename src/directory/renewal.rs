//! A member asks the secretariat to renew its organisation's membership. The request only
//! tells the admins (who decide through the membership commands); at most one is open per
//! organisation, and any admin decision on the membership closes it.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::membership::{self, Change, MembershipMail, RenewalDeclinedMail, RenewalRequestedMail};
use super::organisation;
use crate::auth::caller::{Admin, OrgMember};
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::membership_renewal_requests as requests;
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::kit::rfc3339;
use crate::notify::matrix::Event;
use crate::pagination::{self, Page};

crate::text_enum! {
    /// Whether a renewal request waits for a decision.
    pub enum RenewalRequestStatus {
        /// Waits for an admin's decision.
        Open = "open",
        /// An admin decided on the membership.
        Closed = "closed",
    }
}

/// A stored renewal request.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = requests)]
pub struct RenewalRequestRow {
    /// UUID v7.
    pub id: String,
    /// The organisation.
    pub organisation_id: String,
    /// The member user who asked.
    pub requested_by: String,
    /// open or closed.
    pub status: RenewalRequestStatus,
    /// When it was asked.
    pub created_at: chrono::NaiveDateTime,
    /// When an admin's decision closed it.
    pub closed_at: Option<chrono::NaiveDateTime>,
    /// Why an admin declined it (none when it was renewed or is open).
    pub decline_reason: Option<String>,
}

/// A member's request to renew its organisation's membership.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenewalRequest {
    /// UUID v7.
    pub id: String,
    /// The organisation whose membership is to be renewed.
    pub organisation_id: String,
    /// The member user who asked.
    pub requested_by: String,
    /// `open` until an admin decides on the membership, then `closed`.
    pub status: RenewalRequestStatus,
    /// When it was asked (RFC 3339).
    pub created_at: String,
    /// When it was closed (RFC 3339), if it was.
    pub closed_at: Option<String>,
    /// Why an admin declined it; `null` when it is open or the membership was renewed.
    pub decline_reason: Option<String>,
}

impl From<RenewalRequestRow> for RenewalRequest {
    fn from(r: RenewalRequestRow) -> Self {
        Self {
            id: r.id,
            organisation_id: r.organisation_id,
            requested_by: r.requested_by,
            status: r.status,
            created_at: rfc3339(r.created_at),
            closed_at: r.closed_at.map(rfc3339),
            decline_reason: r.decline_reason,
        }
    }
}

impl Audited for RenewalRequest {
    const ENTITY: &'static str = "membership_renewal_request";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// A member of organisation `id` asks to renew its membership: 404 for another
/// organisation's member, 409 when the membership cannot be renewed (suspended, withdrawn)
/// or a request is already open. Every active admin is emailed.
pub fn request(
    conn: &mut DbConn,
    config: &Config,
    member: &OrgMember,
    meta: &RequestMeta,
    id: &str,
    today: chrono::NaiveDate,
) -> Result<RenewalRequestRow, ApiError> {
    command::run(conn, config, member, meta, |ctx| {
        let org = organisation::find(ctx.conn, id)?;
        if org.id != member.organisation_id {
            return Err(ApiError::NotFound);
        }
        let Some(status) = org.membership_status else {
            return Err(ApiError::Conflict {
                code: ConflictCode::NotAMember,
                detail: "Partners have no membership.".into(),
            });
        };
        let facts = membership::Facts {
            today,
            period_start: org.membership_period_start,
            period_end: org.membership_period_end,
        };
        membership::transition(
            status,
            Change::Decide(membership::MembershipAction::Renew),
            &facts,
        )?;
        let row = RenewalRequestRow {
            id: uuid::Uuid::now_v7().to_string(),
            organisation_id: org.id.clone(),
            requested_by: member.id.clone(),
            status: RenewalRequestStatus::Open,
            created_at: ctx.now,
            closed_at: None,
            decline_reason: None,
        };
        // A savepoint, so a second open request is a clean 409 on PostgreSQL too.
        let inserted = ctx
            .conn
            .transaction(|c| diesel::insert_into(requests::table).values(&row).execute(c));
        match inserted {
            Ok(_) => {}
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(ApiError::Conflict {
                    code: ConflictCode::RenewalAlreadyRequested,
                    detail: "A renewal of this membership was already asked for; the \
                             secretariat will decide on it."
                        .into(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        ctx.audit::<RenewalRequest>("requested", None, Some(&row.clone().into()))?;
        let mail = MembershipMail::of(ctx.config, &org, today, None);
        ctx.tell(
            Event::MembershipRenewalRequested,
            &MembershipMail::parties(&org),
            &RenewalRequestedMail(mail),
        )?;
        Ok(row)
    })
}

/// Closes the open renewal request of organisation `org_id`, if any: an admin decided.
pub fn close_open(ctx: &mut Ctx<'_>, org_id: &str) -> Result<(), ApiError> {
    let open: Option<RenewalRequestRow> = requests::table
        .filter(requests::organisation_id.eq(org_id))
        .filter(requests::status.eq(RenewalRequestStatus::Open))
        .select(RenewalRequestRow::as_select())
        .first(ctx.conn)
        .optional()?;
    let Some(before) = open else {
        return Ok(());
    };
    let n = diesel::update(
        requests::table
            .find(&before.id)
            .filter(requests::status.eq(RenewalRequestStatus::Open)),
    )
    .set((
        requests::status.eq(RenewalRequestStatus::Closed),
        requests::closed_at.eq(Some(ctx.now)),
    ))
    .execute(ctx.conn)?;
    if n == 1 {
        let after = RenewalRequestRow {
            status: RenewalRequestStatus::Closed,
            closed_at: Some(ctx.now),
            ..before.clone()
        };
        ctx.audit::<RenewalRequest>("closed", Some(&before.into()), Some(&after.into()))?;
    }
    Ok(())
}

/// Renewal requests, oldest first (admins): the open ones with `status = open`.
pub fn list(
    conn: &mut DbConn,
    _admin: &Admin,
    status: Option<RenewalRequestStatus>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<RenewalRequest>, ApiError> {
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = requests::table
        .select(RenewalRequestRow::as_select())
        .order(requests::id.asc())
        .limit(limit + 1)
        .into_boxed();
    let mut count = requests::table.count().into_boxed();
    if let Some(s) = status {
        q = q.filter(requests::status.eq(s));
        count = count.filter(requests::status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(requests::id.gt(a[0].clone()));
    }
    let mut rows: Vec<RenewalRequestRow> = q.load(conn)?;
    let total: i64 = count.get_result(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: rows.into_iter().map(RenewalRequest::from).collect(),
        next_cursor,
        total,
    })
}

/// One renewal request (admins); 404 when there is none with that id.
pub fn get(conn: &mut DbConn, _admin: &Admin, id: &str) -> Result<RenewalRequestRow, ApiError> {
    requests::table
        .find(id)
        .select(RenewalRequestRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// The open renewal request of organisation `org_id`, if any (for its membership page).
pub fn open_of(conn: &mut DbConn, org_id: &str) -> Result<Option<RenewalRequestRow>, ApiError> {
    Ok(requests::table
        .filter(requests::organisation_id.eq(org_id))
        .filter(requests::status.eq(RenewalRequestStatus::Open))
        .select(RenewalRequestRow::as_select())
        .first(conn)
        .optional()?)
}

/// Why an admin declines a renewal request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRenewal {
    /// Sent to the organisation's members, 1–2,000 characters once spaces around it are
    /// trimmed.
    #[schema(
        pattern = r"^[\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]([^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]{0,1998}[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F])?[\t\n\r \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
    )]
    pub reason: String,
}

/// An admin declines open renewal request `id` with a reason: the request is closed, the
/// membership is left as it is, and the organisation's members (and the other admins) are
/// emailed why. 409 when the request was already decided (a concurrent decision too).
pub fn decline(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
    body: DeclineRenewal,
    today: chrono::NaiveDate,
) -> Result<RenewalRequestRow, ApiError> {
    let reason = body.reason.trim().to_string();
    let mut errors = Vec::new();
    crate::kit::control_characters(&mut errors, "reason", &reason, true);
    if !(1..=2000).contains(&reason.chars().count()) {
        errors.push(FieldError::new(
            "reason",
            "invalid",
            "Give a reason of 1 to 2,000 characters.",
        ));
    }
    crate::error::no_field_errors(errors)?;
    command::run(conn, config, admin, meta, |ctx| {
        let before = get(ctx.conn, admin, id)?;
        let n = diesel::update(
            requests::table
                .find(id)
                .filter(requests::status.eq(RenewalRequestStatus::Open)),
        )
        .set((
            requests::status.eq(RenewalRequestStatus::Closed),
            requests::closed_at.eq(Some(ctx.now)),
            requests::decline_reason.eq(Some(&reason)),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::InvalidTransition,
                detail: "This renewal request was already decided.".into(),
            });
        }
        let after = RenewalRequestRow {
            status: RenewalRequestStatus::Closed,
            closed_at: Some(ctx.now),
            decline_reason: Some(reason.clone()),
            ..before.clone()
        };
        ctx.audit::<RenewalRequest>(
            "declined",
            Some(&before.into()),
            Some(&after.clone().into()),
        )?;
        let org = organisation::find(ctx.conn, &after.organisation_id)?;
        let mail = MembershipMail::of(ctx.config, &org, today, Some(&reason));
        ctx.tell(
            Event::MembershipRenewalDeclined,
            &MembershipMail::parties(&org),
            &RenewalDeclinedMail(mail),
        )?;
        Ok(after)
    })
}

//! A member asks the secretariat to renew its organisation's membership. The request only
//! tells the admins (who decide through the membership commands); at most one is open per
//! organisation, and any admin decision on the membership closes it.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::membership::{self, Change, MembershipMail, RenewalRequestedMail};
use super::organisation;
use crate::auth::caller::OrgMember;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::membership_renewal_requests as requests;
use crate::error::{ApiError, ConflictCode};
use crate::kit::rfc3339;
use crate::notify::matrix::Event;

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

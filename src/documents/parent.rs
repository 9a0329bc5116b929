//! Who may read and write the documents of an object: the object's own rules, read here and
//! never copied. Reading follows the object (staff, and the grantee's or the organisation's
//! own members); partner apps, other organisations' members and unknown objects get 404.
//! Writing needs the same sight plus a role that works on the object; a decided object
//! (accepted report) takes no new files, and only a draft's documents may be deleted.

use diesel::prelude::*;

use super::model::ParentType;
use crate::auth::Principal;
use crate::auth::caller::Staff;
use crate::auth::principal::Role;
use crate::db::DbConn;
use crate::db::schema::{membership_applications, organisations};
use crate::error::{ApiError, ConflictCode};
use crate::grants::access::{self, Reader};
use crate::grants::grant::GrantStatus;
use crate::grants::report::{self, ReportStatus};
use crate::grants::tranche::TrancheStatus;

/// An object that carries documents, as the caller may use it.
#[derive(Debug, Clone)]
pub struct Parent {
    /// What it is.
    pub kind: ParentType,
    /// Its id.
    pub id: String,
    /// The organisation whose quota its documents count against.
    pub organisation_id: Option<String>,
    /// The caller may add files and versions (when not `locked`).
    pub may_write: bool,
    /// Why it takes no new files or versions now.
    pub locked: Option<&'static str>,
    /// Its documents may still be deleted (it is a draft, and the caller may edit it).
    pub may_delete: bool,
}

impl Parent {
    /// Refuses a new file or version: 403 for a caller who may only read, 409 when decided.
    pub fn check_writable(&self) -> Result<(), ApiError> {
        if !self.may_write {
            return Err(ApiError::Forbidden(
                "You may read these documents but not add to them.".into(),
            ));
        }
        match self.locked {
            Some(why) => Err(ApiError::Conflict {
                code: ConflictCode::DocumentLocked,
                detail: why.into(),
            }),
            None => Ok(()),
        }
    }

    /// Refuses a deletion unless the parent is a draft the caller may edit.
    pub fn check_deletable(&self) -> Result<(), ApiError> {
        self.check_writable()?;
        if self.may_delete {
            Ok(())
        } else {
            Err(ApiError::Conflict {
                code: ConflictCode::DocumentLocked,
                detail: "Documents of a decided, submitted or paid object cannot be deleted; upload a new version instead.".into(),
            })
        }
    }
}

fn is_staff(who: &Principal) -> bool {
    Staff::try_from(who).is_ok()
}

fn is_member_of(who: &Principal, org: &str) -> bool {
    who.user()
        .is_some_and(|u| u.role == Role::Member && u.organisation_id.as_deref() == Some(org))
}

/// The parent `kind`/`id` as `who` may use it; 404 when it does not exist or is not theirs
/// to see (partner apps never see documents).
pub fn resolve(
    conn: &mut DbConn,
    who: &Principal,
    kind: ParentType,
    id: &str,
) -> Result<Parent, ApiError> {
    if matches!(who, Principal::Client(_)) {
        return Err(ApiError::NotFound);
    }
    let staff = is_staff(who);
    let parent = |org: Option<String>, may_write, locked, may_delete| Parent {
        kind,
        id: id.to_string(),
        organisation_id: org,
        may_write,
        locked,
        may_delete,
    };
    match kind {
        ParentType::Grant => {
            let g = access::visible_grant(conn, &Reader::internal(who)?, id)?;
            let finished = matches!(
                g.status,
                GrantStatus::Closed | GrantStatus::Cancelled | GrantStatus::Rejected
            );
            Ok(parent(
                Some(g.grantee_organisation_id.clone()),
                staff || is_member_of(who, &g.grantee_organisation_id),
                finished.then_some("The grant is finished; its documents are read-only."),
                g.status == GrantStatus::Draft && staff,
            ))
        }
        ParentType::Report => {
            let r = report::by_id(conn, id)?;
            let g = access::visible_grant(conn, &Reader::internal(who)?, &r.grant_id)
                .map_err(|_| ApiError::NotFound)?;
            let editable = matches!(r.status, ReportStatus::Due | ReportStatus::Returned);
            Ok(parent(
                Some(g.grantee_organisation_id.clone()),
                staff || is_member_of(who, &g.grantee_organisation_id),
                (r.status == ReportStatus::Accepted)
                    .then_some("The report is accepted; its files are read-only."),
                editable,
            ))
        }
        ParentType::Disbursement => {
            let (d, g) = access::visible_tranche(conn, &Reader::internal(who)?, id)?;
            Ok(parent(
                Some(g.grantee_organisation_id.clone()),
                staff || is_member_of(who, &g.grantee_organisation_id),
                None,
                matches!(d.status, TrancheStatus::Requested | TrancheStatus::Approved),
            ))
        }
        ParentType::Organisation => {
            organisation_is_readable(conn, who, id)?;
            Ok(parent(Some(id.to_string()), true, None, true))
        }
        ParentType::MembershipApplication => {
            let open = open_application(conn, staff, id)?;
            Ok(parent(None, true, None, open))
        }
    }
}

/// An organisation's documents are for staff and its own members: 404 to anyone else, as
/// for an organisation that does not exist.
fn organisation_is_readable(conn: &mut DbConn, who: &Principal, id: &str) -> Result<(), ApiError> {
    let exists = organisations::table
        .find(id)
        .select(organisations::id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if !exists || !(is_staff(who) || is_member_of(who, id)) {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// A membership application's documents are for staff only (404 to anyone else); whether it
/// is still open (its documents may then be deleted).
fn open_application(conn: &mut DbConn, staff: bool, id: &str) -> Result<bool, ApiError> {
    let status: Option<String> = membership_applications::table
        .find(id)
        .select(membership_applications::status)
        .first(conn)
        .optional()?;
    match status {
        Some(s) if staff => Ok(s == "submitted" || s == "under_review"),
        _ => Err(ApiError::NotFound),
    }
}

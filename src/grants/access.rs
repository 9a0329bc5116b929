//! Who may see and do what: the readers of grants (staff see every grant; a member sees its
//! organisation's grants once submitted; a partner app with `grants:read` sees published
//! grants of organisations that are not hidden), the object-level rules of tranches and
//! reports, and what a partner app may see of a grant. What a caller may not see is 404.

use diesel::prelude::*;

use super::grant::{self, GrantRow, GrantStatus};
use super::tranche::{self, TrancheRow};
use crate::auth::caller::Staff;
use crate::auth::principal::{ClientPrincipal, UserPrincipal};
use crate::auth::{Principal, Scope};
use crate::db::schema::{grants, organisations};
use crate::db::{DbConn, MultiBackend};
use crate::directory::{OrganisationKind, OrganisationRow, PartnerType};
use crate::error::ApiError;

/// Loads an organisation, if it exists.
pub fn organisation(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

/// A partner organisation of type donor (the only kind that gives funds).
pub fn is_donor(o: &OrganisationRow) -> bool {
    o.kind == OrganisationKind::Partner && o.partner_type == Some(PartnerType::Donor)
}

/// A caller who may read grants, by what they may see.
#[derive(Debug, Clone)]
pub enum Reader {
    /// Staff: every grant, tranche and report.
    Staff(Staff),
    /// A member user: its organisation's grants once submitted.
    Member(UserPrincipal),
    /// A partner app with `grants:read`: published grants of organisations not hidden,
    /// through [`partner_view`] only.
    App(ClientPrincipal),
}

impl TryFrom<&Principal> for Reader {
    type Error = ApiError;
    fn try_from(who: &Principal) -> Result<Self, ApiError> {
        match who {
            Principal::User(_) => match Staff::try_from(who) {
                Ok(s) => Ok(Reader::Staff(s)),
                Err(_) => match who {
                    Principal::User(u) => Ok(Reader::Member(u.clone())),
                    Principal::Client(_) => Err(ApiError::NotFound),
                },
            },
            Principal::Client(c) if who.has_scope(Scope::GrantsRead) => Ok(Reader::App(c.clone())),
            Principal::Client(_) => Err(ApiError::Forbidden(
                "This needs the grants:read scope.".into(),
            )),
        }
    }
}

impl Reader {
    /// True for a partner app.
    pub fn is_app(&self) -> bool {
        matches!(self, Reader::App(_))
    }
}

/// A grant the caller may see; anything else is 404, never the grant.
pub fn visible_grant(conn: &mut DbConn, who: &Reader, id: &str) -> Result<GrantRow, ApiError> {
    let g = grant::by_id(conn, id)?;
    let ok = match who {
        Reader::Staff(_) => true,
        Reader::Member(u) => {
            u.organisation_id.as_deref() == Some(g.grantee_organisation_id.as_str())
                && g.status != GrantStatus::Draft
        }
        Reader::App(_) => {
            GrantStatus::PUBLISHED.contains(&g.status)
                && organisation(conn, &g.grantee_organisation_id)?
                    .is_some_and(|o| !o.hidden_from_public)
        }
    };
    if ok { Ok(g) } else { Err(ApiError::NotFound) }
}

/// The grants a caller may see, as a query to filter further.
pub fn visible_grants<'a>(who: &Reader) -> grants::BoxedQuery<'a, MultiBackend> {
    let q = grants::table.into_boxed();
    match who {
        Reader::Staff(_) => q,
        Reader::Member(u) => q
            .filter(
                grants::grantee_organisation_id.eq(u.organisation_id.clone().unwrap_or_default()),
            )
            .filter(grants::status.ne(GrantStatus::Draft)),
        Reader::App(_) => q
            .filter(grants::status.eq_any(GrantStatus::PUBLISHED))
            .filter(
                grants::grantee_organisation_id.eq_any(
                    organisations::table
                        .filter(organisations::hidden_from_public.eq(false))
                        .select(organisations::id),
                ),
            ),
    }
}

/// A tranche the caller may see, with its grant. Partner apps never see tranches.
pub fn visible_tranche(
    conn: &mut DbConn,
    who: &Reader,
    id: &str,
) -> Result<(TrancheRow, GrantRow), ApiError> {
    if who.is_app() {
        return Err(ApiError::Forbidden(
            "Partner apps have no access to tranches.".into(),
        ));
    }
    let d = tranche::by_id(conn, id)?;
    let g = visible_grant(conn, who, &d.grant_id).map_err(|e| match e {
        ApiError::Forbidden(_) => e,
        _ => ApiError::NotFound,
    })?;
    Ok((d, g))
}

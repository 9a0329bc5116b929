//! Who may see and do what: the readers of grants (staff see every grant; a member sees its
//! organisation's grants once submitted; a partner app with `grants:read` sees published
//! grants, through [`partner_view`] only), the object-level rules of tranches and reports,
//! and what a partner app may see of a grant. What a caller may not see is 404.
//!
//! The partner boundary lives here and nowhere else: an app reads the fields the 360Giving
//! export publishes, never a tranche, a report, a staff id or an internal note; a grant to an
//! organisation the directory withholds ([`visibility::is_withheld`]) keeps its amount and
//! dates but gets a neutral title and description and names no grantee finer than a region.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::fund::{FundRow, FundStatus};
use super::grant::{self, GrantRow, GrantStatus};
use super::tranche::{self, TrancheRow};
use crate::auth::caller::Staff;
use crate::auth::principal::{ClientPrincipal, UserPrincipal};
use crate::auth::{Principal, Scope};
use crate::db::schema::{grants, organisations};
use crate::db::{DbConn, MultiBackend};
use crate::directory::visibility;
use crate::directory::{OrganisationKind, OrganisationRow, PartnerType};
use crate::error::ApiError;
use crate::kit::rfc3339;
use crate::money;

/// Title of a grant to a withheld organisation (its own title might name it).
pub const WITHHELD_TITLE: &str = "Grant to an organisation whose identity is withheld";
/// Description of a grant to a withheld organisation.
pub const WITHHELD_DESCRIPTION: &str = "An onward grant to a civil-society organisation whose identity is withheld for its safety; only its region is published.";

/// The title and description of a grant as published: neutral when the grantee is withheld,
/// the title again when the description is empty.
pub fn published_text(g: &GrantRow, grantee_withheld: bool) -> (String, String) {
    if grantee_withheld {
        (WITHHELD_TITLE.to_string(), WITHHELD_DESCRIPTION.to_string())
    } else if g.description.trim().is_empty() {
        (g.title.clone(), g.title.clone())
    } else {
        (g.title.clone(), g.description.clone())
    }
}

/// A grant as a partner app reads it: the published fields, what the 360Giving export shows.
/// No tranche, report, staff id or internal note is ever part of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerGrant {
    /// UUID v7.
    pub id: String,
    /// Unique reference, e.g. IDPC-2026-0042.
    #[schema(example = "IDPC-2026-0042")]
    pub reference: String,
    /// Title (neutral when the grantee's identity is withheld).
    pub title: String,
    /// Description (neutral when the grantee's identity is withheld).
    pub description: String,
    /// Strategic pillar.
    #[schema(example = "capacity_strengthening")]
    pub pillar: String,
    /// Priority areas.
    pub priority_areas: Vec<String>,
    /// ISO 4217 code of `amount` and `amount_disbursed`.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Amount awarded.
    #[schema(example = "12500.00")]
    pub amount: String,
    /// Amount paid so far (payments less reversals).
    pub amount_disbursed: String,
    /// When it was awarded (YYYY-MM-DD).
    pub award_date: Option<NaiveDate>,
    /// Planned start (YYYY-MM-DD).
    pub planned_start: NaiveDate,
    /// Planned end (YYYY-MM-DD).
    pub planned_end: NaiveDate,
    /// approved, active or closed (cancelled in a `grant.cancelled` webhook).
    pub status: GrantStatus,
    /// The grantee organisation; null when its identity is withheld.
    pub grantee_organisation_id: Option<String>,
    /// The grantee's region (always given).
    #[schema(example = "asia")]
    pub grantee_region: String,
    /// True when the grantee's identity is withheld for its safety.
    pub grantee_withheld: bool,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// The one place that decides what a partner app sees of a grant (REST answers and webhook
/// payloads alike).
pub fn partner_view(g: GrantRow, grantee: &OrganisationRow) -> PartnerGrant {
    let withheld = visibility::is_withheld(grantee);
    let (title, description) = published_text(&g, withheld);
    let c = g.currency.as_str();
    PartnerGrant {
        amount: money::format(g.amount, c),
        amount_disbursed: money::format(g.paid, c),
        priority_areas: g.priority_area_list(),
        award_date: g.approved_at.map(|t| t.date()),
        grantee_organisation_id: (!withheld).then(|| grantee.id.clone()),
        grantee_region: grantee.region.clone(),
        grantee_withheld: withheld,
        updated_at: rfc3339(g.updated_at),
        id: g.id,
        reference: g.reference,
        title,
        description,
        pillar: g.pillar,
        currency: g.currency,
        planned_start: g.planned_start,
        planned_end: g.planned_end,
        status: g.status,
    }
}

/// Title of a fund whose donor is withheld (its own title might name the donor).
pub const WITHHELD_FUND_TITLE: &str = "Fund from a donor whose identity is withheld";

/// A fund as a partner app hears of it (webhooks; apps do not read funds over REST): the
/// published fields only, never a raise that waits for confirmation nor who asked for it; a
/// fund of a withheld donor names no donor (no id, a neutral title, no donor reference).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerFund {
    /// UUID v7.
    pub id: String,
    /// The donor organisation; null when its identity is withheld.
    pub donor_organisation_id: Option<String>,
    /// True when the donor's identity is withheld for its safety.
    pub donor_withheld: bool,
    /// Title (neutral when the donor is withheld).
    pub title: String,
    /// The donor's reference for this fund; null when the donor is withheld.
    pub reference: Option<String>,
    /// ISO 4217 code of every amount of this fund.
    #[schema(example = "USD")]
    pub currency: String,
    /// Amount received or pledged.
    #[schema(example = "250000.00")]
    pub amount: String,
    /// Sum of approved onward grants, in fund currency.
    pub awarded: String,
    /// Sum of paid tranches, in fund currency.
    pub disbursed: String,
    /// Amount not yet awarded.
    pub remaining: String,
    /// Start of the period (YYYY-MM-DD).
    pub starts_on: NaiveDate,
    /// End of the period (YYYY-MM-DD).
    pub ends_on: NaiveDate,
    /// active or closed.
    pub status: FundStatus,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// The one place that decides what a partner app hears of a fund.
pub fn partner_fund(f: FundRow, donor: &OrganisationRow) -> PartnerFund {
    let withheld = visibility::is_withheld(donor);
    let c = f.currency.as_str();
    PartnerFund {
        amount: money::format(f.amount, c),
        awarded: money::format(f.awarded, c),
        disbursed: money::format(f.disbursed, c),
        remaining: money::format(f.amount - f.awarded, c),
        donor_organisation_id: (!withheld).then(|| donor.id.clone()),
        donor_withheld: withheld,
        title: if withheld {
            WITHHELD_FUND_TITLE.to_string()
        } else {
            f.title
        },
        reference: (!withheld).then_some(f.reference),
        status: f.status,
        updated_at: rfc3339(f.updated_at),
        id: f.id,
        currency: f.currency,
        starts_on: f.starts_on,
        ends_on: f.ends_on,
    }
}

/// [`partner_view`] of grants, loading their grantees.
pub fn partner_views(
    conn: &mut DbConn,
    rows: Vec<GrantRow>,
) -> Result<Vec<PartnerGrant>, ApiError> {
    let ids: Vec<&str> = rows
        .iter()
        .map(|g| g.grantee_organisation_id.as_str())
        .collect();
    let orgs: Vec<OrganisationRow> = organisations::table
        .filter(organisations::id.eq_any(&ids))
        .select(OrganisationRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|g| {
            let o = orgs
                .iter()
                .find(|o| o.id == g.grantee_organisation_id)
                .ok_or_else(|| ApiError::internal("grant without its grantee"))?;
            Ok(partner_view(g, o))
        })
        .collect()
}

/// Loads an organisation, if it exists.
pub fn organisation(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

/// Every organisation as (id, name), by name: the choices of a grantee.
pub fn organisation_names(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    organisations::table
        .select((organisations::id, organisations::name))
        .order(organisations::name.asc())
        .load(conn)
}

/// Donors as (id, name), by name: the choices of a fund's donor.
pub fn donor_names(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    organisations::table
        .filter(organisations::kind.eq(OrganisationKind::Partner))
        .filter(organisations::partner_type.eq(PartnerType::Donor))
        .select((organisations::id, organisations::name))
        .order(organisations::name.asc())
        .load(conn)
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
    /// A partner app with `grants:read`: published grants, through [`partner_view`] only.
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
    /// The reader of what partner apps never see (tranches, reports, histories): every app
    /// gets 404, whatever its scopes, so it learns nothing of what exists.
    pub fn internal(who: &Principal) -> Result<Reader, ApiError> {
        match who {
            Principal::Client(_) => Err(ApiError::NotFound),
            _ => Reader::try_from(who),
        }
    }

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
        Reader::App(_) => GrantStatus::PUBLISHED.contains(&g.status),
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
        Reader::App(_) => q.filter(grants::status.eq_any(GrantStatus::PUBLISHED)),
    }
}

/// True when `who` may look up grants by grantee `org`: an app may not for a withheld
/// organisation (its grants are shown, but never linked to it), so it finds none.
pub fn may_find_by_grantee(conn: &mut DbConn, who: &Reader, org: &str) -> QueryResult<bool> {
    if !who.is_app() {
        return Ok(true);
    }
    Ok(organisation(conn, org)?.is_none_or(|o| !visibility::is_withheld(&o)))
}

/// A tranche the caller may see, with its grant. Partner apps never see tranches: 404,
/// whether it exists or not.
pub fn visible_tranche(
    conn: &mut DbConn,
    who: &Reader,
    id: &str,
) -> Result<(TrancheRow, GrantRow), ApiError> {
    if who.is_app() {
        return Err(ApiError::NotFound);
    }
    let d = tranche::by_id(conn, id)?;
    let g = visible_grant(conn, who, &d.grant_id).map_err(|e| match e {
        ApiError::Forbidden(_) => e,
        _ => ApiError::NotFound,
    })?;
    Ok((d, g))
}

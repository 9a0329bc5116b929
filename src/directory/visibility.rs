//! The one rule of who sees which organisation and which of its field groups. The list,
//! search, facets, CSV export, lookups by id or slug and the grants exports all ask here,
//! in Rust ([`Viewer::can_see`], [`Viewer::can_find`]) or in SQL ([`visible_to`],
//! [`findable_by`]); both read the same constants.

use diesel::dsl::sql;
use diesel::expression::{BoxableExpression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::membership::MembershipStatus;
use super::organisation::{OrganisationKind, OrganisationRow};
use crate::auth::{MaybePrincipal, Principal, Scope};
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::error::ApiError;

crate::text_enum! {
    /// Who may see a field group.
    pub enum Visibility {
        /// Anyone, including partner apps with `directory:read`.
        Public = "public",
        /// Logged-in member users and staff.
        Members = "members",
        /// Staff (the secretariat) only.
        Secretariat = "secretariat",
    }
}

/// Kinds listed whatever their standing: partners have no membership.
pub const ALWAYS_LISTED: OrganisationKind = OrganisationKind::Partner;

/// Standings of a member that is listed outside the secretariat: in good standing, or in
/// grace while it may still renew. Lapsed, suspended and withdrawn members are not listed.
pub const LISTED_STANDINGS: &[MembershipStatus] =
    &[MembershipStatus::Active, MembershipStatus::Grace];

/// Who is looking at the directory.
///
/// Anonymous callers and partner apps holding `directory:read` are the public: they see
/// public groups of listed organisations that are not hidden. Member users see
/// members-level groups of every listed organisation (hidden ones included: hiding is
/// from the public, not from the network) and all of their own organisation. Staff see all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// No token, or a partner app with `directory:read`.
    Public,
    /// A member user of this organisation.
    Member(String),
    /// Admin, grant officer or finance officer.
    Staff,
}

/// Which field groups of one organisation a viewer sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldGroups {
    /// The profile group (city, website, description, tags, …).
    pub profile: bool,
    /// The contact group.
    pub contact: bool,
    /// Membership standing, group visibility and the hidden flag (staff and own members).
    pub membership: bool,
}

impl FieldGroups {
    /// Every group: staff, own members, audit snapshots.
    pub const ALL: FieldGroups = FieldGroups {
        profile: true,
        contact: true,
        membership: true,
    };
}

impl TryFrom<&MaybePrincipal> for Viewer {
    type Error = ApiError;
    fn try_from(who: &MaybePrincipal) -> Result<Viewer, ApiError> {
        Viewer::of(who.0.as_ref())
    }
}

impl Viewer {
    /// The viewer of a caller; a partner app without `directory:read` gets 403.
    pub fn of(who: Option<&Principal>) -> Result<Viewer, ApiError> {
        match who {
            None => Ok(Viewer::Public),
            Some(p @ Principal::Client(_)) => {
                if p.has_scope(Scope::DirectoryRead) {
                    Ok(Viewer::Public)
                } else {
                    Err(ApiError::Forbidden(
                        "This client lacks the directory:read scope.".into(),
                    ))
                }
            }
            Some(p) if p.is_staff() => Ok(Viewer::Staff),
            Some(p) => Ok(match p.organisation_id() {
                Some(o) => Viewer::Member(o.to_string()),
                None => Viewer::Public,
            }),
        }
    }

    /// True for staff.
    pub fn is_staff(&self) -> bool {
        *self == Viewer::Staff
    }

    /// True when this viewer may know that organisation `r` exists.
    pub fn can_see(&self, r: &OrganisationRow) -> bool {
        match self {
            Viewer::Staff => true,
            Viewer::Member(o) => o == &r.id || is_listed(r),
            Viewer::Public => !is_withheld(r) && is_listed(r),
        }
    }

    /// True when a search, facet count or export may show `r` to this viewer: what it may
    /// see, except that a hidden organisation is found by no one but staff (its own members
    /// and the network may still open it by id or slug, as [`Viewer::can_see`] says).
    pub fn can_find(&self, r: &OrganisationRow) -> bool {
        self.can_see(r) && (self.is_staff() || !r.hidden_from_public)
    }

    /// True when this viewer may see a group shown to `v`, on organisation `org_id`.
    fn sees(&self, org_id: &str, v: Visibility) -> bool {
        match self {
            Viewer::Staff => true,
            Viewer::Member(o) if o == org_id => true,
            Viewer::Member(_) => v != Visibility::Secretariat,
            Viewer::Public => v == Visibility::Public,
        }
    }

    /// The field groups of `r` this viewer sees (call [`Viewer::can_see`] first).
    pub fn field_groups(&self, r: &OrganisationRow) -> FieldGroups {
        FieldGroups {
            profile: self.sees(&r.id, r.visibility_profile),
            contact: self.sees(&r.id, r.visibility_contact),
            membership: match self {
                Viewer::Staff => true,
                Viewer::Member(o) => o == &r.id,
                Viewer::Public => false,
            },
        }
    }

    /// The groups of `r` in an export: an export is a document that travels, so it shows
    /// members their own organisation like any other (the directory view, not the owner's).
    pub fn export_groups(&self, r: &OrganisationRow) -> FieldGroups {
        match self {
            Viewer::Member(_) => Viewer::Member(String::new()).field_groups(r),
            other => other.field_groups(r),
        }
    }
}

/// The name every public answer gives an organisation it may not name.
pub const WITHHELD_NAME: &str = "Withheld (at-risk organisation)";

/// True when `r` may not be named (nor located finer than its region) in anything the public
/// or a partner app reads: the directory, the open-data exports, grants seen by apps, the
/// grants CSV. The one rule; [`withheld_sql`] is its SQL form.
pub fn is_withheld(r: &OrganisationRow) -> bool {
    r.hidden_from_public
}

/// SQL for [`is_withheld`] on a query whose FROM clause includes `organisations`.
pub fn withheld_sql<QS>() -> Condition<QS>
where
    QS: 'static,
    organisations::hidden_from_public: SelectableExpression<QS> + ValidGrouping<()>,
{
    Box::new(organisations::hidden_from_public.eq(true))
}

/// Listed organisations are partners and members in a listed standing.
pub fn is_listed(r: &OrganisationRow) -> bool {
    r.kind == ALWAYS_LISTED
        || r.membership_status
            .is_some_and(|s| LISTED_STANDINGS.contains(&s))
}

type Db = <DbConn as diesel::Connection>::Backend;

/// A boolean SQL condition on a query whose FROM clause includes `organisations`.
pub type Condition<QS> = Box<dyn BoxableExpression<QS, Db, SqlType = Bool>>;

/// A condition that always holds.
fn always<QS>() -> Condition<QS>
where
    organisations::id: SelectableExpression<QS> + ValidGrouping<()>,
{
    Box::new(organisations::id.is_not_null())
}

/// SQL for [`is_listed`], built from the same constants. Raw fragments with bound values,
/// so it works in any query whose FROM clause includes `organisations` (joins included).
fn listed_sql<QS>() -> Condition<QS>
where
    QS: 'static,
{
    let mut cond: Condition<QS> =
        Box::new(sql::<Bool>("organisations.kind = ").bind::<Text, _>(ALWAYS_LISTED.as_str()));
    for s in LISTED_STANDINGS {
        cond = Box::new(
            cond.or(sql::<Bool>("organisations.membership_status = ").bind::<Text, _>(s.as_str())),
        );
    }
    cond
}

/// SQL for [`Viewer::can_see`]: the rows `viewer` may know about.
pub fn visible_to<QS>(viewer: &Viewer) -> Condition<QS>
where
    QS: 'static,
    organisations::id: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::kind: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::membership_status: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::hidden_from_public: SelectableExpression<QS> + ValidGrouping<()>,
{
    match viewer {
        Viewer::Staff => always(),
        Viewer::Member(o) => Box::new(listed_sql::<QS>().or(organisations::id.eq(o.clone()))),
        Viewer::Public => Box::new(diesel::dsl::not(withheld_sql::<QS>()).and(listed_sql::<QS>())),
    }
}

/// SQL for [`Viewer::can_find`]: the rows a search, facet count or export may show `viewer`.
pub fn findable_by<QS>(viewer: &Viewer) -> Condition<QS>
where
    QS: 'static,
    organisations::id: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::kind: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::membership_status: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::hidden_from_public: SelectableExpression<QS> + ValidGrouping<()>,
{
    match viewer {
        Viewer::Staff => always(),
        other => Box::new(visible_to::<QS>(other).and(organisations::hidden_from_public.eq(false))),
    }
}

/// SQL for "`viewer` sees the profile group" (the only group search, filters and facets
/// look into), the same rule as [`Viewer::field_groups`].
pub fn profile_visible_to<QS>(viewer: &Viewer) -> Condition<QS>
where
    QS: 'static,
    organisations::id: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::visibility_profile: SelectableExpression<QS> + ValidGrouping<()>,
{
    let col = organisations::visibility_profile;
    match viewer {
        Viewer::Staff => always(),
        Viewer::Member(o) => Box::new(
            col.ne(Visibility::Secretariat)
                .or(organisations::id.eq(o.clone())),
        ),
        Viewer::Public => Box::new(col.eq(Visibility::Public)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        kind: OrganisationKind,
        status: Option<MembershipStatus>,
        hidden: bool,
    ) -> OrganisationRow {
        let new = super::super::organisation::NewOrganisation {
            name: "Test".into(),
            slug: None,
            kind,
            partner_type: None,
            country: "GB".into(),
            region: "europe".into(),
            identifiers: Vec::new(),
        };
        let mut r =
            super::super::organisation::new_row(&new, "test".into(), chrono::NaiveDateTime::MIN);
        r.membership_status = status;
        r.hidden_from_public = hidden;
        r
    }

    #[test]
    fn the_public_sees_listed_organisations_that_are_not_hidden() {
        let active = row(
            OrganisationKind::Member,
            Some(MembershipStatus::Active),
            false,
        );
        let hidden = row(
            OrganisationKind::Member,
            Some(MembershipStatus::Active),
            true,
        );
        let lapsed = row(
            OrganisationKind::Member,
            Some(MembershipStatus::Lapsed),
            false,
        );
        let partner = row(OrganisationKind::Partner, None, false);
        assert!(Viewer::Public.can_see(&active));
        assert!(Viewer::Public.can_see(&partner));
        assert!(!Viewer::Public.can_see(&hidden));
        assert!(!Viewer::Public.can_see(&lapsed));
        assert!(Viewer::Member("x".into()).can_see(&hidden));
        assert!(!Viewer::Member("x".into()).can_see(&lapsed));
        assert!(Viewer::Member(lapsed.id.clone()).can_see(&lapsed));
        assert!(Viewer::Staff.can_see(&lapsed));
        // Found by searching: hidden ones by staff only, not even by their own members.
        assert!(!Viewer::Member("x".into()).can_find(&hidden));
        assert!(!Viewer::Member(hidden.id.clone()).can_find(&hidden));
        assert!(Viewer::Staff.can_find(&hidden));
        assert!(Viewer::Member("x".into()).can_find(&active));
    }

    #[test]
    fn members_see_members_groups_and_all_of_their_own() {
        let mut r = row(
            OrganisationKind::Member,
            Some(MembershipStatus::Active),
            false,
        );
        r.visibility_contact = Visibility::Secretariat;
        let other = Viewer::Member("x".into()).field_groups(&r);
        assert!(other.profile && !other.contact && !other.membership);
        let own = Viewer::Member(r.id.clone()).field_groups(&r);
        assert_eq!(own, FieldGroups::ALL);
        let export = Viewer::Member(r.id.clone()).export_groups(&r);
        assert!(!export.membership);
        let public = Viewer::Public.field_groups(&r);
        assert!(public.profile && !public.contact);
    }
}

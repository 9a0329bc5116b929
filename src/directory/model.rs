//! Organisation and membership-application rows, and their wire forms.
//!
//! An organisation's profile is shown in field groups (`profile`, `contact`, `membership`);
//! a group the caller may not see is absent from the answer, never sent empty.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::identifiers::{self, OrgIdentifier};
use crate::db::schema::{membership_applications, organisations};

/// A stored organisation.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    /// UUID v7.
    pub id: String,
    /// Name.
    pub name: String,
    /// URL-safe unique name.
    pub slug: String,
    /// member or partner.
    pub kind: String,
    /// For partners: donor, community_network, un_agency, academic, other.
    pub partner_type: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Region code.
    pub region: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Absent from every public answer when true.
    pub hidden_from_public: bool,
    /// Short name.
    pub acronym: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Plain text, up to 5,000 characters.
    pub description: Option<String>,
    /// JSON array of priority-area codes (mirrored in organisation_tags).
    pub focus_areas: String,
    /// JSON array of strategic-pillar codes.
    pub pillars: String,
    /// JSON array of ISO 639-1 codes (mirrored in organisation_tags).
    pub languages: String,
    /// Public email address.
    pub public_email: Option<String>,
    /// Contact person.
    pub contact_name: Option<String>,
    /// Contact person's email.
    pub contact_email: Option<String>,
    /// Contact person's phone.
    pub contact_phone: Option<String>,
    /// JSON array of social-media URLs.
    pub social_links: String,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Year founded.
    pub founded_year: Option<i32>,
    /// Joined the network (members) or the directory (partners).
    pub joined_on: NaiveDate,
    /// Membership standing; NULL for partners.
    pub membership_status: Option<String>,
    /// Start of the current membership period.
    pub membership_period_start: Option<NaiveDate>,
    /// End of the current membership period (open-ended when NULL).
    pub membership_period_end: Option<NaiveDate>,
    /// Who sees the profile group.
    pub visibility_profile: String,
    /// Who sees the contact group.
    pub visibility_contact: String,
    /// org-id identifiers as a JSON list of `{scheme, id}` (see `directory::identifiers`).
    pub identifiers: String,
}

/// Every column a PATCH may change (not id, created_at or version: the UPDATE sets version
/// itself, conditioned on the expected value).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationChanges {
    /// See [`OrganisationRow`].
    pub name: String,
    /// See [`OrganisationRow`].
    pub slug: String,
    /// See [`OrganisationRow`].
    pub kind: String,
    /// See [`OrganisationRow`].
    pub partner_type: Option<String>,
    /// See [`OrganisationRow`].
    pub country: String,
    /// See [`OrganisationRow`].
    pub region: String,
    /// See [`OrganisationRow`].
    pub updated_at: NaiveDateTime,
    /// See [`OrganisationRow`].
    pub hidden_from_public: bool,
    /// See [`OrganisationRow`].
    pub acronym: Option<String>,
    /// See [`OrganisationRow`].
    pub city: Option<String>,
    /// See [`OrganisationRow`].
    pub website: Option<String>,
    /// See [`OrganisationRow`].
    pub description: Option<String>,
    /// See [`OrganisationRow`].
    pub focus_areas: String,
    /// See [`OrganisationRow`].
    pub pillars: String,
    /// See [`OrganisationRow`].
    pub languages: String,
    /// See [`OrganisationRow`].
    pub public_email: Option<String>,
    /// See [`OrganisationRow`].
    pub contact_name: Option<String>,
    /// See [`OrganisationRow`].
    pub contact_email: Option<String>,
    /// See [`OrganisationRow`].
    pub contact_phone: Option<String>,
    /// See [`OrganisationRow`].
    pub social_links: String,
    /// See [`OrganisationRow`].
    pub logo_url: Option<String>,
    /// See [`OrganisationRow`].
    pub founded_year: Option<i32>,
    /// See [`OrganisationRow`].
    pub joined_on: NaiveDate,
    /// See [`OrganisationRow`].
    pub membership_status: Option<String>,
    /// See [`OrganisationRow`].
    pub membership_period_start: Option<NaiveDate>,
    /// See [`OrganisationRow`].
    pub membership_period_end: Option<NaiveDate>,
    /// See [`OrganisationRow`].
    pub visibility_profile: String,
    /// See [`OrganisationRow`].
    pub visibility_contact: String,
    /// See [`OrganisationRow`].
    pub identifiers: String,
}

impl From<&OrganisationRow> for OrganisationChanges {
    fn from(r: &OrganisationRow) -> Self {
        let r = r.clone();
        Self {
            name: r.name,
            slug: r.slug,
            kind: r.kind,
            partner_type: r.partner_type,
            country: r.country,
            region: r.region,
            updated_at: r.updated_at,
            hidden_from_public: r.hidden_from_public,
            acronym: r.acronym,
            city: r.city,
            website: r.website,
            description: r.description,
            focus_areas: r.focus_areas,
            pillars: r.pillars,
            languages: r.languages,
            public_email: r.public_email,
            contact_name: r.contact_name,
            contact_email: r.contact_email,
            contact_phone: r.contact_phone,
            social_links: r.social_links,
            logo_url: r.logo_url,
            founded_year: r.founded_year,
            joined_on: r.joined_on,
            membership_status: r.membership_status,
            membership_period_start: r.membership_period_start,
            membership_period_end: r.membership_period_end,
            visibility_profile: r.visibility_profile,
            visibility_contact: r.visibility_contact,
            identifiers: r.identifiers,
        }
    }
}

/// Member or partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A member of the network.
    Member,
    /// A partner (donor, UN agency, …).
    Partner,
}

/// Kind of partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerType {
    /// Funds the network.
    Donor,
    /// A network of affected communities.
    CommunityNetwork,
    /// A United Nations agency.
    UnAgency,
    /// A university or research body.
    Academic,
    /// Anything else.
    Other,
}

/// Who may see a field group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone, including partner apps with `directory:read`.
    Public,
    /// Logged-in member users and staff.
    Members,
    /// Staff (the secretariat) only.
    Secretariat,
}

impl Visibility {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Members => "members",
            Visibility::Secretariat => "secretariat",
        }
    }

    /// Parses stored text (unknown text is treated as the strictest level).
    pub fn parse(s: &str) -> Self {
        match s {
            "public" => Visibility::Public,
            "members" => Visibility::Members,
            _ => Visibility::Secretariat,
        }
    }
}

/// The standing of a member organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// A member in good standing.
    Active,
    /// The period ended; still a member while it may renew.
    Grace,
    /// The grace period passed without renewal.
    Lapsed,
    /// Suspended by the secretariat.
    Suspended,
    /// Left the network, or was removed.
    Withdrawn,
}

/// How much of an organisation a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViewLevel {
    /// Anonymous callers and partner apps.
    Public,
    /// Member users looking at another organisation.
    Members,
    /// Staff, and member users looking at their own organisation.
    Full,
}

impl ViewLevel {
    fn sees(self, v: Visibility) -> bool {
        match self {
            ViewLevel::Full => true,
            ViewLevel::Members => v <= Visibility::Members,
            ViewLevel::Public => v == Visibility::Public,
        }
    }
}

/// Profile field group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Profile {
    /// City.
    pub city: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Plain text, up to 5,000 characters.
    pub description: Option<String>,
    /// Priority areas it works on.
    #[schema(example = json!(["decriminalisation_justice_reform"]))]
    pub focus_areas: Vec<String>,
    /// Strategic pillars it contributes to.
    pub pillars: Vec<String>,
    /// ISO 639-1 languages it works in.
    #[schema(example = json!(["en", "fr"]))]
    pub languages: Vec<String>,
    /// Year founded.
    pub founded_year: Option<i32>,
    /// Public email address.
    pub public_email: Option<String>,
    /// Logo URL.
    pub logo_url: Option<String>,
    /// Social-media URLs.
    pub social_links: Vec<String>,
}

/// Contact field group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Contact {
    /// Contact person.
    pub name: Option<String>,
    /// Contact person's email.
    pub email: Option<String>,
    /// Contact person's phone.
    pub phone: Option<String>,
}

/// Membership field group (staff and the organisation's own members).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Membership {
    /// active, grace, lapsed, suspended or withdrawn; null for partners.
    pub status: Option<MembershipStatus>,
    /// Start of the current period (YYYY-MM-DD).
    pub period_start: Option<String>,
    /// End of the current period (YYYY-MM-DD); null when open-ended.
    pub period_end: Option<String>,
}

/// Who sees each field group.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldVisibility {
    /// The profile group.
    pub profile: Visibility,
    /// The contact group.
    pub contact: Visibility,
}

/// An organisation as the API shows it to one caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organisation {
    /// UUID v7.
    pub id: String,
    /// Name.
    pub name: String,
    /// URL-safe unique name.
    pub slug: String,
    /// Short name.
    pub acronym: Option<String>,
    /// member or partner.
    #[schema(example = "member")]
    pub kind: String,
    /// For partners: donor, community_network, un_agency, academic or other.
    pub partner_type: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "GB")]
    pub country: String,
    /// Region code.
    #[schema(example = "europe")]
    pub region: String,
    /// org-id.guide identifiers, the preferred one first (exports use it).
    pub identifiers: Vec<OrgIdentifier>,
    /// Joined the network (members) or the directory (partners), YYYY-MM-DD.
    pub joined_on: String,
    /// Profile group; absent when the caller may not see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// Contact group; absent when the caller may not see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Membership standing; only for staff and the organisation's own members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership: Option<Membership>,
    /// Who sees each group; only for staff and the organisation's own members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<FieldVisibility>,
    /// Hidden from the public directory; only for staff and the organisation's own members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_from_public: Option<bool>,
    /// Optimistic-concurrency version (also the ETag).
    pub version: i64,
    /// Created (RFC 3339, UTC).
    pub created_at: String,
    /// Last change (RFC 3339, UTC).
    pub updated_at: String,
}

/// RFC 3339 in UTC.
pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses a stored JSON array of strings (empty when malformed).
pub fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

/// Stores a list as JSON text.
pub fn to_json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Organisation {
    /// The organisation as a caller at `level` may see it.
    pub fn view(r: OrganisationRow, level: ViewLevel) -> Self {
        let full = level == ViewLevel::Full;
        let profile = level
            .sees(Visibility::parse(&r.visibility_profile))
            .then(|| Profile {
                city: r.city.clone(),
                website: r.website.clone(),
                description: r.description.clone(),
                focus_areas: json_list(&r.focus_areas),
                pillars: json_list(&r.pillars),
                languages: json_list(&r.languages),
                founded_year: r.founded_year,
                public_email: r.public_email.clone(),
                logo_url: r.logo_url.clone(),
                social_links: json_list(&r.social_links),
            });
        let contact = level
            .sees(Visibility::parse(&r.visibility_contact))
            .then(|| Contact {
                name: r.contact_name.clone(),
                email: r.contact_email.clone(),
                phone: r.contact_phone.clone(),
            });
        let membership = full.then(|| Membership {
            status: r
                .membership_status
                .as_deref()
                .and_then(|s| serde_json::from_value(serde_json::Value::String(s.into())).ok()),
            period_start: r.membership_period_start.map(|d| d.to_string()),
            period_end: r.membership_period_end.map(|d| d.to_string()),
        });
        let visibility = full.then(|| FieldVisibility {
            profile: Visibility::parse(&r.visibility_profile),
            contact: Visibility::parse(&r.visibility_contact),
        });
        Self {
            id: r.id,
            name: r.name,
            slug: r.slug,
            acronym: r.acronym,
            kind: r.kind,
            partner_type: r.partner_type,
            country: r.country,
            region: r.region,
            identifiers: identifiers::from_stored(&r.identifiers),
            joined_on: r.joined_on.to_string(),
            profile,
            contact,
            membership,
            visibility,
            hidden_from_public: full.then_some(r.hidden_from_public),
            version: r.version,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

impl From<OrganisationRow> for Organisation {
    /// The full view (staff, audit snapshots).
    fn from(r: OrganisationRow) -> Self {
        Organisation::view(r, ViewLevel::Full)
    }
}

/// Request to create an organisation. Profile fields are set afterwards with PATCH.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Name, 2–200 characters, not blank, no control characters.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F]*[^\s\x00-\x1F\x7F][^\x00-\x1F\x7F]*$"
    )]
    pub name: String,
    /// URL-safe unique name (lower-case letters, digits, single hyphens); derived from the name when omitted.
    #[serde(default)]
    #[schema(min_length = 2, max_length = 80, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    /// member or partner.
    pub kind: OrganisationKind,
    /// Required for partners; not allowed for members.
    #[serde(default)]
    pub partner_type: Option<PartnerType>,
    /// ISO 3166-1 alpha-2 country code (an assigned one).
    #[schema(pattern = "^[A-Z]{2}$")]
    pub country: String,
    /// Region code.
    #[schema(
        pattern = "^(africa|asia|europe|latin_america_caribbean|middle_east_north_africa|north_america|oceania|global)$"
    )]
    pub region: String,
    /// org-id.guide identifiers, the preferred one first; an unknown scheme is a 400.
    #[serde(default)]
    pub identifiers: Vec<OrgIdentifier>,
}

/// Reads a merge-patch member: absent → `None`, `null` → `Some(None)`, value → `Some(Some)`.
pub fn patch_field<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// JSON merge-patch of an organisation (RFC 7386): a member left out is kept, `null` clears
/// an optional one. Members may not change kind, slug, joined_on or membership.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    /// Name, 2–200 characters.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// URL-safe unique name (admin only).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub slug: Option<Option<String>>,
    /// Short name, up to 20 characters.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub acronym: Option<Option<String>>,
    /// member or partner (admin only).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<OrganisationKind>)]
    pub kind: Option<Option<OrganisationKind>>,
    /// Partner type (partners only).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<PartnerType>)]
    pub partner_type: Option<Option<PartnerType>>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    /// Region code.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    /// YYYY-MM-DD (admin only).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub joined_on: Option<Option<NaiveDate>>,
    /// Hide the organisation from every public answer.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<bool>)]
    pub hidden_from_public: Option<Option<bool>>,
    /// org-id.guide identifiers (replaces the list; `null` clears it).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<OrgIdentifier>>)]
    pub identifiers: Option<Option<Vec<OrgIdentifier>>>,
    /// Profile group changes.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<ProfilePatch>)]
    pub profile: Option<Option<ProfilePatch>>,
    /// Contact group changes.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<ContactPatch>)]
    pub contact: Option<Option<ContactPatch>>,
    /// Visibility of the field groups.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<VisibilityPatch>)]
    pub visibility: Option<Option<VisibilityPatch>>,
    /// Membership period and status corrections (admin only; use the membership command
    /// for decisions).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<MembershipPatch>)]
    pub membership: Option<Option<MembershipPatch>>,
}

/// Merge-patch of the profile group.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// City, up to 100 characters.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    /// http(s) URL.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    /// Plain text, up to 5,000 characters.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Priority-area codes.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<String>>)]
    pub focus_areas: Option<Option<Vec<String>>>,
    /// Strategic-pillar codes.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<String>>)]
    pub pillars: Option<Option<Vec<String>>>,
    /// ISO 639-1 codes.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<String>>)]
    pub languages: Option<Option<Vec<String>>>,
    /// Year founded (1800 to this year).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<i32>)]
    pub founded_year: Option<Option<i32>>,
    /// Public email address.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub public_email: Option<Option<String>>,
    /// http(s) URL of the logo.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub logo_url: Option<Option<String>>,
    /// Up to 10 http(s) URLs.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<String>>)]
    pub social_links: Option<Option<Vec<String>>>,
}

/// Merge-patch of the contact group.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    /// Contact person, up to 120 characters.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Contact person's email.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Phone: digits, spaces and + ( ) - . only, up to 40 characters.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
}

/// Merge-patch of the group visibility.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisibilityPatch {
    /// Who sees the profile group.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Visibility>)]
    pub profile: Option<Option<Visibility>>,
    /// Who sees the contact group.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Visibility>)]
    pub contact: Option<Option<Visibility>>,
}

/// Merge-patch of the membership group (admin only).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipPatch {
    /// Standing.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<MembershipStatus>)]
    pub status: Option<Option<MembershipStatus>>,
    /// YYYY-MM-DD.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub period_start: Option<Option<NaiveDate>>,
    /// YYYY-MM-DD; null for open-ended.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>)]
    pub period_end: Option<Option<NaiveDate>>,
}

/// One changed field in a history entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldChange {
    /// Dotted path, e.g. `profile.description`.
    pub field: String,
    /// Value before (null when absent).
    pub before: serde_json::Value,
    /// Value after (null when absent).
    pub after: serde_json::Value,
}

/// One audit event of an organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Audit event id.
    pub id: String,
    /// When (RFC 3339).
    pub occurred_at: String,
    /// What happened, e.g. `organisation.updated`.
    pub action: String,
    /// user, api_client, system or anonymous.
    pub actor_kind: String,
    /// The acting user or client, when there is one.
    pub actor_id: Option<String>,
    /// Fields whose value changed.
    pub changes: Vec<FieldChange>,
}

/// A membership decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipAction {
    /// active or grace → suspended.
    Suspend,
    /// suspended → active.
    Reinstate,
    /// any standing → withdrawn.
    Withdraw,
    /// active, grace or lapsed → active, period extended by a year.
    Renew,
}

/// Body of `POST /organisations/{id}/membership`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipCommand {
    /// What to do.
    pub action: MembershipAction,
    /// Why (required for suspend and withdraw; up to 2,000 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A stored membership application.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = membership_applications)]
pub struct ApplicationRow {
    /// UUID v7.
    pub id: String,
    /// submitted, under_review, approved or rejected.
    pub status: String,
    /// Applying organisation's name.
    pub organisation_name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Region code.
    pub region: String,
    /// Website.
    pub website: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// JSON array of priority-area codes.
    pub focus_areas: String,
    /// Contact person.
    pub contact_name: String,
    /// Contact email (lower case).
    pub contact_email: String,
    /// Why it wants to join.
    pub motivation: String,
    /// Reason of a rejection.
    pub decision_reason: Option<String>,
    /// The organisation created on approval.
    pub organisation_id: Option<String>,
    /// The admin who decided.
    pub decided_by: Option<String>,
    /// Submitted.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Status of a membership application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Received, not yet looked at.
    Submitted,
    /// An admin is reviewing it.
    UnderReview,
    /// Accepted: the organisation exists and its contact is invited.
    Approved,
    /// Declined, with a reason.
    Rejected,
}

/// The applying organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationOrganisation {
    /// Name, 2–200 characters.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Region code.
    pub region: String,
    /// http(s) URL.
    #[serde(default)]
    pub website: Option<String>,
    /// Plain text, up to 5,000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// Priority-area codes.
    #[serde(default)]
    pub focus_areas: Vec<String>,
}

/// The applicant's contact person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationContact {
    /// Name, 1–120 characters.
    pub name: String,
    /// Email; receives every step of the application and, on approval, the invitation.
    pub email: String,
}

/// Body of `POST /membership-applications`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The applying organisation.
    pub organisation: ApplicationOrganisation,
    /// Its contact person.
    pub contact: ApplicationContact,
    /// Why it wants to join, 10–5,000 characters.
    pub motivation: String,
}

/// Body of `POST /membership-applications/{id}/reject`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectApplication {
    /// Sent to the applicant, 1–2,000 characters.
    pub reason: String,
}

/// A membership application as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Application {
    /// UUID v7.
    pub id: String,
    /// submitted, under_review, approved or rejected.
    pub status: ApplicationStatus,
    /// The applying organisation.
    pub organisation: ApplicationOrganisation,
    /// Its contact person.
    pub contact: ApplicationContact,
    /// Why it wants to join.
    pub motivation: String,
    /// Reason given on rejection.
    pub decision_reason: Option<String>,
    /// The organisation created on approval.
    pub organisation_id: Option<String>,
    /// Submitted (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<ApplicationRow> for Application {
    fn from(r: ApplicationRow) -> Self {
        Self {
            id: r.id,
            status: serde_json::from_value(serde_json::Value::String(r.status))
                .unwrap_or(ApplicationStatus::Submitted),
            organisation: ApplicationOrganisation {
                name: r.organisation_name,
                country: r.country,
                region: r.region,
                website: r.website,
                description: r.description,
                focus_areas: json_list(&r.focus_areas),
            },
            contact: ApplicationContact {
                name: r.contact_name,
                email: r.contact_email,
            },
            motivation: r.motivation,
            decision_reason: r.decision_reason,
            organisation_id: r.organisation_id,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// One facet value and how many visible organisations have it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetCount {
    /// The code (region, country, focus area or kind).
    pub value: String,
    /// Organisations matching the filters with this value.
    pub count: i64,
}

/// Counts per facet for the organisations a caller may see under the given filters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Facets {
    /// Organisations matching the filters.
    pub total: i64,
    /// Per region.
    pub region: Vec<FacetCount>,
    /// Per country.
    pub country: Vec<FacetCount>,
    /// Per focus area (only organisations whose profile the caller may see).
    pub focus_area: Vec<FacetCount>,
    /// Per kind.
    pub kind: Vec<FacetCount>,
}

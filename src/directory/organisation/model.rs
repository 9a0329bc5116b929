//! The organisation row, its kinds, and its wire forms (the view, the create request and the
//! merge-patch). An organisation's profile is shown in field groups (`profile`, `contact`,
//! `membership`); a group the caller may not see is absent from the answer, never sent empty.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::db::schema::organisations;
use crate::directory::identifiers::{self, OrgIdentifier};
use crate::directory::membership::MembershipStatus;
use crate::directory::visibility::{FieldGroups, Visibility};
use crate::kit::rfc3339;

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
    pub kind: OrganisationKind,
    /// For partners: donor, community_network, un_agency, academic, other.
    pub partner_type: Option<PartnerType>,
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
    pub membership_status: Option<MembershipStatus>,
    /// Start of the current membership period.
    pub membership_period_start: Option<NaiveDate>,
    /// End of the current membership period (open-ended when NULL).
    pub membership_period_end: Option<NaiveDate>,
    /// Who sees the profile group.
    pub visibility_profile: Visibility,
    /// Who sees the contact group.
    pub visibility_contact: Visibility,
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
    pub kind: OrganisationKind,
    /// See [`OrganisationRow`].
    pub partner_type: Option<PartnerType>,
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
    pub membership_status: Option<MembershipStatus>,
    /// See [`OrganisationRow`].
    pub membership_period_start: Option<NaiveDate>,
    /// See [`OrganisationRow`].
    pub membership_period_end: Option<NaiveDate>,
    /// See [`OrganisationRow`].
    pub visibility_profile: Visibility,
    /// See [`OrganisationRow`].
    pub visibility_contact: Visibility,
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

crate::text_enum! {
    /// Member or partner.
    pub enum OrganisationKind {
        /// A member of the network.
        Member = "member",
        /// A partner (donor, UN agency, …).
        Partner = "partner",
    }
}

crate::text_enum! {
    /// Kind of partner.
    pub enum PartnerType {
        /// Funds the network.
        Donor = "donor",
        /// A network of affected communities.
        CommunityNetwork = "community_network",
        /// A United Nations agency.
        UnAgency = "un_agency",
        /// A university or research body.
        Academic = "academic",
        /// Anything else.
        Other = "other",
    }
}

/// Profile field group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Profile {
    /// City.
    pub city: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Plain text, up to 5,000 characters: in the reader's language (`Accept-Language`,
    /// else a signed-in user's language) when the profile has it, else in the organisation's
    /// first language, else in any it has.
    pub description: Option<String>,
    /// The ISO 639-1 language `description` is written in.
    #[schema(example = "fr")]
    pub description_language: Option<String>,
    /// The description in every language it is written in, by ISO 639-1 code.
    #[schema(example = json!({"en": "We work on drug policy.", "fr": "Nous travaillons sur les politiques des drogues."}))]
    pub descriptions: std::collections::BTreeMap<String, String>,
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
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
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
    pub kind: OrganisationKind,
    /// For partners: donor, community_network, un_agency, academic or other.
    pub partner_type: Option<PartnerType>,
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

/// Parses a stored JSON array of strings (empty when malformed).
pub fn json_list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

/// Stores a list as JSON text.
pub fn to_json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Organisation {
    /// The organisation showing only the field groups in `groups` (see
    /// [`crate::directory::visibility::Viewer::field_groups`]).
    pub fn view(r: OrganisationRow, groups: FieldGroups) -> Self {
        let texts = super::descriptions::decode(r.description.as_deref(), &r.languages);
        let picked = super::descriptions::pick(&texts, &[], &r.languages);
        let profile = groups.profile.then(|| Profile {
            city: r.city.clone(),
            website: r.website.clone(),
            description_language: picked.as_ref().map(|(l, _)| l.clone()),
            description: picked.map(|(_, t)| t),
            descriptions: texts,
            focus_areas: json_list(&r.focus_areas),
            pillars: json_list(&r.pillars),
            languages: json_list(&r.languages),
            founded_year: r.founded_year,
            public_email: r.public_email.clone(),
            logo_url: r.logo_url.clone(),
            social_links: json_list(&r.social_links),
        });
        let contact = groups.contact.then(|| Contact {
            name: r.contact_name.clone(),
            email: r.contact_email.clone(),
            phone: r.contact_phone.clone(),
        });
        let full = groups.membership;
        let membership = full.then(|| Membership {
            status: r.membership_status,
            period_start: r.membership_period_start.map(|d| d.to_string()),
            period_end: r.membership_period_end.map(|d| d.to_string()),
        });
        let visibility = full.then_some(FieldVisibility {
            profile: r.visibility_profile,
            contact: r.visibility_contact,
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

impl Organisation {
    /// The description in the first of `wanted` (ISO 639-1 codes, best first) that the
    /// profile has, else as [`Organisation::view`] picked it.
    pub fn for_reader(mut self, wanted: &[String]) -> Self {
        if let Some(p) = &mut self.profile {
            let first = p.description_language.clone().unwrap_or_default();
            if let Some((l, t)) = wanted
                .iter()
                .chain(std::iter::once(&first))
                .find_map(|l| p.descriptions.get(l).map(|t| (l.clone(), t.clone())))
            {
                p.description_language = Some(l);
                p.description = Some(t);
            }
        }
        self
    }
}

impl From<OrganisationRow> for Organisation {
    /// The full view (staff, audit snapshots).
    fn from(r: OrganisationRow) -> Self {
        Organisation::view(r, FieldGroups::ALL)
    }
}

impl crate::command::Audited for Organisation {
    const ENTITY: &'static str = "organisation";
    fn entity_id(&self) -> &str {
        &self.id
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
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub name: String,
    /// URL-safe unique name (lower-case letters, digits, single hyphens); derived from the name when omitted (transliterated; `organisation-` and eight random hex digits when the name gives none).
    #[serde(default)]
    #[schema(min_length = 2, max_length = 80, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    /// member or partner.
    pub kind: OrganisationKind,
    /// Required for partners; not allowed for members.
    #[serde(default)]
    pub partner_type: Option<PartnerType>,
    /// ISO 3166-1 alpha-2 country code (an assigned one).
    #[schema(schema_with = crate::codes::schema::country)]
    pub country: String,
    /// Region code.
    #[schema(schema_with = crate::codes::schema::region)]
    pub region: String,
    /// org-id.guide identifiers, the preferred one first; an unknown scheme is a 400.
    #[serde(default)]
    #[schema(max_items = 10)]
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
    /// Name, 2–200 characters once spaces around it are trimmed, on one line; cannot be
    /// cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = String, pattern = r"^[ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]{0,198}[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][ \xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$")]
    pub name: Option<Option<String>>,
    /// URL-safe unique name (admin only); cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(
        value_type = String,
        min_length = 2,
        max_length = 80,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: Option<Option<String>>,
    /// Short name, up to 20 characters; no control, bidi-override or zero-width characters.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<String>, pattern = r"^[^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$")]
    pub acronym: Option<Option<String>>,
    /// member or partner (admin only); cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = OrganisationKind)]
    pub kind: Option<Option<OrganisationKind>>,
    /// Partner type (partners only).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<PartnerType>)]
    pub partner_type: Option<Option<PartnerType>>,
    /// ISO 3166-1 alpha-2 country code; cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(schema_with = crate::codes::schema::country)]
    pub country: Option<Option<String>>,
    /// Region code; cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(schema_with = crate::codes::schema::region)]
    pub region: Option<Option<String>>,
    /// YYYY-MM-DD (admin only); cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = NaiveDate)]
    pub joined_on: Option<Option<NaiveDate>>,
    /// Hide the organisation from every public answer; cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = bool)]
    pub hidden_from_public: Option<Option<bool>>,
    /// org-id.guide identifiers (replaces the list; `null` clears it).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<Vec<OrgIdentifier>>, max_items = 10)]
    pub identifiers: Option<Option<Vec<OrgIdentifier>>>,
    /// Profile group changes.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<ProfilePatch>)]
    pub profile: Option<Option<ProfilePatch>>,
    /// Contact group changes.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<ContactPatch>)]
    pub contact: Option<Option<ContactPatch>>,
    /// Visibility of the field groups; cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = VisibilityPatch)]
    pub visibility: Option<Option<VisibilityPatch>>,
    /// Membership period and status corrections (admin only; use the membership command
    /// for decisions).
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = MembershipPatch)]
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
    /// The description: plain text (the organisation's first language's, as before), or
    /// texts by ISO 639-1 code merged into those stored (`{"fr": "...", "es": null}`); up to
    /// 5,000 characters each. `null` clears every language.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<super::descriptions::DescriptionPatch>)]
    pub description: Option<Option<super::descriptions::DescriptionPatch>>,
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
    /// Who sees the profile group; cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Visibility)]
    pub profile: Option<Option<Visibility>>,
    /// Who sees the contact group; cannot be cleared.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Visibility)]
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
    #[schema(value_type = Option<NaiveDate>)]
    pub period_start: Option<Option<NaiveDate>>,
    /// YYYY-MM-DD; null for open-ended.
    #[serde(default, deserialize_with = "patch_field")]
    #[schema(value_type = Option<NaiveDate>)]
    pub period_end: Option<Option<NaiveDate>>,
}

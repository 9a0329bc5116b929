//! Organisation rows and their wire form.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::organisations;

/// A stored organisation.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
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

/// An organisation as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organisation {
    /// UUID v7.
    pub id: String,
    /// Name.
    pub name: String,
    /// URL-safe unique name.
    pub slug: String,
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

impl From<OrganisationRow> for Organisation {
    fn from(r: OrganisationRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            slug: r.slug,
            kind: r.kind,
            partner_type: r.partner_type,
            country: r.country,
            region: r.region,
            version: r.version,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

/// Request to create an organisation.
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
}

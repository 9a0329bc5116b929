//! Facet counts over the same candidate set as the list (the same `filter`, so a facet's
//! count is what the list answers with that value added), in two grouped passes: one over
//! the organisations (region, country, kind, partner type) and one over their tags (focus
//! area, pillar, language), not one count per value.

use diesel::dsl::count_star;
use diesel::helper_types::InnerJoinQuerySource;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Backend, Filters, filter};
use crate::db::DbConn;
use crate::db::schema::{organisation_tags, organisations};
use crate::directory::organisation::{OrganisationKind, PartnerType};
use crate::directory::visibility::{self, Viewer};
use crate::error::ApiError;

type TagsJoin = InnerJoinQuerySource<organisation_tags::table, organisations::table>;

fn counts(v: impl IntoIterator<Item = (String, i64)>) -> Vec<FacetCount> {
    let mut merged: Vec<(String, i64)> = Vec::new();
    for (value, n) in v {
        match merged.iter_mut().find(|(k, _)| *k == value) {
            Some((_, m)) => *m += n,
            None => merged.push((value, n)),
        }
    }
    merged.retain(|(_, n)| *n > 0);
    merged.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    merged
        .into_iter()
        .map(|(value, count)| FacetCount { value, count })
        .collect()
}

/// Facet counts over what `viewer` may see under `f`.
pub fn facets(conn: &mut DbConn, viewer: &Viewer, f: &Filters) -> Result<Facets, ApiError> {
    let backend = Backend::of(conn);
    type Group = (String, String, OrganisationKind, Option<PartnerType>, i64);
    let groups: Vec<Group> = organisations::table
        .filter(filter::<organisations::table>(backend, viewer, f))
        .group_by((
            organisations::region,
            organisations::country,
            organisations::kind,
            organisations::partner_type,
        ))
        .select((
            organisations::region,
            organisations::country,
            organisations::kind,
            organisations::partner_type,
            count_star(),
        ))
        .load(conn)?;
    // Tags are profile fields: counted only where the caller may see the profile.
    let tags: Vec<(String, String, i64)> = organisation_tags::table
        .inner_join(organisations::table)
        .filter(filter::<TagsJoin>(backend, viewer, f))
        .filter(visibility::profile_visible_to::<TagsJoin>(viewer))
        .group_by((organisation_tags::kind, organisation_tags::code))
        .select((
            organisation_tags::kind,
            organisation_tags::code,
            count_star(),
        ))
        .load(conn)?;
    let of_tag = |kind: &str| {
        counts(
            tags.iter()
                .filter(|(k, _, _)| k == kind)
                .map(|(_, code, n)| (code.clone(), *n)),
        )
    };
    Ok(Facets {
        total: groups.iter().map(|g| g.4).sum(),
        region: counts(groups.iter().map(|g| (g.0.clone(), g.4))),
        country: counts(groups.iter().map(|g| (g.1.clone(), g.4))),
        kind: counts(groups.iter().map(|g| (g.2.to_string(), g.4))),
        partner_type: counts(
            groups
                .iter()
                .filter_map(|g| g.3.map(|p| (p.to_string(), g.4))),
        ),
        focus_area: of_tag("focus_area"),
        pillar: of_tag("pillar"),
        language: of_tag("language"),
    })
}

/// One value of a facet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetCount {
    /// The code (region, country, kind, partner type, focus area, pillar or language).
    pub value: String,
    /// Organisations matching the filters with this value: what the list answers with this
    /// value added to the filters.
    pub count: i64,
}

/// Counts per facet for the organisations a caller may see under the given filters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Facets {
    /// Organisations matching the filters (exact).
    pub total: i64,
    /// Per region.
    pub region: Vec<FacetCount>,
    /// Per country.
    pub country: Vec<FacetCount>,
    /// Per kind.
    pub kind: Vec<FacetCount>,
    /// Per partner type (partners only).
    pub partner_type: Vec<FacetCount>,
    /// Per focus area (only organisations whose profile the caller may see).
    pub focus_area: Vec<FacetCount>,
    /// Per strategic pillar (only organisations whose profile the caller may see).
    pub pillar: Vec<FacetCount>,
    /// Per ISO 639-1 language (only organisations whose profile the caller may see).
    pub language: Vec<FacetCount>,
}

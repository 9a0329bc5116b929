//! Directory search: the query string, the SQL filter shared by the list, facets and CSV
//! export (visibility from `visibility`, never restated here), and keyset pagination.
//!
//! Visibility is part of the WHERE clause, never applied after the fact: a hidden
//! organisation is absent from counts, and a group the caller may not see (e.g. a
//! members-only description) never makes an organisation match a public search.

pub mod csv;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use serde::Serialize;
use utoipa::ToSchema;

use super::membership::MembershipStatus;
use super::organisation::{Organisation, OrganisationKind, OrganisationRow};
use super::visibility::{self, Viewer};
use crate::codes;
use crate::db::DbConn;
use crate::db::backend::like_pattern;
use crate::db::schema::organisations;
use crate::error::{ApiError, FieldError};
use crate::pagination;

type Filter = visibility::Condition<organisations::table>;

/// Sort keys of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// By name, then id.
    Name,
    /// By joined_on, then id.
    JoinedOn,
    /// By updated_at, then id.
    UpdatedAt,
}

impl Sort {
    fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::JoinedOn => "joined_on",
            Sort::UpdatedAt => "updated_at",
        }
    }
}

/// The filters of list, facets and export.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Case-insensitive text in name, acronym or description.
    pub q: Option<String>,
    /// member or partner.
    pub kind: Option<OrganisationKind>,
    /// Region code.
    pub region: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Any of these focus areas.
    pub focus_areas: Vec<String>,
    /// ISO 639-1 code.
    pub language: Option<String>,
    /// Staff only.
    pub membership_status: Option<MembershipStatus>,
    /// A full org-id identifier (`GB-CHC-1234567`).
    pub identifier: Option<String>,
}

/// A parsed list query.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Filters.
    pub filters: Filters,
    /// Sort key.
    pub sort: Sort,
    /// Descending when the sort had a leading `-`.
    pub desc: bool,
    /// Page size.
    pub limit: i64,
    /// Cursor of the previous page.
    pub cursor: Option<String>,
}

/// Which parameters an endpoint takes besides the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The paginated list: sort, limit, cursor.
    List,
    /// The CSV export: sort.
    Export,
    /// Facet counts: filters only.
    Facets,
}

/// Parses a query string; repeated `focus_area` is allowed, unknown or repeated other
/// parameters are 400 naming the parameter. `membership_status` is 403 for non-staff.
pub fn parse_query(raw: &str, viewer: &Viewer, endpoint: Endpoint) -> Result<ListQuery, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|_| ApiError::field("query", "invalid", "The query string is malformed."))?;
    let mut f = Filters::default();
    let mut sort = None;
    let mut limit = None;
    let mut cursor = None;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in pairs {
        if k != "focus_area" {
            if seen.contains(&k) {
                errors.push(FieldError::new(
                    k.clone(),
                    "repeated",
                    format!("`{k}` may appear once."),
                ));
                continue;
            }
            seen.push(k.clone());
        }
        let bad = |code: &str, msg: String| FieldError::new(k.clone(), code, msg);
        match k.as_str() {
            "q" => {
                let t = v.trim().to_string();
                if t.chars().count() > 200 {
                    errors.push(bad(
                        "invalid_length",
                        "Search at most 200 characters.".into(),
                    ));
                } else if !t.is_empty() {
                    f.q = Some(t);
                }
            }
            "kind" => {
                if let Some(k) = OrganisationKind::parse(&v) {
                    f.kind = Some(k);
                } else {
                    errors.push(bad("invalid", "Use member or partner.".into()));
                }
            }
            "region" => {
                if codes::is_region(&v) {
                    f.region = Some(v);
                } else {
                    errors.push(bad(
                        "unknown_code",
                        format!("Use one of: {}.", codes::REGIONS.join(", ")),
                    ));
                }
            }
            "country" => {
                if codes::is_country(&v) {
                    f.country = Some(v);
                } else {
                    errors.push(bad(
                        "unknown_code",
                        "Use an ISO 3166-1 alpha-2 code such as GB.".into(),
                    ));
                }
            }
            "focus_area" => {
                if codes::PRIORITY_AREAS.contains(&v.as_str()) {
                    if !f.focus_areas.contains(&v) {
                        f.focus_areas.push(v);
                    }
                } else {
                    errors.push(bad(
                        "unknown_code",
                        format!("Use one of: {}.", codes::PRIORITY_AREAS.join(", ")),
                    ));
                }
            }
            "language" => {
                if codes::is_language(&v) {
                    f.language = Some(v);
                } else {
                    errors.push(bad(
                        "unknown_code",
                        "Use an ISO 639-1 code such as en.".into(),
                    ));
                }
            }
            "membership_status" => {
                if !viewer.is_staff() {
                    return Err(ApiError::Forbidden(
                        "Only staff may filter by membership_status.".into(),
                    ));
                }
                if let Some(s) = MembershipStatus::parse(&v) {
                    f.membership_status = Some(s);
                } else {
                    errors.push(bad(
                        "invalid",
                        "Use active, grace, lapsed, suspended or withdrawn.".into(),
                    ));
                }
            }
            "identifier" => match super::identifiers::parse_filter(&v) {
                Ok(id) => f.identifier = Some(id),
                Err(e) => errors.push(e),
            },
            "sort" if endpoint != Endpoint::Facets => {
                let (desc, key) = match v.strip_prefix('-') {
                    Some(k) => (true, k),
                    None => (false, v.as_str()),
                };
                let s = match key {
                    "name" => Some(Sort::Name),
                    "joined_on" => Some(Sort::JoinedOn),
                    "updated_at" => Some(Sort::UpdatedAt),
                    _ => None,
                };
                match s {
                    Some(s) => sort = Some((s, desc)),
                    None => errors.push(bad(
                        "invalid",
                        "Use name, joined_on or updated_at, with a leading - for descending."
                            .into(),
                    )),
                }
            }
            "limit" if endpoint == Endpoint::List => match v.parse::<i64>() {
                Ok(n) => limit = Some(n),
                Err(_) => errors.push(bad("invalid", "limit is a number from 1 to 100.".into())),
            },
            "cursor" if endpoint == Endpoint::List => cursor = Some(v),
            _ => errors.push(bad(
                "unknown_parameter",
                format!("`{k}` is not a parameter of this endpoint."),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (sort, desc) = sort.unwrap_or((Sort::Name, false));
    Ok(ListQuery {
        filters: f,
        sort,
        desc,
        limit: pagination::limit(limit)?,
        cursor,
    })
}

fn tagged(kind: &'static str, codes: Vec<String>) -> Filter {
    // One IN (subquery) per code, ORed: a raw fragment because diesel's boxed subselects do
    // not compile for the two-backend connection. `kind` is a fixed literal; codes are bound.
    let mut any: Option<Filter> = None;
    for c in codes {
        let e: Filter = Box::new(
            sql::<Bool>(&format!(
                "organisations.id IN (SELECT organisation_tags.organisation_id FROM organisation_tags \
                 WHERE organisation_tags.kind = '{kind}' AND organisation_tags.code = "
            ))
            .bind::<Text, _>(c)
            .sql(")"),
        );
        any = Some(match any {
            None => e,
            Some(prev) => Box::new(prev.or(e)),
        });
    }
    any.unwrap_or_else(|| Box::new(organisations::id.is_not_null()))
}

/// The WHERE clause for `viewer` and `f`.
pub fn filter(viewer: &Viewer, f: &Filters) -> Filter {
    let mut w: Filter = visibility::visible_to(viewer);
    if let Some(q) = &f.q {
        let pat = like_pattern(q);
        // lower(x) LIKE pattern ESCAPE '\': case-insensitive and portable (no ILIKE).
        let text = sql::<Bool>("(lower(organisations.name) LIKE ")
            .bind::<Text, _>(pat.clone())
            .sql(" ESCAPE '\\' OR lower(COALESCE(organisations.acronym, '')) LIKE ")
            .bind::<Text, _>(pat.clone())
            .sql(" ESCAPE '\\')");
        let desc = sql::<Bool>("lower(COALESCE(organisations.description, '')) LIKE ")
            .bind::<Text, _>(pat)
            .sql(" ESCAPE '\\'");
        let desc_visible = visibility::profile_visible_to(viewer);
        w = Box::new(w.and(text.or(desc_visible.and(desc))));
    }
    if let Some(k) = &f.kind {
        w = Box::new(w.and(organisations::kind.eq(*k)));
    }
    if let Some(r) = &f.region {
        w = Box::new(w.and(organisations::region.eq(r.clone())));
    }
    if let Some(c) = &f.country {
        w = Box::new(w.and(organisations::country.eq(c.clone())));
    }
    if !f.focus_areas.is_empty() {
        w = Box::new(
            w.and(tagged("focus_area", f.focus_areas.clone()))
                .and(visibility::profile_visible_to(viewer)),
        );
    }
    if let Some(l) = &f.language {
        w = Box::new(
            w.and(tagged("language", vec![l.clone()]))
                .and(visibility::profile_visible_to(viewer)),
        );
    }
    if let Some(id) = &f.identifier {
        // Identifiers are shown to whoever sees the organisation, so no visibility test here.
        w = Box::new(
            w.and(
                sql::<Bool>(
                    "organisations.id IN (SELECT organisation_identifiers.organisation_id \
                     FROM organisation_identifiers WHERE organisation_identifiers.identifier = ",
                )
                .bind::<Text, _>(id.clone())
                .sql(")"),
            ),
        );
    }
    if let Some(s) = &f.membership_status {
        w = Box::new(w.and(organisations::membership_status.eq(*s).assume_not_null()));
    }
    w
}

fn bad_cursor() -> ApiError {
    ApiError::field("cursor", "invalid", "cursor is not one this API issued.")
}

fn keyset(sort: Sort, desc: bool, key: &str, id: String) -> Result<Filter, ApiError> {
    macro_rules! after {
        ($col:expr, $v:expr) => {
            if desc {
                Box::new($col.lt($v).or($col.eq($v).and(organisations::id.lt(id))))
            } else {
                Box::new($col.gt($v).or($col.eq($v).and(organisations::id.gt(id))))
            }
        };
    }
    Ok(match sort {
        Sort::Name => after!(organisations::name, key.to_string()),
        Sort::JoinedOn => {
            let d = NaiveDate::parse_from_str(key, "%Y-%m-%d").map_err(|_| bad_cursor())?;
            after!(organisations::joined_on, d)
        }
        Sort::UpdatedAt => {
            let t = NaiveDateTime::parse_from_str(key, "%Y-%m-%dT%H:%M:%S%.f")
                .map_err(|_| bad_cursor())?;
            after!(organisations::updated_at, t)
        }
    })
}

fn sort_key(sort: Sort, r: &OrganisationRow) -> String {
    match sort {
        Sort::Name => r.name.clone(),
        Sort::JoinedOn => r.joined_on.to_string(),
        Sort::UpdatedAt => r.updated_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
    }
}

/// One page of rows for `viewer`, with the cursor of the next and (when asked) the total.
pub fn page(
    conn: &mut DbConn,
    viewer: &Viewer,
    q: &ListQuery,
    with_total: bool,
) -> Result<(Vec<OrganisationRow>, Option<String>, i64), ApiError> {
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .filter(filter(viewer, &q.filters))
        .limit(q.limit + 1)
        .into_boxed();
    // The cursor carries the sort it was made for, so a cursor reused with another sort is
    // refused instead of silently skipping rows.
    if let Some(c) = pagination::decode_cursor(q.cursor.as_deref(), 3)? {
        let [s, key, id] = [c[0].clone(), c[1].clone(), c[2].clone()];
        let expected = format!("{}{}", if q.desc { "-" } else { "" }, q.sort.as_str());
        if s != expected {
            return Err(bad_cursor());
        }
        query = query.filter(keyset(q.sort, q.desc, &key, id)?);
    }
    query = match (q.sort, q.desc) {
        (Sort::Name, false) => query.order((organisations::name.asc(), organisations::id.asc())),
        (Sort::Name, true) => query.order((organisations::name.desc(), organisations::id.desc())),
        (Sort::JoinedOn, false) => {
            query.order((organisations::joined_on.asc(), organisations::id.asc()))
        }
        (Sort::JoinedOn, true) => {
            query.order((organisations::joined_on.desc(), organisations::id.desc()))
        }
        (Sort::UpdatedAt, false) => {
            query.order((organisations::updated_at.asc(), organisations::id.asc()))
        }
        (Sort::UpdatedAt, true) => {
            query.order((organisations::updated_at.desc(), organisations::id.desc()))
        }
    };
    let mut rows: Vec<OrganisationRow> = query.load(conn)?;
    let total = if with_total {
        organisations::table
            .filter(filter(viewer, &q.filters))
            .count()
            .get_result(conn)?
    } else {
        0
    };
    let next = if rows.len() as i64 > q.limit {
        rows.truncate(q.limit as usize);
        rows.last().map(|r| {
            let s = format!("{}{}", if q.desc { "-" } else { "" }, q.sort.as_str());
            pagination::encode_cursor(&[&s, &sort_key(q.sort, r), &r.id])
        })
    } else {
        None
    };
    Ok((rows, next, total))
}

/// The list answer.
pub fn list(
    conn: &mut DbConn,
    viewer: &Viewer,
    q: &ListQuery,
) -> Result<pagination::Page<Organisation>, ApiError> {
    let (rows, next_cursor, total) = page(conn, viewer, q, true)?;
    Ok(pagination::Page {
        data: rows
            .into_iter()
            .map(|r| {
                let groups = viewer.field_groups(&r);
                Organisation::view(r, groups)
            })
            .collect(),
        next_cursor,
        total,
    })
}

fn counts(mut v: Vec<(String, i64)>) -> Vec<FacetCount> {
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.into_iter()
        .map(|(value, count)| FacetCount { value, count })
        .collect()
}

/// Facet counts over what `viewer` may see under `f`.
pub fn facets(conn: &mut DbConn, viewer: &Viewer, f: &Filters) -> Result<Facets, ApiError> {
    let total: i64 = organisations::table
        .filter(filter(viewer, f))
        .count()
        .get_result(conn)?;
    let region: Vec<(String, i64)> = organisations::table
        .filter(filter(viewer, f))
        .group_by(organisations::region)
        .select((organisations::region, count_star()))
        .load(conn)?;
    let country: Vec<(String, i64)> = organisations::table
        .filter(filter(viewer, f))
        .group_by(organisations::country)
        .select((organisations::country, count_star()))
        .load(conn)?;
    let kind: Vec<(OrganisationKind, i64)> = organisations::table
        .filter(filter(viewer, f))
        .group_by(organisations::kind)
        .select((organisations::kind, count_star()))
        .load(conn)?;
    let kind = kind.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    // Focus areas count only organisations whose profile group the caller may see; there
    // are five, so five indexed counts.
    let mut focus_area: Vec<(String, i64)> = Vec::new();
    for code in codes::PRIORITY_AREAS {
        let n: i64 = organisations::table
            .filter(filter(viewer, f))
            .filter(visibility::profile_visible_to(viewer))
            .filter(tagged("focus_area", vec![code.to_string()]))
            .count()
            .get_result(conn)?;
        if n > 0 {
            focus_area.push((code.to_string(), n));
        }
    }
    Ok(Facets {
        total,
        region: counts(region),
        country: counts(country),
        focus_area: counts(focus_area),
        kind: counts(kind),
    })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_staff_only_parameters_are_refused() {
        let e = parse_query("colour=red", &Viewer::Public, Endpoint::List).unwrap_err();
        assert!(matches!(e, ApiError::Validation(v) if v[0].field == "colour"));
        let e =
            parse_query("membership_status=active", &Viewer::Public, Endpoint::List).unwrap_err();
        assert!(matches!(e, ApiError::Forbidden(_)));
        let q = parse_query(
            "focus_area=women_drug_policy&focus_area=civil_society_space&sort=-name",
            &Viewer::Public,
            Endpoint::List,
        )
        .unwrap();
        assert_eq!(q.filters.focus_areas.len(), 2);
        assert!(q.desc);
        let e = parse_query("limit=101", &Viewer::Public, Endpoint::List).unwrap_err();
        assert!(matches!(e, ApiError::Validation(v) if v[0].field == "limit"));
    }
}

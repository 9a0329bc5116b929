//! Directory search: the SQL filter shared by the list, facets and CSV export (visibility
//! from `visibility`, never restated here), relevance and keyset pagination, and the capped
//! total. Text is matched against each organisation's search document (`document`).
//!
//! Visibility is part of the WHERE clause, never applied after the fact: a hidden
//! organisation is absent from counts, and a group the caller may not see (e.g. a
//! members-only description) never makes an organisation match a search.

pub mod csv;
pub mod document;
pub mod facets;
pub mod query;
pub mod text;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{case_when, sql};
use diesel::expression::{BoxableExpression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text};
use serde::Serialize;
use utoipa::ToSchema;

pub use document::Backend;
pub use facets::{FacetCount, Facets, facets};
pub use query::{Endpoint, Filters, ListQuery, Sort, parse_query};

use super::organisation::{Organisation, OrganisationRow};
use super::visibility::{self, Condition, Viewer};
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::error::ApiError;
use crate::pagination;

type Db = <DbConn as diesel::Connection>::Backend;
type Filter = Condition<organisations::table>;

/// `total` is counted exactly up to this many rows; beyond, it says this many and
/// `total_is_exact` is false.
pub const TOTAL_CAP: i64 = 1_000;

/// Rows of `organisations` carrying any of `codes` as tags of `kind`. One IN (subquery) per
/// code, ORed: a raw fragment because diesel's boxed subselects do not compile for the
/// two-backend connection. `kind` is a fixed literal; codes are bound. With `no_index`
/// (SQLite, when the text match is to drive the query) the test is written `+organisations.id`,
/// SQLite's way of saying "do not drive the query from this index" (see [`filter`]).
pub fn tagged<QS: 'static>(kind: &'static str, codes: &[String], no_index: bool) -> Condition<QS> {
    let mut any: Option<Condition<QS>> = None;
    let column = if no_index {
        "+organisations.id"
    } else {
        "organisations.id"
    };
    for c in codes {
        let e: Condition<QS> = Box::new(
            sql::<Bool>(&format!(
                "{column} IN (SELECT organisation_tags.organisation_id FROM organisation_tags \
                 WHERE organisation_tags.kind = '{kind}' AND organisation_tags.code = "
            ))
            .bind::<Text, _>(c.clone())
            .sql(")"),
        );
        any = Some(match any {
            None => e,
            Some(prev) => Box::new(prev.or(e)),
        });
    }
    any.unwrap_or_else(|| Box::new(sql::<Bool>("1 = 1")))
}

/// The WHERE clause for `viewer` and `f`, on any query whose FROM clause includes
/// `organisations` (the list, and the facets' join with the tags).
pub fn filter<QS>(backend: Backend, viewer: &Viewer, f: &Filters) -> Condition<QS>
where
    QS: 'static,
    organisations::id: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::kind: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::region: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::country: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::membership_status: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::hidden_from_public: SelectableExpression<QS> + ValidGrouping<()>,
    organisations::visibility_profile: SelectableExpression<QS> + ValidGrouping<()>,
{
    let mut w: Condition<QS> = visibility::findable_by(viewer);
    // Every word must be found: in the name or acronym, or in the profile's words where the
    // caller may see the profile.
    let terms = f.terms();
    // On SQLite, a search with words is driven from the text indexes (FTS5: a few thousand
    // candidates at most) and the region and tag filters are tested on those candidates.
    // Left to itself the planner drives from the tag or region index instead (20,000 and
    // 12,500 rows at 100,000 organisations) and probes each for the text: 2-3 times slower
    // (bench/results/directory.md). PostgreSQL combines the indexes in one bitmap scan.
    let text_drives = backend == Backend::Sqlite && !terms.is_empty();
    if f.q.is_some() && terms.is_empty() {
        w = Box::new(w.and(sql::<Bool>("1 = 0")));
    }
    for t in terms {
        let profile = visibility::profile_visible_to::<QS>(viewer)
            .and(document::profile_has::<QS>(backend, &t));
        w = Box::new(w.and(document::name_has::<QS>(backend, &t).or(profile)));
    }
    // Tags belong to the profile group: they filter only where the caller may see it.
    let tag_filters = tag_filters(f);
    if backend == Backend::Pg {
        // One GIN index scan over the filter tokens answers every filter at once, combined
        // by the planner with the text indexes (migration 000800). Focus areas match any of
        // those asked for; every other filter must hold.
        let (all, any) = filter_tokens(f, &tag_filters);
        if !all.is_empty() || !any.is_empty() {
            w = Box::new(w.and(document::filters::<QS>(&all, &any)));
        }
    } else {
        if let Some(k) = &f.kind {
            w = Box::new(w.and(organisations::kind.eq(*k)));
        }
        if let Some(p) = &f.partner_type {
            w = Box::new(
                w.and(sql::<Bool>("organisations.partner_type = ").bind::<Text, _>(p.as_str())),
            );
        }
        if let Some(r) = &f.region {
            w = if text_drives {
                Box::new(w.and(sql::<Bool>("+organisations.region = ").bind::<Text, _>(r.clone())))
            } else {
                Box::new(w.and(organisations::region.eq(r.clone())))
            };
        }
        if let Some(c) = &f.country {
            w = Box::new(w.and(organisations::country.eq(c.clone())));
        }
        for (kind, codes) in &tag_filters {
            if !codes.is_empty() {
                w = Box::new(w.and(tagged::<QS>(kind, codes, text_drives)));
            }
        }
    }
    if tag_filters.iter().any(|(_, codes)| !codes.is_empty()) {
        w = Box::new(w.and(visibility::profile_visible_to::<QS>(viewer)));
    }
    if let Some(id) = &f.identifier {
        // Identifiers are shown to whoever sees the organisation, so no visibility test here.
        w = Box::new(w.and(identified_as::<QS>(id)));
    }
    if let Some(s) = &f.membership_status {
        w = Box::new(
            w.and(sql::<Bool>("organisations.membership_status = ").bind::<Text, _>(s.as_str())),
        );
    }
    w
}

/// The tag filters of `f`, by tag kind.
fn tag_filters(f: &Filters) -> [(&'static str, Vec<String>); 3] {
    [
        ("focus_area", f.focus_areas.clone()),
        ("pillar", f.pillar.iter().cloned().collect()),
        ("language", f.language.iter().cloned().collect()),
    ]
}

/// The filter tokens of `f` for PostgreSQL's one GIN index: those every row must carry, and
/// the focus areas, of which a row must carry one.
fn filter_tokens(f: &Filters, tag_filters: &[(&str, Vec<String>)]) -> (Vec<String>, Vec<String>) {
    let mut all: Vec<String> = Vec::new();
    let mut any: Vec<String> = Vec::new();
    all.extend(f.kind.map(|k| document::token("kind", k.as_str())));
    all.extend(
        f.partner_type
            .map(|p| document::token("partner_type", p.as_str())),
    );
    all.extend(f.region.as_deref().map(|r| document::token("region", r)));
    all.extend(f.country.as_deref().map(|c| document::token("country", c)));
    for (kind, codes) in tag_filters {
        let tokens = codes.iter().map(|c| document::token(kind, c));
        if *kind == "focus_area" {
            any.extend(tokens);
        } else {
            all.extend(tokens);
        }
    }
    (all, any)
}

/// Rows of `organisations` carrying the org-id identifier `id`.
fn identified_as<QS: 'static>(id: &str) -> Condition<QS> {
    Box::new(
        sql::<Bool>(
            "organisations.id IN (SELECT organisation_identifiers.organisation_id \
             FROM organisation_identifiers WHERE organisation_identifiers.identifier = ",
        )
        .bind::<Text, _>(id.to_string())
        .sql(")"),
    )
}

type Tier = Box<dyn BoxableExpression<organisations::table, Db, SqlType = Integer>>;

/// The relevance tier of a row as SQL: 0 when every word is in its name or acronym, else 1
/// (it matched through its profile). [`document::name_tier`] is the same test in Rust.
fn tier(backend: Backend, terms: &[String]) -> Tier {
    let mut all: Filter = Box::new(sql::<Bool>("1 = 1"));
    for t in terms {
        all = Box::new(all.and(document::name_has::<organisations::table>(backend, t)));
    }
    Box::new(case_when(all, 0.into_sql::<Integer>()).otherwise(1.into_sql::<Integer>()))
}

fn bad_cursor() -> ApiError {
    ApiError::field("cursor", "invalid", "cursor is not one this API issued.")
}

fn keyset(
    backend: Backend,
    q: &ListQuery,
    tier_key: &str,
    key: &str,
    id: String,
) -> Result<Filter, ApiError> {
    let desc = q.desc;
    macro_rules! after {
        ($col:expr, $v:expr) => {{
            let f: Filter = if desc {
                Box::new($col.lt($v).or($col.eq($v).and(organisations::id.lt(id))))
            } else {
                Box::new($col.gt($v).or($col.eq($v).and(organisations::id.gt(id))))
            };
            f
        }};
    }
    Ok(match q.sort {
        Sort::Relevance => {
            let t: i32 = tier_key.parse().map_err(|_| bad_cursor())?;
            let terms = q.filters.terms();
            let within: Filter = after!(organisations::name, key.to_string());
            Box::new(
                tier(backend, &terms)
                    .gt(t)
                    .or(tier(backend, &terms).eq(t).and(within)),
            )
        }
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
        Sort::Relevance | Sort::Name => r.name.clone(),
        Sort::JoinedOn => r.joined_on.to_string(),
        Sort::UpdatedAt => r.updated_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
    }
}

/// The total of a list: exact up to [`TOTAL_CAP`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// Rows matching, or [`TOTAL_CAP`] when more do.
    pub count: i64,
    /// False when more than [`TOTAL_CAP`] rows match.
    pub exact: bool,
}

/// Counts the rows `viewer` may see under `f`, stopping after [`TOTAL_CAP`] + 1: the cost is
/// bounded whatever the filter leaves.
pub fn capped_total(conn: &mut DbConn, viewer: &Viewer, f: &Filters) -> Result<Total, ApiError> {
    let backend = Backend::of(conn);
    let ids: Vec<String> = organisations::table
        .filter(filter::<organisations::table>(backend, viewer, f))
        .select(organisations::id)
        .limit(TOTAL_CAP + 1)
        .load(conn)?;
    let n = ids.len() as i64;
    Ok(Total {
        count: n.min(TOTAL_CAP),
        exact: n <= TOTAL_CAP,
    })
}

/// A page of rows, the cursor of the next, and (on the first page of a relevance sort) the
/// number of rows matching.
pub type Page = (Vec<OrganisationRow>, Option<String>, Option<i64>);

/// One page of rows for `viewer`, with the cursor of the next and, on the first page of a
/// relevance sort, the number of rows matching. A cursor made for other filters or another
/// sort is a 400 naming `cursor`.
pub fn page(conn: &mut DbConn, viewer: &Viewer, q: &ListQuery) -> Result<Page, ApiError> {
    let backend = Backend::of(conn);
    let terms = q.filters.terms();
    let fingerprint = q.fingerprint();
    let next_cursor = |r: &OrganisationRow| {
        let tier_key = match q.sort {
            Sort::Relevance => document::name_tier(r, &terms).to_string(),
            _ => "0".to_string(),
        };
        pagination::encode_cursor(&[&fingerprint, &tier_key, &sort_key(q.sort, r), &r.id])
    };
    if q.sort == Sort::Relevance && q.cursor.is_none() {
        // Ranking reads every candidate to sort them, so the same scan counts them: the total
        // costs no second query.
        let loaded: Vec<(OrganisationRow, i64)> = organisations::table
            .select((
                OrganisationRow::as_select(),
                sql::<BigInt>("count(*) OVER ()"),
            ))
            .filter(filter::<organisations::table>(backend, viewer, &q.filters))
            .order((
                tier(backend, &terms).asc(),
                organisations::name.asc(),
                organisations::id.asc(),
            ))
            .limit(q.limit + 1)
            .load(conn)?;
        let matching = loaded.first().map_or(0, |r| r.1);
        let mut rows: Vec<OrganisationRow> = loaded.into_iter().map(|r| r.0).collect();
        let next = pagination::next_page(&mut rows, q.limit, next_cursor);
        return Ok((rows, next, Some(matching)));
    }
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .filter(filter::<organisations::table>(backend, viewer, &q.filters))
        .limit(q.limit + 1)
        .into_boxed();
    if let Some(c) = pagination::decode_cursor(q.cursor.as_deref(), 4)? {
        let [fp, tier_key, key, id] = [c[0].clone(), c[1].clone(), c[2].clone(), c[3].clone()];
        if fp != fingerprint {
            return Err(ApiError::field(
                "cursor",
                "mismatch",
                "This cursor belongs to other filters or another sort; repeat the query it \
                 came from, or drop the cursor to start again.",
            ));
        }
        query = query.filter(keyset(backend, q, &tier_key, &key, id)?);
    }
    query = match (q.sort, q.desc) {
        (Sort::Relevance, _) => query.order((
            tier(backend, &terms).asc(),
            organisations::name.asc(),
            organisations::id.asc(),
        )),
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
    let next = pagination::next_page(&mut rows, q.limit, next_cursor);
    Ok((rows, next, None))
}

/// A page of the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationPage {
    /// The organisations of this page, as the caller may see them.
    pub data: Vec<Organisation>,
    /// Cursor for the next page, or null on the last page. It is bound to the filters and
    /// sort of this query: sent with others, it is a 400 naming `cursor`.
    pub next_cursor: Option<String>,
    /// Organisations matching the filters, across all pages, counted up to 1,000: when more
    /// match, 1,000 with `total_is_exact` false.
    #[schema(maximum = 1000)]
    pub total: i64,
    /// False when more organisations match than `total` says (it stopped counting at 1,000).
    pub total_is_exact: bool,
}

/// The list answer.
pub fn list(
    conn: &mut DbConn,
    viewer: &Viewer,
    q: &ListQuery,
) -> Result<OrganisationPage, ApiError> {
    let (rows, next_cursor, matching) = page(conn, viewer, q)?;
    // A first page shorter than the limit is the whole result, and a ranked first page has
    // counted its candidates: no second query for either.
    let total = match matching {
        Some(n) => Total {
            count: n.min(TOTAL_CAP),
            exact: n <= TOTAL_CAP,
        },
        None if q.cursor.is_none() && next_cursor.is_none() => Total {
            count: rows.len() as i64,
            exact: true,
        },
        None => capped_total(conn, viewer, &q.filters)?,
    };
    Ok(OrganisationPage {
        data: rows
            .into_iter()
            .map(|r| {
                let groups = viewer.field_groups(&r);
                Organisation::view(r, groups)
            })
            .collect(),
        next_cursor,
        total: total.count,
        total_is_exact: total.exact,
    })
}

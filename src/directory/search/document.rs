//! The search document of an organisation (on PostgreSQL two columns of its row, on SQLite
//! a row of `organisation_search` with its FTS5 indexes): written in the transaction of every
//! write that changes what it covers (create, PATCH, application approval, demo data all go through
//! `organisation::insert_in` or `organisation::update`), and the SQL that matches a query
//! term against it. Backend-specific by necessity (tsvector + trigram on PostgreSQL, FTS5 on
//! SQLite), each statement behind one function with a branch per backend.
//!
//! It never decides visibility: the profile words are matched only under
//! `visibility::profile_visible_to`, by the caller of [`profile_has`].

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::text::fold;
use crate::db::DbConn;
use crate::db::backend::like_pattern;
use crate::directory::organisation::OrganisationRow;
use crate::directory::visibility::Condition;

/// Which SQL dialect a query is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL: tsvector + pg_trgm.
    Pg,
    /// SQLite: FTS5 (trigram and unicode61).
    Sqlite,
}

impl Backend {
    /// The dialect of `conn`.
    pub fn of(conn: &DbConn) -> Backend {
        match conn {
            DbConn::Pg(_) => Backend::Pg,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// The folded name words of `row`: its name and acronym.
pub fn name_text(row: &OrganisationRow) -> String {
    fold(&format!(
        "{} {}",
        row.name,
        row.acronym.as_deref().unwrap_or_default()
    ))
}

/// The folded profile words of `row`: city and description in every language (the profile
/// group).
pub fn profile_text(row: &OrganisationRow) -> String {
    fold(&format!(
        "{} {}",
        row.city.as_deref().unwrap_or_default(),
        crate::directory::organisation::descriptions::all_text(
            row.description.as_deref(),
            &row.languages
        )
    ))
}

/// One filter token: `<filter>:<code>` (`region:africa`; see migration 000800). Both the
/// tokens an organisation carries ([`filter_tokens`]) and those a search asks for
/// (`search::filter`) are written by this function.
pub fn token(filter: &str, code: &str) -> String {
    format!("{filter}:{code}")
}

/// The filter tokens of `row`: on PostgreSQL one GIN-indexed array answers every filter of a
/// search at once ([`filters`]).
pub fn filter_tokens(row: &OrganisationRow) -> Vec<String> {
    use crate::directory::organisation::json_list;
    let mut tokens = vec![
        token("region", &row.region),
        token("country", &row.country),
        token("kind", row.kind.as_str()),
    ];
    if let Some(p) = row.partner_type {
        tokens.push(token("partner_type", p.as_str()));
    }
    for (kind, list) in [
        ("focus_area", &row.focus_areas),
        ("language", &row.languages),
        ("pillar", &row.pillars),
    ] {
        tokens.extend(json_list(list).iter().map(|c| token(kind, c)));
    }
    tokens
}

/// `tokens` as a PostgreSQL array literal (`{"region:africa","kind:member"}`), each element
/// quoted with `"` and `\` escaped, so no code can break out of its element.
fn array_literal(tokens: &[String]) -> String {
    let quoted: Vec<String> = tokens
        .iter()
        .map(|t| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// On PostgreSQL, organisations whose filter tokens hold every one of `all` and, when `any`
/// is not empty, at least one of `any`: one GIN index scan (see migration 000800).
pub fn filters<QS: 'static>(all: &[String], any: &[String]) -> Condition<QS> {
    let mut c: Condition<QS> = Box::new(
        sql::<Bool>("organisations.search_filters @> CAST(")
            .bind::<Text, _>(array_literal(all))
            .sql(" AS TEXT[])"),
    );
    if !any.is_empty() {
        c = Box::new(
            c.and(
                sql::<Bool>("organisations.search_filters && CAST(")
                    .bind::<Text, _>(array_literal(any))
                    .sql(" AS TEXT[])"),
            ),
        );
    }
    c
}

/// True when a change from `before` to `after` changes the document: its words or its
/// filter tokens.
pub fn changed(before: &OrganisationRow, after: &OrganisationRow) -> bool {
    before.name != after.name
        || before.acronym != after.acronym
        || before.city != after.city
        || before.description != after.description
        || filter_tokens(before) != filter_tokens(after)
}

/// Writes (inserts or replaces) the document of `row`.
pub fn sync(conn: &mut DbConn, row: &OrganisationRow) -> QueryResult<()> {
    let (name, profile) = (name_text(row), profile_text(row));
    if let DbConn::Pg(_) = conn {
        // On the row itself: see migrations 000600 and 000800.
        return diesel::sql_query(
            "UPDATE organisations SET search_name = $2, \
             search_profile = to_tsvector('simple', unaccent($3)), \
             search_filters = CAST($4 AS TEXT[]) WHERE id = $1",
        )
        .bind::<Text, _>(&row.id)
        .bind::<Text, _>(name)
        .bind::<Text, _>(profile)
        .bind::<Text, _>(array_literal(&filter_tokens(row)))
        .execute(conn)
        .map(|_| ());
    }
    // SQLite: a row of organisation_search; the FTS5 tables follow through the triggers of
    // migration 000600.
    diesel::sql_query(
        "INSERT INTO organisation_search (organisation_id, name_norm, profile_text) \
         VALUES (?, ?, ?) \
         ON CONFLICT (organisation_id) DO UPDATE SET name_norm = excluded.name_norm, \
         profile_text = excluded.profile_text",
    )
    .bind::<Text, _>(&row.id)
    .bind::<Text, _>(name)
    .bind::<Text, _>(profile)
    .execute(conn)
    .map(|_| ())
}

/// Builds the documents of organisations that have none (rows written before migration
/// 000600), in batches; returns how many it wrote.
pub fn backfill(conn: &mut DbConn) -> QueryResult<usize> {
    use crate::db::schema::organisations;
    let missing = match conn {
        DbConn::Pg(_) => "organisations.search_name IS NULL",
        DbConn::Sqlite(_) => {
            "NOT EXISTS (SELECT 1 FROM organisation_search \
             WHERE organisation_search.organisation_id = organisations.id)"
        }
    };
    let mut written = 0;
    loop {
        let rows: Vec<OrganisationRow> = organisations::table
            .filter(sql::<Bool>(missing))
            .select(OrganisationRow::as_select())
            .order(organisations::id.asc())
            .limit(500)
            .load(conn)?;
        if rows.is_empty() {
            return Ok(written);
        }
        crate::db::write_tx(conn, |c| {
            for r in &rows {
                sync(c, r)?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
        written += rows.len();
    }
}

/// Organisations whose name or acronym contains the folded `term` (a substring: a word of a
/// Thai name is found inside it). Indexed by trigrams on both backends; SQLite's trigram
/// index needs three characters, so shorter terms are a LIKE over the document table.
pub fn name_has<QS: 'static>(backend: Backend, term: &str) -> Condition<QS> {
    const HEAD: &str = "organisations.id IN (SELECT organisation_search.organisation_id \
                        FROM organisation_search WHERE ";
    match backend {
        Backend::Pg => Box::new(
            sql::<Bool>("organisations.search_name LIKE ")
                .bind::<Text, _>(like_pattern(term))
                .sql(" ESCAPE '\\'"),
        ),
        Backend::Sqlite if term.chars().count() >= 3 => Box::new(
            sql::<Bool>(HEAD)
                .sql(
                    "organisation_search.doc_id IN (SELECT rowid FROM organisation_search_name \
                     WHERE organisation_search_name MATCH ",
                )
                .bind::<Text, _>(fts_phrase(term))
                .sql("))"),
        ),
        Backend::Sqlite => Box::new(
            sql::<Bool>(HEAD)
                .sql("organisation_search.name_norm LIKE ")
                .bind::<Text, _>(like_pattern(term))
                .sql(" ESCAPE '\\')"),
        ),
    }
}

/// Organisations whose profile words (city, description) have a word starting with the
/// folded `term`. The caller ANDs this with the profile group's visibility.
pub fn profile_has<QS: 'static>(backend: Backend, term: &str) -> Condition<QS> {
    match backend {
        Backend::Pg => Box::new(
            sql::<Bool>("organisations.search_profile @@ to_tsquery('simple', unaccent(")
                .bind::<Text, _>(format!("'{}':*", term.replace('\'', "''")))
                .sql("))"),
        ),
        Backend::Sqlite => Box::new(
            sql::<Bool>(
                "organisations.id IN (SELECT organisation_search.organisation_id \
                 FROM organisation_search WHERE organisation_search.doc_id IN \
                 (SELECT rowid FROM organisation_search_profile \
                 WHERE organisation_search_profile MATCH ",
            )
            .bind::<Text, _>(format!("{}*", fts_phrase(term)))
            .sql("))"),
        ),
    }
}

/// `term` as an FTS5 string (double quotes doubled), so no character of it is syntax.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// True when the folded `name_norm` of a row holds every term: the row ranks in the first
/// tier (name or acronym) of a relevance sort. The same test as [`name_has`], in Rust.
pub fn name_tier(row: &OrganisationRow, terms: &[String]) -> i32 {
    let name = name_text(row);
    if terms.iter().all(|t| name.contains(t.as_str())) {
        0
    } else {
        1
    }
}

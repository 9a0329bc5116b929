//! Old slugs of renamed organisations: a link made with a slug keeps working after the slug
//! changes (301 to the current one). A current slug always wins over an old one: when
//! another organisation takes a slug, its history row is removed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::organisation_slug_history as h;

/// Records that `row` left `old` for its current slug, inside the renaming transaction. An
/// organisation taking back an old slug of its own no longer redirects from it.
pub fn moved(
    conn: &mut DbConn,
    old: &str,
    row: &super::OrganisationRow,
    now: NaiveDateTime,
) -> QueryResult<()> {
    claimed(conn, &row.slug)?;
    diesel::delete(h::table.filter(h::slug.eq(old))).execute(conn)?;
    diesel::insert_into(h::table)
        .values((
            h::slug.eq(old),
            h::organisation_id.eq(&row.id),
            h::replaced_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Forgets `slug` as an old slug: it is somebody's current one now.
pub fn claimed(conn: &mut DbConn, slug: &str) -> QueryResult<()> {
    diesel::delete(h::table.filter(h::slug.eq(slug)))
        .execute(conn)
        .map(|_| ())
}

/// The organisation that once had `slug`, if any.
pub fn former_owner(conn: &mut DbConn, slug: &str) -> QueryResult<Option<String>> {
    h::table
        .filter(h::slug.eq(slug))
        .select(h::organisation_id)
        .first(conn)
        .optional()
}

//! Who hears of a grant's changes (grant officers, finance, the grantee's members) and the
//! facts every grant email shows. Each email kind's context is a struct beside the command
//! that sends it.

use diesel::prelude::*;
use serde::Serialize;

use super::grant::GrantRow;
use crate::auth::Role;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::users;
use crate::money;
use crate::notify::Recipient;

/// The stored status of a user who may receive mail (the identity domain's `active`).
const ACTIVE_USER: &str = "active";

fn recipients(rows: Vec<(String, String, String)>) -> Vec<Recipient> {
    rows.into_iter()
        .map(|(id, email, name)| Recipient {
            email,
            name,
            user_id: Some(id),
        })
        .collect()
}

/// Active users of a staff role.
pub fn staff(conn: &mut DbConn, role: Role) -> QueryResult<Vec<Recipient>> {
    let rows = users::table
        .filter(users::role.eq(role.as_str()))
        .filter(users::status.eq(ACTIVE_USER))
        .order(users::id.asc())
        .select((users::id, users::email, users::display_name))
        .load(conn)?;
    Ok(recipients(rows))
}

/// Active member users of an organisation.
pub fn grantee_members(conn: &mut DbConn, org: &str) -> QueryResult<Vec<Recipient>> {
    let rows = users::table
        .filter(users::role.eq(Role::Member.as_str()))
        .filter(users::status.eq(ACTIVE_USER))
        .filter(users::organisation_id.eq(org))
        .order(users::id.asc())
        .select((users::id, users::email, users::display_name))
        .load(conn)?;
    Ok(recipients(rows))
}

/// One active user.
pub fn user(conn: &mut DbConn, id: &str) -> QueryResult<Option<Recipient>> {
    let row: Option<(String, String, String)> = users::table
        .find(id)
        .filter(users::status.eq(ACTIVE_USER))
        .select((users::id, users::email, users::display_name))
        .first(conn)
        .optional()?;
    Ok(recipients(row.into_iter().collect()).pop())
}

/// What every grant email says of the grant.
#[derive(Debug, Clone, Serialize)]
pub struct GrantFacts {
    /// IDPC-YYYY-NNNN.
    pub grant_reference: String,
    /// Title.
    pub grant_title: String,
    /// The grantee's name.
    pub grantee_name: String,
    /// Link to the grant.
    pub link: String,
}

impl GrantFacts {
    /// The facts of `g`.
    pub fn of(conn: &mut DbConn, config: &Config, g: &GrantRow) -> Self {
        let grantee_name = super::access::organisation(conn, &g.grantee_organisation_id)
            .ok()
            .flatten()
            .map(|o| o.name)
            .unwrap_or_default();
        Self {
            grant_reference: g.reference.clone(),
            grant_title: g.title.clone(),
            grantee_name,
            link: format!("{}/grants/{}", config.public_base_url, g.id),
        }
    }
}

/// An amount as emails show it: `1250.00 EUR`.
pub fn amount(minor: i64, currency: &str) -> String {
    format!("{} {currency}", money::format(minor, currency))
}

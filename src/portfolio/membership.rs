//! `GET /api/v1/portfolio/membership`: the network's organisations per year, by region,
//! country or kind: how many joined (their `joined_on`), lapsed and withdrew (the date of the
//! audit event that moved them there) and were active at the year's end (joined by then and
//! not lapsed or withdrawn by then). Applicants are not counted; partners never lapse.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::codes::MembershipStatus;
use crate::db::DbConn;
use crate::db::schema::{audit_events, organisations};
use crate::error::ApiError;

crate::text_enum! {
    /// What the membership table is broken down by, besides the year.
    pub enum MembershipDimension {
        /// The organisation's region.
        Region = "region",
        /// The organisation's country.
        Country = "country",
        /// member or partner.
        Kind = "kind",
    }
}

/// How the membership table is cut.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MembershipParams {
    /// region (default), country or kind.
    pub group_by: Option<MembershipDimension>,
}

/// One year of one group.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MembershipRow {
    /// The calendar year.
    pub year: i32,
    /// The region, country or kind.
    pub key: String,
    /// Joined during the year.
    pub joined: i64,
    /// Lapsed during the year.
    pub lapsed: i64,
    /// Withdrew during the year.
    pub withdrawn: i64,
    /// Active (joined, neither lapsed nor withdrawn) on 31 December, or today for this year.
    pub active_at_year_end: i64,
}

/// The membership table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipTable {
    /// The dimension of `key`.
    pub group_by: MembershipDimension,
    /// Rows by year, then key (a table, not a paged list).
    pub rows: Vec<MembershipRow>,
    /// True when organisations hidden from the public count (staff only).
    pub includes_hidden_organisations: bool,
}

type Org = (
    String,
    String,
    String,
    String,
    NaiveDate,
    Option<MembershipStatus>,
    bool,
);

/// When each organisation last lapsed or withdrew, from the audit trail.
fn departures(conn: &mut DbConn) -> QueryResult<HashMap<String, (String, NaiveDateTime)>> {
    let rows: Vec<(String, String, NaiveDateTime)> = audit_events::table
        .filter(audit_events::entity_type.eq("organisation"))
        .filter(audit_events::action.eq_any(["membership.lapsed", "membership.withdrawn"]))
        .order(audit_events::occurred_at.asc())
        .select((
            audit_events::entity_id,
            audit_events::action,
            audit_events::occurred_at,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, a, at)| (id, (a, at))).collect())
}

/// The table for `who` (hidden organisations count for staff only), up to `today`.
pub fn read(
    conn: &mut DbConn,
    who: Option<&Principal>,
    p: &MembershipParams,
    today: NaiveDate,
) -> Result<MembershipTable, ApiError> {
    let hidden = super::aggregate::sees_hidden(who);
    let dim = p.group_by.unwrap_or(MembershipDimension::Region);
    let mut q = organisations::table
        .select((
            organisations::id,
            organisations::kind,
            organisations::region,
            organisations::country,
            organisations::joined_on,
            organisations::membership_status,
            organisations::hidden_from_public,
        ))
        .into_boxed();
    if !hidden {
        q = q.filter(organisations::hidden_from_public.eq(false));
    }
    let orgs: Vec<Org> = q.load(conn)?;
    let gone = departures(conn)?;
    let mut table: BTreeMap<(i32, String), MembershipRow> = BTreeMap::new();
    let first = orgs
        .iter()
        .map(|o| o.4.year())
        .min()
        .unwrap_or(today.year());
    for (id, kind, region, country, joined, status, _) in orgs {
        if status == Some(MembershipStatus::Applicant) {
            continue;
        }
        let key = match dim {
            MembershipDimension::Region => region,
            MembershipDimension::Country => country,
            MembershipDimension::Kind => kind,
        };
        // A departure counts only while the organisation is still out.
        let left = gone.get(&id).filter(|_| {
            matches!(
                status,
                Some(MembershipStatus::Lapsed | MembershipStatus::Withdrawn)
            )
        });
        for year in first.max(joined.year())..=today.year() {
            let row = table
                .entry((year, key.clone()))
                .or_insert_with(|| MembershipRow {
                    year,
                    key: key.clone(),
                    ..MembershipRow::default()
                });
            row.joined += i64::from(joined.year() == year);
            let left_by_end = left.is_some_and(|(_, at)| at.year() <= year);
            match left {
                Some((a, at)) if at.year() == year && a == "membership.lapsed" => row.lapsed += 1,
                Some((_, at)) if at.year() == year => row.withdrawn += 1,
                _ => {}
            }
            row.active_at_year_end += i64::from(!left_by_end);
        }
    }
    Ok(MembershipTable {
        group_by: dim,
        rows: table.into_values().collect(),
        includes_hidden_organisations: hidden,
    })
}

//! The grants CSV for staff. The public open-data exports (360Giving, IATI) live in
//! `crate::exports`.

use diesel::prelude::*;

use super::model::{FundRow, GrantRow};
use super::service::READ_STAFF;
use crate::auth::Principal;
use crate::db::DbConn;
use crate::db::schema::{funds, grants, organisations};
use crate::directory::model::{OrganisationRow, rfc3339};
use crate::error::ApiError;
use crate::money;

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(['=', '+', '-', '@']) {
        // Quote, and defuse spreadsheet formulas with a leading apostrophe.
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Every grant as CSV (staff only), oldest first.
pub fn grants_csv(conn: &mut DbConn, who: &Principal) -> Result<String, ApiError> {
    who.require_role(READ_STAFF)?;
    let rows: Vec<(GrantRow, FundRow, OrganisationRow)> = grants::table
        .inner_join(funds::table)
        .inner_join(organisations::table)
        .order(grants::id.asc())
        .select((
            GrantRow::as_select(),
            FundRow::as_select(),
            OrganisationRow::as_select(),
        ))
        .load(conn)?;
    let mut out = String::from(
        "reference,status,fund_reference,grantee,title,pillar,priority_areas,currency,amount,\
         committed,paid,fund_currency,amount_in_fund_currency,fx_rate,fx_rate_date,\
         planned_start,planned_end,approved_at\n",
    );
    for (g, f, o) in rows {
        let cells = [
            g.reference.clone(),
            g.status.clone(),
            f.reference.clone(),
            o.name.clone(),
            g.title.clone(),
            g.pillar.clone(),
            g.priority_area_list().join(" "),
            g.currency.clone(),
            money::format(g.amount, &g.currency),
            money::format(g.committed, &g.currency),
            money::format(g.paid, &g.currency),
            g.fund_currency.clone(),
            money::format(g.amount_in_fund_currency, &g.fund_currency),
            g.fx_rate_micros.map(money::format_rate).unwrap_or_default(),
            g.fx_rate_date.map(|d| d.to_string()).unwrap_or_default(),
            g.planned_start.to_string(),
            g.planned_end.to_string(),
            g.approved_at.map(rfc3339).unwrap_or_default(),
        ];
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    Ok(out)
}

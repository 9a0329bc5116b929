//! The grants CSV for staff, written by the one CSV writer (`crate::csv_text`: quotes where a
//! cell needs them, spreadsheet formulas defused) with LF line ends. A CSV is a document that
//! travels, so a grant to a withheld organisation is written as the exports write it: neutral
//! title, the withheld name, amounts and dates kept.

use diesel::prelude::*;

use super::access;
use super::fund::FundRow;
use super::grant::GrantRow;
use crate::auth::caller::Staff;
use crate::db::DbConn;
use crate::db::schema::{funds, grants, organisations};
use crate::directory::OrganisationRow;
use crate::directory::visibility;
use crate::error::ApiError;
use crate::kit::rfc3339;
use crate::money;

/// The header row.
pub const HEADER: [&str; 18] = [
    "reference",
    "status",
    "fund_reference",
    "grantee",
    "title",
    "pillar",
    "priority_areas",
    "currency",
    "amount",
    "committed",
    "paid",
    "fund_currency",
    "amount_in_fund_currency",
    "fx_rate",
    "fx_rate_date",
    "planned_start",
    "planned_end",
    "approved_at",
];

/// Writes rows of cells as CSV text (LF line ends, formulas defused).
pub fn write<I, R>(rows: I) -> Result<String, ApiError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    crate::csv_text::write(crate::csv_text::LineEnd::Lf, rows)
}

/// The cells of one grant.
pub fn cells(g: &GrantRow, f: &FundRow, o: &OrganisationRow) -> Vec<String> {
    let withheld = visibility::is_withheld(o);
    let grantee = if withheld {
        visibility::WITHHELD_NAME.to_string()
    } else {
        o.name.clone()
    };
    let title = if withheld {
        access::published_text(g, true).0
    } else {
        g.title.clone()
    };
    vec![
        g.reference.clone(),
        g.status.to_string(),
        f.reference.clone(),
        grantee,
        title,
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
    ]
}

/// Every grant as CSV (staff only), oldest first.
pub fn grants_csv(conn: &mut DbConn, _who: &Staff) -> Result<String, ApiError> {
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
    let header = HEADER.iter().map(|h| h.to_string()).collect::<Vec<_>>();
    write(std::iter::once(header).chain(rows.iter().map(|(g, f, o)| cells(g, f, o))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_only_when_needed_and_formulas_are_defused() {
        let out = write([vec![
            "plain".to_string(),
            "a,b".to_string(),
            "say \"hi\"".to_string(),
            "=SUM(A1)".to_string(),
            "-5".to_string(),
            "two\nlines".to_string(),
        ]])
        .unwrap();
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),'-5,\"two\nlines\"\n"
        );
    }
}

//! The directory as CSV: one header, one line per organisation with only the groups the
//! viewer may see (`Viewer::export_groups`), written by the one CSV writer (`crate::csv_text`:
//! RFC 4180 quoting, spreadsheet formulas defused) with CRLF line ends.

use crate::directory::organisation::{Organisation, OrganisationRow};
use crate::directory::visibility::Viewer;
use crate::error::ApiError;

/// Columns of the CSV export.
pub const CSV_HEADER: &[&str] = &[
    "id",
    "name",
    "slug",
    "acronym",
    "kind",
    "partner_type",
    "country",
    "region",
    "joined_on",
    "city",
    "website",
    "description",
    "focus_areas",
    "pillars",
    "languages",
    "founded_year",
    "public_email",
    "contact_name",
    "contact_email",
    "contact_phone",
    "membership_status",
];

/// Lines of CSV (each ended by CRLF, formulas defused) from records.
pub fn lines<I, R, S>(records: I) -> Result<String, ApiError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    crate::csv_text::write(crate::csv_text::LineEnd::Crlf, records)
}

/// The header line.
pub fn header() -> Result<String, ApiError> {
    lines([CSV_HEADER])
}

/// An organisation's values, with only what `viewer` may see (empty otherwise).
pub fn values(viewer: &Viewer, r: OrganisationRow) -> Vec<String> {
    let groups = viewer.export_groups(&r);
    let o = Organisation::view(r, groups);
    let p = o.profile.as_ref();
    let c = o.contact.as_ref();
    let s = |v: Option<&String>| v.cloned().unwrap_or_default();
    vec![
        o.id.clone(),
        o.name.clone(),
        o.slug.clone(),
        s(o.acronym.as_ref()),
        o.kind.to_string(),
        o.partner_type.map(|t| t.to_string()).unwrap_or_default(),
        o.country.clone(),
        o.region.clone(),
        o.joined_on.clone(),
        s(p.and_then(|p| p.city.as_ref())),
        s(p.and_then(|p| p.website.as_ref())),
        s(p.and_then(|p| p.description.as_ref())),
        p.map(|p| p.focus_areas.join(";")).unwrap_or_default(),
        p.map(|p| p.pillars.join(";")).unwrap_or_default(),
        p.map(|p| p.languages.join(";")).unwrap_or_default(),
        p.and_then(|p| p.founded_year)
            .map(|y| y.to_string())
            .unwrap_or_default(),
        s(p.and_then(|p| p.public_email.as_ref())),
        s(c.and_then(|c| c.name.as_ref())),
        s(c.and_then(|c| c.email.as_ref())),
        s(c.and_then(|c| c.phone.as_ref())),
        o.membership
            .as_ref()
            .and_then(|m| m.status)
            .map(|st| st.to_string())
            .unwrap_or_default(),
    ]
}

/// Organisations as CSV lines for `viewer`.
pub fn rows(viewer: &Viewer, rows: Vec<OrganisationRow>) -> Result<String, ApiError> {
    lines(rows.into_iter().map(|r| values(viewer, r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(lines([["plain"]]).unwrap(), "plain\r\n");
        assert_eq!(lines([["a,b"]]).unwrap(), "\"a,b\"\r\n");
        assert_eq!(lines([["say \"hi\""]]).unwrap(), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(lines([["=SUM(A1)"]]).unwrap(), "'=SUM(A1)\r\n");
        assert_eq!(lines([["a", "b\nc"]]).unwrap(), "a,\"b\nc\"\r\n");
        assert_eq!(lines([["-1", "@x"]]).unwrap(), "'-1,'@x\r\n");
    }
}

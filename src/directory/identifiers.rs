//! Organisation identifiers from the org-id.guide register (`GB-CHC-1234567`): the scheme
//! list shipped in `standards/org-id/schemes.csv`, validation (an unknown scheme is a 400
//! naming `identifiers[i].scheme`), storage and the lookup rows the directory filter uses.
//!
//! An organisation keeps its identifiers as a JSON list on its row (so every answer and
//! audit snapshot carries them) and as rows of `organisation_identifiers`, written in the
//! same transaction, which `identifier=` filters on with an index.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::organisation::OrganisationRow;
use crate::db::DbConn;
use crate::db::schema::organisation_identifiers;
use crate::error::FieldError;

use crate::kit::org_id::valid_id;
pub use crate::kit::org_id::{SCHEMES, is_scheme, split};

/// Most identifiers an organisation may carry.
pub const MAX_IDENTIFIERS: usize = 10;

/// One identifier of an organisation: a scheme code from org-id.guide and the organisation's
/// id in that list. The full identifier is `<scheme>-<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgIdentifier {
    /// org-id.guide list code, e.g. GB-CHC (charities in England and Wales), KE-NCB, XM-DAC.
    #[schema(schema_with = crate::codes::schema::org_scheme)]
    pub scheme: String,
    /// The organisation's identifier in that list, 1-100 letters, digits, `-`, `.`, `/` or `_`.
    #[schema(example = "1234567", pattern = "^[A-Za-z0-9._/-]{1,100}$")]
    pub id: String,
}

impl OrgIdentifier {
    /// `<scheme>-<id>`, the form exports and the directory filter use.
    pub fn full(&self) -> String {
        format!("{}-{}", self.scheme, self.id)
    }
}

/// Validates a list sent by a client; errors name `identifiers[i].scheme` or `.id`.
/// Schemes are compared upper-cased (org-id codes are upper case).
pub fn check(errors: &mut Vec<FieldError>, list: &[OrgIdentifier]) -> Vec<OrgIdentifier> {
    if list.len() > MAX_IDENTIFIERS {
        errors.push(FieldError::new(
            "identifiers",
            "too_many",
            format!("At most {MAX_IDENTIFIERS} identifiers."),
        ));
    }
    let mut out: Vec<OrgIdentifier> = Vec::new();
    for (i, ident) in list.iter().enumerate() {
        let scheme = ident.scheme.trim().to_ascii_uppercase();
        let id = ident.id.trim().to_string();
        if !is_scheme(&scheme) {
            errors.push(FieldError::new(
                format!("identifiers[{i}].scheme"),
                "unknown_scheme",
                format!(
                    "Use an org-id.guide list code such as GB-CHC; known: {}.",
                    SCHEMES
                        .iter()
                        .map(|(c, _)| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !valid_id(&id) {
            errors.push(FieldError::new(
                format!("identifiers[{i}].id"),
                "invalid",
                "An id is 1-100 letters, digits, -, ., / or _.",
            ));
        }
        let parsed = OrgIdentifier { scheme, id };
        if out.contains(&parsed) {
            errors.push(FieldError::new(
                format!("identifiers[{i}]"),
                "duplicate",
                "This identifier is listed twice.",
            ));
        }
        out.push(parsed);
    }
    out
}

/// The stored JSON of a validated list.
pub fn to_stored(list: &[OrgIdentifier]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// The list stored on a row (empty when malformed).
pub fn from_stored(s: &str) -> Vec<OrgIdentifier> {
    serde_json::from_str(s).unwrap_or_default()
}

/// The identifier exports use: the first listed (the organisation's preferred one).
pub fn best(row: &OrganisationRow) -> Option<OrgIdentifier> {
    from_stored(&row.identifiers)
        .into_iter()
        .find(|i| is_scheme(&i.scheme))
}

/// Rewrites the lookup rows of an organisation from its JSON list.
pub fn sync(conn: &mut DbConn, row: &OrganisationRow) -> QueryResult<()> {
    diesel::delete(
        organisation_identifiers::table
            .filter(organisation_identifiers::organisation_id.eq(&row.id)),
    )
    .execute(conn)?;
    for (i, ident) in from_stored(&row.identifiers).iter().enumerate() {
        diesel::insert_into(organisation_identifiers::table)
            .values((
                organisation_identifiers::organisation_id.eq(&row.id),
                organisation_identifiers::scheme.eq(&ident.scheme),
                organisation_identifiers::identifier.eq(ident.full()),
                organisation_identifiers::position.eq(i as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Parses the directory's `identifier=` value: a full identifier with a known scheme.
pub fn parse_filter(value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    match split(v) {
        Some((scheme, id)) => Ok(format!("{scheme}-{id}")),
        None => {
            // Scheme codes are upper case; accept a lower-cased scheme as well.
            let upper_scheme = SCHEMES.iter().find_map(|(c, _)| {
                v.get(..c.len())
                    .filter(|p| p.eq_ignore_ascii_case(c))
                    .and_then(|_| v.get(c.len()..))
                    .and_then(|rest| rest.strip_prefix('-'))
                    .filter(|id| valid_id(id))
                    .map(|id| format!("{c}-{id}"))
            });
            upper_scheme.ok_or_else(|| {
                FieldError::new(
                    "identifier",
                    "unknown_scheme",
                    "Use a full org-id identifier with a known scheme, e.g. GB-CHC-1234567.",
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_known_scheme_wins() {
        assert_eq!(
            split("GB-CHC-1234567"),
            Some(("GB-CHC".into(), "1234567".into()))
        );
        assert_eq!(
            split("XI-IATI-IDPC"),
            Some(("XI-IATI".into(), "IDPC".into()))
        );
        assert_eq!(split("ZZ-NOPE-1"), None);
        assert_eq!(split("GB-CHC-"), None);
    }

    #[test]
    fn unknown_schemes_are_named_by_position() {
        let mut e = Vec::new();
        check(
            &mut e,
            &[
                OrgIdentifier {
                    scheme: "gb-chc".into(),
                    id: "1".into(),
                },
                OrgIdentifier {
                    scheme: "XX-BAD".into(),
                    id: "2".into(),
                },
            ],
        );
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "identifiers[1].scheme");
    }

    #[test]
    fn the_shipped_list_has_the_schemes_the_exports_need() {
        for c in [
            "GB-CHC", "GB-COH", "KE-NCB", "XM-DAC", "XI-IATI", "US-EIN", "CO-RUE",
        ] {
            assert!(is_scheme(c), "{c}");
        }
    }
}

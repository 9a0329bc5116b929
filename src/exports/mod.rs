//! Open data about the network's onward grants: the 360Giving package and the IATI 2.03
//! activity file, both public, both built from the same published grants with the same rule:
//! an organisation hidden from the public is never named (title, description, participant,
//! location), only its region is given.
//!
//! Nothing here writes grants; the one write is how a donor fund is published
//! (`publication`), which the grant staff set.

pub mod api;
pub mod data;
pub mod demo;
pub mod giving;
pub mod iati;
pub mod publication;

/// The open-data settings live with the other settings (`config` may not use `exports`).
pub use crate::config::open_data as settings;

/// Name shown instead of a withheld organisation's (the directory's rule).
pub use crate::directory::visibility::WITHHELD_NAME;
/// Title and description of a grant to a withheld organisation (the partner boundary's).
pub use crate::grants::access::{WITHHELD_DESCRIPTION, WITHHELD_TITLE};

/// Titles of the strategic pillars (the network's own classification scheme).
pub const PILLAR_TITLES: &[(&str, &str)] = &[
    ("networking_communications", "Networking and communications"),
    ("building_evidence", "Building evidence"),
    ("international_advocacy", "International advocacy"),
    (
        "regional_national_advocacy",
        "Regional and national advocacy",
    ),
    ("capacity_strengthening", "Capacity strengthening"),
];

/// Titles of the priority areas (the network's own classification scheme).
pub const PRIORITY_AREA_TITLES: &[(&str, &str)] = &[
    (
        "decriminalisation_justice_reform",
        "Decriminalisation and justice reform",
    ),
    ("women_drug_policy", "Women and drug policy"),
    ("support_dont_punish", "Support. Don't Punish"),
    (
        "cross_un_common_position",
        "UN system common position on drugs",
    ),
    ("civil_society_space", "Civil society space"),
];

/// Titles of the regions.
pub const REGION_TITLES: &[(&str, &str)] = &[
    ("africa", "Africa"),
    ("asia", "Asia"),
    ("europe", "Europe"),
    ("latin_america_caribbean", "Latin America and the Caribbean"),
    ("middle_east_north_africa", "Middle East and North Africa"),
    ("north_america", "North America"),
    ("oceania", "Oceania"),
    ("global", "Global"),
];

/// The title of `code` in one of the lists above (the code itself when unknown).
pub fn title_of(list: &[(&str, &str)], code: &str) -> String {
    list.iter()
        .find(|(c, _)| *c == code)
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| code.to_string())
}

/// A strong ETag for an export body (its SHA-256, shortened).
pub fn etag_of(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_title() {
        for c in crate::codes::PILLARS {
            assert!(PILLAR_TITLES.iter().any(|(x, _)| x == c), "{c}");
        }
        for c in crate::codes::PRIORITY_AREAS {
            assert!(PRIORITY_AREA_TITLES.iter().any(|(x, _)| x == c), "{c}");
        }
        for c in crate::codes::REGIONS {
            assert!(REGION_TITLES.iter().any(|(x, _)| x == c), "{c}");
        }
    }
}

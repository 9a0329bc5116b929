//! Settings of the open-data exports (360Giving and IATI): who the network is in the data,
//! the licence, and how priority areas map onto DAC sector codes. Declared with the other
//! settings in `config/settings.rs`; `exports::settings` re-exports it.

use crate::codes;
use crate::config::{ConfigError, Env, var};
use crate::kit::org_id as identifiers;

/// The network as a publisher of open data.
#[derive(Clone, Debug)]
pub struct OpenData {
    /// The network's own org-id identifier (`GB-COH-01234567`); None when not configured.
    pub org_id: Option<String>,
    /// The network's name in exports.
    pub org_name: String,
    /// IATI OrganisationType code of the network (reporting-org `type`).
    pub org_type: String,
    /// 360Giving identifier prefix (`360G-…`).
    pub giving_prefix: String,
    /// Publisher website (optional).
    pub publisher_website: Option<String>,
    /// Licence URL of the exported data.
    pub license: String,
    /// DAC 5-digit purpose code per priority area.
    pub dac_sectors: Vec<(String, String)>,
}

impl OpenData {
    /// The identifier the network uses for itself: its org-id, else `<360Giving prefix>`.
    pub fn network_id(&self) -> String {
        self.org_id
            .clone()
            .unwrap_or_else(|| self.giving_prefix.clone())
    }

    /// The DAC code of a priority area.
    pub fn dac_code(&self, area: &str) -> Option<&str> {
        self.dac_sectors
            .iter()
            .find(|(a, _)| a == area)
            .map(|(_, c)| c.as_str())
    }

    /// Reads the settings (declared in `settings.rs` with the parsers below);
    /// `network_name` is the fallback name. Errors name the variable.
    pub fn parse(env: &Env<'_>, network_name: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            org_id: env.get(&var::OPEN_DATA_ORG_ID)?,
            org_name: (env.get(&var::OPEN_DATA_ORG_NAME)?)
                .unwrap_or_else(|| network_name.to_string()),
            org_type: env.get(&var::OPEN_DATA_ORG_TYPE)?,
            giving_prefix: env.get(&var::GIVING_PREFIX)?,
            publisher_website: env.get(&var::OPEN_DATA_PUBLISHER_WEBSITE)?,
            license: env.get(&var::OPEN_DATA_LICENSE)?,
            dac_sectors: env.get(&var::IATI_DAC_SECTORS)?,
        })
    }
}

/// `OPEN_DATA_ORG_ID`: an org-id identifier of a known scheme; empty means none.
pub fn org_id(raw: &str) -> Result<Option<String>, String> {
    match raw {
        "" => Ok(None),
        id if identifiers::split(id).is_some() => Ok(Some(id.to_string())),
        id => Err(format!(
            "expected an org-id identifier whose scheme is in standards/org-id/schemes.csv (e.g. GB-COH-01234567), got {id:?}"
        )),
    }
}

/// `OPEN_DATA_ORG_TYPE`: an IATI OrganisationType code.
pub fn org_type(raw: &str) -> Result<String, String> {
    if !ORGANISATION_TYPES.contains(&raw) {
        return Err(format!(
            "expected an IATI OrganisationType code ({}), got {raw:?}",
            ORGANISATION_TYPES.join(", ")
        ));
    }
    Ok(raw.to_string())
}

/// `GIVING_PREFIX`: `360G-` followed by letters, digits or hyphens.
pub fn giving_prefix(raw: &str) -> Result<String, String> {
    let ok = raw.len() > 5
        && raw.starts_with("360G-")
        && raw[5..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(format!(
            "expected 360G- followed by letters, digits or hyphens, got {raw:?}"
        ));
    }
    Ok(raw.to_string())
}

/// `OPEN_DATA_PUBLISHER_WEBSITE`: an http(s) URL; empty means none.
pub fn website(raw: &str) -> Result<Option<String>, String> {
    match raw {
        "" => Ok(None),
        url if is_http_url(url) => Ok(Some(url.to_string())),
        _ => Err("expected an http:// or https:// URL".into()),
    }
}

/// `OPEN_DATA_LICENSE`: the licence's canonical URL.
pub fn license(raw: &str) -> Result<String, String> {
    if !is_http_url(raw) {
        return Err("expected the licence's canonical http:// or https:// URL".into());
    }
    Ok(raw.to_string())
}

/// IATI OrganisationType codes (10 government … 90 other).
pub const ORGANISATION_TYPES: &[&str] = &[
    "10", "11", "15", "21", "22", "23", "24", "30", "40", "60", "70", "71", "72", "73", "80", "90",
];

fn is_http_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() > 8
        && !s.contains(char::is_whitespace)
}

/// Parses `area:code[,area:code…]`: every priority area once, each with a 5-digit code.
pub fn parse_sectors(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (area, code) = part
            .split_once(':')
            .ok_or_else(|| format!("expected area:code pairs, got {part:?}"))?;
        if !codes::PRIORITY_AREAS.contains(&area) {
            return Err(format!(
                "unknown priority area {area:?}; use {}",
                codes::PRIORITY_AREAS.join(", ")
            ));
        }
        if code.len() != 5 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "{area}: a DAC purpose code has 5 digits, got {code:?}"
            ));
        }
        if out.iter().any(|(a, _)| a == area) {
            return Err(format!("{area} is listed twice"));
        }
        out.push((area.to_string(), code.to_string()));
    }
    if let Some(missing) = codes::PRIORITY_AREAS
        .iter()
        .find(|a| !out.iter().any(|(x, _)| x == *a))
    {
        return Err(format!("no DAC code for priority area {missing}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sectors_need_every_area_and_five_digits() {
        let all = "decriminalisation_justice_reform:15130,women_drug_policy:15170,\
                   support_dont_punish:16063,cross_un_common_position:16063,civil_society_space:15150";
        assert_eq!(parse_sectors(all).unwrap().len(), 5);
        assert!(parse_sectors("women_drug_policy:15170").is_err());
        assert!(parse_sectors(&all.replace("15150", "1515")).is_err());
        assert!(parse_sectors(&format!("{all},nowhere:12345")).is_err());
    }
}

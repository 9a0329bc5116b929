//! What is made from the declarations besides the parser: `.env.example`, the README's
//! configuration table, and the report of variables that look like settings but are not.

use std::collections::BTreeMap;

use super::settings::{ALSO_READ, SETTINGS, Setting};

/// Renders `.env.example` from [`SETTINGS`].
pub fn env_example() -> String {
    let mut out = String::from(
        "# idpc-hub settings. Copy to .env and adjust; every line shows the default.\n\
         # Generated from src/config/settings.rs; a test fails when this file is stale.\n",
    );
    for s in SETTINGS {
        out.push_str(&format!(
            "\n# {}\n{}={}\n",
            help(s).replace('`', ""),
            s.name,
            quote_env(s.default)
        ));
    }
    out
}

/// Renders README.md's configuration table (between its `settings-table` markers) from
/// [`SETTINGS`] and [`ALSO_READ`].
pub fn readme_table() -> String {
    let mut out = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for s in SETTINGS.iter().chain(ALSO_READ) {
        let default = match s.default {
            "" => "—".to_string(),
            d => format!("`{d}`"),
        };
        out.push_str(&format!(
            "| `{}` | {default} | {} |\n",
            s.name,
            help(s).replace('|', "\\|")
        ));
    }
    out
}

/// The help text: the declaration's `///` lines joined, without their leading spaces.
fn help(s: &Setting) -> &'static str {
    s.help.trim()
}

fn quote_env(v: &str) -> String {
    if v.contains(' ') || v.contains('<') {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

/// A variable that carries one of our prefixes but is no setting: most likely a typo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The variable as set.
    pub name: String,
    /// The declared setting it is closest to.
    pub closest: &'static str,
}

impl Unknown {
    /// One line for the start-up error or warning.
    pub fn message(&self) -> String {
        format!("not a known setting; did you mean {}?", self.closest)
    }
}

/// `RUST_LOG` is ours, but `RUST_BACKTRACE` and friends belong to the Rust runtime.
const FOREIGN_PREFIXES: &[&str] = &["RUST_"];

/// Whether `name` (upper-cased) starts like one of our settings: the first word of any
/// declared name (`SMTP_`, `WEBHOOK_`, …) or `IDPC_`.
fn looks_ours(upper: &str) -> bool {
    if upper.starts_with("IDPC_") {
        return true;
    }
    if FOREIGN_PREFIXES.iter().any(|p| upper.starts_with(p)) {
        return false;
    }
    SETTINGS
        .iter()
        .filter_map(|s| s.name.split_once('_').map(|(first, _)| first))
        .any(|first| {
            upper
                .strip_prefix(first)
                .is_some_and(|rest| rest.starts_with('_'))
        })
}

/// Whether `name` is allowed although not a setting: the test hooks and other readers.
fn allowed(name: &str) -> bool {
    name.starts_with("IDPC_TEST_") || ALSO_READ.iter().any(|s| s.name == name)
}

/// Every variable of `vars` that looks like a setting but is not one, with the closest
/// declared name.
pub fn unknown_settings(vars: &BTreeMap<String, String>) -> Vec<Unknown> {
    vars.keys()
        .filter(|name| !SETTINGS.iter().any(|s| s.name == name.as_str()) && !allowed(name))
        .filter_map(|name| {
            let upper = name.to_ascii_uppercase();
            if !looks_ours(&upper) {
                return None;
            }
            // `IDPC_PORT` is most likely `PORT` written with the service's name in front.
            let bare = upper.strip_prefix("IDPC_").unwrap_or(&upper);
            let closest = SETTINGS
                .iter()
                .min_by_key(|s| edit_distance(&upper, s.name).min(edit_distance(bare, s.name)))?
                .name;
            Some(Unknown {
                name: name.clone(),
                closest,
            })
        })
        .collect()
}

/// Levenshtein distance (insertions, deletions and substitutions) between two names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(names: &[&str]) -> BTreeMap<String, String> {
        names.iter().map(|n| (n.to_string(), "x".into())).collect()
    }

    #[test]
    fn a_misspelt_setting_is_named_with_the_closest_declared_one() {
        let found = unknown_settings(&vars(&[
            "SMTP_HSOT",
            "WEBHOOK_POLL_MSS",
            "smtp_port",
            "IDPC_PORT",
        ]));
        let pairs: Vec<(&str, &str)> = found.iter().map(|u| (u.name.as_str(), u.closest)).collect();
        assert_eq!(
            pairs,
            [
                ("IDPC_PORT", "PORT"),
                ("SMTP_HSOT", "SMTP_HOST"),
                ("WEBHOOK_POLL_MSS", "WEBHOOK_POLL_MS"),
                ("smtp_port", "SMTP_PORT"),
            ]
        );
        assert_eq!(
            found[1].message(),
            "not a known setting; did you mean SMTP_HOST?"
        );
    }

    #[test]
    fn settings_hooks_and_foreign_variables_are_not_reported() {
        let found = unknown_settings(&vars(&[
            "SMTP_HOST",
            "TEST_DATABASE_URL",
            "IDPC_TEST_ANYTHING",
            "IDPC_ADMIN_PASSWORD",
            "IDPC_SKIP_BROWSER_TESTS",
            "RUST_BACKTRACE",
            "PATH",
            "HOME",
            "MAIL",
            "CARGO_PKG_NAME",
        ]));
        assert_eq!(found, []);
    }

    #[test]
    fn the_brief_prefixes_are_all_ours() {
        for prefix in [
            "SMTP_",
            "WEBHOOK_",
            "OUTBOX_",
            "FX_",
            "FUND_",
            "AUTH_",
            "DATABASE_",
            "MAIL_",
            "JWT_",
            "APP_",
            "OPEN_DATA_",
            "IATI_",
            "ARGON2_",
            "MEMBERSHIP_",
            "APPLICATION_",
            "SECOND_APPROVAL_",
            "IDPC_",
        ] {
            assert!(looks_ours(&format!("{prefix}TYPO")), "{prefix}");
        }
    }
}

//! The languages the service speaks to people: English, Spanish and French. Every sentence a
//! person reads (emails, console pages, problem titles and field messages) is a message of a
//! Fluent file under `locales/<code>/`, compiled into the binary; dates and amounts are written
//! for the reader's locale by ICU4X with CLDR data (`format`). Never concatenate translated
//! pieces: a sentence is one message whose variables the translation places.
//!
//! # Adding a language
//! 1. Copy `locales/en/` to `locales/<code>/` (an ISO 639-1 code) and translate every message,
//!    keeping each message's variables (`{ $name }`) and its plural selectors.
//! 2. Add one `language!` line to [`LANGUAGES`] with the ICU locale its dates and numbers follow.
//! 3. `cargo test --lib i18n` fails until every key of English is there with the same
//!    variables (see [`check`]).
//!
//! # Converting an email or a console page
//! Move each English sentence of the template into `locales/en/<file>.ftl` as a message
//! (`{{ name }}` becomes `{ $name }`), write `{{ l10n("the-key") }}` in its place, and translate
//! the message in every other language. `l10n` takes each variable of the message from the
//! template's context by name, so the template passes nothing else.

pub mod check;
pub mod format;

use std::borrow::Cow;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use format::{LocalAmount, LocalDate};

/// The Fluent files of every language, in this order (`locales/<code>/<file>.ftl`).
pub const FILES: &[&str] = &["errors", "emails", "formats", "console"];

/// One language the service speaks.
#[derive(Debug)]
pub struct Language {
    /// ISO 639-1 code, as stored in `users.language` and sent in `Content-Language`.
    pub code: &'static str,
    /// The ICU locale its dates and numbers follow (English is written the British way).
    pub locale: &'static str,
    /// Its Fluent sources, one per entry of [`FILES`].
    pub sources: [&'static str; 4],
}

macro_rules! language {
    ($code:literal, $locale:literal) => {
        Language {
            code: $code,
            locale: $locale,
            sources: [
                include_str!(concat!("../../locales/", $code, "/errors.ftl")),
                include_str!(concat!("../../locales/", $code, "/emails.ftl")),
                include_str!(concat!("../../locales/", $code, "/formats.ftl")),
                include_str!(concat!("../../locales/", $code, "/console.ftl")),
            ],
        }
    };
}

/// Every language, English (the reference and the fallback) first.
pub const LANGUAGES: &[Language] = &[
    language!("en", "en-GB"),
    language!("es", "es"),
    language!("fr", "fr"),
];

/// A language of [`LANGUAGES`], cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Lang(usize);

impl Lang {
    /// English: the reference language and the fallback.
    pub const EN: Lang = Lang(0);

    /// The language of an ISO 639-1 code (or a tag such as `fr-CA`), when the service speaks it.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        LANGUAGES.iter().position(|l| l.code == primary).map(Lang)
    }

    /// The language of a stored code, English when it is not one the service speaks.
    pub fn of_stored(code: &str) -> Lang {
        Lang::from_code(code).unwrap_or_default()
    }

    /// Its ISO 639-1 code.
    pub fn code(self) -> &'static str {
        self.language().code
    }

    /// Its definition.
    pub fn language(self) -> &'static Language {
        LANGUAGES.get(self.0).unwrap_or(&LANGUAGES[0])
    }

    /// Every language.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..LANGUAGES.len()).map(Lang)
    }

    /// The codes of every language, for messages and the OpenAPI document.
    pub fn codes() -> Vec<&'static str> {
        LANGUAGES.iter().map(|l| l.code).collect()
    }

    /// The first of `codes` (an organisation's languages, in its order) the service speaks.
    pub fn first_spoken<'a>(codes: impl IntoIterator<Item = &'a String>) -> Option<Lang> {
        codes.into_iter().find_map(|c| Lang::from_code(c))
    }
}

/// The language an `Accept-Language` header prefers among those the service speaks
/// (RFC 9110 §12.5.4: the highest `q` first, then the order given), or `None`.
pub fn negotiate(accept_language: &str) -> Option<Lang> {
    let mut ranges: Vec<(u16, usize, &str)> = accept_language
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim().parse::<f32>().ok().map(|q| (q * 1000.0) as u16)
                })?;
            (!tag.is_empty() && q > 0).then_some((q, i, tag))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.iter().find_map(|(_, _, tag)| Lang::from_code(tag))
}

type Bundle = FluentBundle<FluentResource>;

/// The compiled bundles, one per language. A source that does not parse is a build defect
/// (the unit tests parse every file); its well-formed messages are still used.
fn bundles() -> &'static [Bundle] {
    static BUNDLES: OnceLock<Vec<Bundle>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|l| {
                let id = l.code.parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // No Unicode isolation marks: emails and pages are plain left-to-right text.
                bundle.set_use_isolating(false);
                for source in l.sources {
                    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(
                        |(partial, errors)| {
                            tracing::error!(language = l.code, ?errors, "translation file");
                            partial
                        },
                    );
                    if let Err(errors) = bundle.add_resource(resource) {
                        tracing::error!(language = l.code, ?errors, "duplicate translation");
                    }
                }
                bundle
            })
            .collect()
    })
}

/// The message `key` in `lang` with `args`, English when `lang` lacks it, `None` when no
/// language has it.
pub fn message(lang: Lang, key: &str, args: Option<&FluentArgs>) -> Option<String> {
    let all = bundles();
    [lang.0, 0].iter().find_map(|&i| {
        let bundle = all.get(i)?;
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                key,
                language = lang.code(),
                ?errors,
                "translation variables"
            );
        }
        Some(text.into_owned())
    })
}

/// The message `key` in `lang`, or the key itself when no language has it (a visible defect,
/// never a failure).
pub fn t(lang: Lang, key: &str) -> String {
    message(lang, key, None).unwrap_or_else(|| key.to_string())
}

/// [`t`] with variables.
pub fn t_args(lang: Lang, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fa = FluentArgs::new();
    for (name, value) in args {
        fa.set(Cow::Owned(name.to_string()), value.clone());
    }
    message(lang, key, Some(&fa)).unwrap_or_else(|| key.to_string())
}

/// The variables the English message `key` uses (those `l10n` in a template takes from its
/// context).
pub fn variables(key: &str) -> Vec<String> {
    bundles()
        .first()
        .and_then(|b| b.get_message(key))
        .and_then(|m| m.value())
        .map(check::pattern_variables)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The `l10n(key)` function of minijinja templates (emails and console pages): the message in
/// the template's `lang` (a code; English when absent), each variable taken from the
/// keyword arguments (`l10n("nav-signed-in-as", name=me.name)`), else from the context by name.
/// A number stays a number (for plural rules); an absent value is empty.
pub fn template_function(
    state: &minijinja::State,
    key: &str,
    kwargs: &minijinja::value::Kwargs,
) -> String {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().map(Lang::of_stored))
        .unwrap_or_default();
    let mut args = FluentArgs::new();
    for name in variables(key) {
        let value = kwargs
            .get::<Option<minijinja::Value>>(&name)
            .ok()
            .flatten()
            .or_else(|| state.lookup(&name));
        let fluent = match value {
            Some(v) if v.is_number() => match i64::try_from(v.clone()) {
                Ok(n) => FluentValue::from(n),
                Err(_) => FluentValue::from(v.to_string()),
            },
            Some(v) if v.is_none() || v.is_undefined() => FluentValue::from(""),
            Some(v) => FluentValue::from(v.to_string()),
            None => FluentValue::from(""),
        };
        args.set(name, fluent);
    }
    message(lang, key, Some(&args)).unwrap_or_else(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_spoken_language() {
        assert_eq!(
            negotiate("fr-CH, fr;q=0.9, en;q=0.8"),
            Lang::from_code("fr")
        );
        assert_eq!(negotiate("de, es;q=0.5, en;q=0.4"), Lang::from_code("es"));
        assert_eq!(negotiate("en;q=0.2, es;q=0.9"), Lang::from_code("es"));
        assert_eq!(negotiate("fr;q=0, en"), Some(Lang::EN));
        assert_eq!(negotiate("de, pt"), None);
        assert_eq!(negotiate(""), None);
    }

    #[test]
    fn a_message_missing_in_a_language_falls_back_to_english_and_an_unknown_key_shows_itself() {
        let es = Lang::from_code("es").unwrap();
        assert_eq!(t(es, "problem-not-found"), "No encontrado");
        assert_eq!(t(es, "no-such-key"), "no-such-key");
    }

    #[test]
    fn plural_rules_follow_the_language() {
        let fr = Lang::from_code("fr").unwrap();
        let one = t_args(fr, "problem-fields-invalid", &[("count", 1.into())]);
        let two = t_args(fr, "problem-fields-invalid", &[("count", 2.into())]);
        assert_eq!(one, "1 champ est invalide");
        assert_eq!(two, "2 champs sont invalides");
    }
}

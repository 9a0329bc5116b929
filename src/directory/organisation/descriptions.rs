//! A profile's description in each of its languages. The `description` column holds a JSON
//! object of ISO 639-1 code to text (`{"en": "...", "fr": "..."}`); a plain text stored
//! before (or by an older writer) is read as the text of the organisation's first language.
//! Readers get their language, else the organisation's first language, else any; the answer
//! says which (`description_language`). Search covers every language (`all_text`).

use std::collections::BTreeMap;

use serde::Deserialize;
use utoipa::ToSchema;

use super::model::json_list;
use crate::error::FieldError;

/// Language code to text.
pub type Texts = BTreeMap<String, String>;

/// The organisation's own first language (its first listed one), English when none is listed.
pub fn first_language(languages: &str) -> String {
    json_list(languages)
        .into_iter()
        .next()
        .unwrap_or_else(|| "en".into())
}

/// The stored texts of a row's `description` (JSON object, or a legacy plain text).
pub fn decode(stored: Option<&str>, languages: &str) -> Texts {
    let Some(stored) = stored.filter(|s| !s.trim().is_empty()) else {
        return Texts::new();
    };
    match serde_json::from_str::<Texts>(stored) {
        Ok(texts) => texts,
        Err(_) => Texts::from([(first_language(languages), stored.to_string())]),
    }
}

/// The column value of `texts` (NULL when there is none).
pub fn encode(texts: &Texts) -> Option<String> {
    (!texts.is_empty()).then(|| serde_json::to_string(texts).unwrap_or_default())
}

/// Every text, for the search document.
pub fn all_text(stored: Option<&str>, languages: &str) -> String {
    decode(stored, languages)
        .into_values()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text a reader gets: the first of `wanted` (in order) that the profile has, else the
/// organisation's first language, else the first it has. Returns (language, text).
pub fn pick(texts: &Texts, wanted: &[String], languages: &str) -> Option<(String, String)> {
    let first = first_language(languages);
    wanted
        .iter()
        .chain(std::iter::once(&first))
        .find_map(|l| texts.get(l).map(|t| (l.clone(), t.clone())))
        .or_else(|| texts.iter().next().map(|(l, t)| (l.clone(), t.clone())))
}

/// The languages of an `Accept-Language` header, best first (any ISO 639-1 language: a
/// profile may be written in one the service itself does not speak).
pub fn accepted(accept_language: &str) -> Vec<String> {
    let mut ranges: Vec<(u16, usize, String)> = accept_language
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim().split('-').next()?.to_ascii_lowercase();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .map_or(Some(1000), |q| {
                    q.trim().parse::<f32>().ok().map(|q| (q * 1000.0) as u16)
                })?;
            (crate::codes::is_language(&tag) && q > 0).then_some((q, i, tag))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranges.into_iter().map(|(_, _, t)| t).collect()
}

/// A description as a PATCH gives it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum DescriptionPatch {
    /// Plain text: the description in the organisation's first language (as before
    /// descriptions had languages).
    Plain(String),
    /// Texts by ISO 639-1 code, merged into those stored: a language given `null` (or an
    /// empty text) is removed, one left out is kept.
    #[schema(value_type = Object, example = json!({"en": "We work on drug policy.", "fr": "Nous travaillons sur les politiques des drogues."}))]
    PerLanguage(BTreeMap<String, Option<String>>),
}

/// `texts` after `patch` (checked with `check_text` for each text given); `languages` is the
/// organisation's list after the same PATCH.
pub fn apply(
    errors: &mut Vec<FieldError>,
    mut texts: Texts,
    patch: Option<DescriptionPatch>,
    languages: &str,
    check_text: impl Fn(&mut Vec<FieldError>, &str, Option<String>) -> Option<String>,
) -> Texts {
    match patch {
        None => Texts::new(),
        Some(DescriptionPatch::Plain(text)) => {
            let lang = first_language(languages);
            match check_text(errors, "profile.description", Some(text)) {
                Some(t) => texts.insert(lang, t),
                None => texts.remove(&lang),
            };
            texts
        }
        Some(DescriptionPatch::PerLanguage(given)) => {
            for (lang, text) in given {
                let field = format!("profile.description.{lang}");
                if !crate::codes::is_language(&lang) {
                    errors.push(FieldError::new(
                        field,
                        "unknown_code",
                        "Key each description by an ISO 639-1 code such as en, fr, es.",
                    ));
                    continue;
                }
                match check_text(errors, &field, text) {
                    Some(t) => texts.insert(lang, t),
                    None => texts.remove(&lang),
                };
            }
            texts
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_plain_text_is_the_first_languages_and_readers_get_theirs_else_it() {
        let texts = decode(Some("Plain"), r#"["fr","en"]"#);
        assert_eq!(texts, Texts::from([("fr".into(), "Plain".into())]));
        let both = decode(Some(r#"{"en":"Hello","fr":"Bonjour"}"#), r#"["en","fr"]"#);
        let fr = pick(&both, &accepted("fr-FR, en;q=0.5"), r#"["en","fr"]"#);
        assert_eq!(fr, Some(("fr".into(), "Bonjour".into())));
        let de = pick(&both, &accepted("de"), r#"["en","fr"]"#);
        assert_eq!(de, Some(("en".into(), "Hello".into())));
    }
}

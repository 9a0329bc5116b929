//! The consistency check of the translations: every language has every message of English,
//! with the same variables, and no message English does not have. `cargo test --lib i18n`
//! runs it over `locales/`; a translation that drifts fails the build's tests.

use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast::{self, Entry, Expression, InlineExpression, Pattern, PatternElement};
use fluent_syntax::parser;

/// What is wrong with one translation file against its English reference.
pub fn compare(reference: &str, translation: &str) -> Vec<String> {
    let (reference, translation) = match (messages(reference), messages(translation)) {
        (Ok(r), Ok(t)) => (r, t),
        (Err(e), _) => return vec![format!("the English file does not parse: {e}")],
        (_, Err(e)) => return vec![format!("the file does not parse: {e}")],
    };
    let mut problems = Vec::new();
    for (key, vars) in &reference {
        match translation.get(key) {
            None => problems.push(format!("missing message `{key}`")),
            Some(other) if other != vars => problems.push(format!(
                "`{key}` uses variables {other:?}, English uses {vars:?}"
            )),
            Some(_) => {}
        }
    }
    for key in translation.keys().filter(|k| !reference.contains_key(*k)) {
        problems.push(format!("message `{key}` is not in English"));
    }
    problems
}

/// Every message of a Fluent source with the variables of its value and attributes.
fn messages(source: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let resource = parser::parse(source).map_err(|(_, errors)| format!("{errors:?}"))?;
    let mut out = BTreeMap::new();
    for entry in resource.body {
        if let Entry::Message(m) = entry {
            let mut vars = BTreeSet::new();
            if let Some(value) = &m.value {
                vars.extend(pattern_variables(value));
            }
            for attribute in &m.attributes {
                vars.extend(pattern_variables(&attribute.value));
            }
            out.insert(m.id.name.to_string(), vars);
        }
    }
    Ok(out)
}

/// The variables (`$name`) a pattern uses, in selectors, placeables and function arguments.
pub fn pattern_variables<S: AsRef<str>>(pattern: &Pattern<S>) -> BTreeSet<String> {
    let mut vars = BTreeSet::new();
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, &mut vars);
        }
    }
    vars
}

fn expression_variables<S: AsRef<str>>(e: &Expression<S>, vars: &mut BTreeSet<String>) {
    match e {
        Expression::Inline(inline) => inline_variables(inline, vars),
        Expression::Select { selector, variants } => {
            inline_variables(selector, vars);
            for v in variants {
                vars.extend(pattern_variables(&v.value));
            }
        }
    }
}

fn inline_variables<S: AsRef<str>>(e: &InlineExpression<S>, vars: &mut BTreeSet<String>) {
    match e {
        InlineExpression::VariableReference { id } => {
            vars.insert(id.name.as_ref().to_string());
        }
        InlineExpression::FunctionReference { arguments, .. } => {
            call_variables(arguments, vars);
        }
        InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => call_variables(arguments, vars),
        InlineExpression::Placeable { expression } => expression_variables(expression, vars),
        _ => {}
    }
}

fn call_variables<S: AsRef<str>>(args: &ast::CallArguments<S>, vars: &mut BTreeSet<String>) {
    for p in &args.positional {
        inline_variables(p, vars);
    }
    for n in &args.named {
        inline_variables(&n.value, vars);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{FILES, LANGUAGES};

    #[test]
    fn every_language_has_every_english_message_with_the_same_variables() {
        let english = &LANGUAGES[0];
        for language in &LANGUAGES[1..] {
            for (i, file) in FILES.iter().enumerate() {
                let problems = compare(english.sources[i], language.sources[i]);
                assert!(
                    problems.is_empty(),
                    "locales/{}/{file}.ftl: {problems:#?}",
                    language.code
                );
            }
        }
    }

    #[test]
    fn the_check_fails_on_a_missing_message_and_on_changed_variables() {
        let english = "hello = Hello { $name }\nbye = Bye\ncount = { $n ->\n    [one] one\n   *[other] { $n } things\n}\n";
        let missing =
            "hello = Hola { $name }\ncount = { $n ->\n    [one] uno\n   *[other] { $n } cosas\n}\n";
        assert_eq!(compare(english, missing), vec!["missing message `bye`"]);
        let renamed = "hello = Hola { $nombre }\nbye = Adiós\ncount = { $n ->\n    [one] uno\n   *[other] { $n } cosas\n}\n";
        let problems = compare(english, renamed);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("`hello` uses variables"),
            "{problems:?}"
        );
        let extra = "hello = Hola { $name }\nbye = Adiós\ncount = { $n ->\n    [one] uno\n   *[other] { $n } cosas\n}\nmore = Más\n";
        assert_eq!(
            compare(english, extra),
            vec!["message `more` is not in English"]
        );
        assert!(compare(english, "hello = { $name").len() == 1);
    }

    #[test]
    fn every_file_of_every_language_parses() {
        for language in LANGUAGES {
            for (i, file) in FILES.iter().enumerate() {
                assert!(
                    parser::parse(language.sources[i]).is_ok(),
                    "locales/{}/{file}.ftl does not parse",
                    language.code
                );
            }
        }
    }
}

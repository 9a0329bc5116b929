//! Rules that tie two fields of a request together, stated as an `anyOf` of the shapes the
//! server accepts, so a client (and a fuzzer) can tell a valid request from the schema alone:
//! a partner needs a partner type and a member has none (`organisation::validate_new`),
//! suspending or withdrawing a membership needs a reason (`membership::command`), and an
//! amount has at most the decimals of the currency beside it (`money::parse_amount`).
//!
//! Each property stays stated once, with its description, in the object's `properties`; a
//! shape under `anyOf` only narrows the fields it is about (and requires what it needs). The
//! shapes exclude each other, but a linter cannot tell through a narrowed `$ref`, hence
//! `anyOf` rather than `oneOf`. This runs on the JSON of the published document
//! ([`crate::openapi::document`]), since utoipa's object schema has no `anyOf` of its own.

use serde_json::{Map, Value, json};
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::directory::membership::MembershipAction;
use crate::directory::organisation::OrganisationKind;

/// Whitespace that is not a control character (`char::is_whitespace` minus the controls),
/// as a regular expression class body; line breaks and tabs only where `multiline`.
fn spaces(multiline: bool) -> String {
    let breaks = if multiline { "\\t\\n\\r" } else { "" };
    format!("{breaks} \\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000")
}

/// A text of `min`..=`max` characters once the spaces around it are trimmed (min 0 or 1),
/// with none of the refused control characters.
pub fn trimmed(min: usize, max: usize, multiline: bool) -> String {
    trimmed_of(
        min,
        max,
        multiline,
        crate::kit::control_class(multiline).to_string(),
    )
}

/// As [`trimmed`], for a name: bidi overrides and zero-width characters are refused too
/// (`kit::invisible_characters`).
pub fn trimmed_name(min: usize, max: usize) -> String {
    let c = format!(
        "{}{}",
        crate::kit::control_class(false),
        crate::kit::INVISIBLE_CLASS
    );
    trimmed_of(min, max, false, c)
}

fn trimmed_of(min: usize, max: usize, multiline: bool, c: String) -> String {
    let s = spaces(multiline);
    let inner = format!("[^\\s{c}]([^{c}]{{0,{}}}[^\\s{c}])?", max.saturating_sub(2));
    let core = if min == 0 {
        format!("({inner})?")
    } else {
        inner
    };
    format!("^[{s}]*{core}[{s}]*$")
}

/// The optional texts of an organisation patch that `organisation::patch` trims and then
/// limits (`opt_text`): (schema, field, most characters, multi-line). Without the trimmed
/// length in the pattern the document would call a 21-character acronym valid.
const TRIMMED_PATCH_TEXTS: &[(&str, &str, usize, bool)] = &[
    ("OrganisationPatch", "acronym", 20, false),
    ("ProfilePatch", "city", 100, false),
    ("ProfilePatch", "description", 5000, true),
    ("ContactPatch", "name", 120, false),
];

/// States the trimmed length of [`TRIMMED_PATCH_TEXTS`] in their patterns.
fn trimmed_lengths(doc: &mut Value) {
    for (schema, field, max, multiline) in TRIMMED_PATCH_TEXTS {
        if let Some(p) = doc
            .pointer_mut(&format!("/components/schemas/{schema}/properties/{field}"))
            .and_then(Value::as_object_mut)
        {
            // The acronym is a name: it refuses invisible characters as the name does.
            let pattern = if *field == "acronym" {
                trimmed_name(0, *max)
            } else {
                trimmed(0, *max, *multiline)
            };
            p.insert("pattern".into(), json!(pattern));
        }
    }
}

/// A string schema with `pattern`, or a nullable one.
fn string(pattern: String, nullable: bool) -> Value {
    let kind = if nullable {
        utoipa::openapi::schema::SchemaType::Array(vec![Type::String, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::Type(Type::String)
    };
    let schema = ObjectBuilder::new()
        .schema_type(kind)
        .pattern(Some(pattern))
        .build();
    serde_json::to_value(schema).unwrap_or_default()
}

/// A string schema listing `values`.
fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    serde_json::to_value(crate::codes::schema::one_of(values)).unwrap_or_default()
}

/// One of the shapes a request may take: the properties it narrows and the ones it needs.
#[derive(Default)]
struct Shape {
    narrowed: Map<String, Value>,
    required: Vec<&'static str>,
}

impl Shape {
    fn narrow(mut self, field: &str, schema: Value) -> Self {
        self.narrowed.insert(field.to_string(), schema);
        self
    }

    fn require(mut self, field: &'static str) -> Self {
        self.required.push(field);
        self
    }

    fn into_value(self) -> Value {
        let mut o = Map::new();
        o.insert("properties".into(), Value::Object(self.narrowed));
        if !self.required.is_empty() {
            o.insert("required".into(), json!(self.required));
        }
        Value::Object(o)
    }
}

/// Adds `key: value` to the object component `name`.
fn constrain(doc: &mut Value, name: &str, key: &str, value: Value) {
    if let Some(schema) = doc
        .pointer_mut(&format!("/components/schemas/{name}"))
        .and_then(Value::as_object_mut)
    {
        schema.insert(key.into(), value);
    }
}

/// Gives the object component `name` the `anyOf` of `shapes`.
fn split(doc: &mut Value, name: &str, shapes: Vec<Shape>) {
    let any_of = shapes.into_iter().map(Shape::into_value).collect();
    constrain(doc, name, "anyOf", Value::Array(any_of));
}

/// Writes the shapes of an amount and its currency once, as the component `CurrencyAmount`,
/// and makes each of `users` (objects with both fields) take one of them.
fn currency_amount(doc: &mut Value, users: &[&str]) {
    let any_of: Vec<Value> = amount_by_currency()
        .into_iter()
        .map(Shape::into_value)
        .collect();
    let schema = json!({
        "description": "An `amount` with at most the decimals of its `currency` (none for JPY, two for USD, three for KWD).",
        "anyOf": any_of,
    });
    super::shared::add_schema(doc, "CurrencyAmount", schema);
    for name in users {
        let shared = json!([{ "$ref": "#/components/schemas/CurrencyAmount" }]);
        constrain(doc, name, "allOf", shared);
    }
}

/// One shape per number of minor-unit digits: the currencies that have it, and amounts with
/// at most that many decimals.
fn amount_by_currency() -> Vec<Shape> {
    let mut groups: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for (code, digits) in crate::money::CURRENCIES {
        groups.entry(*digits).or_default().push(code);
    }
    groups
        .into_iter()
        .map(|(digits, codes)| {
            Shape::default().narrow("currency", one_of(codes)).narrow(
                "amount",
                string(crate::money::amount_pattern(digits), false),
            )
        })
        .collect()
}

/// An identifier listed twice is refused (`identifiers::check`): the list's items are unique.
fn unique_identifiers(doc: &mut Value) {
    for name in ["NewOrganisation", "OrganisationPatch"] {
        let pointer = format!("/components/schemas/{name}/properties/identifiers");
        if let Some(list) = doc.pointer_mut(&pointer).and_then(Value::as_object_mut) {
            list.insert("uniqueItems".into(), Value::Bool(true));
        }
    }
}

pub fn add_to(doc: &mut Value) {
    unique_identifiers(doc);
    trimmed_lengths(doc);
    currency_amount(doc, &["NewFund", "NewGrant"]);
    let with_reason = [MembershipAction::Suspend, MembershipAction::Withdraw];
    let others = MembershipAction::ALL
        .iter()
        .filter(|a| !with_reason.contains(a))
        .map(|a| a.as_str());
    split(
        doc,
        "MembershipCommand",
        vec![
            Shape::default()
                .narrow("action", one_of(others))
                .narrow("reason", string(trimmed(0, 2000, true), true)),
            Shape::default()
                .narrow("action", one_of(with_reason.iter().map(|a| a.as_str())))
                .narrow("reason", string(trimmed(1, 2000, true), false))
                .require("reason"),
        ],
    );
    let partner_type = json!({ "$ref": "#/components/schemas/PartnerType" });
    split(
        doc,
        "NewOrganisation",
        vec![
            Shape::default()
                .narrow("kind", one_of([OrganisationKind::Member.as_str()]))
                .narrow("partner_type", json!({ "type": "null" })),
            Shape::default()
                .narrow("kind", one_of([OrganisationKind::Partner.as_str()]))
                .narrow("partner_type", partner_type)
                .require("partner_type"),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::trimmed;
    use serde_json::{Value, json};

    /// Whether `body` is valid against the published component `name`.
    fn valid(doc: &Value, name: &str, body: Value) -> bool {
        let mut root = doc.clone();
        root["$ref"] = json!(format!("#/components/schemas/{name}"));
        let validator = jsonschema::draft202012::new(&root).expect("the schema compiles");
        validator.is_valid(&body)
    }

    #[test]
    fn the_published_shapes_accept_what_the_server_accepts_and_keep_each_field_described() {
        let doc = crate::openapi::document(&crate::openapi::spec());
        let org = |extra: Value| {
            let mut b =
                json!({"name": "Harm Reduction Nairobi", "country": "KE", "region": "africa"});
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            b
        };
        for (extra, accepted) in [
            (json!({"kind": "member"}), true),
            (json!({"kind": "member", "partner_type": "donor"}), false),
            (json!({"kind": "partner"}), false),
            (json!({"kind": "partner", "partner_type": "donor"}), true),
            (json!({"kind": "member", "country": "XX"}), false),
            (json!({"kind": "member", "colour": "red"}), false),
        ] {
            let body = org(extra);
            assert_eq!(
                valid(&doc, "NewOrganisation", body.clone()),
                accepted,
                "{body}"
            );
        }

        let decision = |b: Value| valid(&doc, "MembershipCommand", b);
        assert!(decision(json!({"action": "renew"})));
        assert!(!decision(json!({"action": "suspend"})));
        assert!(!decision(json!({"action": "withdraw", "reason": "   "})));
        assert!(decision(
            json!({"action": "suspend", "reason": "Dues unpaid since March"})
        ));

        let fund = |currency: &str, amount: &str| {
            let body = json!({
                "donor_organisation_id": "01936b2e-0000-7000-8000-000000000000",
                "title": "Core support", "reference": "D-1", "currency": currency,
                "amount": amount, "starts_on": "2027-01-01", "ends_on": "2027-12-31"
            });
            valid(&doc, "NewFund", body)
        };
        assert!(fund("JPY", "1000") && !fund("JPY", "1000.5"));
        assert!(fund("USD", "10.50") && !fund("USD", "10.505"));
        assert!(fund("KWD", "1.125") && !fund("KWD", "1.1255"));
        assert!(!fund("XXX", "10"));

        // Each field is described once, where it is declared, not lost inside a shape.
        let schemas = &doc["components"]["schemas"];
        for (name, field) in [
            ("MembershipCommand", "reason"),
            ("MembershipCommand", "action"),
            ("NewFund", "amount"),
            ("NewOrganisation", "kind"),
        ] {
            assert!(
                schemas[name]["properties"][field]["description"].is_string(),
                "{name}.{field}"
            );
        }
        assert_eq!(
            schemas["NewGrant"]["allOf"],
            json!([{"$ref": "#/components/schemas/CurrencyAmount"}])
        );
    }

    #[test]
    fn trimmed_lengths_are_spelled_into_the_pattern() {
        let p = trimmed(1, 2000, true);
        assert!(p.starts_with("^[\\t\\n\\r \\xA0"), "{p}");
        assert!(p.contains("{0,1998}"), "{p}");
        assert!(
            trimmed(0, 2000, true)
                .contains("[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F]{0,1998}")
        );
    }
}

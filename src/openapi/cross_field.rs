//! Rules that tie two fields of a request together, stated as an `anyOf` of the shapes the
//! server accepts (they exclude each other, but a linter cannot tell through an `allOf`), so a client (and a fuzzer) can tell a valid request from the schema alone:
//! a partner needs a partner type and a member has none (`organisation::validate_new`),
//! suspending or withdrawing a membership needs a reason (`membership::command`), and an
//! amount has at most the decimals of the currency beside it (`money::parse_amount`).

use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi, Ref, RefOr};

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
    let c = crate::kit::control_class(multiline);
    let s = spaces(multiline);
    let inner = format!("[^\\s{c}]([^{c}]{{0,{}}}[^\\s{c}])?", max.saturating_sub(2));
    let core = if min == 0 {
        format!("({inner})?")
    } else {
        inner
    };
    format!("^[{s}]*{core}[{s}]*$")
}

fn string(pattern: String, nullable: bool) -> Object {
    let mut b = ObjectBuilder::new().pattern(Some(pattern));
    b = if nullable {
        b.schema_type(utoipa::openapi::schema::SchemaType::Array(vec![
            Type::String,
            Type::Null,
        ]))
    } else {
        b.schema_type(Type::String)
    };
    b.build()
}

/// The enumeration `component`, narrowed to `values`.
fn narrowed<'a>(component: &str, values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    AllOfBuilder::new()
        .item(Ref::from_schema_name(component))
        .item(crate::codes::schema::one_of(values))
        .into()
}

/// Replaces the object component `name` by `anyOf` the shapes `shape` makes of copies of it.
fn split(doc: &mut OpenApi, name: &str, shapes: &[&dyn Fn(&mut Object)]) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(base))) = components.schemas.get(name).cloned() else {
        return;
    };
    let mut any_of = AnyOfBuilder::new().description(base.description.clone());
    for shape in shapes {
        let mut o = base.clone();
        o.description = None;
        shape(&mut o);
        any_of = any_of.item(Schema::Object(o));
    }
    components
        .schemas
        .insert(name.to_string(), RefOr::T(Schema::AnyOf(any_of.build())));
}

fn require(o: &mut Object, field: &str) {
    if !o.required.iter().any(|r| r == field) {
        o.required.push(field.to_string());
    }
}

/// A change that turns a copy of a schema into one of its shapes.
type Shape = Box<dyn Fn(&mut Object)>;

/// One shape per number of minor-unit digits: the currencies that have it, and amounts with
/// at most that many decimals.
fn amount_by_currency(doc: &mut OpenApi, name: &str) {
    let mut groups: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for (code, digits) in crate::money::CURRENCIES {
        groups.entry(*digits).or_default().push(code);
    }
    let shapes: Vec<Shape> = groups
        .into_iter()
        .map(|(digits, codes)| {
            Box::new(move |o: &mut Object| {
                let currency = crate::codes::schema::one_of(codes.iter().copied());
                o.properties.insert("currency".into(), currency.into());
                let amount = string(crate::money::amount_pattern(digits), false);
                o.properties.insert("amount".into(), amount.into());
            }) as Shape
        })
        .collect();
    let refs: Vec<&dyn Fn(&mut Object)> = shapes.iter().map(|b| b.as_ref()).collect();
    split(doc, name, &refs);
}

/// An identifier listed twice is refused (`identifiers::check`): the list's items are unique.
fn unique_identifiers(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in ["NewOrganisation", "OrganisationPatch"] {
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut(name)
            && let Some(RefOr::T(Schema::Array(list))) = o.properties.get_mut("identifiers")
        {
            list.unique_items = true;
        }
    }
}

pub fn add_to(doc: &mut OpenApi) {
    unique_identifiers(doc);
    amount_by_currency(doc, "NewFund");
    amount_by_currency(doc, "NewGrant");
    let reason = |o: &mut Object, needed: bool| {
        o.properties.insert(
            "reason".into(),
            string(trimmed(usize::from(needed), 2000, true), !needed).into(),
        );
    };
    let with_reason = [MembershipAction::Suspend, MembershipAction::Withdraw];
    split(
        doc,
        "MembershipCommand",
        &[
            &|o| {
                let others = MembershipAction::ALL
                    .iter()
                    .filter(|a| !with_reason.contains(a))
                    .map(|a| a.as_str());
                o.properties
                    .insert("action".into(), narrowed("MembershipAction", others));
                reason(o, false);
            },
            &|o| {
                let needing = with_reason.iter().map(|a| a.as_str());
                o.properties
                    .insert("action".into(), narrowed("MembershipAction", needing));
                reason(o, true);
                require(o, "reason");
            },
        ],
    );
    split(
        doc,
        "NewOrganisation",
        &[
            &|o| {
                let member = [OrganisationKind::Member.as_str()];
                o.properties
                    .insert("kind".into(), narrowed("OrganisationKind", member));
                let none = ObjectBuilder::new().schema_type(Type::Null).build();
                o.properties.insert("partner_type".into(), none.into());
            },
            &|o| {
                let partner = [OrganisationKind::Partner.as_str()];
                o.properties
                    .insert("kind".into(), narrowed("OrganisationKind", partner));
                let partner_type = Ref::from_schema_name("PartnerType");
                o.properties
                    .insert("partner_type".into(), RefOr::Ref(partner_type));
                require(o, "partner_type");
            },
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::trimmed;

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

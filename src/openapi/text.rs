//! The control-character rule stated on every string a request carries: the URL check
//! (`middleware`) refuses C0, DEL and C1 controls in every path and query parameter, and the
//! JSON extractor refuses them (line breaks and tabs excepted) in every string of a body. A
//! string schema that already has a `pattern`, `format` or `enum` is left as it is: those
//! state a narrower rule of their own.

use std::collections::BTreeSet;

use utoipa::openapi::schema::{ArrayItems, Object, Schema, SchemaType, Type};
use utoipa::openapi::{OpenApi, RefOr};

use crate::kit::control_class;

/// The pattern of a text that holds none of the refused control characters.
pub fn no_controls(multiline: bool) -> String {
    format!("^[^{}]*$", control_class(multiline))
}

/// Adds the pattern to the parameters of every operation and to the request body schemas.
pub fn add_to(doc: &mut OpenApi) {
    let mut bodies = BTreeSet::new();
    for item in doc.paths.paths.values_mut() {
        for op in super::operations_mut(item) {
            for p in op.parameters.iter_mut().flatten() {
                if let Some(schema) = p.schema.as_mut() {
                    constrain(schema, false);
                }
            }
            let Some(body) = op.request_body.as_mut() else {
                continue;
            };
            for (media, content) in body.content.iter_mut() {
                // Only JSON bodies go through the extractor that checks every string.
                if !media.ends_with("json") {
                    continue;
                }
                match content.schema.as_mut() {
                    Some(RefOr::Ref(r)) => {
                        bodies.insert(r.ref_location.clone());
                    }
                    Some(schema) => constrain(schema, true),
                    None => {}
                }
            }
        }
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    // The body schemas and every schema they refer to.
    let mut todo: Vec<String> = bodies.into_iter().collect();
    let mut seen = BTreeSet::new();
    while let Some(location) = todo.pop() {
        let Some(name) = location.strip_prefix("#/components/schemas/") else {
            continue;
        };
        if !seen.insert(name.to_string()) {
            continue;
        }
        if let Some(schema) = components.schemas.get_mut(name) {
            refs(schema, &mut todo);
            constrain(schema, true);
        }
    }
}

/// Collects the `$ref`s under `schema`.
fn refs(schema: &RefOr<Schema>, out: &mut Vec<String>) {
    match schema {
        RefOr::Ref(r) => out.push(r.ref_location.clone()),
        RefOr::T(Schema::Object(o)) => o.properties.values().for_each(|p| refs(p, out)),
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &a.items {
                refs(items, out);
            }
        }
        RefOr::T(Schema::OneOf(s)) => s.items.iter().for_each(|p| refs(p, out)),
        RefOr::T(Schema::AnyOf(s)) => s.items.iter().for_each(|p| refs(p, out)),
        RefOr::T(Schema::AllOf(s)) => s.items.iter().for_each(|p| refs(p, out)),
        RefOr::T(_) => {}
    }
}

/// Puts the pattern on every unconstrained string under `schema` (not through `$ref`s).
fn constrain(schema: &mut RefOr<Schema>, multiline: bool) {
    match schema {
        RefOr::Ref(_) => {}
        RefOr::T(Schema::Object(o)) => {
            if is_free_string(o) {
                o.pattern = Some(no_controls(multiline));
            }
            o.properties
                .values_mut()
                .for_each(|p| constrain(p, multiline));
        }
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                constrain(items, multiline);
            }
        }
        RefOr::T(Schema::OneOf(s)) => s.items.iter_mut().for_each(|p| constrain(p, multiline)),
        RefOr::T(Schema::AnyOf(s)) => s.items.iter_mut().for_each(|p| constrain(p, multiline)),
        RefOr::T(Schema::AllOf(s)) => s.items.iter_mut().for_each(|p| constrain(p, multiline)),
        RefOr::T(_) => {}
    }
}

/// A string (or nullable string) with no pattern, format or enumeration of its own.
fn is_free_string(o: &Object) -> bool {
    let string = match &o.schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    };
    string && o.pattern.is_none() && o.format.is_none() && o.enum_values.is_none()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_free_request_string_refuses_controls() {
        let doc: serde_json::Value =
            serde_json::from_str(&crate::openapi::spec_json()).expect("the document is JSON");
        let reason = &doc["components"]["schemas"]["ReasonBody"]["properties"]["reason"];
        assert!(
            reason["pattern"]
                .as_str()
                .is_some_and(|p| p.contains("\\x0E-\\x1F"))
        );
        // Shared parameters are published once, under components, and referred to.
        let resolve = |p: &serde_json::Value| match p["$ref"].as_str() {
            Some(r) => r
                .trim_start_matches("#/")
                .split('/')
                .fold(&doc, |v, key| &v[key])
                .clone(),
            None => p.clone(),
        };
        let cursor = doc["paths"]["/api/v1/grants"]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().map(resolve).find(|p| p["name"] == "cursor"))
            .expect("a cursor parameter");
        assert_eq!(cursor["schema"]["pattern"], "^[^\\x00-\\x1F\\x7F-\\x9F]*$");
    }
}

//! The published document states once what many operations share: a parameter that two or
//! more operations (or webhooks) declare identically is written under
//! `components/parameters` and referred to from each. utoipa's operations hold their
//! parameters inline (not as references), so this is done on the JSON of the finished
//! document, the one form that is served at `/openapi.json` and committed.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation object of the document's `paths` and `webhooks`.
fn operations(doc: &mut Value) -> Vec<&mut Map<String, Value>> {
    let mut out = Vec::new();
    let Some(root) = doc.as_object_mut() else {
        return out;
    };
    for (section, items) in root.iter_mut() {
        if section != "paths" && section != "webhooks" {
            continue;
        }
        for item in items
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            for (method, op) in item.as_object_mut().into_iter().flatten() {
                if METHODS.contains(&method.as_str())
                    && let Some(op) = op.as_object_mut()
                {
                    out.push(op);
                }
            }
        }
    }
    out
}

/// A component key for `param` (keys allow letters, digits, `.`, `-` and `_`): its name,
/// or, where several shared parameters have that name (the `id` of each kind of object),
/// its description in camel case (`Grant id` → `GrantId`).
fn key_for(param: &Value, name_taken: bool) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect()
    };
    let name = param["name"].as_str().unwrap_or("parameter");
    if !name_taken {
        return clean(name);
    }
    let description = param["description"].as_str().unwrap_or(name);
    let camel: String = description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(4)
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect();
    let place = param["in"].as_str().unwrap_or("");
    format!(
        "{}{}",
        clean(&camel),
        if place == "header" { "Header" } else { "" }
    )
}

/// A path parameter is always required (OpenAPI 3.1); utoipa leaves `required` false on one
/// whose schema comes from `schema_with`.
fn require_path_parameters(doc: &mut Value) {
    for op in operations(doc) {
        let params = op.get_mut("parameters").and_then(Value::as_array_mut);
        for p in params.into_iter().flatten() {
            if p.get("in").and_then(Value::as_str) == Some("path") {
                p["required"] = Value::Bool(true);
            }
        }
    }
}

/// Moves every parameter that appears identically in two or more operations into
/// `components/parameters` and replaces each use with a `$ref` to it. Parameters used once
/// stay inline. Keys are deterministic (the document does not change between runs).
pub fn share_parameters(doc: &mut Value) {
    require_path_parameters(doc);
    // Count identical parameters (serde_json's maps are sorted, so equal objects print equal).
    let mut uses: BTreeMap<String, (usize, Value)> = BTreeMap::new();
    for op in operations(doc) {
        for p in op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if p.get("$ref").is_some() {
                continue;
            }
            uses.entry(p.to_string())
                .or_insert_with(|| (0, p.clone()))
                .0 += 1;
        }
    }
    let shared: Vec<(String, Value)> = uses
        .into_iter()
        .filter(|(_, (n, _))| *n >= 2)
        .map(|(k, (_, v))| (k, v))
        .collect();
    if shared.is_empty() {
        return;
    }
    let mut names: HashMap<String, usize> = HashMap::new();
    for (_, p) in &shared {
        *names
            .entry(p["name"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let mut keys: HashMap<String, String> = HashMap::new();
    let mut components = Map::new();
    for (text, p) in shared {
        let taken = names
            .get(p["name"].as_str().unwrap_or_default())
            .is_some_and(|n| *n > 1);
        let mut key = key_for(&p, taken);
        let mut n = 2;
        while components.contains_key(&key) {
            key = format!("{}{n}", key_for(&p, taken));
            n += 1;
        }
        components.insert(key.clone(), p);
        keys.insert(text, key);
    }
    for op in operations(doc) {
        for p in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(key) = keys.get(&p.to_string()) {
                *p = serde_json::json!({ "$ref": format!("#/components/parameters/{key}") });
            }
        }
    }
    if let Some(c) = doc.get_mut("components").and_then(Value::as_object_mut) {
        c.insert("parameters".into(), Value::Object(components));
    }
}

/// The code lists that schemas and parameters take their values from, each under the name
/// it is published as: `(name, description, values)`.
fn code_lists() -> Vec<(&'static str, &'static str, Value)> {
    use crate::codes::schema::{country, currency, language, pillar, priority_area, region};
    [
        (
            "CountryCode",
            "An assigned ISO 3166-1 alpha-2 country code.",
            country(),
        ),
        (
            "CurrencyCode",
            "An ISO 4217 currency code the service accepts.",
            currency(),
        ),
        ("LanguageCode", "An ISO 639-1 language code.", language()),
        ("Region", "A region of the network.", region()),
        (
            "Pillar",
            "One of the network's five strategic pillars.",
            pillar(),
        ),
        (
            "PriorityArea",
            "One of the network's five priority areas.",
            priority_area(),
        ),
    ]
    .into_iter()
    .map(|(name, description, schema)| {
        let values = serde_json::to_value(schema.enum_values).unwrap_or_default();
        (name, description, values)
    })
    .collect()
}

/// Replaces every enumeration of a whole code list (the 249 countries, say) by a `$ref` to
/// the list, written once under `components/schemas`; a nullable one becomes `anyOf` the
/// list and `null`. A client generator then sees one named type instead of many copies.
pub fn name_code_lists(doc: &mut Value) {
    fn visit(v: &mut Value, lists: &[(&str, &str, Value)], used: &mut Vec<usize>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Array(values)) = o.get("enum") {
                    let nullable = values.contains(&Value::Null);
                    let named: Vec<Value> =
                        values.iter().filter(|v| !v.is_null()).cloned().collect();
                    if let Some(i) = lists
                        .iter()
                        .position(|l| l.2 == Value::Array(named.clone()))
                    {
                        o.remove("enum");
                        o.remove("type");
                        let list = serde_json::json!({ "$ref": format!("#/components/schemas/{}", lists[i].0) });
                        if nullable {
                            o.insert(
                                "anyOf".into(),
                                serde_json::json!([list, { "type": "null" }]),
                            );
                        } else if let Value::Object(r) = list {
                            o.extend(r);
                        }
                        if !used.contains(&i) {
                            used.push(i);
                        }
                        return;
                    }
                }
                o.values_mut().for_each(|v| visit(v, lists, used));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| visit(v, lists, used)),
            _ => {}
        }
    }
    let lists = code_lists();
    let mut used = Vec::new();
    visit(doc, &lists, &mut used);
    for i in used {
        let (name, description, values) = &lists[i];
        let schema = serde_json::json!({
            "type": "string",
            "description": description,
            "enum": values,
        });
        add_schema(doc, name, schema);
    }
}

/// Adds (or replaces) the component schema `name` of the published document.
pub(super) fn add_schema(doc: &mut Value, name: &str, schema: Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert(name.to_string(), schema);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_parameter_two_operations_share_is_stated_once_and_referred_to() {
        let limit = json!({"name": "limit", "in": "query", "schema": {"type": "integer"}});
        let grant =
            json!({"name": "id", "in": "path", "required": true, "description": "Grant id"});
        let fund = json!({"name": "id", "in": "path", "required": true, "description": "Fund id"});
        let once = json!({"name": "q", "in": "query"});
        let mut doc = json!({
            "paths": {
                "/grants/{id}": {"get": {"parameters": [grant]}, "patch": {"parameters": [grant, limit]}},
                "/funds/{id}": {"get": {"parameters": [fund, limit]}, "delete": {"parameters": [fund]}},
                "/organisations": {"get": {"parameters": [once]}}
            },
            "components": {}
        });
        share_parameters(&mut doc);
        assert_eq!(doc["components"]["parameters"]["limit"], limit);
        assert_eq!(doc["components"]["parameters"]["GrantId"], grant);
        assert_eq!(doc["components"]["parameters"]["FundId"], fund);
        assert_eq!(
            doc["paths"]["/grants/{id}"]["patch"]["parameters"],
            json!([{"$ref": "#/components/parameters/GrantId"}, {"$ref": "#/components/parameters/limit"}])
        );
        // Used once: stays where it is.
        assert_eq!(doc["paths"]["/organisations"]["get"]["parameters"][0], once);
        assert_eq!(
            doc["components"]["parameters"].as_object().unwrap().len(),
            3
        );
    }

    #[test]
    fn a_whole_code_list_is_written_once_and_referred_to() {
        let countries = serde_json::to_value(crate::codes::schema::country()).unwrap();
        let nullable = serde_json::to_value(crate::codes::schema::or_null(
            crate::codes::schema::country(),
        ))
        .unwrap();
        let other = serde_json::to_value(crate::codes::schema::one_of(["AD", "AE"])).unwrap();
        let mut doc = json!({
            "paths": {"/organisations": {"get": {"parameters": [
                {"name": "country", "in": "query", "schema": countries}
            ]}}},
            "components": {"schemas": {"Patch": {"properties": {
                "country": {"description": "Where.", "enum": nullable["enum"], "type": nullable["type"]},
                "near": other,
            }}}}
        });
        name_code_lists(&mut doc);
        let country = json!({"$ref": "#/components/schemas/CountryCode"});
        assert_eq!(
            doc["paths"]["/organisations"]["get"]["parameters"][0]["schema"],
            country
        );
        assert_eq!(
            doc["components"]["schemas"]["Patch"]["properties"]["country"],
            json!({"description": "Where.", "anyOf": [country, {"type": "null"}]})
        );
        // A list that is not a whole code list stays inline.
        assert_eq!(
            doc["components"]["schemas"]["Patch"]["properties"]["near"],
            other
        );
        let named = &doc["components"]["schemas"]["CountryCode"];
        assert_eq!(named["enum"].as_array().unwrap().len(), 249);
        assert!(doc["components"]["schemas"].get("CurrencyCode").is_none());
    }
}

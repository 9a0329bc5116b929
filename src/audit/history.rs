//! The per-field history of an entity, read from the audit trail: each event's before →
//! after snapshots flattened to dotted paths and compared, cursor-paged like every list.
//! Who may read which entity's history is decided by the entity's own module.

use std::collections::BTreeMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbConn;
use crate::db::schema::audit_events;
use crate::error::ApiError;
use crate::kit::rfc3339;
use crate::pagination;

/// One changed field in a history entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldChange {
    /// Dotted path, e.g. `profile.description`.
    pub field: String,
    /// Value before (null when absent).
    pub before: serde_json::Value,
    /// Value after (null when absent).
    pub after: serde_json::Value,
}

/// One audit event of an entity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Audit event id.
    pub id: String,
    /// When (RFC 3339).
    pub occurred_at: String,
    /// What happened, e.g. `organisation.updated` or `fund.reserved`.
    pub action: String,
    /// user, api_client, system or anonymous.
    pub actor_kind: String,
    /// The acting user or client, when there is one.
    pub actor_id: Option<String>,
    /// Fields whose value changed.
    pub changes: Vec<FieldChange>,
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The fields that differ between two snapshots, as dotted paths.
pub fn diff(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<FieldChange> {
    let (mut b, mut a) = (BTreeMap::new(), BTreeMap::new());
    if let Some(v) = before {
        flatten("", v, &mut b);
    }
    if let Some(v) = after {
        flatten("", v, &mut a);
    }
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "version" | "updated_at" | "created_at"))
        .filter_map(|k| {
            let (bv, av) = (
                b.get(k).cloned().unwrap_or(serde_json::Value::Null),
                a.get(k).cloned().unwrap_or(serde_json::Value::Null),
            );
            (bv != av).then(|| FieldChange {
                field: k.clone(),
                before: bv,
                after: av,
            })
        })
        .collect()
}

/// The audit events of `entity_type` `entity_id`, oldest first (call it once the caller may
/// read them).
pub fn page(
    conn: &mut DbConn,
    entity_type: &str,
    entity_id: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<HistoryEntry>, ApiError> {
    let after = pagination::decode_cursor(cursor, 1)?;
    type Ev = (
        String,
        chrono::NaiveDateTime,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let base = audit_events::table
        .filter(audit_events::entity_type.eq(entity_type))
        .filter(audit_events::entity_id.eq(entity_id));
    let mut q = base
        .select((
            audit_events::id,
            audit_events::occurred_at,
            audit_events::action,
            audit_events::actor_kind,
            audit_events::actor_id,
            audit_events::before_json,
            audit_events::after_json,
        ))
        .order(audit_events::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(audit_events::id.gt(a[0].clone()));
    }
    let mut rows: Vec<Ev> = q.load(conn)?;
    let total: i64 = base.count().get_result(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.0.clone());
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
    let data = rows
        .into_iter()
        .map(|(id, at, action, kind, actor, b, a)| {
            let (b, a): (Option<serde_json::Value>, Option<serde_json::Value>) =
                (parse(&b), parse(&a));
            HistoryEntry {
                id,
                occurred_at: rfc3339(at),
                action,
                actor_kind: kind,
                actor_id: actor,
                changes: diff(b.as_ref(), a.as_ref()),
            }
        })
        .collect();
    Ok(pagination::Page {
        data,
        next_cursor,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_nested_fields_that_changed() {
        let b = serde_json::json!({"name": "A", "profile": {"city": "X", "languages": ["en"]}, "version": 1});
        let a = serde_json::json!({"name": "A", "profile": {"city": "Y", "languages": ["en"]}, "version": 2});
        let d = diff(Some(&b), Some(&a));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "profile.city");
        assert_eq!(d[0].before, "X");
    }
}

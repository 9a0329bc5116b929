//! Outbox rules: how a message is enqueued, claimed, marked sent, retried and given up on.
//! No HTTP here; the worker and the admin API call these functions.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::Value;

use super::model::{OutboxRow, OutboxStatus};
use super::templates::{self, Kind};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::outbox;
use crate::error::ApiError;
use crate::queue::{self, Attempt, Job, Policy, Requeue, Settled};
use crate::{AppState, pagination};

/// Who receives a message.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// Address.
    pub email: String,
    /// Name used in the greeting.
    pub name: String,
    /// The user, when the recipient is one; a command never emails its own author.
    pub user_id: Option<String>,
    /// The language the message is written in (the user's own; English for others).
    pub lang: crate::i18n::Lang,
}

/// Renders and stores a message in the caller's transaction.
///
/// With a `dedupe_key`, a second enqueue with the same key is a no-op (returns `None`),
/// which is how reminders are sent exactly once however often a job runs.
pub fn enqueue(
    conn: &mut DbConn,
    config: &Config,
    kind: Kind,
    to: &Recipient,
    mut context: Value,
    dedupe_key: Option<String>,
) -> Result<Option<String>, ApiError> {
    if let Value::Object(map) = &mut context {
        map.insert(
            "network_name".into(),
            Value::String(config.network_name.clone()),
        );
        map.insert("recipient_name".into(), Value::String(to.name.clone()));
        map.insert(
            "base_url".into(),
            Value::String(config.app_base_url.clone()),
        );
        map.insert("lang".into(), Value::String(to.lang.code().into()));
    }
    crate::i18n::format::localize_json(&mut context, to.lang);
    let rendered = templates::render(kind, &context)
        .map_err(|e| ApiError::Internal(format!("template {kind:?}: {e:#}")))?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = config.clock.naive();
    let row = OutboxRow {
        message_id: format!("<{id}@{}>", mail_domain(&config.mail_from)),
        id: id.clone(),
        kind: kind.name().into(),
        recipient_email: to.email.clone(),
        recipient_name: to.name.clone(),
        subject: rendered.subject,
        body_text: rendered.text,
        body_html: rendered.html,
        dedupe_key: dedupe_key.clone(),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        lease_owner: None,
        lease_until: None,
        last_error: None,
        created_at: now,
        sent_at: None,
    };
    if dedupe_key.is_none() {
        diesel::insert_into(outbox::table)
            .values(&row)
            .execute(conn)?;
        return Ok(Some(id));
    }
    // A savepoint, so a duplicate key does not abort the caller's transaction on PostgreSQL.
    let inserted = conn.transaction(|c| diesel::insert_into(outbox::table).values(&row).execute(c));
    match inserted {
        Ok(_) => Ok(Some(id)),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn mail_domain(from: &str) -> String {
    from.rsplit('@')
        .next()
        .map(|d| d.trim_end_matches('>').trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Marks a pending message as delivered by other means than the notifier (the demo data
/// reads its own invitations), redacting its links as sending would: its tokens then work
/// for whoever was handed the message, and the row keeps none.
pub fn hand_over(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    crate::db::write_tx(conn, |c| {
        diesel::update(
            outbox::table
                .filter(outbox::id.eq(id))
                .filter(outbox::status.eq(OutboxStatus::Pending)),
        )
        .set((
            outbox::status.eq(OutboxStatus::Sent),
            outbox::sent_at.eq(Some(now)),
        ))
        .execute(c)?;
        redact_sent(c, id)
    })
}

/// True when a message that was never sent (pending, or dead before its redaction) holds
/// `token` in a link. Such a token does not work: until the recipient has been sent it, a
/// token readable in the outbox (by an admin or in the database) would be a usable copy.
/// Sent and dead rows are redacted, so once sent the recipient's copy is the only one.
pub fn unsent_message_holds(conn: &mut DbConn, token: &str) -> Result<bool, ApiError> {
    // A token is URL-safe base64: `_` is a LIKE wildcard and is escaped.
    let escaped: String = token
        .chars()
        .flat_map(|c| match c {
            '_' | '%' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("%token={escaped}%");
    let n: i64 = outbox::table
        .filter(outbox::status.ne(OutboxStatus::Sent))
        .filter(
            outbox::body_text
                .like(&pattern)
                .escape('\\')
                .or(outbox::body_html.like(&pattern).escape('\\')),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A sent (or dead) message keeps no usable one-time link: every `token=` query value in its
/// bodies becomes `[redacted]` (the recipient's copy is the only one that works).
pub fn redact_sent(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    let bodies: Option<(String, String)> = outbox::table
        .find(id)
        .filter(
            outbox::body_text
                .like("%token=%")
                .or(outbox::body_html.like("%token=%")),
        )
        .select((outbox::body_text, outbox::body_html))
        .first(conn)
        .optional()?;
    if let Some((text, html)) = bodies {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::body_text.eq(redact_tokens(&text)),
                outbox::body_html.eq(redact_tokens(&html)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Spends every one-time token whose link a message holds: a message that will never be
/// sent leaves no token that works, even one read from its row while it waited.
fn void_tokens(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    use crate::db::schema::one_time_tokens;
    let text: String = outbox::table
        .find(id)
        .select(outbox::body_text)
        .first(conn)?;
    let hashes: Vec<String> = tokens_in(&text)
        .iter()
        .map(|t| crate::auth::tokens::hash_opaque(t))
        .collect();
    if !hashes.is_empty() {
        diesel::update(
            one_time_tokens::table
                .filter(one_time_tokens::token_hash.eq_any(hashes))
                .filter(one_time_tokens::used_at.is_null()),
        )
        .set(one_time_tokens::used_at.eq(Some(now)))
        .execute(conn)?;
    }
    Ok(())
}

/// The value of every `token=` parameter in `s`.
fn tokens_in(s: &str) -> Vec<String> {
    s.split("token=")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// Replaces the value of every `token=` parameter in `s` with `[redacted]`.
pub fn redact_tokens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("token=") {
        out.push_str(&rest[..i + "token=".len()]);
        rest = &rest[i + "token=".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '%'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Puts a dead message back in the queue with a fresh attempt budget.
pub fn retry_dead(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Result<OutboxRow, ApiError> {
    let requeued = queue::requeue::<OutboxRow>(conn, id, now, Requeue::DeadAfresh)?;
    let row: OutboxRow = outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)?;
    if !requeued {
        return Err(ApiError::Conflict {
            code: crate::error::ConflictCode::OutboxNotDead,
            detail: format!(
                "Only a dead message can be retried; this one is {}.",
                row.status
            ),
        });
    }
    Ok(row)
}

/// One page of the outbox, newest first.
pub fn list(
    conn: &mut DbConn,
    status: Option<OutboxStatus>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<OutboxRow>, ApiError> {
    let after = pagination::decode_cursor(cursor, 2)?;
    let mut q = outbox::table.select(OutboxRow::as_select()).into_boxed();
    let mut count = outbox::table.count().into_boxed();
    if let Some(s) = status {
        q = q.filter(outbox::status.eq(s));
        count = count.filter(outbox::status.eq(s));
    }
    if let Some(parts) = after {
        let ts =
            NaiveDateTime::parse_from_str(&parts[0], "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| {
                ApiError::field("cursor", "invalid", "cursor is not one this API issued.")
            })?;
        q = q.filter(
            outbox::created_at.lt(ts).or(outbox::created_at
                .eq(ts)
                .and(outbox::id.lt(parts[1].clone()))),
        );
    }
    let mut rows: Vec<OutboxRow> = q
        .order((outbox::created_at.desc(), outbox::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let total: i64 = count.get_result(conn)?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| {
            pagination::encode_cursor(&[
                &r.created_at.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
                &r.id,
            ])
        })
    } else {
        None
    };
    Ok(pagination::Page {
        data: rows,
        next_cursor,
        total,
    })
}

/// Updates the outbox gauges from the database.
pub async fn refresh_metrics(state: &AppState) -> Result<(), ApiError> {
    let (counts, oldest) = state
        .db(|conn| {
            let counts: Vec<(OutboxStatus, i64)> = outbox::table
                .group_by(outbox::status)
                .select((outbox::status, diesel::dsl::count_star()))
                .load(conn)?;
            let oldest: Option<NaiveDateTime> = outbox::table
                .filter(outbox::status.eq(OutboxStatus::Pending))
                .select(diesel::dsl::min(outbox::created_at))
                .first(conn)?;
            Ok((counts, oldest))
        })
        .await?;
    for s in OutboxStatus::ALL {
        let n = counts
            .iter()
            .find(|(k, _)| k == s)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        state.metrics.outbox.with_label_values(&[s.as_str()]).set(n);
    }
    let age = oldest
        .map(|t| (state.clock().naive() - t).num_seconds().max(0))
        .unwrap_or(0);
    state.metrics.outbox_oldest_pending_age.set(age);
    Ok(())
}

/// Email is a kind of job on the one queue: sent once the transport accepted it, dead after
/// `OUTBOX_MAX_ATTEMPTS`. A sent or dead message keeps no usable one-time link.
impl Job for OutboxRow {
    const TABLE: &'static str = "outbox";
    const DELIVERED: &'static str = OutboxStatus::Sent.as_str();
    const DEAD: &'static str = OutboxStatus::Dead.as_str();
    type Report = ();

    crate::queue::job_columns!();

    fn policy(config: &Config) -> Policy {
        Policy {
            max_attempts: config.outbox_max_attempts,
            retry_base_ms: config.outbox_retry_base_ms,
        }
    }

    /// A sent message is redacted in the transaction that marks it sent: no moment exists
    /// where a sent row holds a usable token. A dead one keeps no token either: nobody was
    /// sent it, and a retry by an admin sends the link redacted (the person asks again).
    fn on_settled(
        &self,
        conn: &mut DbConn,
        config: &Config,
        _attempt: &Attempt<()>,
        settled: Settled,
    ) -> Result<(), ApiError> {
        let now = config.clock.naive();
        match settled {
            Settled::Delivered => {
                diesel::update(outbox::table.find(&self.id))
                    .set(outbox::sent_at.eq(Some(now)))
                    .execute(conn)?;
                redact_sent(conn, &self.id)
            }
            Settled::Dead => {
                void_tokens(conn, &self.id, now)?;
                redact_sent(conn, &self.id)
            }
            Settled::Retry | Settled::LeaseLost => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_tokens_are_redacted_from_links_and_nothing_else() {
        assert_eq!(
            redact_tokens(
                "Open http://x/accept?token=Ab-c_9 now.\n<a href=\"http://x/r?token=Q1\">"
            ),
            "Open http://x/accept?token=[redacted] now.\n<a href=\"http://x/r?token=[redacted]\">"
        );
        assert_eq!(redact_tokens("no link here"), "no link here");
    }

    #[test]
    fn every_token_of_a_body_is_found_to_be_voided() {
        assert_eq!(
            tokens_in("a http://x/accept?token=Ab-c_9 b <a href=\"http://x/r?token=Q1\">"),
            vec!["Ab-c_9".to_string(), "Q1".to_string()]
        );
        assert!(tokens_in("token=[redacted]").is_empty());
    }
}

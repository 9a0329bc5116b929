//! The daily membership job: active → grace once the period has ended, grace → lapsed once
//! the grace days have passed, and reminders 30 and 7 days before the end. Safe to run any
//! number of times a day: transitions are conditional UPDATEs and each reminder carries a
//! dedupe key (organisation, period end, reminder, recipient), so it is enqueued once.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use serde_json::json;

use super::model::{Organisation, OrganisationRow};
use crate::AppState;
use crate::audit::{self, Actor, Event};
use crate::db::schema::{organisations, users};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;
use crate::notify::{self, Kind, Recipient};

/// Reminder days before the end of a period, largest first.
pub const REMINDER_DAYS: [i64; 2] = [30, 7];

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleReport {
    /// Memberships moved to grace.
    pub to_grace: usize,
    /// Memberships moved to lapsed.
    pub to_lapsed: usize,
    /// Reminder emails newly enqueued.
    pub reminders: usize,
}

fn move_status(
    c: &mut DbConn,
    row: &OrganisationRow,
    from: &str,
    to: &str,
    action: &str,
) -> Result<bool, ApiError> {
    write_tx(c, |c| {
        let n = diesel::update(
            organisations::table
                .filter(organisations::id.eq(&row.id))
                .filter(organisations::membership_status.eq(from)),
        )
        .set((
            organisations::membership_status.eq(to),
            organisations::updated_at.eq(chrono::Utc::now().naive_utc()),
            organisations::version.eq(organisations::version + 1),
        ))
        .execute(c)?;
        if n == 0 {
            return Ok(false);
        }
        let mut after = row.clone();
        after.membership_status = Some(to.into());
        after.version += 1;
        crate::webhooks::publish(
            c,
            crate::webhooks::WebhookEvent::MembershipChanged(after.clone()),
        )?;
        audit::record(
            c,
            Event {
                actor: &Actor::System,
                action,
                entity_type: "organisation",
                entity_id: &row.id,
                before: audit::snapshot(&Organisation::from(row.clone())),
                after: audit::snapshot(&Organisation::from(after)),
                request_id: None,
            },
        )?;
        Ok(true)
    })
}

fn with_status_ending_before(
    c: &mut DbConn,
    status: &str,
    before: NaiveDate,
) -> QueryResult<Vec<OrganisationRow>> {
    organisations::table
        .filter(organisations::membership_status.eq(status))
        .filter(organisations::membership_period_end.lt(before))
        .select(OrganisationRow::as_select())
        .order(organisations::id.asc())
        .load(c)
}

/// Runs the lifecycle for `today` (the worker passes the UTC date; tests pass any date).
pub fn run_on(
    c: &mut DbConn,
    config: &crate::config::Config,
    today: NaiveDate,
) -> Result<LifecycleReport, ApiError> {
    let mut report = LifecycleReport::default();
    // The period includes its end date: the day after it, the membership is in grace.
    for row in with_status_ending_before(c, "active", today)? {
        if move_status(c, &row, "active", "grace", "membership.grace_started")? {
            report.to_grace += 1;
        }
    }
    let lapse_before = today - Duration::days(config.membership_grace_days);
    for row in with_status_ending_before(c, "grace", lapse_before)? {
        if move_status(c, &row, "grace", "lapsed", "membership.lapsed")? {
            report.to_lapsed += 1;
        }
    }
    let horizon = today + Duration::days(REMINDER_DAYS[0]);
    let due: Vec<OrganisationRow> = organisations::table
        .filter(organisations::membership_status.eq("active"))
        .filter(organisations::membership_period_end.ge(today))
        .filter(organisations::membership_period_end.le(horizon))
        .select(OrganisationRow::as_select())
        .order(organisations::id.asc())
        .load(c)?;
    for org in due {
        let Some(end) = org.membership_period_end else {
            continue;
        };
        let days_left = (end - today).num_days();
        // The nearest reminder not yet passed: a period that starts 20 days before its end
        // gets only the 7-day one, and a job that missed a day still sends it.
        let Some(which) = REMINDER_DAYS
            .iter()
            .rev()
            .find(|d| days_left <= **d)
            .copied()
        else {
            continue;
        };
        let members: Vec<(String, String, String)> = users::table
            .filter(users::organisation_id.eq(&org.id))
            .filter(users::role.eq("member"))
            .filter(users::status.eq("active"))
            .select((users::id, users::email, users::display_name))
            .order(users::id.asc())
            .load(c)?;
        let link = format!(
            "{}/organisations/{}/membership",
            config.public_base_url, org.slug
        );
        write_tx(c, |c| {
            for (user_id, email, name) in &members {
                let key = format!("membership_reminder:{}:{end}:{which}:{user_id}", org.id);
                let sent = notify::enqueue(
                    c,
                    config,
                    Kind::MembershipReminder,
                    &Recipient {
                        email: email.clone(),
                        name: name.clone(),
                    },
                    json!({
                        "organisation_name": org.name,
                        "period_end": end.to_string(),
                        "days_left": days_left,
                        "link": link,
                    }),
                    Some(key),
                )?;
                if sent.is_some() {
                    report.reminders += 1;
                }
            }
            Ok::<_, ApiError>(())
        })?;
    }
    Ok(report)
}

/// Runs the lifecycle on the blocking pool.
pub async fn run(state: &AppState, today: NaiveDate) -> Result<LifecycleReport, ApiError> {
    let config = state.config.clone();
    let report = state.db(move |c| run_on(c, &config, today)).await?;
    if report != LifecycleReport::default() {
        tracing::info!(?report, %today, "membership lifecycle");
    }
    Ok(report)
}

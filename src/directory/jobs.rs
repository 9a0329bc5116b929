//! The daily membership job: active → grace once the period has ended, grace → lapsed once
//! the grace days have passed, and reminders 30 and 7 days before the end. Safe to run any
//! number of times a day: transitions are conditional UPDATEs and each reminder carries a
//! dedupe key (organisation, period end, reminder, recipient), so it is enqueued once.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;

use super::membership::{self, Change, MembershipMail, MembershipReminder, MembershipStatus};
use super::organisation::OrganisationRow;
use crate::AppState;
use crate::audit::Actor;
use crate::auth::principal::RequestMeta;
use crate::command;
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::error::ApiError;
use crate::notify::matrix::Event;

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

fn system() -> RequestMeta {
    RequestMeta {
        request_id: None,
        ip: String::new(),
    }
}

/// Applies a date-driven change; false when the row moved meanwhile.
fn move_status(
    c: &mut DbConn,
    config: &crate::config::Config,
    row: &OrganisationRow,
    change: Change,
    today: NaiveDate,
) -> Result<bool, ApiError> {
    command::run(c, config, &Actor::System, &system(), |ctx| {
        Ok(membership::apply(ctx, row, change, today, None)?.is_some())
    })
}

fn with_status_ending_before(
    c: &mut DbConn,
    status: MembershipStatus,
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
    for row in with_status_ending_before(c, MembershipStatus::Active, today)? {
        if move_status(c, config, &row, Change::PeriodEnded, today)? {
            report.to_grace += 1;
        }
    }
    let lapse_before = today - Duration::days(config.membership_grace_days);
    for row in with_status_ending_before(c, MembershipStatus::Grace, lapse_before)? {
        if move_status(c, config, &row, Change::GraceExpired, today)? {
            report.to_lapsed += 1;
        }
    }
    let horizon = today + Duration::days(REMINDER_DAYS[0]);
    let due: Vec<OrganisationRow> = organisations::table
        .filter(organisations::membership_status.eq(MembershipStatus::Active))
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
        let msg = MembershipReminder(MembershipMail::of(config, &org, today, None));
        let key_of =
            |user_id: &str| format!("membership_reminder:{}:{end}:{which}:{user_id}", org.id);
        let parties = MembershipMail::parties(&org);
        // The dedupe key makes a repeat a no-op; only new messages are counted.
        report.reminders += command::run(c, config, &Actor::System, &system(), |ctx| {
            ctx.tell_keyed(Event::MembershipEndingSoon, &parties, &msg, |r| {
                r.user_id.as_deref().map(key_of)
            })
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

//! The daily grant job: report reminders 14 and 3 days before the due date and once overdue.
//! Each reminder is sent at most once per report, stage and recipient (outbox dedupe keys), so
//! the job may run any number of times a day, on any number of instances.

use chrono::{Days, NaiveDate};
use diesel::prelude::*;
use serde_json::json;

use super::grant::{GrantRow, GrantStatus};
use super::mails::{self, ReportDueMail, ReportMail, ReportOverdueMail, ReportOverdueOfficerMail};
use super::report::{ReportRow, ReportStatus};
use crate::audit::Actor;
use crate::auth::principal::RequestMeta;
use crate::command::{self, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{grant_reports, grants};
use crate::error::ApiError;
use crate::notify::Recipient;
use crate::notify::matrix::Event;

/// Which reminder a report is due for on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Within 14 days of the due date.
    Due14,
    /// Within 3 days of the due date.
    Due3,
    /// Past the due date.
    Overdue,
}

impl Stage {
    /// The stage for a report due `days` from today (None: too early for any reminder).
    pub fn for_days(days: i64) -> Option<Stage> {
        match days {
            d if d < 0 => Some(Stage::Overdue),
            0..=3 => Some(Stage::Due3),
            4..=14 => Some(Stage::Due14),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stage::Due14 => "due_14",
            Stage::Due3 => "due_3",
            Stage::Overdue => "overdue",
        }
    }
}

/// Sends the reminders owed on `today`. The lead wires this into the worker's daily tick.
pub async fn run(state: &crate::AppState, today: NaiveDate) -> Result<(), ApiError> {
    let config = state.config.clone();
    state.db(move |c| remind(c, &config, today)).await
}

fn remind(conn: &mut DbConn, config: &Config, today: NaiveDate) -> Result<(), ApiError> {
    let horizon = today.checked_add_days(Days::new(14)).unwrap_or(today);
    let rows: Vec<(ReportRow, GrantRow)> = grant_reports::table
        .inner_join(grants::table)
        .filter(grant_reports::status.eq_any([ReportStatus::Due, ReportStatus::Returned]))
        .filter(grant_reports::due_on.le(horizon))
        .filter(grants::status.eq_any([GrantStatus::Approved, GrantStatus::Active]))
        .order(grant_reports::id.asc())
        .select((ReportRow::as_select(), GrantRow::as_select()))
        .load(conn)?;
    for (report, grant) in rows {
        let days = (report.due_on - today).num_days();
        let Some(stage) = Stage::for_days(days) else {
            continue;
        };
        command::run(
            conn,
            config,
            &Actor::System,
            &RequestMeta::default(),
            |ctx| remind_one(ctx, &report, &grant, stage, days),
        )?;
    }
    Ok(())
}

fn remind_one(
    ctx: &mut Ctx<'_>,
    report: &ReportRow,
    grant: &GrantRow,
    stage: Stage,
    days: i64,
) -> Result<(), ApiError> {
    let parties = mails::report_parties(grant, report);
    let key = |r: &Recipient| {
        Some(format!(
            "report:{}:{}:{}",
            report.id,
            stage.name(),
            r.user_id.as_deref().unwrap_or(&r.email)
        ))
    };
    let mail = ReportMail::of(ctx.conn, ctx.config, grant, report, days)?;
    let sent = if stage == Stage::Overdue {
        let officer = ReportMail::of(ctx.conn, ctx.config, grant, report, days)?;
        ctx.tell_keyed(
            Event::ReportOverdue,
            &parties,
            &ReportOverdueMail(mail),
            key,
        )? + ctx.tell_keyed(
            Event::ReportOverdue,
            &parties,
            &ReportOverdueOfficerMail(officer),
            key,
        )?
    } else {
        ctx.tell_keyed(Event::ReportDueSoon, &parties, &ReportDueMail(mail), key)?
    };
    if sent > 0 {
        ctx.audit_raw(
            "report.reminder_sent",
            "grant_report",
            &report.id,
            None,
            Some(json!({"stage": stage.name(), "recipients": sent})),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_days_left() {
        assert_eq!(Stage::for_days(15), None);
        assert_eq!(Stage::for_days(14), Some(Stage::Due14));
        assert_eq!(Stage::for_days(4), Some(Stage::Due14));
        assert_eq!(Stage::for_days(3), Some(Stage::Due3));
        assert_eq!(Stage::for_days(0), Some(Stage::Due3));
        assert_eq!(Stage::for_days(-1), Some(Stage::Overdue));
    }
}

//! The steps the demo takes, each through the service function its endpoint calls and as
//! the caller the demo names: writing and moving grants, requesting and deciding tranches,
//! asking for and deciding reports. Dates are relative to today, so the demo stays current.

use chrono::{Days, NaiveDate};
use diesel::prelude::*;

use super::people::meta;
use crate::auth::Principal;
use crate::auth::caller::GrantStaff;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::error::ApiError;
use crate::grants::budget_lines::{BudgetCategory, BudgetLineInput};
use crate::grants::fund::FundRow;
use crate::grants::fx;
use crate::grants::grant::{self, GrantCommand, GrantRow, NewGrant};
use crate::grants::indicators::IndicatorInput;
use crate::grants::report::{self, NewReport, ReportCommand, ReportKind, ReportRow, SubmitReport};
use crate::grants::tranche::{
    self, NewTranche, PayBody, TrancheCommand, TrancheRow, TrancheStatus,
};
use crate::money;

/// Today plus `days` (minus, when negative).
pub(super) fn days_from_today(config: &Config, days: i64) -> NaiveDate {
    let today = config.clock.today();
    let n = Days::new(days.unsigned_abs());
    if days < 0 {
        today.checked_sub_days(n)
    } else {
        today.checked_add_days(n)
    }
    .unwrap_or(today)
}

/// The id of the organisation called `name`.
pub(super) fn org(c: &mut DbConn, name: &str) -> Result<String, ApiError> {
    Ok(organisations::table
        .filter(organisations::name.eq(name))
        .select(organisations::id)
        .first(c)?)
}

/// `who` as grant staff (403 unless an admin or grant officer).
pub(super) fn staff(who: &Principal) -> Result<GrantStaff, ApiError> {
    GrantStaff::try_from(who)
}

/// A grant to write: (grantee, title, pillar, priority areas, currency, amount).
pub(super) struct Plan<'a> {
    pub grantee: &'a str,
    pub title: &'a str,
    pub pillar: &'a str,
    pub areas: &'a [&'a str],
    pub currency: &'a str,
    pub amount: &'a str,
}

/// Writes a draft grant as `author`, with the reference rate when its currency is not the
/// fund's (None when there is no rate to give).
pub(super) fn draft(
    c: &mut DbConn,
    config: &Config,
    author: &Principal,
    fund: &FundRow,
    plan: Plan<'_>,
) -> Result<Option<GrantRow>, ApiError> {
    let (fx_rate, fx_rate_date) = if plan.currency == fund.currency {
        (None, None)
    } else {
        match fx::reference_rate(c, config, plan.currency, &fund.currency)? {
            Some(r) => (
                Some(money::format_rate(r)),
                Some(days_from_today(config, -1)),
            ),
            None => return Ok(None),
        }
    };
    let start = days_from_today(config, -120);
    let grantee = org(c, plan.grantee)?;
    let g = grant::edit::create(
        c,
        config,
        &staff(author)?,
        &meta(),
        NewGrant {
            fund_id: fund.id.clone(),
            grantee_organisation_id: grantee,
            title: plan.title.into(),
            description: format!("{}: a demo onward grant.", plan.title),
            pillar: plan.pillar.into(),
            priority_areas: plan.areas.iter().map(|a| a.to_string()).collect(),
            currency: plan.currency.into(),
            amount: plan.amount.into(),
            fx_rate,
            fx_rate_date,
            planned_start: start,
            planned_end: start.checked_add_days(Days::new(364)).unwrap_or(start),
            budget: demo_budget(plan.amount, plan.currency),
            indicators: demo_indicators(plan.pillar, plan.areas),
        },
    )?;
    Ok(Some(g))
}

/// A demo budget: 60 % activities, 30 % staff, the rest overheads.
fn demo_budget(amount: &str, currency: &str) -> Vec<BudgetLineInput> {
    let total = money::parse_amount("amount", amount, currency).unwrap_or(0);
    let (activities, staff) = (total * 6 / 10, total * 3 / 10);
    [
        (
            BudgetCategory::Activities,
            "Trainings, meetings and campaign work",
            activities,
        ),
        (BudgetCategory::Staff, "Coordinator (part time)", staff),
        (
            BudgetCategory::Overheads,
            "Office and audit",
            total - activities - staff,
        ),
    ]
    .into_iter()
    .map(|(category, description, minor)| BudgetLineInput {
        id: None,
        category,
        description: description.into(),
        amount: money::format(minor, currency),
    })
    .collect()
}

/// One demo indicator serving the grant's pillar and first priority area.
fn demo_indicators(pillar: &str, areas: &[&str]) -> Vec<IndicatorInput> {
    let Some(area) = areas.first() else {
        return Vec::new();
    };
    vec![IndicatorInput {
        id: None,
        name: "People reached by the work".into(),
        unit: "people".into(),
        baseline: "0".into(),
        target: "200".into(),
        pillar: pillar.into(),
        priority_area: (*area).into(),
    }]
}

/// Moves a grant as `who`.
pub(super) fn move_grant(
    c: &mut DbConn,
    config: &Config,
    who: &Principal,
    g: &GrantRow,
    command: GrantCommand,
    reason: Option<&str>,
) -> Result<GrantRow, ApiError> {
    grant::command::run(
        c,
        config,
        &staff(who)?,
        &meta(),
        &g.id,
        command,
        reason.map(str::to_string),
    )
}

/// The demo's tranche steps on one grant.
pub(super) struct Tranches<'a> {
    c: &'a mut DbConn,
    config: &'a Config,
    grant: &'a GrantRow,
}

impl<'a> Tranches<'a> {
    /// Steps on the tranches of `grant`.
    pub(super) fn of(c: &'a mut DbConn, config: &'a Config, grant: &'a GrantRow) -> Self {
        Tranches { c, config, grant }
    }

    /// Requests `major` whole units of the grant's currency as `who`.
    pub(super) fn request(
        &mut self,
        who: &Principal,
        major: i64,
        planned_in_days: i64,
        requires_report_id: Option<String>,
    ) -> Result<TrancheRow, ApiError> {
        let minor = money::parse_amount("amount", &major.to_string(), &self.grant.currency)
            .map_err(ApiError::from)?;
        tranche::command::request(
            self.c,
            self.config,
            who,
            &meta(),
            &self.grant.id,
            NewTranche {
                amount: money::format(minor, &self.grant.currency),
                planned_date: days_from_today(self.config, planned_in_days),
                note: String::new(),
                requires_report_id,
            },
        )
    }

    /// Moves a tranche as `who`.
    pub(super) fn run(
        &mut self,
        who: &Principal,
        id: &str,
        command: TrancheCommand,
    ) -> Result<TrancheRow, ApiError> {
        tranche::command::run(self.c, self.config, who, &meta(), id, command)
    }

    /// Approves by `first`, and by `second` too when the tranche needs two approvers (above
    /// the threshold, or one officer's approvals within the window).
    pub(super) fn approve(
        &mut self,
        id: &str,
        first: &Principal,
        second: &Principal,
    ) -> Result<TrancheRow, ApiError> {
        let t = self.run(first, id, TrancheCommand::Approve)?;
        if t.status == TrancheStatus::Requested {
            return self.run(second, id, TrancheCommand::Approve);
        }
        Ok(t)
    }

    /// Records the payment as `finance`, `paid_days_ago`.
    pub(super) fn pay(
        &mut self,
        finance: &Principal,
        id: &str,
        paid_days_ago: i64,
    ) -> Result<TrancheRow, ApiError> {
        let requester = tranche::by_id(self.c, id)?.requested_by;
        let finance_id = finance.user().map(|u| u.id.clone()).unwrap_or_default();
        let account = crate::payments::payees::demo_payee(
            self.c,
            self.config,
            &self.grant.grantee_organisation_id,
            &self.grant.currency,
            &requester,
            &finance_id,
        )?;
        let body = PayBody {
            payment_reference: format!("DEMO-{}", &id[id.len() - 6..]),
            paid_on: days_from_today(self.config, -paid_days_ago),
            bank_account_id: account,
        };
        self.run(finance, id, TrancheCommand::Pay(body))
    }
}

/// The demo's report steps on one grant: its officer asks, its member submits.
pub(super) struct Reports<'a> {
    c: &'a mut DbConn,
    config: &'a Config,
    grant: &'a GrantRow,
    officer: &'a Principal,
    member: &'a Principal,
}

impl<'a> Reports<'a> {
    /// Steps on the reports of `grant`.
    pub(super) fn of(
        c: &'a mut DbConn,
        config: &'a Config,
        grant: &'a GrantRow,
        officer: &'a Principal,
        member: &'a Principal,
    ) -> Self {
        Reports {
            c,
            config,
            grant,
            officer,
            member,
        }
    }

    /// Asks for a report due `due_in_days` from today (in the past: overdue).
    pub(super) fn ask(
        &mut self,
        kind: ReportKind,
        title: &str,
        due_in_days: i64,
    ) -> Result<ReportRow, ApiError> {
        let req = NewReport {
            kind,
            due_on: days_from_today(self.config, due_in_days),
            title: title.into(),
        };
        report::create(
            self.c,
            self.config,
            &staff(self.officer)?,
            &meta(),
            &self.grant.id,
            req,
        )
    }

    /// Asks for a report and has the grantee's member submit it.
    pub(super) fn submitted(
        &mut self,
        kind: ReportKind,
        title: &str,
        due_in_days: i64,
    ) -> Result<ReportRow, ApiError> {
        let r = self.ask(kind, title, due_in_days)?;
        let body = SubmitReport {
            summary: format!("{title}: what was done, with the evidence attached."),
            document_url: Some(format!("https://docs.example.org/demo/{}.pdf", r.id)),
            actuals: Vec::new(),
            indicators: Vec::new(),
        };
        self.decide(self.member, &r, ReportCommand::Submit(body))
    }

    /// Moves a report as `who` (accept and return are grant staff's).
    pub(super) fn decide(
        &mut self,
        who: &Principal,
        r: &ReportRow,
        command: ReportCommand,
    ) -> Result<ReportRow, ApiError> {
        report::run(self.c, self.config, who, &meta(), &r.id, command)
    }
}

//! The demo money beyond the published USD fund of `exports::demo`: reference rates, a EUR and
//! a GBP fund, grants in every state (one in another currency than its fund), tranches
//! requested, approved (one by two approvers), paid, reversed, rejected and cancelled, and
//! reports due, overdue, submitted, returned and accepted. Every step is taken by the role
//! that takes it in real life, never by the person who wrote what is being approved.
//! Skipped when the EUR fund exists.

use chrono::{Days, NaiveDate, Utc};
use diesel::prelude::*;

use super::people::{meta, principal};
use crate::auth::Principal;
use crate::auth::caller::{GrantStaff, Staff};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{funds, organisations};
use crate::error::ApiError;
use crate::grants::fund::{self, NewFund};
use crate::grants::fx::{self, FxRateBody, RateKeeper};
use crate::grants::grant::{self, GrantCommand, GrantRow, NewGrant};
use crate::grants::report::{self, NewReport, ReportCommand, ReportKind, SubmitReport};
use crate::grants::tranche::{self, NewTranche, PayBody, TrancheCommand, TrancheStatus};
use crate::money::{self, RATE_SCALE};

/// The marker of a seeded network: the EUR fund's reference.
const EUR_FUND_REFERENCE: &str = "EHRF-DEMO-EUR-1";

/// US dollars per unit, in millionths: the demo's reference rates, set against whatever
/// `BASE_CURRENCY` is when it is one of these.
const USD_PER_UNIT: &[(&str, i64)] = &[("USD", 1_000_000), ("EUR", 1_085_300), ("GBP", 1_270_000)];

/// Who acts in the demo.
struct Cast {
    admin: Principal,
    officer: Principal,
    officer2: Principal,
    finance: Principal,
    /// A member of the Kenyan network.
    member: Principal,
    /// A member of the Lisbon forum.
    member2: Principal,
}

impl Cast {
    fn load(c: &mut DbConn) -> Result<Self, ApiError> {
        let [admin, officer, officer2, finance, member, member2] = super::DEMO_USERS else {
            return Err(ApiError::internal("the demo cast changed"));
        };
        Ok(Cast {
            admin: principal(c, admin.email)?,
            officer: principal(c, officer.email)?,
            officer2: principal(c, officer2.email)?,
            finance: principal(c, finance.email)?,
            member: principal(c, member.email)?,
            member2: principal(c, member2.email)?,
        })
    }
}

fn days_from_today(days: i64) -> NaiveDate {
    let today = Utc::now().date_naive();
    let n = Days::new(days.unsigned_abs());
    if days < 0 {
        today.checked_sub_days(n)
    } else {
        today.checked_add_days(n)
    }
    .unwrap_or(today)
}

fn org(c: &mut DbConn, name: &str) -> Result<String, ApiError> {
    Ok(organisations::table
        .filter(organisations::name.eq(name))
        .select(organisations::id)
        .first(c)?)
}

fn staff(who: &Principal) -> Result<GrantStaff, ApiError> {
    GrantStaff::try_from(who)
}

/// Sets the reference rate of each demo currency that has none yet (finance keeps them).
fn rates(c: &mut DbConn, config: &Config, cast: &Cast) -> Result<(), ApiError> {
    let Some(base) = USD_PER_UNIT
        .iter()
        .find(|(code, _)| *code == config.base_currency)
        .map(|(_, usd)| *usd)
    else {
        return Ok(());
    };
    let keeper = RateKeeper::try_from(&cast.finance)?;
    let reader = Staff::try_from(&cast.finance)?;
    for (code, usd) in USD_PER_UNIT {
        if *code == config.base_currency {
            continue;
        }
        match fx::get(c, config, &reader, code) {
            Err(ApiError::NotFound) => {}
            other => {
                other?;
                continue;
            }
        }
        let micros = (i128::from(*usd) * i128::from(RATE_SCALE) + i128::from(base) / 2)
            / i128::from(base);
        let body = FxRateBody {
            rate: money::format_rate(i64::try_from(micros).unwrap_or(RATE_SCALE)),
            as_of: days_from_today(-1),
        };
        fx::put(c, config, &keeper, &meta(), code, body)?;
    }
    Ok(())
}

/// A grant to write: (grantee, title, pillar, priority areas, currency, amount).
struct Plan<'a> {
    grantee: &'a str,
    title: &'a str,
    pillar: &'a str,
    areas: &'a [&'a str],
    currency: &'a str,
    amount: &'a str,
}

/// Writes a draft grant as `author`, with the reference rate when its currency is not the
/// fund's (None when there is no rate to give).
fn draft(
    c: &mut DbConn,
    config: &Config,
    author: &Principal,
    fund: &fund::FundRow,
    plan: Plan<'_>,
) -> Result<Option<GrantRow>, ApiError> {
    let (fx_rate, fx_rate_date) = if plan.currency == fund.currency {
        (None, None)
    } else {
        match fx::reference_rate(c, config, plan.currency, &fund.currency)? {
            Some(r) => (Some(money::format_rate(r)), Some(days_from_today(-1))),
            None => return Ok(None),
        }
    };
    let start = days_from_today(-120);
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
        },
    )?;
    Ok(Some(g))
}

fn move_grant(
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
struct Tranches<'a> {
    c: &'a mut DbConn,
    config: &'a Config,
    grant_id: String,
    currency: String,
}

impl Tranches<'_> {
    fn request(
        &mut self,
        who: &Principal,
        major: i64,
        planned_in_days: i64,
        requires_report_id: Option<String>,
    ) -> Result<tranche::TrancheRow, ApiError> {
        let minor = money::parse_amount("amount", &major.to_string(), &self.currency)
            .map_err(ApiError::from)?;
        tranche::command::request(
            self.c,
            self.config,
            who,
            &meta(),
            &self.grant_id,
            NewTranche {
                amount: money::format(minor, &self.currency),
                planned_date: days_from_today(planned_in_days),
                note: String::new(),
                requires_report_id,
            },
        )
    }

    fn run(
        &mut self,
        who: &Principal,
        id: &str,
        command: TrancheCommand,
    ) -> Result<tranche::TrancheRow, ApiError> {
        tranche::command::run(self.c, self.config, who, &meta(), id, command)
    }

    /// Approves by `first`, and by `second` too when the tranche needs two approvers (above
    /// the threshold, or one officer's approvals within the window).
    fn approve(
        &mut self,
        id: &str,
        first: &Principal,
        second: &Principal,
    ) -> Result<tranche::TrancheRow, ApiError> {
        let t = self.run(first, id, TrancheCommand::Approve)?;
        if t.status == TrancheStatus::Requested {
            return self.run(second, id, TrancheCommand::Approve);
        }
        Ok(t)
    }

    fn pay(
        &mut self,
        finance: &Principal,
        id: &str,
        paid_days_ago: i64,
    ) -> Result<tranche::TrancheRow, ApiError> {
        let body = PayBody {
            payment_reference: format!("DEMO-{}", &id[id.len() - 6..]),
            paid_on: days_from_today(-paid_days_ago),
        };
        self.run(finance, id, TrancheCommand::Pay(body))
    }
}

fn ask_report(
    c: &mut DbConn,
    config: &Config,
    officer: &Principal,
    g: &GrantRow,
    kind: ReportKind,
    title: &str,
    due_in_days: i64,
) -> Result<report::ReportRow, ApiError> {
    report::create(
        c,
        config,
        &staff(officer)?,
        &meta(),
        &g.id,
        NewReport {
            kind,
            due_on: days_from_today(due_in_days),
            title: title.into(),
        },
    )
}

fn submit_report(
    c: &mut DbConn,
    config: &Config,
    member: &Principal,
    r: &report::ReportRow,
) -> Result<report::ReportRow, ApiError> {
    let body = SubmitReport {
        summary: format!("{}: what was done, with the evidence attached.", r.title),
        document_url: format!("https://docs.example.org/demo/{}.pdf", r.id),
    };
    report::run(
        c,
        config,
        member,
        &meta(),
        &r.id,
        ReportCommand::Submit(body),
    )
}

/// A fund to record: (donor, title, the donor's reference, currency, amount).
type Donation<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// A donor's fund, running from 200 days ago for three years.
fn new_fund(
    c: &mut DbConn,
    config: &Config,
    officer: &Principal,
    (donor, title, reference, currency, amount): Donation<'_>,
) -> Result<fund::FundRow, ApiError> {
    let donor_organisation_id = org(c, donor)?;
    let start = days_from_today(-200);
    let req = NewFund {
        donor_organisation_id,
        title: title.into(),
        reference: reference.into(),
        currency: currency.into(),
        amount: amount.into(),
        starts_on: start,
        ends_on: start.checked_add_days(Days::new(3 * 365)).unwrap_or(start),
    };
    fund::create(c, config, &staff(officer)?, &meta(), req)
}

/// Seeds the EUR and GBP funds and everything that hangs off them, once.
pub(super) fn seed(c: &mut DbConn, config: &Config) -> Result<(), ApiError> {
    let seeded: i64 = funds::table
        .filter(funds::reference.eq(EUR_FUND_REFERENCE))
        .count()
        .get_result(c)?;
    if seeded > 0 {
        return Ok(());
    }
    let cast = Cast::load(c)?;
    rates(c, config, &cast)?;
    let eur = new_fund(
        c,
        config,
        &cast.officer,
        (
            super::DONOR_EUR,
            "Community-led harm reduction in Europe and beyond",
            EUR_FUND_REFERENCE,
            "EUR",
            "300000.00",
        ),
    )?;
    let gbp = new_fund(
        c,
        config,
        &cast.officer2,
        (
            super::DONOR_GBP,
            "Decriminalisation advocacy programme",
            "BFDPR-DEMO-GBP-1",
            "GBP",
            "200000.00",
        ),
    )?;
    euro_grants(c, config, &cast, &eur)?;
    sterling_grants(c, config, &cast, &gbp)?;
    Ok(())
}

/// EUR: an active grant to Lisbon with tranches in every state, and the grants that never
/// became active (draft, submitted, rejected, cancelled).
fn euro_grants(
    c: &mut DbConn,
    config: &Config,
    cast: &Cast,
    eur: &fund::FundRow,
) -> Result<(), ApiError> {
    let plan = |grantee, title, areas, amount| Plan {
        grantee,
        title,
        pillar: "regional_national_advocacy",
        areas,
        currency: "EUR",
        amount,
    };
    // Active, with a tranche in each state. Its member (member2) asks for most of them.
    let lisbon = plan(
        super::LISBON,
        "Harm reduction in prisons: the Portuguese model for the region",
        &["decriminalisation_justice_reform", "support_dont_punish"],
        "120000.00",
    );
    if let Some(g) = draft(c, config, &cast.officer, eur, lisbon)? {
        move_grant(c, config, &cast.officer, &g, GrantCommand::Submit, None)?;
        move_grant(c, config, &cast.officer2, &g, GrantCommand::Approve, None)?;
        move_grant(c, config, &cast.officer, &g, GrantCommand::Activate, None)?;
        let mut t = Tranches {
            c: &mut *c,
            config,
            grant_id: g.id.clone(),
            currency: g.currency.clone(),
        };
        // Paid: asked by the grantee, approved by an officer, paid by finance.
        let paid = t.request(&cast.member2, 30_000, -45, None)?;
        t.approve(&paid.id, &cast.officer, &cast.admin)?;
        t.pay(&cast.finance, &paid.id, 40)?;
        // Approved by two (above SECOND_APPROVAL_THRESHOLD): waits in finance's queue.
        let big = t.request(&cast.officer, 60_000, 10, None)?;
        t.approve(&big.id, &cast.officer2, &cast.admin)?;
        // Requested: waits in the officers' approval queue.
        t.request(&cast.member2, 8_000, 30, None)?;
        // Rejected and cancelled.
        let dup = t.request(&cast.member2, 5_000, 30, None)?;
        t.run(
            &cast.officer2,
            &dup.id,
            TrancheCommand::Reject("Duplicate of the request for 8,000.00 EUR.".into()),
        )?;
        let early = t.request(&cast.member2, 2_000, 60, None)?;
        t.run(&cast.member2, &early.id, TrancheCommand::Cancel)?;
    }
    // Draft: still being written.
    let mena = plan(
        super::MENA,
        "Regional training on naloxone distribution",
        &["support_dont_punish"],
        "35000.00",
    );
    draft(c, config, &cast.officer2, eur, mena)?;
    // Submitted: in the approval inbox of the officer who did not write it.
    let asia = plan(
        super::ASIA,
        "Documenting compulsory drug detention",
        &["decriminalisation_justice_reform", "civil_society_space"],
        "48000.00",
    );
    if let Some(g) = draft(c, config, &cast.officer, eur, asia)? {
        move_grant(c, config, &cast.officer, &g, GrantCommand::Submit, None)?;
    }
    // Rejected.
    let pacific = plan(
        super::PACIFIC,
        "Conference travel bursaries",
        &["cross_un_common_position"],
        "20000.00",
    );
    if let Some(g) = draft(c, config, &cast.officer2, eur, pacific)? {
        move_grant(c, config, &cast.officer2, &g, GrantCommand::Submit, None)?;
        let why = "Travel alone is outside this fund's purpose; apply with an advocacy plan.";
        move_grant(c, config, &cast.officer, &g, GrantCommand::Reject, Some(why))?;
    }
    // Cancelled before a decision.
    let north = plan(
        super::NORTH_AMERICA,
        "Advocacy toolkit translation",
        &["civil_society_space"],
        "12000.00",
    );
    if let Some(g) = draft(c, config, &cast.officer, eur, north)? {
        move_grant(c, config, &cast.officer, &g, GrantCommand::Submit, None)?;
        let why = "The partner found other funding for the translation.";
        move_grant(c, config, &cast.officer, &g, GrantCommand::Cancel, Some(why))?;
    }
    Ok(())
}

/// GBP: an active grant to Kenya with reports in every state and tranches that wait on them,
/// and an approved grant in EUR counted against the GBP fund at its rate.
fn sterling_grants(
    c: &mut DbConn,
    config: &Config,
    cast: &Cast,
    gbp: &fund::FundRow,
) -> Result<(), ApiError> {
    let kenya = Plan {
        grantee: super::KENYA,
        title: "Peer-led overdose prevention in Nairobi and Mombasa",
        pillar: "capacity_strengthening",
        areas: &["support_dont_punish", "women_drug_policy"],
        currency: "GBP",
        amount: "45000.00",
    };
    if let Some(g) = draft(c, config, &cast.officer2, gbp, kenya)? {
        move_grant(c, config, &cast.officer2, &g, GrantCommand::Submit, None)?;
        move_grant(c, config, &cast.officer, &g, GrantCommand::Approve, None)?;
        move_grant(c, config, &cast.officer2, &g, GrantCommand::Activate, None)?;
        let (o, m) = (&cast.officer, &cast.member);
        let inception = ask_report(c, config, o, &g, ReportKind::Narrative, "Inception report", -75)?;
        submit_report(c, config, m, &inception)?;
        report::run(c, config, o, &meta(), &inception.id, ReportCommand::Accept)?;
        // Overdue: still due, its date passed.
        ask_report(c, config, o, &g, ReportKind::Financial, "First quarter financial report", -20)?;
        let baseline = ask_report(c, config, o, &g, ReportKind::Narrative, "Baseline survey", -40)?;
        submit_report(c, config, m, &baseline)?;
        let why = "Add the survey's sample size and method, please.".to_string();
        report::run(c, config, &cast.officer2, &meta(), &baseline.id, ReportCommand::Return(why))?;
        let midterm = ask_report(c, config, o, &g, ReportKind::Narrative, "Mid-term narrative report", -3)?;
        submit_report(c, config, m, &midterm)?;
        ask_report(c, config, o, &g, ReportKind::Financial, "Annual financial report", 120)?;
        let mut t = Tranches {
            c: &mut *c,
            config,
            grant_id: g.id.clone(),
            currency: g.currency.clone(),
        };
        // Paid once the inception report was accepted.
        let first = t.request(m, 15_000, -35, Some(inception.id.clone()))?;
        t.approve(&first.id, &cast.officer2, &cast.admin)?;
        t.pay(&cast.finance, &first.id, 30)?;
        // Paid to the wrong account, then reversed by finance.
        let wrong = t.request(o, 3_000, -15, None)?;
        t.approve(&wrong.id, &cast.officer2, &cast.admin)?;
        t.pay(&cast.finance, &wrong.id, 12)?;
        let why = "Returned by the bank: the account number was wrong; to be paid again.";
        t.run(&cast.finance, &wrong.id, TrancheCommand::Reverse(why.into()))?;
        // Waits on the mid-term report, which is submitted but not accepted yet.
        t.request(m, 10_000, 20, Some(midterm.id.clone()))?;
    }
    // Approved, in EUR from the GBP fund at the reference rate.
    let mexico = Plan {
        grantee: super::MEXICO,
        title: "Women who use drugs: an Andean exchange",
        pillar: "networking_communications",
        areas: &["women_drug_policy"],
        currency: "EUR",
        amount: "40000.00",
    };
    if let Some(g) = draft(c, config, &cast.officer2, gbp, mexico)? {
        move_grant(c, config, &cast.officer2, &g, GrantCommand::Submit, None)?;
        move_grant(c, config, &cast.officer, &g, GrantCommand::Approve, None)?;
    }
    Ok(())
}

//! The demo money beyond the published USD fund of `exports::demo`: reference rates, a EUR and
//! a GBP fund, grants in every state (one in another currency than its fund), tranches
//! requested, approved (one by two approvers), paid, reversed, rejected and cancelled, and
//! reports due, overdue, submitted, returned and accepted. Every step is taken by the role
//! that takes it in real life, never by the person who wrote what is being approved.
//! Skipped when the EUR fund exists.

use chrono::Days;
use diesel::prelude::*;

use super::people::{meta, principal};
use super::steps::{Plan, Reports, Tranches, days_from_today, draft, move_grant, org, staff};
use crate::auth::Principal;
use crate::auth::caller::Staff;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::funds;
use crate::error::ApiError;
use crate::grants::fund::{self, NewFund};
use crate::grants::fx::{self, FxRateBody, FxRateConfirmBody, RateKeeper};
use crate::grants::grant::GrantCommand;
use crate::grants::report::{ReportCommand, ReportKind};
use crate::grants::tranche::TrancheCommand;
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
        let micros =
            (i128::from(*usd) * i128::from(RATE_SCALE) + i128::from(base) / 2) / i128::from(base);
        let body = FxRateBody {
            rate: money::format_rate(i64::try_from(micros).unwrap_or(RATE_SCALE)),
            as_of: days_from_today(config, -1),
        };
        // A currency's first rate waits for a second person: the admin confirms it.
        let confirm = FxRateConfirmBody {
            rate: body.rate.clone(),
            as_of: body.as_of,
        };
        if let fx::Outcome::Pending(_) = fx::put(c, config, &keeper, &meta(), code, body)? {
            let admin = RateKeeper::try_from(&cast.admin)?;
            fx::confirm(c, config, &admin, &meta(), code, confirm)?;
        }
    }
    Ok(())
}

/// A fund to record: (donor, title, the donor's reference, currency, amount).
type Donation<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// A donor's fund, running from 200 days ago for three years.
fn new_fund(
    c: &mut DbConn,
    config: &Config,
    officer: &Principal,
    confirmer: &Principal,
    (donor, title, reference, currency, amount): Donation<'_>,
) -> Result<fund::FundRow, ApiError> {
    let donor_organisation_id = org(c, donor)?;
    let start = days_from_today(config, -200);
    let req = NewFund {
        donor_organisation_id,
        title: title.into(),
        reference: reference.into(),
        currency: currency.into(),
        amount: amount.into(),
        starts_on: start,
        ends_on: start.checked_add_days(Days::new(3 * 365)).unwrap_or(start),
    };
    let row = fund::create(c, config, &staff(officer)?, &meta(), req)?;
    // A fund above the threshold waits for a second person: the admin confirms it.
    match row.pending_amount {
        Some(p) if row.opening_pending => fund::approve_increase(
            c,
            config,
            &crate::auth::caller::FinanceOrAdmin::try_from(confirmer)?,
            &meta(),
            &row.id,
            fund::ConfirmIncrease {
                amount: money::format(p, &row.currency),
            },
        ),
        _ => Ok(row),
    }
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
        &cast.admin,
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
        &cast.admin,
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
        let mut t = Tranches::of(c, config, &g);
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
        t.run(
            &cast.member2,
            &early.id,
            TrancheCommand::Cancel("Asked for twice by mistake.".into()),
        )?;
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
        move_grant(
            c,
            config,
            &cast.officer,
            &g,
            GrantCommand::Reject,
            Some(why),
        )?;
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
        move_grant(
            c,
            config,
            &cast.officer,
            &g,
            GrantCommand::Cancel,
            Some(why),
        )?;
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
        let mut r = Reports::of(c, config, &g, o, m);
        let inception = r.submitted(ReportKind::Narrative, "Inception report", -75)?;
        r.decide(o, &inception, ReportCommand::Accept)?;
        // Overdue: still due, its date passed.
        r.ask(ReportKind::Financial, "First quarter financial report", -20)?;
        let baseline = r.submitted(ReportKind::Narrative, "Baseline survey", -40)?;
        let why = "Add the survey's sample size and method, please.".to_string();
        r.decide(&cast.officer2, &baseline, ReportCommand::Return(why))?;
        let midterm = r.submitted(ReportKind::Narrative, "Mid-term narrative report", -3)?;
        r.ask(ReportKind::Financial, "Annual financial report", 120)?;
        let mut t = Tranches::of(c, config, &g);
        // Paid once the inception report was accepted.
        let first = t.request(m, 15_000, -35, Some(inception.id.clone()))?;
        t.approve(&first.id, &cast.officer2, &cast.admin)?;
        t.pay(&cast.finance, &first.id, 30)?;
        // Paid to the wrong account, then reversed by finance.
        let wrong = t.request(o, 3_000, -15, None)?;
        t.approve(&wrong.id, &cast.officer2, &cast.admin)?;
        t.pay(&cast.finance, &wrong.id, 12)?;
        let why = "Returned by the bank: the account number was wrong; to be paid again.";
        t.run(
            &cast.finance,
            &wrong.id,
            TrancheCommand::Reverse(why.into()),
        )?;
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

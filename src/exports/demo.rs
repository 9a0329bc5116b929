//! Demo open data: a donor fund published as an incoming grant, onward grants through the
//! whole lifecycle (approved, active with payments and a reversal, closed, one to a hidden
//! member) and org-id identifiers on a few demo organisations, so both exports have something
//! true to say after `idpc-hub demo-data`. Written through the same service functions as the
//! API (four eyes included). The identifiers are fictional, like the demo organisations.

use chrono::{Datelike, Days, NaiveDate};
use diesel::prelude::*;

use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::GrantStaff;
use crate::auth::principal::{RequestMeta, UserPrincipal};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{grants, organisations, users};
use crate::directory::OrganisationKind;
use crate::directory::identifiers::OrgIdentifier;
use crate::directory::organisation::{self, OrganisationPatch};
use crate::error::ApiError;
use crate::grants::fund::{self, NewFund};
use crate::grants::grant::{self, GrantCommand, GrantStatus, NewGrant};
use crate::grants::tranche::{self, NewTranche, PayBody, TrancheCommand};

/// Seeds the demo grants once (nothing when any grant exists). Returns the grants created.
pub async fn seed(state: &AppState) -> Result<usize, ApiError> {
    let config = state.config.clone();
    state.db(move |c| seed_in(c, &config)).await
}

fn staff(c: &mut DbConn, email: &str) -> Result<Principal, ApiError> {
    let (id, role): (String, String) = users::table
        .filter(users::email.eq(email))
        .select((users::id, users::role))
        .first(c)?;
    let role = serde_json::from_value(serde_json::Value::String(role))
        .map_err(|_| ApiError::internal("demo user role"))?;
    Ok(Principal::User(UserPrincipal {
        id,
        role,
        organisation_id: None,
        session_id: "demo-data".into(),
    }))
}

fn org_named(c: &mut DbConn, name: &str) -> Result<String, ApiError> {
    Ok(organisations::table
        .filter(organisations::name.eq(name))
        .select(organisations::id)
        .first(c)?)
}

fn identify(
    c: &mut DbConn,
    config: &Config,
    admin: &Principal,
    id: &str,
    scheme: &str,
    value: &str,
) -> Result<(), ApiError> {
    let version: i64 = organisations::table
        .find(id)
        .select(organisations::version)
        .first(c)?;
    let patch = OrganisationPatch {
        identifiers: Some(Some(vec![OrgIdentifier {
            scheme: scheme.into(),
            id: value.into(),
        }])),
        ..Default::default()
    };
    organisation::update(
        c,
        config,
        admin,
        &RequestMeta::default(),
        id,
        Some(version),
        patch,
    )?;
    Ok(())
}

/// The demo's staff: who creates, who approves second, who pays, who confirms.
struct Cast {
    admin: Principal,
    officer: Principal,
    officer2: Principal,
    finance: Principal,
    grant_officer: GrantStaff,
    grant_officer2: GrantStaff,
}

/// A grant the demo creates and the status it is taken to.
type Plan = (
    GrantStatus,
    String,
    &'static str,
    Vec<&'static str>,
    &'static str,
);

fn seed_in(c: &mut DbConn, config: &Config) -> Result<usize, ApiError> {
    let existing: i64 = grants::table.count().get_result(c)?;
    if existing > 0 {
        return Ok(0);
    }
    let officer = staff(c, "grants@demo.idpc.example")?;
    let officer2 = staff(c, "grants2@demo.idpc.example")?;
    let cast = Cast {
        admin: staff(c, "admin@demo.idpc.example")?,
        grant_officer: GrantStaff::try_from(&officer)?,
        grant_officer2: GrantStaff::try_from(&officer2)?,
        officer,
        officer2,
        finance: staff(c, "finance@demo.idpc.example")?,
    };
    let donor = org_named(c, "Open Society Drug Policy Fund")?;
    let plans = plans(c, config, &cast.admin, &donor)?;
    let fund_id = demo_fund(c, config, &cast, donor)?;
    for plan in &plans {
        seed_grant(c, config, &cast, &fund_id, plan)?;
    }
    Ok(plans.len())
}

/// The grants to create, with org-id identifiers on their grantees; one goes to a hidden
/// member when there is one.
fn plans(
    c: &mut DbConn,
    config: &Config,
    admin: &Principal,
    donor: &str,
) -> Result<Vec<Plan>, ApiError> {
    let kenya = org_named(c, "Harm Reduction Network Kenya")?;
    let mexico = org_named(c, "Red Latinoamericana de Reducción de Daños")?;
    let lisbon = org_named(c, "Lisbon Drug Policy Forum")?;
    identify(c, config, admin, donor, "US-EIN", "00-0000001")?;
    identify(
        c,
        config,
        admin,
        &kenya,
        "KE-NCB",
        "OP.218/051/00-0001/0001",
    )?;
    identify(c, config, admin, &mexico, "CO-RUE", "S0000001")?;
    let hidden: Option<String> = organisations::table
        .filter(organisations::hidden_from_public.eq(true))
        .filter(organisations::kind.eq(OrganisationKind::Member))
        .order(organisations::name.asc())
        .select(organisations::id)
        .first(c)
        .optional()?;
    let mut plans: Vec<Plan> = vec![
        (
            GrantStatus::Active,
            kenya,
            "Community paralegals for people who use drugs",
            vec!["decriminalisation_justice_reform", "support_dont_punish"],
            "40000.00",
        ),
        (
            GrantStatus::Closed,
            lisbon,
            "Evidence brief on decriminalisation outcomes",
            vec!["decriminalisation_justice_reform"],
            "15000.00",
        ),
        (
            GrantStatus::Approved,
            mexico,
            "Women who use drugs: regional advocacy",
            vec!["women_drug_policy", "civil_society_space"],
            "25000.00",
        ),
    ];
    if let Some(h) = hidden {
        plans.push((
            GrantStatus::Active,
            h,
            "Safe spaces for community organising",
            vec!["civil_society_space"],
            "12000.00",
        ));
    }
    Ok(plans)
}

fn year_start(config: &Config) -> NaiveDate {
    let today = config.clock.today();
    NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today)
}

/// The donor's fund, confirmed by a second person and published as an incoming grant.
fn demo_fund(
    c: &mut DbConn,
    config: &Config,
    cast: &Cast,
    donor: String,
) -> Result<String, ApiError> {
    let meta = RequestMeta::default();
    let year_start = year_start(config);
    let fund = fund::create(
        c,
        config,
        &cast.grant_officer,
        &meta,
        NewFund {
            donor_organisation_id: donor,
            title: "Core support for community-led drug policy advocacy".into(),
            reference: "OSDPF-DEMO-1".into(),
            currency: "USD".into(),
            amount: "500000.00".into(),
            starts_on: year_start,
            ends_on: year_start
                .checked_add_days(Days::new(729))
                .unwrap_or(year_start),
        },
    )?;
    // A fund above the raise threshold waits for a second person: the admin confirms it.
    let fund = match fund.pending_amount {
        Some(p) if fund.opening_pending => fund::approve_increase(
            c,
            config,
            &crate::auth::caller::FinanceOrAdmin::try_from(&cast.admin)?,
            &meta,
            &fund.id,
            fund::ConfirmIncrease {
                amount: crate::money::format(p, &fund.currency),
            },
        )?,
        _ => fund,
    };
    super::publication::set(
        c,
        config,
        &cast.grant_officer,
        &meta,
        &fund.id,
        crate::exports::publication::FundPublication {
            publish_incoming: true,
            regrant_type: "FRG010".into(),
            donor_activity_id: Some("US-EIN-00-0000001-DEMO-1".into()),
        },
    )?;
    Ok(fund.id)
}

/// Creates one planned grant and takes it to its status: approved; active with a payment and
/// a reversed one; or closed after two payments.
fn seed_grant(
    c: &mut DbConn,
    config: &Config,
    cast: &Cast,
    fund_id: &str,
    (target, grantee, title, areas, amount): &Plan,
) -> Result<(), ApiError> {
    let meta = RequestMeta::default();
    let year_start = year_start(config);
    let g = grant::edit::create(
        c,
        config,
        &cast.grant_officer,
        &meta,
        NewGrant {
            fund_id: fund_id.to_string(),
            grantee_organisation_id: grantee.clone(),
            title: (*title).into(),
            description: format!("{title}: a demo onward grant."),
            pillar: "capacity_strengthening".into(),
            priority_areas: areas.iter().map(|a| a.to_string()).collect(),
            currency: "USD".into(),
            amount: (*amount).into(),
            fx_rate: None,
            fx_rate_date: None,
            planned_start: year_start,
            planned_end: year_start
                .checked_add_days(Days::new(364))
                .unwrap_or(year_start),
            // The whole amount on one line, so the grant may be submitted.
            budget: vec![crate::grants::budget_lines::BudgetLineInput {
                id: None,
                category: crate::grants::budget_lines::BudgetCategory::Activities,
                description: (*title).into(),
                amount: (*amount).into(),
            }],
            indicators: Vec::new(),
        },
    )?;
    let run = |c: &mut DbConn, who: &GrantStaff, cmd: GrantCommand| {
        grant::command::run(c, config, who, &meta, &g.id, cmd, None)
    };
    run(c, &cast.grant_officer, GrantCommand::Submit)?;
    run(c, &cast.grant_officer2, GrantCommand::Approve)?;
    if *target == GrantStatus::Approved {
        return Ok(());
    }
    run(c, &cast.grant_officer, GrantCommand::Activate)?;
    let today = config.clock.today();
    let days_ago = |n: u64| today.checked_sub_days(Days::new(n)).unwrap_or(today);
    let first = g.amount / 200; // half, in major units (USD has 2 decimals)
    pay_demo_tranche(
        c,
        config,
        cast,
        &g.id,
        &crate::money::format(first * 100, "USD"),
        days_ago(60),
    )?;
    if *target == GrantStatus::Closed {
        let rest = crate::money::format(g.amount - first * 100, "USD");
        pay_demo_tranche(c, config, cast, &g.id, &rest, days_ago(20))?;
        run(c, &cast.grant_officer, GrantCommand::Close)?;
    } else {
        let wrong = pay_demo_tranche(c, config, cast, &g.id, "1000.00", days_ago(10))?;
        tranche::command::run(
            c,
            config,
            &cast.finance,
            &meta,
            &wrong.id,
            TrancheCommand::Reverse("Paid to a closed bank account; to be paid again.".into()),
        )?;
    }
    Ok(())
}

/// Requests, approves (second officer) and pays (finance) one tranche of a grant.
fn pay_demo_tranche(
    c: &mut DbConn,
    config: &Config,
    cast: &Cast,
    grant_id: &str,
    amount: &str,
    paid_on: NaiveDate,
) -> Result<tranche::TrancheRow, ApiError> {
    let meta = RequestMeta::default();
    let d = tranche::command::request(
        c,
        config,
        &cast.officer,
        &meta,
        grant_id,
        NewTranche {
            amount: amount.into(),
            planned_date: paid_on,
            note: String::new(),
            requires_report_id: None,
        },
    )?;
    tranche::command::run(
        c,
        config,
        &cast.officer2,
        &meta,
        &d.id,
        TrancheCommand::Approve,
    )?;
    let grant = crate::grants::grant::by_id(c, grant_id)?;
    let finance_id = cast
        .finance
        .user()
        .map(|u| u.id.clone())
        .unwrap_or_default();
    let account = crate::payments::payees::demo_payee(
        c,
        config,
        &grant.grantee_organisation_id,
        &grant.currency,
        &d.requested_by,
        &finance_id,
    )?;
    tranche::command::run(
        c,
        config,
        &cast.finance,
        &meta,
        &d.id,
        TrancheCommand::Pay(PayBody {
            payment_reference: format!("DEMO-{}", &d.id[d.id.len() - 6..]),
            paid_on,
            bank_account_id: account,
        }),
    )
}

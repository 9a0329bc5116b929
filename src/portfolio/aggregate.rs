//! `GET /api/v1/portfolio`: committed, paid and outstanding money of the grants, in the base
//! currency, grouped by one or two dimensions. Per grant: committed is its amount (the award),
//! paid its paid tranches net of reversals, outstanding the difference. Each grant is converted
//! once, by the payments register's rule (as is in the base currency; at the grant's stored
//! rate when its fund is kept in the base currency; at the reference rate otherwise), and then
//! split across its priority areas (see the module `portfolio`), so every grouping adds up to
//! the same grand total.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::auth::caller::Staff;
use crate::codes::PRIORITY_AREAS;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{funds, grants, organisations};
use crate::error::{ApiError, FieldError, no_field_errors};
use crate::grants::fx;
use crate::grants::grant::GrantStatus;
use crate::money;

crate::text_enum! {
    /// A dimension the portfolio is grouped by.
    pub enum Dimension {
        /// The grant's strategic pillar.
        Pillar = "pillar",
        /// The grant's priority areas (split evenly).
        PriorityArea = "priority_area",
        /// The grantee's region.
        Region = "region",
        /// The grantee's country.
        Country = "country",
        /// The grant's fund.
        Fund = "fund",
        /// The fund's donor.
        Donor = "donor",
        /// The grant's year (of its reference).
        Year = "year",
    }
}

/// What the portfolio sums and how it groups it.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PortfolioParams {
    /// One or two dimensions, comma-separated: pillar, priority_area, region, country, fund,
    /// donor, year (e.g. `priority_area,region`). None: the grand total only.
    pub group_by: Option<String>,
    /// Grants approved on or after this date (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    /// Grants approved on or before this date (YYYY-MM-DD).
    pub to: Option<NaiveDate>,
    /// Only the grants of this fund.
    pub fund_id: Option<uuid::Uuid>,
    /// Only grants in this status (default: approved, active and closed).
    pub status: Option<GrantStatus>,
}

/// Money of one group, in the base currency.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Sums {
    /// Number of grants that count in the group (a grant split across areas counts in each).
    pub grants: i64,
    /// Awarded amount.
    #[schema(example = "125000.00")]
    pub committed: String,
    /// Paid, net of reversals.
    #[schema(example = "50000.00")]
    pub paid: String,
    /// Committed less paid.
    #[schema(example = "75000.00")]
    pub outstanding: String,
}

/// One group of the table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortfolioRow {
    /// The group's value of each dimension of `group_by`, in its order (codes, fund and donor
    /// ids, years).
    pub keys: Vec<String>,
    /// The same values for people (fund references, donor names).
    pub labels: Vec<String>,
    /// The group's money.
    #[serde(flatten)]
    pub sums: Sums,
}

/// The portfolio table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Portfolio {
    /// The base currency of every amount.
    #[schema(example = "USD")]
    pub base_currency: String,
    /// The dimensions of the table, in order.
    pub group_by: Vec<Dimension>,
    /// The groups, ordered by their keys (a table, not a paged list).
    pub rows: Vec<PortfolioRow>,
    /// The grand total (equal to the sum of the groups).
    pub total: Sums,
    /// True when grants to organisations hidden from the public count (staff only); false
    /// when they were left out of this answer.
    pub includes_hidden_organisations: bool,
    /// Grants left out because no rate converts their currency to the base currency.
    pub unconverted_grants: i64,
    /// How the figures are made (the split rule).
    pub allocation_rule: String,
}

/// The rule, as told in every answer.
pub const NOTE: &str = "Amounts in the base currency at each grant's stored rate. A grant tagged \
with several priority areas is split evenly between them; remainders of a minor unit go to the \
areas in the plan's order, so every grouping adds up to the same total.";

/// One grant, ready to be grouped: its money in the base currency.
#[derive(Debug, Clone)]
pub struct Item {
    /// pillar code.
    pub pillar: String,
    /// Priority areas in the plan's order (at least one entry).
    pub areas: Vec<String>,
    /// Grantee's region.
    pub region: String,
    /// Grantee's country.
    pub country: String,
    /// Fund id.
    pub fund_id: String,
    /// Donor organisation id.
    pub donor_id: String,
    /// Year of the grant's reference.
    pub year: i32,
    /// Committed, base minor units.
    pub committed: i64,
    /// Paid, base minor units.
    pub paid: i64,
}

type Loaded = (
    (String, i32, String, String, String, String, i64, i64),
    (Option<i64>, String, i64, GrantStatus, Option<NaiveDateTime>),
    (String, String, bool),
);

/// The even split of `amount` in `n` shares; the first `amount % n` shares get one unit more.
pub fn split(amount: i64, n: usize) -> Vec<i64> {
    let n = n.max(1) as i64;
    let (q, r) = (amount.div_euclid(n), amount.rem_euclid(n));
    (0..n).map(|i| q + i64::from(i < r)).collect()
}

/// Priority areas of a stored `,a,b,` list, in the plan's order (unknown ones after).
pub fn areas_of(stored: &str) -> Vec<String> {
    let mut v: Vec<String> = stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    v.sort_by_key(|a| {
        PRIORITY_AREAS
            .iter()
            .position(|p| p == a)
            .unwrap_or(usize::MAX)
    });
    v.dedup();
    if v.is_empty() {
        v.push("unassigned".into());
    }
    v
}

/// Converts grant money to the base currency, caching the reference rates it reads.
pub struct ToBase<'a> {
    config: &'a Config,
    rates: HashMap<String, Option<i64>>,
}

impl<'a> ToBase<'a> {
    /// A converter for `config`'s base currency.
    pub fn new(config: &'a Config) -> Self {
        Self {
            config,
            rates: HashMap::new(),
        }
    }

    /// `amount` of a grant (its currency, its fund's currency and stored rate) in the base
    /// currency; the payments register's rule.
    pub fn convert(
        &mut self,
        conn: &mut DbConn,
        (currency, fund_currency, rate): (&str, &str, Option<i64>),
        amount: i64,
    ) -> QueryResult<Option<i64>> {
        let base = self.config.base_currency.as_str();
        if currency == base {
            return Ok(Some(amount));
        }
        if fund_currency == base {
            return Ok(Some(match rate {
                None => amount,
                Some(r) => money::convert(amount, currency, base, r).unwrap_or(0),
            }));
        }
        let r = match self.rates.get(currency) {
            Some(r) => *r,
            None => {
                let r = fx::base_rate(conn, self.config, currency)?;
                self.rates.insert(currency.to_string(), r);
                r
            }
        };
        Ok(r.and_then(|r| money::convert(amount, currency, base, r)))
    }
}

fn check(p: &PortfolioParams) -> Result<Vec<Dimension>, ApiError> {
    let mut errors = Vec::new();
    let mut dims = Vec::new();
    for part in p.group_by.iter().flat_map(|g| g.split(',')) {
        match part.trim().parse::<Dimension>() {
            Ok(d) if !dims.contains(&d) => dims.push(d),
            _ => errors.push(FieldError::new(
                "group_by",
                "invalid",
                "Group by one or two different dimensions of pillar, priority_area, region, \
                 country, fund, donor, year.",
            )),
        }
    }
    if dims.len() > 2 {
        errors.push(FieldError::new(
            "group_by",
            "too_many",
            "Cross at most two dimensions.",
        ));
    }
    if let (Some(f), Some(t)) = (p.from, p.to)
        && f > t
    {
        errors.push(FieldError::new(
            "to",
            "before_from",
            "`to` is on or after `from`.",
        ));
    }
    no_field_errors(errors)?;
    Ok(dims)
}

/// True when `who` is staff: only staff count organisations hidden from the public.
pub fn sees_hidden(who: Option<&Principal>) -> bool {
    who.is_some_and(|p| Staff::try_from(p).is_ok())
}

/// Loads the grants under `p` as items; the second value counts the unconverted ones.
pub fn items(
    conn: &mut DbConn,
    config: &Config,
    p: &PortfolioParams,
    hidden: bool,
) -> Result<(Vec<Item>, i64), ApiError> {
    let statuses = match p.status {
        Some(s) => vec![s],
        None => GrantStatus::PUBLISHED.to_vec(),
    };
    let mut q = grants::table
        .inner_join(organisations::table)
        .filter(grants::status.eq_any(statuses))
        .select((
            (
                grants::fund_id,
                grants::year,
                grants::pillar,
                grants::priority_areas,
                grants::currency,
                grants::fund_currency,
                grants::amount,
                grants::paid,
            ),
            (
                grants::fx_rate_micros,
                grants::id,
                grants::amount_in_fund_currency,
                grants::status,
                grants::approved_at,
            ),
            (
                organisations::region,
                organisations::country,
                organisations::hidden_from_public,
            ),
        ))
        .into_boxed();
    if !hidden {
        q = q.filter(organisations::hidden_from_public.eq(false));
    }
    if let Some(f) = p.fund_id {
        q = q.filter(grants::fund_id.eq(f.to_string()));
    }
    if let Some(f) = p.from {
        q = q.filter(grants::approved_at.ge(f.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(t) = p.to.and_then(|t| t.succ_opt()) {
        q = q.filter(grants::approved_at.lt(t.and_time(chrono::NaiveTime::MIN)));
    }
    let rows: Vec<Loaded> = q.load(conn)?;
    convert_all(conn, config, rows)
}

/// The loaded grants as items in the base currency; the second value counts those no rate
/// converts.
fn convert_all(
    conn: &mut DbConn,
    config: &Config,
    rows: Vec<Loaded>,
) -> Result<(Vec<Item>, i64), ApiError> {
    let donors: HashMap<String, String> = funds::table
        .select((funds::id, funds::donor_organisation_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut conv = ToBase::new(config);
    let mut out = Vec::with_capacity(rows.len());
    let mut unconverted = 0;
    for ((fund_id, year, pillar, areas, currency, fund_currency, amount, paid), (rate, ..), org) in
        rows
    {
        let how = (currency.as_str(), fund_currency.as_str(), rate);
        let (Some(committed), Some(paid)) = (
            conv.convert(conn, how, amount)?,
            conv.convert(conn, how, paid)?,
        ) else {
            unconverted += 1;
            continue;
        };
        out.push(Item {
            pillar,
            areas: areas_of(&areas),
            region: org.0,
            country: org.1,
            donor_id: donors.get(&fund_id).cloned().unwrap_or_default(),
            fund_id,
            year,
            committed,
            paid: paid.min(committed),
        });
    }
    Ok((out, unconverted))
}

/// Money summed per group key, with the number of grants.
pub type Groups = BTreeMap<Vec<String>, (i64, i64, i64)>;

fn key_of(it: &Item, d: Dimension, area: &str) -> String {
    match d {
        Dimension::Pillar => it.pillar.clone(),
        Dimension::PriorityArea => area.to_string(),
        Dimension::Region => it.region.clone(),
        Dimension::Country => it.country.clone(),
        Dimension::Fund => it.fund_id.clone(),
        Dimension::Donor => it.donor_id.clone(),
        Dimension::Year => it.year.to_string(),
    }
}

/// Groups `items` by `dims`: a grant's money is split across its areas only when one of the
/// dimensions is the priority area (otherwise it counts whole, once).
pub fn group(items: &[Item], dims: &[Dimension]) -> Groups {
    let by_area = dims.contains(&Dimension::PriorityArea);
    let mut out = Groups::new();
    for it in items {
        let shares = if by_area { it.areas.len() } else { 1 };
        let c = split(it.committed, shares);
        let p = split(it.paid, shares);
        for i in 0..shares {
            let area = it.areas.get(i).map(String::as_str).unwrap_or_default();
            let key: Vec<String> = dims.iter().map(|d| key_of(it, *d, area)).collect();
            let e = out.entry(key).or_default();
            e.0 += 1;
            e.1 += c[i];
            e.2 += p[i];
        }
    }
    out
}

fn sums((n, committed, paid): (i64, i64, i64), base: &str) -> Sums {
    Sums {
        grants: n,
        committed: money::format(committed, base),
        paid: money::format(paid, base),
        outstanding: money::format(committed - paid, base),
    }
}

/// Names for ids: fund references and donor names.
fn labels(conn: &mut DbConn) -> QueryResult<HashMap<String, String>> {
    let mut out: HashMap<String, String> = funds::table
        .select((funds::id, funds::reference))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let donors = funds::table
        .inner_join(organisations::table)
        .select((organisations::id, organisations::name))
        .distinct()
        .load::<(String, String)>(conn)?;
    out.extend(donors);
    Ok(out)
}

/// The portfolio under `p`, for `who` (hidden organisations count for staff only).
pub fn read(
    conn: &mut DbConn,
    config: &Config,
    who: Option<&Principal>,
    p: &PortfolioParams,
) -> Result<Portfolio, ApiError> {
    let dims = check(p)?;
    let hidden = sees_hidden(who);
    let (items, unconverted) = items(conn, config, p, hidden)?;
    let names = labels(conn)?;
    let base = config.base_currency.as_str();
    let total = items
        .iter()
        .fold((items.len() as i64, 0, 0), |(n, c, q), it| {
            (n, c + it.committed, q + it.paid)
        });
    let rows = group(&items, &dims)
        .into_iter()
        .map(|(keys, s)| PortfolioRow {
            labels: keys
                .iter()
                .map(|k| names.get(k).cloned().unwrap_or_else(|| k.clone()))
                .collect(),
            keys,
            sums: sums(s, base),
        })
        .collect();
    Ok(Portfolio {
        base_currency: base.to_string(),
        group_by: dims,
        rows,
        total: sums(total, base),
        includes_hidden_organisations: hidden,
        unconverted_grants: unconverted,
        allocation_rule: NOTE.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_even_split_loses_nothing_and_gives_remainders_to_the_first_areas() {
        assert_eq!(split(100, 3), vec![34, 33, 33]);
        assert_eq!(split(101, 3), vec![34, 34, 33]);
        assert_eq!(split(7, 1), vec![7]);
        assert_eq!(split(0, 2), vec![0, 0]);
        for n in 1..7 {
            assert_eq!(split(1_000_003, n).iter().sum::<i64>(), 1_000_003);
        }
    }

    #[test]
    fn areas_follow_the_plan_order() {
        assert_eq!(
            areas_of(",civil_society_space,decriminalisation_justice_reform,"),
            vec!["decriminalisation_justice_reform", "civil_society_space"]
        );
        assert_eq!(areas_of(""), vec!["unassigned"]);
    }
}

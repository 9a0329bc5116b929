//! `GET /api/v1/funds/{id}/statement`: a donor fund's statement for a period, in the fund's
//! currency. Received is the donor's commitment as the fund records it: the fund's opening
//! amount on its start date and each raise on the day it applied. Paid is every tranche of
//! the fund's grants paid in the period (the rows the payments register lists, by `paid_on`),
//! converted at the grant's stored rate; reversed is every reversal in the period, at the same
//! rate. Awarded (grants approved in the period) is shown but moves no cash. So:
//! closing = opening + received − paid + reversed, and the next period opens at this closing.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::caller::Staff;
use crate::db::DbConn;
use crate::db::schema::{disbursements, fund_raises, grants, organisations};
use crate::error::{ApiError, FieldError, no_field_errors};
use crate::grants::budget::fund_share;
use crate::grants::fund;
use crate::grants::grant::GrantRow;
use crate::grants::tranche::TrancheStatus;
use crate::money;

/// The period of a statement.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatementParams {
    /// First day (YYYY-MM-DD); the fund's start by default.
    pub from: Option<NaiveDate>,
    /// Last day (YYYY-MM-DD); today by default.
    pub to: Option<NaiveDate>,
}

/// One grant of the fund in the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatementLine {
    /// The grant.
    pub grant_id: String,
    /// Its reference.
    pub reference: String,
    /// The grantee.
    pub grantee_name: String,
    /// The grant's status today.
    pub status: String,
    /// Awarded in the period (approved in it), fund currency.
    pub awarded: String,
    /// Paid in the period, fund currency.
    pub paid: String,
    /// Reversed in the period, fund currency.
    pub reversed: String,
}

/// A fund's statement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FundStatement {
    /// The fund.
    pub fund_id: String,
    /// The donor's reference.
    pub reference: String,
    /// The fund's title.
    pub title: String,
    /// The donor's name.
    pub donor_name: String,
    /// ISO 4217 code of every amount.
    #[schema(example = "EUR")]
    pub currency: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// Balance before the first day.
    #[schema(example = "100000.00")]
    pub opening_balance: String,
    /// Received from the donor in the period.
    pub received: String,
    /// Awarded to grants approved in the period (moves no cash).
    pub awarded: String,
    /// Paid to grantees in the period.
    pub paid: String,
    /// Payments reversed in the period (back in the fund).
    pub reversed: String,
    /// opening + received − paid + reversed.
    pub closing_balance: String,
    /// Each grant with a move in the period, by reference.
    pub lines: Vec<StatementLine>,
}

/// Cash moves in minor units of the fund's currency.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moves {
    /// Received.
    pub received: i64,
    /// Paid.
    pub paid: i64,
    /// Reversed.
    pub reversed: i64,
}

impl Moves {
    /// The balance change: received − paid + reversed.
    pub fn net(&self) -> i64 {
        self.received - self.paid + self.reversed
    }
}

fn within(d: NaiveDate, from: NaiveDate, to: NaiveDate) -> bool {
    from <= d && d <= to
}

/// Money received from the donor: (date, amount) of the opening amount and of each raise.
fn receipts(conn: &mut DbConn, f: &fund::FundRow) -> QueryResult<Vec<(NaiveDate, i64)>> {
    let raises: Vec<(i64, NaiveDateTime)> = fund_raises::table
        .filter(fund_raises::fund_id.eq(&f.id))
        .select((fund_raises::increase, fund_raises::applied_at))
        .load(conn)?;
    let raised: i64 = raises.iter().map(|r| r.0).sum();
    let mut out = vec![(f.starts_on, f.amount_in_force() - raised)];
    out.extend(raises.into_iter().map(|(x, at)| (at.date(), x)));
    Ok(out)
}

type Tranche = (
    String,
    TrancheStatus,
    i64,
    Option<NaiveDate>,
    Option<NaiveDateTime>,
);

fn check(
    p: &StatementParams,
    f: &fund::FundRow,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from = p.from.unwrap_or(f.starts_on);
    let to = p.to.unwrap_or(today);
    if from > to {
        no_field_errors(vec![FieldError::new(
            "to",
            "before_from",
            "`to` is on or after `from`.",
        )])?;
    }
    Ok((from, to))
}

/// The statement of fund `id` for staff.
pub fn read(
    conn: &mut DbConn,
    _who: &Staff,
    id: &str,
    p: &StatementParams,
    today: NaiveDate,
) -> Result<FundStatement, ApiError> {
    let f = fund::by_id(conn, id)?;
    let (from, to) = check(p, &f, today)?;
    let donor_name: String = organisations::table
        .find(&f.donor_organisation_id)
        .select(organisations::name)
        .first(conn)?;
    let (mut before, mut during) = (Moves::default(), Moves::default());
    for (day, x) in receipts(conn, &f)? {
        if day < from {
            before.received += x;
        } else if day <= to {
            during.received += x;
        }
    }
    let rows: Vec<(GrantRow, String)> = grants::table
        .inner_join(organisations::table)
        .filter(grants::fund_id.eq(&f.id))
        .filter(grants::approved_at.is_not_null())
        .order(grants::reference.asc())
        .select((GrantRow::as_select(), organisations::name))
        .load(conn)?;
    let mut lines = Vec::new();
    let mut awarded = 0;
    for (g, grantee_name) in rows {
        let (b, d) = grant_moves(conn, &g, from, to)?;
        before = add(before, b);
        during = add(during, d);
        let won = g
            .approved_at
            .filter(|at| within(at.date(), from, to))
            .map_or(0, |_| g.amount_in_fund_currency);
        awarded += won;
        if won != 0 || d != Moves::default() {
            let fmt = |x: i64| money::format(x, &f.currency);
            lines.push(StatementLine {
                grant_id: g.id.clone(),
                reference: g.reference.clone(),
                grantee_name,
                status: g.status.as_str().to_string(),
                awarded: fmt(won),
                paid: fmt(d.paid),
                reversed: fmt(d.reversed),
            });
        }
    }
    let opening = before.net();
    let fmt = |x: i64| money::format(x, &f.currency);
    Ok(FundStatement {
        fund_id: f.id.clone(),
        reference: f.reference.clone(),
        title: f.title.clone(),
        donor_name,
        from,
        to,
        opening_balance: fmt(opening),
        received: fmt(during.received),
        awarded: fmt(awarded),
        paid: fmt(during.paid),
        reversed: fmt(during.reversed),
        closing_balance: fmt(opening + during.net()),
        lines,
        currency: f.currency,
    })
}

fn add(a: Moves, b: Moves) -> Moves {
    Moves {
        received: a.received + b.received,
        paid: a.paid + b.paid,
        reversed: a.reversed + b.reversed,
    }
}

/// A grant's payments and reversals before `from` and within the period, in fund currency.
fn grant_moves(
    conn: &mut DbConn,
    g: &GrantRow,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Moves, Moves), ApiError> {
    let tranches: Vec<Tranche> = disbursements::table
        .filter(disbursements::grant_id.eq(&g.id))
        .filter(disbursements::status.eq_any([TrancheStatus::Paid, TrancheStatus::Reversed]))
        .select((
            disbursements::id,
            disbursements::status,
            disbursements::amount,
            disbursements::paid_on,
            disbursements::reversed_at,
        ))
        .load(conn)?;
    let (mut before, mut during) = (Moves::default(), Moves::default());
    let start = from.and_time(NaiveTime::MIN);
    for (_, status, amount, paid_on, reversed_at) in tranches {
        let x = fund_share(g, amount);
        if let Some(day) = paid_on {
            if day < from {
                before.paid += x;
            } else if day <= to {
                during.paid += x;
            }
        }
        if let (TrancheStatus::Reversed, Some(at)) = (status, reversed_at) {
            if at < start {
                before.reversed += x;
            } else if at.date() <= to {
                during.reversed += x;
            }
        }
    }
    Ok((before, during))
}

/// The statement as CSV: the summary rows, then one row per grant.
pub fn csv(s: &FundStatement) -> Result<String, ApiError> {
    let mut rows: Vec<Vec<String>> = vec![
        vec!["fund".into(), s.reference.clone(), s.title.clone()],
        vec!["donor".into(), s.donor_name.clone()],
        vec!["currency".into(), s.currency.clone()],
        vec!["period".into(), s.from.to_string(), s.to.to_string()],
    ];
    for (k, v) in summary(s) {
        rows.push(vec![k.to_string(), v.to_string()]);
    }
    rows.push(
        ["grant", "grantee", "status", "awarded", "paid", "reversed"]
            .map(String::from)
            .to_vec(),
    );
    for l in &s.lines {
        rows.push(vec![
            l.reference.clone(),
            l.grantee_name.clone(),
            l.status.clone(),
            l.awarded.clone(),
            l.paid.clone(),
            l.reversed.clone(),
        ]);
    }
    // One width for every row: the CSV writer refuses ragged rows.
    for r in &mut rows {
        r.resize(6, String::new());
    }
    crate::csv_text::write(crate::csv_text::LineEnd::Lf, rows)
}

/// The summary figures with their labels, in statement order.
pub fn summary(s: &FundStatement) -> [(&'static str, &str); 6] {
    [
        ("opening_balance", s.opening_balance.as_str()),
        ("received", s.received.as_str()),
        ("awarded", s.awarded.as_str()),
        ("paid", s.paid.as_str()),
        ("reversed", s.reversed.as_str()),
        ("closing_balance", s.closing_balance.as_str()),
    ]
}

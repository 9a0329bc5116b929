//! What a report says against the grant's plan: a financial report's actual spend per budget
//! line, and a narrative report's actual per indicator. Read back as results: budget, actual,
//! variance and variance share per line and in total, each line flagged beyond
//! BUDGET_VARIANCE_TOLERANCE_PERCENT; and each indicator's baseline, target and actual.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{self, Reader};
use super::budget_lines::{self, BudgetCategory};
use super::check::text_field;
use super::grant::GrantRow;
use super::indicators::{self, decimal};
use super::report::{self, ReportKind, ReportRow};
use crate::command::Ctx;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{indicator_results, report_actuals};
use crate::error::{ApiError, FieldError, no_field_errors};
use crate::money;

/// Actual spend on one budget line (financial reports).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActualInput {
    /// A budget line of the report's grant (`GET /api/v1/grants/{id}/budget`).
    #[schema(format = "uuid")]
    pub budget_line_id: String,
    /// Spent in the report's period, in the grant's currency (`0` allowed).
    #[schema(example = "3800.00")]
    pub amount: String,
}

/// The actual of one indicator (narrative reports).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorActualInput {
    /// An indicator of the report's grant (`GET /api/v1/grants/{id}/indicators`).
    #[schema(format = "uuid")]
    pub indicator_id: String,
    /// The value reached: a decimal such as `32`.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    pub actual: String,
    /// What lies behind the figure, up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: String,
}

/// An amount that may be zero, in minor units of `currency`.
fn spent(field: &str, raw: &str, currency: &str) -> Result<i64, FieldError> {
    let zero = raw.trim().bytes().all(|b| b == b'0' || b == b'.')
        && raw.trim().starts_with('0')
        && !raw.trim().ends_with('.');
    if zero {
        let digits = money::minor_units(currency).unwrap_or(2) as usize;
        let frac = raw.trim().split_once('.').map_or(0, |(_, f)| f.len());
        if frac <= digits {
            return Ok(0);
        }
    }
    money::parse_amount(field, raw, currency).map_err(Into::into)
}

/// Records what a submitted report says (replacing what an earlier submission said): actual
/// spend per line for a financial report, actuals per indicator for a narrative one.
pub fn record(
    ctx: &mut Ctx<'_>,
    r: &ReportRow,
    g: &GrantRow,
    actuals: &[ActualInput],
    results: &[IndicatorActualInput],
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let wrong_kind = |field: &str, kind: &str| {
        FieldError::new(
            field,
            "not_allowed",
            format!("Only a {kind} report carries {field}."),
        )
    };
    if r.kind != ReportKind::Financial && !actuals.is_empty() {
        errors.push(wrong_kind("actuals", "financial"));
    }
    if r.kind != ReportKind::Narrative && !results.is_empty() {
        errors.push(wrong_kind("indicators", "narrative"));
    }
    let lines = budget_lines::of_grant(ctx.conn, &g.id)?;
    let mut spend = Vec::new();
    for (i, a) in actuals.iter().enumerate() {
        let at = format!("actuals.{i}");
        if !lines.iter().any(|l| l.id == a.budget_line_id) {
            errors.push(FieldError::new(
                format!("{at}.budget_line_id"),
                "unknown",
                "The grant has no budget line with this id.",
            ));
        } else if spend.iter().any(|(id, _)| id == &a.budget_line_id) {
            errors.push(FieldError::new(
                format!("{at}.budget_line_id"),
                "duplicate",
                "Give each line once.",
            ));
        }
        match spent(&format!("{at}.amount"), &a.amount, &g.currency) {
            Ok(v) => spend.push((a.budget_line_id.clone(), v)),
            Err(e) => errors.push(e),
        }
    }
    let goals = indicators::of_grant(ctx.conn, &g.id)?;
    let mut reached = Vec::new();
    for (i, x) in results.iter().enumerate() {
        let at = format!("indicators.{i}");
        if !goals.iter().any(|t| t.id == x.indicator_id)
            || reached.iter().any(|(id, _, _)| id == &x.indicator_id)
        {
            errors.push(FieldError::new(
                format!("{at}.indicator_id"),
                "unknown",
                "Name each indicator of the grant at most once.",
            ));
        }
        let actual = decimal(&mut errors, &format!("{at}.actual"), &x.actual);
        let note = text_field(&mut errors, &format!("{at}.note"), &x.note, 0, 2000);
        reached.push((x.indicator_id.clone(), actual, note));
    }
    no_field_errors(errors)?;
    store(ctx, &r.id, spend, reached)
}

fn store(
    ctx: &mut Ctx<'_>,
    report_id: &str,
    spend: Vec<(String, i64)>,
    reached: Vec<(String, String, String)>,
) -> Result<(), ApiError> {
    diesel::delete(report_actuals::table.filter(report_actuals::report_id.eq(report_id)))
        .execute(ctx.conn)?;
    diesel::delete(indicator_results::table.filter(indicator_results::report_id.eq(report_id)))
        .execute(ctx.conn)?;
    for (line, amount) in spend {
        diesel::insert_into(report_actuals::table)
            .values((
                report_actuals::id.eq(uuid::Uuid::now_v7().to_string()),
                report_actuals::report_id.eq(report_id),
                report_actuals::budget_line_id.eq(line),
                report_actuals::amount.eq(amount),
            ))
            .execute(ctx.conn)?;
    }
    for (indicator, actual, note) in reached {
        diesel::insert_into(indicator_results::table)
            .values((
                indicator_results::id.eq(uuid::Uuid::now_v7().to_string()),
                indicator_results::report_id.eq(report_id),
                indicator_results::indicator_id.eq(indicator),
                indicator_results::actual.eq(actual),
                indicator_results::note.eq(note),
            ))
            .execute(ctx.conn)?;
    }
    Ok(())
}

/// Budget against actual spend, for one line or in total.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Variance {
    /// The line's amount in the budget (the whole grant period).
    #[schema(example = "4000.00")]
    pub budget: String,
    /// Spent, as the report gives it (`0.00` for a line it leaves out).
    #[schema(example = "4600.00")]
    pub actual: String,
    /// actual − budget (negative: underspent).
    #[schema(example = "600.00")]
    pub variance: String,
    /// variance ÷ budget, in percent with two decimals; null when the budget is zero.
    #[schema(example = "15.00")]
    pub variance_percent: Option<String>,
    /// True when the variance share lies beyond the tolerance (either way), or money was
    /// spent on a zero budget.
    pub over_tolerance: bool,
}

/// One budget line of a financial report's results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineVariance {
    /// The budget line.
    pub budget_line_id: String,
    /// Its category.
    pub category: BudgetCategory,
    /// Its description.
    pub description: String,
    /// Its budget, actual and variance.
    #[serde(flatten)]
    pub variance: Variance,
}

/// One indicator of a narrative report's results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndicatorResult {
    /// The indicator.
    #[serde(flatten)]
    pub indicator: indicators::Indicator,
    /// The value the report gives (null when it gives none).
    pub actual: Option<String>,
    /// What the report says of it.
    pub note: Option<String>,
    /// True when the actual reaches the target; null without an actual.
    pub met: Option<bool>,
}

/// What a report says against the grant's plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportResults {
    /// The report.
    pub report_id: String,
    /// narrative or financial.
    pub kind: ReportKind,
    /// ISO 4217 code of every amount (the grant's currency).
    #[schema(example = "EUR")]
    pub currency: String,
    /// The variance share beyond which a line is flagged, in percent.
    pub tolerance_percent: i64,
    /// Per budget line (financial reports; empty for narrative ones).
    pub lines: Vec<LineVariance>,
    /// All lines together (financial reports; null for narrative ones).
    pub total: Option<Variance>,
    /// Per indicator of the grant (narrative reports; empty for financial ones).
    pub indicators: Vec<IndicatorResult>,
}

/// Compares `actual` with `budget` under a tolerance in percent.
pub fn variance(budget: i64, actual: i64, tolerance_percent: i64, currency: &str) -> Variance {
    let diff = actual - budget;
    let bp = (budget != 0).then(|| {
        let scaled = i128::from(diff) * 10_000;
        let b = i128::from(budget);
        let rounded = (scaled + scaled.signum() * (b / 2)) / b;
        i64::try_from(rounded).unwrap_or(i64::MAX)
    });
    Variance {
        budget: money::format(budget, currency),
        actual: money::format(actual, currency),
        variance: budget_lines::signed(diff, currency),
        variance_percent: bp.map(budget_lines::percent),
        over_tolerance: match bp {
            Some(bp) => bp.abs() > tolerance_percent * 100,
            None => actual > 0,
        },
    }
}

/// The results of a report the caller may see (staff and the grantee's members).
pub fn read(
    conn: &mut DbConn,
    config: &Config,
    who: &Reader,
    id: &str,
) -> Result<ReportResults, ApiError> {
    if who.is_app() {
        return Err(ApiError::NotFound);
    }
    let r = report::by_id(conn, id)?;
    let g = access::visible_grant(conn, who, &r.grant_id).map_err(|_| ApiError::NotFound)?;
    let tol = config.budget_variance_tolerance_percent;
    let c = g.currency.as_str();
    let mut out = ReportResults {
        report_id: r.id.clone(),
        kind: r.kind,
        currency: g.currency.clone(),
        tolerance_percent: tol,
        lines: Vec::new(),
        total: None,
        indicators: Vec::new(),
    };
    if r.kind == ReportKind::Financial {
        let spend: Vec<(String, i64)> = report_actuals::table
            .filter(report_actuals::report_id.eq(&r.id))
            .select((report_actuals::budget_line_id, report_actuals::amount))
            .load(conn)?;
        let lines = budget_lines::of_grant(conn, &g.id)?;
        let actual_of = |id: &str| spend.iter().filter(|(l, _)| l == id).map(|(_, a)| a).sum();
        out.lines = lines
            .iter()
            .map(|l| LineVariance {
                budget_line_id: l.id.clone(),
                category: l.category,
                description: l.description.clone(),
                variance: variance(l.amount, actual_of(&l.id), tol, c),
            })
            .collect();
        let spent: i64 = spend.iter().map(|(_, a)| a).sum();
        out.total = Some(variance(budget_lines::total(&lines), spent, tol, c));
    } else {
        out.indicators = indicator_results(conn, &r.id, &g.id)?;
    }
    Ok(out)
}

fn indicator_results(
    conn: &mut DbConn,
    report_id: &str,
    grant_id: &str,
) -> Result<Vec<IndicatorResult>, ApiError> {
    let given: Vec<(String, String, String)> = indicator_results::table
        .filter(indicator_results::report_id.eq(report_id))
        .select((
            indicator_results::indicator_id,
            indicator_results::actual,
            indicator_results::note,
        ))
        .load(conn)?;
    let number = |s: &str| s.parse::<f64>().ok();
    Ok(indicators::of_grant(conn, grant_id)?
        .into_iter()
        .map(|i| {
            let hit = given.iter().find(|(id, _, _)| id == &i.id);
            let met = hit.and_then(|(_, a, _)| Some(number(a)? >= number(&i.target)?));
            IndicatorResult {
                actual: hit.map(|h| h.1.clone()),
                note: hit.map(|h| h.2.clone()),
                met,
                indicator: i.into(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_overspent_by_fifteen_percent_is_flagged_beyond_a_ten_percent_tolerance() {
        let v = variance(400_000, 460_000, 10, "EUR");
        assert_eq!(v.variance, "600.00");
        assert_eq!(v.variance_percent.as_deref(), Some("15.00"));
        assert!(v.over_tolerance);
        let within = variance(400_000, 380_000, 10, "EUR");
        assert_eq!(within.variance, "-200.00");
        assert_eq!(within.variance_percent.as_deref(), Some("-5.00"));
        assert!(!within.over_tolerance);
    }

    #[test]
    fn spending_nothing_is_written_as_zero() {
        assert_eq!(spent("a", "0", "EUR"), Ok(0));
        assert_eq!(spent("a", "0.00", "EUR"), Ok(0));
        assert!(spent("a", "0.000", "EUR").is_err());
        assert_eq!(spent("a", "12.50", "EUR"), Ok(1250));
    }
}

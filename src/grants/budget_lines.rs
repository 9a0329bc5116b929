//! A grant's budget lines: a category from a fixed list, a description and an amount in the
//! grant's currency. The lines must sum to the grant's amount when it is submitted; writing them
//! is writing the grant (its editor may not approve it). After approval a change goes through
//! `budget_revisions`. This module never moves the fund counters (that is `budget`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check::{Refusal, text_field};
use super::grant::GrantRow;
use crate::command::Ctx;
use crate::db::DbConn;
use crate::db::schema::{budget_lines, report_actuals};
use crate::error::{ApiError, ConflictCode, FieldError, no_field_errors};
use crate::money;

crate::text_enum! {
    /// What a budget line pays for.
    pub enum BudgetCategory {
        /// Salaries and fees of people working on the grant.
        Staff = "staff",
        /// Programme activities (meetings, trainings, campaigns, research).
        Activities = "activities",
        /// Travel and subsistence.
        Travel = "travel",
        /// Equipment and supplies.
        Equipment = "equipment",
        /// Grants the grantee makes onward.
        SubGrants = "sub_grants",
        /// Indirect costs.
        Overheads = "overheads",
        /// Anything else.
        Other = "other",
    }
}

/// A stored budget line.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_lines)]
pub struct BudgetLineRow {
    /// UUID v7.
    pub id: String,
    /// Grant.
    pub grant_id: String,
    /// Order on the budget, from 0.
    pub position: i32,
    /// staff, activities, travel, equipment, sub_grants, overheads or other.
    pub category: String,
    /// What it pays for.
    pub description: String,
    /// Amount in grant minor units.
    pub amount: i64,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// A line as a revision stores it (before and proposed), in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineValue {
    /// The line's id (kept across revisions so reports' actuals stay attached).
    pub id: String,
    /// Category.
    pub category: BudgetCategory,
    /// Description.
    pub description: String,
    /// Amount in grant minor units.
    pub amount: i64,
}

impl LineValue {
    fn of(r: &BudgetLineRow) -> Result<Self, ApiError> {
        Ok(Self {
            id: r.id.clone(),
            category: r.category.parse().map_err(ApiError::internal)?,
            description: r.description.clone(),
            amount: r.amount,
        })
    }

    /// The line as the API shows it.
    pub fn wire(&self, currency: &str) -> BudgetLine {
        BudgetLine {
            id: self.id.clone(),
            category: self.category,
            description: self.description.clone(),
            amount: money::format(self.amount, currency),
        }
    }
}

/// One budget line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BudgetLine {
    /// UUID v7; give it back in `PUT …/budget` to keep the line (and the actuals reported on it).
    pub id: String,
    /// What it pays for.
    pub category: BudgetCategory,
    /// Description.
    pub description: String,
    /// Amount in the grant's currency.
    #[schema(example = "4000.00")]
    pub amount: String,
}

/// One line of a budget to write.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetLineInput {
    /// The id of an existing line of this grant to keep (and change); leave out for a new line.
    #[serde(default)]
    #[schema(format = "uuid")]
    pub id: Option<String>,
    /// staff, activities, travel, equipment, sub_grants, overheads or other.
    pub category: BudgetCategory,
    /// What it pays for, 1–500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub description: String,
    /// Positive amount in the grant's currency, with at most its decimals.
    pub amount: String,
}

/// The loaded lines of a grant, in order.
pub fn of_grant(conn: &mut DbConn, grant_id: &str) -> Result<Vec<LineValue>, ApiError> {
    let rows: Vec<BudgetLineRow> = budget_lines::table
        .filter(budget_lines::grant_id.eq(grant_id))
        .order((budget_lines::position.asc(), budget_lines::id.asc()))
        .select(BudgetLineRow::as_select())
        .load(conn)?;
    rows.iter().map(LineValue::of).collect()
}

/// Checks lines to write against the grant (`field` is the request's name of the list); a line
/// naming an id keeps it only if it is one of `current`. New lines get their id here.
pub fn checked(
    field: &str,
    input: &[BudgetLineInput],
    currency: &str,
    current: &[LineValue],
) -> Result<Vec<LineValue>, ApiError> {
    let mut errors = Vec::new();
    if input.len() > 100 {
        errors.push(FieldError::new(field, "too_long", "Use at most 100 lines."));
    }
    let mut out = Vec::with_capacity(input.len());
    for (i, l) in input.iter().enumerate() {
        let at = format!("{field}.{i}");
        let description = text_field(
            &mut errors,
            &format!("{at}.description"),
            &l.description,
            1,
            500,
        );
        let amount = money::parse_amount(&format!("{at}.amount"), &l.amount, currency)
            .map_err(|e| errors.push(e.into()))
            .unwrap_or(0);
        let id = match &l.id {
            Some(id) if current.iter().any(|c| &c.id == id) => id.clone(),
            Some(_) => {
                errors.push(FieldError::new(
                    format!("{at}.id"),
                    "unknown",
                    "This grant has no budget line with this id; leave it out for a new line.",
                ));
                String::new()
            }
            None => uuid::Uuid::now_v7().to_string(),
        };
        if out.iter().any(|o: &LineValue| o.id == id) && !id.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.id"),
                "duplicate",
                "Name each line once.",
            ));
        }
        out.push(LineValue {
            id,
            category: l.category,
            description,
            amount,
        });
    }
    no_field_errors(errors)?;
    Ok(out)
}

/// The sum of `lines`.
pub fn total(lines: &[LineValue]) -> i64 {
    lines.iter().map(|l| l.amount).sum()
}

/// Refuses (409 `budget_mismatch`) a grant whose lines do not sum to its amount, naming the
/// amount, the sum and the difference; a grant without lines is refused too.
pub fn require_balanced(conn: &mut DbConn, g: &GrantRow) -> Result<(), ApiError> {
    let lines = of_grant(conn, &g.id)?;
    balanced(g, &lines).map_err(Into::into)
}

/// As [`require_balanced`], for lines in hand.
pub fn balanced(g: &GrantRow, lines: &[LineValue]) -> Result<(), Refusal> {
    let c = g.currency.as_str();
    if lines.is_empty() {
        return Err(Refusal::new(
            ConflictCode::BudgetMismatch,
            format!(
                "The grant has no budget lines; give lines that sum to its amount of {} {c} (PUT /api/v1/grants/{}/budget).",
                money::format(g.amount, c),
                g.id
            ),
        ));
    }
    let sum = total(lines);
    if sum == g.amount {
        return Ok(());
    }
    Err(Refusal::new(
        ConflictCode::BudgetMismatch,
        format!(
            "The budget lines sum to {sum} {c} but the grant's amount is {amount} {c}: a difference of {diff} {c}.",
            sum = money::format(sum, c),
            amount = money::format(g.amount, c),
            diff = signed(g.amount - sum, c),
        ),
    ))
}

/// A signed amount (`-12.50`), for differences and variances.
pub fn signed(minor: i64, currency: &str) -> String {
    if minor < 0 {
        format!("-{}", money::format(-minor, currency))
    } else {
        money::format(minor, currency)
    }
}

/// Refuses (409 `has_actuals`) to remove a line a financial report recorded spend on.
pub fn keeps_reported(
    conn: &mut DbConn,
    current: &[LineValue],
    lines: &[LineValue],
) -> Result<(), ApiError> {
    for gone in current
        .iter()
        .filter(|c| !lines.iter().any(|l| l.id == c.id))
    {
        let used: i64 = report_actuals::table
            .filter(report_actuals::budget_line_id.eq(&gone.id))
            .count()
            .get_result(conn)?;
        if used > 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::HasActuals,
                detail: format!(
                    "A financial report recorded spend on the line \"{}\"; keep it (its amount may change).",
                    gone.description
                ),
            });
        }
    }
    Ok(())
}

/// Replaces the lines of `grant_id` with `lines`: kept lines are updated, new ones inserted,
/// the others removed — unless a financial report recorded spend on them (409).
pub fn write(
    ctx: &mut Ctx<'_>,
    grant_id: &str,
    current: &[LineValue],
    lines: &[LineValue],
) -> Result<(), ApiError> {
    keeps_reported(ctx.conn, current, lines)?;
    for gone in current
        .iter()
        .filter(|c| !lines.iter().any(|l| l.id == c.id))
    {
        diesel::delete(budget_lines::table.find(&gone.id)).execute(ctx.conn)?;
    }
    for (i, l) in lines.iter().enumerate() {
        let position = i32::try_from(i).unwrap_or(i32::MAX);
        if current.iter().any(|c| c.id == l.id) {
            diesel::update(budget_lines::table.find(&l.id))
                .set((
                    budget_lines::position.eq(position),
                    budget_lines::category.eq(l.category.as_str()),
                    budget_lines::description.eq(&l.description),
                    budget_lines::amount.eq(l.amount),
                    budget_lines::updated_at.eq(ctx.now),
                ))
                .execute(ctx.conn)?;
        } else {
            diesel::insert_into(budget_lines::table)
                .values(BudgetLineRow {
                    id: l.id.clone(),
                    grant_id: grant_id.to_string(),
                    position,
                    category: l.category.as_str().to_string(),
                    description: l.description.clone(),
                    amount: l.amount,
                    created_at: ctx.now,
                    updated_at: ctx.now,
                })
                .execute(ctx.conn)?;
        }
    }
    Ok(())
}

/// The largest share of a line's amount that moves from `before` to `after`, in basis points
/// (a new line, or one that had nothing, counts as 100 %; a line removed as 100 %).
pub fn largest_move_basis_points(before: &[LineValue], after: &[LineValue]) -> i64 {
    let amount = |ls: &[LineValue], id: &str| {
        ls.iter()
            .find(|l| l.id == id)
            .map(|l| l.amount)
            .unwrap_or(0)
    };
    before
        .iter()
        .chain(after.iter())
        .map(|l| {
            let (old, new) = (amount(before, &l.id), amount(after, &l.id));
            match (old, new) {
                (o, n) if o == n => 0,
                (0, _) | (_, 0) => 10_000,
                (o, n) => ((n - o).abs() * 10_000 + o - 1) / o,
            }
        })
        .max()
        .unwrap_or(0)
}

/// Basis points as a percentage with two decimals (`12.50`).
pub fn percent(basis_points: i64) -> String {
    let sign = if basis_points < 0 { "-" } else { "" };
    let bp = basis_points.abs();
    format!("{sign}{}.{:02}", bp / 100, bp % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, amount: i64) -> LineValue {
        LineValue {
            id: id.into(),
            category: BudgetCategory::Other,
            description: "x".into(),
            amount,
        }
    }

    #[test]
    fn moving_a_tenth_of_a_line_is_ten_percent_and_a_new_line_is_all_of_it() {
        let before = [line("a", 10_000), line("b", 10_000)];
        let after = [line("a", 9_000), line("b", 11_000)];
        assert_eq!(largest_move_basis_points(&before, &after), 1_000);
        let added = [line("a", 9_000), line("b", 10_000), line("c", 1_000)];
        assert_eq!(largest_move_basis_points(&before, &added), 10_000);
        assert_eq!(largest_move_basis_points(&before, &before), 0);
    }

    #[test]
    fn percentages_are_written_with_two_decimals() {
        assert_eq!(percent(1_250), "12.50");
        assert_eq!(percent(-5), "-0.05");
    }
}

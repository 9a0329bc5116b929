//! Four eyes on grants: everyone who wrote a grant — its creator, each editor of any of its
//! fields (money, grantee, fund, title, description, pillar, priority areas, dates, budget lines,
//! indicators), and each
//! submitter — is recorded, and none of them may approve it. A title or a description is
//! what the approver reads to decide, so rewriting it is writing the grant.

use diesel::prelude::*;

use super::GrantRow;
use crate::command::Ctx;
use crate::db::DbConn;
use crate::db::schema::grant_contributors;
use crate::error::ApiError;

crate::text_enum! {
    /// How a user contributed to a grant.
    pub enum Contribution {
        /// Created the draft.
        Created = "created",
        /// Changed the amount.
        EditedAmount = "edited_amount",
        /// Changed the grantee.
        EditedGrantee = "edited_grantee",
        /// Changed the fund.
        EditedFund = "edited_fund",
        /// Changed the currency.
        EditedCurrency = "edited_currency",
        /// Changed the exchange rate (or its date).
        EditedFxRate = "edited_fx_rate",
        /// Changed the title.
        EditedTitle = "edited_title",
        /// Changed the description.
        EditedDescription = "edited_description",
        /// Changed the strategic pillar.
        EditedPillar = "edited_pillar",
        /// Changed the priority areas.
        EditedPriorityAreas = "edited_priority_areas",
        /// Changed the planned dates.
        EditedDates = "edited_dates",
        /// Changed the budget lines.
        EditedBudget = "edited_budget",
        /// Changed the indicators.
        EditedIndicators = "edited_indicators",
        /// Submitted it for approval.
        Submitted = "submitted",
    }
}

impl Contribution {
    /// Why the contributor may not approve, in the words of the 409.
    pub fn why(self) -> &'static str {
        match self {
            Contribution::Created => "you created it",
            Contribution::EditedAmount => "you edited its amount",
            Contribution::EditedGrantee => "you edited its grantee",
            Contribution::EditedFund => "you edited its fund",
            Contribution::EditedCurrency => "you edited its currency",
            Contribution::EditedFxRate => "you edited its exchange rate",
            Contribution::EditedTitle => "you edited its title",
            Contribution::EditedDescription => "you edited its description",
            Contribution::EditedPillar => "you edited its pillar",
            Contribution::EditedPriorityAreas => "you edited its priority areas",
            Contribution::EditedDates => "you edited its dates",
            Contribution::EditedBudget => "you edited its budget lines",
            Contribution::EditedIndicators => "you edited its indicators",
            Contribution::Submitted => "you submitted it",
        }
    }
}

/// Records that the acting user contributed to `grant_id`.
pub fn record(
    ctx: &mut Ctx<'_>,
    grant_id: &str,
    user_id: &str,
    what: Contribution,
) -> Result<(), ApiError> {
    diesel::insert_into(grant_contributors::table)
        .values((
            grant_contributors::id.eq(uuid::Uuid::now_v7().to_string()),
            grant_contributors::grant_id.eq(grant_id),
            grant_contributors::user_id.eq(user_id),
            grant_contributors::contribution.eq(what),
            grant_contributors::occurred_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    Ok(())
}

/// The contributions that changed between `before` and `after`: every field a person writes
/// (the counters and status are not written by an edit).
pub fn edits(before: &GrantRow, after: &GrantRow) -> Vec<Contribution> {
    let mut out = Vec::new();
    if before.amount != after.amount {
        out.push(Contribution::EditedAmount);
    }
    if before.grantee_organisation_id != after.grantee_organisation_id {
        out.push(Contribution::EditedGrantee);
    }
    if before.fund_id != after.fund_id {
        out.push(Contribution::EditedFund);
    }
    if before.currency != after.currency {
        out.push(Contribution::EditedCurrency);
    }
    if before.fx_rate_micros != after.fx_rate_micros || before.fx_rate_date != after.fx_rate_date {
        out.push(Contribution::EditedFxRate);
    }
    if before.title != after.title {
        out.push(Contribution::EditedTitle);
    }
    if before.description != after.description {
        out.push(Contribution::EditedDescription);
    }
    if before.pillar != after.pillar {
        out.push(Contribution::EditedPillar);
    }
    if before.priority_areas != after.priority_areas {
        out.push(Contribution::EditedPriorityAreas);
    }
    if before.planned_start != after.planned_start || before.planned_end != after.planned_end {
        out.push(Contribution::EditedDates);
    }
    out
}

/// Why `user_id` may not approve `g` (their first contribution), if they contributed.
pub fn why_not(conn: &mut DbConn, g: &GrantRow, user_id: &str) -> Result<Option<String>, ApiError> {
    if g.created_by == user_id {
        return Ok(Some(Contribution::Created.why().to_string()));
    }
    let first: Option<Contribution> = grant_contributors::table
        .filter(grant_contributors::grant_id.eq(&g.id))
        .filter(grant_contributors::user_id.eq(user_id))
        .order(grant_contributors::id.asc())
        .select(grant_contributors::contribution)
        .first(conn)
        .optional()?;
    Ok(first.map(|c| c.why().to_string()))
}

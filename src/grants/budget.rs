//! Every move of a money counter, each one conditional UPDATE whose WHERE clause holds the
//! limit, so it holds under any number of concurrent requests on both backends:
//! - a fund's `awarded` never exceeds its `amount` (reserve on grant approval, release on
//!   cancellation);
//! - a grant's `committed` (approved + paid tranches) never exceeds its `amount`, and its
//!   `paid` never exceeds `committed` (commit, pay, reverse, release);
//! - a fund's `disbursed` follows the grant's payments, converted at the grant's rate.
//!
//! Row locks are always taken in the order tranche → grant → fund, so concurrent commands on
//! PostgreSQL cannot deadlock.

use diesel::prelude::*;

use super::fund::{self, FundStatus};
use super::grant::{self, GrantRow, GrantStatus};
use crate::command::Ctx;
use crate::db::schema::{funds, grants};
use crate::error::{ApiError, ConflictCode};
use crate::money;

/// The fund-currency equivalent of a grant-currency amount at the grant's rate.
pub fn fund_share(g: &GrantRow, amount: i64) -> i64 {
    match g.fx_rate_micros {
        None => amount,
        Some(r) => money::convert(amount, &g.currency, &g.fund_currency, r).unwrap_or(0),
    }
}

/// Reserves a grant's award in its fund (grant approval): `awarded + x <= amount`, and the
/// fund must be active. 409 `fund_exhausted` otherwise.
pub fn reserve_in_fund(ctx: &mut Ctx<'_>, g: &GrantRow) -> Result<(), ApiError> {
    let x = g.amount_in_fund_currency;
    let counted = diesel::update(
        funds::table
            .find(&g.fund_id)
            .filter(funds::status.eq(FundStatus::Active))
            .filter((funds::awarded + x).le(funds::amount)),
    )
    .set((
        funds::awarded.eq(funds::awarded + x),
        funds::updated_at.eq(ctx.now),
    ))
    .execute(ctx.conn)?;
    if counted == 0 {
        let f = fund::by_id(ctx.conn, &g.fund_id)?;
        return Err(ApiError::Conflict {
            code: ConflictCode::FundExhausted,
            detail: format!(
                "The fund has {} {} left (or is closed); this grant needs {} {}.",
                money::format(f.amount - f.awarded, &f.currency),
                f.currency,
                money::format(x, &f.currency),
                f.currency
            ),
        });
    }
    Ok(())
}

/// Gives a cancelled grant's award back to its fund (never below zero).
pub fn release_from_fund(ctx: &mut Ctx<'_>, g: &GrantRow) -> Result<(), ApiError> {
    let x = g.amount_in_fund_currency;
    diesel::update(funds::table.find(&g.fund_id).filter(funds::awarded.ge(x)))
        .set((
            funds::awarded.eq(funds::awarded - x),
            funds::updated_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    Ok(())
}

/// Commits a tranche against its grant (final approval): `committed + x <= amount`, and the
/// grant must be active. 409 `grant_exhausted` otherwise.
pub fn commit_in_grant(ctx: &mut Ctx<'_>, grant_id: &str, x: i64) -> Result<(), ApiError> {
    let committed = diesel::update(
        grants::table
            .find(grant_id)
            .filter(grants::status.eq(GrantStatus::Active))
            .filter((grants::committed + x).le(grants::amount)),
    )
    .set((
        grants::committed.eq(grants::committed + x),
        grants::updated_at.eq(ctx.now),
    ))
    .execute(ctx.conn)?;
    if committed == 0 {
        let g = grant::by_id(ctx.conn, grant_id)?;
        return Err(ApiError::Conflict {
            code: ConflictCode::GrantExhausted,
            detail: format!(
                "The grant has {} {} left to commit (or is not active); this tranche needs {} {}.",
                money::format(g.amount - g.committed, &g.currency),
                g.currency,
                money::format(x, &g.currency),
                g.currency
            ),
        });
    }
    Ok(())
}

/// Pays a committed tranche: `paid + x <= committed` on the grant, and the fund's
/// `disbursed` grows by its fund-currency share.
pub fn pay(ctx: &mut Ctx<'_>, g: &GrantRow, x: i64) -> Result<(), ApiError> {
    let ok = diesel::update(
        grants::table
            .find(&g.id)
            .filter((grants::paid + x).le(grants::committed)),
    )
    .set((
        grants::paid.eq(grants::paid + x),
        grants::updated_at.eq(ctx.now),
    ))
    .execute(ctx.conn)?;
    if ok == 0 {
        return Err(ApiError::internal("paid would exceed committed"));
    }
    let in_fund = fund_share(g, x);
    diesel::update(funds::table.find(&g.fund_id))
        .set(funds::disbursed.eq(funds::disbursed + in_fund))
        .execute(ctx.conn)?;
    Ok(())
}

/// Reverses a paid tranche: the grant's `paid` and `committed` drop by `x` (never below
/// zero), and the fund's `disbursed` by its share.
pub fn reverse(ctx: &mut Ctx<'_>, g: &GrantRow, x: i64) -> Result<(), ApiError> {
    let n = diesel::update(
        grants::table
            .find(&g.id)
            .filter(grants::paid.ge(x))
            .filter(grants::committed.ge(x)),
    )
    .set((
        grants::paid.eq(grants::paid - x),
        grants::committed.eq(grants::committed - x),
        grants::updated_at.eq(ctx.now),
    ))
    .execute(ctx.conn)?;
    if n == 0 {
        return Err(ApiError::internal("grant counters out of step"));
    }
    let in_fund = fund_share(g, x);
    diesel::update(funds::table.find(&g.fund_id))
        .set(funds::disbursed.eq(funds::disbursed - in_fund))
        .execute(ctx.conn)?;
    Ok(())
}

/// Releases an approved, unpaid tranche from its grant: `committed - x >= paid`.
pub fn release_in_grant(ctx: &mut Ctx<'_>, g: &GrantRow, x: i64) -> Result<(), ApiError> {
    let n = diesel::update(
        grants::table
            .find(&g.id)
            .filter((grants::committed - x).ge(grants::paid)),
    )
    .set((
        grants::committed.eq(grants::committed - x),
        grants::updated_at.eq(ctx.now),
    ))
    .execute(ctx.conn)?;
    if n == 0 {
        return Err(ApiError::internal("grant counters out of step"));
    }
    Ok(())
}

//! Every move of a money counter, each one conditional UPDATE whose WHERE clause holds the
//! limit, so it holds under any number of concurrent requests on both backends:
//! - a fund's `awarded` never exceeds its `amount` (reserve on grant approval, release on
//!   cancellation);
//! - a grant's `committed` (approved + paid tranches) never exceeds its `amount`, and its
//!   `paid` never exceeds `committed` (commit, pay, reverse, release);
//! - a fund's `disbursed` follows the grant's payments, converted at the grant's rate.
//!
//! Row locks are always taken in the order grant → tranche → fund (a tranche command locks
//! its grant first), so concurrent commands on PostgreSQL cannot deadlock.
//!
//! Every move is an audit event of the fund (`fund.reserved`, `fund.released`,
//! `fund.committed`, `fund.uncommitted`, `fund.paid`, `fund.reversed`), written through the
//! command context with the counters before → after: the fund's `awarded` and `disbursed`,
//! and the moved grant's `committed` and `paid` under `grants.<grant id>`.

use diesel::prelude::*;
use serde_json::json;

use super::fund::{self, Fund, FundStatus};
use super::grant::{self, GrantRow, GrantStatus};
use crate::command::{Audited, Ctx};
use crate::db::schema::{funds, grants};
use crate::error::{ApiError, ConflictCode};
use crate::money;

/// How a move changed the counters (added to each).
#[derive(Debug, Clone, Copy, Default)]
struct Moved {
    awarded: i64,
    disbursed: i64,
    committed: i64,
    paid: i64,
}

/// Records a counter move as an audit event of the grant's fund. Read after the UPDATE (the
/// row is this transaction's now), so `before` is exactly `after` less the move.
fn record(ctx: &mut Ctx<'_>, verb: &str, grant_id: &str, m: Moved) -> Result<(), ApiError> {
    let g = grant::by_id(ctx.conn, grant_id)?;
    let f = fund::by_id(ctx.conn, &g.fund_id)?;
    let snapshot = |back: i64| {
        let mut grants = serde_json::Map::new();
        grants.insert(
            g.id.clone(),
            json!({
                "committed": money::format(g.committed - back * m.committed, &g.currency),
                "paid": money::format(g.paid - back * m.paid, &g.currency),
            }),
        );
        json!({
            "currency": f.currency,
            "awarded": money::format(f.awarded - back * m.awarded, &f.currency),
            "disbursed": money::format(f.disbursed - back * m.disbursed, &f.currency),
            "grants": grants,
        })
    };
    ctx.audit_raw(
        &format!("{}.{verb}", Fund::ENTITY),
        Fund::ENTITY,
        &f.id,
        Some(snapshot(1)),
        Some(snapshot(0)),
    )
}

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
            .filter(funds::opening_pending.eq(false))
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
                "The fund has {} {} left (or is closed, or its amount waits for a second \
                 person); this grant needs {} {}.",
                money::format(f.amount_in_force() - f.awarded, &f.currency),
                f.currency,
                money::format(x, &f.currency),
                f.currency
            ),
        });
    }
    let m = Moved {
        awarded: x,
        ..Moved::default()
    };
    record(ctx, "reserved", &g.id, m)
}

/// Gives a cancelled grant's award back to its fund (never below zero).
pub fn release_from_fund(ctx: &mut Ctx<'_>, g: &GrantRow) -> Result<(), ApiError> {
    let x = g.amount_in_fund_currency;
    let n = diesel::update(funds::table.find(&g.fund_id).filter(funds::awarded.ge(x)))
        .set((
            funds::awarded.eq(funds::awarded - x),
            funds::updated_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    if n == 0 {
        return Ok(());
    }
    let m = Moved {
        awarded: -x,
        ..Moved::default()
    };
    record(ctx, "released", &g.id, m)
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
    let m = Moved {
        committed: x,
        ..Moved::default()
    };
    record(ctx, "committed", grant_id, m)
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
    let m = Moved {
        disbursed: in_fund,
        paid: x,
        ..Moved::default()
    };
    record(ctx, "paid", &g.id, m)
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
    let m = Moved {
        disbursed: -in_fund,
        paid: -x,
        committed: -x,
        ..Moved::default()
    };
    record(ctx, "reversed", &g.id, m)
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
    let m = Moved {
        committed: -x,
        ..Moved::default()
    };
    record(ctx, "uncommitted", &g.id, m)
}

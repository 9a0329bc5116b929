//! Writing a grant: a draft is created with the next reference of the year, and edited
//! under `If-Match` while it is a draft.

use chrono::Datelike;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::contributors::{self, Contribution};
use super::fields::{self, GrantFields, GrantInput};
use super::{Grant, GrantPatch, GrantRow, GrantStatus, NewGrant, by_id, edit_transition};
use crate::auth::caller::GrantStaff;
use crate::auth::principal::RequestMeta;
use crate::command;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{grant_counters, grants};
use crate::error::{ApiError, ConflictCode};
use crate::grants::fund::{self, FundRow, FundStatus};
use crate::grants::{budget_lines, indicators};
use crate::money;

/// Prefix of grant references.
pub const REFERENCE_PREFIX: &str = "IDPC";

/// Takes the next reference number of `year` inside the caller's transaction. The counter row
/// is bumped by one UPDATE, so concurrent creations queue on its row lock and never share a
/// number; the first grant of a year inserts the row (a savepoint absorbs an insert race).
fn next_reference(conn: &mut DbConn, year: i32) -> Result<String, ApiError> {
    for _ in 0..3 {
        let bumped = diesel::update(grant_counters::table.find(year))
            .set(grant_counters::last_number.eq(grant_counters::last_number + 1))
            .execute(conn)?;
        if bumped == 0 {
            let inserted = conn.transaction(|c| {
                diesel::insert_into(grant_counters::table)
                    .values((
                        grant_counters::year.eq(year),
                        grant_counters::last_number.eq(1_i64),
                    ))
                    .execute(c)
            });
            match inserted {
                Ok(_) => {}
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let n: i64 = grant_counters::table
            .find(year)
            .select(grant_counters::last_number)
            .first(conn)?;
        return Ok(format!("{REFERENCE_PREFIX}-{year}-{n:04}"));
    }
    Err(ApiError::Conflict {
        code: ConflictCode::ConcurrentUpdate,
        detail: "Too many grants were created at once; retry.".into(),
    })
}

/// Creates a draft grant with the next reference of the year.
pub fn create(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    req: NewGrant,
) -> Result<GrantRow, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        let fund = fund::by_id(ctx.conn, &req.fund_id).map_err(|e| match e {
            ApiError::NotFound => ApiError::field("fund_id", "unknown", "No fund has this id."),
            other => other,
        })?;
        if fund.status != FundStatus::Active {
            return Err(ApiError::field(
                "fund_id",
                "closed",
                "The fund is closed; it takes no new grants.",
            ));
        }
        let f = fields::check(
            ctx.conn,
            ctx.config,
            &fund,
            &GrantInput {
                grantee: &req.grantee_organisation_id,
                title: &req.title,
                description: &req.description,
                pillar: &req.pillar,
                priority_areas: &req.priority_areas,
                currency: &req.currency,
                amount: &req.amount,
                fx_rate: req.fx_rate.as_deref(),
                fx_rate_date: req.fx_rate_date,
                planned_start: req.planned_start,
                planned_end: req.planned_end,
            },
        )?;
        let year = ctx.now.year();
        let row = GrantRow {
            id: uuid::Uuid::now_v7().to_string(),
            reference: next_reference(ctx.conn, year)?,
            year,
            fund_id: fund.id.clone(),
            grantee_organisation_id: f.grantee,
            title: f.title,
            description: f.description,
            pillar: f.pillar,
            priority_areas: f.priority_areas,
            currency: f.currency,
            amount: f.amount,
            fx_rate_micros: f.fx_rate_micros,
            fx_rate_date: f.fx_rate_date,
            fund_currency: fund.currency.clone(),
            amount_in_fund_currency: f.amount_in_fund_currency,
            committed: 0,
            paid: 0,
            planned_start: f.planned_start,
            planned_end: f.planned_end,
            status: GrantStatus::Draft,
            created_by: who.id.clone(),
            submitted_at: None,
            approved_by: None,
            approved_at: None,
            decision_reason: None,
            created_at: ctx.now,
            updated_at: ctx.now,
            version: 1,
            activated_at: None,
            closed_at: None,
        };
        diesel::insert_into(grants::table)
            .values(&row)
            .execute(ctx.conn)?;
        contributors::record(ctx, &row.id, &who.id, Contribution::Created)?;
        plan(ctx, &row, &req)?;
        ctx.audit("created", None, Some(&Grant::from(row.clone())))?;
        Ok(row)
    })
}

/// Writes the budget lines and indicators a new grant is created with.
fn plan(ctx: &mut command::Ctx<'_>, row: &GrantRow, req: &NewGrant) -> Result<(), ApiError> {
    let lines = budget_lines::checked("budget", &req.budget, &row.currency, &[])?;
    budget_lines::write(ctx, &row.id, &[], &lines)?;
    let goals = indicators::checked("indicators", &row.id, &req.indicators, &[])?;
    indicators::write(ctx.conn, &[], &goals)
}

/// Changes a draft grant under `If-Match` (merge patch).
pub fn update(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    id: &str,
    version: i64,
    patch: GrantPatch,
) -> Result<GrantRow, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        let before = by_id(ctx.conn, id)?;
        if before.version != version {
            return Err(ApiError::PreconditionFailed {
                current_version: before.version,
            });
        }
        let to = edit_transition(before.status)?;
        let fund = fund::by_id(ctx.conn, &before.fund_id)?;
        let f = patched_fields(ctx.conn, ctx.config, &fund, &before, &patch)?;
        let n = diesel::update(
            grants::table
                .find(id)
                .filter(grants::version.eq(version))
                .filter(grants::status.eq(before.status)),
        )
        .set((
            grants::status.eq(to),
            grants::submitted_at.eq(before.submitted_at.filter(|_| to == before.status)),
            grants::grantee_organisation_id.eq(&f.grantee),
            grants::title.eq(&f.title),
            grants::description.eq(&f.description),
            grants::pillar.eq(&f.pillar),
            grants::priority_areas.eq(&f.priority_areas),
            grants::currency.eq(&f.currency),
            grants::amount.eq(f.amount),
            grants::fx_rate_micros.eq(f.fx_rate_micros),
            grants::fx_rate_date.eq(f.fx_rate_date),
            grants::amount_in_fund_currency.eq(f.amount_in_fund_currency),
            grants::planned_start.eq(f.planned_start),
            grants::planned_end.eq(f.planned_end),
            grants::updated_at.eq(ctx.now),
            grants::version.eq(grants::version + 1),
        ))
        .execute(ctx.conn)?;
        let after = by_id(ctx.conn, id)?;
        if n == 0 {
            return Err(ApiError::PreconditionFailed {
                current_version: after.version,
            });
        }
        for what in contributors::edits(&before, &after) {
            contributors::record(ctx, id, &who.id, what)?;
        }
        ctx.audit(
            "updated",
            Some(&Grant::from(before)),
            Some(&Grant::from(after.clone())),
        )?;
        Ok(after)
    })
}

/// A draft's fields with the patch merged over them, checked together.
fn patched_fields(
    conn: &mut DbConn,
    config: &Config,
    fund: &FundRow,
    before: &GrantRow,
    patch: &GrantPatch,
) -> Result<GrantFields, ApiError> {
    let currency = patch.currency.clone().unwrap_or(before.currency.clone());
    let amount = patch
        .amount
        .clone()
        .unwrap_or_else(|| money::format(before.amount, &before.currency));
    let fx_rate = match &patch.fx_rate {
        Some(v) => v.clone(),
        None => before.fx_rate_micros.map(money::format_rate),
    };
    let fx_rate_date = match patch.fx_rate_date {
        Some(v) => v,
        None => before.fx_rate_date,
    };
    let areas = patch
        .priority_areas
        .clone()
        .unwrap_or_else(|| before.priority_area_list());
    fields::check(
        conn,
        config,
        fund,
        &GrantInput {
            grantee: patch
                .grantee_organisation_id
                .as_deref()
                .unwrap_or(&before.grantee_organisation_id),
            title: patch.title.as_deref().unwrap_or(&before.title),
            description: patch.description.as_deref().unwrap_or(&before.description),
            pillar: patch.pillar.as_deref().unwrap_or(&before.pillar),
            priority_areas: &areas,
            currency: &currency,
            amount: &amount,
            fx_rate: fx_rate.as_deref(),
            fx_rate_date,
            planned_start: patch.planned_start.unwrap_or(before.planned_start),
            planned_end: patch.planned_end.unwrap_or(before.planned_end),
        },
    )
}

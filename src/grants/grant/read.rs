//! Reading grants: the filtered list and one grant with its tranches, reports and totals.

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Grant, GrantDetail, GrantRow, GrantStatus, GrantTotals};
use crate::codes;
use crate::db::DbConn;
use crate::db::backend;
use crate::db::schema::{grant_reports, grants};
use crate::error::no_field_errors;
use crate::error::{ApiError, FieldError};
use crate::grants::access::{self, PartnerGrant, Reader};
use crate::grants::report::{Report, ReportRow};
use crate::grants::tranche::{self, Tranche, TrancheStatus};
use crate::money;
use crate::pagination::{self, Page};

/// A grant as its reader sees it: staff and members get the grant with its tranches and
/// reports; partner apps the published view only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per answer and serialized at once; a box buys nothing"
)]
pub enum GrantAnswer {
    /// For staff and the grantee's members.
    Full(GrantDetail),
    /// For partner apps.
    Partner(PartnerGrant),
}

/// A grant in a list, as its reader sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[expect(
    clippy::large_enum_variant,
    reason = "a page holds at most 100; a box per row buys nothing"
)]
pub enum GrantItem {
    /// For staff and the grantee's members.
    Full(Grant),
    /// For partner apps.
    Partner(PartnerGrant),
}

/// Filters of the grant list.
#[derive(Debug, Clone, Default)]
pub struct GrantFilter {
    /// Status.
    pub status: Option<String>,
    /// Fund.
    pub fund_id: Option<String>,
    /// Grantee.
    pub grantee_organisation_id: Option<String>,
    /// Pillar.
    pub pillar: Option<String>,
    /// One priority area.
    pub priority_area: Option<String>,
    /// Year of the reference.
    pub year: Option<i32>,
}

type GrantQuery<'a> = grants::BoxedQuery<'a, crate::db::MultiBackend>;

fn filtered<'a>(who: &Reader, status: Option<GrantStatus>, f: &'a GrantFilter) -> GrantQuery<'a> {
    let mut q = access::visible_grants(who);
    if let Some(s) = status {
        q = q.filter(grants::status.eq(s));
    }
    if let Some(s) = &f.fund_id {
        q = q.filter(grants::fund_id.eq(s));
    }
    if let Some(s) = &f.grantee_organisation_id {
        q = q.filter(grants::grantee_organisation_id.eq(s));
    }
    if let Some(s) = &f.pillar {
        q = q.filter(grants::pillar.eq(s));
    }
    if let Some(s) = &f.priority_area {
        // Stored as ",a,b," so one LIKE finds one whole code; `\\` escapes the code's `_`.
        q = q.filter(
            grants::priority_areas
                .like(backend::like_pattern(&format!(",{s},")))
                .escape('\\'),
        );
    }
    if let Some(y) = f.year {
        q = q.filter(grants::year.eq(y));
    }
    q
}

fn check_filter(f: &GrantFilter) -> Result<Option<GrantStatus>, ApiError> {
    let mut errors = Vec::new();
    let status = match &f.status {
        None => None,
        Some(s) => {
            let parsed = GrantStatus::parse(s);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "status",
                    "unknown_code",
                    "Unknown grant status.",
                ));
            }
            parsed
        }
    };
    if let Some(s) = &f.pillar
        && !codes::PILLARS.contains(&s.as_str())
    {
        errors.push(FieldError::new("pillar", "unknown_code", "Unknown pillar."));
    }
    if let Some(s) = &f.priority_area
        && !codes::PRIORITY_AREAS.contains(&s.as_str())
    {
        errors.push(FieldError::new(
            "priority_area",
            "unknown_code",
            "Unknown priority area.",
        ));
    }
    no_field_errors(errors)?;
    Ok(status)
}

/// Lists the grants the caller may see, oldest first, with filters.
pub fn list(
    conn: &mut DbConn,
    who: &Reader,
    filter: &GrantFilter,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<GrantItem>, ApiError> {
    let status = check_filter(filter)?;
    let after = pagination::decode_cursor(cursor, 1)?;
    if let Some(org) = &filter.grantee_organisation_id
        && !access::may_find_by_grantee(conn, who, org)?
    {
        return Ok(Page {
            data: Vec::new(),
            next_cursor: None,
            total: 0,
        });
    }
    let mut q = filtered(who, status, filter)
        .select(GrantRow::as_select())
        .order(grants::id.asc())
        .limit(limit + 1);
    if let Some(a) = after {
        q = q.filter(grants::id.gt(a[0].clone()));
    }
    let mut rows: Vec<GrantRow> = q.load(conn)?;
    let total: i64 = filtered(who, status, filter).count().get_result(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    let data = if who.is_app() {
        access::partner_views(conn, rows)?
            .into_iter()
            .map(GrantItem::Partner)
            .collect()
    } else {
        rows.into_iter()
            .map(|r| GrantItem::Full(Grant::from(r)))
            .collect()
    };
    Ok(Page {
        data,
        next_cursor,
        total,
    })
}

/// A grant with its tranches, reports and totals (partner apps: the published view only),
/// and its version for the ETag.
pub fn detail(conn: &mut DbConn, who: &Reader, id: &str) -> Result<(GrantAnswer, i64), ApiError> {
    let g = access::visible_grant(conn, who, id)?;
    let version = g.version;
    if who.is_app() {
        let mut views = access::partner_views(conn, vec![g])?;
        let view = views.pop().ok_or(ApiError::NotFound)?;
        return Ok((GrantAnswer::Partner(view), version));
    }
    let tranches = tranche::of_grant(conn, id)?;
    let reports: Vec<ReportRow> = grant_reports::table
        .filter(grant_reports::grant_id.eq(id))
        .order((grant_reports::due_on.asc(), grant_reports::id.asc()))
        .select(ReportRow::as_select())
        .load(conn)?;
    let sum = |status: TrancheStatus| -> i64 {
        tranches
            .iter()
            .filter(|t| t.status == status)
            .map(|t| t.amount)
            .sum()
    };
    let c = g.currency.clone();
    let totals = GrantTotals {
        requested: money::format(sum(TrancheStatus::Requested), &c),
        approved: money::format(sum(TrancheStatus::Approved), &c),
        paid: money::format(sum(TrancheStatus::Paid), &c),
        reversed: money::format(sum(TrancheStatus::Reversed), &c),
        remaining: money::format(g.amount - g.committed, &c),
    };
    let detail = GrantDetail {
        disbursements: tranches
            .into_iter()
            .map(|t| Tranche::from_row(t, &c))
            .collect(),
        reports: reports.into_iter().map(Report::from).collect(),
        totals,
        grant: g.into(),
    };
    Ok((GrantAnswer::Full(detail), version))
}

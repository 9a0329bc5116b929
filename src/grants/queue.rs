//! Work queues: the tranche lists (among them what awaits the caller: tranches it may approve
//! or pay now) and the report lists (submitted, due, overdue). Their items carry the grant's
//! reference and title, the grantee's name and the requester's or submitter's name, so a
//! queue needs no second call. The API and the console read the same functions.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::access::Reader;
use super::fx;
use super::grant::GrantStatus;
use super::report::{Report, ReportRow, ReportStatus};
use super::tranche::{Tranche, TrancheRow, TrancheStatus};
use crate::auth::Role;
use crate::auth::caller::Staff;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{disbursements, grant_reports, grants, organisations, users};
use crate::error::ApiError;
use crate::money;
use crate::pagination::{self, Page};

/// A tranche in a list, with what a person needs to act on it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DisbursementItem)]
pub struct TrancheItem {
    /// The tranche.
    #[serde(flatten)]
    pub tranche: Tranche,
    /// The grant's reference (IDPC-YYYY-NNNN).
    pub grant_reference: String,
    /// The grant's title.
    pub grant_title: String,
    /// The grantee organisation.
    pub grantee_organisation_id: String,
    /// The grantee organisation's name.
    pub grantee_name: String,
    /// The display name of who requested the tranche.
    pub requester_name: String,
    /// The display names of its approvers so far, in order (finance sees who approved what
    /// it pays).
    pub approver_names: Vec<String>,
    /// The base currency limits are computed in (`BASE_CURRENCY`).
    pub base_currency: String,
    /// The amount in the base currency, when it can be converted.
    pub base_amount: Option<String>,
    /// The status of the report the tranche waits on, when it waits on one.
    pub requires_report_status: Option<ReportStatus>,
}

/// A report in a list, with its grant, grantee and submitter.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ReportItem)]
pub struct ReportItem {
    /// The report.
    #[serde(flatten)]
    pub report: Report,
    /// The grant's reference (IDPC-YYYY-NNNN).
    pub grant_reference: String,
    /// The grant's title.
    pub grant_title: String,
    /// The grantee organisation.
    pub grantee_organisation_id: String,
    /// The grantee organisation's name.
    pub grantee_name: String,
    /// The display name of who submitted it, once submitted.
    pub submitter_name: Option<String>,
    /// True when it is owed (due or returned) and its due date has passed.
    pub overdue: bool,
}

/// Filters of the tranche lists.
#[derive(Debug, Clone, Default)]
pub struct TrancheFilter {
    /// Only this status (its wire text).
    pub status: Option<String>,
    /// Only this grant.
    pub grant_id: Option<String>,
    /// `me`: only what the caller may approve (grant staff) or pay (finance) now.
    pub awaiting: Option<String>,
}

/// Filters of the report lists.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// due, submitted, accepted, returned, or overdue (owed and past its due date).
    pub status: Option<String>,
    /// Only this grant.
    pub grant_id: Option<String>,
}

fn names_of_users(conn: &mut DbConn, ids: Vec<String>) -> QueryResult<HashMap<String, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

fn names_of_organisations(
    conn: &mut DbConn,
    ids: Vec<String>,
) -> QueryResult<HashMap<String, String>> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((organisations::id, organisations::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// What a list row knows of its grant.
type GrantBits = (String, String, String, String);

type TrancheQuery<'a> = disbursements::BoxedQuery<'a, crate::db::MultiBackend>;

/// The tranche lists of staff, oldest first: by status and grant, or awaiting the caller.
/// Awaiting a grant officer or admin: requested, not requested nor already approved by them,
/// and not waiting on a report that is not accepted. Awaiting finance: approved.
pub fn tranches(
    conn: &mut DbConn,
    config: &Config,
    who: &Staff,
    filter: &TrancheFilter,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<TrancheItem>, ApiError> {
    let status =
        match filter.status.as_deref() {
            None => None,
            Some(s) => Some(TrancheStatus::parse(s).ok_or_else(|| {
                ApiError::field("status", "unknown_code", "Unknown tranche status.")
            })?),
        };
    let awaiting_me = match filter.awaiting.as_deref() {
        None => false,
        Some("me") => true,
        Some(_) => {
            return Err(ApiError::field(
                "awaiting",
                "unknown_code",
                "The only queue is awaiting=me.",
            ));
        }
    };
    let me = who.id.clone();
    let role = who.role;
    let grant_id = filter.grant_id.clone();
    let build = move || -> TrancheQuery<'static> {
        let mut q = disbursements::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(disbursements::status.eq(s));
        }
        if let Some(gid) = grant_id.clone() {
            q = q.filter(disbursements::grant_id.eq(gid));
        }
        if awaiting_me {
            q = match role {
                Role::FinanceOfficer => q.filter(disbursements::status.eq(TrancheStatus::Approved)),
                _ => q
                    .filter(disbursements::status.eq(TrancheStatus::Requested))
                    .filter(disbursements::requested_by.ne(me.clone()))
                    .filter(
                        disbursements::approver_1
                            .is_null()
                            .or(disbursements::approver_1.ne(me.clone())),
                    )
                    .filter(
                        disbursements::requires_report_id.is_null().or(
                            disbursements::requires_report_id.eq_any(
                                grant_reports::table
                                    .filter(grant_reports::status.eq(ReportStatus::Accepted))
                                    .select(grant_reports::id.nullable()),
                            ),
                        ),
                    ),
            };
        }
        q
    };
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = build()
        .select(TrancheRow::as_select())
        .order(disbursements::id.asc())
        .limit(limit + 1);
    if let Some(a) = after {
        q = q.filter(disbursements::id.gt(a[0].clone()));
    }
    let mut rows: Vec<TrancheRow> = q.load(conn)?;
    let total: i64 = build().count().get_result(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: tranche_items(conn, config, rows)?,
        next_cursor,
        total,
    })
}

/// The list items of `rows`, with names and amounts in the base currency.
pub fn tranche_items(
    conn: &mut DbConn,
    config: &Config,
    rows: Vec<TrancheRow>,
) -> Result<Vec<TrancheItem>, ApiError> {
    let grant_ids: Vec<String> = rows.iter().map(|r| r.grant_id.clone()).collect();
    let grant_bits: HashMap<String, GrantBits> = grants::table
        .filter(grants::id.eq_any(grant_ids))
        .select((
            grants::id,
            grants::reference,
            grants::title,
            grants::grantee_organisation_id,
            grants::currency,
        ))
        .load::<(String, String, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, r, t, o, c)| (id, (r, t, o, c)))
        .collect();
    let orgs = names_of_organisations(conn, grant_bits.values().map(|g| g.2.clone()).collect())?;
    let people = names_of_users(
        conn,
        rows.iter()
            .flat_map(|r| {
                [
                    Some(&r.requested_by),
                    r.approver_1.as_ref(),
                    r.approver_2.as_ref(),
                ]
            })
            .flatten()
            .cloned()
            .collect(),
    )?;
    let report_ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.requires_report_id.clone())
        .collect();
    let reports: HashMap<String, ReportStatus> = grant_reports::table
        .filter(grant_reports::id.eq_any(report_ids))
        .select((grant_reports::id, grant_reports::status))
        .load::<(String, ReportStatus)>(conn)?
        .into_iter()
        .collect();
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let (reference, title, org, currency) =
            grant_bits.get(&r.grant_id).cloned().unwrap_or_default();
        let base_amount = fx::to_base(conn, config, r.amount, &currency)?
            .map(|v| money::format(v, &config.base_currency));
        let payee =
            super::tranche::payee::payee_of(conn, &r, &org, &currency, config.clock.naive())?;
        let approver_names = [&r.approver_1, &r.approver_2]
            .into_iter()
            .flatten()
            .map(|a| people.get(a).cloned().unwrap_or_default())
            .collect();
        items.push(TrancheItem {
            approver_names,
            grant_reference: reference,
            grant_title: title,
            grantee_name: orgs.get(&org).cloned().unwrap_or_default(),
            grantee_organisation_id: org,
            requester_name: people.get(&r.requested_by).cloned().unwrap_or_default(),
            base_currency: config.base_currency.clone(),
            base_amount,
            requires_report_status: r
                .requires_report_id
                .as_ref()
                .and_then(|id| reports.get(id).copied()),
            tranche: Tranche {
                payee_account: payee,
                ..Tranche::from_row(r, &currency)
            },
        });
    }
    Ok(items)
}

type ReportQuery<'a> = grant_reports::BoxedQuery<'a, crate::db::MultiBackend>;

/// The reports a caller may see, oldest first: staff every report, a member its
/// organisation's; filtered by status (or `overdue`) and grant.
pub fn reports(
    conn: &mut DbConn,
    who: &Reader,
    filter: &ReportFilter,
    limit: i64,
    cursor: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<Page<ReportItem>, ApiError> {
    if who.is_app() {
        return Err(ApiError::Forbidden(
            "Partner apps have no access to reports.".into(),
        ));
    }
    let (status, overdue) = match filter.status.as_deref() {
        None => (None, false),
        Some("overdue") => (None, true),
        Some(s) => (
            Some(ReportStatus::parse(s).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "unknown_code",
                    "Use due, submitted, accepted, returned or overdue.",
                )
            })?),
            false,
        ),
    };
    let reader = who.clone();
    let grant_id = filter.grant_id.clone();
    let build = move || -> ReportQuery<'static> {
        let mut q = grant_reports::table.into_boxed();
        // Staff see every report; a member only those of its organisation's grants once
        // submitted (the grants it may see).
        if let Reader::Member(u) = &reader {
            q = q.filter(
                grant_reports::grant_id.eq_any(
                    grants::table
                        .filter(
                            grants::grantee_organisation_id
                                .eq(u.organisation_id.clone().unwrap_or_default()),
                        )
                        .filter(grants::status.ne(GrantStatus::Draft))
                        .select(grants::id),
                ),
            );
        }
        if let Some(s) = status {
            q = q.filter(grant_reports::status.eq(s));
        }
        if overdue {
            q = q
                .filter(grant_reports::status.eq_any([ReportStatus::Due, ReportStatus::Returned]))
                .filter(grant_reports::due_on.lt(today));
        }
        if let Some(gid) = grant_id.clone() {
            q = q.filter(grant_reports::grant_id.eq(gid));
        }
        q
    };
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = build()
        .select(ReportRow::as_select())
        .order(grant_reports::id.asc())
        .limit(limit + 1);
    if let Some(a) = after {
        q = q.filter(grant_reports::id.gt(a[0].clone()));
    }
    let mut rows: Vec<ReportRow> = q.load(conn)?;
    let total: i64 = build().count().get_result(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: report_items(conn, rows, today)?,
        next_cursor,
        total,
    })
}

/// The list items of `rows`, with names.
pub fn report_items(
    conn: &mut DbConn,
    rows: Vec<ReportRow>,
    today: chrono::NaiveDate,
) -> Result<Vec<ReportItem>, ApiError> {
    let grant_ids: Vec<String> = rows.iter().map(|r| r.grant_id.clone()).collect();
    let grant_bits: HashMap<String, (String, String, String)> = grants::table
        .filter(grants::id.eq_any(grant_ids))
        .select((
            grants::id,
            grants::reference,
            grants::title,
            grants::grantee_organisation_id,
        ))
        .load::<(String, String, String, String)>(conn)?
        .into_iter()
        .map(|(id, r, t, o)| (id, (r, t, o)))
        .collect();
    let orgs = names_of_organisations(conn, grant_bits.values().map(|g| g.2.clone()).collect())?;
    let people = names_of_users(
        conn,
        rows.iter().filter_map(|r| r.submitted_by.clone()).collect(),
    )?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (reference, title, org) = grant_bits.get(&r.grant_id).cloned().unwrap_or_default();
            ReportItem {
                grant_reference: reference,
                grant_title: title,
                grantee_name: orgs.get(&org).cloned().unwrap_or_default(),
                grantee_organisation_id: org,
                submitter_name: r.submitted_by.as_ref().and_then(|u| people.get(u).cloned()),
                overdue: matches!(r.status, ReportStatus::Due | ReportStatus::Returned)
                    && r.due_on < today,
                report: Report::from(r),
            }
        })
        .collect())
}

/// A report the caller may see, with its grant's facts; anything else is 404.
pub fn visible_report(
    conn: &mut DbConn,
    who: &Reader,
    id: &str,
    today: chrono::NaiveDate,
) -> Result<ReportItem, ApiError> {
    // Partner apps never see reports: whether one exists is not theirs to learn either.
    if who.is_app() {
        return Err(ApiError::NotFound);
    }
    let r = super::report::by_id(conn, id)?;
    super::access::visible_grant(conn, who, &r.grant_id).map_err(|_| ApiError::NotFound)?;
    report_items(conn, vec![r], today)?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// A tranche the caller may see, as a list item; anything else is 404.
pub fn visible_tranche(
    conn: &mut DbConn,
    config: &Config,
    who: &Reader,
    id: &str,
) -> Result<TrancheItem, ApiError> {
    let (row, _) = super::access::visible_tranche(conn, who, id)?;
    tranche_items(conn, config, vec![row])?
        .pop()
        .ok_or(ApiError::NotFound)
}

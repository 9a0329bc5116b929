//! Grant rules: who may do what to funds, grants, tranches and reports, the state machines,
//! four eyes, and the budgets. Every budget is enforced by ONE conditional UPDATE
//! (`... WHERE total + :x <= limit`), so it holds under any number of concurrent requests on
//! both backends; a write, its audit event and its emails share one transaction.
//!
//! Row locks are always taken in the order disbursement → grant → fund, so concurrent
//! commands on PostgreSQL cannot deadlock.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::{Value, json};

use super::model::*;
use crate::audit::{self, Event};
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role, Scope};
use crate::codes;
use crate::config::Config;
use crate::db::schema::{
    disbursements, funds, grant_counters, grant_reports, grants, organisations, users,
};
use crate::db::{DbConn, backend, write_tx};
use crate::directory::model::OrganisationRow;
use crate::error::{ApiError, FieldError};
use crate::money;
use crate::notify::{self, Kind, Recipient};
use crate::pagination::{self, Page};

/// Roles that write funds and grants and decide on tranches and reports.
pub const GRANT_STAFF: &[Role] = &[Role::Admin, Role::GrantOfficer];
/// Roles that read every fund, grant and tranche.
pub const READ_STAFF: &[Role] = &[Role::Admin, Role::GrantOfficer, Role::FinanceOfficer];
/// Grant statuses that are public (exports, partner apps).
pub const PUBLISHED: &[&str] = &["approved", "active", "closed"];
/// Prefix of grant references.
pub const REFERENCE_PREFIX: &str = "IDPC";

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn invalid_transition(what: &str, status: &str, verb: &str, from: &[&str]) -> ApiError {
    ApiError::Conflict {
        code: "invalid_transition",
        detail: format!(
            "The {what} is {status}; {verb} needs it to be {}.",
            from.join(" or ")
        ),
    }
}

fn text_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) -> String {
    // The length is counted as sent, as the documented schema counts it; stored trimmed.
    let v = value.trim();
    let n = value.chars().count();
    if n < min || n > max || (min > 0 && v.is_empty()) {
        errors.push(FieldError::new(
            field,
            "invalid_length",
            format!("Use {min} to {max} characters."),
        ));
    }
    v.to_string()
}

fn done(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn organisation(conn: &mut DbConn, id: &str) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()
}

// ---------------------------------------------------------------------------------------
// Recipients and emails
// ---------------------------------------------------------------------------------------

fn active_staff(conn: &mut DbConn, role: Role) -> QueryResult<Vec<Recipient>> {
    let rows: Vec<(String, String)> = users::table
        .filter(users::role.eq(role.as_str()))
        .filter(users::status.eq("active"))
        .order(users::id.asc())
        .select((users::email, users::display_name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(email, name)| Recipient { email, name })
        .collect())
}

fn grantee_members(conn: &mut DbConn, org: &str) -> QueryResult<Vec<Recipient>> {
    let rows: Vec<(String, String)> = users::table
        .filter(users::role.eq("member"))
        .filter(users::status.eq("active"))
        .filter(users::organisation_id.eq(org))
        .order(users::id.asc())
        .select((users::email, users::display_name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(email, name)| Recipient { email, name })
        .collect())
}

fn user_recipient(conn: &mut DbConn, id: &str) -> QueryResult<Option<Recipient>> {
    let row: Option<(String, String)> = users::table
        .find(id)
        .filter(users::status.eq("active"))
        .select((users::email, users::display_name))
        .first(conn)
        .optional()?;
    Ok(row.map(|(email, name)| Recipient { email, name }))
}

/// The context every grant email gets; `extra` adds or overrides keys.
fn grant_context(conn: &mut DbConn, config: &Config, g: &GrantRow, extra: Value) -> Value {
    let grantee = organisation(conn, &g.grantee_organisation_id)
        .ok()
        .flatten()
        .map(|o| o.name)
        .unwrap_or_default();
    let mut ctx = json!({
        "grant_reference": g.reference,
        "grant_title": g.title,
        "grantee_name": grantee,
        "link": format!("{}/grants/{}", config.public_base_url, g.id),
        "amount": format!("{} {}", money::format(g.amount, &g.currency), g.currency),
        "reason": null,
        "report_title": null,
        "due_on": null,
        "days": null,
        "payment_reference": null,
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut ctx, extra) {
        base.extend(more);
    }
    ctx
}

fn send_all(
    conn: &mut DbConn,
    config: &Config,
    kind: Kind,
    to: &[Recipient],
    ctx: &Value,
) -> Result<(), ApiError> {
    let mut seen: Vec<&str> = Vec::new();
    for r in to {
        if seen.contains(&r.email.as_str()) {
            continue;
        }
        seen.push(&r.email);
        notify::enqueue(conn, config, kind, r, ctx.clone(), None)?;
    }
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "one audit event, spelled out at each call"
)]
fn record(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    action: &str,
    entity_type: &str,
    id: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> QueryResult<()> {
    audit::record(
        conn,
        Event {
            actor: &who.actor(),
            action,
            entity_type,
            entity_id: id,
            before,
            after,
            request_id: meta.request_id.as_deref(),
        },
    )
}

// ---------------------------------------------------------------------------------------
// Funds
// ---------------------------------------------------------------------------------------

/// Loads a fund (404 when unknown).
pub fn fund_by_id(conn: &mut DbConn, id: &str) -> Result<FundRow, ApiError> {
    funds::table
        .find(id)
        .select(FundRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// Creates a fund (admins and grant officers).
pub fn create_fund(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    req: NewFund,
) -> Result<FundRow, ApiError> {
    let me = who.require_role(GRANT_STAFF)?;
    let mut errors = Vec::new();
    let title = text_field(&mut errors, "title", &req.title, 2, 200);
    let reference = text_field(&mut errors, "reference", &req.reference, 1, 100);
    let currency = money::currency("currency", &req.currency);
    let amount = currency
        .as_ref()
        .ok()
        .map(|c| money::parse_amount("amount", &req.amount, c));
    if let Err(ApiError::Validation(e)) = &currency {
        errors.extend(e.clone());
    }
    if let Some(Err(ApiError::Validation(e))) = &amount {
        errors.extend(e.clone());
    }
    if req.ends_on < req.starts_on {
        errors.push(FieldError::new(
            "ends_on",
            "before_start",
            "The end is before the start.",
        ));
    }
    write_tx(conn, |c| {
        match organisation(c, &req.donor_organisation_id)? {
            Some(o) if o.kind == "partner" && o.partner_type.as_deref() == Some("donor") => {}
            _ => errors.push(FieldError::new(
                "donor_organisation_id",
                "not_a_donor",
                "Use the id of a partner organisation of type donor.",
            )),
        }
        done(std::mem::take(&mut errors))?;
        let (Ok(currency), Some(Ok(amount))) = (currency, amount) else {
            return Err(ApiError::internal("validated amount missing"));
        };
        let row = FundRow {
            id: uuid::Uuid::now_v7().to_string(),
            donor_organisation_id: req.donor_organisation_id.clone(),
            title,
            reference,
            currency,
            amount,
            awarded: 0,
            disbursed: 0,
            starts_on: req.starts_on,
            ends_on: req.ends_on,
            status: "active".into(),
            created_by: me.id.clone(),
            created_at: now(),
            updated_at: now(),
            version: 1,
        };
        diesel::insert_into(funds::table).values(&row).execute(c)?;
        crate::webhooks::publish(c, crate::webhooks::WebhookEvent::FundCreated(row.clone()))?;
        record(
            c,
            who,
            meta,
            "fund.created",
            "fund",
            &row.id,
            None,
            audit::snapshot(&Fund::from(row.clone())),
        )?;
        Ok(row)
    })
}

/// A fund, for staff (finance officers read; members and partner apps get 403).
pub fn get_fund(conn: &mut DbConn, who: &Principal, id: &str) -> Result<FundRow, ApiError> {
    who.require_role(READ_STAFF)?;
    fund_by_id(conn, id)
}

/// Lists funds, oldest first.
pub fn list_funds(
    conn: &mut DbConn,
    who: &Principal,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Fund>, ApiError> {
    who.require_role(READ_STAFF)?;
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = funds::table
        .select(FundRow::as_select())
        .order(funds::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(funds::id.gt(a[0].clone()));
    }
    let mut rows: Vec<FundRow> = q.load(conn)?;
    let total: i64 = funds::table.count().get_result(conn)?;
    let next_cursor = crate::identity::service::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: rows.into_iter().map(Fund::from).collect(),
        next_cursor,
        total,
    })
}

/// Changes a fund under `If-Match`. The amount never drops below what is awarded: the
/// UPDATE itself checks it, so a concurrent approval cannot slip under it.
pub fn update_fund(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    version: i64,
    patch: FundPatch,
) -> Result<FundRow, ApiError> {
    who.require_role(GRANT_STAFF)?;
    write_tx(conn, |c| {
        let before = fund_by_id(c, id)?;
        if before.version != version {
            return Err(ApiError::PreconditionFailed {
                current_version: before.version,
            });
        }
        let mut errors = Vec::new();
        let title = patch
            .title
            .as_deref()
            .map(|t| text_field(&mut errors, "title", t, 2, 200))
            .unwrap_or(before.title.clone());
        let reference = patch
            .reference
            .as_deref()
            .map(|t| text_field(&mut errors, "reference", t, 1, 100))
            .unwrap_or(before.reference.clone());
        let amount = match &patch.amount {
            Some(a) => match money::parse_amount("amount", a, &before.currency) {
                Ok(v) => v,
                Err(ApiError::Validation(e)) => {
                    errors.extend(e);
                    before.amount
                }
                Err(e) => return Err(e),
            },
            None => before.amount,
        };
        let starts_on = patch.starts_on.unwrap_or(before.starts_on);
        let ends_on = patch.ends_on.unwrap_or(before.ends_on);
        if ends_on < starts_on {
            errors.push(FieldError::new(
                "ends_on",
                "before_start",
                "The end is before the start.",
            ));
        }
        let status = match patch.status.as_deref() {
            None => before.status.clone(),
            Some(s @ ("active" | "closed")) => s.to_string(),
            Some(_) => {
                errors.push(FieldError::new(
                    "status",
                    "invalid",
                    "A fund is active or closed.",
                ));
                before.status.clone()
            }
        };
        done(errors)?;
        let n = diesel::update(
            funds::table
                .find(id)
                .filter(funds::version.eq(version))
                .filter(funds::awarded.le(amount)),
        )
        .set((
            funds::title.eq(&title),
            funds::reference.eq(&reference),
            funds::amount.eq(amount),
            funds::starts_on.eq(starts_on),
            funds::ends_on.eq(ends_on),
            funds::status.eq(&status),
            funds::updated_at.eq(now()),
            funds::version.eq(funds::version + 1),
        ))
        .execute(c)?;
        let after = fund_by_id(c, id)?;
        if n == 0 {
            if after.version != version {
                return Err(ApiError::PreconditionFailed {
                    current_version: after.version,
                });
            }
            return Err(ApiError::Conflict {
                code: "amount_below_awarded",
                detail: format!(
                    "{} {} is already awarded; the amount cannot be lower.",
                    money::format(after.awarded, &after.currency),
                    after.currency
                ),
            });
        }
        crate::webhooks::publish(c, crate::webhooks::WebhookEvent::FundUpdated(after.clone()))?;
        record(
            c,
            who,
            meta,
            "fund.updated",
            "fund",
            id,
            audit::snapshot(&Fund::from(before)),
            audit::snapshot(&Fund::from(after.clone())),
        )?;
        Ok(after)
    })
}

// ---------------------------------------------------------------------------------------
// Grants: access
// ---------------------------------------------------------------------------------------

/// Loads a grant without access checks (404 when unknown).
pub fn grant_by_id(conn: &mut DbConn, id: &str) -> Result<GrantRow, ApiError> {
    grants::table
        .find(id)
        .select(GrantRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn require_grant_reader(who: &Principal) -> Result<(), ApiError> {
    match who {
        Principal::User(_) => Ok(()),
        Principal::Client(_) if who.has_scope(Scope::GrantsRead) => Ok(()),
        Principal::Client(_) => Err(ApiError::Forbidden(
            "This needs the grants:read scope.".into(),
        )),
    }
}

/// A grant the caller may see: staff see all; a member sees its organisation's grants once
/// submitted; a partner app with grants:read sees published grants of organisations that are
/// not hidden. Anything else is 404, never the grant.
pub fn visible_grant(conn: &mut DbConn, who: &Principal, id: &str) -> Result<GrantRow, ApiError> {
    require_grant_reader(who)?;
    let g = grant_by_id(conn, id)?;
    if who.is_staff() {
        return Ok(g);
    }
    let ok = match who {
        Principal::User(u) => {
            u.organisation_id.as_deref() == Some(g.grantee_organisation_id.as_str())
                && g.status != "draft"
        }
        Principal::Client(_) => {
            PUBLISHED.contains(&g.status.as_str())
                && organisation(conn, &g.grantee_organisation_id)?
                    .is_some_and(|o| !o.hidden_from_public)
        }
    };
    if ok { Ok(g) } else { Err(ApiError::NotFound) }
}

// ---------------------------------------------------------------------------------------
// Grants: create and edit
// ---------------------------------------------------------------------------------------

struct GrantFields {
    grantee: String,
    title: String,
    description: String,
    pillar: String,
    priority_areas: String,
    currency: String,
    amount: i64,
    fx_rate_micros: Option<i64>,
    fx_rate_date: Option<NaiveDate>,
    amount_in_fund_currency: i64,
    planned_start: NaiveDate,
    planned_end: NaiveDate,
}

#[expect(
    clippy::too_many_arguments,
    reason = "the fields of a grant, checked together"
)]
fn check_grant_fields(
    conn: &mut DbConn,
    fund: &FundRow,
    grantee: &str,
    title: &str,
    description: &str,
    pillar: &str,
    priority_areas: &[String],
    currency: &str,
    amount: &str,
    fx_rate: Option<&str>,
    fx_rate_date: Option<NaiveDate>,
    planned_start: NaiveDate,
    planned_end: NaiveDate,
) -> Result<GrantFields, ApiError> {
    let mut errors = Vec::new();
    let collect = |r: Result<i64, ApiError>, errors: &mut Vec<FieldError>| match r {
        Ok(v) => Some(v),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            None
        }
        Err(_) => None,
    };
    if organisation(conn, grantee)?.is_none() {
        errors.push(FieldError::new(
            "grantee_organisation_id",
            "unknown",
            "No organisation has this id.",
        ));
    }
    let title = text_field(&mut errors, "title", title, 2, 200);
    let description = text_field(&mut errors, "description", description, 0, 10_000);
    if !codes::PILLARS.contains(&pillar) {
        errors.push(FieldError::new(
            "pillar",
            "unknown_code",
            format!("Use one of {}.", codes::PILLARS.join(", ")),
        ));
    }
    let mut areas: Vec<&str> = Vec::new();
    for (i, a) in priority_areas.iter().enumerate() {
        if !codes::PRIORITY_AREAS.contains(&a.as_str()) {
            errors.push(FieldError::new(
                format!("priority_areas.{i}"),
                "unknown_code",
                format!("Use one of {}.", codes::PRIORITY_AREAS.join(", ")),
            ));
        } else if !areas.contains(&a.as_str()) {
            areas.push(a);
        }
    }
    let currency_ok = money::currency("currency", currency);
    let parsed_amount = match &currency_ok {
        Ok(c) => collect(money::parse_amount("amount", amount, c), &mut errors),
        Err(ApiError::Validation(e)) => {
            errors.extend(e.clone());
            None
        }
        Err(_) => None,
    };
    let mut rate = None;
    let mut rate_date = None;
    if currency == fund.currency {
        if fx_rate.is_some() {
            errors.push(FieldError::new(
                "fx_rate",
                "not_applicable",
                "The grant is in the fund's currency; send no rate.",
            ));
        }
        if fx_rate_date.is_some() {
            errors.push(FieldError::new(
                "fx_rate_date",
                "not_applicable",
                "The grant is in the fund's currency; send no rate date.",
            ));
        }
    } else {
        match fx_rate {
            None => errors.push(FieldError::new(
                "fx_rate",
                "required",
                format!(
                    "The grant is in {currency} and the fund in {}: give the rate ({} per {currency}).",
                    fund.currency, fund.currency
                ),
            )),
            Some(r) => rate = collect(money::parse_rate("fx_rate", r), &mut errors),
        }
        match fx_rate_date {
            None => errors.push(FieldError::new(
                "fx_rate_date",
                "required",
                "Give the date of the exchange rate.",
            )),
            Some(d) => rate_date = Some(d),
        }
    }
    if planned_end < planned_start {
        errors.push(FieldError::new(
            "planned_end",
            "before_start",
            "The end is before the start.",
        ));
    }
    done(errors)?;
    let amount = parsed_amount.ok_or_else(|| ApiError::internal("validated amount missing"))?;
    let in_fund = match rate {
        None => amount,
        Some(r) => money::convert(amount, currency, &fund.currency, r)
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                ApiError::field(
                    "amount",
                    "out_of_range",
                    "The amount in fund currency is zero or too large at this rate.",
                )
            })?,
    };
    Ok(GrantFields {
        grantee: grantee.to_string(),
        title,
        description,
        pillar: pillar.to_string(),
        priority_areas: if areas.is_empty() {
            String::new()
        } else {
            format!(",{},", areas.join(","))
        },
        currency: currency.to_string(),
        amount,
        fx_rate_micros: rate,
        fx_rate_date: rate_date,
        amount_in_fund_currency: in_fund,
        planned_start,
        planned_end,
    })
}

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
        code: "concurrent_update",
        detail: "Too many grants were created at once; retry.".into(),
    })
}

/// Creates a draft grant with the next reference of the year.
pub fn create_grant(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    req: NewGrant,
) -> Result<GrantRow, ApiError> {
    let me = who.require_role(GRANT_STAFF)?;
    write_tx(conn, |c| {
        let fund = funds::table
            .find(&req.fund_id)
            .select(FundRow::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| ApiError::field("fund_id", "unknown", "No fund has this id."))?;
        if fund.status != "active" {
            return Err(ApiError::field(
                "fund_id",
                "closed",
                "The fund is closed; it takes no new grants.",
            ));
        }
        let f = check_grant_fields(
            c,
            &fund,
            &req.grantee_organisation_id,
            &req.title,
            &req.description,
            &req.pillar,
            &req.priority_areas,
            &req.currency,
            &req.amount,
            req.fx_rate.as_deref(),
            req.fx_rate_date,
            req.planned_start,
            req.planned_end,
        )?;
        let year = Utc::now().year();
        let row = GrantRow {
            id: uuid::Uuid::now_v7().to_string(),
            reference: next_reference(c, year)?,
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
            status: "draft".into(),
            created_by: me.id.clone(),
            submitted_at: None,
            approved_by: None,
            approved_at: None,
            decision_reason: None,
            created_at: now(),
            updated_at: now(),
            version: 1,
        };
        diesel::insert_into(grants::table).values(&row).execute(c)?;
        record(
            c,
            who,
            meta,
            "grant.created",
            "grant",
            &row.id,
            None,
            audit::snapshot(&Grant::from(row.clone())),
        )?;
        Ok(row)
    })
}

/// Changes a draft grant under `If-Match` (merge patch).
pub fn update_grant(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    version: i64,
    patch: GrantPatch,
) -> Result<GrantRow, ApiError> {
    who.require_role(GRANT_STAFF)?;
    write_tx(conn, |c| {
        let before = grant_by_id(c, id)?;
        if before.version != version {
            return Err(ApiError::PreconditionFailed {
                current_version: before.version,
            });
        }
        if before.status != "draft" {
            return Err(ApiError::Conflict {
                code: "not_draft",
                detail: format!(
                    "The grant is {}; only a draft can be edited.",
                    before.status
                ),
            });
        }
        let fund = fund_by_id(c, &before.fund_id)?;
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
        let f = check_grant_fields(
            c,
            &fund,
            patch
                .grantee_organisation_id
                .as_deref()
                .unwrap_or(&before.grantee_organisation_id),
            patch.title.as_deref().unwrap_or(&before.title),
            patch.description.as_deref().unwrap_or(&before.description),
            patch.pillar.as_deref().unwrap_or(&before.pillar),
            &patch
                .priority_areas
                .clone()
                .unwrap_or_else(|| before.priority_area_list()),
            &currency,
            &amount,
            fx_rate.as_deref(),
            fx_rate_date,
            patch.planned_start.unwrap_or(before.planned_start),
            patch.planned_end.unwrap_or(before.planned_end),
        )?;
        let n = diesel::update(
            grants::table
                .find(id)
                .filter(grants::version.eq(version))
                .filter(grants::status.eq("draft")),
        )
        .set((
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
            grants::updated_at.eq(now()),
            grants::version.eq(grants::version + 1),
        ))
        .execute(c)?;
        let after = grant_by_id(c, id)?;
        if n == 0 {
            return Err(ApiError::PreconditionFailed {
                current_version: after.version,
            });
        }
        record(
            c,
            who,
            meta,
            "grant.updated",
            "grant",
            id,
            audit::snapshot(&Grant::from(before)),
            audit::snapshot(&Grant::from(after.clone())),
        )?;
        Ok(after)
    })
}

// ---------------------------------------------------------------------------------------
// Grants: the state machine
// ---------------------------------------------------------------------------------------

/// A command on a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantCommand {
    /// draft → submitted.
    Submit,
    /// submitted → approved, counted against the fund.
    Approve,
    /// submitted → rejected.
    Reject,
    /// approved → active (tranches may be requested).
    Activate,
    /// active → closed (no tranche waiting or approved and unpaid).
    Close,
    /// draft, submitted, approved, or active without tranches → cancelled; releases the award.
    Cancel,
}

impl GrantCommand {
    fn spec(self) -> (&'static str, &'static [&'static str], &'static str) {
        match self {
            GrantCommand::Submit => ("submit", &["draft"], "submitted"),
            GrantCommand::Approve => ("approve", &["submitted"], "approved"),
            GrantCommand::Reject => ("reject", &["submitted"], "rejected"),
            GrantCommand::Activate => ("activate", &["approved"], "active"),
            GrantCommand::Close => ("close", &["active"], "closed"),
            GrantCommand::Cancel => (
                "cancel",
                &["draft", "submitted", "approved", "active"],
                "cancelled",
            ),
        }
    }
}

/// Moves a grant through its life. Approval is by a grant officer other than the creator and
/// counts the grant (in fund currency) against the fund in one conditional UPDATE.
pub fn grant_command(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    command: GrantCommand,
    reason: Option<String>,
) -> Result<GrantRow, ApiError> {
    let me = who.require_role(GRANT_STAFF)?;
    let (verb, from, to) = command.spec();
    let reason = match reason {
        Some(r) => {
            let mut errors = Vec::new();
            let r = text_field(&mut errors, "reason", &r, 1, 2000);
            done(errors)?;
            Some(r)
        }
        None => None,
    };
    write_tx(conn, |c| {
        let before = grant_by_id(c, id)?;
        if !from.contains(&before.status.as_str()) {
            return Err(invalid_transition("grant", &before.status, verb, from));
        }
        if command == GrantCommand::Approve && before.created_by == me.id {
            return Err(ApiError::Conflict {
                code: "self_approval",
                detail: "A grant is approved by a grant officer other than its author.".into(),
            });
        }
        let t = now();
        // The status filter makes the move itself the guard against a concurrent command.
        let target = grants::table
            .find(id)
            .filter(grants::status.eq(&before.status));
        let moved_to = (
            grants::status.eq(to),
            grants::updated_at.eq(t),
            grants::version.eq(grants::version + 1),
        );
        let moved = match command {
            GrantCommand::Cancel => diesel::update(target.filter(grants::committed.eq(0)))
                .set(moved_to)
                .execute(c)?,
            GrantCommand::Close => {
                diesel::update(target.filter(grants::committed.eq(grants::paid)))
                    .set(moved_to)
                    .execute(c)?
            }
            _ => diesel::update(target).set(moved_to).execute(c)?,
        };
        if moved == 0 {
            let now_status = grant_by_id(c, id)?.status;
            if now_status == before.status && command == GrantCommand::Cancel {
                return Err(ApiError::Conflict {
                    code: "grant_has_tranches",
                    detail: "Tranches are approved or paid on this grant; close it instead.".into(),
                });
            }
            if now_status == before.status && command == GrantCommand::Close {
                return Err(ApiError::Conflict {
                    code: "unpaid_tranches",
                    detail: "Approved tranches await payment; pay or cancel them first.".into(),
                });
            }
            return Err(invalid_transition("grant", &now_status, verb, from));
        }
        match command {
            GrantCommand::Submit => {
                diesel::update(grants::table.find(id))
                    .set(grants::submitted_at.eq(Some(t)))
                    .execute(c)?;
            }
            GrantCommand::Approve => {
                diesel::update(grants::table.find(id))
                    .set((
                        grants::approved_by.eq(Some(&me.id)),
                        grants::approved_at.eq(Some(t)),
                    ))
                    .execute(c)?;
                let x = before.amount_in_fund_currency;
                let counted = diesel::update(
                    funds::table
                        .find(&before.fund_id)
                        .filter(funds::status.eq("active"))
                        .filter((funds::awarded + x).le(funds::amount)),
                )
                .set((
                    funds::awarded.eq(funds::awarded + x),
                    funds::updated_at.eq(t),
                ))
                .execute(c)?;
                if counted == 0 {
                    let fund = fund_by_id(c, &before.fund_id)?;
                    return Err(ApiError::Conflict {
                        code: "fund_exhausted",
                        detail: format!(
                            "The fund has {} {} left (or is closed); this grant needs {} {}.",
                            money::format(fund.amount - fund.awarded, &fund.currency),
                            fund.currency,
                            money::format(x, &fund.currency),
                            fund.currency
                        ),
                    });
                }
            }
            GrantCommand::Reject | GrantCommand::Cancel => {
                diesel::update(grants::table.find(id))
                    .set(grants::decision_reason.eq(&reason))
                    .execute(c)?;
                if command == GrantCommand::Cancel
                    && (before.status == "approved" || before.status == "active")
                {
                    let x = before.amount_in_fund_currency;
                    diesel::update(
                        funds::table
                            .find(&before.fund_id)
                            .filter(funds::awarded.ge(x)),
                    )
                    .set((
                        funds::awarded.eq(funds::awarded - x),
                        funds::updated_at.eq(t),
                    ))
                    .execute(c)?;
                }
            }
            GrantCommand::Activate | GrantCommand::Close => {}
        }
        if matches!(command, GrantCommand::Cancel | GrantCommand::Close) {
            cancel_waiting_tranches(c, who, meta, &before, t)?;
        }
        let after = grant_by_id(c, id)?;
        crate::webhooks::publish(
            c,
            crate::webhooks::WebhookEvent::grant_transition(&before, &after),
        )?;
        record(
            c,
            who,
            meta,
            &format!("grant.{to}"),
            "grant",
            id,
            audit::snapshot(&Grant::from(before.clone())),
            audit::snapshot(&Grant::from(after.clone())),
        )?;
        match command {
            GrantCommand::Submit => {
                let ctx = grant_context(c, config, &after, json!({}));
                let to = active_staff(c, Role::GrantOfficer)?;
                send_all(c, config, Kind::GrantSubmitted, &to, &ctx)?;
            }
            GrantCommand::Approve | GrantCommand::Reject => {
                let ctx = grant_context(c, config, &after, json!({ "reason": reason }));
                let mut to: Vec<Recipient> =
                    user_recipient(c, &after.created_by)?.into_iter().collect();
                to.extend(grantee_members(c, &after.grantee_organisation_id)?);
                let kind = if command == GrantCommand::Approve {
                    Kind::GrantApproved
                } else {
                    Kind::GrantRejected
                };
                send_all(c, config, kind, &to, &ctx)?;
            }
            _ => {}
        }
        Ok(after)
    })
}

/// A grant that ends takes its still-requested tranches with it (they could never be
/// approved), each with its own audit event.
fn cancel_waiting_tranches(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    g: &GrantRow,
    t: NaiveDateTime,
) -> Result<(), ApiError> {
    let waiting: Vec<DisbursementRow> = disbursements::table
        .filter(disbursements::grant_id.eq(&g.id))
        .filter(disbursements::status.eq("requested"))
        .select(DisbursementRow::as_select())
        .load(conn)?;
    for d in waiting {
        let n = diesel::update(
            disbursements::table
                .find(&d.id)
                .filter(disbursements::status.eq("requested")),
        )
        .set((
            disbursements::status.eq("cancelled"),
            disbursements::decision_reason.eq(Some("The grant ended.")),
            disbursements::updated_at.eq(t),
        ))
        .execute(conn)?;
        if n == 1 {
            let after = disbursement_by_id(conn, &d.id)?;
            record(
                conn,
                who,
                meta,
                "disbursement.cancelled",
                "disbursement",
                &after.id,
                audit::snapshot(&Disbursement::from_row(d, &g.currency)),
                audit::snapshot(&Disbursement::from_row(after.clone(), &g.currency)),
            )?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Grants: reads
// ---------------------------------------------------------------------------------------

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

fn filtered<'a>(who: &'a Principal, f: &'a GrantFilter) -> Result<GrantQuery<'a>, ApiError> {
    let mut q = grants::table.into_boxed();
    if !who.is_staff() {
        match who {
            Principal::User(u) => {
                q = q
                    .filter(
                        grants::grantee_organisation_id
                            .eq(u.organisation_id.clone().unwrap_or_default()),
                    )
                    .filter(grants::status.ne("draft"));
            }
            Principal::Client(_) => {
                q = q.filter(grants::status.eq_any(PUBLISHED)).filter(
                    grants::grantee_organisation_id.eq_any(
                        organisations::table
                            .filter(organisations::hidden_from_public.eq(false))
                            .select(organisations::id),
                    ),
                );
            }
        }
    }
    if let Some(s) = &f.status {
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
    Ok(q)
}

fn check_filter(f: &GrantFilter) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(s) = &f.status
        && ![
            "draft",
            "submitted",
            "approved",
            "active",
            "closed",
            "rejected",
            "cancelled",
        ]
        .contains(&s.as_str())
    {
        errors.push(FieldError::new(
            "status",
            "unknown_code",
            "Unknown grant status.",
        ));
    }
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
    done(errors)
}

/// Lists the grants the caller may see, oldest first, with filters.
pub fn list_grants(
    conn: &mut DbConn,
    who: &Principal,
    filter: &GrantFilter,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Grant>, ApiError> {
    require_grant_reader(who)?;
    check_filter(filter)?;
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = filtered(who, filter)?
        .select(GrantRow::as_select())
        .order(grants::id.asc())
        .limit(limit + 1);
    if let Some(a) = after {
        q = q.filter(grants::id.gt(a[0].clone()));
    }
    let mut rows: Vec<GrantRow> = q.load(conn)?;
    let total: i64 = filtered(who, filter)?.count().get_result(conn)?;
    let next_cursor = crate::identity::service::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: rows.into_iter().map(Grant::from).collect(),
        next_cursor,
        total,
    })
}

fn tranches_of(conn: &mut DbConn, grant_id: &str) -> QueryResult<Vec<DisbursementRow>> {
    disbursements::table
        .filter(disbursements::grant_id.eq(grant_id))
        .order(disbursements::id.asc())
        .select(DisbursementRow::as_select())
        .load(conn)
}

/// A grant with its tranches, reports and totals.
pub fn grant_detail(conn: &mut DbConn, who: &Principal, id: &str) -> Result<GrantDetail, ApiError> {
    let g = visible_grant(conn, who, id)?;
    let tranches = tranches_of(conn, id)?;
    let reports: Vec<ReportRow> = grant_reports::table
        .filter(grant_reports::grant_id.eq(id))
        .order((grant_reports::due_on.asc(), grant_reports::id.asc()))
        .select(ReportRow::as_select())
        .load(conn)?;
    let sum = |status: &str| -> i64 {
        tranches
            .iter()
            .filter(|t| t.status == status)
            .map(|t| t.amount)
            .sum()
    };
    let c = g.currency.clone();
    let totals = GrantTotals {
        requested: money::format(sum("requested"), &c),
        approved: money::format(sum("approved"), &c),
        paid: money::format(sum("paid"), &c),
        reversed: money::format(sum("reversed"), &c),
        remaining: money::format(g.amount - g.committed, &c),
    };
    // Partner apps see a grant's totals but not its individual tranches (see visible_disbursement).
    let shown = if matches!(who, Principal::Client(_)) {
        Vec::new()
    } else {
        tranches
    };
    Ok(GrantDetail {
        disbursements: shown
            .into_iter()
            .map(|t| Disbursement::from_row(t, &c))
            .collect(),
        reports: reports.into_iter().map(Report::from).collect(),
        totals,
        grant: g.into(),
    })
}

// ---------------------------------------------------------------------------------------
// Disbursements
// ---------------------------------------------------------------------------------------

/// Loads a tranche (404 when unknown).
pub fn disbursement_by_id(conn: &mut DbConn, id: &str) -> Result<DisbursementRow, ApiError> {
    disbursements::table
        .find(id)
        .select(DisbursementRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// A tranche the caller may see (the grant's visibility decides) with its grant.
pub fn visible_disbursement(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
) -> Result<(DisbursementRow, GrantRow), ApiError> {
    // DESIGN's access table gives partner apps no access to tranches, whatever their scopes.
    if matches!(who, Principal::Client(_)) {
        return Err(ApiError::Forbidden(
            "Partner apps have no access to tranches.".into(),
        ));
    }
    let d = disbursement_by_id(conn, id)?;
    let g = visible_grant(conn, who, &d.grant_id).map_err(|e| match e {
        ApiError::Forbidden(_) => e,
        _ => ApiError::NotFound,
    })?;
    Ok((d, g))
}

fn approvals_required(config: &Config, currency: &str, amount: i64) -> i32 {
    match config
        .disbursement_second_approval_threshold
        .iter()
        .find(|(c, _)| c == currency)
    {
        Some((_, limit)) if amount > *limit => 2,
        _ => 1,
    }
}

fn disbursement_context(
    conn: &mut DbConn,
    config: &Config,
    g: &GrantRow,
    d: &DisbursementRow,
) -> Value {
    grant_context(
        conn,
        config,
        g,
        json!({
            "amount": format!("{} {}", money::format(d.amount, &g.currency), g.currency),
            "payment_reference": d.payment_reference,
            "reason": d.reversal_reason.clone().or(d.decision_reason.clone()),
        }),
    )
}

/// Requests a tranche: a grant officer, or a member user of the grantee organisation (a member
/// of another organisation gets 404). The grant must be active.
pub fn request_disbursement(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    grant_id: &str,
    req: NewDisbursement,
) -> Result<DisbursementRow, ApiError> {
    let me = match who {
        Principal::User(u) if matches!(u.role, Role::Admin | Role::GrantOfficer | Role::Member) => {
            u
        }
        _ => {
            return Err(ApiError::Forbidden(
                "Tranches are requested by grant officers or the grantee's members.".into(),
            ));
        }
    };
    write_tx(conn, |c| {
        let g = visible_grant(c, who, grant_id)?;
        if g.status != "active" {
            return Err(ApiError::Conflict {
                code: "grant_not_active",
                detail: format!("The grant is {}; tranches need an active grant.", g.status),
            });
        }
        let mut errors = Vec::new();
        let amount = match money::parse_amount("amount", &req.amount, &g.currency) {
            Ok(a) if a > g.amount => {
                errors.push(FieldError::new(
                    "amount",
                    "exceeds_grant",
                    "The tranche is larger than the grant.",
                ));
                0
            }
            Ok(a) => a,
            Err(ApiError::Validation(e)) => {
                errors.extend(e);
                0
            }
            Err(e) => return Err(e),
        };
        let note = text_field(&mut errors, "note", &req.note, 0, 2000);
        if let Some(r) = &req.requires_report_id {
            let belongs: i64 = grant_reports::table
                .filter(grant_reports::id.eq(r))
                .filter(grant_reports::grant_id.eq(grant_id))
                .count()
                .get_result(c)?;
            if belongs == 0 {
                errors.push(FieldError::new(
                    "requires_report_id",
                    "unknown",
                    "No report of this grant has this id.",
                ));
            }
        }
        done(errors)?;
        let row = DisbursementRow {
            id: uuid::Uuid::now_v7().to_string(),
            grant_id: g.id.clone(),
            amount,
            planned_date: req.planned_date,
            note,
            requires_report_id: req.requires_report_id.clone(),
            status: "requested".into(),
            approvals_required: approvals_required(config, &g.currency, amount),
            requested_by: me.id.clone(),
            approver_1: None,
            approved_1_at: None,
            approver_2: None,
            approved_2_at: None,
            decided_by: None,
            decision_reason: None,
            payment_reference: None,
            paid_on: None,
            paid_by: None,
            paid_at: None,
            reversal_reason: None,
            reversed_by: None,
            reversed_at: None,
            created_at: now(),
            updated_at: now(),
        };
        diesel::insert_into(disbursements::table)
            .values(&row)
            .execute(c)?;
        record(
            c,
            who,
            meta,
            "disbursement.requested",
            "disbursement",
            &row.id,
            None,
            audit::snapshot(&Disbursement::from_row(row.clone(), &g.currency)),
        )?;
        let ctx = disbursement_context(c, config, &g, &row);
        let to = active_staff(c, Role::GrantOfficer)?;
        send_all(c, config, Kind::DisbursementRequested, &to, &ctx)?;
        Ok(row)
    })
}

/// A command on a tranche.
#[derive(Debug, Clone)]
pub enum TrancheCommand {
    /// One approval (the final one commits the amount against the grant).
    Approve,
    /// requested → rejected.
    Reject(String),
    /// requested or approved → cancelled (an approved amount is released).
    Cancel,
    /// approved → paid (finance only, exactly once).
    Pay(PayBody),
    /// paid → reversed (finance only); releases the amount.
    Reverse(String),
}

impl TrancheCommand {
    fn verb(&self) -> &'static str {
        match self {
            TrancheCommand::Approve => "approve",
            TrancheCommand::Reject(_) => "reject",
            TrancheCommand::Cancel => "cancel",
            TrancheCommand::Pay(_) => "pay",
            TrancheCommand::Reverse(_) => "reverse",
        }
    }
}

/// Moves a tranche. Every move is a conditional UPDATE on the tranche's status, so of two
/// concurrent commands exactly one wins; amounts move on the grant in the same transaction:
/// `committed` (approved + paid) never exceeds the grant amount, enforced by the UPDATE.
pub fn tranche_command(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    command: TrancheCommand,
) -> Result<DisbursementRow, ApiError> {
    // Role checks first: 403 for the action, whatever the tranche.
    let me = match &command {
        TrancheCommand::Pay(_) | TrancheCommand::Reverse(_) => {
            who.require_role(&[Role::FinanceOfficer])?
        }
        TrancheCommand::Approve | TrancheCommand::Reject(_) => who.require_role(GRANT_STAFF)?,
        TrancheCommand::Cancel => {
            who.require_role(&[Role::Admin, Role::GrantOfficer, Role::Member])?
        }
    };
    let mut errors = Vec::new();
    let command = match command {
        TrancheCommand::Reject(r) => {
            TrancheCommand::Reject(text_field(&mut errors, "reason", &r, 1, 2000))
        }
        TrancheCommand::Reverse(r) => {
            TrancheCommand::Reverse(text_field(&mut errors, "reason", &r, 1, 2000))
        }
        TrancheCommand::Pay(p) => TrancheCommand::Pay(PayBody {
            payment_reference: text_field(
                &mut errors,
                "payment_reference",
                &p.payment_reference,
                1,
                200,
            ),
            paid_on: p.paid_on,
        }),
        other => other,
    };
    done(errors)?;
    let verb = command.verb();
    write_tx(conn, |c| {
        let (before, g) = visible_disbursement(c, who, id)?;
        if me.role == Role::Member && before.requested_by != me.id {
            return Err(ApiError::Forbidden(
                "Members may cancel only the tranches they requested.".into(),
            ));
        }
        let t = now();
        let from: &[&str] = match &command {
            TrancheCommand::Approve | TrancheCommand::Reject(_) => &["requested"],
            TrancheCommand::Cancel => &["requested", "approved"],
            TrancheCommand::Pay(_) => &["approved"],
            TrancheCommand::Reverse(_) => &["paid"],
        };
        if !from.contains(&before.status.as_str()) {
            return Err(invalid_transition("tranche", &before.status, verb, from));
        }
        let mut final_approval = false;
        let moved = match &command {
            TrancheCommand::Approve => {
                if before.requested_by == me.id {
                    return Err(ApiError::Conflict {
                        code: "self_approval",
                        detail: "A tranche is approved by someone other than its requester.".into(),
                    });
                }
                if before.approver_1.as_deref() == Some(me.id.as_str()) {
                    return Err(ApiError::Conflict {
                        code: "same_approver",
                        detail: "This tranche needs a second approval by another officer.".into(),
                    });
                }
                if let Some(report_id) = &before.requires_report_id {
                    let status: String = grant_reports::table
                        .find(report_id)
                        .select(grant_reports::status)
                        .first(c)?;
                    if status != "accepted" {
                        return Err(ApiError::Conflict {
                            code: "report_not_accepted",
                            detail: format!(
                                "The tranche waits on a report that is {status}; accept it first."
                            ),
                        });
                    }
                }
                let base = disbursements::table
                    .find(id)
                    .filter(disbursements::status.eq("requested"));
                if before.approvals_required == 2 && before.approver_1.is_none() {
                    diesel::update(base.filter(disbursements::approver_1.is_null()))
                        .set((
                            disbursements::approver_1.eq(Some(&me.id)),
                            disbursements::approved_1_at.eq(Some(t)),
                            disbursements::updated_at.eq(t),
                        ))
                        .execute(c)?
                } else {
                    final_approval = true;
                    let slot_filled = if before.approvals_required == 2 {
                        diesel::update(
                            base.filter(disbursements::approver_1.eq(before.approver_1.clone())),
                        )
                        .set((
                            disbursements::status.eq("approved"),
                            disbursements::approver_2.eq(Some(&me.id)),
                            disbursements::approved_2_at.eq(Some(t)),
                            disbursements::updated_at.eq(t),
                        ))
                        .execute(c)?
                    } else {
                        diesel::update(base)
                            .set((
                                disbursements::status.eq("approved"),
                                disbursements::approver_1.eq(Some(&me.id)),
                                disbursements::approved_1_at.eq(Some(t)),
                                disbursements::updated_at.eq(t),
                            ))
                            .execute(c)?
                    };
                    if slot_filled == 1 {
                        let x = before.amount;
                        let committed = diesel::update(
                            grants::table
                                .find(&g.id)
                                .filter(grants::status.eq("active"))
                                .filter((grants::committed + x).le(grants::amount)),
                        )
                        .set((
                            grants::committed.eq(grants::committed + x),
                            grants::updated_at.eq(t),
                        ))
                        .execute(c)?;
                        if committed == 0 {
                            let g = grant_by_id(c, &g.id)?;
                            return Err(ApiError::Conflict {
                                code: "grant_exhausted",
                                detail: format!(
                                    "The grant has {} {} left to commit (or is not active); this tranche needs {} {}.",
                                    money::format(g.amount - g.committed, &g.currency),
                                    g.currency,
                                    money::format(x, &g.currency),
                                    g.currency
                                ),
                            });
                        }
                    }
                    slot_filled
                }
            }
            TrancheCommand::Reject(reason) => diesel::update(
                disbursements::table
                    .find(id)
                    .filter(disbursements::status.eq("requested")),
            )
            .set((
                disbursements::status.eq("rejected"),
                disbursements::decided_by.eq(Some(&me.id)),
                disbursements::decision_reason.eq(Some(reason)),
                disbursements::updated_at.eq(t),
            ))
            .execute(c)?,
            TrancheCommand::Cancel => {
                let n = diesel::update(
                    disbursements::table
                        .find(id)
                        .filter(disbursements::status.eq(&before.status)),
                )
                .set((
                    disbursements::status.eq("cancelled"),
                    disbursements::decided_by.eq(Some(&me.id)),
                    disbursements::updated_at.eq(t),
                ))
                .execute(c)?;
                if n == 1 && before.status == "approved" {
                    release(c, &g.id, before.amount, false, t)?;
                }
                n
            }
            TrancheCommand::Pay(p) => {
                let n = diesel::update(
                    disbursements::table
                        .find(id)
                        .filter(disbursements::status.eq("approved")),
                )
                .set((
                    disbursements::status.eq("paid"),
                    disbursements::payment_reference.eq(Some(&p.payment_reference)),
                    disbursements::paid_on.eq(Some(p.paid_on)),
                    disbursements::paid_by.eq(Some(&me.id)),
                    disbursements::paid_at.eq(Some(t)),
                    disbursements::updated_at.eq(t),
                ))
                .execute(c)?;
                if n == 1 {
                    let x = before.amount;
                    let ok = diesel::update(
                        grants::table
                            .find(&g.id)
                            .filter((grants::paid + x).le(grants::committed)),
                    )
                    .set((grants::paid.eq(grants::paid + x), grants::updated_at.eq(t)))
                    .execute(c)?;
                    if ok == 0 {
                        return Err(ApiError::internal("paid would exceed committed"));
                    }
                    let in_fund = fund_share(&g, x);
                    diesel::update(funds::table.find(&g.fund_id))
                        .set(funds::disbursed.eq(funds::disbursed + in_fund))
                        .execute(c)?;
                }
                n
            }
            TrancheCommand::Reverse(reason) => {
                let n = diesel::update(
                    disbursements::table
                        .find(id)
                        .filter(disbursements::status.eq("paid")),
                )
                .set((
                    disbursements::status.eq("reversed"),
                    disbursements::reversal_reason.eq(Some(reason)),
                    disbursements::reversed_by.eq(Some(&me.id)),
                    disbursements::reversed_at.eq(Some(t)),
                    disbursements::updated_at.eq(t),
                ))
                .execute(c)?;
                if n == 1 {
                    release(c, &g.id, before.amount, true, t)?;
                    let in_fund = fund_share(&g, before.amount);
                    diesel::update(funds::table.find(&g.fund_id))
                        .set(funds::disbursed.eq(funds::disbursed - in_fund))
                        .execute(c)?;
                }
                n
            }
        };
        if moved == 0 {
            // A concurrent command moved it first; report what it is now.
            let now_row = disbursement_by_id(c, id)?;
            if matches!(command, TrancheCommand::Approve)
                && now_row.approver_1.as_deref() == Some(me.id.as_str())
            {
                return Err(ApiError::Conflict {
                    code: "same_approver",
                    detail: "This tranche needs a second approval by another officer.".into(),
                });
            }
            if now_row.status == before.status {
                return Err(ApiError::Conflict {
                    code: "concurrent_update",
                    detail: "Another decision on this tranche landed at the same time; retry."
                        .into(),
                });
            }
            return Err(invalid_transition("tranche", &now_row.status, verb, from));
        }
        let after = disbursement_by_id(c, id)?;
        let action = match &command {
            TrancheCommand::Approve if !final_approval => "disbursement.first_approval",
            TrancheCommand::Approve => "disbursement.approved",
            TrancheCommand::Reject(_) => "disbursement.rejected",
            TrancheCommand::Cancel => "disbursement.cancelled",
            TrancheCommand::Pay(_) => "disbursement.paid",
            TrancheCommand::Reverse(_) => "disbursement.reversed",
        };
        record(
            c,
            who,
            meta,
            action,
            "disbursement",
            id,
            audit::snapshot(&Disbursement::from_row(before, &g.currency)),
            audit::snapshot(&Disbursement::from_row(after.clone(), &g.currency)),
        )?;
        let ctx = disbursement_context(c, config, &g, &after);
        let grantee = grantee_members(c, &g.grantee_organisation_id)?;
        match &command {
            TrancheCommand::Approve if final_approval => {
                let mut to = active_staff(c, Role::FinanceOfficer)?;
                to.extend(grantee);
                send_all(c, config, Kind::DisbursementApproved, &to, &ctx)?;
            }
            TrancheCommand::Pay(_) => {
                send_all(c, config, Kind::DisbursementPaid, &grantee, &ctx)?;
            }
            TrancheCommand::Reverse(_) => {
                send_all(c, config, Kind::DisbursementReversed, &grantee, &ctx)?;
            }
            _ => {}
        }
        Ok(after)
    })
}

/// The fund-currency equivalent of a tranche amount at the grant's rate.
fn fund_share(g: &GrantRow, amount: i64) -> i64 {
    match g.fx_rate_micros {
        None => amount,
        Some(r) => money::convert(amount, &g.currency, &g.fund_currency, r).unwrap_or(0),
    }
}

/// Gives a tranche amount back to the grant (conditional, so counters never go negative).
fn release(
    conn: &mut DbConn,
    grant_id: &str,
    amount: i64,
    was_paid: bool,
    t: NaiveDateTime,
) -> Result<(), ApiError> {
    let n = if was_paid {
        diesel::update(
            grants::table
                .find(grant_id)
                .filter(grants::paid.ge(amount))
                .filter(grants::committed.ge(amount)),
        )
        .set((
            grants::paid.eq(grants::paid - amount),
            grants::committed.eq(grants::committed - amount),
            grants::updated_at.eq(t),
        ))
        .execute(conn)?
    } else {
        diesel::update(
            grants::table
                .find(grant_id)
                .filter((grants::committed - amount).ge(grants::paid)),
        )
        .set((
            grants::committed.eq(grants::committed - amount),
            grants::updated_at.eq(t),
        ))
        .execute(conn)?
    };
    if n == 0 {
        return Err(ApiError::internal("grant counters out of step"));
    }
    Ok(())
}

/// The approval queue and other tranche lists (staff only), oldest first.
pub fn list_disbursements(
    conn: &mut DbConn,
    who: &Principal,
    status: Option<&str>,
    grant_id: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Disbursement>, ApiError> {
    who.require_role(READ_STAFF)?;
    if let Some(s) = status
        && ![
            "requested",
            "approved",
            "rejected",
            "cancelled",
            "paid",
            "reversed",
        ]
        .contains(&s)
    {
        return Err(ApiError::field(
            "status",
            "unknown_code",
            "Unknown tranche status.",
        ));
    }
    let after = pagination::decode_cursor(cursor, 1)?;
    let build = || {
        let mut q = disbursements::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(disbursements::status.eq(s.to_string()));
        }
        if let Some(gid) = grant_id {
            q = q.filter(disbursements::grant_id.eq(gid.to_string()));
        }
        q
    };
    let mut q = build()
        .inner_join(grants::table)
        .select((DisbursementRow::as_select(), grants::currency))
        .order(disbursements::id.asc())
        .limit(limit + 1);
    if let Some(a) = after {
        q = q.filter(disbursements::id.gt(a[0].clone()));
    }
    let mut rows: Vec<(DisbursementRow, String)> = q.load(conn)?;
    let total: i64 = build().count().get_result(conn)?;
    let next_cursor =
        crate::identity::service::page_cursor(&mut rows, limit, |(r, _)| r.id.clone());
    Ok(Page {
        data: rows
            .into_iter()
            .map(|(r, c)| Disbursement::from_row(r, &c))
            .collect(),
        next_cursor,
        total,
    })
}

// ---------------------------------------------------------------------------------------
// Reports
// ---------------------------------------------------------------------------------------

/// Loads a report (404 when unknown).
pub fn report_by_id(conn: &mut DbConn, id: &str) -> Result<ReportRow, ApiError> {
    grant_reports::table
        .find(id)
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// Asks the grantee for a report (grant officers).
pub fn create_report(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    grant_id: &str,
    req: NewReport,
) -> Result<ReportRow, ApiError> {
    let me = who.require_role(GRANT_STAFF)?;
    let mut errors = Vec::new();
    let title = text_field(&mut errors, "title", &req.title, 2, 200);
    done(errors)?;
    write_tx(conn, |c| {
        let g = grant_by_id(c, grant_id)?;
        if ["rejected", "cancelled", "closed"].contains(&g.status.as_str()) {
            return Err(ApiError::Conflict {
                code: "grant_finished",
                detail: format!("The grant is {}; it owes no more reports.", g.status),
            });
        }
        let row = ReportRow {
            id: uuid::Uuid::now_v7().to_string(),
            grant_id: g.id.clone(),
            kind: codes::wire_name(&req.kind),
            title,
            due_on: req.due_on,
            status: "due".into(),
            summary: None,
            document_url: None,
            submitted_by: None,
            submitted_at: None,
            decided_by: None,
            decided_at: None,
            return_reason: None,
            created_by: me.id.clone(),
            created_at: now(),
            updated_at: now(),
        };
        diesel::insert_into(grant_reports::table)
            .values(&row)
            .execute(c)?;
        record(
            c,
            who,
            meta,
            "report.created",
            "grant_report",
            &row.id,
            None,
            audit::snapshot(&Report::from(row.clone())),
        )?;
        Ok(row)
    })
}

/// A command on a report.
#[derive(Debug, Clone)]
pub enum ReportCommand {
    /// due or returned → submitted (a member of the grantee).
    Submit(SubmitReport),
    /// submitted → accepted (grant officers).
    Accept,
    /// submitted → returned (grant officers).
    Return(String),
}

/// Moves a report through due → submitted → accepted / returned.
pub fn report_command(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    command: ReportCommand,
) -> Result<ReportRow, ApiError> {
    let me = match &command {
        ReportCommand::Submit(_) => who.require_role(&[Role::Member])?,
        _ => who.require_role(GRANT_STAFF)?,
    };
    let mut errors = Vec::new();
    let command = match command {
        ReportCommand::Submit(s) => {
            let summary = text_field(&mut errors, "summary", &s.summary, 1, 10_000);
            let url = s.document_url.trim().to_string();
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.len() > 2000
                || url.chars().any(char::is_whitespace)
            {
                errors.push(FieldError::new(
                    "document_url",
                    "invalid",
                    "Give an http(s) link to the document.",
                ));
            }
            ReportCommand::Submit(SubmitReport {
                summary,
                document_url: url,
            })
        }
        ReportCommand::Return(r) => {
            ReportCommand::Return(text_field(&mut errors, "reason", &r, 1, 2000))
        }
        other => other,
    };
    done(errors)?;
    write_tx(conn, |c| {
        let before = report_by_id(c, id)?;
        let g = visible_grant(c, who, &before.grant_id).map_err(|_| ApiError::NotFound)?;
        let t = now();
        let (verb, from, to): (&str, &[&str], &str) = match &command {
            ReportCommand::Submit(_) => ("submit", &["due", "returned"], "submitted"),
            ReportCommand::Accept => ("accept", &["submitted"], "accepted"),
            ReportCommand::Return(_) => ("return", &["submitted"], "returned"),
        };
        if !from.contains(&before.status.as_str()) {
            return Err(invalid_transition("report", &before.status, verb, from));
        }
        let q = grant_reports::table
            .find(id)
            .filter(grant_reports::status.eq(&before.status));
        let moved = match &command {
            ReportCommand::Submit(s) => diesel::update(q)
                .set((
                    grant_reports::status.eq(to),
                    grant_reports::summary.eq(Some(&s.summary)),
                    grant_reports::document_url.eq(Some(&s.document_url)),
                    grant_reports::submitted_by.eq(Some(&me.id)),
                    grant_reports::submitted_at.eq(Some(t)),
                    grant_reports::updated_at.eq(t),
                ))
                .execute(c)?,
            ReportCommand::Accept => diesel::update(q)
                .set((
                    grant_reports::status.eq(to),
                    grant_reports::decided_by.eq(Some(&me.id)),
                    grant_reports::decided_at.eq(Some(t)),
                    grant_reports::updated_at.eq(t),
                ))
                .execute(c)?,
            ReportCommand::Return(r) => diesel::update(q)
                .set((
                    grant_reports::status.eq(to),
                    grant_reports::decided_by.eq(Some(&me.id)),
                    grant_reports::decided_at.eq(Some(t)),
                    grant_reports::return_reason.eq(Some(r)),
                    grant_reports::updated_at.eq(t),
                ))
                .execute(c)?,
        };
        if moved == 0 {
            let now_status = report_by_id(c, id)?.status;
            return Err(invalid_transition("report", &now_status, verb, from));
        }
        let after = report_by_id(c, id)?;
        record(
            c,
            who,
            meta,
            &format!("report.{to}"),
            "grant_report",
            id,
            audit::snapshot(&Report::from(before)),
            audit::snapshot(&Report::from(after.clone())),
        )?;
        let kind = match &command {
            ReportCommand::Submit(_) => None,
            ReportCommand::Accept => Some(Kind::ReportAccepted),
            ReportCommand::Return(_) => Some(Kind::ReportReturned),
        };
        if let Some(kind) = kind {
            let ctx = report_context(c, config, &g, &after, None);
            let to = grantee_members(c, &g.grantee_organisation_id)?;
            send_all(c, config, kind, &to, &ctx)?;
        }
        Ok(after)
    })
}

/// Email context of a report.
pub fn report_context(
    conn: &mut DbConn,
    config: &Config,
    g: &GrantRow,
    r: &ReportRow,
    days: Option<i64>,
) -> Value {
    grant_context(
        conn,
        config,
        g,
        json!({
            "report_title": r.title,
            "due_on": r.due_on.to_string(),
            "days": days,
            "reason": r.return_reason,
        }),
    )
}

/// Members of the grantee organisation, for the reminder job.
pub fn grantee_recipients(conn: &mut DbConn, org: &str) -> QueryResult<Vec<(String, Recipient)>> {
    let rows: Vec<(String, String, String)> = users::table
        .filter(users::role.eq("member"))
        .filter(users::status.eq("active"))
        .filter(users::organisation_id.eq(org))
        .order(users::id.asc())
        .select((users::id, users::email, users::display_name))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, email, name)| (id, Recipient { email, name }))
        .collect())
}

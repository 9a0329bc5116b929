//! Funds: money the network receives from a donor, its life (active, closed) and its edits.
//! What a fund has awarded and disbursed moves only through `budget`.
//!
//! Raises are under four eyes: the raises of a fund that one person applied alone within
//! `FUND_INCREASE_WINDOW_DAYS` are added up, and a raise that takes that sum above
//! `FUND_INCREASE_SECOND_APPROVAL_THRESHOLD` (in the base currency) waits as `pending_amount`
//! until a finance officer or admin other than its author confirms it, naming the amount.
//! A fund created above the threshold waits the same way (`opening_pending`: it has no
//! amount and takes no grants until then). Every such command locks the fund's row first, so
//! the window it sums is the committed one on both backends.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check::{Refusal, collect, done, text_field};
use super::fx;
use crate::auth::caller::{FinanceOrAdmin, GrantStaff, Staff};
use crate::auth::principal::RequestMeta;
use crate::command::{self, Audited, Ctx, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{fund_raises, funds, organisations};
use crate::directory::OrganisationRow;
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::kit::rfc3339;
use crate::money;
use crate::notify::matrix::{Event, Parties};
use crate::notify::{Kind, links};
use crate::pagination::{self, Page};

crate::text_enum! {
    /// A fund's place in its life.
    pub enum FundStatus {
        /// Takes new grants.
        Active = "active",
        /// Takes no new grants.
        Closed = "closed",
    }
}

/// The status a fund may be given by an edit: either way, any time (a closed fund keeps
/// the grants it made, and may be reopened).
pub fn transition(from: FundStatus, to: FundStatus) -> Result<FundStatus, Refusal> {
    let _ = from;
    Ok(to)
}

/// A stored fund.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = funds)]
pub struct FundRow {
    /// UUID v7.
    pub id: String,
    /// The donor (a partner of type donor).
    pub donor_organisation_id: String,
    /// Title.
    pub title: String,
    /// The donor's reference.
    pub reference: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Sum of approved grants, in fund minor units.
    pub awarded: i64,
    /// Sum of paid tranches converted to fund minor units.
    pub disbursed: i64,
    /// Start of the period.
    pub starts_on: NaiveDate,
    /// End of the period.
    pub ends_on: NaiveDate,
    /// Active or closed.
    pub status: FundStatus,
    /// Creator.
    pub created_by: String,
    /// Created.
    pub created_at: chrono::NaiveDateTime,
    /// Last change.
    pub updated_at: chrono::NaiveDateTime,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// A raise of the amount waiting for a second person.
    pub pending_amount: Option<i64>,
    /// Who asked for that raise.
    pub pending_by: Option<String>,
    /// When.
    pub pending_at: Option<chrono::NaiveDateTime>,
    /// A new fund whose amount (`pending_amount`) waits for a second person; `amount` then
    /// holds the requested amount only because the column must be positive, and counts for
    /// nothing.
    pub opening_pending: bool,
}

impl FundRow {
    /// The amount that applies: none while a new fund's amount waits for confirmation.
    pub fn amount_in_force(&self) -> i64 {
        if self.opening_pending { 0 } else { self.amount }
    }
}

/// A fund as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Fund {
    /// UUID v7.
    pub id: String,
    /// The donor organisation.
    pub donor_organisation_id: String,
    /// Title.
    pub title: String,
    /// The donor's reference for this fund.
    pub reference: String,
    /// ISO 4217 code of every amount of this fund.
    #[schema(example = "USD")]
    pub currency: String,
    /// Amount received or pledged.
    #[schema(example = "250000.00")]
    pub amount: String,
    /// Sum of approved onward grants, in fund currency.
    pub awarded: String,
    /// Sum of paid tranches, in fund currency.
    pub disbursed: String,
    /// Amount not yet awarded.
    pub remaining: String,
    /// Start of the period (YYYY-MM-DD).
    pub starts_on: NaiveDate,
    /// End of the period (YYYY-MM-DD).
    pub ends_on: NaiveDate,
    /// active or closed.
    pub status: FundStatus,
    /// Optimistic-concurrency version (also the ETag).
    pub version: i64,
    /// A raise of `amount` above FUND_INCREASE_SECOND_APPROVAL_THRESHOLD, waiting until a
    /// finance officer or admin other than its author confirms it
    /// (`POST /funds/{id}/amount-increase/approve`); null when none waits.
    pub pending_amount: Option<String>,
    /// Who asked for the pending raise.
    pub pending_by: Option<String>,
    /// When the pending raise was asked for (RFC 3339).
    pub pending_at: Option<String>,
    /// True while a new fund created above FUND_INCREASE_SECOND_APPROVAL_THRESHOLD waits for
    /// a second person: its `amount` is 0 and it takes no grants until its `pending_amount`
    /// is confirmed.
    pub opening_pending: bool,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<FundRow> for Fund {
    fn from(r: FundRow) -> Self {
        let c = r.currency.as_str();
        let amount = r.amount_in_force();
        Self {
            amount: money::format(amount, c),
            awarded: money::format(r.awarded, c),
            disbursed: money::format(r.disbursed, c),
            remaining: money::format(amount - r.awarded, c),
            opening_pending: r.opening_pending,
            pending_amount: r.pending_amount.map(|p| money::format(p, c)),
            pending_by: r.pending_by,
            pending_at: r.pending_at.map(rfc3339),
            id: r.id,
            donor_organisation_id: r.donor_organisation_id,
            title: r.title,
            reference: r.reference,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            status: r.status,
            version: r.version,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            currency: r.currency,
        }
    }
}

impl Audited for Fund {
    const ENTITY: &'static str = "fund";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// Create a fund.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFund {
    /// A partner organisation of type donor.
    pub donor_organisation_id: String,
    /// Title, 2–200 characters.
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub title: String,
    /// The donor's reference, 1–100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub reference: String,
    /// ISO 4217 code.
    #[schema(example = "USD", schema_with = crate::codes::schema::currency)]
    pub currency: String,
    /// Positive amount with at most the currency's decimals.
    #[schema(example = "250000.00")]
    pub amount: String,
    /// Start of the period (YYYY-MM-DD).
    pub starts_on: NaiveDate,
    /// End of the period (YYYY-MM-DD), not before the start.
    pub ends_on: NaiveDate,
}

/// Change a fund (merge patch; the currency never changes).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundPatch {
    /// Title, 2–200 characters.
    #[serde(default)]
    #[schema(
        min_length = 2,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub title: Option<String>,
    /// The donor's reference, 1–100 characters.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    pub reference: Option<String>,
    /// New amount; never below what is already awarded. A raise above
    /// FUND_INCREASE_SECOND_APPROVAL_THRESHOLD (in BASE_CURRENCY) is not applied but waits as
    /// `pending_amount` for a second finance officer or admin.
    #[serde(default)]
    pub amount: Option<String>,
    /// Start of the period.
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    /// End of the period.
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// active or closed; a closed fund takes no new grants.
    #[serde(default)]
    #[schema(value_type = Option<FundStatus>)]
    pub status: Option<String>,
}

/// Loads a fund (404 when unknown).
pub fn by_id(conn: &mut DbConn, id: &str) -> Result<FundRow, ApiError> {
    funds::table
        .find(id)
        .select(FundRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

fn end_before_start(errors: &mut Vec<FieldError>, starts_on: NaiveDate, ends_on: NaiveDate) {
    if ends_on < starts_on {
        errors.push(FieldError::new(
            "ends_on",
            "before_start",
            "The end is before the start.",
        ));
    }
}

/// Creates a fund (admins and grant officers).
pub fn create(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    req: NewFund,
) -> Result<FundRow, ApiError> {
    let mut errors = Vec::new();
    let title = text_field(&mut errors, "title", &req.title, 2, 200);
    crate::kit::invisible_characters(&mut errors, "title", &title);
    let reference = text_field(&mut errors, "reference", &req.reference, 1, 100);
    let currency = collect(
        money::currency("currency", &req.currency).map_err(ApiError::from),
        &mut errors,
    );
    let amount = currency.as_ref().and_then(|c| {
        collect(
            money::parse_amount("amount", &req.amount, c).map_err(ApiError::from),
            &mut errors,
        )
    });
    end_before_start(&mut errors, req.starts_on, req.ends_on);
    command::run(conn, config, who, meta, |ctx| {
        let donor: Option<OrganisationRow> = organisations::table
            .find(&req.donor_organisation_id)
            .select(OrganisationRow::as_select())
            .first(ctx.conn)
            .optional()?;
        if !donor.is_some_and(|o| super::access::is_donor(&o)) {
            errors.push(FieldError::new(
                "donor_organisation_id",
                "not_a_donor",
                "Use the id of a partner organisation of type donor.",
            ));
        }
        done(std::mem::take(&mut errors))?;
        let (Some(currency), Some(amount)) = (currency, amount) else {
            return Err(ApiError::internal("validated amount missing"));
        };
        // A new fund is a raise from nothing: above the threshold, its amount waits.
        let waits = above_threshold(ctx, amount, &currency)?;
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
            status: FundStatus::Active,
            created_by: who.id.clone(),
            created_at: ctx.now,
            updated_at: ctx.now,
            version: 1,
            pending_amount: waits.then_some(amount),
            pending_by: waits.then(|| who.id.clone()),
            pending_at: waits.then_some(ctx.now),
            opening_pending: waits,
        };
        diesel::insert_into(funds::table)
            .values(&row)
            .execute(ctx.conn)?;
        ctx.audit("created", None, Some(&Fund::from(row.clone())))?;
        ctx.publish(command::DomainEvent::FundCreated, &row.id)?;
        if waits {
            tell_pending(ctx, &row)?;
        }
        Ok(row)
    })
}

/// A fund, for staff (finance officers read; members and partner apps get 403).
pub fn get(conn: &mut DbConn, _who: &Staff, id: &str) -> Result<FundRow, ApiError> {
    by_id(conn, id)
}

/// Lists funds, oldest first; with `pending`, only those whose amount waits for a second
/// person (the confirmers' queue).
pub fn list(
    conn: &mut DbConn,
    _who: &Staff,
    pending: bool,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<Fund>, ApiError> {
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = funds::table
        .select(FundRow::as_select())
        .order(funds::id.asc())
        .limit(limit + 1)
        .into_boxed();
    let mut count = funds::table.count().into_boxed();
    if pending {
        q = q.filter(funds::pending_amount.is_not_null());
        count = count.filter(funds::pending_amount.is_not_null());
    }
    if let Some(a) = after {
        q = q.filter(funds::id.gt(a[0].clone()));
    }
    let mut rows: Vec<FundRow> = q.load(conn)?;
    let total: i64 = count.get_result(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(Page {
        data: rows.into_iter().map(Fund::from).collect(),
        next_cursor,
        total,
    })
}

/// Changes a fund under `If-Match`. The amount never drops below what is awarded: the
/// UPDATE itself checks it, so a concurrent approval cannot slip under it.
pub fn update(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    id: &str,
    version: i64,
    patch: FundPatch,
) -> Result<FundRow, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        lock(ctx.conn, id)?;
        let before = by_id(ctx.conn, id)?;
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
        if patch.title.is_some() {
            crate::kit::invisible_characters(&mut errors, "title", &title);
        }
        let reference = patch
            .reference
            .as_deref()
            .map(|t| text_field(&mut errors, "reference", t, 1, 100))
            .unwrap_or(before.reference.clone());
        let amount = match &patch.amount {
            Some(a) => collect(
                money::parse_amount("amount", a, &before.currency).map_err(ApiError::from),
                &mut errors,
            )
            .unwrap_or(before.amount),
            None => before.amount,
        };
        let starts_on = patch.starts_on.unwrap_or(before.starts_on);
        let ends_on = patch.ends_on.unwrap_or(before.ends_on);
        end_before_start(&mut errors, starts_on, ends_on);
        let status = match patch.status.as_deref() {
            None => before.status,
            Some(s) => match FundStatus::parse(s) {
                Some(to) => transition(before.status, to)?,
                None => {
                    errors.push(FieldError::new(
                        "status",
                        "invalid",
                        "A fund is active or closed.",
                    ));
                    before.status
                }
            },
        };
        done(errors)?;
        // A raise that takes the window above the threshold waits for a second person; any
        // other amount given replaces a raise that waits. While a new fund's amount waits,
        // the column keeps the latest amount asked for (it must stay positive).
        let (amount, opening, pending) = match &patch.amount {
            None => (
                before.amount,
                before.opening_pending,
                (
                    before.pending_amount,
                    before.pending_by.clone(),
                    before.pending_at,
                ),
            ),
            Some(_) if needs_second_person(ctx, &before, amount)? => (
                if before.opening_pending {
                    amount
                } else {
                    before.amount
                },
                before.opening_pending,
                (Some(amount), Some(who.id.clone()), Some(ctx.now)),
            ),
            Some(_) => (amount, false, (None, None, None)),
        };
        let raised = amount - before.amount_in_force();
        let asked = patch.amount.is_some() && pending.0.is_some();
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
            funds::status.eq(status),
            funds::pending_amount.eq(pending.0),
            funds::pending_by.eq(pending.1),
            funds::pending_at.eq(pending.2),
            funds::opening_pending.eq(opening),
            funds::updated_at.eq(ctx.now),
            funds::version.eq(funds::version + 1),
        ))
        .execute(ctx.conn)?;
        let after = by_id(ctx.conn, id)?;
        if n == 1 && !after.opening_pending && raised > 0 && !before.opening_pending {
            record_raise(ctx, id, raised, &who.id, None)?;
        }
        if n == 0 {
            if after.version != version {
                return Err(ApiError::PreconditionFailed {
                    current_version: after.version,
                });
            }
            return Err(ApiError::Conflict {
                code: ConflictCode::AmountBelowAwarded,
                detail: format!(
                    "{} {} is already awarded; the amount cannot be lower.",
                    money::format(after.awarded, &after.currency),
                    after.currency
                ),
            });
        }
        ctx.audit(
            "updated",
            Some(&Fund::from(before)),
            Some(&Fund::from(after.clone())),
        )?;
        ctx.publish(command::DomainEvent::FundUpdated, &after.id)?;
        if asked {
            tell_pending(ctx, &after)?;
        }
        Ok(after)
    })
}

/// Locks a fund's row for the transaction (a no-op UPDATE, portable to both backends), so
/// that what a rule then reads of it and of its raises is what the last writer committed.
fn lock(conn: &mut DbConn, id: &str) -> Result<(), ApiError> {
    diesel::update(funds::table.find(id))
        .set(funds::updated_at.eq(funds::updated_at))
        .execute(conn)?;
    Ok(())
}

/// True when `amount` of `currency` is above FUND_INCREASE_SECOND_APPROVAL_THRESHOLD in the
/// base currency, or cannot be converted.
fn above_threshold(ctx: &mut Ctx<'_>, amount: i64, currency: &str) -> Result<bool, ApiError> {
    Ok(match fx::to_base(ctx.conn, ctx.config, amount, currency)? {
        Some(v) => v > ctx.config.fund_increase_threshold,
        None => true,
    })
}

/// What the raises of `fund_id` that one person applied alone add up to within the window.
fn raised_alone_in_window(ctx: &mut Ctx<'_>, fund_id: &str) -> Result<i64, ApiError> {
    let since = ctx.now - chrono::Duration::days(ctx.config.fund_increase_window_days);
    let raises: Vec<i64> = fund_raises::table
        .filter(fund_raises::fund_id.eq(fund_id))
        .filter(fund_raises::confirmed_by.is_null())
        .filter(fund_raises::applied_at.ge(since))
        .select(fund_raises::increase)
        .load(ctx.conn)?;
    Ok(raises.iter().fold(0_i64, |acc, r| acc.saturating_add(*r)))
}

/// True when setting `before`'s amount to `amount` needs a second person: a new fund's
/// amount above the threshold, or a raise that, with the raises applied alone on this fund
/// within the window, is above it (or cannot be converted). The caller holds the fund's lock.
fn needs_second_person(ctx: &mut Ctx<'_>, before: &FundRow, amount: i64) -> Result<bool, ApiError> {
    if before.opening_pending {
        return above_threshold(ctx, amount, &before.currency);
    }
    let raise = amount.saturating_sub(before.amount);
    if raise <= 0 {
        return Ok(false);
    }
    let total = raised_alone_in_window(ctx, &before.id)?.saturating_add(raise);
    above_threshold(ctx, total, &before.currency)
}

/// Records a raise that applied: alone (`confirmed_by` none) it counts in the window.
fn record_raise(
    ctx: &mut Ctx<'_>,
    fund_id: &str,
    raise: i64,
    asked_by: &str,
    confirmed_by: Option<&str>,
) -> Result<(), ApiError> {
    diesel::insert_into(fund_raises::table)
        .values((
            fund_raises::id.eq(uuid::Uuid::now_v7().to_string()),
            fund_raises::fund_id.eq(fund_id),
            fund_raises::increase.eq(raise),
            fund_raises::asked_by.eq(asked_by),
            fund_raises::confirmed_by.eq(confirmed_by),
            fund_raises::applied_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    Ok(())
}

/// What the email about a fund's amount that waits says.
#[derive(Debug, Serialize)]
pub struct FundIncreasePendingMail {
    /// The fund's title.
    pub fund_title: String,
    /// The donor's reference.
    pub fund_reference: String,
    /// The amount in force.
    pub amount: String,
    /// The amount that waits.
    pub pending_amount: String,
    /// What awaits the recipient's approval.
    pub inbox_link: String,
    /// The fund's page, where the raise is confirmed.
    pub link: String,
}

impl Message for FundIncreasePendingMail {
    const KIND: Kind = Kind::FundIncreasePending;
}

/// Tells finance and admins (never the asker) that `f`'s amount waits for them.
fn tell_pending(ctx: &mut Ctx<'_>, f: &FundRow) -> Result<(), ApiError> {
    let Some(pending) = f.pending_amount else {
        return Ok(());
    };
    let mail = FundIncreasePendingMail {
        fund_title: f.title.clone(),
        fund_reference: f.reference.clone(),
        amount: money::for_people(f.amount_in_force(), &f.currency),
        pending_amount: money::for_people(pending, &f.currency),
        inbox_link: links::inbox(ctx.config),
        link: links::fund(ctx.config, &f.id),
    };
    ctx.tell(
        Event::FundIncreaseAwaitsConfirmation,
        &Parties::default(),
        &mail,
    )?;
    Ok(())
}

/// Confirm the amount of a fund that waits, naming it as read.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmIncrease {
    /// The amount that waits, as read (`pending_amount`): if another amount waits by now,
    /// the confirmation is refused (409 `pending_changed`).
    #[schema(example = "900000.00")]
    pub amount: String,
}

/// Confirms the raise of a fund's amount that waits (or a new fund's amount): a finance
/// officer or admin other than the one who asked for it (409 `self_approval` otherwise),
/// naming the amount read (409 `pending_changed` when another waits by now). The UPDATE
/// applies exactly that amount, and never below what is awarded.
pub fn approve_increase(
    conn: &mut DbConn,
    config: &Config,
    who: &FinanceOrAdmin,
    meta: &RequestMeta,
    id: &str,
    body: ConfirmIncrease,
) -> Result<FundRow, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        lock(ctx.conn, id)?;
        let before = by_id(ctx.conn, id)?;
        let (Some(raise), Some(asked_by)) = (before.pending_amount, before.pending_by.clone())
        else {
            return Err(ApiError::Conflict {
                code: ConflictCode::InvalidTransition,
                detail: "No raise of this fund's amount waits for confirmation.".into(),
            });
        };
        let named = money::parse_amount("amount", &body.amount, &before.currency)?;
        if named != raise {
            return Err(ApiError::Conflict {
                code: ConflictCode::PendingChanged,
                detail: format!(
                    "The amount that waits is {} {}, not the one named; read the fund again.",
                    money::format(raise, &before.currency),
                    before.currency
                ),
            });
        }
        if asked_by == who.id {
            return Err(ApiError::Conflict {
                code: ConflictCode::SelfApproval,
                detail: "A raise of a fund's amount is confirmed by a finance officer or admin \
                         other than the one who asked for it."
                    .into(),
            });
        }
        let n = diesel::update(
            funds::table
                .find(id)
                .filter(funds::pending_amount.eq(raise))
                .filter(funds::pending_by.eq(&asked_by))
                .filter(funds::awarded.le(raise)),
        )
        .set((
            funds::amount.eq(raise),
            funds::pending_amount.eq(None::<i64>),
            funds::pending_by.eq(None::<String>),
            funds::pending_at.eq(None::<chrono::NaiveDateTime>),
            funds::opening_pending.eq(false),
            funds::updated_at.eq(ctx.now),
            funds::version.eq(funds::version + 1),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::ConcurrentUpdate,
                detail: "The fund changed meanwhile; reload and retry.".into(),
            });
        }
        let raised = raise - before.amount_in_force();
        if raised > 0 {
            record_raise(ctx, id, raised, &asked_by, Some(&who.id))?;
        }
        let after = by_id(ctx.conn, id)?;
        ctx.audit(
            "amount_increase_approved",
            Some(&Fund::from(before)),
            Some(&Fund::from(after.clone())),
        )?;
        ctx.publish(command::DomainEvent::FundUpdated, &after.id)?;
        Ok(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_active_fund_can_be_closed() {
        assert_eq!(
            transition(FundStatus::Active, FundStatus::Closed),
            Ok(FundStatus::Closed)
        );
    }

    #[test]
    fn a_closed_fund_can_be_reopened() {
        assert_eq!(
            transition(FundStatus::Closed, FundStatus::Active),
            Ok(FundStatus::Active)
        );
    }
}

//! A grant's indicators: the results it aims at (name, unit, baseline, target), each serving
//! one strategic pillar and one priority area. They are set with the grant (targets), are grant
//! fields (four eyes), and narrative reports give an actual for each (`actuals`). Numbers are
//! kept as the decimal text people wrote, checked here.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check::text_field;
use crate::codes;
use crate::db::DbConn;
use crate::db::schema::{grant_indicators, indicator_results};
use crate::error::{ApiError, ConflictCode, FieldError, no_field_errors};

/// A stored indicator.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = grant_indicators)]
pub struct IndicatorRow {
    /// UUID v7.
    pub id: String,
    /// Grant.
    pub grant_id: String,
    /// Order, from 0.
    pub position: i32,
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Baseline (decimal text).
    pub baseline: String,
    /// Target (decimal text).
    pub target: String,
    /// Strategic pillar.
    pub pillar: String,
    /// Priority area.
    pub priority_area: String,
}

/// A result the grant aims at.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Indicator {
    /// UUID v7; narrative reports name it to give an actual.
    pub id: String,
    /// What is counted.
    #[schema(example = "Paralegals trained")]
    pub name: String,
    /// Unit of baseline, target and actuals.
    #[schema(example = "people")]
    pub unit: String,
    /// Value at the start (decimal).
    #[schema(example = "0")]
    pub baseline: String,
    /// Value aimed at (decimal).
    #[schema(example = "40")]
    pub target: String,
    /// The strategic pillar it serves.
    #[schema(example = "capacity_strengthening")]
    pub pillar: String,
    /// The priority area it serves.
    #[schema(example = "decriminalisation_justice_reform")]
    pub priority_area: String,
}

impl From<IndicatorRow> for Indicator {
    fn from(r: IndicatorRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            unit: r.unit,
            baseline: r.baseline,
            target: r.target,
            pillar: r.pillar,
            priority_area: r.priority_area,
        }
    }
}

/// One indicator to write.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorInput {
    /// The id of an existing indicator of this grant to keep; leave out for a new one.
    #[serde(default)]
    #[schema(format = "uuid")]
    pub id: Option<String>,
    /// What is counted, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Unit, 1–50 characters (`people`, `%`, `policies`).
    #[schema(min_length = 1, max_length = 50)]
    pub unit: String,
    /// Value at the start: a decimal such as `0` or `12.5`.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    pub baseline: String,
    /// Value aimed at: a decimal.
    #[schema(pattern = r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    pub target: String,
    /// One of the five strategic pillars.
    #[schema(schema_with = crate::codes::schema::pillar)]
    pub pillar: String,
    /// One of the five priority areas.
    #[schema(schema_with = crate::codes::schema::priority_area)]
    pub priority_area: String,
}

/// A non-negative decimal with up to 12 digits and 4 decimals, trimmed; a field error otherwise.
pub fn decimal(errors: &mut Vec<FieldError>, field: &str, raw: &str) -> String {
    let s = raw.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let ok = !whole.is_empty()
        && whole.len() <= 12
        && digits(whole)
        && digits(frac)
        && frac.len() <= 4
        && !(s.contains('.') && frac.is_empty());
    if !ok {
        errors.push(FieldError::new(
            field,
            "invalid",
            "Write a number such as 40 or 12.5 (up to 4 decimals).",
        ));
    }
    s.to_string()
}

/// Loads a grant's indicators, in order.
pub fn of_grant(conn: &mut DbConn, grant_id: &str) -> Result<Vec<IndicatorRow>, ApiError> {
    Ok(grant_indicators::table
        .filter(grant_indicators::grant_id.eq(grant_id))
        .order((grant_indicators::position.asc(), grant_indicators::id.asc()))
        .select(IndicatorRow::as_select())
        .load(conn)?)
}

/// Checks indicators to write for `grant_id` (`field` names the list in the request).
pub fn checked(
    field: &str,
    grant_id: &str,
    input: &[IndicatorInput],
    current: &[IndicatorRow],
) -> Result<Vec<IndicatorRow>, ApiError> {
    let mut errors = Vec::new();
    if input.len() > 50 {
        errors.push(FieldError::new(
            field,
            "too_long",
            "Use at most 50 indicators.",
        ));
    }
    let mut out: Vec<IndicatorRow> = Vec::with_capacity(input.len());
    for (i, x) in input.iter().enumerate() {
        let at = format!("{field}.{i}");
        let id = match &x.id {
            Some(id) if current.iter().any(|c| &c.id == id) => id.clone(),
            Some(_) => {
                errors.push(FieldError::new(
                    format!("{at}.id"),
                    "unknown",
                    "This grant has no indicator with this id; leave it out for a new one.",
                ));
                String::new()
            }
            None => uuid::Uuid::now_v7().to_string(),
        };
        if !codes::PILLARS.contains(&x.pillar.as_str()) {
            errors.push(FieldError::new(
                format!("{at}.pillar"),
                "unknown",
                format!("Use one of: {}.", codes::PILLARS.join(", ")),
            ));
        }
        if !codes::PRIORITY_AREAS.contains(&x.priority_area.as_str()) {
            errors.push(FieldError::new(
                format!("{at}.priority_area"),
                "unknown",
                format!("Use one of: {}.", codes::PRIORITY_AREAS.join(", ")),
            ));
        }
        out.push(IndicatorRow {
            id,
            grant_id: grant_id.to_string(),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            name: text_field(&mut errors, &format!("{at}.name"), &x.name, 1, 200),
            unit: text_field(&mut errors, &format!("{at}.unit"), &x.unit, 1, 50),
            baseline: decimal(&mut errors, &format!("{at}.baseline"), &x.baseline),
            target: decimal(&mut errors, &format!("{at}.target"), &x.target),
            pillar: x.pillar.clone(),
            priority_area: x.priority_area.clone(),
        });
    }
    no_field_errors(errors)?;
    Ok(out)
}

/// Replaces a grant's indicators; one a narrative report already gave an actual for may change
/// but not go (409).
pub fn write(
    conn: &mut DbConn,
    current: &[IndicatorRow],
    next: &[IndicatorRow],
) -> Result<(), ApiError> {
    for gone in current
        .iter()
        .filter(|c| !next.iter().any(|n| n.id == c.id))
    {
        let used: i64 = indicator_results::table
            .filter(indicator_results::indicator_id.eq(&gone.id))
            .count()
            .get_result(conn)?;
        if used > 0 {
            return Err(ApiError::Conflict {
                code: ConflictCode::HasActuals,
                detail: format!(
                    "A narrative report gave an actual for the indicator \"{}\"; keep it.",
                    gone.name
                ),
            });
        }
        diesel::delete(grant_indicators::table.find(&gone.id)).execute(conn)?;
    }
    for n in next {
        if current.iter().any(|c| c.id == n.id) {
            diesel::update(grant_indicators::table.find(&n.id))
                .set((
                    grant_indicators::position.eq(n.position),
                    grant_indicators::name.eq(&n.name),
                    grant_indicators::unit.eq(&n.unit),
                    grant_indicators::baseline.eq(&n.baseline),
                    grant_indicators::target.eq(&n.target),
                    grant_indicators::pillar.eq(&n.pillar),
                    grant_indicators::priority_area.eq(&n.priority_area),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(grant_indicators::table)
                .values(n)
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Replace a grant's indicators (the whole set).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsBody {
    /// Every indicator, in order; those left out are removed.
    pub indicators: Vec<IndicatorInput>,
}

/// Replaces the indicators of a draft or submitted grant under `If-Match` (grant staff); the
/// writer becomes a contributor and a submitted grant returns to draft.
pub fn replace(
    conn: &mut DbConn,
    config: &crate::config::Config,
    who: &crate::auth::caller::GrantStaff,
    meta: &crate::auth::principal::RequestMeta,
    grant_id: &str,
    version: i64,
    body: IndicatorsBody,
) -> Result<(Vec<Indicator>, i64), ApiError> {
    use super::grant::contributors::{self, Contribution};
    crate::command::run(conn, config, who, meta, |ctx| {
        let before = super::grant::by_id(ctx.conn, grant_id)?;
        if before.version != version {
            return Err(ApiError::PreconditionFailed {
                current_version: before.version,
            });
        }
        let to = super::grant::edit_transition(before.status)?;
        let current = of_grant(ctx.conn, grant_id)?;
        let next = checked("indicators", grant_id, &body.indicators, &current)?;
        write(ctx.conn, &current, &next)?;
        let after = super::budget_revisions::bump(ctx, &before, to)?;
        if current != next {
            contributors::record(ctx, grant_id, &who.id, Contribution::EditedIndicators)?;
        }
        let shown = |rs: &[IndicatorRow]| {
            serde_json::to_value(rs.iter().cloned().map(Indicator::from).collect::<Vec<_>>()).ok()
        };
        ctx.audit_raw(
            "grant.indicators_updated",
            "grant",
            grant_id,
            shown(&current),
            shown(&next),
        )?;
        let now = of_grant(ctx.conn, grant_id)?;
        Ok((
            now.into_iter().map(Indicator::from).collect(),
            after.version,
        ))
    })
}

/// The indicators of a grant the caller may see (partner apps: 404).
pub fn read(
    conn: &mut DbConn,
    who: &super::access::Reader,
    grant_id: &str,
) -> Result<(Vec<Indicator>, i64), ApiError> {
    if who.is_app() {
        return Err(ApiError::NotFound);
    }
    let g = super::access::visible_grant(conn, who, grant_id)?;
    let rows = of_grant(conn, grant_id)?;
    Ok((rows.into_iter().map(Indicator::from).collect(), g.version))
}

//! How a donor fund appears in open data: whether it is published in the 360Giving package as
//! an incoming grant (donor → network) with its regrantType, and the donor's own IATI activity
//! identifier, which the IATI file links to (`related-activity`). Set by grant staff; a fund
//! with no row is not published as an incoming grant.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::caller::{GrantStaff, Staff};
use crate::auth::principal::RequestMeta;
use crate::command;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::fund_publications;
use crate::error::{ApiError, FieldError};
use crate::grants::fund::by_id as fund_by_id;

/// regrantType codes (standards/360giving/regrantType.csv).
pub const REGRANT_TYPES: &[&str] = &[
    "FRG010", "FRG020", "FRG030", "FRG040", "FRG050", "FRG060", "FRG070",
];

/// A stored publication choice.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Serialize)]
#[diesel(table_name = fund_publications)]
pub struct FundPublicationRow {
    /// The fund.
    pub fund_id: String,
    /// Published as an incoming grant in the 360Giving package.
    pub publish_incoming: bool,
    /// regrantType of that incoming grant.
    pub regrant_type: String,
    /// The donor's IATI activity identifier.
    pub donor_activity_id: Option<String>,
    /// Who set it.
    pub updated_by: String,
    /// When.
    pub updated_at: NaiveDateTime,
}

/// How a fund appears in open data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundPublication {
    /// Publish the fund in the 360Giving package as a grant from the donor to the network, so
    /// the chain donor → network → grantee can be followed.
    #[serde(default)]
    pub publish_incoming: bool,
    /// regrantType of that incoming grant (360Giving codelist): FRG010 (common regrant: the
    /// network grants it on to end recipients) or FRG020 (transfer to an intermediary), or
    /// another code of the list.
    #[serde(default = "default_regrant")]
    #[schema(example = "FRG010", schema_with = regrant_type_schema)]
    pub regrant_type: String,
    /// The donor's IATI activity identifier for this funding, e.g. GB-GOV-1-300123; the IATI
    /// file links each grant of the fund to it.
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\s\x00-\x1F\x7F-\x9F<&]*$")]
    pub donor_activity_id: Option<String>,
}

fn regrant_type_schema() -> utoipa::openapi::Object {
    crate::codes::schema::one_of(REGRANT_TYPES.iter().copied())
}

fn default_regrant() -> String {
    "FRG010".into()
}

impl From<FundPublicationRow> for FundPublication {
    fn from(r: FundPublicationRow) -> Self {
        Self {
            publish_incoming: r.publish_incoming,
            regrant_type: r.regrant_type,
            donor_activity_id: r.donor_activity_id,
        }
    }
}

/// A fund's publication choices as the audit trail snapshots them (`fund.publication_set`,
/// entity `fund`): the [`FundPublication`] fields, keyed by the fund.
#[derive(Serialize)]
struct Published {
    #[serde(skip)]
    fund_id: String,
    #[serde(flatten)]
    choices: FundPublication,
}

impl Published {
    fn of(fund_id: &str, row: FundPublicationRow) -> Self {
        Self {
            fund_id: fund_id.to_string(),
            choices: row.into(),
        }
    }
}

impl command::Audited for Published {
    const ENTITY: &'static str = "fund";
    fn entity_id(&self) -> &str {
        &self.fund_id
    }
}

/// The publication choices of a fund (staff); the defaults when never set.
pub fn get(conn: &mut DbConn, _who: &Staff, fund_id: &str) -> Result<FundPublication, ApiError> {
    fund_by_id(conn, fund_id)?;
    Ok(fund_publications::table
        .find(fund_id)
        .select(FundPublicationRow::as_select())
        .first(conn)
        .optional()?
        .map(FundPublication::from)
        .unwrap_or(FundPublication {
            publish_incoming: false,
            regrant_type: default_regrant(),
            donor_activity_id: None,
        }))
}

/// Sets the publication choices of a fund (admins and grant officers), with an audit event.
pub fn set(
    conn: &mut DbConn,
    config: &Config,
    who: &GrantStaff,
    meta: &RequestMeta,
    fund_id: &str,
    body: FundPublication,
) -> Result<FundPublication, ApiError> {
    let mut errors = Vec::new();
    if !REGRANT_TYPES.contains(&body.regrant_type.as_str()) {
        errors.push(FieldError::new(
            "regrant_type",
            "unknown_code",
            format!("Use a regrantType code: {}.", REGRANT_TYPES.join(", ")),
        ));
    }
    let activity = body
        .donor_activity_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(a) = &activity
        && (a.chars().count() > 200
            || a.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '&'))
    {
        errors.push(FieldError::new(
            "donor_activity_id",
            "invalid",
            "An IATI activity identifier is up to 200 characters without spaces.",
        ));
    }
    crate::error::no_field_errors(errors)?;
    command::run(conn, config, who, meta, |ctx| {
        let c = &mut *ctx.conn;
        fund_by_id(c, fund_id)?;
        let before: Option<FundPublicationRow> = fund_publications::table
            .find(fund_id)
            .select(FundPublicationRow::as_select())
            .first(c)
            .optional()?;
        let row = FundPublicationRow {
            fund_id: fund_id.to_string(),
            publish_incoming: body.publish_incoming,
            regrant_type: body.regrant_type.clone(),
            donor_activity_id: activity.clone(),
            updated_by: who.id.clone(),
            updated_at: ctx.now,
        };
        if before.is_some() {
            diesel::update(fund_publications::table.find(fund_id))
                .set(&row)
                .execute(c)?;
        } else {
            diesel::insert_into(fund_publications::table)
                .values(&row)
                .execute(c)?;
        }
        ctx.audit::<Published>(
            "publication_set",
            before.map(|b| Published::of(fund_id, b)).as_ref(),
            Some(&Published::of(fund_id, row.clone())),
        )?;
        Ok(FundPublication::from(row))
    })
}

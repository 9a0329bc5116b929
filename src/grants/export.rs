//! Grant exports: the public 360Giving package of published grants.
//! Organisations hidden from the public are never named in the package (some members work
//! where drug use is criminalised): they appear under a neutral, per-grant identifier.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::fund::FundRow;
use super::grant::{GrantRow, GrantStatus};
use super::tranche::{TrancheRow as DisbursementRow, TrancheStatus};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{disbursements, funds, grants, organisations};
use crate::directory::OrganisationRow;
use crate::error::ApiError;
use crate::kit::rfc3339;
use crate::money;

/// 360Giving identifier prefix of the network's grants.
pub const GIVING_PREFIX: &str = "360G-IDPC";
/// regrantType of an onward grant (codelist regrantType.csv): money received from donor funds
/// and granted on to end recipients.
pub const REGRANT_TYPE: &str = "FRG010";
/// Name shown instead of a hidden organisation's.
pub const WITHHELD_NAME: &str = "Withheld (at-risk organisation)";

/// The published grants (approved, active, closed) as a 360Giving data package.
pub fn giving_package(conn: &mut DbConn, config: &Config) -> Result<Value, ApiError> {
    let rows: Vec<(GrantRow, FundRow, OrganisationRow)> = grants::table
        .inner_join(funds::table)
        .inner_join(organisations::table)
        .filter(grants::status.eq_any(GrantStatus::PUBLISHED))
        .order(grants::id.asc())
        .select((
            GrantRow::as_select(),
            FundRow::as_select(),
            OrganisationRow::as_select(),
        ))
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|(g, _, _)| g.id.clone()).collect();
    let paid: Vec<DisbursementRow> = disbursements::table
        .filter(disbursements::grant_id.eq_any(&ids))
        .filter(disbursements::status.eq(TrancheStatus::Paid))
        .order(disbursements::id.asc())
        .select(DisbursementRow::as_select())
        .load(conn)?;
    let funder = json!({"id": GIVING_PREFIX, "name": config.network_name});
    let mut out = Vec::new();
    for (g, f, o) in rows {
        let grant_id = format!("{GIVING_PREFIX}-{}", g.reference);
        let recipient = if o.hidden_from_public {
            json!({"id": format!("{GIVING_PREFIX}-withheld-{}", g.reference), "name": WITHHELD_NAME})
        } else {
            json!({
                "id": format!("{GIVING_PREFIX}-org-{}", o.id),
                "name": o.name,
                "addressCountry": o.country,
            })
        };
        let recipient_id = recipient["id"].clone();
        let transactions: Vec<Value> = paid
            .iter()
            .filter(|d| d.grant_id == g.id)
            .map(|d| {
                let mut t = json!({
                    "id": format!("{grant_id}-tranche-{}", d.id),
                    "currency": g.currency,
                    "value": money::json_number(d.amount, &g.currency),
                    "provider": GIVING_PREFIX,
                    "recipient": recipient_id,
                });
                if let Some(on) = d.paid_on {
                    t["transactionDate"] = json!(on.to_string());
                }
                t
            })
            .collect();
        let mut classifications: Vec<Value> = vec![json!({
            "vocabulary": "IDPC strategic pillar",
            "code": g.pillar,
        })];
        classifications.extend(
            g.priority_area_list()
                .into_iter()
                .map(|a| json!({"vocabulary": "IDPC priority area", "code": a})),
        );
        let mut grant = json!({
            "id": grant_id,
            "title": g.title,
            "description": if g.description.is_empty() { g.title.clone() } else { g.description.clone() },
            "currency": g.currency,
            "amountAwarded": money::json_number(g.amount, &g.currency),
            "amountDisbursed": money::json_number(g.paid, &g.currency),
            "awardDate": g.approved_at.map(|t| t.date().to_string()).unwrap_or_else(|| g.created_at.date().to_string()),
            "plannedDates": [{
                "startDate": g.planned_start.to_string(),
                "endDate": g.planned_end.to_string(),
            }],
            "recipientOrganization": [recipient],
            "fundingOrganization": [funder.clone()],
            "grantProgramme": [{"code": f.reference, "title": f.title}],
            "classifications": classifications,
            "regrantType": REGRANT_TYPE,
            "dateModified": rfc3339(g.updated_at),
        });
        if !transactions.is_empty() {
            grant["disbursementTransaction"] = Value::Array(transactions);
        }
        out.push(grant);
    }
    Ok(json!({
        "version": "1.4",
        "title": format!("{} onward grants", config.network_name),
        "identifier": format!("{GIVING_PREFIX}-onward-grants"),
        "issued": Utc::now().date_naive().to_string(),
        "publisher": {"name": config.network_name, "identifier": GIVING_PREFIX},
        "grants": out,
    }))
}

//! The 360Giving package of published grants, written as its data users read it: onward
//! grants to end recipients carry no `regrantType` (they are not grants to grant-makers);
//! donor funds the network chooses to publish appear as incoming grants with the regrantType
//! set for them, and each onward grant names its fund (`grantProgramme`) and, when published,
//! the incoming grant (`relatedActivity`), so donor → network → grantee can be followed.
//! Organisations are identified by org-id where they have one.

use serde_json::{Value, json};

use super::data::{OpenDataSet, Party, Published, PublishedFund};
use super::{PILLAR_TITLES, PRIORITY_AREA_TITLES, REGION_TITLES, title_of};
use crate::config::Config;
use crate::grants::tranche::TrancheStatus;
use crate::kit::rfc3339;
use crate::money;

/// Version of the 360Giving standard the package follows.
pub const VERSION: &str = "1.4";

/// Path of the package (its `dataSource`).
pub const PATH: &str = "/api/v1/exports/360giving.json";

fn organisation(p: &Party, config: &Config, grant_ref: &str) -> Value {
    let mut o = json!({
        "id": p.giving_id(&config.open_data, grant_ref),
        "name": p.name,
    });
    if let Some(c) = &p.country {
        o["addressCountry"] = json!(c);
    }
    // 360Giving's own fields for UK registers, beside the org-id.
    for i in &p.all_ids {
        match i.scheme.as_str() {
            "GB-CHC" | "GB-SC" | "GB-NIC" if o.get("charityNumber").is_none() => {
                o["charityNumber"] = json!(i.id)
            }
            "GB-COH" if o.get("companyNumber").is_none() => o["companyNumber"] = json!(i.id),
            _ => {}
        }
    }
    o
}

fn network(config: &Config) -> Value {
    json!({"id": config.open_data.network_id(), "name": config.open_data.org_name})
}

/// The 360Giving id of the incoming grant of a fund.
pub fn incoming_id(config: &Config, fund_id: &str) -> String {
    format!("{}-incoming-{fund_id}", config.open_data.giving_prefix)
}

fn locations(p: &Party) -> Value {
    let mut out = Vec::new();
    if let Some(c) = &p.country {
        out.push(json!({"countryCode": c}));
    }
    out.push(json!({"name": title_of(REGION_TITLES, &p.region), "geoCode": p.region, "geoCodeType": "region"}));
    Value::Array(out)
}

fn onward_grant(p: &Published, config: &Config) -> Value {
    let g = &p.grant;
    let open = &config.open_data;
    let grant_id = format!("{}-{}", open.giving_prefix, g.reference);
    let (title, description) = crate::grants::access::published_text(g, p.grantee.hidden);
    let recipient = organisation(&p.grantee, config, &g.reference);
    let recipient_id = recipient["id"].clone();
    let mut transactions = Vec::new();
    for d in &p.payments {
        let Some(paid_on) = d.paid_on else { continue };
        transactions.push(json!({
            "id": format!("{grant_id}-payment-{}", super::data::payment_ref(d)),
            "currency": g.currency,
            "value": money::json_number(d.amount, &g.currency),
            "transactionDate": paid_on.to_string(),
            "provider": open.network_id(),
            "recipient": recipient_id,
        }));
        if let (true, Some(at)) = (d.status == TrancheStatus::Reversed, d.reversed_at) {
            transactions.push(json!({
                "id": format!("{grant_id}-reversal-{}", super::data::payment_ref(d)),
                "description": "Reversal of a payment",
                "currency": g.currency,
                "value": money::json_number(-d.amount, &g.currency),
                "transactionDate": at.date().to_string(),
                "provider": open.network_id(),
                "recipient": recipient_id,
            }));
        }
    }
    let vocabulary = format!("{} strategic pillars", open.org_name);
    let mut classifications = vec![json!({
        "vocabulary": vocabulary,
        "code": g.pillar,
        "title": title_of(PILLAR_TITLES, &g.pillar),
    })];
    let areas = format!("{} priority areas", open.org_name);
    classifications.extend(g.priority_area_list().into_iter().map(
        |a| json!({"vocabulary": areas, "code": a, "title": title_of(PRIORITY_AREA_TITLES, &a)}),
    ));
    let mut grant = json!({
        "id": grant_id,
        "title": title,
        "description": description,
        "currency": g.currency,
        "amountAwarded": money::json_number(g.amount, &g.currency),
        "amountDisbursed": money::json_number(g.paid, &g.currency),
        "awardDate": p.award_date().to_string(),
        "plannedDates": [{
            "startDate": g.planned_start.to_string(),
            "endDate": g.planned_end.to_string(),
        }],
        "recipientOrganization": [recipient],
        "fundingOrganization": [network(config)],
        "beneficiaryLocation": locations(&p.grantee),
        "grantProgramme": [{"code": p.fund.reference, "title": p.fund.title}],
        "classifications": classifications,
        "dataSource": format!("{}{PATH}", config.public_base_url),
        "dateModified": rfc3339(g.updated_at),
    });
    if let Some(start) = p.activated_at {
        let mut actual = json!({"startDate": start.date().to_string()});
        if let Some(end) = p.closed_at {
            actual["endDate"] = json!(end.date().to_string());
        }
        grant["actualDates"] = json!([actual]);
    }
    if !transactions.is_empty() {
        grant["disbursementTransaction"] = Value::Array(transactions);
    }
    if p.publication.as_ref().is_some_and(|x| x.publish_incoming) && !p.donor.hidden {
        grant["relatedActivity"] = json!([incoming_id(config, &p.fund.id)]);
    }
    grant
}

fn incoming_grant(f: &PublishedFund, config: &Config) -> Value {
    let fund = &f.fund;
    // A donor's award precedes the fund's record here; never publish a future award date.
    let award = fund.starts_on.min(fund.created_at.date());
    json!({
        "id": incoming_id(config, &fund.id),
        "title": fund.title,
        "description": format!(
            "Funds received by {} from {} ({}) and granted on to civil-society organisations.",
            config.open_data.org_name, f.donor.name, fund.reference
        ),
        "currency": fund.currency,
        "amountAwarded": money::json_number(fund.amount_in_force(), &fund.currency),
        "awardDate": award.to_string(),
        "plannedDates": [{"startDate": fund.starts_on.to_string(), "endDate": fund.ends_on.to_string()}],
        "recipientOrganization": [network(config)],
        "fundingOrganization": [organisation(&f.donor, config, &fund.reference)],
        "regrantType": f.publication.regrant_type,
        "dataSource": format!("{}{PATH}", config.public_base_url),
        "dateModified": rfc3339(fund.updated_at.max(f.publication.updated_at)),
    })
}

/// The package: published onward grants, then the funds published as incoming grants
/// (those of a hidden donor never are).
pub fn package(set: &OpenDataSet, config: &Config) -> Value {
    let open = &config.open_data;
    let mut grants: Vec<Value> = set.grants.iter().map(|p| onward_grant(p, config)).collect();
    grants.extend(
        set.funds
            .iter()
            .filter(|f| !f.donor.hidden)
            .map(|f| incoming_grant(f, config)),
    );
    let modified = set.modified.unwrap_or_else(|| config.clock.naive());
    let mut publisher = json!({
        "identifier": open.network_id(),
        "name": open.org_name,
        "prefix": open.giving_prefix,
    });
    if let Some(w) = &open.publisher_website {
        publisher["website"] = json!(w);
    }
    json!({
        "version": VERSION,
        "title": format!("{} onward grants", open.org_name),
        "description": format!(
            "Grants {} made to civil-society organisations from donor funds, and the funds it chose to publish.",
            open.org_name
        ),
        "identifier": format!("{}-onward-grants", open.giving_prefix),
        "issued": modified.date().to_string(),
        "modified": rfc3339(modified),
        "publisher": publisher,
        "license": open.license,
        "accessURL": format!("{}{PATH}", config.public_base_url),
        "grants": grants,
    })
}

//! `idpc-hub demo-data`: a realistic small network to try every endpoint from /docs within
//! minutes of `cargo run`. Refused in production. Safe to run twice.

use diesel::prelude::*;

use crate::AppState;
use crate::audit::Actor;
use crate::db::schema::{organisations, users};
use crate::directory::model::{NewOrganisation, OrganisationKind, PartnerType};
use crate::error::ApiError;
use crate::identity::model::UserRow;

/// Demo accounts: (email, name, role, password). Documented in the README.
pub const DEMO_USERS: &[(&str, &str, &str, &str)] = &[
    (
        "admin@demo.idpc.example",
        "Ada Admin",
        "admin",
        "demo-admin-password",
    ),
    (
        "grants@demo.idpc.example",
        "Grace Grants",
        "grant_officer",
        "demo-grants-password",
    ),
    (
        "grants2@demo.idpc.example",
        "Gabriel Grants",
        "grant_officer",
        "demo-grants2-password",
    ),
    (
        "finance@demo.idpc.example",
        "Fatima Finance",
        "finance_officer",
        "demo-finance-password",
    ),
    (
        "member@demo.idpc.example",
        "Mateo Member",
        "member",
        "demo-member-password",
    ),
];

/// (name, country, region, kind, partner type)
const DEMO_ORGS: &[(&str, &str, &str, &str, Option<PartnerType>)] = &[
    (
        "Harm Reduction Network Kenya",
        "KE",
        "africa",
        "member",
        None,
    ),
    ("Asia Drug Policy Alliance", "TH", "asia", "member", None),
    ("Lisbon Drug Policy Forum", "PT", "europe", "member", None),
    (
        "Red Latinoamericana de Reducción de Daños",
        "MX",
        "latin_america_caribbean",
        "member",
        None,
    ),
    (
        "MENA Harm Reduction Association",
        "LB",
        "middle_east_north_africa",
        "member",
        None,
    ),
    (
        "North American Drug Policy Coalition",
        "CA",
        "north_america",
        "member",
        None,
    ),
    (
        "Pacific Drug and Alcohol Network",
        "AU",
        "oceania",
        "member",
        None,
    ),
    (
        "Global Network of People Who Use Drugs",
        "GB",
        "global",
        "partner",
        Some(PartnerType::CommunityNetwork),
    ),
    (
        "Open Society Drug Policy Fund",
        "US",
        "north_america",
        "partner",
        Some(PartnerType::Donor),
    ),
    (
        "UN Office on Drugs and Crime Liaison",
        "AT",
        "europe",
        "partner",
        Some(PartnerType::UnAgency),
    ),
];

/// Seeds organisations and one user per role. Returns (organisations, users) created.
pub async fn seed(state: &AppState) -> Result<(usize, usize), ApiError> {
    if state.config.app_env == crate::config::AppEnv::Production {
        return Err(ApiError::Forbidden(
            "demo-data is refused when APP_ENV=production".into(),
        ));
    }
    let mut hashes = Vec::new();
    for (_, _, _, password) in DEMO_USERS {
        hashes.push(state.hasher.hash(password.to_string()).await?);
    }
    state
        .db(move |c| {
            let mut orgs = 0;
            let mut first_member: Option<String> = None;
            for (name, country, region, kind, partner_type) in DEMO_ORGS {
                let slug = crate::directory::service::slugify(name);
                let existing: Option<String> = organisations::table
                    .filter(organisations::slug.eq(&slug))
                    .select(organisations::id)
                    .first(c)
                    .optional()?;
                let id = match existing {
                    Some(id) => id,
                    None => {
                        orgs += 1;
                        let new = NewOrganisation {
                            name: name.to_string(),
                            slug: Some(slug),
                            kind: if *kind == "member" {
                                OrganisationKind::Member
                            } else {
                                OrganisationKind::Partner
                            },
                            partner_type: *partner_type,
                            country: country.to_string(),
                            region: region.to_string(),
                        };
                        crate::directory::service::create(c, &Actor::System, None, new)?.id
                    }
                };
                if *kind == "member" && first_member.is_none() {
                    first_member = Some(id);
                }
            }
            let mut created = 0;
            for ((email, name, role, _), hash) in DEMO_USERS.iter().zip(hashes) {
                let exists: i64 = users::table
                    .filter(users::email.eq(email))
                    .count()
                    .get_result(c)?;
                if exists > 0 {
                    continue;
                }
                let now = chrono::Utc::now().naive_utc();
                let row = UserRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    email: email.to_string(),
                    display_name: name.to_string(),
                    role: role.to_string(),
                    organisation_id: if *role == "member" {
                        first_member.clone()
                    } else {
                        None
                    },
                    status: "active".into(),
                    password_hash: Some(hash),
                    failed_logins: 0,
                    locked_until: None,
                    last_login_at: None,
                    created_at: now,
                    updated_at: now,
                };
                crate::identity::service::insert_user(c, &row)?;
                created += 1;
            }
            Ok((orgs, created))
        })
        .await
}

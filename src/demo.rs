//! `idpc-hub demo-data`: a realistic network of about 200 organisations in every region and
//! priority area, with demo grants (see `exports::demo`), to try every endpoint from /docs
//! within minutes of `cargo run`. Refused in production. Safe to run twice.

use diesel::prelude::*;

use crate::AppState;
use crate::audit::Actor;
use crate::db::schema::{organisations, users};
use crate::directory::{NewOrganisation, OrganisationKind, PartnerType};
use crate::error::ApiError;
use crate::identity::UserRow;

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

/// Places of the generated network: (country, city, region, languages).
const PLACES: &[(&str, &str, &str, &[&str])] = &[
    ("KE", "Nairobi", "africa", &["en", "sw"]),
    ("NG", "Lagos", "africa", &["en", "yo"]),
    ("ZA", "Cape Town", "africa", &["en", "xh"]),
    ("SN", "Dakar", "africa", &["fr", "wo"]),
    ("UG", "Kampala", "africa", &["en", "lg"]),
    ("GH", "Accra", "africa", &["en"]),
    ("TZ", "Dar es Salaam", "africa", &["sw", "en"]),
    ("MZ", "Maputo", "africa", &["pt"]),
    ("CI", "Abidjan", "africa", &["fr"]),
    ("TH", "Bangkok", "asia", &["th", "en"]),
    ("IN", "Delhi", "asia", &["hi", "en"]),
    ("ID", "Jakarta", "asia", &["id"]),
    ("PH", "Manila", "asia", &["tl", "en"]),
    ("VN", "Hanoi", "asia", &["vi"]),
    ("NP", "Kathmandu", "asia", &["ne", "en"]),
    ("KH", "Phnom Penh", "asia", &["km"]),
    ("MY", "Kuala Lumpur", "asia", &["ms", "en"]),
    ("PK", "Lahore", "asia", &["ur", "en"]),
    ("PT", "Porto", "europe", &["pt"]),
    ("GB", "London", "europe", &["en"]),
    ("FR", "Marseille", "europe", &["fr"]),
    ("DE", "Berlin", "europe", &["de"]),
    ("PL", "Warsaw", "europe", &["pl"]),
    ("UA", "Kyiv", "europe", &["uk"]),
    ("GE", "Tbilisi", "europe", &["ka"]),
    ("NL", "Amsterdam", "europe", &["nl", "en"]),
    ("ES", "Barcelona", "europe", &["es", "ca"]),
    ("MX", "Guadalajara", "latin_america_caribbean", &["es"]),
    ("CO", "Bogotá", "latin_america_caribbean", &["es"]),
    ("BR", "São Paulo", "latin_america_caribbean", &["pt"]),
    ("AR", "Buenos Aires", "latin_america_caribbean", &["es"]),
    ("JM", "Kingston", "latin_america_caribbean", &["en"]),
    ("CL", "Santiago", "latin_america_caribbean", &["es"]),
    ("PE", "Lima", "latin_america_caribbean", &["es", "qu"]),
    ("LB", "Tripoli", "middle_east_north_africa", &["ar", "fr"]),
    ("MA", "Rabat", "middle_east_north_africa", &["ar", "fr"]),
    ("TN", "Tunis", "middle_east_north_africa", &["ar", "fr"]),
    ("EG", "Cairo", "middle_east_north_africa", &["ar"]),
    ("JO", "Amman", "middle_east_north_africa", &["ar", "en"]),
    ("IR", "Tehran", "middle_east_north_africa", &["fa"]),
    ("CA", "Toronto", "north_america", &["en", "fr"]),
    ("US", "New York", "north_america", &["en", "es"]),
    ("US", "San Francisco", "north_america", &["en"]),
    ("CA", "Vancouver", "north_america", &["en"]),
    ("AU", "Sydney", "oceania", &["en"]),
    ("NZ", "Auckland", "oceania", &["en", "mi"]),
    ("FJ", "Suva", "oceania", &["en", "fj"]),
    ("PG", "Port Moresby", "oceania", &["en"]),
    ("CH", "Geneva", "global", &["en", "fr"]),
    ("AT", "Vienna", "global", &["en", "de"]),
];

/// Name patterns of generated organisations; `{}` is the city.
const PATTERNS: &[&str] = &[
    "{} Harm Reduction Network",
    "{} Drug Policy Forum",
    "Coalition for Drug Policy Reform {}",
    "{} Network of People Who Use Drugs",
    "Women, Drugs and Justice Collective {}",
    "{} Centre for Health and Human Rights",
    "{} Youth for Sensible Drug Policy",
    "{} Legal Aid and Decriminalisation Project",
];

/// The generated organisations: four per place, deterministic, so reruns find them again.
fn generated() -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (i, place) in PLACES.iter().enumerate() {
        for k in 0..4 {
            let pattern = PATTERNS[(i * 3 + k) % PATTERNS.len()];
            out.push((pattern.replace("{}", place.1), i, i * 4 + k));
        }
    }
    out
}

fn generated_row(
    name: &str,
    place: usize,
    n: usize,
    today: chrono::NaiveDate,
) -> crate::directory::OrganisationRow {
    use crate::codes::{PILLARS, PRIORITY_AREAS};
    use crate::directory::to_json_list;
    let (country, city, region, languages) = PLACES[place];
    let new = NewOrganisation {
        name: name.to_string(),
        slug: None,
        kind: OrganisationKind::Member,
        partner_type: None,
        country: country.into(),
        region: region.into(),
        identifiers: Vec::new(),
    };
    let slug = crate::directory::slugify(name);
    let mut row = crate::directory::new_row(&new, slug.clone(), today);
    let areas: Vec<String> = (0..1 + n % 3)
        .map(|j| PRIORITY_AREAS[(n + j * 2) % PRIORITY_AREAS.len()].to_string())
        .collect();
    let pillars: Vec<String> = (0..1 + n % 2)
        .map(|j| PILLARS[(n + j) % PILLARS.len()].to_string())
        .collect();
    row.city = Some(city.into());
    row.website = Some(format!("https://{slug}.example.org"));
    row.description = Some(format!(
        "{name} works in {city} on {} through {}.",
        areas.join(", ").replace('_', " "),
        pillars.join(" and ").replace('_', " ")
    ));
    row.focus_areas = to_json_list(&areas);
    row.pillars = to_json_list(&pillars);
    row.languages = to_json_list(&languages.iter().map(|l| l.to_string()).collect::<Vec<_>>());
    row.founded_year = Some(1985 + (n % 38) as i32);
    row.public_email = Some(format!("info@{slug}.example.org"));
    row.contact_name = Some(format!("Contact {}", n + 1));
    row.contact_email = Some(format!("contact@{slug}.example.org"));
    row.joined_on = today - chrono::Duration::days(30 * (n as i64 % 120));
    row.membership_period_start = Some(row.joined_on);
    // Periods end across the coming months, so the lifecycle job has work to show.
    row.membership_period_end = Some(today + chrono::Duration::days(5 + (n as i64 * 7) % 400));
    // A few members work where drug use is criminalised: hidden, or members-only profile.
    row.hidden_from_public = n % 23 == 7;
    if n % 11 == 3 {
        row.visibility_profile = crate::directory::visibility::Visibility::Members;
    }
    row
}

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
    let config = state.config.clone();
    let counts = state
        .db(move |c| {
            let mut orgs = 0;
            let mut first_member: Option<String> = None;
            for (name, country, region, kind, partner_type) in DEMO_ORGS {
                let slug = crate::directory::slugify(name);
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
                            identifiers: Vec::new(),
                        };
                        crate::directory::create(c, &config, &Actor::System, None, new)?.id
                    }
                };
                if *kind == "member" && first_member.is_none() {
                    first_member = Some(id);
                }
            }
            let today = chrono::Utc::now().date_naive();
            for (name, place, n) in generated() {
                let slug = crate::directory::slugify(&name);
                let exists: i64 = organisations::table
                    .filter(organisations::slug.eq(&slug))
                    .count()
                    .get_result(c)?;
                if exists == 0 {
                    crate::directory::insert(
                        c,
                        &config,
                        &Actor::System,
                        None,
                        generated_row(&name, place, n, today),
                    )?;
                    orgs += 1;
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
                    role: role.parse().map_err(ApiError::Internal)?,
                    organisation_id: if *role == "member" {
                        first_member.clone()
                    } else {
                        None
                    },
                    status: crate::identity::UserStatus::Active,
                    password_hash: Some(hash),
                    failed_logins: 0,
                    locked_until: None,
                    last_login_at: None,
                    created_at: now,
                    updated_at: now,
                };
                crate::identity::insert_user(c, &row)?;
                created += 1;
            }
            Ok((orgs, created))
        })
        .await?;
    // Grants, a published fund and identifiers, so the open-data exports have content.
    crate::exports::demo::seed(state).await?;
    Ok(counts)
}

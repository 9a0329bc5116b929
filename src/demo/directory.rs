//! The demo directory: the named organisations the rest of the demo refers to (members,
//! a community network, a UN agency and three donors) and about two hundred generated members
//! in every region and priority area. Each is found again by its slug, so a rerun adds none.

use diesel::prelude::*;

use crate::audit::Actor;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::organisations;
use crate::directory::{NewOrganisation, OrganisationKind, PartnerType};
use crate::error::ApiError;

/// Named demo organisations: (name, country, region, kind, partner type).
const DEMO_ORGS: &[(&str, &str, &str, OrganisationKind, Option<PartnerType>)] = &[
    (super::KENYA, "KE", "africa", OrganisationKind::Member, None),
    (super::ASIA, "TH", "asia", OrganisationKind::Member, None),
    (
        super::LISBON,
        "PT",
        "europe",
        OrganisationKind::Member,
        None,
    ),
    (
        super::MEXICO,
        "MX",
        "latin_america_caribbean",
        OrganisationKind::Member,
        None,
    ),
    (
        super::MENA,
        "LB",
        "middle_east_north_africa",
        OrganisationKind::Member,
        None,
    ),
    (
        super::NORTH_AMERICA,
        "CA",
        "north_america",
        OrganisationKind::Member,
        None,
    ),
    (
        super::PACIFIC,
        "AU",
        "oceania",
        OrganisationKind::Member,
        None,
    ),
    (
        super::COMMUNITY_NETWORK,
        "GB",
        "global",
        OrganisationKind::Partner,
        Some(PartnerType::CommunityNetwork),
    ),
    (
        super::DONOR_USD,
        "US",
        "north_america",
        OrganisationKind::Partner,
        Some(PartnerType::Donor),
    ),
    (
        super::DONOR_EUR,
        "DE",
        "europe",
        OrganisationKind::Partner,
        Some(PartnerType::Donor),
    ),
    (
        super::DONOR_GBP,
        "GB",
        "europe",
        OrganisationKind::Partner,
        Some(PartnerType::Donor),
    ),
    (
        "UN Office on Drugs and Crime Liaison",
        "AT",
        "europe",
        OrganisationKind::Partner,
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
    now: chrono::NaiveDateTime,
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
    let today = now.date();
    let mut row = crate::directory::new_row(&new, slug.clone(), now);
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

/// Creates the organisations that do not exist yet, through the directory's own `create` and
/// `insert` (audited). Returns how many it created.
pub(super) fn seed(c: &mut DbConn, config: &Config) -> Result<usize, ApiError> {
    let mut created = 0;
    for (name, country, region, kind, partner_type) in DEMO_ORGS {
        let slug = crate::directory::slugify(name);
        if exists(c, &slug)? {
            continue;
        }
        let new = NewOrganisation {
            name: name.to_string(),
            slug: Some(slug),
            kind: *kind,
            partner_type: *partner_type,
            country: country.to_string(),
            region: region.to_string(),
            identifiers: Vec::new(),
        };
        crate::directory::create(c, config, &Actor::System, Some(super::REQUEST_ID), new)?;
        created += 1;
    }
    let now = config.clock.naive();
    for (name, place, n) in generated() {
        if exists(c, &crate::directory::slugify(&name))? {
            continue;
        }
        crate::directory::insert(
            c,
            config,
            &Actor::System,
            Some(super::REQUEST_ID),
            generated_row(&name, place, n, now),
        )?;
        created += 1;
    }
    Ok(created)
}

fn exists(c: &mut DbConn, slug: &str) -> Result<bool, ApiError> {
    let n: i64 = organisations::table
        .filter(organisations::slug.eq(slug))
        .count()
        .get_result(c)?;
    Ok(n > 0)
}

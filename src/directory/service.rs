//! Directory rules: validation of profiles, unique slugs, and creation with its audit event.

use chrono::Utc;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::model::{NewOrganisation, OrganisationKind, OrganisationRow};
use crate::audit::{self, Actor, Event};
use crate::codes::{self, wire_name};
use crate::db::schema::organisations;
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, FieldError};

/// Turns a name into a slug: lower-case ASCII letters and digits joined by hyphens.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(80).collect()
}

fn valid_slug(s: &str) -> bool {
    (2..=80).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Validates a new organisation, collecting every field error.
pub fn validate_new(n: &NewOrganisation) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Err(ApiError::Validation(e)) =
        crate::identity::service::check_name("name", &n.name, 2, 200)
    {
        errors.extend(e);
    }
    if let Some(slug) = &n.slug
        && !valid_slug(slug)
    {
        errors.push(FieldError::new(
            "slug",
            "invalid",
            "A slug is 2-80 lower-case letters, digits and hyphens.",
        ));
    }
    if !codes::is_country(&n.country) {
        errors.push(FieldError::new(
            "country",
            "unknown_code",
            "Use an ISO 3166-1 alpha-2 country code such as GB.",
        ));
    }
    if !codes::is_region(&n.region) {
        errors.push(FieldError::new(
            "region",
            "unknown_code",
            format!("Use one of: {}.", codes::REGIONS.join(", ")),
        ));
    }
    match (n.kind, n.partner_type) {
        (OrganisationKind::Member, Some(_)) => errors.push(FieldError::new(
            "partner_type",
            "not_allowed",
            "Only partners have a partner type.",
        )),
        (OrganisationKind::Partner, None) => errors.push(FieldError::new(
            "partner_type",
            "required",
            "A partner needs a partner type.",
        )),
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Creates an organisation and records it in the audit trail.
pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    request_id: Option<&str>,
    n: NewOrganisation,
) -> Result<OrganisationRow, ApiError> {
    validate_new(&n)?;
    let slug = n.slug.clone().unwrap_or_else(|| slugify(&n.name));
    if !valid_slug(&slug) {
        return Err(ApiError::field(
            "slug",
            "required",
            "The name gives no usable slug; send one.",
        ));
    }
    let now = Utc::now().naive_utc();
    let row = OrganisationRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: n.name.trim().to_string(),
        slug,
        kind: wire_name(&n.kind),
        partner_type: n.partner_type.map(|p| wire_name(&p)),
        country: n.country.clone(),
        region: n.region.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
        hidden_from_public: false,
    };
    write_tx(conn, |c| {
        match diesel::insert_into(organisations::table)
            .values(&row)
            .execute(c)
        {
            Ok(_) => {}
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(ApiError::Conflict {
                    code: "slug_taken",
                    detail: format!("The slug {} is taken.", row.slug),
                });
            }
            Err(e) => return Err(e.into()),
        }
        audit::record(
            c,
            Event {
                actor,
                action: "organisation.created",
                entity_type: "organisation",
                entity_id: &row.id,
                before: None,
                after: audit::snapshot(&super::model::Organisation::from(row.clone())),
                request_id,
            },
        )?;
        Ok(row.clone())
    })
}

/// Finds an organisation by id or slug.
pub fn find(conn: &mut DbConn, id_or_slug: &str) -> Result<OrganisationRow, ApiError> {
    organisations::table
        .filter(
            organisations::id
                .eq(id_or_slug)
                .or(organisations::slug.eq(id_or_slug)),
        )
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

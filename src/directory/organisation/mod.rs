//! Organisations: the profile, creation, merge-patch updates guarded by the version in the
//! UPDATE itself, and the per-field history. Who may *see* an organisation is decided in
//! `visibility`; who may *edit* one (admins, and its own members) here.

pub mod descriptions;
pub mod history;
pub mod model;
pub mod patch;
pub mod slugs;

use chrono::{Datelike, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub use crate::audit::history::HistoryEntry;
pub use history::{FieldChange, diff, history};
pub use model::*;
pub use patch::apply_patch;

use super::identifiers;
use super::membership::MembershipStatus;
use super::search;
use super::visibility::{Viewer, Visibility};
use crate::audit::Acting;
use crate::auth::Principal;
use crate::auth::caller::{Admin, OrgMember};
use crate::auth::principal::RequestMeta;
use crate::codes;
use crate::command::{self, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{organisation_tags, organisations};
use crate::error::{ApiError, FieldError};

fn meta(request_id: Option<&str>) -> RequestMeta {
    RequestMeta {
        request_id: request_id.map(str::to_string),
        ip: String::new(),
    }
}

/// Turns a name into a slug: transliterated to ASCII (`Bogotá` → `bogota`, `Фонд` → `fond`),
/// then lower-case letters and digits joined by hyphens.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in deunicode::deunicode(name)
        .chars()
        .flat_map(char::to_lowercase)
    {
        // An apostrophe joins (`women's` → `womens`; Cyrillic soft signs transliterate to one).
        if c == '\'' {
            continue;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(80).collect()
}

/// True when `s` has the form of an organisation id (a UUID), which a slug may not have:
/// lookups take an id or a slug, and must not be able to confuse them.
pub fn has_id_form(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok()
}

/// The field error of a slug that has the form of an id.
pub fn id_form_error() -> FieldError {
    FieldError::new(
        "slug",
        "id_form",
        "A slug cannot have the form of an id (a UUID); add a word to it.",
    )
}

/// The shared text check (`kit::control_characters`), where the directory's validators
/// have always found it.
pub use crate::kit::control_characters;

/// True for 2-80 lower-case letters, digits and inner hyphens, not in the form of an id.
pub fn valid_slug(s: &str) -> bool {
    !has_id_form(s)
        && (2..=80).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// True for an absolute http(s) URL without spaces, up to 500 characters.
pub fn valid_url(s: &str) -> bool {
    s.len() <= 500
        && (s.starts_with("https://") || s.starts_with("http://"))
        && s.split_once("://").is_some_and(|(_, rest)| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.starts_with('.')
        })
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Checks codes against a list, naming `field`; returns them de-duplicated in given order.
pub fn check_codes(
    errors: &mut Vec<FieldError>,
    field: &str,
    values: &[String],
    ok: impl Fn(&str) -> bool,
    hint: &str,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !ok(v) {
            errors.push(FieldError::new(
                field,
                "unknown_code",
                format!("{v:?} is not a known code. {hint}"),
            ));
            return Vec::new();
        }
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    out
}

/// Validates a new organisation, collecting every field error.
pub fn validate_new(n: &NewOrganisation) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Err(ApiError::Validation(e)) = crate::kit::check_name("name", &n.name, 2, 200) {
        errors.extend(e);
    }
    control_characters(&mut errors, "name", &n.name, false);
    if let Some(slug) = &n.slug
        && has_id_form(slug)
    {
        errors.push(id_form_error());
    } else if let Some(slug) = &n.slug
        && !valid_slug(slug)
    {
        errors.push(FieldError::new(
            "slug",
            "invalid",
            "A slug is 2-80 lower-case letters, digits and hyphens.",
        ));
    }
    check_place(&mut errors, "", &n.country, &n.region);
    identifiers::check(&mut errors, &n.identifiers);
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

/// Checks a country and region pair; `prefix` is prepended to the field names.
pub fn check_place(errors: &mut Vec<FieldError>, prefix: &str, country: &str, region: &str) {
    if !codes::is_country(country) {
        errors.push(FieldError::new(
            format!("{prefix}country"),
            "unknown_code",
            "Use an ISO 3166-1 alpha-2 country code such as GB.",
        ));
    }
    if !codes::is_region(region) {
        errors.push(FieldError::new(
            format!("{prefix}region"),
            "unknown_code",
            format!("Use one of: {}.", codes::REGIONS.join(", ")),
        ));
    }
}

/// A fresh row for a new organisation: members start active, on an open-ended period.
pub fn new_row(n: &NewOrganisation, slug: String, now: NaiveDateTime) -> OrganisationRow {
    let today = now.date();
    let member = n.kind == OrganisationKind::Member;
    OrganisationRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: n.name.trim().to_string(),
        slug,
        kind: n.kind,
        partner_type: n.partner_type,
        country: n.country.clone(),
        region: n.region.clone(),
        created_at: now,
        updated_at: now,
        version: 1,
        hidden_from_public: false,
        acronym: None,
        city: None,
        website: None,
        description: None,
        focus_areas: "[]".into(),
        pillars: "[]".into(),
        languages: "[]".into(),
        public_email: None,
        contact_name: None,
        contact_email: None,
        contact_phone: None,
        social_links: "[]".into(),
        logo_url: None,
        founded_year: None,
        joined_on: today,
        membership_status: member.then_some(MembershipStatus::Active),
        membership_period_start: member.then_some(today),
        membership_period_end: None,
        visibility_profile: Visibility::Public,
        visibility_contact: Visibility::Members,
        identifiers: identifiers::to_stored(&identifiers::check(&mut Vec::new(), &n.identifiers)),
    }
}

/// Creates an organisation and records it in the audit trail.
pub fn create(
    conn: &mut DbConn,
    config: &Config,
    actor: &impl Acting,
    request_id: Option<&str>,
    n: NewOrganisation,
) -> Result<OrganisationRow, ApiError> {
    command::run(conn, config, actor, &meta(request_id), |ctx| {
        create_in(ctx, n)
    })
}

/// Creates an organisation inside a command.
pub fn create_in(ctx: &mut Ctx<'_>, n: NewOrganisation) -> Result<OrganisationRow, ApiError> {
    validate_new(&n)?;
    let slug = match &n.slug {
        Some(sent) => sent.clone(),
        // A name that transliterates to no usable slug (emoji, punctuation) still gets one:
        // `organisation-` and eight random hex digits, which the admin may change later.
        None => Some(slugify(&n.name))
            .filter(|s| valid_slug(s) && !has_id_form(s))
            .unwrap_or_else(|| {
                let random = uuid::Uuid::new_v4().simple().to_string();
                format!("organisation-{}", &random[..8])
            }),
    };
    if has_id_form(&slug) {
        return Err(ApiError::Validation(vec![id_form_error()]));
    }
    if !valid_slug(&slug) {
        return Err(ApiError::field(
            "slug",
            "invalid",
            "Use lower-case letters, digits and single hyphens.",
        ));
    }
    let row = new_row(&n, slug, ctx.now);
    insert_in(ctx, row)
}

/// Inserts a complete row with its tags and audit event.
pub fn insert(
    conn: &mut DbConn,
    config: &Config,
    actor: &impl Acting,
    request_id: Option<&str>,
    row: OrganisationRow,
) -> Result<OrganisationRow, ApiError> {
    command::run(conn, config, actor, &meta(request_id), |ctx| {
        insert_in(ctx, row)
    })
}

/// Inserts a complete row with its tags, audit event and partner event, inside a command.
pub fn insert_in(ctx: &mut Ctx<'_>, row: OrganisationRow) -> Result<OrganisationRow, ApiError> {
    match diesel::insert_into(organisations::table)
        .values(&row)
        .execute(ctx.conn)
    {
        Ok(_) => {}
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(slug_taken(&row.slug));
        }
        Err(e) => return Err(e.into()),
    }
    sync_tags(ctx.conn, &row)?;
    search::document::sync(ctx.conn, &row)?;
    slugs::claimed(ctx.conn, &row.slug)?;
    ctx.audit::<Organisation>("created", None, Some(&row.clone().into()))?;
    ctx.publish(command::DomainEvent::OrganisationCreated, &row.id)?;
    Ok(row)
}

fn slug_taken(slug: &str) -> ApiError {
    ApiError::Conflict {
        code: crate::error::ConflictCode::SlugTaken,
        detail: format!("The slug {slug} is taken."),
    }
}

/// Rewrites the tag rows (focus areas, languages, pillars) and the identifier rows of an organisation
/// from its JSON lists.
pub fn sync_tags(conn: &mut DbConn, row: &OrganisationRow) -> QueryResult<()> {
    diesel::delete(organisation_tags::table.filter(organisation_tags::organisation_id.eq(&row.id)))
        .execute(conn)?;
    for (kind, list) in [
        ("focus_area", json_list(&row.focus_areas)),
        ("language", json_list(&row.languages)),
        ("pillar", json_list(&row.pillars)),
    ] {
        for code in list {
            diesel::insert_into(organisation_tags::table)
                .values((
                    organisation_tags::organisation_id.eq(&row.id),
                    organisation_tags::kind.eq(kind),
                    organisation_tags::code.eq(code),
                ))
                .execute(conn)?;
        }
    }
    identifiers::sync(conn, row)
}

/// Finds an organisation by id or slug, whoever asks. A value in the form of an id is
/// looked up as an id only (a slug never has that form), so the answer is never ambiguous.
pub fn find(conn: &mut DbConn, id_or_slug: &str) -> Result<OrganisationRow, ApiError> {
    // Two static queries rather than one boxed one: diesel keeps a prepared statement for a
    // static query on each connection, so the hottest read is parsed and planned once per
    // connection, not once per request.
    let row = if has_id_form(id_or_slug) {
        organisations::table
            .filter(organisations::id.eq(id_or_slug))
            .select(OrganisationRow::as_select())
            .first(conn)
            .optional()?
    } else {
        organisations::table
            .filter(organisations::slug.eq(id_or_slug))
            .select(OrganisationRow::as_select())
            .first(conn)
            .optional()?
    };
    row.ok_or(ApiError::NotFound)
}

/// An organisation as `viewer` may see it; 404 when it may not know it exists.
pub fn get(conn: &mut DbConn, viewer: &Viewer, id_or_slug: &str) -> Result<Found, ApiError> {
    let row = match find(conn, id_or_slug) {
        Ok(row) => row,
        Err(ApiError::NotFound) if !has_id_form(id_or_slug) => {
            // An old slug answers with the current one, to whoever may see the organisation.
            let Some(id) = slugs::former_owner(conn, id_or_slug)? else {
                return Err(ApiError::NotFound);
            };
            let row = find(conn, &id)?;
            if !viewer.can_see(&row) {
                return Err(ApiError::NotFound);
            }
            return Ok(Found::Moved(row.slug));
        }
        Err(e) => return Err(e),
    };
    if !viewer.can_see(&row) {
        return Err(ApiError::NotFound);
    }
    let groups = viewer.field_groups(&row);
    Ok(Found::Here(Box::new(Organisation::view(row, groups))))
}

/// What a lookup by id or slug found.
#[derive(Debug)]
pub enum Found {
    /// The organisation, as the caller may see it.
    Here(Box<Organisation>),
    /// The slug asked for is an old one; this is the current slug.
    Moved(String),
}

/// Who may edit an organisation: admins, and member users of that organisation. Members of
/// other organisations get 404 (they are not told more); other staff and apps get 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// An admin: may change the protected fields (kind, slug, joined_on, membership) too.
    Admin,
    /// A member user of the organisation.
    OwnMember,
}

impl Editor {
    /// The editor `who` is for organisation `org`. A caller refused on an organisation it
    /// may not see (a partner app and a hidden one) gets 404, as for an unknown one.
    pub fn of(who: &Principal, org: &OrganisationRow) -> Result<Editor, ApiError> {
        if Admin::try_from(who).is_ok() {
            return Ok(Editor::Admin);
        }
        match OrgMember::try_from(who) {
            Ok(m) if m.organisation_id == org.id => Ok(Editor::OwnMember),
            Ok(_) => Err(ApiError::NotFound),
            Err(_) => {
                let viewer = Viewer::of(Some(who)).unwrap_or(Viewer::Public);
                if viewer.can_see(org) {
                    Err(ApiError::Forbidden(
                        "Only admins and the organisation's own members may do this.".into(),
                    ))
                } else {
                    Err(ApiError::NotFound)
                }
            }
        }
    }
}

/// The email telling the secretariat an organisation left the public directory.
#[derive(Debug, serde::Serialize)]
pub struct OrganisationHiddenMail {
    /// The organisation.
    pub organisation_name: String,
    /// The organisation's page in the console.
    pub link: String,
}

impl command::Message for OrganisationHiddenMail {
    const KIND: crate::notify::Kind = crate::notify::Kind::OrganisationHidden;
}

/// Tells the admins (never the one who hid it) that `org` is now hidden from the public.
fn tell_hidden(ctx: &mut Ctx<'_>, org: &OrganisationRow) -> Result<(), ApiError> {
    let parties = crate::notify::matrix::Parties {
        organisation_id: Some(org.id.clone()),
        ..Default::default()
    };
    let mail = OrganisationHiddenMail {
        organisation_name: org.name.clone(),
        link: crate::notify::links::membership(ctx.config, &org.id),
    };
    ctx.tell(
        crate::notify::matrix::Event::OrganisationHidden,
        &parties,
        &mail,
    )?;
    Ok(())
}

/// Applies a merge-patch when `if_match` is the current version.
///
/// The version check and increment are one conditional UPDATE, so of two concurrent
/// PATCHes with the same `If-Match` exactly one succeeds on either backend; the other gets
/// 412 with the version it should have sent.
pub fn update(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    if_match: Option<i64>,
    patch: OrganisationPatch,
) -> Result<OrganisationRow, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        let c = &mut *ctx.conn;
        let before = organisations::table
            .find(id)
            .select(OrganisationRow::as_select())
            .first(c)
            .optional()?
            .ok_or(ApiError::NotFound)?;
        let editor = Editor::of(who, &before)?;
        if editor == Editor::OwnMember {
            // The one rule of good standing, as the grants commands apply it.
            OrgMember::try_from(who)?.require_in_good_standing(c)?;
        }
        let admin = editor == Editor::Admin;
        let expected = if_match.ok_or(ApiError::PreconditionRequired)?;
        if expected != before.version {
            return Err(ApiError::PreconditionFailed {
                current_version: before.version,
            });
        }
        let mut after = before.clone();
        let errors = apply_patch(&mut after, patch, admin, ctx.now.year());
        crate::error::no_field_errors(errors)?;
        after.updated_at = ctx.now;
        write_if_version(c, id, expected, &after)?;
        after.version = expected + 1;
        sync_derived(c, &before, &after, ctx.now)?;
        ctx.audit::<Organisation>(
            "updated",
            Some(&before.clone().into()),
            Some(&after.clone().into()),
        )?;
        let event = match (before.hidden_from_public, after.hidden_from_public) {
            (false, true) => {
                tell_hidden(ctx, &after)?;
                command::DomainEvent::OrganisationHidden
            }
            (true, false) => command::DomainEvent::OrganisationUnhidden,
            _ => command::DomainEvent::OrganisationUpdated,
        };
        ctx.publish(event, &after.id)?;
        Ok(after)
    })
}

/// Writes `after` when the stored version is still `expected` (one conditional UPDATE), or
/// answers 412 with the version the caller should have sent; a slug taken meanwhile is a 409.
fn write_if_version(
    c: &mut DbConn,
    id: &str,
    expected: i64,
    after: &OrganisationRow,
) -> Result<(), ApiError> {
    let changes = OrganisationChanges::from(after);
    let n = match diesel::update(
        organisations::table
            .filter(organisations::id.eq(id))
            .filter(organisations::version.eq(expected)),
    )
    .set((
        &changes,
        organisations::version.eq(organisations::version + 1),
    ))
    .execute(c)
    {
        Ok(n) => n,
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return Err(slug_taken(&after.slug));
        }
        Err(e) => return Err(e.into()),
    };
    if n == 0 {
        let current: i64 = organisations::table
            .find(id)
            .select(organisations::version)
            .first(c)?;
        return Err(ApiError::PreconditionFailed {
            current_version: current,
        });
    }
    Ok(())
}

/// Keeps what is derived from the row in step: its tags, its search document, its old slug.
fn sync_derived(
    c: &mut DbConn,
    before: &OrganisationRow,
    after: &OrganisationRow,
    now: chrono::NaiveDateTime,
) -> Result<(), ApiError> {
    if after.focus_areas != before.focus_areas
        || after.languages != before.languages
        || after.pillars != before.pillars
        || after.identifiers != before.identifiers
    {
        sync_tags(c, after)?;
    }
    if search::document::changed(before, after) {
        search::document::sync(c, after)?;
    }
    if after.slug != before.slug {
        slugs::moved(c, &before.slug, after, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_transliterated() {
        assert_eq!(
            slugify("Colectivo Reducción de Daños Bogotá"),
            "colectivo-reduccion-de-danos-bogota"
        );
        assert_eq!(slugify("Фонд Андрея Рылькова"), "fond-andreia-rylkova");
        assert!(valid_slug(&slugify("มูลนิธิรักษ์ไทย")));
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(valid_url("https://idpc.net/about"));
        assert!(!valid_url("javascript:alert(1)"));
        assert!(!valid_url("https:///x"));
        assert!(!valid_url("https://a b"));
    }
}

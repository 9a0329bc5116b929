//! Directory rules: who sees which organisation and which of its field groups, validation of
//! profiles, creation, merge-patch updates guarded by the version in the UPDATE itself, and
//! the per-field history read from the audit trail.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::model::*;
use crate::audit::{self, Actor, Event};
use crate::auth::{Principal, Role, Scope};
use crate::codes::{self, wire_name};
use crate::db::schema::{audit_events, organisation_tags, organisations};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, FieldError};
use crate::pagination;

/// Who is looking at the directory.
///
/// Anonymous callers and partner apps holding `directory:read` are the public: they see
/// public groups of listed organisations that are not hidden. Member users see
/// members-level groups of every listed organisation (hidden ones included: hiding is
/// from the public, not from the network) and all of their own organisation. Staff see all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// No token, or a partner app with `directory:read`.
    Public,
    /// A member user of this organisation.
    Member(String),
    /// Admin, grant officer or finance officer.
    Staff,
}

impl Viewer {
    /// The viewer of a caller; a partner app without `directory:read` gets 403.
    pub fn of(who: Option<&Principal>) -> Result<Viewer, ApiError> {
        match who {
            None => Ok(Viewer::Public),
            Some(p @ Principal::Client(_)) => {
                if p.has_scope(Scope::DirectoryRead) {
                    Ok(Viewer::Public)
                } else {
                    Err(ApiError::Forbidden(
                        "This client lacks the directory:read scope.".into(),
                    ))
                }
            }
            Some(p) if p.is_staff() => Ok(Viewer::Staff),
            Some(p) => Ok(match p.organisation_id() {
                Some(o) => Viewer::Member(o.to_string()),
                None => Viewer::Public,
            }),
        }
    }

    /// How much of organisation `org_id` this viewer sees.
    pub fn level_for(&self, org_id: &str) -> ViewLevel {
        match self {
            Viewer::Staff => ViewLevel::Full,
            Viewer::Member(o) if o == org_id => ViewLevel::Full,
            Viewer::Member(_) => ViewLevel::Members,
            Viewer::Public => ViewLevel::Public,
        }
    }
}

/// Listed organisations are partners and members in good standing (active, or in grace while
/// they may still renew). Lapsed, suspended and withdrawn members are not listed outside
/// the secretariat.
pub fn is_listed(r: &OrganisationRow) -> bool {
    r.kind == "partner" || matches!(r.membership_status.as_deref(), Some("active" | "grace"))
}

/// True when `viewer` may know that organisation `r` exists.
pub fn can_see(viewer: &Viewer, r: &OrganisationRow) -> bool {
    match viewer {
        Viewer::Staff => true,
        Viewer::Member(o) => o == &r.id || is_listed(r),
        Viewer::Public => !r.hidden_from_public && is_listed(r),
    }
}

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
    check_place(&mut errors, "", &n.country, &n.region);
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
pub fn new_row(n: &NewOrganisation, slug: String, today: NaiveDate) -> OrganisationRow {
    let now = Utc::now().naive_utc();
    let member = n.kind == OrganisationKind::Member;
    OrganisationRow {
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
        membership_status: member.then(|| "active".to_string()),
        membership_period_start: member.then_some(today),
        membership_period_end: None,
        visibility_profile: Visibility::Public.as_str().into(),
        visibility_contact: Visibility::Members.as_str().into(),
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
    let row = new_row(&n, slug, Utc::now().date_naive());
    insert(conn, actor, request_id, row)
}

/// Inserts a complete row with its tags and audit event.
pub fn insert(
    conn: &mut DbConn,
    actor: &Actor,
    request_id: Option<&str>,
    row: OrganisationRow,
) -> Result<OrganisationRow, ApiError> {
    write_tx(conn, |c| {
        match diesel::insert_into(organisations::table)
            .values(&row)
            .execute(c)
        {
            Ok(_) => {}
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Err(slug_taken(&row.slug));
            }
            Err(e) => return Err(e.into()),
        }
        sync_tags(c, &row)?;
        crate::webhooks::publish(
            c,
            crate::webhooks::WebhookEvent::OrganisationCreated(row.clone()),
        )?;
        audit::record(
            c,
            Event {
                actor,
                action: "organisation.created",
                entity_type: "organisation",
                entity_id: &row.id,
                before: None,
                after: audit::snapshot(&Organisation::from(row.clone())),
                request_id,
            },
        )?;
        Ok(row.clone())
    })
}

fn slug_taken(slug: &str) -> ApiError {
    ApiError::Conflict {
        code: "slug_taken",
        detail: format!("The slug {slug} is taken."),
    }
}

/// Rewrites the tag rows (focus areas, languages) of an organisation from its JSON lists.
pub fn sync_tags(conn: &mut DbConn, row: &OrganisationRow) -> QueryResult<()> {
    diesel::delete(organisation_tags::table.filter(organisation_tags::organisation_id.eq(&row.id)))
        .execute(conn)?;
    for (kind, list) in [
        ("focus_area", json_list(&row.focus_areas)),
        ("language", json_list(&row.languages)),
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
    Ok(())
}

/// Finds an organisation by id or slug, whoever asks.
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

/// An organisation as `viewer` may see it; 404 when it may not know it exists.
pub fn get(conn: &mut DbConn, viewer: &Viewer, id_or_slug: &str) -> Result<Organisation, ApiError> {
    let row = find(conn, id_or_slug)?;
    if !can_see(viewer, &row) {
        return Err(ApiError::NotFound);
    }
    let level = viewer.level_for(&row.id);
    Ok(Organisation::view(row, level))
}

/// Who may edit an organisation: admins, and member users of that organisation. Members of
/// other organisations get 404 (they are not told more); other staff and apps get 403.
fn may_edit(who: &Principal, org_id: &str) -> Result<bool, ApiError> {
    match who {
        Principal::User(u) if u.role == Role::Admin => Ok(true),
        Principal::User(u) if u.role == Role::Member => {
            if u.organisation_id.as_deref() == Some(org_id) {
                Ok(false)
            } else {
                Err(ApiError::NotFound)
            }
        }
        _ => Err(ApiError::Forbidden(
            "Only admins and the organisation's own members may do this.".into(),
        )),
    }
}

fn opt_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<String>,
    max: usize,
) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
    if v.chars().count() > max
        || v.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(FieldError::new(
            field,
            "invalid_length",
            format!("Use at most {max} printable characters."),
        ));
    }
    Some(v)
}

fn opt_url(errors: &mut Vec<FieldError>, field: &str, v: Option<String>) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
    if !valid_url(&v) {
        errors.push(FieldError::new(
            field,
            "invalid",
            "Use an absolute http:// or https:// URL of at most 500 characters.",
        ));
    }
    Some(v)
}

fn opt_email(errors: &mut Vec<FieldError>, field: &str, v: Option<String>) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
    match crate::identity::service::normalise_email(field, &v) {
        Ok(e) => Some(e),
        Err(_) => {
            errors.push(FieldError::new(
                field,
                "invalid",
                "Use a valid email address.",
            ));
            Some(v)
        }
    }
}

fn required<T>(errors: &mut Vec<FieldError>, field: &str, v: Option<T>) -> Option<T> {
    if v.is_none() {
        errors.push(FieldError::new(
            field,
            "required",
            format!("`{field}` cannot be cleared."),
        ));
    }
    v
}

fn protected(errors: &mut Vec<FieldError>, admin: bool, field: &str, changed: bool) {
    if !admin && changed {
        errors.push(FieldError::new(
            field,
            "not_allowed",
            format!("Only the secretariat may change `{field}`."),
        ));
    }
}

/// Applies a merge-patch to a row, collecting every field error. `admin` may change the
/// protected fields (kind, slug, joined_on, membership).
pub fn apply_patch(
    row: &mut OrganisationRow,
    p: OrganisationPatch,
    admin: bool,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    if let Some(v) = p.name
        && let Some(n) = required(&mut e, "name", v)
    {
        let n = n.trim().to_string();
        if !(2..=200).contains(&n.chars().count()) {
            e.push(FieldError::new(
                "name",
                "invalid_length",
                "The name needs 2 to 200 characters.",
            ));
        }
        row.name = n;
    }
    if let Some(v) = p.slug
        && let Some(s) = required(&mut e, "slug", v)
    {
        protected(&mut e, admin, "slug", s != row.slug);
        if !valid_slug(&s) {
            e.push(FieldError::new(
                "slug",
                "invalid",
                "A slug is 2-80 lower-case letters, digits and hyphens.",
            ));
        }
        row.slug = s;
    }
    if let Some(v) = p.acronym {
        row.acronym = opt_text(&mut e, "acronym", v, 20);
    }
    if let Some(v) = p.kind
        && let Some(k) = required(&mut e, "kind", v)
    {
        let k = wire_name(&k);
        protected(&mut e, admin, "kind", k != row.kind);
        if k != row.kind {
            // Membership is the standing of members only.
            if k == "partner" {
                row.membership_status = None;
            } else if row.membership_status.is_none() {
                row.membership_status = Some("active".into());
            }
        }
        row.kind = k;
    }
    if let Some(v) = p.partner_type {
        row.partner_type = v.map(|t| wire_name(&t));
    }
    if let Some(v) = p.country
        && let Some(c) = required(&mut e, "country", v)
    {
        row.country = c;
    }
    if let Some(v) = p.region
        && let Some(r) = required(&mut e, "region", v)
    {
        row.region = r;
    }
    if let Some(v) = p.joined_on
        && let Some(d) = required(&mut e, "joined_on", v)
    {
        protected(&mut e, admin, "joined_on", d != row.joined_on);
        row.joined_on = d;
    }
    if let Some(v) = p.hidden_from_public
        && let Some(h) = required(&mut e, "hidden_from_public", v)
    {
        row.hidden_from_public = h;
    }
    if let Some(v) = p.profile {
        let pp = v.unwrap_or(ProfilePatch {
            city: Some(None),
            website: Some(None),
            description: Some(None),
            focus_areas: Some(None),
            pillars: Some(None),
            languages: Some(None),
            founded_year: Some(None),
            public_email: Some(None),
            logo_url: Some(None),
            social_links: Some(None),
        });
        if let Some(v) = pp.city {
            row.city = opt_text(&mut e, "profile.city", v, 100);
        }
        if let Some(v) = pp.website {
            row.website = opt_url(&mut e, "profile.website", v);
        }
        if let Some(v) = pp.description {
            row.description = opt_text(&mut e, "profile.description", v, 5000);
        }
        if let Some(v) = pp.focus_areas {
            let list = check_codes(
                &mut e,
                "profile.focus_areas",
                &v.unwrap_or_default(),
                |c| codes::PRIORITY_AREAS.contains(&c),
                &format!("Use: {}.", codes::PRIORITY_AREAS.join(", ")),
            );
            row.focus_areas = to_json_list(&list);
        }
        if let Some(v) = pp.pillars {
            let list = check_codes(
                &mut e,
                "profile.pillars",
                &v.unwrap_or_default(),
                |c| codes::PILLARS.contains(&c),
                &format!("Use: {}.", codes::PILLARS.join(", ")),
            );
            row.pillars = to_json_list(&list);
        }
        if let Some(v) = pp.languages {
            let list = check_codes(
                &mut e,
                "profile.languages",
                &v.unwrap_or_default(),
                codes::is_language,
                "Use ISO 639-1 codes such as en, fr, es.",
            );
            row.languages = to_json_list(&list);
        }
        if let Some(v) = pp.founded_year {
            let max = Utc::now().year();
            if let Some(y) = v
                && !(1800..=max).contains(&y)
            {
                e.push(FieldError::new(
                    "profile.founded_year",
                    "out_of_range",
                    format!("Use a year from 1800 to {max}."),
                ));
            }
            row.founded_year = v;
        }
        if let Some(v) = pp.public_email {
            row.public_email = opt_email(&mut e, "profile.public_email", v);
        }
        if let Some(v) = pp.logo_url {
            row.logo_url = opt_url(&mut e, "profile.logo_url", v);
        }
        if let Some(v) = pp.social_links {
            let links = v.unwrap_or_default();
            if links.len() > 10 || links.iter().any(|l| !valid_url(l)) {
                e.push(FieldError::new(
                    "profile.social_links",
                    "invalid",
                    "Use at most 10 absolute http(s) URLs.",
                ));
            }
            row.social_links = to_json_list(&links);
        }
    }
    if let Some(v) = p.contact {
        let cp = v.unwrap_or(ContactPatch {
            name: Some(None),
            email: Some(None),
            phone: Some(None),
        });
        if let Some(v) = cp.name {
            row.contact_name = opt_text(&mut e, "contact.name", v, 120);
        }
        if let Some(v) = cp.email {
            row.contact_email = opt_email(&mut e, "contact.email", v);
        }
        if let Some(v) = cp.phone {
            let phone = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
            if let Some(ph) = &phone
                && (ph.chars().count() > 40
                    || !ph
                        .chars()
                        .all(|c| c.is_ascii_digit() || " +()-.".contains(c)))
            {
                e.push(FieldError::new(
                    "contact.phone",
                    "invalid",
                    "Use digits, spaces and + ( ) - . only, at most 40 characters.",
                ));
            }
            row.contact_phone = phone;
        }
    }
    if let Some(v) = p.visibility {
        let Some(vp) = v else {
            e.push(FieldError::new(
                "visibility",
                "required",
                "`visibility` cannot be cleared.",
            ));
            return e;
        };
        if let Some(v) = vp.profile
            && let Some(x) = required(&mut e, "visibility.profile", v)
        {
            row.visibility_profile = x.as_str().into();
        }
        if let Some(v) = vp.contact
            && let Some(x) = required(&mut e, "visibility.contact", v)
        {
            row.visibility_contact = x.as_str().into();
        }
    }
    if let Some(v) = p.membership {
        let Some(mp) = v else {
            e.push(FieldError::new(
                "membership",
                "required",
                "`membership` cannot be cleared.",
            ));
            return e;
        };
        if let Some(v) = mp.status {
            let s = v.map(|s| wire_name(&s));
            protected(
                &mut e,
                admin,
                "membership.status",
                s != row.membership_status,
            );
            row.membership_status = s;
        }
        if let Some(v) = mp.period_start {
            protected(
                &mut e,
                admin,
                "membership.period_start",
                v != row.membership_period_start,
            );
            row.membership_period_start = v;
        }
        if let Some(v) = mp.period_end {
            protected(
                &mut e,
                admin,
                "membership.period_end",
                v != row.membership_period_end,
            );
            row.membership_period_end = v;
        }
    }
    // Whole-row rules, checked on the result.
    check_place(&mut e, "", &row.country, &row.region);
    match (row.kind.as_str(), row.partner_type.is_some()) {
        ("member", true) => e.push(FieldError::new(
            "partner_type",
            "not_allowed",
            "Only partners have a partner type.",
        )),
        ("partner", false) => e.push(FieldError::new(
            "partner_type",
            "required",
            "A partner needs a partner type.",
        )),
        _ => {}
    }
    if row.kind == "member" && row.membership_status.is_none() {
        e.push(FieldError::new(
            "membership.status",
            "required",
            "A member has a membership status.",
        ));
    }
    if row.kind == "partner" && row.membership_status.is_some() {
        e.push(FieldError::new(
            "membership.status",
            "not_allowed",
            "Partners have no membership status.",
        ));
    }
    if let (Some(s), Some(end)) = (row.membership_period_start, row.membership_period_end)
        && end < s
    {
        e.push(FieldError::new(
            "membership.period_end",
            "invalid",
            "The period cannot end before it starts.",
        ));
    }
    e
}

/// Applies a merge-patch when `if_match` is the current version.
///
/// The version check and increment are one conditional UPDATE, so of two concurrent
/// PATCHes with the same `If-Match` exactly one succeeds on either backend; the other gets
/// 412 with the version it should have sent.
pub fn update(
    conn: &mut DbConn,
    who: &Principal,
    request_id: Option<&str>,
    id: &str,
    if_match: Option<i64>,
    patch: OrganisationPatch,
) -> Result<OrganisationRow, ApiError> {
    write_tx(conn, |c| {
        let before = organisations::table
            .find(id)
            .select(OrganisationRow::as_select())
            .first(c)
            .optional()?
            .ok_or(ApiError::NotFound)?;
        let admin = may_edit(who, &before.id)?;
        let expected = if_match.ok_or(ApiError::PreconditionRequired)?;
        if expected != before.version {
            return Err(ApiError::PreconditionFailed {
                current_version: before.version,
            });
        }
        let mut after = before.clone();
        let errors = apply_patch(&mut after, patch, admin);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        after.updated_at = Utc::now().naive_utc();
        let changes = OrganisationChanges::from(&after);
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
        after.version = expected + 1;
        if after.focus_areas != before.focus_areas || after.languages != before.languages {
            sync_tags(c, &after)?;
        }
        crate::webhooks::publish(
            c,
            crate::webhooks::WebhookEvent::organisation_changed(&before, &after),
        )?;
        audit::record(
            c,
            Event {
                actor: &who.actor(),
                action: "organisation.updated",
                entity_type: "organisation",
                entity_id: id,
                before: audit::snapshot(&Organisation::from(before.clone())),
                after: audit::snapshot(&Organisation::from(after.clone())),
                request_id,
            },
        )?;
        Ok(after)
    })
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The fields that differ between two snapshots, as dotted paths.
pub fn diff(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<FieldChange> {
    let (mut b, mut a) = (BTreeMap::new(), BTreeMap::new());
    if let Some(v) = before {
        flatten("", v, &mut b);
    }
    if let Some(v) = after {
        flatten("", v, &mut a);
    }
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    keys.into_iter()
        .filter(|k| !matches!(k.as_str(), "version" | "updated_at" | "created_at"))
        .filter_map(|k| {
            let (bv, av) = (
                b.get(k).cloned().unwrap_or(serde_json::Value::Null),
                a.get(k).cloned().unwrap_or(serde_json::Value::Null),
            );
            (bv != av).then(|| FieldChange {
                field: k.clone(),
                before: bv,
                after: av,
            })
        })
        .collect()
}

/// The audit history of an organisation, oldest first. Admins and the organisation's own
/// members only: members of other organisations get 404, other staff and apps 403.
pub fn history(
    conn: &mut DbConn,
    who: &Principal,
    id: &str,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<HistoryEntry>, ApiError> {
    let org = find(conn, id)?;
    may_edit(who, &org.id)?;
    let after = pagination::decode_cursor(cursor, 1)?;
    type Ev = (
        String,
        chrono::NaiveDateTime,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let base = audit_events::table
        .filter(audit_events::entity_type.eq("organisation"))
        .filter(audit_events::entity_id.eq(&org.id));
    let mut q = base
        .select((
            audit_events::id,
            audit_events::occurred_at,
            audit_events::action,
            audit_events::actor_kind,
            audit_events::actor_id,
            audit_events::before_json,
            audit_events::after_json,
        ))
        .order(audit_events::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(audit_events::id.gt(a[0].clone()));
    }
    let mut rows: Vec<Ev> = q.load(conn)?;
    let total: i64 = base.count().get_result(conn)?;
    let next_cursor = crate::identity::service::page_cursor(&mut rows, limit, |r| r.0.clone());
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
    let data = rows
        .into_iter()
        .map(|(id, at, action, kind, actor, b, a)| {
            let (b, a): (Option<serde_json::Value>, Option<serde_json::Value>) =
                (parse(&b), parse(&a));
            HistoryEntry {
                id,
                occurred_at: rfc3339(at),
                action,
                actor_kind: kind,
                actor_id: actor,
                changes: diff(b.as_ref(), a.as_ref()),
            }
        })
        .collect();
    Ok(pagination::Page {
        data,
        next_cursor,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_nested_fields_that_changed() {
        let b = serde_json::json!({"name": "A", "profile": {"city": "X", "languages": ["en"]}, "version": 1});
        let a = serde_json::json!({"name": "A", "profile": {"city": "Y", "languages": ["en"]}, "version": 2});
        let d = diff(Some(&b), Some(&a));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "profile.city");
        assert_eq!(d[0].before, "X");
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(valid_url("https://idpc.net/about"));
        assert!(!valid_url("javascript:alert(1)"));
        assert!(!valid_url("https:///x"));
        assert!(!valid_url("https://a b"));
    }
}

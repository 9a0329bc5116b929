//! Merge-patch of an organisation (RFC 7386): applies a patch to a row and collects every
//! field error, so one answer names them all. Pure: no database.

use super::descriptions;
use super::model::*;
use super::{
    check_codes, check_place, control_characters, has_id_form, id_form_error, valid_slug, valid_url,
};
use crate::codes;
use crate::directory::membership::MembershipStatus;
use crate::error::FieldError;

/// Optional text: trimmed, empty is cleared; single-line unless `max` allows a description
/// (over 1,000 characters), where tabs and line breaks may stay.
fn opt_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<String>,
    max: usize,
) -> Option<String> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())?;
    let before = errors.len();
    control_characters(errors, field, &v, max > 1000);
    if errors.len() == before && v.chars().count() > max {
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
    match crate::kit::normalise_email(field, &v) {
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
    mut p: OrganisationPatch,
    admin: bool,
    this_year: i32,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    let profile = p.profile.take();
    let contact = p.contact.take();
    let visibility = p.visibility.take();
    let membership = p.membership.take();
    apply_identity(&mut e, row, p, admin);
    if let Some(v) = profile {
        apply_profile(&mut e, row, v, this_year);
    }
    if let Some(v) = contact {
        apply_contact(&mut e, row, v);
    }
    // A cleared visibility or membership is reported alone: the rest would only repeat it.
    if let Some(v) = visibility
        && !apply_visibility(&mut e, row, v)
    {
        return e;
    }
    if let Some(v) = membership
        && !apply_membership(&mut e, row, v, admin)
    {
        return e;
    }
    check_whole_row(&mut e, row);
    e
}

/// The organisation's own fields: its names first, then its standing.
fn apply_identity(
    e: &mut Vec<FieldError>,
    row: &mut OrganisationRow,
    mut p: OrganisationPatch,
    admin: bool,
) {
    if let Some(v) = p.name.take()
        && let Some(n) = required(e, "name", v)
    {
        control_characters(e, "name", &n, false);
        crate::kit::invisible_characters(e, "name", &n);
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
    if let Some(v) = p.slug.take()
        && let Some(s) = required(e, "slug", v)
    {
        protected(e, admin, "slug", s != row.slug);
        if has_id_form(&s) {
            e.push(id_form_error());
        } else if !valid_slug(&s) {
            e.push(FieldError::new(
                "slug",
                "invalid",
                "A slug is 2-80 lower-case letters, digits and hyphens.",
            ));
        }
        row.slug = s;
    }
    if let Some(v) = p.acronym.take() {
        if let Some(a) = &v {
            crate::kit::invisible_characters(e, "acronym", a);
        }
        row.acronym = opt_text(e, "acronym", v, 20);
    }
    apply_standing(e, row, p, admin);
}

/// Kind, place, dates and identifiers; kind, slug and joined_on are the secretariat's.
fn apply_standing(
    e: &mut Vec<FieldError>,
    row: &mut OrganisationRow,
    p: OrganisationPatch,
    admin: bool,
) {
    if let Some(v) = p.kind
        && let Some(k) = required(e, "kind", v)
    {
        protected(e, admin, "kind", k != row.kind);
        if k != row.kind {
            // Membership is the standing of members only.
            match k {
                OrganisationKind::Partner => row.membership_status = None,
                OrganisationKind::Member => {
                    row.membership_status
                        .get_or_insert(MembershipStatus::Active);
                }
            }
        }
        row.kind = k;
    }
    if let Some(v) = p.partner_type {
        row.partner_type = v;
    }
    if let Some(v) = p.country
        && let Some(c) = required(e, "country", v)
    {
        row.country = c;
    }
    if let Some(v) = p.region
        && let Some(r) = required(e, "region", v)
    {
        row.region = r;
    }
    if let Some(v) = p.joined_on
        && let Some(d) = required(e, "joined_on", v)
    {
        protected(e, admin, "joined_on", d != row.joined_on);
        row.joined_on = d;
    }
    if let Some(v) = p.hidden_from_public
        && let Some(h) = required(e, "hidden_from_public", v)
    {
        row.hidden_from_public = h;
    }
    if let Some(v) = p.identifiers {
        let list = crate::directory::identifiers::check(e, &v.unwrap_or_default());
        row.identifiers = crate::directory::identifiers::to_stored(&list);
    }
}

/// The public profile; clearing it clears every field of it.
fn apply_profile(
    e: &mut Vec<FieldError>,
    row: &mut OrganisationRow,
    v: Option<ProfilePatch>,
    this_year: i32,
) {
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
        row.city = opt_text(e, "profile.city", v, 100);
    }
    if let Some(v) = pp.website {
        row.website = opt_url(e, "profile.website", v);
    }
    // A plain-text description is the first language's after this PATCH's languages.
    let texts = descriptions::decode(row.description.as_deref(), &row.languages);
    apply_profile_codes(e, row, pp.focus_areas, pp.pillars, pp.languages);
    let texts = match pp.description {
        Some(v) => descriptions::apply(e, texts, v, &row.languages, |e, field, text| {
            opt_text(e, field, text, 5000)
        }),
        None => texts,
    };
    row.description = descriptions::encode(&texts);
    if let Some(v) = pp.founded_year {
        let max = this_year;
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
        row.public_email = opt_email(e, "profile.public_email", v);
    }
    if let Some(v) = pp.logo_url {
        row.logo_url = opt_url(e, "profile.logo_url", v);
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

/// The profile's code lists: priority areas, pillars and languages.
fn apply_profile_codes(
    e: &mut Vec<FieldError>,
    row: &mut OrganisationRow,
    focus_areas: Option<Option<Vec<String>>>,
    pillars: Option<Option<Vec<String>>>,
    languages: Option<Option<Vec<String>>>,
) {
    if let Some(v) = focus_areas {
        let list = check_codes(
            e,
            "profile.focus_areas",
            &v.unwrap_or_default(),
            |c| codes::PRIORITY_AREAS.contains(&c),
            &format!("Use: {}.", codes::PRIORITY_AREAS.join(", ")),
        );
        row.focus_areas = to_json_list(&list);
    }
    if let Some(v) = pillars {
        let list = check_codes(
            e,
            "profile.pillars",
            &v.unwrap_or_default(),
            |c| codes::PILLARS.contains(&c),
            &format!("Use: {}.", codes::PILLARS.join(", ")),
        );
        row.pillars = to_json_list(&list);
    }
    if let Some(v) = languages {
        let list = check_codes(
            e,
            "profile.languages",
            &v.unwrap_or_default(),
            codes::is_language,
            "Use ISO 639-1 codes such as en, fr, es.",
        );
        row.languages = to_json_list(&list);
    }
}

/// The contact person; clearing it clears every field of it.
fn apply_contact(e: &mut Vec<FieldError>, row: &mut OrganisationRow, v: Option<ContactPatch>) {
    let cp = v.unwrap_or(ContactPatch {
        name: Some(None),
        email: Some(None),
        phone: Some(None),
    });
    if let Some(v) = cp.name {
        row.contact_name = opt_text(e, "contact.name", v, 120);
    }
    if let Some(v) = cp.email {
        row.contact_email = opt_email(e, "contact.email", v);
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

/// Who may see the profile and the contact; `false` when the patch clears it (not allowed).
fn apply_visibility(
    e: &mut Vec<FieldError>,
    row: &mut OrganisationRow,
    v: Option<VisibilityPatch>,
) -> bool {
    let Some(vp) = v else {
        e.push(FieldError::new(
            "visibility",
            "required",
            "`visibility` cannot be cleared.",
        ));
        return false;
    };
    if let Some(v) = vp.profile
        && let Some(x) = required(e, "visibility.profile", v)
    {
        row.visibility_profile = x;
    }
    if let Some(v) = vp.contact
        && let Some(x) = required(e, "visibility.contact", v)
    {
        row.visibility_contact = x;
    }
    true
}

/// The membership standing (secretariat only); `false` when the patch clears it (not allowed).
fn apply_membership(
    e: &mut Vec<FieldError>,
    row: &mut OrganisationRow,
    v: Option<MembershipPatch>,
    admin: bool,
) -> bool {
    let Some(mp) = v else {
        e.push(FieldError::new(
            "membership",
            "required",
            "`membership` cannot be cleared.",
        ));
        return false;
    };
    if let Some(s) = mp.status {
        protected(e, admin, "membership.status", s != row.membership_status);
        row.membership_status = s;
    }
    if let Some(v) = mp.period_start {
        protected(
            e,
            admin,
            "membership.period_start",
            v != row.membership_period_start,
        );
        row.membership_period_start = v;
    }
    if let Some(v) = mp.period_end {
        protected(
            e,
            admin,
            "membership.period_end",
            v != row.membership_period_end,
        );
        row.membership_period_end = v;
    }
    true
}

/// Whole-row rules, checked on the result.
fn check_whole_row(e: &mut Vec<FieldError>, row: &OrganisationRow) {
    check_place(e, "", &row.country, &row.region);
    match (row.kind, row.partner_type.is_some()) {
        (OrganisationKind::Member, true) => e.push(FieldError::new(
            "partner_type",
            "not_allowed",
            "Only partners have a partner type.",
        )),
        (OrganisationKind::Partner, false) => e.push(FieldError::new(
            "partner_type",
            "required",
            "A partner needs a partner type.",
        )),
        _ => {}
    }
    if row.kind == OrganisationKind::Member && row.membership_status.is_none() {
        e.push(FieldError::new(
            "membership.status",
            "required",
            "A member has a membership status.",
        ));
    }
    if row.kind == OrganisationKind::Partner && row.membership_status.is_some() {
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
}

//! Merge-patch of an organisation (RFC 7386): applies a patch to a row and collects every
//! field error, so one answer names them all. Pure: no database.

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
    p: OrganisationPatch,
    admin: bool,
    this_year: i32,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    if let Some(v) = p.name
        && let Some(n) = required(&mut e, "name", v)
    {
        control_characters(&mut e, "name", &n, false);
        crate::kit::invisible_characters(&mut e, "name", &n);
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
    if let Some(v) = p.acronym {
        if let Some(a) = &v {
            crate::kit::invisible_characters(&mut e, "acronym", a);
        }
        row.acronym = opt_text(&mut e, "acronym", v, 20);
    }
    if let Some(v) = p.kind
        && let Some(k) = required(&mut e, "kind", v)
    {
        protected(&mut e, admin, "kind", k != row.kind);
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
    if let Some(v) = p.identifiers {
        let list = crate::directory::identifiers::check(&mut e, &v.unwrap_or_default());
        row.identifiers = crate::directory::identifiers::to_stored(&list);
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
            row.visibility_profile = x;
        }
        if let Some(v) = vp.contact
            && let Some(x) = required(&mut e, "visibility.contact", v)
        {
            row.visibility_contact = x;
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
        if let Some(s) = mp.status {
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
    e
}

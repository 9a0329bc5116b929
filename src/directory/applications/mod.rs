//! Membership applications: anyone may apply; admins review, approve (which creates the
//! member organisation and invites its contact) or reject. Each step is emailed to the
//! applicant, and each is one conditional UPDATE on the expected status, so two admins
//! acting at once cannot both succeed.

pub mod model;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

pub use model::*;

use super::membership::{self, Change, MembershipStatus};
use super::organisation::{
    self, NewOrganisation, OrganisationKind, check_codes, check_place, control_characters,
    to_json_list, valid_url,
};
use crate::audit::Actor;
use crate::auth::caller::Admin;
use crate::auth::principal::{Principal, RequestMeta};
use crate::codes;
use crate::command::{self, Ctx, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{membership_applications, organisations};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::kit::normalise_email;
use crate::notify::matrix::{Event, Parties};
use crate::notify::{Kind, Recipient, links};
use crate::pagination;

/// To the applicant: the application arrived. It carries no text the applicant wrote
/// (beyond the contact's name in the greeting), so the form cannot send someone else a
/// message of the sender's choosing from the network's address.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationReceived {}
impl Message for ApplicationReceived {
    const KIND: Kind = Kind::ApplicationReceived;
}

/// To every active admin: an application arrived. The subject carries no applicant text;
/// the body quotes the organisation name as the applicant's words, defanged by [`defang`].
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationNotice {
    /// The applying organisation's name as written, defanged.
    pub organisation_name: String,
    /// The application in the admin interface.
    pub link: String,
}
impl Message for ApplicationNotice {
    const KIND: Kind = Kind::ApplicationNotice;
}

/// To the applicant: the application is being reviewed.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationUnderReview {
    /// The applying organisation.
    pub organisation_name: String,
}
impl Message for ApplicationUnderReview {
    const KIND: Kind = Kind::ApplicationUnderReview;
}

/// To the applicant: the application was approved.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationApproved {
    /// The new member organisation.
    pub organisation_name: String,
    /// The sign-in page (the invitation follows in its own email).
    pub link: String,
}
impl Message for ApplicationApproved {
    const KIND: Kind = Kind::ApplicationApproved;
}

/// To the applicant: the application was rejected.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationRejected {
    /// The applying organisation.
    pub organisation_name: String,
    /// Why, as the admin wrote it.
    pub reason: String,
}
impl Message for ApplicationRejected {
    const KIND: Kind = Kind::ApplicationRejected;
}

/// The parties of a change to an application: the applicant, who has no account yet.
fn applicant(r: &ApplicationRow) -> Parties {
    Parties {
        addressee: Some(Recipient {
            email: r.contact_email.clone(),
            name: r.contact_name.clone(),
            user_id: None,
            // The applicant chose no language yet; English until their account exists.
            lang: crate::i18n::Lang::EN,
        }),
        ..Parties::default()
    }
}

/// Validates an application, collecting every field error; returns the normalised email.
pub fn validate_application(a: &NewApplication) -> Result<(String, Vec<String>), ApiError> {
    let mut e: Vec<FieldError> = Vec::new();
    let o = &a.organisation;
    control_characters(&mut e, "organisation.name", &o.name, false);
    crate::kit::invisible_characters(&mut e, "organisation.name", &o.name);
    control_characters(&mut e, "contact.name", &a.contact.name, false);
    if let Some(d) = &o.description {
        control_characters(&mut e, "organisation.description", d, true);
    }
    control_characters(&mut e, "motivation", &a.motivation, true);
    // The name greets the applicant in every email: no links in it.
    if looks_like_link(&a.contact.name) {
        e.push(FieldError::new(
            "contact.name",
            "invalid",
            "A person's name cannot hold a web or email address.",
        ));
    }
    let focus = check_organisation(&mut e, o);
    let name = a.contact.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        e.push(FieldError::new(
            "contact.name",
            "invalid_length",
            "A name needs 1 to 120 printable characters.",
        ));
    }
    let email = match normalise_email("contact.email", &a.contact.email) {
        Ok(m) => m,
        Err(_) => {
            e.push(FieldError::new(
                "contact.email",
                "invalid",
                "Use a valid email address.",
            ));
            String::new()
        }
    };
    if !(10..=5000).contains(&a.motivation.trim().chars().count()) {
        e.push(FieldError::new(
            "motivation",
            "invalid_length",
            "Tell us in 10 to 5,000 characters why you want to join.",
        ));
    }
    if e.is_empty() {
        Ok((email, focus))
    } else {
        Err(ApiError::Validation(e))
    }
}

/// The applying organisation's name, place, website, description and focus areas; returns
/// the focus areas it names.
fn check_organisation(e: &mut Vec<FieldError>, o: &ApplicationOrganisation) -> Vec<String> {
    if !(2..=200).contains(&o.name.trim().chars().count()) {
        e.push(FieldError::new(
            "organisation.name",
            "invalid_length",
            "The name needs 2 to 200 characters.",
        ));
    }
    check_place(e, "organisation.", &o.country, &o.region);
    if let Some(w) = &o.website
        && !valid_url(w.trim())
    {
        e.push(FieldError::new(
            "organisation.website",
            "invalid",
            "Use an absolute http:// or https:// URL.",
        ));
    }
    if o.description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 5000)
    {
        e.push(FieldError::new(
            "organisation.description",
            "invalid_length",
            "Use at most 5,000 characters.",
        ));
    }
    check_codes(
        e,
        "organisation.focus_areas",
        &o.focus_areas,
        |c| codes::PRIORITY_AREAS.contains(&c),
        &format!("Use: {}.", codes::PRIORITY_AREAS.join(", ")),
    )
}

/// True when `s` holds something a mail client would turn into a link.
fn looks_like_link(s: &str) -> bool {
    let l = s.to_lowercase();
    l.contains("://") || l.contains("www.") || l.contains('@')
}

/// Applicant text made safe to quote in an email: no mail client turns it into a link.
/// Schemes become `hxxp[:]//`, a dot between two word characters becomes `[.]` and `@`
/// becomes `[at]` (the usual "defanged" notation), in the text and the HTML body alike;
/// the HTML body also shows it in `<code>` inside a quotation.
pub fn defang(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in chars.iter().enumerate() {
        let next_word = chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
        let prev_word = i > 0 && chars[i - 1].is_alphanumeric();
        match c {
            '.' if prev_word && next_word => out.push_str("[.]"),
            '@' => out.push_str("[at]"),
            ':' if chars.get(i + 1) == Some(&'/') => out.push_str("[:]"),
            _ => out.push(*c),
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        // Compared in place: a lower-cased copy may differ in length (`Ⱦ` is 2 bytes, `ⱦ` 3),
        // so its offsets are not this string's.
        if out
            .get(i..i + 4)
            .is_some_and(|w| w.eq_ignore_ascii_case("http"))
        {
            result.push_str(&out[i..i + 1]);
            result.push_str("xx");
            result.push_str(&out[i + 3..i + 4]);
            i += 4;
        } else if let Some(c) = out[i..].chars().next() {
            result.push(c);
            i += c.len_utf8();
        } else {
            break;
        }
    }
    result
}

/// 409 `duplicate_application` while an application of the same contact email or
/// organisation name (case-insensitively) is open; 429 past the per-email daily limit.
fn refuse_duplicates_and_floods(ctx: &mut Ctx<'_>, row: &ApplicationRow) -> Result<(), ApiError> {
    let open: Vec<(String, String)> = membership_applications::table
        .filter(membership_applications::status.eq_any(ApplicationStatus::OPEN.to_vec()))
        .select((
            membership_applications::organisation_name,
            membership_applications::contact_email,
        ))
        .load(ctx.conn)?;
    let name = row.organisation_name.to_lowercase();
    if open
        .iter()
        .any(|(n, e)| *e == row.contact_email || n.to_lowercase() == name)
    {
        return Err(ApiError::Conflict {
            code: ConflictCode::DuplicateApplication,
            detail: "An application for this organisation or this contact email is already \
                     waiting for a decision."
                .into(),
        });
    }
    let since = ctx.now - chrono::Duration::hours(24);
    let recent: Vec<chrono::NaiveDateTime> = membership_applications::table
        .filter(membership_applications::contact_email.eq(&row.contact_email))
        .filter(membership_applications::created_at.gt(since))
        .select(membership_applications::created_at)
        .order(membership_applications::created_at.asc())
        .load(ctx.conn)?;
    if recent.len() >= ctx.config.application_limit_per_email_per_day as usize {
        let retry = recent
            .first()
            .map(|t| (*t + chrono::Duration::hours(24) - ctx.now).num_seconds())
            .unwrap_or(3600)
            .max(1);
        return Err(ApiError::TooManyRequests(retry as u64));
    }
    Ok(())
}

/// Stores a public application and emails the applicant and every active admin.
pub fn submit(
    conn: &mut DbConn,
    config: &Config,
    meta: &RequestMeta,
    a: NewApplication,
) -> Result<ApplicationRow, ApiError> {
    let (email, focus) = validate_application(&a)?;
    let o = a.organisation;
    command::run(conn, config, &Actor::Anonymous, meta, |ctx| {
        let row = ApplicationRow {
            id: uuid::Uuid::now_v7().to_string(),
            status: ApplicationStatus::Submitted,
            organisation_name: o.name.trim().to_string(),
            country: o.country,
            region: o.region,
            website: o
                .website
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty()),
            description: o
                .description
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty()),
            focus_areas: to_json_list(&focus),
            contact_name: a.contact.name.trim().to_string(),
            contact_email: email,
            motivation: a.motivation.trim().to_string(),
            decision_reason: None,
            organisation_id: None,
            decided_by: None,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        refuse_duplicates_and_floods(ctx, &row)?;
        diesel::insert_into(membership_applications::table)
            .values(&row)
            .execute(ctx.conn)?;
        let parties = applicant(&row);
        ctx.tell(
            Event::ApplicationSubmitted,
            &parties,
            &ApplicationReceived {},
        )?;
        let notice = ApplicationNotice {
            organisation_name: defang(&row.organisation_name),
            link: links::application(ctx.config, &row.id),
        };
        ctx.tell(Event::ApplicationSubmitted, &parties, &notice)?;
        ctx.audit::<Application>("submitted", None, Some(&row.clone().into()))?;
        Ok(row)
    })
}

/// One application (admin).
pub fn get_application(
    conn: &mut DbConn,
    _admin: &Admin,
    id: &str,
) -> Result<ApplicationRow, ApiError> {
    load(conn, id)
}

fn load(conn: &mut DbConn, id: &str) -> Result<ApplicationRow, ApiError> {
    membership_applications::table
        .find(id)
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ApiError::NotFound)
}

/// Applications, oldest first, optionally of one status (admin).
pub fn list_applications(
    conn: &mut DbConn,
    _admin: &Admin,
    status: Option<ApplicationStatus>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<Application>, ApiError> {
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = membership_applications::table
        .select(ApplicationRow::as_select())
        .order(membership_applications::id.asc())
        .limit(limit + 1)
        .into_boxed();
    let mut count = membership_applications::table.count().into_boxed();
    if let Some(s) = status {
        q = q.filter(membership_applications::status.eq(s));
        count = count.filter(membership_applications::status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(membership_applications::id.gt(a[0].clone()));
    }
    let mut rows: Vec<ApplicationRow> = q.load(conn)?;
    let total: i64 = count.get_result(conn)?;
    let next_cursor = pagination::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(pagination::Page {
        data: rows.into_iter().map(Application::from).collect(),
        next_cursor,
        total,
    })
}

/// Applies decision `d` to application `id` inside a command: the transition, the
/// conditional UPDATE on the `from` status, and the audit event. 409 when the application
/// is in another status (including when a concurrent decision got there first).
fn decide(
    ctx: &mut Ctx<'_>,
    admin: &Admin,
    id: &str,
    d: Decision,
    reason: Option<&str>,
    organisation_id: Option<&str>,
) -> Result<ApplicationRow, ApiError> {
    let before = load(ctx.conn, id)?;
    let to = transition(before.status, d)?;
    let n = diesel::update(
        membership_applications::table
            .filter(membership_applications::id.eq(id))
            .filter(membership_applications::status.eq(before.status)),
    )
    .set((
        membership_applications::status.eq(to),
        membership_applications::decision_reason.eq(reason),
        membership_applications::decided_by.eq(&admin.id),
        membership_applications::organisation_id.eq(organisation_id),
        membership_applications::updated_at.eq(ctx.now),
    ))
    .execute(ctx.conn)?;
    if n == 0 {
        let now = load(ctx.conn, id)?;
        return Err(transition(now.status, d)
            .err()
            .map(ApiError::from)
            .unwrap_or(ApiError::Conflict {
                code: ConflictCode::ConcurrentUpdate,
                detail: "The application changed meanwhile; reload and retry.".into(),
            }));
    }
    let after = load(ctx.conn, id)?;
    ctx.audit::<Application>(d.verb(), Some(&before.into()), Some(&after.clone().into()))?;
    Ok(after)
}

/// submitted → under_review, emailing the applicant.
pub fn start_review(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
) -> Result<ApplicationRow, ApiError> {
    command::run(conn, config, admin, meta, |ctx| {
        let after = decide(ctx, admin, id, Decision::Review, None, None)?;
        ctx.tell(
            Event::ApplicationUnderReview,
            &applicant(&after),
            &ApplicationUnderReview {
                organisation_name: after.organisation_name.clone(),
            },
        )?;
        Ok(after)
    })
}

/// A slug for a new organisation that no other organisation has.
fn free_slug(c: &mut DbConn, name: &str) -> Result<String, ApiError> {
    let mut base = organisation::slugify(name);
    if base.len() < 2 {
        base = "member".into();
    }
    base.truncate(70);
    let mut base = base.trim_end_matches('-').to_string();
    // A name written like an id (a UUID, perhaps another organisation's) would make a slug
    // that `/organisations/{id_or_slug}` reads as that id: a slug never has an id's form.
    if organisation::has_id_form(&base) {
        base = format!("org-{base}");
    }
    for n in 1..=50 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let taken: i64 = organisations::table
            .filter(organisations::slug.eq(&candidate))
            .count()
            .get_result(c)?;
        if taken == 0 {
            return Ok(candidate);
        }
    }
    Err(ApiError::Conflict {
        code: ConflictCode::SlugTaken,
        detail: "No free slug for this name; create the organisation by hand.".into(),
    })
}

/// submitted or under_review → approved: creates the member organisation (active for a year
/// from today) and invites the contact as its first member user. All in one transaction.
pub fn approve(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
    today: NaiveDate,
) -> Result<ApplicationRow, ApiError> {
    command::run(conn, config, admin, meta, |ctx| {
        let before = load(ctx.conn, id)?;
        // Refuse before creating anything.
        transition(before.status, Decision::Approve)?;
        let slug = free_slug(ctx.conn, &before.organisation_name)?;
        let new = NewOrganisation {
            name: before.organisation_name.clone(),
            slug: Some(slug.clone()),
            kind: OrganisationKind::Member,
            partner_type: None,
            country: before.country.clone(),
            region: before.region.clone(),
            identifiers: Vec::new(),
        };
        let mut row = organisation::new_row(&new, slug, today.and_time(ctx.now.time()));
        let admitted = membership::transition(
            MembershipStatus::Applicant,
            Change::Admit,
            &membership::Facts {
                today,
                period_start: None,
                period_end: None,
            },
        )?;
        row.membership_status = Some(admitted.to);
        row.membership_period_start = admitted.period_start;
        row.membership_period_end = admitted.period_end;
        row.website = before.website.clone();
        row.description = before.description.clone();
        row.focus_areas = before.focus_areas.clone();
        row.contact_name = Some(before.contact_name.clone());
        row.contact_email = Some(before.contact_email.clone());
        let org = organisation::insert_in(ctx, row)?;
        let after = decide(ctx, admin, id, Decision::Approve, None, Some(&org.id))?;
        ctx.tell(
            Event::ApplicationApproved,
            &applicant(&after),
            &ApplicationApproved {
                organisation_name: after.organisation_name.clone(),
                link: links::sign_in(ctx.config),
            },
        )?;
        let inviter = crate::identity::display_name_or_secretariat(
            ctx.conn,
            &Principal::User(admin.user().clone()),
        )?;
        let actor = ctx.actor.clone();
        crate::identity::invite_member(
            ctx.conn,
            ctx.config,
            &actor,
            ctx.request_id.as_deref(),
            &inviter,
            &after.contact_email,
            &after.contact_name,
            &org.id,
        )?;
        Ok(after)
    })
}

/// submitted or under_review → rejected, emailing the applicant the reason.
pub fn reject(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
    req: RejectApplication,
) -> Result<ApplicationRow, ApiError> {
    let reason = req.reason.trim().to_string();
    let mut e = Vec::new();
    control_characters(&mut e, "reason", &reason, true);
    crate::error::no_field_errors(e)?;
    if !(1..=2000).contains(&reason.chars().count()) {
        return Err(ApiError::field(
            "reason",
            "invalid_length",
            "Give a reason of 1 to 2,000 characters.",
        ));
    }
    command::run(conn, config, admin, meta, |ctx| {
        let after = decide(ctx, admin, id, Decision::Reject, Some(&reason), None)?;
        ctx.tell(
            Event::ApplicationRejected,
            &applicant(&after),
            &ApplicationRejected {
                organisation_name: after.organisation_name.clone(),
                reason: reason.clone(),
            },
        )?;
        Ok(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applicant_text_is_defanged_so_no_mail_client_links_it() {
        assert_eq!(
            defang("Click https://evil.example/login now"),
            "Click hxxps[:]//evil[.]example/login now"
        );
        assert_eq!(defang("HTTP://X.ORG"), "HxxP[:]//X[.]ORG");
        assert_eq!(defang("write to a@b.org"), "write to a[at]b[.]org");
        assert_eq!(defang("Red Cross. Bogotá"), "Red Cross. Bogotá");
    }

    #[test]
    fn defanging_text_whose_lower_case_is_longer_does_not_panic() {
        // `Ⱦ` (2 bytes) lower-cases to `ⱦ` (3 bytes); schemathesis found the panic.
        assert_eq!(defang("ĕĳ8Ⱦarl http://x"), "ĕĳ8Ⱦarl hxxp[:]//x");
    }
}

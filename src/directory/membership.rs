//! Membership: applications (submitted → under_review → approved / rejected, each step
//! emailed to the applicant) and the secretariat's decisions on a member's standing
//! (suspend, reinstate, withdraw, renew). Every state change is one conditional UPDATE on
//! the expected status, so two admins acting at once cannot both succeed.

use chrono::{Months, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::model::*;
use super::service::{self, check_codes, check_place, valid_url};
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::codes;
use crate::config::Config;
use crate::db::schema::{membership_applications, organisations, users};
use crate::db::{DbConn, write_tx};
use crate::error::{ApiError, FieldError};
use crate::identity::service::normalise_email;
use crate::notify::{self, Kind, Recipient};
use crate::pagination;

/// A membership period lasts a year from its start (or from the previous end on renewal).
pub const PERIOD_MONTHS: u32 = 12;

fn now() -> chrono::NaiveDateTime {
    Utc::now().naive_utc()
}

fn applicant(r: &ApplicationRow) -> Recipient {
    Recipient {
        email: r.contact_email.clone(),
        name: r.contact_name.clone(),
    }
}

/// Active admins: who hears about new applications.
pub fn active_admins(conn: &mut DbConn) -> QueryResult<Vec<Recipient>> {
    let rows: Vec<(String, String)> = users::table
        .filter(users::role.eq("admin"))
        .filter(users::status.eq("active"))
        .select((users::email, users::display_name))
        .order(users::id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(email, name)| Recipient { email, name })
        .collect())
}

/// Validates an application, collecting every field error; returns the normalised email.
pub fn validate_application(a: &NewApplication) -> Result<(String, Vec<String>), ApiError> {
    let mut e: Vec<FieldError> = Vec::new();
    let o = &a.organisation;
    if !(2..=200).contains(&o.name.trim().chars().count()) {
        e.push(FieldError::new(
            "organisation.name",
            "invalid_length",
            "The name needs 2 to 200 characters.",
        ));
    }
    check_place(&mut e, "organisation.", &o.country, &o.region);
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
    let focus = check_codes(
        &mut e,
        "organisation.focus_areas",
        &o.focus_areas,
        |c| codes::PRIORITY_AREAS.contains(&c),
        &format!("Use: {}.", codes::PRIORITY_AREAS.join(", ")),
    );
    let name = a.contact.name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
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

/// Stores a public application and emails the applicant and every active admin.
pub fn submit(
    conn: &mut DbConn,
    config: &Config,
    meta: &RequestMeta,
    a: NewApplication,
) -> Result<ApplicationRow, ApiError> {
    let (email, focus) = validate_application(&a)?;
    let o = a.organisation;
    let row = ApplicationRow {
        id: uuid::Uuid::now_v7().to_string(),
        status: "submitted".into(),
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
        created_at: now(),
        updated_at: now(),
    };
    write_tx(conn, |c| {
        diesel::insert_into(membership_applications::table)
            .values(&row)
            .execute(c)?;
        notify::enqueue(
            c,
            config,
            Kind::ApplicationReceived,
            &applicant(&row),
            json!({"organisation_name": row.organisation_name}),
            None,
        )?;
        let link = format!(
            "{}/admin/membership-applications/{}",
            config.public_base_url, row.id
        );
        for admin in active_admins(c)? {
            notify::enqueue(
                c,
                config,
                Kind::ApplicationNotice,
                &admin,
                json!({"organisation_name": row.organisation_name, "link": link}),
                None,
            )?;
        }
        audit::record(
            c,
            Event {
                actor: &Actor::Anonymous,
                action: "membership_application.submitted",
                entity_type: "membership_application",
                entity_id: &row.id,
                before: None,
                after: audit::snapshot(&Application::from(row.clone())),
                request_id: meta.request_id.as_deref(),
            },
        )?;
        Ok(row.clone())
    })
}

/// One application (admin).
pub fn get_application(conn: &mut DbConn, id: &str) -> Result<ApplicationRow, ApiError> {
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
        let s = codes::wire_name(&s);
        q = q.filter(membership_applications::status.eq(s.clone()));
        count = count.filter(membership_applications::status.eq(s));
    }
    if let Some(a) = after {
        q = q.filter(membership_applications::id.gt(a[0].clone()));
    }
    let mut rows: Vec<ApplicationRow> = q.load(conn)?;
    let total: i64 = count.get_result(conn)?;
    let next_cursor = crate::identity::service::page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(pagination::Page {
        data: rows.into_iter().map(Application::from).collect(),
        next_cursor,
        total,
    })
}

/// Moves an application from one of `from` to `to` in one conditional UPDATE; 409 when it
/// is in another status (including when a concurrent decision got there first).
fn transition(
    c: &mut DbConn,
    id: &str,
    from: &[&str],
    to: &str,
    set_reason: Option<&str>,
    decided_by: Option<&str>,
    organisation_id: Option<&str>,
) -> Result<ApplicationRow, ApiError> {
    let before = get_application(c, id)?;
    let n = diesel::update(
        membership_applications::table
            .filter(membership_applications::id.eq(id))
            .filter(membership_applications::status.eq_any(from.to_vec())),
    )
    .set((
        membership_applications::status.eq(to),
        membership_applications::decision_reason.eq(set_reason),
        membership_applications::decided_by.eq(decided_by),
        membership_applications::organisation_id.eq(organisation_id),
        membership_applications::updated_at.eq(now()),
    ))
    .execute(c)?;
    if n == 0 {
        return Err(ApiError::Conflict {
            code: "invalid_transition",
            detail: format!(
                "The application is {}; it cannot become {to}.",
                before.status
            ),
        });
    }
    get_application(c, id)
}

fn record_application(
    c: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    action: &str,
    before: &ApplicationRow,
    after: &ApplicationRow,
) -> QueryResult<()> {
    audit::record(
        c,
        Event {
            actor: &who.actor(),
            action,
            entity_type: "membership_application",
            entity_id: &after.id,
            before: audit::snapshot(&Application::from(before.clone())),
            after: audit::snapshot(&Application::from(after.clone())),
            request_id: meta.request_id.as_deref(),
        },
    )
}

/// submitted → under_review, emailing the applicant.
pub fn start_review(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
) -> Result<ApplicationRow, ApiError> {
    let admin = who.user().map(|u| u.id.clone());
    write_tx(conn, |c| {
        let before = get_application(c, id)?;
        let after = transition(
            c,
            id,
            &["submitted"],
            "under_review",
            None,
            admin.as_deref(),
            None,
        )?;
        notify::enqueue(
            c,
            config,
            Kind::ApplicationUnderReview,
            &applicant(&after),
            json!({"organisation_name": after.organisation_name}),
            None,
        )?;
        record_application(
            c,
            who,
            meta,
            "membership_application.review_started",
            &before,
            &after,
        )?;
        Ok(after)
    })
}

/// A slug for a new organisation that no other organisation has.
fn free_slug(c: &mut DbConn, name: &str) -> Result<String, ApiError> {
    let mut base = service::slugify(name);
    if base.len() < 2 {
        base = "member".into();
    }
    base.truncate(70);
    let base = base.trim_end_matches('-').to_string();
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
        code: "slug_taken",
        detail: "No free slug for this name; create the organisation by hand.".into(),
    })
}

/// submitted or under_review → approved: creates the member organisation (active for a year
/// from today) and invites the contact as its first member user. All in one transaction.
pub fn approve(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    today: NaiveDate,
) -> Result<ApplicationRow, ApiError> {
    let admin = who.user().map(|u| u.id.clone());
    write_tx(conn, |c| {
        let before = get_application(c, id)?;
        if !matches!(before.status.as_str(), "submitted" | "under_review") {
            return Err(ApiError::Conflict {
                code: "invalid_transition",
                detail: format!(
                    "The application is {}; it cannot be approved.",
                    before.status
                ),
            });
        }
        let slug = free_slug(c, &before.organisation_name)?;
        let new = NewOrganisation {
            name: before.organisation_name.clone(),
            slug: Some(slug.clone()),
            kind: OrganisationKind::Member,
            partner_type: None,
            country: before.country.clone(),
            region: before.region.clone(),
        };
        let mut row = service::new_row(&new, slug, today);
        row.website = before.website.clone();
        row.description = before.description.clone();
        row.focus_areas = before.focus_areas.clone();
        row.contact_name = Some(before.contact_name.clone());
        row.contact_email = Some(before.contact_email.clone());
        row.membership_period_end = today.checked_add_months(Months::new(PERIOD_MONTHS));
        let org = service::insert(c, &who.actor(), meta.request_id.as_deref(), row)?;
        let after = transition(
            c,
            id,
            &["submitted", "under_review"],
            "approved",
            None,
            admin.as_deref(),
            Some(&org.id),
        )?;
        notify::enqueue(
            c,
            config,
            Kind::ApplicationApproved,
            &applicant(&after),
            json!({"organisation_name": after.organisation_name}),
            None,
        )?;
        let inviter = crate::identity::service::display_name_or_secretariat(c, who);
        crate::identity::service::invite_member(
            c,
            config,
            &who.actor(),
            meta.request_id.as_deref(),
            &inviter,
            &after.contact_email,
            &after.contact_name,
            &org.id,
        )?;
        record_application(
            c,
            who,
            meta,
            "membership_application.approved",
            &before,
            &after,
        )?;
        Ok(after)
    })
}

/// submitted or under_review → rejected, emailing the applicant the reason.
pub fn reject(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    req: RejectApplication,
) -> Result<ApplicationRow, ApiError> {
    let reason = req.reason.trim().to_string();
    if !(1..=2000).contains(&reason.chars().count()) {
        return Err(ApiError::field(
            "reason",
            "invalid_length",
            "Give a reason of 1 to 2,000 characters.",
        ));
    }
    let admin = who.user().map(|u| u.id.clone());
    write_tx(conn, |c| {
        let before = get_application(c, id)?;
        let after = transition(
            c,
            id,
            &["submitted", "under_review"],
            "rejected",
            Some(&reason),
            admin.as_deref(),
            None,
        )?;
        notify::enqueue(
            c,
            config,
            Kind::ApplicationRejected,
            &applicant(&after),
            json!({"organisation_name": after.organisation_name, "reason": reason}),
            None,
        )?;
        record_application(
            c,
            who,
            meta,
            "membership_application.rejected",
            &before,
            &after,
        )?;
        Ok(after)
    })
}

/// The standing after a decision, or `None` when the decision does not apply to `from`.
pub fn next_status(action: MembershipAction, from: &str) -> Option<&'static str> {
    match (action, from) {
        (MembershipAction::Suspend, "active" | "grace") => Some("suspended"),
        (MembershipAction::Reinstate, "suspended") => Some("active"),
        (MembershipAction::Withdraw, "active" | "grace" | "lapsed" | "suspended") => {
            Some("withdrawn")
        }
        (MembershipAction::Renew, "active" | "grace" | "lapsed") => Some("active"),
        _ => None,
    }
}

/// Applies a secretariat decision to a member's standing (admin; checked by the handler).
///
/// Renewal extends the period by a year from its end (or from today once lapsed or when the
/// period was open-ended), so the reminder keys, which carry the period end, start afresh.
pub fn decide(
    conn: &mut DbConn,
    who: &Principal,
    meta: &RequestMeta,
    id: &str,
    cmd: MembershipCommand,
    today: NaiveDate,
) -> Result<OrganisationRow, ApiError> {
    let reason = cmd
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(ApiError::field(
            "reason",
            "invalid_length",
            "Use at most 2,000 characters.",
        ));
    }
    if matches!(
        cmd.action,
        MembershipAction::Suspend | MembershipAction::Withdraw
    ) && reason.is_none()
    {
        return Err(ApiError::field(
            "reason",
            "required",
            "Suspending or withdrawing a membership needs a reason.",
        ));
    }
    write_tx(conn, |c| {
        let before = service::find(c, id)?;
        let Some(from) = before.membership_status.clone() else {
            return Err(ApiError::Conflict {
                code: "not_a_member",
                detail: "Partners have no membership.".into(),
            });
        };
        let Some(to) = next_status(cmd.action, &from) else {
            return Err(ApiError::Conflict {
                code: "invalid_transition",
                detail: format!(
                    "A {from} membership cannot be {}.",
                    codes::wire_name(&cmd.action)
                ),
            });
        };
        let mut after = before.clone();
        after.membership_status = Some(to.to_string());
        if cmd.action == MembershipAction::Renew {
            let start_from = match (from.as_str(), before.membership_period_end) {
                ("lapsed", _) | (_, None) => today,
                (_, Some(end)) => end,
            };
            if from == "lapsed" || before.membership_period_end.is_none() {
                after.membership_period_start = Some(today);
            }
            after.membership_period_end = start_from.checked_add_months(Months::new(PERIOD_MONTHS));
        }
        after.updated_at = now();
        let n = diesel::update(
            organisations::table
                .filter(organisations::id.eq(&before.id))
                .filter(organisations::membership_status.eq(&from)),
        )
        .set((
            organisations::membership_status.eq(&after.membership_status),
            organisations::membership_period_start.eq(after.membership_period_start),
            organisations::membership_period_end.eq(after.membership_period_end),
            organisations::updated_at.eq(after.updated_at),
            organisations::version.eq(organisations::version + 1),
        ))
        .execute(c)?;
        if n == 0 {
            return Err(ApiError::Conflict {
                code: "concurrent_update",
                detail: "The membership changed meanwhile; reload and retry.".into(),
            });
        }
        after.version = before.version + 1;
        crate::webhooks::publish(
            c,
            crate::webhooks::WebhookEvent::MembershipChanged(after.clone()),
        )?;
        let mut after_snap = audit::snapshot(&Organisation::from(after.clone()));
        if let (Some(serde_json::Value::Object(m)), Some(r)) = (&mut after_snap, &reason) {
            m.insert("membership_reason".into(), json!(r));
        }
        audit::record(
            c,
            Event {
                actor: &who.actor(),
                action: match cmd.action {
                    MembershipAction::Suspend => "membership.suspended",
                    MembershipAction::Reinstate => "membership.reinstated",
                    MembershipAction::Withdraw => "membership.withdrawn",
                    MembershipAction::Renew => "membership.renewed",
                },
                entity_type: "organisation",
                entity_id: &before.id,
                before: audit::snapshot(&Organisation::from(before.clone())),
                after: after_snap,
                request_id: meta.request_id.as_deref(),
            },
        )?;
        Ok(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_apply_only_from_their_states() {
        use MembershipAction::*;
        assert_eq!(next_status(Suspend, "active"), Some("suspended"));
        assert_eq!(next_status(Suspend, "lapsed"), None);
        assert_eq!(next_status(Reinstate, "suspended"), Some("active"));
        assert_eq!(next_status(Reinstate, "active"), None);
        assert_eq!(next_status(Withdraw, "withdrawn"), None);
        assert_eq!(next_status(Renew, "lapsed"), Some("active"));
        assert_eq!(next_status(Renew, "suspended"), None);
    }
}

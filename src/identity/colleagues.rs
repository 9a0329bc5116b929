//! An organisation's colleagues: its primary contact (one member user) invites colleagues
//! into its own organisation and hands the role over to one of them. Admins do both for any
//! organisation. A member who is not the contact, or of another organisation, may do neither.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::*;
use super::support::{check_display_name, first, user_by_id};
use super::users::invite_member_in;
use crate::auth::caller::OrgMember;
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role, UserStatus};
use crate::command::{self, Audited, Ctx};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{organisation_primary_contacts as contacts, organisations};
use crate::error::{ApiError, FieldError};
use crate::kit::{normalise_email, rfc3339};

/// Who an organisation's primary contact is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PrimaryContact {
    /// The organisation.
    pub organisation_id: String,
    /// The member user who is its primary contact.
    pub user_id: String,
    /// When the role was last handed over (RFC 3339).
    pub updated_at: String,
}

impl Audited for PrimaryContact {
    const ENTITY: &'static str = "organisation_primary_contact";
    fn entity_id(&self) -> &str {
        &self.organisation_id
    }
}

/// Hands the primary-contact role to a colleague.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandOver {
    /// An active or invited member user of the same organisation.
    pub user_id: String,
}

/// The primary contact of organisation `org_id`, if it has one.
pub fn contact_of(conn: &mut DbConn, org_id: &str) -> QueryResult<Option<String>> {
    contacts::table
        .find(org_id)
        .select(contacts::user_id)
        .first(conn)
        .optional()
}

/// Makes `user_id` the primary contact of `org_id` when it has none (the first member user
/// an approved application brings in).
pub fn claim_if_vacant(ctx: &mut Ctx<'_>, org_id: &str, user_id: &str) -> Result<(), ApiError> {
    if contact_of(ctx.conn, org_id)?.is_none() {
        set_contact(ctx, org_id, user_id, None)?;
    }
    Ok(())
}

fn set_contact(
    ctx: &mut Ctx<'_>,
    org_id: &str,
    user_id: &str,
    before: Option<PrimaryContact>,
) -> Result<PrimaryContact, ApiError> {
    diesel::delete(contacts::table.find(org_id)).execute(ctx.conn)?;
    diesel::insert_into(contacts::table)
        .values((
            contacts::organisation_id.eq(org_id),
            contacts::user_id.eq(user_id),
            contacts::updated_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
    let after = PrimaryContact {
        organisation_id: org_id.to_string(),
        user_id: user_id.to_string(),
        updated_at: rfc3339(ctx.now),
    };
    ctx.audit("primary_contact_set", before.as_ref(), Some(&after))?;
    Ok(after)
}

/// Ok when `who` may act for the colleagues of `org_id`: an admin, or the organisation's
/// primary contact (in good standing). Another organisation's member gets 404, as for an
/// unknown one; a colleague who is not the contact, 403.
fn require_contact(conn: &mut DbConn, who: &Principal, org_id: &str) -> Result<(), ApiError> {
    let exists: i64 = organisations::table
        .filter(organisations::id.eq(org_id))
        .count()
        .get_result(conn)?;
    if who.user().is_some_and(|u| u.role == Role::Admin) {
        return if exists == 1 {
            Ok(())
        } else {
            Err(ApiError::NotFound)
        };
    }
    let member = OrgMember::try_from(who)?;
    if member.organisation_id != org_id {
        return Err(ApiError::NotFound);
    }
    if contact_of(conn, org_id)?.as_deref() != Some(member.id.as_str()) {
        return Err(ApiError::Forbidden(
            "Only your organisation's primary contact may invite colleagues or hand the role \
             over."
                .into(),
        ));
    }
    member.require_in_good_standing(conn)
}

/// The primary contact `member` invites a colleague into its own organisation: a member
/// role only (403 otherwise), and `organisation_id` left out or its own (another is 404).
pub fn invite_colleague(
    conn: &mut DbConn,
    config: &Config,
    member: &OrgMember,
    meta: &RequestMeta,
    req: NewUser,
) -> Result<UserRow, ApiError> {
    if req.role != Role::Member {
        return Err(ApiError::Forbidden(
            "A primary contact invites colleagues as members; the secretariat gives other roles."
                .into(),
        ));
    }
    let org = req
        .organisation_id
        .clone()
        .unwrap_or_else(|| member.organisation_id.clone());
    let mut errors: Vec<FieldError> = Vec::new();
    let email = normalise_email("email", &req.email).map_err(|e| errors.push(first(e)));
    let name =
        check_display_name("display_name", &req.display_name).map_err(|e| errors.push(first(e)));
    let (Ok(_), Ok(_)) = (email, name) else {
        return Err(ApiError::Validation(errors));
    };
    let who = Principal::User(member.user().clone());
    command::run(conn, config, member, meta, |ctx| {
        require_contact(ctx.conn, &who, &org)?;
        let inviter = super::users::display_name_or_secretariat(ctx.conn, &who)?;
        invite_member_in(ctx, &inviter, &req.email, &req.display_name, &org)
    })
}

/// Hands the primary-contact role of `org_id` to a colleague (by its contact or an admin).
pub fn hand_over(
    conn: &mut DbConn,
    config: &Config,
    who: &Principal,
    meta: &RequestMeta,
    org_id: &str,
    req: HandOver,
) -> Result<PrimaryContact, ApiError> {
    command::run(conn, config, who, meta, |ctx| {
        require_contact(ctx.conn, who, org_id)?;
        let not_a_colleague = || {
            ApiError::field(
                "user_id",
                "not_a_colleague",
                "The new primary contact must be an active or invited member user of this \
                 organisation.",
            )
        };
        let target = user_by_id(ctx.conn, &req.user_id).map_err(|_| not_a_colleague())?;
        if target.role != Role::Member
            || target.organisation_id.as_deref() != Some(org_id)
            || target.status == UserStatus::Disabled
        {
            return Err(not_a_colleague());
        }
        let before: Option<(String, chrono::NaiveDateTime)> = contacts::table
            .find(org_id)
            .select((contacts::user_id, contacts::updated_at))
            .first(ctx.conn)
            .optional()?;
        let before = before.map(|(user_id, at)| PrimaryContact {
            organisation_id: org_id.to_string(),
            user_id,
            updated_at: rfc3339(at),
        });
        set_contact(ctx, org_id, &target.id, before)
    })
}

/// One colleague as its organisation's page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Colleague {
    /// The user.
    pub id: String,
    /// Name shown.
    pub display_name: String,
    /// Sign-in email.
    pub email: String,
    /// invited, active or disabled.
    pub status: String,
    /// Whether this colleague is the organisation's primary contact.
    pub primary_contact: bool,
}

/// The member users of `org_id` (its own members and admins may see them; another
/// organisation's member gets 404), with whether the viewer may invite and hand over.
pub fn list(
    conn: &mut DbConn,
    who: &Principal,
    org_id: &str,
) -> Result<(Vec<Colleague>, bool), ApiError> {
    let may_act = match require_contact(conn, who, org_id) {
        Ok(()) => true,
        Err(ApiError::Forbidden(_)) => false,
        Err(e) => return Err(e),
    };
    let contact = contact_of(conn, org_id)?;
    let rows: Vec<UserRow> = crate::db::schema::users::table
        .filter(crate::db::schema::users::organisation_id.eq(org_id))
        .filter(crate::db::schema::users::role.eq(Role::Member))
        .order(crate::db::schema::users::display_name.asc())
        .select(UserRow::as_select())
        .load(conn)?;
    let list = rows
        .into_iter()
        .map(|u| Colleague {
            primary_contact: contact.as_deref() == Some(u.id.as_str()),
            id: u.id,
            display_name: u.display_name,
            email: u.email,
            status: u.status.as_str().to_string(),
        })
        .collect();
    Ok((list, may_act))
}

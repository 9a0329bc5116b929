//! User management by the secretariat: inviting people, changing their role, organisation or
//! status (through the lifecycle table), and listing them. Every function here takes an
//! `&Admin`, except the two that other domains and the CLI call on their own authority.

use chrono::Duration;
use diesel::prelude::*;
use serde::Serialize;

use super::account::concurrent;
use super::lifecycle::{UserCommand, UserFacts, transition};
use super::model::*;
use super::support::{
    INVITATION, check_display_name, check_organisation, display_name_of, first, insert_user,
    invitation_language, new_one_time_token, recipient, revoke_sessions, user_by_id,
};
use crate::audit::Actor;
use crate::auth::caller::{Admin, Staff};
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role, UserStatus};
use crate::command::{self, Ctx, Message};
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{organisations, users};
use crate::error::{ApiError, ConflictCode, FieldError};
use crate::kit::normalise_email;
use crate::notify::matrix::{Event, Parties};
use crate::notify::{Kind, links};
use crate::pagination::{self, page_cursor};

/// An invitation link lives this long.
const INVITATION_TTL: Duration = Duration::days(7);

/// The email inviting a person to set a password.
#[derive(Debug, Serialize)]
pub struct Invitation {
    /// The link, carrying the one-time token.
    pub link: String,
    /// How long the link works, in words.
    pub expires_in: &'static str,
    /// Who invites.
    pub invited_by: String,
    /// The organisation of a member user.
    pub organisation_name: Option<String>,
}

impl Message for Invitation {
    const KIND: Kind = Kind::Invitation;
}

/// Issues a fresh invitation token for `user` and queues the email with its link.
fn send_invitation(ctx: &mut Ctx<'_>, user: &UserRow, invited_by: &str) -> Result<(), ApiError> {
    let token = new_one_time_token(ctx, &user.id, INVITATION, INVITATION_TTL)?;
    let organisation_name: Option<String> = match &user.organisation_id {
        Some(id) => organisations::table
            .find(id)
            .select(organisations::name)
            .first(ctx.conn)
            .optional()?,
        None => None,
    };
    let link = links::accept_invitation(ctx.config, &token);
    let parties = Parties {
        addressee: Some(recipient(user)),
        ..Parties::default()
    };
    ctx.tell(
        Event::UserInvited,
        &parties,
        &Invitation {
            link,
            expires_in: "7 days",
            invited_by: invited_by.to_string(),
            organisation_name,
        },
    )?;
    Ok(())
}

fn new_invited(
    now: chrono::NaiveDateTime,
    email: String,
    display_name: String,
    role: Role,
    org: Option<String>,
) -> UserRow {
    UserRow {
        id: uuid::Uuid::now_v7().to_string(),
        email,
        display_name,
        role,
        organisation_id: org,
        status: UserStatus::Invited,
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        last_login_at: None,
        created_at: now,
        updated_at: now,
        language: crate::i18n::Lang::EN.code().to_string(),
    }
}

/// Creates a user in `invited` status and emails the invitation.
pub fn create_user(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    req: NewUser,
) -> Result<UserRow, ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let email = normalise_email("email", &req.email)
        .map_err(|e| errors.push(first(e)))
        .ok();
    let name = check_display_name("display_name", &req.display_name)
        .map_err(|e| errors.push(first(e)))
        .ok();
    if req.role == Role::Member && req.organisation_id.is_none() {
        errors.push(FieldError::new(
            "organisation_id",
            "required",
            "A member user needs an organisation.",
        ));
    }
    crate::error::no_field_errors(errors)?;
    let (email, name) = (email.unwrap_or_default(), name.unwrap_or_default());
    command::run(conn, config, admin, meta, |ctx| {
        if let Some(org) = &req.organisation_id {
            check_organisation(ctx.conn, "organisation_id", org)?;
        }
        let mut row = new_invited(ctx.now, email, name, req.role, req.organisation_id.clone());
        row.language = invitation_language(
            ctx.conn,
            req.language.as_deref(),
            req.organisation_id.as_deref(),
        )?;
        insert_user(ctx.conn, &row)?;
        let inviter = display_name_of(ctx.conn, Some(&admin.id))?;
        send_invitation(ctx, &row, &inviter)?;
        ctx.audit::<User>("created", None, Some(&row.clone().into()))?;
        if let (Role::Member, Some(org)) = (row.role, &row.organisation_id) {
            super::colleagues::claim_if_vacant(ctx, org, &row.id)?;
        }
        Ok(row)
    })
}

/// Creates an invited member user of `organisation_id` and queues the invitation, inside
/// the caller's command. Used when an approved membership application brings in its contact
/// as the organisation's first member user.
pub fn invite_member_in(
    ctx: &mut Ctx<'_>,
    inviter_name: &str,
    email: &str,
    display_name: &str,
    organisation_id: &str,
) -> Result<UserRow, ApiError> {
    let email = normalise_email("email", email)?;
    let name = check_display_name("display_name", display_name)?;
    let mut row = new_invited(
        ctx.now,
        email,
        name,
        Role::Member,
        Some(organisation_id.to_string()),
    );
    row.language = invitation_language(ctx.conn, None, Some(organisation_id))?;
    insert_user(ctx.conn, &row)?;
    send_invitation(ctx, &row, inviter_name)?;
    ctx.audit::<User>("created", None, Some(&row.clone().into()))?;
    // The first member user of an organisation is its primary contact.
    super::colleagues::claim_if_vacant(ctx, organisation_id, &row.id)?;
    Ok(row)
}

/// [`invite_member_in`] for a caller that holds a transaction but no command context yet.
#[allow(clippy::too_many_arguments)]
pub fn invite_member(
    conn: &mut DbConn,
    config: &Config,
    actor: &Actor,
    request_id: Option<&str>,
    inviter_name: &str,
    email: &str,
    display_name: &str,
    organisation_id: &str,
) -> Result<UserRow, ApiError> {
    let mut ctx = Ctx {
        conn,
        config,
        actor: actor.clone(),
        request_id: request_id.map(str::to_string),
        now: config.clock.naive(),
    };
    invite_member_in(&mut ctx, inviter_name, email, display_name, organisation_id)
}

/// The display name of a user (for "invited by" lines), or the secretariat.
pub fn display_name_or_secretariat(conn: &mut DbConn, who: &Principal) -> Result<String, ApiError> {
    display_name_of(conn, who.user().map(|u| u.id.as_str()))
}

/// A user, for an admin.
pub fn get_user(conn: &mut DbConn, _admin: &Admin, id: &str) -> Result<UserRow, ApiError> {
    user_by_id(conn, id)
}

/// A user as staff see it: admins the whole account; grant and finance officers the name
/// and role of another staff user (a member user, or an unknown id, is 404 to them).
pub fn view_user(conn: &mut DbConn, who: &Staff, id: &str) -> Result<UserView, ApiError> {
    let row = user_by_id(conn, id)?;
    if who.role == Role::Admin {
        return Ok(UserView::Full(row.into()));
    }
    if row.role == Role::Member {
        return Err(ApiError::NotFound);
    }
    Ok(UserView::Limited(StaffUser {
        id: row.id,
        display_name: row.display_name,
        role: row.role,
    }))
}

/// Re-sends an invitation to a user who has not accepted yet.
pub fn resend_invitation(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
) -> Result<UserRow, ApiError> {
    command::run(conn, config, admin, meta, |ctx| {
        let user = user_by_id(ctx.conn, id)?;
        let facts = UserFacts {
            has_password: user.password_hash.is_some(),
        };
        transition(user.status, UserCommand::ResendInvitation, facts)?;
        let inviter = display_name_of(ctx.conn, Some(&admin.id))?;
        send_invitation(ctx, &user, &inviter)?;
        ctx.audit_raw("user.invitation_resent", "user", &user.id, None, None)?;
        Ok(user)
    })
}

/// Changes a user's role, status or organisation. Disabling ends every session at once.
pub fn update_user(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
    patch: UserPatch,
) -> Result<UserRow, ApiError> {
    command::run(conn, config, admin, meta, |ctx| {
        let before = user_by_id(ctx.conn, id)?;
        let role = patch.role.unwrap_or(before.role);
        let org = patch
            .organisation_id
            .clone()
            .or_else(|| before.organisation_id.clone());
        let facts = UserFacts {
            has_password: before.password_hash.is_some(),
        };
        let status = match patch.status {
            None => before.status,
            // `invited` is not in the patch's enum: the document lists only what is accepted.
            Some(UserStatusChange::Active) => {
                transition(before.status, UserCommand::Activate, facts)?
            }
            Some(UserStatusChange::Disabled) => {
                transition(before.status, UserCommand::Disable, facts)?
            }
        };
        if role == Role::Member && org.is_none() {
            return Err(ApiError::field(
                "organisation_id",
                "required",
                "A member user needs an organisation.",
            ));
        }
        if let Some(o) = &patch.organisation_id {
            check_organisation(ctx.conn, "organisation_id", o)?;
        }
        if before.id == admin.id && (role != Role::Admin || status == UserStatus::Disabled) {
            return Err(ApiError::Conflict {
                code: ConflictCode::SelfLockout,
                detail: "Admins cannot demote or disable themselves.".into(),
            });
        }
        let n = diesel::update(
            users::table
                .find(id)
                .filter(users::status.eq(before.status)),
        )
        .set((
            users::role.eq(role),
            users::status.eq(status),
            users::organisation_id.eq(&org),
            users::updated_at.eq(ctx.now),
        ))
        .execute(ctx.conn)?;
        if n == 0 {
            return Err(concurrent());
        }
        if status == UserStatus::Disabled {
            revoke_sessions(ctx, id, None)?;
        }
        let after = user_by_id(ctx.conn, id)?;
        let (b, a): (User, User) = (before.clone().into(), after.clone().into());
        for (changed, verb) in [
            (before.role != after.role, "role_changed"),
            (before.status != after.status, "status_changed"),
            (
                before.organisation_id != after.organisation_id,
                "organisation_changed",
            ),
        ] {
            if changed {
                ctx.audit::<User>(verb, Some(&b), Some(&a))?;
            }
        }
        Ok(after)
    })
}

/// Lists users, oldest first.
pub fn list_users(
    conn: &mut DbConn,
    _admin: &Admin,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<User>, ApiError> {
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(users::id.gt(a[0].clone()));
    }
    let mut rows: Vec<UserRow> = q.load(conn)?;
    let total: i64 = users::table.count().get_result(conn)?;
    let next_cursor = page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(pagination::Page {
        data: rows.into_iter().map(User::from).collect(),
        next_cursor,
        total,
    })
}

/// Creates an active admin with a password (the `create-admin` command).
pub fn create_admin(
    conn: &mut DbConn,
    config: &Config,
    email: &str,
    display_name: &str,
    password_hash: String,
) -> Result<UserRow, ApiError> {
    let email = normalise_email("email", email)?;
    command::run(
        conn,
        config,
        &Actor::System,
        &RequestMeta::default(),
        |ctx| {
            let row = UserRow {
                role: Role::Admin,
                status: UserStatus::Active,
                password_hash: Some(password_hash.clone()),
                ..new_invited(
                    ctx.now,
                    email.clone(),
                    display_name.to_string(),
                    Role::Admin,
                    None,
                )
            };
            insert_user(ctx.conn, &row)?;
            ctx.audit::<User>("created", None, Some(&row.clone().into()))?;
            Ok(row)
        },
    )
}

#[cfg(test)]
mod tests {
    use crate::kit::normalise_email;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("email", "Ana@Example.ORG").unwrap(),
            "ana@example.org"
        );
        assert!(normalise_email("email", " ana@example.org").is_err());
        assert!(normalise_email("email", "not-an-email").is_err());
        assert!(normalise_email("email", "a@b").is_err());
    }
}

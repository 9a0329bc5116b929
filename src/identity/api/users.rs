//! Handlers of user management (admin).

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, put, web};

use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::{Admin, OrgMember, Staff};
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, ConflictError, NotFoundError, QueryErrors};
use crate::extract::Json;
use crate::identity::colleagues::{self, HandOver, PrimaryContact};
use crate::identity::model::*;
use crate::identity::users;
use crate::pagination::{self, Page, PageParams};

/// List users (admin).
#[utoipa::path(
    description = "Admins. Users with role and status, cursor-paged. Changes nothing.",
    tag = "users",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    admin: Admin,
    q: web::Query<PageParams>,
) -> Result<web::Json<Page<User>>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let cursor = q.cursor.clone();
    Ok(web::Json(
        state
            .db(move |c| users::list_users(c, &admin, limit, cursor.as_deref()))
            .await?,
    ))
}

/// Create a user and email an invitation (admin, or a member organisation's primary contact
/// inviting a colleague as a member of its own organisation).
#[utoipa::path(
    description = "Admins; or a member organisation's primary contact, who invites colleagues as members of its own organisation only (another role is 403, another organisation 404). Creates an invited user and emails the invitation link; audited.",
    tag = "users",
    security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "Created and invited", body = User, headers(("Location" = String, description = "URL of the user"))),
        BodyErrors, AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let row = state
        .db(
            move |c| match (Admin::try_from(&who), OrgMember::try_from(&who)) {
                (Ok(admin), _) => users::create_user(c, &config, &admin, &meta, body.0),
                (_, Ok(member)) => colleagues::invite_colleague(c, &config, &member, &meta, body.0),
                (Err(refused), Err(_)) => Err(refused),
            },
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", row.id)))
        .json(User::from(row)))
}

/// A user (staff). Admins get the whole account; grant and finance officers get the id,
/// display name and role of another staff user (a member user is 404 to them), so a queue
/// can say who asked and who approved.
#[utoipa::path(
    description = "Admins see the whole account; grant officers and finance see another staff user's id, display name and role only (a member user is 404 to them). Changes nothing.",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user as the caller may see it", body = UserView),
        AuthErrors, NotFoundError,
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
) -> Result<web::Json<UserView>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        state.db(move |c| users::view_user(c, &staff, &id)).await?,
    ))
}

/// Change a user's role, status or organisation (admin). Disabling ends every session at once.
#[utoipa::path(
    description = "Admins. Changes role, status or organisation; disabling ends every session at once. Audited; emails nothing.",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "Updated", body = User),
        BodyErrors, AuthErrors, NotFoundError, ConflictError,
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<UserPatch>,
) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    Ok(web::Json(
        state
            .db(move |c| users::update_user(c, &config, &admin, &meta, &id, body.0))
            .await?
            .into(),
    ))
}

/// Re-send the invitation of a user who has not accepted yet (admin).
#[utoipa::path(
    description = "Admins. Issues a fresh invitation token (the old one stops working) and emails it again; audited.",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 202, description = "Invitation sent again", body = User),
        AuthErrors, NotFoundError, ConflictError,
    )
)]
#[post("/users/{id}/invitation")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    let row = state
        .db(move |c| users::resend_invitation(c, &config, &admin, &meta, &id))
        .await?;
    Ok(HttpResponse::Accepted().json(User::from(row)))
}

/// Hand the organisation's primary-contact role to a colleague (its primary contact, or an
/// admin). The primary contact invites colleagues with `POST /users`.
#[utoipa::path(
    description = "The organisation's primary contact (a member user) or an admin. Makes another active or invited member user of the organisation its primary contact, who then invites colleagues with POST /users; audited; emails nothing.",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Organisation id")),
    request_body = HandOver,
    responses(
        (status = 200, description = "The new primary contact", body = PrimaryContact),
        BodyErrors, AuthErrors, NotFoundError,
    )
)]
#[put("/organisations/{id}/primary-contact")]
pub async fn hand_over_primary_contact(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<HandOver>,
) -> Result<web::Json<PrimaryContact>, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    Ok(web::Json(
        state
            .db(move |c| colleagues::hand_over(c, &config, &who, &meta, &id, body.0))
            .await?,
    ))
}

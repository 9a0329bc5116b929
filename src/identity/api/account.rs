//! Handlers of the caller's own account: password reset, invitation acceptance, me.

use actix_web::{HttpResponse, get, patch, post, web};

use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, RateLimited, Unavailable};
use crate::extract::Json;
use crate::identity::account;
use crate::identity::model::*;

/// Ask for a password reset link. Always 202, whether or not the account exists.
#[utoipa::path(
    description = "Anyone. Emails a one-time reset link (valid 30 minutes) if an active account has this address; answers 202 either way, so it reveals nothing. Rate-limited like login.",
    extensions(("x-rate-limits" = json!([crate::http_contract::Limit::AuthPerIp, crate::http_contract::Limit::AuthPerAccount]))),
    security(),
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the account exists, a link is on its way"),
        BodyErrors, RateLimited,
    )
)]
#[post("/auth/password-reset")]
pub async fn password_reset(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    account::request_password_reset(&state, meta, body.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the emailed token; every session of the user ends.
#[utoipa::path(
    description = "Anyone holding an emailed reset token. The token is checked before any password work; on success the password changes, every session ends, a lockout is lifted and the owner is emailed that the password changed.",
    extensions(("x-rate-limits" = json!([crate::http_contract::Limit::AuthPerIp]))),
    security(),
    tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Password changed"),
        BodyErrors, RateLimited,
        Unavailable,
    )
)]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    account::confirm_password_reset(&state, meta, body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invitation: set a password and name, and get a token pair.
#[utoipa::path(
    description = "Anyone holding an emailed invitation token. Sets the password and display name, activates the account and returns a token pair. Rate-limited like login.",
    security(),
    tag = "auth",
    request_body = AcceptInvitation,
    responses(
        (status = 200, description = "Account active, logged in", body = TokenPair),
        BodyErrors, RateLimited,
        Unavailable,
    )
)]
#[post("/auth/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<AcceptInvitation>,
) -> Result<web::Json<TokenPair>, ApiError> {
    Ok(web::Json(
        account::accept_invitation(&state, meta, body.0).await?,
    ))
}

/// The caller's own account.
#[utoipa::path(
    description = "Any signed-in user. The caller's own account; changes nothing.",
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        AuthErrors,
    )
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, who: Principal) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(
        state.db(move |c| account::me(c, &who)).await?.into(),
    ))
}

/// Change the caller's own profile.
#[utoipa::path(
    description = "Any signed-in user. Changes the caller's display name or language (`en`, `es`, `fr`: the language of their emails and console pages; more are added as translation files, see the README's \"Adding a language\"); audited. Emails nothing.",
    tag = "account",
    security(("bearer" = [])),
    request_body = MePatch,
    responses(
        (status = 200, description = "Updated", body = User),
        BodyErrors, AuthErrors,
    )
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<MePatch>,
) -> Result<web::Json<User>, ApiError> {
    let config = state.config.clone();
    Ok(web::Json(
        state
            .db(move |c| account::update_me(c, &config, &who, &meta, body.0))
            .await?
            .into(),
    ))
}

/// Change the caller's password; every other session ends.
#[utoipa::path(
    description = "Any signed-in user, with the current password (throttled like login). Every other session ends; the owner is emailed.",
    tag = "account",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Password changed"),
        BodyErrors, AuthErrors, RateLimited,
        Unavailable,
    )
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    account::change_password(&state, &who, meta, body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

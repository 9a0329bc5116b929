//! Handlers of sessions: login, refresh, logout.

use actix_web::{HttpResponse, post, web};

use crate::AppState;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{BodyErrors, RateLimited, Unauthenticated, Unavailable};
use crate::extract::Json;
use crate::identity::model::{LoginRequest, RefreshRequest, TokenPair};
use crate::identity::session;

/// Log in with email and password.
#[utoipa::path(
    description = "Anyone. Returns an access and a refresh token. Wrong credentials, an unknown email and a throttled account all answer the same 401 after the same work; repeated failures are slowed per account and per address. Emails nothing.",
    extensions(("x-rate-limits" = json!([crate::http_contract::Limit::AuthPerIp, crate::http_contract::Limit::AuthPerAccount]))),
    security(),
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        BodyErrors, Unauthenticated, RateLimited,
        Unavailable,
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<LoginRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    Ok(web::Json(session::login(&state, meta, body.0).await?))
}

/// Exchange a refresh token for a new pair. The old one is spent; reusing it revokes the session.
#[utoipa::path(
    description = "Anyone holding a refresh token. Rotates it: the old one is spent, and presenting a spent one ends the whole session (theft detection). Emails nothing.",
    security(),
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        BodyErrors, Unauthenticated,
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<RefreshRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    Ok(web::Json(session::refresh(&state, meta, body.0).await?))
}

/// End the session of a refresh token; its access tokens stop working at once.
#[utoipa::path(
    description = "Anyone holding a refresh token. Ends that session; its access tokens stop working at once. Emails nothing.",
    security(),
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        BodyErrors,
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    state
        .db(move |c| session::logout(c, &config, &meta, body.0))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

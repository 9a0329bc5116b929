//! HTTP handlers for authentication, the caller's account, users and API clients.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use base64::Engine;
use serde::Deserialize;

use super::model::*;
use super::service;
use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::RequestMeta;
use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::pagination::{self, Page};

use crate::pagination::PageParams;

/// Log in with email and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (see Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many password checks at once (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<LoginRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    Ok(web::Json(service::login(&state, meta, body.0).await?))
}

/// Exchange a refresh token for a new pair. The old one is spent; reusing it revokes the session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New token pair", body = TokenPair),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Invalid, expired, reused or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<RefreshRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    Ok(web::Json(service::refresh(&state, meta, body.0).await?))
}

/// End the session of a refresh token; its access tokens stop working at once.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    state.db(move |c| service::logout(c, &meta, body.0)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Client-credentials token request (RFC 6749 §4.4), as a form body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenForm {
    /// Must be `client_credentials`.
    pub grant_type: Option<String>,
    /// Space-separated scopes; all granted scopes when omitted.
    pub scope: Option<String>,
    /// Client id, when not sent with HTTP Basic.
    pub client_id: Option<String>,
    /// Client secret, when not sent with HTTP Basic.
    pub client_secret: Option<String>,
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let s = String::from_utf8(decoded).ok()?;
    let (id, secret) = s.split_once(':')?;
    let unescape = |x: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={x}"))
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|(_, v)| v)
            .unwrap_or_else(|| x.to_string())
    };
    Some((unescape(id), unescape(secret)))
}

/// OAuth2 client credentials for partner apps: HTTP Basic or form credentials.
#[utoipa::path(
    tag = "auth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Access token", body = ClientToken),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    state.limiter.hit(
        &format!("token:ip:{}", meta.ip),
        state.config.auth_rate_limit_per_ip,
    )?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let form: Result<TokenForm, _> = if body.is_empty() {
        Ok(TokenForm::default())
    } else if is_form {
        serde_urlencoded::from_bytes::<TokenForm>(&body).map_err(|_| ())
    } else {
        Err(())
    };
    let oauth_error = |status: u16, body: OAuthError| {
        let mut r = HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
        );
        if status == 401 {
            r.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"idpc-hub\""));
        }
        r.insert_header((header::PRAGMA, "no-cache")).json(body)
    };
    let Ok(form) = form else {
        return Ok(oauth_error(
            400,
            OAuthError {
                error: "invalid_request",
                error_description: "Send an application/x-www-form-urlencoded body.".into(),
            },
        ));
    };
    let (client_id, client_secret) = match basic_credentials(&req) {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (form.client_id.clone(), form.client_secret.clone()),
    };
    let jwt = state.jwt.clone();
    let outcome = state
        .db(move |c| {
            Ok(service::client_credentials(
                c,
                &jwt,
                form.grant_type.as_deref(),
                form.scope.as_deref(),
                client_id.as_deref(),
                client_secret.as_deref(),
            ))
        })
        .await?;
    Ok(match outcome {
        Ok(t) => HttpResponse::Ok()
            .insert_header((header::PRAGMA, "no-cache"))
            .json(t),
        Err(f) => oauth_error(f.status, f.body),
    })
}

/// Ask for a password reset link. Always 202, whether or not the account exists.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the account exists, a link is on its way"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset")]
pub async fn password_reset(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetRequest>,
) -> Result<HttpResponse, ApiError> {
    service::request_password_reset(&state, meta, body.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the emailed token; every session of the user ends.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Invalid token or password", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many password checks at once", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<PasswordResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    service::confirm_password_reset(&state, meta, body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Accept an invitation: set a password and name, and get a token pair.
#[utoipa::path(
    tag = "auth",
    request_body = AcceptInvitation,
    responses(
        (status = 200, description = "Account active, logged in", body = TokenPair),
        (status = 400, description = "Invalid token, password or name", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many password checks at once", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Json<AcceptInvitation>,
) -> Result<web::Json<TokenPair>, ApiError> {
    Ok(web::Json(
        service::accept_invitation(&state, meta, body.0).await?,
    ))
}

/// The caller's own account.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API client has no account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, who: Principal) -> Result<web::Json<User>, ApiError> {
    let id = who
        .user()
        .ok_or_else(|| ApiError::Forbidden("Only users have an account.".into()))?
        .id
        .clone();
    Ok(web::Json(
        state.db(move |c| service::user_by_id(c, &id)).await?.into(),
    ))
}

/// Change the caller's own profile.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = MePatch,
    responses(
        (status = 200, description = "Updated", body = User),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API client has no account", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<MePatch>,
) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(
        state
            .db(move |c| service::update_me(c, &who, &meta, body.0))
            .await?
            .into(),
    ))
}

/// Change the caller's password; every other session ends.
#[utoipa::path(
    tag = "account",
    security(("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Wrong current password or invalid new one", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An API client has no password", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many password checks at once", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    service::change_password(&state, &who, meta, body.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List users (admin).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<PageParams>,
) -> Result<web::Json<Page<User>>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let cursor = q.cursor.clone();
    Ok(web::Json(
        state
            .db(move |c| service::list_users(c, &who, limit, cursor.as_deref()))
            .await?,
    ))
}

/// Create a user and email an invitation (admin).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "Created and invited", body = User, headers(("Location" = String, description = "URL of the user"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
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
        .db(move |c| service::create_user(c, &config, &who, &meta, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", row.id)))
        .json(User::from(row)))
}

/// A user (admin).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown user", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<web::Json<User>, ApiError> {
    who.require_role(&[crate::auth::Role::Admin])?;
    let id = id.into_inner();
    Ok(web::Json(
        state.db(move |c| service::user_by_id(c, &id)).await?.into(),
    ))
}

/// Change a user's role, status or organisation (admin). Disabling ends every session at once.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "Updated", body = User),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in this state", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
    body: Json<UserPatch>,
) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        state
            .db(move |c| service::update_user(c, &who, &meta, &id, body.0))
            .await?
            .into(),
    ))
}

/// Re-send the invitation of a user who has not accepted yet (admin).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 202, description = "Invitation sent again", body = User),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown user", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The user is not invited", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/invitation")]
pub async fn resend_invitation(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    let row = state
        .db(move |c| service::resend_invitation(c, &config, &who, &meta, &id))
        .await?;
    Ok(HttpResponse::Accepted().json(User::from(row)))
}

/// List API clients (admin). Secrets are never shown.
#[utoipa::path(
    tag = "api-clients",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of clients", body = Page<ApiClient>),
        (status = 400, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api-clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    who: Principal,
    q: web::Query<PageParams>,
) -> Result<web::Json<Page<ApiClient>>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let cursor = q.cursor.clone();
    Ok(web::Json(
        state
            .db(move |c| service::list_clients(c, &who, limit, cursor.as_deref()))
            .await?,
    ))
}

/// Register a partner app (admin). The secret is in this response only.
#[utoipa::path(
    tag = "api-clients",
    security(("bearer" = [])),
    request_body = NewApiClient,
    responses(
        (status = 201, description = "Created; store the secret now", body = CreatedApiClient),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api-clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<NewApiClient>,
) -> Result<HttpResponse, ApiError> {
    let created = state
        .db(move |c| service::create_client(c, &who, &meta, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/api-clients/{}", created.client.id),
        ))
        .json(created))
}

/// Revoke a partner app (admin); its tokens stop working at once.
#[utoipa::path(
    tag = "api-clients",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "API client id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown client", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api-clients/{id}")]
pub async fn revoke_client(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state
        .db(move |c| service::revoke_client(c, &who, &meta, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

//! Handlers of partner apps: the OAuth2 token endpoint and API client management (admin).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use base64::Engine;
use serde::Deserialize;

use crate::AppState;
use crate::auth::caller::Admin;
use crate::auth::principal::RequestMeta;
use crate::error::docs::{
    AuthErrors, BodyErrors, NotFoundError, QueryErrors, RateLimited, Unavailable,
};
use crate::error::{ApiError, Problem};
use crate::extract::Json;
use crate::identity::clients;
use crate::identity::model::*;
use crate::pagination::{self, Page, PageParams};

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
    description = "Partner apps (OAuth2 client credentials). Returns a short-lived access token with the scopes granted to the app. Emails nothing.",
    extensions(("x-rate-limits" = json!([crate::http_contract::Limit::AuthPerIp]))),
    security(),
    tag = "auth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Access token", body = ClientToken),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        RateLimited, Unavailable,
    )
)]
#[post("/auth/token")]
pub async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    crate::auth::throttle::limit(
        &state,
        vec![(
            format!("token:ip:{}", crate::config::address_bucket(&meta.ip)),
            state.config.auth_rate_limit_per_ip,
        )],
    )
    .await?;
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
            clients::client_credentials(
                c,
                &jwt,
                form.grant_type.as_deref(),
                form.scope.as_deref(),
                client_id.as_deref(),
                client_secret.as_deref(),
            )
        })
        .await?;
    Ok(match outcome {
        Ok(t) => HttpResponse::Ok()
            .insert_header((header::PRAGMA, "no-cache"))
            .json(t),
        Err(f) => oauth_error(f.status, f.body),
    })
}

/// List API clients (admin). Secrets are never shown.
#[utoipa::path(
    description = "Admins. Partner apps with their scopes; secrets are never shown. Changes nothing.",
    tag = "api-clients",
    security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of clients", body = Page<ApiClient>),
        QueryErrors, AuthErrors,
    )
)]
#[get("/api-clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    admin: Admin,
    q: web::Query<PageParams>,
) -> Result<web::Json<Page<ApiClient>>, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let cursor = q.cursor.clone();
    Ok(web::Json(
        state
            .db(move |c| clients::list_clients(c, &admin, limit, cursor.as_deref()))
            .await?,
    ))
}

/// Register a partner app (admin). The secret is in this response only.
#[utoipa::path(
    description = "Admins. Registers a partner app with scopes; its secret is in this answer only. Audited.",
    tag = "api-clients",
    security(("bearer" = [])),
    request_body = NewApiClient,
    responses(
        (status = 201, description = "Created; store the secret now", body = CreatedApiClient, headers(("Location" = String, description = "URL of the client"))),
        BodyErrors, AuthErrors,
    )
)]
#[post("/api-clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    body: Json<NewApiClient>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let created = state
        .db(move |c| clients::create_client(c, &config, &admin, &meta, body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/api-clients/{}", created.client.id),
        ))
        .json(created))
}

/// One partner app (admin). The secret is never shown again.
#[utoipa::path(
    description = "Admins. One partner app with its scopes and whether it is revoked; the secret is never shown again. Changes nothing.",
    tag = "api-clients",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "API client id")),
    responses(
        (status = 200, description = "The client", body = ApiClient),
        AuthErrors, NotFoundError,
    )
)]
#[get("/api-clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    admin: Admin,
    id: web::Path<String>,
) -> Result<web::Json<ApiClient>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        state
            .db(move |c| clients::get_client(c, &admin, &id))
            .await?,
    ))
}

/// Revoke a partner app (admin); its tokens stop working at once.
#[utoipa::path(
    description = "Admins. Revokes a partner app: its tokens stop working at once. Audited.",
    tag = "api-clients",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "API client id")),
    responses(
        (status = 204, description = "Revoked"),
        AuthErrors, NotFoundError,
    )
)]
#[delete("/api-clients/{id}")]
pub async fn revoke_client(
    state: web::Data<AppState>,
    admin: Admin,
    meta: RequestMeta,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let config = state.config.clone();
    state
        .db(move |c| clients::revoke_client(c, &config, &admin, &meta, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

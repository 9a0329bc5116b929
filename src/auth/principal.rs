//! Who is calling: a user or an API client, established from the bearer token and one
//! indexed database check (user status and session, or client revocation), so logout,
//! password resets, disabling and client revocation take effect at once.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::audit::Actor;
use crate::config::IpRange;
use crate::db::schema::{api_clients, sessions, users};
use crate::error::ApiError;
use crate::middleware::RequestId;

crate::text_enum! {
    /// A user's role, stored as text: an unknown role in the database is an error, never a
    /// silent default.
    pub enum Role {
        /// The secretariat: users, clients, membership.
        Admin = "admin",
        /// Creates and approves onward grants and tranches.
        GrantOfficer = "grant_officer",
        /// Records payments.
        FinanceOfficer = "finance_officer",
        /// A person of a member organisation.
        Member = "member",
    }
}

crate::text_enum! {
    /// Where a user account is in its life (see `identity::lifecycle` for the transitions).
    pub enum UserStatus {
        /// Invited, has not set a password yet.
        Invited = "invited",
        /// May log in.
        Active = "active",
        /// May not log in; existing tokens stop working at once.
        Disabled = "disabled",
    }
}

impl Role {
    /// Staff are everyone but members.
    pub fn is_staff(self) -> bool {
        self != Role::Member
    }
}

/// A partner app's permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    /// Read the directory.
    #[serde(rename = "directory:read")]
    DirectoryRead,
    /// Read grants.
    #[serde(rename = "grants:read")]
    GrantsRead,
    /// Manage webhooks.
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 3] = [
        Scope::DirectoryRead,
        Scope::GrantsRead,
        Scope::WebhooksManage,
    ];

    /// Wire text.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::DirectoryRead => "directory:read",
            Scope::GrantsRead => "grants:read",
            Scope::WebhooksManage => "webhooks:manage",
        }
    }

    /// Parses wire text.
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Parses a space-separated list, ignoring unknown entries.
    pub fn parse_list(s: &str) -> Vec<Scope> {
        s.split_whitespace().filter_map(Scope::parse).collect()
    }
}

/// An authenticated user.
#[derive(Debug, Clone)]
pub struct UserPrincipal {
    /// User id.
    pub id: String,
    /// Current role (read from the database on every request).
    pub role: Role,
    /// Organisation of a member.
    pub organisation_id: Option<String>,
    /// Session of this token.
    pub session_id: String,
}

/// An authenticated API client.
#[derive(Debug, Clone)]
pub struct ClientPrincipal {
    /// API client id.
    pub id: String,
    /// Organisation the client belongs to.
    pub organisation_id: String,
    /// Scopes granted to this token.
    pub scopes: Vec<Scope>,
}

/// The caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A person.
    User(UserPrincipal),
    /// A partner app.
    Client(ClientPrincipal),
}

impl Principal {
    /// The user, when the caller is one.
    pub fn user(&self) -> Option<&UserPrincipal> {
        match self {
            Principal::User(u) => Some(u),
            Principal::Client(_) => None,
        }
    }

    /// The role of a user caller.
    pub fn role(&self) -> Option<Role> {
        self.user().map(|u| u.role)
    }

    /// True for a user with one of `roles`.
    pub fn has_role(&self, roles: &[Role]) -> bool {
        self.role().is_some_and(|r| roles.contains(&r))
    }

    /// True for staff users.
    pub fn is_staff(&self) -> bool {
        self.role().is_some_and(Role::is_staff)
    }

    /// True for a client holding `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        matches!(self, Principal::Client(c) if c.scopes.contains(&scope))
    }

    /// 403 unless the caller is a user with one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<&UserPrincipal, ApiError> {
        match self {
            Principal::User(u) if roles.contains(&u.role) => Ok(u),
            _ => Err(ApiError::Forbidden(format!(
                "This action needs the role {}.",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    /// The audit actor.
    pub fn actor(&self) -> Actor {
        match self {
            Principal::User(u) => Actor::User(u.id.clone()),
            Principal::Client(c) => Actor::ApiClient(c.id.clone()),
        }
    }

    /// The organisation of a member user or a client.
    pub fn organisation_id(&self) -> Option<&str> {
        match self {
            Principal::User(u) => u.organisation_id.as_deref(),
            Principal::Client(c) => Some(&c.organisation_id),
        }
    }
}

/// An optional caller: `None` without an Authorization header; a bad token is still 401.
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let s = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("Malformed Authorization header.".into()))?;
    match s.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(ApiError::Unauthorized(
            "Use an Authorization: Bearer <access token> header.".into(),
        )),
    }
}

async fn authenticate(state: web::Data<AppState>, token: String) -> Result<Principal, ApiError> {
    let invalid =
        || ApiError::Unauthorized("The access token is invalid, expired or revoked.".into());
    let claims = state.jwt.verify(&token).map_err(|_| invalid())?;
    match claims.typ.as_str() {
        "user" => {
            let sid = claims.sid.clone().ok_or_else(invalid)?;
            let sub = claims.sub.clone();
            let row: Option<(
                UserStatus,
                Role,
                Option<String>,
                Option<chrono::NaiveDateTime>,
            )> = state
                .db(move |c| {
                    Ok(users::table
                        .inner_join(sessions::table)
                        .filter(users::id.eq(&sub))
                        .filter(sessions::id.eq(&sid))
                        .select((
                            users::status,
                            users::role,
                            users::organisation_id,
                            sessions::revoked_at,
                        ))
                        .first(c)
                        .optional()?)
                })
                .await?;
            match row {
                Some((UserStatus::Active, role, org, None)) => Ok(Principal::User(UserPrincipal {
                    id: claims.sub,
                    role,
                    organisation_id: org,
                    session_id: claims.sid.unwrap_or_default(),
                })),
                _ => Err(invalid()),
            }
        }
        "client" => {
            let sub = claims.sub.clone();
            let row: Option<(String, Option<chrono::NaiveDateTime>)> = state
                .db(move |c| {
                    Ok(api_clients::table
                        .find(&sub)
                        .select((api_clients::organisation_id, api_clients::revoked_at))
                        .first(c)
                        .optional()?)
                })
                .await?;
            match row {
                Some((org, None)) => Ok(Principal::Client(ClientPrincipal {
                    id: claims.sub,
                    organisation_id: org,
                    scopes: Scope::parse_list(claims.scope.as_deref().unwrap_or("")),
                })),
                _ => Err(invalid()),
            }
        }
        _ => Err(invalid()),
    }
}

/// The caller of a request, if it sent a bearer token: `Ok(None)` without one, 401 for a bad one.
fn optional_principal(
    req: &HttpRequest,
) -> Pin<Box<dyn Future<Output = Result<Option<Principal>, ApiError>>>> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
        match token? {
            Some(t) => authenticate(state, t).await.map(Some),
            None => Ok(None),
        }
    })
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let who = optional_principal(req);
        Box::pin(async move {
            who.await?
                .ok_or_else(|| ApiError::Unauthorized("Authentication required.".into()))
        })
    }
}

impl FromRequest for MaybePrincipal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let who = optional_principal(req);
        Box::pin(async move { who.await.map(MaybePrincipal) })
    }
}

/// Request facts services need: the request id (for audit) and the client IP (for limits).
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The request id.
    pub request_id: Option<String>,
    /// The client address: the TCP peer, or what a trusted proxy says in X-Forwarded-For.
    pub ip: String,
}

/// The client address of a request from `peer`. `X-Forwarded-For` is read only when the peer
/// is a trusted proxy; it is read from the right, skipping trusted proxies, so a client cannot
/// choose its address by writing one at the left.
pub fn client_ip(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted: &[IpRange]) -> String {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    let Some(peer) = peer else {
        return "unknown".into();
    };
    let mut client = peer;
    if is_trusted(peer) {
        for hop in forwarded_for.unwrap_or("").rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !is_trusted(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    client.to_canonical().to_string()
}

impl FromRequest for RequestMeta {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.config.trusted_proxies.as_slice())
            .unwrap_or(&[]);
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let ip = client_ip(req.peer_addr().map(|a| a.ip()), forwarded, trusted);
        std::future::ready(Ok(RequestMeta { request_id, ip }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IpRange;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = [IpRange::parse("10.0.0.0/8").unwrap()];
        let xff = Some("198.51.100.9, 203.0.113.5");
        assert_eq!(client_ip(ip("10.0.0.2"), xff, &trusted), "203.0.113.5");
        assert_eq!(client_ip(ip("192.0.2.1"), xff, &trusted), "192.0.2.1");
        assert_eq!(client_ip(ip("10.0.0.2"), xff, &[]), "10.0.0.2");
        assert_eq!(client_ip(ip("10.0.0.2"), None, &trusted), "10.0.0.2");
        // A chain of trusted proxies is walked from the right.
        let chain = Some("203.0.113.5, 10.0.0.7");
        assert_eq!(client_ip(ip("10.0.0.2"), chain, &trusted), "203.0.113.5");
        assert_eq!(
            client_ip(ip("10.0.0.2"), Some("junk"), &trusted),
            "10.0.0.2"
        );
        assert_eq!(client_ip(None, xff, &trusted), "unknown");
    }
}

//! Partner apps: registering an API client (its secret shown once and stored hashed),
//! listing and revoking them, and the OAuth2 client-credentials grant that gives them tokens.

use diesel::prelude::*;

use super::model::*;
use super::support::{check_organisation, first};
use crate::auth::Scope;
use crate::auth::caller::Admin;
use crate::auth::principal::RequestMeta;
use crate::auth::tokens::{JwtKeys, hash_opaque, opaque};
use crate::command;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::api_clients;
use crate::error::{ApiError, FieldError};
use crate::kit::check_name;
use crate::pagination::{self, page_cursor};

/// Creates an API client; the secret is returned once and stored hashed.
pub fn create_client(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    req: NewApiClient,
) -> Result<CreatedApiClient, ApiError> {
    let mut errors = Vec::new();
    if let Err(e) = check_name("name", &req.name, 2, 120) {
        errors.push(first(e));
    }
    if req.scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            "required",
            "Grant at least one scope.",
        ));
    }
    crate::error::no_field_errors(errors)?;
    let mut scopes: Vec<&str> = req.scopes.iter().map(|s| s.as_str()).collect();
    scopes.sort();
    scopes.dedup();
    let secret = opaque();
    let row = ApiClientRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: req.name.trim().to_string(),
        organisation_id: req.organisation_id.clone(),
        client_id: format!("idpc_{}", uuid::Uuid::new_v4().simple()),
        secret_hash: hash_opaque(&secret),
        scopes: scopes.join(" "),
        created_by: admin.id.clone(),
        created_at: config.clock.naive(),
        revoked_at: None,
    };
    command::run(conn, config, admin, meta, |ctx| {
        check_organisation(ctx.conn, "organisation_id", &req.organisation_id)?;
        diesel::insert_into(api_clients::table)
            .values(&row)
            .execute(ctx.conn)?;
        ctx.audit::<ApiClient>("created", None, Some(&row.clone().into()))
    })?;
    Ok(CreatedApiClient {
        client: row.into(),
        client_secret: secret,
    })
}

/// Lists API clients (no secrets).
pub fn list_clients(
    conn: &mut DbConn,
    _admin: &Admin,
    limit: i64,
    cursor: Option<&str>,
) -> Result<pagination::Page<ApiClient>, ApiError> {
    let after = pagination::decode_cursor(cursor, 1)?;
    let mut q = api_clients::table
        .select(ApiClientRow::as_select())
        .order(api_clients::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(api_clients::id.gt(a[0].clone()));
    }
    let mut rows: Vec<ApiClientRow> = q.load(conn)?;
    let total: i64 = api_clients::table.count().get_result(conn)?;
    let next_cursor = page_cursor(&mut rows, limit, |r| r.id.clone());
    Ok(pagination::Page {
        data: rows.into_iter().map(ApiClient::from).collect(),
        next_cursor,
        total,
    })
}

/// One API client (no secret): what the `Location` of its creation names.
pub fn get_client(conn: &mut DbConn, _admin: &Admin, id: &str) -> Result<ApiClient, ApiError> {
    api_clients::table
        .find(id)
        .select(ApiClientRow::as_select())
        .first(conn)
        .optional()?
        .map(ApiClient::from)
        .ok_or(ApiError::NotFound)
}

/// Revokes an API client; its tokens stop working at once.
pub fn revoke_client(
    conn: &mut DbConn,
    config: &Config,
    admin: &Admin,
    meta: &RequestMeta,
    id: &str,
) -> Result<(), ApiError> {
    command::run(conn, config, admin, meta, |ctx| {
        let before: ApiClientRow = api_clients::table
            .find(id)
            .select(ApiClientRow::as_select())
            .first(ctx.conn)
            .optional()?
            .ok_or(ApiError::NotFound)?;
        if before.revoked_at.is_some() {
            return Ok(());
        }
        // Revoked in the statement, so of two concurrent revocations one records it.
        let n = diesel::update(
            api_clients::table
                .find(id)
                .filter(api_clients::revoked_at.is_null()),
        )
        .set(api_clients::revoked_at.eq(Some(ctx.now)))
        .execute(ctx.conn)?;
        if n == 0 {
            return Ok(());
        }
        ctx.audit::<ApiClient>("revoked", Some(&before.into()), None)
    })
}

/// An RFC 6749 error from the token endpoint.
#[derive(Debug)]
pub struct OAuthFailure {
    /// HTTP status (400 or 401).
    pub status: u16,
    /// The error body.
    pub body: OAuthError,
}

fn oauth(status: u16, error: &'static str, description: &str) -> OAuthFailure {
    OAuthFailure {
        status,
        body: OAuthError {
            error,
            error_description: description.into(),
        },
    }
}

/// Compares two secrets (hashes) in time that depends on their length only.
fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The OAuth2 client-credentials grant (RFC 6749 §4.4). The outer error is the database's
/// (503 while it is unreachable, never an OAuth error that blames the client); the inner one
/// is the OAuth answer.
pub fn client_credentials(
    conn: &mut DbConn,
    jwt: &JwtKeys,
    grant_type: Option<&str>,
    requested_scope: Option<&str>,
    client_id: Option<&str>,
    client_secret: Option<&str>,
) -> Result<Result<ClientToken, OAuthFailure>, ApiError> {
    let row: Option<ApiClientRow> = match client_id {
        // No client id holds a control character, and PostgreSQL refuses a NUL in a query
        // parameter: such an id is an unknown client, not a database error.
        Some(id) if id.chars().any(char::is_control) => None,
        Some(id) => api_clients::table
            .filter(api_clients::client_id.eq(id))
            .select(ApiClientRow::as_select())
            .first(conn)
            .optional()?,
        None => None,
    };
    Ok(grant(
        jwt,
        grant_type,
        requested_scope,
        client_id,
        client_secret,
        row,
    ))
}

/// The grant's rules once the client's row (if any) is read.
fn grant(
    jwt: &JwtKeys,
    grant_type: Option<&str>,
    requested_scope: Option<&str>,
    client_id: Option<&str>,
    client_secret: Option<&str>,
    row: Option<ApiClientRow>,
) -> Result<ClientToken, OAuthFailure> {
    let grant_type =
        grant_type.ok_or_else(|| oauth(400, "invalid_request", "grant_type is required."))?;
    if grant_type != "client_credentials" {
        return Err(oauth(
            400,
            "unsupported_grant_type",
            "Only client_credentials is supported here.",
        ));
    }
    let (Some(_), Some(secret)) = (client_id, client_secret) else {
        return Err(oauth(
            401,
            "invalid_client",
            "Client authentication is required (HTTP Basic or client_id and client_secret).",
        ));
    };
    let client = match row {
        Some(r)
            if r.revoked_at.is_none() && constant_time_eq(&r.secret_hash, &hash_opaque(secret)) =>
        {
            r
        }
        _ => {
            return Err(oauth(
                401,
                "invalid_client",
                "Unknown client, wrong secret, or revoked client.",
            ));
        }
    };
    let granted = Scope::parse_list(&client.scopes);
    let scopes: Vec<Scope> = match requested_scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => granted.clone(),
        Some(req) => {
            let mut out = Vec::new();
            for s in req.split_whitespace() {
                match Scope::parse(s) {
                    Some(sc) if granted.contains(&sc) => out.push(sc),
                    _ => {
                        return Err(oauth(
                            400,
                            "invalid_scope",
                            &format!("The scope {s} is not granted to this client."),
                        ));
                    }
                }
            }
            out
        }
    };
    let scope = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let token = jwt
        .issue(
            &client.id,
            "client",
            None,
            Some(client.organisation_id.clone()),
            Some(scope.clone()),
            None,
        )
        .map_err(|_| oauth(400, "invalid_request", "The token could not be issued."))?;
    Ok(ClientToken {
        access_token: token,
        token_type: "Bearer",
        expires_in: jwt.ttl_secs(),
        scope,
    })
}

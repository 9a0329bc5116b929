//! Users, sessions, one-time tokens and API clients: rows and wire types.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::auth::UserStatus;
use crate::auth::{Role, Scope};
use crate::command::Audited;
use crate::db::schema::{api_clients, users};
use crate::kit::rfc3339;

/// A stored user.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    /// UUID v7.
    pub id: String,
    /// Lower-cased address.
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Organisation (required for members).
    pub organisation_id: Option<String>,
    /// invited, active or disabled.
    pub status: UserStatus,
    /// argon2id PHC string; never leaves the service.
    pub password_hash: Option<String>,
    /// Consecutive failed logins.
    pub failed_logins: i32,
    /// Locked until this time after repeated failures.
    pub locked_until: Option<NaiveDateTime>,
    /// Last successful login.
    pub last_login_at: Option<NaiveDateTime>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// The language the user reads (ISO 639-1, one of `crate::i18n::LANGUAGES`).
    pub language: String,
}

/// A user as the API shows it (no secrets, ever).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    /// UUID v7.
    pub id: String,
    /// Email address (lower case).
    pub email: String,
    /// Name shown to others.
    pub display_name: String,
    /// admin, grant_officer, finance_officer or member.
    pub role: Role,
    /// Organisation of a member user.
    pub organisation_id: Option<String>,
    /// invited, active or disabled.
    pub status: UserStatus,
    /// Last successful login (RFC 3339), if any.
    pub last_login_at: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// The language the user reads emails and console pages in: `en`, `es` or `fr`.
    #[schema(example = "es")]
    pub language: String,
}

/// What staff may read of another staff user: who they are and their role, nothing more
/// (no email, no status, no organisation).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffUser {
    /// UUID v7.
    pub id: String,
    /// Name shown to others.
    pub display_name: String,
    /// admin, grant_officer or finance_officer.
    pub role: Role,
}

/// A user as the caller may see it: the whole account for admins, [`StaffUser`] for other
/// staff.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum UserView {
    /// What an admin sees.
    Full(User),
    /// What grant and finance officers see of a staff user.
    Limited(StaffUser),
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            display_name: r.display_name,
            role: r.role,
            organisation_id: r.organisation_id,
            status: r.status,
            last_login_at: r.last_login_at.map(rfc3339),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            language: r.language,
        }
    }
}

impl Audited for User {
    const ENTITY: &'static str = "user";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// Access and refresh token pair.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPair {
    /// JWT access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque refresh token; single use, rotated on every refresh.
    pub refresh_token: String,
}

/// Login request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Email address (case-insensitive).
    pub email: String,
    /// Password.
    pub password: String,
}

/// A refresh token.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// Ask for a password reset link.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// Email address of the account.
    pub email: String,
}

/// Set a new password with a reset token.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The `token` from the emailed link.
    pub token: String,
    /// New password, 12–128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

/// Accept an invitation.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The `token` from the emailed link.
    pub token: String,
    /// New password, 12–128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    /// Name shown to others, 1–120 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub display_name: String,
}

/// Change one's own profile.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// Name shown to others, 1–120 characters, not blank, no control characters.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub display_name: Option<String>,
    /// The language to read emails and console pages in: `en`, `es` or `fr` (see README,
    /// "Adding a language").
    #[serde(default)]
    #[schema(example = "fr", schema_with = crate::codes::schema::spoken_language)]
    pub language: Option<String>,
}

/// Change one's own password.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The current password.
    pub current_password: String,
    /// The new password, 12–128 characters.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// Create a user (an invitation is emailed).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Email address; unique, case-insensitive.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s<>,\x00-\x1F\x7F-\x9F]+@[^@\s<>,.\x00-\x1F\x7F-\x9F]+(\.[^@\s<>,.\x00-\x1F\x7F-\x9F]+)+$"
    )]
    pub email: String,
    /// Name shown to others, 1–120 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Organisation; required for a member.
    #[serde(default)]
    pub organisation_id: Option<String>,
    /// The language the invitation and later emails are written in: `en`, `es` or `fr`.
    /// By default the organisation's first listed language the service speaks, else English.
    #[serde(default)]
    #[schema(example = "es", schema_with = crate::codes::schema::spoken_language)]
    pub language: Option<String>,
}

crate::text_enum! {
    /// The statuses an admin may set: `invited` is where an account starts, never a choice.
    pub enum UserStatusChange {
        /// May log in again (an invited user must accept the invitation first).
        Active = "active",
        /// May not log in; every session ends at once.
        Disabled = "disabled",
    }
}

/// Change a user's role, status or organisation (admin).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// New status: active or disabled.
    #[serde(default)]
    pub status: Option<UserStatusChange>,
    /// New organisation.
    #[serde(default)]
    pub organisation_id: Option<String>,
}

/// A stored API client.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_clients)]
pub struct ApiClientRow {
    /// UUID v7.
    pub id: String,
    /// Name.
    pub name: String,
    /// Organisation.
    pub organisation_id: String,
    /// Public client id.
    pub client_id: String,
    /// SHA-256 of the secret.
    pub secret_hash: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Admin who created it.
    pub created_by: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Revoked.
    pub revoked_at: Option<NaiveDateTime>,
}

/// An API client as listed (no secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClient {
    /// UUID v7.
    pub id: String,
    /// Name of the partner app.
    pub name: String,
    /// Organisation it acts for.
    pub organisation_id: String,
    /// Public client id for the token endpoint.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Revoked (RFC 3339), if revoked.
    pub revoked_at: Option<String>,
}

impl From<ApiClientRow> for ApiClient {
    fn from(r: ApiClientRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            organisation_id: r.organisation_id,
            client_id: r.client_id,
            scopes: Scope::parse_list(&r.scopes),
            created_at: rfc3339(r.created_at),
            revoked_at: r.revoked_at.map(rfc3339),
        }
    }
}

impl Audited for ApiClient {
    const ENTITY: &'static str = "api_client";
    fn entity_id(&self) -> &str {
        &self.id
    }
}

/// A new API client, with its secret shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedApiClient {
    /// The client.
    #[serde(flatten)]
    pub client: ApiClient,
    /// The secret; store it now, it is never shown again.
    pub client_secret: String,
}

/// Create an API client.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiClient {
    /// Name of the partner app, 2–120 characters, not blank, no control characters.
    #[schema(
        min_length = 2,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*[^\s\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF][^\x00-\x1F\x7F-\x9F\u200B-\u200D\u202A-\u202E\u2060\u2066-\u2069\uFEFF]*$"
    )]
    pub name: String,
    /// Organisation it acts for.
    pub organisation_id: String,
    /// Scopes to grant (at least one).
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
}

/// OAuth2 token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientToken {
    /// JWT access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until expiry.
    pub expires_in: i64,
    /// Space-separated granted scopes.
    pub scope: String,
}

/// OAuth2 error response (RFC 6749 §5.2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthError {
    /// invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type or invalid_scope.
    pub error: &'static str,
    /// What went wrong.
    pub error_description: String,
}

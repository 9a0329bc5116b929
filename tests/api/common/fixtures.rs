//! Quick ways to get organisations and logged-in users of every role in a test.

use std::sync::OnceLock;

use idpc_hub::audit::Actor;
use idpc_hub::directory::{NewOrganisation, OrganisationKind, PartnerType};
use idpc_hub::identity::UserRow;
use serde_json::json;

use super::TestApp;

/// The password every fixture user has.
pub const PASSWORD: &str = "correct horse battery staple";

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let params = argon2::Params::new(19_456, 2, 1, None).unwrap();
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    })
    .clone()
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// User id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Access token.
    pub token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Organisation, for members.
    pub organisation_id: Option<String>,
}

impl TestApp {
    /// Creates an organisation directly (as the system) and returns its id.
    pub async fn org_with(
        &self,
        name: &str,
        kind: OrganisationKind,
        partner_type: Option<PartnerType>,
        country: &str,
        region: &str,
    ) -> String {
        let new = NewOrganisation {
            name: name.into(),
            slug: None,
            kind,
            partner_type,
            country: country.into(),
            region: region.into(),
            identifiers: Vec::new(),
        };
        let config = self.state.config.clone();
        self.db(move |c| {
            idpc_hub::directory::create(c, &config, &Actor::System, None, new)
                .expect("create organisation")
                .id
        })
        .await
    }

    /// A member organisation in Europe.
    pub async fn member_org(&self, name: &str) -> String {
        self.org_with(name, OrganisationKind::Member, None, "GB", "europe")
            .await
    }

    /// A donor partner organisation.
    pub async fn donor_org(&self, name: &str) -> String {
        self.org_with(
            name,
            OrganisationKind::Partner,
            Some(PartnerType::Donor),
            "US",
            "north_america",
        )
        .await
    }

    /// Creates an active user with [`PASSWORD`] and logs in over HTTP.
    pub async fn user(&self, role: &str, organisation_id: Option<&str>) -> TestUser {
        let id = uuid::Uuid::now_v7().to_string();
        let email = format!("{role}-{}@users.example", &id[id.len() - 12..]);
        let now = chrono::Utc::now().naive_utc();
        let row = UserRow {
            id: id.clone(),
            email: email.clone(),
            display_name: format!("Test {role}"),
            role: role.parse().expect("a known role"),
            organisation_id: organisation_id.map(str::to_string),
            status: idpc_hub::identity::UserStatus::Active,
            password_hash: Some(password_hash()),
            failed_logins: 0,
            locked_until: None,
            last_login_at: None,
            created_at: now,
            updated_at: now,
            language: "en".into(),
        };
        self.db(move |c| idpc_hub::identity::insert_user(c, &row).expect("insert user"))
            .await;
        let r = self
            .post("/api/v1/auth/login")
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect(200);
        TestUser {
            id,
            email,
            token: r.body["access_token"].as_str().unwrap().to_string(),
            refresh_token: r.body["refresh_token"].as_str().unwrap().to_string(),
            organisation_id: organisation_id.map(str::to_string),
        }
    }

    /// An admin.
    pub async fn admin(&self) -> TestUser {
        self.user("admin", None).await
    }

    /// An API client of `org` with `scopes`; returns (client_id, client_secret, access token).
    pub async fn api_client(
        &self,
        admin: &TestUser,
        org: &str,
        scopes: &[&str],
    ) -> (String, String, String) {
        let r = self
            .post("/api/v1/api-clients")
            .bearer(&admin.token)
            .json(&json!({"name": "Partner app", "organisation_id": org, "scopes": scopes}))
            .send()
            .await
            .expect(201);
        let client_id = r.body["client_id"].as_str().unwrap().to_string();
        let secret = r.body["client_secret"].as_str().unwrap().to_string();
        let t = self
            .post("/api/v1/auth/token")
            .body(
                "application/x-www-form-urlencoded",
                format!(
                    "grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
                ),
            )
            .send()
            .await
            .expect(200);
        (
            client_id,
            secret,
            t.body["access_token"].as_str().unwrap().to_string(),
        )
    }
}

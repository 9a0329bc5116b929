//! `idpc-hub demo-data`: a realistic network to try every endpoint from /docs within minutes
//! of `cargo run`. Everything is written through the service functions the API calls, with a
//! caller of the right role, so four eyes, limits, audit rows, emails (outbox) and webhook
//! events are all real. Refused in production; a rerun creates nothing it already created.
//!
//! `directory` seeds the organisations, `people` the accounts, `grants` the money (funds in
//! three currencies, grants in every state, tranches and reports), `partners` the membership
//! applications and the partner app with its webhook subscription; `exports::demo` adds the
//! published fund and the open-data identifiers.

mod directory;
mod grants;
mod partners;
mod people;
mod steps;

use diesel::prelude::*;

use crate::AppState;
use crate::auth::Role;
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;

pub use people::DemoUser;

/// The request id of every audit row the demo writes, so seeded history is recognisable.
const REQUEST_ID: &str = "demo-data";

/// Named organisations the demo refers to (created by `directory`).
const KENYA: &str = "Harm Reduction Network Kenya";
const ASIA: &str = "Asia Drug Policy Alliance";
const LISBON: &str = "Lisbon Drug Policy Forum";
const MEXICO: &str = "Red Latinoamericana de Reducción de Daños";
const MENA: &str = "MENA Harm Reduction Association";
const NORTH_AMERICA: &str = "North American Drug Policy Coalition";
const PACIFIC: &str = "Pacific Drug and Alcohol Network";
const COMMUNITY_NETWORK: &str = "Global Network of People Who Use Drugs";
/// The donors of the three funds (USD, EUR, GBP).
const DONOR_USD: &str = "Open Society Drug Policy Fund";
const DONOR_EUR: &str = "Euro Health and Rights Foundation";
const DONOR_GBP: &str = "British Fund for Drug Policy Reform";

/// Demo accounts, documented in the README. Staff log in at once; each member belongs to a
/// grantee of an active grant, so tranches and reports can be tried from both sides.
pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        email: "admin@demo.idpc.example",
        name: "Ada Admin",
        role: Role::Admin,
        password: "demo-admin-password",
        organisation: None,
    },
    DemoUser {
        email: "grants@demo.idpc.example",
        name: "Grace Grants",
        role: Role::GrantOfficer,
        password: "demo-grants-password",
        organisation: None,
    },
    DemoUser {
        email: "grants2@demo.idpc.example",
        name: "Gabriel Grants",
        role: Role::GrantOfficer,
        password: "demo-grants2-password",
        organisation: None,
    },
    DemoUser {
        email: "finance@demo.idpc.example",
        name: "Fatima Finance",
        role: Role::FinanceOfficer,
        password: "demo-finance-password",
        organisation: None,
    },
    DemoUser {
        email: "member@demo.idpc.example",
        name: "Mateo Member",
        role: Role::Member,
        password: "demo-member-password",
        organisation: Some(KENYA),
    },
    DemoUser {
        email: "member2@demo.idpc.example",
        name: "Leonor Member",
        role: Role::Member,
        password: "demo-member2-password",
        organisation: Some(LISBON),
    },
];

/// A partner app's credentials, shown once: only the hash of the secret is stored.
#[derive(Debug, Clone)]
pub struct PartnerApp {
    /// Its name.
    pub name: String,
    /// `client_id` for `POST /api/v1/auth/token`.
    pub client_id: String,
    /// `client_secret`; never shown again.
    pub client_secret: String,
    /// The id of its webhook subscription (created disabled).
    pub webhook_id: String,
    /// The subscription's signing secret (`whsec_…`), to verify deliveries; never shown again.
    pub webhook_secret: String,
}

/// What one run created (zero everywhere when the network was already seeded).
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// Organisations created.
    pub organisations: usize,
    /// Demo accounts created, with their passwords.
    pub users: Vec<&'static DemoUser>,
    /// Funds created.
    pub funds: usize,
    /// Grants created.
    pub grants: usize,
    /// Tranches requested.
    pub tranches: usize,
    /// Reports asked for.
    pub reports: usize,
    /// Membership applications submitted.
    pub applications: usize,
    /// Webhook subscriptions created.
    pub webhooks: usize,
    /// The partner app, when this run created it (its secret is printed this once).
    pub partner_app: Option<PartnerApp>,
}

impl Seeded {
    /// True when the run created nothing: the network was seeded before.
    pub fn is_empty(&self) -> bool {
        self.organisations
            + self.users.len()
            + self.funds
            + self.grants
            + self.tranches
            + self.reports
            + self.applications
            + self.webhooks
            == 0
            && self.partner_app.is_none()
    }

    /// What the command prints: counts, the accounts it made, and the partner app's secret.
    pub fn report(&self) -> String {
        if self.is_empty() {
            return "demo data: already seeded; nothing created (the accounts are listed in \
                    README.md; the partner app's secret was printed when it was created)\n"
                .into();
        }
        let mut out = format!(
            "demo data: {} organisation(s), {} user(s), {} fund(s), {} grant(s), {} tranche(s), \
             {} report(s), {} membership application(s), {} webhook subscription(s) created\n",
            self.organisations,
            self.users.len(),
            self.funds,
            self.grants,
            self.tranches,
            self.reports,
            self.applications,
            self.webhooks,
        );
        if !self.users.is_empty() {
            out.push_str("demo accounts (email, role, password):\n");
            for u in &self.users {
                out.push_str(&format!(
                    "  {:<28} {:<16} {}\n",
                    u.email,
                    u.role.as_str(),
                    u.password
                ));
            }
        }
        if let Some(app) = &self.partner_app {
            out.push_str(&format!(
                "partner app \"{}\" (scopes directory:read grants:read); store the secret now, \
                 it is never shown again:\n  client_id     {}\n  client_secret {}\n",
                app.name, app.client_id, app.client_secret
            ));
            out.push_str(&format!(
                "its webhook subscription (disabled; an admin PATCHes /api/v1/webhooks/{{id}} with \
                 your receiver's url and \"enabled\": true; a receiver on this machine also needs \
                 WEBHOOK_ALLOWED_CIDRS=127.0.0.0/8):\n  id             {}\n  signing secret {}\n",
                app.webhook_id, app.webhook_secret
            ));
        }
        out
    }
}

/// Seeds the demo network. Refused when `APP_ENV=production`.
pub async fn seed(state: &AppState) -> Result<Seeded, ApiError> {
    if state.config.app_env == crate::config::AppEnv::Production {
        return Err(ApiError::Forbidden(
            "demo-data is refused when APP_ENV=production".into(),
        ));
    }
    let before = state.db(counts).await?;
    let config = state.config.clone();
    let organisations = state.db(move |c| directory::seed(c, &config)).await?;
    let users = people::seed(state).await?;
    // The published USD fund and its grants, so the open-data exports have content.
    crate::exports::demo::seed(state).await?;
    // Each part in one transaction (its commands become savepoints), so a run that fails
    // leaves no half-seeded part for the next run to skip.
    let config = state.config.clone();
    state
        .db(move |c| write_tx(c, |c| grants::seed(c, &config)))
        .await?;
    let config = state.config.clone();
    let partner_app = state
        .db(move |c| write_tx(c, |c| partners::seed(c, &config)))
        .await?;
    let after = state.db(counts).await?;
    let added = |i: usize| usize::try_from(after[i] - before[i]).unwrap_or(0);
    Ok(Seeded {
        organisations,
        users,
        funds: added(0),
        grants: added(1),
        tranches: added(2),
        reports: added(3),
        applications: added(4),
        webhooks: added(5),
        partner_app,
    })
}

/// Rows of the tables the demo adds to, in the order `Seeded` reports them.
fn counts(c: &mut DbConn) -> Result<[i64; 6], ApiError> {
    use crate::db::schema::{
        disbursements, funds, grant_reports, grants, membership_applications, webhook_subscriptions,
    };
    Ok([
        funds::table.count().get_result(c)?,
        grants::table.count().get_result(c)?,
        disbursements::table.count().get_result(c)?,
        grant_reports::table.count().get_result(c)?,
        membership_applications::table.count().get_result(c)?,
        webhook_subscriptions::table.count().get_result(c)?,
    ])
}

//! The demo's outside world: two membership applications waiting for the secretariat (one
//! submitted, one under review), a member's request to renew, and a partner app with
//! `directory:read` and `grants:read` whose secret is returned once, with one webhook
//! subscription created disabled (PATCH its `url` to a receiver of yours and `enabled` to true
//! to see the queued ping arrive).

use diesel::prelude::*;

use super::PartnerApp;
use super::people::{meta, principal};
use crate::auth::Scope;
use crate::auth::caller::Admin;
use crate::config::Config;
use crate::db::DbConn;
use crate::db::schema::{api_clients, membership_applications, organisations};
use crate::directory::applications::{
    self, ApplicationContact, ApplicationOrganisation, NewApplication,
};
use crate::error::ApiError;
use crate::identity::clients;
use crate::identity::model::NewApiClient;
use crate::webhooks::model::{EventType, NewSubscription};
use crate::webhooks::service as webhooks;

/// The partner app's name, by which a rerun finds it.
const APP_NAME: &str = "Demo partner map";

/// One demo application: (organisation, country, region, focus areas, contact name, contact
/// email, motivation).
type Applicant = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
);

/// The applications; the second is taken under review.
const APPLICATIONS: &[Applicant] = &[
    (
        "Georgian Network of Women Who Use Drugs",
        "GE",
        "europe",
        &["women_drug_policy", "support_dont_punish"],
        "Nino Beridze",
        "applicant1@demo.idpc.example",
        "We run peer support for women who use drugs in Tbilisi and Batumi and want to join \
         the network's advocacy on gender-sensitive drug policy.",
    ),
    (
        "Voces por la Reforma de Política de Drogas",
        "CO",
        "latin_america_caribbean",
        &["decriminalisation_justice_reform"],
        "Camilo Restrepo",
        "applicant2@demo.idpc.example",
        "Colombian lawyers and community organisers working on alternatives to incarceration \
         for small-scale drug offences; we would like to share evidence with the network.",
    ),
];

/// The second demo member asks to renew its organisation's membership, so the secretariat's
/// list of renewal requests has one to decide (once: a rerun finds it, open or decided).
fn renewal_request(c: &mut DbConn, config: &Config) -> Result<(), ApiError> {
    use crate::db::schema::membership_renewal_requests as requests;
    let who = principal(c, super::DEMO_USERS[5].email)?;
    let member = crate::auth::caller::OrgMember::try_from(&who)?;
    let asked: i64 = requests::table
        .filter(requests::organisation_id.eq(&member.organisation_id))
        .count()
        .get_result(c)?;
    if asked == 0 {
        let today = config.clock.naive().date();
        let org = member.organisation_id.clone();
        crate::directory::renewal::request(c, config, &member, &meta(), &org, today)?;
    }
    Ok(())
}

/// Seeds what is missing; returns the partner app when this run created it.
pub(super) fn seed(c: &mut DbConn, config: &Config) -> Result<Option<PartnerApp>, ApiError> {
    let admin_principal = principal(c, super::DEMO_USERS[0].email)?;
    let admin = Admin::try_from(&admin_principal)?;
    for (i, (name, country, region, areas, contact, email, motivation)) in
        APPLICATIONS.iter().enumerate()
    {
        let exists: i64 = membership_applications::table
            .filter(membership_applications::contact_email.eq(email))
            .count()
            .get_result(c)?;
        if exists > 0 {
            continue;
        }
        let application = NewApplication {
            organisation: ApplicationOrganisation {
                name: name.to_string(),
                country: country.to_string(),
                region: region.to_string(),
                website: Some(format!(
                    "https://{}.example.org",
                    crate::directory::slugify(name)
                )),
                description: None,
                focus_areas: areas.iter().map(|a| a.to_string()).collect(),
            },
            contact: ApplicationContact {
                name: contact.to_string(),
                email: email.to_string(),
            },
            motivation: motivation.to_string(),
        };
        let row = applications::submit(c, config, &meta(), application)?;
        if i == 1 {
            applications::start_review(c, config, &admin, &meta(), &row.id)?;
        }
    }
    renewal_request(c, config)?;
    let exists: i64 = api_clients::table
        .filter(api_clients::name.eq(APP_NAME))
        .count()
        .get_result(c)?;
    if exists > 0 {
        return Ok(None);
    }
    let organisation_id: String = organisations::table
        .filter(organisations::name.eq(super::COMMUNITY_NETWORK))
        .select(organisations::id)
        .first(c)?;
    let request = NewApiClient {
        name: APP_NAME.into(),
        organisation_id,
        scopes: vec![Scope::DirectoryRead, Scope::GrantsRead],
    };
    let created = clients::create_client(c, config, &admin, &meta(), request)?;
    let subscription = NewSubscription {
        url: "https://partner.example.org/hooks/idpc".into(),
        events: vec![
            EventType::GrantPublished,
            EventType::GrantUpdated,
            EventType::OrganisationUpdated,
        ],
        description: Some("Demo: set url to your receiver and enabled to true.".into()),
        enabled: Some(false),
        api_client_id: Some(created.client.id.clone()),
    };
    let hook = webhooks::create(c, config, &admin_principal, &meta(), subscription)?;
    Ok(Some(PartnerApp {
        name: APP_NAME.into(),
        client_id: created.client.client_id,
        client_secret: created.client_secret,
        webhook_id: hook.subscription.id,
        webhook_secret: hook.secret,
    }))
}

//! Every route of the service in one place: the API at a glance.
//!
//! Documented routes are registered through utoipa-actix-web so the OpenAPI document is
//! built from this very list. Unknown paths get 404, known paths with a wrong method 405.

use actix_web::dev::ResourceDef;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::error::ApiError;
use crate::http_contract::{Limit, RATE_LIMITS};
use crate::{
    AppState, admin, directory, documents, exports, grants, health, identity, payments, portfolio,
    webhooks,
};

/// Registers every documented route (also used to generate the OpenAPI document), in the
/// order they are matched.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(health::metrics)
        .service(
            scope::scope("/api/v1")
                .configure(identity_routes)
                .configure(directory_routes)
                .configure(grant_routes)
                .configure(payment_and_document_routes)
                .configure(admin_and_webhook_routes),
        );
}

/// Sign-in, the caller's account, users and partner apps.
fn identity_routes(cfg: &mut ServiceConfig) {
    // Authentication
    cfg.service(identity::api::login)
        .service(identity::api::refresh)
        .service(identity::api::logout)
        .service(identity::api::token)
        .service(identity::api::password_reset)
        .service(identity::api::password_reset_confirm)
        .service(identity::api::accept_invitation)
        // The caller's account
        .service(identity::api::me)
        .service(identity::api::update_me)
        .service(identity::api::change_password)
        // Users and partner apps (admin)
        .service(identity::api::list_users)
        .service(identity::api::create_user)
        .service(identity::api::get_user)
        .service(identity::api::update_user)
        .service(identity::api::resend_invitation)
        .service(identity::api::hand_over_primary_contact)
        .service(identity::api::list_clients)
        .service(identity::api::create_client)
        .service(identity::api::get_client)
        .service(identity::api::revoke_client);
}

/// The directory and membership.
fn directory_routes(cfg: &mut ServiceConfig) {
    // Directory (fixed paths before /organisations/{id})
    cfg.service(directory::api::list_organisations)
        .service(directory::api::create_organisation)
        .service(directory::api::organisation_facets)
        .service(directory::api::export_organisations)
        .service(directory::api::get_organisation)
        .service(directory::api::update_organisation)
        .service(directory::api::organisation_history)
        // Membership
        .service(directory::api::change_membership)
        .service(directory::api::request_renewal)
        .service(directory::api::list_renewal_requests)
        .service(directory::api::decline_renewal_request)
        .service(directory::api::submit_application)
        .service(directory::api::list_applications)
        .service(directory::api::get_application)
        .service(directory::api::review_application)
        .service(directory::api::approve_application)
        .service(directory::api::reject_application);
}

/// Onward grants: funds, exchange rates, grants, tranches, reports and their history.
fn grant_routes(cfg: &mut ServiceConfig) {
    // Onward grants: funds, grants, tranches, reports, exports
    cfg.service(grants::api::fund::create_fund)
        .service(grants::api::fund::list_funds)
        .service(grants::api::fund::get_fund)
        .service(grants::api::fund::update_fund)
        .service(grants::api::fund::approve_fund_increase)
        .service(grants::api::history::fund_history)
        .service(grants::api::fx::list_fx_rates)
        .service(grants::api::fx::get_fx_rate)
        .service(grants::api::fx::put_fx_rate)
        .service(grants::api::fx::confirm_fx_rate)
        .service(grants::api::fx::fx_rate_history)
        .service(grants::api::grant::create_grant)
        .service(grants::api::grant::list_grants)
        .service(grants::api::export::grants_csv)
        .service(grants::api::grant::get_grant)
        .service(grants::api::grant::update_grant)
        .service(grants::api::grant::submit_grant)
        .service(grants::api::grant::approve_grant)
        .service(grants::api::grant::reject_grant)
        .service(grants::api::grant::activate_grant)
        .service(grants::api::grant::close_grant)
        .service(grants::api::grant::cancel_grant)
        .service(grants::api::history::grant_history)
        .service(grants::api::budget::get_budget)
        .service(grants::api::budget::put_budget)
        .service(grants::api::budget::get_indicators)
        .service(grants::api::budget::put_indicators)
        .service(grants::api::budget::get_budget_revision)
        .service(grants::api::budget::approve_budget_revision)
        .service(grants::api::budget::reject_budget_revision)
        .service(grants::api::budget::get_report_results)
        .service(grants::api::tranche::request_disbursement)
        .service(grants::api::tranche::list_disbursements)
        .service(grants::api::tranche::get_disbursement)
        .service(grants::api::tranche::approve_disbursement)
        .service(grants::api::tranche::reject_disbursement)
        .service(grants::api::tranche::cancel_disbursement)
        .service(grants::api::tranche::pay_disbursement)
        .service(grants::api::tranche::reverse_disbursement)
        .service(grants::api::history::disbursement_history)
        .service(grants::api::report::create_report)
        .service(grants::api::report::list_reports)
        .service(grants::api::report::get_report)
        .service(grants::api::report::submit_report)
        .service(grants::api::report::accept_report)
        .service(grants::api::report::return_report)
        .service(grants::api::history::report_history);
}

/// Payments, documents and open data.
fn payment_and_document_routes(cfg: &mut ServiceConfig) {
    // Payee bank accounts, payment runs and the payments register
    cfg.service(payments::api::propose_bank_account)
        .service(payments::api::list_bank_accounts)
        .service(payments::api::get_bank_account)
        .service(payments::api::confirm_bank_account)
        .service(payments::api::retire_bank_account)
        .service(payments::api::prepare_payment_run)
        .service(payments::api::list_payment_runs)
        .service(payments::api::get_payment_run)
        .service(payments::api::approve_payment_run)
        .service(payments::api::record_payment_run)
        .service(payments::api::return_payment_line)
        .service(payments::api::payment_run_pain001)
        .service(payments::api::payment_run_csv)
        .service(payments::api::payments_register)
        .service(payments::api::payments_register_csv)
        // Portfolio reporting: the portfolio, the membership table, fund statements
        .service(portfolio::api::get_portfolio)
        .service(portfolio::api::portfolio_csv)
        .service(portfolio::api::portfolio_xlsx)
        .service(portfolio::api::get_membership_table)
        .service(portfolio::api::membership_csv)
        .service(portfolio::api::membership_xlsx)
        .service(portfolio::api::fund_statement)
        .service(portfolio::api::fund_statement_csv)
        .service(portfolio::api::fund_statement_pdf)
        // Documents (files on grants, reports, tranches, organisations, applications)
        .service(documents::api::upload_document)
        .service(documents::api::list_documents)
        .service(documents::api::get_document)
        .service(documents::api::download_document)
        .service(documents::api::upload_version)
        .service(documents::api::delete_document)
        // Open data: 360Giving and IATI, and how a fund is published
        .service(exports::api::giving_export)
        .service(exports::api::iati_export)
        .service(exports::api::get_fund_publication)
        .service(exports::api::set_fund_publication);
}

/// Admin tools and webhooks for partner apps.
fn admin_and_webhook_routes(cfg: &mut ServiceConfig) {
    // Admin tools
    cfg.service(admin::outbox::list_outbox)
        .service(admin::outbox::retry_outbox)
        // Webhooks for partner apps
        .service(webhooks::api::create_webhook)
        .service(webhooks::api::list_webhooks)
        .service(webhooks::api::get_webhook)
        .service(webhooks::api::update_webhook)
        .service(webhooks::api::delete_webhook)
        .service(webhooks::api::rotate_webhook_secret)
        .service(webhooks::api::list_webhook_deliveries)
        .service(webhooks::api::retry_webhook_delivery)
        .service(webhooks::api::replay_webhook);
}

/// Registers the documented routes plus the docs page and the spec itself (built once, at
/// start, and handed in from the app state).
pub fn configure_app(cfg: &mut web::ServiceConfig, spec: serde_json::Value) {
    configure(&mut ServiceConfig::new(cfg));
    // The console's pages (outside /api/v1, not in the OpenAPI document).
    crate::web::configure(cfg);
    let swagger = SwaggerUi::new("/docs/{_:.*}")
        .external_url_unchecked("/openapi.json", spec)
        .config(
            SwaggerConfig::from("/openapi.json")
                .validator_url("none")
                .try_it_out_enabled(true),
        );
    cfg.service(swagger).route(
        "/docs",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        }),
    );
}

/// One documented operation, as the middleware needs it.
struct Operation {
    method: &'static str,
    /// It documents (and so honours) an `Idempotency-Key`.
    idempotent: bool,
    /// The limits its handler counts.
    limits: Vec<Limit>,
}

/// What the middleware knows of each documented route, read from the operations the
/// handlers declare (so nothing here names a path).
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Operation>)>,
}

impl RouteTable {
    /// Builds the table from the OpenAPI document.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let ops = [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ];
                let ops = ops
                    .into_iter()
                    .filter_map(|(method, op)| op.as_ref().map(|op| operation(method, op)))
                    .collect();
                (ResourceDef::new(path.as_str()), ops)
            })
            .collect();
        Self { routes }
    }

    fn operation(&self, method: &str, path: &str) -> Option<&Operation> {
        let (_, ops) = self.routes.iter().find(|(def, _)| def.is_match(path))?;
        ops.iter().find(|op| op.method == method)
    }

    /// True when `path` is a POST route that honours `Idempotency-Key`.
    pub fn honours_idempotency_key(&self, path: &str) -> bool {
        self.operation("POST", path).is_some_and(|op| op.idempotent)
    }

    /// The rate limits the handler of `method` on `path` counts.
    pub fn limits(&self, method: &str, path: &str) -> &[Limit] {
        self.operation(method, path)
            .map_or(&[], |op| op.limits.as_slice())
    }

    /// The methods allowed on a path, when it is a known route.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let (_, ops) = self.routes.iter().find(|(def, _)| def.is_match(path))?;
        let mut methods: Vec<String> = ops.iter().map(|op| op.method.to_string()).collect();
        if methods.iter().any(|m| m == "GET") {
            methods.push("HEAD".into());
        }
        Some(methods)
    }
}

fn operation(method: &'static str, op: &utoipa::openapi::path::Operation) -> Operation {
    let idempotent = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.name == crate::idempotency::HEADER);
    let limits = op
        .extensions
        .as_ref()
        .and_then(|e| e.get(RATE_LIMITS))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    Operation {
        method,
        idempotent,
        limits,
    }
}

/// The default service: 405 with `Allow` for a known path, else 404.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    match state.routes.allowed(req.path()) {
        Some(methods) => Err(ApiError::MethodNotAllowed(methods)),
        None => Err(ApiError::NotFound),
    }
}

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
use crate::{AppState, directory, grants, health, identity, notify, webhooks};

/// Registers every documented route (also used to generate the OpenAPI document).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(health::metrics)
        .service(
            scope::scope("/api/v1")
                // Authentication
                .service(identity::api::login)
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
                .service(identity::api::list_clients)
                .service(identity::api::create_client)
                .service(identity::api::revoke_client)
                // Directory (fixed paths before /organisations/{id})
                .service(directory::api::list_organisations)
                .service(directory::api::create_organisation)
                .service(directory::api::organisation_facets)
                .service(directory::api::export_organisations)
                .service(directory::api::get_organisation)
                .service(directory::api::update_organisation)
                .service(directory::api::organisation_history)
                // Membership
                .service(directory::api::change_membership)
                .service(directory::api::submit_application)
                .service(directory::api::list_applications)
                .service(directory::api::get_application)
                .service(directory::api::review_application)
                .service(directory::api::approve_application)
                .service(directory::api::reject_application)
                // Onward grants: funds, grants, tranches, reports, exports
                .service(grants::api::create_fund)
                .service(grants::api::list_funds)
                .service(grants::api::get_fund)
                .service(grants::api::update_fund)
                .service(grants::api::create_grant)
                .service(grants::api::list_grants)
                .service(grants::api::grants_csv)
                .service(grants::api::get_grant)
                .service(grants::api::update_grant)
                .service(grants::api::submit_grant)
                .service(grants::api::approve_grant)
                .service(grants::api::reject_grant)
                .service(grants::api::activate_grant)
                .service(grants::api::close_grant)
                .service(grants::api::cancel_grant)
                .service(grants::api::request_disbursement)
                .service(grants::api::list_disbursements)
                .service(grants::api::get_disbursement)
                .service(grants::api::approve_disbursement)
                .service(grants::api::reject_disbursement)
                .service(grants::api::cancel_disbursement)
                .service(grants::api::pay_disbursement)
                .service(grants::api::reverse_disbursement)
                .service(grants::api::create_report)
                .service(grants::api::submit_report)
                .service(grants::api::accept_report)
                .service(grants::api::return_report)
                .service(grants::api::giving_export)
                // Admin tools
                .service(notify::api::list_outbox)
                .service(notify::api::retry_outbox)
                // Webhooks for partner apps
                .service(webhooks::api::create_webhook)
                .service(webhooks::api::list_webhooks)
                .service(webhooks::api::get_webhook)
                .service(webhooks::api::update_webhook)
                .service(webhooks::api::delete_webhook)
                .service(webhooks::api::rotate_webhook_secret)
                .service(webhooks::api::list_webhook_deliveries)
                .service(webhooks::api::retry_webhook_delivery)
                .service(webhooks::api::replay_webhook),
        );
}

/// Registers the documented routes plus the docs page and the spec itself.
pub fn configure_app(cfg: &mut web::ServiceConfig) {
    configure(&mut ServiceConfig::new(cfg));
    let swagger = SwaggerUi::new("/docs/{_:.*}")
        .url("/openapi.json", crate::openapi::spec())
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

/// Path patterns of documented routes with their methods.
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl RouteTable {
    /// Builds the table from the OpenAPI document.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut routes = Vec::new();
        for (path, item) in doc.paths.paths.iter() {
            let mut methods = Vec::new();
            let ops = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            for (m, present) in ops {
                if present {
                    methods.push(m.to_string());
                }
            }
            if methods.iter().any(|m| m == "GET") {
                methods.push("HEAD".into());
            }
            routes.push((ResourceDef::new(path.as_str()), methods));
        }
        Self { routes }
    }

    /// The methods allowed on a path, when it is a known route.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        self.routes
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, m)| m.clone())
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

//! idpc-hub: the backend of a civil-society network — a directory of its member organisations
//! and the onward grants it makes to them.
//!
//! `build_app` assembles the HTTP application; the binary and every integration test use it,
//! so what is tested is what runs. Rules live in each domain's service modules, HTTP in `api`.

// A panic in a request is a 500 and a lost request: outside tests, every failure is a value.
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod codes;
pub mod command;
pub mod config;
pub mod crypto;
pub mod csv_text;
pub mod db;
pub mod demo;
pub mod directory;
pub mod documents;
pub mod error;
pub mod exports;
pub mod extract;
pub mod grants;
pub mod health;
pub mod http_contract;
pub mod i18n;
pub mod idempotency;
pub mod identity;
pub mod jobs;
pub mod kit;
pub mod metrics;
pub mod middleware;
pub mod money;
pub mod notify;
pub mod openapi;
pub mod pagination;
pub mod payments;
pub mod portfolio;
pub mod queue;
pub mod routes;
pub mod telemetry;
pub mod web;
pub mod webhooks;
pub mod xml_text;

use std::sync::Arc;

use actix_cors::Cors;
use actix_web::App;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::web as aw;

use crate::config::Config;
use crate::db::{DbConn, Pool};
use crate::error::ApiError;

/// Everything a request handler may need, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    /// Validated settings.
    pub config: Arc<Config>,
    /// Database pool.
    pub pool: Pool,
    /// One permit per pooled connection: a request waits for a permit (as a future, on its
    /// worker) before it takes a thread of the blocking pool, so at most as many threads
    /// work the database as there are connections. Without it every concurrent request
    /// held a blocking thread that waited on the pool: dozens of threads, their context
    /// switches, and a malloc arena each (bench/results/directory.md).
    pub db_permits: Arc<tokio::sync::Semaphore>,
    /// Prometheus registry and gauges.
    pub metrics: metrics::Metrics,
    /// Route patterns and their methods, for 405 answers.
    pub routes: Arc<routes::RouteTable>,
    /// The OpenAPI document as published, built once at start, its `servers` from
    /// `PUBLIC_BASE_URL`.
    pub openapi: Arc<serde_json::Value>,
    /// The strong ETag of the served document (a digest of its JSON).
    pub openapi_etag: String,
    /// Access-token keys.
    pub jwt: auth::tokens::JwtKeys,
    /// Bounded argon2id hasher.
    pub hasher: auth::password::Hasher,
    /// At-rest encryption keys (document files, bank account numbers).
    pub keyring: crypto::KeyRing,
    /// Where document files are kept (encrypted).
    pub documents: documents::store::Store,
}

/// Failure to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Database unreachable or migrations failed.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// Something else at start-up.
    #[error("{0}")]
    Other(String),
}

impl AppState {
    /// The app's clock (shared by its handlers, workers and jobs; see [`clock::Clock`]).
    pub fn clock(&self) -> &clock::Clock {
        &self.config.clock
    }

    /// Connects the pool, applies migrations and prepares shared state.
    pub fn new(config: Config) -> Result<Self, StartError> {
        let pool = db::build_pool(&config.database_url, config.database_pool_size)?;
        {
            let mut conn = pool.get().map_err(db::DbError::from)?;
            let ran = db::run_migrations(&mut conn)?;
            if ran > 0 {
                tracing::info!(ran, backend = conn.backend_name(), "applied migrations");
            }
            let built =
                directory::search::document::backfill(&mut conn).map_err(db::DbError::from)?;
            if built > 0 {
                tracing::info!(built, "built missing directory search documents");
            }
        }
        let metrics = metrics::Metrics::new().map_err(|e| StartError::Other(e.to_string()))?;
        command::set_publisher(webhooks::publish_domain);
        let spec = openapi::spec_for(&config.public_base_url, &config.base_currency);
        let routes = Arc::new(routes::RouteTable::from_openapi(&spec));
        let document = openapi::document(&spec);
        let openapi_etag = openapi::etag(&document);
        let jwt = auth::tokens::JwtKeys::from_config(&config).map_err(StartError::Other)?;
        let hasher = auth::password::Hasher::new(&config).map_err(StartError::Other)?;
        let keyring = crypto::KeyRing::from_config(&config).map_err(StartError::Other)?;
        {
            // A lost key is an error now, not a failed download later.
            let mut conn = pool.get().map_err(db::DbError::from)?;
            documents::verify::check_key_ring(&mut conn, &keyring).map_err(StartError::Other)?;
        }
        let documents = documents::store::Store::from_settings(&config.documents)
            .map_err(|e| StartError::Other(format!("DOCUMENT_STORE: {e}")))?;
        hasher.warm_up();
        let db_permits = Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize));
        Ok(Self {
            config: Arc::new(config),
            pool,
            db_permits,
            metrics,
            routes,
            openapi: Arc::new(document),
            openapi_etag,
            jwt,
            hasher,
            keyring,
            documents,
        })
    }

    /// Runs blocking database work on the blocking pool with a pooled connection.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        // Never closed, so acquiring only waits.
        let _permit = self
            .db_permits
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        aw::block(move || {
            let mut conn = pool.get().map_err(db::DbError::from)?;
            f(&mut conn)
        })
        .await?
    }
}

/// Builds the application with every route and middleware. Used by `serve` and the tests.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.max_body_bytes;
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
        ])
        .allowed_header("idempotency-key")
        .allowed_header("x-request-id")
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::LINK,
        ])
        .expose_headers([
            "x-request-id",
            "idempotent-replayed",
            "ratelimit",
            "ratelimit-policy",
        ])
        .max_age(3600);
    for origin in &state.config.cors_allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    let prometheus = state.metrics.http.clone();
    App::new()
        .app_data(aw::Data::new(state.clone()))
        .app_data(extract::BodyLimit(limit))
        .app_data(aw::PayloadConfig::new(limit))
        .app_data(aw::QueryConfig::default().error_handler(extract::query_error))
        .app_data(aw::PathConfig::default().error_handler(extract::path_error))
        .configure(|cfg| routes::configure_app(cfg, (*state.openapi).clone()))
        .default_service(aw::to(routes::fallback))
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::X_FRAME_OPTIONS, "DENY"))
                .add((header::REFERRER_POLICY, "no-referrer")),
        )
        // Inside the request context, so a refused origin or preflight is a problem+json
        // with X-Request-Id like every other error.
        .wrap(cors)
        .wrap(from_fn(middleware::request_context))
        // Cache-Control, Link and rate-limit fields, on the answer as the client sees it.
        .wrap(from_fn(http_contract::conventions))
        .wrap(Compress::default())
        .wrap(prometheus)
        .wrap(from_fn(http_contract::head_as_get))
}

/// Runs a subcommand that needs configuration.
pub fn run(command: cli::Command, config: Config) -> Result<(), StartError> {
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    match command {
        cli::Command::Migrate => {
            // The pool creates the SQLite folder when needed.
            let pool = db::build_pool(&config.database_url, 1)?;
            let mut conn = pool.get().map_err(db::DbError::from)?;
            let n = db::run_migrations(&mut conn)?;
            println!("applied {n} migration(s)");
            let built =
                directory::search::document::backfill(&mut conn).map_err(db::DbError::from)?;
            if built > 0 {
                println!("built {built} directory search document(s)");
            }
            Ok(())
        }
        cli::Command::Serve => actix_web::rt::System::new().block_on(serve(config, true)),
        cli::Command::Worker => actix_web::rt::System::new().block_on(serve(config, false)),
        cli::Command::Openapi => {
            print!("{}", openapi::spec_json());
            Ok(())
        }
        cli::Command::EnvExample { readme } => {
            print!("{}", config::generated(readme));
            Ok(())
        }
        cli::Command::CreateAdmin { email, name } => {
            let password = match std::env::var("IDPC_ADMIN_PASSWORD") {
                Ok(p) if !p.is_empty() => p,
                _ => rpassword::prompt_password("Password for the new admin: ").map_err(|e| {
                    StartError::Other(format!(
                        "set IDPC_ADMIN_PASSWORD or run on a terminal ({e})"
                    ))
                })?,
            };
            auth::password::check_policy("IDPC_ADMIN_PASSWORD", &password)
                .map_err(|_| StartError::Other("the password needs 12 to 128 characters".into()))?;
            actix_web::rt::System::new().block_on(async move {
                let state = aw::block(move || AppState::new(config))
                    .await
                    .map_err(|e| StartError::Other(e.to_string()))??;
                let hash = state
                    .hasher
                    .hash(password)
                    .await
                    .map_err(|e| StartError::Other(e.to_string()))?;
                let config = state.config.clone();
                let user = state
                    .db(move |c| identity::users::create_admin(c, &config, &email, &name, hash))
                    .await
                    .map_err(|e| StartError::Other(e.problem().detail))?;
                println!("created admin {} ({})", user.email, user.id);
                Ok(())
            })
        }
        cli::Command::Documents {
            action: cli::DocumentsCommand::Verify,
        } => actix_web::rt::System::new().block_on(verify_documents(config)),
        cli::Command::DemoData => actix_web::rt::System::new().block_on(async move {
            let state = aw::block(move || AppState::new(config))
                .await
                .map_err(|e| StartError::Other(e.to_string()))??;
            let seeded = demo::seed(&state)
                .await
                .map_err(|e| StartError::Other(e.problem().detail))?;
            print!("{}", seeded.report());
            Ok(())
        }),
    }
}

/// `documents verify`: prints each version that differs from its row; fails when any does.
async fn verify_documents(config: Config) -> Result<(), StartError> {
    let state = aw::block(move || AppState::new(config))
        .await
        .map_err(|e| StartError::Other(e.to_string()))??;
    let report = documents::verify::run(&state)
        .await
        .map_err(|e| StartError::Other(e.problem().detail))?;
    for m in &report.mismatches {
        println!("TAMPERED {} ({}): {}", m.id, m.file_name, m.problem);
    }
    println!(
        "checked {} document version(s), {} differ",
        report.checked,
        report.mismatches.len()
    );
    if report.mismatches.is_empty() {
        Ok(())
    } else {
        Err(StartError::Other(format!(
            "{} document version(s) differ from what was stored",
            report.mismatches.len()
        )))
    }
}

/// Serves HTTP (when `http`) and runs the notifier (when enabled), until SIGTERM/SIGINT.
/// In-flight requests drain; the notifier finishes the message it is sending.
pub async fn serve(config: Config, http: bool) -> Result<(), StartError> {
    let state = aw::block(move || AppState::new(config))
        .await
        .map_err(|e| StartError::Other(e.to_string()))??;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let run_worker = !http || state.config.worker_enabled;
    let hooks = if run_worker {
        let d = webhooks::worker::Dispatcher::new(state.clone()).map_err(StartError::Other)?;
        Some(actix_web::rt::spawn(d.run(stop_rx.clone())))
    } else {
        None
    };
    let worker = if run_worker {
        let notifier = notify::worker::Notifier::new(state.clone()).map_err(StartError::Other)?;
        Some((
            actix_web::rt::spawn(notifier.run(stop_rx.clone())),
            actix_web::rt::spawn(jobs::run_scheduler(state.clone(), stop_rx)),
        ))
    } else {
        None
    };
    if http {
        let addr = (state.config.bind_addr, state.config.port);
        let app_state = state.clone();
        let server = actix_web::HttpServer::new(move || build_app(app_state.clone()))
            .bind(addr)
            .map_err(|e| StartError::Other(format!("cannot listen on {}:{}: {e}", addr.0, addr.1)))?
            .shutdown_timeout(30)
            .run();
        tracing::info!(address = %format!("{}:{}", addr.0, addr.1), database = state.config.database_url.backend(), "listening");
        server.await.map_err(|e| StartError::Other(e.to_string()))?;
    } else {
        shutdown_signal().await;
        tracing::info!("worker stopping");
    }
    let _ = stop_tx.send(true);
    if let Some((notifier, scheduler)) = worker {
        let _ = notifier.await;
        let _ = scheduler.await;
    }
    if let Some(h) = hooks {
        let _ = h.await;
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

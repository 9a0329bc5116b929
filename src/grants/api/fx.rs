//! Handlers of the reference exchange rates.

use actix_web::{HttpResponse, get, post, put, web};

use crate::AppState;
use crate::auth::caller::{FinanceOrAdmin, Staff};
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, ConflictError, NotFoundError, QueryErrors};
use crate::extract::Json;
use crate::grants::fx::{self, FxRate, FxRateBody, FxRateChange, FxRateConfirmBody, Outcome};
use crate::pagination::{self, Page, PageParams};

/// Every reference exchange rate against the base currency, with the rate that waits for a
/// second person beside each (staff).
#[utoipa::path(
    description = "Staff. The reference rates against the base currency. Changes nothing.",
    tag = "funds",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rates, by currency", body = Vec<FxRate>),
        AuthErrors,
    )
)]
#[get("/fx-rates")]
pub async fn list_fx_rates(
    state: web::Data<AppState>,
    who: Staff,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let rates = state.db(move |c| fx::list(c, &config, &who)).await?;
    Ok(HttpResponse::Ok().json(rates))
}

/// The reference exchange rate of a currency, and the rate that waits, if any (staff).
#[utoipa::path(
    description = "Staff. One reference rate. Changes nothing.",
    tag = "funds",
    security(("bearer" = [])),
    params(("currency" = String, Path, description = "ISO 4217 code")),
    responses(
        (status = 200, description = "The rate", body = FxRate),
        AuthErrors, NotFoundError,
    )
)]
#[get("/fx-rates/{currency}")]
pub async fn get_fx_rate(
    state: web::Data<AppState>,
    who: Staff,
    currency: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let rate = state
        .db(move |c| fx::get(c, &config, &who, &currency))
        .await?;
    Ok(HttpResponse::Ok().json(rate))
}

/// Set the reference exchange rate of a currency: units of the base currency per one unit
/// (finance officers and admins; audited). Within FX_RATE_CHANGE_BAND_PERCENT of the
/// confirmed rate it applies at once (200); otherwise, and for a currency's first rate, it
/// waits as `pending` for another finance officer or admin to confirm it (202).
#[utoipa::path(
    description = "Finance officers and admins. Sets a reference rate; grants' stored rates must lie within the configured band around it. Within FX_RATE_CHANGE_BAND_PERCENT of the confirmed rate it applies at once and emails grant officers and finance; otherwise (and for a currency's first rate) it waits for a second person and emails finance and admins. Audited.",
    tag = "funds",
    security(("bearer" = [])),
    params(("currency" = String, Path, description = "ISO 4217 code")),
    request_body = FxRateBody,
    responses(
        (status = 200, description = "The rate applies", body = FxRate),
        (status = 202, description = "The rate waits for a second person (`pending`)", body = FxRate),
        AuthErrors, BodyErrors, ConflictError,
    )
)]
#[put("/fx-rates/{currency}")]
pub async fn put_fx_rate(
    state: web::Data<AppState>,
    who: FinanceOrAdmin,
    meta: RequestMeta,
    currency: web::Path<String>,
    body: Json<FxRateBody>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let outcome = state
        .db(move |c| fx::put(c, &config, &who, &meta, &currency, body.0))
        .await?;
    Ok(match outcome {
        Outcome::Applied(rate) => HttpResponse::Ok().json(rate),
        Outcome::Pending(rate) => HttpResponse::Accepted().json(rate),
    })
}

/// Confirm the rate of a currency that waits, naming the rate and date read (a finance
/// officer or admin other than the one who set it; 409 `self_approval` otherwise, 409
/// `pending_changed` when another rate waits by now). The rate then applies; audited.
#[utoipa::path(
    description = "A finance officer or admin other than the one who set it. Applies the rate that waits, named as read; emails grant officers and finance. Audited.",
    tag = "funds",
    security(("bearer" = [])),
    params(("currency" = String, Path, description = "ISO 4217 code")),
    request_body = FxRateConfirmBody,
    responses(
        (status = 200, description = "The rate applies", body = FxRate),
        AuthErrors, BodyErrors, ConflictError,
    )
)]
#[post("/fx-rates/{currency}/confirm")]
pub async fn confirm_fx_rate(
    state: web::Data<AppState>,
    who: FinanceOrAdmin,
    meta: RequestMeta,
    currency: web::Path<String>,
    body: Json<FxRateConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let config = state.config.clone();
    let rate = state
        .db(move |c| fx::confirm(c, &config, &who, &meta, &currency, body.0))
        .await?;
    Ok(HttpResponse::Ok().json(rate))
}

/// The history of a currency's reference rate, newest first: every rate set, whether it
/// applied at once, was confirmed (and by whom), waits, or was superseded (staff).
#[utoipa::path(
    description = "Staff. Every rate set for a currency, newest first, with who set and who confirmed it. Changes nothing.",
    tag = "funds",
    security(("bearer" = [])),
    params(("currency" = String, Path, description = "ISO 4217 code"), PageParams),
    responses(
        (status = 200, description = "A page of the rate's history", body = Page<FxRateChange>),
        QueryErrors, AuthErrors, NotFoundError,
    )
)]
#[get("/fx-rates/{currency}/history")]
pub async fn fx_rate_history(
    state: web::Data<AppState>,
    who: Staff,
    currency: web::Path<String>,
    q: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(q.limit)?;
    let cursor = q.cursor.clone();
    let config = state.config.clone();
    let page = state
        .db(move |c| fx::history(c, &config, &who, &currency, limit, cursor.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

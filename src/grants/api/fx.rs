//! Handlers of the reference exchange rates.

use actix_web::{HttpResponse, get, put, web};

use crate::AppState;
use crate::auth::Principal;
use crate::auth::caller::Staff;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::error::docs::{AuthErrors, BodyErrors, NotFoundError};
use crate::extract::Json;
use crate::grants::fx::{self, FxRate, FxRateBody, RateKeeper};

/// Every reference exchange rate against the base currency (staff).
#[utoipa::path(
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

/// The reference exchange rate of a currency (staff).
#[utoipa::path(
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
/// (finance officers and admins; audited).
#[utoipa::path(
    tag = "funds",
    security(("bearer" = [])),
    params(("currency" = String, Path, description = "ISO 4217 code")),
    request_body = FxRateBody,
    responses(
        (status = 200, description = "The rate", body = FxRate),
        AuthErrors, BodyErrors,
    )
)]
#[put("/fx-rates/{currency}")]
pub async fn put_fx_rate(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    currency: web::Path<String>,
    body: Json<FxRateBody>,
) -> Result<HttpResponse, ApiError> {
    let who = RateKeeper::try_from(&who)?;
    let config = state.config.clone();
    let rate = state
        .db(move |c| fx::put(c, &config, &who, &meta, &currency, body.0))
        .await?;
    Ok(HttpResponse::Ok().json(rate))
}

//! HTTP handlers for the directory.

use actix_web::{HttpResponse, get, post, web};

use super::model::{NewOrganisation, Organisation};
use super::service;
use crate::AppState;
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role};
use crate::error::{ApiError, Problem};
use crate::extract::Json;

/// Create an organisation (admin).
#[utoipa::path(
    tag = "directory",
    request_body = NewOrganisation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Organisation, headers(("Location" = String, description = "URL of the new organisation"))),
        (status = 400, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Slug taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    who: Principal,
    meta: RequestMeta,
    body: Json<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    who.require_role(&[Role::Admin])?;
    let actor = who.actor();
    let row = state
        .db(move |c| service::create(c, &actor, meta.request_id.as_deref(), body.0))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/organisations/{}", row.id)))
        .json(Organisation::from(row)))
}

/// An organisation by id or slug.
#[utoipa::path(
    tag = "directory",
    params(("id" = String, Path, description = "Organisation id or slug")),
    responses(
        (status = 200, description = "The organisation", body = Organisation),
        (status = 404, description = "Unknown or not visible", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<web::Json<Organisation>, ApiError> {
    let id = id.into_inner();
    let row = state.db(move |c| service::find(c, &id)).await?;
    Ok(web::Json(row.into()))
}

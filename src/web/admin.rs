//! The secretariat's pages (membership applications: review, approve, reject) and an
//! organisation's membership page. They call `directory::applications` as the API does.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::page::{Failure, Form, error_page, on_form, render};
use super::session::{Visitor, see_other};
use super::work::{Done, network};
use super::{Posted, form_text, posted_signed_in, signed_in_visitor};
use crate::AppState;
use crate::auth::caller::{Admin, OrgMember, Staff};
use crate::auth::principal::RequestMeta;
use crate::auth::{Principal, Role};
use crate::directory::applications::{self, Application, ApplicationStatus, RejectApplication};
use crate::directory::{organisation, renewal};
use crate::error::ApiError;

fn admin_of(who: &Principal) -> Result<Admin, ApiError> {
    Admin::try_from(who)
}

/// The open membership applications.
pub async fn applications(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let admin = match admin_of(&who) {
        Ok(a) => a,
        Err(e) => return error_page(&v, network(&state), e, req.path()),
    };
    let found = state
        .db(move |c| {
            let mut open = Vec::new();
            for s in ApplicationStatus::OPEN {
                open.extend(applications::list_applications(c, &admin, Some(*s), 100, None)?.data);
            }
            Ok(open)
        })
        .await;
    match found {
        Ok(list) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "applications.html",
            context! { title => "Membership applications", applications => list },
        ),
        Err(e) => error_page(&v, network(&state), e, req.path()),
    }
}

async fn application_page(
    v: &Visitor,
    state: &AppState,
    who: &Principal,
    id: String,
    status: StatusCode,
    failed: Option<Form>,
    done: Option<&str>,
) -> HttpResponse {
    let path = format!("/admin/membership-applications/{id}");
    let admin = match admin_of(who) {
        Ok(a) => a,
        Err(e) => return error_page(v, network(state), e, &path),
    };
    let found = state
        .db(move |c| applications::get_application(c, &admin, &id))
        .await;
    let a = match found {
        Ok(a) => Application::from(a),
        Err(e) => return error_page(v, network(state), e, &path),
    };
    let mut forms: BTreeMap<String, Form> = ["review", "approve", "reject"]
        .iter()
        .map(|n| (n.to_string(), Form::named(n)))
        .collect();
    if let Some(f) = failed {
        forms.insert(f.name.clone(), f);
    }
    let notice = match done {
        Some("review") => Some("The review has started; the applicant is told."),
        Some("approve") => Some("The application is approved and its contact invited."),
        Some("reject") => Some("The application is rejected; the applicant is told why."),
        _ => None,
    };
    render(
        v,
        network(state),
        status,
        "application.html",
        context! {
            title => format!("Application of {}", a.organisation.name),
            notice => notice,
            open => ApplicationStatus::OPEN.contains(&a.status),
            forms => forms,
            a => a,
        },
    )
}

/// One application with the decisions on it.
pub async fn application(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Done>,
) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    application_page(
        &v,
        &state,
        &who,
        id.into_inner(),
        StatusCode::OK,
        None,
        q.done.as_deref(),
    )
    .await
}

/// Review, approve or reject an application from its page.
pub async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (Posted(v, f), who) = match posted_signed_in(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (id, verb) = path.into_inner();
    let page = format!("/admin/membership-applications/{id}");
    let admin = match admin_of(&who) {
        Ok(a) => a,
        Err(e) => return error_page(&v, network(&state), e, &page),
    };
    if !matches!(verb.as_str(), "review" | "approve" | "reject") {
        return error_page(&v, network(&state), ApiError::NotFound, &page);
    }
    let config = state.config.clone();
    let (aid, what) = (id.clone(), verb.clone());
    let reason = f.get("reason").cloned().unwrap_or_default();
    let today = state.clock().today();
    let checked = form_text(&f);
    let done = state
        .db(move |c| {
            checked?;
            match what.as_str() {
                "review" => applications::start_review(c, &config, &admin, &meta, &aid),
                "approve" => applications::approve(c, &config, &admin, &meta, &aid, today),
                _ => applications::reject(
                    c,
                    &config,
                    &admin,
                    &meta,
                    &aid,
                    RejectApplication { reason },
                ),
            }
        })
        .await;
    match done {
        Ok(_) => see_other(&v, &format!("{page}?done={verb}")),
        Err(e) => match on_form(e, Form::posted(&verb, &f), &["reason"]) {
            Failure::Form(status, form) => {
                application_page(&v, &state, &who, id, status, Some(form), None).await
            }
            Failure::Page(e) => error_page(&v, network(&state), e, &page),
        },
    }
}

/// An organisation's membership: its members and staff see it; anyone else gets 404.
pub async fn membership(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<Done>,
) -> HttpResponse {
    let (v, who) = match signed_in_visitor(&req, &state).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let id = id.into_inner();
    let w = who.clone();
    let found = state
        .db(move |c| {
            let org = organisation::find(c, &id)?;
            let mine =
                w.role() == Some(Role::Member) && w.organisation_id() == Some(org.id.as_str());
            if mine || Staff::try_from(&w).is_ok() {
                Ok((org, mine))
            } else {
                Err(ApiError::NotFound)
            }
        })
        .await;
    match found {
        Ok((org, mine)) => render(
            &v,
            network(&state),
            StatusCode::OK,
            "membership.html",
            context! {
                title => crate::i18n::t_args(v.lang, "membership-title", &[("organisation", org.name.clone().into())]),
                mine => mine,
                notice => (q.done.as_deref() == Some("renewal"))
                    .then(|| crate::i18n::t(v.lang, "membership-renewal-requested")),
                org => context! {
                    id => org.id,
                    name => org.name,
                    membership_status => org.membership_status.map(|s| s.as_str()),
                    membership_period_start => org.membership_period_start.map(|d| d.to_string()),
                    membership_period_end => org.membership_period_end.map(|d| d.to_string()),
                },
            },
        ),
        Err(e) => error_page(&v, network(&state), e, req.path()),
    }
}

/// A member asks the secretariat to renew its organisation's membership (the API's
/// `POST /organisations/{id}/membership/renewal-requests`, through the same service).
pub async fn request_renewal(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (Posted(v, f), who) = match posted_signed_in(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let id = id.into_inner();
    let page = format!("/organisations/{id}/membership");
    if let Err(e) = form_text(&f) {
        return error_page(&v, network(&state), e, &page);
    }
    let member = match OrgMember::try_from(&who) {
        Ok(m) => m,
        Err(e) => return error_page(&v, network(&state), e, &page),
    };
    let config = state.config.clone();
    let today = state.clock().today();
    let done = state
        .db(move |c| renewal::request(c, &config, &member, &meta, &id, today))
        .await;
    match done {
        Ok(_) => see_other(&v, &format!("{page}?done=renewal")),
        Err(e) => error_page(&v, network(&state), e, &page),
    }
}

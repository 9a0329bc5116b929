//! Rendering: the templates compiled into the binary (every value HTML-escaped), the page
//! each handler answers with, and a service's error shown on its form, next to its field,
//! with what was typed kept.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::session::{Visitor, safe_next};
use crate::error::ApiError;

/// Every template of the console, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("message.html", include_str!("templates/message.html")),
    ("bounce.html", include_str!("templates/bounce.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("accept.html", include_str!("templates/accept.html")),
    ("forgot.html", include_str!("templates/forgot.html")),
    ("reset.html", include_str!("templates/reset.html")),
    ("inbox.html", include_str!("templates/inbox.html")),
    ("payments.html", include_str!("templates/payments.html")),
    ("grants.html", include_str!("templates/grants.html")),
    ("grant.html", include_str!("templates/grant.html")),
    ("tranche.html", include_str!("templates/tranche.html")),
    ("report.html", include_str!("templates/report.html")),
    (
        "applications.html",
        include_str!("templates/applications.html"),
    ),
    (
        "application.html",
        include_str!("templates/application.html"),
    ),
    ("membership.html", include_str!("templates/membership.html")),
    (
        "bank_account.html",
        include_str!("templates/bank_account.html"),
    ),
    (
        "payment_run.html",
        include_str!("templates/payment_run.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "console template does not compile");
            }
        }
        env
    })
}

/// What a form shows: the values typed, an error per field, and an error of the whole form.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Form {
    /// Which form of the page this is (pages may hold several).
    pub name: String,
    /// Values as typed.
    pub values: BTreeMap<String, String>,
    /// Field → message.
    pub errors: BTreeMap<String, String>,
    /// A message about the whole form.
    pub error: Option<String>,
}

impl Form {
    /// An empty form called `name`.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The form `name` as posted (the CSRF token and passwords are not echoed back).
    pub fn posted(name: &str, fields: &BTreeMap<String, String>) -> Self {
        let values = fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "password"))
            // A refused control character is not echoed into the page.
            .map(|(k, v)| {
                let shown = v
                    .chars()
                    .filter(|c| !crate::kit::is_forbidden_control(*c, true))
                    .collect();
                (k.clone(), shown)
            })
            .collect();
        Self {
            name: name.into(),
            values,
            ..Self::default()
        }
    }

    /// Puts `message` at `field`.
    pub fn at(mut self, field: &str, message: &str) -> Self {
        self.errors.insert(field.into(), message.into());
        self
    }
}

/// What a failed command means for the page.
pub enum Failure {
    /// Show the form again with its errors, with this status.
    Form(StatusCode, Form),
    /// The whole page answers with the error.
    Page(ApiError),
}

/// Puts a service's error on `form`: field errors at their fields (fields the form does not
/// show go to the form's own message), refusals as the form's message.
pub fn on_form(err: ApiError, mut form: Form, shown: &[&str]) -> Failure {
    match err {
        ApiError::Validation(errors) => {
            for e in errors {
                let field = e.field.rsplit('.').next().unwrap_or(&e.field).to_string();
                if shown.contains(&field.as_str()) {
                    form.errors.entry(field).or_insert(e.message);
                } else if form.error.is_none() {
                    form.error = Some(e.message);
                }
            }
            Failure::Form(StatusCode::BAD_REQUEST, form)
        }
        ApiError::BadRequest(m) => {
            form.error = Some(m);
            Failure::Form(StatusCode::BAD_REQUEST, form)
        }
        ApiError::Conflict { detail, .. } | ApiError::Unprocessable { detail, .. } => {
            form.error = Some(detail);
            Failure::Form(StatusCode::CONFLICT, form)
        }
        ApiError::Forbidden(m) => {
            form.error = Some(m);
            Failure::Form(StatusCode::FORBIDDEN, form)
        }
        ApiError::TooManyRequests(_) => {
            form.error = Some("Too many attempts; wait a minute and try again.".into());
            Failure::Form(StatusCode::TOO_MANY_REQUESTS, form)
        }
        other => Failure::Page(other),
    }
}

/// Renders `template` with `ctx` plus what every page shows (who is signed in, the CSRF
/// token, the network's name).
pub fn render(
    v: &Visitor,
    network_name: &str,
    status: StatusCode,
    template: &str,
    ctx: Value,
) -> HttpResponse {
    let me = v.user.as_ref().map(|u| {
        context! {
            name => v.name.clone(),
            role => u.role.as_str(),
            organisation_id => u.organisation_id.clone(),
        }
    });
    let full = context! {
        me => me,
        csrf => v.csrf.clone(),
        network_name => network_name,
        ..ctx
    };
    let body = env().get_template(template).and_then(|t| t.render(full));
    match body {
        Ok(html) => {
            let mut res = HttpResponse::build(status);
            v.apply(&mut res);
            res.content_type(ContentType::html()).body(html)
        }
        Err(e) => {
            tracing::error!(template, error = %e, "console page did not render");
            HttpResponse::InternalServerError()
                .content_type(ContentType::plaintext())
                .body("Something went wrong on our side.")
        }
    }
}

/// A page that only says something (`heading`, `text`), with `status`.
pub fn message(
    v: &Visitor,
    network_name: &str,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> HttpResponse {
    render(
        v,
        network_name,
        status,
        "message.html",
        context! { title => heading, text => text },
    )
}

/// The answer of a page that cannot show its object: 404 for what the caller may not know
/// of, 403 for what it may see but not do, the sign-in page when the session ended, and a
/// page without detail (which goes to the log) for anything else.
pub fn error_page(v: &Visitor, network_name: &str, err: ApiError, path: &str) -> HttpResponse {
    match err {
        ApiError::NotFound => message(
            v,
            network_name,
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is nothing here, or it is not yours to see.",
        ),
        ApiError::Forbidden(m) => {
            message(v, network_name, StatusCode::FORBIDDEN, "Not allowed", &m)
        }
        ApiError::Unauthorized(_) => sign_in_first(v, network_name, path),
        ApiError::Validation(e) => message(
            v,
            network_name,
            StatusCode::BAD_REQUEST,
            "Check the address",
            &e.first().map(|e| e.message.clone()).unwrap_or_default(),
        ),
        ApiError::BadRequest(m) => message(
            v,
            network_name,
            StatusCode::BAD_REQUEST,
            "Check the address",
            &m,
        ),
        // A rule stands in the way (already asked, wrong state): say which, as the API does.
        ApiError::Conflict { detail, .. } => message(
            v,
            network_name,
            StatusCode::CONFLICT,
            "That cannot be done now",
            &detail,
        ),
        other => {
            tracing::error!(error = %other, "console page failed");
            message(
                v,
                network_name,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Something went wrong on our side. Try again in a moment.",
            )
        }
    }
}

/// A page that needs a session, asked for without one: when the browser holds the mark of a
/// session (it came from a link in another site, which drops SameSite=Strict cookies), the
/// page reloads itself once from here; otherwise it is the sign-in page, coming back after.
pub fn sign_in_first(v: &Visitor, network_name: &str, path: &str) -> HttpResponse {
    let next = safe_next(Some(path));
    if v.marked_only {
        let mut res = render(
            v,
            network_name,
            StatusCode::OK,
            "bounce.html",
            context! { title => "Opening…", next => next },
        );
        // The mark goes: if the reload still has no session, it is the sign-in page.
        let mut gone = actix_web::cookie::Cookie::build(super::session::MARK_COOKIE, "")
            .path("/")
            .finish();
        gone.set_max_age(actix_web::cookie::time::Duration::ZERO);
        let _ = res.add_cookie(&gone);
        return res;
    }
    render(
        v,
        network_name,
        StatusCode::OK,
        "sign_in.html",
        context! {
            title => "Sign in",
            form => Form::named("sign_in"),
            next => next,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_console_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(env().get_template(name).is_ok(), "{name} does not compile");
        }
    }

    #[test]
    fn a_field_error_lands_at_its_field_and_others_on_the_form() {
        let err = ApiError::Validation(vec![
            crate::error::FieldError::new("reason", "required", "Give a reason."),
            crate::error::FieldError::new("token", "invalid", "The link is invalid."),
        ]);
        let Failure::Form(status, f) = on_form(err, Form::named("reject"), &["reason"]) else {
            panic!("a validation error is shown on the form");
        };
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            f.errors.get("reason").map(String::as_str),
            Some("Give a reason.")
        );
        assert_eq!(f.error.as_deref(), Some("The link is invalid."));
    }
}

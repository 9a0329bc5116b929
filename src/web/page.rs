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
    ("form.html", include_str!("templates/form.html")),
    ("funds.html", include_str!("templates/funds.html")),
    ("fund.html", include_str!("templates/fund.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    (
        "budget_revision.html",
        include_str!("templates/budget_revision.html"),
    ),
    (
        "applications.html",
        include_str!("templates/applications.html"),
    ),
    (
        "application.html",
        include_str!("templates/application.html"),
    ),
    ("membership.html", include_str!("templates/membership.html")),
    ("renewals.html", include_str!("templates/renewals.html")),
    ("profile.html", include_str!("templates/profile.html")),
    ("colleagues.html", include_str!("templates/colleagues.html")),
    (
        "bank_account.html",
        include_str!("templates/bank_account.html"),
    ),
    (
        "payment_run.html",
        include_str!("templates/payment_run.html"),
    ),
    (
        "payment_runs.html",
        include_str!("templates/payment_runs.html"),
    ),
    (
        "accounts_to_confirm.html",
        include_str!("templates/accounts_to_confirm.html"),
    ),
    ("register.html", include_str!("templates/register.html")),
    (
        "bank_accounts.html",
        include_str!("templates/bank_accounts.html"),
    ),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        // `l10n("key")`: a message of locales/<lang>/console.ftl in the visitor's language.
        env.add_function(
            "l10n",
            |state: &minijinja::State, key: String, kwargs: minijinja::value::Kwargs| {
                crate::i18n::template_function(state, &key, &kwargs)
            },
        );
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "console template does not compile");
            }
        }
        env
    })
}

/// One input of a declared form.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Field {
    /// The form field's name: the API's field name, so its validation errors land here.
    pub name: String,
    /// The visible label.
    pub label: String,
    /// `text`, `textarea`, `date`, `email`, `number`, `select`, `file` or `hidden`.
    pub kind: &'static str,
    /// A line of help under the label.
    pub hint: String,
    /// For a `select`: (value, label) choices.
    pub options: Vec<(String, String)>,
}

/// A form of a page: declared once (its action, fields and button), rendered whole by the
/// `form` macro, and filled with what was typed and the API's errors under their fields.
#[derive(Debug, Clone, Serialize)]
pub struct Form {
    /// Which form of the page this is (pages may hold several); prefixes the input ids.
    pub name: String,
    /// Where it posts.
    pub action: String,
    /// The heading over the form (empty: none).
    pub heading: String,
    /// The text of its button.
    pub submit: String,
    /// A secondary action (a refusal, a cancel): a lighter button.
    pub secondary: bool,
    /// Sent as `multipart/form-data` (it carries a file).
    pub multipart: bool,
    /// The inputs, in order.
    pub fields: Vec<Field>,
    /// Values as typed.
    pub values: BTreeMap<String, String>,
    /// Field → message.
    pub errors: BTreeMap<String, String>,
    /// A message about the whole form.
    pub error: Option<String>,
    /// The status of the page that shows this form (400, 409… after a refused post).
    #[serde(skip)]
    pub status: StatusCode,
}

impl Default for Form {
    fn default() -> Self {
        Self {
            name: String::new(),
            action: String::new(),
            heading: String::new(),
            submit: String::new(),
            secondary: false,
            multipart: false,
            fields: Vec::new(),
            values: BTreeMap::new(),
            errors: BTreeMap::new(),
            error: None,
            status: StatusCode::OK,
        }
    }
}

impl Form {
    /// An empty form called `name`.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// A declared form `name` posting to `action`, with a button saying `submit`.
    pub fn new(name: &str, action: &str, submit: &str) -> Self {
        Self {
            name: name.into(),
            action: action.into(),
            submit: submit.into(),
            ..Self::default()
        }
    }

    /// The form `name` as posted (the CSRF token and passwords are not echoed back).
    pub fn posted(name: &str, fields: &BTreeMap<String, String>) -> Self {
        Self::named(name).filled(fields)
    }

    /// This form with what was posted in it (the CSRF token and passwords not echoed back).
    pub fn filled(mut self, fields: &BTreeMap<String, String>) -> Self {
        self.values = fields
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
        self
    }

    /// Puts `message` at `field`.
    pub fn at(mut self, field: &str, message: &str) -> Self {
        self.errors.insert(field.into(), message.into());
        self
    }

    /// A heading over the form.
    pub fn heading(mut self, heading: &str) -> Self {
        self.heading = heading.into();
        self
    }

    /// A lighter button: the action refuses or undoes.
    pub fn secondary(mut self) -> Self {
        self.secondary = true;
        self
    }

    fn input(mut self, kind: &'static str, name: &str, label: &str) -> Self {
        self.fields.push(Field {
            name: name.into(),
            label: label.into(),
            kind,
            ..Field::default()
        });
        self
    }

    /// A one-line text input.
    pub fn text(self, name: &str, label: &str) -> Self {
        self.input("text", name, label)
    }

    /// A text area.
    pub fn textarea(self, name: &str, label: &str) -> Self {
        self.input("textarea", name, label)
    }

    /// A file input (the form is then sent as `multipart/form-data`).
    pub fn file(self, name: &str, label: &str) -> Self {
        self.input("file", name, label).multipart()
    }

    /// Sent as `multipart/form-data`.
    pub fn multipart(mut self) -> Self {
        self.multipart = true;
        self
    }

    /// A date input (`YYYY-MM-DD`).
    pub fn date(self, name: &str, label: &str) -> Self {
        self.input("date", name, label)
    }

    /// An email input.
    pub fn email(self, name: &str, label: &str) -> Self {
        self.input("email", name, label)
    }

    /// A value sent back unchanged (what the page showed, for a check on the server).
    pub fn hidden(self, name: &str, value: &str) -> Self {
        self.input("hidden", name, "").value(name, value)
    }

    /// A choice among `options` (value, label).
    pub fn select(mut self, name: &str, label: &str, options: Vec<(String, String)>) -> Self {
        self = self.input("select", name, label);
        if let Some(f) = self.fields.last_mut() {
            f.options = options;
        }
        self
    }

    /// A line of help under the last field's label.
    pub fn hint(mut self, hint: &str) -> Self {
        if let Some(f) = self.fields.last_mut() {
            f.hint = hint.into();
        }
        self
    }

    /// The value `field` shows before anything is typed.
    pub fn value(mut self, field: &str, value: &str) -> Self {
        self.values.insert(field.into(), value.into());
        self
    }

    /// Puts a refused command's error on this form, field errors under its declared fields.
    pub fn failed(self, err: ApiError) -> Failure {
        let names: Vec<String> = self.fields.iter().map(|f| f.name.clone()).collect();
        let shown: Vec<&str> = names.iter().map(String::as_str).collect();
        on_form(err, self, &shown)
    }
}

/// The forms a page offers, with the one that was just refused in place of its blank twin,
/// and the status the page answers with.
pub fn offered(forms: Vec<Form>, failed: Option<Form>) -> (Vec<Form>, StatusCode) {
    let Some(failed) = failed else {
        return (forms, StatusCode::OK);
    };
    let status = failed.status;
    let forms = forms
        .into_iter()
        .map(|f| {
            if f.name == failed.name {
                Form {
                    values: failed.values.clone(),
                    errors: failed.errors.clone(),
                    error: failed.error.clone(),
                    status: failed.status,
                    ..f
                }
            } else {
                f
            }
        })
        .collect();
    (forms, status)
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
pub fn on_form(err: ApiError, form: Form, shown: &[&str]) -> Failure {
    match form_failure(err, form, shown) {
        Failure::Form(status, mut form) => {
            form.status = status;
            Failure::Form(status, form)
        }
        page => page,
    }
}

fn form_failure(err: ApiError, mut form: Form, shown: &[&str]) -> Failure {
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
        ApiError::PreconditionFailed { .. } => {
            form.error = Some(
                "Someone saved a change meanwhile; reload the page to see it and try again.".into(),
            );
            Failure::Form(StatusCode::PRECONDITION_FAILED, form)
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
        flash => v.notice.clone(),
        csrf => v.csrf.clone(),
        network_name => network_name,
        lang => v.lang.code(),
        ..ctx
    };
    let body = env().get_template(template).and_then(|t| t.render(full));
    match body {
        Ok(html) => {
            let mut res = HttpResponse::build(status);
            v.apply(&mut res);
            res.insert_header((actix_web::http::header::CONTENT_LANGUAGE, v.lang.code()));
            let mut res = res.content_type(ContentType::html()).body(html);
            super::session::notice_shown(v, &mut res);
            res
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

    #[test]
    fn a_declared_form_renders_its_fields_with_errors_tied_to_them() {
        let form = Form::new("reject", "/grants/g1/reject", "Reject")
            .heading("Reject")
            .textarea("reason", "Reason")
            .hint("Shown to the grantee.")
            .select("kind", "Kind", vec![("a".into(), "A".into())]);
        let failed =
            form.clone()
                .failed(ApiError::Validation(vec![crate::error::FieldError::new(
                    "reason",
                    "required",
                    "Give a reason.",
                )]));
        let Failure::Form(_, failed) = failed else {
            panic!("a validation error is shown on the form");
        };
        let (forms, status) = offered(vec![form], Some(failed));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let html = env()
            .template_from_str("{% from 'macros.html' import offer %}{{ offer(forms, 'tok') }}")
            .and_then(|t| t.render(context! { forms => forms }))
            .expect("renders");
        assert!(html.contains(r#"action="/grants/g1/reject""#), "{html}");
        assert!(
            html.contains(r#"<label for="reject-reason">Reason</label>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"aria-describedby="reject-reason-hint reject-reason-error""#),
            "{html}"
        );
        assert!(html.contains("Error: Give a reason."), "{html}");
        assert!(
            html.contains(r#"<select id="reject-kind" name="kind""#),
            "{html}"
        );
        assert!(html.contains(r#"name="csrf" value="tok""#), "{html}");
    }
}

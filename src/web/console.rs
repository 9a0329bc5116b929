//! What every signed-in page starts from: `Page` holds the visitor, its caller and the app,
//! answers with the layout (`show`), the error page (`fail`) or, after a POST that did what
//! it asked, a 303 whose next page shows a notice (`done`). A refused command comes back as
//! its form with the API's errors under its fields (`command`). Handlers stay a few lines:
//! each `?` returns the page that answers instead (`Reply` is collapsed by `reply`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use minijinja::{Value, context};

use super::page::{Failure, Form, error_page, offered, render};
use super::session::Visitor;
use super::{Posted, form_text, posted_signed_in, signed_in_visitor};
use crate::AppState;
use crate::auth::{Principal, Role};
use crate::db::DbConn;
use crate::error::{ApiError, FieldError};

/// The text of field `k` as posted (empty when it was not sent).
pub fn text(f: &BTreeMap<String, String>, k: &str) -> String {
    f.get(k).cloned().unwrap_or_default()
}

/// The date of field `k` (`YYYY-MM-DD`), or an error at that field (the day is then unused).
pub fn date(f: &BTreeMap<String, String>, k: &str, errors: &mut Vec<FieldError>) -> NaiveDate {
    NaiveDate::parse_from_str(text(f, k).trim(), "%Y-%m-%d").unwrap_or_else(|_| {
        errors.push(FieldError::new(
            k,
            "invalid",
            "Give a date as year-month-day.",
        ));
        NaiveDate::default()
    })
}

/// `t` when reading the form found no field error; the errors otherwise, as the API's.
pub fn checked<T>(errors: Vec<FieldError>, t: T) -> Result<T, ApiError> {
    if errors.is_empty() {
        Ok(t)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A page's answer; `Err` is the page that answers instead (error, sign-in, refused form).
pub type Reply = Result<HttpResponse, HttpResponse>;

/// The answer either way.
pub fn reply(r: Reply) -> HttpResponse {
    match r {
        Ok(res) | Err(res) => res,
    }
}

/// A request of a signed-in visitor.
pub struct Page {
    /// The visitor (cookies, CSRF token, notice).
    pub v: Visitor,
    /// The caller the services take.
    pub who: Principal,
    /// The app.
    pub state: web::Data<AppState>,
    /// The path asked for (where sign-in comes back to).
    pub path: String,
}

impl Page {
    /// The page of a signed-in visitor, or the sign-in (or error) page.
    pub async fn open(
        req: &HttpRequest,
        state: &web::Data<AppState>,
    ) -> Result<Self, HttpResponse> {
        let (v, who) = signed_in_visitor(req, state).await?;
        Ok(Self::of(v, who, req, state))
    }

    /// A posted form with its CSRF token checked, or the page refusing it.
    pub async fn post(
        req: &HttpRequest,
        state: &web::Data<AppState>,
        body: &[u8],
    ) -> Result<(Self, BTreeMap<String, String>), HttpResponse> {
        let (Posted(v, fields), who) = posted_signed_in(req, state, body).await?;
        Ok((Self::of(v, who, req, state), fields))
    }

    fn of(v: Visitor, who: Principal, req: &HttpRequest, state: &web::Data<AppState>) -> Self {
        Self {
            v,
            who,
            state: state.clone(),
            path: req.path().to_string(),
        }
    }

    /// The message `key` of `locales/<lang>/console.ftl` in the visitor's language.
    pub fn t(&self, key: &str) -> String {
        crate::i18n::t(self.v.lang, key)
    }

    /// The caller's role.
    pub fn role(&self) -> Option<Role> {
        self.who.role()
    }

    /// The caller as a capability the services take (`Reader`, `Staff`, …), or the page
    /// saying it may not.
    #[expect(
        clippy::result_large_err,
        reason = "the error is the page answered at once, once per request"
    )]
    pub fn as_a<'a, T>(&'a self) -> Result<T, HttpResponse>
    where
        T: TryFrom<&'a Principal, Error = ApiError>,
    {
        T::try_from(&self.who).map_err(|e| self.fail(e))
    }

    /// Reads (or writes) the database; an error is the error page.
    pub async fn db<T, F>(&self, f: F) -> Result<T, HttpResponse>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        self.state.db(f).await.map_err(|e| self.fail(e))
    }

    /// Runs the command of `form` (its text checked first as a JSON body is): its result,
    /// or `form` with the refusal under its fields (`Ok(Err)`), or the error page (`Err`).
    pub async fn command<T, F>(
        &self,
        form: Form,
        fields: &BTreeMap<String, String>,
        f: F,
    ) -> Result<Result<T, Form>, HttpResponse>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
    {
        let form = form.filled(fields);
        let done = match form_text(fields) {
            Ok(()) => self.state.db(f).await,
            Err(e) => Err(e),
        };
        match done {
            Ok(t) => Ok(Ok(t)),
            Err(e) => match form.failed(e) {
                Failure::Form(_, form) => Ok(Err(form)),
                Failure::Page(e) => Err(self.fail(e)),
            },
        }
    }

    /// The error page of `err` (404 for what the caller may not know of, …).
    pub fn fail(&self, err: ApiError) -> HttpResponse {
        error_page(&self.v, &self.state.config.network_name, err, &self.path)
    }

    /// `template` in the layout, titled `title`, with the `forms` the viewer may send (a
    /// refused one in place of its blank twin, and the page answering with its status).
    pub fn show(
        &self,
        template: &str,
        title: &str,
        forms: Vec<Form>,
        failed: Option<Form>,
        ctx: Value,
    ) -> HttpResponse {
        let (forms, status) = offered(forms, failed);
        let ctx = context! { title => title, forms => forms, ..ctx };
        render(
            &self.v,
            &self.state.config.network_name,
            status,
            template,
            ctx,
        )
    }

    /// A page that only says something.
    pub fn say(&self, status: StatusCode, heading: &str, text: &str) -> HttpResponse {
        super::page::message(
            &self.v,
            &self.state.config.network_name,
            status,
            heading,
            text,
        )
    }

    /// The answer to a POST that did what it asked: 303 to `location`, which says `notice`.
    pub fn done(&self, location: &str, notice: &str) -> HttpResponse {
        super::session::done(&self.v, location, notice)
    }
}

//! Signing in and out, accepting an invitation and resetting a password: each form calls
//! the same `identity` function as the API, so the rules, audit events and emails are the
//! API's.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::page::{Failure, Form, error_page, on_form, render};
use super::session::{Visitor, safe_next, see_other};
use super::{Posted, form_text, posted, visitor};
use crate::AppState;
use crate::auth::Role;
use crate::auth::principal::RequestMeta;
use crate::error::ApiError;
use crate::identity::LinkState;
use crate::identity::account;
use crate::identity::model::{
    AcceptInvitation, LoginRequest, PasswordResetConfirm, PasswordResetRequest, RefreshRequest,
};
use crate::identity::session;

/// `?token=` of the links in emails.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    /// The one-time token.
    pub token: Option<String>,
}

/// `?next=` of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    /// Where to go after signing in.
    pub next: Option<String>,
}

fn name(state: &AppState) -> &str {
    &state.config.network_name
}

fn form_page(
    v: &Visitor,
    state: &AppState,
    status: StatusCode,
    template: &str,
    title: &str,
    form: Form,
    extra: minijinja::Value,
) -> HttpResponse {
    render(
        v,
        name(state),
        status,
        template,
        context! { title => title, form => form, ..extra },
    )
}

/// `/`: each role goes to its work; a visitor to the sign-in page.
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let v = match visitor(&req, &state).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match v.user.as_ref().map(|u| u.role) {
        None => super::page::sign_in_first(&v, name(&state), "/"),
        Some(Role::GrantOfficer | Role::Admin) => see_other(&v, "/inbox"),
        Some(Role::FinanceOfficer) => see_other(&v, "/payments"),
        Some(Role::Member) => see_other(&v, "/grants"),
    }
}

/// The sign-in form; someone already signed in goes straight to `next` (or their work).
pub async fn sign_in_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<NextQuery>,
) -> HttpResponse {
    let v = match visitor(&req, &state).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let next = safe_next(q.next.as_deref());
    // A sign-in link followed by someone already signed in lands where it was meant to.
    if v.user.is_some() {
        return see_other(&v, &next);
    }
    form_page(
        &v,
        &state,
        StatusCode::OK,
        "sign_in.html",
        "Sign in",
        Form::named("sign_in"),
        context! { next => next },
    )
}

/// Signs in with `session::login` and keeps the session's refresh token in the cookie.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let Posted(v, f) = match posted(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let next = safe_next(f.get("next").map(String::as_str));
    let form = Form::posted("sign_in", &f);
    let login = LoginRequest {
        email: f.get("email").cloned().unwrap_or_default(),
        password: f.get("password").cloned().unwrap_or_default(),
    };
    let signed = match form_text(&f) {
        Ok(()) => session::login(&state, meta, login).await,
        Err(e) => Err(e),
    };
    match signed {
        Ok(pair) => {
            let mut res = HttpResponse::SeeOther();
            v.apply(&mut res);
            v.start_session(&mut res, pair.refresh_token);
            res.insert_header(("Location", next)).finish()
        }
        Err(ApiError::Unauthorized(m)) => form_page(
            &v,
            &state,
            StatusCode::UNAUTHORIZED,
            "sign_in.html",
            "Sign in",
            form.at("password", &m),
            context! { next => next },
        ),
        Err(e) => match on_form(e, form, &["email", "password"]) {
            Failure::Form(status, form) => form_page(
                &v,
                &state,
                status,
                "sign_in.html",
                "Sign in",
                form,
                context! { next => next },
            ),
            Failure::Page(e) => error_page(&v, name(&state), e, "/sign-in"),
        },
    }
}

/// Ends the session (as the API's logout does) and removes the cookie.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let Posted(v, _) = match posted(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(token) = v.token.clone() {
        let config = state.config.clone();
        let ended = state
            .db(move |c| {
                session::logout(
                    c,
                    &config,
                    &meta,
                    RefreshRequest {
                        refresh_token: token,
                    },
                )
            })
            .await;
        if let Err(e) = ended {
            return error_page(&v, name(&state), e, "/sign-out");
        }
    }
    let mut res = HttpResponse::SeeOther();
    v.apply(&mut res);
    v.end_session(&mut res);
    res.insert_header(("Location", "/sign-in")).finish()
}

/// The page of an invitation link (`invitation` true) or a reset link that no longer works,
/// saying why before anything is asked; `None` when the link works.
async fn dead_link(
    v: &Visitor,
    state: &AppState,
    token: &str,
    invitation: bool,
) -> Option<HttpResponse> {
    let link = match account::link_state(state, token, invitation).await {
        Ok(LinkState::Live) => return None,
        Ok(l) => l,
        Err(e) => return Some(error_page(v, name(state), e, "/")),
    };
    let (heading, text) = match (invitation, link) {
        (true, LinkState::Used) => (
            "This invitation was already used",
            "The link in your invitation works once. If you chose your password with it, \
             sign in with that password; if not, ask whoever invited you to send it again.",
        ),
        (true, _) => (
            "This invitation link no longer works",
            "It has expired or is not a link we sent. Ask whoever invited you to send the \
             invitation again.",
        ),
        (false, LinkState::Used) => (
            "This link was already used",
            "A password reset link works once. Sign in with the password you chose, or ask \
             for a new link.",
        ),
        (false, _) => (
            "This link no longer works",
            "It has expired or is not a link we sent. Ask for a new one.",
        ),
    };
    let (href, link_text) = match (invitation, link) {
        (false, LinkState::Expired | LinkState::Unknown) => {
            ("/forgot-password", "Ask for a new link")
        }
        _ => ("/sign-in", "Sign in"),
    };
    let status = if link == LinkState::Unknown {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::GONE
    };
    Some(render(
        v,
        name(state),
        status,
        "message.html",
        context! { title => heading, text => text, link => href, link_text => link_text },
    ))
}

/// The invitation link's page: choose a name and a password.
pub async fn accept_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<TokenQuery>,
) -> HttpResponse {
    let v = match visitor(&req, &state).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let token = q.token.clone().unwrap_or_default();
    if let Some(page) = dead_link(&v, &state, &token, true).await {
        return page;
    }
    form_page(
        &v,
        &state,
        StatusCode::OK,
        "accept.html",
        "Accept your invitation",
        Form::named("accept"),
        context! { token => token },
    )
}

/// Accepts the invitation with `account::accept_invitation` and signs in.
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let Posted(v, f) = match posted(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let token = f.get("token").cloned().unwrap_or_default();
    let form = Form::posted("accept", &f);
    let cmd = AcceptInvitation {
        token: token.clone(),
        password: f.get("password").cloned().unwrap_or_default(),
        display_name: f.get("display_name").cloned().unwrap_or_default(),
    };
    let accepted = match form_text(&f) {
        Ok(()) => account::accept_invitation(&state, meta, cmd).await,
        Err(e) => Err(e),
    };
    match accepted {
        Ok(pair) => {
            let mut res = HttpResponse::SeeOther();
            v.apply(&mut res);
            v.start_session(&mut res, pair.refresh_token);
            res.insert_header(("Location", "/")).finish()
        }
        Err(e) => match on_form(e, form, &["display_name", "password"]) {
            Failure::Form(status, form) => form_page(
                &v,
                &state,
                status,
                "accept.html",
                "Accept your invitation",
                form,
                context! { token => token },
            ),
            Failure::Page(e) => error_page(&v, name(&state), e, "/accept-invitation"),
        },
    }
}

/// The "forgot your password" form.
pub async fn forgot_form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let v = match visitor(&req, &state).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    form_page(
        &v,
        &state,
        StatusCode::OK,
        "forgot.html",
        "Forgot your password",
        Form::named("forgot"),
        context! {},
    )
}

/// Emails a reset link with `account::request_password_reset`; says the same whether or not
/// the address has an account.
pub async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let Posted(v, f) = match posted(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let form = Form::posted("forgot", &f);
    let email = f.get("email").cloned().unwrap_or_default();
    // The API's own checks first (control characters), then the address's shape; a refusal
    // of either, or of the command, shows the form again at its field.
    let asked = match form_text(&f) {
        Err(e) => Err(e),
        Ok(()) if email.trim().is_empty() || !email.contains('@') => {
            return form_page(
                &v,
                &state,
                StatusCode::BAD_REQUEST,
                "forgot.html",
                "Forgot your password",
                form.at("email", "Give the email address of your account."),
                context! {},
            );
        }
        Ok(()) => {
            account::request_password_reset(&state, meta, PasswordResetRequest { email }).await
        }
    };
    match asked {
        Ok(()) => super::page::message(
            &v,
            name(&state),
            StatusCode::OK,
            "Check your email",
            "If an account has this address, we have emailed it a link to choose a new password. The link works for 30 minutes.",
        ),
        Err(e) => match on_form(e, form, &["email"]) {
            Failure::Form(status, form) => form_page(
                &v,
                &state,
                status,
                "forgot.html",
                "Forgot your password",
                form,
                context! {},
            ),
            Failure::Page(e) => error_page(&v, name(&state), e, "/forgot-password"),
        },
    }
}

/// The reset link's page: choose a new password.
pub async fn reset_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<TokenQuery>,
) -> HttpResponse {
    let v = match visitor(&req, &state).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let token = q.token.clone().unwrap_or_default();
    if let Some(page) = dead_link(&v, &state, &token, false).await {
        return page;
    }
    form_page(
        &v,
        &state,
        StatusCode::OK,
        "reset.html",
        "Choose a new password",
        Form::named("reset"),
        context! { token => token },
    )
}

/// Sets the new password with `account::confirm_password_reset` (which ends every session).
pub async fn reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let Posted(v, f) = match posted(&req, &state, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let token = f.get("token").cloned().unwrap_or_default();
    let form = Form::posted("reset", &f);
    let cmd = PasswordResetConfirm {
        token: token.clone(),
        password: f.get("password").cloned().unwrap_or_default(),
    };
    let changed = match form_text(&f) {
        Ok(()) => account::confirm_password_reset(&state, meta, cmd).await,
        Err(e) => Err(e),
    };
    match changed {
        Ok(()) => render(
            &v,
            name(&state),
            StatusCode::OK,
            "message.html",
            context! {
                title => "Password changed",
                text => "Your password is changed and every session of your account has ended.",
                link => "/sign-in",
                link_text => "Sign in",
            },
        ),
        Err(e) => match on_form(e, form, &["password"]) {
            Failure::Form(status, form) => form_page(
                &v,
                &state,
                status,
                "reset.html",
                "Choose a new password",
                form,
                context! { token => token },
            ),
            Failure::Page(e) => error_page(&v, name(&state), e, "/reset-password"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::session::fields;

    #[test]
    fn a_posted_form_echoes_what_was_typed_but_not_the_password_or_token() {
        let f = fields(b"email=a%40b.org&password=secret&csrf=x");
        let form = Form::posted("sign_in", &f);
        assert_eq!(
            form.values.get("email").map(String::as_str),
            Some("a@b.org")
        );
        assert!(!form.values.contains_key("password"));
        assert!(!form.values.contains_key("csrf"));
    }
}

//! Who is at the console: the session cookie (the refresh token of a server-side session of
//! `identity::session`, kept HttpOnly and SameSite=Strict, so logout and password resets end
//! it too) and the CSRF token every form carries. A POST whose token does not match its
//! cookie is refused before anything else is read.

use std::collections::BTreeMap;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use rand::RngCore;

use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::UserPrincipal;
use crate::error::ApiError;

/// The session cookie: the session's refresh token.
pub const SESSION_COOKIE: &str = "idpc_session";
/// The CSRF cookie; every form posts the same value back.
pub const CSRF_COOKIE: &str = "idpc_csrf";
/// A readable mark that a session exists. SameSite=Strict cookies are not sent when a person
/// follows a link from a mail client, so a page that sees the mark but not the session
/// reloads itself once from its own origin (which sends them) instead of asking to sign in.
pub const MARK_COOKIE: &str = "idpc_signed_in";
/// The form field of the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The person at the console, signed in or not.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The signed-in user.
    pub user: Option<UserPrincipal>,
    /// Its display name.
    pub name: String,
    /// The CSRF token of this browser.
    pub csrf: String,
    /// The CSRF cookie must be set on the answer (it was missing).
    pub new_csrf: bool,
    /// The session cookie's value, when one was sent.
    pub token: Option<String>,
    /// The browser holds the mark of a session but sent no session cookie.
    pub marked_only: bool,
    /// Cookies are `Secure` (PUBLIC_BASE_URL is https).
    pub secure: bool,
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

impl Visitor {
    /// Reads the cookies of `req` and the session they name.
    pub async fn of(req: &HttpRequest, state: &AppState) -> Result<Visitor, ApiError> {
        let secure = state.config.public_base_url.starts_with("https://");
        let (csrf, new_csrf) = match req.cookie(CSRF_COOKIE) {
            Some(c) if c.value().len() == 64 => (c.value().to_string(), false),
            _ => (random_token(), true),
        };
        let token = req
            .cookie(SESSION_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|t| !t.is_empty());
        let found = match token.clone() {
            Some(t) => {
                state
                    .db(move |c| crate::identity::session::session_user(c, &t))
                    .await?
            }
            None => None,
        };
        let marked_only = token.is_none() && req.cookie(MARK_COOKIE).is_some();
        let (user, name) = match found {
            Some((u, n)) => (Some(u), n),
            None => (None, String::new()),
        };
        Ok(Visitor {
            user,
            name,
            csrf,
            new_csrf,
            token,
            marked_only,
            secure,
        })
    }

    /// The caller the services take.
    pub fn principal(&self) -> Option<Principal> {
        self.user.clone().map(Principal::User)
    }

    /// True when the posted form carries this browser's CSRF token (and the cookie existed
    /// before this request).
    pub fn csrf_matches(&self, fields: &BTreeMap<String, String>) -> bool {
        let Some(sent) = fields.get(CSRF_FIELD) else {
            return false;
        };
        !self.new_csrf && constant_time_eq(sent.as_bytes(), self.csrf.as_bytes())
    }

    fn cookie<'a>(&self, name: &'a str, value: String, strict: bool) -> Cookie<'a> {
        Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(if strict {
                SameSite::Strict
            } else {
                SameSite::Lax
            })
            .finish()
    }

    /// Adds what every answer needs: a Content-Security-Policy that allows no script and only
    /// this site's forms, the CSRF cookie when it was new, and the session mark while signed in.
    pub fn apply(&self, res: &mut HttpResponseBuilder) {
        res.insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ));
        if self.new_csrf {
            res.cookie(self.cookie(CSRF_COOKIE, self.csrf.clone(), true));
        }
        if self.user.is_some() {
            res.cookie(self.cookie(MARK_COOKIE, "1".into(), false));
        }
    }

    /// Sets the session cookie of a session just opened.
    pub fn start_session(&self, res: &mut HttpResponseBuilder, refresh_token: String) {
        res.cookie(self.cookie(SESSION_COOKIE, refresh_token, true));
        res.cookie(self.cookie(MARK_COOKIE, "1".into(), false));
    }

    /// Removes the session cookie and its mark.
    pub fn end_session(&self, res: &mut HttpResponseBuilder) {
        for name in [SESSION_COOKIE, MARK_COOKIE] {
            let mut c = self.cookie(name, String::new(), true);
            c.set_max_age(CookieAge::ZERO);
            res.cookie(c);
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses an urlencoded form body; the first value of a repeated field wins.
pub fn fields(body: &[u8]) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        out.entry(k).or_insert(v);
    }
    out
}

/// A redirect after a POST (303) or to another page.
pub fn see_other(v: &Visitor, location: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    v.apply(&mut res);
    res.insert_header(("Location", location.to_string()))
        .finish()
}

/// Where the sign-in page sends a person back to: a path of this site only.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_page_sends_back_only_to_paths_of_this_site() {
        assert_eq!(safe_next(Some("/inbox")), "/inbox");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn a_form_field_keeps_its_first_value() {
        let f = fields(b"a=1&a=2&b=x+y");
        assert_eq!(f.get("a").map(String::as_str), Some("1"));
        assert_eq!(f.get("b").map(String::as_str), Some("x y"));
    }
}

//! Who is at the console: the session cookie (the refresh token of a server-side session of
//! `identity::session`, kept HttpOnly and SameSite=Strict, so logout and password resets end
//! it too) and the CSRF token every form carries. A POST whose token does not match its
//! browser and session is refused before anything else is read.
//!
//! The CSRF token is bound to the session: it is an HMAC (a key derived from the signing
//! key) of this browser's random CSRF cookie and of the session's id, so a token taken from
//! another browser or another session, or a cookie planted by a sibling site, is refused.
//! When `PUBLIC_BASE_URL` is https the session and CSRF cookies carry the `__Host-` prefix
//! (Secure, Path=/, no Domain: no subdomain can set or shadow them); over http, in
//! development, browsers refuse `__Host-` cookies without Secure, so the names are plain.

use std::collections::BTreeMap;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieAge};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::AppState;
use crate::auth::Principal;
use crate::auth::principal::UserPrincipal;
use crate::error::ApiError;

/// The session cookie over http: the session's refresh token.
pub const SESSION_COOKIE: &str = "idpc_session";
/// The CSRF cookie over http: this browser's random CSRF secret.
pub const CSRF_COOKIE: &str = "idpc_csrf";
/// The session cookie over https.
pub const HOST_SESSION_COOKIE: &str = "__Host-idpc_session";
/// The CSRF cookie over https.
pub const HOST_CSRF_COOKIE: &str = "__Host-idpc_csrf";
/// A readable mark that a session exists. SameSite=Strict cookies are not sent when a person
/// follows a link from a mail client, so a page that sees the mark but not the session
/// reloads itself once from its own origin (which sends them) instead of asking to sign in.
pub const MARK_COOKIE: &str = "idpc_signed_in";
/// The notice of the last POST, shown once by the page it answered with (303): its text and
/// an HMAC of it keyed by this browser's form token, so no other site can plant one.
pub const NOTICE_COOKIE: &str = "idpc_notice";
/// The form field of the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The names of the session and CSRF cookies: `__Host-` prefixed when cookies are Secure.
pub fn cookie_names(secure: bool) -> (&'static str, &'static str) {
    if secure {
        (HOST_SESSION_COOKIE, HOST_CSRF_COOKIE)
    } else {
        (SESSION_COOKIE, CSRF_COOKIE)
    }
}

/// The form token of a browser secret and a session id (empty without a session).
pub fn csrf_token(key: &[u8], browser: &str, session_id: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes a key of any length; unreachable, and an empty token matches nothing.
        return String::new();
    };
    mac.update(b"csrf\0");
    mac.update(browser.as_bytes());
    mac.update(b"\0");
    mac.update(session_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The person at the console, signed in or not.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The signed-in user.
    pub user: Option<UserPrincipal>,
    /// Its display name.
    pub name: String,
    /// The CSRF token of this browser and session, as forms carry it.
    pub csrf: String,
    /// This browser's CSRF secret (the CSRF cookie's value).
    pub browser: String,
    /// The CSRF cookie must be set on the answer (it was missing).
    pub new_csrf: bool,
    /// The session cookie's value, when one was sent.
    pub token: Option<String>,
    /// The browser holds the mark of a session but sent no session cookie.
    pub marked_only: bool,
    /// Cookies are `Secure` (PUBLIC_BASE_URL is https).
    pub secure: bool,
    /// What the last POST of this browser said it did, to show once.
    pub notice: Option<String>,
    /// The language of the pages: the signed-in user's, else the browser's `Accept-Language`.
    pub lang: crate::i18n::Lang,
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The best language of the browser's `Accept-Language` that the service speaks, else English.
pub fn browser_language(req: &HttpRequest) -> crate::i18n::Lang {
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::i18n::negotiate)
        .unwrap_or_default()
}

impl Visitor {
    /// Reads the cookies of `req` and the session they name.
    pub async fn of(req: &HttpRequest, state: &AppState) -> Result<Visitor, ApiError> {
        let secure = state.config.public_base_url.starts_with("https://");
        let (session_cookie, csrf_cookie) = cookie_names(secure);
        let (browser, new_csrf) = match req.cookie(csrf_cookie) {
            Some(c) if c.value().len() == 64 => (c.value().to_string(), false),
            _ => (random_token(), true),
        };
        let token = req
            .cookie(session_cookie)
            .map(|c| c.value().to_string())
            .filter(|t| !t.is_empty());
        let found = match token.clone() {
            Some(t) => {
                let now = state.clock().naive();
                state
                    .db(move |c| crate::identity::session::session_user(c, &t, now))
                    .await?
            }
            None => None,
        };
        let marked_only = token.is_none() && req.cookie(MARK_COOKIE).is_some();
        let (user, name, lang) = match found {
            Some((u, n, l)) => (Some(u), n, l),
            None => (None, String::new(), browser_language(req)),
        };
        let session_id = user.as_ref().map_or("", |u| u.session_id.as_str());
        let csrf = csrf_token(state.jwt.console_csrf_key(), &browser, session_id);
        let notice = req
            .cookie(NOTICE_COOKIE)
            .and_then(|c| notice_of(&csrf, c.value()));
        Ok(Visitor {
            user,
            name,
            csrf,
            browser,
            new_csrf,
            token,
            marked_only,
            secure,
            notice,
            lang,
        })
    }

    /// The caller the services take.
    pub fn principal(&self) -> Option<Principal> {
        self.user.clone().map(Principal::User)
    }

    /// True when the posted form carries the CSRF token of this browser and this session
    /// (and the cookie existed before this request).
    pub fn csrf_matches(&self, fields: &BTreeMap<String, String>) -> bool {
        let Some(sent) = fields.get(CSRF_FIELD) else {
            return false;
        };
        !self.new_csrf
            && !self.csrf.is_empty()
            && constant_time_eq(sent.as_bytes(), self.csrf.as_bytes())
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
            let (_, csrf_cookie) = cookie_names(self.secure);
            res.cookie(self.cookie(csrf_cookie, self.browser.clone(), true));
        }
        if self.user.is_some() {
            res.cookie(self.cookie(MARK_COOKIE, "1".into(), false));
        }
    }

    /// Sets the session cookie of a session just opened.
    pub fn start_session(&self, res: &mut HttpResponseBuilder, refresh_token: String) {
        res.cookie(self.cookie(cookie_names(self.secure).0, refresh_token, true));
        res.cookie(self.cookie(MARK_COOKIE, "1".into(), false));
    }

    /// Removes the session cookie and its mark.
    pub fn end_session(&self, res: &mut HttpResponseBuilder) {
        for name in [cookie_names(self.secure).0, MARK_COOKIE] {
            let mut c = self.cookie(name, String::new(), true);
            c.set_max_age(CookieAge::ZERO);
            res.cookie(c);
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn notice_mac(csrf: &str, text: &str) -> String {
    csrf_token(csrf.as_bytes(), "notice", text)
}

/// The notice a cookie value carries, when this browser's form token signed it.
fn notice_of(csrf: &str, value: &str) -> Option<String> {
    let (text, mac) = value.split_once('.')?;
    let text = String::from_utf8(hex::decode(text).ok()?).ok()?;
    (!csrf.is_empty() && constant_time_eq(mac.as_bytes(), notice_mac(csrf, &text).as_bytes()))
        .then_some(text)
}

/// The answer to a POST that did what it asked: 303 to `location`, whose page says `notice`.
pub fn done(v: &Visitor, location: &str, notice: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    v.apply(&mut res);
    let value = format!("{}.{}", hex::encode(notice), notice_mac(&v.csrf, notice));
    res.cookie(v.cookie(NOTICE_COOKIE, value, false));
    res.insert_header(("Location", location.to_string()))
        .finish()
}

/// Drops the notice cookie once its page showed it.
pub fn notice_shown(v: &Visitor, res: &mut HttpResponse) {
    if v.notice.is_some() {
        let mut gone = v.cookie(NOTICE_COOKIE, String::new(), false);
        gone.set_max_age(CookieAge::ZERO);
        let _ = res.add_cookie(&gone);
    }
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
    fn a_csrf_token_belongs_to_one_browser_and_one_session() {
        let key = [7u8; 32];
        let t = csrf_token(&key, "browser-a", "session-1");
        assert_eq!(t.len(), 64);
        assert_eq!(t, csrf_token(&key, "browser-a", "session-1"));
        assert_ne!(t, csrf_token(&key, "browser-a", "session-2"));
        assert_ne!(t, csrf_token(&key, "browser-b", "session-1"));
        assert_ne!(t, csrf_token(&key, "browser-a", ""));
        assert_ne!(t, csrf_token(&[8u8; 32], "browser-a", "session-1"));
    }

    #[test]
    fn https_cookies_carry_the_host_prefix_and_http_ones_do_not() {
        assert_eq!(
            cookie_names(true),
            ("__Host-idpc_session", "__Host-idpc_csrf")
        );
        assert_eq!(cookie_names(false), ("idpc_session", "idpc_csrf"));
    }

    #[test]
    fn a_form_field_keeps_its_first_value() {
        let f = fields(b"a=1&a=2&b=x+y");
        assert_eq!(f.get("a").map(String::as_str), Some("1"));
        assert_eq!(f.get("b").map(String::as_str), Some("x y"));
    }
}

//! A browser without a browser: drives the console's pages over the in-process service with
//! a cookie jar, following redirects, posting forms with the CSRF token as a browser would.

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::test::TestRequest;

use super::TestApp;
use super::http::{Resp, send};

/// The cookies of one person's browser.
pub struct Browser<'a> {
    app: &'a TestApp,
    /// Cookie name → value.
    pub cookies: BTreeMap<String, String>,
    /// The CSRF token of the last page that carried a form (it is bound to the session).
    pub form_token: Option<String>,
}

/// The path (and query) of a link of the test app's emails (`http://hub.test/…`).
pub fn path_of(link: &str) -> String {
    let rest = link.strip_prefix("http://hub.test").unwrap_or(link);
    if rest.is_empty() {
        "/".into()
    } else {
        rest.to_string()
    }
}

/// Every link in a text, up to the first whitespace, without trailing punctuation.
pub fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|w| {
            let start = w.find("http://").or_else(|| w.find("https://"))?;
            Some(
                w[start..]
                    .trim_end_matches(['.', ',', ')', '>', ';', '"', '\''])
                    .to_string(),
            )
        })
        .collect()
}

/// Percent-encodes a form value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl<'a> Browser<'a> {
    /// A browser with no cookies.
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
            form_token: None,
        }
    }

    fn keep_cookies(&mut self, r: &Resp) {
        for v in r.headers.get_all("set-cookie") {
            let Ok(v) = v.to_str() else { continue };
            let first = v.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else {
                continue;
            };
            let gone = v.to_ascii_lowercase().contains("max-age=0");
            if gone {
                self.cookies.remove(name.trim());
            } else {
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
    }

    async fn send(&mut self, method: Method, path: &str, body: Option<String>) -> Resp {
        let mut tr = TestRequest::default().method(method).uri(path);
        if !self.cookies.is_empty() {
            let jar = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            tr = tr.insert_header(("cookie", jar));
        }
        if let Some(b) = body {
            tr = tr
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(b);
        }
        let r = send(&self.app.svc, tr).await;
        self.keep_cookies(&r);
        let marker = "name=\"csrf\" value=\"";
        if let Some(i) = r.text.find(marker) {
            let rest = &r.text[i + marker.len()..];
            self.form_token = rest.split('"').next().map(str::to_string);
        }
        r
    }

    async fn follow(&mut self, mut r: Resp) -> Resp {
        for _ in 0..5 {
            if !matches!(r.status, 301 | 302 | 303 | 307 | 308) {
                return r;
            }
            let to = r.header("location").expect("a redirect has a Location");
            r = self.send(Method::GET, &path_of(&to), None).await;
        }
        r
    }

    /// GETs a page without following redirects.
    pub async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    /// GETs a page as a browser does, following redirects.
    pub async fn open(&mut self, path: &str) -> Resp {
        let r = self.get(path).await;
        self.follow(r).await
    }

    /// The CSRF token this browser's forms carry, as the last page with a form gave it.
    pub fn csrf(&self) -> String {
        self.form_token.clone().unwrap_or_default()
    }

    /// Posts a form with the CSRF token (after a page gave one), following redirects.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        if self.csrf().is_empty() {
            self.get("/sign-in").await;
        }
        let mut all: Vec<(String, String)> = vec![("csrf".into(), self.csrf())];
        all.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.post_raw(path, &all).await
    }

    /// Posts exactly `fields` (no CSRF token added), following redirects.
    pub async fn post_raw(&mut self, path: &str, fields: &[(String, String)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self.send(Method::POST, path, Some(body)).await;
        self.follow(r).await
    }

    /// Signs in through the sign-in form.
    pub async fn sign_in(&mut self, email: &str, password: &str) {
        self.get("/sign-in").await;
        let r = self
            .submit(
                "/sign-in",
                &[("email", email), ("password", password), ("next", "/")],
            )
            .await;
        assert_eq!(r.status, 200, "signed in and landed on a page: {}", r.text);
        assert!(
            self.cookies.contains_key("idpc_session"),
            "the session cookie is set"
        );
    }
}

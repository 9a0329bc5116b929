//! The signed-in user's own settings page (`/account`): the language their emails and
//! console pages are written in. It changes the account through the same service as
//! `PATCH /api/v1/me`, so the rules and the audit event are the API's.

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::console::{Page, Reply, reply, text};
use super::page::Form;
use crate::AppState;
use crate::auth::principal::RequestMeta;
use crate::i18n::{Lang, t};
use crate::identity::account;
use crate::identity::model::MePatch;

/// The language form, every language named in its own language.
fn language_form(lang: Lang, current: &str) -> Form {
    let choices = Lang::all()
        .map(|l| (l.code().to_string(), t(l, "language-name")))
        .collect();
    Form::new("account", "/account", &t(lang, "account-save"))
        .select("language", &t(lang, "account-language"), choices)
        .hint(&t(lang, "account-language-hint"))
        .value("language", current)
}

async fn account_page(p: &Page, failed: Option<Form>) -> Reply {
    let who = p.who.clone();
    let me = p.db(move |c| account::me(c, &who)).await?;
    let form = language_form(p.v.lang, &me.language);
    Ok(p.show(
        "form.html",
        &p.t("account-title"),
        vec![form],
        failed,
        context! {},
    ))
}

/// The account page.
pub async fn account(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(async { account_page(&Page::open(&req, &state).await?, None).await }.await)
}

/// Saves the language and shows the page again, in the new language.
pub async fn save_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let patch = MePatch {
                display_name: None,
                language: Some(text(&f, "language")),
            };
            let config = p.state.config.clone();
            let who = p.who.clone();
            let form = language_form(p.v.lang, "");
            let saved = p
                .command(form, &f, move |c| {
                    account::update_me(c, &config, &who, &meta, patch)
                })
                .await?;
            match saved {
                Ok(row) => Ok(p.done(
                    "/account",
                    &t(Lang::of_stored(&row.language), "account-saved"),
                )),
                Err(form) => account_page(&p, Some(form)).await,
            }
        }
        .await,
    )
}

//! A member's own organisation at the console: its profile, edited through
//! `organisation::update` with the version it was read at (the API's If-Match), where a save
//! that comes after someone else's shows what they changed next to what was typed, and nothing
//! typed is lost; and its colleagues, whom the primary contact invites and hands the role to
//! (`colleagues::invite_colleague`, `colleagues::hand_over`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::console::{Page, Reply, reply, text};
use super::page::{Failure, Form};
use crate::AppState;
use crate::auth::Role;
use crate::auth::caller::OrgMember;
use crate::auth::principal::RequestMeta;
use crate::directory::organisation::{self, Editor, OrganisationPatch, OrganisationRow};
use crate::error::{ApiError, FieldError};
use crate::identity::colleagues::{self, HandOver};
use crate::identity::model::NewUser;

/// The profile's fields: (form name, label, where it sits in the merge-patch).
const FIELDS: &[(&str, &str, &str)] = &[
    ("name", "Name", "name"),
    ("acronym", "Short name", "acronym"),
    ("city", "City", "profile.city"),
    ("website", "Website", "profile.website"),
    ("description", "Description", "profile.description"),
    ("public_email", "Public email", "profile.public_email"),
    ("contact_name", "Contact person", "contact.name"),
    ("contact_email", "Contact email", "contact.email"),
    ("contact_phone", "Contact phone", "contact.phone"),
    (
        "visibility_profile",
        "Who sees the profile",
        "visibility.profile",
    ),
    (
        "visibility_contact",
        "Who sees the contact",
        "visibility.contact",
    ),
    (
        "hidden_from_public",
        "Hidden from the public directory",
        "hidden_from_public",
    ),
];

/// What the profile shows, field by field, as the form's text.
fn values_of(o: &OrganisationRow) -> BTreeMap<String, String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        ("name", o.name.clone()),
        ("acronym", opt(&o.acronym)),
        ("city", opt(&o.city)),
        ("website", opt(&o.website)),
        ("description", opt(&o.description)),
        ("public_email", opt(&o.public_email)),
        ("contact_name", opt(&o.contact_name)),
        ("contact_email", opt(&o.contact_email)),
        ("contact_phone", opt(&o.contact_phone)),
        ("visibility_profile", o.visibility_profile.as_str().into()),
        ("visibility_contact", o.visibility_contact.as_str().into()),
        ("hidden_from_public", o.hidden_from_public.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn visibility() -> Vec<(String, String)> {
    [
        ("public", "Everyone (public)"),
        ("members", "Members and staff"),
        ("secretariat", "The secretariat only"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect()
}

/// The profile form, filled with `values`, read at `version` (what each field was then rides
/// along hidden, to tell what someone else changed if the save comes second).
fn profile_form(id: &str, values: &BTreeMap<String, String>, version: i64) -> Form {
    let mut form = Form::new("profile", &format!("/organisations/{id}/profile"), "Save")
        .text("name", "Name")
        .text("acronym", "Short name")
        .text("city", "City")
        .text("website", "Website")
        .hint("http(s) address")
        .textarea("description", "Description")
        .email("public_email", "Public email")
        .text("contact_name", "Contact person")
        .email("contact_email", "Contact email")
        .text("contact_phone", "Contact phone")
        .select("visibility_profile", "Who sees the profile", visibility())
        .hint("City, website, description, public email")
        .select("visibility_contact", "Who sees the contact", visibility())
        .hint("Contact person, email and phone")
        .select(
            "hidden_from_public",
            "Public directory",
            vec![
                ("false".into(), "Listed".into()),
                ("true".into(), "Hidden from the public".into()),
            ],
        )
        .hidden("version", &version.to_string());
    for (k, v) in values {
        form = form.value(k, v).hidden(&format!("was_{k}"), v);
    }
    form
}

async fn read(p: &Page, id: String) -> Result<OrganisationRow, HttpResponse> {
    let who = p.who.clone();
    p.db(move |c| {
        let org = organisation::find(c, &id)?;
        Editor::of(&who, &org)?;
        Ok(org)
    })
    .await
}

/// Someone else's change met on save: the field, their value, the value typed.
#[derive(Debug, Serialize)]
struct Clash {
    label: &'static str,
    theirs: String,
    yours: String,
}

fn show_profile(p: &Page, org: &OrganisationRow, form: Form, clashes: Vec<Clash>) -> HttpResponse {
    let failed = (form.status != StatusCode::OK).then(|| form.clone());
    p.show(
        "profile.html",
        &format!("Profile of {}", org.name),
        vec![form],
        failed,
        context! { org_id => org.id.clone(), clashes => clashes },
    )
}

/// The organisation's profile with its edit form.
pub async fn profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let org = read(&p, id.into_inner()).await?;
            let form = profile_form(&org.id, &values_of(&org), org.version);
            Ok(show_profile(&p, &org, form, Vec::new()))
        }
        .await,
    )
}

/// The merge-patch of what was changed in the form (fields left as they were read are not
/// sent, so another person's change to them stays).
fn patch_of(f: &BTreeMap<String, String>) -> Result<OrganisationPatch, ApiError> {
    let mut root = Map::new();
    for (name, _, at) in FIELDS {
        let now = text(f, name);
        if f.contains_key(&format!("was_{name}")) && text(f, &format!("was_{name}")) == now {
            continue;
        }
        let value = match *name {
            "hidden_from_public" => json!(now == "true"),
            _ if now.trim().is_empty() && *name != "name" => Value::Null,
            _ => json!(now),
        };
        match at.split_once('.') {
            Some((group, key)) => {
                let g = root.entry(group).or_insert_with(|| json!({}));
                if let Some(g) = g.as_object_mut() {
                    g.insert(key.to_string(), value);
                }
            }
            None => {
                root.insert(at.to_string(), value);
            }
        }
    }
    serde_json::from_value(Value::Object(root)).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// The API's field names (`profile.city`, `contact.name`) as the form's (`city`,
/// `contact_name`).
fn on_form_fields(e: ApiError) -> ApiError {
    match e {
        ApiError::Validation(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|e| {
                    let name = FIELDS
                        .iter()
                        .find(|(_, _, at)| *at == e.field)
                        .map(|(n, _, _)| n.to_string())
                        .unwrap_or(e.field.clone());
                    FieldError { field: name, ..e }
                })
                .collect(),
        ),
        e => e,
    }
}

/// What someone else saved since the form was read: each field whose stored value is not
/// what the form was read with, beside what was typed there ("not changed" when nothing was).
fn clashes(f: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> Vec<Clash> {
    FIELDS
        .iter()
        .filter_map(|(name, label, _)| {
            let theirs = now.get(*name).cloned().unwrap_or_default();
            let was = text(f, &format!("was_{name}"));
            let typed = text(f, name);
            (was != theirs).then(|| Clash {
                label,
                theirs,
                yours: if typed == was {
                    "(you did not change it)".into()
                } else {
                    typed
                },
            })
        })
        .collect()
}

/// The form again after someone else's save: what was typed is kept; a field left as it was
/// read takes their value (so saving again does not undo their change); it is read at the
/// current version.
fn rebased(typed: Form, f: &BTreeMap<String, String>, org: &OrganisationRow) -> Form {
    let now = values_of(org);
    let mut form = typed.value("version", &org.version.to_string());
    for (k, theirs) in &now {
        if text(f, k) == text(f, &format!("was_{k}")) {
            form = form.value(k, theirs);
        }
        form = form.value(&format!("was_{k}"), theirs);
    }
    form
}

/// Saves the profile; a save after someone else's shows the form again with their changes
/// beside what was typed, ready to save over them.
pub async fn save_profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let id = id.into_inner();
            let org = read(&p, id.clone()).await?;
            let version = text(&f, "version").parse::<i64>().unwrap_or(-1);
            let (config, who, oid) = (p.state.config.clone(), p.who.clone(), id.clone());
            let checked = super::form_text(&f).and_then(|()| patch_of(&f));
            let saved = match checked {
                Ok(patch) => {
                    p.state
                        .db(move |c| {
                            organisation::update(
                                c,
                                &config,
                                &who,
                                &meta,
                                &oid,
                                Some(version),
                                patch,
                            )
                        })
                        .await
                }
                Err(e) => Err(e),
            };
            let typed = profile_form(&id, &values_of(&org), org.version).filled(&f);
            match saved {
                Ok(_) => Ok(p.done(
                    &format!("/organisations/{id}/profile"),
                    "The profile is saved.",
                )),
                Err(ApiError::PreconditionFailed { .. }) => {
                    let clashes = clashes(&f, &values_of(&org));
                    let mut form = rebased(typed, &f, &org);
                    form.error = Some(
                        "Someone saved this profile after you opened it. What they changed is \
                         listed above; what you typed is kept below, and fields you did not \
                         touch show their value. Check it and save again."
                            .into(),
                    );
                    form.status = StatusCode::CONFLICT;
                    Ok(show_profile(&p, &org, form, clashes))
                }
                Err(e) => match typed.failed(on_form_fields(e)) {
                    Failure::Form(_, form) => Ok(show_profile(&p, &org, form, Vec::new())),
                    Failure::Page(e) => Err(p.fail(e)),
                },
            }
        }
        .await,
    )
}

fn colleague_forms(id: &str, list: &[colleagues::Colleague]) -> Vec<Form> {
    let others: Vec<(String, String)> = list
        .iter()
        .filter(|c| !c.primary_contact && c.status != "disabled")
        .map(|c| (c.id.clone(), format!("{} ({})", c.display_name, c.email)))
        .collect();
    let mut forms = vec![
        Form::new(
            "invite",
            &format!("/organisations/{id}/colleagues/invite"),
            "Send the invitation",
        )
        .heading("Invite a colleague")
        .email("email", "Email")
        .text("display_name", "Name"),
    ];
    if !others.is_empty() {
        forms.push(
            Form::new(
                "hand_over",
                &format!("/organisations/{id}/colleagues/primary-contact"),
                "Hand over",
            )
            .heading("Hand over the primary contact")
            .select("user_id", "New primary contact", others)
            .hint("You will no longer invite colleagues; they will.")
            .secondary(),
        );
    }
    forms
}

async fn colleagues_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let (who, oid) = (p.who.clone(), id.clone());
    let (list, may_act) = p.db(move |c| colleagues::list(c, &who, &oid)).await?;
    let forms = if may_act && p.role() == Some(Role::Member) {
        colleague_forms(&id, &list)
    } else {
        Vec::new()
    };
    Ok(p.show(
        "colleagues.html",
        "Colleagues",
        forms,
        failed,
        context! { colleagues => list, may_act => may_act, org_id => id },
    ))
}

/// The organisation's member users; its primary contact invites and hands over here.
pub async fn colleagues_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async { colleagues_page(&Page::open(&req, &state).await?, id.into_inner(), None).await }
            .await,
    )
}

/// Invites a colleague, or hands the primary contact over.
pub async fn move_colleagues(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    reply(
        async {
            let (p, f) = Page::post(&req, &state, &body).await?;
            let (id, verb) = path.into_inner();
            let member: OrgMember = p.as_a()?;
            let (config, oid) = (p.state.config.clone(), id.clone());
            let (done, notice) = match verb.as_str() {
                "invite" => {
                    let new = NewUser {
                        email: text(&f, "email").trim().to_string(),
                        display_name: text(&f, "display_name").trim().to_string(),
                        role: Role::Member,
                        organisation_id: Some(oid),
                        language: None,
                    };
                    let form = Form::named("invite")
                        .email("email", "")
                        .text("display_name", "");
                    let done = p
                        .command(form, &f, move |c| {
                            colleagues::invite_colleague(c, &config, &member, &meta, new)
                                .map(|_| ())
                        })
                        .await?;
                    (done, "The invitation is sent.")
                }
                "primary-contact" => {
                    let body = HandOver {
                        user_id: text(&f, "user_id"),
                    };
                    let who = p.who.clone();
                    let form = Form::named("hand_over").select("user_id", "", Vec::new());
                    let done = p
                        .command(form, &f, move |c| {
                            colleagues::hand_over(c, &config, &who, &meta, &oid, body).map(|_| ())
                        })
                        .await?;
                    (done, "The primary contact is handed over.")
                }
                _ => return Err(p.fail(ApiError::NotFound)),
            };
            match done {
                Ok(()) => Ok(p.done(&format!("/organisations/{id}/colleagues"), notice)),
                Err(form) => colleagues_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

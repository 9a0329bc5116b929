//! An organisation's membership at the console: its members ask for renewal; an admin sees the
//! open request there (the link of the "Decide on the renewal" email) and renews or declines
//! it with a reason, one click away; the admins' list of renewal requests. The moves are
//! `renewal::request`, `membership::decide` (`renew`) and `renewal::decline`, as in the API.

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Serialize;

use super::console::{Page, Reply, reply, text};
use super::page::Form;
use crate::AppState;
use crate::auth::Role;
use crate::auth::caller::{Admin, OrgMember, Staff};
use crate::auth::principal::RequestMeta;
use crate::directory::membership::{self, MembershipAction, MembershipCommand};
use crate::directory::renewal::{self, DeclineRenewal, RenewalRequestStatus};
use crate::directory::{organisation, renewal::RenewalRequestRow};
use crate::error::ApiError;

/// An open renewal request as the pages show it.
#[derive(Debug, Serialize)]
struct Asked {
    id: String,
    organisation_id: String,
    organisation_name: String,
    requested_by: String,
    created_at: String,
}

fn asked(c: &mut crate::db::DbConn, r: RenewalRequestRow) -> Result<Asked, ApiError> {
    let org = organisation::find(c, &r.organisation_id)?;
    let by: Option<String> = {
        use diesel::prelude::*;
        crate::db::schema::users::table
            .find(&r.requested_by)
            .select(crate::db::schema::users::display_name)
            .first(c)
            .optional()?
    };
    Ok(Asked {
        id: r.id,
        organisation_id: org.id,
        organisation_name: org.name,
        requested_by: by.unwrap_or_default(),
        created_at: r.created_at.format("%Y-%m-%d").to_string(),
    })
}

async fn renewals_page(p: &Page) -> Reply {
    let admin: Admin = p.as_a()?;
    let list = p
        .db(move |c| {
            let open = renewal::list(c, &admin, Some(RenewalRequestStatus::Open), 100, None)?;
            let mut shown = Vec::new();
            for r in open.data {
                let row = renewal::get(c, &admin, &r.id)?;
                shown.push(asked(c, row)?);
            }
            Ok(shown)
        })
        .await?;
    Ok(p.show(
        "renewals.html",
        "Renewal requests",
        Vec::new(),
        None,
        context! { requests => list },
    ))
}

/// The admins' list of renewal requests that wait for a decision.
pub async fn renewals(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(async { renewals_page(&Page::open(&req, &state).await?).await }.await)
}

/// The forms of the membership page for its viewer: a member asks for renewal (unless a
/// request is open); an admin renews or declines the open request.
fn membership_forms(p: &Page, org_id: &str, mine: bool, open: bool) -> Vec<Form> {
    let base = format!("/organisations/{org_id}/membership");
    match p.role() {
        Some(Role::Member) if mine && !open => vec![
            Form::new(
                "renewal",
                &format!("{base}/renewal-request"),
                &p.t("membership-renewal-button"),
            )
            .heading(&p.t("membership-renewal-button")),
        ],
        Some(Role::Admin) if open => vec![
            Form::new("renew", &format!("{base}/renew"), "Renew the membership").heading("Renew"),
            Form::new("decline", &format!("{base}/decline"), "Decline the renewal")
                .heading("Decline")
                .textarea("reason", "Why")
                .hint("The organisation's members are emailed this reason.")
                .secondary(),
        ],
        _ => Vec::new(),
    }
}

async fn membership_page(p: &Page, id: String, failed: Option<Form>) -> Reply {
    let w = p.who.clone();
    let (org, mine, open) = p
        .db(move |c| {
            let org = organisation::find(c, &id)?;
            let mine =
                w.role() == Some(Role::Member) && w.organisation_id() == Some(org.id.as_str());
            if !mine && Staff::try_from(&w).is_err() {
                return Err(ApiError::NotFound);
            }
            let open = match renewal::open_of(c, &org.id)? {
                Some(r) => Some(asked(c, r)?),
                None => None,
            };
            Ok((org, mine, open))
        })
        .await?;
    let forms = membership_forms(p, &org.id, mine, open.is_some());
    // A refusal of a form the page no longer offers (asked twice) is said above the page.
    let refused = failed
        .as_ref()
        .filter(|f| forms.iter().all(|o| o.name != f.name))
        .and_then(|f| f.error.clone());
    Ok(p.show(
        "membership.html",
        &crate::i18n::t_args(
            p.v.lang,
            "membership-title",
            &[("organisation", org.name.clone().into())],
        ),
        forms,
        failed,
        context! {
            mine => mine,
            open => open,
            refused => refused,
            org => context! {
                id => org.id,
                name => org.name,
                membership_status => org.membership_status.map(|s| s.as_str()),
                membership_period_start => org.membership_period_start.map(|d| d.to_string()),
                membership_period_end => org.membership_period_end.map(|d| d.to_string()),
            },
        },
    ))
}

/// An organisation's membership: its members and staff see it; anyone else gets 404.
pub async fn membership(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> HttpResponse {
    reply(
        async { membership_page(&Page::open(&req, &state).await?, id.into_inner(), None).await }
            .await,
    )
}

/// A member asks for renewal; an admin renews or declines the open request.
pub async fn move_membership(
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
            let (config, oid) = (p.state.config.clone(), id.clone());
            let today = p.state.clock().today();
            let notice = match verb.as_str() {
                "renewal-request" => {
                    "Renewal requested: the secretariat has been told and will email you its decision."
                }
                "renew" => "The membership is renewed; its members are emailed.",
                "decline" => "The renewal is declined; the members are emailed why.",
                _ => return Err(p.fail(ApiError::NotFound)),
            };
            let form = Form::named(if verb == "renewal-request" {
                "renewal"
            } else {
                &verb
            })
            .textarea("reason", "");
            let done = match verb.as_str() {
                "renewal-request" => {
                    let member: OrgMember = p.as_a()?;
                    p.command(form, &f, move |c| {
                        renewal::request(c, &config, &member, &meta, &oid, today).map(|_| ())
                    })
                    .await?
                }
                "renew" => {
                    let admin: Admin = p.as_a()?;
                    let cmd = MembershipCommand {
                        action: MembershipAction::Renew,
                        reason: None,
                    };
                    p.command(form, &f, move |c| {
                        membership::decide(c, &config, &admin, &meta, &oid, cmd, today).map(|_| ())
                    })
                    .await?
                }
                _ => {
                    let admin: Admin = p.as_a()?;
                    let body = DeclineRenewal {
                        reason: text(&f, "reason"),
                    };
                    p.command(form, &f, move |c| {
                        let open = renewal::open_of(c, &oid)?.ok_or(ApiError::Conflict {
                            code: crate::error::ConflictCode::InvalidTransition,
                            detail: "No renewal request of this organisation waits.".into(),
                        })?;
                        renewal::decline(c, &config, &admin, &meta, &open.id, body, today)
                            .map(|_| ())
                    })
                    .await?
                }
            };
            match done {
                Ok(()) => Ok(p.done(&format!("/organisations/{id}/membership"), notice)),
                Err(form) => membership_page(&p, id, Some(form)).await,
            }
        }
        .await,
    )
}

//! The staff dashboard: the portfolio as charts (by priority area and region, by year,
//! membership growth), each an SVG drawn on the server with its table beside it, and links to
//! the tables as CSV and XLSX. It reads through `portfolio::aggregate::read` and
//! `portfolio::membership::read`, the API's functions, as the signed-in staff user (so hidden
//! organisations count, as they do for staff in the API).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

use super::console::{Page, Reply, reply};
use crate::AppState;
use crate::auth::caller::Staff;
use crate::error::ApiError;
use crate::portfolio::aggregate::{self, Portfolio, PortfolioParams};
use crate::portfolio::charts::{self, Bar};
use crate::portfolio::membership::{self, MembershipParams, MembershipTable};
use crate::portfolio::{api::XLSX, tables};

/// Short names of the priority areas for chart axes (the tables use the codes).
fn short(area: &str) -> &str {
    match area {
        "decriminalisation_justice_reform" => "Decriminalisation",
        "women_drug_policy" => "Women",
        "support_dont_punish" => "Support. Don't Punish",
        "cross_un_common_position" => "Cross-UN",
        "civil_society_space" => "Civic space",
        other => other,
    }
}

fn amount(s: &str) -> f64 {
    s.parse().unwrap_or(0.0)
}

/// The three tables of the dashboard for `p`'s caller.
async fn tables_of(p: &Page) -> Result<(Portfolio, Portfolio, MembershipTable), HttpResponse> {
    let _staff: Staff = p.as_a()?;
    let config = p.state.config.clone();
    let who = p.who.clone();
    let today = p.state.clock().today();
    p.db(move |c| {
        let by = |g: &str| PortfolioParams {
            group_by: Some(g.into()),
            ..PortfolioParams::default()
        };
        let cross = aggregate::read(c, &config, Some(&who), &by("priority_area,region"))?;
        let years = aggregate::read(c, &config, Some(&who), &by("year"))?;
        let members = membership::read(c, Some(&who), &MembershipParams::default(), today)?;
        Ok((cross, years, members))
    })
    .await
}

/// Committed per priority area, stacked by region.
fn area_chart(cross: &Portfolio) -> String {
    let mut regions: Vec<String> = cross.rows.iter().map(|r| r.keys[1].clone()).collect();
    regions.sort();
    regions.dedup();
    let mut areas: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &cross.rows {
        let parts = areas
            .entry(r.keys[0].clone())
            .or_insert_with(|| vec![0.0; regions.len()]);
        if let Some(i) = regions.iter().position(|g| *g == r.keys[1]) {
            parts[i] = amount(&r.sums.committed);
        }
    }
    let bars: Vec<Bar> = areas
        .into_iter()
        .map(|(a, parts)| Bar {
            label: short(&a).to_string(),
            parts,
        })
        .collect();
    charts::stacked_bars(
        &format!(
            "Committed ({}) by priority area, stacked by region",
            cross.base_currency
        ),
        &regions,
        &bars,
    )
}

/// Paid and outstanding per year (stacked: together the committed amount).
fn year_chart(years: &Portfolio) -> String {
    let bars: Vec<Bar> = years
        .rows
        .iter()
        .map(|r| Bar {
            label: r.keys[0].clone(),
            parts: vec![amount(&r.sums.paid), amount(&r.sums.outstanding)],
        })
        .collect();
    charts::stacked_bars(
        &format!("Paid and outstanding ({}) by year", years.base_currency),
        &["paid".into(), "outstanding".into()],
        &bars,
    )
}

/// Members per year, summed over regions: (year, joined, lapsed, withdrawn, active).
fn growth(m: &MembershipTable) -> Vec<(i32, i64, i64, i64, i64)> {
    let mut by: BTreeMap<i32, (i64, i64, i64, i64)> = BTreeMap::new();
    for r in &m.rows {
        let e = by.entry(r.year).or_default();
        e.0 += r.joined;
        e.1 += r.lapsed;
        e.2 += r.withdrawn;
        e.3 += r.active_at_year_end;
    }
    by.into_iter()
        .map(|(y, (j, l, w, a))| (y, j, l, w, a))
        .collect()
}

fn growth_chart(rows: &[(i32, i64, i64, i64, i64)]) -> String {
    let points: Vec<Bar> = rows
        .iter()
        .map(|(y, j, _, _, a)| Bar {
            label: y.to_string(),
            parts: vec![*a as f64, *j as f64],
        })
        .collect();
    charts::lines(
        "Membership growth: organisations active at each year's end, and joined in the year",
        &["active at year end".into(), "joined".into()],
        &points,
    )
}

/// The dashboard (staff).
pub async fn dashboard(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    reply(
        async {
            let p = Page::open(&req, &state).await?;
            let (cross, years, members) = tables_of(&p).await?;
            let growth = growth(&members);
            Ok(p.show(
                "dashboard.html",
                "Portfolio dashboard",
                Vec::new(),
                None,
                context! {
                    area_chart => area_chart(&cross),
                    year_chart => year_chart(&years),
                    growth_chart => growth_chart(&growth),
                    cross => cross,
                    years => years,
                    growth => growth,
                },
            ))
        }
        .await,
    )
}

/// A table of the dashboard as CSV or XLSX: `file` is `priority-area-region`, `year` or
/// `membership`, with `.csv` or `.xlsx`.
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> HttpResponse {
    reply(download_reply(&req, &state, &file).await)
}

async fn download_reply(req: &HttpRequest, state: &web::Data<AppState>, file: &str) -> Reply {
    let p = Page::open(req, state).await?;
    let (cross, years, members) = tables_of(&p).await?;
    let (name, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    let table = match name {
        "priority-area-region" => tables::portfolio(&cross),
        "year" => tables::portfolio(&years),
        "membership" => tables::membership(&members),
        _ => return Err(p.fail(ApiError::NotFound)),
    };
    let (body, content_type) = match ext {
        "csv" => (
            tables::csv(&table).map(String::into_bytes),
            "text/csv; charset=utf-8",
        ),
        "xlsx" => (tables::xlsx(&table, "Table"), XLSX),
        _ => return Err(p.fail(ApiError::NotFound)),
    };
    let body = body.map_err(|e| p.fail(e))?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .body(body))
}

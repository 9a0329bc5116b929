//! The portfolio (`/api/v1/portfolio`) and the membership table over the demo data, on both
//! backends: the priority-area × region table equals a computation made here from the stored
//! rows, every grouping adds up to the same grand total, hidden organisations count for staff
//! only, and the CSV and XLSX downloads carry the same tables.

use std::collections::BTreeMap;

use diesel::prelude::*;
use idpc_hub::db::schema::{fx_rates, grants, organisations};
use serde_json::Value;

use crate::common::TestApp;
use crate::on_both;

/// Minor units of a decimal string with two decimals (USD, the tests' base currency).
pub fn minor(s: &Value) -> i64 {
    let s = s
        .as_str()
        .unwrap_or_else(|| panic!("an amount string, got {s}"));
    let (whole, frac) = s.split_once('.').unwrap_or((s, "00"));
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    sign * (whole.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + frac.parse::<i64>().unwrap())
}

pub async fn login(app: &TestApp, email: &str, password: &str) -> String {
    let r = app
        .post("/api/v1/auth/login")
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect(200);
    r.body["access_token"].as_str().unwrap().to_string()
}

/// The demo data and a token of its admin (staff).
pub async fn demo(app: &TestApp) -> String {
    idpc_hub::demo::seed(&app.state).await.unwrap();
    let admin = &idpc_hub::demo::DEMO_USERS[0];
    login(app, admin.email, admin.password).await
}

/// Half away from zero, as a bookkeeper rounds: `amount` (2 decimals) × rate (millionths).
fn at_rate(amount: i64, rate_micros: i64) -> i64 {
    let num = i128::from(amount) * i128::from(rate_micros);
    let den = 1_000_000_i128;
    let (q, r) = (num / den, num % den);
    (q + i128::from(r * 2 >= den)) as i64
}

const PLAN: [&str; 5] = [
    "decriminalisation_justice_reform",
    "women_drug_policy",
    "support_dont_punish",
    "cross_un_common_position",
    "civil_society_space",
];

type Stored = (String, String, String, String, i64, i64, Option<i64>, bool);

/// The priority-area × region table computed from the stored grants, independently of the
/// service: (committed, paid) in USD minor units per (area, region).
async fn by_hand(app: &TestApp, with_hidden: bool) -> BTreeMap<(String, String), (i64, i64)> {
    let (rows, rates): (Vec<Stored>, BTreeMap<String, i64>) = app
        .db(|c| {
            let rows = grants::table
                .inner_join(organisations::table)
                .filter(grants::status.eq_any(["approved", "active", "closed"]))
                .select((
                    grants::priority_areas,
                    organisations::region,
                    grants::currency,
                    grants::fund_currency,
                    grants::amount,
                    grants::paid,
                    grants::fx_rate_micros,
                    organisations::hidden_from_public,
                ))
                .load::<Stored>(c)
                .unwrap();
            let rates = fx_rates::table
                .select((fx_rates::currency, fx_rates::rate_micros))
                .load::<(String, i64)>(c)
                .unwrap()
                .into_iter()
                .collect();
            (rows, rates)
        })
        .await;
    let mut table = BTreeMap::new();
    for (areas, region, currency, fund_currency, amount, paid, rate, hidden) in rows {
        if hidden && !with_hidden {
            continue;
        }
        let usd = |x: i64| match (currency.as_str(), fund_currency.as_str(), rate) {
            ("USD", _, _) => x,
            (_, "USD", Some(r)) => at_rate(x, r),
            (_, "USD", None) => x,
            (c, _, _) => at_rate(x, rates[c]),
        };
        let (committed, paid) = (usd(amount), usd(paid));
        let mine: Vec<&str> = PLAN
            .iter()
            .copied()
            .filter(|a| areas.contains(&format!(",{a},")))
            .collect();
        let n = mine.len() as i64;
        for (i, a) in mine.iter().enumerate() {
            let share = |x: i64| x / n + i64::from((i as i64) < x % n);
            let e = table
                .entry((a.to_string(), region.clone()))
                .or_insert((0, 0));
            e.0 += share(committed);
            e.1 += share(paid);
        }
    }
    table
}

async fn portfolio(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    app.get(&format!("/api/v1/portfolio?{query}"))
        .auth(token)
        .send()
        .await
        .expect(200)
        .body
}

on_both! {
    async fn the_priority_area_by_region_table_equals_a_hand_computation_and_every_grouping_adds_up_to_one_total(backend) {
        let app = TestApp::start(backend).await;
        let staff = demo(&app).await;
        let p = portfolio(&app, Some(&staff), "group_by=priority_area,region").await;
        assert_eq!(p["base_currency"], "USD");
        assert_eq!(p["includes_hidden_organisations"], true);
        let got: BTreeMap<(String, String), (i64, i64)> = p["rows"].as_array().unwrap().iter().map(|r| {
            assert_eq!(minor(&r["outstanding"]), minor(&r["committed"]) - minor(&r["paid"]), "{r}");
            ((r["keys"][0].as_str().unwrap().to_string(), r["keys"][1].as_str().unwrap().to_string()),
             (minor(&r["committed"]), minor(&r["paid"])))
        }).collect();
        let want = by_hand(&app, true).await;
        assert!(want.len() >= 3, "the demo data spreads over several areas and regions: {want:?}");
        assert!(want.values().any(|(_, paid)| *paid > 0), "some demo money is paid");
        assert_eq!(got, want);

        let total = (minor(&p["total"]["committed"]), minor(&p["total"]["paid"]), minor(&p["total"]["outstanding"]));
        assert_eq!(total.0, want.values().map(|v| v.0).sum::<i64>());
        for g in ["pillar", "priority_area", "region", "country", "fund", "donor", "year", "region,year", "pillar,donor", "fund,priority_area"] {
            let t = portfolio(&app, Some(&staff), &format!("group_by={g}")).await;
            let rows = t["rows"].as_array().unwrap();
            let sum = |f: &str| rows.iter().map(|r| minor(&r[f])).sum::<i64>();
            assert_eq!((sum("committed"), sum("paid"), sum("outstanding")), total, "grouped by {g}");
            assert_eq!((minor(&t["total"]["committed"]), minor(&t["total"]["paid"]), minor(&t["total"]["outstanding"])), total, "total by {g}");
        }
        // Funds and donors carry names for people.
        let by_donor = portfolio(&app, Some(&staff), "group_by=donor").await;
        let labels: Vec<&str> = by_donor["rows"].as_array().unwrap().iter().map(|r| r["labels"][0].as_str().unwrap()).collect();
        assert!(labels.contains(&"Open Society Drug Policy Fund"), "{labels:?}");
    }
}

on_both! {
    async fn filters_narrow_the_portfolio_and_bad_groupings_are_a_400_naming_group_by(backend) {
        let app = TestApp::start(backend).await;
        let staff = demo(&app).await;
        let all = portfolio(&app, Some(&staff), "group_by=fund").await;
        let first = &all["rows"][0];
        let fund = first["keys"][0].as_str().unwrap();
        let one = portfolio(&app, Some(&staff), &format!("fund_id={fund}")).await;
        assert_eq!(one["total"]["committed"], first["committed"]);
        let future = portfolio(&app, Some(&staff), "from=2999-01-01").await;
        assert_eq!(future["total"]["committed"], "0.00");
        assert_eq!(future["total"]["grants"], 0);
        let drafts = portfolio(&app, Some(&staff), "status=draft&group_by=region").await;
        assert_ne!(drafts["total"]["committed"], all["total"]["committed"]);
        for bad in ["group_by=colour", "group_by=region,year,fund", "group_by=region,region"] {
            let r = app.get(&format!("/api/v1/portfolio?{bad}")).bearer(&staff).send().await.expect_problem(400);
            assert_eq!(r.first_error_field(), "group_by", "{bad}");
        }
        let r = app.get("/api/v1/portfolio?from=2026-05-01&to=2026-04-01").send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "to");
    }
}

on_both! {
    async fn hidden_organisations_count_for_staff_only_and_other_answers_say_they_are_left_out(backend) {
        let app = TestApp::start(backend).await;
        let staff = demo(&app).await;
        // The grantee of a paid grant works where drug use is criminalised: it is hidden.
        let hidden: String = app.db(|c| {
            let id: String = grants::table
                .filter(grants::status.eq_any(["approved", "active", "closed"]))
                .filter(grants::paid.gt(0))
                .select(grants::grantee_organisation_id)
                .first(c)
                .unwrap();
            diesel::update(organisations::table.find(&id)).set(organisations::hidden_from_public.eq(true)).execute(c).unwrap();
            id
        }).await;
        assert!(!hidden.is_empty());
        let staff_view = portfolio(&app, Some(&staff), "group_by=priority_area,region").await;
        let public = portfolio(&app, None, "group_by=priority_area,region").await;
        let member = &idpc_hub::demo::DEMO_USERS[4];
        let member_token = login(&app, member.email, member.password).await;
        let members = portfolio(&app, Some(&member_token), "group_by=priority_area,region").await;
        assert_eq!(staff_view["includes_hidden_organisations"], true);
        assert_eq!(public["includes_hidden_organisations"], false);
        assert_eq!(members["includes_hidden_organisations"], false);
        assert!(minor(&public["total"]["committed"]) < minor(&staff_view["total"]["committed"]));
        assert_eq!(public["total"], members["total"]);
        let want: i64 = by_hand(&app, false).await.values().map(|v| v.0).sum();
        assert_eq!(minor(&public["total"]["committed"]), want);
        // The membership table leaves it out of public counts too.
        let staff_m = app.get("/api/v1/portfolio/membership").bearer(&staff).send().await.expect(200).body;
        let public_m = app.get("/api/v1/portfolio/membership").send().await.expect(200).body;
        let active = |m: &Value| m["rows"].as_array().unwrap().iter().map(|r| r["active_at_year_end"].as_i64().unwrap()).sum::<i64>();
        assert_eq!(public_m["includes_hidden_organisations"], false);
        assert!(active(&public_m) < active(&staff_m));
    }
}

on_both! {
    async fn the_membership_table_counts_joined_lapsed_withdrawn_and_active_at_each_year_end(backend) {
        let app = TestApp::start(backend).await;
        let staff = demo(&app).await;
        let year = app.clock.today().format("%Y").to_string().parse::<i64>().unwrap();
        let m = app.get("/api/v1/portfolio/membership?group_by=kind").bearer(&staff).send().await.expect(200).body;
        assert_eq!(m["group_by"], "kind");
        let now: Vec<&Value> = m["rows"].as_array().unwrap().iter().filter(|r| r["year"] == year).collect();
        let count = |kind: &str, out: &[&str]| {
            let kind = kind.to_string();
            let out: Vec<String> = out.iter().map(|s| s.to_string()).collect();
            app.db(move |c| {
                organisations::table
                    .filter(organisations::kind.eq(kind))
                    .select(organisations::membership_status)
                    .load::<Option<String>>(c)
                    .unwrap()
                    .into_iter()
                    .filter(|s| !s.as_ref().is_some_and(|s| out.contains(s)))
                    .count() as i64
            })
        };
        let members = now.iter().find(|r| r["key"] == "member").expect("members this year");
        assert_eq!(members["active_at_year_end"].as_i64().unwrap(), count("member", &["applicant", "lapsed", "withdrawn"]).await);
        let partners = now.iter().find(|r| r["key"] == "partner").expect("partners this year");
        assert_eq!(partners["active_at_year_end"].as_i64().unwrap(), count("partner", &["applicant"]).await);
        // Joined adds up over the years to everyone counted.
        let joined: i64 = m["rows"].as_array().unwrap().iter().map(|r| r["joined"].as_i64().unwrap()).sum();
        assert_eq!(joined, count("member", &["applicant"]).await + count("partner", &["applicant"]).await);
        let r = app.get("/api/v1/portfolio/membership?group_by=colour").send().await;
        assert_eq!(r.status, 400, "{}", r.text);
    }
}

on_both! {
    async fn each_table_downloads_as_csv_and_xlsx_with_the_same_figures(backend) {
        let app = TestApp::start(backend).await;
        let staff = demo(&app).await;
        let p = portfolio(&app, Some(&staff), "group_by=priority_area,region").await;
        let csv = app.get("/api/v1/portfolio.csv?group_by=priority_area,region").bearer(&staff).send().await.expect(200);
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        let lines: Vec<&str> = csv.text.lines().collect();
        assert_eq!(lines[0], "priority_area,region,grants,committed,paid,outstanding");
        assert_eq!(lines.len(), p["rows"].as_array().unwrap().len() + 2, "{}", csv.text);
        let t = &p["total"];
        assert_eq!(*lines.last().unwrap(), format!("total,,{},{},{},{}", t["grants"], t["committed"].as_str().unwrap(), t["paid"].as_str().unwrap(), t["outstanding"].as_str().unwrap()));
        let xlsx = app.get("/api/v1/portfolio.xlsx?group_by=year").bearer(&staff).send().await.expect(200);
        assert_eq!(xlsx.header("content-type").unwrap(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert!(xlsx.bytes.starts_with(b"PK"), "an XLSX is a zip");
        let m_csv = app.get("/api/v1/portfolio/membership.csv").send().await.expect(200);
        assert!(m_csv.text.starts_with("year,region,joined,lapsed,withdrawn,active_at_year_end\n"), "{}", m_csv.text);
        let m_xlsx = app.get("/api/v1/portfolio/membership.xlsx?group_by=country").send().await.expect(200);
        assert!(m_xlsx.bytes.starts_with(b"PK"));
    }
}

//! Directory reads at 100,000 organisations, against the database's own read baseline,
//! measured in the same run on the same machine (issue 12).
//!
//! `bench/run.sh directory` (or `cargo bench --bench directory` with wrk installed) seeds
//! 100,000 organisations through the write path (`organisation::insert_in` inside
//! `command::run`, 500 a transaction: the row, its tags, its search document, the audit event
//! and the partner event, as in production), starts the release server on the seeded database
//! as its own process on a loopback port, and drives with wrk at 32 connections: GET /organisations/{id}, a selective
//! and a broad search (`q` + `region` + `focus_area`), an accented search (`q=bogota` and
//! `q=bogotá` against names with `Bogotá`) and the facets of a two-filter search. The baseline
//! is `pgbench -S` on the same PostgreSQL (its own database, dropped afterwards) and, for
//! SQLite, raw primary-key lookups of the same table through diesel on one thread per core.
//! Then the same on SQLite. Ends with `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL and
//! `EXPLAIN QUERY PLAN` on SQLite of the queries a search runs.

mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use common::*;
use diesel::prelude::*;
use idpc_hub::AppState;
use idpc_hub::audit::Actor;
use idpc_hub::auth::principal::RequestMeta;
use idpc_hub::codes::{PILLARS, PRIORITY_AREAS};
use idpc_hub::config::Config;
use idpc_hub::db::DbConn;
use idpc_hub::db::schema::organisations;
use idpc_hub::directory::membership::MembershipStatus;
use idpc_hub::directory::visibility::Visibility;
use idpc_hub::directory::{OrganisationKind, OrganisationRow, PartnerType};

/// Organisations seeded: 100,000 (`BENCH_ORGS` changes it for a quick trial run).
fn orgs() -> usize {
    std::env::var("BENCH_ORGS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000)
}
const CONNECTIONS: usize = 32;

fn seconds() -> u64 {
    std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

/// (country, city, region, languages): one-word cities, so `q` needs no escaping.
const PLACES: &[(&str, &str, &str, &[&str])] = &[
    ("KE", "Nairobi", "africa", &["en", "sw"]),
    ("NG", "Lagos", "africa", &["en"]),
    ("ZA", "Johannesburg", "africa", &["en", "zu"]),
    ("SN", "Dakar", "africa", &["fr"]),
    ("GH", "Accra", "africa", &["en"]),
    ("UG", "Kampala", "africa", &["en"]),
    ("TH", "Bangkok", "asia", &["th", "en"]),
    ("IN", "Delhi", "asia", &["hi", "en"]),
    ("ID", "Jakarta", "asia", &["id"]),
    ("PH", "Manila", "asia", &["en"]),
    ("NP", "Kathmandu", "asia", &["ne", "en"]),
    ("MY", "Penang", "asia", &["ms", "en"]),
    ("PT", "Lisbon", "europe", &["pt"]),
    ("GB", "London", "europe", &["en"]),
    ("DE", "Berlin", "europe", &["de"]),
    ("PL", "Warsaw", "europe", &["pl"]),
    ("GE", "Tbilisi", "europe", &["ka", "ru"]),
    ("UA", "Kyiv", "europe", &["uk"]),
    ("MX", "Guadalajara", "latin_america_caribbean", &["es"]),
    ("CO", "Bogotá", "latin_america_caribbean", &["es"]),
    ("BR", "Belém", "latin_america_caribbean", &["pt"]),
    ("AR", "Rosario", "latin_america_caribbean", &["es"]),
    ("JM", "Kingston", "latin_america_caribbean", &["en"]),
    ("PE", "Lima", "latin_america_caribbean", &["es"]),
    ("LB", "Beirut", "middle_east_north_africa", &["ar", "fr"]),
    ("MA", "Rabat", "middle_east_north_africa", &["ar", "fr"]),
    ("EG", "Cairo", "middle_east_north_africa", &["ar"]),
    ("JO", "Amman", "middle_east_north_africa", &["ar", "en"]),
    ("TN", "Tunis", "middle_east_north_africa", &["ar", "fr"]),
    ("IR", "Tehran", "middle_east_north_africa", &["fa"]),
    ("CA", "Toronto", "north_america", &["en", "fr"]),
    ("US", "Baltimore", "north_america", &["en", "es"]),
    ("US", "Seattle", "north_america", &["en"]),
    ("CA", "Vancouver", "north_america", &["en"]),
    ("US", "Chicago", "north_america", &["en"]),
    ("CA", "Montreal", "north_america", &["fr", "en"]),
    ("AU", "Sydney", "oceania", &["en"]),
    ("NZ", "Auckland", "oceania", &["en", "mi"]),
    ("FJ", "Suva", "oceania", &["en", "fj"]),
    ("AU", "Melbourne", "oceania", &["en"]),
    ("PG", "Lae", "oceania", &["en"]),
    ("NZ", "Wellington", "oceania", &["en"]),
    ("CH", "Geneva", "global", &["en", "fr"]),
    ("AT", "Vienna", "global", &["en", "de"]),
    ("US", "Washington", "global", &["en"]),
    ("KE", "Mombasa", "global", &["en"]),
    ("TH", "Chiangmai", "global", &["th"]),
    ("BE", "Brussels", "global", &["fr", "nl"]),
];

const PATTERNS: &[&str] = &[
    "{} Harm Reduction Network",
    "{} Drug Policy Forum",
    "Coalition for Drug Policy Reform {}",
    "{} Network of People Who Use Drugs",
    "Women, Drugs and Justice Collective {}",
    "{} Centre for Health and Human Rights",
    "{} Youth for Sensible Drug Policy",
    "{} Legal Aid and Decriminalisation Project",
];

/// Organisation `n`: spread over 48 cities in every region, 8 name patterns, 1-3 of the five
/// focus areas; one in 23 hidden, one in 11 with a members-only profile, one in 10 a partner,
/// one in 17 members lapsed.
fn row(n: usize, today: chrono::NaiveDate) -> OrganisationRow {
    let (country, city, region, languages) = PLACES[n % PLACES.len()];
    let pattern = PATTERNS[(n / PLACES.len()) % PATTERNS.len()];
    let name = format!("{} {}", pattern.replace("{}", city), n + 1);
    let slug = format!("{}-{}", idpc_hub::directory::slugify(&name), n);
    let now = chrono::Utc::now().naive_utc();
    let partner = n % 10 == 9;
    let areas: Vec<String> = (0..1 + n % 3)
        .map(|j| PRIORITY_AREAS[(n / 7 + j * 2) % PRIORITY_AREAS.len()].to_string())
        .collect();
    let pillars: Vec<String> = (0..1 + n % 2)
        .map(|j| PILLARS[(n + j) % PILLARS.len()].to_string())
        .collect();
    let langs: Vec<String> = languages.iter().map(|l| l.to_string()).collect();
    let joined = today - chrono::Duration::days((n % 3650) as i64);
    let list = |v: &[String]| serde_json::to_string(v).unwrap();
    OrganisationRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.clone(),
        slug: slug.clone(),
        kind: if partner {
            OrganisationKind::Partner
        } else {
            OrganisationKind::Member
        },
        partner_type: partner.then_some(PartnerType::CommunityNetwork),
        country: country.into(),
        region: region.into(),
        created_at: now,
        updated_at: now,
        version: 1,
        hidden_from_public: n % 23 == 7,
        acronym: Some(format!("O{n}")),
        city: Some(city.into()),
        website: Some(format!("https://{slug}.example.org")),
        description: Some(format!(
            "{name} works in {city} on {} through {}.",
            areas.join(", ").replace('_', " "),
            pillars.join(" and ").replace('_', " ")
        )),
        focus_areas: list(&areas),
        pillars: list(&pillars),
        languages: list(&langs),
        public_email: Some(format!("info@{slug}.example.org")),
        contact_name: Some(format!("Contact {n}")),
        contact_email: Some(format!("contact@{slug}.example.org")),
        contact_phone: None,
        social_links: "[]".into(),
        logo_url: None,
        founded_year: Some(1985 + (n % 38) as i32),
        joined_on: joined,
        membership_status: (!partner).then_some(if n % 17 == 5 {
            MembershipStatus::Lapsed
        } else {
            MembershipStatus::Active
        }),
        membership_period_start: (!partner).then_some(joined),
        membership_period_end: None,
        visibility_profile: if n % 11 == 3 {
            Visibility::Members
        } else {
            Visibility::Public
        },
        visibility_contact: Visibility::Members,
        identifiers: "[]".into(),
    }
}

/// Inserts the organisations through the write path (`insert_in` in `command::run`, 500 a
/// transaction), on one thread per core for PostgreSQL and one writer for SQLite. Returns the
/// ids of 1,000 organisations the public may see.
fn seed(state: &AppState) -> Vec<String> {
    let today = chrono::Utc::now().date_naive();
    let public: Vec<String> = (0..orgs())
        .step_by(97)
        .take(1_100)
        .map(|n| (n, row(n, today)))
        .filter(|(_, r)| {
            !r.hidden_from_public && r.membership_status != Some(MembershipStatus::Lapsed)
        })
        .map(|(n, _)| n.to_string())
        .collect();
    let writers = if state.pool.get().unwrap().backend_name() == "postgres" {
        cores()
    } else {
        1
    };
    let ids: Vec<Vec<(usize, String)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (pool, config): (_, Config) =
                    (state.pool.clone(), state.config.as_ref().clone());
                s.spawn(move || {
                    let mut conn = pool.get().unwrap();
                    let mut ids = Vec::new();
                    let meta = RequestMeta {
                        request_id: None,
                        ip: String::new(),
                    };
                    let mine: Vec<usize> =
                        (0..orgs()).filter(|n| (n / 500) % writers == w).collect();
                    for batch in mine.chunks(500) {
                        let rows: Vec<OrganisationRow> =
                            batch.iter().map(|n| row(*n, today)).collect();
                        for (n, r) in batch.iter().zip(&rows) {
                            if n % 97 == 0 {
                                ids.push((*n, r.id.clone()));
                            }
                        }
                        idpc_hub::command::run(&mut conn, &config, &Actor::System, &meta, |ctx| {
                            for r in rows {
                                idpc_hub::directory::organisation::insert_in(ctx, r)?;
                            }
                            Ok(())
                        })
                        .unwrap();
                    }
                    ids
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let by_n: std::collections::HashMap<String, String> = ids
        .into_iter()
        .flatten()
        .map(|(n, id)| (n.to_string(), id))
        .collect();
    let public: Vec<String> = public.iter().take(1_000).map(|n| by_n[n].clone()).collect();
    // What autovacuum would have done to a database that grew to this size: statistics for
    // the planner and a visibility map for index-only scans.
    let mut conn = state.pool.get().unwrap();
    if let DbConn::Pg(c) = &mut *conn {
        diesel::sql_query("VACUUM ANALYZE").execute(c).unwrap();
    } else {
        diesel::sql_query("ANALYZE").execute(&mut *conn).unwrap();
    }
    assert!(public.len() >= 500, "too few public organisations");
    public
}

/// Resident memory of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// The server as production runs it: the release binary (`idpc-hub serve`) in its own
/// process, with the product's defaults for workers and pool, so its memory is its own and a
/// profiler can attach to it (`BENCH_PERF=<dir>` records each row with `perf record -g`).
struct Server(std::process::Child);

impl Server {
    fn start(database_url: &str, port: u16) -> Server {
        // Owned by a Server at once, so that it is killed and reaped on every path (Drop).
        let server = Server(
            std::process::Command::new(env!("CARGO_BIN_EXE_idpc-hub"))
                .arg("serve")
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("DATABASE_URL", database_url)
                .env("PORT", port.to_string())
                .env("MAIL_TRANSPORT", "log")
                .env("RUST_LOG", "error")
                .env("JWT_KEYS", "bench:0123456789abcdef0123456789abcdef0123")
                .env("WORKER_ENABLED", "false")
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start idpc-hub serve"),
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut c) = Client::connect(port)
                && c.request("GET", "/health/ready", "", None).0 == 200
            {
                return server;
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// With `BENCH_PERF=<dir>`, a `perf record -g` of the server for the next `secs` seconds
/// into `<dir>/<name>.perf.data`.
fn perf(server: &Server, name: &str, secs: u64) -> Option<std::process::Child> {
    let dir = std::env::var("BENCH_PERF").ok()?;
    let out = std::path::Path::new(&dir).join(format!("{name}.perf.data"));
    std::process::Command::new("perf")
        .args(["record", "-F", "499", "-g", "-o"])
        .arg(&out)
        .args([
            "-p",
            &server.pid().to_string(),
            "--",
            "sleep",
            &secs.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

/// A wrk script cycling through `paths`.
fn script(dir: &std::path::Path, name: &str, paths: &[String]) -> std::path::PathBuf {
    let mut lua = String::from("local paths = {\n");
    for p in paths {
        writeln!(lua, "  \"{p}\",").unwrap();
    }
    lua.push_str(
        "}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  \
         return wrk.format(\"GET\", paths[i])\nend\n",
    );
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, lua).unwrap();
    path
}

/// Raw primary-key lookups of organisations per second through diesel, one thread per core.
fn raw_lookups(url: &idpc_hub::config::DatabaseUrl, ids: &[String]) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let started = Instant::now();
    let handles: Vec<_> = (0..cores())
        .map(|t| {
            let (url, ids) = (url.clone(), ids.to_vec());
            std::thread::spawn(move || {
                let mut c = idpc_hub::db::establish(&url).unwrap();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let id = &ids[(n as usize * 7 + t) % ids.len()];
                    let _: OrganisationRow = organisations::table
                        .find(id)
                        .select(OrganisationRow::as_select())
                        .first(&mut c)
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

/// The text match of one folded word as `directory::search::document` builds it: (name
/// condition, profile condition), each on `organisations`.
fn text_match(pg: bool, q: &str) -> (String, String) {
    if pg {
        (
            format!("organisations.search_name LIKE '%{q}%' ESCAPE '\\'"),
            format!("organisations.search_profile @@ to_tsquery('simple', unaccent('''{q}'':*'))"),
        )
    } else {
        (
            format!(
                "organisations.id IN (SELECT organisation_search.organisation_id FROM organisation_search \
                 WHERE organisation_search.doc_id IN (SELECT rowid FROM organisation_search_name \
                 WHERE organisation_search_name MATCH '\"{q}\"'))"
            ),
            format!(
                "organisations.id IN (SELECT organisation_search.organisation_id FROM organisation_search \
                 WHERE organisation_search.doc_id IN (SELECT rowid FROM organisation_search_profile \
                 WHERE organisation_search_profile MATCH '\"{q}\"*'))"
            ),
        )
    }
}

/// The WHERE clause `directory::search` builds for an anonymous caller with `q` (one folded
/// word), `region` and one `focus_area`, with the values written in.
fn search_where(pg: bool, q: &str, region: Option<&str>, focus_area: Option<&str>) -> String {
    let (name, profile) = text_match(pg, q);
    let mut w = format!(
        "(organisations.hidden_from_public = false AND (organisations.kind = 'partner' \
         OR organisations.membership_status = 'active' OR organisations.membership_status = 'grace')) \
         AND organisations.hidden_from_public = false \
         AND ({name} OR (organisations.visibility_profile = 'public' AND {profile}))"
    );
    if pg {
        // PostgreSQL: one GIN-indexed array answers the filters (migration 000800).
        if let Some(r) = region {
            write!(
                w,
                " AND organisations.search_filters @> CAST('{{\"region:{r}\"}}' AS TEXT[])"
            )
            .unwrap();
        }
        if let Some(f) = focus_area {
            write!(
                w,
                " AND organisations.search_filters && CAST('{{\"focus_area:{f}\"}}' AS TEXT[]) \
                 AND organisations.visibility_profile = 'public'"
            )
            .unwrap();
        }
        return w;
    }
    // On SQLite the text drives: the filters are written with a unary + (no index).
    if let Some(r) = region {
        write!(w, " AND +organisations.region = '{r}'").unwrap();
    }
    if let Some(f) = focus_area {
        write!(
            w,
            " AND +organisations.id IN (SELECT organisation_tags.organisation_id FROM organisation_tags \
             WHERE organisation_tags.kind = 'focus_area' AND organisation_tags.code = '{f}') \
             AND organisations.visibility_profile = 'public'"
        )
        .unwrap();
    }
    w
}

/// The first page of a search as the app sends it: ranked, with the count of candidates from
/// the same scan (so no second query for `total`).
fn search_sql(pg: bool, q: &str, region: Option<&str>, focus_area: Option<&str>) -> String {
    let w = search_where(pg, q, region, focus_area);
    let (tier, _) = text_match(pg, q);
    format!(
        "SELECT organisations.*, count(*) OVER () FROM organisations WHERE {w} \
         ORDER BY CASE WHEN (1 = 1 AND {tier}) THEN 0 ELSE 1 END, organisations.name, organisations.id LIMIT 26"
    )
}

/// The facet passes of a two-filter facet query (region + focus area), as the app sends them.
fn facet_sql(pg: bool, region: &str, focus_area: &str) -> [String; 2] {
    let filters = if pg {
        format!(
            "organisations.search_filters @> CAST('{{\"region:{region}\"}}' AS TEXT[]) \
             AND organisations.search_filters && CAST('{{\"focus_area:{focus_area}\"}}' AS TEXT[])"
        )
    } else {
        format!(
            "organisations.region = '{region}' \
             AND organisations.id IN (SELECT organisation_tags.organisation_id FROM organisation_tags \
             WHERE organisation_tags.kind = 'focus_area' AND organisation_tags.code = '{focus_area}')"
        )
    };
    let w = format!(
        "(organisations.hidden_from_public = false AND (organisations.kind = 'partner' \
         OR organisations.membership_status = 'active' OR organisations.membership_status = 'grace')) \
         AND organisations.hidden_from_public = false AND {filters} \
         AND organisations.visibility_profile = 'public'"
    );
    [
        format!(
            "SELECT region, country, kind, partner_type, count(*) FROM organisations WHERE {w} \
             GROUP BY region, country, kind, partner_type"
        ),
        format!(
            "SELECT organisation_tags.kind, organisation_tags.code, count(*) FROM organisation_tags \
             INNER JOIN organisations ON organisation_tags.organisation_id = organisations.id \
             WHERE {w} AND organisations.visibility_profile = 'public' \
             GROUP BY organisation_tags.kind, organisation_tags.code"
        ),
    ]
}

/// Every query the measured searches run, with a title.
fn plans_to_explain(pg: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (what, q, region, fa) in [
        (
            "selective",
            "nairobi",
            Some("africa"),
            Some("women_drug_policy"),
        ),
        ("broad", "harm", Some("europe"), Some("support_dont_punish")),
        ("accented", "bogota", None, None),
    ] {
        out.push((
            format!("{what} search: the first page with its count"),
            search_sql(pg, q, region, fa),
        ));
    }
    let [groups, tags] = facet_sql(pg, "asia", "women_drug_policy");
    out.push((
        "facets (region + focus area): organisations pass".into(),
        groups,
    ));
    out.push(("facets (region + focus area): tags pass".into(), tags));
    out
}

struct Row {
    what: &'static str,
    search: bool,
    w: Wrk,
}

struct Backend {
    rows: Vec<Row>,
    baseline: f64,
    baseline_name: &'static str,
    seed_secs: f64,
    rss_idle: f64,
    rss_end: f64,
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn run_backend(label: &str, database_url: &str, dir: &std::path::Path) -> Backend {
    let port = free_port();
    let config = config(database_url, port);
    let db_url = config.database_url.clone();
    let state = AppState::new(config).unwrap();
    let t = Instant::now();
    let ids = seed(&state);
    let seed_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{label}: seeded {} organisations in {seed_secs:.1} s",
        orgs()
    );
    drop(state);
    let server = Server::start(database_url, port);
    let base = format!("http://127.0.0.1:{port}");
    let by_id: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/organisations/{id}"))
        .collect();
    // Selective: a city name (1 in 48 organisations), every city with its region, cycling
    // through the focus areas. Broad: "harm" (1 in 8 names) in every region and focus area.
    let selective: Vec<String> = PLACES
        .iter()
        .enumerate()
        .map(|(i, (_, city, region, _))| {
            format!(
                "/api/v1/organisations?q={}&region={region}&focus_area={}",
                enc(&city.to_lowercase()),
                PRIORITY_AREAS[i % PRIORITY_AREAS.len()]
            )
        })
        .collect();
    let broad: Vec<String> = idpc_hub::codes::REGIONS
        .iter()
        .flat_map(|r| {
            PRIORITY_AREAS
                .iter()
                .map(move |f| format!("/api/v1/organisations?q=harm&region={r}&focus_area={f}"))
        })
        .collect();
    // Accented: names carry "Bogotá" (and "Belém"); asked without and with the accent.
    let accented: Vec<String> = ["bogota", "bogotá", "BOGOTA", "belem", "belém"]
        .iter()
        .map(|q| format!("/api/v1/organisations?q={}", enc(q)))
        .collect();
    // Facets of a search with two filters: region and focus area.
    let facets: Vec<String> = idpc_hub::codes::REGIONS
        .iter()
        .flat_map(|r| {
            PRIORITY_AREAS
                .iter()
                .map(move |f| format!("/api/v1/organisations/facets?region={r}&focus_area={f}"))
        })
        .collect();
    // Every path answers 200 before it is measured.
    let mut c = Client::connect(port).unwrap();
    for p in by_id
        .iter()
        .take(20)
        .chain(&selective)
        .chain(&broad)
        .chain(&accented)
        .chain(&facets)
    {
        let (s, b) = c.request("GET", p, "", None);
        assert_eq!(s, 200, "{p}: {b}");
    }
    let (_, b) = c.request("GET", &accented[0], "", None);
    assert!(b.contains("Bogotá"), "q=bogota finds Bogotá: {b}");
    drop(c);
    let rss_idle = rss_mib(server.pid());
    let secs = seconds();
    let mut rows = Vec::new();
    for (what, name, search, paths) in [
        ("GET /organisations/{id}", "by_id", false, &by_id),
        (
            "search, selective q (city) + region + focus_area",
            "selective",
            true,
            &selective,
        ),
        (
            "search, broad q (\"harm\") + region + focus_area",
            "broad",
            true,
            &broad,
        ),
        (
            "search, accented q (bogota / bogotá / belem, no filter)",
            "accented",
            true,
            &accented,
        ),
        ("facets, region + focus_area", "facets", true, &facets),
    ] {
        let profile = perf(&server, &format!("{label}-{name}"), secs);
        let w = wrk(&base, &script(dir, name, paths), CONNECTIONS, secs);
        if let Some(mut p) = profile {
            let _ = p.wait();
        }
        eprintln!("{label}: {what}: {w:?}");
        rows.push(Row { what, search, w });
    }
    let rss_end = rss_mib(server.pid());
    drop(server);
    let (baseline, baseline_name) = if label == "PostgreSQL" {
        (
            pgbench("-S", CONNECTIONS, secs),
            "`pgbench -S` TPS (scale 1, 32 clients)",
        )
    } else {
        (
            raw_lookups(&db_url, &ids),
            "raw diesel PK lookups/s (1 thread per core)",
        )
    };
    eprintln!("{label}: baseline {baseline:.0}");
    Backend {
        rows,
        baseline,
        baseline_name,
        seed_secs,
        rss_idle,
        rss_end,
    }
}

#[derive(QueryableByName)]
struct PgLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

fn explain_pg(url: &str) -> String {
    let mut c = diesel::PgConnection::establish(url).unwrap();
    let mut out = String::new();
    for (title, sql) in plans_to_explain(true) {
        writeln!(out, "{title}:\n\n```sql\n{sql}\n```\n\n```").unwrap();
        let lines: Vec<PgLine> = diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            .load(&mut c)
            .unwrap();
        for l in lines {
            writeln!(out, "{}", l.line).unwrap();
        }
        writeln!(out, "```\n").unwrap();
    }
    out
}

#[derive(QueryableByName)]
struct LiteLine {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    id: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    parent: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn explain_sqlite(path: &str) -> String {
    let mut c = diesel::SqliteConnection::establish(path).unwrap();
    let mut out = String::new();
    for (title, sql) in plans_to_explain(false) {
        writeln!(out, "{title}:\n\n```sql\n{sql}\n```\n\n```").unwrap();
        let lines: Vec<LiteLine> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(&mut c)
            .unwrap();
        // Indent by depth: a line's parent is an earlier line.
        let mut depth: std::collections::HashMap<i32, usize> = std::collections::HashMap::new();
        for l in lines {
            let d = depth.get(&l.parent).map(|d| d + 1).unwrap_or(0);
            depth.insert(l.id, d);
            writeln!(out, "{}{}", "  ".repeat(d), l.detail).unwrap();
        }
        // And how long it takes alone, once warm.
        let mut rows = 0;
        let t = Instant::now();
        let n = 5;
        for _ in 0..n {
            let r: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM ({sql})"))
                .get_result(&mut c)
                .unwrap();
            rows = r.n;
        }
        writeln!(
            out,
            "-- {rows} rows, {:.2} ms a run alone (warm)",
            t.elapsed().as_secs_f64() * 1e3 / n as f64
        )
        .unwrap();
        writeln!(out, "```\n").unwrap();
    }
    out
}

fn main() {
    // BENCH_KEEP=<dir> keeps the SQLite database and the wrk scripts there after the run.
    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var("BENCH_KEEP")
        .ok()
        .map(std::path::PathBuf::from);
    let dir = keep.as_deref().unwrap_or(tmp.path());
    let pg = PgDb::create("idpc_bench_directory");
    println!(
        "machine: {}; {} organisations; wrk -t{} -c{CONNECTIONS} -d{}s per row",
        machine(),
        orgs(),
        cores(),
        seconds()
    );
    let pg_run = run_backend("PostgreSQL", &pg.url(), dir);
    let pg_plans = explain_pg(&pg.url());
    let lite_path = format!("{}/bench.db", dir.display());
    let lite_run = run_backend("SQLite", &format!("sqlite://{lite_path}"), dir);
    let lite_plans = explain_sqlite(&lite_path);

    println!();
    println!(
        "| backend | measurement | requests/s | p50 | p99 | ratio to baseline | non-2xx or errors/timeouts |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (label, b) in [("PostgreSQL", &pg_run), ("SQLite", &lite_run)] {
        println!(
            "| {label} | {} | {:.0} | | | 1 | |",
            b.baseline_name, b.baseline
        );
        for r in &b.rows {
            println!(
                "| {label} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.3} | {} |",
                r.what,
                r.w.rps,
                r.w.p50_ms,
                r.w.p99_ms,
                r.w.rps / b.baseline,
                r.w.non_2xx + r.w.errors
            );
        }
    }
    println!();
    for (label, b) in [("PostgreSQL", &pg_run), ("SQLite", &lite_run)] {
        println!(
            "{label}: seeded through the write path in {:.1} s; server RSS (its own process, \
             started on the seeded database) {:.0} MiB before the load, {:.0} MiB after it",
            b.seed_secs, b.rss_idle, b.rss_end
        );
    }
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "missed" };
    let by_id = pg_run.rows[0].w.rps / pg_run.baseline;
    println!(
        "target GET by id >= 0.5 x pgbench -S on PostgreSQL: {by_id:.3} ({})",
        verdict(by_id >= 0.5)
    );
    let by_id = lite_run.rows[0].w.rps / lite_run.baseline;
    println!(
        "target GET by id >= 0.8 x raw lookups on SQLite: {by_id:.3} ({})",
        verdict(by_id >= 0.8)
    );
    for (label, b) in [("PostgreSQL", &pg_run), ("SQLite", &lite_run)] {
        // The search targets are measured against pgbench -S on both backends.
        for r in b.rows.iter().filter(|r| r.search) {
            let clean = r.w.errors + r.w.non_2xx == 0;
            let ratio = r.w.rps / pg_run.baseline;
            println!(
                "target p99 < 50 ms and >= 0.25 x pgbench -S, {label}, {}: p99 {:.2} ms ({}), \
                 {ratio:.3} x ({})",
                r.what,
                r.w.p99_ms,
                // Timed-out requests (wrk gives up after 2 s) have no latency: a miss.
                verdict(r.w.p99_ms < 50.0 && clean),
                verdict(ratio >= 0.25 && clean)
            );
        }
        println!(
            "target RSS < 64 MiB idle and < 128 MiB at the end, {label}: {:.0} / {:.0} MiB ({} / {})",
            b.rss_idle,
            b.rss_end,
            verdict(b.rss_idle < 64.0),
            verdict(b.rss_end < 128.0)
        );
    }
    println!();
    println!("EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL:\n\n{pg_plans}");
    println!("EXPLAIN QUERY PLAN on SQLite:\n\n{lite_plans}");
}

//! Open data: the 360Giving package validates against the official schemas with format
//! checking and passes the Data Quality Tool's main checks; the IATI file validates against the
//! 2.03 XSD and adds up to what the API says was approved and paid; neither names a hidden
//! organisation; organisation identifiers and the bad inputs the exports depend on. The
//! standards files are read from `standards/` in this repository, never from beside it.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser};
use crate::grants::{World, active, draft, grant_body, submitted, world};
use crate::on_both;

fn standard(path: &str) -> String {
    let full = format!("{}/standards/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn schema(name: &str) -> Value {
    let mut v: Value = serde_json::from_str(&standard(&format!("360giving/{name}"))).unwrap();
    // The files name their meta-schema as http://json-schema.org/draft/2020-12/schema (not the
    // canonical https URI), which the validator would try to download; the draft is set below.
    v.as_object_mut().unwrap().remove("$schema");
    v
}

/// Validates a package against the package and grant schemas, asserting formats (dates as
/// dates, date-times as date-times, URIs as URIs), as 360Giving's own tools do.
fn validate_giving(package: &Value) {
    use jsonschema::Draft;
    let grant_schema = schema("360-giving-schema.json");
    let package_schema = schema("360-giving-package-schema.json");
    let reference = package_schema["properties"]["grants"]["items"]["$ref"]
        .as_str()
        .unwrap()
        .to_string();
    let validator = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_resource(
            reference,
            Draft::Draft202012.create_resource(grant_schema.clone()),
        )
        .build(&package_schema)
        .expect("package schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(package)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "package invalid: {errors:#?}");
    let grant_validator = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&grant_schema)
        .expect("grant schema compiles");
    for g in package["grants"].as_array().unwrap() {
        let errors: Vec<String> = grant_validator
            .iter_errors(g)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "grant invalid: {errors:#?}");
    }
    // The checks bite: a grant without a recipient fails, and so does a date-time where
    // only a date-time is allowed but a plain word is given (format checking is on).
    let mut broken = package.clone();
    broken["grants"][0]
        .as_object_mut()
        .unwrap()
        .remove("recipientOrganization");
    assert!(!validator.is_valid(&broken));
    let mut broken = package.clone();
    broken["grants"][0]["dateModified"] = json!("yesterday");
    assert!(!validator.is_valid(&broken), "formats are asserted");
    let codelist_errors = codelists(package);
    assert!(
        codelist_errors.is_empty(),
        "codelists: {codelist_errors:#?}"
    );
    let mut broken = package.clone();
    broken["grants"][0]["regrantType"] = json!("FRG999");
    assert_eq!(
        codelists(&broken).len(),
        1,
        "regrantType is a closed codelist"
    );
}

/// The codelist checks the JSON Schema leaves to tools (it only names the codelist files):
/// currencies (grant and transactions) and regrantType.
fn codelists(package: &Value) -> Vec<String> {
    let code_in = |file: &str, code: &str| {
        standard(&format!("360giving/{file}"))
            .lines()
            .skip(1)
            .any(|l| l.split(',').next().map(|c| c.trim_matches('"')) == Some(code))
    };
    let mut errors = Vec::new();
    for g in package["grants"].as_array().unwrap() {
        let id = g["id"].as_str().unwrap_or("?");
        let mut currencies: Vec<&Value> = vec![&g["currency"]];
        if let Some(t) = g["disbursementTransaction"].as_array() {
            currencies.extend(t.iter().map(|t| &t["currency"]));
        }
        for c in currencies {
            if !c.as_str().is_some_and(|c| code_in("currency.csv", c)) {
                errors.push(format!("{id}: currency {c} is not on currency.csv"));
            }
        }
        if let Some(r) = g.get("regrantType")
            && !r.as_str().is_some_and(|r| code_in("regrantType.csv", r))
        {
            errors.push(format!("{id}: regrantType {r} is not on regrantType.csv"));
        }
    }
    errors
}

/// The main checks of the 360Giving Data Quality Tool that can be reproduced offline. Each
/// returns its name and the grants that fail it; every result is printed.
fn data_quality(package: &Value) -> Vec<(&'static str, Vec<String>)> {
    let schemes: Vec<String> = standard("org-id/schemes.csv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next().map(str::to_string))
        .collect();
    let today = chrono::Utc::now().date_naive().to_string();
    let grants = package["grants"].as_array().unwrap();
    let failing = |f: &dyn Fn(&Value) -> bool| -> Vec<String> {
        grants
            .iter()
            .filter(|g| !f(g))
            .map(|g| g["id"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    let known_prefix = |id: &str| {
        id.starts_with("360G-") || schemes.iter().any(|s| id.starts_with(&format!("{s}-")))
    };
    let prefix = package["publisher"]["prefix"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let checks: Vec<(&'static str, Vec<String>)> = vec![
        (
            "grant ids start with the publisher's 360Giving prefix",
            failing(&|g| {
                g["id"]
                    .as_str()
                    .is_some_and(|i| i.starts_with(&format!("{prefix}-")))
            }),
        ),
        (
            "recipient organisation identifiers present, with a known org-id or 360G prefix",
            failing(&|g| {
                g["recipientOrganization"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(|o| o["id"].as_str().is_some_and(known_prefix)))
            }),
        ),
        (
            "funding organisation identifiers present, with a known org-id or 360G prefix",
            failing(&|g| {
                g["fundingOrganization"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(|o| o["id"].as_str().is_some_and(known_prefix)))
            }),
        ),
        (
            "no award date in the future",
            failing(&|g| g["awardDate"].as_str().is_some_and(|d| d[..10] <= *today)),
        ),
        (
            "planned dates in order (start before end)",
            failing(&|g| {
                g["plannedDates"].as_array().is_none_or(|ds| {
                    ds.iter()
                        .all(|d| match (d["startDate"].as_str(), d["endDate"].as_str()) {
                            (Some(s), Some(e)) => s <= e,
                            _ => true,
                        })
                })
            }),
        ),
        (
            "no zero or negative amounts awarded",
            failing(&|g| g["amountAwarded"].as_f64().is_some_and(|a| a > 0.0)),
        ),
        (
            "amountDisbursed equals the sum of disbursement transactions",
            failing(&|g| {
                let sum: f64 = g["disbursementTransaction"]
                    .as_array()
                    .map(|t| t.iter().filter_map(|t| t["value"].as_f64()).sum())
                    .unwrap_or(0.0);
                g.get("amountDisbursed")
                    .is_none_or(|a| (a.as_f64().unwrap_or(-1.0) - sum).abs() < 0.005)
            }),
        ),
        (
            "no transaction dated in the future",
            failing(&|g| {
                g["disbursementTransaction"].as_array().is_none_or(|t| {
                    t.iter().all(|t| {
                        t["transactionDate"]
                            .as_str()
                            .is_some_and(|d| d[..10] <= *today)
                    })
                })
            }),
        ),
        (
            "classifications carry a title",
            failing(&|g| {
                g["classifications"].as_array().is_none_or(|c| {
                    c.iter()
                        .all(|c| c["title"].as_str().is_some_and(|t| !t.is_empty()))
                })
            }),
        ),
    ];
    for (name, bad) in &checks {
        if bad.is_empty() {
            println!("360Giving quality check passed: {name}");
        } else {
            println!("360Giving quality check FAILED: {name}: {bad:?}");
        }
    }
    checks
}

/// Validates an IATI file with xmllint against the 2.03 XSD in `standards/iati/`. Fails
/// loudly when xmllint is not installed: this check must never pass by not running.
pub fn validate_iati(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("iati-activities.xml");
    std::fs::write(&file, xml).unwrap();
    let xsd = format!(
        "{}/standards/iati/iati-activities-schema.xsd",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", &xsd])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "xmllint could not run ({e}): the IATI export was NOT validated against the XSD. \
                 Install it (Debian: apt-get install libxml2-utils; .ci/run does)."
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "IATI file invalid against the 2.03 XSD:\n{stderr}\n---\n{xml}"
    );
    println!("IATI XSD validation (xmllint): {}", stderr.trim());
}

/// The `iati-activity` elements of a file, as text.
fn activities(xml: &str) -> Vec<String> {
    xml.split("<iati-activity ")
        .skip(1)
        .map(|a| a.split("</iati-activity>").next().unwrap().to_string())
        .collect()
}

fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
    element[start..].split('"').next()
}

/// (transaction-type code, value) of each transaction of an activity.
fn transactions(activity: &str) -> Vec<(String, f64)> {
    activity
        .split("<transaction ")
        .skip(1)
        .map(|t| {
            let code = attr(&t[t.find("<transaction-type").unwrap()..], "code")
                .unwrap()
                .to_string();
            let v = &t[t.find("<value").unwrap()..];
            let value: f64 = v[v.find('>').unwrap() + 1..v.find("</value>").unwrap()]
                .parse()
                .unwrap();
            (code, value)
        })
        .collect()
}

/// The IATI Validator's checks beyond the XSD that matter for a grant-maker: identifiers
/// start with the reporting organisation's ref, dates in order, transactions within the
/// budget, currencies from the codelist. Each result is printed.
fn iati_consistency(acts: &[String]) {
    let currencies = standard("360giving/currency.csv");
    let known_currency = |c: &str| {
        currencies
            .lines()
            .skip(1)
            .any(|l| l.split(',').next().map(|x| x.trim_matches('"')) == Some(c))
    };
    let date_of = |a: &str, kind: &str| {
        a.split("<activity-date")
            .skip(1)
            .find(|d| attr(d, "type") == Some(kind))
            .and_then(|d| attr(d, "iso-date").map(str::to_string))
    };
    let mut report: Vec<(String, bool)> = Vec::new();
    for a in acts {
        let id =
            &a[a.find("<iati-identifier>").unwrap() + 17..a.find("</iati-identifier>").unwrap()];
        let reporting = attr(&a[a.find("<reporting-org").unwrap()..], "ref").unwrap();
        report.push((
            format!("{id}: identifier starts with the reporting-org ref {reporting}"),
            id.starts_with(&format!("{reporting}-")),
        ));
        let planned = (date_of(a, "1"), date_of(a, "3"));
        report.push((
            format!("{id}: planned start before planned end"),
            matches!(&planned, (Some(s), Some(e)) if s <= e),
        ));
        if let (Some(s), Some(e)) = (date_of(a, "2"), date_of(a, "4")) {
            report.push((format!("{id}: actual start before actual end"), s <= e));
        }
        // Budgets are yearly: the activity's budget is their sum.
        let budget_value: f64 = a
            .split("<budget ")
            .skip(1)
            .map(|b| {
                let b = &b[b.find("<value").unwrap()..];
                b[b.find('>').unwrap() + 1..b.find("</value>").unwrap()]
                    .parse::<f64>()
                    .unwrap()
            })
            .sum();
        let tx = transactions(a);
        for code in ["2", "3"] {
            let sum: f64 = tx.iter().filter(|(c, _)| c == code).map(|(_, v)| v).sum();
            report.push((
                format!(
                    "{id}: transactions of type {code} ({sum}) within the budget ({budget_value})"
                ),
                sum <= budget_value + 0.005,
            ));
        }
        let all_known = a
            .split("currency=\"")
            .skip(1)
            .all(|c| known_currency(c.split('"').next().unwrap()));
        report.push((
            format!("{id}: currencies from the ISO 4217 codelist"),
            all_known,
        ));
    }
    for (check, ok) in &report {
        println!(
            "IATI consistency {}: {check}",
            if *ok { "passed" } else { "FAILED" }
        );
    }
    assert!(
        report.iter().all(|(_, ok)| *ok),
        "IATI consistency checks failed: {report:#?}"
    );
}

fn money(v: &Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

async fn set_identifiers(app: &TestApp, who: &TestUser, org: &str, ids: Value) -> Value {
    let version = app
        .get(&format!("/api/v1/organisations/{org}"))
        .bearer(&who.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .as_i64()
        .unwrap();
    app.patch(&format!("/api/v1/organisations/{org}"))
        .bearer(&who.token)
        .header("if-match", &format!("\"{version}\""))
        .json(&json!({ "identifiers": ids }))
        .send()
        .await
        .expect(200)
        .body
}

async fn tranche(app: &TestApp, w: &World, grant: &str, amount: &str, paid_on: &str) -> String {
    let d = app
        .post(&format!("/api/v1/grants/{grant}/disbursements"))
        .bearer(&w.officer.token)
        .json(&json!({"amount": amount, "planned_date": "2026-05-01"}))
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/disbursements/{d}/approve"))
        .bearer(&w.officer2.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/disbursements/{d}/pay"))
        .bearer(&w.finance.token)
        .json(
            &json!({"payment_reference": format!("P-{amount}"), "paid_on": paid_on,
            "bank_account_id": app.grant_payee(&w.finance.token, grant).await}),
        )
        .send()
        .await
        .expect(200);
    d
}

/// The demo-like network of the tests below: an active grant with two payments (one reversed)
/// to a member with org-id identifiers, a pending and a draft grant (not published), and an
/// approved grant in another currency to a member that is then hidden. The fund is
/// published as an incoming grant and records the donor's IATI activity.
struct Published {
    w: World,
    open: String,
    hidden: String,
    shy: String,
}

async fn published(app: &TestApp) -> Published {
    let w = world(app).await;
    let shown = set_identifiers(
        app,
        &w.member,
        &w.grantee,
        json!([{"scheme": "KE-NCB", "id": "OP.218/051/12-0421/8911"}, {"scheme": "gb-chc", "id": "1234567"}]),
    )
    .await;
    assert_eq!(
        shown["identifiers"],
        json!([{"scheme": "KE-NCB", "id": "OP.218/051/12-0421/8911"}, {"scheme": "GB-CHC", "id": "1234567"}]),
        "members set their organisation's identifiers; schemes are upper-cased"
    );
    let open = active(app, &w, "1000.00").await;
    tranche(app, &w, &open, "400.00", "2026-05-03").await;
    let reversed = tranche(app, &w, &open, "250.00", "2026-06-10").await;
    app.post(&format!("/api/v1/disbursements/{reversed}/reverse"))
        .bearer(&w.finance.token)
        .json(&json!({"reason": "Paid to the wrong account"}))
        .send()
        .await
        .expect(200);
    let _pending = submitted(app, &w, "10.00").await;
    let _draft = draft(app, &w, "10.00").await;
    let shy = app.member_org("Secret Users Union").await;
    set_identifiers(
        app,
        &w.admin,
        &shy,
        json!([{"scheme": "GB-CHC", "id": "7654321"}]),
    )
    .await;
    let mut body = grant_body(&w.fund, &shy, "EUR", "2000.00");
    body["title"] = json!("Secret Users Union outreach");
    body["description"] = json!("Outreach by the Secret Users Union in its city");
    body["fx_rate"] = json!("1.1");
    body["fx_rate_date"] = json!("2026-01-10");
    // Longer than a year: the IATI file gives one budget per year.
    body["planned_end"] = json!("2027-09-30");
    let hidden = app
        .post("/api/v1/grants")
        .bearer(&w.officer.token)
        .json(&body)
        .send()
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/grants/{hidden}/submit"))
        .bearer(&w.officer.token)
        .send()
        .await
        .expect(200);
    app.post(&format!("/api/v1/grants/{hidden}/approve"))
        .bearer(&w.officer2.token)
        .send()
        .await
        .expect(200);
    let version = app
        .get(&format!("/api/v1/organisations/{shy}"))
        .bearer(&w.admin.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .as_i64()
        .unwrap();
    app.patch(&format!("/api/v1/organisations/{shy}"))
        .bearer(&w.admin.token)
        .header("if-match", &format!("\"{version}\""))
        .json(&json!({"hidden_from_public": true}))
        .send()
        .await
        .expect(200);
    app.req(Method::PUT, &format!("/api/v1/funds/{}/publication", w.fund))
        .bearer(&w.officer.token)
        .json(&json!({"publish_incoming": true, "regrant_type": "FRG010", "donor_activity_id": "US-EIN-123456789-OSF-2026-7"}))
        .send()
        .await
        .expect(200);
    Published {
        w,
        open,
        hidden,
        shy,
    }
}

on_both! {
    async fn the_360giving_package_validates_with_formats_and_reads_right_to_data_users(backend) {
        let app = TestApp::start(backend).await;
        let p = published(&app).await;
        let r = app.get("/api/v1/exports/360giving.json").send().await.expect(200);
        let etag = r.header("etag").expect("an ETag");
        let package = r.body;
        validate_giving(&package);
        let failed: Vec<_> = data_quality(&package).into_iter().filter(|(_, bad)| !bad.is_empty()).collect();
        assert!(failed.is_empty(), "data quality checks failed: {failed:#?}");
        // Each check bites on the fault it looks for.
        for (fault, path, value) in [
            ("no award date in the future", "awardDate", json!("2999-01-01")),
            ("no zero or negative amounts awarded", "amountAwarded", json!(0)),
            ("planned dates in order (start before end)", "plannedDates", json!([{"startDate": "2026-05-01", "endDate": "2026-04-01"}])),
            ("recipient organisation identifiers present, with a known org-id or 360G prefix", "recipientOrganization", json!([{"id": "ZZ-NOPE-1", "name": "x"}])),
        ] {
            let mut broken = package.clone();
            broken["grants"][0][path] = value;
            let checks = data_quality(&broken);
            let hit = checks.iter().find(|(name, _)| *name == fault).unwrap();
            assert_eq!(hit.1.len(), 1, "{fault} catches a broken grant");
        }
        assert_eq!(package["version"], "1.4");
        assert_eq!(package["publisher"]["prefix"], "360G-IDPC");
        assert_eq!(package["license"], "https://creativecommons.org/licenses/by/4.0/");
        let grants = package["grants"].as_array().unwrap();
        assert_eq!(grants.len(), 3, "two published onward grants and the published fund");
        let onward: Vec<&Value> = grants.iter().filter(|g| g["grantProgramme"].is_array()).collect();
        assert_eq!(onward.len(), 2, "only approved, active and closed grants are published");
        assert!(onward.iter().all(|g| g.get("regrantType").is_none()), "grants to end recipients carry no regrantType");
        let incoming = grants.iter().find(|g| g.get("regrantType").is_some()).unwrap();
        assert_eq!(incoming["regrantType"], "FRG010");
        assert_eq!(incoming["recipientOrganization"][0]["id"], "360G-IDPC", "the network receives the fund");
        assert_eq!(incoming["fundingOrganization"][0]["name"], "Open Society Donor");
        assert_eq!(incoming["amountAwarded"], json!(100000.0));
        let open = onward.iter().find(|g| g["currency"] == "USD").unwrap();
        assert_eq!(open["recipientOrganization"][0]["id"], "KE-NCB-OP.218/051/12-0421/8911", "the first identifier listed is used");
        assert_eq!(open["recipientOrganization"][0]["charityNumber"], "1234567");
        assert_eq!(open["recipientOrganization"][0]["name"], "Harm Reduction Kenya");
        assert_eq!(open["amountAwarded"], json!(1000.0));
        assert_eq!(open["amountDisbursed"], json!(400.0), "a reversed payment is not disbursed");
        let tx = open["disbursementTransaction"].as_array().unwrap();
        assert_eq!(tx.len(), 3, "two payments and one reversal");
        assert!(tx.iter().any(|t| t["value"] == json!(-250.0)), "the reversal is a negative transaction");
        assert_eq!(open["relatedActivity"][0], incoming["id"], "the grant links to the fund it came from");
        assert_eq!(open["grantProgramme"][0]["code"], "OSF-2026-7");
        assert_eq!(open["beneficiaryLocation"][0]["countryCode"], "GB");
        assert_eq!(open["plannedDates"][0]["startDate"], "2026-02-01");
        assert!(open["classifications"].as_array().unwrap().iter().any(|c| c["code"] == "support_dont_punish" && c["title"] == "Support. Don't Punish"));
        assert!(open["dataSource"].as_str().unwrap().ends_with("/api/v1/exports/360giving.json"));
        assert!(open["dateModified"].as_str().unwrap().ends_with('Z'));
        let withheld = onward.iter().find(|g| g["currency"] == "EUR").unwrap();
        assert_eq!(withheld["recipientOrganization"][0]["name"], "Withheld (at-risk organisation)");
        assert_eq!(withheld["title"], "Grant to an organisation whose identity is withheld");
        assert_eq!(withheld["beneficiaryLocation"], json!([{"name": "Europe", "geoCode": "europe", "geoCodeType": "region"}]), "region only");
        let text = package.to_string();
        for secret in ["Secret Users Union", p.shy.as_str(), "7654321"] {
            assert!(!text.contains(secret), "a hidden organisation is never named or identified: {secret}");
        }
        // Cacheable.
        app.get("/api/v1/exports/360giving.json").header("if-none-match", &etag).send().await.expect(304);
        let _ = (&p.open, &p.hidden, &p.w);
    }
}

on_both! {
    async fn the_iati_file_validates_against_the_xsd_and_adds_up_to_what_was_approved_and_paid(backend) {
        // The network's own org-id as reporting organisation (an example identifier).
        let app = TestApp::start_with(backend, &[("OPEN_DATA_ORG_ID", "XI-IATI-EXAMPLE")]).await;
        let p = published(&app).await;
        let r = app.get("/api/v1/exports/iati-activities.xml").send().await.expect(200);
        assert!(r.header("content-type").unwrap().starts_with("application/xml"));
        let etag = r.header("etag").expect("an ETag");
        let xml = r.text;
        validate_iati(&xml);
        let acts = activities(&xml);
        assert_eq!(acts.len(), 2, "one iati-activity per published grant");
        iati_consistency(&acts);
        for (id, hidden) in [(&p.open, false), (&p.hidden, true)] {
            let g = app.get(&format!("/api/v1/grants/{id}")).bearer(&p.w.officer.token).send().await.expect(200).body;
            let g = if g.get("grant").is_some() { g["grant"].clone() } else { g };
            let reference = g["reference"].as_str().unwrap();
            let a = acts.iter().find(|a| a.contains(&format!("<iati-identifier>XI-IATI-EXAMPLE-{reference}</iati-identifier>")))
                .unwrap_or_else(|| panic!("activity of {reference}"));
            let tx = transactions(a);
            let sum = |code: &str| tx.iter().filter(|(c, _)| c == code).map(|(_, v)| v).sum::<f64>();
            assert!((sum("2") - money(&g["amount"])).abs() < 0.005, "commitments add up to the approved amount");
            assert!((sum("3") - money(&g["paid"])).abs() < 0.005, "disbursements add up to what was paid, reversals included");
            assert!(sum("2") + sum("3") >= 0.0);
            assert!(a.contains(&format!("default-currency=\"{}\"", g["currency"].as_str().unwrap())));
            assert!(a.contains("<reporting-org ref=\"XI-IATI-EXAMPLE\" type=\"21\">"));
            assert!(a.contains("<participating-org ref=\"XI-IATI-EXAMPLE\" role=\"3\">"), "the network extends");
            assert!(a.contains("role=\"1\"") && a.contains("role=\"3\"") && a.contains("role=\"4\""));
            assert!(a.contains("<sector vocabulary=\"1\" code=\"15130\" percentage=\"50\"/>"));
            assert!(a.contains("<sector vocabulary=\"1\" code=\"16063\" percentage=\"50\"/>"));
            assert!(a.contains("<related-activity ref=\"US-EIN-123456789-OSF-2026-7\" type=\"1\"/>"));
            if hidden {
                assert!(a.contains("<recipient-region code=\"89\" vocabulary=\"1\""), "region only");
                assert!(!a.contains("<recipient-country"));
                assert!(a.contains("Grant to an organisation whose identity is withheld"));
                assert_eq!(a.matches("<budget ").count(), 2, "one budget per year");
            } else {
                assert!(a.contains("<recipient-country code=\"GB\""));
                assert!(a.contains("ref=\"KE-NCB-OP.218/051/12-0421/8911\""), "the grantee's org-id");
                assert_eq!(tx.iter().filter(|(c, v)| c == "3" && *v < 0.0).count(), 1, "the reversal is a negative disbursement");
            }
        }
        for secret in ["Secret Users Union", p.shy.as_str(), "7654321"] {
            assert!(!xml.contains(secret), "a hidden organisation is never named or identified: {secret}");
        }
        app.get("/api/v1/exports/iati-activities.xml").header("if-none-match", &etag).send().await.expect(304);
        // The data changes, so does the ETag.
        tranche(&app, &p.w, &p.open, "100.00", "2026-07-01").await;
        let again = app.get("/api/v1/exports/iati-activities.xml").header("if-none-match", &etag).send().await.expect(200);
        assert_ne!(again.header("etag").unwrap(), etag);
        validate_iati(&again.text);
    }
}

on_both! {
    async fn organisations_carry_org_id_identifiers_and_the_directory_filters_by_them(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let created = app.post("/api/v1/organisations").bearer(&admin.token)
            .json(&json!({"name": "Colombian Harm Reduction", "kind": "member", "country": "CO", "region": "latin_america_caribbean",
                          "identifiers": [{"scheme": "CO-RUE", "id": "S0012345"}]}))
            .send().await.expect(201).body;
        assert_eq!(created["identifiers"], json!([{"scheme": "CO-RUE", "id": "S0012345"}]));
        let other = app.member_org("Another Member").await;
        let list = app.get("/api/v1/organisations?identifier=CO-RUE-S0012345").send().await.expect(200).body;
        assert_eq!(list["total"], 1);
        assert_eq!(list["data"][0]["id"], created["id"]);
        assert_eq!(list["data"][0]["identifiers"][0]["scheme"], "CO-RUE", "identifiers are public");
        // Replaced by PATCH: the old one no longer matches.
        let member = app.user("member", Some(created["id"].as_str().unwrap())).await;
        set_identifiers(&app, &member, created["id"].as_str().unwrap(), json!([{"scheme": "XI-IATI", "id": "CHR-1"}])).await;
        assert_eq!(app.get("/api/v1/organisations?identifier=CO-RUE-S0012345").send().await.expect(200).body["total"], 0);
        assert_eq!(app.get("/api/v1/organisations?identifier=XI-IATI-CHR-1").send().await.expect(200).body["total"], 1);
        // A member may not set another organisation's identifiers.
        app.patch(&format!("/api/v1/organisations/{other}")).bearer(&member.token).header("if-match", "\"1\"")
            .json(&json!({"identifiers": [{"scheme": "GB-CHC", "id": "1"}]})).send().await.expect_problem(404);
        // null clears.
        let cleared = {
            let v = app.get(&format!("/api/v1/organisations/{}", created["id"].as_str().unwrap())).bearer(&admin.token).send().await.expect(200).body["version"].as_i64().unwrap();
            app.patch(&format!("/api/v1/organisations/{}", created["id"].as_str().unwrap())).bearer(&admin.token)
                .header("if-match", &format!("\"{v}\"")).json(&json!({"identifiers": null})).send().await.expect(200).body
        };
        assert_eq!(cleared["identifiers"], json!([]));
        assert_eq!(app.get("/api/v1/organisations?identifier=XI-IATI-CHR-1").send().await.expect(200).body["total"], 0);
    }
}

on_both! {
    async fn an_unknown_identifier_scheme_is_a_400_naming_the_field(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let r = app.post("/api/v1/organisations").bearer(&admin.token)
            .json(&json!({"name": "Bad Ids", "kind": "member", "country": "GB", "region": "europe",
                          "identifiers": [{"scheme": "GB-CHC", "id": "1"}, {"scheme": "XX-NOPE", "id": "2"}]}))
            .send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "identifiers[1].scheme");
        let org = app.member_org("Good Org").await;
        let r = app.patch(&format!("/api/v1/organisations/{org}")).bearer(&admin.token).header("if-match", "\"1\"")
            .json(&json!({"identifiers": [{"scheme": "ZZ-ZZZ", "id": "9"}]})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "identifiers[0].scheme");
        let r = app.patch(&format!("/api/v1/organisations/{org}")).bearer(&admin.token).header("if-match", "\"1\"")
            .json(&json!({"identifiers": [{"scheme": "GB-CHC", "id": "has space"}]})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "identifiers[0].id");
        let r = app.get("/api/v1/organisations?identifier=ZZ-1234").send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "identifier");
    }
}

on_both! {
    async fn a_payment_dated_more_than_a_day_ahead_is_a_400_naming_paid_on(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let d = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "100.00", "planned_date": "2026-05-01"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let today = chrono::Utc::now().date_naive();
        let payee = app.payee(&w.grantee, "USD").await;
        for ahead in [2, 3650] {
            let r = app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
                .json(&json!({"payment_reference": "P-1", "paid_on": (today + chrono::Days::new(ahead)).to_string(), "bank_account_id": payee}))
                .send().await.expect_problem(400);
            assert_eq!(r.first_error_field(), "paid_on");
        }
        // Tomorrow is allowed (time zones), and the tranche is still approved after the refusals.
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-1", "paid_on": (today + chrono::Days::new(1)).to_string(), "bank_account_id": payee}))
            .send().await.expect(200);
    }
}

on_both! {
    async fn a_planned_end_before_its_start_is_a_400_naming_the_field(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let mut body = grant_body(&w.fund, &w.grantee, "USD", "10.00");
        body["planned_start"] = json!("2026-06-01");
        body["planned_end"] = json!("2026-05-31");
        let r = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "planned_end");
        let r = app.post("/api/v1/funds").bearer(&w.officer.token)
            .json(&json!({"donor_organisation_id": w.donor, "title": "Backwards", "reference": "B-1",
                          "currency": "USD", "amount": "10.00", "starts_on": "2026-02-01", "ends_on": "2026-01-31"}))
            .send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "ends_on");
    }
}

on_both! {
    async fn fund_publication_is_for_grant_staff_and_checks_the_regrant_type(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let path = format!("/api/v1/funds/{}/publication", w.fund);
        let got = app.get(&path).bearer(&w.finance.token).send().await.expect(200).body;
        assert_eq!(got, json!({"publish_incoming": false, "regrant_type": "FRG010", "donor_activity_id": null}));
        let r = app.req(Method::PUT, &path).bearer(&w.officer.token)
            .json(&json!({"publish_incoming": true, "regrant_type": "FRG999"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "regrant_type");
        app.req(Method::PUT, &path).bearer(&w.finance.token)
            .json(&json!({"publish_incoming": true})).send().await.expect_problem(403);
        app.req(Method::PUT, &path).bearer(&w.member.token)
            .json(&json!({"publish_incoming": true})).send().await.expect_problem(403);
        app.req(Method::PUT, "/api/v1/funds/nope/publication").bearer(&w.officer.token)
            .json(&json!({"publish_incoming": true})).send().await.expect_problem(404);
        let set = app.req(Method::PUT, &path).bearer(&w.admin.token)
            .json(&json!({"publish_incoming": true, "regrant_type": "FRG020"})).send().await.expect(200).body;
        assert_eq!(set["regrant_type"], "FRG020");
        // With no published grant yet, the package holds the incoming grant alone and validates.
        let package = app.get("/api/v1/exports/360giving.json").send().await.expect(200).body;
        validate_giving(&package);
        assert_eq!(package["grants"][0]["regrantType"], "FRG020");
    }
}

on_both! {
    async fn the_grants_csv_is_for_staff(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1234.50").await;
        let r = app.get("/api/v1/grants.csv").bearer(&w.finance.token).send().await.expect(200);
        assert!(r.header("content-type").unwrap().starts_with("text/csv"));
        let lines: Vec<&str> = r.text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("reference,status,fund_reference,grantee"));
        assert!(lines[1].contains(",active,OSF-2026-7,Harm Reduction Kenya,Community paralegals,capacity_strengthening,"));
        assert!(lines[1].contains(",USD,1234.50,"));
        let _ = grant;
        app.get("/api/v1/grants.csv").bearer(&w.member.token).send().await.expect_problem(403);
        app.get("/api/v1/grants.csv").send().await.expect_problem(401);
    }
}

#[test]
fn every_accepted_currency_is_on_the_360giving_codelist() {
    let csv = standard("360giving/currency.csv");
    let codes: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .map(|c| c.trim_matches('"'))
        .collect();
    for (code, _) in idpc_hub::money::CURRENCIES {
        assert!(
            codes.contains(code),
            "{code} is not on the 360Giving currency codelist"
        );
    }
}

#[test]
fn every_regrant_type_accepted_is_on_the_360giving_codelist() {
    let csv = standard("360giving/regrantType.csv");
    for code in idpc_hub::exports::publication::REGRANT_TYPES {
        assert!(csv.contains(&format!("\n{code},")), "{code}");
    }
}

#[test]
fn nothing_reads_the_standards_from_outside_the_repository() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut stack = vec![
        std::path::PathBuf::from(format!("{root}/src")),
        std::path::PathBuf::from(format!("{root}/tests")),
        std::path::PathBuf::from(format!("{root}/bench")),
    ];
    let needle = ["..", "/shared"].concat();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!text.contains(&needle), "{} reads {needle}", path.display());
            }
        }
    }
}

on_both! {
    async fn the_demo_network_exports_validate_and_add_up(backend) {
        let app = TestApp::start(backend).await;
        idpc_hub::demo::seed(&app.state).await.unwrap();
        let token = app.post("/api/v1/auth/login")
            .json(&json!({"email": "grants@demo.idpc.example", "password": "demo-grants-password"}))
            .send().await.expect(200).body["access_token"].as_str().unwrap().to_string();
        let package = app.get("/api/v1/exports/360giving.json").send().await.expect(200).body;
        validate_giving(&package);
        let failed: Vec<_> = data_quality(&package).into_iter().filter(|(_, bad)| !bad.is_empty()).collect();
        assert!(failed.is_empty(), "data quality checks failed: {failed:#?}");
        let xml = app.get("/api/v1/exports/iati-activities.xml").send().await.expect(200).text;
        validate_iati(&xml);
        let acts = activities(&xml);
        iati_consistency(&acts);
        let list = app.get("/api/v1/grants?limit=100").bearer(&token).send().await.expect(200).body;
        let published: Vec<&Value> = list["data"].as_array().unwrap().iter()
            .filter(|g| ["approved", "active", "closed"].contains(&g["status"].as_str().unwrap()))
            .collect();
        assert_eq!(acts.len(), published.len(), "one activity per published grant");
        assert!(published.iter().any(|g| g["status"] == "closed") && published.iter().any(|g| g["status"] == "active"));
        let (mut approved, mut paid, mut committed_tx, mut disbursed_tx) = (0.0, 0.0, 0.0, 0.0);
        for g in &published {
            approved += money(&g["amount"]);
            paid += money(&g["paid"]);
            let a = acts.iter().find(|a| a.contains(&format!("-{}</iati-identifier>", g["reference"].as_str().unwrap()))).unwrap();
            for (code, v) in transactions(a) {
                match code.as_str() {
                    "2" => committed_tx += v,
                    "3" => disbursed_tx += v,
                    other => panic!("unexpected transaction type {other}"),
                }
            }
        }
        println!("demo network: approved {approved}, commitments {committed_tx}; paid {paid}, disbursements {disbursed_tx}");
        assert!((approved - committed_tx).abs() < 0.005, "commitments add up to what was approved");
        assert!((paid - disbursed_tx).abs() < 0.005, "disbursements add up to what was paid, reversals included");
        assert!(xml.contains("<transaction-type code=\"3\"/>") && xml.contains(">-1000.00</value>"), "the demo has a reversal");
        // No hidden organisation is named or identified in either file.
        let hidden: Vec<(String, String)> = app.db(|c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::organisations as o;
            o::table.filter(o::hidden_from_public.eq(true)).select((o::id, o::name)).load(c).unwrap()
        }).await;
        assert!(!hidden.is_empty());
        let text = package.to_string();
        for (id, name) in &hidden {
            for file in [&text, &xml] {
                assert!(!file.contains(id.as_str()) && !file.contains(name.as_str()), "{name} is hidden");
            }
        }
        assert!(text.contains("\"KE-NCB-OP.218/051/00-0001/0001\""), "org-id identifiers are used");
    }
}

//! Exports: the public 360Giving package validates against the official schemas and never names
//! hidden organisations; the CSV is for staff.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::grants::{active, draft, grant_body, submitted, world};
use crate::on_both;

fn schema(name: &str) -> Value {
    let path = format!(
        "{}/../shared/standards/360giving/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
    )
    .unwrap();
    // The files name their meta-schema as http://json-schema.org/draft/2020-12/schema (not the
    // canonical https URI), which the validator would try to download; the draft is set below.
    v.as_object_mut().unwrap().remove("$schema");
    v
}

fn validate(package: &Value) {
    use jsonschema::Draft;
    let grant_schema = schema("360-giving-schema.json");
    let package_schema = schema("360-giving-package-schema.json");
    let reference = package_schema["properties"]["grants"]["items"]["$ref"]
        .as_str()
        .unwrap()
        .to_string();
    // The schemas' oneOf between `format: date-time` and a date pattern only works when
    // formats are asserted, as 360Giving's own tools do.
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
    // And each grant on its own against the grant schema, to be sure the $ref was followed.
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
    // The checks bite: a grant without a recipient fails.
    let mut broken = package.clone();
    broken["grants"][0]
        .as_object_mut()
        .unwrap()
        .remove("recipientOrganization");
    assert!(!validator.is_valid(&broken));
}

on_both! {
    async fn the_360giving_package_validates_and_withholds_hidden_organisations(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let grant = active(&app, &w, "1000.00").await;
        let d = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.officer.token)
            .json(&json!({"amount": "400.00", "planned_date": "2026-05-01"})).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "P-1", "paid_on": "2026-05-03"})).send().await.expect(200);
        let _pending = submitted(&app, &w, "10.00").await;
        let _draft = draft(&app, &w, "10.00").await;
        let shy = app.member_org("Secret Users Union").await;
        let mut body = grant_body(&w.fund, &shy, "EUR", "2000.00");
        body["fx_rate"] = json!("1.1");
        body["fx_rate_date"] = json!("2026-01-10");
        let hidden = app.post("/api/v1/grants").bearer(&w.officer.token).json(&body).send().await.expect(201).body["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/grants/{hidden}/submit")).bearer(&w.officer.token).send().await.expect(200);
        app.post(&format!("/api/v1/grants/{hidden}/approve")).bearer(&w.officer2.token).send().await.expect(200);
        let shy_id = shy.clone();
        app.db(move |c| {
            use diesel::prelude::*;
            use idpc_hub::db::schema::organisations as o;
            diesel::update(o::table.find(shy_id)).set(o::hidden_from_public.eq(true)).execute(c).unwrap();
        }).await;
        // Public: no token needed.
        let r = app.get("/api/v1/exports/360giving.json").send().await.expect(200);
        let package = r.body;
        validate(&package);
        let grants = package["grants"].as_array().unwrap();
        assert_eq!(grants.len(), 2, "only approved, active and closed grants are published");
        assert!(grants.iter().all(|g| g["regrantType"] == "FRG010"));
        let open = grants.iter().find(|g| g["currency"] == "USD").unwrap();
        assert_eq!(open["amountAwarded"], json!(1000.0));
        assert_eq!(open["amountDisbursed"], json!(400.0));
        assert_eq!(open["recipientOrganization"][0]["name"], "Harm Reduction Kenya");
        let tx = &open["disbursementTransaction"];
        assert_eq!(tx.as_array().unwrap().len(), 1);
        assert_eq!(tx[0]["value"], json!(400.0));
        assert_eq!(tx[0]["transactionDate"], "2026-05-03");
        let withheld = grants.iter().find(|g| g["currency"] == "EUR").unwrap();
        assert_eq!(withheld["recipientOrganization"][0]["name"], "Withheld (at-risk organisation)");
        let text = package.to_string();
        assert!(!text.contains("Secret Users Union") && !text.contains(&shy), "a hidden organisation is never named");
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
    let path = format!(
        "{}/../shared/standards/360giving/currency.csv",
        env!("CARGO_MANIFEST_DIR")
    );
    let csv = std::fs::read_to_string(&path).unwrap();
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

//! The directory: who sees which organisation and which field groups (hidden organisations
//! vanish from every public answer), search, facets, CSV, pagination, and concurrent edits.

use futures_util::future::join_all;
use idpc_hub::directory::OrganisationKind;
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser};
use crate::on_both;

/// PATCHes an organisation with the given If-Match, returning the response.
async fn patch(
    app: &TestApp,
    who: &TestUser,
    id: &str,
    version: i64,
    body: Value,
) -> crate::common::http::Resp {
    app.patch(&format!("/api/v1/organisations/{id}"))
        .bearer(&who.token)
        .header("if-match", &format!("\"{version}\""))
        .json(&body)
        .send()
        .await
}

async fn version_of(app: &TestApp, admin: &TestUser, id: &str) -> i64 {
    app.get(&format!("/api/v1/organisations/{id}"))
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .as_i64()
        .unwrap()
}

/// Sets fields as an admin, with the current version.
async fn admin_set(app: &TestApp, admin: &TestUser, id: &str, body: Value) -> Value {
    let v = version_of(app, admin, id).await;
    patch(app, admin, id, v, body).await.expect(200).body
}

fn names(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

fn facet(body: &Value, facet: &str, value: &str) -> i64 {
    body[facet]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["value"] == value)
        .map(|f| f["count"].as_i64().unwrap())
        .unwrap_or(0)
}

on_both! {
    async fn a_hidden_organisation_is_invisible_to_the_public_and_to_partner_apps(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let open = app.org_with("Open Harm Reduction", OrganisationKind::Member, None, "KE", "africa").await;
        let hidden = app.org_with("Quiet Harm Reduction", OrganisationKind::Member, None, "KE", "africa").await;
        for id in [&open, &hidden] {
            admin_set(&app, &admin, id, json!({"profile": {"focus_areas": ["women_drug_policy"], "description": "Harm reduction services"}})).await;
        }
        // A member may hide its own organisation.
        let quiet = app.user("member", Some(&hidden)).await;
        let v = version_of(&app, &admin, &hidden).await;
        let r = patch(&app, &quiet, &hidden, v, json!({"hidden_from_public": true})).await.expect(200);
        assert_eq!(r.body["hidden_from_public"], true);
        let slug = r.body["slug"].as_str().unwrap().to_string();

        let partner_org = app.donor_org("Partner Foundation").await;
        let (_, _, reader) = app.api_client(&admin, &partner_org, &["directory:read"]).await;
        let (_, _, no_scope) = app.api_client(&admin, &partner_org, &["grants:read"]).await;

        for token in [None, Some(reader.as_str())] {
            let list = app.get("/api/v1/organisations?limit=100").auth(token).send().await.expect(200);
            let got = names(&list.body);
            assert!(got.contains(&"Open Harm Reduction".to_string()));
            assert!(!got.contains(&"Quiet Harm Reduction".to_string()), "hidden in list: {got:?}");
            assert_eq!(list.body["total"], 2, "the open member and the partner");

            let search = app.get("/api/v1/organisations?q=quiet").auth(token).send().await.expect(200);
            assert_eq!(search.body["total"], 0);
            assert!(search.body["data"].as_array().unwrap().is_empty());

            let facets = app.get("/api/v1/organisations/facets?region=africa").auth(token).send().await.expect(200);
            assert_eq!(facets.body["total"], 1);
            assert_eq!(facet(&facets.body, "region", "africa"), 1);
            assert_eq!(facet(&facets.body, "country", "KE"), 1);
            assert_eq!(facet(&facets.body, "focus_area", "women_drug_policy"), 1);
            assert_eq!(facet(&facets.body, "kind", "member"), 1);

            let csv = app.get("/api/v1/organisations.csv").auth(token).send().await.expect(200);
            assert!(csv.text.contains("Open Harm Reduction"));
            assert!(!csv.text.contains("Quiet"), "hidden in CSV: {}", csv.text);

            app.get(&format!("/api/v1/organisations/{hidden}")).auth(token).send().await.expect_problem(404);
            app.get(&format!("/api/v1/organisations/{slug}")).auth(token).send().await.expect_problem(404);
        }

        // A partner app without directory:read may not read the directory at all.
        for path in ["/api/v1/organisations", "/api/v1/organisations/facets", "/api/v1/organisations.csv"] {
            app.get(path).bearer(&no_scope).send().await.expect_problem(403);
        }
        app.get(&format!("/api/v1/organisations/{open}")).bearer(&no_scope).send().await.expect_problem(403);

        // Hiding is from the public: the network's own members and staff still see it.
        let other = app.user("member", Some(&open)).await;
        let r = app.get(&format!("/api/v1/organisations/{hidden}")).bearer(&other.token).send().await.expect(200);
        assert!(r.body.get("hidden_from_public").is_none(), "only staff and its own members see the flag");
        let staff = app.user("grant_officer", None).await;
        let list = app.get("/api/v1/organisations?q=quiet").bearer(&staff.token).send().await.expect(200);
        assert_eq!(names(&list.body), vec!["Quiet Harm Reduction"]);
    }
}

on_both! {
    async fn members_only_fields_never_reach_the_public_and_secretariat_fields_reach_only_staff(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let a = app.member_org("Alpha Network").await;
        let b = app.member_org("Beta Network").await;
        admin_set(&app, &admin, &a, json!({
            "contact": {"name": "Ana Contact", "email": "ana@alpha.example", "phone": "+44 20 7946 0000"},
            "profile": {"description": "Secret shelter locations", "city": "Leeds"},
            "visibility": {"profile": "members"},
        })).await;
        let bob = app.user("member", Some(&b)).await;
        let staff = app.user("finance_officer", None).await;
        let path = format!("/api/v1/organisations/{a}");

        let public = app.get(&path).send().await.expect(200);
        assert_eq!(public.body["name"], "Alpha Network");
        for group in ["profile", "contact", "membership", "visibility", "hidden_from_public"] {
            assert!(public.body.get(group).is_none(), "public saw {group}: {}", public.text);
        }
        assert!(!public.text.contains("Secret shelter") && !public.text.contains("Ana Contact"));
        // A members-only description does not make the organisation match a public search.
        let s = app.get("/api/v1/organisations?q=shelter").send().await.expect(200);
        assert_eq!(s.body["total"], 0);
        let s = app.get("/api/v1/organisations?q=shelter").bearer(&bob.token).send().await.expect(200);
        assert_eq!(s.body["total"], 1);

        let member_view = app.get(&path).bearer(&bob.token).send().await.expect(200);
        assert_eq!(member_view.body["contact"]["name"], "Ana Contact");
        assert_eq!(member_view.body["profile"]["city"], "Leeds");
        assert!(member_view.body.get("membership").is_none());

        admin_set(&app, &admin, &a, json!({"visibility": {"contact": "secretariat"}})).await;
        let member_view = app.get(&path).bearer(&bob.token).send().await.expect(200);
        assert!(member_view.body.get("contact").is_none(), "secretariat group reached a member: {}", member_view.text);
        let csv = app.get("/api/v1/organisations.csv").bearer(&bob.token).send().await.expect(200);
        assert!(!csv.text.contains("ana@alpha.example"));

        let staff_view = app.get(&path).bearer(&staff.token).send().await.expect(200);
        assert_eq!(staff_view.body["contact"]["email"], "ana@alpha.example");
        assert_eq!(staff_view.body["membership"]["status"], "active");
        assert_eq!(staff_view.body["visibility"]["contact"], "secretariat");
        let csv = app.get("/api/v1/organisations.csv").bearer(&staff.token).send().await.expect(200);
        assert!(csv.text.contains("ana@alpha.example"));
        let public_csv = app.get("/api/v1/organisations.csv").send().await.expect(200);
        assert!(!public_csv.text.contains("ana@alpha.example") && !public_csv.text.contains("Secret shelter"));

        // Its own members see their whole profile.
        let own = app.user("member", Some(&a)).await;
        let own_view = app.get(&path).bearer(&own.token).send().await.expect(200);
        assert_eq!(own_view.body["contact"]["phone"], "+44 20 7946 0000");
    }
}

on_both! {
    async fn two_concurrent_patches_with_the_same_if_match_give_one_200_and_one_412(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Concurrent Org").await;
        let member = app.user("member", Some(&org)).await;
        let bodies = [json!({"name": "Edited by admin"}), json!({"name": "Edited by member"})];
        let who = [&admin, &member];
        let responses = join_all((0..2).map(|i| patch(&app, who[i], &org, 1, bodies[i].clone()))).await;
        let mut statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
        statuses.sort();
        assert_eq!(statuses, vec![200, 412], "{:?}", responses.iter().map(|r| &r.text).collect::<Vec<_>>());
        let winner = responses.iter().find(|r| r.status == 200).unwrap();
        let loser = responses.iter().find(|r| r.status == 412).unwrap();
        assert_eq!(loser.body["current_version"], 2);
        assert_eq!(winner.header("etag").as_deref(), Some("\"2\""));
        let now = app.get(&format!("/api/v1/organisations/{org}")).send().await.expect(200);
        assert_eq!(now.body["version"], 2);
        assert_eq!(now.body["name"], winner.body["name"], "the winner's edit is what is stored");

        // More at once: still exactly one winner per version, and no edit is lost silently.
        let responses = join_all((0..6).map(|i| {
            patch(&app, who[i % 2], &org, 2, json!({"profile": {"city": format!("City {i}")}}))
        }))
        .await;
        assert_eq!(responses.iter().filter(|r| r.status == 200).count(), 1);
        assert_eq!(responses.iter().filter(|r| r.status == 412).count(), 5);
        let history = app.get(&format!("/api/v1/organisations/{org}/history")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(history.body["total"], 3, "created + two successful edits");
    }
}

on_both! {
    async fn patch_needs_a_current_if_match_and_get_answers_304_to_a_matching_etag(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Etag Org").await;
        let path = format!("/api/v1/organisations/{org}");

        let r = app.patch(&path).bearer(&admin.token).json(&json!({"acronym": "EO"})).send().await;
        r.expect_problem(428);
        let r = patch(&app, &admin, &org, 7, json!({"acronym": "EO"})).await.expect_problem(412);
        assert_eq!(r.body["current_version"], 1);

        let r = patch(&app, &admin, &org, 1, json!({"acronym": "EO", "profile": {"languages": ["en", "fr"]}})).await.expect(200);
        assert_eq!(r.header("etag").as_deref(), Some("\"2\""));
        assert_eq!(r.body["acronym"], "EO");
        // null clears an optional field; an absent one is kept.
        let r = patch(&app, &admin, &org, 2, json!({"acronym": null})).await.expect(200);
        assert!(r.body["acronym"].is_null());
        assert_eq!(r.body["profile"]["languages"], json!(["en", "fr"]));

        let g = app.get(&path).send().await.expect(200);
        assert_eq!(g.header("etag").as_deref(), Some("\"3\""));
        let nm = app.get(&path).header("if-none-match", "\"3\"").send().await.expect(304);
        assert!(nm.text.is_empty());
        app.get(&path).header("if-none-match", "\"2\"").send().await.expect(200);
    }
}

on_both! {
    async fn a_member_cannot_modify_another_organisation_nor_protected_fields_of_its_own(backend) {
        let app = TestApp::start(backend).await;
        let a = app.member_org("Org A").await;
        let b = app.member_org("Org B").await;
        let member = app.user("member", Some(&a)).await;

        let r = patch(&app, &member, &b, 1, json!({"name": "Taken over"})).await.expect_problem(404);
        assert!(!r.text.contains("Org B"));
        let grant_officer = app.user("grant_officer", None).await;
        patch(&app, &grant_officer, &a, 1, json!({"name": "X"})).await.expect_problem(403);

        for (body, field) in [
            (json!({"kind": "partner", "partner_type": "donor"}), "kind"),
            (json!({"slug": "new-slug"}), "slug"),
            (json!({"joined_on": "2001-01-01"}), "joined_on"),
            (json!({"membership": {"status": "suspended"}}), "membership.status"),
            (json!({"membership": {"period_end": "2099-12-31"}}), "membership.period_end"),
            (json!({"colour": "red"}), "colour"),
            (json!({"profile": {"colour": "red"}}), "profile.colour"),
        ] {
            let r = patch(&app, &member, &a, 1, body).await.expect_problem(400);
            assert_eq!(r.first_error_field(), field, "{}", r.text);
        }
        // Nothing changed, so version 1 still applies; allowed fields go through.
        let r = patch(&app, &member, &a, 1, json!({"name": "Org A (renamed)", "profile": {"description": "Peer support."}})).await.expect(200);
        assert_eq!(r.body["profile"]["description"], "Peer support.");
        assert_eq!(r.body["version"], 2);
    }
}

on_both! {
    async fn unknown_codes_and_parameters_are_refused_naming_the_field(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Validation Org").await;
        for (body, field) in [
            (json!({"country": "XX"}), "country"),
            (json!({"region": "atlantis"}), "region"),
            (json!({"profile": {"focus_areas": ["world_peace"]}}), "profile.focus_areas"),
            (json!({"profile": {"languages": ["xx"]}}), "profile.languages"),
            (json!({"profile": {"pillars": ["fundraising"]}}), "profile.pillars"),
            (json!({"profile": {"website": "javascript:alert(1)"}}), "profile.website"),
            (json!({"profile": {"description": "x".repeat(5001)}}), "profile.description"),
            (json!({"contact": {"email": "not-an-email"}}), "contact.email"),
            (json!({"name": null}), "name"),
        ] {
            let r = patch(&app, &admin, &org, 1, body).await.expect_problem(400);
            assert_eq!(r.first_error_field(), field, "{}", r.text);
        }
        let r = app.post("/api/v1/organisations").bearer(&admin.token)
            .json(&json!({"name": "Bad Place", "kind": "member", "country": "ZZ", "region": "europe"}))
            .send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "country");

        for (query, field) in [
            ("country=XX", "country"),
            ("region=atlantis", "region"),
            ("focus_area=women_drug_policy&focus_area=world_peace", "focus_area"),
            ("language=xx", "language"),
            ("colour=red", "colour"),
            ("limit=101", "limit"),
            ("limit=0", "limit"),
            ("sort=size", "sort"),
            ("cursor=garbage", "cursor"),
        ] {
            let r = app.get(&format!("/api/v1/organisations?{query}")).send().await.expect_problem(400);
            assert_eq!(r.first_error_field(), field, "{query}: {}", r.text);
        }
        let r = app.get("/api/v1/organisations/facets?limit=5").send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "limit");
        // membership_status is a staff-only filter: 403 for anyone else.
        app.get("/api/v1/organisations?membership_status=active").send().await.expect_problem(403);
        let member = app.user("member", Some(&org)).await;
        app.get("/api/v1/organisations?membership_status=active").bearer(&member.token).send().await.expect_problem(403);
        let r = app.get("/api/v1/organisations?membership_status=active").bearer(&admin.token).send().await.expect(200);
        assert_eq!(r.body["total"], 1);
    }
}

on_both! {
    async fn pages_stay_stable_under_inserts_and_carry_the_total(backend) {
        let app = TestApp::start(backend).await;
        for i in 1..=7 {
            app.member_org(&format!("Org {i:02}")).await;
        }
        let first = app.get("/api/v1/organisations?limit=3").send().await.expect(200);
        assert_eq!(names(&first.body), vec!["Org 01", "Org 02", "Org 03"]);
        assert_eq!(first.body["total"], 7);
        // Rows inserted before and after the cursor position while a client pages.
        app.member_org("Org 00").await;
        app.member_org("Org 99").await;
        let mut seen = names(&first.body);
        let mut cursor = first.body["next_cursor"].as_str().unwrap().to_string();
        loop {
            let page = app.get(&format!("/api/v1/organisations?limit=3&cursor={cursor}")).send().await.expect(200);
            seen.extend(names(&page.body));
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = c.to_string(),
                None => {
                    assert_eq!(page.body["total"], 9);
                    break;
                }
            }
        }
        assert_eq!(seen, vec!["Org 01", "Org 02", "Org 03", "Org 04", "Org 05", "Org 06", "Org 07", "Org 99"]);

        // Descending by name, and a cursor is tied to its sort.
        let desc = app.get("/api/v1/organisations?sort=-name&limit=2").send().await.expect(200);
        assert_eq!(names(&desc.body), vec!["Org 99", "Org 07"]);
        let c = desc.body["next_cursor"].as_str().unwrap();
        let r = app.get(&format!("/api/v1/organisations?sort=name&cursor={c}")).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "cursor");
        let by_join = app.get("/api/v1/organisations?sort=joined_on&limit=100").send().await.expect(200);
        assert_eq!(by_join.body["total"], 9);
        let by_update = app.get("/api/v1/organisations?sort=-updated_at&limit=1").send().await.expect(200);
        assert_eq!(names(&by_update.body), vec!["Org 99"]);
    }
}

on_both! {
    async fn search_and_facets_filter_case_insensitively_and_count_only_what_the_caller_sees(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let kenya = app.org_with("Kenya Harm Reduction", OrganisationKind::Member, None, "KE", "africa").await;
        let mexico = app.org_with("Red Mexicana", OrganisationKind::Member, None, "MX", "latin_america_caribbean").await;
        let peru = app.org_with("Peru Drug Policy", OrganisationKind::Member, None, "PE", "latin_america_caribbean").await;
        app.donor_org("Big Donor").await;
        admin_set(&app, &admin, &kenya, json!({"acronym": "KHR", "profile": {"focus_areas": ["women_drug_policy", "support_dont_punish"], "languages": ["en", "sw"]}})).await;
        admin_set(&app, &admin, &mexico, json!({"profile": {"focus_areas": ["support_dont_punish"], "languages": ["es"], "description": "Red de REDUCCIÓN de daños 100%"}})).await;
        admin_set(&app, &admin, &peru, json!({"profile": {"focus_areas": ["support_dont_punish"]}, "visibility": {"profile": "members"}})).await;

        let q = |s: &str| format!("/api/v1/organisations?{s}");
        assert_eq!(names(&app.get(&q("q=KENYA")).send().await.expect(200).body), vec!["Kenya Harm Reduction"]);
        assert_eq!(names(&app.get(&q("q=khr")).send().await.expect(200).body), vec!["Kenya Harm Reduction"]);
        assert_eq!(names(&app.get(&q("q=da%C3%B1os")).send().await.expect(200).body), vec!["Red Mexicana"]);
        // LIKE wildcards in the term are literal.
        assert_eq!(names(&app.get(&q("q=100%25")).send().await.expect(200).body), vec!["Red Mexicana"]);
        assert_eq!(app.get(&q("q=%25")).send().await.expect(200).body["total"], 0, "a q with no word in it matches nothing");
        assert_eq!(names(&app.get(&q("kind=partner")).send().await.expect(200).body), vec!["Big Donor"]);
        assert_eq!(names(&app.get(&q("country=MX")).send().await.expect(200).body), vec!["Red Mexicana"]);
        assert_eq!(names(&app.get(&q("language=sw")).send().await.expect(200).body), vec!["Kenya Harm Reduction"]);
        // Repeated focus_area matches any of them; Peru's profile is members-only.
        let r = app.get(&q("focus_area=women_drug_policy&focus_area=support_dont_punish")).send().await.expect(200);
        assert_eq!(names(&r.body), vec!["Kenya Harm Reduction", "Red Mexicana"]);
        let r = app.get(&q("region=latin_america_caribbean&focus_area=support_dont_punish")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(names(&r.body), vec!["Peru Drug Policy", "Red Mexicana"]);

        let public = app.get("/api/v1/organisations/facets").send().await.expect(200).body;
        assert_eq!(public["total"], 4);
        assert_eq!(facet(&public, "region", "latin_america_caribbean"), 2);
        assert_eq!(facet(&public, "kind", "partner"), 1);
        assert_eq!(facet(&public, "focus_area", "support_dont_punish"), 2, "Peru's members-only profile is not counted");
        assert_eq!(facet(&public, "focus_area", "women_drug_policy"), 1);
        let staff = app.get("/api/v1/organisations/facets?region=latin_america_caribbean").bearer(&admin.token).send().await.expect(200).body;
        assert_eq!(staff["total"], 2);
        assert_eq!(facet(&staff, "focus_area", "support_dont_punish"), 2);
        assert_eq!(facet(&staff, "country", "PE"), 1);
        assert_eq!(facet(&staff, "region", "africa"), 0);
    }
}

on_both! {
    async fn the_csv_export_streams_the_filtered_directory_with_quoting(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let a = app.org_with("Harm Reduction, Inc.", OrganisationKind::Member, None, "KE", "africa").await;
        admin_set(&app, &admin, &a, json!({"profile": {"description": "Says \"hello\"\nand more", "focus_areas": ["women_drug_policy", "civil_society_space"]}})).await;
        app.member_org("Europe Org").await;
        let r = app.get("/api/v1/organisations.csv?region=africa").send().await.expect(200);
        assert!(r.header("content-type").unwrap().starts_with("text/csv"));
        assert!(r.header("content-disposition").unwrap().contains("organisations.csv"));
        assert!(r.text.starts_with("id,name,slug,acronym,kind"));
        let row = r.text.split("\r\n").nth(1).unwrap();
        assert!(row.contains("\"Harm Reduction, Inc.\""), "{}", r.text);
        assert!(row.contains("\"Says \"\"hello\"\"\nand more\""), "{}", r.text);
        assert!(row.contains("women_drug_policy;civil_society_space"));
        assert!(!r.text.contains("Europe Org"));

        // More rows than one fetch page (500): every row comes through exactly once.
        let config = app.state.config.clone();
        app.db(move |c| {
            for i in 0..520 {
                let new = idpc_hub::directory::NewOrganisation {
                    name: format!("Bulk {i:03}"),
                    slug: None,
                    kind: OrganisationKind::Member,
                    partner_type: None,
                    country: "FR".into(),
                    region: "europe".into(),
                    identifiers: Vec::new(),
                };
                idpc_hub::directory::create(c, &config, &idpc_hub::audit::Actor::System, None, new).unwrap();
            }
        })
        .await;
        let all = app.get("/api/v1/organisations.csv?sort=-name").send().await.expect(200);
        let bulk: std::collections::BTreeSet<&str> = all.text.lines().filter(|l| l.contains(",Bulk ")).collect();
        assert_eq!(bulk.len(), 520);
        assert_eq!(all.text.lines().count(), 1 + 520 + 3, "header, bulk rows, Harm Reduction (2 lines), Europe Org");
        let r = app.get("/api/v1/organisations.csv?limit=5").send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "limit");
    }
}

on_both! {
    async fn history_shows_each_changed_field_to_admins_and_the_organisations_own_members(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("History Org").await;
        let other = app.member_org("Other Org").await;
        patch(&app, &admin, &org, 1, json!({"name": "History Org Renamed", "profile": {"city": "Lagos"}})).await.expect(200);
        let path = format!("/api/v1/organisations/{org}/history");
        let r = app.get(&path).bearer(&admin.token).send().await.expect(200);
        assert_eq!(r.body["total"], 2);
        assert_eq!(r.body["data"][0]["action"], "organisation.created");
        let update = &r.body["data"][1];
        assert_eq!(update["action"], "organisation.updated");
        assert_eq!(update["actor_id"], admin.id.as_str());
        let changes = update["changes"].as_array().unwrap();
        let name = changes.iter().find(|c| c["field"] == "name").unwrap();
        assert_eq!((name["before"].as_str(), name["after"].as_str()), (Some("History Org"), Some("History Org Renamed")));
        let city = changes.iter().find(|c| c["field"] == "profile.city").unwrap();
        assert!(city["before"].is_null());
        assert_eq!(city["after"], "Lagos");
        assert_eq!(changes.len(), 2, "{changes:?}");

        let own = app.user("member", Some(&org)).await;
        app.get(&path).bearer(&own.token).send().await.expect(200);
        let stranger = app.user("member", Some(&other)).await;
        app.get(&path).bearer(&stranger.token).send().await.expect_problem(404);
        let officer = app.user("grant_officer", None).await;
        app.get(&path).bearer(&officer.token).send().await.expect_problem(403);
        app.get(&path).send().await.expect_problem(401);
    }
}

on_both! {
    async fn demo_data_seeds_about_two_hundred_organisations_everywhere_and_is_idempotent(backend) {
        let app = TestApp::start(backend).await;
        let seeded = idpc_hub::demo::seed(&app.state).await.unwrap();
        let orgs = seeded.organisations;
        assert!((190..=230).contains(&orgs), "{orgs}");
        assert_eq!(seeded.users.len(), idpc_hub::demo::DEMO_USERS.len());
        assert!(idpc_hub::demo::seed(&app.state).await.unwrap().is_empty());
        let admin = app.admin().await;
        let f = app.get("/api/v1/organisations/facets").bearer(&admin.token).send().await.expect(200).body;
        assert_eq!(f["total"].as_i64().unwrap() as usize, orgs);
        for region in idpc_hub::codes::REGIONS {
            assert!(facet(&f, "region", region) > 0, "no organisation in {region}");
        }
        for area in idpc_hub::codes::PRIORITY_AREAS {
            assert!(facet(&f, "focus_area", area) > 0, "no organisation on {area}");
        }
        let public = app.get("/api/v1/organisations/facets").send().await.expect(200).body;
        assert!(public["total"].as_i64().unwrap() < f["total"].as_i64().unwrap(), "some demo members are hidden");
    }
}

async fn stored_slug(app: &TestApp, id: &str) -> String {
    let id = id.to_string();
    app.db(move |c| {
        use diesel::prelude::*;
        use idpc_hub::db::schema::organisations;
        organisations::table
            .find(id)
            .select(organisations::slug)
            .first::<String>(c)
            .unwrap()
    })
    .await
}

on_both! {
    async fn a_slug_in_the_form_of_an_id_is_refused_naming_slug(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let other = app.member_org("Some Member").await;
        let r = app.post("/api/v1/organisations").bearer(&admin.token)
            .json(&json!({"name": "Sneaky", "slug": other, "kind": "member", "country": "GB", "region": "europe"}))
            .send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "slug");
        // A name that slugifies to an id does not get that slug: it gets a generated one.
        let r = app.post("/api/v1/organisations").bearer(&admin.token)
            .json(&json!({"name": other, "kind": "member", "country": "GB", "region": "europe"}))
            .send().await.expect(201);
        let generated = r.body["slug"].as_str().unwrap();
        assert!(generated.starts_with("organisation-") && generated != other, "{generated}");
        let target = app.member_org("Target Member").await;
        let v = version_of(&app, &admin, &target).await;
        let r = patch(&app, &admin, &target, v, json!({"slug": other})).await.expect_problem(400);
        assert_eq!(r.first_error_field(), "slug");
        assert_eq!(stored_slug(&app, &target).await, "target-member");
        // Lookup by id still finds the organisation the id names.
        let r = app.get(&format!("/api/v1/organisations/{other}")).bearer(&admin.token).send().await.expect(200);
        assert_eq!(r.body["name"], "Some Member");
    }
}

on_both! {
    async fn control_characters_in_organisation_text_are_refused_naming_the_field(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let r = app.post("/api/v1/organisations").bearer(&admin.token)
            .json(&json!({"name": "Tab\tName", "kind": "member", "country": "GB", "region": "europe"}))
            .send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "name");
        let org = app.member_org("Clean Member").await;
        for (body, field) in [
            (json!({"name": "Two\nLines"}), "name"),
            (json!({"acronym": "A\tB"}), "acronym"),
            (json!({"profile": {"city": "Bogotá\r\nX"}}), "profile.city"),
            (json!({"contact": {"name": "Line\nBreak"}}), "contact.name"),
            (json!({"profile": {"description": "Bell \u{7}"}}), "profile.description"),
            (json!({"profile": {"description": "Esc \u{1b}[2J"}}), "profile.description"),
        ] {
            let v = version_of(&app, &admin, &org).await;
            let r = patch(&app, &admin, &org, v, body.clone()).await.expect_problem(400);
            assert_eq!(r.first_error_field(), field, "{body} → {}", r.body);
        }
        // Descriptions keep their line breaks and tabs.
        let v = version_of(&app, &admin, &org).await;
        let r = patch(&app, &admin, &org, v, json!({"profile": {"description": "One.\n\tTwo."}})).await.expect(200);
        assert_eq!(r.body["profile"]["description"], "One.\n\tTwo.");
        // A decision's reason is multi-line text too.
        let r = app.post(&format!("/api/v1/organisations/{org}/membership")).bearer(&admin.token)
            .json(&json!({"action": "suspend", "reason": "Because \u{1b}[31m"})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "reason");
        assert_eq!(app.get(&format!("/api/v1/organisations/{org}")).bearer(&admin.token).send().await.expect(200).body["membership"]["status"], "active");
    }
}

on_both! {
    async fn partner_apps_get_404_for_a_hidden_organisation_as_for_an_unknown_one(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let open = app.member_org("Visible Member").await;
        let hidden = app.member_org("Hidden Member").await;
        let h = admin_set(&app, &admin, &hidden, json!({"hidden_from_public": true})).await;
        let slug = h["slug"].as_str().unwrap().to_string();
        let partner = app.donor_org("Partner Foundation").await;
        let (_, _, reader) = app.api_client(&admin, &partner, &["directory:read"]).await;
        let (_, _, no_scope) = app.api_client(&admin, &partner, &["grants:read"]).await;
        let unknown = "0190d5f0-0000-7000-8000-000000000000";
        for token in [&reader, &no_scope] {
            for target in [hidden.as_str(), slug.as_str(), unknown, "no-such-slug"] {
                let r = app.get(&format!("/api/v1/organisations/{target}/history")).bearer(token).send().await.expect_problem(404);
                assert_eq!(r.body["status"], 404);
                app.patch(&format!("/api/v1/organisations/{target}")).bearer(token)
                    .header("if-match", "\"1\"").json(&json!({"name": "Renamed"})).send().await.expect_problem(404);
            }
        }
        app.get(&format!("/api/v1/organisations/{hidden}")).bearer(&reader).send().await.expect_problem(404);
        app.get(&format!("/api/v1/organisations/{slug}")).bearer(&reader).send().await.expect_problem(404);
        // What an app may see but not do stays 403.
        app.get(&format!("/api/v1/organisations/{open}/history")).bearer(&reader).send().await.expect_problem(403);
        assert_eq!(version_of(&app, &admin, &hidden).await, h["version"].as_i64().unwrap());
    }
}

on_both! {
    async fn hidden_organisations_appear_in_no_public_answer_but_staff_see_them(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let officer = app.user("grant_officer", None).await;
        let hidden = app.org_with("Hushed Collective", OrganisationKind::Member, None, "TH", "asia").await;
        admin_set(&app, &admin, &hidden, json!({"hidden_from_public": true, "profile": {"focus_areas": ["women_drug_policy"]}})).await;
        let slug = stored_slug(&app, &hidden).await;
        for token in [None, Some(officer.token.as_str()), Some(admin.token.as_str())] {
            let staff = token.is_some();
            let list = app.get("/api/v1/organisations?region=asia").auth(token).send().await.expect(200);
            assert_eq!(names(&list.body).contains(&"Hushed Collective".to_string()), staff);
            let facets = app.get("/api/v1/organisations/facets?region=asia").auth(token).send().await.expect(200);
            assert_eq!(facets.body["total"], if staff { 1 } else { 0 });
            let csv = app.get("/api/v1/organisations.csv?region=asia").auth(token).send().await.expect(200);
            assert_eq!(csv.text.contains("Hushed"), staff, "{}", csv.text);
            for target in [&hidden, &slug] {
                let r = app.get(&format!("/api/v1/organisations/{target}")).auth(token).send().await;
                assert_eq!(r.status, if staff { 200 } else { 404 });
            }
        }
    }
}

on_both! {
    async fn users_of_a_suspended_or_withdrawn_organisation_cannot_edit_its_profile(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Troubled Member").await;
        let member = app.user("member", Some(&org)).await;
        let v = version_of(&app, &admin, &org).await;
        patch(&app, &member, &org, v, json!({"profile": {"city": "Lima"}})).await.expect(200);
        for (action, word) in [("suspend", "suspended"), ("withdraw", "withdrawn")] {
            if action == "withdraw" {
                app.post(&format!("/api/v1/organisations/{org}/membership")).bearer(&admin.token)
                    .json(&json!({"action": "reinstate"})).send().await.expect(200);
            }
            app.post(&format!("/api/v1/organisations/{org}/membership")).bearer(&admin.token)
                .json(&json!({"action": action, "reason": "Unpaid dues."})).send().await.expect(200);
            let v = version_of(&app, &admin, &org).await;
            let r = patch(&app, &member, &org, v, json!({"profile": {"city": "Quito"}})).await.expect_problem(403);
            assert!(r.body["detail"].as_str().unwrap().contains(&format!("membership is {word}")), "{}", r.body);
            // It can still read its data; nothing changed.
            let own = app.get(&format!("/api/v1/organisations/{org}")).bearer(&member.token).send().await.expect(200);
            assert_eq!(own.body["profile"]["city"], "Lima");
            assert_eq!(own.body["membership"]["status"], word);
        }
        // The secretariat may still correct the profile.
        let v = version_of(&app, &admin, &org).await;
        patch(&app, &admin, &org, v, json!({"profile": {"city": "Quito"}})).await.expect(200);
    }
}

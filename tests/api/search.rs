//! Directory search (issue 12): accent- and case-insensitive matching in every script the
//! network writes in, relevance, visibility of what matches, the capped total, facets that
//! agree with the list, cursors bound to their query, transliterated slugs and old slugs.

use idpc_hub::directory::{OrganisationKind, PartnerType};
use serde_json::{Value, json};

use crate::common::{TestApp, TestUser};
use crate::on_both;

async fn admin_set(app: &TestApp, admin: &TestUser, id: &str, body: Value) -> Value {
    let v = app
        .get(&format!("/api/v1/organisations/{id}"))
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .as_i64()
        .unwrap();
    app.patch(&format!("/api/v1/organisations/{id}"))
        .bearer(&admin.token)
        .header("if-match", &format!("\"{v}\""))
        .json(&body)
        .send()
        .await
        .expect(200)
        .body
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

/// Names found for `q` (URL-encoded here) by `token`.
async fn found(app: &TestApp, q: &str, token: Option<&str>) -> Vec<String> {
    let path = format!("/api/v1/organisations?limit=100&q={}", url_encode(q));
    names(&app.get(&path).auth(token).send().await.expect(200).body)
}

fn url_encode(s: &str) -> String {
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

on_both! {
    async fn accents_and_case_fold_away_and_cyrillic_thai_and_arabic_names_are_found_by_their_words(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let accented = app.org_with("Colectivo Reducción de Daños Bogotá", OrganisationKind::Member, None, "CO", "latin_america_caribbean").await;
        app.org_with("Bogota Harm Reduction Network", OrganisationKind::Member, None, "CO", "latin_america_caribbean").await;
        app.org_with("Фонд Андрея Рылькова", OrganisationKind::Member, None, "RU", "europe").await;
        app.org_with("มูลนิธิรักษ์ไทย", OrganisationKind::Member, None, "TH", "asia").await;
        app.org_with("جمعية الحد من الضرر", OrganisationKind::Member, None, "LB", "middle_east_north_africa").await;
        // Found through its description only: ranks after the name matches, though its name
        // sorts first.
        let described = app.org_with("Aaa Street Outreach", OrganisationKind::Member, None, "CO", "latin_america_caribbean").await;
        admin_set(&app, &admin, &described, json!({"profile": {"description": "Trabajamos en BOGOTÁ y Medellín."}})).await;

        let both = vec![
            "Bogota Harm Reduction Network".to_string(),
            "Colectivo Reducción de Daños Bogotá".to_string(),
            "Aaa Street Outreach".to_string(),
        ];
        for q in ["bogota", "bogotá", "BOGOTÁ", "Bogota\u{301}"] {
            assert_eq!(found(&app, q, None).await, both, "q={q}");
        }
        assert_eq!(found(&app, "danos reduccion", None).await, vec!["Colectivo Reducción de Daños Bogotá"]);
        assert_eq!(found(&app, "medellin", None).await, vec!["Aaa Street Outreach"]);
        // Cyrillic in any case, and a word inside a Thai name (Thai has no spaces).
        assert_eq!(found(&app, "рылькова", None).await, vec!["Фонд Андрея Рылькова"]);
        assert_eq!(found(&app, "РЫЛЬКОВА", None).await, vec!["Фонд Андрея Рылькова"]);
        assert_eq!(found(&app, "รักษ์ไทย", None).await, vec!["มูลนิธิรักษ์ไทย"]);
        assert_eq!(found(&app, "มูลนิธิ", None).await, vec!["มูลนิธิรักษ์ไทย"]);
        assert_eq!(found(&app, "الضرر", None).await, vec!["جمعية الحد من الضرر"]);
        assert!(found(&app, "lima", None).await.is_empty());
        // A q with no word in it matches nothing (LIKE wildcards are not wildcards).
        assert!(found(&app, "%", None).await.is_empty());

        // Relevance pages with its cursor: the same order, one row at a time.
        let mut seen = Vec::new();
        let mut path = "/api/v1/organisations?q=bogota&limit=1".to_string();
        loop {
            let page = app.get(&path).send().await.expect(200).body;
            seen.extend(names(&page));
            assert_eq!(page["total"], 3);
            assert_eq!(page["total_is_exact"], true);
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/organisations?q=bogota&limit=1&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, both);

        // The slug is transliterated.
        let r = app.get(&format!("/api/v1/organisations/{accented}")).send().await.expect(200);
        assert_eq!(r.body["slug"], "colectivo-reduccion-de-danos-bogota");
    }
}

on_both! {
    async fn members_only_words_find_nothing_for_the_public_and_a_hidden_organisation_is_found_only_by_staff(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let officer = app.user("grant_officer", None).await;
        let guarded = app.member_org("Guarded Network").await;
        admin_set(&app, &admin, &guarded, json!({"profile": {"description": "Needle exchange in Zanzibar", "focus_areas": ["women_drug_policy"]}, "visibility": {"profile": "members"}})).await;
        let hidden = app.member_org("Hushed Collective").await;
        admin_set(&app, &admin, &hidden, json!({"hidden_from_public": true})).await;
        let other = app.member_org("Other Member").await;
        let member = app.user("member", Some(&other)).await;
        let own = app.user("member", Some(&hidden)).await;
        let partner = app.donor_org("Partner Foundation").await;
        let (_, _, reader) = app.api_client(&admin, &partner, &["directory:read"]).await;

        // The members-only description does not make it findable by the public.
        for token in [None, Some(reader.as_str())] {
            assert!(found(&app, "zanzibar", token).await.is_empty());
            let r = app.get("/api/v1/organisations?q=zanzibar&focus_area=women_drug_policy").auth(token).send().await.expect(200);
            assert_eq!(r.body["total"], 0);
            let f = app.get("/api/v1/organisations/facets?q=zanzibar").auth(token).send().await.expect(200);
            assert_eq!(f.body["total"], 0);
            // Its name is public.
            assert_eq!(found(&app, "guarded", token).await, vec!["Guarded Network"]);
        }
        for token in [&member.token, &officer.token, &admin.token] {
            assert_eq!(found(&app, "zanzibar", Some(token)).await, vec!["Guarded Network"]);
        }

        // The hidden one: found by staff only, not by members, not even its own.
        for token in [None, Some(reader.as_str()), Some(member.token.as_str()), Some(own.token.as_str())] {
            assert!(found(&app, "hushed", token).await.is_empty());
            let f = app.get("/api/v1/organisations/facets?q=hushed").auth(token).send().await.expect(200);
            assert_eq!(f.body["total"], 0);
            let csv = app.get("/api/v1/organisations.csv?q=hushed").auth(token).send().await.expect(200);
            assert!(!csv.text.contains("Hushed"));
        }
        for token in [&officer.token, &admin.token] {
            assert_eq!(found(&app, "hushed", Some(token)).await, vec!["Hushed Collective"]);
        }
    }
}

on_both! {
    async fn the_total_is_capped_at_a_thousand_and_facets_agree_with_the_list(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        // 1,003 organisations, written through the same path as every other.
        let config = app.state.config.clone();
        app.db(move |c| {
            use idpc_hub::audit::Actor;
            for i in 0..1003 {
                let new = idpc_hub::directory::NewOrganisation {
                    name: format!("Bulk Harm Reduction {i:04}"),
                    slug: None,
                    kind: OrganisationKind::Member,
                    partner_type: None,
                    country: "KE".into(),
                    region: "africa".into(),
                    identifiers: Vec::new(),
                };
                idpc_hub::directory::create(c, &config, &Actor::System, None, new).unwrap();
            }
        })
        .await;
        let r = app.get("/api/v1/organisations?q=bulk").send().await.expect(200).body;
        assert_eq!(r["total"], 1000);
        assert_eq!(r["total_is_exact"], false);
        assert_eq!(r["data"].as_array().unwrap().len(), 25);
        let r = app.get("/api/v1/organisations?q=bulk%20harm%20000").send().await.expect(200).body;
        assert_eq!(r["total"], 11, "0000 to 0009, and 1000");
        assert_eq!(r["total_is_exact"], true);

        // Facets count the same candidates as the list, value by value.
        let th = app.org_with("Thai Drug Users Network", OrganisationKind::Member, None, "TH", "asia").await;
        admin_set(&app, &admin, &th, json!({"profile": {"languages": ["th", "en"], "pillars": ["building_evidence"], "focus_areas": ["support_dont_punish"]}})).await;
        let un = app.org_with("UNODC Liaison", OrganisationKind::Partner, Some(PartnerType::UnAgency), "AT", "global").await;
        admin_set(&app, &admin, &un, json!({"profile": {"languages": ["en"], "pillars": ["building_evidence", "international_advocacy"]}})).await;
        for base in ["", "region=asia", "pillar=building_evidence", "language=en", "partner_type=un_agency"] {
            let facets = app.get(&format!("/api/v1/organisations/facets?{base}")).send().await.expect(200).body;
            let list = app.get(&format!("/api/v1/organisations?{base}&limit=1")).send().await.expect(200).body;
            if list["total_is_exact"] == true {
                assert_eq!(facets["total"], list["total"], "{base}");
            }
            for (name, values) in [
                ("language", vec!["th", "en"]),
                ("pillar", vec!["building_evidence", "international_advocacy"]),
                ("partner_type", vec!["un_agency"]),
                ("region", vec!["asia", "global"]),
            ] {
                if base.starts_with(&format!("{name}=")) {
                    continue;
                }
                for v in values {
                    let sep = if base.is_empty() { "" } else { "&" };
                    let with = app.get(&format!("/api/v1/organisations?{base}{sep}{name}={v}&limit=1")).send().await.expect(200).body;
                    assert_eq!(facet(&facets, name, v), with["total"].as_i64().unwrap(), "{base} + {name}={v}");
                }
            }
        }
        let all = app.get("/api/v1/organisations/facets").send().await.expect(200).body;
        assert_eq!(facet(&all, "language", "en"), 2);
        assert_eq!(facet(&all, "pillar", "building_evidence"), 2);
        assert_eq!(facet(&all, "partner_type", "un_agency"), 1);
        let r = app.get("/api/v1/organisations?pillar=international_advocacy").send().await.expect(200).body;
        assert_eq!(names(&r), vec!["UNODC Liaison"]);
    }
}

on_both! {
    async fn a_cursor_reused_with_other_filters_or_another_sort_is_refused_naming_cursor(backend) {
        let app = TestApp::start(backend).await;
        for i in 0..4 {
            app.org_with(&format!("Africa Org {i}"), OrganisationKind::Member, None, "KE", "africa").await;
            app.org_with(&format!("Asia Org {i}"), OrganisationKind::Member, None, "TH", "asia").await;
        }
        let first = app.get("/api/v1/organisations?region=africa&limit=2").send().await.expect(200).body;
        let c = first["next_cursor"].as_str().unwrap().to_string();
        // The same query pages on.
        let next = app.get(&format!("/api/v1/organisations?region=africa&limit=2&cursor={c}")).send().await.expect(200).body;
        assert_eq!(names(&next), vec!["Africa Org 2", "Africa Org 3"]);
        for other in ["region=asia", "", "region=africa&q=org", "region=africa&sort=-name", "region=africa&language=en"] {
            let r = app.get(&format!("/api/v1/organisations?{other}&limit=2&cursor={c}")).send().await.expect_problem(400);
            assert_eq!(r.first_error_field(), "cursor", "{other}");
        }
    }
}

on_both! {
    async fn a_renamed_organisations_old_slug_answers_301_to_the_new_one(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let id = app.org_with("Фонд Андрея Рылькова", OrganisationKind::Member, None, "RU", "europe").await;
        let r = app.get(&format!("/api/v1/organisations/{id}")).send().await.expect(200);
        let old = r.body["slug"].as_str().unwrap().to_string();
        assert_eq!(old, "fond-andreia-rylkova");
        let renamed = admin_set(&app, &admin, &id, json!({"name": "Andrey Rylkov Foundation", "slug": "andrey-rylkov-foundation"})).await;
        assert_eq!(renamed["slug"], "andrey-rylkov-foundation");

        let r = app.get(&format!("/api/v1/organisations/{old}")).send().await.expect(301);
        assert_eq!(r.header("location").as_deref(), Some("/api/v1/organisations/andrey-rylkov-foundation"));
        app.get("/api/v1/organisations/andrey-rylkov-foundation").send().await.expect(200);
        // Search follows the new name.
        assert_eq!(found(&app, "rylkov", None).await, vec!["Andrey Rylkov Foundation"]);
        assert!(found(&app, "фонд", None).await.is_empty());

        // Hidden: the old slug tells the public nothing more than the new one.
        admin_set(&app, &admin, &id, json!({"hidden_from_public": true})).await;
        app.get(&format!("/api/v1/organisations/{old}")).send().await.expect_problem(404);
        app.get(&format!("/api/v1/organisations/{old}")).bearer(&admin.token).send().await.expect(301);

        // Another organisation may take the old slug; it then answers as that one.
        let taker = app.member_org("Fond Andreia Rylkova Two").await;
        admin_set(&app, &admin, &taker, json!({"slug": old})).await;
        let r = app.get(&format!("/api/v1/organisations/{old}")).send().await.expect(200);
        assert_eq!(r.body["id"], taker.as_str());
    }
}

on_both! {
    async fn a_changed_region_or_focus_area_is_searched_by_its_new_value_at_once(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let id = app.org_with("Mekong Harm Reduction Alliance", OrganisationKind::Member, None, "TH", "asia").await;
        admin_set(&app, &admin, &id, json!({"profile": {"focus_areas": ["support_dont_punish"]}})).await;
        let hits = |query: &'static str| {
            let app = &app;
            async move {
                names(&app.get(&format!("/api/v1/organisations?{query}")).send().await.expect(200).body)
            }
        };
        assert_eq!(hits("q=mekong&region=asia&focus_area=support_dont_punish").await, vec!["Mekong Harm Reduction Alliance"]);
        admin_set(&app, &admin, &id, json!({"region": "global", "country": "CH", "profile": {"focus_areas": ["women_drug_policy"]}})).await;
        // The search answers from the new values in the same moment, with and without words.
        assert!(hits("q=mekong&region=asia").await.is_empty());
        assert!(hits("region=asia").await.is_empty());
        assert!(hits("q=mekong&focus_area=support_dont_punish").await.is_empty());
        assert_eq!(hits("q=mekong&region=global&country=CH&focus_area=women_drug_policy").await, vec!["Mekong Harm Reduction Alliance"]);
        assert_eq!(hits("region=global&focus_area=women_drug_policy").await, vec!["Mekong Harm Reduction Alliance"]);
    }
}

on_both! {
    async fn a_name_that_gives_no_usable_slug_still_gets_one_and_a_sent_slug_is_kept(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let body = |name: &str, slug: Option<&str>| {
            let mut b = json!({"name": name, "kind": "member", "country": "TH", "region": "asia"});
            if let Some(s) = slug {
                b["slug"] = json!(s);
            }
            b
        };
        let r = app.post("/api/v1/organisations").bearer(&admin.token).json(&body("ä!", None)).send().await.expect(201);
        let slug = r.body["slug"].as_str().unwrap().to_string();
        assert!(slug.starts_with("organisation-") && slug.len() == "organisation-".len() + 8, "{slug}");
        app.get(&format!("/api/v1/organisations/{slug}")).send().await.expect(200);
        // A second one gets another.
        let r = app.post("/api/v1/organisations").bearer(&admin.token).json(&body("ä!", None)).send().await.expect(201);
        assert_ne!(r.body["slug"].as_str().unwrap(), slug);
        // A slug the client sends is used as sent, and a bad one is refused naming `slug`.
        let r = app.post("/api/v1/organisations").bearer(&admin.token).json(&body("ä!", Some("earth-hands"))).send().await.expect(201);
        assert_eq!(r.body["slug"], "earth-hands");
        let r = app.post("/api/v1/organisations").bearer(&admin.token).json(&body("ä!", Some("Earth Hands"))).send().await.expect(400);
        assert_eq!(r.body["errors"][0]["field"], "slug");
    }
}

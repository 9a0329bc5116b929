//! Languages (issue 28): people read emails and console pages in their own language (English,
//! Spanish, French), with dates and amounts written the way that language writes them; API
//! problems follow Accept-Language; a profile's description exists per language, readers get
//! theirs and search finds every language. (That a missing translation fails a test is held by
//! the unit tests of `idpc_hub::i18n::check`.)

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::common::console::Browser;
use crate::common::{PASSWORD, TestApp, TestUser};
use crate::grants::{active, world};
use crate::on_both;

async fn set_language(app: &TestApp, user: &TestUser, code: &str) {
    let r = app
        .patch("/api/v1/me")
        .bearer(&user.token)
        .json(&json!({"language": code}))
        .send()
        .await
        .expect(200);
    assert_eq!(r.body["language"], code);
}

async fn version(app: &TestApp, admin: &TestUser, org: &str) -> i64 {
    app.get(&format!("/api/v1/organisations/{org}"))
        .bearer(&admin.token)
        .send()
        .await
        .expect(200)
        .body["version"]
        .as_i64()
        .unwrap()
}

async fn patch_org(app: &TestApp, admin: &TestUser, org: &str, body: Value) -> Value {
    let v = version(app, admin, org).await;
    app.patch(&format!("/api/v1/organisations/{org}"))
        .bearer(&admin.token)
        .header("if-match", &format!("\"{v}\""))
        .json(&body)
        .send()
        .await
        .expect(200)
        .body
}

on_both! {
    async fn a_spanish_member_reads_the_tranche_paid_report_due_and_renewal_emails_in_spanish_and_english_staff_read_english(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let admin2 = app.user("admin", None).await;
        set_language(&app, &w.member, "es").await;
        let grant = active(&app, &w, "90000.00").await;

        // Tranche paid: the Spanish member reads Spanish, amount and date the Spanish way.
        let d = app.post(&format!("/api/v1/grants/{grant}/disbursements")).bearer(&w.member.token)
            .json(&json!({"amount": "60000.00", "planned_date": "2026-07-01", "note": "Primer tramo"}))
            .send().await.expect(201).body["id"].as_str().unwrap().to_string();
        for officer in [&w.officer, &w.officer2] {
            app.post(&format!("/api/v1/disbursements/{d}/approve")).bearer(&officer.token).send().await.expect(200);
        }
        app.emails().await;
        let account = app.grant_payee(&w.finance.token, &grant).await;
        app.post(&format!("/api/v1/disbursements/{d}/pay")).bearer(&w.finance.token)
            .json(&json!({"payment_reference": "BACS-2026-0193", "paid_on": "2026-07-02", "bank_account_id": account})).send().await.expect(200);
        let paid = app.emails().await;
        let to_member = paid.iter().find(|m| m.recipient() == w.member.email).expect("the member is told");
        assert!(to_member.subject().starts_with("[IDPC] Tramo de 60.000,00\u{a0}USD pagado en la subvención"), "{}", to_member.subject());
        let text = to_member.text();
        assert!(text.starts_with("Estimada/o Test member:"), "{text}");
        assert!(text.contains("ha registrado el pago de un tramo de 60.000,00\u{a0}USD"), "{text}");
        assert!(text.contains("pagado el 2 de julio de 2026, referencia BACS-2026-0193"), "{text}");
        assert!(text.contains("Ver el tramo:"), "{text}");
        let html = to_member.html();
        assert!(html.contains("<html lang=\"es\">") && html.contains("Qué hacer ahora"), "{html}");

        // Report due: Spanish, with the plural of the days and the date written out.
        let due = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
        app.post(&format!("/api/v1/grants/{grant}/reports")).bearer(&w.officer.token)
            .json(&json!({"kind": "narrative", "due_on": due.to_string(), "title": "Informe anual"}))
            .send().await.expect(201);
        app.emails().await;
        idpc_hub::grants::jobs::run(&app.state, NaiveDate::from_ymd_opt(2026, 9, 16).unwrap()).await.unwrap();
        let due_mail = app.emails().await;
        let to_member = due_mail.iter().find(|m| m.recipient() == w.member.email).expect("the member is reminded");
        assert_eq!(to_member.subject(), "[IDPC] El informe «Informe anual» vence en 14 días");
        assert!(to_member.text().contains("vence el 30 de septiembre de 2026, dentro de 14 días."), "{}", to_member.text());
        assert!(to_member.text().contains("Plazo: 30 de septiembre de 2026."), "{}", to_member.text());

        // Renewal: the reminder and the renewal in Spanish; the other admin reads English.
        patch_org(&app, &w.admin, &w.grantee, json!({"membership": {"period_start": "2030-04-01", "period_end": "2031-03-31"}})).await;
        app.emails().await;
        idpc_hub::jobs::run_daily(&app.state, NaiveDate::from_ymd_opt(2031, 3, 1).unwrap()).await.unwrap();
        let reminder = app.emails().await;
        let to_member = reminder.iter().find(|m| m.recipient() == w.member.email).expect("the member is reminded to renew");
        assert_eq!(to_member.subject(), "Su membresía en IDPC termina dentro de 30 días");
        assert!(to_member.text().contains("termina el 31 de marzo de 2031"), "{}", to_member.text());
        app.post(&format!("/api/v1/organisations/{}/membership", w.grantee)).bearer(&w.admin.token)
            .json(&json!({"action": "renew"})).send().await.expect(200);
        let renewed = app.emails().await;
        let to_member = renewed.iter().find(|m| m.recipient() == w.member.email).expect("the member is told");
        assert_eq!(to_member.subject(), "[IDPC] Se ha renovado la membresía de Harm Reduction Kenya");
        assert!(to_member.text().contains("Qué hacer ahora: nada. El nuevo periodo dura hasta el 31 de marzo de 2032"), "{}", to_member.text());
        let to_admin = renewed.iter().find(|m| m.recipient() == admin2.email).expect("the other admin is told");
        assert_eq!(to_admin.subject(), "[IDPC] The membership of Harm Reduction Kenya is renewed");
        assert!(to_admin.text().starts_with("Dear Test admin,"), "{}", to_admin.text());
        assert!(to_admin.text().contains("The new period runs until 31 March 2032"), "{}", to_admin.text());
    }
}

on_both! {
    async fn the_console_follows_the_users_language_else_the_browsers(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        set_language(&app, &w.member, "es").await;

        let mut member = Browser::new(&app);
        member.sign_in(&w.member.email, PASSWORD).await;
        let page = member.open("/grants").await;
        assert_eq!(page.status, 200);
        assert!(page.text.contains("<html lang=\"es\">"), "{}", page.text);
        assert_eq!(page.header("content-language").as_deref(), Some("es"));
        assert!(page.text.contains("Las subvenciones de su organización") && page.text.contains(">Subvenciones<"), "{}", page.text);
        assert!(page.text.contains("Cerrar sesión") && page.text.contains("Sesión iniciada como Test member"), "{}", page.text);
        let membership = member.open(&format!("/organisations/{}/membership", w.grantee)).await;
        assert!(membership.text.contains("Membresía de Harm Reduction Kenya") && membership.text.contains("Pedir la renovación"), "{}", membership.text);

        // She switches to French on her account page: the next pages are French.
        let account = member.open("/account").await;
        assert!(account.text.contains("Su cuenta") && account.text.contains("Français"), "{}", account.text);
        let saved = member.submit("/account", &[("language", "fr")]).await;
        assert!(saved.text.contains("Votre langue est enregistrée.") && saved.text.contains("<html lang=\"fr\">"), "{}", saved.text);
        let me = app.get("/api/v1/me").bearer(&w.member.token).send().await.expect(200);
        assert_eq!(me.body["language"], "fr");

        // An English officer on the same grant reads English.
        let mut officer = Browser::new(&app);
        officer.sign_in(&w.officer.email, PASSWORD).await;
        let page = officer.open("/grants").await;
        assert!(page.text.contains("<html lang=\"en\">") && page.text.contains("Sign out"), "{}", page.text);
    }
}

on_both! {
    async fn a_french_validation_error_keeps_its_type_and_codes_and_says_content_language(backend) {
        let app = TestApp::start(backend).await;
        let user = app.user("grant_officer", None).await;
        let english = app.patch("/api/v1/me").bearer(&user.token).json(&json!({"language": "de"})).send().await.expect_problem(400);
        let french = app.patch("/api/v1/me").bearer(&user.token).header("accept-language", "fr-CH, fr;q=0.9, en;q=0.5")
            .json(&json!({"language": "de"})).send().await.expect_problem(400);
        assert_eq!(english.body["title"], "Invalid request");
        assert_eq!(french.body["title"], "Requête invalide");
        assert_eq!(french.body["type"], english.body["type"]);
        assert_eq!(french.body["type"], "urn:idpc-hub:problem:validation");
        assert_eq!(french.body["errors"][0]["field"], "language");
        assert_eq!(french.body["errors"][0]["code"], english.body["errors"][0]["code"]);
        assert_eq!(french.body["errors"][0]["message"], "Ce code ne fait pas partie des codes autorisés.");
        assert_eq!(french.header("content-language").as_deref(), Some("fr"));
        assert_eq!(english.header("content-language").as_deref(), Some("en"));
        // A body the JSON reader refuses is French too; nothing changed.
        let unknown = app.patch("/api/v1/me").bearer(&user.token).header("accept-language", "fr")
            .json(&json!({"nickname": "x"})).send().await.expect_problem(400);
        assert_eq!(unknown.body["title"], "Requête invalide");
        assert_eq!(unknown.body["errors"][0]["code"], "unknown_field");
        assert_eq!(unknown.body["errors"][0]["message"], "Ce champ ne fait pas partie de la requête ; retirez-le.");
        let me = app.get("/api/v1/me").bearer(&user.token).send().await.expect(200);
        assert_eq!(me.body["language"], "en");
        // A 404 in Spanish, same type.
        let missing = app.get("/api/v1/organisations/no-such-org").header("accept-language", "es").send().await.expect_problem(404);
        assert_eq!(missing.body["title"], "No encontrado");
        assert_eq!(missing.body["type"], "urn:idpc-hub:problem:not-found");
    }
}

on_both! {
    async fn a_profile_in_english_and_french_answers_each_reader_in_theirs_and_is_found_by_french_words(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Réseau Ivoirien").await;
        patch_org(&app, &admin, &org, json!({"profile": {
            "languages": ["en", "fr"],
            "description": {"en": "We reduce harm in Abidjan.", "fr": "Nous réduisons les risques à Abidjan, avec les pairs éducateurs."},
        }})).await;
        let path = format!("/api/v1/organisations/{org}");
        let fr = app.get(&path).header("accept-language", "fr-FR, en;q=0.5").send().await.expect(200);
        assert_eq!(fr.body["profile"]["description"], "Nous réduisons les risques à Abidjan, avec les pairs éducateurs.");
        assert_eq!(fr.body["profile"]["description_language"], "fr");
        assert!(fr.header("vary").unwrap_or_default().contains("Accept-Language"));
        let en = app.get(&path).send().await.expect(200);
        assert_eq!(en.body["profile"]["description"], "We reduce harm in Abidjan.");
        assert_eq!(en.body["profile"]["description_language"], "en");
        assert_eq!(en.body["profile"]["descriptions"]["fr"], fr.body["profile"]["description"]);
        // A language the profile lacks: the organisation's first language, and it says so.
        let es = app.get(&path).header("accept-language", "es").send().await.expect(200);
        assert_eq!(es.body["profile"]["description_language"], "en");

        // Search finds it by a French word, accents folded, and lists it in French.
        for q in ["réduisons", "educateurs"] {
            let found = app.get(&format!("/api/v1/organisations?q={}", urlencode(q))).header("accept-language", "fr").send().await.expect(200);
            let ids: Vec<&str> = found.body["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
            assert_eq!(ids, vec![org.as_str()], "{q}");
            assert_eq!(found.body["data"][0]["profile"]["description_language"], "fr");
        }

        // A plain string is still accepted: the organisation's first language's text.
        let after = patch_org(&app, &admin, &org, json!({"profile": {"description": "We reduce harm with peers."}})).await;
        assert_eq!(after["profile"]["descriptions"], json!({"en": "We reduce harm with peers.", "fr": "Nous réduisons les risques à Abidjan, avec les pairs éducateurs."}));
        // One language removed with null, others kept (merge patch); a bad key names the field.
        let after = patch_org(&app, &admin, &org, json!({"profile": {"description": {"fr": null}}})).await;
        assert_eq!(after["profile"]["descriptions"], json!({"en": "We reduce harm with peers."}));
        let v = version(&app, &admin, &org).await;
        let bad = app.patch(&path).bearer(&admin.token).header("if-match", &format!("\"{v}\""))
            .json(&json!({"profile": {"description": {"xx": "?"}}})).send().await.expect_problem(400);
        assert_eq!(bad.body["errors"][0]["field"], "profile.description.xx");
        assert_eq!(version(&app, &admin, &org).await, v, "a refused PATCH changes nothing");
    }
}

on_both! {
    async fn an_invited_member_reads_the_organisations_first_spoken_language_unless_one_is_chosen(backend) {
        let app = TestApp::start(backend).await;
        let admin = app.admin().await;
        let org = app.member_org("Red Andina").await;
        patch_org(&app, &admin, &org, json!({"profile": {"languages": ["qu", "es", "en"]}})).await;
        let invited = app.post("/api/v1/users").bearer(&admin.token)
            .json(&json!({"email": "ana@red-andina.example", "display_name": "Ana", "role": "member", "organisation_id": org}))
            .send().await.expect(201);
        assert_eq!(invited.body["language"], "es", "Quechua is not spoken by the service; Spanish is");
        let chosen = app.post("/api/v1/users").bearer(&admin.token)
            .json(&json!({"email": "luis@red-andina.example", "display_name": "Luis", "role": "member", "organisation_id": org, "language": "fr"}))
            .send().await.expect(201);
        assert_eq!(chosen.body["language"], "fr");
        let staff = app.post("/api/v1/users").bearer(&admin.token)
            .json(&json!({"email": "new@staff.example", "display_name": "New", "role": "grant_officer"}))
            .send().await.expect(201);
        assert_eq!(staff.body["language"], "en");
    }
}

fn urlencode(s: &str) -> String {
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

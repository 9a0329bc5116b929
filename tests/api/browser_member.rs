//! The secretariat's and members' day in a real browser (headless Chromium over WebDriver,
//! every page audited with axe-core and at phone width): an admin decides renewals from the
//! "Decide on the renewal" email; a member edits its profile and, when someone saved first,
//! sees what they changed beside what it typed; a member invites a colleague who signs in.

use serde_json::json;

use crate::browser::{
    audit, browser_or_refuse, click, fill, open_browser, sign_in, sign_out, start_driver, visit,
    wait_text,
};
use crate::browser_officer::{choose, serve};
use crate::common::PASSWORD;
use crate::grants::world;
use crate::on_both;

fn kind(m: &crate::common::mail::Received) -> String {
    m.header("X-IDPC-Kind").unwrap_or_default()
}

on_both! {
    async fn an_admin_declines_then_renews_a_membership_from_the_decide_on_the_renewal_email(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let (app, base, server) = serve(backend).await;
        let w = world(&app).await;
        app.emails().await;
        let driver = start_driver(&driver);
        let c = open_browser(&chromium, &driver).await;
        let page = format!("/organisations/{}/membership", w.grantee);

        // The member asks for renewal from its membership page.
        visit(&c, &format!("{base}/")).await;
        sign_in(&c, &w.member.email).await;
        click(&c, &format!("a[href='{page}']")).await;
        wait_text(&c, "h1", "Membership of").await;
        audit(&c).await;
        click(&c, &format!("form[action='{page}/renewal-request'] button")).await;
        wait_text(&c, ".notice", "Renewal requested").await;
        wait_text(&c, "#open-request", "waits for the secretariat").await;
        audit(&c).await;
        sign_out(&c).await;

        // The admin follows "Decide on the renewal" and declines it, saying why.
        let mails = app.emails().await;
        let ask = mails.iter().find(|m| m.recipient() == w.admin.email && kind(m) == "membership_renewal_requested")
            .expect("the admin is asked to decide");
        assert!(ask.text().contains("Decide on the renewal"), "{}", ask.text());
        c.goto(&ask.link(&format!("{base}{page}")).expect("its link opens the membership")).await.unwrap();
        sign_in(&c, &w.admin.email).await;
        wait_text(&c, "#open-request", "asked on").await;
        audit(&c).await;
        fill(&c, "#decline-reason", "The 2026 dues are still unpaid.").await;
        click(&c, &format!("form[action='{page}/decline'] button")).await;
        wait_text(&c, ".notice", "The renewal is declined").await;
        audit(&c).await;
        sign_out(&c).await;
        let mails = app.emails().await;
        let told = mails.iter().find(|m| m.recipient() == w.member.email && kind(m) == "membership_renewal_declined")
            .expect("the member is told the renewal was declined");
        assert!(told.text().contains("The 2026 dues are still unpaid."), "{}", told.text());

        // The member asks again; the admin finds it in the list of renewal requests and renews.
        visit(&c, &format!("{base}{page}")).await;
        sign_in(&c, &w.member.email).await;
        click(&c, &format!("form[action='{page}/renewal-request'] button")).await;
        wait_text(&c, ".notice", "Renewal requested").await;
        sign_out(&c).await;
        app.emails().await;
        visit(&c, &format!("{base}/")).await;
        sign_in(&c, &w.admin.email).await;
        click(&c, "a[href='/admin/renewal-requests']").await;
        wait_text(&c, "h1", "Renewal requests").await;
        audit(&c).await;
        click(&c, &format!("main a[href='{page}']")).await;
        wait_text(&c, "#open-request", "asked on").await;
        let before = c.find(fantoccini::Locator::Css("#period")).await.unwrap().text().await.unwrap();
        click(&c, &format!("form[action='{page}/renew'] button")).await;
        wait_text(&c, ".notice", "The membership is renewed").await;
        audit(&c).await;
        let after = c.find(fantoccini::Locator::Css("#period")).await.unwrap().text().await.unwrap();
        assert_ne!(before, after, "the period is extended");
        click(&c, "a[href='/admin/renewal-requests']").await;
        wait_text(&c, "main p", "No renewal request waits").await;
        audit(&c).await;
        c.close().await.unwrap();
        drop(driver);

        let mails = app.emails().await;
        assert!(mails.iter().any(|m| m.recipient() == w.member.email && kind(m) == "membership_renewed"),
            "the member is told of the renewal");
        let open = app.get("/api/v1/membership/renewal-requests?status=open").bearer(&w.admin.token).send().await.expect(200).body;
        assert_eq!(open["total"], 0);
        let all = app.get("/api/v1/membership/renewal-requests").bearer(&w.admin.token).send().await.expect(200).body;
        assert_eq!(all["total"], 2);
        let declined = all["data"].as_array().unwrap().iter().find(|r| !r["decline_reason"].is_null()).unwrap();
        assert_eq!(declined["decline_reason"], "The 2026 dues are still unpaid.");
        let id = declined["id"].as_str().unwrap().to_string();
        let actions: Vec<String> = app
            .db(move |c| {
                use diesel::prelude::*;
                use idpc_hub::db::schema::audit_events as a;
                a::table.filter(a::entity_id.eq(&id)).select(a::action).load(c).unwrap()
            })
            .await;
        assert!(actions.iter().any(|a| a.ends_with("declined")), "the decision is audited: {actions:?}");
        server.stop(true).await;
    }
}

on_both! {
    async fn a_member_edits_its_profile_and_sees_what_someone_saved_first(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let (app, base, server) = serve(backend).await;
        let w = world(&app).await;
        let driver = start_driver(&driver);
        let c = open_browser(&chromium, &driver).await;
        let page = format!("/organisations/{}/profile", w.grantee);

        visit(&c, &format!("{base}/")).await;
        sign_in(&c, &w.member.email).await;
        click(&c, &format!("a[href='{page}']")).await;
        wait_text(&c, "h1", "Profile of Harm Reduction Kenya").await;
        audit(&c).await;
        fill(&c, "#profile-city", "Nairobi").await;
        fill(&c, "#profile-contact_name", "Amina Wanjiru").await;
        choose(&c, "#profile-visibility_contact", "secretariat").await;

        // Meanwhile, the secretariat saves the profile.
        let api = format!("/api/v1/organisations/{}", w.grantee);
        let tag = app.get(&api).bearer(&w.admin.token).send().await.expect(200).header("etag").unwrap();
        app.patch(&api).bearer(&w.admin.token).header("if-match", &tag)
            .json(&json!({"profile": {"city": "Mombasa", "description": "Harm reduction on the coast."}}))
            .send().await.expect(200);

        // The member's save comes second: what changed is shown, and what it typed is kept.
        click(&c, &format!("form[action='{page}'] button[type=submit]")).await;
        wait_text(&c, "#clashes", "Mombasa").await;
        wait_text(&c, "#clashes", "Nairobi").await;
        wait_text(&c, "#clashes", "Harm reduction on the coast.").await;
        wait_text(&c, "form .alert", "Someone saved this profile after you opened it").await;
        audit(&c).await;
        let kept = c.find(fantoccini::Locator::Css("#profile-city")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("Nairobi"));
        let kept = c.find(fantoccini::Locator::Css("#profile-contact_name")).await.unwrap().prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("Amina Wanjiru"));

        // A bad website is refused at its field; then the save goes through.
        fill(&c, "#profile-website", "not a web address").await;
        click(&c, &format!("form[action='{page}'] button[type=submit]")).await;
        wait_text(&c, "#profile-website-error", "Error").await;
        audit(&c).await;
        fill(&c, "#profile-website", "https://hrk.example.org").await;
        click(&c, &format!("form[action='{page}'] button[type=submit]")).await;
        wait_text(&c, ".notice", "The profile is saved.").await;
        audit(&c).await;
        c.close().await.unwrap();
        drop(driver);

        let o = app.get(&api).bearer(&w.admin.token).send().await.expect(200).body;
        assert_eq!(o["profile"]["city"], "Nairobi", "{o}");
        assert_eq!(o["profile"]["website"], "https://hrk.example.org", "{o}");
        assert_eq!(o["profile"]["description"], "Harm reduction on the coast.", "the other save is kept: {o}");
        assert_eq!(o["contact"]["name"], "Amina Wanjiru", "{o}");
        assert_eq!(o["visibility"]["contact"], "secretariat", "{o}");
        server.stop(true).await;
    }
}

on_both! {
    async fn a_member_invites_a_colleague_who_signs_in_and_hands_over_the_primary_contact(backend) {
        let Some((chromium, driver)) = browser_or_refuse() else { return };
        let (app, base, server) = serve(backend).await;
        let w = world(&app).await;
        app.req(actix_web::http::Method::PUT, &format!("/api/v1/organisations/{}/primary-contact", w.grantee))
            .bearer(&w.admin.token).json(&json!({"user_id": w.member.id})).send().await.expect(200);
        app.emails().await;
        let driver = start_driver(&driver);
        let c = open_browser(&chromium, &driver).await;
        let page = format!("/organisations/{}/colleagues", w.grantee);

        // The primary contact invites a colleague.
        visit(&c, &format!("{base}/")).await;
        sign_in(&c, &w.member.email).await;
        click(&c, &format!("a[href='{page}']")).await;
        wait_text(&c, "h1", "Colleagues").await;
        audit(&c).await;
        fill(&c, "#invite-email", "not-an-email").await;
        fill(&c, "#invite-display_name", "Joseph").await;
        click(&c, &format!("form[action='{page}/invite'] button")).await;
        wait_text(&c, "#invite-email-error", "Error").await;
        audit(&c).await;
        fill(&c, "#invite-email", "joseph@hrk.example").await;
        click(&c, &format!("form[action='{page}/invite'] button")).await;
        wait_text(&c, ".notice", "The invitation is sent.").await;
        wait_text(&c, "#colleagues", "joseph@hrk.example").await;
        audit(&c).await;
        sign_out(&c).await;

        // The colleague follows the emailed link, sets a password and lands signed in.
        let mails = app.emails().await;
        let link = mails.iter().find(|m| m.recipient() == "joseph@hrk.example")
            .and_then(|m| m.link(&format!("{base}/accept-invitation")))
            .expect("the colleague is invited with a link");
        visit(&c, &link).await;
        fill(&c, "#accept-display_name", "Joseph Otieno").await;
        fill(&c, "#accept-password", PASSWORD).await;
        click(&c, "form[action='/accept-invitation'] button[type=submit]").await;
        wait_text(&c, "header .who", "Joseph Otieno").await;
        audit(&c).await;
        // Not the primary contact: the list, without the forms.
        click(&c, &format!("a[href='{page}']")).await;
        wait_text(&c, "#colleagues", "Joseph Otieno").await;
        wait_text(&c, "main", "Only your organisation's primary contact invites").await;
        assert!(c.find(fantoccini::Locator::Css("#invite-email")).await.is_err());
        audit(&c).await;
        sign_out(&c).await;

        // The primary contact hands the role over to the colleague.
        visit(&c, &format!("{base}{page}")).await;
        sign_in(&c, &w.member.email).await;
        let joseph = app.get("/api/v1/users?limit=100").bearer(&w.admin.token).send().await.expect(200).body["data"]
            .as_array().unwrap().iter().find(|u| u["email"] == "joseph@hrk.example").unwrap()["id"].as_str().unwrap().to_string();
        choose(&c, "#hand_over-user_id", &joseph).await;
        click(&c, &format!("form[action='{page}/primary-contact'] button")).await;
        wait_text(&c, ".notice", "The primary contact is handed over.").await;
        wait_text(&c, "main", "Only your organisation's primary contact invites").await;
        audit(&c).await;
        c.close().await.unwrap();
        drop(driver);

        let r = app.post("/api/v1/users").bearer(&w.member.token)
            .json(&json!({"email": "late@hrk.example", "display_name": "Late", "role": "member"}))
            .send().await;
        assert_eq!(r.status, 403, "the former contact may invite no more: {}", r.text);
        server.stop(true).await;
    }
}

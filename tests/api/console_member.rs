//! The members' and the secretariat's console pages (issue 26), beyond the browser walks: who
//! may open a profile or colleagues page, what a page offers to whom, and a refused form that
//! changes nothing.

use serde_json::json;

use crate::common::console::Browser;
use crate::common::{PASSWORD, TestApp};
use crate::grants::world;
use crate::on_both;

/// How a page names the form posting to `path` (the template escapes its slashes).
fn action(path: &str) -> String {
    format!("action=\"{}\"", path.replace('/', "&#x2f;"))
}

on_both! {
    async fn another_organisations_member_finds_no_profile_or_colleagues_page(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let other = app.member_org("Elsewhere").await;
        let outsider = app.user("member", Some(&other)).await;
        let mut b = Browser::new(&app);
        b.sign_in(&outsider.email, PASSWORD).await;
        for page in ["profile", "colleagues"] {
            let r = b.open(&format!("/organisations/{}/{page}", w.grantee)).await;
            assert_eq!(r.status, 404, "{page}: {}", r.text);
        }
        let r = b.submit(&format!("/organisations/{}/profile", w.grantee), &[("version", "1"), ("city", "Elsewhere")]).await;
        assert_eq!(r.status, 404, "{}", r.text);
        let o = app.get(&format!("/api/v1/organisations/{}", w.grantee)).bearer(&w.admin.token).send().await.expect(200).body;
        assert!(o["profile"]["city"].is_null(), "{o}");
    }
}

on_both! {
    async fn a_member_who_is_not_the_primary_contact_sees_colleagues_without_the_forms_and_cannot_invite(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let page = format!("/organisations/{}/colleagues", w.grantee);
        let mut b = Browser::new(&app);
        b.sign_in(&w.member.email, PASSWORD).await;
        let r = b.open(&page).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.text.contains(&w.member.email), "the list shows the colleagues");
        assert!(!r.text.contains(&action(&format!("{page}/invite"))), "no invite form");
        assert!(r.text.contains("Only your organisation&#x27;s primary contact") || r.text.contains("Only your organisation's primary contact"), "{}", r.text);
        let r = b.submit(&format!("{page}/invite"), &[("email", "x@hrk.example"), ("display_name", "X")]).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let users = app.get("/api/v1/users?limit=100").bearer(&w.admin.token).send().await.expect(200).body;
        assert!(users["data"].as_array().unwrap().iter().all(|u| u["email"] != "x@hrk.example"));
    }
}

on_both! {
    async fn a_decline_without_a_reason_is_refused_at_its_field_and_the_request_stays_open(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        app.post(&format!("/api/v1/organisations/{}/membership/renewal-requests", w.grantee))
            .bearer(&w.member.token).send().await.expect(202);
        let page = format!("/organisations/{}/membership", w.grantee);
        let mut admin = Browser::new(&app);
        admin.sign_in(&w.admin.email, PASSWORD).await;
        let r = admin.open(&page).await;
        assert!(r.text.contains(&action(&format!("{page}/renew"))), "{}", r.text);
        assert!(r.text.contains(&action(&format!("{page}/decline"))));
        let r = admin.submit(&format!("{page}/decline"), &[("reason", "   ")]).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("id=\"decline-reason-error\""), "{}", r.text);
        let open = app.get("/api/v1/membership/renewal-requests?status=open").bearer(&w.admin.token).send().await.expect(200).body;
        assert_eq!(open["total"], 1);
        // The member sees its request waiting, and no second "Ask for renewal".
        let mut member = Browser::new(&app);
        member.sign_in(&w.member.email, PASSWORD).await;
        let r = member.open(&page).await;
        assert!(r.text.contains("waits for the secretariat"), "{}", r.text);
        assert!(!r.text.contains(&action(&format!("{page}/renewal-request"))));
        // Members may not decide.
        let r = member.submit(&format!("{page}/renew"), &[]).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = member.open("/admin/renewal-requests").await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
}

on_both! {
    async fn a_declined_renewal_over_the_api_needs_a_reason_and_happens_once(backend) {
        let app = TestApp::start(backend).await;
        let w = world(&app).await;
        let asked = app.post(&format!("/api/v1/organisations/{}/membership/renewal-requests", w.grantee))
            .bearer(&w.member.token).send().await.expect(202).body;
        let path = format!("/api/v1/membership/renewal-requests/{}/decline", asked["id"].as_str().unwrap());
        let r = app.post(&path).bearer(&w.admin.token).json(&json!({"reason": ""})).send().await.expect_problem(400);
        assert_eq!(r.first_error_field(), "reason");
        let r = app.post(&path).bearer(&w.admin.token).json(&json!({"reason": "Dues unpaid"})).send().await.expect(200);
        assert_eq!(r.body["status"], "closed");
        assert_eq!(r.body["decline_reason"], "Dues unpaid");
        app.post(&path).bearer(&w.admin.token).json(&json!({"reason": "Again"})).send().await.expect_problem(409);
        // The membership is as it was, and the member may ask again.
        app.post(&format!("/api/v1/organisations/{}/membership/renewal-requests", w.grantee))
            .bearer(&w.member.token).send().await.expect(202);
    }
}

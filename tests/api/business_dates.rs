//! A grant's business dates (activated, closed) are columns written by the command that moves
//! it: the exports read them there, never from audit action names, and the migration that
//! added them filled them in from the audit trail.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use idpc_hub::db::DbConn;
use idpc_hub::db::schema::{audit_events, grants};

use crate::common::TestApp;
use crate::on_both;

type Dates = (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>);

async fn dates(app: &TestApp, g: &str) -> Dates {
    let g = g.to_string();
    app.db(move |c| {
        grants::table
            .find(&g)
            .select((grants::activated_at, grants::closed_at))
            .first(c)
            .unwrap()
    })
    .await
}

/// The first time the audit trail recorded `action` on grant `g`.
async fn audited(app: &TestApp, g: &str, action: &'static str) -> chrono::NaiveDateTime {
    let g = g.to_string();
    app.db(move |c| {
        audit_events::table
            .filter(audit_events::entity_id.eq(&g))
            .filter(audit_events::action.eq(action))
            .select(diesel::dsl::min(audit_events::occurred_at))
            .first::<Option<chrono::NaiveDateTime>>(c)
            .unwrap()
            .unwrap()
    })
    .await
}

on_both! {
    async fn a_grants_business_dates_are_columns_backfilled_from_the_audit_trail_and_read_by_the_exports(backend) {
        let app = TestApp::start(backend).await;
        let w = crate::grants::world(&app).await;
        let g = crate::grants::active(&app, &w, "900.00").await;
        let (activated, closed) = dates(&app, &g).await;
        assert!(activated.is_some() && closed.is_none(), "activation writes activated_at");
        app.post(&format!("/api/v1/grants/{g}/close")).bearer(&w.officer.token).send().await.expect(200);
        let (activated_again, closed) = dates(&app, &g).await;
        assert_eq!(activated_again, activated);
        assert!(closed.is_some_and(|c| Some(c) >= activated), "closing writes closed_at");

        // The migration, run again on a database whose grants have only the audit trail.
        app.db(|c| {
            let (down, up) = match c {
                DbConn::Sqlite(_) => (
                    include_str!("../../migrations/sqlite/2026-12-07-000300_grant_business_dates/down.sql"),
                    include_str!("../../migrations/sqlite/2026-12-07-000300_grant_business_dates/up.sql"),
                ),
                DbConn::Pg(_) => (
                    include_str!("../../migrations/postgres/2026-12-07-000300_grant_business_dates/down.sql"),
                    include_str!("../../migrations/postgres/2026-12-07-000300_grant_business_dates/up.sql"),
                ),
            };
            c.batch_execute(down).unwrap();
            c.batch_execute(up).unwrap();
        })
        .await;
        let (activated, closed) = dates(&app, &g).await;
        assert_eq!(activated, Some(audited(&app, &g, "grant.active").await), "backfilled from grant.active");
        assert_eq!(closed, Some(audited(&app, &g, "grant.closed").await), "backfilled from grant.closed");

        // The exports read the columns: with other dates there than in the (append-only) audit
        // trail, they show the columns' dates.
        let g2 = g.clone();
        app.db(move |c| {
            let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap().and_hms_opt(9, 0, 0);
            diesel::update(grants::table.find(&g2))
                .set((grants::activated_at.eq(day(4)), grants::closed_at.eq(day(25))))
                .execute(c)
                .unwrap();
        })
        .await;
        let giving = app.get("/api/v1/exports/360giving.json").send().await.expect(200).body.to_string();
        assert!(giving.contains(r#""actualDates":[{"endDate":"2026-03-25","startDate":"2026-03-04"}]"#) || giving.contains(r#""actualDates":[{"startDate":"2026-03-04","endDate":"2026-03-25"}]"#), "{giving}");
        let iati = app.get("/api/v1/exports/iati-activities.xml").send().await.expect(200).text;
        assert!(iati.contains(r#"<activity-date type="2" iso-date="2026-03-04"/>"#), "{iati}");
        assert!(iati.contains(r#"<activity-date type="4" iso-date="2026-03-25"/>"#), "{iati}");
    }
}

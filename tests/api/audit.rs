//! The audit trail cannot be rewritten: the database itself refuses UPDATE and DELETE on it.

use diesel::prelude::*;
use idpc_hub::db::schema::audit_events;

use crate::common::TestApp;
use crate::on_both;

on_both! {
    async fn audit_events_refuse_update_and_delete_on_the_database(backend) {
        let app = TestApp::start(backend).await;
        app.member_org("Harm Reduction Union").await;
        let (count, update, delete, after) = app
            .db(|c| {
                let count: i64 = audit_events::table.count().get_result(c).unwrap();
                let update = diesel::sql_query("UPDATE audit_events SET action = 'forged'").execute(c);
                let delete = diesel::sql_query("DELETE FROM audit_events").execute(c);
                let after: i64 = audit_events::table
                    .filter(audit_events::action.ne("forged"))
                    .count()
                    .get_result(c)
                    .unwrap();
                (count, update, delete, after)
            })
            .await;
        assert!(count > 0, "creating an organisation is audited");
        let update = update.expect_err("UPDATE on audit_events must fail");
        assert!(update.to_string().contains("append-only"), "{update}");
        let delete = delete.expect_err("DELETE on audit_events must fail");
        assert!(delete.to_string().contains("append-only"), "{delete}");
        assert_eq!(after, count, "every event is still there, unchanged");
    }
}

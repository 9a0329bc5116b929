//! Every migration runs up, down and up again on both backends.

use crate::common::TestDb;
use crate::on_both;

on_both! {
    async fn every_migration_runs_up_down_and_up_again(backend) {
        let db = TestDb::create(backend);
        let url = idpc_hub::config::DatabaseUrl::parse(&db.url).unwrap();
        actix_web::web::block(move || {
            let pool = idpc_hub::db::build_pool(&url, 1).unwrap();
            let mut conn = pool.get().unwrap();
            // The test database may come from a migrated template: start from the bottom.
            idpc_hub::db::revert_all_migrations(&mut conn).unwrap();
            assert!(!idpc_hub::db::migrations_current(&mut conn).unwrap());
            let up = idpc_hub::db::run_migrations(&mut conn).unwrap();
            assert!(up >= 2, "ran {up}");
            assert!(idpc_hub::db::migrations_current(&mut conn).unwrap());
            let down = idpc_hub::db::revert_all_migrations(&mut conn).unwrap();
            assert_eq!(down, up);
            assert_eq!(idpc_hub::db::run_migrations(&mut conn).unwrap(), up);
            assert!(idpc_hub::db::migrations_current(&mut conn).unwrap());
        })
        .await
        .unwrap();
        drop(db);
    }
}

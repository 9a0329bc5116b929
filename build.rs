//! Tells the test suite whether a PostgreSQL server was named when it was built, so the
//! PostgreSQL variants of the tests show as "ignored" in the summary instead of passing
//! silently when `TEST_DATABASE_URL` is not set.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(idpc_pg_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        println!("cargo::rustc-cfg=idpc_pg_tests");
    }
}

//! The storage conformance suite on PostgreSQL. Needs a server: set
//! `GARRISON_TEST_POSTGRES_URL` to a URL whose user may create databases
//! (`scripts/test` starts one). Each test gets its own database.

use std::sync::Arc;

use garrison_core::audit::ChainKey;
use garrison_store::conformance::Fixture;

fn admin_url() -> String {
    std::env::var("GARRISON_TEST_POSTGRES_URL").expect(
        "GARRISON_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL",
    )
}

async fn fresh() -> Fixture {
    let url = garrison_store_postgres::create_scratch_database(&admin_url())
        .await
        .expect("scratch database");
    let key = ChainKey::new(b"conformance".to_vec());
    let store = garrison_store_postgres::connect(&url, key.clone(), 4)
        .await
        .expect("connect");
    garrison_store_postgres::migrate(&store)
        .await
        .expect("migrate");
    Fixture {
        store: Arc::new(store),
        key,
        guard: Box::new(()),
    }
}

garrison_store::conformance_suite!(fresh);

#[tokio::test]
async fn concurrent_migrations_apply_once() {
    let url = garrison_store_postgres::create_scratch_database(&admin_url())
        .await
        .expect("scratch database");
    let key = ChainKey::new(vec![1]);
    let a = garrison_store_postgres::connect(&url, key.clone(), 2)
        .await
        .expect("connect");
    let b = garrison_store_postgres::connect(&url, key, 2)
        .await
        .expect("connect");
    let (ra, rb) = tokio::join!(
        garrison_store_postgres::migrate(&a),
        garrison_store_postgres::migrate(&b)
    );
    let (ra, rb) = (ra.expect("a"), rb.expect("b"));
    let n = garrison_store_postgres::MIGRATIONS.len();
    assert_eq!(
        ra.applied.len() + rb.applied.len(),
        n,
        "each migration once: {ra:?} {rb:?}"
    );
    let last = garrison_store_postgres::MIGRATIONS
        .last()
        .map(|m| m.version);
    assert_eq!((Some(ra.current), Some(rb.current)), (last, last));
}

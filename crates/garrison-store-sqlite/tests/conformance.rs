//! The storage conformance suite on SQLite.

use std::sync::Arc;

use garrison_core::audit::ChainKey;
use garrison_store::conformance::Fixture;

async fn fresh() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = ChainKey::new(b"conformance".to_vec());
    let store = garrison_store_sqlite::open(&dir.path().join("garrison.db"), key.clone())
        .await
        .expect("open");
    garrison_store_sqlite::migrate(&store)
        .await
        .expect("migrate");
    Fixture {
        store: Arc::new(store),
        key,
        guard: Box::new(dir),
    }
}

garrison_store::conformance_suite!(fresh);

#[tokio::test]
async fn migrations_are_idempotent_and_pragmas_hold() {
    use sqlx::Row;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("odd name #1?.db");
    let key = ChainKey::new(b"k".to_vec());
    let store = garrison_store_sqlite::open(&path, key.clone())
        .await
        .expect("open");
    let first = garrison_store_sqlite::migrate(&store)
        .await
        .expect("migrate");
    let all: Vec<i64> = garrison_store_sqlite::MIGRATIONS
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(first.applied, all);
    let again = garrison_store_sqlite::migrate(&store)
        .await
        .expect("migrate again");
    assert!(again.applied.is_empty());
    assert_eq!(Some(&again.current), all.last());
    assert!(path.exists(), "the file name is taken literally");

    let row = sqlx::query("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(
        row.try_get::<String, _>(0).expect("text").to_lowercase(),
        "wal"
    );
    let row = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(row.try_get::<i64, _>(0).expect("int"), 1);
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = garrison_store_sqlite::open(&dir.path().join("g.db"), ChainKey::new(vec![1]))
        .await
        .expect("open");
    garrison_store_sqlite::migrate(&store)
        .await
        .expect("migrate");
    sqlx::query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        .execute(store.pool())
        .await
        .expect("edit");
    let err = garrison_store_sqlite::migrate(&store)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("differs"), "{err}");
}

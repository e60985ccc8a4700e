//! Scratch databases are removed even when the test using them panics (before the drop
//! guard, every failed PostgreSQL test left a `doorstep_t_*` database behind).

use doorstep_store::Backend;
use doorstep_store::scratch::ScratchDb;

/// Moves a scratch database into a task that panics, and returns its URL.
async fn panic_holding(backend: Backend) -> String {
    let db = ScratchDb::new(backend).await.unwrap();
    let url = db.url.clone();
    let task = tokio::spawn(async move {
        let _held = db;
        panic!("a failing test");
    });
    assert!(task.await.unwrap_err().is_panic());
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_test_leaves_no_sqlite_file() {
    let url = panic_holding(Backend::Sqlite).await;
    let file = std::path::PathBuf::from(url.trim_start_matches("sqlite://"));
    let dir = file.parent().unwrap();
    assert!(!dir.exists(), "{} is left behind", dir.display());
}

#[cfg(feature = "pg-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_test_leaves_no_postgres_database() {
    let url = panic_holding(Backend::Postgres).await;
    let name = url.rsplit('/').next().unwrap().to_string();
    assert!(name.starts_with("doorstep_t_"), "{name}");
    let admin = sqlx::PgPool::connect(&doorstep_store::scratch::pg_admin_url())
        .await
        .unwrap();
    let left: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&admin)
        .await
        .unwrap();
    admin.close().await;
    assert_eq!(left, None, "database {name} is left behind");
}

//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database that
//! is dropped afterwards.

use crate::{Backend, Store};

/// The server that PostgreSQL tests create their databases on.
pub fn pg_admin_url() -> String {
    std::env::var("DOORSTEP_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A migrated database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

fn unique_name() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("doorstep_t_{}_{n:016x}", std::process::id())
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// An empty database without migrations applied (for tests of `migrate` itself).
    pub async fn unmigrated(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name());
                let path = dir.join("test.sqlite");
                let url = format!("sqlite://{}", path.display());
                let store = Store::connect(&url)
                    .await
                    .expect("open sqlite test database");
                TestDb {
                    store,
                    url,
                    cleanup: Cleanup::File(dir),
                }
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL tests are switched on but {admin_url} is unreachable: {e}")
                });
                let name = unique_name();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                let url = format!("{base}/{name}");
                let store = Store::connect(&url).await.expect("connect test database");
                TestDb {
                    store,
                    url,
                    cleanup: Cleanup::Database { admin_url, name },
                }
            }
        }
    }

    pub async fn sqlite() -> TestDb {
        let db = Self::unmigrated(Backend::Sqlite).await;
        db.store.migrate().await.expect("migrate sqlite");
        db
    }

    pub async fn postgres() -> TestDb {
        let db = Self::unmigrated(Backend::Postgres).await;
        db.store.migrate().await.expect("migrate postgres");
        db
    }

    /// Closes the pool and removes the database.
    pub async fn drop_db(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                if let Ok(admin) = sqlx::PgPool::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            }
        }
    }
}

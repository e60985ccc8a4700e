//! Scratch databases: a migrated database that exists for one test or one benchmark run —
//! a temporary SQLite file, or a new PostgreSQL database on a server — and is removed
//! afterwards, even when the test panics (the drop guard removes it then).

use crate::{Backend, Result, Store, StoreError};

/// The server that PostgreSQL scratch databases are made on: `DOORSTEP_TEST_PG_URL`, else
/// the local server.
pub fn pg_admin_url() -> String {
    std::env::var("DOORSTEP_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for one run.
#[derive(Debug)]
pub struct ScratchDb {
    pub store: Store,
    pub url: String,
    cleanup: Option<Cleanup>,
}

#[derive(Debug)]
enum Cleanup {
    File(std::path::PathBuf),
    Database { admin_url: String, name: String },
}

impl Cleanup {
    async fn run(self) {
        match self {
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

fn unique_name() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("doorstep_t_{}_{n:016x}", std::process::id())
}

impl ScratchDb {
    /// A fresh, migrated database.
    pub async fn new(backend: Backend) -> Result<ScratchDb> {
        let db = Self::unmigrated(backend).await?;
        db.store.migrate().await?;
        Ok(db)
    }

    pub async fn sqlite() -> Result<ScratchDb> {
        Self::new(Backend::Sqlite).await
    }

    pub async fn postgres() -> Result<ScratchDb> {
        Self::new(Backend::Postgres).await
    }

    /// An empty database without migrations applied (for tests of `migrate` itself).
    pub async fn unmigrated(backend: Backend) -> Result<ScratchDb> {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(unique_name());
                let url = format!("sqlite://{}", dir.join("test.sqlite").display());
                let store = Store::connect(&url).await?;
                Ok(ScratchDb {
                    store,
                    url,
                    cleanup: Some(Cleanup::File(dir)),
                })
            }
            Backend::Postgres => {
                let admin_url = pg_admin_url();
                let admin = sqlx::PgPool::connect(&admin_url).await.map_err(|e| {
                    StoreError::Unavailable(format!(
                        "PostgreSQL at {admin_url} is unreachable: {e}"
                    ))
                })?;
                let name = unique_name();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(b, _)| b);
                let url = format!("{base}/{name}");
                let cleanup = Cleanup::Database {
                    admin_url: admin_url.clone(),
                    name,
                };
                match Store::connect(&url).await {
                    Ok(store) => Ok(ScratchDb {
                        store,
                        url,
                        cleanup: Some(cleanup),
                    }),
                    Err(e) => {
                        cleanup.run().await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// Closes the pool and removes the database.
    pub async fn drop_db(mut self) {
        self.store.close().await;
        if let Some(c) = self.cleanup.take() {
            c.run().await;
        }
    }

    /// Keeps the database after this value is gone (a benchmark's `--keep`).
    pub fn keep(mut self) -> String {
        self.cleanup = None;
        self.url.clone()
    }
}

impl Drop for ScratchDb {
    /// The guard: a test that panicked never reached `drop_db`, so remove the database
    /// here, on a thread of its own (this may run inside an async runtime, which must not
    /// block on another).
    fn drop(&mut self) {
        let Some(c) = self.cleanup.take() else { return };
        let done = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(c.run());
            }
        });
        let _ = done.join();
    }
}

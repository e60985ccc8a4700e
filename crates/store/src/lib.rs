//! Doorstep's storage: one API over SQLite (the embedded default) and PostgreSQL (scale-out).
//!
//! SQL is written once in portable form (`$1` placeholders, `RETURNING`); the [`with_pool!`]
//! and [`with_tx!`] macros expand a body once per backend so each runs with its native
//! types. Writes run in transactions (`BEGIN IMMEDIATE` on SQLite, so a writer never
//! upgrades a read lock and deadlocks), and the audit entry of a write goes into the same
//! transaction as the write.

mod accounts;
mod audit;
mod error;
mod geo;
mod places;
mod request_views;
mod requests;
mod requests_bulk;
mod schema;
mod sql;
pub mod testing;

pub use accounts::{Account, AccountPatch, ApiToken, LoginAttempts, NewAccount, SessionRecord};
pub use audit::{AuditEntry, AuditFilter, AuditRecord};
pub use error::StoreError;
pub use geo::{BuildingPoint, FacilityRow, NetworkMeta};
pub use places::{ListQuery, Page, PlaceRecord, PlaceTotals, RoomAreas};
pub use request_views::{
    Attachment, DuplicateCandidate, FigureQuery, FigureRow, Figures, MAX_ATTACHMENTS, PublicFilter,
    PublicRequest,
};
pub use requests::{NewAttachment, NewRequest, RequestEvent, RequestFilter, RequestRecord};
pub use requests_bulk::{PastMove, PastRequest};
pub use schema::Column;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Who performs a write, and when: recorded in the audit log with the write.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub subdistrict_id: Option<i64>,
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
    /// Rows written under this context are demo data (invented by `doorstep demo`).
    pub demo: bool,
}

/// Runs `$body` with `$p` bound to the backend's pool.
macro_rules! with_pool {
    ($store:expr, |$p:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs `$body` inside a write transaction bound to `$tx`, and commits it. An early return
/// through `?` drops the transaction, which rolls it back: nothing is half-written.
macro_rules! with_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite(pool) => {
                // One writer at a time in this process: SQLite allows one anyway, and
                // waiting here is fair and prompt where its busy handler sleeps and retries.
                let _writer = $store.writer.lock().await;
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
            $crate::Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                out
            }
        }
    };
}
pub(crate) use with_tx;

/// The store: cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Serialises this process's SQLite write transactions (unused on PostgreSQL).
    pub(crate) writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens a pool on `url`: `sqlite://PATH` (the file and its folder are created) or
    /// `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            Ok(Store {
                pool: Pool::Postgres(pool),
                writer: Default::default(),
            })
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            if path != ":memory:"
                && let Some(dir) = std::path::Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Config(format!("cannot create folder {}: {e}", dir.display()))
                })?;
            }
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Store {
                pool: Pool::Sqlite(pool),
                writer: Default::default(),
            })
        } else {
            Err(StoreError::Config(
                "database URL must start with sqlite: or postgres://".into(),
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations (the same file names exist for both backends).
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Answers whether the database is reachable.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, |p| {
            sqlx::query("SELECT 1").execute(p).await?;
        });
        Ok(())
    }

    /// Refreshes the query planner's statistics after a bulk load (on PostgreSQL also the
    /// visibility map, so covering indexes answer without visiting the table).
    pub async fn analyze(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query("ANALYZE").execute(p).await?;
            }
            Pool::Postgres(p) => {
                sqlx::query("VACUUM ANALYZE").execute(p).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        with_pool!(self, |p| p.close().await)
    }

    /// A value from the small key/value table (e.g. when the demo was loaded).
    pub async fn get_meta(&self, key: &str) -> Result<Option<String>> {
        Ok(with_pool!(self, |p| {
            sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(p)
                .await?
        }))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        with_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }
}

impl Store {
    /// SQLite's journal mode (`wal` in normal operation); `None` on PostgreSQL.
    pub async fn journal_mode(&self) -> Result<Option<String>> {
        match &self.pool {
            Pool::Sqlite(p) => Ok(Some(
                sqlx::query_scalar::<_, String>("PRAGMA journal_mode")
                    .fetch_one(p)
                    .await?,
            )),
            Pool::Postgres(_) => Ok(None),
        }
    }

    /// Tries to rewrite history; the audit log's triggers must refuse. For tests.
    #[doc(hidden)]
    pub async fn tamper_with_audit_log(&self) -> Result<()> {
        with_tx!(self, |tx| {
            sqlx::query("UPDATE audit_log SET action = 'nothing'")
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }
}

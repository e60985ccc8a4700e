//! Doorstep's storage: one API over SQLite (the embedded default) and PostgreSQL
//! (scale-out), speaking domain types only.
//!
//! The API is grouped by aggregate: [`Store::places`], [`Store::accounts`],
//! [`Store::sessions`], [`Store::tokens`], [`Store::audit`], [`Store::requests`],
//! [`Store::attachments`], [`Store::figures`], [`Store::geo`] and [`Store::meta`] each
//! return a handle whose methods are that aggregate's reads and writes.
//!
//! Underneath, every statement is an `Sql` value run on the pool or on a write
//! transaction (see `db`): SQL is written once with `$n` placeholders and runs on both
//! backends with their native types. Writes run in transactions (`BEGIN IMMEDIATE` on
//! SQLite, so a writer never upgrades a read lock and deadlocks), and the audit entry of
//! a write goes into the same transaction as the write. Inside a transaction every read
//! goes through that transaction, never the pool.

mod accounts;
mod audit;
mod backup;
mod bookings;
mod db;
mod error;
mod geo;
mod limits;
mod meta;
mod places;
mod register;
mod requests;
pub mod scratch;
mod sessions;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod tokens;

pub use accounts::{Account, AccountFilter, AccountPatch, AccountStore, NewAccount};
pub use audit::{AuditEntry, AuditFilter, AuditLog, AuditRecord};
pub use backup::{
    BackupInfo, inspect_backup, known_schema_version, replace_with_backup, sqlite_file,
};
pub use bookings::{Booking, BookingStore, NewBooking, RoomPlace};
pub use db::Page;
pub use error::StoreError;
pub use geo::{BuildingPoint, FacilityRow, GeoStore, NetworkMeta};
pub use limits::{Hits, LimitStore};
pub use meta::MetaStore;
pub use places::{ListQuery, PlaceRecord, PlaceStore, PlaceTotals, RoomAreas};
pub use register::{
    BuildingCount, CareOverview, CareTagRecord, Household, HouseholdSummary, NewResident, NewVisit,
    RegisterStore, Resident, ResidentPatch, RosterCounts, RosterRow, Sealed, TagAtHome, TagKind,
    Visit,
};
pub use requests::attachments::{Attachment, AttachmentStore, NewAttachment};
pub use requests::duplicates::DuplicateCandidate;
pub use requests::figures::{FigureQuery, FigureRow, FigureStore, Figures};
pub use requests::load::{PastMove, PastRequest};
pub use requests::phones::StoredPhone;
pub use requests::public::{PublicFilter, PublicRequest};
pub use requests::{
    NewRequest, Queue, RequestEvent, RequestFilter, RequestOrder, RequestRecord, RequestStore,
};
pub use sessions::{LoginAttempts, SessionRecord, SessionStore};
pub use tokens::{ApiToken, TokenStore};

use chrono::{DateTime, Utc};
use doorstep_domain::{AccountId, SubdistrictId};
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
    pub actor_id: Option<AccountId>,
    pub actor_name: String,
    pub subdistrict_id: Option<SubdistrictId>,
    pub ip: Option<String>,
    pub at: DateTime<Utc>,
    /// Rows written under this context are demo data (invented by `doorstep demo`).
    pub demo: bool,
}

impl WriteCtx {
    /// A write by the system itself (a job, the command line, the demo builder).
    pub fn system(name: &str, subdistrict_id: Option<SubdistrictId>, at: DateTime<Utc>) -> Self {
        WriteCtx {
            actor_id: None,
            actor_name: name.to_string(),
            subdistrict_id,
            ip: None,
            at,
            demo: false,
        }
    }
}

/// A connection pool's use (for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: usize,
    pub max: u32,
}

/// The store: cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Serialises this process's SQLite write transactions (unused on PostgreSQL).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Opens a pool on `url`: `sqlite://PATH` (the file and its folder are created) or
    /// `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            Pool::Postgres(pool)
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
            Pool::Sqlite(pool)
        } else {
            return Err(StoreError::Config(
                "database URL must start with sqlite: or postgres://".into(),
            ));
        };
        Ok(Store {
            pool,
            writer: Default::default(),
        })
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

    /// How many migrations remain to be applied (a server started without migrating
    /// refuses a database that is behind).
    pub async fn pending_migrations(&self) -> Result<usize> {
        let migrator = match &self.pool {
            Pool::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Pool::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        let applied: Vec<i64> =
            match db::Sql::new("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .scalars(&mut self.db())
                .await
            {
                Ok(v) => v,
                // No bookkeeping table yet: nothing is applied.
                Err(StoreError::Database(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
        Ok(migrator
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .count())
    }

    /// Answers whether the database is reachable.
    pub async fn ping(&self) -> Result<()> {
        db::Sql::new("SELECT 1").execute(&mut self.db()).await?;
        Ok(())
    }

    /// Refreshes the query planner's statistics after a bulk load (on PostgreSQL also the
    /// visibility map, so covering indexes answer without visiting the table).
    pub async fn analyze(&self) -> Result<()> {
        let sql = match self.backend() {
            Backend::Sqlite => "ANALYZE",
            Backend::Postgres => "VACUUM ANALYZE",
        };
        db::Sql::new(sql).execute(&mut self.db()).await?;
        Ok(())
    }

    /// Rewrites the database so that values it no longer holds (a phone stored in full
    /// before it was sealed) leave its free pages and write-ahead log too: on SQLite
    /// `VACUUM` and a checkpoint that empties the log; false when another connection
    /// still held the log (call again). On PostgreSQL only `VACUUM FULL` rewrites a
    /// table, which locks it: an operator runs it (README), not the server.
    pub async fn compact(&self) -> Result<bool> {
        if self.backend() == Backend::Postgres {
            return Ok(true);
        }
        db::Sql::new("VACUUM").execute(&mut self.db()).await?;
        let busy: i64 = db::Sql::new("PRAGMA wal_checkpoint(TRUNCATE)")
            .scalar(&mut self.db())
            .await?;
        Ok(busy == 0)
    }

    /// The connection pool's use now: open connections, idle ones, and the most it opens.
    pub fn pool_stats(&self) -> PoolStats {
        match &self.pool {
            Pool::Sqlite(p) => PoolStats {
                open: p.size(),
                idle: p.num_idle(),
                max: p.options().get_max_connections(),
            },
            Pool::Postgres(p) => PoolStats {
                open: p.size(),
                idle: p.num_idle(),
                max: p.options().get_max_connections(),
            },
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// The pool, for reads outside a transaction.
    pub(crate) fn db(&self) -> db::PoolExec<'_> {
        db::PoolExec(&self.pool)
    }

    /// Begins a write transaction.
    pub(crate) async fn begin(&self) -> Result<db::Tx> {
        db::Tx::begin(&self.pool, &self.writer).await
    }

    pub fn places(&self) -> PlaceStore<'_> {
        PlaceStore(self)
    }
    pub fn accounts(&self) -> AccountStore<'_> {
        AccountStore(self)
    }
    pub fn sessions(&self) -> SessionStore<'_> {
        SessionStore(self)
    }
    pub fn tokens(&self) -> TokenStore<'_> {
        TokenStore(self)
    }
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog(self)
    }
    pub fn requests(&self) -> RequestStore<'_> {
        RequestStore(self)
    }
    pub fn attachments(&self) -> AttachmentStore<'_> {
        AttachmentStore(self)
    }
    pub fn figures(&self) -> FigureStore<'_> {
        FigureStore(self)
    }
    pub fn geo(&self) -> GeoStore<'_> {
        GeoStore(self)
    }
    pub fn register(&self) -> RegisterStore<'_> {
        RegisterStore(self)
    }

    pub fn bookings(&self) -> BookingStore<'_> {
        BookingStore(self)
    }

    pub fn limits(&self) -> LimitStore<'_> {
        LimitStore(self)
    }

    pub fn meta(&self) -> MetaStore<'_> {
        MetaStore(self)
    }
}

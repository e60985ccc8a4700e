//! Online backups of the embedded (SQLite) database and the checks a backup passes before
//! it replaces anything. PostgreSQL is backed up with its own tools (`pg_dump`, README).
//!
//! A backup is one `VACUUM INTO`: a single read transaction, so writers carry on and the
//! copy holds exactly what was committed when it began, attachments included (they live
//! in the database), compacted and without a write-ahead log.

use crate::db::{PoolExec, Sql};
use crate::{Backend, Pool, Result, Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use std::path::{Path, PathBuf};

/// What a backup file holds, as checked before a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// The newest migration applied in the backup.
    pub schema_version: i64,
    /// The newest migration this program knows.
    pub known_version: i64,
    pub accounts: i64,
    pub requests: i64,
    pub residents: i64,
}

/// The file of a `sqlite:` URL (`None` for PostgreSQL and in-memory databases).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The newest migration version this program carries (the same for both backends).
pub fn known_schema_version() -> i64 {
    sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

fn invalid(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::Config(format!("{} is not a usable backup: {why}", path.display()))
}

impl Store {
    /// Writes a consistent copy of the live database to `dest`, which must not exist: to
    /// a temporary name beside it first, renamed when complete, so a copy cut short
    /// never looks like a backup. SQLite only.
    pub async fn backup_into(&self, dest: &Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Config(
                "PostgreSQL is backed up with pg_dump (see the README's Backups section)".into(),
            ));
        }
        if dest.exists() {
            return Err(StoreError::Config(format!(
                "{} exists already; choose a new file name",
                dest.display()
            )));
        }
        let partial = PathBuf::from(format!("{}.partial", dest.display()));
        if partial.exists() {
            return Err(StoreError::Config(format!(
                "{} exists (a backup cut short?); remove it first",
                partial.display()
            )));
        }
        let target = partial.to_str().ok_or_else(|| {
            StoreError::Config(format!("{} is not a UTF-8 path", partial.display()))
        })?;
        Sql::new("VACUUM INTO $1")
            .bind(target)
            .execute(&mut self.db())
            .await?;
        // People's data: readable by the owner only.
        owner_only(&partial)?;
        // Checked before it takes the name of a backup.
        if let Err(e) = inspect_backup(&partial).await {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, dest).map_err(|e| {
            StoreError::Config(format!("cannot name the backup {}: {e}", dest.display()))
        })?;
        Ok(())
    }
}

/// Makes a file readable and writable by its owner only (on Unix).
fn owner_only(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError::Config(format!("cannot restrict {}: {e}", path.display())))?;
    }
    let _ = path;
    Ok(())
}

/// Opens `path` read-only and checks it is a whole Doorstep database this program can
/// run: SQLite's integrity check passes, every migration in it succeeded, and none is
/// newer than this program's. A database with a write-ahead log beside it is not a
/// backup (a copy of the file alone would lose what the log holds).
pub async fn inspect_backup(path: &Path) -> Result<BackupInfo> {
    if !path.is_file() {
        return Err(invalid(path, "no such file"));
    }
    let log = PathBuf::from(format!("{}-wal", path.display()));
    if log.metadata().is_ok_and(|m| m.len() > 0) {
        return Err(invalid(
            path,
            "a write-ahead log lies beside it; use a file made by `doorstep backup`",
        ));
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| invalid(path, e))?;
    let pool = Pool::Sqlite(pool);
    let info = read_info(&pool, path).await;
    if let Pool::Sqlite(p) = &pool {
        p.close().await;
    }
    info
}

async fn read_info(pool: &Pool, path: &Path) -> Result<BackupInfo> {
    let db = || PoolExec(pool);
    let problems: Vec<String> = Sql::new("PRAGMA integrity_check")
        .scalars(&mut db())
        .await
        .map_err(|e| invalid(path, format!("not a SQLite database ({e})")))?;
    if problems != ["ok"] {
        let first = problems.into_iter().take(3).collect::<Vec<_>>().join("; ");
        return Err(invalid(path, format!("its integrity check fails: {first}")));
    }
    let failed: i64 = Sql::new("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = FALSE")
        .scalar(&mut db())
        .await
        .map_err(|_| invalid(path, "it is not a Doorstep database (no migrations table)"))?;
    if failed > 0 {
        return Err(invalid(path, "a migration in it did not complete"));
    }
    let schema_version: i64 = Sql::new("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations")
        .scalar(&mut db())
        .await?;
    let known_version = known_schema_version();
    if schema_version > known_version {
        return Err(invalid(
            path,
            format!(
                "its schema ({schema_version}) is newer than this program's ({known_version}); restore it with a newer doorstep"
            ),
        ));
    }
    let count = |table: &'static str| async move {
        Sql::new(format!("SELECT COUNT(*) FROM {table}"))
            .scalar::<i64>(&mut PoolExec(pool))
            .await
            .map_err(|e| invalid(path, format!("table {table}: {e}")))
    };
    Ok(BackupInfo {
        schema_version,
        known_version,
        accounts: count("accounts").await?,
        requests: count("requests").await?,
        residents: count("residents").await?,
    })
}

/// Replaces the database file `target` with the backup `source`, after
/// [`inspect_backup`] passed. The current files (with their log) are kept beside it as
/// `TARGET.before-restore-STAMP`; the backup is copied to a temporary name (owned like
/// the database it replaces, readable by its owner only) and renamed into place. The
/// database goes aside first, then its log: a log left behind without its database is
/// ignored by SQLite when the backup arrives (it belongs to another file), while a
/// database moved without its log would lose what the log holds. The caller makes sure
/// no server has the database open. Returns the kept file.
pub fn replace_with_backup(source: &Path, target: &Path, stamp: &str) -> Result<Option<PathBuf>> {
    let io = |what: &str, e: std::io::Error| StoreError::Config(format!("{what}: {e}"));
    let incoming = PathBuf::from(format!("{}.restoring", target.display()));
    std::fs::copy(source, &incoming).map_err(|e| io("copying the backup", e))?;
    owner_only(&incoming)?;
    #[cfg(unix)]
    if let Ok(old) = target.metadata() {
        use std::os::unix::fs::MetadataExt;
        // Run as root for a service's database: the service must still own it.
        let _ = std::os::unix::fs::chown(&incoming, Some(old.uid()), Some(old.gid()));
    }
    std::fs::File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing the copy", e))?;
    let side = |p: &Path, suffix: &str| PathBuf::from(format!("{}{suffix}", p.display()));
    let kept = PathBuf::from(format!("{}.before-restore-{stamp}", target.display()));
    let mut any = false;
    if target.exists() {
        std::fs::rename(target, &kept).map_err(|e| io("setting the old database aside", e))?;
        any = true;
    }
    for suffix in ["-wal", "-shm"] {
        if side(target, suffix).exists() {
            std::fs::rename(side(target, suffix), side(&kept, suffix))
                .map_err(|e| io("setting the old log aside", e))?;
            any = true;
        }
    }
    std::fs::rename(&incoming, target).map_err(|e| io("putting the backup in place", e))?;
    Ok(any.then_some(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://data/doorstep.sqlite?mode=rwc"),
            Some(PathBuf::from("data/doorstep.sqlite"))
        );
        assert_eq!(
            sqlite_file("sqlite:/tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://localhost/x"), None);
    }
}

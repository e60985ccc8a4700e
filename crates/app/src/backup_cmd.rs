//! `doorstep backup FILE` and `doorstep restore FILE` for the embedded SQLite database,
//! and the lock that keeps a restore from pulling the database out from under a running
//! server. PostgreSQL deployments use pg_dump and pg_restore (README, "Backups").

use crate::config::Config;
use crate::startup::open_store;
use anyhow::Context;
use doorstep_store::{BackupInfo, inspect_backup, replace_with_backup, sqlite_file};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// An exclusive hold on a SQLite database file, kept by a running server (and by a
/// restore while it works): released when dropped, or by the system when the process
/// dies.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

fn lock_path(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}.lock", db.display()))
}

/// Takes the lock of the database at `url`: `None` for PostgreSQL and in-memory
/// databases; an error naming the database when someone else holds it.
pub fn lock_database(url: &str) -> anyhow::Result<Option<DatabaseLock>> {
    let Some(db) = sqlite_file(url) else {
        return Ok(None);
    };
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let path = lock_path(&db);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(DatabaseLock { _file: file })),
        Err(TryLockError::WouldBlock) => anyhow::bail!(
            "{} is in use by a running doorstep server (or a restore): stop it first",
            db.display()
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// One line about a backup's contents.
pub fn describe(info: &BackupInfo) -> String {
    format!(
        "schema {} (this program: {}), {} accounts, {} requests, {} residents",
        info.schema_version, info.known_version, info.accounts, info.requests, info.residents
    )
}

/// Writes a consistent copy of the configured (running or stopped) SQLite database to
/// `file`, then checks the copy as a restore would.
pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<BackupInfo> {
    if sqlite_file(&config.database_url).is_none() {
        anyhow::bail!(
            "backup copies the embedded SQLite database; back up PostgreSQL with pg_dump (README, Backups)"
        );
    }
    let store = open_store(config).await?;
    store
        .backup_into(file)
        .await
        .with_context(|| format!("backing up to {}", file.display()))?;
    store.close().await;
    inspect_backup(file)
        .await
        .context("checking the backup just made")
}

/// Replaces the configured SQLite database with the backup `file` after checking it
/// (integrity, schema version); refuses while a server has the database open. Returns
/// what the backup holds, where the replaced database was kept, and the database.
pub async fn restore(
    config: &Config,
    file: &Path,
    stamp: &str,
) -> anyhow::Result<(BackupInfo, Option<PathBuf>, PathBuf)> {
    let Some(target) = sqlite_file(&config.database_url) else {
        anyhow::bail!(
            "restore replaces the embedded SQLite database; restore PostgreSQL with pg_restore (README, Backups)"
        );
    };
    let info = inspect_backup(file).await?;
    if std::fs::canonicalize(file).ok() == std::fs::canonicalize(&target).ok() {
        anyhow::bail!("{} is the database itself", file.display());
    }
    let _lock = lock_database(&config.database_url)?;
    let kept = replace_with_backup(file, &target, stamp)?;
    Ok((info, kept, target))
}

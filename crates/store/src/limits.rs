//! What several app servers on one database must share: attempts counted against a
//! limit (per client address or per API key, in a sliding window), and the claims of
//! background jobs' runs.

use crate::db::Sql;
use crate::{Backend, Result, Store};
use chrono::{DateTime, Utc};

/// The limits' and jobs' tables.
#[derive(Debug, Clone, Copy)]
pub struct LimitStore<'a>(pub(crate) &'a Store);

/// Attempts counted for one key since a moment: how many, and the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    pub count: i64,
    pub oldest: Option<DateTime<Utc>>,
}

impl LimitStore<'_> {
    /// The attempts of `key` in `bucket` after `since`.
    pub async fn hits(self, bucket: &str, key: &str, since: DateTime<Utc>) -> Result<Hits> {
        let row = Sql::new(
            "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM rate_hits \
             WHERE bucket = $1 AND key = $2 AND at > $3",
        )
        .bind(bucket)
        .bind(key)
        .bind(since)
        .fetch_one(&mut self.0.db())
        .await?;
        Ok(Hits {
            count: row.get("n")?,
            oldest: row.get("oldest")?,
        })
    }

    /// Counts an attempt at `now` if fewer than `limit` were counted after `since`, as
    /// one step for every server: on PostgreSQL under a lock of the key for the
    /// transaction, on SQLite in its single writer. Returns the attempts before this
    /// one; when they are at the limit nothing is counted.
    pub async fn take(
        self,
        bucket: &str,
        key: &str,
        limit: i64,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Hits> {
        let mut tx = self.0.begin().await?;
        if self.0.backend() == Backend::Postgres {
            Sql::new("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(format!("{bucket}\u{1f}{key}"))
                .execute(&mut tx)
                .await?;
        }
        let row = Sql::new(
            "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM rate_hits \
             WHERE bucket = $1 AND key = $2 AND at > $3",
        )
        .bind(bucket)
        .bind(key)
        .bind(since)
        .fetch_one(&mut tx)
        .await?;
        let before = Hits {
            count: row.get("n")?,
            oldest: row.get("oldest")?,
        };
        if before.count < limit {
            insert(&mut tx, bucket, key, now).await?;
        }
        tx.commit().await?;
        Ok(before)
    }

    /// Counts an attempt without asking (a failed sign-in).
    pub async fn record(self, bucket: &str, key: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.0.begin().await?;
        insert(&mut tx, bucket, key, now).await?;
        tx.commit().await
    }

    /// Gives back one attempt counted at `at` (a reserved slot whose attempt turned out
    /// not to count: a sign-in that succeeded, a request that was not filed).
    pub async fn release(self, bucket: &str, key: &str, at: DateTime<Utc>) -> Result<()> {
        let row = match self.0.backend() {
            Backend::Sqlite => "rowid",
            Backend::Postgres => "ctid",
        };
        let mut tx = self.0.begin().await?;
        Sql::new(format!(
            "DELETE FROM rate_hits WHERE {row} IN (SELECT {row} FROM rate_hits \
             WHERE bucket = $1 AND key = $2 AND at = $3 LIMIT 1)"
        ))
        .bind(bucket)
        .bind(key)
        .bind(at)
        .execute(&mut tx)
        .await?;
        tx.commit().await
    }

    /// Forgets attempts at or before `before` (older than every window).
    pub async fn forget(self, before: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.0.begin().await?;
        let n = Sql::new("DELETE FROM rate_hits WHERE at <= $1")
            .bind(before)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Claims the run of `job` in `slot` (e.g. the minute it is due) for `holder`: true
    /// for the one server that claims it first, false for every other.
    pub async fn claim_job(
        self,
        job: &str,
        slot: &str,
        holder: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.0.begin().await?;
        let n = Sql::new(
            "INSERT INTO job_slots (job, slot, holder, claimed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job, slot) DO NOTHING",
        )
        .bind(job)
        .bind(slot)
        .bind(holder)
        .bind(now)
        .execute(&mut tx)
        .await?;
        // Claims older than a week have done their work.
        Sql::new("DELETE FROM job_slots WHERE job = $1 AND claimed_at < $2")
            .bind(job)
            .bind(now - chrono::Duration::days(7))
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }
}

async fn insert(tx: &mut crate::db::Tx, bucket: &str, key: &str, now: DateTime<Utc>) -> Result<()> {
    Sql::new("INSERT INTO rate_hits (bucket, key, at) VALUES ($1, $2, $3)")
        .bind(bucket)
        .bind(key)
        .bind(now)
        .execute(tx)
        .await?;
    Ok(())
}

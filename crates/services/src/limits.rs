//! Limits on attempts (sign-ins and setup per address, residents' reports and tracking
//! lookups per address, Open311 requests per key) in a sliding window, counted in the
//! database so that every app server of a deployment sees every attempt; and the claim
//! that makes a background job due once a minute run once in the whole deployment.

use crate::{Result, Services};
use chrono::{DateTime, Utc};
use doorstep_store::Hits;
use std::fmt::Display;
use std::sync::OnceLock;
use std::time::Duration;

/// What is limited: the limit's name in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Failed sign-ins and setup attempts, per address.
    SignIn,
    /// Residents' reports from the web page, per address.
    Report,
    /// Tracking-code lookups and ratings, per address.
    Lookup,
    /// Requests filed by an Open311 client, per API key (its account).
    Open311Key,
}

impl Bucket {
    fn code(self) -> &'static str {
        match self {
            Bucket::SignIn => "sign_in",
            Bucket::Report => "report",
            Bucket::Lookup => "lookup",
            Bucket::Open311Key => "open311_key",
        }
    }
}

fn window_start(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX / 2)
}

/// Seconds until the oldest counted attempt leaves the window (at least one).
fn wait(h: &Hits, window: Duration, now: DateTime<Utc>) -> u64 {
    let Some(oldest) = h.oldest else {
        return window.as_secs().max(1);
    };
    let free_at = oldest + chrono::Duration::from_std(window).unwrap_or_default();
    (free_at - now).num_seconds().max(1) as u64
}

/// `Some(seconds to wait)` when `key` is at its limit; counts nothing.
pub async fn retry_after(
    sv: &Services,
    bucket: Bucket,
    key: impl Display,
    limit: usize,
    window: Duration,
) -> Result<Option<u64>> {
    let now = sv.now();
    let h = sv
        .store
        .limits()
        .hits(bucket.code(), &key.to_string(), window_start(now, window))
        .await?;
    Ok((h.count >= limit as i64).then(|| wait(&h, window, now)))
}

/// Counts an attempt if `key` is under its limit (`None`), else `Some(seconds to wait)`
/// and nothing counted; one step for every server.
pub async fn take(
    sv: &Services,
    bucket: Bucket,
    key: impl Display,
    limit: usize,
    window: Duration,
) -> Result<Option<u64>> {
    let now = sv.now();
    let h = sv
        .store
        .limits()
        .take(
            bucket.code(),
            &key.to_string(),
            limit as i64,
            window_start(now, window),
            now,
        )
        .await?;
    Ok((h.count >= limit as i64).then(|| wait(&h, window, now)))
}

/// A slot taken with [`reserve`]: given back with [`Reserved::release`] when the attempt
/// turns out not to count.
#[derive(Debug, Clone)]
#[must_use]
pub struct Reserved {
    bucket: Bucket,
    key: String,
    at: DateTime<Utc>,
}

impl Reserved {
    pub async fn release(self, sv: &Services) -> Result<()> {
        Ok(sv
            .store
            .limits()
            .release(self.bucket.code(), &self.key, self.at)
            .await?)
    }
}

/// Takes a slot before an attempt whose outcome decides whether it counts (a sign-in
/// counts when it fails, an Open311 request when it is filed), so that attempts made at
/// the same moment cannot all pass: `Err(seconds to wait)` at the limit.
pub async fn reserve(
    sv: &Services,
    bucket: Bucket,
    key: impl Display,
    limit: usize,
    window: Duration,
) -> Result<std::result::Result<Reserved, u64>> {
    let key = key.to_string();
    let at = sv.now();
    Ok(match take(sv, bucket, &key, limit, window).await? {
        Some(wait) => Err(wait),
        None => Ok(Reserved { bucket, key, at }),
    })
}

/// Forgets attempts older than `longest` (the longest window of any limit).
pub async fn forget_old(sv: &Services, longest: Duration) -> Result<u64> {
    let now = sv.now();
    Ok(sv.store.limits().forget(window_start(now, longest)).await?)
}

/// This process, as it signs its claims of job runs.
fn holder() -> &'static str {
    static HOLDER: OnceLock<String> = OnceLock::new();
    HOLDER.get_or_init(|| {
        format!(
            "pid {} · {}",
            std::process::id(),
            crate::signin::random_token(6)
        )
    })
}

/// Whether this server runs `job` now: the first server to claim the current minute
/// does, every other skips it. Jobs due every `every_minutes` claim the slot that
/// starts at a multiple of it.
pub async fn claim_job(sv: &Services, job: &str, every_minutes: i64) -> Result<bool> {
    let now = sv.now();
    let minute = now.timestamp().div_euclid(60);
    let slot = minute - minute.rem_euclid(every_minutes.max(1));
    Ok(sv
        .store
        .limits()
        .claim_job(job, &slot.to_string(), holder(), now)
        .await?)
}

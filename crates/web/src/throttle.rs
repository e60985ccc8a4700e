//! Attempts per client address (sign-in, resident reports, tracking lookups) or per key
//! (an Open311 client's requests) in a sliding window: the services count them in the
//! database, so every app server of a deployment shares one count. An attempt without an
//! address (a test driving the router directly) is never limited.

use crate::AppError;
use doorstep_services::Services;
use doorstep_services::limits::{self, Bucket};
use std::fmt::Display;
use std::time::Duration;

/// One limit, as the handlers use it.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    bucket: Bucket,
}

fn too_many(retry_after: u64) -> AppError {
    AppError::TooManyRequests { retry_after }
}

impl Throttle {
    pub const fn new(bucket: Bucket) -> Throttle {
        Throttle { bucket }
    }

    /// Counts an attempt; false (nothing counted) when the key is at its limit.
    pub async fn allow(
        &self,
        sv: &Services,
        key: Option<impl Display>,
        limit: usize,
        window: Duration,
    ) -> Result<bool, AppError> {
        let Some(key) = key else { return Ok(true) };
        Ok(limits::take(sv, self.bucket, key, limit, window)
            .await?
            .is_none())
    }

    /// How long until the key may try again, when it is at its limit: until its oldest
    /// counted attempt leaves the window (whole seconds, at least one).
    pub async fn retry_after(
        &self,
        sv: &Services,
        key: Option<impl Display>,
        limit: usize,
        window: Duration,
    ) -> Result<Option<u64>, AppError> {
        let Some(key) = key else { return Ok(None) };
        Ok(limits::retry_after(sv, self.bucket, key, limit, window).await?)
    }

    /// `Err(429)` with its Retry-After when the key is at its limit (nothing counted).
    pub async fn check(
        &self,
        sv: &Services,
        key: Option<impl Display>,
        limit: usize,
        window: Duration,
    ) -> Result<(), AppError> {
        match self.retry_after(sv, key, limit, window).await? {
            Some(secs) => Err(too_many(secs)),
            None => Ok(()),
        }
    }

    /// Counts an allowed attempt, or `Err(429)` with its Retry-After.
    pub async fn take(
        &self,
        sv: &Services,
        key: Option<impl Display>,
        limit: usize,
        window: Duration,
    ) -> Result<(), AppError> {
        let Some(key) = key else { return Ok(()) };
        match limits::take(sv, self.bucket, key, limit, window).await? {
            Some(secs) => Err(too_many(secs)),
            None => Ok(()),
        }
    }
}

//! Attempts per client address (sign-in, resident reports, tracking lookups) or per key
//! (an Open311 client's requests) in a sliding window, timed by the injected clock.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug)]
pub struct Throttle<K = IpAddr> {
    hits: Mutex<HashMap<K, VecDeque<DateTime<Utc>>>>,
}

impl<K> Default for Throttle<K> {
    fn default() -> Self {
        Throttle {
            hits: Mutex::new(HashMap::new()),
        }
    }
}

fn within(window: Duration) -> chrono::Duration {
    chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX)
}

impl<K: std::hash::Hash + Eq + Copy> Throttle<K> {
    /// Records an attempt at `now`; false when the address is over its limit.
    pub fn allow(&self, ip: Option<K>, limit: usize, window: Duration, now: DateTime<Utc>) -> bool {
        let Some(ip) = ip else { return true };
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let q = hits.entry(ip).or_default();
        while q.front().is_some_and(|t| now - *t > within(window)) {
            q.pop_front();
        }
        if q.len() >= limit {
            return false;
        }
        q.push_back(now);
        true
    }

    /// Counts an attempt (a failed sign-in) without asking whether it was allowed.
    pub fn record(&self, ip: Option<K>, window: Duration, now: DateTime<Utc>) {
        let Some(ip) = ip else { return };
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let q = hits.entry(ip).or_default();
        while q.front().is_some_and(|t| now - *t > within(window)) {
            q.pop_front();
        }
        q.push_back(now);
    }

    /// How long until the address may try again, when it is at its limit: until its
    /// oldest counted attempt leaves the window (whole seconds, at least one).
    pub fn retry_after(
        &self,
        ip: Option<K>,
        limit: usize,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let ip = ip?;
        let hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let recent: Vec<&DateTime<Utc>> = hits
            .get(&ip)?
            .iter()
            .filter(|t| now - **t <= within(window))
            .collect();
        if recent.len() < limit {
            return None;
        }
        let oldest = recent.first()?;
        let free_at = **oldest + within(window);
        Some((free_at - now).num_seconds().max(1) as u64)
    }

    /// `Err(429)` with its Retry-After when the address is at its limit (no attempt counted).
    pub fn check(
        &self,
        ip: Option<K>,
        limit: usize,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<(), crate::AppError> {
        match self.retry_after(ip, limit, window, now) {
            Some(retry_after) => Err(crate::AppError::TooManyRequests { retry_after }),
            None => Ok(()),
        }
    }

    /// Counts an allowed attempt, or `Err(429)` with its Retry-After.
    pub fn take(
        &self,
        ip: Option<K>,
        limit: usize,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<(), crate::AppError> {
        if self.allow(ip, limit, window, now) {
            Ok(())
        } else {
            self.check(ip, limit, window, now)?;
            Err(crate::AppError::TooManyRequests {
                retry_after: window.as_secs().max(1),
            })
        }
    }

    pub fn forget_old(&self, window: Duration, now: DateTime<Utc>) {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        hits.retain(|_, q| q.back().is_some_and(|t| now - *t <= within(window)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn counts_per_address_in_a_window() {
        let t = Throttle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let w = Duration::from_secs(60);
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        for _ in 0..3 {
            assert!(t.allow(Some(ip), 3, w, t0));
        }
        assert!(!t.allow(Some(ip), 3, w, t0));
        assert!(t.retry_after(Some(ip), 3, w, t0).is_some());
        assert!(t.retry_after(Some(other), 3, w, t0).is_none());
        assert!(t.allow(Some(other), 3, w, t0));
        assert_eq!(
            t.retry_after(Some(ip), 3, w, t0 + chrono::Duration::seconds(15)),
            Some(45)
        );
        assert_eq!(t.retry_after(Some(other), 3, w, t0), None);
        let failures = Throttle::default();
        failures.record(Some(ip), w, t0);
        failures.record(Some(ip), w, t0);
        assert!(failures.retry_after(Some(ip), 3, w, t0).is_none());
        failures.record(Some(ip), w, t0);
        assert!(failures.retry_after(Some(ip), 3, w, t0).is_some());
        // A minute later the window has moved on.
        let later = t0 + chrono::Duration::seconds(61);
        assert!(t.retry_after(Some(ip), 3, w, later).is_none());
        assert!(t.allow(Some(ip), 3, w, later));
        t.forget_old(w, later + chrono::Duration::seconds(120));
        assert!(t.hits.lock().unwrap().is_empty());
    }
}

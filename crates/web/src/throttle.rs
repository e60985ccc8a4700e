//! Attempts per client address in a sliding window (sign-in, resident reports, tracking
//! lookups), timed by the injected clock.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Throttle {
    hits: Mutex<HashMap<IpAddr, VecDeque<DateTime<Utc>>>>,
}

fn within(window: Duration) -> chrono::Duration {
    chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX)
}

impl Throttle {
    /// Records an attempt at `now`; false when the address is over its limit.
    pub fn allow(
        &self,
        ip: Option<IpAddr>,
        limit: usize,
        window: Duration,
        now: DateTime<Utc>,
    ) -> bool {
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

    /// Whether the address is already at its limit, without counting an attempt (to turn
    /// a request away before reading its body).
    pub fn is_limited(
        &self,
        ip: Option<IpAddr>,
        limit: usize,
        window: Duration,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(ip) = ip else { return false };
        let hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        hits.get(&ip)
            .is_some_and(|q| q.iter().filter(|t| now - **t <= within(window)).count() >= limit)
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
        assert!(t.is_limited(Some(ip), 3, w, t0));
        assert!(!t.is_limited(Some(other), 3, w, t0));
        assert!(t.allow(Some(other), 3, w, t0));
        // A minute later the window has moved on.
        let later = t0 + chrono::Duration::seconds(61);
        assert!(!t.is_limited(Some(ip), 3, w, later));
        assert!(t.allow(Some(ip), 3, w, later));
        t.forget_old(w, later + chrono::Duration::seconds(120));
        assert!(t.hits.lock().unwrap().is_empty());
    }
}

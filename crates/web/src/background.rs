//! The background jobs, run beside the server: every minute the deadline job; every five
//! minutes, expired sessions and the per-address counters' old entries go; once a day
//! (starting a minute after start-up), the register's retention rule.

use crate::{AppState, LOOKUP_WINDOW, REPORT_WINDOW};
use doorstep_domain::clock::Stopwatch;
use doorstep_services::{clock, jobs};
use std::time::Duration;

pub(crate) async fn run(state: AppState) {
    let sv = &state.services;
    let mut tick: u64 = 0;
    loop {
        clock::pause(Duration::from_secs(60)).await;
        tick += 1;
        let watch = Stopwatch::start();
        let done = jobs::escalate_overdue(sv).await;
        state
            .metrics
            .observe_job("escalate_overdue", done.is_ok(), watch.secs());
        if let Err(e) = done {
            tracing::warn!(error = %e, "deadline job failed; it runs again in a minute");
        }
        if tick % (24 * 60) == 1 {
            let watch = Stopwatch::start();
            let done = doorstep_services::jobs::erase_archived(sv).await;
            state
                .metrics
                .observe_job("erase_archived", done.is_ok(), watch.secs());
            match done {
                Ok(0) => {}
                Ok(n) => tracing::info!(erased = n, "archived residents' personal data erased"),
                Err(e) => {
                    tracing::warn!(error = %e, "retention job failed; it runs again tomorrow")
                }
            }
        }
        if tick.is_multiple_of(5) {
            let watch = Stopwatch::start();
            let done = jobs::purge_sessions(sv).await;
            state
                .metrics
                .observe_job("purge_sessions", done.is_ok(), watch.secs());
            if let Err(e) = done {
                tracing::warn!(error = %e, "could not purge expired sessions");
            }
            let now = sv.now();
            state.throttle.forget_old(state.config.ip_window, now);
            state.report_throttle.forget_old(REPORT_WINDOW, now);
            state.lookup_throttle.forget_old(LOOKUP_WINDOW, now);
        }
    }
}

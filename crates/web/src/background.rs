//! The background jobs, run beside the server. Every server of a deployment runs this
//! loop; each run is claimed in the database first, so a job runs once per slot in the
//! whole deployment, by whichever server claims it: every minute the deadline job; every
//! five minutes, expired sessions and the limits' old attempts go; once a day (in the
//! first minute a server is up on that day), the register's retention rule.

use crate::{AppState, REPORT_WINDOW};
use doorstep_domain::clock::Stopwatch;
use doorstep_services::{Result, Services, clock, jobs, limits};
use std::time::Duration;

/// Runs `job` when this server claims its slot (`every_minutes`), and counts the run.
async fn claimed<T>(
    state: &AppState,
    name: &'static str,
    every_minutes: i64,
    job: impl AsyncFnOnce(&Services) -> Result<T>,
) -> Option<Result<T>> {
    let sv = &state.services;
    match limits::claim_job(sv, name, every_minutes).await {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => return Some(Err(e)),
    }
    let watch = Stopwatch::start();
    let done = job(sv).await;
    state.metrics.observe_job(name, done.is_ok(), watch.secs());
    Some(done)
}

pub(crate) async fn run(state: AppState) {
    loop {
        clock::pause(Duration::from_secs(60)).await;
        if let Some(Err(e)) = claimed(&state, "escalate_overdue", 1, jobs::escalate_overdue).await {
            tracing::warn!(error = %e, "deadline job failed; it runs again in a minute");
        }
        match claimed(&state, "erase_archived", 24 * 60, jobs::erase_archived).await {
            None | Some(Ok(0)) => {}
            Some(Ok(n)) => tracing::info!(erased = n, "archived residents' personal data erased"),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "retention job failed; it runs again tomorrow")
            }
        }
        let longest = REPORT_WINDOW.max(state.config.ip_window);
        let tidy = async |sv: &Services| {
            jobs::purge_sessions(sv).await?;
            limits::forget_old(sv, longest).await
        };
        if let Some(Err(e)) = claimed(&state, "purge_sessions", 5, tidy).await {
            tracing::warn!(error = %e, "could not purge expired sessions and old attempts");
        }
    }
}

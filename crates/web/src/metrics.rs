//! Prometheus metrics at `/metrics` (text exposition format 0.0.4): HTTP requests by
//! route, method and status; latency histograms by route; the intake queue (waiting
//! intakes, batch sizes); the database pool; background job runs. Each server reports
//! its own (a deployment's Prometheus scrapes every server). Reachable from the
//! configured addresses (`metrics_from`, none by default) or with an admin's API token;
//! nobody else learns it exists.

use crate::{AppError, AppState};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use doorstep_domain::clock::Stopwatch;
use doorstep_services::records::PoolStats;
use doorstep_services::requests::{BATCH_BUCKETS, IntakeStats};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

/// Upper bounds of the latency histograms, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    /// Observations per bucket (not cumulative; the last is above every bound).
    counts: [u64; LATENCY_BUCKETS.len() + 1],
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.counts[i] += 1;
        self.sum += secs;
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    job_runs: BTreeMap<(&'static str, &'static str), u64>,
    job_seconds: BTreeMap<&'static str, f64>,
}

/// This server's counters.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// A label value as the format wants it: backslash, quote and line break escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One answered request; `route` is the matched route pattern (bounded), never the
    /// path as sent.
    pub fn observe_http(&self, route: &str, method: &str, status: u16, secs: f64) {
        let mut m = self.lock();
        *m.requests
            .entry((route.to_string(), method.to_string(), status))
            .or_default() += 1;
        m.latency
            .entry(route.to_string())
            .or_default()
            .observe(secs);
    }

    /// One run of a background job.
    pub fn observe_job(&self, job: &'static str, ok: bool, secs: f64) {
        let mut m = self.lock();
        let outcome = if ok { "ok" } else { "error" };
        *m.job_runs.entry((job, outcome)).or_default() += 1;
        m.job_seconds.insert(job, secs);
    }

    /// The exposition text.
    pub fn render(&self, intake: &IntakeStats, pool: PoolStats) -> String {
        let m = self.lock();
        let mut out = String::new();
        out.push_str("# HELP doorstep_http_requests_total HTTP requests answered, by route pattern, method and status.\n# TYPE doorstep_http_requests_total counter\n");
        for ((route, method, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "doorstep_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
        out.push_str("# HELP doorstep_http_request_duration_seconds Time to answer, by route pattern.\n# TYPE doorstep_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            let r = label(route);
            let mut cumulative = 0;
            for (bound, n) in LATENCY_BUCKETS.iter().zip(&h.counts) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "doorstep_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let total: u64 = h.counts.iter().sum();
            let _ = writeln!(
                out,
                "doorstep_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {total}"
            );
            let _ = writeln!(
                out,
                "doorstep_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "doorstep_http_request_duration_seconds_count{{route=\"{r}\"}} {total}"
            );
        }
        render_intake(&mut out, intake);
        let _ = write!(
            out,
            "# HELP doorstep_db_pool_connections Database connections of this server's pool, by state.\n# TYPE doorstep_db_pool_connections gauge\n\
             doorstep_db_pool_connections{{state=\"open\"}} {}\ndoorstep_db_pool_connections{{state=\"idle\"}} {}\n\
             # HELP doorstep_db_pool_max_connections The most connections the pool opens.\n# TYPE doorstep_db_pool_max_connections gauge\n\
             doorstep_db_pool_max_connections {}\n",
            pool.open, pool.idle, pool.max
        );
        out.push_str("# HELP doorstep_job_runs_total Background job runs, by job and outcome.\n# TYPE doorstep_job_runs_total counter\n");
        for ((job, outcome), n) in &m.job_runs {
            let _ = writeln!(
                out,
                "doorstep_job_runs_total{{job=\"{job}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str("# HELP doorstep_job_last_run_seconds How long the job's last run took.\n# TYPE doorstep_job_last_run_seconds gauge\n");
        for (job, secs) in &m.job_seconds {
            let _ = writeln!(out, "doorstep_job_last_run_seconds{{job=\"{job}\"}} {secs}");
        }
        out
    }
}

fn render_intake(out: &mut String, s: &IntakeStats) {
    let _ = writeln!(
        out,
        "# HELP doorstep_intake_waiting Intakes submitted and not yet written.\n# TYPE doorstep_intake_waiting gauge\ndoorstep_intake_waiting {}",
        s.waiting.load(Ordering::Relaxed)
    );
    out.push_str("# HELP doorstep_intake_batch_size Intakes written per transaction (group commit on SQLite; 1 on PostgreSQL).\n# TYPE doorstep_intake_batch_size histogram\n");
    let mut cumulative = 0;
    for (bound, n) in BATCH_BUCKETS.iter().zip(&s.batches) {
        cumulative += n.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "doorstep_intake_batch_size_bucket{{le=\"{bound}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "doorstep_intake_batch_size_bucket{{le=\"+Inf\"}} {cumulative}"
    );
    let _ = writeln!(
        out,
        "doorstep_intake_batch_size_sum {}",
        s.batched.load(Ordering::Relaxed)
    );
    let _ = writeln!(out, "doorstep_intake_batch_size_count {cumulative}");
}

/// Counts every answer by its route pattern (`unmatched` for paths no route takes, so a
/// scan of random paths cannot grow the table).
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = req.method().as_str().to_string();
    let watch = Stopwatch::start();
    let res = next.run(req).await;
    state
        .metrics
        .observe_http(&route, &method, res.status().as_u16(), watch.secs());
    res
}

/// `GET /metrics`, for the configured addresses or an admin's API token; 404 to anyone
/// else.
pub(crate) async fn serve(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, AppError> {
    let (parts, _) = req.into_parts();
    // A request a proxy forwarded is judged by the client it names, which is known only
    // when the proxy is trusted; otherwise the proxy's own address proves nothing.
    let forwarded = ["x-forwarded-for", "forwarded", "x-real-ip"]
        .iter()
        .any(|h| parts.headers.contains_key(*h));
    let known_client = !forwarded || !state.config.trusted_proxies.is_empty();
    let from_allowed = known_client
        && crate::session::client_ip(&parts)
            .is_some_and(|ip| state.config.metrics_from.iter().any(|n| n.contains(ip)));
    let admin_token = match parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        Some(t) => doorstep_services::signin::bearer(&state.services, t.trim())
            .await?
            .is_some_and(|a| a.role == doorstep_domain::Role::Admin),
        None => false,
    };
    if !(from_allowed || admin_token) {
        return Err(AppError::NotFound);
    }
    let sv = &state.services;
    let body = state.metrics.render(sv.intake_stats(), sv.pool_stats());
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let m = Metrics::default();
        m.observe_http("/api/v1/requests/{id}", "GET", 200, 0.003);
        m.observe_http("/api/v1/requests/{id}", "GET", 200, 0.2);
        m.observe_http("/x\"y", "GET", 404, 20.0);
        m.observe_job("escalate_overdue", true, 0.01);
        let text = m.render(
            &IntakeStats::default(),
            PoolStats {
                open: 2,
                idle: 1,
                max: 8,
            },
        );
        assert!(text.contains("doorstep_http_requests_total{route=\"/api/v1/requests/{id}\",method=\"GET\",status=\"200\"} 2"));
        assert!(text.contains("route=\"/api/v1/requests/{id}\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"/api/v1/requests/{id}\",le=\"0.25\"} 2"));
        assert!(text.contains("route=\"/x\\\"y\",le=\"10\"} 0"));
        assert!(text.contains("route=\"/x\\\"y\",le=\"+Inf\"} 1"));
        assert!(text.contains("doorstep_db_pool_connections{state=\"idle\"} 1"));
        assert!(
            text.contains("doorstep_job_runs_total{job=\"escalate_overdue\",outcome=\"ok\"} 1")
        );
        assert!(text.contains("doorstep_intake_batch_size_bucket{le=\"+Inf\"} 0"));
        // Every sample line is `name{labels} value` or `name value`.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}

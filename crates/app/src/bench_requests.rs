//! `doorstep bench requests`: the one window under a year of a subdistrict's requests.
//! Builds the Huamu demo (44 neighbourhoods) on a fresh database, loads generated past
//! requests, starts the real server on a free port and measures, in one run: a trivial
//! endpoint's throughput (the ceiling), intake throughput and latency, and the latency of
//! the inbox and figures pages.

use crate::config::Config;
use crate::startup::Application;
use anyhow::Context;
use doorstep_store::scratch::ScratchDb;
use doorstep_store::{Backend, WriteCtx};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct RequestsBench {
    pub backend: Backend,
    /// Past requests to load before measuring.
    pub requests: usize,
    /// Requests sent to the intake (and to the trivial endpoint).
    pub intake: usize,
    /// Page loads per latency figure.
    pub samples: usize,
    /// Concurrent clients for the throughput phases.
    pub concurrency: usize,
    /// Keep the database afterwards (its URL is printed), to rerun with `reuse`.
    pub keep: bool,
    /// Measure on a database kept by an earlier run instead of building one.
    pub reuse: Option<String>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(x: f64) -> f64 {
    (x * 1000.0 * 100.0).round() / 100.0
}

/// Latency figures of a sample of durations (seconds), in milliseconds.
fn latency(mut xs: Vec<f64>) -> serde_json::Value {
    xs.sort_by(f64::total_cmp);
    json!({"samples": xs.len(), "p50_ms": ms(percentile(&xs, 50.0)), "p99_ms": ms(percentile(&xs, 99.0)), "max_ms": ms(*xs.last().unwrap_or(&f64::NAN))})
}

/// Sends `n` requests made by `make(i)` from `c` concurrent clients; returns the
/// throughput (per second), each request's latency, and how many failed.
async fn hammer<F, Fut>(n: usize, c: usize, make: F) -> (f64, Vec<f64>, usize)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let make = Arc::new(make);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..c {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0;
            let mut i = k;
            while i < n {
                let t = Instant::now();
                if !make(i).await {
                    failed += 1;
                }
                lat.push(t.elapsed().as_secs_f64());
                i += c;
            }
            (lat, failed)
        }));
    }
    let mut all = Vec::with_capacity(n);
    let mut failed = 0;
    for t in tasks {
        if let Ok((l, f)) = t.await {
            all.extend(l);
            failed += f;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    (n as f64 / secs, all, failed)
}

async fn token(store: &doorstep_store::Store, username: &str) -> anyhow::Result<String> {
    crate::startup::create_token_in(store, username, "bench", "bench").await
}

/// Runs the benchmark and returns its figures.
pub async fn requests(b: &RequestsBench) -> anyhow::Result<serde_json::Value> {
    let (db, store, url) = match &b.reuse {
        Some(url) => {
            let store = doorstep_store::Store::connect(url).await?;
            (None, store, url.clone())
        }
        None => {
            let db = ScratchDb::new(b.backend).await;
            let (store, url) = (db.store.clone(), db.url.clone());
            (Some(db), store, url)
        }
    };
    let now = doorstep_domain::Clock::now(&doorstep_domain::SystemClock);
    let t = Instant::now();
    if db.is_some() {
        let hash = doorstep_services::signin::hash_password(crate::demo::DEMO_PASSWORD.into())
            .await
            .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
        crate::demo::ensure(&store, now, async move || Ok(hash)).await?;
    }
    let setup_secs = t.elapsed().as_secs_f64();
    let sd = store
        .places()
        .first_subdistrict()
        .await?
        .context("no subdistrict")?;
    let nbs = crate::demo::staffed_neighbourhoods(&store, sd.subdistrict_id).await?;
    let items = crate::demo::catalogue_items(&store, sd.subdistrict_id).await?;
    let households: i64 = store
        .geo()
        .building_points(sd.subdistrict_id)
        .await?
        .iter()
        .map(|p| p.households)
        .sum();
    eprintln!(
        "setup: {} neighbourhoods, {households} households, {} staff ({setup_secs:.1} s)",
        nbs.len(),
        nbs.iter().map(|n| n.staff.len()).sum::<usize>()
    );

    // A year of past requests, loaded in chunks.
    let calendar = doorstep_domain::calendar::WorkCalendar::china()?;
    let mut rng = StdRng::seed_from_u64(500_000);
    let ctx = WriteCtx {
        actor_id: None,
        actor_name: "bench".into(),
        subdistrict_id: Some(sd.subdistrict_id),
        ip: None,
        at: now,
        demo: true,
    };
    let t = Instant::now();
    let chunk = 20_000;
    let mut loaded = 0;
    while db.is_some() && loaded < b.requests {
        let n = chunk.min(b.requests - loaded);
        let past = crate::request_gen::generate(
            &mut rng,
            &nbs,
            &items,
            n,
            now,
            365,
            &calendar,
            "BN",
            loaded as u64,
        );
        loaded += store.requests().load(&past, &ctx).await?;
        eprintln!(
            "loaded {loaded} requests ({:.0}/s)",
            loaded as f64 / t.elapsed().as_secs_f64()
        );
    }
    let load_secs = t.elapsed().as_secs_f64();
    if db.is_none() {
        loaded = store
            .requests()
            .list(&doorstep_store::RequestFilter {
                limit: 1,
                ..doorstep_store::RequestFilter::of(sd.subdistrict_id)
            })
            .await?
            .total as usize;
    }
    // Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would gather.
    store.analyze().await?;

    // The real server on a free port.
    let config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: url.clone(),
        resident_reports_per_hour: usize::MAX / 2,
        log: "warn".into(),
        ..Default::default()
    };
    let app = Application::build(&config, Some(true)).await?;
    let base = format!("http://{}", app.addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = stop_rx.await;
            })
            .await;
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(b.concurrency * 2)
        .timeout(Duration::from_secs(30))
        .build()?;
    // Who works: mudan7's secretary (the inbox and figures of a busy neighbourhood), the
    // admin (every neighbourhood's figures), and one worker per neighbourhood (intake).
    let secretary = token(&store, "mudan7-sec").await?;
    let admin = token(&store, "admin").await?;
    let mut workers = Vec::new();
    for n in &nbs {
        if let Some((_, u)) = n.staff.get(1).or(n.staff.first()) {
            workers.push(token(&store, u).await?);
        }
    }
    let workers = Arc::new(workers);

    // Warm up connections and caches.
    for _ in 0..20 {
        client.get(format!("{base}/healthz")).send().await?;
        client
            .get(format!("{base}/requests"))
            .bearer_auth(&secretary)
            .send()
            .await?;
    }

    // 1. Page latency, one client at a time, on exactly the loaded requests.
    let mut pages = serde_json::Map::new();
    for (name, path, tok) in [
        ("inbox_page_secretary", "/requests?box=open", &secretary),
        ("inbox_page_overdue", "/requests?box=overdue", &secretary),
        ("inbox_page_worker", "/requests?box=owned", &workers[0]),
        ("figures_page_neighbourhood", "/figures", &secretary),
        ("figures_page_subdistrict", "/figures", &admin),
        (
            "figures_api_subdistrict_year",
            "/api/v1/figures?from=2025-11-29",
            &admin,
        ),
    ] {
        // The year-long figure is a report, not a page people reload: fewer samples.
        let n = if path.contains("from=") {
            b.samples.min(30)
        } else {
            b.samples
        };
        let mut xs = Vec::with_capacity(n);
        let mut failed = 0;
        for _ in 0..n {
            let t = Instant::now();
            let ok = client
                .get(format!("{base}{path}"))
                .bearer_auth(tok)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            xs.push(t.elapsed().as_secs_f64());
            if !ok {
                failed += 1;
            }
        }
        let mut l = latency(xs);
        l["failed"] = failed.into();
        l["path"] = path.into();
        eprintln!("{name:<30} {l}");
        pages.insert(name.into(), l);
    }
    // 2. The ceiling: a trivial endpoint (health: one `SELECT 1`).
    let (c, u) = (client.clone(), format!("{base}/healthz"));
    let (ceiling, ceiling_lat, ceiling_failed) = hammer(b.intake, b.concurrency, move |_| {
        let (c, u) = (c.clone(), u.clone());
        async move { c.get(u).send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
    eprintln!("ceiling (GET /healthz): {ceiling:.0}/s");

    // 3. Intake through the API, spread over the neighbourhoods' workers.
    let (c, u, w) = (
        client.clone(),
        format!("{base}/api/v1/requests"),
        workers.clone(),
    );
    let kinds = ["help", "complaint", "consultation", "suggestion"];
    let (intake, intake_lat, intake_failed) = hammer(b.intake, b.concurrency, move |i| {
        let (c, u, w) = (c.clone(), u.clone(), w.clone());
        async move {
            let body = json!({"channel": "desk", "kind": kinds[i % kinds.len()],
                "description": format!("基准测试诉求 {i}：楼道灯不亮，请尽快维修"), "resident_phone": "13912345678"});
            c.post(u)
                .bearer_auth(&w[i % w.len()])
                .json(&body)
                .send()
                .await
                .is_ok_and(|r| r.status().as_u16() == 201)
        }
    })
    .await;
    eprintln!("intake (POST /api/v1/requests): {intake:.0}/s");

    let _ = stop_tx.send(());
    let _ = server.await;
    match db {
        Some(db) if b.keep => eprintln!("kept the database: {}", db.keep()),
        Some(db) => db.drop_db().await,
        None => {}
    }
    Ok(json!({
        "backend": format!("{:?}", b.backend).to_lowercase(),
        "data": {"neighbourhoods": nbs.len(), "households": households, "past_requests": loaded,
                 "setup_seconds": (setup_secs * 10.0).round() / 10.0,
                 "load_seconds": (load_secs * 10.0).round() / 10.0,
                 "load_per_second": (loaded as f64 / load_secs).round()},
        "concurrency": b.concurrency,
        "ceiling_get_healthz": {"requests": b.intake, "per_second": ceiling.round(), "failed": ceiling_failed, "latency": latency(ceiling_lat)},
        "intake_post_requests": {"requests": b.intake, "per_second": intake.round(), "failed": intake_failed,
                                 "share_of_ceiling": (intake / ceiling * 1000.0).round() / 1000.0, "latency": latency(intake_lat)},
        "pages": pages,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&xs, 50.0), 50.0);
        assert_eq!(percentile(&xs, 99.0), 99.0);
        assert_eq!(percentile(&xs[..1], 99.0), 1.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}

//! `doorstep bench requests`: the one window under a year of a subdistrict's requests.
//! Builds the Huamu demo (44 neighbourhoods) on a fresh database, loads generated past
//! requests, starts the real server on a free port and measures, in one run: a trivial
//! endpoint's throughput (the ceiling), intake throughput and latency, and the latency of
//! the inbox and figures pages.

use super::latency;
use crate::config::Config;
use crate::request_gen::{GenItem, GenNeighbourhood};
use crate::startup::Application;
use anyhow::Context;
use chrono::{DateTime, Utc};
use doorstep_domain::clock::Stopwatch;
use doorstep_store::scratch::ScratchDb;
use doorstep_store::{Backend, RequestFilter, Store, WriteCtx};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

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

/// Sends `n` requests made by `make(i)` from `c` concurrent clients; returns the
/// throughput (per second), each request's latency, and how many failed.
async fn hammer<F, Fut>(n: usize, c: usize, make: F) -> (f64, Vec<f64>, usize)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let make = Arc::new(make);
    let start = Stopwatch::start();
    let mut tasks = Vec::new();
    for k in 0..c {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0;
            let mut i = k;
            while i < n {
                let t = Stopwatch::start();
                if !make(i).await {
                    failed += 1;
                }
                lat.push(t.secs());
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
    (n as f64 / start.secs(), all, failed)
}

async fn token(store: &Store, username: &str) -> anyhow::Result<String> {
    crate::startup::create_token_in(store, username, "bench", "bench").await
}

/// The database measured on: a scratch one with the demo built, or one kept before.
async fn database(
    b: &RequestsBench,
    now: DateTime<Utc>,
) -> anyhow::Result<(Option<ScratchDb>, Store, String)> {
    if let Some(url) = &b.reuse {
        return Ok((None, Store::connect(url).await?, url.clone()));
    }
    let db = ScratchDb::new(b.backend).await?;
    let (store, url) = (db.store.clone(), db.url.clone());
    let hash = doorstep_services::signin::hash_password(crate::demo::DEMO_PASSWORD.into())
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    crate::demo::ensure(&store, now, async move || Ok(hash)).await?;
    Ok((Some(db), store, url))
}

/// A year of past requests, loaded in chunks; returns how many and how long it took.
async fn load_year(
    b: &RequestsBench,
    store: &Store,
    (nbs, items): (&[GenNeighbourhood], &[GenItem]),
    now: DateTime<Utc>,
    ctx: &WriteCtx,
) -> anyhow::Result<(usize, f64)> {
    let calendar = doorstep_domain::calendar::WorkCalendar::china()?;
    let mut rng = StdRng::seed_from_u64(500_000);
    let t = Stopwatch::start();
    let chunk = 20_000;
    let mut loaded = 0;
    while loaded < b.requests {
        let n = chunk.min(b.requests - loaded);
        let past = crate::request_gen::generate(
            &mut rng,
            nbs,
            items,
            n,
            now,
            365,
            &calendar,
            "BN",
            loaded as u64,
        );
        loaded += store.requests().load(&past, ctx).await?;
        eprintln!(
            "loaded {loaded} requests ({:.0}/s)",
            loaded as f64 / t.secs()
        );
    }
    Ok((loaded, t.secs()))
}

/// Page latency, one client at a time, on exactly the loaded requests.
async fn pages(
    client: &reqwest::Client,
    base: &str,
    samples: usize,
    (secretary, worker, admin): (&str, &str, &str),
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (name, path, tok) in [
        ("inbox_page_secretary", "/requests?box=open", secretary),
        ("inbox_page_overdue", "/requests?box=overdue", secretary),
        ("inbox_page_worker", "/requests?box=owned", worker),
        ("figures_page_neighbourhood", "/figures", secretary),
        ("figures_page_subdistrict", "/figures", admin),
        (
            "figures_api_subdistrict_year",
            "/api/v1/figures?from=2025-11-29",
            admin,
        ),
    ] {
        // The year-long figure is a report, not a page people reload: fewer samples.
        let n = if path.contains("from=") {
            samples.min(30)
        } else {
            samples
        };
        let mut xs = Vec::with_capacity(n);
        let mut failed = 0;
        for _ in 0..n {
            let t = Stopwatch::start();
            let ok = client
                .get(format!("{base}{path}"))
                .bearer_auth(tok)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            xs.push(t.secs());
            failed += usize::from(!ok);
        }
        let mut l = latency(xs);
        l["failed"] = failed.into();
        l["path"] = path.into();
        eprintln!("{name:<30} {l}");
        out.insert(name.into(), l);
    }
    out
}

/// The ceiling (a trivial endpoint: health, one `SELECT 1`) and intake through the API
/// spread over the neighbourhoods' workers.
async fn throughput(
    b: &RequestsBench,
    client: &reqwest::Client,
    base: &str,
    workers: Arc<Vec<String>>,
) -> serde_json::Value {
    let (c, u) = (client.clone(), format!("{base}/healthz"));
    let (ceiling, ceiling_lat, ceiling_failed) = hammer(b.intake, b.concurrency, move |_| {
        let (c, u) = (c.clone(), u.clone());
        async move { c.get(u).send().await.is_ok_and(|r| r.status().is_success()) }
    })
    .await;
    eprintln!("ceiling (GET /healthz): {ceiling:.0}/s");
    let (c, u) = (client.clone(), format!("{base}/api/v1/requests"));
    let kinds = ["help", "complaint", "consultation", "suggestion"];
    let (intake, intake_lat, intake_failed) = hammer(b.intake, b.concurrency, move |i| {
        let (c, u, w) = (c.clone(), u.clone(), workers.clone());
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
    json!({
        "ceiling_get_healthz": {"requests": b.intake, "per_second": ceiling.round(), "failed": ceiling_failed, "latency": latency(ceiling_lat)},
        "intake_post_requests": {"requests": b.intake, "per_second": intake.round(), "failed": intake_failed,
                                 "share_of_ceiling": (intake / ceiling * 1000.0).round() / 1000.0, "latency": latency(intake_lat)},
    })
}

/// The application under measurement, serving on a free port.
struct Server {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(database_url: &str) -> anyhow::Result<Server> {
        let config = Config {
            bind: "127.0.0.1:0".into(),
            database_url: database_url.into(),
            resident_reports_per_hour: usize::MAX / 2,
            open311_reports_per_hour: usize::MAX / 2,
            log: "warn".into(),
            ..Default::default()
        };
        let app = Application::build(&config, Some(true)).await?;
        let base = format!("http://{}", app.addr());
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = app
                .run_until(async move {
                    let _ = stop_rx.await;
                })
                .await;
        });
        Ok(Server { base, stop, task })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Who works: mudan7's secretary (the inbox and figures of a busy neighbourhood), the
/// admin (every neighbourhood's figures), and one worker per neighbourhood (intake).
async fn staff_tokens(
    store: &Store,
    nbs: &[GenNeighbourhood],
) -> anyhow::Result<(String, String, Vec<String>)> {
    let secretary = token(store, "mudan7-sec").await?;
    let admin = token(store, "admin").await?;
    let mut workers = Vec::new();
    for n in nbs {
        if let Some((_, u)) = n.staff.get(1).or(n.staff.first()) {
            workers.push(token(store, u).await?);
        }
    }
    Ok((secretary, admin, workers))
}

/// Runs the benchmark and returns its figures.
pub async fn requests(b: &RequestsBench) -> anyhow::Result<serde_json::Value> {
    let now = doorstep_domain::Clock::now(&doorstep_domain::SystemClock);
    let t = Stopwatch::start();
    let (db, store, url) = database(b, now).await?;
    let setup_secs = t.secs();
    let sd = store
        .places()
        .first_subdistrict()
        .await?
        .context("no subdistrict")?;
    let sd = sd.subdistrict_id;
    let nbs = crate::demo::staffed_neighbourhoods(&store, sd).await?;
    let items = crate::demo::catalogue_items(&store, sd).await?;
    let points = store.geo().building_points(sd).await?;
    let households: i64 = points.iter().map(|p| p.households).sum();
    let staff: usize = nbs.iter().map(|n| n.staff.len()).sum();
    eprintln!(
        "setup: {} neighbourhoods, {households} households, {staff} staff ({setup_secs:.1} s)",
        nbs.len()
    );
    let ctx = WriteCtx {
        demo: true,
        ..WriteCtx::system("bench", Some(sd), now)
    };
    let (loaded, load_secs) = if db.is_some() {
        load_year(b, &store, (&nbs, &items), now, &ctx).await?
    } else {
        let any = RequestFilter {
            limit: 1,
            ..RequestFilter::of(sd)
        };
        (store.requests().list(&any).await?.total as usize, 0.0)
    };
    // Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would gather.
    store.analyze().await?;
    let server = Server::start(&url).await?;
    let base = server.base.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(b.concurrency * 2)
        .timeout(Duration::from_secs(30))
        .build()?;
    let (secretary, admin, workers) = staff_tokens(&store, &nbs).await?;
    // Warm up connections and caches.
    for _ in 0..20 {
        client.get(format!("{base}/healthz")).send().await?;
        client
            .get(format!("{base}/requests"))
            .bearer_auth(&secretary)
            .send()
            .await?;
    }
    let tokens = (secretary.as_str(), workers[0].as_str(), admin.as_str());
    let pages = pages(&client, &base, b.samples, tokens).await;
    let mut out = throughput(b, &client, &base, Arc::new(workers)).await;
    server.stop().await;
    match db {
        Some(db) if b.keep => eprintln!("kept the database: {}", db.keep()),
        Some(db) => db.drop_db().await,
        None => {}
    }
    out["backend"] = json!(format!("{:?}", b.backend).to_lowercase());
    out["data"] = json!({"neighbourhoods": nbs.len(), "households": households, "past_requests": loaded,
             "setup_seconds": (setup_secs * 10.0).round() / 10.0,
             "load_seconds": (load_secs * 10.0).round() / 10.0,
             "load_per_second": (loaded as f64 / load_secs).round()});
    out["concurrency"] = json!(b.concurrency);
    out["pages"] = json!(pages);
    Ok(out)
}

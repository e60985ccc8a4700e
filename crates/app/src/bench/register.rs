//! `doorstep bench register`: the care register at the sizes the issue names. Builds the
//! Huamu demo's places and staff on a fresh database, then, in one run:
//! - a neighbourhood's roster (~5,000 households, ~12,000 people) as the committee keeps
//!   it, an XLSX workbook imported by its secretary;
//! - the whole subdistrict's (~230,000 people) imported by the admin;
//!   each as parse (reading the workbook, the baseline) and import (checking every row,
//!   sealing, writing), with rows per second and peak memory per phase;
//! - a worker's block page with 2,000 households in the block, served by the real
//!   server, its latency beside a trivial endpoint's in the same run.

use super::latency;
use crate::config::Config;
use crate::startup::Application;
use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use doorstep_domain::clock::{ManualClock, Stopwatch};
use doorstep_domain::{Entity, Scope, SubdistrictId};
use doorstep_services::Caller;
use doorstep_services::places::{BuildingChoice, building_choices};
use doorstep_services::register::import::{COLUMNS, Mode, import, read_table};
use doorstep_store::scratch::ScratchDb;
use doorstep_store::{Backend, ListQuery, Store, WriteCtx};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

/// What to run.
#[derive(Debug, Clone)]
pub struct RegisterBench {
    pub backend: Backend,
    /// Households in the neighbourhood's roster (about 2.4 people each).
    pub neighbourhood_households: usize,
    /// Households in the subdistrict's roster.
    pub subdistrict_households: usize,
    /// Households in the measured worker's block.
    pub block_households: usize,
    /// Page loads per latency figure.
    pub samples: usize,
}

/// The roster as a committee keeps it: the template's columns, `households` homes spread
/// over `buildings`, the people invented from a fixed seed.
fn roster(
    rng: &mut StdRng,
    buildings: &[BuildingChoice],
    households: usize,
    today: NaiveDate,
    taken: &mut HashSet<String>,
) -> Vec<Vec<String>> {
    use crate::demo::register as demo;
    use rand::Rng;
    let mut sheet = vec![COLUMNS.iter().map(|(n, _)| n.to_string()).collect()];
    let per = households.div_ceil(buildings.len().max(1));
    for k in 0..households {
        let b = &buildings[k / per];
        let i = k % per;
        let (unit, room) = (i / 24 + 1, format!("{}{:02}", i % 24 / 4 + 1, i % 4 + 1));
        let people = demo::household(rng, today);
        let alone = people.len() == 1;
        for (name, male, birth) in people {
            let age = doorstep_domain::people::age_on(birth, today);
            let tags: Vec<&str> = demo::tags(rng, age, alone)
                .iter()
                .filter_map(|t| word(t))
                .collect();
            let phone = format!("139{:08}", rng.random_range(0..100_000_000u32));
            sheet.push(vec![
                b.estate.clone(),
                b.number.clone(),
                unit.to_string(),
                room.clone(),
                name,
                demo::id_number(birth, male, rng, taken),
                if age >= 16 { phone } else { String::new() },
                if rng.random_bool(0.85) {
                    "户籍"
                } else {
                    "人户分离"
                }
                .into(),
                tags.join("、"),
            ]);
        }
    }
    sheet
}

/// How a committee writes a tag in its sheet.
fn word(code: &str) -> Option<&'static str> {
    doorstep_services::register::import::TAG_WORDS
        .iter()
        .find(|(_, t)| t.code() == code)
        .map(|(w, _)| *w)
}

fn workbook(sheet: &[Vec<String>]) -> anyhow::Result<Vec<u8>> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in sheet.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(u32::try_from(r)?, u16::try_from(c)?, cell)?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// Reads and imports one roster as `who`; the figures of both phases.
async fn import_roster(
    sv: &doorstep_services::Services,
    who: &Caller,
    name: &str,
    sheet: &[Vec<String>],
) -> anyhow::Result<serde_json::Value> {
    let bytes = workbook(sheet)?;
    let rows = sheet.len() - 1;
    let phases = &mut super::Phases(Vec::new());
    let (table, parse) = phases
        .run_async(&format!("{name}_parse"), async {
            read_table("花名册.xlsx", &bytes)
        })
        .await;
    let table = table.map_err(|e| anyhow::anyhow!("reading: {}", e.code()))?;
    let (report, write) = phases
        .run_async(
            &format!("{name}_import"),
            import(sv, who, &table, Mode::AllOrNothing),
        )
        .await;
    let report = report.map_err(|e| anyhow::anyhow!("importing: {}", e.code()))?;
    anyhow::ensure!(
        report.errors.is_empty(),
        "the generated roster has errors: {:?}",
        &report.errors[..report.errors.len().min(5)]
    );
    let written = report.written.context("nothing written")?;
    Ok(json!({
        "rows": rows, "workbook_mb": (bytes.len() as f64 / 1e5).round() / 10.0,
        "written": {"households": written.households_added, "residents_new": written.residents_added, "residents_updated": written.residents_updated, "tags": written.tags_started},
        "rows_per_second": (rows as f64 / (parse + write)).round(),
        "import_rows_per_second": (rows as f64 / write).round(),
        "import_vs_parse": ((write / parse) * 100.0).round() / 100.0,
        "phases": phases.0,
    }))
}

async fn caller(store: &Store, username: &str) -> anyhow::Result<Caller> {
    let (account, _) = store
        .accounts()
        .find_login(username)
        .await?
        .with_context(|| format!("no account {username}"))?;
    Ok(Caller {
        actor: account.actor(),
        ip: None,
    })
}

/// Gives the first staffed block of the neighbourhood buildings until it holds at least
/// `households` registered homes; returns the block and its worker's user name.
async fn fill_block(
    store: &Store,
    sd: SubdistrictId,
    nb: doorstep_domain::NeighbourhoodId,
    households: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<(i64, String, usize)> {
    let scope = Scope::Neighbourhood {
        subdistrict_id: sd,
        neighbourhood_id: nb,
    };
    let all = ListQuery::new(scope).all();
    let block = store
        .places()
        .list(Entity::Block, &all)
        .await?
        .items
        .into_iter()
        .find(|b| b.get("worker_id").as_i64().is_some())
        .context("no staffed block")?;
    let worker = doorstep_domain::AccountId(block.get("worker_id").as_i64().unwrap_or(0));
    let username = store.accounts().get(worker).await?.username;
    let ctx = WriteCtx::system("bench", Some(sd), now);
    let mut held = 0;
    for b in store.places().list(Entity::Building, &all).await?.items {
        if held >= households {
            break;
        }
        held += store
            .register()
            .households_in(&[doorstep_domain::BuildingId(b.id)])
            .await?
            .len();
        store
            .places()
            .update(Entity::Building, b.id, None, &ctx, |cur| {
                let mut v = cur.values.clone();
                v.insert("block_id", doorstep_domain::Value::Int(block.id));
                Ok(v)
            })
            .await?;
    }
    Ok((block.id, username, held))
}

/// The block page's latency, one worker at a time, beside `/healthz`.
async fn block_page(
    url: &str,
    block: i64,
    worker: &str,
    samples: usize,
) -> anyhow::Result<serde_json::Value> {
    let config = Config {
        bind: "127.0.0.1:0".into(),
        database_url: url.into(),
        encryption_key: Some(crate::demo::DEMO_ENCRYPTION_KEY.into()),
        log: "warn".into(),
        ..Default::default()
    };
    let app = Application::build(&config, Some(true)).await?;
    let base = format!("http://{}", app.addr());
    let token =
        crate::startup::create_token_in(&app.state().services.store, worker, "bench", "bench")
            .await?;
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = app
            .run_until(async move {
                let _ = stop_rx.await;
            })
            .await;
    });
    let client = reqwest::Client::new();
    let page = format!("{base}/care/blocks/{block}");
    let mut out = serde_json::Map::new();
    for (name, path) in [
        ("ceiling_get_healthz", format!("{base}/healthz")),
        ("block_page", page),
    ] {
        for _ in 0..10 {
            client.get(&path).bearer_auth(&token).send().await?;
        }
        let mut xs = Vec::with_capacity(samples);
        for _ in 0..samples {
            let t = Stopwatch::start();
            let r = client.get(&path).bearer_auth(&token).send().await?;
            anyhow::ensure!(r.status().is_success(), "{path}: {}", r.status());
            r.bytes().await?;
            xs.push(t.secs());
        }
        let l = latency(xs);
        eprintln!("{name:<22} {l}");
        out.insert(name.into(), l);
    }
    let _ = stop.send(());
    let _ = task.await;
    Ok(out.into())
}

/// Runs the benchmark and returns its figures.
pub async fn register(b: &RegisterBench) -> anyhow::Result<serde_json::Value> {
    let now = doorstep_domain::Clock::now(&doorstep_domain::SystemClock);
    let db = ScratchDb::new(b.backend).await?;
    let store = db.store.clone();
    let hash = doorstep_services::signin::hash_password(crate::demo::DEMO_PASSWORD.into())
        .await
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    crate::demo::ensure(&store, now, async move || Ok(hash)).await?;
    let mut config = Config {
        database_url: db.url.clone(),
        ..Default::default()
    };
    config.set("encryption_key", crate::demo::DEMO_ENCRYPTION_KEY)?;
    let sv = crate::startup::services(store.clone(), Arc::new(ManualClock::new(now)), &config)?;
    let secretary = caller(&store, "mudan7-sec").await?;
    let admin = caller(&store, "admin").await?;
    let (sd, nb) = (
        secretary.actor.subdistrict_id,
        secretary
            .actor
            .neighbourhood_id
            .context("the secretary has no neighbourhood")?,
    );
    let today = now.date_naive();
    let (mut rng, mut taken) = (StdRng::seed_from_u64(11_643), HashSet::new());
    let scope = Scope::Neighbourhood {
        subdistrict_id: sd,
        neighbourhood_id: nb,
    };
    let local = building_choices(&sv, scope)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.code()))?;
    let sheet = roster(
        &mut rng,
        &local,
        b.neighbourhood_households,
        today,
        &mut taken,
    );
    let neighbourhood = import_roster(&sv, &secretary, "neighbourhood", &sheet).await?;
    drop(sheet);
    let everywhere = building_choices(&sv, Scope::Subdistrict(sd))
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.code()))?;
    let sheet = roster(
        &mut rng,
        &everywhere,
        b.subdistrict_households,
        today,
        &mut taken,
    );
    let subdistrict = import_roster(&sv, &admin, "subdistrict", &sheet).await?;
    drop(sheet);
    let (block, worker, held) = fill_block(&store, sd, nb, b.block_households, now).await?;
    store.analyze().await?;
    let mut page = block_page(&db.url, block, &worker, b.samples).await?;
    page["block_households"] = held.into();
    db.drop_db().await;
    Ok(json!({
        "benchmark": "register",
        "backend": match b.backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
        "neighbourhood_roster": neighbourhood,
        "subdistrict_roster": subdistrict,
        "block_page": page,
    }))
}

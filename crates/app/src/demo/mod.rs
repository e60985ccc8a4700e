//! The Huamu demo: 花木街道 with its 6 communities and 44 neighbourhoods (real names),
//! and invented estates, buildings, coordinates, people and accounts, all marked as demo
//! data. Built once into an empty database, deterministically.

mod bookings;
mod catalogue;
mod data;
mod network;
mod places;
pub(crate) mod register;
mod requests;
mod visits;

pub use catalogue::{add_catalogue, catalogue_items};
pub use network::add_network;
pub use register::add_register;
pub use requests::{DEMO_REQUESTS, add_requests, staffed_neighbourhoods};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use data::{GIVEN, PLACES, SEED_NEIGHBOURHOODS, SURNAMES};
use doorstep_domain::{Role, SubdistrictId, Value, Values};
use doorstep_store::{Store, WriteCtx};
use rand::Rng;
use rand::rngs::StdRng;

/// Marks a database that holds the demo.
pub const DEMO_MARKER: &str = "demo";
const DEMO_VERSION: &str = "huamu-2026-1";

/// The password of every demo account that can sign in. Demo only: it is printed.
pub const DEMO_PASSWORD: &str = "huamu-demo-2026";

/// The most households the demo registers per building (a building's recorded households,
/// up to this).
pub const DEMO_HOUSEHOLDS_PER_BUILDING: i64 = 24;

/// The key that seals the demo register's ID numbers and phones. Published here, so it
/// protects nothing: a real deployment sets its own `encryption_key`
/// (`doorstep keys generate`).
pub const DEMO_ENCRYPTION_KEY: &str = "RGVtbyBrZXkgLSBwdWJsaXNoZWQsIG5vdCBzZWNyZXQ=";

/// A sign-in printed when the demo starts.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    pub scope: String,
}

fn name(rng: &mut StdRng) -> String {
    format!(
        "{}{}",
        SURNAMES[rng.random_range(0..SURNAMES.len())],
        GIVEN[rng.random_range(0..GIVEN.len())]
    )
}

fn vals(pairs: Vec<(&'static str, Value)>) -> Values {
    pairs.into_iter().collect()
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// Keeps demo coordinates inside the subdistrict's box (31.20–31.23 N, 121.53–121.57 E).
fn clamp(lat: f64, lon: f64) -> (f64, f64) {
    (lat.clamp(31.2005, 31.2295), lon.clamp(121.5305, 121.5695))
}

/// A coordinate rounded to six decimals (about 0.1 m), as a field value.
fn coord(x: f64) -> Value {
    Value::Float((x * 1e6).round() / 1e6)
}

/// Writes of the demo builder: demo data, in the subdistrict (once there is one).
fn demo_ctx(sd: Option<SubdistrictId>, at: DateTime<Utc>) -> WriteCtx {
    WriteCtx {
        demo: true,
        ..WriteCtx::system("demo", sd, at)
    }
}

/// The sign-ins printed at start: one per role, the secretaries of the seed's
/// neighbourhoods, and 牡丹七's team.
pub fn logins() -> Vec<DemoLogin> {
    let login = |username: String, role, scope: String| DemoLogin {
        username,
        role,
        scope,
    };
    let mut out = vec![login("admin".into(), Role::Admin, "花木街道".into())];
    for (_, _, nbs) in PLACES {
        for (nb, _, slug, _) in *nbs {
            if SEED_NEIGHBOURHOODS.contains(slug) {
                out.push(login(
                    format!("{slug}-sec"),
                    Role::Secretary,
                    nb.to_string(),
                ));
            }
        }
    }
    for i in 1..=4 {
        let scope = format!("牡丹第七居民区 第{i}块区");
        out.push(login(format!("mudan7-w{i}"), Role::Worker, scope));
    }
    out.push(login(
        "mudan7-health".into(),
        Role::Partner,
        "花木社区卫生服务中心 (牡丹第七居民区)".into(),
    ));
    out.push(login(
        "mudan7-vol".into(),
        Role::Volunteer,
        "牡丹第七居民区".into(),
    ));
    out
}

/// Whether the database holds the demo.
pub async fn is_demo(store: &Store) -> anyhow::Result<bool> {
    Ok(store.meta().get(DEMO_MARKER).await?.is_some())
}

/// Loads the demo into an empty database, or does nothing when it is already there.
/// Returns whether it loaded. Refuses a database that holds other data. `now` is the
/// moment the demo's history leads up to (the caller's clock: the system's, or a pinned
/// one in tests).
pub async fn ensure(
    store: &Store,
    now: DateTime<Utc>,
    password_hash: impl AsyncFnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<bool> {
    if is_demo(store).await? {
        // Demo databases from before the 15-minute circle and the catalogue get them now.
        add_network(store, now).await?;
        add_catalogue(store, now).await?;
        add_requests(store, now).await?;
        bookings::add_bookings(store, now).await?;
        return Ok(false);
    }
    if store.accounts().count().await? > 0 || store.places().first_subdistrict().await?.is_some() {
        bail!(
            "this database already holds data that is not the demo; the demo needs an empty database (use DOORSTEP_DATABASE_URL to choose another)"
        );
    }
    let hash = password_hash().await?;
    places::load(store, &hash)
        .await
        .context("loading the demo data")?;
    add_network(store, now)
        .await
        .context("building the demo street network")?;
    add_catalogue(store, now)
        .await
        .context("loading the demo service catalogue")?;
    add_requests(store, now)
        .await
        .context("loading the demo requests")?;
    bookings::add_bookings(store, now)
        .await
        .context("loading the demo room bookings")?;
    store.meta().set(DEMO_MARKER, DEMO_VERSION).await?;
    Ok(true)
}

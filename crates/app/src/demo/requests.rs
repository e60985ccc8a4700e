//! The demo's requests: a few hundred of the last 60 days in every state, in the
//! neighbourhoods with staff (those whose staff sign in busier, 牡丹七 the most), plus
//! second reports of open matters merged into the first.

use super::{demo_ctx, logins};
use anyhow::bail;
use chrono::{DateTime, Duration, Utc};
use doorstep_domain::calendar::WorkCalendar;
use doorstep_domain::requests::{Channel, Move, Relation};
use doorstep_domain::{Role, SubdistrictId};
use doorstep_store::{AccountFilter, PastRequest, RequestFilter, Store, WriteCtx};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How many requests the demo holds (over the last 60 days).
pub const DEMO_REQUESTS: usize = 720;

/// The neighbourhoods of a subdistrict that have staff accounts, with their staff
/// (secretary first) and buildings, for generated requests.
pub async fn staffed_neighbourhoods(
    store: &Store,
    sd: SubdistrictId,
) -> anyhow::Result<Vec<crate::request_gen::GenNeighbourhood>> {
    let buildings = store.geo().building_points(sd).await?;
    let all = AccountFilter {
        limit: 100_000,
        ..AccountFilter::of(sd)
    };
    let accounts = store.accounts().list(&all).await?.items;
    let staff_of = |a: &doorstep_store::Account| {
        matches!(a.role, Role::Secretary | Role::Worker) && !a.disabled
    };
    let mut nb_ids: Vec<_> = accounts
        .iter()
        .filter(|a| staff_of(a))
        .filter_map(|a| a.neighbourhood_id)
        .collect();
    nb_ids.sort_unstable();
    nb_ids.dedup();
    let mut out = Vec::new();
    for nb in nb_ids {
        let mut staff: Vec<_> = accounts
            .iter()
            .filter(|a| a.neighbourhood_id == Some(nb) && staff_of(a))
            .collect();
        staff.sort_by_key(|a| (a.role != Role::Secretary, a.id));
        out.push(crate::request_gen::GenNeighbourhood {
            id: nb,
            subdistrict_id: sd,
            staff: staff.iter().map(|a| (a.id, a.username.clone())).collect(),
            buildings: buildings
                .iter()
                .filter(|b| b.neighbourhood_id == nb)
                .map(|b| (b.id, b.lat, b.lon, format!("{} {}", b.estate, b.number)))
                .collect(),
        });
    }
    Ok(out)
}

/// Second reports of open matters at a building, a few hours after the first: each
/// with the tracking code of the request it repeats.
fn second_reports(
    past: &[PastRequest],
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> Vec<(String, PastRequest)> {
    let unresolved = |p: &&PastRequest| {
        p.new.building_id.is_some()
            && p.moves
                .iter()
                .all(|m| !matches!(m.mv, Move::Resolve { .. } | Move::ResolveOnSpot { .. }))
    };
    let mut dups = Vec::new();
    for (k, t) in past.iter().filter(unresolved).take(16).enumerate() {
        let mut d = t.clone();
        d.new.tracking_code = crate::request_gen::code_for("DD", k as u64);
        d.new.description = format!("{}，之前好像有人反映过，还没解决", t.new.description);
        d.new.channel = Channel::Phone;
        d.received_at = t.received_at + Duration::minutes(rng.random_range(30..600));
        d.moves.clear();
        if d.received_at < now - Duration::minutes(30) {
            dups.push((t.new.tracking_code.clone(), d));
        }
    }
    dups
}

/// Merges each second report into the request it repeats, as its receiver would.
async fn merge(
    store: &Store,
    dups: Vec<(String, PastRequest)>,
    ctx: &WriteCtx,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for (target_code, d) in dups {
        let (Some(t), Some(dup)) = (
            store.requests().find_by_code(&target_code).await?,
            store.requests().find_by_code(&d.new.tracking_code).await?,
        ) else {
            continue;
        };
        let at = t.updated_at.max(dup.created_at) + Duration::minutes(10);
        if at >= now || !t.workflow.state.is_open() {
            continue;
        }
        let c = WriteCtx {
            actor_id: Some(dup.owner_id),
            actor_name: d.receiver.clone(),
            at,
            ..ctx.clone()
        };
        store
            .requests()
            .merge(dup.id, dup.version, t.id, Relation::Owner, &c)
            .await?;
    }
    Ok(())
}

pub async fn add_requests(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(sd) = store.places().first_subdistrict().await? else {
        bail!("no subdistrict")
    };
    let sd = sd.subdistrict_id;
    let any = RequestFilter {
        limit: 1,
        ..RequestFilter::of(sd)
    };
    if store.requests().list(&any).await?.total > 0 {
        return Ok(());
    }
    let mut nbs = staffed_neighbourhoods(store, sd).await?;
    if nbs.is_empty() {
        return Ok(());
    }
    // The neighbourhoods whose staff sign in to the demo are busier, 牡丹七 the most.
    let logins: Vec<String> = logins().into_iter().map(|l| l.username).collect();
    let busy: Vec<_> = nbs
        .iter()
        .filter(|n| n.staff.iter().any(|(_, u)| logins.contains(u)))
        .cloned()
        .collect();
    for n in busy {
        let model = n.staff.iter().any(|(_, u)| u.starts_with("mudan7-"));
        nbs.extend(std::iter::repeat_n(n, if model { 10 } else { 3 }));
    }
    let items = super::catalogue_items(store, sd).await?;
    let calendar = WorkCalendar::china()?;
    let mut rng = StdRng::seed_from_u64(20_261_129);
    let mut past = crate::request_gen::generate(
        &mut rng,
        &nbs,
        &items,
        DEMO_REQUESTS,
        now,
        60,
        &calendar,
        "DM",
        0,
    );
    let dups = second_reports(&past, &mut rng, now);
    past.extend(dups.iter().map(|(_, d)| d.clone()));
    let ctx = demo_ctx(Some(sd), now);
    store.requests().load(&past, &ctx).await?;
    merge(store, dups, &ctx, now).await
}

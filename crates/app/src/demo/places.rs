//! The demo's places and people: the subdistrict and its communities (real), and per
//! neighbourhood its secretary and workers, estates, blocks, buildings, station and rooms
//! (invented). One seeded generator draws everything in a fixed order, so every build is
//! the same.

use super::data::{MODEL_ROOMS, PARTNERS, PLACES, ROADS, SEED_NEIGHBOURHOODS, SURNAMES};
use super::{clamp, coord, demo_ctx, name, text, vals};
use doorstep_domain::{AccountId, Entity, NeighbourhoodId, Role, SubdistrictId, Value, Values};
use doorstep_store::{NewAccount, Store, WriteCtx};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What every step of the build needs.
struct Builder<'a> {
    store: &'a Store,
    rng: StdRng,
    /// Invented records.
    ctx: WriteCtx,
    /// Real ones (the subdistrict, its communities, named partners are not marked demo).
    real: WriteCtx,
    sd: SubdistrictId,
    /// The demo password's hash, for accounts that sign in.
    hash: &'a str,
}

/// One neighbourhood being built.
struct Nb<'a> {
    id: NeighbourhoodId,
    short: &'a str,
    slug: &'a str,
    high_rise: bool,
    /// 牡丹七, the model station.
    model: bool,
    centre: (f64, f64),
}

fn account(
    username: String,
    display_name: String,
    role: Role,
    nb: NeighbourhoodId,
    hash: Option<&str>,
) -> NewAccount {
    NewAccount {
        username,
        display_name,
        role,
        neighbourhood_id: Some(nb),
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: hash.map(str::to_string),
    }
}

pub(super) async fn load(store: &Store, hash: &str) -> anyhow::Result<()> {
    let at =
        chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z")?.with_timezone(&chrono::Utc);
    let real = WriteCtx {
        demo: false,
        ..demo_ctx(None, at)
    };
    let subdistrict = vals(vec![
        ("name", text("花木街道")),
        ("code", text("310115016")),
        ("district", text("浦东新区")),
        ("address", text("玉兰路218号")),
        ("phone", Value::Null),
    ]);
    let sd = store
        .places()
        .create(Entity::Subdistrict, &subdistrict, &real)
        .await?;
    let sd = SubdistrictId(sd.id);
    let mut b = Builder {
        store,
        rng: StdRng::seed_from_u64(20_261_128),
        ctx: demo_ctx(Some(sd), at),
        real: WriteCtx {
            subdistrict_id: Some(sd),
            ..real
        },
        sd,
        hash,
    };
    let admin = NewAccount {
        username: "admin".into(),
        display_name: "演示·街道管理员".into(),
        role: Role::Admin,
        neighbourhood_id: None,
        partner_unit: None,
        phone: None,
        locale: "zh-CN".into(),
        password_hash: Some(hash.to_string()),
    };
    store.accounts().create(sd, &admin, &b.ctx).await?;
    for (community, centre, nbs) in PLACES {
        let com = vals(vec![
            ("subdistrict_id", Value::Int(sd.get())),
            ("name", text(format!("{community}社区"))),
            ("description", Value::Null),
        ]);
        let com = store
            .places()
            .create(Entity::Community, &com, &b.real)
            .await?;
        for (i, (nb_name, short, slug, high_rise)) in nbs.iter().enumerate() {
            neighbourhood(
                &mut b,
                com.id,
                *centre,
                i,
                (nb_name, short, slug, *high_rise),
            )
            .await?;
        }
    }
    partners(&b).await
}

/// One neighbourhood with everything in it.
async fn neighbourhood(
    b: &mut Builder<'_>,
    community: i64,
    centre: [f64; 2],
    i: usize,
    (name_, short, slug, high_rise): (&str, &str, &str, bool),
) -> anyhow::Result<()> {
    let model = slug == "mudan7";
    let secretary = name(&mut b.rng);
    let target_households: i64 = b.rng.random_range(1000..=2500);
    let (row, col) = ((i / 3) as f64 - 1.0, (i % 3) as f64 - 1.0);
    let lat = centre[0] + row * 0.0050 + b.rng.random_range(-0.0008..0.0008);
    let lon = centre[1] + col * 0.0060 + b.rng.random_range(-0.0008..0.0008);
    // The neighbourhood's name is real; its figures and secretary are invented.
    let committee = format!("{}居民委员会", name_.trim_end_matches("居民区"));
    let values = vals(vec![
        ("community_id", Value::Int(community)),
        ("name", text(name_)),
        ("short_name", text(short)),
        ("committee_name", text(committee)),
        ("secretary_name", text(secretary.clone())),
        ("office_phone", Value::Null),
        ("address", Value::Null),
        ("households", Value::Null),
        ("population", Value::Null),
    ]);
    let rec = b
        .store
        .places()
        .create(Entity::Neighbourhood, &values, &b.ctx)
        .await?;
    let nb = Nb {
        id: NeighbourhoodId(rec.id),
        short,
        slug,
        high_rise,
        model,
        centre: clamp(lat, lon),
    };
    let workers = staff(b, &nb, &secretary).await?;
    let (estates, centres) = estates(b, &nb).await?;
    let blocks = blocks(b, &nb, &workers).await?;
    let households = buildings(b, &nb, target_households, &estates, &centres, &blocks).await?;
    b.store
        .places()
        .update(Entity::Neighbourhood, nb.id.get(), None, &b.ctx, |cur| {
            let mut v = cur.values.clone();
            v.insert("households", Value::Int(households));
            let population = (households as f64 * 2.6).round() as i64;
            v.insert("population", Value::Int(population));
            Ok(v)
        })
        .await?;
    station(b, &nb).await
}

/// The secretary, one worker per block, and for 牡丹七 a partner and a volunteer. Only
/// the printed ones can sign in. Returns the workers, one per block.
async fn staff(
    b: &mut Builder<'_>,
    nb: &Nb<'_>,
    secretary: &str,
) -> anyhow::Result<Vec<AccountId>> {
    let signs_in = SEED_NEIGHBOURHOODS.contains(&nb.slug);
    let sec = account(
        format!("{}-sec", nb.slug),
        format!("{secretary}（书记）"),
        Role::Secretary,
        nb.id,
        signs_in.then_some(b.hash),
    );
    b.store.accounts().create(b.sd, &sec, &b.ctx).await?;
    let n_blocks = if nb.model {
        4
    } else {
        b.rng.random_range(4..=6)
    };
    let mut workers = Vec::new();
    for i in 1..=n_blocks {
        let w = account(
            format!("{}-w{i}", nb.slug),
            format!("{}（社工）", name(&mut b.rng)),
            Role::Worker,
            nb.id,
            nb.model.then_some(b.hash),
        );
        workers.push(b.store.accounts().create(b.sd, &w, &b.ctx).await?.id);
    }
    if nb.model {
        let team = [
            (
                "mudan7-health",
                "演示·家庭医生",
                Role::Partner,
                Some("花木社区卫生服务中心"),
            ),
            ("mudan7-vol", "演示·志愿者骨干", Role::Volunteer, None),
        ];
        for (u, d, role, unit) in team {
            let mut a = account(u.into(), d.into(), role, nb.id, Some(b.hash));
            a.partner_unit = unit.map(str::to_string);
            b.store.accounts().create(b.sd, &a, &b.ctx).await?;
        }
    }
    Ok(workers)
}

/// Estates (牡丹七 serves 10), each on a street near the neighbourhood's centre: their
/// ids and centres.
async fn estates(b: &mut Builder<'_>, nb: &Nb<'_>) -> anyhow::Result<(Vec<i64>, Vec<(f64, f64)>)> {
    let n_estates = if nb.model {
        10
    } else {
        b.rng.random_range(2..=5)
    };
    let mut rows = Vec::new();
    let mut centres = Vec::new();
    let mut used = std::collections::HashSet::new();
    while rows.len() < n_estates {
        let road = ROADS[b.rng.random_range(0..ROADS.len())];
        let lane = b.rng.random_range(1..60) * 10 + 8;
        let estate_name = format!("{road}{lane}弄");
        if !used.insert(estate_name.clone()) {
            continue;
        }
        let built: i64 = if nb.high_rise {
            b.rng.random_range(1998..=2012)
        } else {
            b.rng.random_range(1984..=1998)
        };
        let manager = format!("{}物业", SURNAMES[b.rng.random_range(0..SURNAMES.len())]);
        rows.push(vals(vec![
            ("neighbourhood_id", Value::Int(nb.id.get())),
            ("name", text(estate_name)),
            ("address", text(format!("浦东新区{road}{lane}弄"))),
            ("built_year", Value::Int(built)),
            ("property_manager", text(manager)),
        ]));
        let (clat, clon) = nb.centre;
        centres.push(clamp(
            clat + b.rng.random_range(-0.0022..0.0022),
            clon + b.rng.random_range(-0.0025..0.0025),
        ));
    }
    let ids = b
        .store
        .places()
        .create_many(Entity::Estate, &rows, &b.ctx)
        .await?;
    Ok((ids, centres))
}

/// One block per worker.
async fn blocks(
    b: &mut Builder<'_>,
    nb: &Nb<'_>,
    workers: &[AccountId],
) -> anyhow::Result<Vec<i64>> {
    let rows: Vec<Values> = workers
        .iter()
        .enumerate()
        .map(|(i, w)| {
            vals(vec![
                ("neighbourhood_id", Value::Int(nb.id.get())),
                ("name", text(format!("第{}块区", i + 1))),
                ("worker_id", Value::Int(w.get())),
                ("description", Value::Null),
            ])
        })
        .collect();
    Ok(b.store
        .places()
        .create_many(Entity::Block, &rows, &b.ctx)
        .await?)
}

/// Buildings until the neighbourhood reaches its households, spread over its estates
/// and blocks; returns the households.
async fn buildings(
    b: &mut Builder<'_>,
    nb: &Nb<'_>,
    target_households: i64,
    estate_ids: &[i64],
    centres: &[(f64, f64)],
    block_ids: &[i64],
) -> anyhow::Result<i64> {
    let n_estates = estate_ids.len();
    let mut plan: Vec<(usize, i64, i64, i64)> = Vec::new(); // estate, units, floors, households
    let mut households = 0;
    while households < target_households {
        let estate = plan.len() % n_estates;
        let (units, floors, per_floor) = if nb.high_rise {
            (b.rng.random_range(1..=2), b.rng.random_range(11..=28), 4)
        } else {
            (b.rng.random_range(2..=4), 6, 2)
        };
        let h = units * floors * per_floor;
        households += h;
        plan.push((estate, units, floors, h));
    }
    plan.sort_by_key(|p| p.0);
    let n_blocks = block_ids.len();
    let per_block = plan.len().div_ceil(n_blocks);
    let mut rows = Vec::new();
    let mut number_in_estate = vec![0; n_estates];
    for (k, (estate, units, floors, h)) in plan.iter().enumerate() {
        number_in_estate[*estate] += 1;
        let n = number_in_estate[*estate];
        let (elat, elon) = centres[*estate];
        let (lat, lon) = clamp(
            elat + ((n / 4) as f64) * 0.00035 + b.rng.random_range(-0.00008..0.00008),
            elon + ((n % 4) as f64) * 0.00040 + b.rng.random_range(-0.00008..0.00008),
        );
        let leader = if b.rng.random_bool(0.7) {
            text(name(&mut b.rng))
        } else {
            Value::Null
        };
        rows.push(vals(vec![
            ("estate_id", Value::Int(estate_ids[*estate])),
            ("number", text(format!("{n}号"))),
            ("units", Value::Int(*units)),
            ("floors", Value::Int(*floors)),
            ("households", Value::Int(*h)),
            ("lat", coord(lat)),
            ("lon", coord(lon)),
            ("leader_name", leader),
            (
                "block_id",
                Value::Int(block_ids[(k / per_block).min(n_blocks - 1)]),
            ),
        ]));
    }
    b.store
        .places()
        .create_many(Entity::Building, &rows, &b.ctx)
        .await?;
    Ok(households)
}

fn room(station: i64, name: &str, kind: &str, area: f64, capacity: i64, office: bool) -> Values {
    vals(vec![
        ("station_id", Value::Int(station)),
        ("name", text(name)),
        ("kind", text(kind)),
        ("area_m2", Value::Float(area)),
        ("capacity", Value::Int(capacity)),
        ("is_office", Value::Bool(office)),
    ])
}

/// The station and its function rooms: 牡丹七's as the seed names them; elsewhere most of
/// the same rooms and an office that the upgraded stations have cut down.
async fn station(b: &mut Builder<'_>, nb: &Nb<'_>) -> anyhow::Result<()> {
    let (slat, slon) = clamp(nb.centre.0 + 0.0004, nb.centre.1 - 0.0004);
    let upgraded = nb.model || b.rng.random_bool(0.6);
    let road = ROADS[b.rng.random_range(0..ROADS.len())];
    let number = b.rng.random_range(1..400);
    let before = if nb.model {
        300.0
    } else {
        f64::from(b.rng.random_range(12..=30)) * 10.0
    };
    let values = vals(vec![
        ("neighbourhood_id", Value::Int(nb.id.get())),
        ("name", text(format!("{}“家门口”服务站", nb.short))),
        ("address", text(format!("浦东新区{road}{number}号"))),
        ("opening_hours", text("周一至周日 8:30–17:00")),
        ("phone", Value::Null),
        ("lat", coord(slat)),
        ("lon", coord(slon)),
        ("office_area_before_m2", Value::Float(before)),
        ("is_model", Value::Bool(nb.model)),
    ]);
    let station = b
        .store
        .places()
        .create_many(Entity::Station, &[values], &b.ctx)
        .await?[0];
    let mut rooms: Vec<Values> = Vec::new();
    if nb.model {
        rooms.extend(
            MODEL_ROOMS
                .iter()
                .map(|(n, k, a, c, o)| room(station, n, k, *a, *c, *o)),
        );
    } else {
        for (n, k, a, c, o) in MODEL_ROOMS.iter().filter(|(_, k, ..)| *k != "office") {
            if *k == "reception" || b.rng.random_bool(0.75) {
                let area = (a * b.rng.random_range(0.7..1.3)).round();
                rooms.push(room(station, n, k, area, *c, *o));
            }
        }
        let office = if upgraded {
            b.rng.random_range(2..=6) * 10
        } else {
            b.rng.random_range(8..=20) * 10
        };
        rooms.push(room(
            station,
            "社工办公区",
            "office",
            f64::from(office),
            12,
            true,
        ));
    }
    b.store
        .places()
        .create_many(Entity::Room, &rooms, &b.ctx)
        .await?;
    Ok(())
}

/// Partner units the seed names (real names, invented coordinates) and a few invented
/// ones, around 牡丹.
async fn partners(b: &Builder<'_>) -> anyhow::Result<()> {
    let (mlat, mlon) = (31.2125, 121.5480);
    let rows: Vec<Values> = PARTNERS
        .iter()
        .map(|(name, kind, resources, dlat, dlon)| {
            vals(vec![
                ("subdistrict_id", Value::Int(b.sd.get())),
                ("name", text(*name)),
                ("kind", text(*kind)),
                ("neighbourhood_id", Value::Null),
                ("address", Value::Null),
                ("contact_name", Value::Null),
                ("phone", Value::Null),
                ("lat", coord(mlat + dlat)),
                ("lon", coord(mlon + dlon)),
                ("resources", text(*resources)),
                ("description", Value::Null),
            ])
        })
        .collect();
    b.store
        .places()
        .create_many(Entity::Partner, &rows, &b.ctx)
        .await?;
    Ok(())
}

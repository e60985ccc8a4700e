//! The Huamu demo: 花木街道 with its 6 communities and 44 neighbourhoods (real names),
//! and invented estates, buildings, coordinates, people and accounts, all marked as demo
//! data. Built once into an empty database, deterministically.

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use doorstep_domain::{Entity, Role, Value, Values};
use doorstep_geo::Category;
use doorstep_store::{NewAccount, Store, WriteCtx};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Marks a database that holds the demo.
pub const DEMO_MARKER: &str = "demo";
const DEMO_VERSION: &str = "huamu-2026-1";

/// The password of every demo account that can sign in. Demo only: it is printed.
pub const DEMO_PASSWORD: &str = "huamu-demo-2026";

/// A sign-in printed when the demo starts.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    pub scope: String,
}

/// A neighbourhood: name, short name, user-name slug, whether its estates are high-rise.
type DemoNeighbourhood = (&'static str, &'static str, &'static str, bool);

/// Communities with their centre (lat, lon) and neighbourhoods.
const PLACES: &[(&str, [f64; 2], &[DemoNeighbourhood])] = &[
    (
        "牡丹",
        [31.2125, 121.5480],
        &[
            ("牡丹第一居民区", "牡丹一", "mudan1", false),
            ("牡丹第二居民区", "牡丹二", "mudan2", false),
            ("牡丹第三居民区", "牡丹三", "mudan3", false),
            ("牡丹第四居民区", "牡丹四", "mudan4", false),
            ("牡丹第五居民区", "牡丹五", "mudan5", false),
            ("牡丹第六居民区", "牡丹六", "mudan6", false),
            ("牡丹第七居民区", "牡丹七", "mudan7", false),
        ],
    ),
    (
        "由由",
        [31.2085, 121.5365],
        &[
            ("由由第一居民区", "由由一", "youyou1", false),
            ("由由第二居民区", "由由二", "youyou2", false),
            ("由由第四居民区", "由由四", "youyou4", false),
            ("由由第五居民区", "由由五", "youyou5", false),
            ("由由第六居民区", "由由六", "youyou6", false),
            ("由由第七居民区", "由由七", "youyou7", false),
            ("蓝天居民区", "蓝天", "lantian", true),
        ],
    ),
    (
        "培花",
        [31.2035, 121.5460],
        &[
            ("培花新村第一居民区", "培花一", "peihua1", false),
            ("培花新村第二居民区", "培花二", "peihua2", false),
            ("培花新村第三居民区", "培花三", "peihua3", false),
            ("培花新村第四居民区", "培花四", "peihua4", false),
            ("培花新村第五居民区", "培花五", "peihua5", false),
            ("培花新村第六居民区", "培花六", "peihua6", false),
            ("培花新村第七居民区", "培花七", "peihua7", false),
            ("培花新村第八居民区", "培花八", "peihua8", false),
        ],
    ),
    (
        "钦洋",
        [31.2055, 121.5610],
        &[
            ("花木新村第一居民区", "花木一", "huamu1", false),
            ("花木新村第二居民区", "花木二", "huamu2", false),
            ("花木新村第三居民区", "花木三", "huamu3", false),
            ("花木新村第四居民区", "花木四", "huamu4", false),
            ("花木新村第五居民区", "花木五", "huamu5", false),
            ("花木新村第六居民区", "花木六", "huamu6", false),
            ("花木新村第七居民区", "花木七", "huamu7", false),
            ("锦绣居民区", "锦绣", "jinxiu", true),
        ],
    ),
    (
        "联洋",
        [31.2225, 121.5600],
        &[
            ("联洋第一居民区", "联洋一", "lianyang1", true),
            ("联洋第二居民区", "联洋二", "lianyang2", true),
            ("联洋第三居民区", "联洋三", "lianyang3", true),
            ("联洋第四居民区", "联洋四", "lianyang4", true),
            ("联洋第五居民区", "联洋五", "lianyang5", true),
            ("明月第一居民区", "明月一", "mingyue1", true),
            ("天安第一居民区", "天安一", "tianan1", true),
            ("万邦第一居民区", "万邦一", "wanbang1", true),
        ],
    ),
    (
        "东城",
        [31.2215, 121.5380],
        &[
            ("东城第一居民区", "东城一", "dongcheng1", false),
            ("东城第二居民区", "东城二", "dongcheng2", false),
            ("东城第三居民区", "东城三", "dongcheng3", false),
            ("东城第四居民区", "东城四", "dongcheng4", false),
            ("东城第五居民区", "东城五", "dongcheng5", false),
            ("东城第六居民区", "东城六", "dongcheng6", false),
        ],
    ),
];

/// The neighbourhoods the seed text names: their secretaries get demo sign-ins.
const SEED_NEIGHBOURHOODS: &[&str] = &["lianyang5", "youyou7", "dongcheng5", "mudan6", "mudan7"];

const ROADS: &[&str] = &[
    "牡丹路",
    "芳甸路",
    "梅花路",
    "玉兰路",
    "花木路",
    "锦绣路",
    "东绣路",
    "樱花路",
    "石楠路",
    "丁香路",
    "海桐路",
    "紫薇路",
    "迎春路",
    "合欢路",
    "长柳路",
    "民生路",
    "罗山路",
    "白杨路",
    "银霄路",
    "兰花路",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "桂英", "玉兰", "志强", "丽华", "海燕", "伟", "芳", "敏", "静", "军", "磊",
    "洋", "艳", "勇", "娟", "涛", "明", "霞",
];

/// Function rooms of the model station 牡丹七 as the seed names them (office cut to 30 m²).
const MODEL_ROOMS: &[(&str, &str, f64, i64, bool)] = &[
    ("首问接待区", "reception", 40.0, 10, false),
    ("党建服务站", "party_service", 45.0, 20, false),
    ("文化客厅", "culture_lounge", 80.0, 40, false),
    ("联勤联动服务站", "joint_duty", 30.0, 8, false),
    ("综合活动室", "activity", 120.0, 90, false),
    ("健康小屋", "health_cabin", 25.0, 6, false),
    ("绿色小屋", "green_cabin", 15.0, 4, false),
    ("社工办公区", "office", 30.0, 12, true),
];

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

/// The sign-ins printed at start: one per role, the secretaries of the seed's
/// neighbourhoods, and 牡丹七's team.
pub fn logins() -> Vec<DemoLogin> {
    let mut out = vec![DemoLogin {
        username: "admin".into(),
        role: Role::Admin,
        scope: "花木街道".into(),
    }];
    for (_, _, nbs) in PLACES {
        for (nb, _, slug, _) in *nbs {
            if SEED_NEIGHBOURHOODS.contains(slug) {
                out.push(DemoLogin {
                    username: format!("{slug}-sec"),
                    role: Role::Secretary,
                    scope: nb.to_string(),
                });
            }
        }
    }
    for i in 1..=4 {
        out.push(DemoLogin {
            username: format!("mudan7-w{i}"),
            role: Role::Worker,
            scope: format!("牡丹第七居民区 第{i}块区"),
        });
    }
    out.push(DemoLogin {
        username: "mudan7-health".into(),
        role: Role::Partner,
        scope: "花木社区卫生服务中心 (牡丹第七居民区)".into(),
    });
    out.push(DemoLogin {
        username: "mudan7-vol".into(),
        role: Role::Volunteer,
        scope: "牡丹第七居民区".into(),
    });
    out
}

/// Whether the database holds the demo.
pub async fn is_demo(store: &Store) -> anyhow::Result<bool> {
    Ok(store.get_meta(DEMO_MARKER).await?.is_some())
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
        return Ok(false);
    }
    if store.count_accounts().await? > 0 || store.first_subdistrict().await?.is_some() {
        bail!(
            "this database already holds data that is not the demo; the demo needs an empty database (use DOORSTEP_DATABASE_URL to choose another)"
        );
    }
    let hash = password_hash().await?;
    load(store, &hash).await.context("loading the demo data")?;
    add_network(store, now)
        .await
        .context("building the demo street network")?;
    add_catalogue(store, now)
        .await
        .context("loading the demo service catalogue")?;
    add_requests(store, now)
        .await
        .context("loading the demo requests")?;
    store.set_meta(DEMO_MARKER, DEMO_VERSION).await?;
    Ok(true)
}

/// The demo service catalogue (67 items across the 8 categories), marked as demo data.
pub async fn add_catalogue(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(sd) = store.first_subdistrict().await? else {
        bail!("no subdistrict")
    };
    let existing = store
        .list_places(
            Entity::ServiceItem,
            &doorstep_store::ListQuery::new(doorstep_domain::Scope::Subdistrict(sd.id)),
        )
        .await?;
    if existing.total > 0 {
        return Ok(());
    }
    let items = doorstep_domain::catalogue::demo_catalogue()
        .map_err(|e| anyhow::anyhow!("demo catalogue: {e}"))?;
    let rows: Vec<Values> = items
        .iter()
        .map(|it| {
            vals(vec![
                ("subdistrict_id", Value::Int(sd.id)),
                ("category", text(it.category.code())),
                ("name", text(it.name.clone())),
                ("description", text(it.description.clone())),
                ("eligibility", text(it.eligibility.clone())),
                (
                    "materials",
                    if it.materials.is_empty() {
                        Value::Null
                    } else {
                        text(it.materials.join("\n"))
                    },
                ),
                (
                    "steps",
                    if it.steps.is_empty() {
                        Value::Null
                    } else {
                        text(it.steps.join("\n"))
                    },
                ),
                ("location", text(it.location.clone())),
                ("time_limit_days", Value::Int(i64::from(it.time_limit_days))),
                ("post", text(it.post.clone())),
                ("remote_assist", Value::Bool(it.remote_assist)),
            ])
        })
        .collect();
    let ctx = WriteCtx {
        actor_id: None,
        actor_name: "demo".into(),
        subdistrict_id: Some(sd.id),
        ip: None,
        at: now,
        demo: true,
    };
    store
        .create_places(Entity::ServiceItem, &rows, &ctx)
        .await?;
    Ok(())
}

/// How many requests the demo holds (over the last 60 days).
pub const DEMO_REQUESTS: usize = 720;

/// The neighbourhoods of a subdistrict that have staff accounts, with their staff
/// (secretary first) and buildings, for generated requests.
pub async fn staffed_neighbourhoods(
    store: &Store,
    sd: i64,
) -> anyhow::Result<Vec<crate::request_gen::GenNeighbourhood>> {
    let buildings = store.building_points(sd).await?;
    let accounts = store
        .list_accounts(sd, None, None, None, 100_000, 0)
        .await?;
    let mut out = Vec::new();
    let mut nb_ids: Vec<i64> = accounts
        .items
        .iter()
        .filter(|a| matches!(a.role, Role::Secretary | Role::Worker) && !a.disabled)
        .filter_map(|a| a.neighbourhood_id)
        .collect();
    nb_ids.sort_unstable();
    nb_ids.dedup();
    for nb in nb_ids {
        let mut staff: Vec<&doorstep_store::Account> = accounts
            .items
            .iter()
            .filter(|a| {
                a.neighbourhood_id == Some(nb)
                    && matches!(a.role, Role::Secretary | Role::Worker)
                    && !a.disabled
            })
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

/// The subdistrict's catalogue items, for generated requests.
pub async fn catalogue_items(
    store: &Store,
    sd: i64,
) -> anyhow::Result<Vec<crate::request_gen::GenItem>> {
    let items = store
        .list_places(
            Entity::ServiceItem,
            &doorstep_store::ListQuery::new(doorstep_domain::Scope::Subdistrict(sd)).all(),
        )
        .await?;
    Ok(items
        .items
        .iter()
        .map(|i| crate::request_gen::GenItem {
            id: i.id,
            name: i.get("name").as_str().unwrap_or("").to_string(),
        })
        .collect())
}

/// A few hundred requests of the last 60 days in every state, in the neighbourhoods with
/// staff (牡丹七 twice as busy), plus some duplicates merged into the first report.
pub async fn add_requests(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(sd) = store.first_subdistrict().await? else {
        bail!("no subdistrict")
    };
    let existing = store
        .list_requests(&doorstep_store::RequestFilter {
            subdistrict_id: sd.id,
            limit: 1,
            ..Default::default()
        })
        .await?;
    if existing.total > 0 {
        return Ok(());
    }
    let mut nbs = staffed_neighbourhoods(store, sd.id).await?;
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
        let copies = if n.staff.iter().any(|(_, u)| u.starts_with("mudan7-")) {
            10
        } else {
            3
        };
        nbs.extend(std::iter::repeat_n(n, copies));
    }
    let items = catalogue_items(store, sd.id).await?;
    let calendar = doorstep_domain::calendar::WorkCalendar::china();
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
    // Duplicates: a second report of an open matter at the same building, a few hours later.
    let targets: Vec<usize> = past
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            p.new.building_id.is_some()
                && p.moves.iter().all(|m| {
                    !matches!(
                        m.mv,
                        doorstep_domain::requests::Move::Resolve { .. }
                            | doorstep_domain::requests::Move::ResolveOnSpot { .. }
                    )
                })
        })
        .map(|(i, _)| i)
        .take(16)
        .collect();
    let mut dups = Vec::new();
    for (k, &i) in targets.iter().enumerate() {
        let t = &past[i];
        let mut d = t.clone();
        d.new.tracking_code = crate::request_gen::code_for("DD", k as u64);
        d.new.description = format!("{}，之前好像有人反映过，还没解决", t.new.description);
        d.new.channel = doorstep_domain::requests::Channel::Phone;
        d.received_at = t.received_at + chrono::Duration::minutes(rng.random_range(30..600));
        d.moves.clear();
        if d.received_at < now - chrono::Duration::minutes(30) {
            dups.push((t.new.tracking_code.clone(), d));
        }
    }
    past.extend(dups.iter().map(|(_, d)| d.clone()));
    let ctx = WriteCtx {
        actor_id: None,
        actor_name: "demo".into(),
        subdistrict_id: Some(sd.id),
        ip: None,
        at: now,
        demo: true,
    };
    store.load_requests(&past, &ctx).await?;
    for (target_code, d) in dups {
        let (Some(t), Some(dup)) = (
            store.find_request_by_code(&target_code).await?,
            store.find_request_by_code(&d.new.tracking_code).await?,
        ) else {
            continue;
        };
        let at = t.updated_at.max(dup.created_at) + chrono::Duration::minutes(10);
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
            .merge_requests(
                dup.id,
                dup.version,
                t.id,
                doorstep_domain::requests::Relation::Owner,
                &c,
            )
            .await?;
    }
    Ok(())
}

/// Synthetic facilities of the demo network: (category, label, how many).
const DEMO_FACILITIES: &[(Category, &str, usize)] = &[
    (Category::ElderlyCare, "长者照护之家", 12),
    (Category::Health, "卫生服务站", 9),
    (Category::Education, "学校", 10),
    (Category::ChildCare, "托育点", 10),
    (Category::Market, "菜场", 22),
    (Category::CultureSport, "文体活动点", 12),
];

/// The demo's street network: a synthetic grid over Huamu (stated as synthetic in the
/// UI) with invented facilities; every station counts as a community-service facility.
pub async fn add_network(store: &Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(sd) = store.first_subdistrict().await? else {
        bail!("no subdistrict")
    };
    if store.current_network(sd.id).await?.is_some() {
        return Ok(());
    }
    let (lat0, lon0, spacing): (f64, f64, f64) = (31.2005, 121.5305, 70.0);
    let rows = ((31.2295 - lat0) * 111_195.0 / spacing) as usize + 1;
    let cols = ((121.5695 - lon0) * 111_195.0 * lat0.to_radians().cos() / spacing) as usize + 1;
    let net = doorstep_geo::synth::grid(lat0, lon0, rows, cols, spacing, 60, 2026);
    let mut rng = StdRng::seed_from_u64(15);
    let mut facilities = Vec::new();
    for (cat, label, n) in DEMO_FACILITIES {
        for i in 1..=*n {
            let v = rng.random_range(0..net.node_count());
            facilities.push(doorstep_store::FacilityRow {
                category: cat.code().into(),
                name: format!("演示·{label}{i}"),
                lat: net.lat[v],
                lon: net.lon[v],
                source: format!("demo:{}:{i}", cat.code()),
            });
        }
    }
    let bbox = net.bbox().unwrap_or_default();
    let meta = doorstep_store::NetworkMeta {
        id: 0,
        subdistrict_id: sd.id,
        name: "花木演示路网（合成）".into(),
        source: "synthetic".into(),
        synthetic: true,
        nodes: net.node_count() as i64,
        edges: net.edge_count() as i64,
        bbox,
        created_at: now,
    };
    let ctx = WriteCtx {
        actor_id: None,
        actor_name: "demo".into(),
        subdistrict_id: Some(sd.id),
        ip: None,
        at: meta.created_at,
        demo: true,
    };
    store
        .save_network(&meta, &net.to_bytes(), &facilities, &ctx)
        .await?;
    Ok(())
}

async fn load(store: &Store, hash: &str) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(20_261_128);
    let at =
        chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z")?.with_timezone(&chrono::Utc);
    let mut ctx = WriteCtx {
        actor_id: None,
        actor_name: "demo".into(),
        subdistrict_id: None,
        ip: None,
        at,
        demo: true,
    };
    // The subdistrict and its communities are real: not marked as demo.
    let real = WriteCtx {
        demo: false,
        ..ctx.clone()
    };
    let sd = store
        .create_place(
            Entity::Subdistrict,
            &vals(vec![
                ("name", text("花木街道")),
                ("code", text("310115016")),
                ("district", text("浦东新区")),
                ("address", text("玉兰路218号")),
                ("phone", Value::Null),
            ]),
            &real,
        )
        .await?;
    ctx.subdistrict_id = Some(sd.id);
    let real = WriteCtx {
        subdistrict_id: Some(sd.id),
        ..real
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
    store.create_account(sd.id, &admin, &ctx).await?;

    for (community, centre, nbs) in PLACES {
        let com = store
            .create_place(
                Entity::Community,
                &vals(vec![
                    ("subdistrict_id", Value::Int(sd.id)),
                    ("name", text(format!("{community}社区"))),
                    ("description", Value::Null),
                ]),
                &real,
            )
            .await?;
        for (i, (nb_name, short, slug, high_rise)) in nbs.iter().enumerate() {
            let model = *slug == "mudan7";
            let secretary = name(&mut rng);
            let target_households: i64 = rng.random_range(1000..=2500);
            let (clat, clon) = clamp(
                centre[0] + ((i / 3) as f64 - 1.0) * 0.0050 + rng.random_range(-0.0008..0.0008),
                centre[1] + ((i % 3) as f64 - 1.0) * 0.0060 + rng.random_range(-0.0008..0.0008),
            );
            // The neighbourhood's name is real; its figures and secretary are invented.
            let nb = store
                .create_place(
                    Entity::Neighbourhood,
                    &vals(vec![
                        ("community_id", Value::Int(com.id)),
                        ("name", text(*nb_name)),
                        ("short_name", text(*short)),
                        (
                            "committee_name",
                            text(format!("{}居民委员会", nb_name.trim_end_matches("居民区"))),
                        ),
                        ("secretary_name", text(secretary.clone())),
                        ("office_phone", Value::Null),
                        ("address", Value::Null),
                        ("households", Value::Null),
                        ("population", Value::Null),
                    ]),
                    &ctx,
                )
                .await?;

            // Accounts: the secretary, one worker per block, and for 牡丹七 a partner and a
            // volunteer. Only the printed ones can sign in.
            let signs_in = SEED_NEIGHBOURHOODS.contains(slug);
            let sec = NewAccount {
                username: format!("{slug}-sec"),
                display_name: format!("{secretary}（书记）"),
                role: Role::Secretary,
                neighbourhood_id: Some(nb.id),
                partner_unit: None,
                phone: None,
                locale: "zh-CN".into(),
                password_hash: signs_in.then(|| hash.to_string()),
            };
            store.create_account(sd.id, &sec, &ctx).await?;
            let n_blocks = if model { 4 } else { rng.random_range(4..=6) };
            let mut workers = Vec::new();
            for b in 1..=n_blocks {
                let w = NewAccount {
                    username: format!("{slug}-w{b}"),
                    display_name: format!("{}（社工）", name(&mut rng)),
                    role: Role::Worker,
                    neighbourhood_id: Some(nb.id),
                    partner_unit: None,
                    phone: None,
                    locale: "zh-CN".into(),
                    password_hash: model.then(|| hash.to_string()),
                };
                workers.push(store.create_account(sd.id, &w, &ctx).await?.id);
            }
            if model {
                for (u, d, role, unit) in [
                    (
                        "mudan7-health",
                        "演示·家庭医生",
                        Role::Partner,
                        Some("花木社区卫生服务中心"),
                    ),
                    ("mudan7-vol", "演示·志愿者骨干", Role::Volunteer, None),
                ] {
                    let a = NewAccount {
                        username: u.into(),
                        display_name: d.into(),
                        role,
                        neighbourhood_id: Some(nb.id),
                        partner_unit: unit.map(str::to_string),
                        phone: None,
                        locale: "zh-CN".into(),
                        password_hash: Some(hash.to_string()),
                    };
                    store.create_account(sd.id, &a, &ctx).await?;
                }
            }

            // Estates (牡丹七 serves 10), each on a street near the neighbourhood's centre.
            let n_estates = if model { 10 } else { rng.random_range(2..=5) };
            let mut estate_rows = Vec::new();
            let mut estate_centres = Vec::new();
            let mut used = std::collections::HashSet::new();
            while estate_rows.len() < n_estates {
                let road = ROADS[rng.random_range(0..ROADS.len())];
                let lane = rng.random_range(1..60) * 10 + 8;
                let estate_name = format!("{road}{lane}弄");
                if !used.insert(estate_name.clone()) {
                    continue;
                }
                let built: i64 = if *high_rise {
                    rng.random_range(1998..=2012)
                } else {
                    rng.random_range(1984..=1998)
                };
                estate_rows.push(vals(vec![
                    ("neighbourhood_id", Value::Int(nb.id)),
                    ("name", text(estate_name)),
                    ("address", text(format!("浦东新区{road}{lane}弄"))),
                    ("built_year", Value::Int(built)),
                    (
                        "property_manager",
                        text(format!(
                            "{}物业",
                            SURNAMES[rng.random_range(0..SURNAMES.len())]
                        )),
                    ),
                ]));
                estate_centres.push(clamp(
                    clat + rng.random_range(-0.0022..0.0022),
                    clon + rng.random_range(-0.0025..0.0025),
                ));
            }
            let estate_ids = store
                .create_places(Entity::Estate, &estate_rows, &ctx)
                .await?;

            let block_rows: Vec<Values> = (1..=n_blocks)
                .map(|b| {
                    vals(vec![
                        ("neighbourhood_id", Value::Int(nb.id)),
                        ("name", text(format!("第{b}块区"))),
                        ("worker_id", Value::Int(workers[b - 1])),
                        ("description", Value::Null),
                    ])
                })
                .collect();
            let block_ids = store
                .create_places(Entity::Block, &block_rows, &ctx)
                .await?;

            // Buildings until the neighbourhood reaches its households.
            let mut plan: Vec<(usize, i64, i64, i64)> = Vec::new(); // estate, units, floors, households
            let mut households = 0;
            while households < target_households {
                let estate = plan.len() % n_estates;
                let (units, floors, per_floor) = if *high_rise {
                    (rng.random_range(1..=2), rng.random_range(11..=28), 4)
                } else {
                    (rng.random_range(2..=4), 6, 2)
                };
                let h = units * floors * per_floor;
                households += h;
                plan.push((estate, units, floors, h));
            }
            plan.sort_by_key(|p| p.0);
            let per_block = plan.len().div_ceil(n_blocks);
            let mut building_rows = Vec::new();
            let mut number_in_estate = vec![0; n_estates];
            for (k, (estate, units, floors, h)) in plan.iter().enumerate() {
                number_in_estate[*estate] += 1;
                let n = number_in_estate[*estate];
                let (elat, elon) = estate_centres[*estate];
                let (lat, lon) = clamp(
                    elat + ((n / 4) as f64) * 0.00035 + rng.random_range(-0.00008..0.00008),
                    elon + ((n % 4) as f64) * 0.00040 + rng.random_range(-0.00008..0.00008),
                );
                let leader = if rng.random_bool(0.7) {
                    text(name(&mut rng))
                } else {
                    Value::Null
                };
                building_rows.push(vals(vec![
                    ("estate_id", Value::Int(estate_ids[*estate])),
                    ("number", text(format!("{n}号"))),
                    ("units", Value::Int(*units)),
                    ("floors", Value::Int(*floors)),
                    ("households", Value::Int(*h)),
                    ("lat", Value::Float((lat * 1e6).round() / 1e6)),
                    ("lon", Value::Float((lon * 1e6).round() / 1e6)),
                    ("leader_name", leader),
                    (
                        "block_id",
                        Value::Int(block_ids[(k / per_block).min(n_blocks - 1)]),
                    ),
                ]));
            }
            store
                .create_places(Entity::Building, &building_rows, &ctx)
                .await?;
            store
                .update_place(Entity::Neighbourhood, nb.id, None, &ctx, |cur| {
                    let mut v = cur.values.clone();
                    v.insert("households", Value::Int(households));
                    v.insert(
                        "population",
                        Value::Int((households as f64 * 2.6).round() as i64),
                    );
                    Ok(v)
                })
                .await?;

            // The station and its function rooms.
            let (slat, slon) = clamp(clat + 0.0004, clon - 0.0004);
            let upgraded = model || rng.random_bool(0.6);
            let station = store
                .create_places(
                    Entity::Station,
                    &[vals(vec![
                        ("neighbourhood_id", Value::Int(nb.id)),
                        ("name", text(format!("{short}“家门口”服务站"))),
                        (
                            "address",
                            text(format!(
                                "浦东新区{}{}号",
                                ROADS[rng.random_range(0..ROADS.len())],
                                rng.random_range(1..400)
                            )),
                        ),
                        ("opening_hours", text("周一至周日 8:30–17:00")),
                        ("phone", Value::Null),
                        ("lat", Value::Float((slat * 1e6).round() / 1e6)),
                        ("lon", Value::Float((slon * 1e6).round() / 1e6)),
                        (
                            "office_area_before_m2",
                            Value::Float(if model {
                                300.0
                            } else {
                                f64::from(rng.random_range(12..=30)) * 10.0
                            }),
                        ),
                        ("is_model", Value::Bool(model)),
                    ])],
                    &ctx,
                )
                .await?[0];
            let rooms: Vec<Values> = if model {
                MODEL_ROOMS
                    .iter()
                    .map(|(n, k, a, c, o)| room(station, n, k, *a, *c, *o))
                    .collect()
            } else {
                let mut r: Vec<Values> = Vec::new();
                for (n, k, a, c, o) in MODEL_ROOMS.iter().filter(|(_, k, ..)| *k != "office") {
                    if *k == "reception" || rng.random_bool(0.75) {
                        r.push(room(
                            station,
                            n,
                            k,
                            (a * rng.random_range(0.7..1.3)).round(),
                            *c,
                            *o,
                        ));
                    }
                }
                let office = if upgraded {
                    rng.random_range(2..=6) * 10
                } else {
                    rng.random_range(8..=20) * 10
                };
                r.push(room(
                    station,
                    "社工办公区",
                    "office",
                    f64::from(office),
                    12,
                    true,
                ));
                r
            };
            store.create_places(Entity::Room, &rooms, &ctx).await?;
        }
    }
    // Partner units the seed names (real names, invented coordinates) and a few invented ones.
    let (mlat, mlon) = (31.2125, 121.5480);
    let partners: Vec<Values> = [
        (
            "花木社区卫生服务中心",
            "health_centre",
            "家庭医生签约、健康小屋坐诊",
            0.0010,
            0.0012,
        ),
        (
            "花木中心小学",
            "school",
            "暑期托管、操场错时开放",
            -0.0015,
            0.0020,
        ),
        (
            "演示·周边教育培训机构",
            "other",
            "公益课程、志愿者教师",
            0.0018,
            -0.0016,
        ),
        (
            "演示·长者照护之家",
            "elderly_service",
            "日间照料、助餐",
            -0.0022,
            -0.0010,
        ),
        (
            "演示·社区民警工作室",
            "police",
            "消防演练、安全宣传",
            0.0005,
            -0.0025,
        ),
    ]
    .into_iter()
    .map(|(name, kind, resources, dlat, dlon)| {
        vals(vec![
            ("subdistrict_id", Value::Int(sd.id)),
            ("name", text(name)),
            ("kind", text(kind)),
            ("neighbourhood_id", Value::Null),
            ("address", Value::Null),
            ("contact_name", Value::Null),
            ("phone", Value::Null),
            ("lat", Value::Float(((mlat + dlat) * 1e6_f64).round() / 1e6)),
            ("lon", Value::Float(((mlon + dlon) * 1e6_f64).round() / 1e6)),
            ("resources", text(resources)),
            ("description", Value::Null),
        ])
    })
    .collect();
    store
        .create_places(Entity::Partner, &partners, &ctx)
        .await?;
    Ok(())
}

fn room(station: i64, name: &str, kind: &str, area: f64, capacity: i64, office: bool) -> Values {
    vals(vec![
        ("station_id", Value::Int(station)),
        ("name", text(name)),
        ("kind", text(kind)),
        ("area_m2", Value::Float(area)),
        ("capacity", Value::Int(capacity)),
        ("is_office", Value::Bool(office)),
        ("description", Value::Null),
    ])
}

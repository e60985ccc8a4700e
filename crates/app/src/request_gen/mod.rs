//! Generated request histories, for the demo (a few hundred, marked as demo data) and for
//! `bench requests` (half a million). Each history is a plausible walk through the
//! one-window workflow: intake in office hours, assignment, acceptance or return,
//! extensions, resolution, follow-up, reopening, escalation when a deadline passes. The
//! walk stops at "now", so recent requests are still open in every state.
//!
//! What "now" leaves open depends on the hour and the day: at night or on a holiday the
//! day's intake has long moved on. So that every state is shown whatever the time, the
//! first [`GUARANTEED_PER_STATE`] × 8 histories are steered: each walks straight to one
//! state and stops there, received days before `now` so that it always gets there.

mod phrases;
mod walk;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::calendar::WorkCalendar;
use doorstep_domain::requests::{Channel, Kind, Move, Relation};
use doorstep_domain::{AccountId, BuildingId, NeighbourhoodId, ServiceItemId, SubdistrictId};
use doorstep_store::{NewRequest, PastRequest};
use rand::Rng;
use rand::rngs::StdRng;
use walk::{Crew, STEERED, Walk};

/// A member of staff: account and user name.
pub type Staff = (AccountId, String);

/// A neighbourhood's staff and buildings.
#[derive(Debug, Clone)]
pub struct GenNeighbourhood {
    pub id: NeighbourhoodId,
    pub subdistrict_id: SubdistrictId,
    /// The secretary first.
    pub staff: Vec<Staff>,
    /// (building, latitude, longitude, label such as "牡丹路100弄 3号").
    pub buildings: Vec<(BuildingId, f64, f64, String)>,
}

/// A catalogue item.
#[derive(Debug, Clone)]
pub struct GenItem {
    pub id: ServiceItemId,
    pub name: String,
}

/// Histories per state that are steered to that state (see the module's notes).
pub const GUARANTEED_PER_STATE: usize = 3;

const PARTNERS: &[&str] = &["物业服务中心", "花木社区卫生服务中心", "房管办", "城管中队"];

const REPLIES: &[&str] = &[
    "已当场解答，告知办理条件、所需材料和办理地点",
    "已联系物业处理，居民确认问题解决",
    "已上门查看并协调相关方，问题已解决",
    "已按流程受理并办结，结果已电话告知居民",
    "已转交专业单位处理完毕，居民表示认可",
];

/// What residents say about a matter of this item; `b` is the building.
fn describe(item: &str, b: &str, rng: &mut StdRng) -> String {
    match phrases::PHRASES
        .iter()
        .find(|(words, _)| words.iter().any(|w| item.contains(w)))
    {
        Some((_, said)) => said[rng.random_range(0..said.len())].replace("{b}", b),
        None => format!("想咨询“{item}”怎么办理、需要带什么材料"),
    }
}

fn kind_of(item: &str, rng: &mut StdRng) -> Kind {
    if item.contains("投诉") {
        Kind::Complaint
    } else if item.contains("举报") || item.contains("报告") {
        Kind::Report
    } else if item.contains("意见") || item.contains("三会") || item.contains("清单") {
        Kind::Suggestion
    } else if item.contains("咨询") || rng.random_bool(0.3) {
        Kind::Consultation
    } else {
        Kind::Help
    }
}

fn channel(rng: &mut StdRng) -> Channel {
    match rng.random_range(0..100) {
        0..40 => Channel::Desk,
        40..65 => Channel::Phone,
        65..80 => Channel::Visit,
        80..95 => Channel::Web,
        _ => Channel::Open311,
    }
}

/// A time within office hours (08:30–17:30 Shanghai) of a random day in the window.
fn office_time(rng: &mut StdRng, now: DateTime<Utc>, days_back: i64) -> DateTime<Utc> {
    let day =
        (now - Duration::days(rng.random_range(0..days_back.max(1)))).with_timezone(&Shanghai);
    let minutes = rng.random_range(8 * 60 + 30..17 * 60 + 30);
    let t = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN);
    let at = Shanghai
        .from_local_datetime(&day.date_naive().and_time(t))
        .earliest()
        .map(|x| x.with_timezone(&Utc))
        .unwrap_or(now);
    at.min(now - Duration::minutes(30))
}

fn minutes(rng: &mut StdRng, lo: i64, hi: i64) -> Duration {
    Duration::minutes(rng.random_range(lo..hi))
}

/// A tracking code from a running number: `prefix` then base-32 digits of the readable
/// alphabet (no 0/O/1/I), ten characters in all.
pub fn code_for(prefix: &str, mut n: u64) -> String {
    const ALPHABET: &[u8] = doorstep_domain::requests::TRACKING_CODE_ALPHABET;
    let mut tail = Vec::new();
    for _ in 0..(10 - prefix.len()) {
        tail.push(ALPHABET[(n % 32) as usize] as char);
        n /= 32;
    }
    tail.reverse();
    format!("{prefix}{}", tail.into_iter().collect::<String>())
}

/// A matter as received: who took it, about what, where, in whose words.
struct Matter {
    owner: Staff,
    item: Option<GenItem>,
    building: Option<(BuildingId, f64, f64, String)>,
    kind: Kind,
    description: String,
}

/// Picks a matter in `nb`; none when the neighbourhood has no staff.
fn matter(rng: &mut StdRng, nb: &GenNeighbourhood, items: &[GenItem]) -> Option<Matter> {
    let owner = nb
        .staff
        .get(rng.random_range(0..nb.staff.len().max(1)))
        .cloned()?;
    let praise = rng.random_bool(0.03);
    let item = (!praise && !items.is_empty() && rng.random_bool(0.92))
        .then(|| items[rng.random_range(0..items.len())].clone());
    let building = (!nb.buildings.is_empty() && rng.random_bool(0.8))
        .then(|| nb.buildings[rng.random_range(0..nb.buildings.len())].clone());
    let label = building
        .as_ref()
        .map(|b| b.3.clone())
        .unwrap_or_else(|| "小区".into());
    let (kind, description) = match &item {
        Some(it) => (kind_of(&it.name, rng), describe(&it.name, &label, rng)),
        None if praise => (
            Kind::Praise,
            format!("感谢居委会和社工帮忙解决了{label}的问题，服务很贴心"),
        ),
        None => (Kind::Help, format!("{label}的事情想请居委帮忙看看")),
    };
    Some(Matter {
        owner,
        item,
        building,
        kind,
        description,
    })
}

/// The intake: where exactly, and the resident's contacts, as residents give them.
fn intake(
    rng: &mut StdRng,
    nb: &GenNeighbourhood,
    m: Matter,
    code: String,
    deadline: DateTime<Utc>,
) -> NewRequest {
    let (lat, lon) = match &m.building {
        Some(b) if rng.random_bool(0.3) => (
            Some(b.1 + rng.random_range(-0.0002..0.0002)),
            Some(b.2 + rng.random_range(-0.0002..0.0002)),
        ),
        _ => (None, None),
    };
    let with_phone = rng.random_bool(0.6);
    let channel = channel(rng);
    // About half of the residents' own reports allow the listing to show what they said
    // (taken from the random code, so that the generator's draws stay as they were).
    let public_description = Channel::FROM_RESIDENTS.contains(&channel)
        && code.as_bytes().first().is_some_and(|b| b % 2 == 0);
    NewRequest {
        neighbourhood_id: nb.id,
        tracking_code: code,
        channel,
        kind: m.kind,
        service_item_id: m.item.map(|it| it.id),
        description: m.description,
        public_description,
        building_id: m.building.as_ref().map(|b| b.0),
        lat,
        lon,
        resident_name: with_phone.then(|| {
            ["王", "李", "张", "刘", "陈", "杨", "赵", "周"][rng.random_range(0..8)].to_string()
                + "阿姨"
        }),
        resident_phone: with_phone
            .then(|| format!("139{:08}", rng.random_range(0..100_000_000u32))),
        resident_phone_sealed: None,
        resident_email: None,
        address: None,
        owner_id: m.owner.0,
        deadline_at: deadline,
        attachments: Vec::new(),
    }
}

/// Generates `n` request histories received within `days_back` days before `now`; the
/// first ones are steered so that every state appears at least
/// [`GUARANTEED_PER_STATE`] times, whatever the hour or day of `now`.
#[allow(clippy::too_many_arguments)]
pub fn generate(
    rng: &mut StdRng,
    nbs: &[GenNeighbourhood],
    items: &[GenItem],
    n: usize,
    now: DateTime<Utc>,
    days_back: i64,
    calendar: &WorkCalendar,
    code_prefix: &str,
    first_code: u64,
) -> Vec<PastRequest> {
    let system: Staff = (AccountId(0), "deadline-job".to_string());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let nb = &nbs[rng.random_range(0..nbs.len())];
        let Some(m) = matter(rng, nb, items) else {
            continue;
        };
        let goal = STEERED.get(i / GUARANTEED_PER_STATE).copied();
        let received = match goal {
            Some(_) => office_time(rng, now - Duration::days(5), 5),
            None => office_time(rng, now, days_back),
        };
        let mut walk = Walk::new(received, now);
        let on_spot = matches!(m.kind, Kind::Consultation | Kind::Praise) && rng.random_bool(0.75)
            || rng.random_bool(0.15);
        let reply = REPLIES[(i * 7 + 3) % REPLIES.len()].to_string();
        let crew = Crew {
            owner: &m.owner,
            secretary: &nb.staff[0],
            workers: nb.staff.iter().filter(|s| s.0 != m.owner.0).collect(),
            system: &system,
        };
        let mut extra_days = 0;
        if let Some(goal) = goal {
            walk::steered(goal, rng, &mut walk, &crew, reply);
        } else if on_spot {
            let mv = Move::ResolveOnSpot { reply };
            walk.step(minutes(rng, 3, 30), mv, Relation::Owner, &m.owner);
        } else {
            extra_days = walk::route(&mut walk, rng, &crew, (m.kind, received), calendar, reply);
        }
        if goal.is_none() {
            walk::follow_up(&mut walk, rng, &crew);
        }
        // Still open past the deadline at "now": the job has escalated it.
        let deadline = calendar.deadline(received, m.kind.time_limit_days() + extra_days);
        if walk.wf.state.is_open() && !walk.wf.escalated && deadline < now {
            walk.done = false;
            let gap = (deadline - walk.at).max(Duration::minutes(1)) + Duration::minutes(1);
            walk.step(gap, Move::Escalate, Relation::System, &system);
        }
        let receiver = m.owner.1.clone();
        let code = code_for(code_prefix, first_code + i as u64);
        out.push(PastRequest {
            new: intake(rng, nb, m, code, deadline),
            subdistrict_id: nb.subdistrict_id,
            received_at: received,
            receiver,
            moves: walk.moves,
        });
    }
    out
}

#[cfg(test)]
mod tests;

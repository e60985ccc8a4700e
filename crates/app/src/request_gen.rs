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

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::calendar::WorkCalendar;
use doorstep_domain::requests::{
    Channel, Handler, Kind, Move, Relation, ReturnReason, Satisfaction, State, Workflow,
};
use doorstep_store::{NewRequest, PastMove, PastRequest};
use rand::Rng;
use rand::rngs::StdRng;

/// A neighbourhood's staff and buildings.
#[derive(Debug, Clone)]
pub struct GenNeighbourhood {
    pub id: i64,
    pub subdistrict_id: i64,
    /// (account id, user name): the secretary first.
    pub staff: Vec<(i64, String)>,
    /// (building id, latitude, longitude, label such as "牡丹路100弄 3号").
    pub buildings: Vec<(i64, f64, f64, String)>,
}

/// A catalogue item.
#[derive(Debug, Clone)]
pub struct GenItem {
    pub id: i64,
    pub name: String,
}

const PARTNERS: &[&str] = &["物业服务中心", "花木社区卫生服务中心", "房管办", "城管中队"];

/// What residents say, by the words in an item's name; `{b}` is the building.
fn describe(item: &str, b: &str, rng: &mut StdRng) -> String {
    let pick = |xs: &[&str], rng: &mut StdRng| xs[rng.random_range(0..xs.len())].replace("{b}", b);
    if item.contains("堆物") {
        pick(
            &[
                "{b}楼道里堆了很多纸箱和旧家具，影响通行",
                "{b}一楼楼道堆放杂物，有消防隐患",
                "{b}楼梯间被自行车和杂物堵住",
            ],
            rng,
        )
    } else if item.contains("照明") || item.contains("报修") {
        pick(
            &[
                "{b}三楼楼道灯不亮，晚上老人上下楼不安全",
                "{b}单元门禁坏了，门关不上",
                "{b}楼下健身器材松动，孩子玩耍有危险",
                "{b}信报箱门掉了",
            ],
            rng,
        )
    } else if item.contains("噪音") {
        pick(
            &[
                "{b}楼上深夜装修敲打，影响休息",
                "{b}附近广场舞音响声音太大",
                "{b}楼下商铺空调外机噪音很大",
            ],
            rng,
        )
    } else if item.contains("群租") {
        pick(
            &[
                "{b}有一户疑似群租，进出人员很多",
                "{b}某室隔成多间出租，楼道很乱",
            ],
            rng,
        )
    } else if item.contains("违章") {
        pick(
            &["{b}底楼住户在院子里搭建棚子", "{b}顶楼有人加盖阳光房"],
            rng,
        )
    } else if item.contains("消防") {
        pick(
            &["{b}楼道里电瓶车充电，飞线很危险", "{b}消防通道被车辆占用"],
            rng,
        )
    } else if item.contains("停车") {
        pick(
            &[
                "小区晚上停车位不够，{b}门口车辆乱停",
                "外来车辆占用{b}门口消防通道",
            ],
            rng,
        )
    } else if item.contains("宠物") {
        pick(
            &["{b}有住户遛狗不牵绳，吓到孩子", "{b}楼道里有狗粪没人清理"],
            rng,
        )
    } else if item.contains("垃圾") {
        pick(
            &[
                "想问一下湿垃圾和干垃圾怎么分，老人搞不清楚",
                "{b}门口有一批旧沙发需要清运",
                "垃圾箱房开放时间能不能延长",
            ],
            rng,
        )
    } else if item.contains("电梯") {
        pick(
            &[
                "{b}想加装电梯，请问需要多少户同意",
                "对{b}加装电梯方案有意见，担心采光",
            ],
            rng,
        )
    } else if item.contains("助餐")
        || item.contains("养老")
        || item.contains("老人")
        || item.contains("津贴")
    {
        pick(
            &[
                "家里老人82岁独居，想申请助餐服务",
                "母亲年满65周岁，问一下老年综合津贴怎么申请",
                "独居老人想装紧急呼叫装置",
                "老人行动不便，想申请居家养老上门服务",
            ],
            rng,
        )
    } else if item.contains("律师")
        || item.contains("法律")
        || item.contains("继承")
        || item.contains("婚姻")
    {
        pick(
            &[
                "想预约律师咨询房屋继承问题",
                "和前夫的抚养费纠纷，想咨询法律援助",
                "父母留下的房子怎么过户，想问律师",
            ],
            rng,
        )
    } else if item.contains("调解") || item.contains("纠纷") {
        pick(
            &[
                "{b}楼上漏水到我家，协商不成",
                "和邻居因为晾衣服的事吵架，希望居委调解",
                "物业费收费标准有争议",
            ],
            rng,
        )
    } else if item.contains("医生")
        || item.contains("体检")
        || item.contains("疫苗")
        || item.contains("健康")
    {
        pick(
            &[
                "想给父母签约家庭医生",
                "老年人体检什么时候开始预约",
                "孩子的疫苗接种怎么预约",
                "健康小屋血压计什么时候开放",
            ],
            rng,
        )
    } else if item.contains("居住证") || item.contains("来沪") {
        pick(
            &["刚租房住进来，居住证怎么办理", "居住登记需要带什么材料"],
            rng,
        )
    } else if item.contains("课程")
        || item.contains("活动")
        || item.contains("图书")
        || item.contains("汉语")
    {
        pick(
            &[
                "想给孩子报名暑期活动",
                "想预约周六下午的活动室开展读书会",
                "外籍邻居想报名汉语班",
                "书法班还有名额吗",
            ],
            rng,
        )
    } else if item.contains("三会")
        || item.contains("意见")
        || item.contains("自治")
        || item.contains("清单")
    {
        pick(
            &[
                "建议小区增加休息座椅",
                "关于停车收费调整，希望开听证会",
                "建议在{b}旁增设晾衣架",
            ],
            rng,
        )
    } else if item.contains("志愿") {
        pick(
            &["退休了想报名做志愿者", "想记录一下上个月的志愿服务时长"],
            rng,
        )
    } else {
        format!("想咨询“{item}”怎么办理、需要带什么材料")
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

/// Staff act between 08:30 and 20:00 Shanghai time: a later moment moves to 08:30 the
/// next morning (plus the minutes it overshot, up to an hour), an earlier one to 08:30.
fn working_hours(t: DateTime<Utc>) -> DateTime<Utc> {
    let local = t.with_timezone(&Shanghai);
    let open = NaiveTime::from_hms_opt(8, 30, 0).unwrap_or(NaiveTime::MIN);
    let close = NaiveTime::from_hms_opt(20, 0, 0).unwrap_or(NaiveTime::MIN);
    let time = local.time();
    let day = local.date_naive();
    let (day, extra) = if time > close {
        (day + Duration::days(1), (time - close).num_minutes() % 60)
    } else if time < open {
        (day, (time - NaiveTime::MIN).num_minutes() % 60)
    } else {
        return t;
    };
    Shanghai
        .from_local_datetime(&day.and_time(open))
        .earliest()
        .map(|x| x.with_timezone(&Utc) + Duration::minutes(extra))
        .unwrap_or(t)
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

/// Builds one history step by step, refusing nothing the state machine would refuse and
/// stopping at `now`.
struct Walk {
    wf: Workflow,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    moves: Vec<PastMove>,
    done: bool,
}

impl Walk {
    fn step(&mut self, gap: Duration, mv: Move, rel: Relation, who: &(i64, String)) -> bool {
        if self.done {
            return false;
        }
        let at = working_hours(self.at + gap);
        if at >= self.now {
            self.done = true;
            return false;
        }
        match self.wf.apply(&mv, rel) {
            Ok(next) => {
                self.wf = next;
                self.at = at;
                self.moves.push(PastMove {
                    mv,
                    relation: rel,
                    at,
                    actor_id: Some(who.0),
                    actor_name: who.1.clone(),
                });
                true
            }
            Err(_) => {
                self.done = true;
                false
            }
        }
    }
}

const REPLIES: &[&str] = &[
    "已当场解答，告知办理条件、所需材料和办理地点",
    "已联系物业处理，居民确认问题解决",
    "已上门查看并协调相关方，问题已解决",
    "已按流程受理并办结，结果已电话告知居民",
    "已转交专业单位处理完毕，居民表示认可",
];

/// Histories per state that are steered to that state (see the module's notes).
pub const GUARANTEED_PER_STATE: usize = 3;

/// The states the steered histories stop in, in turn.
const STEERED: [State; 8] = [
    State::Received,
    State::Assigned,
    State::Accepted,
    State::InProgress,
    State::Returned,
    State::Resolved,
    State::Closed,
    State::Reopened,
];

/// A history that walks to `goal` and stops there: received 5 to 9 days before `now`, in
/// office hours, with moves an hour or two apart, so it ends days before `now`.
fn steered(
    goal: State,
    rng: &mut StdRng,
    received: DateTime<Utc>,
    now: DateTime<Utc>,
    owner: &(i64, String),
    worker: &(i64, String),
    reply: String,
) -> Vec<PastMove> {
    let mut walk = Walk {
        wf: Workflow::default(),
        at: received,
        now,
        moves: Vec::new(),
        done: false,
    };
    let gap = |rng: &mut StdRng| minutes(rng, 30, 120);
    let assign = Move::Assign {
        to: Handler::Worker(worker.0),
    };
    if goal == State::Received {
        return walk.moves;
    }
    if goal == State::Returned {
        let to = Handler::Partner(PARTNERS[rng.random_range(0..PARTNERS.len())].to_string());
        walk.step(gap(rng), Move::Assign { to }, Relation::Owner, owner);
        let note = "经核实不属本单位职责，请重新派单".to_string();
        let reason = ReturnReason::NotOurDuty;
        walk.step(
            gap(rng),
            Move::Return { reason, note },
            Relation::Handler,
            owner,
        );
        return walk.moves;
    }
    walk.step(gap(rng), assign, Relation::Owner, owner);
    let path = [
        (State::Accepted, Move::Accept),
        (State::InProgress, Move::Start),
        (State::Resolved, Move::Resolve { reply }),
    ];
    for (reached, mv) in path {
        if walk.wf.state == goal {
            return walk.moves;
        }
        walk.step(gap(rng), mv, Relation::Handler, worker);
        if reached == goal {
            return walk.moves;
        }
    }
    let result = if goal == State::Reopened {
        Satisfaction::Unsatisfied
    } else {
        Satisfaction::Satisfied
    };
    let rating = Move::FollowUp {
        efficiency: Satisfaction::Satisfied,
        attitude: Satisfaction::Satisfied,
        result,
    };
    walk.step(gap(rng), rating, Relation::Owner, owner);
    walk.moves
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
    let system = (0i64, "deadline-job".to_string());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let nb = &nbs[rng.random_range(0..nbs.len())];
        let Some(owner) = nb
            .staff
            .get(rng.random_range(0..nb.staff.len().max(1)))
            .cloned()
        else {
            continue;
        };
        let secretary = nb.staff[0].clone();
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
        let goal = STEERED.get(i / GUARANTEED_PER_STATE).copied();
        let received = match goal {
            Some(_) => office_time(rng, now - Duration::days(5), 5),
            None => office_time(rng, now, days_back),
        };
        let mut extra_days = 0;
        let mut walk = Walk {
            wf: Workflow::default(),
            at: received,
            now,
            moves: Vec::new(),
            done: false,
        };
        let on_spot = matches!(kind, Kind::Consultation | Kind::Praise) && rng.random_bool(0.75)
            || rng.random_bool(0.15);
        let reply = || REPLIES[(i * 7 + 3) % REPLIES.len()].to_string();
        if let Some(goal) = goal {
            let worker = nb.staff.iter().find(|s| s.0 != owner.0).unwrap_or(&owner);
            walk.moves = steered(goal, rng, received, now, &owner, worker, reply());
            walk.wf = Workflow::replay(
                &walk
                    .moves
                    .iter()
                    .map(|m| (m.mv.clone(), m.relation))
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_default();
            walk.at = walk.moves.last().map_or(received, |m| m.at);
        } else if on_spot {
            walk.step(
                minutes(rng, 3, 30),
                Move::ResolveOnSpot { reply: reply() },
                Relation::Owner,
                &owner,
            );
        } else {
            // Route it: to a worker (or the owner handles it), sometimes to a partner that returns it.
            let workers: Vec<&(i64, String)> = nb.staff.iter().filter(|s| s.0 != owner.0).collect();
            if rng.random_bool(0.12) {
                let p = PARTNERS[rng.random_range(0..PARTNERS.len())].to_string();
                walk.step(
                    minutes(rng, 10, 120),
                    Move::Assign {
                        to: Handler::Partner(p),
                    },
                    Relation::Owner,
                    &owner,
                );
                let reason = [
                    ReturnReason::NotOurDuty,
                    ReturnReason::WrongPlace,
                    ReturnReason::Unclear,
                ][rng.random_range(0..3)];
                walk.step(
                    minutes(rng, 60, 1440),
                    Move::Return {
                        reason,
                        note: "经核实不属本单位职责，请重新派单".into(),
                    },
                    Relation::Handler,
                    &owner,
                );
                if rng.random_bool(0.3) {
                    // The owner is still looking for the right handler (escalated once due).
                    walk.done = true;
                }
            }
            let handler = if !workers.is_empty() && rng.random_bool(0.7) {
                let w = workers[rng.random_range(0..workers.len())].clone();
                walk.step(
                    minutes(rng, 5, 180),
                    Move::Assign {
                        to: Handler::Worker(w.0),
                    },
                    Relation::Owner,
                    &owner,
                );
                // A small backlog: some wait for the handler, some are signed for but not begun.
                if rng.random_bool(0.03) {
                    walk.done = true;
                }
                walk.step(minutes(rng, 10, 600), Move::Accept, Relation::Handler, &w);
                if rng.random_bool(0.04) {
                    walk.done = true;
                }
                walk.step(minutes(rng, 10, 1440), Move::Start, Relation::Handler, &w);
                Some(w)
            } else {
                walk.step(minutes(rng, 10, 600), Move::Start, Relation::Owner, &owner);
                None
            };
            let (hw, hrel) = match &handler {
                Some(w) => (w.clone(), Relation::Handler),
                None => (owner.clone(), Relation::Owner),
            };
            if kind.time_limit_days() > 1 && rng.random_bool(0.12) {
                let days = rng.random_range(2..=10);
                walk.step(
                    minutes(rng, 60, 2880),
                    Move::RequestExtension {
                        days,
                        reason: "需要协调施工单位，时间较长".into(),
                    },
                    hrel,
                    &hw,
                );
                let approve = rng.random_bool(0.8);
                if walk.step(
                    minutes(rng, 30, 1440),
                    Move::DecideExtension { approve },
                    Relation::Supervisor,
                    &secretary,
                ) && approve
                {
                    extra_days = days;
                }
            }
            // Work takes from an hour to past the deadline now and then.
            let limit = calendar.deadline(received, kind.time_limit_days() + extra_days);
            let work = if rng.random_bool(0.1) {
                (limit - walk.at) + minutes(rng, 60, 4320)
            } else {
                minutes(rng, 60, ((limit - walk.at).num_minutes() - 60).max(61))
            };
            let target = walk.at + work;
            if target > limit && limit > walk.at && limit < now && !walk.done {
                // The deadline job escalates first.
                let gap = limit - walk.at + Duration::minutes(1);
                walk.step(gap, Move::Escalate, Relation::System, &system);
            }
            let gap = (target - walk.at).max(Duration::minutes(30));
            walk.step(gap, Move::Resolve { reply: reply() }, hrel, &hw);
        }
        // Follow-up: most are rated, a few unhappy ones reopen and are done again.
        if goal.is_some() {
            // Steered: it stays where it was taken.
        } else if walk.wf.state == State::Resolved && rng.random_bool(0.85) {
            let unhappy = rng.random_bool(0.06);
            let grade = |rng: &mut StdRng| {
                if rng.random_bool(0.8) {
                    Satisfaction::Satisfied
                } else {
                    Satisfaction::Basic
                }
            };
            let (e, a) = (grade(rng), grade(rng));
            let r = if unhappy {
                Satisfaction::Unsatisfied
            } else {
                grade(rng)
            };
            walk.step(
                minutes(rng, 120, 4320),
                Move::FollowUp {
                    efficiency: e,
                    attitude: a,
                    result: r,
                },
                Relation::Owner,
                &owner,
            );
            if walk.wf.state == State::Reopened && rng.random_bool(0.6) {
                walk.step(minutes(rng, 30, 1440), Move::Start, Relation::Owner, &owner);
                walk.step(
                    minutes(rng, 60, 2880),
                    Move::Resolve {
                        reply: "再次上门处理，问题彻底解决".into(),
                    },
                    Relation::Owner,
                    &owner,
                );
                walk.step(
                    minutes(rng, 120, 2880),
                    Move::FollowUp {
                        efficiency: Satisfaction::Basic,
                        attitude: Satisfaction::Satisfied,
                        result: Satisfaction::Satisfied,
                    },
                    Relation::Owner,
                    &owner,
                );
            }
        } else if walk.wf.state == State::Resolved && rng.random_bool(0.5) {
            walk.step(
                minutes(rng, 1440, 4320),
                Move::Close,
                Relation::Owner,
                &owner,
            );
        }
        // Still open past the deadline at "now": the job has escalated it.
        let deadline = calendar.deadline(received, kind.time_limit_days() + extra_days);
        if walk.wf.state.is_open() && !walk.wf.escalated && deadline < now {
            walk.done = false;
            let gap = (deadline - walk.at).max(Duration::minutes(1)) + Duration::minutes(1);
            walk.step(gap, Move::Escalate, Relation::System, &system);
        }
        let (lat, lon) = match &building {
            Some(b) if rng.random_bool(0.3) => (
                Some(b.1 + rng.random_range(-0.0002..0.0002)),
                Some(b.2 + rng.random_range(-0.0002..0.0002)),
            ),
            _ => (None, None),
        };
        let with_phone = rng.random_bool(0.6);
        out.push(PastRequest {
            new: NewRequest {
                neighbourhood_id: nb.id,
                tracking_code: code_for(code_prefix, first_code + i as u64),
                channel: channel(rng),
                kind,
                service_item_id: item.map(|it| it.id),
                description,
                building_id: building.as_ref().map(|b| b.0),
                lat,
                lon,
                resident_name: with_phone.then(|| {
                    ["王", "李", "张", "刘", "陈", "杨", "赵", "周"][rng.random_range(0..8)]
                        .to_string()
                        + "阿姨"
                }),
                resident_phone: with_phone
                    .then(|| format!("139{:08}", rng.random_range(0..100_000_000u32))),
                resident_email: None,
                address: None,
                owner_id: owner.0,
                deadline_at: deadline,
                attachments: Vec::new(),
            },
            subdistrict_id: nb.subdistrict_id,
            received_at: received,
            receiver: owner.1.clone(),
            moves: walk.moves,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn staff_act_in_working_hours() {
        let at = |h: u32, m: u32| {
            Shanghai
                .with_ymd_and_hms(2026, 11, 27, h, m, 0)
                .unwrap()
                .with_timezone(&Utc)
        };
        assert_eq!(working_hours(at(10, 0)), at(10, 0));
        assert_eq!(working_hours(at(20, 20)), at(8, 50) + Duration::days(1));
        assert_eq!(working_hours(at(3, 15)), at(8, 45));
    }

    #[test]
    fn codes_are_ten_readable_characters_and_distinct() {
        let a = code_for("DM", 0);
        let b = code_for("DM", 1);
        assert_eq!((a.len(), b.len()), (10, 10));
        assert_ne!(a, b);
        assert!(a.chars().all(|c| !"01OI".contains(c)) || a.starts_with("DM"));
    }

    /// Instants that once left a state empty, or might: a weekday morning, a weekday night
    /// (21:36), a Saturday before midnight, a Sunday before dawn, the National Day holiday
    /// and the Spring Festival.
    fn instants() -> Vec<DateTime<Utc>> {
        [
            (2026, 11, 30, 10, 0),
            (2026, 12, 1, 21, 36),
            (2026, 12, 5, 23, 30),
            (2026, 12, 6, 3, 0),
            (2026, 10, 3, 15, 0),
            (2026, 2, 18, 20, 0),
        ]
        .into_iter()
        .map(|(y, mo, d, h, mi)| {
            Shanghai
                .with_ymd_and_hms(y, mo, d, h, mi, 0)
                .unwrap()
                .with_timezone(&Utc)
        })
        .collect()
    }

    #[test]
    fn histories_replay_and_cover_every_state_at_any_hour() {
        let nbs = vec![GenNeighbourhood {
            id: 1,
            subdistrict_id: 1,
            staff: vec![(10, "sec".into()), (11, "w1".into()), (12, "w2".into())],
            buildings: vec![(100, 31.2, 121.55, "牡丹路100弄 1号".into())],
        }];
        let items: Vec<GenItem> = [
            "楼道堆物投诉",
            "垃圾分类投放咨询",
            "律师咨询预约",
            "加装电梯意见征询",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| GenItem {
            id: i as i64 + 1,
            name: n.to_string(),
        })
        .collect();
        let cal = WorkCalendar::china();
        for now in instants() {
            let mut rng = StdRng::seed_from_u64(7);
            let hs = generate(&mut rng, &nbs, &items, 600, now, 45, &cal, "DM", 0);
            let mut seen = std::collections::HashMap::new();
            for h in &hs {
                let moves: Vec<(Move, Relation)> =
                    h.moves.iter().map(|m| (m.mv.clone(), m.relation)).collect();
                let wf = Workflow::replay(&moves).expect("a legal history");
                *seen.entry(wf.state).or_insert(0) += 1;
                assert!(
                    h.moves.windows(2).all(|w| w[0].at <= w[1].at),
                    "time runs forward"
                );
                assert!(h.received_at < now);
                assert!(h.moves.iter().all(|m| m.at < now && m.at > h.received_at));
            }
            for s in STEERED {
                let n = seen.get(&s).copied().unwrap_or(0);
                assert!(n >= GUARANTEED_PER_STATE, "{now}: {s:?} {n} in {seen:?}");
            }
        }
    }
}

//! The demo's tables: the real communities and neighbourhoods of Huamu with invented
//! positions, the seed's rooms of 牡丹七, street names for invented estates, names for
//! invented people, invented facilities and partner units.

use doorstep_geo::Category;

/// A neighbourhood: name, short name, user-name slug, whether its estates are high-rise.
pub(super) type DemoNeighbourhood = (&'static str, &'static str, &'static str, bool);

/// Communities with their centre (lat, lon) and neighbourhoods.
pub(super) const PLACES: &[(&str, [f64; 2], &[DemoNeighbourhood])] = &[
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
pub(super) const SEED_NEIGHBOURHOODS: &[&str] =
    &["lianyang5", "youyou7", "dongcheng5", "mudan6", "mudan7"];

pub(super) const ROADS: &[&str] = &[
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
pub(super) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
pub(super) const GIVEN: &[&str] = &[
    "建国", "秀英", "桂英", "玉兰", "志强", "丽华", "海燕", "伟", "芳", "敏", "静", "军", "磊",
    "洋", "艳", "勇", "娟", "涛", "明", "霞",
];

/// Function rooms of the model station 牡丹七 as the seed names them (office cut to 30 m²).
pub(super) const MODEL_ROOMS: &[(&str, &str, f64, i64, bool)] = &[
    ("首问接待区", "reception", 40.0, 10, false),
    ("党建服务站", "party_service", 45.0, 20, false),
    ("文化客厅", "culture_lounge", 80.0, 40, false),
    ("联勤联动服务站", "joint_duty", 30.0, 8, false),
    ("综合活动室", "activity", 120.0, 90, false),
    ("健康小屋", "health_cabin", 25.0, 6, false),
    ("绿色小屋", "green_cabin", 15.0, 4, false),
    ("社工办公区", "office", 30.0, 12, true),
];

/// Synthetic facilities of the demo network: (category, label, how many).
pub(super) const DEMO_FACILITIES: &[(Category, &str, usize)] = &[
    (Category::ElderlyCare, "长者照护之家", 12),
    (Category::Health, "卫生服务站", 9),
    (Category::Education, "学校", 10),
    (Category::ChildCare, "托育点", 10),
    (Category::Market, "菜场", 22),
    (Category::CultureSport, "文体活动点", 12),
];

/// Partner units the seed names (real names, invented coordinates) and a few invented
/// ones: name, kind, what they offer, offset from 牡丹 (lat, lon).
pub(super) const PARTNERS: &[(&str, &str, &str, f64, f64)] = &[
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
];

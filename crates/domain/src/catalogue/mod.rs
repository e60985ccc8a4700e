//! The service catalogue (服务清单) that lets any worker handle any matter (全岗通), and
//! its search, which understands how residents say things: see [`search`] and [`text`].

mod search;
pub mod text;

pub use search::SearchIndex;

use serde::{Deserialize, Serialize};

crate::coded_enum! {
    /// The 8 categories of the Pudong catalogue.
    pub enum Category {
        /// 党群
        Party = "party",
        /// 政务
        Government = "government",
        /// 生活
        Life = "life",
        /// 法律
        Legal = "legal",
        /// 健康
        Health = "health",
        /// 文化
        Culture = "culture",
        /// 社区管理
        Management = "management",
        /// 自治特色
        SelfGovernance = "self_governance",
    }
}

/// One matter of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceItem {
    pub category: Category,
    pub name: String,
    pub description: String,
    /// Who may ask for it.
    pub eligibility: String,
    /// Documents to bring.
    #[serde(default)]
    pub materials: Vec<String>,
    #[serde(default)]
    pub steps: Vec<String>,
    /// Where it is handled.
    pub location: String,
    /// Working days to resolve.
    pub time_limit_days: u32,
    /// The post (or partner unit) that handles it.
    pub post: String,
    /// Can be done by video link with the subdistrict service centre (远程帮办).
    pub remote_assist: bool,
    /// Requests under it that residents filed themselves may appear in the public
    /// listing (Open311): matters of the shared place (a broken light, piled-up
    /// corridors), never a resident's own affairs (assistance, health, legal, family).
    /// Admins set it; off unless they do.
    #[serde(default)]
    pub publishable: bool,
    /// How residents say it in their own words ("楼上装修太吵"): searched almost as much
    /// as the name, and edited by admins like the rest of the item.
    #[serde(default)]
    pub phrasings: Vec<String>,
}

#[derive(Deserialize)]
struct CatalogueFile {
    item: Vec<ServiceItem>,
}

/// The demo catalogue's files, one per category.
macro_rules! demo_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../data/catalogue/", $name, ".toml")))),*]
    };
}
const DEMO_FILES: &[(&str, &str)] = demo_files!(
    "party",
    "government",
    "life",
    "legal",
    "health",
    "culture",
    "management",
    "self_governance",
);

/// The demo catalogue: a Pudong station's matters over the 8 categories.
pub fn demo_catalogue() -> Result<Vec<ServiceItem>, String> {
    let mut items = Vec::new();
    for (file, text) in DEMO_FILES {
        let f: CatalogueFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        items.extend(f.item);
    }
    for (i, it) in items.iter().enumerate() {
        if it.name.trim().is_empty() || it.time_limit_days == 0 || it.time_limit_days > 60 {
            return Err(format!(
                "item {} ({}): empty name or time limit outside 1–60",
                i + 1,
                it.name
            ));
        }
    }
    let mut names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("{} is listed twice", w[0]));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(idx: &SearchIndex, items: &[ServiceItem], q: &str, n: usize) -> Vec<String> {
        idx.search(q, n)
            .iter()
            .map(|(i, _)| items[*i].name.clone())
            .collect()
    }

    #[test]
    fn the_demo_catalogue_covers_every_category() {
        // The seed's 八大类180余项: at least 180 items over the 8 categories, each a
        // complete guide with the words residents use for it.
        let items = demo_catalogue().unwrap();
        assert!(items.len() >= 180, "{} items", items.len());
        for c in Category::ALL {
            assert!(
                items.iter().filter(|i| i.category == *c).count() >= 20,
                "{c:?}"
            );
        }
        for it in &items {
            assert!(
                !it.eligibility.is_empty()
                    && !it.steps.is_empty()
                    && !it.location.is_empty()
                    && !it.post.is_empty()
                    && it.phrasings.len() >= 3,
                "{} is incomplete",
                it.name
            );
        }
        assert!(items.iter().any(|i| i.remote_assist));
    }

    #[derive(serde::Deserialize)]
    struct Query {
        q: String,
        item: String,
    }

    #[derive(serde::Deserialize)]
    struct QueryFile {
        query: Vec<Query>,
    }

    /// The test set: colloquial queries written apart from the catalogue's phrasings,
    /// each with the one item it means. The search was tuned while watching these.
    fn queries() -> Vec<Query> {
        [
            include_str!("../../data/catalogue/queries_a.toml"),
            include_str!("../../data/catalogue/queries_b.toml"),
        ]
        .iter()
        .flat_map(|t| toml::from_str::<QueryFile>(t).unwrap().query)
        .collect()
    }

    /// Hit rates (top-1, top-3) of `qs`, and the misses.
    fn rates(qs: &[Query]) -> (f64, f64, Vec<String>) {
        let items = demo_catalogue().unwrap();
        let idx = SearchIndex::build(&items);
        let (mut first, mut top3, mut misses) = (0, 0, Vec::new());
        for q in qs {
            let found = top(&idx, &items, &q.q, 3);
            first += usize::from(found.first() == Some(&q.item));
            if found.contains(&q.item) {
                top3 += 1;
            } else {
                misses.push(format!("{} → {:?} (want {})", q.q, found, q.item));
            }
        }
        let n = qs.len() as f64;
        (first as f64 / n, top3 as f64 / n, misses)
    }

    #[test]
    fn held_out_queries_measure_the_search() {
        // Written by someone who saw neither the search code nor the tuning set, after the
        // tuning: never tuned on, so its rates are the honest ones.
        let qs: Vec<Query> =
            toml::from_str::<QueryFile>(include_str!("../../data/catalogue/queries_holdout.toml"))
                .unwrap()
                .query;
        assert!(qs.len() >= 80);
        let (r1, r3, misses) = rates(&qs);
        eprintln!(
            "held-out: {} queries, top-1 {:.1}%, top-3 {:.1}%",
            qs.len(),
            r1 * 100.0,
            r3 * 100.0
        );
        // A floor a little under the first measurement (top-1 66.3%, top-3 81.1%), so that
        // a regression fails.
        assert!(r3 >= 0.78, "top-3 {r3:.3}; misses:\n{}", misses.join("\n"));
        assert!(r1 >= 0.62, "top-1 {r1:.3}");
    }

    #[test]
    fn colloquial_queries_find_their_item() {
        let items = demo_catalogue().unwrap();
        let idx = SearchIndex::build(&items);
        let qs = queries();
        assert!(qs.len() >= 100);
        let (mut first, mut top3) = (0, 0);
        let mut misses = Vec::new();
        for q in &qs {
            assert!(
                items.iter().any(|i| i.name == q.item),
                "{} names no item",
                q.item
            );
            assert!(
                items
                    .iter()
                    .all(|i| i.name != q.q && !i.phrasings.contains(&q.q)),
                "{} is copied from the catalogue: the test set must be independent",
                q.q
            );
            let found = top(&idx, &items, &q.q, 3);
            if found.first() == Some(&q.item) {
                first += 1;
            }
            if found.contains(&q.item) {
                top3 += 1;
            } else {
                misses.push(format!("{} → {:?} (want {})", q.q, found, q.item));
            }
        }
        let n = qs.len() as f64;
        let (r1, r3) = (first as f64 / n, top3 as f64 / n);
        eprintln!(
            "catalogue search: {} items, {} queries, top-1 {:.1}%, top-3 {:.1}%",
            items.len(),
            qs.len(),
            r1 * 100.0,
            r3 * 100.0
        );
        assert!(r3 >= 0.90, "top-3 {r3:.3}; misses:\n{}", misses.join("\n"));
        assert!(r1 >= 0.70, "top-1 {r1:.3}");
    }

    #[test]
    fn finds_what_residents_say() {
        let items = demo_catalogue().unwrap();
        let idx = SearchIndex::build(&items);
        let first = |q: &str| top(&idx, &items, q, 1).pop().unwrap_or_default();
        assert_eq!(first("老年津贴"), "老年综合津贴申请");
        assert_eq!(first("我想找律师"), "律师咨询预约");
        assert_eq!(first("装电梯"), "加装电梯意见征询");
        assert_eq!(first("楼道里堆东西"), "楼道堆物投诉");
        assert_eq!(first("家庭医生"), "家庭医生签约");
        assert_eq!(first("居住证怎么办"), "居住证办理咨询");
        assert_eq!(first("残疾证"), "残疾人证办理咨询");
        let rubbish = top(&idx, &items, "垃圾", 3);
        assert!(
            rubbish.contains(&"垃圾分类投放咨询".to_string())
                && rubbish.contains(&"大件垃圾清运预约".to_string()),
            "{rubbish:?}"
        );
        assert!(idx.search("xqxq", 5).is_empty(), "not pinyin, not a word");
        assert!(
            idx.search("我想问一下", 5).is_empty(),
            "filler words match nothing"
        );
    }

    #[test]
    fn pinyin_finds_items_and_their_prefixes() {
        let items = demo_catalogue().unwrap();
        let idx = SearchIndex::build(&items);
        let first = |q: &str| top(&idx, &items, q, 1).pop().unwrap_or_default();
        assert_eq!(first("juzhuzheng"), "居住证办理咨询");
        assert!(top(&idx, &items, "jtys", 2).contains(&"家庭医生签约".to_string()));
        assert_eq!(
            first("jiatingyi"),
            "家庭医生签约",
            "a prefix while still typing"
        );
    }

    #[test]
    fn nothing_found_points_to_the_nearest_categories() {
        let items = demo_catalogue().unwrap();
        let idx = SearchIndex::build(&items);
        assert!(idx.search("ǂǂǂ", 5).is_empty());
        let near = idx.nearest_categories("律");
        assert_eq!(near.first(), Some(&Category::Legal), "{near:?}");
        assert!(idx.nearest_categories("qqq").is_empty());
    }
}

//! The service catalogue (服务清单) that lets any worker handle any matter (全岗通), and
//! its Chinese full-text search.
//!
//! Search indexes Chinese text as single characters and overlapping character pairs (the
//! approach of Lucene's CJK analyzer: every word of two or more characters is matched
//! through its pairs without a dictionary) and other text as lower-case words, and ranks
//! with BM25, weighting the item's name over its description. The index is rebuilt from
//! the database whenever the catalogue's version changes, so every app server sharing one
//! PostgreSQL answers from the same data.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
}

#[derive(Deserialize)]
struct CatalogueFile {
    item: Vec<ServiceItem>,
}

/// The demo catalogue (67 items across the 8 categories).
pub fn demo_catalogue() -> Result<Vec<ServiceItem>, String> {
    let f: CatalogueFile =
        toml::from_str(include_str!("../data/catalogue_demo.toml")).map_err(|e| e.to_string())?;
    for (i, it) in f.item.iter().enumerate() {
        if it.name.trim().is_empty() || it.time_limit_days == 0 || it.time_limit_days > 60 {
            return Err(format!(
                "item {}: empty name or time limit outside 1–60",
                i + 1
            ));
        }
    }
    Ok(f.item)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Search terms of a text: CJK characters and adjacent pairs, other words lower-cased.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
        for (i, c) in run.iter().enumerate() {
            out.push(c.to_string());
            if let Some(n) = run.get(i + 1) {
                out.push(format!("{c}{n}"));
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.extend(c.to_lowercase());
        } else {
            flush_run(&mut run, &mut out);
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        }
    }
    flush_run(&mut run, &mut out);
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A BM25 index over catalogue items.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// term → (item, weighted frequency)
    postings: HashMap<String, Vec<(u32, f32)>>,
    lengths: Vec<f32>,
    avg_len: f32,
}

/// Field weights: a word in the name counts three times one in the description.
const NAME_WEIGHT: f32 = 3.0;

impl SearchIndex {
    pub fn build<'a>(items: impl IntoIterator<Item = &'a ServiceItem>) -> SearchIndex {
        let mut idx = SearchIndex::default();
        for (i, it) in items.into_iter().enumerate() {
            let mut tf: HashMap<String, f32> = HashMap::new();
            let mut len = 0.0;
            let fields: [(&str, f32); 5] = [
                (&it.name, NAME_WEIGHT),
                (&it.description, 1.0),
                (&it.eligibility, 0.5),
                (&it.post, 0.5),
                (&it.location, 0.5),
            ];
            for (text, w) in fields {
                for t in tokens(text) {
                    *tf.entry(t).or_default() += w;
                    len += w;
                }
            }
            for (t, f) in tf {
                idx.postings.entry(t).or_default().push((i as u32, f));
            }
            idx.lengths.push(len);
        }
        let n = idx.lengths.len().max(1) as f32;
        idx.avg_len = idx.lengths.iter().sum::<f32>() / n;
        idx
    }

    /// Items matching `query`, best first, as (item index, score); at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(usize, f32)> {
        let (k1, b) = (1.2f32, 0.75f32);
        let n = self.lengths.len() as f32;
        let mut terms = tokens(query);
        terms.sort();
        terms.dedup();
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for t in &terms {
            let Some(post) = self.postings.get(t) else {
                continue;
            };
            let df = post.len() as f32;
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            // Pairs carry the meaning of Chinese words; single characters only help.
            let term_weight = if t.chars().count() >= 2 { 1.0 } else { 0.3 };
            for (doc, f) in post {
                let len = self.lengths[*doc as usize];
                let s = idf * term_weight * (f * (k1 + 1.0))
                    / (f + k1 * (1.0 - b + b * len / self.avg_len.max(1e-6)));
                *scores.entry(*doc).or_default() += s;
            }
        }
        let mut out: Vec<(usize, f32)> = scores.into_iter().map(|(d, s)| (d as usize, s)).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(limit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn top(idx: &SearchIndex, items: &[ServiceItem], q: &str) -> String {
        idx.search(q, 1)
            .first()
            .map(|(i, _)| items[*i].name.clone())
            .unwrap_or_default()
    }

    #[test]
    fn the_demo_catalogue_covers_every_category() {
        let items = demo_catalogue().unwrap();
        assert!(items.len() >= 60);
        for c in Category::ALL {
            assert!(
                items.iter().filter(|i| i.category == *c).count() >= 7,
                "{c:?}"
            );
        }
        assert!(items.iter().any(|i| i.remote_assist));
    }

    #[test]
    fn finds_what_residents_say() {
        let items = demo_catalogue().unwrap();
        let idx = SearchIndex::build(&items);
        assert_eq!(top(&idx, &items, "老年津贴"), "老年综合津贴申请");
        assert_eq!(top(&idx, &items, "我想找律师"), "律师咨询预约");
        assert_eq!(top(&idx, &items, "装电梯"), "加装电梯意见征询");
        assert_eq!(top(&idx, &items, "楼道里堆东西"), "楼道堆物投诉");
        assert_eq!(top(&idx, &items, "家庭医生"), "家庭医生签约");
        assert_eq!(top(&idx, &items, "居住证怎么办"), "居住证办理咨询");
        assert_eq!(top(&idx, &items, "残疾证"), "残疾人证办理咨询");
        let rubbish: Vec<String> = idx
            .search("垃圾", 3)
            .iter()
            .map(|(i, _)| items[*i].name.clone())
            .collect();
        assert!(
            rubbish.contains(&"垃圾分类投放咨询".to_string())
                && rubbish.contains(&"大件垃圾清运预约".to_string()),
            "{rubbish:?}"
        );
        assert!(idx.search("zzz", 5).is_empty());
    }

    #[test]
    fn tokens_of_mixed_text() {
        assert_eq!(
            tokens("加装电梯"),
            vec!["加", "加装", "装", "装电", "电", "电梯", "梯"]
        );
        assert_eq!(tokens("Wi-Fi 密码"), vec!["wi", "fi", "密", "密码", "码"]);
    }

    proptest! {
        #[test]
        fn search_is_total_sorted_and_relevant(q in "\\PC{0,12}") {
            let items = demo_catalogue().unwrap();
            let idx = SearchIndex::build(&items);
            let hits = idx.search(&q, 10);
            prop_assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1));
            let qt = tokens(&q);
            for (i, s) in hits {
                prop_assert!(s > 0.0);
                let it = &items[i];
                let doc: Vec<String> = [&it.name, &it.description, &it.eligibility, &it.post, &it.location].iter().flat_map(|t| tokens(t)).collect();
                prop_assert!(qt.iter().any(|t| doc.contains(t)), "hit without a shared term");
            }
        }
    }
}

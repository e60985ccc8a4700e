//! Likely duplicates at intake: the same matter reported twice, at the same building or
//! within 50 m, in similar words, within 14 days. Pure scoring; the store finds the
//! candidates and the pages offer a merge.

use std::collections::HashSet;

/// How far back a duplicate is looked for.
pub const WINDOW_DAYS: i64 = 14;
/// Two points closer than this are the same place.
pub const NEAR_METRES: f64 = 50.0;
/// The least similarity (with the same-item bonus) that is offered as a duplicate.
pub const THRESHOLD: f64 = 0.3;
/// Added when both requests name the same catalogue item.
pub const SAME_ITEM_BONUS: f64 = 0.2;

pub use crate::earth::haversine_m;

/// The character pairs of a text's letters, digits and CJK characters (punctuation and
/// spaces split runs). Chinese has no spaces, so pairs stand in for words, as in
/// Lucene's CJK analyzer; a single-character run counts as itself.
pub fn bigrams(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut run: Vec<char> = Vec::new();
    let mut flush = |run: &mut Vec<char>| {
        match run.len() {
            0 => {}
            1 => {
                out.insert(run[0].to_string());
            }
            _ => {
                for w in run.windows(2) {
                    out.insert(w.iter().collect());
                }
            }
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            run.extend(c.to_lowercase());
        } else {
            flush(&mut run);
        }
    }
    flush(&mut run);
    out
}

/// Dice's coefficient of the two texts' character pairs, in 0..=1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (x, y) = (bigrams(a), bigrams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let common = x.intersection(&y).count();
    2.0 * common as f64 / (x.len() + y.len()) as f64
}

/// Where a request is: its building, its point, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spot {
    pub building_id: Option<i64>,
    pub point: Option<(f64, f64)>,
}

impl Spot {
    /// Same building, or points within [`NEAR_METRES`].
    pub fn near(&self, other: &Spot) -> bool {
        if let (Some(a), Some(b)) = (self.building_id, other.building_id)
            && a == b
        {
            return true;
        }
        match (self.point, other.point) {
            (Some((la, lo)), Some((lb, lob))) => haversine_m(la, lo, lb, lob) <= NEAR_METRES,
            _ => false,
        }
    }
}

/// The duplicate score of a candidate, or `None` when it is not a likely duplicate.
pub fn score(
    text: &str,
    spot: &Spot,
    item: Option<i64>,
    other_text: &str,
    other_spot: &Spot,
    other_item: Option<i64>,
) -> Option<f64> {
    if !spot.near(other_spot) {
        return None;
    }
    let mut s = similarity(text, other_text);
    if item.is_some() && item == other_item {
        s += SAME_ITEM_BONUS;
    }
    (s >= THRESHOLD).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_same_matter_in_other_words_is_similar() {
        let a = "3号楼楼道堆放杂物很多";
        let b = "3号楼楼道里堆了很多杂物，影响通行";
        assert!(similarity(a, b) > 0.4, "{}", similarity(a, b));
        assert!(similarity(a, "电梯坏了，老人下不了楼") < 0.1);
        assert_eq!(similarity("", a), 0.0);
    }

    #[test]
    fn place_decides_before_words() {
        let here = Spot {
            building_id: Some(7),
            point: None,
        };
        let there = Spot {
            building_id: Some(8),
            point: None,
        };
        let text = "楼道堆物";
        assert!(score(text, &here, None, text, &here, None).is_some());
        assert_eq!(score(text, &here, None, text, &there, None), None);
        // 40 m apart by point (0.00036° of latitude), different buildings.
        let p = |lat: f64, b: i64| Spot {
            building_id: Some(b),
            point: Some((lat, 121.55)),
        };
        assert!(p(31.2, 1).near(&p(31.20036, 2)));
        assert!(!p(31.2, 1).near(&p(31.2009, 2)));
    }

    #[test]
    fn the_same_item_tips_a_borderline_pair() {
        let here = Spot {
            building_id: Some(1),
            point: None,
        };
        let (a, b) = ("路灯不亮", "晚上小区门口很黑");
        assert_eq!(score(a, &here, Some(5), b, &here, Some(6)), None);
        let s = similarity(a, b) + SAME_ITEM_BONUS;
        assert_eq!(
            score(a, &here, Some(5), b, &here, Some(5)).is_some(),
            s >= THRESHOLD
        );
    }

    #[test]
    fn haversine_matches_a_known_distance() {
        // One degree of latitude is about 111.2 km.
        let d = haversine_m(31.0, 121.5, 32.0, 121.5);
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    proptest! {
        #[test]
        fn similarity_is_symmetric_bounded_and_reflexive(a in "[楼道堆物电梯a-c0-9 ，]{0,20}", b in "[楼道堆物电梯a-c0-9 ，]{0,20}") {
            let s = similarity(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!((s - similarity(&b, &a)).abs() < 1e-12);
            if !bigrams(&a).is_empty() {
                prop_assert!((similarity(&a, &a) - 1.0).abs() < 1e-12);
            }
        }
    }
}

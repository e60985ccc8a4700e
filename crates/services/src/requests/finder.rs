//! How a resident finds their neighbourhood without knowing how the subdistrict names it:
//! by its name or short name (牡丹七, 牡丹7), by their estate's name or street address, or
//! by where their phone is (the neighbourhood whose buildings are nearest).

use super::resident::{Place, neighbourhoods};
use crate::{Result, Services};
use doorstep_domain::earth::haversine_m;
use doorstep_domain::{Entity, NeighbourhoodId, Scope};
use std::collections::HashMap;

/// Why a neighbourhood was found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// Its own name, short name or address.
    Name,
    /// One of its estates, by name or address: the estate's name.
    Estate(String),
    /// Its nearest building is this many metres away.
    Near(f64),
}

/// A neighbourhood found, and why.
#[derive(Debug, Clone)]
pub struct Hit {
    pub place: Place,
    pub found: Found,
}

/// How far a phone may be from a neighbourhood's nearest building to suggest it.
pub const NEAR_ENOUGH_M: f64 = 1500.0;

const DIGITS: [(char, char); 10] = [
    ('0', '〇'),
    ('1', '一'),
    ('2', '二'),
    ('3', '三'),
    ('4', '四'),
    ('5', '五'),
    ('6', '六'),
    ('7', '七'),
    ('8', '八'),
    ('9', '九'),
];

/// Text as compared: lower case, no spaces, Chinese numerals as digits (牡丹七 = 牡丹7),
/// and the words people leave out (第, 居民区, 居委会, 小区).
fn fold(s: &str) -> String {
    let mut t: String = s
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .map(|c| DIGITS.iter().find(|(_, z)| *z == c).map_or(c, |(d, _)| *d))
        .collect();
    for suffix in ["居民委员会", "居民区", "居委会", "居委", "小区", "第"] {
        t = t.replace(suffix, "");
    }
    t
}

/// Whether the asked text and a name meet: one contains the other (a resident may type
/// more, "我住牡丹路358弄3号", or less, "牡丹").
fn meets(asked: &str, name: &str) -> bool {
    let (a, n) = (fold(asked), fold(name));
    !a.is_empty() && !n.is_empty() && (a.contains(&n) || (n.contains(&a) && a.chars().count() >= 2))
}

/// Neighbourhoods whose names, estates or addresses meet `asked`; names first.
pub async fn by_words(sv: &Services, asked: &str) -> Result<Vec<Hit>> {
    let mut hits = Vec::new();
    for place in neighbourhoods(sv).await? {
        let n = &place.neighbourhood;
        let own = ["name", "short_name", "address"]
            .iter()
            .filter_map(|k| n.get(k).as_str())
            .any(|v| meets(asked, v));
        if own {
            hits.push(Hit {
                place,
                found: Found::Name,
            });
            continue;
        }
        let scope = Scope::Neighbourhood {
            subdistrict_id: n.subdistrict_id,
            neighbourhood_id: NeighbourhoodId(n.id),
        };
        let estates = crate::places::all_in(sv, Entity::Estate, scope).await?;
        let estate = estates.iter().filter(|e| e.is_active()).find(|e| {
            ["name", "address"]
                .iter()
                .filter_map(|k| e.get(k).as_str())
                .any(|v| meets(asked, v))
        });
        if let Some(e) = estate {
            let found = Found::Estate(e.title());
            hits.push(Hit { place, found });
        }
    }
    hits.sort_by_key(|h| !matches!(h.found, Found::Name));
    Ok(hits)
}

/// The neighbourhoods whose buildings are nearest to `(lat, lon)`, within
/// [`NEAR_ENOUGH_M`], nearest first (at most three).
pub async fn by_location(sv: &Services, lat: f64, lon: f64) -> Result<Vec<Hit>> {
    let mut nearest: HashMap<NeighbourhoodId, f64> = HashMap::new();
    for sd in sv.store.places().subdistrict_ids().await? {
        for b in sv.store.geo().building_points(sd).await? {
            let d = haversine_m(lat, lon, b.lat, b.lon);
            let e = nearest.entry(b.neighbourhood_id).or_insert(f64::MAX);
            *e = e.min(d);
        }
    }
    let mut hits: Vec<Hit> = neighbourhoods(sv)
        .await?
        .into_iter()
        .filter_map(|place| {
            let d = *nearest.get(&NeighbourhoodId(place.neighbourhood.id))?;
            (d <= NEAR_ENOUGH_M).then_some(Hit {
                place,
                found: Found::Near(d),
            })
        })
        .collect();
    let dist = |h: &Hit| match h.found {
        Found::Near(d) => d,
        _ => f64::MAX,
    };
    hits.sort_by(|a, b| dist(a).total_cmp(&dist(b)));
    hits.truncate(3);
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_meet_as_residents_type_them() {
        assert!(meets("牡丹7", "牡丹七"));
        assert!(meets("牡丹第七居民区", "牡丹第七"));
        assert!(meets("牡丹七", "牡丹第七居民区"));
        assert!(meets("我住牡丹路358弄3号", "牡丹路358弄"));
        assert!(meets("牡丹", "牡丹路358弄"));
        assert!(!meets("牡", "牡丹路358弄"), "one character is too little");
        assert!(!meets("由由", "牡丹七"));
        assert!(!meets("  ", "牡丹七"));
        assert_eq!(fold("Mu Dan 七 居民区"), "mudan7");
    }
}

//! Request figures per neighbourhood and period.
//!
//! One scan of a covering index (no row with its description and timeline is read) packs
//! each request into one integer — catalogue item, kind and eight flags — and each
//! neighbourhood's requests into one comma-separated list, with another list of
//! resolution times for the medians; the counting happens here. Moving a list per
//! neighbourhood instead of a row per request is what makes a subdistrict's month fast
//! (the driver pays per row, not per byte), and SQLite has no percentile function for the
//! medians anyway.

use super::open_states;
use crate::db::Sql;
use crate::{Backend, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use doorstep_domain::requests::Kind;
use doorstep_domain::{NeighbourhoodId, SubdistrictId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The figures of one neighbourhood (or of all, `neighbourhood_id: None`) for a period.
/// Merged duplicates count only as `merged`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct FigureRow {
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub total: i64,
    pub open: i64,
    pub overdue_open: i64,
    pub on_spot: i64,
    /// Resolved or closed.
    pub resolved: i64,
    /// Requests whose deadline has passed or that are resolved: the base of the on-time rate.
    pub due: i64,
    /// Resolved no later than the deadline.
    pub on_time: i64,
    pub rated: i64,
    /// Rated 满意 or 基本满意.
    pub satisfied: i64,
    pub merged: i64,
    pub median_resolve_secs: Option<i64>,
}

impl FigureRow {
    fn rate(num: i64, den: i64) -> Option<f64> {
        (den > 0).then(|| num as f64 / den as f64)
    }
    pub fn on_time_rate(&self) -> Option<f64> {
        Self::rate(self.on_time, self.due)
    }
    pub fn on_spot_rate(&self) -> Option<f64> {
        Self::rate(self.on_spot, self.total)
    }
    pub fn resolution_rate(&self) -> Option<f64> {
        Self::rate(self.resolved, self.total)
    }
    pub fn satisfaction_rate(&self) -> Option<f64> {
        Self::rate(self.satisfied, self.rated)
    }

    fn add(&mut self, o: &FigureRow) {
        self.total += o.total;
        self.open += o.open;
        self.overdue_open += o.overdue_open;
        self.on_spot += o.on_spot;
        self.resolved += o.resolved;
        self.due += o.due;
        self.on_time += o.on_time;
        self.rated += o.rated;
        self.satisfied += o.satisfied;
        self.merged += o.merged;
    }
}

/// The figures for a period: the whole scope, each neighbourhood, and volume by kind and
/// by catalogue category (`""`: no catalogue item).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub overall: FigureRow,
    pub neighbourhoods: Vec<FigureRow>,
    pub by_kind: BTreeMap<String, i64>,
    pub by_category: BTreeMap<String, i64>,
}

/// Which requests figures cover: those received in `[from, to)`.
#[derive(Debug, Clone)]
pub struct FigureQuery {
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: Option<NeighbourhoodId>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Deadlines before this are due.
    pub now: DateTime<Utc>,
}

// The flags packed into a figures token.
const MERGED: i64 = 1;
const OPEN: i64 = 2;
const PAST: i64 = 4;
const ON_SPOT: i64 = 8;
const RESOLVED: i64 = 16;
const ON_TIME: i64 = 32;
const RATED: i64 = 64;
const SATISFIED: i64 = 128;

/// The median (of an even count, the mean of the middle two, rounded down), in linear time.
fn median(mut xs: Vec<i64>) -> Option<i64> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let (lower, mid, _) = xs.select_nth_unstable(n / 2);
    let mid = *mid;
    Some(if n % 2 == 1 {
        mid
    } else {
        let below = lower.iter().copied().max().unwrap_or(mid);
        (below + mid) / 2
    })
}

/// The statement: one row per neighbourhood with its packed tokens and resolution times.
/// A neighbourhood's period and the subdistrict's are written apart so that each case uses
/// its own index (an `$2 IS NULL OR …` test would not).
fn statement(q: &FigureQuery, backend: Backend) -> Sql {
    let kinds: String = Kind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| format!("WHEN '{}' THEN {i} ", k.code()))
        .collect();
    let open = open_states();
    let token = format!(
        "((COALESCE(r.service_item_id, 0) * 8 + CASE r.kind {kinds}ELSE 7 END) * 256 \
         + CASE WHEN r.merged_into IS NULL THEN 0 ELSE {MERGED} END \
         + CASE WHEN r.state{open} THEN {OPEN} ELSE 0 END \
         + CASE WHEN r.deadline_at < $4 THEN {PAST} ELSE 0 END \
         + CASE WHEN r.on_spot THEN {ON_SPOT} ELSE 0 END \
         + CASE WHEN r.resolved_at IS NULL THEN 0 WHEN r.resolved_at <= r.deadline_at \
           THEN {RESOLVED} + {ON_TIME} ELSE {RESOLVED} END \
         + CASE WHEN r.rating IS NULL THEN 0 WHEN r.rating IN ('satisfied', 'basic') \
           THEN {RATED} + {SATISFIED} ELSE {RATED} END)"
    );
    let secs = "CASE WHEN r.merged_into IS NULL THEN r.resolve_secs END";
    let (tokens, times) = match backend {
        Backend::Sqlite => (
            format!("group_concat({token}, ',')"),
            format!("group_concat({secs}, ',')"),
        ),
        Backend::Postgres => (
            format!("string_agg(({token})::text, ',')"),
            format!("string_agg(({secs})::text, ',')"),
        ),
    };
    let mut sql = Sql::new(format!(
        "SELECT r.neighbourhood_id AS nb, {tokens} AS tokens, {times} AS secs FROM requests r \
         WHERE r.subdistrict_id = $1 AND r.created_at >= $2 AND r.created_at < $3"
    ))
    .bind(q.subdistrict_id)
    .bind(q.from)
    .bind(q.to)
    .bind(q.now);
    if let Some(nb) = q.neighbourhood_id {
        sql.push(" AND r.neighbourhood_id = ").push_bind(nb);
    }
    sql.push(" GROUP BY r.neighbourhood_id");
    sql
}

fn bad(what: &str) -> StoreError {
    StoreError::Database(format!("figures: bad {what}"))
}

/// Counts one neighbourhood's packed tokens into its row and the period's volumes.
fn count(
    row: &mut FigureRow,
    tokens: &str,
    categories: &HashMap<i64, String>,
    fig: &mut Figures,
) -> Result<()> {
    for t in tokens.split(',').filter(|t| !t.is_empty()) {
        let t: i64 = t.parse().map_err(|_| bad("token"))?;
        let flags = t & 255;
        if flags & MERGED != 0 {
            row.merged += 1;
            continue;
        }
        let kind = (t >> 8) & 7;
        let item = t >> 11;
        let has = |f: i64| i64::from(flags & f != 0);
        row.total += 1;
        row.open += has(OPEN);
        row.overdue_open += has(OPEN) * has(PAST);
        row.on_spot += has(ON_SPOT);
        row.resolved += has(RESOLVED);
        row.due += i64::from(flags & (RESOLVED | PAST) != 0);
        row.on_time += has(ON_TIME);
        row.rated += has(RATED);
        row.satisfied += has(SATISFIED);
        if let Some(k) = Kind::ALL.get(kind as usize) {
            *fig.by_kind.entry(k.code().to_string()).or_default() += 1;
        }
        let cat = categories.get(&item).cloned().unwrap_or_default();
        *fig.by_category.entry(cat).or_default() += 1;
    }
    Ok(())
}

/// The request figures.
#[derive(Debug, Clone, Copy)]
pub struct FigureStore<'a>(pub(crate) &'a Store);

impl FigureStore<'_> {
    /// The figures of requests received in a period.
    pub async fn requests(self, q: &FigureQuery) -> Result<Figures> {
        let db = &mut self.0.db();
        let mut packed: Vec<(NeighbourhoodId, String, Option<String>)> = Vec::new();
        for r in statement(q, self.0.backend()).fetch_all(db).await? {
            let tokens: Option<String> = r.get("tokens")?;
            packed.push((r.id("nb")?, tokens.unwrap_or_default(), r.get("secs")?));
        }
        let mut categories: HashMap<i64, String> = HashMap::new();
        for r in Sql::new("SELECT id, category FROM service_items WHERE subdistrict_id = $1")
            .bind(q.subdistrict_id)
            .fetch_all(db)
            .await?
        {
            categories.insert(r.get("id")?, r.get("category")?);
        }
        let mut fig = Figures::default();
        let mut overall = FigureRow::default();
        let mut all_secs = Vec::new();
        packed.sort_by_key(|(nb, _, _)| *nb);
        for (nb, tokens, secs) in packed {
            let mut row = FigureRow {
                neighbourhood_id: Some(nb),
                ..Default::default()
            };
            count(&mut row, &tokens, &categories, &mut fig)?;
            let mine: Vec<i64> = secs
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().map_err(|_| bad("time")))
                .collect::<Result<_>>()?;
            all_secs.extend_from_slice(&mine);
            row.median_resolve_secs = median(mine);
            overall.add(&row);
            fig.neighbourhoods.push(row);
        }
        overall.neighbourhood_id = q.neighbourhood_id;
        overall.median_resolve_secs = median(all_secs);
        fig.overall = overall;
        Ok(fig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_even_and_empty() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
        assert_eq!(median(vec![10, 10, 1, 30]), Some(10));
        assert_eq!(median(vec![7]), Some(7));
    }

    #[test]
    fn tokens_count_into_rows_and_volumes() {
        let cats: HashMap<i64, String> = [(3, "life".to_string())].into();
        let token =
            |item: i64, kind: i64, flags: i64| ((item * 8 + kind) * 256 + flags).to_string();
        let tokens = [
            token(3, 1, RESOLVED | ON_TIME | RATED | SATISFIED),
            token(0, 0, OPEN | PAST),
            token(3, 1, MERGED),
        ]
        .join(",");
        let mut fig = Figures::default();
        let mut row = FigureRow::default();
        count(&mut row, &tokens, &cats, &mut fig).unwrap();
        assert_eq!(
            (row.total, row.merged, row.resolved, row.on_time),
            (2, 1, 1, 1)
        );
        assert_eq!((row.open, row.overdue_open, row.due), (1, 1, 2));
        assert_eq!((row.rated, row.satisfied), (1, 1));
        assert_eq!(fig.by_kind.get("help"), Some(&1));
        assert_eq!(fig.by_kind.get("consultation"), Some(&1));
        assert_eq!(fig.by_category.get("life"), Some(&1));
        assert_eq!(fig.by_category.get(""), Some(&1));
        assert!(count(&mut row, "x", &cats, &mut fig).is_err());
    }
}

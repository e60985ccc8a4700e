//! What is read about requests beyond one record: duplicate candidates, figures per
//! neighbourhood and period, attachments, and who receives requests that arrive without
//! a worker (the resident's web page, Open311).

use crate::audit::{AuditEntry, insert_audit};
use crate::{Result, Store, StoreError, WriteCtx, with_pool, with_tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeMap;

/// An open request that may be the same matter as a new one.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DuplicateCandidate {
    pub id: i64,
    pub tracking_code: String,
    pub description: String,
    pub service_item_id: Option<i64>,
    pub building_id: Option<i64>,
    /// The request's own point, or its building's.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub state: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

/// The figures of one neighbourhood (or of all, `neighbourhood_id: None`) for a period.
/// Merged duplicates count only as `merged`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct FigureRow {
    pub neighbourhood_id: Option<i64>,
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
}

/// The figures for a period: the whole scope, each neighbourhood, and volume by kind and
/// by catalogue category (`None`: no catalogue item).
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
    pub subdistrict_id: i64,
    pub neighbourhood_id: Option<i64>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Deadlines before this are due.
    pub now: DateTime<Utc>,
}

/// An attachment's description (the bytes are fetched separately).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attachment {
    pub id: i64,
    pub request_id: i64,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// The most attachments one request carries.
pub const MAX_ATTACHMENTS: i64 = 3;

// The flags packed into a figures token (see `request_figures`).
const MERGED: i64 = 1;
const OPEN: i64 = 2;
const PAST: i64 = 4;
const ON_SPOT: i64 = 8;
const RESOLVED: i64 = 16;
const ON_TIME: i64 = 32;
const RATED: i64 = 64;
const SATISFIED: i64 = 128;

/// The period's requests of one neighbourhood (`$2`) or of the subdistrict (`$2` NULL),
/// written so that each case uses its own index: an `$2 IS NULL OR …` test would not.
fn figure_where(one_neighbourhood: bool) -> &'static str {
    if one_neighbourhood {
        "r.subdistrict_id = $1 AND r.neighbourhood_id = $2 AND r.created_at >= $3 AND r.created_at < $4"
    } else {
        "r.subdistrict_id = $1 AND $2 IS NULL AND r.created_at >= $3 AND r.created_at < $4"
    }
}

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

impl Store {
    /// Open, unmerged requests of a neighbourhood received since `since`, newest first
    /// (at most `limit`), for duplicate scoring.
    pub async fn duplicate_candidates(
        &self,
        neighbourhood_id: i64,
        since: DateTime<Utc>,
        exclude: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DuplicateCandidate>> {
        let sql = format!(
            "SELECT r.id, r.tracking_code, r.description, r.service_item_id, r.building_id, r.state, r.version, \
             r.created_at, COALESCE(r.lat, b.lat) AS lat, COALESCE(r.lon, b.lon) AS lon \
             FROM requests r LEFT JOIN buildings b ON b.id = r.building_id \
             WHERE r.neighbourhood_id = $1 AND r.created_at >= $2 AND r.merged_into IS NULL \
             AND r.state IN {} AND ($3 IS NULL OR r.id <> $3) \
             ORDER BY r.created_at DESC LIMIT $4",
            crate::requests::OPEN_STATES
        );
        Ok(with_pool!(self, |p| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(neighbourhood_id)
                .bind(since)
                .bind(exclude)
                .bind(limit)
                .fetch_all(p)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(DuplicateCandidate {
                    id: r.try_get("id")?,
                    tracking_code: r.try_get("tracking_code")?,
                    description: r.try_get("description")?,
                    service_item_id: r.try_get("service_item_id")?,
                    building_id: r.try_get("building_id")?,
                    lat: r.try_get("lat")?,
                    lon: r.try_get("lon")?,
                    state: r.try_get("state")?,
                    version: r.try_get("version")?,
                    created_at: r.try_get("created_at")?,
                });
            }
            out
        }))
    }

    /// A building's point, if it has one.
    pub async fn building_point(&self, building_id: i64) -> Result<Option<(f64, f64)>> {
        Ok(with_pool!(self, |p| {
            let row = sqlx::query("SELECT lat, lon FROM buildings WHERE id = $1")
                .bind(building_id)
                .fetch_optional(p)
                .await?;
            match row {
                Some(r) => {
                    let lat: Option<f64> = r.try_get("lat")?;
                    let lon: Option<f64> = r.try_get("lon")?;
                    lat.zip(lon)
                }
                None => None,
            }
        }))
    }

    /// The figures of requests received in a period. One scan of a covering index (no row
    /// with its description and timeline is read) packs each request into one integer —
    /// catalogue item, kind and eight flags — and each neighbourhood's requests into one
    /// comma-separated list, with another list of resolution times for the medians; the
    /// counting happens here. Moving a list per neighbourhood instead of a row per request
    /// is what makes a subdistrict's month fast (the driver pays per row, not per byte), and
    /// SQLite has no percentile function for the medians anyway.
    pub async fn request_figures(&self, q: &FigureQuery) -> Result<Figures> {
        let where_ = figure_where(q.neighbourhood_id.is_some());
        let open = crate::requests::OPEN_STATES;
        let kinds = doorstep_domain::requests::Kind::ALL
            .iter()
            .enumerate()
            .map(|(i, k)| format!("WHEN '{}' THEN {i}", doorstep_domain::requests::code(k)))
            .collect::<Vec<_>>()
            .join(" ");
        let token = format!(
            "((COALESCE(r.service_item_id, 0) * 8 + CASE r.kind {kinds} ELSE 7 END) * 256 \
             + CASE WHEN r.merged_into IS NULL THEN 0 ELSE {MERGED} END \
             + CASE WHEN r.state IN {open} THEN {OPEN} ELSE 0 END \
             + CASE WHEN r.deadline_at < $5 THEN {PAST} ELSE 0 END \
             + CASE WHEN r.on_spot THEN {ON_SPOT} ELSE 0 END \
             + CASE WHEN r.resolved_at IS NULL THEN 0 WHEN r.resolved_at <= r.deadline_at THEN {RESOLVED} + {ON_TIME} ELSE {RESOLVED} END \
             + CASE WHEN r.rating IS NULL THEN 0 WHEN r.rating IN ('satisfied', 'basic') THEN {RATED} + {SATISFIED} ELSE {RATED} END)"
        );
        let secs = "CASE WHEN r.merged_into IS NULL THEN r.resolve_secs END";
        let (tokens, times) = match self.backend() {
            crate::Backend::Sqlite => (
                format!("group_concat({token}, ',')"),
                format!("group_concat({secs}, ',')"),
            ),
            crate::Backend::Postgres => (
                format!("string_agg(({token})::text, ',')"),
                format!("string_agg(({secs})::text, ',')"),
            ),
        };
        let sql = format!(
            "SELECT r.neighbourhood_id AS nb, {tokens} AS tokens, {times} AS secs \
             FROM requests r WHERE {where_} GROUP BY r.neighbourhood_id"
        );
        let mut packed: Vec<(i64, String, Option<String>)> = Vec::new();
        let mut categories: BTreeMap<i64, String> = BTreeMap::new();
        with_pool!(self, |p| {
            for r in sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(q.subdistrict_id)
                .bind(q.neighbourhood_id)
                .bind(q.from)
                .bind(q.to)
                .bind(q.now)
                .fetch_all(p)
                .await?
            {
                packed.push((
                    r.try_get("nb")?,
                    r.try_get::<Option<String>, _>("tokens")?
                        .unwrap_or_default(),
                    r.try_get("secs")?,
                ));
            }
            for r in sqlx::query("SELECT id, category FROM service_items WHERE subdistrict_id = $1")
                .bind(q.subdistrict_id)
                .fetch_all(p)
                .await?
            {
                categories.insert(r.try_get("id")?, r.try_get("category")?);
            }
        });
        let bad = |what: &str| {
            StoreError::Database(sqlx::Error::Protocol(format!("figures: bad {what}")))
        };
        let mut fig = Figures::default();
        let mut overall = FigureRow::default();
        let mut all_secs = Vec::new();
        packed.sort_by_key(|(nb, _, _)| *nb);
        for (nb, tokens, secs) in packed {
            let mut row = FigureRow {
                neighbourhood_id: Some(nb),
                ..Default::default()
            };
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
                if let Some(k) = doorstep_domain::requests::Kind::ALL.get(kind as usize) {
                    *fig.by_kind
                        .entry(doorstep_domain::requests::code(k))
                        .or_default() += 1;
                }
                let cat = if item == 0 {
                    String::new()
                } else {
                    categories.get(&item).cloned().unwrap_or_default()
                };
                *fig.by_category.entry(cat).or_default() += 1;
            }
            let mine: Vec<i64> = secs
                .as_deref()
                .unwrap_or("")
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| t.parse().map_err(|_| bad("time")))
                .collect::<Result<_>>()?;
            all_secs.extend_from_slice(&mine);
            row.median_resolve_secs = median(mine);
            overall.total += row.total;
            overall.open += row.open;
            overall.overdue_open += row.overdue_open;
            overall.on_spot += row.on_spot;
            overall.resolved += row.resolved;
            overall.due += row.due;
            overall.on_time += row.on_time;
            overall.rated += row.rated;
            overall.satisfied += row.satisfied;
            overall.merged += row.merged;
            fig.neighbourhoods.push(row);
        }
        overall.neighbourhood_id = q.neighbourhood_id;
        overall.median_resolve_secs = median(all_secs);
        fig.overall = overall;
        Ok(fig)
    }

    /// The subdistricts in use (the resident pages list their neighbourhoods).
    pub async fn subdistrict_ids(&self) -> Result<Vec<i64>> {
        Ok(with_pool!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM subdistricts WHERE archived_at IS NULL ORDER BY id",
            )
            .fetch_all(p)
            .await?
        }))
    }

    /// Who receives requests that arrive without a worker (web page, Open311): the
    /// neighbourhood's secretary, else its first worker, else the subdistrict's first admin.
    pub async fn receiver_for(&self, subdistrict_id: i64, neighbourhood_id: i64) -> Result<i64> {
        with_pool!(self, |p| {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM accounts WHERE subdistrict_id = $1 AND disabled = FALSE AND \
                 ((neighbourhood_id = $2 AND role IN ('secretary', 'worker')) OR role = 'admin') \
                 ORDER BY CASE WHEN role = 'secretary' AND neighbourhood_id = $2 THEN 0 \
                 WHEN role = 'worker' AND neighbourhood_id = $2 THEN 1 ELSE 2 END, id LIMIT 1",
            )
            .bind(subdistrict_id)
            .bind(neighbourhood_id)
            .fetch_optional(p)
            .await?
            .ok_or(StoreError::NotFound)
        })
    }

    /// Stores an image of a request; refuses past [`MAX_ATTACHMENTS`].
    pub async fn add_attachment(
        &self,
        request_id: i64,
        content_type: &str,
        sha256: &str,
        data: &[u8],
        ctx: &WriteCtx,
    ) -> Result<Attachment> {
        let id = with_tx!(self, |tx| {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM request_attachments WHERE request_id = $1",
            )
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await?;
            if n >= MAX_ATTACHMENTS {
                let mut e = doorstep_domain::FieldErrors::new();
                e.add("attachment", "too_many");
                return Err(StoreError::Validation(e));
            }
            let id: i64 = sqlx::query_scalar(crate::requests::INSERT_ATTACHMENT)
                .bind(request_id)
                .bind(content_type)
                .bind(data.len() as i64)
                .bind(sha256)
                .bind(data)
                .bind(ctx.at)
                .fetch_one(&mut *tx)
                .await?;
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write(
                    "attach",
                    "request",
                    request_id,
                    serde_json::json!({"attachment": id, "bytes": data.len(), "type": content_type})
                )
            );
            id
        });
        self.list_attachments(request_id)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub async fn list_attachments(&self, request_id: i64) -> Result<Vec<Attachment>> {
        Ok(with_pool!(self, |p| {
            let rows = sqlx::query(
                "SELECT id, request_id, content_type, byte_size, sha256, created_at \
                 FROM request_attachments WHERE request_id = $1 ORDER BY id",
            )
            .bind(request_id)
            .fetch_all(p)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(Attachment {
                    id: r.try_get("id")?,
                    request_id: r.try_get("request_id")?,
                    content_type: r.try_get("content_type")?,
                    byte_size: r.try_get("byte_size")?,
                    sha256: r.try_get("sha256")?,
                    created_at: r.try_get("created_at")?,
                });
            }
            out
        }))
    }

    /// An attachment's type and bytes.
    pub async fn attachment_data(
        &self,
        request_id: i64,
        attachment_id: i64,
    ) -> Result<(String, Vec<u8>)> {
        Ok(with_pool!(self, |p| {
            let r = sqlx::query(
                "SELECT content_type, data FROM request_attachments WHERE request_id = $1 AND id = $2",
            )
            .bind(request_id)
            .bind(attachment_id)
            .fetch_optional(p)
            .await?
            .ok_or(StoreError::NotFound)?;
            (r.try_get("content_type")?, r.try_get("data")?)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians_of_odd_even_and_empty() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
        assert_eq!(median(vec![10, 10, 1, 30]), Some(10));
        assert_eq!(median(vec![7]), Some(7));
    }
}

/// A request as the public sees it (Open311): the record with its catalogue item's name
/// and its building's label and point. Callers must not publish the resident's contacts.
#[derive(Debug, Clone)]
pub struct PublicRequest {
    pub record: crate::RequestRecord,
    pub service_name: Option<String>,
    pub building_label: Option<String>,
    pub building_point: Option<(f64, f64)>,
}

/// Which requests an Open311 search returns.
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    pub subdistrict_id: i64,
    /// `Some(ids)`: exactly these requests (other filters are ignored, as the spec says).
    pub ids: Option<Vec<i64>>,
    /// Catalogue items; `None` inside means "no item" (the general service).
    pub items: Option<Vec<Option<i64>>>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `Some(true)`: open only; `Some(false)`: resolved or closed only.
    pub open: Option<bool>,
    pub limit: i64,
}

impl Store {
    /// Requests for the public interface, newest first.
    pub async fn public_requests(&self, f: &PublicFilter) -> Result<Vec<PublicRequest>> {
        if f.ids.as_ref().is_some_and(Vec::is_empty) || f.items.as_ref().is_some_and(Vec::is_empty)
        {
            return Ok(Vec::new());
        }
        // Like `list_requests`: only the filters in use become SQL, every value is bound.
        macro_rules! filtered {
            () => {{
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT r.*, s.name AS service_name, e.name AS estate_name, b.number AS building_number, \
                     b.lat AS b_lat, b.lon AS b_lon FROM requests r \
                     LEFT JOIN service_items s ON s.id = r.service_item_id \
                     LEFT JOIN buildings b ON b.id = r.building_id LEFT JOIN estates e ON e.id = b.estate_id \
                     WHERE r.subdistrict_id = ",
                );
                q.push_bind(f.subdistrict_id);
                if let Some(ids) = &f.ids {
                    // The spec: listed ids override every other filter.
                    q.push(" AND r.id IN (");
                    let mut sep = q.separated(", ");
                    for id in ids {
                        sep.push_bind(*id);
                    }
                    q.push(")");
                } else {
                    if let Some(items) = &f.items {
                        // Catalogue items by id; `None` is the general service (no item).
                        let ids: Vec<i64> = items.iter().flatten().copied().collect();
                        q.push(" AND (");
                        if ids.is_empty() {
                            q.push("FALSE");
                        } else {
                            q.push("r.service_item_id IN (");
                            let mut sep = q.separated(", ");
                            for id in ids {
                                sep.push_bind(id);
                            }
                            q.push(")");
                        }
                        if items.iter().any(Option::is_none) {
                            q.push(" OR r.service_item_id IS NULL");
                        }
                        q.push(")");
                    }
                    match f.open {
                        Some(true) => {
                            q.push(" AND r.state IN ").push(crate::requests::OPEN_STATES);
                        }
                        Some(false) => {
                            q.push(" AND r.state IN ('resolved', 'closed')");
                        }
                        None => {}
                    }
                    if let Some(t) = f.from {
                        q.push(" AND r.created_at >= ").push_bind(t);
                    }
                    if let Some(t) = f.to {
                        q.push(" AND r.created_at < ").push_bind(t);
                    }
                }
                q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
                    .push_bind(f.limit);
                q
            }};
        }
        Ok(with_pool!(self, |p| {
            let rows = filtered!().build().fetch_all(p).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let estate: Option<String> = r.try_get("estate_name")?;
                let number: Option<String> = r.try_get("building_number")?;
                let lat: Option<f64> = r.try_get("b_lat")?;
                let lon: Option<f64> = r.try_get("b_lon")?;
                out.push(PublicRequest {
                    record: crate::requests::read_request(r)?,
                    service_name: r.try_get("service_name")?,
                    building_label: match (estate, number) {
                        (Some(e), Some(n)) => Some(format!("{e} {n}")),
                        (Some(e), None) => Some(e),
                        _ => None,
                    },
                    building_point: lat.zip(lon),
                });
            }
            out
        }))
    }
}

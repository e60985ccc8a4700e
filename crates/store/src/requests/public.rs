//! Requests as the public interface (Open311) lists them.

use super::{RequestRecord, RequestStore, open_states, read_request};
use crate::Result;
use crate::db::Sql;
use chrono::{DateTime, Utc};
use doorstep_domain::requests::{Channel, Kind};
use doorstep_domain::{RequestId, ServiceItemId, SubdistrictId};

/// A request as the public sees it (Open311): the record with its catalogue item's name
/// and its building's label and point. Callers must not publish the resident's contacts.
#[derive(Debug, Clone)]
pub struct PublicRequest {
    pub record: RequestRecord,
    pub service_name: Option<String>,
    pub building_label: Option<String>,
    pub building_point: Option<(f64, f64)>,
}

/// Which requests an Open311 search returns.
#[derive(Debug, Clone)]
pub struct PublicFilter {
    pub subdistrict_id: SubdistrictId,
    /// `Some(ids)`: exactly these requests (other filters are ignored, as the spec says).
    pub ids: Option<Vec<RequestId>>,
    /// Catalogue items; `None` inside means "no item" (the general service).
    pub items: Option<Vec<Option<ServiceItemId>>>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// `Some(true)`: open only; `Some(false)`: resolved or closed only.
    pub open: Option<bool>,
    pub limit: i64,
}

impl RequestStore<'_> {
    /// Requests for the public interface, newest first (by id too, only these): what
    /// residents filed themselves (web page, Open311), of any kind but a consultation
    /// ([`Kind::PUBLISHABLE`]), under a catalogue item an admin marked publishable.
    /// What was told at the desk, on the phone or at the door never is.
    pub async fn public(self, f: &PublicFilter) -> Result<Vec<PublicRequest>> {
        if f.ids.as_ref().is_some_and(Vec::is_empty) || f.items.as_ref().is_some_and(Vec::is_empty)
        {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "SELECT r.*, s.name AS service_name, e.name AS estate_name, b.number AS building_number, \
             b.lat AS b_lat, b.lon AS b_lon FROM requests r \
             JOIN service_items s ON s.id = r.service_item_id \
             LEFT JOIN buildings b ON b.id = r.building_id LEFT JOIN estates e ON e.id = b.estate_id \
             WHERE r.subdistrict_id = $1 AND s.publishable = TRUE AND r.channel IN (",
        )
        .bind(f.subdistrict_id);
        q.push_binds(Channel::FROM_RESIDENTS.iter().copied())
            .push(") AND r.kind IN (")
            .push_binds(Kind::PUBLISHABLE.iter().copied())
            .push(")");
        if let Some(ids) = &f.ids {
            // The spec: listed ids override every other filter.
            q.push(" AND r.id IN (")
                .push_binds(ids.iter().copied())
                .push(")");
        } else {
            push_filters(&mut q, f);
        }
        q.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ")
            .push_bind(f.limit);
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| {
                let estate: Option<String> = r.get("estate_name")?;
                let number: Option<String> = r.get("building_number")?;
                let lat: Option<f64> = r.get("b_lat")?;
                let lon: Option<f64> = r.get("b_lon")?;
                Ok(PublicRequest {
                    record: read_request(r)?,
                    service_name: r.get("service_name")?,
                    building_label: match (estate, number) {
                        (Some(e), Some(n)) => Some(format!("{e} {n}")),
                        (Some(e), None) => Some(e),
                        _ => None,
                    },
                    building_point: lat.zip(lon),
                })
            })
            .collect()
    }
}

/// Catalogue items, state and period.
fn push_filters(q: &mut Sql, f: &PublicFilter) {
    if let Some(items) = &f.items {
        // Catalogue items by id; `None` is the general service (no item).
        let ids: Vec<ServiceItemId> = items.iter().flatten().copied().collect();
        q.push(" AND (");
        if ids.is_empty() {
            q.push("FALSE");
        } else {
            q.push("r.service_item_id IN (").push_binds(ids).push(")");
        }
        if items.iter().any(Option::is_none) {
            q.push(" OR r.service_item_id IS NULL");
        }
        q.push(")");
    }
    match f.open {
        Some(true) => {
            q.push(" AND r.state").push(&open_states());
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

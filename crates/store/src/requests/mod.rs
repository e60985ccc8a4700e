//! Requests and their append-only timeline. Every accepted move is an event written in
//! the same transaction as the new workflow state, under a version check, so two workers
//! acting at once never both succeed and the timeline always matches the state.

pub(crate) mod attachments;
pub(crate) mod duplicates;
pub(crate) mod figures;
mod intake;
pub(crate) mod load;
mod moves;
pub(crate) mod phones;
pub(crate) mod public;

use crate::db::{DbRow, Sql, like_pattern, page};
use crate::{Page, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use doorstep_domain::catalogue::Category;
use doorstep_domain::policy::RequestPlace;
use doorstep_domain::requests::{Channel, Kind, Move, Relation, State, Workflow};
use doorstep_domain::{
    AccountId, BuildingId, NeighbourhoodId, RequestId, ServiceItemId, SubdistrictId,
};
use serde::Serialize;

pub use attachments::NewAttachment;

/// A new request at intake.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub neighbourhood_id: NeighbourhoodId,
    pub tracking_code: String,
    pub channel: Channel,
    pub kind: Kind,
    pub service_item_id: Option<ServiceItemId>,
    pub description: String,
    /// The resident allowed the public listing to show the description.
    pub public_description: bool,
    pub building_id: Option<BuildingId>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub resident_name: Option<String>,
    /// The phone as it is shown (masked once the deployment seals phones).
    pub resident_phone: Option<String>,
    /// The full phone, sealed by the services' vault (none without one).
    pub resident_phone_sealed: Option<String>,
    pub resident_email: Option<String>,
    /// Where the resident says it is, in their words.
    pub address: Option<String>,
    pub owner_id: AccountId,
    pub deadline_at: DateTime<Utc>,
    /// Images stored with the request, in the same transaction.
    pub attachments: Vec<NewAttachment>,
}

/// A stored request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestRecord {
    pub id: RequestId,
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: NeighbourhoodId,
    pub tracking_code: String,
    pub channel: Channel,
    pub kind: Kind,
    pub service_item_id: Option<ServiceItemId>,
    pub description: String,
    /// The resident allowed the public listing to show the description.
    pub public_description: bool,
    pub building_id: Option<BuildingId>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub resident_name: Option<String>,
    /// The phone as shown: masked when sealed; in full only in a deployment without an
    /// encryption key, or before the startup pass sealed it.
    pub resident_phone: Option<String>,
    /// The full phone, sealed; opened only by the reveal.
    #[serde(skip)]
    pub resident_phone_sealed: Option<String>,
    pub resident_email: Option<String>,
    pub address: Option<String>,
    pub owner_id: AccountId,
    pub workflow: Workflow,
    pub deadline_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Seconds from intake to the latest resolution.
    pub resolve_secs: Option<i64>,
    pub is_demo: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RequestRecord {
    /// What the access rules need to know of it.
    pub fn place(&self) -> RequestPlace {
        RequestPlace {
            subdistrict_id: self.subdistrict_id,
            neighbourhood_id: self.neighbourhood_id,
            owner_id: self.owner_id,
            handler_id: RequestPlace::handler_of(self.workflow.handler.as_ref()),
        }
    }
}

/// One entry of a request's timeline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<AccountId>,
    pub actor_name: String,
    pub relation: Relation,
    /// `None` for the intake event.
    pub mv: Option<Move>,
    pub state_after: State,
}

/// Which requests to list.
#[derive(Debug, Clone)]
pub struct RequestFilter {
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: Option<NeighbourhoodId>,
    /// Only requests this account owns or handles (a worker's inbox).
    pub involving: Option<AccountId>,
    pub owner: Option<AccountId>,
    pub handler: Option<AccountId>,
    pub open_only: bool,
    /// Open requests whose deadline is before this instant.
    pub deadline_before: Option<DateTime<Utc>>,
    /// …and not before this one.
    pub deadline_after: Option<DateTime<Utc>>,
    pub state: Option<State>,
    pub kind: Option<Kind>,
    /// Requests about catalogue items of this category.
    pub category: Option<Category>,
    /// Requests that came in through one of these channels.
    pub channels: Option<Vec<Channel>>,
    /// Requests about one of these buildings (a block's).
    pub buildings: Option<Vec<doorstep_domain::BuildingId>>,
    /// A tracking code (exactly, any case) or words of the description.
    pub text: Option<String>,
    pub order: RequestOrder,
    pub limit: i64,
    pub offset: i64,
}

/// A neighbourhood's queue of requests (see [`RequestStore::queues`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queue {
    pub neighbourhood_id: NeighbourhoodId,
    pub open: i64,
    pub overdue: i64,
    pub new_reports: i64,
    pub follow_up: i64,
}

/// The order of a list of requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestOrder {
    /// The newest first: what came in last is what needs reading.
    #[default]
    Newest,
    /// The soonest deadline first.
    Deadline,
}

impl RequestOrder {
    fn sql(self) -> &'static str {
        match self {
            RequestOrder::Newest => "created_at DESC, id DESC",
            RequestOrder::Deadline => "deadline_at, id",
        }
    }
}

impl RequestFilter {
    /// Every request of a subdistrict, first page (narrow it with the fields).
    pub fn of(subdistrict_id: SubdistrictId) -> Self {
        RequestFilter {
            subdistrict_id,
            neighbourhood_id: None,
            involving: None,
            owner: None,
            handler: None,
            open_only: false,
            deadline_before: None,
            deadline_after: None,
            state: None,
            kind: None,
            category: None,
            channels: None,
            buildings: None,
            text: None,
            order: RequestOrder::default(),
            limit: 50,
            offset: 0,
        }
    }
}

pub(crate) fn read_request(r: &DbRow) -> Result<RequestRecord> {
    Ok(RequestRecord {
        id: r.id("id")?,
        subdistrict_id: r.id("subdistrict_id")?,
        neighbourhood_id: r.id("neighbourhood_id")?,
        tracking_code: r.get("tracking_code")?,
        channel: r.code("channel")?,
        kind: r.code("kind")?,
        service_item_id: r.opt_id("service_item_id")?,
        description: r.get("description")?,
        public_description: r.get("public_description")?,
        building_id: r.opt_id("building_id")?,
        lat: r.get("lat")?,
        lon: r.get("lon")?,
        resident_name: r.get("resident_name")?,
        resident_phone: r.get("resident_phone")?,
        resident_phone_sealed: r.get("resident_phone_sealed")?,
        resident_email: r.get("resident_email")?,
        address: r.get("address")?,
        owner_id: r.id("owner_id")?,
        workflow: r.json_as("workflow")?,
        deadline_at: r.get("deadline_at")?,
        resolved_at: r.get("resolved_at")?,
        closed_at: r.get("closed_at")?,
        resolve_secs: r.get("resolve_secs")?,
        is_demo: r.get("is_demo")?,
        version: r.get("version")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// ` IN ('received', …)`: the open states as a list, so that an index on the state serves
/// each as a range, where `NOT IN ('resolved', 'closed')` would read every row.
pub(crate) fn open_states() -> String {
    let codes: Vec<String> = State::open().map(|s| format!("'{}'", s.code())).collect();
    format!(" IN ({})", codes.join(", "))
}

/// The requests.
#[derive(Debug, Clone, Copy)]
pub struct RequestStore<'a>(pub(crate) &'a Store);

impl RequestStore<'_> {
    pub async fn find(self, id: RequestId) -> Result<Option<RequestRecord>> {
        match Sql::new("SELECT * FROM requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut self.0.db())
            .await?
        {
            Some(r) => Ok(Some(read_request(&r)?)),
            None => Ok(None),
        }
    }

    pub async fn get(self, id: RequestId) -> Result<RequestRecord> {
        self.find(id).await?.ok_or(StoreError::NotFound)
    }

    /// A request by its tracking code (the resident's tracking page, Open311 tokens).
    /// The code is looked up by its first four characters and compared in full in
    /// constant time: how long the answer takes says nothing of how much of a guess
    /// was right.
    pub async fn find_by_code(self, code: &str) -> Result<Option<RequestRecord>> {
        // Codes are short runs of capitals and digits: anything else (a NUL, a page of
        // text) names no request and is not sent to the database.
        if code.is_empty() || code.len() > 32 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        let selector: String = code.chars().take(4).collect();
        let rows = Sql::new("SELECT * FROM requests WHERE substr(tracking_code, 1, 4) = $1")
            .bind(selector)
            .fetch_all(&mut self.0.db())
            .await?;
        let mut found = None;
        for r in &rows {
            let stored: String = r.get("tracking_code")?;
            if doorstep_domain::secret::constant_time_eq(stored.as_bytes(), code.as_bytes()) {
                found = Some(read_request(r)?);
            }
        }
        Ok(found)
    }

    /// The request's timeline, oldest first.
    pub async fn timeline(self, id: RequestId) -> Result<Vec<RequestEvent>> {
        let rows = Sql::new("SELECT * FROM request_events WHERE request_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&mut self.0.db())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RequestEvent {
                    seq: r.get("seq")?,
                    at: r.get("at")?,
                    actor_id: r.opt_id("actor_id")?,
                    actor_name: r.get("actor_name")?,
                    relation: r.code("relation")?,
                    // The intake event's entry is not a move.
                    mv: serde_json::from_value(r.json("move")?).ok(),
                    state_after: r.code("state_after")?,
                })
            })
            .collect()
    }

    /// A page of requests, soonest deadline first.
    pub async fn list(self, f: &RequestFilter) -> Result<Page<RequestRecord>> {
        // Only the filters in use become SQL, so each query can use its index (an
        // `$n IS NULL OR col = $n` pattern defeats SQLite's planner and PostgreSQL's generic
        // plans alike).
        let filtered = |head: &str| {
            let mut q = Sql::new(head);
            q.push(" WHERE subdistrict_id = ")
                .push_bind(f.subdistrict_id);
            if let Some(n) = f.neighbourhood_id {
                q.push(" AND neighbourhood_id = ").push_bind(n);
            }
            if let Some(a) = f.involving {
                q.push(" AND (owner_id = ")
                    .push_bind(a)
                    .push(" OR handler_account_id = ")
                    .push_bind(a)
                    .push(")");
            }
            if let Some(a) = f.owner {
                q.push(" AND owner_id = ").push_bind(a);
            }
            if let Some(a) = f.handler {
                q.push(" AND handler_account_id = ").push_bind(a);
            }
            if f.open_only {
                q.push(" AND state").push(&open_states());
            }
            if let Some(t) = f.deadline_before {
                q.push(" AND deadline_at < ").push_bind(t);
            }
            if let Some(t) = f.deadline_after {
                q.push(" AND deadline_at >= ").push_bind(t);
            }
            if let Some(s) = f.state {
                q.push(" AND state = ").push_bind(s);
            }
            if let Some(k) = f.kind {
                q.push(" AND kind = ").push_bind(k);
            }
            if let Some(c) = f.category {
                q.push(" AND service_item_id IN (SELECT id FROM service_items WHERE category = ")
                    .push_bind(c)
                    .push(")");
            }
            if let Some(cs) = &f.channels {
                q.push(" AND channel IN (")
                    .push_binds(cs.iter().copied())
                    .push(")");
            }
            if let Some(bs) = &f.buildings {
                if bs.is_empty() {
                    q.push(" AND 1 = 0");
                } else {
                    q.push(" AND building_id IN (")
                        .push_binds(bs.iter().copied())
                        .push(")");
                }
            }
            if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                let code: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                q.push(" AND (tracking_code = ")
                    .push_bind(code.to_uppercase())
                    .push(" OR LOWER(description) LIKE ")
                    .push_bind(like_pattern(&t.to_lowercase()))
                    .push(" ESCAPE '\\')");
            }
            q
        };
        let db = &mut self.0.db();
        page(
            db,
            "requests",
            filtered,
            f.order.sql(),
            (f.limit, f.offset),
            read_request,
        )
        .await
    }

    /// Each neighbourhood's queue: open requests, how many are overdue, residents' new
    /// reports nobody has assigned, and resolved ones waiting for the follow-up call.
    pub async fn queues(self, sd: SubdistrictId, now: DateTime<Utc>) -> Result<Vec<Queue>> {
        let residents: Vec<String> = Channel::FROM_RESIDENTS
            .iter()
            .map(|c| format!("'{}'", c.code()))
            .collect();
        let open = open_states();
        let mut q = Sql::new(format!(
            "SELECT neighbourhood_id, \
             SUM(CASE WHEN state{open} THEN 1 ELSE 0 END) AS open, \
             SUM(CASE WHEN state{open} AND deadline_at < $1 THEN 1 ELSE 0 END) AS overdue, \
             SUM(CASE WHEN state = 'received' AND channel IN ({}) THEN 1 ELSE 0 END) AS new_reports, \
             SUM(CASE WHEN state = 'resolved' THEN 1 ELSE 0 END) AS follow_up \
             FROM requests WHERE subdistrict_id = $2 AND state <> 'closed' \
             GROUP BY neighbourhood_id ORDER BY neighbourhood_id",
            residents.join(", ")
        ));
        q = q.bind(now).bind(sd);
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| {
                Ok(Queue {
                    neighbourhood_id: r.id("neighbourhood_id")?,
                    open: r.get("open")?,
                    overdue: r.get("overdue")?,
                    new_reports: r.get("new_reports")?,
                    follow_up: r.get("follow_up")?,
                })
            })
            .collect()
    }

    /// Open, not yet escalated requests whose deadline has passed (for the 督办 job).
    pub async fn overdue_unescalated(
        self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<RequestRecord>> {
        let mut q = Sql::new("SELECT * FROM requests WHERE state");
        q.push(&open_states())
            .push(" AND escalated = FALSE AND deadline_at < ")
            .push_bind(now)
            .push(" ORDER BY deadline_at, id LIMIT ")
            .push_bind(limit);
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(read_request)
            .collect()
    }
}

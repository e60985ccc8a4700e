//! Requests and their append-only timeline. Every accepted move is an event written in
//! the same transaction as the new workflow state, under a version check, so two workers
//! acting at once never both succeed and the timeline always matches the state.

use crate::audit::{AuditEntry, insert_audit};
use crate::{Result, Store, StoreError, WriteCtx, with_pool, with_tx};
use chrono::{DateTime, Utc};
use doorstep_domain::requests::{Channel, Handler, Kind, Move, Relation, State, Workflow, code};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Decode, Row, Type};

/// A new request at intake.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub neighbourhood_id: i64,
    pub tracking_code: String,
    pub channel: Channel,
    pub kind: Kind,
    pub service_item_id: Option<i64>,
    pub description: String,
    pub building_id: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub resident_name: Option<String>,
    pub resident_phone: Option<String>,
    pub resident_email: Option<String>,
    /// Where the resident says it is, in their words.
    pub address: Option<String>,
    pub owner_id: i64,
    pub deadline_at: DateTime<Utc>,
    /// Images stored with the request, in the same transaction.
    pub attachments: Vec<NewAttachment>,
}

/// An image checked by the web layer, to be stored with a new request.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub content_type: String,
    pub sha256: String,
    pub data: Vec<u8>,
}

/// A stored request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestRecord {
    pub id: i64,
    pub subdistrict_id: i64,
    pub neighbourhood_id: i64,
    pub tracking_code: String,
    pub channel: Channel,
    pub kind: Kind,
    pub service_item_id: Option<i64>,
    pub description: String,
    pub building_id: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub resident_name: Option<String>,
    pub resident_phone: Option<String>,
    pub resident_email: Option<String>,
    pub address: Option<String>,
    pub owner_id: i64,
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

/// One entry of a request's timeline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub relation: Relation,
    /// `None` for the intake event.
    pub mv: Option<Move>,
    pub state_after: State,
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> std::result::Result<T, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) fn read_request<'r, R>(r: &'r R) -> std::result::Result<RequestRecord, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
    Json<Workflow>: Decode<'r, R::Database> + Type<R::Database>,
{
    let channel: String = r.try_get("channel")?;
    let kind: String = r.try_get("kind")?;
    let wf: Json<Workflow> = r.try_get("workflow")?;
    Ok(RequestRecord {
        id: r.try_get("id")?,
        subdistrict_id: r.try_get("subdistrict_id")?,
        neighbourhood_id: r.try_get("neighbourhood_id")?,
        tracking_code: r.try_get("tracking_code")?,
        channel: parse(&channel)?,
        kind: parse(&kind)?,
        service_item_id: r.try_get("service_item_id")?,
        description: r.try_get("description")?,
        building_id: r.try_get("building_id")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        resident_name: r.try_get("resident_name")?,
        resident_phone: r.try_get("resident_phone")?,
        resident_email: r.try_get("resident_email")?,
        address: r.try_get("address")?,
        owner_id: r.try_get("owner_id")?,
        workflow: wf.0,
        deadline_at: r.try_get("deadline_at")?,
        resolved_at: r.try_get("resolved_at")?,
        closed_at: r.try_get("closed_at")?,
        resolve_secs: r.try_get("resolve_secs")?,
        is_demo: r.try_get("is_demo")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The open states as an SQL list: `state IN (…)` lets an index on state serve each one as
/// a range, where `NOT IN ('resolved', 'closed')` would read every row.
pub(crate) const OPEN_STATES: &str =
    "('received', 'assigned', 'accepted', 'in_progress', 'returned', 'reopened')";

/// One image of a request (its id is returned).
pub(crate) const INSERT_ATTACHMENT: &str = "INSERT INTO request_attachments \
    (request_id, content_type, byte_size, sha256, data, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

const INSERT_EVENT: &str = "INSERT INTO request_events (request_id, seq, at, actor_id, actor_name, relation, move, state_after) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// One move inside an open write transaction `$tx`: lock and read the request, check the
/// version (when one is expected), apply the move, and write the new state, its columns,
/// the timeline event and the audit entry. Refusals return early, rolling back.
macro_rules! step {
    ($tx:ident, $select:expr, $id:expr, $expected:expr, $mv:expr, $relation:expr, $ctx:expr, $deadline:expr) => {{
        let (id, mv, relation, ctx): (i64, &Move, Relation, &WriteCtx) = ($id, $mv, $relation, $ctx);
        let row = sqlx::query(sqlx::AssertSqlSafe($select.clone()))
            .bind(id)
            .fetch_optional(&mut *$tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let cur = read_request(&row)?;
        let expected: Option<i64> = $expected;
        if expected.is_some_and(|v| v != cur.version) {
            return Err(StoreError::VersionConflict {
                current: cur.version,
            });
        }
        let next = cur
            .workflow
            .apply(mv, relation)
            .map_err(|e| StoreError::IllegalMove(e.to_string()))?;
        let deadline_at = ($deadline)(&cur, &next);
        let handler_account = match &next.handler {
            Some(Handler::Worker(a)) => Some(*a),
            _ => None,
        };
        let (resolved_at, resolve_secs) = if next.state == State::Resolved && cur.workflow.state != State::Resolved {
            (Some(ctx.at), Some((ctx.at - cur.created_at).num_seconds().max(0)))
        } else if next.state == State::Reopened {
            (None, None)
        } else {
            (cur.resolved_at, cur.resolve_secs)
        };
        let closed_at = if next.state == State::Closed {
            Some(ctx.at)
        } else {
            None
        };
        let done = sqlx::query(
            "UPDATE requests SET state = $1, workflow = $2, handler_account_id = $3, escalated = $4, deadline_at = $5, \
             resolved_at = $6, closed_at = $7, version = version + 1, updated_at = $8, on_spot = $9, rating = $10, \
             merged_into = $11, resolve_secs = $12 WHERE id = $13 AND version = $14",
        )
        .bind(code(&next.state))
        .bind(Json(&next))
        .bind(handler_account)
        .bind(next.escalated)
        .bind(deadline_at)
        .bind(resolved_at)
        .bind(closed_at)
        .bind(ctx.at)
        .bind(next.on_spot)
        .bind(next.rating.map(|r| code(&r)))
        .bind(next.merged_into)
        .bind(resolve_secs)
        .bind(id)
        .bind(cur.version)
        .execute(&mut *$tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VersionConflict {
                current: cur.version,
            });
        }
        let seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM request_events WHERE request_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(INSERT_EVENT)
            .bind(id)
            .bind(seq)
            .bind(ctx.at)
            .bind(ctx.actor_id)
            .bind(&ctx.actor_name)
            .bind(code(&relation))
            .bind(Json(serde_json::to_value(mv).unwrap_or_default()))
            .bind(code(&next.state))
            .execute(&mut *$tx)
            .await?;
        insert_audit!(
            &mut *$tx,
            ctx,
            AuditEntry::write(
                "update",
                "request",
                id,
                serde_json::to_value(mv).unwrap_or_default()
            )
        );
    }};
}

impl Store {
    /// Records a new request and its intake event.
    pub async fn create_request(&self, n: &NewRequest, ctx: &WriteCtx) -> Result<RequestRecord> {
        let mut out = self.create_requests(&[(n, ctx)]).await?;
        out.pop().ok_or(StoreError::NotFound)
    }

    /// Records several new requests, their intake events, attachments and audit entries
    /// in one transaction with one statement per table (group commit: the intake queue
    /// sends what arrived together). All or nothing: an unknown neighbourhood or a taken
    /// tracking code fails the whole batch, and the caller retries one by one.
    pub async fn create_requests(
        &self,
        items: &[(&NewRequest, &WriteCtx)],
    ) -> Result<Vec<RequestRecord>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let wf = Workflow::default();
        // Microseconds, as PostgreSQL keeps them, so the records returned are the ones stored.
        let ats: Vec<DateTime<Utc>> = items
            .iter()
            .map(|(_, c)| chrono::SubsecRound::trunc_subsecs(c.at, 6))
            .collect();
        let rows = with_tx!(self, |tx| {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO requests (subdistrict_id, neighbourhood_id, tracking_code, channel, kind, service_item_id, \
                 description, building_id, lat, lon, resident_name, resident_phone, owner_id, state, workflow, \
                 handler_account_id, escalated, deadline_at, is_demo, version, created_at, updated_at, resident_email, address) ",
            );
            q.push_values(items.iter().zip(&ats), |mut b, ((n, ctx), at)| {
                // The subdistrict comes from the neighbourhood (none: NULL, refused).
                b.push("(SELECT subdistrict_id FROM neighbourhoods WHERE id = ")
                    .push_bind_unseparated(n.neighbourhood_id)
                    .push_unseparated(")")
                    .push_bind(n.neighbourhood_id)
                    .push_bind(n.tracking_code.clone())
                    .push_bind(code(&n.channel))
                    .push_bind(code(&n.kind))
                    .push_bind(n.service_item_id)
                    .push_bind(n.description.clone())
                    .push_bind(n.building_id)
                    .push_bind(n.lat)
                    .push_bind(n.lon)
                    .push_bind(n.resident_name.clone())
                    .push_bind(n.resident_phone.clone())
                    .push_bind(n.owner_id)
                    .push_bind(code(&wf.state))
                    .push_bind(Json(wf.clone()))
                    .push("NULL")
                    .push("FALSE")
                    .push_bind(n.deadline_at)
                    .push_bind(ctx.demo)
                    .push("1")
                    .push_bind(*at)
                    .push_bind(*at)
                    .push_bind(n.resident_email.clone())
                    .push_bind(n.address.clone());
            });
            q.push(" RETURNING id, subdistrict_id, tracking_code");
            let rows: Vec<(i64, i64, String)> =
                q.build_query_as().fetch_all(&mut *tx).await.map_err(|e| {
                    // A NULL subdistrict: the neighbourhood does not exist (SQLite's
                    // SQLITE_CONSTRAINT_NOTNULL, PostgreSQL's not_null_violation).
                    let not_null = e
                        .as_database_error()
                        .and_then(|d| d.code())
                        .is_some_and(|c| c == "1299" || c == "23502");
                    match StoreError::from(e) {
                        _ if not_null => StoreError::NotFound,
                        StoreError::Duplicate(_) => {
                            StoreError::Duplicate(vec!["tracking_code".into()])
                        }
                        other => other,
                    }
                })?;
            let ids: std::collections::HashMap<&str, (i64, i64)> = rows
                .iter()
                .map(|(id, sd, c)| (c.as_str(), (*id, *sd)))
                .collect();
            let mut placed = Vec::with_capacity(items.len());
            for (n, _) in items {
                placed.push(
                    *ids.get(n.tracking_code.as_str())
                        .ok_or(StoreError::NotFound)?,
                );
            }
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO request_events (request_id, seq, at, actor_id, actor_name, relation, move, state_after) ",
            );
            q.push_values(items.iter().zip(&placed), |mut b, ((n, ctx), (id, _))| {
                b.push_bind(*id)
                    .push_bind(1i64)
                    .push_bind(ctx.at)
                    .push_bind(ctx.actor_id)
                    .push_bind(ctx.actor_name.clone())
                    .push_bind(code(&Relation::Owner))
                    .push_bind(Json(
                        serde_json::json!({"move": "receive", "channel": n.channel}),
                    ))
                    .push_bind(code(&State::Received));
            });
            q.build().execute(&mut *tx).await?;
            for ((n, ctx), (id, _)) in items.iter().zip(&placed) {
                for a in &n.attachments {
                    sqlx::query(INSERT_ATTACHMENT)
                        .bind(*id)
                        .bind(&a.content_type)
                        .bind(a.data.len() as i64)
                        .bind(&a.sha256)
                        .bind(&a.data)
                        .bind(ctx.at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO audit_log (at, subdistrict_id, actor_id, actor_name, action, entity, entity_id, detail, ip) ",
            );
            q.push_values(items.iter().zip(&placed), |mut b, ((n, ctx), (id, _))| {
                b.push_bind(ctx.at)
                    .push_bind(ctx.subdistrict_id)
                    .push_bind(ctx.actor_id)
                    .push_bind(ctx.actor_name.clone())
                    .push_bind("create")
                    .push_bind("request")
                    .push_bind(*id)
                    .push_bind(Json(serde_json::json!({"kind": n.kind, "channel": n.channel, "attachments": n.attachments.len()})))
                    .push_bind(ctx.ip.clone());
            });
            q.build().execute(&mut *tx).await?;
            placed
        });
        // What was written, without reading it back.
        Ok(items
            .iter()
            .zip(rows)
            .zip(ats)
            .map(|(((n, ctx), (id, subdistrict_id)), at)| RequestRecord {
                id,
                subdistrict_id,
                neighbourhood_id: n.neighbourhood_id,
                tracking_code: n.tracking_code.clone(),
                channel: n.channel,
                kind: n.kind,
                service_item_id: n.service_item_id,
                description: n.description.clone(),
                building_id: n.building_id,
                lat: n.lat,
                lon: n.lon,
                resident_name: n.resident_name.clone(),
                resident_phone: n.resident_phone.clone(),
                resident_email: n.resident_email.clone(),
                address: n.address.clone(),
                owner_id: n.owner_id,
                workflow: wf.clone(),
                deadline_at: n.deadline_at,
                resolved_at: None,
                closed_at: None,
                resolve_secs: None,
                is_demo: ctx.demo,
                version: 1,
                created_at: at,
                updated_at: at,
            })
            .collect())
    }

    pub async fn find_request(&self, id: i64) -> Result<Option<RequestRecord>> {
        match self.get_request(id).await {
            Ok(r) => Ok(Some(r)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A request by its tracking code (the resident's tracking page, Open311 tokens).
    pub async fn find_request_by_code(&self, code: &str) -> Result<Option<RequestRecord>> {
        Ok(with_pool!(self, |p| {
            match sqlx::query("SELECT * FROM requests WHERE tracking_code = $1")
                .bind(code)
                .fetch_optional(p)
                .await?
            {
                Some(r) => Some(read_request(&r)?),
                None => None,
            }
        }))
    }

    pub async fn get_request(&self, id: i64) -> Result<RequestRecord> {
        Ok(with_pool!(self, |p| {
            let r = sqlx::query("SELECT * FROM requests WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?
                .ok_or(StoreError::NotFound)?;
            read_request(&r)?
        }))
    }

    /// The request's timeline, oldest first.
    pub async fn request_timeline(&self, id: i64) -> Result<Vec<RequestEvent>> {
        Ok(with_pool!(self, |p| {
            let rows =
                sqlx::query("SELECT * FROM request_events WHERE request_id = $1 ORDER BY seq")
                    .bind(id)
                    .fetch_all(p)
                    .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let relation: String = r.try_get("relation")?;
                let state: String = r.try_get("state_after")?;
                let mv: Json<serde_json::Value> = r.try_get("move")?;
                out.push(RequestEvent {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor_id: r.try_get("actor_id")?,
                    actor_name: r.try_get("actor_name")?,
                    relation: parse(&relation)?,
                    mv: serde_json::from_value(mv.0).ok(),
                    state_after: parse(&state)?,
                });
            }
            out
        }))
    }

    /// Applies a move made by someone in `relation`, if the request is still at
    /// `expected_version`. `deadline` gives the deadline after the move (extensions move it).
    pub async fn move_request<F>(
        &self,
        id: i64,
        expected_version: i64,
        mv: &Move,
        relation: Relation,
        ctx: &WriteCtx,
        deadline: F,
    ) -> Result<RequestRecord>
    where
        F: FnOnce(&RequestRecord, &Workflow) -> DateTime<Utc>,
    {
        let select = format!("SELECT * FROM requests WHERE id = $1{}", self.for_update());
        with_tx!(self, |tx| {
            step!(
                tx,
                select,
                id,
                Some(expected_version),
                mv,
                relation,
                ctx,
                deadline
            );
        });
        self.get_request(id).await
    }

    /// Merges a duplicate into the request that carries on (合并): the duplicate is closed
    /// with `Merge`, the survivor's timeline records `Absorb`, in one transaction. Both must
    /// be in one neighbourhood and the survivor open; the duplicate must be at
    /// `expected_version`.
    pub async fn merge_requests(
        &self,
        duplicate: i64,
        expected_version: i64,
        into: i64,
        relation: Relation,
        ctx: &WriteCtx,
    ) -> Result<RequestRecord> {
        if duplicate == into {
            return Err(StoreError::IllegalMove(
                "a request cannot merge into itself".into(),
            ));
        }
        let (a, b) = (
            self.get_request(duplicate).await?,
            self.get_request(into).await?,
        );
        if a.neighbourhood_id != b.neighbourhood_id {
            return Err(StoreError::IllegalMove(
                "only requests of one neighbourhood merge".into(),
            ));
        }
        let select = format!("SELECT * FROM requests WHERE id = $1{}", self.for_update());
        let lock = format!(
            "SELECT id FROM requests WHERE id IN ($1, $2) ORDER BY id{}",
            self.for_update()
        );
        let keep = |cur: &RequestRecord, _: &Workflow| cur.deadline_at;
        with_tx!(self, |tx| {
            // Lock both rows in id order, so crossing merges cannot deadlock.
            sqlx::query(sqlx::AssertSqlSafe(lock.clone()))
                .bind(duplicate.min(into))
                .bind(duplicate.max(into))
                .fetch_all(&mut *tx)
                .await?;
            step!(
                tx,
                select,
                into,
                None,
                &Move::Absorb { from: duplicate },
                relation,
                ctx,
                keep
            );
            step!(
                tx,
                select,
                duplicate,
                Some(expected_version),
                &Move::Merge { into },
                relation,
                ctx,
                keep
            );
        });
        self.get_request(duplicate).await
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub subdistrict_id: i64,
    pub neighbourhood_id: Option<i64>,
    /// Only requests this account owns or handles (a worker's inbox).
    pub involving: Option<i64>,
    pub owner: Option<i64>,
    pub handler: Option<i64>,
    pub open_only: bool,
    /// Open requests whose deadline is before this instant.
    pub deadline_before: Option<DateTime<Utc>>,
    /// …and not before this one.
    pub deadline_after: Option<DateTime<Utc>>,
    pub state: Option<State>,
    pub kind: Option<Kind>,
    /// Requests about catalogue items of this category (`choice.category` codes).
    pub category: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl Store {
    pub async fn list_requests(&self, f: &RequestFilter) -> Result<crate::Page<RequestRecord>> {
        let state = f.state.map(|s| code(&s));
        let kind = f.kind.map(|k| code(&k));
        // Only the filters in use become SQL, so each query can use its index (an
        // `$n IS NULL OR col = $n` pattern defeats SQLite's planner and PostgreSQL's generic
        // plans alike).
        macro_rules! filtered {
            ($head:expr) => {{
                let mut q = sqlx::QueryBuilder::new($head);
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
                    q.push(" AND state IN ").push(OPEN_STATES);
                }
                if let Some(t) = f.deadline_before {
                    q.push(" AND deadline_at < ").push_bind(t);
                }
                if let Some(t) = f.deadline_after {
                    q.push(" AND deadline_at >= ").push_bind(t);
                }
                if let Some(s) = &state {
                    q.push(" AND state = ").push_bind(s.clone());
                }
                if let Some(k) = &kind {
                    q.push(" AND kind = ").push_bind(k.clone());
                }
                if let Some(c) = &f.category {
                    q.push(
                        " AND service_item_id IN (SELECT id FROM service_items WHERE category = ",
                    )
                    .push_bind(c.clone())
                    .push(")");
                }
                q
            }};
        }
        let (items, total) = with_pool!(self, |p| {
            let total: i64 = filtered!("SELECT COUNT(*) FROM requests")
                .build_query_scalar()
                .fetch_one(p)
                .await?;
            let mut q = filtered!("SELECT * FROM requests");
            q.push(" ORDER BY deadline_at, id LIMIT ")
                .push_bind(f.limit)
                .push(" OFFSET ")
                .push_bind(f.offset);
            let rows = q.build().fetch_all(p).await?;
            let items = rows
                .iter()
                .map(read_request)
                .collect::<std::result::Result<Vec<_>, _>>()?;
            (items, total)
        });
        Ok(crate::Page {
            items,
            total,
            limit: f.limit,
            offset: f.offset,
        })
    }
}

impl Store {
    /// Open, not yet escalated requests whose deadline has passed (for the 督办 job).
    pub async fn overdue_unescalated(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<RequestRecord>> {
        let sql = format!(
            "SELECT * FROM requests WHERE state IN {OPEN_STATES} AND escalated = FALSE \
             AND deadline_at < $1 ORDER BY deadline_at, id LIMIT $2"
        );
        Ok(with_pool!(self, |p| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(now)
                .bind(limit)
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(read_request)
                .collect::<std::result::Result<Vec<_>, _>>()?
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::OPEN_STATES;
    use doorstep_domain::requests::{State, code};

    #[test]
    fn the_open_state_list_matches_the_domain() {
        for s in [
            State::Received,
            State::Assigned,
            State::Accepted,
            State::InProgress,
            State::Returned,
            State::Resolved,
            State::Closed,
            State::Reopened,
        ] {
            assert_eq!(
                OPEN_STATES.contains(&format!("'{}'", code(&s))),
                s.is_open(),
                "{s:?}"
            );
        }
    }
}

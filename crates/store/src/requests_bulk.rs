//! Loading many requests with their histories at once (the demo, benchmarks, imports
//! from an older system). Each history is replayed through the same state machine as
//! live moves, so a loaded request is indistinguishable from one worked through the
//! window; everything is written in one transaction, or nothing is.

use crate::audit::{AuditEntry, insert_audit};
use crate::requests::NewRequest;
use crate::{Result, Store, StoreError, WriteCtx, with_tx};
use chrono::{DateTime, Utc};
use doorstep_domain::requests::{Handler, Move, Relation, State, Workflow, code};
use sqlx::types::Json;

/// A move of a loaded history: what, by whom, when.
#[derive(Debug, Clone)]
pub struct PastMove {
    pub mv: Move,
    pub relation: Relation,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_name: String,
}

/// A request to load: its intake (received at `received_at` by `receiver`) and its moves.
/// `new.deadline_at` is the deadline after every extension in the history.
#[derive(Debug, Clone)]
pub struct PastRequest {
    pub new: NewRequest,
    pub subdistrict_id: i64,
    pub received_at: DateTime<Utc>,
    pub receiver: String,
    pub moves: Vec<PastMove>,
}

/// Rows per multi-row INSERT (well under both backends' bound-parameter limits).
const BATCH: usize = 400;

struct Row<'a> {
    p: &'a PastRequest,
    wf: Workflow,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

fn replay(p: &PastRequest) -> Result<Row<'_>> {
    let mut wf = Workflow::default();
    let (mut resolved_at, mut closed_at) = (None, None);
    let mut updated_at = p.received_at;
    for m in &p.moves {
        let next = wf.apply(&m.mv, m.relation).map_err(|e| {
            StoreError::IllegalMove(format!("{} at {:?}: {e}", p.new.tracking_code, m.mv))
        })?;
        if next.state == State::Resolved && wf.state != State::Resolved {
            resolved_at = Some(m.at);
        }
        if next.state == State::Reopened {
            resolved_at = None;
        }
        closed_at = (next.state == State::Closed).then_some(m.at);
        updated_at = m.at;
        wf = next;
    }
    Ok(Row {
        p,
        wf,
        resolved_at,
        closed_at,
        updated_at,
    })
}

impl Store {
    /// Loads requests with their timelines; returns how many were loaded. A history the
    /// state machine refuses fails the whole load.
    pub async fn load_requests(&self, items: &[PastRequest], ctx: &WriteCtx) -> Result<usize> {
        let rows: Vec<Row<'_>> = items.iter().map(replay).collect::<Result<_>>()?;
        with_tx!(self, |tx| {
            for chunk in rows.chunks(BATCH) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO requests (subdistrict_id, neighbourhood_id, tracking_code, channel, kind, service_item_id, \
                     description, building_id, lat, lon, resident_name, resident_phone, resident_email, address, owner_id, \
                     state, workflow, handler_account_id, escalated, deadline_at, resolved_at, closed_at, on_spot, rating, \
                     merged_into, resolve_secs, is_demo, version, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut b, r| {
                    let n = &r.p.new;
                    let handler = match &r.wf.handler {
                        Some(Handler::Worker(a)) => Some(*a),
                        _ => None,
                    };
                    b.push_bind(r.p.subdistrict_id)
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
                        .push_bind(n.resident_email.clone())
                        .push_bind(n.address.clone())
                        .push_bind(n.owner_id)
                        .push_bind(code(&r.wf.state))
                        .push_bind(Json(r.wf.clone()))
                        .push_bind(handler)
                        .push_bind(r.wf.escalated)
                        .push_bind(n.deadline_at)
                        .push_bind(r.resolved_at)
                        .push_bind(r.closed_at)
                        .push_bind(r.wf.on_spot)
                        .push_bind(r.wf.rating.map(|x| code(&x)))
                        .push_bind(r.wf.merged_into)
                        .push_bind(
                            r.resolved_at
                                .map(|t| (t - r.p.received_at).num_seconds().max(0)),
                        )
                        .push_bind(ctx.demo)
                        .push_bind(1 + r.p.moves.len() as i64)
                        .push_bind(r.p.received_at)
                        .push_bind(r.updated_at);
                });
                q.push(" RETURNING id, tracking_code");
                let ids: Vec<(i64, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
                let by_code: std::collections::HashMap<&str, i64> =
                    ids.iter().map(|(id, c)| (c.as_str(), *id)).collect();
                // Intake event plus one per move, in batches.
                let mut events: Vec<(i64, i64, &PastMove, Option<State>)> = Vec::new();
                let mut intakes: Vec<(i64, &PastRequest)> = Vec::new();
                for r in chunk {
                    let id = *by_code
                        .get(r.p.new.tracking_code.as_str())
                        .ok_or(StoreError::NotFound)?;
                    intakes.push((id, r.p));
                    let mut wf = Workflow::default();
                    for (i, m) in r.p.moves.iter().enumerate() {
                        wf = wf
                            .apply(&m.mv, m.relation)
                            .map_err(|e| StoreError::IllegalMove(e.to_string()))?;
                        events.push((id, i as i64 + 2, m, Some(wf.state)));
                    }
                }
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO request_events (request_id, seq, at, actor_id, actor_name, relation, move, state_after) ",
                );
                q.push_values(&intakes, |mut b, (id, p)| {
                    b.push_bind(*id)
                        .push_bind(1i64)
                        .push_bind(p.received_at)
                        .push_bind(p.new.owner_id)
                        .push_bind(p.receiver.clone())
                        .push_bind(code(&Relation::Owner))
                        .push_bind(Json(
                            serde_json::json!({"move": "receive", "channel": p.new.channel}),
                        ))
                        .push_bind(code(&State::Received));
                });
                q.build().execute(&mut *tx).await?;
                for ev in events.chunks(BATCH) {
                    let mut q = sqlx::QueryBuilder::new(
                        "INSERT INTO request_events (request_id, seq, at, actor_id, actor_name, relation, move, state_after) ",
                    );
                    q.push_values(ev, |mut b, (id, seq, m, st)| {
                        b.push_bind(*id)
                            .push_bind(*seq)
                            .push_bind(m.at)
                            .push_bind(m.actor_id)
                            .push_bind(m.actor_name.clone())
                            .push_bind(code(&m.relation))
                            .push_bind(Json(serde_json::to_value(&m.mv).unwrap_or_default()))
                            .push_bind(st.map(|s| code(&s)).unwrap_or_default());
                    });
                    q.build().execute(&mut *tx).await?;
                }
            }
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::event("import", serde_json::json!({"requests": items.len()}))
            );
        });
        Ok(items.len())
    }
}

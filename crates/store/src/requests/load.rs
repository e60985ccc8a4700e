//! Loading many requests with their histories at once (the demo, benchmarks, imports
//! from an older system). Each history is replayed through the same state machine as
//! live moves, so a loaded request is indistinguishable from one worked through the
//! window; everything is written in one transaction, or nothing is.

use super::intake::{NEW_COLUMNS, bind_new};
use super::{NewRequest, RequestStore};
use crate::audit::{self, AuditEntry};
use crate::db::{Sql, Tx};
use crate::{Result, StoreError, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::AuditAction;
use doorstep_domain::policy::RequestPlace;
use doorstep_domain::requests::{Move, Relation, State, Workflow};
use doorstep_domain::{AccountId, RequestId, SubdistrictId};
use std::collections::HashMap;

/// A move of a loaded history: what, by whom, when.
#[derive(Debug, Clone)]
pub struct PastMove {
    pub mv: Move,
    pub relation: Relation,
    pub at: DateTime<Utc>,
    pub actor_id: Option<AccountId>,
    pub actor_name: String,
}

/// A request to load: its intake (received at `received_at` by `receiver`) and its moves.
/// `new.deadline_at` is the deadline after every extension in the history.
#[derive(Debug, Clone)]
pub struct PastRequest {
    pub new: NewRequest,
    pub subdistrict_id: SubdistrictId,
    pub received_at: DateTime<Utc>,
    pub receiver: String,
    pub moves: Vec<PastMove>,
}

/// Rows per multi-row INSERT (well under both backends' bound-parameter limits).
const BATCH: usize = 400;

/// A history replayed: its final workflow, the state after each move, and its times.
struct Replayed<'a> {
    p: &'a PastRequest,
    wf: Workflow,
    states: Vec<State>,
    resolved_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

fn replay(p: &PastRequest) -> Result<Replayed<'_>> {
    let mut wf = Workflow::default();
    let (mut resolved_at, mut closed_at) = (None, None);
    let mut updated_at = p.received_at;
    let mut states = Vec::with_capacity(p.moves.len());
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
        states.push(next.state);
        wf = next;
    }
    Ok(Replayed {
        p,
        wf,
        states,
        resolved_at,
        closed_at,
        updated_at,
    })
}

impl RequestStore<'_> {
    /// Loads requests with their timelines; returns how many were loaded. A history the
    /// state machine refuses fails the whole load.
    pub async fn load(self, items: &[PastRequest], ctx: &WriteCtx) -> Result<usize> {
        let rows: Vec<Replayed<'_>> = items.iter().map(replay).collect::<Result<_>>()?;
        let mut tx = self.0.begin().await?;
        for chunk in rows.chunks(BATCH) {
            let ids = insert_requests(&mut tx, chunk, ctx).await?;
            insert_events(&mut tx, chunk, &ids).await?;
        }
        let detail = serde_json::json!({"requests": items.len()});
        audit::insert(&mut tx, ctx, AuditEntry::event(AuditAction::Import, detail)).await?;
        tx.commit().await?;
        Ok(items.len())
    }
}

async fn insert_requests(
    tx: &mut Tx,
    chunk: &[Replayed<'_>],
    ctx: &WriteCtx,
) -> Result<Vec<RequestId>> {
    let mut q = Sql::new(format!(
        "INSERT INTO requests ({NEW_COLUMNS}, state, workflow, handler_account_id, escalated, \
         resolved_at, closed_at, on_spot, rating, merged_into, resolve_secs, is_demo, version, \
         created_at, updated_at) VALUES "
    ));
    q.push_tuples(chunk, |t, r| {
        bind_new(t, r.p.subdistrict_id, &r.p.new)
            .bind(r.wf.state)
            .bind(serde_json::to_value(&r.wf).unwrap_or_default())
            .bind(RequestPlace::handler_of(r.wf.handler.as_ref()))
            .bind(r.wf.escalated)
            .bind(r.resolved_at)
            .bind(r.closed_at)
            .bind(r.wf.on_spot)
            .bind(r.wf.rating)
            .bind(r.wf.merged_into)
            .bind(
                r.resolved_at
                    .map(|t| (t - r.p.received_at).num_seconds().max(0)),
            )
            .bind(ctx.demo)
            .bind(1 + r.p.moves.len() as i64)
            .bind(r.p.received_at)
            .bind(r.updated_at);
    });
    q.push(" RETURNING id, tracking_code");
    let mut by_code: HashMap<String, RequestId> = HashMap::new();
    for r in q.fetch_all(tx).await? {
        by_code.insert(r.get("tracking_code")?, r.id("id")?);
    }
    chunk
        .iter()
        .map(|r| {
            by_code
                .get(&r.p.new.tracking_code)
                .copied()
                .ok_or(StoreError::NotFound)
        })
        .collect()
}

/// The intake event and one per move of each request, in batches.
async fn insert_events(tx: &mut Tx, chunk: &[Replayed<'_>], ids: &[RequestId]) -> Result<()> {
    let head = "INSERT INTO request_events (request_id, seq, at, actor_id, actor_name, relation, \
                move, state_after) VALUES ";
    let mut q = Sql::new(head);
    q.push_tuples(chunk.iter().zip(ids), |t, (r, id)| {
        let p = r.p;
        t.bind(*id)
            .raw("1")
            .bind(p.received_at)
            .bind(p.new.owner_id)
            .bind(&p.receiver)
            .bind(Relation::Owner)
            .bind(serde_json::json!({"move": "receive", "channel": p.new.channel}))
            .bind(State::Received);
    });
    q.execute(tx).await?;
    let moves: Vec<(RequestId, i64, &PastMove, State)> = chunk
        .iter()
        .zip(ids)
        .flat_map(|(r, id)| {
            r.p.moves
                .iter()
                .zip(&r.states)
                .enumerate()
                .map(move |(i, (m, s))| (*id, i as i64 + 2, m, *s))
        })
        .collect();
    for batch in moves.chunks(BATCH) {
        let mut q = Sql::new(head);
        q.push_tuples(batch, |t, (id, seq, m, st)| {
            t.bind(*id)
                .bind(*seq)
                .bind(m.at)
                .bind(m.actor_id)
                .bind(&m.actor_name)
                .bind(m.relation)
                .bind(serde_json::to_value(&m.mv).unwrap_or_default())
                .bind(*st);
        });
        q.execute(tx).await?;
    }
    Ok(())
}

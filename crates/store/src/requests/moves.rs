//! Moves on a request: each read and applied under the row's lock, checked against the
//! version the caller saw, and written with its timeline event and audit entry in one
//! transaction.

use super::{RequestRecord, RequestStore, read_request};
use crate::audit::{self, AuditEntry};
use crate::db::{Exec, Sql, Tx};
use crate::{Result, StoreError, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::policy::RequestPlace;
use doorstep_domain::requests::{Move, MoveError, Relation, State, Workflow};
use doorstep_domain::{FieldErrors, RequestId};

/// One move inside an open write transaction: lock and read the request, check the
/// version (when one is expected), apply the move, and write the new state, its columns,
/// the timeline event and the audit entry. A refusal returns an error, and the caller's
/// `?` drops (rolls back) the transaction.
async fn step(
    tx: &mut Tx,
    id: RequestId,
    expected: Option<i64>,
    mv: &Move,
    relation: Relation,
    ctx: &WriteCtx,
    deadline: impl FnOnce(&RequestRecord, &Workflow) -> DateTime<Utc>,
) -> Result<()> {
    let cur = lock(tx, id, expected).await?;
    let next = cur.workflow.apply(mv, relation).map_err(|e| match e {
        MoveError::Invalid(field) => FieldErrors::single(field, "invalid").into(),
        other => StoreError::IllegalMove(other.to_string()),
    })?;
    let deadline_at = deadline(&cur, &next);
    write_state(tx, &cur, &next, deadline_at, ctx).await?;
    let mv_json = serde_json::to_value(mv).unwrap_or_default();
    append_event(tx, id, relation, &mv_json, next.state, ctx).await?;
    let entry = AuditEntry::write(AuditAction::Update, AuditEntity::Request, id, mv_json);
    audit::insert(tx, ctx, entry).await
}

/// Locks and reads the request, refusing when it is no longer at the `expected` version.
async fn lock(tx: &mut Tx, id: RequestId, expected: Option<i64>) -> Result<RequestRecord> {
    let select = format!("SELECT * FROM requests WHERE id = $1{}", tx.for_update());
    let row = Sql::new(select)
        .bind(id)
        .fetch_optional(tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let cur = read_request(&row)?;
    if expected.is_some_and(|v| v != cur.version) {
        return Err(StoreError::VersionConflict {
            current: cur.version,
        });
    }
    Ok(cur)
}

/// Writes the workflow after a move and the columns derived from it, bumping the version
/// (guarded by the version read, so a concurrent writer cannot be overwritten).
async fn write_state(
    tx: &mut Tx,
    cur: &RequestRecord,
    next: &Workflow,
    deadline_at: DateTime<Utc>,
    ctx: &WriteCtx,
) -> Result<()> {
    let (resolved_at, resolve_secs) =
        if next.state == State::Resolved && cur.workflow.state != State::Resolved {
            (
                Some(ctx.at),
                Some((ctx.at - cur.created_at).num_seconds().max(0)),
            )
        } else if next.state == State::Reopened {
            (None, None)
        } else {
            (cur.resolved_at, cur.resolve_secs)
        };
    let closed_at = (next.state == State::Closed).then_some(ctx.at);
    let done = Sql::new(
        "UPDATE requests SET state = $1, workflow = $2, handler_account_id = $3, escalated = $4, \
         deadline_at = $5, resolved_at = $6, closed_at = $7, version = version + 1, updated_at = $8, \
         on_spot = $9, rating = $10, merged_into = $11, resolve_secs = $12 \
         WHERE id = $13 AND version = $14",
    )
    .bind(next.state)
    .bind(serde_json::to_value(next).unwrap_or_default())
    .bind(RequestPlace::handler_of(next.handler.as_ref()))
    .bind(next.escalated)
    .bind(deadline_at)
    .bind(resolved_at)
    .bind(closed_at)
    .bind(ctx.at)
    .bind(next.on_spot)
    .bind(next.rating)
    .bind(next.merged_into)
    .bind(resolve_secs)
    .bind(cur.id)
    .bind(cur.version)
    .execute(tx)
    .await?;
    if done != 1 {
        return Err(StoreError::VersionConflict {
            current: cur.version,
        });
    }
    Ok(())
}

/// Appends the move to the request's timeline.
async fn append_event(
    tx: &mut Tx,
    id: RequestId,
    relation: Relation,
    mv_json: &serde_json::Value,
    state_after: State,
    ctx: &WriteCtx,
) -> Result<()> {
    let seq: i64 =
        Sql::new("SELECT COALESCE(MAX(seq), 0) + 1 FROM request_events WHERE request_id = $1")
            .bind(id)
            .scalar(tx)
            .await?;
    Sql::new(
        "INSERT INTO request_events (request_id, seq, at, actor_id, actor_name, relation, move, \
         state_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(seq)
    .bind(ctx.at)
    .bind(ctx.actor_id)
    .bind(&ctx.actor_name)
    .bind(relation)
    .bind(mv_json.clone())
    .bind(state_after)
    .execute(tx)
    .await?;
    Ok(())
}

impl RequestStore<'_> {
    /// Applies a move made by someone in `relation`, if the request is still at
    /// `expected_version`. `deadline` gives the deadline after the move (extensions move it).
    pub async fn apply_move<F>(
        self,
        id: RequestId,
        expected_version: i64,
        mv: &Move,
        relation: Relation,
        ctx: &WriteCtx,
        deadline: F,
    ) -> Result<RequestRecord>
    where
        F: FnOnce(&RequestRecord, &Workflow) -> DateTime<Utc>,
    {
        let mut tx = self.0.begin().await?;
        step(
            &mut tx,
            id,
            Some(expected_version),
            mv,
            relation,
            ctx,
            deadline,
        )
        .await?;
        let record = reread(&mut tx, id).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Merges a duplicate into the request that carries on (合并): the duplicate is closed
    /// with `Merge`, the survivor's timeline records `Absorb`, in one transaction. Both must
    /// be in one neighbourhood and the survivor open; the duplicate must be at
    /// `expected_version`.
    pub async fn merge(
        self,
        duplicate: RequestId,
        expected_version: i64,
        into: RequestId,
        relation: Relation,
        ctx: &WriteCtx,
    ) -> Result<RequestRecord> {
        if duplicate == into {
            return Err(StoreError::IllegalMove(
                "a request cannot merge into itself".into(),
            ));
        }
        let mut tx = self.0.begin().await?;
        // Lock both rows in id order, so crossing merges cannot deadlock.
        let lock = format!(
            "SELECT id, neighbourhood_id FROM requests WHERE id IN ($1, $2) ORDER BY id{}",
            tx.for_update()
        );
        let rows = Sql::new(lock)
            .bind(duplicate.min(into))
            .bind(duplicate.max(into))
            .fetch_all(&mut tx)
            .await?;
        if rows.len() != 2 {
            return Err(StoreError::NotFound);
        }
        if rows[0].get::<i64>("neighbourhood_id")? != rows[1].get::<i64>("neighbourhood_id")? {
            return Err(StoreError::IllegalMove(
                "only requests of one neighbourhood merge".into(),
            ));
        }
        let keep = |cur: &RequestRecord, _: &Workflow| cur.deadline_at;
        let absorb = Move::Absorb { from: duplicate };
        step(&mut tx, into, None, &absorb, relation, ctx, keep).await?;
        let merge = Move::Merge { into };
        step(
            &mut tx,
            duplicate,
            Some(expected_version),
            &merge,
            relation,
            ctx,
            keep,
        )
        .await?;
        let record = reread(&mut tx, duplicate).await?;
        tx.commit().await?;
        Ok(record)
    }
}

async fn reread(db: &mut impl Exec, id: RequestId) -> Result<RequestRecord> {
    let row = Sql::new("SELECT * FROM requests WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await?;
    read_request(&row)
}

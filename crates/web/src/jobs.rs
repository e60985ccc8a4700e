//! Background work: the deadline job escalates overdue requests (督办) to the secretary.
//! It runs every minute in the server and can be run on demand (tests, with an injected
//! clock).

use crate::AppState;
use doorstep_domain::requests::{Move, Relation};
use doorstep_store::{StoreError, WriteCtx};

/// Escalates every open request past its deadline; returns how many were escalated.
pub async fn escalate_overdue(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut done = 0;
    loop {
        let batch = state.store.overdue_unescalated(now, 200).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let n = batch.len();
        for r in batch {
            let ctx = WriteCtx {
                actor_id: None,
                actor_name: "deadline-job".into(),
                subdistrict_id: Some(r.subdistrict_id),
                ip: None,
                at: now,
                demo: false,
            };
            match state
                .store
                .move_request(
                    r.id,
                    r.version,
                    &Move::Escalate,
                    Relation::System,
                    &ctx,
                    |cur, _| cur.deadline_at,
                )
                .await
            {
                Ok(_) => done += 1,
                // Someone acted on it meanwhile: the next run looks again.
                Err(StoreError::VersionConflict { .. } | StoreError::IllegalMove(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if n < 200 {
            return Ok(done);
        }
    }
}

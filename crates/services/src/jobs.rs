//! Background work, run every minute by the server and on demand by tests (with an
//! injected clock): the deadline job escalates overdue requests (督办) to the secretary,
//! expired sessions are removed, and (daily) archived residents' personal data is erased
//! once the retention period has passed.

use crate::{Result, Services};
use doorstep_domain::requests::{Move, Relation};
use doorstep_store::StoreError;

/// Escalates every open request past its deadline; returns how many were escalated.
pub async fn escalate_overdue(sv: &Services) -> Result<usize> {
    const BATCH: i64 = 200;
    let now = sv.now();
    let mut done = 0;
    loop {
        let batch = sv.store.requests().overdue_unescalated(now, BATCH).await?;
        let n = batch.len();
        for r in batch {
            let ctx = sv.system_ctx("deadline-job", Some(r.subdistrict_id), None);
            let keep = |cur: &doorstep_store::RequestRecord, _: &_| cur.deadline_at;
            match sv
                .store
                .requests()
                .apply_move(
                    r.id,
                    r.version,
                    &Move::Escalate,
                    Relation::System,
                    &ctx,
                    keep,
                )
                .await
            {
                Ok(_) => done += 1,
                // Someone acted on it meanwhile: the next run looks again.
                Err(StoreError::VersionConflict { .. } | StoreError::IllegalMove(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if (n as i64) < BATCH {
            return Ok(done);
        }
    }
}

/// Removes sessions past their idle or absolute timeout; returns how many.
pub async fn purge_sessions(sv: &Services) -> Result<u64> {
    let now = sv.now();
    let s = sv.settings();
    let idle = now - crate::signin::duration(s.session_idle);
    let absolute = now - crate::signin::duration(s.session_absolute);
    Ok(sv.store.sessions().purge(idle, absolute).await?)
}

/// The retention rule, run daily: residents archived longer ago than the retention
/// period lose their personal data. Returns how many were erased.
pub async fn erase_archived(sv: &Services) -> Result<u64> {
    let before = sv.now() - crate::signin::duration(sv.settings().archived_retention);
    let ctx = doorstep_store::WriteCtx::system("retention", None, sv.now());
    Ok(sv.store.register().purge_archived(before, &ctx).await?)
}

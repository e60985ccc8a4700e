//! Intake: new requests, their intake events, images and audit entries, one statement per
//! table for a whole batch (group commit), in one transaction.

use super::{NewRequest, RequestRecord, RequestStore};
use crate::db::{Sql, Tuple, Tx};
use crate::{Result, StoreError, WriteCtx};
use chrono::{DateTime, SubsecRound, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::requests::{Relation, State, Workflow};
use doorstep_domain::{NeighbourhoodId, RequestId, SubdistrictId};
use std::collections::HashMap;

impl RequestStore<'_> {
    /// Records a new request and its intake event.
    pub async fn create(self, n: &NewRequest, ctx: &WriteCtx) -> Result<RequestRecord> {
        let mut out = self.create_batch(&[(n, ctx)]).await?;
        out.pop().ok_or(StoreError::NotFound)
    }

    /// Records several new requests, their intake events, attachments and audit entries
    /// in one transaction with one statement per table (group commit: the intake queue
    /// sends what arrived together). All or nothing: an unknown neighbourhood or a taken
    /// tracking code fails the whole batch, and the caller retries one by one.
    pub async fn create_batch(
        self,
        items: &[(&NewRequest, &WriteCtx)],
    ) -> Result<Vec<RequestRecord>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        // Microseconds, as PostgreSQL keeps them, so the records returned are the ones stored.
        let ats: Vec<DateTime<Utc>> = items.iter().map(|(_, c)| c.at.trunc_subsecs(6)).collect();
        let mut tx = self.0.begin().await?;
        let subdistricts = subdistricts_of(&mut tx, items).await?;
        let ids = insert_requests(&mut tx, items, &ats, &subdistricts).await?;
        insert_intake_events(&mut tx, items, &ids).await?;
        for ((n, ctx), id) in items.iter().zip(&ids) {
            for a in &n.attachments {
                super::attachments::insert(&mut tx, *id, a, ctx.at).await?;
            }
        }
        insert_audit(&mut tx, items, &ids).await?;
        tx.commit().await?;
        // What was written, without reading it back.
        Ok(items
            .iter()
            .zip(ids)
            .zip(ats)
            .map(|(((n, ctx), id), at)| RequestRecord {
                id,
                subdistrict_id: subdistricts[&n.neighbourhood_id],
                neighbourhood_id: n.neighbourhood_id,
                tracking_code: n.tracking_code.clone(),
                channel: n.channel,
                kind: n.kind,
                service_item_id: n.service_item_id,
                description: n.description.clone(),
                public_description: n.public_description,
                building_id: n.building_id,
                lat: n.lat,
                lon: n.lon,
                resident_name: n.resident_name.clone(),
                resident_phone: n.resident_phone.clone(),
                resident_phone_sealed: n.resident_phone_sealed.clone(),
                resident_email: n.resident_email.clone(),
                address: n.address.clone(),
                owner_id: n.owner_id,
                workflow: Workflow::default(),
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
}

/// The subdistrict of each neighbourhood in the batch; an unknown one fails it.
async fn subdistricts_of(
    tx: &mut Tx,
    items: &[(&NewRequest, &WriteCtx)],
) -> Result<HashMap<NeighbourhoodId, SubdistrictId>> {
    let mut nbs: Vec<NeighbourhoodId> = items.iter().map(|(n, _)| n.neighbourhood_id).collect();
    nbs.sort_unstable();
    nbs.dedup();
    let mut q = Sql::new("SELECT id, subdistrict_id FROM neighbourhoods WHERE id IN (");
    q.push_binds(nbs.iter().copied()).push(")");
    let mut out = HashMap::new();
    for r in q.fetch_all(tx).await? {
        out.insert(r.id("id")?, r.id("subdistrict_id")?);
    }
    if nbs.iter().any(|n| !out.contains_key(n)) {
        return Err(StoreError::NotFound);
    }
    Ok(out)
}

/// The columns a request has from intake, in the order [`bind_new`] binds them.
pub(super) const NEW_COLUMNS: &str = "subdistrict_id, neighbourhood_id, tracking_code, \
    channel, kind, service_item_id, description, public_description, building_id, lat, lon, resident_name, \
    resident_phone, resident_phone_sealed, resident_email, address, owner_id, deadline_at";

/// Binds what a request has from intake ([`NEW_COLUMNS`]).
pub(super) fn bind_new<'a, 'b>(
    t: &'a mut Tuple<'b>,
    subdistrict_id: SubdistrictId,
    n: &NewRequest,
) -> &'a mut Tuple<'b> {
    t.bind(subdistrict_id)
        .bind(n.neighbourhood_id)
        .bind(&n.tracking_code)
        .bind(n.channel)
        .bind(n.kind)
        .bind(n.service_item_id)
        .bind(&n.description)
        .bind(n.public_description)
        .bind(n.building_id)
        .bind(n.lat)
        .bind(n.lon)
        .bind(&n.resident_name)
        .bind(&n.resident_phone)
        .bind(&n.resident_phone_sealed)
        .bind(&n.resident_email)
        .bind(&n.address)
        .bind(n.owner_id)
        .bind(n.deadline_at)
}

async fn insert_requests(
    tx: &mut Tx,
    items: &[(&NewRequest, &WriteCtx)],
    ats: &[DateTime<Utc>],
    subdistricts: &HashMap<NeighbourhoodId, SubdistrictId>,
) -> Result<Vec<RequestId>> {
    let wf = Workflow::default();
    let mut q = Sql::new(format!(
        "INSERT INTO requests ({NEW_COLUMNS}, state, workflow, handler_account_id, escalated, \
         is_demo, version, created_at, updated_at) VALUES "
    ));
    q.push_tuples(items.iter().zip(ats), |t, ((n, ctx), at)| {
        bind_new(t, subdistricts[&n.neighbourhood_id], n)
            .bind(wf.state)
            .bind(serde_json::to_value(&wf).unwrap_or_default())
            .raw("NULL")
            .raw("FALSE")
            .bind(ctx.demo)
            .raw("1")
            .bind(*at)
            .bind(*at);
    });
    q.push(" RETURNING id, tracking_code");
    let rows = q
        .fetch_all(tx)
        .await
        .map_err(|e| e.on_key(&["tracking_code"]))?;
    let mut by_code: HashMap<String, RequestId> = HashMap::new();
    for r in rows {
        by_code.insert(r.get("tracking_code")?, r.id("id")?);
    }
    items
        .iter()
        .map(|(n, _)| {
            by_code
                .get(&n.tracking_code)
                .copied()
                .ok_or(StoreError::NotFound)
        })
        .collect()
}

async fn insert_intake_events(
    tx: &mut Tx,
    items: &[(&NewRequest, &WriteCtx)],
    ids: &[RequestId],
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO request_events (request_id, seq, at, actor_id, actor_name, relation, move, \
         state_after) VALUES ",
    );
    q.push_tuples(items.iter().zip(ids), |t, ((n, ctx), id)| {
        t.bind(*id)
            .raw("1")
            .bind(ctx.at)
            .bind(ctx.actor_id)
            .bind(&ctx.actor_name)
            .bind(Relation::Owner)
            .bind(serde_json::json!({"move": "receive", "channel": n.channel}))
            .bind(State::Received);
    });
    q.execute(tx).await?;
    Ok(())
}

async fn insert_audit(
    tx: &mut Tx,
    items: &[(&NewRequest, &WriteCtx)],
    ids: &[RequestId],
) -> Result<()> {
    let mut q = Sql::new(
        "INSERT INTO audit_log (at, subdistrict_id, actor_id, actor_name, action, entity, \
         entity_id, detail, ip) VALUES ",
    );
    q.push_tuples(items.iter().zip(ids), |t, ((n, ctx), id)| {
        let detail = serde_json::json!({
            "kind": n.kind, "channel": n.channel, "attachments": n.attachments.len()
        });
        t.bind(ctx.at)
            .bind(ctx.subdistrict_id)
            .bind(ctx.actor_id)
            .bind(&ctx.actor_name)
            .bind(AuditAction::Create)
            .bind(AuditEntity::Request)
            .bind(*id)
            .bind(detail)
            .bind(&ctx.ip);
    });
    q.execute(tx).await?;
    Ok(())
}

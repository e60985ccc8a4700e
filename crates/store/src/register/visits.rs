//! Door-to-door visits, recorded once per client key, and the visit plan per tag.

use super::{RegisterStore, read_household};
use crate::audit::{self, AuditEntry};
use crate::db::{DbRow, Sql};
use crate::{Result, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::people::VisitKind;
use doorstep_domain::{AccountId, HouseholdId, RequestId, SubdistrictId, VisitId};
use serde::Serialize;
use serde_json::json;

/// A door-to-door visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    pub id: VisitId,
    pub household_id: HouseholdId,
    pub worker_id: AccountId,
    pub kind: VisitKind,
    pub met: Option<String>,
    pub notes: Option<String>,
    pub said: Option<String>,
    pub visited_at: DateTime<Utc>,
    pub client_key: String,
    pub request_id: Option<RequestId>,
}

/// A visit to record; `client_key` is made on the phone, so a resend is recognised.
#[derive(Debug, Clone)]
pub struct NewVisit {
    pub household_id: HouseholdId,
    pub worker_id: AccountId,
    pub kind: VisitKind,
    pub met: Option<String>,
    pub notes: Option<String>,
    pub said: Option<String>,
    pub visited_at: DateTime<Utc>,
    pub client_key: String,
}

fn read_visit(r: &DbRow) -> Result<Visit> {
    Ok(Visit {
        id: r.id("id")?,
        household_id: r.id("household_id")?,
        worker_id: r.id("worker_id")?,
        kind: r.code("kind")?,
        met: r.get("met")?,
        notes: r.get("notes")?,
        said: r.get("said")?,
        visited_at: r.get("visited_at")?,
        client_key: r.get("client_key")?,
        request_id: r.opt_id("request_id")?,
    })
}

impl RegisterStore<'_> {
    /// Records a visit once: a resend with the same client key answers the first one
    /// (`false`: nothing new).
    pub async fn record_visit(self, v: &NewVisit, ctx: &WriteCtx) -> Result<(Visit, bool)> {
        let mut tx = self.0.begin().await?;
        if let Some(r) = Sql::new("SELECT * FROM visits WHERE client_key = $1")
            .bind(&v.client_key)
            .fetch_optional(&mut tx)
            .await?
        {
            return Ok((read_visit(&r)?, false));
        }
        let h = Sql::new("SELECT * FROM households WHERE id = $1")
            .bind(v.household_id)
            .fetch_optional(&mut tx)
            .await?
            .ok_or_else(|| {
                doorstep_domain::FieldErrors::single("household_id", "invalid_reference")
            })?;
        let h = read_household(&h)?;
        let row = Sql::new(
            "INSERT INTO visits (subdistrict_id, neighbourhood_id, household_id, worker_id, kind, \
             met, notes, said, visited_at, client_key, is_demo, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
        )
        .bind(h.subdistrict_id)
        .bind(h.neighbourhood_id)
        .bind(h.id)
        .bind(v.worker_id)
        .bind(v.kind)
        .bind(v.met.clone())
        .bind(v.notes.clone())
        .bind(v.said.clone())
        .bind(v.visited_at)
        .bind(&v.client_key)
        .bind(ctx.demo)
        .bind(ctx.at)
        .fetch_one(&mut tx)
        .await
        .map_err(|e| e.on_key(&["client_key"]))?;
        let visit = read_visit(&row)?;
        let entry = AuditEntry::write(
            AuditAction::Create,
            AuditEntity::Visit,
            visit.id,
            json!({"household_id": h.id, "kind": v.kind}),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok((visit, true))
    }

    /// Loads past visits at once (the demo's history, a migration from another system):
    /// a few dozen rows per statement in one transaction, one audit entry for the load.
    /// Every household must exist; a client key already used fails the whole load.
    pub async fn load_visits(self, visits: &[NewVisit], ctx: &WriteCtx) -> Result<usize> {
        let mut tx = self.0.begin().await?;
        let mut ids: Vec<HouseholdId> = visits.iter().map(|v| v.household_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut places = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let mut q = Sql::new(
                "SELECT id, subdistrict_id, neighbourhood_id FROM households WHERE id IN (",
            );
            q.push_binds(chunk.iter().copied()).push(")");
            for r in q.fetch_all(&mut tx).await? {
                let place: (SubdistrictId, doorstep_domain::NeighbourhoodId) =
                    (r.id("subdistrict_id")?, r.id("neighbourhood_id")?);
                places.insert(r.id::<HouseholdId>("id")?, place);
            }
        }
        if places.len() != ids.len() {
            return Err(
                doorstep_domain::FieldErrors::single("household_id", "invalid_reference").into(),
            );
        }
        for chunk in visits.chunks(64) {
            let mut q = Sql::new(
                "INSERT INTO visits (subdistrict_id, neighbourhood_id, household_id, worker_id, kind, \
                 met, notes, said, visited_at, client_key, is_demo, created_at) VALUES ",
            );
            q.push_tuples(chunk, |t, v| {
                let (sd, nb) = places[&v.household_id];
                t.bind(sd)
                    .bind(nb)
                    .bind(v.household_id)
                    .bind(v.worker_id)
                    .bind(v.kind)
                    .bind(v.met.clone())
                    .bind(v.notes.clone())
                    .bind(v.said.clone())
                    .bind(v.visited_at)
                    .bind(v.client_key.as_str())
                    .bind(ctx.demo)
                    .bind(v.visited_at);
            });
            q.execute(&mut tx)
                .await
                .map_err(|e| e.on_key(&["client_key"]))?;
        }
        let entry = AuditEntry::write(
            AuditAction::Create,
            AuditEntity::Visit,
            0,
            json!({"loaded": visits.len()}),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(visits.len())
    }

    /// The visit recorded under a client key, if any.
    pub async fn visit_by_key(self, key: &str) -> Result<Option<Visit>> {
        Sql::new("SELECT * FROM visits WHERE client_key = $1")
            .bind(key)
            .fetch_optional(&mut self.0.db())
            .await?
            .as_ref()
            .map(read_visit)
            .transpose()
    }

    /// Links the request a visit's finding became.
    pub async fn link_visit_request(self, visit: VisitId, request: RequestId) -> Result<()> {
        Sql::new("UPDATE visits SET request_id = $1 WHERE id = $2")
            .bind(request)
            .bind(visit)
            .execute(&mut self.0.db())
            .await?;
        Ok(())
    }

    /// The household a request came from (a visit's finding), if any.
    pub async fn household_of_request(self, request: RequestId) -> Result<Option<HouseholdId>> {
        Sql::new("SELECT household_id FROM visits WHERE request_id = $1 ORDER BY id LIMIT 1")
            .bind(request)
            .fetch_optional(&mut self.0.db())
            .await?
            .map(|r| r.id("household_id"))
            .transpose()
    }

    /// The open requests `account` owns or handles that came from visits to `household`
    /// (the case grant of the care register).
    pub async fn open_cases(
        self,
        household: HouseholdId,
        account: AccountId,
    ) -> Result<Vec<RequestId>> {
        let open = crate::requests::open_states();
        Sql::new(format!(
            "SELECT DISTINCT r.id FROM visits v JOIN requests r ON r.id = v.request_id \
             WHERE v.household_id = $1 AND r.state{open} \
             AND (r.owner_id = $2 OR r.handler_account_id = $2) ORDER BY r.id"
        ))
        .bind(household)
        .bind(account)
        .fetch_all(&mut self.0.db())
        .await?
        .iter()
        .map(|r| r.id("id"))
        .collect()
    }

    /// The last visit to each of some households.
    pub async fn last_visits(
        self,
        households: &[HouseholdId],
    ) -> Result<Vec<(HouseholdId, DateTime<Utc>)>> {
        if households.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(
            "SELECT household_id, MAX(visited_at) AS last FROM visits WHERE household_id IN (",
        );
        q.push_binds(households.iter().copied())
            .push(") GROUP BY household_id");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| Ok((r.id("household_id")?, r.get("last")?)))
            .collect()
    }

    /// The visits to a household, newest first.
    pub async fn visits_to(self, household: HouseholdId, limit: i64) -> Result<Vec<Visit>> {
        Sql::new("SELECT * FROM visits WHERE household_id = $1 ORDER BY visited_at DESC, id DESC LIMIT $2")
            .bind(household)
            .bind(limit)
            .fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(read_visit)
            .collect()
    }

    /// The subdistrict's visit plan: days between visits per tag (only changed tags are
    /// stored; the rest use their defaults).
    pub async fn plans(self, sd: SubdistrictId) -> Result<Vec<(String, i64)>> {
        Sql::new("SELECT tag, every_days FROM visit_plans WHERE subdistrict_id = $1 ORDER BY tag")
            .bind(sd)
            .fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(|r| Ok((r.get("tag")?, r.get("every_days")?)))
            .collect()
    }

    pub async fn set_plan(
        self,
        sd: SubdistrictId,
        tag: &str,
        every_days: i64,
        ctx: &WriteCtx,
    ) -> Result<()> {
        let mut tx = self.0.begin().await?;
        Sql::new("DELETE FROM visit_plans WHERE subdistrict_id = $1 AND tag = $2")
            .bind(sd)
            .bind(tag)
            .execute(&mut tx)
            .await?;
        Sql::new("INSERT INTO visit_plans (subdistrict_id, tag, every_days, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(sd)
            .bind(tag)
            .bind(every_days)
            .bind(ctx.at)
            .execute(&mut tx)
            .await?;
        let entry = AuditEntry::event(
            AuditAction::Update,
            json!({"visit_plan": tag, "every_days": every_days}),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }
}

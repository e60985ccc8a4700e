//! The audit log: append-only (the database refuses UPDATE and DELETE on it), written in
//! the same transaction as what it records.

use crate::db::{DbRow, Exec, Sql, like_pattern, page};
use crate::{Page, Result, Store, WriteCtx};
use chrono::{DateTime, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::{AccountId, SubdistrictId};
use serde::Serialize;

/// What happened, before the context (who, when, from where) is added.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: AuditAction,
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<i64>,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// Something done to one record.
    pub fn write(
        action: AuditAction,
        entity: impl Into<AuditEntity>,
        id: impl Into<i64>,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            action,
            entity: Some(entity.into()),
            entity_id: Some(id.into()),
            detail,
        }
    }

    /// Something that is about no one record.
    pub fn event(action: AuditAction, detail: serde_json::Value) -> Self {
        Self {
            action,
            entity: None,
            entity_id: None,
            detail,
        }
    }
}

/// A stored audit entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<AccountId>,
    pub actor_name: Option<String>,
    pub action: AuditAction,
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<i64>,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

/// A search of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subdistrict_id: Option<SubdistrictId>,
    /// Part of the actor's name.
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

/// Writes one entry inside the caller's transaction.
pub(crate) async fn insert(db: &mut impl Exec, ctx: &WriteCtx, entry: AuditEntry) -> Result<()> {
    Sql::new(
        "INSERT INTO audit_log \
         (at, subdistrict_id, actor_id, actor_name, action, entity, entity_id, detail, ip) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(ctx.at)
    .bind(ctx.subdistrict_id)
    .bind(ctx.actor_id)
    .bind(&ctx.actor_name)
    .bind(entry.action)
    .bind(entry.entity)
    .bind(entry.entity_id)
    .bind(entry.detail)
    .bind(&ctx.ip)
    .execute(db)
    .await?;
    Ok(())
}

fn read(r: &DbRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.get("id")?,
        at: r.get("at")?,
        actor_id: r.opt_id("actor_id")?,
        actor_name: r.get("actor_name")?,
        action: r.code("action")?,
        entity: r.opt_code("entity")?,
        entity_id: r.get("entity_id")?,
        detail: r.json("detail")?,
        ip: r.get("ip")?,
    })
}

/// The audit log.
#[derive(Debug, Clone, Copy)]
pub struct AuditLog<'a>(pub(crate) &'a Store);

impl AuditLog<'_> {
    /// Records an event that goes with no other write (a failed sign-in, a reveal).
    pub async fn record(self, ctx: &WriteCtx, entry: AuditEntry) -> Result<()> {
        let mut tx = self.0.begin().await?;
        insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }

    /// Entries matching `f`, newest first.
    pub async fn list(self, f: &AuditFilter) -> Result<Page<AuditRecord>> {
        let filtered = |head: &str| {
            let mut q = Sql::new(head);
            q.push(" WHERE 1 = 1");
            if let Some(sd) = f.subdistrict_id {
                q.push(" AND subdistrict_id = ").push_bind(sd);
            }
            if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
                q.push(" AND LOWER(actor_name) LIKE ")
                    .push_bind(like_pattern(&a.to_lowercase()))
                    .push(" ESCAPE '\\'");
            }
            if let Some(a) = f.action {
                q.push(" AND action = ").push_bind(a);
            }
            if let Some(e) = f.entity {
                q.push(" AND entity = ").push_bind(e);
            }
            if let Some(id) = f.entity_id {
                q.push(" AND entity_id = ").push_bind(id);
            }
            if let Some(t) = f.from {
                q.push(" AND at >= ").push_bind(t);
            }
            if let Some(t) = f.to {
                q.push(" AND at < ").push_bind(t);
            }
            q
        };
        let db = &mut self.0.db();
        page(
            db,
            "audit_log",
            filtered,
            "id DESC",
            (f.limit, f.offset),
            read,
        )
        .await
    }
}

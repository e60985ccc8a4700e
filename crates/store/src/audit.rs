//! The audit log: append-only (the database refuses UPDATE and DELETE on it), written in
//! the same transaction as what it records.

use crate::sql::{bind_value, like_pattern};
use crate::{Result, Store, WriteCtx, with_pool, with_tx};
use chrono::{DateTime, Utc};
use doorstep_domain::{FieldKind, Value};
use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

/// What happened, before the context (who, when, from where) is added.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: &'static str,
    pub entity: Option<&'static str>,
    pub entity_id: Option<i64>,
    pub detail: serde_json::Value,
}

impl AuditEntry {
    pub fn write(
        action: &'static str,
        entity: &'static str,
        id: i64,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            action,
            entity: Some(entity),
            entity_id: Some(id),
            detail,
        }
    }
    pub fn event(action: &'static str, detail: serde_json::Value) -> Self {
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
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

/// A search of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subdistrict_id: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_log \
    (at, subdistrict_id, actor_id, actor_name, action, entity, entity_id, detail, ip) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Inserts an audit entry on an executor (a transaction, usually).
macro_rules! insert_audit {
    ($exec:expr, $ctx:expr, $entry:expr) => {{
        let ctx: &$crate::WriteCtx = $ctx;
        let entry: $crate::audit::AuditEntry = $entry;
        sqlx::query($crate::audit::INSERT_AUDIT)
            .bind(ctx.at)
            .bind(ctx.subdistrict_id)
            .bind(ctx.actor_id)
            .bind(ctx.actor_name.clone())
            .bind(entry.action)
            .bind(entry.entity)
            .bind(entry.entity_id)
            .bind(sqlx::types::Json(entry.detail))
            .bind(ctx.ip.clone())
            .execute($exec)
            .await?;
    }};
}
pub(crate) use insert_audit;

impl Store {
    /// Records an event that goes with no other write (a failed sign-in, a reveal).
    pub async fn record_audit(&self, ctx: &WriteCtx, entry: AuditEntry) -> Result<()> {
        with_tx!(self, |tx| {
            insert_audit!(&mut *tx, ctx, entry);
        });
        Ok(())
    }

    pub async fn list_audit(&self, f: &AuditFilter) -> Result<crate::Page<AuditRecord>> {
        let mut binds: Vec<(FieldKind, Value)> = Vec::new();
        let mut clauses: Vec<String> = vec!["1 = 1".into()];
        let int = FieldKind::Int { min: 0, max: 0 };
        let text = FieldKind::Text {
            max: 0,
            multiline: false,
        };
        if let Some(sd) = f.subdistrict_id {
            binds.push((int, Value::Int(sd)));
            clauses.push(format!("subdistrict_id = ${}", binds.len()));
        }
        if let Some(a) = f.actor.as_deref().filter(|s| !s.is_empty()) {
            binds.push((text, Value::Text(like_pattern(&a.to_lowercase()))));
            clauses.push(format!(
                "LOWER(actor_name) LIKE ${} ESCAPE '\\'",
                binds.len()
            ));
        }
        if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
            binds.push((text, Value::Text(a.to_string())));
            clauses.push(format!("action = ${}", binds.len()));
        }
        if let Some(e) = f.entity.as_deref().filter(|s| !s.is_empty()) {
            binds.push((text, Value::Text(e.to_string())));
            clauses.push(format!("entity = ${}", binds.len()));
        }
        if let Some(id) = f.entity_id {
            binds.push((int, Value::Int(id)));
            clauses.push(format!("entity_id = ${}", binds.len()));
        }
        let n_binds = binds.len();
        let mut time_clauses = String::new();
        if f.from.is_some() {
            time_clauses.push_str(&format!(" AND at >= ${}", n_binds + 1));
        }
        if f.to.is_some() {
            let i = n_binds + 1 + usize::from(f.from.is_some());
            time_clauses.push_str(&format!(" AND at < ${i}"));
        }
        let where_ = format!("{}{time_clauses}", clauses.join(" AND "));
        let n_all = n_binds + usize::from(f.from.is_some()) + usize::from(f.to.is_some());
        let count_sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE {where_}");
        let list_sql = format!(
            "SELECT * FROM audit_log WHERE {where_} ORDER BY id DESC LIMIT ${} OFFSET ${}",
            n_all + 1,
            n_all + 2
        );
        let (items, total) = with_pool!(self, |p| {
            let mut q = sqlx::query(AssertSqlSafe(count_sql));
            for (k, v) in &binds {
                q = bind_value(q, *k, v);
            }
            if let Some(t) = f.from {
                q = q.bind(t);
            }
            if let Some(t) = f.to {
                q = q.bind(t);
            }
            let total: i64 = q.fetch_one(p).await?.try_get("n")?;
            let mut q = sqlx::query(AssertSqlSafe(list_sql));
            for (k, v) in &binds {
                q = bind_value(q, *k, v);
            }
            if let Some(t) = f.from {
                q = q.bind(t);
            }
            if let Some(t) = f.to {
                q = q.bind(t);
            }
            let rows = q.bind(f.limit).bind(f.offset).fetch_all(p).await?;
            let mut items = Vec::with_capacity(rows.len());
            for r in &rows {
                let detail: Option<sqlx::types::Json<serde_json::Value>> = r.try_get("detail")?;
                items.push(AuditRecord {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor_id: r.try_get("actor_id")?,
                    actor_name: r.try_get("actor_name")?,
                    action: r.try_get("action")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    detail: detail.map(|j| j.0).unwrap_or(serde_json::Value::Null),
                    ip: r.try_get("ip")?,
                });
            }
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

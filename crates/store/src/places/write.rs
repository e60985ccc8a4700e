//! Creating, changing, archiving and bulk-loading place records. Each write reads what it
//! checks inside its own transaction, under the write lock (or `FOR UPDATE`), and writes
//! its audit entry there too.

use super::{PlaceRecord, PlaceStore, find_in, nb_col, read_record, value_arg};
use crate::audit::{self, AuditEntry};
use crate::db::{Exec, Sql, Tx};
use crate::{Result, StoreError, WriteCtx};
use doorstep_domain::audit::AuditAction;
use doorstep_domain::policy::Place;
use doorstep_domain::{
    AccountId, Entity, FieldErrors, FieldKind, Role, SubdistrictId, Value, Values,
};
use std::collections::HashMap;

fn duplicate(entity: Entity) -> impl Fn(StoreError) -> StoreError {
    move |e| e.on_key(entity.unique_key())
}

/// Where a new record under its parent sits, checked on `db`: the parent must exist and
/// be in use.
async fn placement(db: &mut impl Exec, entity: Entity, values: &Values) -> Result<Place> {
    let fk = entity.parent().map(|(_, fk)| fk).unwrap_or("parent");
    let parent = match entity.parent() {
        None => None,
        Some((parent, fk)) => match values.get(fk).and_then(Value::as_i64) {
            Some(id) => find_in(db, parent, id).await?,
            None => None,
        },
    };
    match parent {
        Some(p) if !p.is_active() => Err(FieldErrors::single(fk, "parent_archived").into()),
        Some(p) => Ok(Place {
            subdistrict_id: p.subdistrict_id,
            neighbourhood_id: if entity.in_neighbourhood() {
                p.neighbourhood_id
            } else {
                None
            },
        }),
        None if entity == Entity::Subdistrict => Ok(Place {
            subdistrict_id: SubdistrictId(0),
            neighbourhood_id: None,
        }),
        None => Err(FieldErrors::single(fk, "invalid_reference").into()),
    }
}

/// Checks the references of `values` other than the parent, on `db`: each must exist, be
/// in use, and sit in the same neighbourhood (or subdistrict) as the record; an account
/// must be an active worker or secretary there.
async fn check_refs(
    db: &mut impl Exec,
    entity: Entity,
    values: &Values,
    place: Place,
    field_prefix: &str,
) -> Result<()> {
    let mut errors = FieldErrors::new();
    let parent_fk = entity.parent().map(|(_, fk)| fk);
    for spec in entity.fields() {
        let FieldKind::Ref(table) = spec.kind else {
            continue;
        };
        if Some(spec.name) == parent_fk {
            continue;
        }
        let Some(id) = values.get(spec.name).and_then(Value::as_i64) else {
            continue;
        };
        let same_place = |sd: SubdistrictId, nb| {
            sd == place.subdistrict_id
                && (place.neighbourhood_id.is_none() || nb == place.neighbourhood_id)
        };
        let ok = if table == "accounts" {
            match crate::accounts::find_in(db, AccountId(id)).await? {
                Some(a) => {
                    same_place(a.subdistrict_id, a.neighbourhood_id)
                        && matches!(a.role, Role::Worker | Role::Secretary)
                        && !a.disabled
                }
                None => false,
            }
        } else {
            match Entity::from_table(table) {
                Some(target) => match find_in(db, target, id).await? {
                    Some(r) => r.is_active() && same_place(r.subdistrict_id, r.neighbourhood_id),
                    None => false,
                },
                None => false,
            }
        };
        if !ok {
            errors.add(&format!("{field_prefix}{}", spec.name), "invalid_reference");
        }
    }
    errors.into_result(()).map_err(StoreError::from)
}

/// Inserts one record at `place` on `tx`; returns its id.
async fn insert(
    tx: &mut Tx,
    entity: Entity,
    values: &Values,
    place: Place,
    ctx: &WriteCtx,
) -> Result<i64> {
    let specs = entity.fields();
    let mut cols: Vec<&str> = specs.iter().map(|s| s.name).collect();
    let mut q = Sql::new(format!("INSERT INTO {} (", entity.table()));
    let extra_sd = entity != Entity::Subdistrict && !cols.contains(&"subdistrict_id");
    if extra_sd {
        cols.push("subdistrict_id");
    }
    let extra_nb = nb_col(entity) == Some("neighbourhood_id")
        && place.neighbourhood_id.is_some()
        && !cols.contains(&"neighbourhood_id");
    if extra_nb {
        cols.push("neighbourhood_id");
    }
    q.push(&cols.join(", "))
        .push(", is_demo, version, created_at, updated_at) VALUES ");
    q.push_tuples([()], |t, ()| {
        for s in specs {
            t.bind(value_arg(
                s.kind,
                values.get(s.name).unwrap_or(&Value::Null),
            ));
        }
        if extra_sd {
            t.bind(place.subdistrict_id);
        }
        if extra_nb {
            t.bind(place.neighbourhood_id);
        }
        t.bind(ctx.demo).raw("1").bind(ctx.at).bind(ctx.at);
    });
    q.push(" RETURNING id");
    q.scalar(tx).await.map_err(duplicate(entity))
}

impl PlaceStore<'_> {
    /// Creates a record from validated values. The parent must exist and not be archived.
    pub async fn create(
        self,
        entity: Entity,
        values: &Values,
        ctx: &WriteCtx,
    ) -> Result<PlaceRecord> {
        let mut tx = self.0.begin().await?;
        let place = placement(&mut tx, entity, values).await?;
        check_refs(&mut tx, entity, values, place, "").await?;
        let id = insert(&mut tx, entity, values, place, ctx).await?;
        let record = find_in(&mut tx, entity, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let detail = serde_json::to_value(values).unwrap_or_default();
        let entry = AuditEntry::write(AuditAction::Create, entity, id, detail);
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Changes a record. `change` sees the current record (read under the write lock) and
    /// returns the new values; `expected_version`, when given, must match the stored one.
    /// When the values do not change, nothing is written and the version stays.
    pub async fn update<F>(
        self,
        entity: Entity,
        id: i64,
        expected_version: Option<i64>,
        ctx: &WriteCtx,
        change: F,
    ) -> Result<PlaceRecord>
    where
        F: FnOnce(&PlaceRecord) -> Result<Values>,
    {
        let mut tx = self.0.begin().await?;
        let current = locked(&mut tx, entity, id, expected_version).await?;
        let new_values = change(&current)?;
        check_refs(&mut tx, entity, &new_values, current.place(), "").await?;
        let specs: Vec<_> = entity.fields().iter().filter(|s| s.editable).collect();
        let changes: serde_json::Map<String, serde_json::Value> = specs
            .iter()
            .filter_map(|s| {
                let old = current.get(s.name);
                let new = new_values.get(s.name).unwrap_or(&Value::Null);
                (old != new).then(|| (s.name.to_string(), serde_json::json!([old, new])))
            })
            .collect();
        // Nothing changes: nothing is written, and the version stays (a client that sent
        // back what it read has not made a new version).
        if changes.is_empty() {
            tx.commit().await?;
            return Ok(current);
        }
        let mut q = Sql::new(format!("UPDATE {} SET ", entity.table()));
        for s in &specs {
            let v = new_values.get(s.name).unwrap_or(&Value::Null);
            q.push(s.name)
                .push(" = ")
                .push_bind(value_arg(s.kind, v))
                .push(", ");
        }
        q.push("version = version + 1, updated_at = ")
            .push_bind(ctx.at)
            .push(" WHERE id = ")
            .push_bind(id)
            .push(" AND version = ")
            .push_bind(current.version);
        if q.execute(&mut tx).await.map_err(duplicate(entity))? != 1 {
            return Err(StoreError::VersionConflict {
                current: current.version,
            });
        }
        let entry = AuditEntry::write(AuditAction::Update, entity, id, changes.into());
        audit::insert(&mut tx, ctx, entry).await?;
        let record = find_in(&mut tx, entity, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Archives (or restores) a record. A record with active children cannot be archived.
    pub async fn archive(
        self,
        entity: Entity,
        id: i64,
        expected_version: Option<i64>,
        archive: bool,
        ctx: &WriteCtx,
    ) -> Result<PlaceRecord> {
        let mut tx = self.0.begin().await?;
        locked(&mut tx, entity, id, expected_version).await?;
        if archive && has_active_children(&mut tx, entity, id).await? {
            return Err(StoreError::InUse);
        }
        let mut q = Sql::new(format!("UPDATE {} SET archived_at = ", entity.table()));
        q.push_bind(archive.then_some(ctx.at))
            .push(", version = version + 1, updated_at = ")
            .push_bind(ctx.at)
            .push(" WHERE id = ")
            .push_bind(id);
        q.execute(&mut tx).await?;
        let action = if archive {
            AuditAction::Archive
        } else {
            AuditAction::Restore
        };
        let entry = AuditEntry::write(action, entity, id, serde_json::Value::Null);
        audit::insert(&mut tx, ctx, entry).await?;
        let record = find_in(&mut tx, entity, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(record)
    }

    /// Creates many records of one kind in one transaction (imports, the demo): all or
    /// nothing. Each row's parent and references are checked inside the transaction (an
    /// error names the row: `3.estate_id`); the audit log gets one entry for the batch.
    pub async fn create_many(
        self,
        entity: Entity,
        rows: &[Values],
        ctx: &WriteCtx,
    ) -> Result<Vec<i64>> {
        let (_, fk) = entity.parent().ok_or(StoreError::Conflict("no_parent"))?;
        let mut tx = self.0.begin().await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut places: HashMap<i64, Place> = HashMap::new();
        for (i, values) in rows.iter().enumerate() {
            let row_error =
                |code| StoreError::from(FieldErrors::single(&format!("{i}.{fk}"), code));
            let pid = values
                .get(fk)
                .and_then(Value::as_i64)
                .ok_or_else(|| row_error("required"))?;
            let place = match places.get(&pid) {
                Some(p) => *p,
                None => {
                    let p = placement(&mut tx, entity, values)
                        .await
                        .map_err(|e| match e {
                            StoreError::Validation(f) => row_error(f.0[0].code),
                            other => other,
                        })?;
                    places.insert(pid, p);
                    p
                }
            };
            check_refs(&mut tx, entity, values, place, &format!("{i}.")).await?;
            ids.push(insert(&mut tx, entity, values, place, ctx).await?);
        }
        let detail = serde_json::json!({"entity": entity.code(), "rows": ids.len()});
        audit::insert(&mut tx, ctx, AuditEntry::event(AuditAction::Import, detail)).await?;
        tx.commit().await?;
        Ok(ids)
    }
}

/// The record, locked for the transaction, at `expected_version` if one is given.
async fn locked(
    tx: &mut Tx,
    entity: Entity,
    id: i64,
    expected_version: Option<i64>,
) -> Result<PlaceRecord> {
    let mut q = Sql::new(format!("SELECT * FROM {} WHERE id = ", entity.table()));
    q.push_bind(id).push(tx.for_update());
    let row = q.fetch_optional(tx).await?.ok_or(StoreError::NotFound)?;
    let current = read_record(&row, entity)?;
    if let Some(v) = expected_version
        && v != current.version
    {
        return Err(StoreError::VersionConflict {
            current: current.version,
        });
    }
    Ok(current)
}

/// Whether any active record of another kind points at this one.
async fn has_active_children(tx: &mut Tx, entity: Entity, id: i64) -> Result<bool> {
    for &child in Entity::ALL {
        for f in child.fields() {
            if f.kind != FieldKind::Ref(entity.table()) {
                continue;
            }
            let mut q = Sql::new(format!(
                "SELECT COUNT(*) FROM {} WHERE {} = ",
                child.table(),
                f.name
            ));
            q.push_bind(id).push(" AND archived_at IS NULL");
            if q.scalar::<i64>(tx).await? > 0 {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

//! Places: one generic store for the eight kinds of place records, driven by the field
//! descriptions in `doorstep_domain::places`.

use crate::audit::{AuditEntry, insert_audit};
use crate::sql::{bind_value, like_pattern, placeholders, read_values};
use crate::{Result, Store, StoreError, WriteCtx, with_pool, with_tx};
use chrono::{DateTime, Utc};
use doorstep_domain::policy::Place;
use doorstep_domain::{Entity, FieldErrors, FieldKind, Scope, Value, Values};
use serde::Serialize;
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Row, Type};
use std::collections::HashMap;

/// One place record with its bookkeeping.
#[derive(Debug, Clone, Serialize)]
pub struct PlaceRecord {
    #[serde(skip)]
    pub entity: Entity,
    pub id: i64,
    pub subdistrict_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbourhood_id: Option<i64>,
    #[serde(flatten)]
    pub values: Values,
    pub is_demo: bool,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PlaceRecord {
    pub fn place(&self) -> Place {
        Place {
            subdistrict_id: self.subdistrict_id,
            neighbourhood_id: self.neighbourhood_id,
        }
    }
    pub fn title(&self) -> String {
        self.get(self.entity.title_field()).to_form_string()
    }
    pub fn get(&self, field: &str) -> &Value {
        self.values.get(field).unwrap_or(&Value::Null)
    }
}

/// A page of results and the total that matched.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// What to list.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub scope: Scope,
    /// Equality filters on fields (or `neighbourhood_id`).
    pub filters: Vec<(String, Value)>,
    /// Matches the title field, case-insensitively.
    pub q: Option<String>,
    pub include_archived: bool,
    pub limit: i64,
    pub offset: i64,
}

impl ListQuery {
    pub fn new(scope: Scope) -> Self {
        Self {
            scope,
            filters: Vec::new(),
            q: None,
            include_archived: false,
            limit: 50,
            offset: 0,
        }
    }
    pub fn filter(mut self, field: &str, v: Value) -> Self {
        self.filters.push((field.to_string(), v));
        self
    }
    pub fn all(mut self) -> Self {
        self.limit = i64::MAX / 2;
        self
    }
}

/// Figures over the places in a scope.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlaceTotals {
    pub communities: i64,
    pub neighbourhoods: i64,
    pub estates: i64,
    pub buildings: i64,
    pub households: i64,
    pub blocks: i64,
    pub stations: i64,
    pub rooms: i64,
    pub partners: i64,
    pub office_m2: f64,
    pub service_m2: f64,
}

/// Office area against service area of one station (办公空间最小化、服务空间最大化).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoomAreas {
    pub station_id: i64,
    pub rooms: i64,
    pub office_m2: f64,
    pub service_m2: f64,
}

fn sub_col(e: Entity) -> &'static str {
    if e == Entity::Subdistrict {
        "id"
    } else {
        "subdistrict_id"
    }
}

fn nb_col(e: Entity) -> Option<&'static str> {
    match e {
        Entity::Neighbourhood => Some("id"),
        e if e.in_neighbourhood() => Some("neighbourhood_id"),
        _ => None,
    }
}

fn read_record<'r, R>(row: &'r R, entity: Entity) -> Result<PlaceRecord, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    f64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DateTime<Utc>: Decode<'r, R::Database> + Type<R::Database>,
{
    let id: i64 = row.try_get("id")?;
    Ok(PlaceRecord {
        entity,
        id,
        subdistrict_id: row.try_get(sub_col(entity))?,
        neighbourhood_id: match nb_col(entity) {
            Some(c) => Some(row.try_get(c)?),
            None => None,
        },
        values: read_values(row, entity.fields())?,
        is_demo: row.try_get("is_demo")?,
        version: row.try_get("version")?,
        archived_at: row.try_get("archived_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Binds for a WHERE clause: the kind decides the SQL type.
type Binds = Vec<(FieldKind, Value)>;

fn scope_clause(entity: Entity, scope: Scope, binds: &mut Binds) -> String {
    let int = FieldKind::Int { min: 0, max: 0 };
    match (scope, nb_col(entity)) {
        (
            Scope::Neighbourhood {
                subdistrict_id,
                neighbourhood_id,
            },
            Some(nb),
        ) => {
            binds.push((int, Value::Int(subdistrict_id)));
            binds.push((int, Value::Int(neighbourhood_id)));
            format!(
                "{} = ${} AND {nb} = ${}",
                sub_col(entity),
                binds.len() - 1,
                binds.len()
            )
        }
        (Scope::Subdistrict(sd), _)
        | (
            Scope::Neighbourhood {
                subdistrict_id: sd, ..
            },
            None,
        ) => {
            binds.push((int, Value::Int(sd)));
            format!("{} = ${}", sub_col(entity), binds.len())
        }
    }
}

fn duplicate(entity: Entity) -> StoreError {
    StoreError::Duplicate(entity.unique_key().iter().map(|s| s.to_string()).collect())
}

fn map_write_err(entity: Entity) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match StoreError::from(e) {
        StoreError::Duplicate(_) => duplicate(entity),
        other => other,
    }
}

impl Store {
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend() {
            crate::Backend::Sqlite => "",
            crate::Backend::Postgres => " FOR UPDATE",
        }
    }

    /// The record, archived or not.
    pub async fn get_place(&self, entity: Entity, id: i64) -> Result<PlaceRecord> {
        self.find_place(entity, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn find_place(&self, entity: Entity, id: i64) -> Result<Option<PlaceRecord>> {
        let sql = format!("SELECT * FROM {} WHERE id = $1", entity.table());
        Ok(with_pool!(self, |p| {
            match sqlx::query(AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(p)
                .await?
            {
                Some(row) => Some(read_record(&row, entity)?),
                None => None,
            }
        }))
    }

    pub async fn list_places(
        &self,
        entity: Entity,
        query: &ListQuery,
    ) -> Result<Page<PlaceRecord>> {
        let mut binds = Binds::new();
        let mut clauses = vec![scope_clause(entity, query.scope, &mut binds)];
        for (field, v) in &query.filters {
            let kind = match entity.field(field) {
                Some(spec) => spec.kind,
                None if Some(field.as_str()) == nb_col(entity) => FieldKind::Ref("neighbourhoods"),
                None => return Err(FieldErrors::single(field, "unknown_field").into()),
            };
            if v.is_null() {
                clauses.push(format!("{field} IS NULL"));
            } else {
                binds.push((kind, v.clone()));
                clauses.push(format!("{field} = ${}", binds.len()));
            }
        }
        if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
            binds.push((
                FieldKind::Text {
                    max: 0,
                    multiline: false,
                },
                Value::Text(like_pattern(&q.trim().to_lowercase())),
            ));
            clauses.push(format!(
                "LOWER({}) LIKE ${} ESCAPE '\\'",
                entity.title_field(),
                binds.len()
            ));
        }
        if !query.include_archived {
            clauses.push("archived_at IS NULL".into());
        }
        let where_ = clauses.join(" AND ");
        let count_sql = format!(
            "SELECT COUNT(*) AS n FROM {} WHERE {where_}",
            entity.table()
        );
        let list_sql = format!(
            "SELECT * FROM {} WHERE {where_} ORDER BY id LIMIT ${} OFFSET ${}",
            entity.table(),
            binds.len() + 1,
            binds.len() + 2
        );
        let (items, total) = with_pool!(self, |p| {
            let mut q = sqlx::query(AssertSqlSafe(count_sql));
            for (k, v) in &binds {
                q = bind_value(q, *k, v);
            }
            let total: i64 = q.fetch_one(p).await?.try_get("n")?;
            let mut q = sqlx::query(AssertSqlSafe(list_sql));
            for (k, v) in &binds {
                q = bind_value(q, *k, v);
            }
            let rows = q.bind(query.limit).bind(query.offset).fetch_all(p).await?;
            let items = rows
                .iter()
                .map(|r| read_record(r, entity))
                .collect::<Result<Vec<_>, _>>()?;
            (items, total)
        });
        Ok(Page {
            items,
            total,
            limit: query.limit,
            offset: query.offset,
        })
    }

    /// Where a new record under `parent_id` would sit (for scope checks before creating).
    pub async fn parent_place(
        &self,
        entity: Entity,
        values: &Values,
    ) -> Result<Option<PlaceRecord>> {
        let Some((parent, fk)) = entity.parent() else {
            return Ok(None);
        };
        let Some(id) = values.get(fk).and_then(Value::as_i64) else {
            return Ok(None);
        };
        self.find_place(parent, id).await
    }

    /// Checks the references of `values` other than the parent: each must exist, be in
    /// use, and sit in the same neighbourhood (or subdistrict) as the record.
    async fn check_refs(&self, entity: Entity, values: &Values, place: Place) -> Result<()> {
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
            let ok = if table == "accounts" {
                match self.find_account(id).await? {
                    Some(a) => {
                        a.subdistrict_id == place.subdistrict_id
                            && (place.neighbourhood_id.is_none()
                                || a.neighbourhood_id == place.neighbourhood_id)
                            && matches!(
                                a.role,
                                doorstep_domain::Role::Worker | doorstep_domain::Role::Secretary
                            )
                            && !a.disabled
                    }
                    None => false,
                }
            } else {
                match Entity::from_table(table) {
                    Some(target) => match self.find_place(target, id).await? {
                        Some(r) => {
                            r.archived_at.is_none()
                                && r.subdistrict_id == place.subdistrict_id
                                && (place.neighbourhood_id.is_none()
                                    || r.neighbourhood_id == place.neighbourhood_id)
                        }
                        None => false,
                    },
                    None => false,
                }
            };
            if !ok {
                errors.add(spec.name, "invalid_reference");
            }
        }
        errors.into_result(()).map_err(StoreError::from)
    }

    /// Creates a record from validated values. The parent must exist and not be archived.
    pub async fn create_place(
        &self,
        entity: Entity,
        values: &Values,
        ctx: &WriteCtx,
    ) -> Result<PlaceRecord> {
        let place = match self.parent_place(entity, values).await? {
            Some(parent) if parent.archived_at.is_some() => {
                let fk = entity.parent().map(|(_, fk)| fk).unwrap_or("parent");
                return Err(FieldErrors::single(fk, "parent_archived").into());
            }
            Some(parent) => Place {
                subdistrict_id: parent.subdistrict_id,
                neighbourhood_id: if entity.in_neighbourhood() {
                    parent.neighbourhood_id
                } else {
                    None
                },
            },
            None if entity == Entity::Subdistrict => Place {
                subdistrict_id: 0,
                neighbourhood_id: None,
            },
            None => {
                let fk = entity.parent().map(|(_, fk)| fk).unwrap_or("parent");
                return Err(FieldErrors::single(fk, "invalid_reference").into());
            }
        };
        self.check_refs(entity, values, place).await?;

        let specs = entity.fields();
        let mut cols: Vec<&str> = specs.iter().map(|s| s.name).collect();
        let mut binds: Binds = specs
            .iter()
            .map(|s| (s.kind, values.get(s.name).cloned().unwrap_or(Value::Null)))
            .collect();
        let int = FieldKind::Int { min: 0, max: 0 };
        if entity != Entity::Subdistrict && !cols.contains(&"subdistrict_id") {
            cols.push("subdistrict_id");
            binds.push((int, Value::Int(place.subdistrict_id)));
        }
        if let (Some("neighbourhood_id"), Some(nb)) = (nb_col(entity), place.neighbourhood_id)
            && !cols.contains(&"neighbourhood_id")
        {
            cols.push("neighbourhood_id");
            binds.push((int, Value::Int(nb)));
        }
        let n = binds.len();
        let sql = format!(
            "INSERT INTO {} ({}, is_demo, version, created_at, updated_at) \
             VALUES ({}, ${}, 1, ${}, ${}) RETURNING id",
            entity.table(),
            cols.join(", "),
            placeholders(1, n),
            n + 1,
            n + 2,
            n + 3
        );
        let select = format!("SELECT * FROM {} WHERE id = $1", entity.table());
        let detail = serde_json::to_value(values).unwrap_or_default();
        let record = with_tx!(self, |tx| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (k, v) in &binds {
                q = bind_value(q, *k, v);
            }
            let row = q
                .bind(ctx.demo)
                .bind(ctx.at)
                .bind(ctx.at)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_write_err(entity))?;
            let id: i64 = row.try_get("id")?;
            let row = sqlx::query(AssertSqlSafe(select))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let record = read_record(&row, entity)?;
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write("create", entity.name(), id, detail)
            );
            record
        });
        Ok(record)
    }

    /// Changes a record. `change` sees the current record (read under the write lock) and
    /// returns the new values; `expected_version`, when given, must match the stored one.
    pub async fn update_place<F>(
        &self,
        entity: Entity,
        id: i64,
        expected_version: Option<i64>,
        ctx: &WriteCtx,
        change: F,
    ) -> Result<PlaceRecord>
    where
        F: FnOnce(&PlaceRecord) -> Result<Values>,
    {
        // References are checked against a snapshot first: they are other rows, whose
        // scope never changes.
        let snapshot = self.get_place(entity, id).await?;
        let select = format!(
            "SELECT * FROM {} WHERE id = $1{}",
            entity.table(),
            self.for_update()
        );
        let specs: Vec<_> = entity.fields().iter().filter(|s| s.editable).collect();
        let sets: Vec<String> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{} = ${}", s.name, i + 1))
            .collect();
        let n = specs.len();
        let update = format!(
            "UPDATE {} SET {}, version = version + 1, updated_at = ${} WHERE id = ${} AND version = ${}",
            entity.table(),
            sets.join(", "),
            n + 1,
            n + 2,
            n + 3
        );
        let reselect = format!("SELECT * FROM {} WHERE id = $1", entity.table());
        let record = with_tx!(self, |tx| {
            let row = sqlx::query(AssertSqlSafe(select.clone()))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let current = read_record(&row, entity)?;
            if let Some(v) = expected_version
                && v != current.version
            {
                return Err(StoreError::VersionConflict {
                    current: current.version,
                });
            }
            let new_values = change(&current)?;
            self.check_refs(entity, &new_values, snapshot.place())
                .await?;
            let mut q = sqlx::query(AssertSqlSafe(update.clone()));
            for s in &specs {
                q = bind_value(q, s.kind, new_values.get(s.name).unwrap_or(&Value::Null));
            }
            let done = q
                .bind(ctx.at)
                .bind(id)
                .bind(current.version)
                .execute(&mut *tx)
                .await
                .map_err(map_write_err(entity))?;
            if done.rows_affected() != 1 {
                return Err(StoreError::VersionConflict {
                    current: current.version,
                });
            }
            let changes: serde_json::Map<String, serde_json::Value> = specs
                .iter()
                .filter_map(|s| {
                    let old = current.get(s.name);
                    let new = new_values.get(s.name).unwrap_or(&Value::Null);
                    (old != new).then(|| (s.name.to_string(), serde_json::json!([old, new])))
                })
                .collect();
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write(
                    "update",
                    entity.name(),
                    id,
                    serde_json::Value::Object(changes)
                )
            );
            let row = sqlx::query(AssertSqlSafe(reselect))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            read_record(&row, entity)?
        });
        Ok(record)
    }

    /// Archives (or restores) a record. A record with active children cannot be archived.
    pub async fn archive_place(
        &self,
        entity: Entity,
        id: i64,
        expected_version: Option<i64>,
        archive: bool,
        ctx: &WriteCtx,
    ) -> Result<PlaceRecord> {
        let select = format!(
            "SELECT * FROM {} WHERE id = $1{}",
            entity.table(),
            self.for_update()
        );
        let children: Vec<String> = Entity::ALL
            .iter()
            .flat_map(|child| {
                child
                    .fields()
                    .iter()
                    .filter(move |f| f.kind == FieldKind::Ref(entity.table()))
                    .map(move |f| {
                        format!(
                            "SELECT COUNT(*) AS n FROM {} WHERE {} = $1 AND archived_at IS NULL",
                            child.table(),
                            f.name
                        )
                    })
            })
            .collect();
        let update = format!(
            "UPDATE {} SET archived_at = $1, version = version + 1, updated_at = $2 WHERE id = $3",
            entity.table()
        );
        let reselect = format!("SELECT * FROM {} WHERE id = $1", entity.table());
        let record = with_tx!(self, |tx| {
            let row = sqlx::query(AssertSqlSafe(select))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let current = read_record(&row, entity)?;
            if let Some(v) = expected_version
                && v != current.version
            {
                return Err(StoreError::VersionConflict {
                    current: current.version,
                });
            }
            if archive {
                for sql in &children {
                    let n: i64 = sqlx::query(AssertSqlSafe(sql.clone()))
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("n")?;
                    if n > 0 {
                        return Err(StoreError::InUse);
                    }
                }
            }
            sqlx::query(AssertSqlSafe(update))
                .bind(if archive { Some(ctx.at) } else { None })
                .bind(ctx.at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let action = if archive { "archive" } else { "restore" };
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::write(action, entity.name(), id, serde_json::Value::Null)
            );
            let row = sqlx::query(AssertSqlSafe(reselect))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            read_record(&row, entity)?
        });
        Ok(record)
    }

    /// Titles of records by id (for showing references by name).
    pub async fn titles(&self, table: &str, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let title = match table {
            "accounts" => "display_name",
            t => match Entity::from_table(t) {
                Some(e) => e.title_field(),
                None => return Ok(HashMap::new()),
            },
        };
        let mut ids: Vec<i64> = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, {title} AS title FROM {table} WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows: Vec<(i64, String)> = with_pool!(self, |p| {
                let mut q = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(p).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Counts and areas over the active places in a scope.
    pub async fn place_totals(&self, scope: Scope) -> Result<PlaceTotals> {
        let mut t = PlaceTotals::default();
        let subdistrict_wide = matches!(scope, Scope::Subdistrict(_));
        for entity in [
            Entity::Community,
            Entity::Neighbourhood,
            Entity::Estate,
            Entity::Building,
            Entity::Block,
            Entity::Station,
            Entity::Room,
            Entity::Partner,
        ] {
            let mut binds = Binds::new();
            let clause = scope_clause(entity, scope, &mut binds);
            let extra = match entity {
                Entity::Building => ", CAST(COALESCE(SUM(households), 0) AS BIGINT) AS a",
                Entity::Room => {
                    ", COALESCE(SUM(CASE WHEN is_office THEN area_m2 ELSE 0.0 END), 0.0) AS b, \
                     COALESCE(SUM(CASE WHEN is_office THEN 0.0 ELSE area_m2 END), 0.0) AS c"
                }
                _ => "",
            };
            let sql = format!(
                "SELECT COUNT(*) AS n{extra} FROM {} WHERE {clause} AND archived_at IS NULL",
                entity.table()
            );
            let (n, a, b, c) = with_pool!(self, |p| {
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (k, v) in &binds {
                    q = bind_value(q, *k, v);
                }
                let row = q.fetch_one(p).await?;
                let n: i64 = row.try_get("n")?;
                let a: i64 = if entity == Entity::Building {
                    row.try_get("a")?
                } else {
                    0
                };
                let (b, c): (f64, f64) = if entity == Entity::Room {
                    (row.try_get("b")?, row.try_get("c")?)
                } else {
                    (0.0, 0.0)
                };
                (n, a, b, c)
            });
            match entity {
                // Communities sit above neighbourhoods: counted for a whole subdistrict only.
                Entity::Community if subdistrict_wide => t.communities = n,
                Entity::Community => {}
                Entity::Neighbourhood => t.neighbourhoods = n,
                Entity::Estate => t.estates = n,
                Entity::Building => {
                    t.buildings = n;
                    t.households = a;
                }
                Entity::Block => t.blocks = n,
                Entity::Station => t.stations = n,
                Entity::Room => {
                    t.rooms = n;
                    t.office_m2 = b;
                    t.service_m2 = c;
                }
                Entity::Partner if subdistrict_wide => t.partners = n,
                Entity::Partner | Entity::Subdistrict | Entity::ServiceItem => {}
            }
        }
        Ok(t)
    }

    /// Office and service area of every active station in a scope.
    pub async fn room_areas(&self, scope: Scope) -> Result<Vec<RoomAreas>> {
        let mut binds = Binds::new();
        let clause = scope_clause(Entity::Room, scope, &mut binds);
        let sql = format!(
            "SELECT station_id, COUNT(*) AS n, \
             COALESCE(SUM(CASE WHEN is_office THEN area_m2 ELSE 0.0 END), 0.0) AS office, \
             COALESCE(SUM(CASE WHEN is_office THEN 0.0 ELSE area_m2 END), 0.0) AS service \
             FROM rooms WHERE {clause} AND archived_at IS NULL GROUP BY station_id ORDER BY station_id"
        );
        Ok(with_pool!(self, |p| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (k, v) in &binds {
                q = bind_value(q, *k, v);
            }
            let rows = q.fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(RoomAreas {
                        station_id: r.try_get("station_id")?,
                        rooms: r.try_get("n")?,
                        office_m2: r.try_get("office")?,
                        service_m2: r.try_get("service")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }))
    }
}

impl Store {
    /// Creates many records of one kind in one transaction (imports, the demo): all or
    /// nothing. Each row's parent and references are checked inside the transaction; the
    /// audit log gets one entry for the batch.
    pub async fn create_places(
        &self,
        entity: Entity,
        rows: &[Values],
        ctx: &WriteCtx,
    ) -> Result<Vec<i64>> {
        let specs = entity.fields();
        let (parent, fk) = entity.parent().ok_or(StoreError::Conflict("no_parent"))?;
        let mut cols: Vec<&str> = specs.iter().map(|s| s.name).collect();
        let extra_sd = !cols.contains(&"subdistrict_id");
        if extra_sd {
            cols.push("subdistrict_id");
        }
        let extra_nb = entity.in_neighbourhood() && !cols.contains(&"neighbourhood_id");
        if extra_nb {
            cols.push("neighbourhood_id");
        }
        let n = cols.len();
        let insert = format!(
            "INSERT INTO {} ({}, is_demo, version, created_at, updated_at) VALUES ({}, ${}, 1, ${}, ${}) RETURNING id",
            entity.table(),
            cols.join(", "),
            placeholders(1, n),
            n + 1,
            n + 2,
            n + 3
        );
        let parent_sql = format!("SELECT * FROM {} WHERE id = $1", parent.table());
        // Other references to places must sit in the same neighbourhood.
        let ref_checks: Vec<(&'static str, Entity)> = specs
            .iter()
            .filter(|s| s.name != fk)
            .filter_map(|s| match s.kind {
                FieldKind::Ref(t) => Entity::from_table(t).map(|e| (s.name, e)),
                _ => None,
            })
            .collect();
        let int = FieldKind::Int { min: 0, max: 0 };
        let ids = with_tx!(self, |tx| {
            let mut ids = Vec::with_capacity(rows.len());
            let mut parents: HashMap<i64, Place> = HashMap::new();
            for (i, values) in rows.iter().enumerate() {
                let pid = values.get(fk).and_then(Value::as_i64).ok_or_else(|| {
                    StoreError::Validation(FieldErrors::single(&format!("{i}.{fk}"), "required"))
                })?;
                let place = match parents.get(&pid) {
                    Some(p) => *p,
                    None => {
                        let row = sqlx::query(AssertSqlSafe(parent_sql.clone()))
                            .bind(pid)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| {
                                StoreError::Validation(FieldErrors::single(
                                    &format!("{i}.{fk}"),
                                    "invalid_reference",
                                ))
                            })?;
                        let pr = read_record(&row, parent)?;
                        let p = Place {
                            subdistrict_id: pr.subdistrict_id,
                            neighbourhood_id: if entity.in_neighbourhood() {
                                pr.neighbourhood_id
                            } else {
                                None
                            },
                        };
                        parents.insert(pid, p);
                        p
                    }
                };
                for (field, target) in &ref_checks {
                    if let Some(id) = values.get(field).and_then(Value::as_i64) {
                        let sql = format!("SELECT * FROM {} WHERE id = $1", target.table());
                        let ok = match sqlx::query(AssertSqlSafe(sql))
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?
                        {
                            Some(row) => {
                                read_record(&row, *target)?.neighbourhood_id
                                    == place.neighbourhood_id
                            }
                            None => false,
                        };
                        if !ok {
                            return Err(StoreError::Validation(FieldErrors::single(
                                &format!("{i}.{field}"),
                                "invalid_reference",
                            )));
                        }
                    }
                }
                let mut q = sqlx::query(AssertSqlSafe(insert.clone()));
                for s in specs {
                    q = bind_value(q, s.kind, values.get(s.name).unwrap_or(&Value::Null));
                }
                if extra_sd {
                    q = bind_value(q, int, &Value::Int(place.subdistrict_id));
                }
                if extra_nb {
                    q = bind_value(
                        q,
                        int,
                        &place
                            .neighbourhood_id
                            .map(Value::Int)
                            .unwrap_or(Value::Null),
                    );
                }
                let row = q
                    .bind(ctx.demo)
                    .bind(ctx.at)
                    .bind(ctx.at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_write_err(entity))?;
                ids.push(row.try_get::<i64, _>("id")?);
            }
            insert_audit!(
                &mut *tx,
                ctx,
                AuditEntry::event(
                    "import",
                    serde_json::json!({"entity": entity.name(), "rows": ids.len()})
                )
            );
            ids
        });
        Ok(ids)
    }
}

impl Store {
    /// Changes whenever the catalogue changes (for rebuilding search indexes).
    pub async fn catalogue_fingerprint(&self, subdistrict_id: i64) -> Result<String> {
        self.version_fingerprint(&["service_items"], subdistrict_id)
            .await
    }
}

//! Places: one generic store for the kinds of place records (and partner units and
//! catalogue items), driven by the field descriptions in `doorstep_domain::places`.

mod totals;
mod write;

pub use totals::{PlaceTotals, RoomAreas};

use crate::db::{Arg, DbRow, Exec, Page, Sql, like_pattern, page};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use doorstep_domain::policy::Place;
use doorstep_domain::{
    BuildingId, Entity, FieldErrors, FieldKind, FieldSpec, NeighbourhoodId, Scope, SubdistrictId,
    Value, Values,
};
use serde::Serialize;
use std::collections::HashMap;

/// One place record with its bookkeeping.
#[derive(Debug, Clone, Serialize)]
pub struct PlaceRecord {
    #[serde(skip)]
    pub entity: Entity,
    pub id: i64,
    pub subdistrict_id: SubdistrictId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbourhood_id: Option<NeighbourhoodId>,
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
    pub fn is_active(&self) -> bool {
        self.archived_at.is_none()
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub struct ListQuery {
    pub scope: Scope,
    /// Equality filters on fields (or `neighbourhood_id`).
    pub filters: Vec<(&'static str, Value)>,
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
    pub fn filter(mut self, field: &'static str, v: Value) -> Self {
        self.filters.push((field, v));
        self
    }
    pub fn all(mut self) -> Self {
        self.limit = i64::MAX / 2;
        self
    }
}

pub(crate) fn sub_col(e: Entity) -> &'static str {
    if e == Entity::Subdistrict {
        "id"
    } else {
        "subdistrict_id"
    }
}

pub(crate) fn nb_col(e: Entity) -> Option<&'static str> {
    match e {
        Entity::Neighbourhood => Some("id"),
        e if e.in_neighbourhood() => Some("neighbourhood_id"),
        _ => None,
    }
}

/// A field value as the argument its kind binds as (a NULL keeps its type).
pub(crate) fn value_arg(kind: FieldKind, v: &Value) -> Arg {
    match kind {
        FieldKind::Int { .. } | FieldKind::Ref(_) => Arg::Int(v.as_i64()),
        FieldKind::Float { .. } => Arg::Float(v.as_f64()),
        FieldKind::Bool => Arg::Bool(match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        }),
        FieldKind::Text { .. } | FieldKind::Choice(_) | FieldKind::Phone => {
            Arg::Text(v.as_str().map(str::to_string))
        }
    }
}

/// Reads the fields of `specs` from a row by column name.
pub(crate) fn read_values(row: &DbRow, specs: &[FieldSpec]) -> Result<Values> {
    let mut out = Values::new();
    for spec in specs {
        let name = spec.name;
        let v = match spec.kind {
            FieldKind::Int { .. } | FieldKind::Ref(_) => {
                row.get::<Option<i64>>(name)?.map(Value::Int)
            }
            FieldKind::Float { .. } => row.get::<Option<f64>>(name)?.map(Value::Float),
            FieldKind::Bool => Some(Value::Bool(row.get::<Option<bool>>(name)?.unwrap_or(false))),
            FieldKind::Text { .. } | FieldKind::Choice(_) | FieldKind::Phone => {
                row.get::<Option<String>>(name)?.map(Value::Text)
            }
        };
        out.insert(name, v.unwrap_or(Value::Null));
    }
    Ok(out)
}

pub(crate) fn read_record(row: &DbRow, entity: Entity) -> Result<PlaceRecord> {
    Ok(PlaceRecord {
        entity,
        id: row.get("id")?,
        subdistrict_id: row.id(sub_col(entity))?,
        neighbourhood_id: match nb_col(entity) {
            Some(c) => Some(row.id(c)?),
            None => None,
        },
        values: read_values(row, entity.fields())?,
        is_demo: row.get("is_demo")?,
        version: row.get("version")?,
        archived_at: row.get("archived_at")?,
        created_at: row.get("created_at")?,
        updated_at: row.get("updated_at")?,
    })
}

/// Appends the scope's condition (`subdistrict_id = … [AND neighbourhood = …]`).
pub(crate) fn push_scope(q: &mut Sql, entity: Entity, scope: Scope) {
    q.push(sub_col(entity))
        .push(" = ")
        .push_bind(scope.subdistrict_id());
    if let (Some(nb), Some(col)) = (scope.neighbourhood_id(), nb_col(entity)) {
        q.push(" AND ").push(col).push(" = ").push_bind(nb);
    }
}

/// A record by id, read on `db` (the pool, or a transaction in progress).
pub(crate) async fn find_in(
    db: &mut impl Exec,
    entity: Entity,
    id: i64,
) -> Result<Option<PlaceRecord>> {
    let mut q = Sql::new("SELECT * FROM ");
    q.push(entity.table()).push(" WHERE id = ").push_bind(id);
    match q.fetch_optional(db).await? {
        Some(row) => Ok(Some(read_record(&row, entity)?)),
        None => Ok(None),
    }
}

/// The place records.
#[derive(Debug, Clone, Copy)]
pub struct PlaceStore<'a>(pub(crate) &'a Store);

impl PlaceStore<'_> {
    /// The record, archived or not.
    pub async fn get(self, entity: Entity, id: i64) -> Result<PlaceRecord> {
        self.find(entity, id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn find(self, entity: Entity, id: i64) -> Result<Option<PlaceRecord>> {
        find_in(&mut self.0.db(), entity, id).await
    }

    pub async fn list(self, entity: Entity, query: &ListQuery) -> Result<Page<PlaceRecord>> {
        let mut conditions = Sql::new(" WHERE ");
        push_scope(&mut conditions, entity, query.scope);
        for (field, v) in &query.filters {
            let kind = match entity.field(field) {
                Some(spec) => spec.kind,
                None if Some(*field) == nb_col(entity) => FieldKind::Ref("neighbourhoods"),
                None => return Err(FieldErrors::single(field, "unknown_field").into()),
            };
            conditions.push(" AND ").push(field);
            if v.is_null() {
                conditions.push(" IS NULL");
            } else {
                conditions.push(" = ").push_bind(value_arg(kind, v));
            }
        }
        if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
            conditions
                .push(" AND LOWER(")
                .push(entity.title_field())
                .push(") LIKE ")
                .push_bind(like_pattern(&q.trim().to_lowercase()))
                .push(" ESCAPE '\\'");
        }
        if !query.include_archived {
            conditions.push(" AND archived_at IS NULL");
        }
        let with = |head: &str| {
            let mut q = conditions.clone();
            q.prepend(head);
            q
        };
        let db = &mut self.0.db();
        page(
            db,
            entity.table(),
            with,
            "id",
            (query.limit, query.offset),
            |r| read_record(r, entity),
        )
        .await
    }

    /// The parent a new record with `values` would sit under (for scope checks before
    /// creating).
    pub async fn parent(self, entity: Entity, values: &Values) -> Result<Option<PlaceRecord>> {
        let Some((parent, fk)) = entity.parent() else {
            return Ok(None);
        };
        let Some(id) = values.get(fk).and_then(Value::as_i64) else {
            return Ok(None);
        };
        self.find(parent, id).await
    }

    /// Titles of records by id (for showing references by name).
    pub async fn titles(self, entity: Entity, ids: &[i64]) -> Result<HashMap<i64, String>> {
        titles(self.0, entity.table(), entity.title_field(), ids).await
    }

    /// The subdistricts in use (the resident pages list their neighbourhoods).
    pub async fn subdistrict_ids(self) -> Result<Vec<SubdistrictId>> {
        let ids: Vec<i64> =
            Sql::new("SELECT id FROM subdistricts WHERE archived_at IS NULL ORDER BY id")
                .scalars(&mut self.0.db())
                .await?;
        Ok(ids.into_iter().map(SubdistrictId).collect())
    }

    /// The first subdistrict (single-subdistrict deployments, the demo).
    pub async fn first_subdistrict(self) -> Result<Option<PlaceRecord>> {
        let id: Option<i64> = Sql::new("SELECT id FROM subdistricts ORDER BY id LIMIT 1")
            .scalar_optional(&mut self.0.db())
            .await?;
        match id {
            Some(id) => self.find(Entity::Subdistrict, id).await,
            None => Ok(None),
        }
    }

    /// A building's point, if it has one.
    pub async fn building_point(self, id: BuildingId) -> Result<Option<(f64, f64)>> {
        let row = Sql::new("SELECT lat, lon FROM buildings WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut self.0.db())
            .await?;
        match row {
            Some(r) => Ok(r
                .get::<Option<f64>>("lat")?
                .zip(r.get::<Option<f64>>("lon")?)),
            None => Ok(None),
        }
    }

    /// Changes whenever the catalogue changes (for rebuilding search indexes).
    pub async fn catalogue_fingerprint(self, sd: SubdistrictId) -> Result<String> {
        fingerprint(self.0, &["service_items"], sd).await
    }

    /// Changes whenever buildings, stations, neighbourhoods or partners change (for the
    /// cached circle analyses).
    pub async fn places_fingerprint(self, sd: SubdistrictId) -> Result<String> {
        fingerprint(
            self.0,
            &["buildings", "stations", "neighbourhoods", "partners"],
            sd,
        )
        .await
    }
}

/// `title` of rows of `table` by id, in chunks.
pub(crate) async fn titles(
    store: &Store,
    table: &str,
    title: &str,
    ids: &[i64],
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = Sql::new(format!(
            "SELECT id, {title} AS title FROM {table} WHERE id IN ("
        ));
        q.push_binds(chunk.iter().copied()).push(")");
        for r in q.fetch_all(&mut store.db()).await? {
            out.insert(r.get("id")?, r.get("title")?);
        }
    }
    Ok(out)
}

/// Row counts and version sums of `tables` in a subdistrict: every change bumps a
/// record's version, so this moves with any change, even within one timestamp.
async fn fingerprint(store: &Store, tables: &[&str], sd: SubdistrictId) -> Result<String> {
    let mut parts = Vec::new();
    for table in tables {
        let r = Sql::new(format!(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v \
             FROM {table} WHERE subdistrict_id = $1"
        ))
        .bind(sd)
        .fetch_one(&mut store.db())
        .await?;
        let (n, v): (i64, i64) = (r.get("n")?, r.get("v")?);
        parts.push(format!("{table}:{n}:{v}"));
    }
    Ok(parts.join(","))
}

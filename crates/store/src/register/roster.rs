//! A roster imported in one transaction: households made where they are missing,
//! residents added or (by ID number) updated without duplicates, tags started where they
//! do not hold yet. All or nothing; one audit entry for the roster.

use super::{RegisterStore, Sealed};
use crate::audit::{self, AuditEntry};
use crate::db::{Sql, Tx};
use crate::{Result, WriteCtx};
use chrono::NaiveDate;
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::people::{Residency, Sex};
use doorstep_domain::{BuildingId, HouseholdId, NeighbourhoodId, ResidentId, SubdistrictId};
use serde::Serialize;
use serde_json::json;
use std::collections::{HashMap, HashSet};

/// One checked row of a roster.
#[derive(Debug, Clone)]
pub struct RosterRow {
    pub building_id: BuildingId,
    pub unit: String,
    pub room: String,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<Sealed>,
    pub phone: Option<Sealed>,
    pub residency: Residency,
    /// Tag codes to hold from `tags_since`.
    pub tags: Vec<String>,
    pub tags_since: NaiveDate,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RosterCounts {
    pub households_added: usize,
    pub residents_added: usize,
    pub residents_updated: usize,
    pub tags_started: usize,
}

/// Rows per multi-row statement (on SQLite they bind as plain `?`, see `db::exec`; 256 rows
/// of 14 stay well under either backend's parameter limit).
const CHUNK: usize = 256;

/// The households of the rows, made where missing; by (building, unit, room).
async fn households(
    tx: &mut Tx,
    rows: &[RosterRow],
    places: &HashMap<BuildingId, (SubdistrictId, NeighbourhoodId)>,
    ctx: &WriteCtx,
    counts: &mut RosterCounts,
) -> Result<HashMap<(BuildingId, String, String), HouseholdId>> {
    let key = |r: &RosterRow| (r.building_id, r.unit.clone(), r.room.clone());
    let mut out = HashMap::new();
    let buildings: Vec<BuildingId> = places.keys().copied().collect();
    for chunk in buildings.chunks(CHUNK) {
        let mut q =
            Sql::new("SELECT id, building_id, unit, room FROM households WHERE building_id IN (");
        q.push_binds(chunk.iter().copied()).push(")");
        for r in q.fetch_all(tx).await? {
            out.insert(
                (r.id("building_id")?, r.get("unit")?, r.get("room")?),
                r.id("id")?,
            );
        }
    }
    let mut missing: Vec<(BuildingId, String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for r in rows {
        let k = key(r);
        if !out.contains_key(&k) && seen.insert(k.clone()) {
            missing.push(k);
        }
    }
    for chunk in missing.chunks(CHUNK) {
        let mut q = Sql::new(
            "INSERT INTO households (subdistrict_id, neighbourhood_id, building_id, unit, room, \
             is_demo, created_at, updated_at) VALUES ",
        );
        q.push_tuples(chunk, |t, (b, unit, room)| {
            let (sd, nb) = places[b];
            t.bind(sd)
                .bind(nb)
                .bind(*b)
                .bind(unit.as_str())
                .bind(room.as_str())
                .bind(ctx.demo)
                .bind(ctx.at)
                .bind(ctx.at);
        });
        q.push(" RETURNING id, building_id, unit, room");
        for r in q.fetch_all(tx).await? {
            out.insert(
                (r.id("building_id")?, r.get("unit")?, r.get("room")?),
                r.id("id")?,
            );
            counts.households_added += 1;
        }
    }
    Ok(out)
}

impl RegisterStore<'_> {
    /// The rows whose ID number belongs to someone still living in another neighbourhood
    /// of the subdistrict, by lookup hash (the import refuses them).
    pub async fn registered_elsewhere(
        self,
        sd: SubdistrictId,
        rows: &[RosterRow],
    ) -> Result<HashSet<String>> {
        if rows.is_empty() {
            return Ok(HashSet::new());
        }
        let mut tx = self.0.begin().await?;
        let places = places_of(&mut tx, sd, rows).await?;
        let known = known(&mut tx, sd, rows).await?;
        tx.commit().await?;
        Ok(elsewhere(&known, rows, &places))
    }

    /// Imports `rows` into subdistrict `sd` in one transaction. Buildings must be the
    /// subdistrict's (the services check them row by row first).
    pub async fn import(
        self,
        sd: SubdistrictId,
        rows: &[RosterRow],
        ctx: &WriteCtx,
    ) -> Result<RosterCounts> {
        let mut tx = self.0.begin().await?;
        let mut counts = RosterCounts::default();
        let places = places_of(&mut tx, sd, rows).await?;
        let homes = households(&mut tx, rows, &places, ctx, &mut counts).await?;
        let ids = residents(&mut tx, sd, rows, &homes, &places, ctx, &mut counts).await?;
        tags(&mut tx, rows, &ids, ctx, &mut counts).await?;
        let entry = AuditEntry::event(
            AuditAction::Import,
            json!({"roster": counts, "rows": rows.len()}),
        );
        let entry = AuditEntry {
            entity: Some(AuditEntity::Roster),
            ..entry
        };
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(counts)
    }
}

/// The rows' buildings with their place; a building outside the subdistrict is refused.
async fn places_of(tx: &mut Tx, sd: SubdistrictId, rows: &[RosterRow]) -> Result<Places> {
    let mut places = HashMap::new();
    let buildings: Vec<BuildingId> = rows
        .iter()
        .map(|r| r.building_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in buildings.chunks(CHUNK) {
        let mut q = Sql::new("SELECT id, subdistrict_id, neighbourhood_id FROM buildings WHERE subdistrict_id = $1 AND id IN (")
            .bind(sd);
        q.push_binds(chunk.iter().copied()).push(")");
        for r in q.fetch_all(tx).await? {
            places.insert(
                r.id::<BuildingId>("id")?,
                (r.id("subdistrict_id")?, r.id("neighbourhood_id")?),
            );
        }
    }
    if buildings.iter().any(|b| !places.contains_key(b)) {
        return Err(
            doorstep_domain::FieldErrors::single("building_id", "invalid_reference").into(),
        );
    }
    Ok(places)
}

type Homes = HashMap<(BuildingId, String, String), HouseholdId>;
type Places = HashMap<BuildingId, (SubdistrictId, NeighbourhoodId)>;

fn home(homes: &Homes, r: &RosterRow) -> HouseholdId {
    homes[&(r.building_id, r.unit.clone(), r.room.clone())]
}

/// A resident already registered under a row's ID number: who, where, still living there.
#[derive(Clone, Copy)]
struct Known {
    id: ResidentId,
    neighbourhood_id: NeighbourhoodId,
    active: bool,
}

/// The residents already registered under the rows' ID numbers.
async fn known(
    tx: &mut Tx,
    sd: SubdistrictId,
    rows: &[RosterRow],
) -> Result<HashMap<String, Known>> {
    let lookups: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.id_number.as_ref().map(|s| s.lookup.as_str()))
        .collect();
    let mut known = HashMap::new();
    tx.plan_each(true).await?;
    for chunk in lookups.chunks(CHUNK) {
        let mut q = Sql::new(
            "SELECT id, id_number_lookup, neighbourhood_id, archived_at FROM residents \
             WHERE subdistrict_id = $1 AND id_number_lookup IN (",
        )
        .bind(sd);
        q.push_binds(chunk.iter().map(|s| s.to_string())).push(")");
        for r in q.fetch_all(tx).await? {
            let k = Known {
                id: r.id("id")?,
                neighbourhood_id: r.id("neighbourhood_id")?,
                active: r
                    .get::<Option<chrono::DateTime<chrono::Utc>>>("archived_at")?
                    .is_none(),
            };
            known.insert(r.get("id_number_lookup")?, k);
        }
    }
    tx.plan_each(false).await?;
    Ok(known)
}

/// The ID numbers (lookup hashes) of rows whose person still lives in another
/// neighbourhood: a roster may not take them over (the other neighbourhood archives them
/// as moved away first).
fn elsewhere(
    known: &HashMap<String, Known>,
    rows: &[RosterRow],
    places: &Places,
) -> HashSet<String> {
    rows.iter()
        .filter_map(|r| {
            let lookup = &r.id_number.as_ref()?.lookup;
            let k = known.get(lookup)?;
            let nb = places.get(&r.building_id)?.1;
            (k.active && k.neighbourhood_id != nb).then(|| lookup.clone())
        })
        .collect()
}

/// A registered resident brought up to date by a row (and back from the archive).
async fn update(
    tx: &mut Tx,
    id: ResidentId,
    r: &RosterRow,
    homes: &Homes,
    places: &Places,
    ctx: &WriteCtx,
) -> Result<()> {
    Sql::new(
        "UPDATE residents SET household_id = $1, neighbourhood_id = $2, name = $3, sex = $4, \
         birth_date = $5, phone_sealed = COALESCE($6, phone_sealed), \
         phone_lookup = COALESCE($7, phone_lookup), residency = $8, \
         archived_at = NULL, archived_reason = NULL, version = version + 1, updated_at = $9 WHERE id = $10",
    )
    .bind(home(homes, r))
    .bind(places[&r.building_id].1)
    .bind(&r.name)
    .bind(r.sex)
    .bind(r.birth_date.map(|d| d.to_string()))
    .bind(r.phone.as_ref().map(|s| s.sealed.clone()))
    .bind(r.phone.as_ref().map(|s| s.lookup.clone()))
    .bind(r.residency)
    .bind(ctx.at)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

/// New residents, a chunk per statement; each row's new id set in `ids`.
async fn insert_new(
    tx: &mut Tx,
    sd: SubdistrictId,
    rows: &[RosterRow],
    chunk: &[usize],
    (homes, places): (&Homes, &Places),
    ids: &mut [Option<ResidentId>],
    ctx: &WriteCtx,
) -> Result<usize> {
    let mut q = Sql::new(
        "INSERT INTO residents (subdistrict_id, neighbourhood_id, household_id, name, sex, birth_date, \
         id_number_sealed, id_number_lookup, phone_sealed, phone_lookup, residency, is_demo, \
         created_at, updated_at) VALUES ",
    );
    q.push_tuples(chunk, |t, i| {
        let r = &rows[*i];
        t.bind(sd)
            .bind(places[&r.building_id].1)
            .bind(home(homes, r))
            .bind(r.name.as_str())
            .bind(r.sex)
            .bind(r.birth_date.map(|d| d.to_string()))
            .bind(r.id_number.as_ref().map(|s| s.sealed.clone()))
            .bind(r.id_number.as_ref().map(|s| s.lookup.clone()))
            .bind(r.phone.as_ref().map(|s| s.sealed.clone()))
            .bind(r.phone.as_ref().map(|s| s.lookup.clone()))
            .bind(r.residency)
            .bind(ctx.demo)
            .bind(ctx.at)
            .bind(ctx.at);
    });
    q.push(" RETURNING id, household_id, name, id_number_lookup");
    let made = q
        .fetch_all(tx)
        .await
        .map_err(|e| e.on_key(&["id_number"]))?;
    // RETURNING's order is not promised (SQLite says so): match each new row back to the
    // rows of the chunk with its household, name and ID number, in order among equals.
    type Key = (HouseholdId, String, Option<String>);
    let mut waiting: HashMap<Key, std::collections::VecDeque<usize>> = HashMap::new();
    for i in chunk {
        let row = &rows[*i];
        let key = (
            home(homes, row),
            row.name.clone(),
            row.id_number.as_ref().map(|s| s.lookup.clone()),
        );
        waiting.entry(key).or_default().push_back(*i);
    }
    let mut added = 0;
    for r in made {
        let (h, name, lookup): (HouseholdId, String, Option<String>) = (
            r.id("household_id")?,
            r.get("name")?,
            r.get("id_number_lookup")?,
        );
        if let Some(i) = waiting
            .get_mut(&(h, name, lookup))
            .and_then(|q| q.pop_front())
        {
            ids[i] = Some(r.id("id")?);
            added += 1;
        }
    }
    Ok(added)
}

/// Residents added, or updated when their ID number is already registered; the id of
/// each row's resident, in row order.
async fn residents(
    tx: &mut Tx,
    sd: SubdistrictId,
    rows: &[RosterRow],
    homes: &Homes,
    places: &Places,
    ctx: &WriteCtx,
    counts: &mut RosterCounts,
) -> Result<Vec<ResidentId>> {
    let known = known(tx, sd, rows).await?;
    if !elsewhere(&known, rows, places).is_empty() {
        return Err(
            doorstep_domain::FieldErrors::single("id_number", "registered_elsewhere").into(),
        );
    }
    let mut ids: Vec<Option<ResidentId>> = vec![None; rows.len()];
    let mut new_rows: Vec<usize> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match r.id_number.as_ref().and_then(|s| known.get(&s.lookup)) {
            Some(k) => {
                update(tx, k.id, r, homes, places, ctx).await?;
                ids[i] = Some(k.id);
                counts.residents_updated += 1;
            }
            None => new_rows.push(i),
        }
    }
    for chunk in new_rows.chunks(CHUNK) {
        counts.residents_added +=
            insert_new(tx, sd, rows, chunk, (homes, places), &mut ids, ctx).await?;
    }
    ids.into_iter()
        .map(|x| {
            x.ok_or(crate::StoreError::Database(
                "roster: a row has no resident".into(),
            ))
        })
        .collect()
}

/// Tags started where the resident does not hold them yet.
async fn tags(
    tx: &mut Tx,
    rows: &[RosterRow],
    ids: &[ResidentId],
    ctx: &WriteCtx,
    counts: &mut RosterCounts,
) -> Result<()> {
    let mut held: HashSet<(ResidentId, String)> = HashSet::new();
    tx.plan_each(true).await?;
    for chunk in ids.chunks(CHUNK) {
        let mut q = Sql::new(
            "SELECT resident_id, tag FROM care_tags WHERE ended_on IS NULL AND resident_id IN (",
        );
        q.push_binds(chunk.iter().copied()).push(")");
        for r in q.fetch_all(tx).await? {
            held.insert((r.id("resident_id")?, r.get("tag")?));
        }
    }
    tx.plan_each(false).await?;
    let mut new: Vec<(ResidentId, &str, NaiveDate)> = Vec::new();
    for (r, id) in rows.iter().zip(ids) {
        for t in &r.tags {
            if held.insert((*id, t.clone())) {
                new.push((*id, t.as_str(), r.tags_since));
            }
        }
    }
    for chunk in new.chunks(CHUNK) {
        let mut q = Sql::new(
            "INSERT INTO care_tags (resident_id, tag, started_on, created_at, created_by) VALUES ",
        );
        q.push_tuples(chunk, |t, (id, tag, since)| {
            t.bind(*id)
                .bind(*tag)
                .bind(since.to_string())
                .bind(ctx.at)
                .bind(ctx.actor_id);
        });
        q.execute(tx).await?;
        counts.tags_started += chunk.len();
    }
    Ok(())
}

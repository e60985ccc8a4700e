//! The care register: households, residents (ID number and phone arrive sealed by the
//! services' vault, with their lookup hashes), care tags kept as history, door-to-door
//! visits, and the visit plan per tag. Every write carries its audit entry.

mod by_building;
mod edits;
mod overview;
mod roster;
mod visits;

pub use by_building::{BuildingCount, HouseholdSummary, TagAtHome};
pub use edits::{ResidentPatch, TagKind};
pub use overview::CareOverview;
pub use roster::{RosterCounts, RosterRow};
pub use visits::{NewVisit, Visit};

use crate::audit::{self, AuditEntry};
use crate::db::{DbRow, Sql, Tx};
use crate::{Result, Store, StoreError, WriteCtx};
use chrono::{DateTime, NaiveDate, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::people::{Residency, Sex};
use doorstep_domain::{
    BuildingId, CareTagId, HouseholdId, NeighbourhoodId, ResidentId, SubdistrictId,
};
use serde::Serialize;
use serde_json::json;

/// A household: a building's unit and room.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Household {
    pub id: HouseholdId,
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: NeighbourhoodId,
    pub building_id: BuildingId,
    pub unit: String,
    pub room: String,
    pub note: Option<String>,
    pub is_demo: bool,
    pub archived_at: Option<DateTime<Utc>>,
}

impl Household {
    /// "1单元502室", or "502室" in a building without units.
    pub fn room_label(&self) -> String {
        room_label(&self.unit, &self.room)
    }
}

/// "1单元502室", or "502室" without a unit.
pub(crate) fn room_label(unit: &str, room: &str) -> String {
    if unit.is_empty() {
        format!("{room}室")
    } else {
        format!("{unit}单元{room}室")
    }
}

/// A resident as stored: the ID number and phone sealed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resident {
    pub id: ResidentId,
    pub subdistrict_id: SubdistrictId,
    pub neighbourhood_id: NeighbourhoodId,
    pub household_id: HouseholdId,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    #[serde(skip)]
    pub id_number_sealed: Option<String>,
    #[serde(skip)]
    pub phone_sealed: Option<String>,
    pub residency: Residency,
    pub languages: Option<String>,
    pub is_demo: bool,
    pub version: i64,
    pub archived_at: Option<DateTime<Utc>>,
    pub archived_reason: Option<String>,
}

/// A sealed value with its lookup hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Sealed {
    pub sealed: String,
    pub lookup: String,
}

/// A resident to record.
#[derive(Debug, Clone)]
pub struct NewResident {
    pub household_id: HouseholdId,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<Sealed>,
    pub phone: Option<Sealed>,
    pub residency: Residency,
    pub languages: Option<String>,
}

/// A care tag held for a period (`ended_on` none while it holds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CareTagRecord {
    pub id: CareTagId,
    pub resident_id: ResidentId,
    /// A `CareTag` code, or `custom:<name>` for an admin-defined tag.
    pub tag: String,
    pub detail: serde_json::Value,
    pub note: Option<String>,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
}

fn date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
}

pub(crate) fn read_household(r: &DbRow) -> Result<Household> {
    Ok(Household {
        id: r.id("id")?,
        subdistrict_id: r.id("subdistrict_id")?,
        neighbourhood_id: r.id("neighbourhood_id")?,
        building_id: r.id("building_id")?,
        unit: r.get("unit")?,
        room: r.get("room")?,
        note: r.get("note")?,
        is_demo: r.get("is_demo")?,
        archived_at: r.get("archived_at")?,
    })
}

fn read_resident(r: &DbRow) -> Result<Resident> {
    Ok(Resident {
        id: r.id("id")?,
        subdistrict_id: r.id("subdistrict_id")?,
        neighbourhood_id: r.id("neighbourhood_id")?,
        household_id: r.id("household_id")?,
        name: r.get("name")?,
        sex: r.opt_code("sex")?,
        birth_date: date(r.get("birth_date")?),
        id_number_sealed: r.get("id_number_sealed")?,
        phone_sealed: r.get("phone_sealed")?,
        residency: r.code("residency")?,
        languages: r.get("languages")?,
        is_demo: r.get("is_demo")?,
        version: r.get("version")?,
        archived_at: r.get("archived_at")?,
        archived_reason: r.get("archived_reason")?,
    })
}

fn read_tag(r: &DbRow) -> Result<CareTagRecord> {
    Ok(CareTagRecord {
        id: r.id("id")?,
        resident_id: r.id("resident_id")?,
        tag: r.get("tag")?,
        detail: r.json("detail")?,
        note: r.get("note")?,
        started_on: date(r.get("started_on")?).unwrap_or_default(),
        ended_on: date(r.get("ended_on")?),
    })
}

/// A household inside a transaction (the roster import adds many in one).
pub(crate) async fn insert_household(
    tx: &mut Tx,
    building: BuildingId,
    unit: &str,
    room: &str,
    ctx: &WriteCtx,
) -> Result<Household> {
    let found =
        Sql::new("SELECT * FROM households WHERE building_id = $1 AND unit = $2 AND room = $3")
            .bind(building)
            .bind(unit)
            .bind(room)
            .fetch_optional(tx)
            .await?;
    if let Some(h) = found {
        return read_household(&h);
    }
    let place = Sql::new("SELECT subdistrict_id, neighbourhood_id FROM buildings WHERE id = $1")
        .bind(building)
        .fetch_optional(tx)
        .await?
        .ok_or_else(|| doorstep_domain::FieldErrors::single("building_id", "invalid_reference"))?;
    let row = Sql::new(
        "INSERT INTO households (subdistrict_id, neighbourhood_id, building_id, unit, room, \
         is_demo, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *",
    )
    .bind(place.id::<SubdistrictId>("subdistrict_id")?)
    .bind(place.id::<NeighbourhoodId>("neighbourhood_id")?)
    .bind(building)
    .bind(unit)
    .bind(room)
    .bind(ctx.demo)
    .bind(ctx.at)
    .fetch_one(tx)
    .await?;
    let h = read_household(&row)?;
    let detail = json!({"building_id": building, "unit": unit, "room": room});
    let entry = AuditEntry::write(AuditAction::Create, AuditEntity::Household, h.id, detail);
    audit::insert(tx, ctx, entry).await?;
    Ok(h)
}

/// A resident inside a transaction; the household gives the place.
pub(crate) async fn insert_resident(
    tx: &mut Tx,
    n: &NewResident,
    ctx: &WriteCtx,
) -> Result<Resident> {
    let h = Sql::new("SELECT * FROM households WHERE id = $1")
        .bind(n.household_id)
        .fetch_optional(tx)
        .await?
        .ok_or_else(|| doorstep_domain::FieldErrors::single("household_id", "invalid_reference"))?;
    let h = read_household(&h)?;
    let row = Sql::new(
        "INSERT INTO residents (subdistrict_id, neighbourhood_id, household_id, name, sex, \
         birth_date, id_number_sealed, id_number_lookup, phone_sealed, phone_lookup, residency, \
         languages, is_demo, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING *",
    )
    .bind(h.subdistrict_id)
    .bind(h.neighbourhood_id)
    .bind(h.id)
    .bind(&n.name)
    .bind(n.sex)
    .bind(n.birth_date.map(|d| d.to_string()))
    .bind(n.id_number.as_ref().map(|s| s.sealed.clone()))
    .bind(n.id_number.as_ref().map(|s| s.lookup.clone()))
    .bind(n.phone.as_ref().map(|s| s.sealed.clone()))
    .bind(n.phone.as_ref().map(|s| s.lookup.clone()))
    .bind(n.residency)
    .bind(n.languages.clone())
    .bind(ctx.demo)
    .bind(ctx.at)
    .fetch_one(tx)
    .await
    .map_err(|e| e.on_key(&["id_number"]))?;
    let r = read_resident(&row)?;
    // The audit log names the resident's record, never the ID number or phone.
    let entry = AuditEntry::write(
        AuditAction::Create,
        AuditEntity::Resident,
        r.id,
        json!({"household_id": h.id}),
    );
    audit::insert(tx, ctx, entry).await?;
    Ok(r)
}

/// The care register.
#[derive(Debug, Clone, Copy)]
pub struct RegisterStore<'a>(pub(crate) &'a Store);

impl RegisterStore<'_> {
    /// The household at a building's unit and room, made if it is not there yet.
    pub async fn household(
        self,
        building: BuildingId,
        unit: &str,
        room: &str,
        ctx: &WriteCtx,
    ) -> Result<Household> {
        let mut tx = self.0.begin().await?;
        let h = insert_household(&mut tx, building, unit, room, ctx).await?;
        tx.commit().await?;
        Ok(h)
    }

    pub async fn find_household(self, id: HouseholdId) -> Result<Option<Household>> {
        Sql::new("SELECT * FROM households WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut self.0.db())
            .await?
            .as_ref()
            .map(read_household)
            .transpose()
    }

    /// The households of some buildings, by building, unit and room.
    pub async fn households_in(self, buildings: &[BuildingId]) -> Result<Vec<Household>> {
        if buildings.is_empty() {
            return Ok(Vec::new());
        }
        let mut q =
            Sql::new("SELECT * FROM households WHERE archived_at IS NULL AND building_id IN (");
        q.push_binds(buildings.iter().copied())
            .push(") ORDER BY building_id, unit, room");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(read_household)
            .collect()
    }

    pub async fn add_resident(self, n: &NewResident, ctx: &WriteCtx) -> Result<Resident> {
        let mut tx = self.0.begin().await?;
        let r = insert_resident(&mut tx, n, ctx).await?;
        tx.commit().await?;
        Ok(r)
    }

    pub async fn find_resident(self, id: ResidentId) -> Result<Option<Resident>> {
        Sql::new("SELECT * FROM residents WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut self.0.db())
            .await?
            .as_ref()
            .map(read_resident)
            .transpose()
    }

    /// The resident with this ID number's lookup hash in a subdistrict.
    pub async fn resident_by_id_number(
        self,
        sd: SubdistrictId,
        lookup: &str,
    ) -> Result<Option<Resident>> {
        Sql::new("SELECT * FROM residents WHERE subdistrict_id = $1 AND id_number_lookup = $2")
            .bind(sd)
            .bind(lookup)
            .fetch_optional(&mut self.0.db())
            .await?
            .as_ref()
            .map(read_resident)
            .transpose()
    }

    /// The residents (still living there) of some households.
    pub async fn residents_of(self, households: &[HouseholdId]) -> Result<Vec<Resident>> {
        if households.is_empty() {
            return Ok(Vec::new());
        }
        let mut q =
            Sql::new("SELECT * FROM residents WHERE archived_at IS NULL AND household_id IN (");
        q.push_binds(households.iter().copied())
            .push(") ORDER BY household_id, id");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(read_resident)
            .collect()
    }

    /// Archives a resident who moved away or died (`reason`), keeping the record.
    pub async fn archive_resident(
        self,
        id: ResidentId,
        reason: &str,
        ctx: &WriteCtx,
    ) -> Result<()> {
        let mut tx = self.0.begin().await?;
        let done = Sql::new(
            "UPDATE residents SET archived_at = $1, archived_reason = $2, version = version + 1, \
             updated_at = $1 WHERE id = $3 AND archived_at IS NULL",
        )
        .bind(ctx.at)
        .bind(reason)
        .bind(id)
        .execute(&mut tx)
        .await?;
        if done != 1 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry::write(
            AuditAction::Archive,
            AuditEntity::Resident,
            id,
            json!({"reason": reason}),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }

    /// Residents with an ID number or phone sealed under a key other than `key_id`, a
    /// batch at a time (for `doorstep keys rotate`).
    pub async fn sealed_elsewhere(self, key_id: &str, limit: i64) -> Result<Vec<Resident>> {
        let prefix = format!("v1:{key_id}:%");
        Sql::new(
            "SELECT * FROM residents WHERE (id_number_sealed IS NOT NULL AND id_number_sealed NOT LIKE $1) \
             OR (phone_sealed IS NOT NULL AND phone_sealed NOT LIKE $1) ORDER BY id LIMIT $2",
        )
        .bind(prefix)
        .bind(limit)
        .fetch_all(&mut self.0.db())
        .await?
        .iter()
        .map(read_resident)
        .collect()
    }

    /// Stores a resident's values sealed again under the current key, if they are still
    /// what was read (a concurrent edit wins; the next batch picks the row up again).
    pub async fn reseal(
        self,
        r: &Resident,
        id_number: Option<Sealed>,
        phone: Option<Sealed>,
    ) -> Result<bool> {
        let done = Sql::new(
            "UPDATE residents SET id_number_sealed = $1, id_number_lookup = $2, phone_sealed = $3, \
             phone_lookup = $4 WHERE id = $5 AND version = $6",
        )
        .bind(id_number.as_ref().map(|s| s.sealed.clone()))
        .bind(id_number.as_ref().map(|s| s.lookup.clone()))
        .bind(phone.as_ref().map(|s| s.sealed.clone()))
        .bind(phone.as_ref().map(|s| s.lookup.clone()))
        .bind(r.id)
        .bind(r.version)
        .execute(&mut self.0.db())
        .await?;
        Ok(done == 1)
    }

    /// Starts a care tag on `started_on`.
    pub async fn start_tag(
        self,
        resident: ResidentId,
        tag: &str,
        detail: serde_json::Value,
        note: Option<&str>,
        started_on: NaiveDate,
        ctx: &WriteCtx,
    ) -> Result<CareTagRecord> {
        let mut tx = self.0.begin().await?;
        let t = insert_tag(&mut tx, resident, tag, detail, note, started_on, ctx).await?;
        tx.commit().await?;
        Ok(t)
    }

    /// Ends a care tag on `ended_on` (the row stays: the register keeps its history).
    pub async fn end_tag(self, id: CareTagId, ended_on: NaiveDate, ctx: &WriteCtx) -> Result<()> {
        let mut tx = self.0.begin().await?;
        let done =
            Sql::new("UPDATE care_tags SET ended_on = $1 WHERE id = $2 AND ended_on IS NULL")
                .bind(ended_on.to_string())
                .bind(id)
                .execute(&mut tx)
                .await?;
        if done != 1 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry::write(
            AuditAction::Update,
            AuditEntity::CareTag,
            id,
            json!({"ended_on": ended_on}),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }

    /// The tags of some residents, the ones that ended too when `history`.
    pub async fn tags_of(
        self,
        residents: &[ResidentId],
        history: bool,
    ) -> Result<Vec<CareTagRecord>> {
        if residents.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new("SELECT * FROM care_tags WHERE resident_id IN (");
        q.push_binds(residents.iter().copied()).push(")");
        if !history {
            q.push(" AND ended_on IS NULL");
        }
        q.push(" ORDER BY resident_id, started_on, id");
        q.fetch_all(&mut self.0.db())
            .await?
            .iter()
            .map(read_tag)
            .collect()
    }
}

/// A care tag inside a transaction.
pub(crate) async fn insert_tag(
    tx: &mut Tx,
    resident: ResidentId,
    tag: &str,
    detail: serde_json::Value,
    note: Option<&str>,
    started_on: NaiveDate,
    ctx: &WriteCtx,
) -> Result<CareTagRecord> {
    let row = Sql::new(
        "INSERT INTO care_tags (resident_id, tag, detail, note, started_on, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(resident)
    .bind(tag)
    .bind(detail)
    .bind(note.map(str::to_string))
    .bind(started_on.to_string())
    .bind(ctx.at)
    .bind(ctx.actor_id)
    .fetch_one(tx)
    .await?;
    let t = read_tag(&row)?;
    let entry = AuditEntry::write(
        AuditAction::Create,
        AuditEntity::CareTag,
        t.id,
        json!({"resident_id": resident, "tag": tag}),
    );
    audit::insert(tx, ctx, entry).await?;
    Ok(t)
}

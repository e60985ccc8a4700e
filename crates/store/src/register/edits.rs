//! Corrections to the register: a resident's particulars put right (sealed values replaced
//! only when given anew), the tags an admin defines, and the retention rule that erases an
//! archived resident's personal data once the retention period has passed.

use super::{RegisterStore, Resident, Sealed, read_resident};
use crate::audit::{self, AuditEntry};
use crate::db::Sql;
use crate::{Result, StoreError, WriteCtx};
use chrono::{DateTime, NaiveDate, Utc};
use doorstep_domain::audit::{AuditAction, AuditEntity};
use doorstep_domain::people::{Residency, Sex};
use doorstep_domain::{HouseholdId, ResidentId, SubdistrictId};
use serde_json::json;

/// A resident's particulars as corrected. The sealed values are replaced only when given
/// (a correction form cannot show them without a reveal, so it leaves them blank).
#[derive(Debug, Clone)]
pub struct ResidentPatch {
    pub household_id: HouseholdId,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<Sealed>,
    pub phone: Option<Sealed>,
    pub residency: Residency,
    pub languages: Option<String>,
}

/// A tag an admin defined for the subdistrict.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TagKind {
    pub name: String,
    /// Seen, like the seed's sensitive groups, only by who knows the block.
    pub sensitive: bool,
    pub retired: bool,
}

impl RegisterStore<'_> {
    /// Corrects a resident read at `version` (409 if someone else changed it since; an
    /// archived record is not corrected). The audit entry names the fields, not values.
    pub async fn correct_resident(
        self,
        id: ResidentId,
        version: i64,
        p: &ResidentPatch,
        ctx: &WriteCtx,
    ) -> Result<Resident> {
        let mut tx = self.0.begin().await?;
        let before = Sql::new("SELECT * FROM residents WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let before = read_resident(&before)?;
        if before.archived_at.is_some() {
            return Err(StoreError::Conflict("archived"));
        }
        if before.version != version {
            return Err(StoreError::VersionConflict {
                current: before.version,
            });
        }
        let row = Sql::new(
            "UPDATE residents SET household_id = $1, name = $2, sex = $3, birth_date = $4, \
             id_number_sealed = COALESCE($5, id_number_sealed), \
             id_number_lookup = COALESCE($6, id_number_lookup), \
             phone_sealed = COALESCE($7, phone_sealed), phone_lookup = COALESCE($8, phone_lookup), \
             residency = $9, languages = $10, version = version + 1, updated_at = $11 \
             WHERE id = $12 AND version = $13 RETURNING *",
        )
        .bind(p.household_id)
        .bind(&p.name)
        .bind(p.sex)
        .bind(p.birth_date.map(|d| d.to_string()))
        .bind(p.id_number.as_ref().map(|s| s.sealed.clone()))
        .bind(p.id_number.as_ref().map(|s| s.lookup.clone()))
        .bind(p.phone.as_ref().map(|s| s.sealed.clone()))
        .bind(p.phone.as_ref().map(|s| s.lookup.clone()))
        .bind(p.residency)
        .bind(p.languages.clone())
        .bind(ctx.at)
        .bind(id)
        .bind(version)
        .fetch_optional(&mut tx)
        .await
        .map_err(|e| e.on_key(&["id_number"]))?
        .ok_or(StoreError::VersionConflict {
            current: version + 1,
        })?;
        let after = read_resident(&row)?;
        let mut changed = Vec::new();
        for (field, differs) in [
            ("household", before.household_id != after.household_id),
            ("name", before.name != after.name),
            ("sex", before.sex != after.sex),
            ("birth_date", before.birth_date != after.birth_date),
            ("id_number", p.id_number.is_some()),
            ("phone", p.phone.is_some()),
            ("residency", before.residency != after.residency),
            ("languages", before.languages != after.languages),
        ] {
            if differs {
                changed.push(field);
            }
        }
        let entry = AuditEntry::write(
            AuditAction::Update,
            AuditEntity::Resident,
            id,
            json!({ "fields": changed }),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The tags the subdistrict's admins defined, retired ones last.
    pub async fn tag_kinds(self, sd: SubdistrictId) -> Result<Vec<TagKind>> {
        Sql::new(
            "SELECT name, sensitive, retired_at FROM care_tag_kinds WHERE subdistrict_id = $1 \
             ORDER BY retired_at IS NOT NULL, created_at, name",
        )
        .bind(sd)
        .fetch_all(&mut self.0.db())
        .await?
        .iter()
        .map(|r| {
            Ok(TagKind {
                name: r.get("name")?,
                sensitive: r.get("sensitive")?,
                retired: r.get::<Option<DateTime<Utc>>>("retired_at")?.is_some(),
            })
        })
        .collect()
    }

    /// Defines a tag (409 if the name is taken), or brings a retired one back.
    pub async fn define_tag_kind(
        self,
        sd: SubdistrictId,
        name: &str,
        sensitive: bool,
        ctx: &WriteCtx,
    ) -> Result<()> {
        let mut tx = self.0.begin().await?;
        let revived = Sql::new(
            "UPDATE care_tag_kinds SET retired_at = NULL, sensitive = $1 \
             WHERE subdistrict_id = $2 AND name = $3 AND retired_at IS NOT NULL",
        )
        .bind(sensitive)
        .bind(sd)
        .bind(name)
        .execute(&mut tx)
        .await?;
        if revived == 0 {
            Sql::new(
                "INSERT INTO care_tag_kinds (subdistrict_id, name, sensitive, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(sd)
            .bind(name)
            .bind(sensitive)
            .bind(ctx.at)
            .execute(&mut tx)
            .await
            .map_err(|e| e.on_key(&["name"]))?;
        }
        let entry = AuditEntry::event(
            AuditAction::Create,
            json!({"care_tag_kind": name, "sensitive": sensitive}),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }

    /// Retires a defined tag: no longer offered; the tags already held keep their history.
    pub async fn retire_tag_kind(
        self,
        sd: SubdistrictId,
        name: &str,
        ctx: &WriteCtx,
    ) -> Result<()> {
        let mut tx = self.0.begin().await?;
        let done = Sql::new(
            "UPDATE care_tag_kinds SET retired_at = $1 \
             WHERE subdistrict_id = $2 AND name = $3 AND retired_at IS NULL",
        )
        .bind(ctx.at)
        .bind(sd)
        .bind(name)
        .execute(&mut tx)
        .await?;
        if done != 1 {
            return Err(StoreError::NotFound);
        }
        let entry = AuditEntry::event(AuditAction::Archive, json!({"care_tag_kind": name}));
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await
    }

    /// The retention rule: residents archived before `before` keep their record (a count,
    /// a visit's household) but lose their personal data: name, birth date, ID number,
    /// phone, languages, and their tags' notes and details. Returns how many were erased.
    pub async fn purge_archived(self, before: DateTime<Utc>, ctx: &WriteCtx) -> Result<u64> {
        let mut tx = self.0.begin().await?;
        let ids: Vec<ResidentId> = Sql::new(
            "SELECT id FROM residents WHERE archived_at IS NOT NULL AND archived_at < $1 \
             AND purged_at IS NULL ORDER BY id",
        )
        .bind(before)
        .fetch_all(&mut tx)
        .await?
        .iter()
        .map(|r| r.id("id"))
        .collect::<Result<_>>()?;
        if ids.is_empty() {
            return Ok(0);
        }
        let q = Sql::new(
            "UPDATE residents SET name = '已清除', birth_date = NULL, id_number_sealed = NULL, \
             id_number_lookup = NULL, phone_sealed = NULL, phone_lookup = NULL, languages = NULL, \
             purged_at = $1, version = version + 1 WHERE id IN (",
        );
        let mut q = q.bind(ctx.at);
        q.push_binds(ids.iter().copied()).push(")");
        let n = q.execute(&mut tx).await?;
        let mut t =
            Sql::new("UPDATE care_tags SET note = NULL, detail = NULL WHERE resident_id IN (");
        t.push_binds(ids.iter().copied()).push(")");
        t.execute(&mut tx).await?;
        let entry = AuditEntry::event(
            AuditAction::Erase,
            json!({"retention": "residents", "erased": n, "archived_before": before}),
        );
        audit::insert(&mut tx, ctx, entry).await?;
        tx.commit().await?;
        Ok(n)
    }
}

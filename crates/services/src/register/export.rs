//! The roster exported as a workbook laid out like the import template: ID numbers and
//! phones masked, unless a secretary asks for them in full with a reason; every export
//! in the audit log (who, what scope, how many, masked or not).

use super::{id_number, phone};
use crate::{Caller, Error, Result, Services, allowed};
use doorstep_domain::audit::{AuditAction, AuditEntity, RevealReason};
use doorstep_domain::mask::{mask_id_number, mask_phone};
use doorstep_domain::people::CareTag;
use doorstep_domain::policy::BlockPlace;
use doorstep_domain::{AccountId, BuildingId, Entity, HouseholdId, ResidentId, Scope};
use doorstep_store::{AuditEntry, Household, PlaceRecord};
use serde_json::json;
use std::collections::HashMap;

/// The caller's roster as XLSX: a secretary's neighbourhood, a worker's blocks.
/// `full`: the unmasked values, for a secretary with a reason.
pub async fn export(sv: &Services, who: &Caller, full: Option<RevealReason>) -> Result<Vec<u8>> {
    let nb = who.actor.neighbourhood_id.ok_or(Error::Forbidden)?;
    if !who.actor.may_export_roster(full.is_some()) {
        return Err(Error::Forbidden);
    }
    let scope = Scope::Neighbourhood {
        subdistrict_id: who.actor.subdistrict_id,
        neighbourhood_id: nb,
    };
    let labels: HashMap<i64, crate::places::BuildingChoice> =
        crate::places::building_choices(sv, scope)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let buildings = buildings_known(sv, who, scope, nb).await?;
    let ids: Vec<BuildingId> = buildings.keys().map(|id| BuildingId(*id)).collect();
    let reg = sv.store.register();
    let households: HashMap<HouseholdId, Household> = reg
        .households_in(&ids)
        .await?
        .into_iter()
        .map(|h| (h.id, h))
        .collect();
    let residents = reg.residents_in(&ids).await?;
    let mut tags: HashMap<ResidentId, Vec<&'static str>> = HashMap::new();
    for t in reg.tags_at_home_in(&ids).await? {
        if let Some(tag) = CareTag::parse(&t.tag.tag) {
            tags.entry(t.tag.resident_id)
                .or_default()
                .push(tag_word(tag));
        }
    }
    let v = sv.vault()?;
    let sheet = Sheet {
        header: super::import::COLUMNS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect(),
        rows: residents
            .iter()
            .filter_map(|r| {
                let h = households.get(&r.household_id)?;
                buildings.get(&h.building_id.get())?;
                let b = labels.get(&h.building_id.get())?;
                let (id, ph) = (id_number(v, r).ok().flatten(), phone(v, r).ok().flatten());
                let (id, ph) = match full {
                    Some(_) => (id, ph),
                    None => (id.map(|x| mask_id_number(&x)), ph.map(|x| mask_phone(&x))),
                };
                Some(vec![
                    b.estate.clone(),
                    b.number.clone(),
                    h.unit.clone(),
                    h.room.clone(),
                    r.name.clone(),
                    id.unwrap_or_default(),
                    ph.unwrap_or_default(),
                    residency_word(r.residency).to_string(),
                    tags.get(&r.id).map(|w| w.join("、")).unwrap_or_default(),
                ])
            })
            .collect(),
    };
    let detail = json!({"scope": "roster", "neighbourhood_id": nb, "rows": sheet.rows.len(),
        "masked": full.is_none(), "reason": full.map(|r| r.code())});
    let entry = AuditEntry::write(AuditAction::Export, AuditEntity::Roster, nb.get(), detail);
    sv.store.audit().record(&sv.ctx(who), entry).await?;
    sheet.to_xlsx()
}

/// The word the importer reads back for a tag (the first of its words).
/// The buildings of `scope` whose block the caller knows, by id (the blocks read once,
/// not a lookup per building).
async fn buildings_known(
    sv: &Services,
    who: &Caller,
    scope: Scope,
    nb: doorstep_domain::NeighbourhoodId,
) -> Result<HashMap<i64, PlaceRecord>> {
    let workers: HashMap<i64, Option<AccountId>> = crate::places::all_in(sv, Entity::Block, scope)
        .await?
        .into_iter()
        .map(|b| (b.id, b.get("worker_id").as_i64().map(AccountId)))
        .collect();
    Ok(crate::places::all_in(sv, Entity::Building, scope)
        .await?
        .into_iter()
        .filter(|b| {
            let place = BlockPlace {
                subdistrict_id: b.subdistrict_id,
                neighbourhood_id: nb,
                worker_id: b
                    .get("block_id")
                    .as_i64()
                    .and_then(|id| workers.get(&id).copied().flatten()),
            };
            allowed(who.actor.may_know_block(&place)).is_ok()
        })
        .map(|b| (b.id, b))
        .collect())
}

fn tag_word(t: CareTag) -> &'static str {
    super::import::TAG_WORDS
        .iter()
        .find(|(_, tag)| *tag == t)
        .map_or("", |(w, _)| w)
}

/// The word the importer reads back for a residency status.
fn residency_word(r: doorstep_domain::people::Residency) -> &'static str {
    super::import::RESIDENCY_WORDS
        .iter()
        .find(|(_, res)| *res == r)
        .map_or("", |(w, _)| w)
}

struct Sheet {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Sheet {
    fn to_xlsx(&self) -> Result<Vec<u8>> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("花名册").map_err(Error::internal)?;
        let bold = Format::new().set_bold();
        for (c, h) in self.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(Error::internal)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(r as u32 + 1, c as u16, v)
                    .map_err(Error::internal)?;
            }
        }
        wb.save_to_buffer().map_err(Error::internal)
    }
}

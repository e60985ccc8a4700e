//! The care register's use cases: who may see what (by role, block and tag), residents
//! added and found with their ID number and phone sealed, and key rotation.

pub mod block;
pub mod edit;
pub mod export;
pub mod import;
pub mod overview;
pub mod people;
pub mod visits;

use crate::vault::Vault;
use crate::{Result, Services};
use doorstep_store::{Resident, Sealed};

/// An ID number or phone sealed for storage, with its lookup hash. ID numbers are
/// compared upper-cased, phones as digits only.
pub fn seal(v: &Vault, value: &str) -> Sealed {
    Sealed {
        sealed: v.seal(value),
        lookup: v.lookup(value),
    }
}

/// Re-seals every resident's ID number and phone under the current key (after a new
/// `encryption_key` was set and the old one moved to `previous_encryption_keys`), in
/// batches, while the server keeps serving. Returns how many residents were re-sealed.
pub async fn rotate(sv: &Services) -> Result<usize> {
    let v = sv.vault()?;
    let mut done = 0;
    loop {
        let batch = sv
            .store
            .register()
            .sealed_elsewhere(v.key_id(), 500)
            .await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let mut progressed = false;
        for r in &batch {
            let (id, phone) = (
                reopen(v, r.id_number_sealed.as_deref())?,
                reopen(v, r.phone_sealed.as_deref())?,
            );
            if sv
                .store
                .register()
                .reseal(r, id.map(|x| seal(v, &x)), phone.map(|x| seal(v, &x)))
                .await?
            {
                done += 1;
                progressed = true;
            }
        }
        if !progressed {
            // Every row of the batch changed under us; they come back in the next batch,
            // unless nothing can move (then stop rather than spin).
            return Ok(done);
        }
    }
}

fn reopen(v: &Vault, sealed: Option<&str>) -> Result<Option<String>> {
    sealed
        .map(|s| v.open(s).map_err(crate::Error::internal))
        .transpose()
}

/// The plain ID number of a resident (for the reveal and exports that may show it).
pub fn id_number(v: &Vault, r: &Resident) -> Result<Option<String>> {
    reopen(v, r.id_number_sealed.as_deref())
}

/// The plain phone of a resident.
pub fn phone(v: &Vault, r: &Resident) -> Result<Option<String>> {
    reopen(v, r.phone_sealed.as_deref())
}

/// The resident `id`, if the caller may know the block they live in (their worker or the
/// neighbourhood's secretary); another subdistrict's is not found, an archived one is a
/// conflict.
pub async fn resident(
    sv: &Services,
    who: &crate::Caller,
    id: doorstep_domain::ResidentId,
) -> Result<Resident> {
    let r = sv
        .store
        .register()
        .find_resident(id)
        .await?
        .filter(|r| r.subdistrict_id == who.actor.subdistrict_id)
        .ok_or(crate::Error::NotFound)?;
    crate::allowed(who.actor.may_know_block(&block_of(sv, &r).await?))?;
    if r.archived_at.is_some() {
        // Moved away or died: the record is kept as it was, not changed or revealed.
        return Err(crate::Error::conflict("archived"));
    }
    Ok(r)
}

/// Refused unless the caller keeps some block's people (a worker or secretary of a
/// neighbourhood): asked before any input is judged.
pub(crate) fn keeper(who: &crate::Caller) -> Result<()> {
    if who.actor.may_keep_register() {
        Ok(())
    } else {
        Err(crate::Error::Forbidden)
    }
}

/// A block record's place for the rules (none if it belongs to no neighbourhood).
pub(crate) fn place_of_block(
    block: &doorstep_store::PlaceRecord,
) -> Option<doorstep_domain::policy::BlockPlace> {
    Some(doorstep_domain::policy::BlockPlace {
        subdistrict_id: block.subdistrict_id,
        neighbourhood_id: block.neighbourhood_id?,
        worker_id: block
            .get("worker_id")
            .as_i64()
            .map(doorstep_domain::AccountId),
    })
}

/// The block a resident lives in (through the household's building); a building in no
/// block belongs to the neighbourhood's secretary alone.
pub async fn block_of(sv: &Services, r: &Resident) -> Result<doorstep_domain::policy::BlockPlace> {
    let h = sv
        .store
        .register()
        .find_household(r.household_id)
        .await?
        .ok_or(crate::Error::NotFound)?;
    Ok(household_place(sv, &h).await?.1)
}

/// A household's building and the block it belongs to, for the rules.
pub async fn household_place(
    sv: &Services,
    h: &doorstep_store::Household,
) -> Result<(
    doorstep_store::PlaceRecord,
    doorstep_domain::policy::BlockPlace,
)> {
    let building = sv
        .store
        .places()
        .find(doorstep_domain::Entity::Building, h.building_id.get())
        .await?
        .ok_or(crate::Error::NotFound)?;
    let block = building_block(sv, &building).await?;
    Ok((building, block))
}

/// The block a building belongs to, for the rules (none: the secretary's alone).
pub async fn building_block(
    sv: &Services,
    building: &doorstep_store::PlaceRecord,
) -> Result<doorstep_domain::policy::BlockPlace> {
    let worker = match building.get("block_id").as_i64() {
        Some(b) => sv
            .store
            .places()
            .find(doorstep_domain::Entity::Block, b)
            .await?
            .and_then(|b| b.get("worker_id").as_i64())
            .map(doorstep_domain::AccountId),
        None => None,
    };
    Ok(doorstep_domain::policy::BlockPlace {
        subdistrict_id: building.subdistrict_id,
        neighbourhood_id: building.neighbourhood_id.ok_or(crate::Error::NotFound)?,
        worker_id: worker,
    })
}

/// Whether the caller may see tag `code` of a resident in `block` (`on_case`: through an
/// open request of hers from the household): the seed's groups by the rules; an
/// admin-defined tag like them, restricted unless its kind is not marked sensitive.
pub fn may_see(
    who: &crate::Caller,
    block: &doorstep_domain::policy::BlockPlace,
    code: &str,
    on_case: bool,
    kinds: &[doorstep_store::TagKind],
) -> bool {
    use doorstep_domain::policy::TagClass;
    let class = match doorstep_domain::people::CareTag::parse(code) {
        Some(t) => TagClass::of(t),
        None => {
            let name = code.strip_prefix(edit::CUSTOM).unwrap_or(code);
            match kinds.iter().find(|k| k.name == name) {
                Some(k) if !k.sensitive => TagClass::Other,
                _ => TagClass::Restricted,
            }
        }
    };
    who.actor.may_see_tag(block, class, on_case) == doorstep_domain::policy::Decision::Allow
}

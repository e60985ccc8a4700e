//! Residents added to the register one at a time (the roster import adds many), and a
//! household as its block's worker sees it.

use super::seal;
use crate::{Caller, Error, Result, Services, allowed};
use chrono::NaiveDate;
use doorstep_domain::people::{IdNumber, Residency, Sex};
use doorstep_domain::policy::{BlockPlace, Decision};
use doorstep_domain::{BuildingId, Entity, FieldErrors, HouseholdId, RequestId};
use doorstep_store::{CareTagRecord, Household, NewResident, Resident, Visit};

/// What a form or an import row says of a resident.
#[derive(Debug, Clone, Default)]
pub struct ResidentInput {
    pub building_id: Option<BuildingId>,
    pub unit: String,
    pub room: String,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub residency: Option<String>,
    pub languages: Option<String>,
}

/// A resident's checked particulars (the values still plain: sealed when stored).
#[derive(Debug, Clone)]
pub struct Checked {
    pub building_id: BuildingId,
    pub unit: String,
    pub room: String,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<IdNumber>,
    pub phone: Option<String>,
    pub residency: Residency,
    pub languages: Option<String>,
}

/// The longest unit or room number (the forms allow as much).
pub const UNIT_MAX: usize = 10;
/// The longest list of languages a resident speaks.
pub const LANGUAGES_MAX: usize = 60;

/// A form's text, trimmed; none when blank.
pub(super) fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn check_lengths(input: &ResidentInput, e: &mut FieldErrors) {
    for (field, value, max) in [
        ("unit", input.unit.as_str(), UNIT_MAX),
        ("room", input.room.as_str(), UNIT_MAX),
        (
            "languages",
            input.languages.as_deref().unwrap_or(""),
            LANGUAGES_MAX,
        ),
    ] {
        doorstep_domain::fields::check_text(e, field, value.trim(), max, false);
    }
}

/// Checks a resident's particulars: the ID number by GB 11643 (its birth date and sex
/// fill in the ones not given, and must agree with the ones given), a dialable phone, a
/// known residency.
pub fn check(input: &ResidentInput, today: NaiveDate) -> Result<Checked, FieldErrors> {
    let mut e = FieldErrors::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        e.add("name", "required");
    } else {
        doorstep_domain::fields::check_text(&mut e, "name", &name, 30, false);
    }
    if input.room.trim().is_empty() {
        e.add("room", "required");
    }
    check_lengths(input, &mut e);
    let building_id = input.building_id;
    if building_id.is_none() {
        e.add("building_id", "required");
    }
    let id_number = match text(&input.id_number) {
        Some(s) => match IdNumber::parse(s, today) {
            Ok(id) => Some(id),
            Err(err) => {
                e.add("id_number", err.code());
                None
            }
        },
        None => None,
    };
    let sex = match text(&input.sex) {
        Some(s) => Sex::parse(s).or_else(|| {
            e.add("sex", "invalid_choice");
            None
        }),
        None => id_number
            .as_ref()
            .map(|id| if id.is_male() { Sex::Male } else { Sex::Female }),
    };
    let birth_date = match text(&input.birth_date) {
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| {
            e.add("birth_date", "invalid_date");
            None
        }),
        None => id_number.as_ref().map(IdNumber::birth_date),
    };
    if let (Some(id), Some(b)) = (&id_number, birth_date)
        && id.birth_date() != b
    {
        e.add("birth_date", "id_mismatch");
    }
    let phone =
        text(&input.phone).map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>());
    if let Some(p) = &phone
        && !doorstep_domain::fields::is_cn_phone(p)
    {
        e.add("phone", "invalid_phone");
    }
    let residency = match text(&input.residency) {
        Some(s) => Residency::parse(s).unwrap_or_else(|| {
            e.add("residency", "invalid_choice");
            Residency::Registered
        }),
        None => Residency::Registered,
    };
    let checked = Checked {
        building_id: building_id.unwrap_or(BuildingId(0)),
        unit: input.unit.trim().to_string(),
        room: input.room.trim().to_string(),
        name,
        sex,
        birth_date,
        id_number,
        phone,
        residency,
        languages: text(&input.languages).map(str::to_string),
    };
    e.into_result(checked)
}

/// Adds a resident to the household at the building's unit and room (made if new). Only
/// the building's block's worker or the secretary may.
pub async fn add(sv: &Services, who: &Caller, input: &ResidentInput) -> Result<Resident> {
    may_add(sv, who, input.building_id)
        .await
        .map_err(|e| match e {
            Error::NotFound => Error::validation("building_id", "invalid_reference"),
            e => e,
        })?;
    let c = check(input, sv.now().date_naive())?;
    let v = sv.vault()?;
    let ctx = sv.ctx(who);
    let h = sv
        .store
        .register()
        .household(c.building_id, &c.unit, &c.room, &ctx)
        .await?;
    let n = NewResident {
        household_id: h.id,
        name: c.name,
        sex: c.sex,
        birth_date: c.birth_date,
        id_number: c.id_number.as_ref().map(|id| seal(v, id.as_str())),
        phone: c.phone.as_deref().map(|p| seal(v, p)),
        residency: c.residency,
        languages: c.languages,
    };
    Ok(sv.store.register().add_resident(&n, &ctx).await?)
}

/// Whether the caller may add residents: to `building` when named (its block's worker
/// or the secretary; another subdistrict's or an unknown one is not found), else to some building (a
/// worker or secretary of a neighbourhood). Checked before the input, so that nobody
/// learns from the answers what they may not touch.
pub async fn may_add(sv: &Services, who: &Caller, building: Option<BuildingId>) -> Result<()> {
    super::keeper(who)?;
    let Some(b) = building else {
        return Ok(());
    };
    let building = sv
        .store
        .places()
        .find(Entity::Building, b.get())
        .await?
        .filter(|b| b.subdistrict_id == who.actor.subdistrict_id && b.is_active())
        .ok_or(Error::NotFound)?;
    allowed(
        who.actor
            .may_know_block(&super::building_block(sv, &building).await?),
    )
}

/// A household as its block's worker or the secretary sees it.
#[derive(Debug, Clone)]
pub struct HouseholdView {
    pub household: Household,
    pub building_label: String,
    pub residents: Vec<Resident>,
    /// The tags the viewer may see, with their history.
    pub tags: Vec<CareTagRecord>,
    pub visits: Vec<Visit>,
    /// The tags the subdistrict's admins defined (for the tag form).
    pub kinds: Vec<doorstep_store::TagKind>,
    /// Seen through an open request of the caller's, not as the block's worker or
    /// secretary: to read, not to change (no forms, no reveal).
    pub read_only: bool,
}

/// How the caller may see a household: its building and block, whether she knows the
/// block, and otherwise the open requests of hers that came from visits to it (the case
/// grant). Refused when neither.
async fn access(
    sv: &Services,
    who: &Caller,
    h: &Household,
) -> Result<(
    doorstep_store::PlaceRecord,
    BlockPlace,
    bool,
    Vec<RequestId>,
)> {
    let (building, block) = super::household_place(sv, h).await?;
    let knows = who.actor.may_know_block(&block) == Decision::Allow;
    let cases = if knows {
        Vec::new()
    } else {
        sv.store
            .register()
            .open_cases(h.id, who.actor.account_id)
            .await?
    };
    allowed(who.actor.may_see_household(&block, !cases.is_empty()))?;
    Ok((building, block, knows, cases))
}

/// The household a request came from (a visit's finding), if the caller may open it.
pub async fn household_of_request(
    sv: &Services,
    who: &Caller,
    request: doorstep_domain::RequestId,
) -> Result<Option<HouseholdId>> {
    let reg = sv.store.register();
    let Some(id) = reg.household_of_request(request).await? else {
        return Ok(None);
    };
    let Some(h) = reg.find_household(id).await? else {
        return Ok(None);
    };
    match access(sv, who, &h).await {
        Ok(_) => Ok(Some(id)),
        Err(Error::Forbidden | Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn household(sv: &Services, who: &Caller, id: HouseholdId) -> Result<HouseholdView> {
    let reg = sv.store.register();
    let h = reg.find_household(id).await?.ok_or(Error::NotFound)?;
    let (building, block, knows, cases) = access(sv, who, &h).await?;
    let on_case = !cases.is_empty();
    let residents = reg.residents_of(&[id]).await?;
    let rids: Vec<_> = residents.iter().map(|r| r.id).collect();
    let kinds = reg.tag_kinds(who.actor.subdistrict_id).await?;
    let tags = reg
        .tags_of(&rids, true)
        .await?
        .into_iter()
        .filter(|t| super::may_see(who, &block, &t.tag, on_case, &kinds))
        .collect();
    let estate = match building.get("estate_id").as_i64() {
        Some(e) => sv
            .store
            .places()
            .find(Entity::Estate, e)
            .await?
            .map(|e| e.title())
            .unwrap_or_default(),
        None => String::new(),
    };
    Ok(HouseholdView {
        building_label: format!("{estate} {} {}", building.title(), h.room_label()),
        // On a case, the visits that made her requests, not the household's history
        // (notes of other visits can say what a hidden tag would).
        visits: reg
            .visits_to(id, 20)
            .await?
            .into_iter()
            .filter(|v| knows || v.request_id.is_some_and(|r| cases.contains(&r)))
            .collect(),
        kinds,
        read_only: !knows,
        household: h,
        residents,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn input(id: Option<&str>, phone: Option<&str>, birth: Option<&str>) -> ResidentInput {
        ResidentInput {
            building_id: Some(BuildingId(1)),
            room: "502".into(),
            name: "王秀英".into(),
            id_number: id.map(str::to_string),
            phone: phone.map(str::to_string),
            birth_date: birth.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn the_id_number_fills_in_and_checks_the_rest() {
        let c = check(
            &input(Some("11010519491231002X"), Some("138 0013 8000"), None),
            today(),
        )
        .unwrap();
        assert_eq!(c.sex, Some(Sex::Female));
        assert_eq!(c.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(c.phone.as_deref(), Some("13800138000"));
        let e = check(
            &input(
                Some("110105194912310021"),
                Some("12345"),
                Some("1950-01-01"),
            ),
            today(),
        )
        .unwrap_err();
        let codes: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert!(codes.contains(&("id_number", "id_checksum")), "{codes:?}");
        assert!(codes.contains(&("phone", "invalid_phone")), "{codes:?}");
        let e = check(
            &input(Some("11010519491231002X"), None, Some("1950-01-01")),
            today(),
        )
        .unwrap_err();
        assert_eq!(e.0[0].code, "id_mismatch");
        let mut long = input(None, None, None);
        long.unit = "12345678901".into();
        assert_eq!(check(&long, today()).unwrap_err().0[0].code, "too_long");
        let mut no_room = input(None, None, None);
        no_room.room.clear();
        assert_eq!(check(&no_room, today()).unwrap_err().0[0].field, "room");
    }
}

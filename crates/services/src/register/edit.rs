//! The register kept true: a resident's particulars corrected, care tags started and
//! ended (the history stays), a person who moved away or died archived, the tags and
//! visit plan an admin sets, and the retention rule that erases archived people's data.

use super::people::{ResidentInput, check};
use super::seal;
use crate::{Caller, Error, Result, Services};
use chrono::NaiveDate;
use doorstep_domain::people::{
    ArchiveReason, CareTag, DISABILITY_GRADES, DisabilityKind, HardshipKind, TAG_NOTE_MAX,
};
use doorstep_domain::{CareTagId, FieldErrors, ResidentId};
use doorstep_store::{Resident, ResidentPatch, TagKind};
use serde_json::json;

/// The prefix of an admin-defined tag's code (`custom:失独家庭`).
pub const CUSTOM: &str = "custom:";

/// A resident in the caller's scope with their household, for the correction form.
pub async fn for_correction(
    sv: &Services,
    who: &Caller,
    id: ResidentId,
) -> Result<(Resident, doorstep_store::Household)> {
    let r = super::resident(sv, who, id).await?;
    let h = sv
        .store
        .register()
        .find_household(r.household_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((r, h))
}

/// Corrects a resident read at `version`. The ID number and phone change only when given
/// (left blank they stay as they are); a new unit or room in the same building moves the
/// resident to that household.
pub async fn correct(
    sv: &Services,
    who: &Caller,
    id: ResidentId,
    version: i64,
    input: &ResidentInput,
) -> Result<Resident> {
    let (r, h) = for_correction(sv, who, id).await?;
    if r.version != version {
        // Before a new household is made for a save that will be refused anyway.
        return Err(doorstep_store::StoreError::VersionConflict { current: r.version }.into());
    }
    let mut input = input.clone();
    input.building_id = Some(h.building_id);
    let c = check(&input, sv.now().date_naive())?;
    let v = sv.vault()?;
    let ctx = sv.ctx(who);
    let household = if (c.unit.as_str(), c.room.as_str()) == (h.unit.as_str(), h.room.as_str()) {
        h.id
    } else {
        sv.store
            .register()
            .household(h.building_id, &c.unit, &c.room, &ctx)
            .await?
            .id
    };
    let patch = ResidentPatch {
        household_id: household,
        name: c.name,
        sex: c.sex,
        birth_date: c.birth_date,
        id_number: c.id_number.as_ref().map(|x| seal(v, x.as_str())),
        phone: c.phone.as_deref().map(|p| seal(v, p)),
        residency: c.residency,
        languages: c.languages,
    };
    Ok(sv
        .store
        .register()
        .correct_resident(id, version, &patch, &ctx)
        .await?)
}

/// Archives a resident who moved away, died, or was registered twice. The record stays
/// (counts of the past hold) until the retention rule erases its personal data. Returns
/// the record as it was.
pub async fn archive(
    sv: &Services,
    who: &Caller,
    id: ResidentId,
    reason: Option<&str>,
) -> Result<Resident> {
    let reason = reason
        .and_then(ArchiveReason::parse)
        .ok_or_else(|| Error::validation("reason", "invalid_choice"))?;
    let r = super::resident(sv, who, id).await?;
    sv.store
        .register()
        .archive_resident(id, reason.code(), &sv.ctx(who))
        .await?;
    Ok(r)
}

/// What the tag form says.
#[derive(Debug, Clone, Default)]
pub struct TagInput {
    /// A `CareTag` code or `custom:<name>`.
    pub tag: String,
    /// Disability: its kind; hardship: 低保, 低收入 or other.
    pub kind: Option<String>,
    /// Disability: its grade, 1 to 4.
    pub grade: Option<String>,
    pub note: Option<String>,
    /// Defaults to today.
    pub started_on: Option<String>,
}

/// Whether `code` is one of the seed's groups or an admin's tag (a retired one only when
/// `retired_too`: its plan may still be changed, but nobody is newly tagged with it).
fn known_tag(code: &str, custom: &[TagKind], retired_too: bool) -> bool {
    CareTag::parse(code).is_some()
        || code.strip_prefix(CUSTOM).is_some_and(|n| {
            custom
                .iter()
                .any(|k| k.name == n && (retired_too || !k.retired))
        })
}

/// Checks a tag against the seed's groups and the admin's, with its details.
pub fn check_tag(
    input: &TagInput,
    custom: &[TagKind],
    today: NaiveDate,
) -> Result<(String, serde_json::Value, Option<String>, NaiveDate), FieldErrors> {
    let mut e = FieldErrors::new();
    let tag = input.tag.trim();
    let builtin = CareTag::parse(tag);
    if !known_tag(tag, custom, false) {
        e.add("tag", "invalid_choice");
    }
    let mut detail = serde_json::Map::new();
    match (builtin, super::people::text(&input.kind)) {
        (Some(CareTag::Disability), Some(k)) => match DisabilityKind::parse(k) {
            Some(k) => {
                detail.insert("kind".into(), json!(k.code()));
            }
            None => e.add("kind", "invalid_choice"),
        },
        (Some(CareTag::Hardship), Some(k)) => match HardshipKind::parse(k) {
            Some(k) => {
                detail.insert("kind".into(), json!(k.code()));
            }
            None => e.add("kind", "invalid_choice"),
        },
        _ => {}
    }
    if let (Some(CareTag::Disability), Some(g)) = (builtin, super::people::text(&input.grade)) {
        match g.parse::<u8>() {
            Ok(g) if DISABILITY_GRADES.contains(&g) => {
                detail.insert("grade".into(), json!(g));
            }
            _ => e.add_with(
                "grade",
                "out_of_range",
                vec![
                    DISABILITY_GRADES.start().to_string(),
                    DISABILITY_GRADES.end().to_string(),
                ],
            ),
        }
    }
    let note = super::people::text(&input.note).map(str::to_string);
    if let Some(n) = &note {
        doorstep_domain::fields::check_text(&mut e, "note", n, TAG_NOTE_MAX, true);
    }
    let started_on = match super::people::text(&input.started_on) {
        None => today,
        Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if d <= today => d,
            Ok(_) => {
                e.add("started_on", "future_date");
                today
            }
            Err(_) => {
                e.add("started_on", "invalid_date");
                today
            }
        },
    };
    e.into_result((
        tag.to_string(),
        serde_json::Value::Object(detail),
        note,
        started_on,
    ))
}

/// Starts a tag for a resident (a tag already held is refused: end it first, so that the
/// history says when it changed).
pub async fn start_tag(
    sv: &Services,
    who: &Caller,
    id: ResidentId,
    input: &TagInput,
) -> Result<doorstep_store::CareTagRecord> {
    let r = super::resident(sv, who, id).await?;
    let reg = sv.store.register();
    let custom = reg.tag_kinds(who.actor.subdistrict_id).await?;
    let (tag, detail, note, started_on) = check_tag(input, &custom, sv.now().date_naive())?;
    if reg
        .tags_of(&[r.id], false)
        .await?
        .iter()
        .any(|t| t.tag == tag)
    {
        return Err(Error::validation("tag", "already_held"));
    }
    Ok(reg
        .start_tag(
            r.id,
            &tag,
            detail,
            note.as_deref(),
            started_on,
            &sv.ctx(who),
        )
        .await?)
}

/// Ends a tag on `ended_on` (today when not given; not before it started).
pub async fn end_tag(
    sv: &Services,
    who: &Caller,
    id: ResidentId,
    tag: CareTagId,
    ended_on: Option<&str>,
) -> Result<()> {
    let r = super::resident(sv, who, id).await?;
    let reg = sv.store.register();
    let t = reg
        .tags_of(&[r.id], false)
        .await?
        .into_iter()
        .find(|t| t.id == tag)
        .ok_or(Error::NotFound)?;
    let today = sv.now().date_naive();
    let on = match ended_on.map(str::trim).filter(|s| !s.is_empty()) {
        None => today,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| Error::validation("ended_on", "invalid_date"))?,
    };
    if on < t.started_on || on > today {
        return Err(Error::validation("ended_on", "invalid_period"));
    }
    Ok(reg.end_tag(tag, on, &sv.ctx(who)).await?)
}

fn admin_only(who: &Caller) -> Result<()> {
    if who.actor.may_configure_care() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The tags the subdistrict defined, for everyone who tags residents.
pub async fn tag_kinds(sv: &Services, who: &Caller) -> Result<Vec<TagKind>> {
    Ok(sv
        .store
        .register()
        .tag_kinds(who.actor.subdistrict_id)
        .await?)
}

/// An admin defines a tag (a name of up to 20 characters, not one of the seed's groups).
pub async fn define_tag_kind(
    sv: &Services,
    who: &Caller,
    name: &str,
    sensitive: bool,
) -> Result<()> {
    admin_only(who)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::validation("name", "required"));
    }
    if name.chars().count() > 20 {
        let mut e = FieldErrors::new();
        e.add_with("name", "too_long", vec!["20".into()]);
        return Err(Error::Validation(e));
    }
    if name.chars().any(|c| c.is_control() || c == ':') {
        return Err(Error::validation("name", "invalid_characters"));
    }
    let ctx = sv.ctx(who);
    Ok(sv
        .store
        .register()
        .define_tag_kind(who.actor.subdistrict_id, name, sensitive, &ctx)
        .await?)
}

pub async fn retire_tag_kind(sv: &Services, who: &Caller, name: &str) -> Result<()> {
    admin_only(who)?;
    Ok(sv
        .store
        .register()
        .retire_tag_kind(who.actor.subdistrict_id, name, &sv.ctx(who))
        .await?)
}

/// The longest gap a visit plan may ask for: a year. Zero takes a tag off the plan.
pub const PLAN_MAX_DAYS: i64 = 366;

/// An admin sets the days between visits for a tag (0: not on the plan).
pub async fn set_plan(sv: &Services, who: &Caller, tag: &str, days: &str) -> Result<()> {
    admin_only(who)?;
    let custom = tag_kinds(sv, who).await?;
    if !known_tag(tag, &custom, true) {
        return Err(Error::validation("tag", "invalid_choice"));
    }
    let days: i64 = days
        .trim()
        .parse()
        .map_err(|_| Error::validation("every_days", "not_integer"))?;
    if !(0..=PLAN_MAX_DAYS).contains(&days) {
        let mut e = FieldErrors::new();
        e.add_with(
            "every_days",
            "out_of_range",
            vec!["0".into(), PLAN_MAX_DAYS.to_string()],
        );
        return Err(Error::Validation(e));
    }
    Ok(sv
        .store
        .register()
        .set_plan(who.actor.subdistrict_id, tag, days, &sv.ctx(who))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_with_their_details() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let input = |tag: &str, kind: &str, grade: &str, on: &str| TagInput {
            tag: tag.into(),
            kind: Some(kind.into()),
            grade: Some(grade.into()),
            note: None,
            started_on: Some(on.into()),
        };
        let kinds = vec![
            TagKind {
                name: "失独家庭".into(),
                sensitive: true,
                retired: false,
            },
            TagKind {
                name: "旧标签".into(),
                sensitive: true,
                retired: true,
            },
        ];
        let (tag, detail, _, on) =
            check_tag(&input("disability", "physical", "2", ""), &kinds, today).unwrap();
        assert_eq!((tag.as_str(), on), ("disability", today));
        assert_eq!(detail, json!({"kind": "physical", "grade": 2}));
        // A grade or kind that belongs to another tag is not kept with this one.
        let (_, detail, _, _) = check_tag(
            &input("elderly_alone", "", "3", "2026-01-05"),
            &kinds,
            today,
        )
        .unwrap();
        assert_eq!(detail, json!({}));
        let codes = |i: TagInput| {
            check_tag(&i, &kinds, today)
                .unwrap_err()
                .0
                .iter()
                .map(|f| (f.field.clone(), f.code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            codes(input("disability", "x", "5", "2027-01-01")),
            vec![
                ("kind".to_string(), "invalid_choice"),
                ("grade".to_string(), "out_of_range"),
                ("started_on".to_string(), "future_date"),
            ]
        );
        assert!(check_tag(&input("custom:失独家庭", "", "", ""), &kinds, today).is_ok());
        assert_eq!(
            codes(input("custom:旧标签", "", "", "")),
            vec![("tag".to_string(), "invalid_choice")]
        );
        assert_eq!(
            codes(input("nonsense", "", "", "01/02/2026")),
            vec![
                ("tag".to_string(), "invalid_choice"),
                ("started_on".to_string(), "invalid_date"),
            ]
        );
    }
}

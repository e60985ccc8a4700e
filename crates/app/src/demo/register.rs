//! The demo's care register: for every building of every neighbourhood, its households
//! (units and rooms) and their residents, with valid-looking but invented ID numbers and
//! phones (sealed with the demo key), care tags in proportions a Pudong neighbourhood
//! might see. Marked as demo data. Generated from a fixed seed.

use super::data::{GIVEN, SURNAMES};
use super::demo_ctx;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use doorstep_domain::people::{CareTag, Residency, Sex, check_char};
use doorstep_domain::{BuildingId, Entity, Scope};
use doorstep_services::register::seal;
use doorstep_services::vault::Vault;
use doorstep_store::{ListQuery, RosterRow, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A valid ID number: Pudong's area code, the birth date, a sequence whose parity gives
/// the sex, and its check character.
pub(crate) fn id_number(
    birth: NaiveDate,
    male: bool,
    rng: &mut StdRng,
    taken: &mut std::collections::HashSet<String>,
) -> String {
    loop {
        let id = one_id_number(birth, male, rng);
        if taken.insert(id.clone()) {
            return id;
        }
    }
}

fn one_id_number(birth: NaiveDate, male: bool, rng: &mut StdRng) -> String {
    let seq = rng.random_range(0..500u32) * 2 + u32::from(male);
    let first = format!("310115{}{seq:03}", birth.format("%Y%m%d"));
    let mut digits = [0u32; 17];
    for (d, c) in digits.iter_mut().zip(first.chars()) {
        *d = c.to_digit(10).unwrap_or(0);
    }
    format!("{first}{}", check_char(&digits))
}

/// The people of one household: an elderly couple, a family, or someone on their own.
pub(crate) fn household(rng: &mut StdRng, today: NaiveDate) -> Vec<(String, bool, NaiveDate)> {
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let person = |rng: &mut StdRng, age: i64, male: bool| {
        let given = GIVEN[rng.random_range(0..GIVEN.len())];
        let birth = today - Duration::days(age * 365 + rng.random_range(0..365));
        (format!("{surname}{given}"), male, birth)
    };
    match rng.random_range(0..10) {
        0..=2 => {
            let (age, male) = (rng.random_range(62..90), rng.random_bool(0.4));
            vec![person(rng, age, male)]
        }
        3..=5 => {
            let (a, b) = (rng.random_range(60..85), rng.random_range(58..83));
            vec![person(rng, a, true), person(rng, b, false)]
        }
        _ => {
            let parent = rng.random_range(32..55);
            let (partner, child, boy) = (
                parent - rng.random_range(0..4),
                rng.random_range(3..20),
                rng.random_bool(0.5),
            );
            vec![
                person(rng, parent, true),
                person(rng, partner, false),
                person(rng, child, boy),
            ]
        }
    }
}

/// The tags of a person, by age and a die.
pub(crate) fn tags(rng: &mut StdRng, age: u32, alone: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut maybe = |t: CareTag, p: f64, rng: &mut StdRng| {
        if rng.random_bool(p) {
            out.push(t.code().to_string());
        }
    };
    if alone && age >= 65 {
        maybe(CareTag::ElderlyAlone, 0.7, rng);
    }
    maybe(
        CareTag::SeriousIllness,
        if age >= 60 { 0.04 } else { 0.01 },
        rng,
    );
    maybe(CareTag::Disability, 0.025, rng);
    maybe(CareTag::MentalDisorder, 0.004, rng);
    maybe(CareTag::Hardship, 0.02, rng);
    if (25..75).contains(&age) {
        maybe(CareTag::CoreVolunteer, 0.02, rng);
    }
    out
}

/// Loads the demo register once (nothing when residents are already there). Households
/// per building follow the building's recorded households, at most `per_building`.
pub async fn add_register(
    store: &Store,
    vault: &Vault,
    now: DateTime<Utc>,
    per_building: i64,
) -> anyhow::Result<usize> {
    let Some(sd) = store.places().first_subdistrict().await? else {
        return Ok(0);
    };
    let sd = sd.subdistrict_id;
    let scope = Scope::Subdistrict(sd);
    let buildings = store
        .places()
        .list(Entity::Building, &ListQuery::new(scope).all())
        .await?
        .items;
    let first: Vec<BuildingId> = buildings.iter().take(1).map(|b| BuildingId(b.id)).collect();
    if !store.register().households_in(&first).await?.is_empty() {
        return Ok(0);
    }
    let mut rng = StdRng::seed_from_u64(11643);
    let today = now.date_naive();
    let since = NaiveDate::from_ymd_opt(today.year() - 1, 1, 1).unwrap_or(today);
    let ctx = demo_ctx(Some(sd), now);
    let mut loaded = 0;
    let mut taken = std::collections::HashSet::new();
    let mut rows = Vec::new();
    for b in &buildings {
        let floors = b.get("floors").as_i64().unwrap_or(6).clamp(1, 30);
        let n = b
            .get("households")
            .as_i64()
            .unwrap_or(12)
            .clamp(1, per_building);
        for k in 0..n {
            let room = format!("{}{:02}", k / 4 % floors + 1, k % 4 + 1);
            let unit = (k / (4 * floors) + 1).to_string();
            let people = household(&mut rng, today);
            let alone = people.len() == 1;
            for (name, male, birth) in people {
                let age = doorstep_domain::people::age_on(birth, today);
                let phone = format!("139{:08}", rng.random_range(0..100_000_000u32));
                rows.push(RosterRow {
                    building_id: BuildingId(b.id),
                    unit: unit.clone(),
                    room: room.clone(),
                    name,
                    sex: Some(if male { Sex::Male } else { Sex::Female }),
                    birth_date: Some(birth),
                    id_number: Some(seal(vault, &id_number(birth, male, &mut rng, &mut taken))),
                    phone: (age >= 16).then(|| seal(vault, &phone)),
                    residency: if rng.random_bool(0.85) {
                        Residency::Registered
                    } else {
                        Residency::LivingHere
                    },
                    tags: tags(&mut rng, age, alone),
                    tags_since: since,
                });
            }
        }
        // A few thousand rows a transaction.
        if rows.len() >= 4000 {
            loaded += rows.len();
            store.register().import(sd, &rows, &ctx).await?;
            rows.clear();
        }
    }
    if !rows.is_empty() {
        loaded += rows.len();
        store.register().import(sd, &rows, &ctx).await?;
    }
    super::visits::add_visits(store, sd, now).await?;
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_id_numbers_are_valid_and_say_birth_and_sex() {
        let mut rng = StdRng::seed_from_u64(1);
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for male in [true, false] {
            let birth = NaiveDate::from_ymd_opt(1950, 2, 3).unwrap();
            let id = id_number(birth, male, &mut rng, &mut std::collections::HashSet::new());
            let parsed = doorstep_domain::people::IdNumber::parse(&id, today).unwrap();
            assert_eq!(parsed.birth_date(), birth);
            assert_eq!(parsed.is_male(), male);
        }
    }
}

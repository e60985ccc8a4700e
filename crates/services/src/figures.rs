//! Request figures per neighbourhood and period (volume by kind and category, on-time
//! rate, on-the-spot share 直办率, resolution and satisfaction rates, median time to
//! resolve), for the figures page and the API.

use crate::audit::shanghai_midnight;
use crate::{Error, Result, Services};
use chrono::{Duration, NaiveDate};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::{Actor, Entity, NeighbourhoodId, Scope};
use doorstep_store::{FigureQuery, Figures};
use std::collections::HashMap;

/// The longest period figures cover at once.
pub const MAX_DAYS: i64 = 3 * 366;

/// A period of whole days in Shanghai, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `from`/`to` as given, by default the 30 days ending `today`; checked.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>, today: NaiveDate) -> Result<Period> {
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - Duration::days(29));
        if from > to || (to - from).num_days() >= MAX_DAYS {
            return Err(Error::validation("from", "invalid_period"));
        }
        Ok(Period { from, to })
    }
}

/// Today's date in Shanghai.
pub fn today(sv: &Services) -> NaiveDate {
    sv.now().with_timezone(&Shanghai).date_naive()
}

/// The figures of the caller's scope for a period: admins choose a neighbourhood (or
/// all), staff see their own neighbourhood; a neighbourhood of another subdistrict is not
/// found.
pub async fn load(
    sv: &Services,
    who: &Actor,
    neighbourhood: Option<NeighbourhoodId>,
    period: Period,
) -> Result<Figures> {
    let nb = who
        .request_neighbourhood(neighbourhood)
        .map_err(|_| Error::Forbidden)?;
    if let Some(n) = nb {
        match sv
            .store
            .places()
            .find(Entity::Neighbourhood, n.get())
            .await?
        {
            Some(r) if r.subdistrict_id == who.subdistrict_id => {}
            _ => return Err(Error::NotFound),
        }
    }
    let q = FigureQuery {
        subdistrict_id: who.subdistrict_id,
        neighbourhood_id: nb,
        from: shanghai_midnight(period.from),
        to: shanghai_midnight(period.to + Duration::days(1)),
        now: sv.now(),
    };
    Ok(sv.store.figures().requests(&q).await?)
}

/// The names of the neighbourhoods of the caller's subdistrict.
pub async fn neighbourhood_names(
    sv: &Services,
    who: &Actor,
) -> Result<HashMap<NeighbourhoodId, String>> {
    let nbs = crate::places::all_in(
        sv,
        Entity::Neighbourhood,
        Scope::Subdistrict(who.subdistrict_id),
    )
    .await?;
    Ok(nbs
        .iter()
        .map(|n| (NeighbourhoodId(n.id), n.title()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_default_to_thirty_days_and_refuse_nonsense() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let p = Period::new(None, None, today).unwrap();
        assert_eq!(
            (p.from.to_string(), p.to.to_string()),
            ("2026-10-30".into(), "2026-11-28".into())
        );
        assert!(Period::new(d("2026-12-01"), d("2026-11-01"), today).is_err());
        assert!(
            Period::new(d("2020-01-01"), None, today).is_err(),
            "too long"
        );
        let one = Period::new(d("2026-11-01"), d("2026-11-01"), today).unwrap();
        assert_eq!(one.from, one.to);
    }

    #[test]
    fn days_start_at_shanghai_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(
            shanghai_midnight(d).to_rfc3339(),
            "2026-11-27T16:00:00+00:00"
        );
    }
}

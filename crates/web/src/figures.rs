//! Request figures per neighbourhood and period (volume by kind and category, on-time
//! rate, on-the-spot share 直办率, resolution and satisfaction rates, median time to
//! resolve), shared by the figures page and the API.

use crate::auth::CurrentUser;
use crate::{AppError, AppState};
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Asia::Shanghai;
use doorstep_domain::{Entity, Role, Scope};
use doorstep_store::{FigureQuery, FigureRow, Figures, ListQuery};
use serde_json::json;
use std::collections::HashMap;

/// The longest period figures cover at once.
pub const MAX_DAYS: i64 = 3 * 366;

/// A period of whole days in Shanghai, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Reads `from`/`to` (`YYYY-MM-DD`); by default the 30 days ending today.
pub fn period(p: &HashMap<String, String>, today: NaiveDate) -> Result<Period, AppError> {
    let date = |k: &str| {
        p.get(k)
            .filter(|v| !v.is_empty())
            .map(|v| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|_| AppError::validation(k, "invalid_date"))
            })
            .transpose()
    };
    let to = date("to")?.unwrap_or(today);
    let from = date("from")?.unwrap_or(to - Duration::days(29));
    if from > to || (to - from).num_days() >= MAX_DAYS {
        return Err(AppError::validation("from", "invalid_period"));
    }
    Ok(Period { from, to })
}

fn midnight(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    Shanghai
        .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default()
}

/// Which neighbourhood the caller's figures cover: admins choose (or all), staff see
/// their own neighbourhood.
pub fn scope_neighbourhood(
    user: &CurrentUser,
    asked: Option<i64>,
) -> Result<Option<i64>, AppError> {
    let a = &user.actor;
    match a.role {
        Role::Admin => Ok(asked),
        Role::Secretary | Role::Worker => match (asked, a.neighbourhood_id) {
            (Some(n), Some(mine)) if n != mine => Err(AppError::Forbidden),
            (_, Some(mine)) => Ok(Some(mine)),
            (_, None) => Err(AppError::Forbidden),
        },
        _ => Err(AppError::Forbidden),
    }
}

/// The figures of the caller's scope for a period.
pub async fn load(
    state: &AppState,
    user: &CurrentUser,
    neighbourhood: Option<i64>,
    period: Period,
) -> Result<Figures, AppError> {
    let q = FigureQuery {
        subdistrict_id: user.actor.subdistrict_id,
        neighbourhood_id: scope_neighbourhood(user, neighbourhood)?,
        from: midnight(period.from),
        to: midnight(period.to + Duration::days(1)),
        now: state.clock.now(),
    };
    Ok(state.store.request_figures(&q).await?)
}

/// The neighbourhoods' names in the caller's subdistrict.
pub async fn neighbourhood_names(
    state: &AppState,
    user: &CurrentUser,
) -> Result<HashMap<i64, String>, AppError> {
    let nbs = state
        .store
        .list_places(
            Entity::Neighbourhood,
            &ListQuery::new(Scope::Subdistrict(user.actor.subdistrict_id)).all(),
        )
        .await?;
    Ok(nbs.items.iter().map(|n| (n.id, n.title())).collect())
}

fn rate(x: Option<f64>) -> serde_json::Value {
    x.map(|v| (v * 1000.0).round() / 1000.0).into()
}

/// One row with its rates, as the API gives it.
pub fn row_json(r: &FigureRow, name: Option<&String>) -> serde_json::Value {
    json!({
        "neighbourhood_id": r.neighbourhood_id,
        "neighbourhood": name,
        "total": r.total,
        "open": r.open,
        "overdue_open": r.overdue_open,
        "on_spot": r.on_spot,
        "resolved": r.resolved,
        "due": r.due,
        "on_time": r.on_time,
        "rated": r.rated,
        "satisfied": r.satisfied,
        "merged": r.merged,
        "on_time_rate": rate(r.on_time_rate()),
        "on_spot_rate": rate(r.on_spot_rate()),
        "resolution_rate": rate(r.resolution_rate()),
        "satisfaction_rate": rate(r.satisfaction_rate()),
        "median_hours_to_resolve": r.median_resolve_secs.map(|s| (s as f64 / 360.0).round() / 10.0),
    })
}

pub fn figures_json(
    f: &Figures,
    period: Period,
    names: &HashMap<i64, String>,
) -> serde_json::Value {
    json!({
        "from": period.from.to_string(),
        "to": period.to.to_string(),
        "overall": row_json(&f.overall, f.overall.neighbourhood_id.and_then(|n| names.get(&n))),
        "neighbourhoods": f.neighbourhoods.iter().map(|r| row_json(r, r.neighbourhood_id.and_then(|n| names.get(&n)))).collect::<Vec<_>>(),
        "by_kind": f.by_kind,
        "by_category": f.by_category,
        "definitions": {
            "on_time_rate": "resolved by the deadline ÷ (resolved + open past the deadline)",
            "on_spot_rate": "resolved on the spot ÷ received",
            "resolution_rate": "resolved or closed ÷ received",
            "satisfaction_rate": "rated satisfied or basically satisfied ÷ rated",
            "median_hours_to_resolve": "median of intake → latest resolution, resolved requests only",
            "merged": "duplicates merged into another request; left out of every other figure"
        }
    })
}

/// Today's date in Shanghai.
pub fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&Shanghai).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_default_to_thirty_days_and_refuse_nonsense() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let p = |pairs: &[(&str, &str)]| {
            period(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                today,
            )
        };
        let d = p(&[]).unwrap();
        assert_eq!(
            (d.from.to_string(), d.to.to_string()),
            ("2026-10-30".into(), "2026-11-28".into())
        );
        assert!(p(&[("from", "2026-12-01"), ("to", "2026-11-01")]).is_err());
        assert!(p(&[("from", "28/11/2026")]).is_err());
        assert!(p(&[("from", "2020-01-01")]).is_err(), "too long");
        assert_eq!(
            p(&[("from", "2026-11-01"), ("to", "2026-11-01")])
                .unwrap()
                .from,
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
    }

    #[test]
    fn days_start_at_shanghai_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(midnight(d).to_rfc3339(), "2026-11-27T16:00:00+00:00");
    }
}

//! The working-day calendar: weekends, public holidays and adjusted working days (调休),
//! from a table that deployments can replace. Deadlines of requests count working days.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use std::collections::{BTreeMap, BTreeSet};

const BUILT_IN: &str = include_str!("calendar_cn.toml");

/// Why a calendar table was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CalendarError {
    #[error("calendar table: {0}")]
    Syntax(String),
    #[error("calendar table, year {year}: `{value}` is not a date or a range FIRST..LAST")]
    Date { year: String, value: String },
    #[error("calendar table, year {year}: {date} is both a holiday and a working day")]
    Both { year: String, date: NaiveDate },
}

/// Working days in China (or wherever the table says).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    /// The years the table covers, with where each came from.
    pub years: BTreeMap<i32, String>,
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

fn expand(year: &str, v: &str) -> Result<Vec<NaiveDate>, CalendarError> {
    let bad = || CalendarError::Date {
        year: year.into(),
        value: v.into(),
    };
    match v.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (parse_day(a).ok_or_else(bad)?, parse_day(b).ok_or_else(bad)?);
            if b < a || (b - a).num_days() > 366 {
                return Err(bad());
            }
            Ok(a.iter_days().take_while(|d| *d <= b).collect())
        }
        None => Ok(vec![parse_day(v).ok_or_else(bad)?]),
    }
}

impl WorkCalendar {
    /// The built-in table: 2026 as the State Council published it, 2027 provisional. An
    /// error here is a broken build: callers stop rather than count weekends alone, which
    /// would give residents wrong deadlines.
    pub fn china() -> Result<WorkCalendar, CalendarError> {
        Self::from_toml(BUILT_IN)
    }

    pub fn from_toml(src: &str) -> Result<WorkCalendar, CalendarError> {
        let table: toml::Table = src
            .parse()
            .map_err(|e: toml::de::Error| CalendarError::Syntax(e.to_string()))?;
        let mut cal = WorkCalendar {
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
            years: BTreeMap::new(),
        };
        for (year, section) in &table {
            let y: i32 = year
                .parse()
                .map_err(|_| CalendarError::Syntax(format!("`{year}` is not a year")))?;
            let list = |key: &str| -> Result<Vec<NaiveDate>, CalendarError> {
                let mut out = Vec::new();
                if let Some(arr) = section.get(key).and_then(|v| v.as_array()) {
                    for v in arr {
                        let s = v.as_str().ok_or_else(|| CalendarError::Date {
                            year: year.clone(),
                            value: v.to_string(),
                        })?;
                        out.extend(expand(year, s)?);
                    }
                }
                Ok(out)
            };
            let (h, w) = (list("holidays")?, list("workdays")?);
            for d in &w {
                if h.contains(d) {
                    return Err(CalendarError::Both {
                        year: year.clone(),
                        date: *d,
                    });
                }
            }
            cal.holidays.extend(h);
            cal.workdays.extend(w);
            let source = section
                .get("source")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            cal.years.insert(y, source);
        }
        Ok(cal)
    }

    /// This calendar with the years `other` lists taken from `other` (a deployment's table
    /// adds a year the State Council has just published, or corrects one), the rest kept.
    pub fn with_years_from(mut self, other: WorkCalendar) -> WorkCalendar {
        let replaced = |d: &NaiveDate| other.years.contains_key(&d.year());
        self.holidays.retain(|d| !replaced(d));
        self.workdays.retain(|d| !replaced(d));
        self.holidays.extend(other.holidays);
        self.workdays.extend(other.workdays);
        self.years.extend(other.years);
        self
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The `n`-th working day after `day` (not counting `day` itself).
    pub fn nth_working_day_after(&self, day: NaiveDate, n: u32) -> NaiveDate {
        let mut d = day;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// A deadline `n` working days after `at`: the end (midnight, Shanghai time) of the
    /// `n`-th working day after the day `at` falls on.
    pub fn deadline(&self, at: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let local_day = at.with_timezone(&Shanghai).date_naive();
        let last = self.nth_working_day_after(local_day, n);
        let end = (last + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        Shanghai
            .from_local_datetime(&end)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(at)
    }

    /// Working days from `from`'s day to `to`'s day (negative when `to` is earlier).
    pub fn working_days_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let (a, b) = (
            from.with_timezone(&Shanghai).date_naive(),
            to.with_timezone(&Shanghai).date_naive(),
        );
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        sign * lo
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= hi)
            .filter(|d| self.is_working_day(*d))
            .count() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn the_2026_arrangement() {
        let c = WorkCalendar::china().unwrap();
        assert!(!c.is_working_day(d("2026-02-16")), "Spring Festival");
        assert!(
            c.is_working_day(d("2026-02-14")),
            "an adjusted working Saturday"
        );
        assert!(
            c.is_working_day(d("2026-01-04")),
            "an adjusted working Sunday"
        );
        assert!(!c.is_working_day(d("2026-10-07")));
        assert!(c.is_working_day(d("2026-10-10")));
        assert!(!c.is_working_day(d("2026-11-28")), "an ordinary Saturday");
        assert!(c.is_working_day(d("2026-11-30")));
        assert!(
            !c.is_working_day(d("2027-02-08")),
            "provisional 2027 Spring Festival"
        );
        assert_eq!(c.years.len(), 2);
    }

    #[test]
    fn deadlines_skip_holidays_and_use_adjusted_working_days() {
        let c = WorkCalendar::china().unwrap();
        // Friday 2026-02-13 10:00 Shanghai: the next working day is Saturday 02-14 (调休),
        // then the Spring Festival until 02-23; 02-24 is the second working day.
        let at = Shanghai
            .with_ymd_and_hms(2026, 2, 13, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(c.nth_working_day_after(d("2026-02-13"), 1), d("2026-02-14"));
        assert_eq!(c.nth_working_day_after(d("2026-02-13"), 2), d("2026-02-24"));
        let dl = c.deadline(at, 1);
        assert_eq!(
            dl,
            Shanghai
                .with_ymd_and_hms(2026, 2, 15, 0, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        );
        // Five working days from Thursday 2026-09-24 (Mid-Autumn, then National Day).
        assert_eq!(c.nth_working_day_after(d("2026-09-24"), 5), d("2026-10-09"));
        assert_eq!(c.working_days_between(at, c.deadline(at, 5)), 6);
    }

    #[test]
    fn a_deployment_table_replaces_the_years_it_lists() {
        let local = WorkCalendar::from_toml(
            "[2027]\nsource = \"local\"\nholidays = [\"2027-03-01\"]\n\
             [2028]\nsource = \"2028 notice\"\nholidays = [\"2028-01-03\"]\nworkdays = [\"2028-01-08\"]",
        )
        .unwrap();
        let c = WorkCalendar::china().unwrap().with_years_from(local);
        // 2026 untouched: the Spring Festival is still off, its 调休 Saturday still worked.
        assert!(!c.is_working_day(d("2026-02-16")));
        assert!(c.is_working_day(d("2026-02-14")));
        // 2027 replaced whole: its built-in Spring Festival is gone, the local day is off.
        assert!(
            c.is_working_day(d("2027-02-08")),
            "a Monday, no longer a holiday"
        );
        assert!(!c.is_working_day(d("2027-03-01")));
        // 2028 added.
        assert!(!c.is_working_day(d("2028-01-03")));
        assert!(c.is_working_day(d("2028-01-08")), "a Saturday worked");
        assert_eq!(c.years[&2027], "local");
        assert_eq!(c.years[&2028], "2028 notice");
    }

    #[test]
    fn bad_tables_are_refused_with_the_reason() {
        assert!(matches!(
            WorkCalendar::from_toml("[2026]\nholidays = [\"2026-13-01\"]"),
            Err(CalendarError::Date { .. })
        ));
        assert!(matches!(
            WorkCalendar::from_toml(
                "[2026]\nholidays = [\"2026-05-01\"]\nworkdays = [\"2026-05-01\"]"
            ),
            Err(CalendarError::Both { .. })
        ));
        assert!(matches!(
            WorkCalendar::from_toml("[x]\n"),
            Err(CalendarError::Syntax(_))
        ));
        assert!(matches!(
            WorkCalendar::from_toml("[2026]\nholidays = [\"2026-05-05..2026-05-01\"]"),
            Err(CalendarError::Date { .. })
        ));
    }

    proptest! {
        #[test]
        fn deadlines_land_on_working_days_and_count_exactly(day in 0i64..700, n in 1u32..20) {
            let c = WorkCalendar::china().unwrap();
            let start = d("2026-01-01") + Duration::days(day);
            let end = c.nth_working_day_after(start, n);
            prop_assert!(c.is_working_day(end));
            let counted = start.iter_days().skip(1).take_while(|x| *x <= end).filter(|x| c.is_working_day(*x)).count();
            prop_assert_eq!(counted as u32, n);
        }
    }
}

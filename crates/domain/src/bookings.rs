//! Room bookings (一室多用: one room, many uses): a booking holds a station room for a
//! stretch of one day, once or repeating weekly, every other week or monthly until a
//! date, with dates left out. Two bookings of one room never overlap; this module says
//! which times a booking asks for and whether two stretches meet, and the store checks
//! it against what is booked inside the write.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

/// The longest a repeating booking may run, first to last date.
pub const MAX_SPAN_DAYS: i64 = 366;
/// The longest one occurrence may last (a day's opening).
pub const MAX_HOURS: i64 = 14;
/// The most characters of a booking's purpose.
pub const MAX_PURPOSE_CHARS: usize = 100;

crate::coded_enum! {
    /// How a booking repeats.
    pub enum Repeat {
        /// Once a week, on the first date's weekday.
        Weekly = "weekly",
        /// Every other week.
        Biweekly = "biweekly",
        /// Once a month, on the same weekday of the same week of the month (the first
        /// Wednesday…; the last, when the first date is in the month's last seven days).
        Monthly = "monthly",
    }
}

crate::coded_enum! {
    /// Where a booking stands. Pending and confirmed ones hold the room.
    pub enum BookingState {
        /// Waiting for the station's approval (a station may want to approve residents'
        /// and teams' bookings).
        Pending = "pending",
        Confirmed = "confirmed",
        Rejected = "rejected",
        Cancelled = "cancelled",
    }
}

impl BookingState {
    /// Whether a booking in this state keeps others out of the room.
    pub fn holds_room(self) -> bool {
        matches!(self, BookingState::Pending | BookingState::Confirmed)
    }

    /// Whether a booking may move from this state to `next`: a pending one is approved,
    /// rejected or cancelled, a confirmed one cancelled; nothing comes back (a freed
    /// stretch may have been booked since).
    pub fn may_become(self, next: BookingState) -> bool {
        use BookingState::*;
        matches!(
            (self, next),
            (Pending, Confirmed | Rejected | Cancelled) | (Confirmed, Cancelled)
        )
    }
}

/// A repeat rule: how, until which date (included), and the dates left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    pub repeat: Repeat,
    pub until: NaiveDate,
    #[serde(default)]
    pub except: Vec<NaiveDate>,
}

/// What a booking asks for: a first date, the local (Shanghai) times, and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub first: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub recurrence: Option<Recurrence>,
}

/// Why a schedule is refused: the field and the code.
pub type ScheduleError = (&'static str, &'static str);

/// The week of the month a date falls in (1–4), or 5 for "the last".
fn week_of_month(d: NaiveDate) -> u32 {
    let next_week = d + Duration::days(7);
    if next_week.month() != d.month() {
        5
    } else {
        (d.day() - 1) / 7 + 1
    }
}

/// The date in `year`/`month` on `weekday` of week `n` (5: the last), if the month has it.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u32) -> Option<NaiveDate> {
    if n == 5 {
        let first_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        let mut d = first_next - Duration::days(1);
        while d.weekday() != weekday {
            d -= Duration::days(1);
        }
        Some(d)
    } else {
        NaiveDate::from_weekday_of_month_opt(year, month, weekday, u8::try_from(n).ok()?)
    }
}

impl Schedule {
    /// The dates of the booking, first to last, without the left-out ones; or why the
    /// schedule is refused.
    pub fn dates(&self) -> Result<Vec<NaiveDate>, ScheduleError> {
        if self.end <= self.start {
            return Err(("end", "end_before_start"));
        }
        if self.end - self.start > Duration::hours(MAX_HOURS) {
            return Err(("end", "longer_than_a_day"));
        }
        let Some(r) = &self.recurrence else {
            return Ok(vec![self.first]);
        };
        if r.until < self.first {
            return Err(("until", "before_first"));
        }
        if (r.until - self.first).num_days() > MAX_SPAN_DAYS {
            return Err(("until", "too_far"));
        }
        let mut out = Vec::new();
        let mut d = self.first;
        let (weekday, week) = (self.first.weekday(), week_of_month(self.first));
        let mut month_step = 0u32;
        while d <= r.until {
            if !r.except.contains(&d) {
                out.push(d);
            }
            d = match r.repeat {
                Repeat::Weekly => d + Duration::days(7),
                Repeat::Biweekly => d + Duration::days(14),
                Repeat::Monthly => {
                    month_step += 1;
                    let months = self.first.month0() + month_step;
                    let year = self.first.year() + i32::try_from(months / 12).unwrap_or(0);
                    match nth_weekday(year, months % 12 + 1, weekday, week) {
                        Some(next) => next,
                        None => break,
                    }
                }
            };
        }
        if r.except.iter().any(|x| !(self.first..=r.until).contains(x)) {
            return Err(("except", "outside_series"));
        }
        if out.is_empty() {
            return Err(("except", "nothing_left"));
        }
        Ok(out)
    }

    /// The stretches of time the booking holds, as instants, first first.
    pub fn stretches(&self) -> Result<Vec<Stretch>, ScheduleError> {
        let at = |d: NaiveDate, t: NaiveTime| {
            Shanghai
                .from_local_datetime(&d.and_time(t))
                .single()
                .map(|x| x.with_timezone(&Utc))
                .ok_or(("start", "invalid"))
        };
        self.dates()?
            .into_iter()
            .map(|d| {
                Ok(Stretch {
                    start: at(d, self.start)?,
                    end: at(d, self.end)?,
                })
            })
            .collect()
    }
}

/// A stretch of time, its end excluded: a booking until 10:00 and another from 10:00
/// do not meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stretch {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Stretch {
    pub fn meets(&self, other: &Stretch) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn time(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn schedule(first: &str, repeat: Option<(Repeat, &str, &[&str])>) -> Schedule {
        Schedule {
            first: day(first),
            start: time("14:00"),
            end: time("16:00"),
            recurrence: repeat.map(|(repeat, until, except)| Recurrence {
                repeat,
                until: day(until),
                except: except.iter().map(|d| day(d)).collect(),
            }),
        }
    }

    #[test]
    fn repeats_weekly_fortnightly_and_monthly_with_dates_left_out() {
        let w = schedule(
            "2026-12-02",
            Some((Repeat::Weekly, "2026-12-30", &["2026-12-23"])),
        );
        let dates: Vec<String> = w.dates().unwrap().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            dates,
            ["2026-12-02", "2026-12-09", "2026-12-16", "2026-12-30"]
        );
        let b = schedule("2026-12-02", Some((Repeat::Biweekly, "2027-01-13", &[])));
        assert_eq!(b.dates().unwrap().len(), 4);
        // The first Wednesday of each month…
        let m = schedule("2026-12-02", Some((Repeat::Monthly, "2027-03-31", &[])));
        let dates: Vec<String> = m.dates().unwrap().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            dates,
            ["2026-12-02", "2027-01-06", "2027-02-03", "2027-03-03"]
        );
        // …and the last Thursday, when the first date is in the month's last week.
        let last = schedule("2026-12-31", Some((Repeat::Monthly, "2027-03-31", &[])));
        let dates: Vec<String> = last
            .dates()
            .unwrap()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            dates,
            ["2026-12-31", "2027-01-28", "2027-02-25", "2027-03-25"]
        );
    }

    #[test]
    fn bad_schedules_name_the_field() {
        let mut s = schedule("2026-12-02", None);
        s.end = time("13:00");
        assert_eq!(s.dates(), Err(("end", "end_before_start")));
        s.end = time("23:30");
        s.start = time("07:00");
        assert_eq!(s.dates(), Err(("end", "longer_than_a_day")));
        let s = schedule("2026-12-02", Some((Repeat::Weekly, "2026-11-01", &[])));
        assert_eq!(s.dates(), Err(("until", "before_first")));
        let s = schedule("2026-12-02", Some((Repeat::Weekly, "2028-01-01", &[])));
        assert_eq!(s.dates(), Err(("until", "too_far")));
        let s = schedule(
            "2026-12-02",
            Some((Repeat::Weekly, "2026-12-09", &["2027-05-05"])),
        );
        assert_eq!(s.dates(), Err(("except", "outside_series")));
        let s = schedule(
            "2026-12-02",
            Some((Repeat::Weekly, "2026-12-02", &["2026-12-02"])),
        );
        assert_eq!(s.dates(), Err(("except", "nothing_left")));
    }

    #[test]
    fn times_are_shanghai_and_ends_are_excluded() {
        let s = schedule("2026-12-02", None).stretches().unwrap();
        assert_eq!(s[0].start.to_rfc3339(), "2026-12-02T06:00:00+00:00");
        let next = Stretch {
            start: s[0].end,
            end: s[0].end + Duration::hours(1),
        };
        assert!(!s[0].meets(&next) && !next.meets(&s[0]));
        let inside = Stretch {
            start: s[0].start + Duration::minutes(30),
            end: s[0].end - Duration::minutes(30),
        };
        assert!(s[0].meets(&inside) && inside.meets(&s[0]));
    }

    proptest! {
        /// Whatever the rule, the dates are in order, on the first date's weekday, within
        /// the series, never a left-out one, and at most one a week.
        #[test]
        fn dates_keep_the_rule(offset in 0i64..400, span in 0i64..366, repeat in 0usize..3, skip in proptest::collection::vec(0i64..366, 0..5)) {
            let first = day("2026-01-01") + Duration::days(offset);
            let until = first + Duration::days(span);
            let except: Vec<NaiveDate> = skip.iter().map(|k| first + Duration::days(k % (span + 1))).collect();
            let s = Schedule {
                first,
                start: time("09:00"),
                end: time("10:00"),
                recurrence: Some(Recurrence { repeat: Repeat::ALL[repeat], until, except: except.clone() }),
            };
            match s.dates() {
                Ok(dates) => {
                    prop_assert!(dates.windows(2).all(|w| (w[1] - w[0]).num_days() >= 7));
                    prop_assert!(dates.iter().all(|d| d.weekday() == first.weekday()));
                    prop_assert!(dates.iter().all(|d| (first..=until).contains(d) && !except.contains(d)));
                }
                Err(e) => prop_assert_eq!(e, ("except", "nothing_left")),
            }
        }
    }
}

//! A station's opening hours as people write them ("周一至周五 8:30–17:00，周六
//! 9:00-12:00"), read into hours per weekday: what a room's use is measured against
//! (hours booked ÷ hours open, the figure behind 一室多用).

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};

/// Open stretches per weekday (Monday first), in minutes from midnight, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpeningHours {
    pub days: [Vec<(u32, u32)>; 7],
}

const DAY_NAMES: [(&str, usize); 14] = [
    ("周一", 0),
    ("周二", 1),
    ("周三", 2),
    ("周四", 3),
    ("周五", 4),
    ("周六", 5),
    ("周日", 6),
    ("周天", 6),
    ("星期一", 0),
    ("星期二", 1),
    ("星期三", 2),
    ("星期四", 3),
    ("星期五", 4),
    ("星期六", 5),
];

/// The weekday a text starts with, and what follows it.
fn weekday(s: &str) -> Option<(usize, &str)> {
    if let Some(rest) = s
        .strip_prefix("星期日")
        .or_else(|| s.strip_prefix("星期天"))
    {
        return Some((6, rest));
    }
    DAY_NAMES
        .iter()
        .find_map(|(name, d)| s.strip_prefix(name).map(|rest| (*d, rest)))
}

/// The days a segment names, and the rest of it (the times).
fn days(s: &str) -> Option<([bool; 7], &str)> {
    let mut on = [false; 7];
    for (word, range) in [
        ("每天", 0..7),
        ("每日", 0..7),
        ("工作日", 0..5),
        ("周末", 5..7),
    ] {
        if let Some(rest) = s.strip_prefix(word) {
            range.for_each(|d| on[d] = true);
            return Some((on, rest));
        }
    }
    let (first, mut rest) = weekday(s)?;
    on[first] = true;
    loop {
        let t = rest.trim_start();
        if let Some(r) = ["至", "到", "-", "–", "~", "—"]
            .iter()
            .find_map(|sep| t.strip_prefix(sep))
        {
            let (last, r) = weekday(r.trim_start())?;
            let mut d = first;
            while d != last {
                d = (d + 1) % 7;
                on[d] = true;
            }
            rest = r;
        } else if let Some(r) = ["、", "和", "/"].iter().find_map(|sep| t.strip_prefix(sep)) {
            let (d, r) = weekday(r.trim_start())?;
            on[d] = true;
            rest = r;
        } else {
            return Some((on, t));
        }
    }
}

fn minutes(s: &str) -> Option<u32> {
    let s = s.trim().replace('：', ":");
    let t = NaiveTime::parse_from_str(&s, "%H:%M").ok()?;
    Some(t.hour_minutes())
}

trait HourMinutes {
    fn hour_minutes(&self) -> u32;
}

impl HourMinutes for NaiveTime {
    fn hour_minutes(&self) -> u32 {
        use chrono::Timelike;
        self.hour() * 60 + self.minute()
    }
}

/// The time ranges of a segment: `8:30–11:30 13:30-17:00`.
fn ranges(s: &str) -> Option<Vec<(u32, u32)>> {
    let mut out = Vec::new();
    for part in s
        .split([' ', '、', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (a, b) = ["–", "-", "~", "至", "到", "—"]
            .iter()
            .find_map(|sep| part.split_once(sep))?;
        let (a, b) = (minutes(a)?, minutes(b)?);
        if b <= a {
            return None;
        }
        out.push((a, b));
    }
    (!out.is_empty()).then_some(out)
}

impl OpeningHours {
    /// Reads opening hours, or `None` when some part does not read (the station's figures
    /// then say its hours are not known, rather than guess).
    pub fn parse(text: &str) -> Option<OpeningHours> {
        let mut h = OpeningHours::default();
        let segments = text
            .split(['，', ',', '；', ';', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let mut any = false;
        for seg in segments {
            let (on, rest) = days(seg)?;
            let times = ranges(rest)?;
            for (d, open) in on.iter().enumerate() {
                if *open {
                    h.days[d].extend(times.iter().copied());
                    h.days[d].sort_unstable();
                }
            }
            any = true;
        }
        any.then_some(h)
    }

    /// The open stretches of a date (minutes from midnight).
    pub fn on(&self, date: NaiveDate) -> &[(u32, u32)] {
        &self.days[date.weekday().num_days_from_monday() as usize]
    }

    /// Minutes open from `first` to `last`, both included.
    pub fn minutes_between(&self, first: NaiveDate, last: NaiveDate) -> u32 {
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| self.on(d).iter().map(|(a, b)| b - a).sum::<u32>())
            .sum()
    }
}

/// Minutes of `[start, end)` (minutes from midnight) inside a day's open stretches.
pub fn open_minutes_within(open: &[(u32, u32)], start: u32, end: u32) -> u32 {
    open.iter()
        .map(|(a, b)| end.min(*b).saturating_sub(start.max(*a)))
        .sum()
}

/// The weekday of a day number (0 = Monday), for tests and labels.
pub fn weekday_of(n: usize) -> Weekday {
    Weekday::try_from(u8::try_from(n % 7).unwrap_or(0)).unwrap_or(Weekday::Mon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_how_stations_write_their_hours() {
        let h = OpeningHours::parse("周一至周日 8:30–17:00").unwrap();
        assert!(h.days.iter().all(|d| d == &vec![(510, 1020)]));
        let h = OpeningHours::parse("周一至周五 8:30-11:30 13:30-17:00，周六 9:00~12:00").unwrap();
        assert_eq!(h.days[0], vec![(510, 690), (810, 1020)]);
        assert_eq!(h.days[5], vec![(540, 720)]);
        assert!(h.days[6].is_empty());
        let h = OpeningHours::parse("工作日 9:00-17:00；周末 9：00-11：30").unwrap();
        assert_eq!((h.days[4].len(), h.days[6][0]), (1, (540, 690)));
        let h = OpeningHours::parse("周二、周四 18:00-20:00").unwrap();
        assert_eq!(
            (h.days[1].len(), h.days[2].len(), h.days[3].len()),
            (1, 0, 1)
        );
        // A week that wraps: Friday to Monday.
        let h = OpeningHours::parse("周五至周一 10:00-12:00").unwrap();
        assert_eq!(h.days.iter().filter(|d| !d.is_empty()).count(), 4);
        for bad in [
            "",
            "全天",
            "周一至周五",
            "周一 17:00-8:30",
            "周八 9:00-10:00",
            "周一 9点-10点",
        ] {
            assert_eq!(OpeningHours::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn counts_open_minutes() {
        let h = OpeningHours::parse("周一至周五 8:30-11:30 13:30-17:00").unwrap();
        let mon = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let sun = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        assert_eq!(h.minutes_between(mon, sun), 5 * (180 + 210));
        // A booking from 11:00 to 14:00 uses 30 + 30 open minutes.
        assert_eq!(open_minutes_within(h.on(mon), 660, 840), 60);
        assert_eq!(open_minutes_within(h.on(sun), 660, 840), 0);
    }

    proptest! {
        /// Hours written out the usual way read back as written.
        #[test]
        fn written_hours_read_back(first in 0usize..7, len in 0usize..7, a in 0u32..1380, span in 1u32..60) {
            let names = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
            let last = (first + len) % 7;
            let b = (a + span * 5).min(1439);
            prop_assume!(b > a);
            let text = format!("{}至{} {}:{:02}-{}:{:02}", names[first], names[last], a / 60, a % 60, b / 60, b % 60);
            let h = OpeningHours::parse(&text).unwrap();
            let open: Vec<usize> = (0..7).filter(|d| !h.days[*d].is_empty()).collect();
            prop_assert_eq!(open.len(), len + 1);
            prop_assert!(open.iter().all(|d| h.days[*d] == vec![(a, b)]));
            prop_assert_eq!(weekday_of(first).num_days_from_monday() as usize, first);
        }
    }
}

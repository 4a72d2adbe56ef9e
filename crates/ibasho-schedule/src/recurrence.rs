//! One recurrence: a start on a wall clock, an RFC 5545 rule, a duration, exceptions.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{RRuleSet, Tz as RTz};

/// Why a schedule could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The time zone name is not in the IANA database.
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    /// The rule does not parse or does not validate.
    #[error("invalid recurrence rule {rule:?}: {reason}")]
    InvalidRule {
        /// The rule as given.
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A time of day that is not `HH:MM`.
    #[error("invalid time of day {0:?}; use HH:MM")]
    InvalidTime(String),
    /// A date that is not `YYYY-MM-DD`.
    #[error("invalid date {0:?}; use YYYY-MM-DD")]
    InvalidDate(String),
    /// An end that is not after the start.
    #[error("the end must be after the start")]
    EmptyDuration,
    /// The wall-clock time does not exist on the first date in this zone (a DST gap).
    #[error("{0} does not exist in this time zone")]
    NonexistentLocalTime(String),
}

/// One occurrence: a start and an end, as instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Occurrence {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
}

/// A rule that repeats something of a fixed length at a wall-clock time.
#[derive(Clone, Debug)]
pub struct Recurrence {
    tz: Tz,
    set: RRuleSet,
    duration: Duration,
}

/// Parses `HH:MM`.
pub fn parse_time(s: &str) -> Result<NaiveTime, ScheduleError> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| ScheduleError::InvalidTime(s.to_owned()))
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, ScheduleError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ScheduleError::InvalidDate(s.to_owned()))
}

/// Parses an IANA time zone name.
pub fn parse_tz(s: &str) -> Result<Tz, ScheduleError> {
    s.parse::<Tz>()
        .map_err(|_| ScheduleError::UnknownTimeZone(s.to_owned()))
}

impl Recurrence {
    /// A recurrence that starts on `first_date` at `start` (wall clock in `tz`), repeats by
    /// `rule` (the part after `RRULE:`, e.g. `FREQ=MONTHLY;BYDAY=2WE,3WE,4WE`; empty for a
    /// single occurrence), lasts `duration`, skips the dates in `except` and adds `extra`
    /// dates (each at the same wall-clock time).
    pub fn new(
        tz: Tz,
        first_date: NaiveDate,
        start: NaiveTime,
        duration: Duration,
        rule: &str,
        except: &[NaiveDate],
        extra: &[NaiveDate],
    ) -> Result<Self, ScheduleError> {
        if duration <= Duration::zero() {
            return Err(ScheduleError::EmptyDuration);
        }
        let rule = rule.trim().trim_start_matches("RRULE:");
        if rule.contains('\n') || rule.contains("DTSTART") {
            return Err(ScheduleError::InvalidRule {
                rule: rule.to_owned(),
                reason: "give only the RRULE value".to_owned(),
            });
        }
        let stamp = |d: NaiveDate| format!("{}T{}", d.format("%Y%m%d"), start.format("%H%M%S"));
        let mut text = format!("DTSTART;TZID={}:{}\n", tz.name(), stamp(first_date));
        if rule.is_empty() {
            // A single occurrence: an RRULE that yields exactly the start.
            text.push_str("RRULE:FREQ=DAILY;COUNT=1");
        } else {
            text.push_str("RRULE:");
            text.push_str(rule);
        }
        for d in except {
            text.push_str(&format!("\nEXDATE;TZID={}:{}", tz.name(), stamp(*d)));
        }
        for d in extra {
            text.push_str(&format!("\nRDATE;TZID={}:{}", tz.name(), stamp(*d)));
        }
        let set: RRuleSet =
            text.parse()
                .map_err(|e: rrule::RRuleError| ScheduleError::InvalidRule {
                    rule: rule.to_owned(),
                    reason: e.to_string(),
                })?;
        Ok(Self { tz, set, duration })
    }

    /// The time zone the rule is evaluated in.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The occurrences that overlap `[from, to)`, in order, at most `limit` of them.
    pub fn occurrences(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u16,
    ) -> Vec<Occurrence> {
        if to <= from {
            return Vec::new();
        }
        // An occurrence that started up to one duration before `from` still overlaps it.
        let after = (from - self.duration).with_timezone(&RTz::UTC);
        let before = to.with_timezone(&RTz::UTC);
        let result = self.set.clone().after(after).before(before).all(limit);
        result
            .dates
            .into_iter()
            .map(|d| {
                let start = d.with_timezone(&Utc);
                Occurrence {
                    start,
                    end: start + self.duration,
                }
            })
            .filter(|o| o.end > from && o.start < to)
            .collect()
    }

    /// The first occurrence that ends after `at`.
    pub fn next_after(&self, at: DateTime<Utc>) -> Option<Occurrence> {
        // Look a year ahead at most: a rule with nothing in a year is as good as ended.
        self.occurrences(at, at + Duration::days(366), 1)
            .into_iter()
            .next()
    }
}

/// `date` at `time` on the wall clock of `tz`, as an instant. In a DST gap the time does not
/// exist and `None` is returned; in a fold the earlier instant is taken.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn tokyo() -> Tz {
        chrono_tz::Asia::Tokyo
    }

    fn date(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn local_dates(r: &Recurrence, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<NaiveDate> {
        r.occurrences(from, to, 1000)
            .iter()
            .map(|o| o.start.with_timezone(&r.tz()).date_naive())
            .collect()
    }

    #[test]
    fn second_third_fourth_wednesdays_across_month_ends_and_five_wednesday_months() {
        let r = Recurrence::new(
            tokyo(),
            date("2024-01-01"),
            parse_time("13:00").unwrap(),
            Duration::hours(8),
            "FREQ=MONTHLY;BYDAY=2WE,3WE,4WE",
            &[],
            &[],
        )
        .unwrap();
        // January 2025 has five Wednesdays (1, 8, 15, 22, 29): the 1st and the 5th are not ours.
        let jan = local_dates(&r, utc(2024, 12, 31), utc(2025, 2, 1));
        assert_eq!(
            jan,
            [date("2025-01-08"), date("2025-01-15"), date("2025-01-22")]
        );
        // 13:00 in Tokyo is 04:00 UTC, and it lasts until 21:00 Tokyo.
        let first = r.occurrences(utc(2025, 1, 1), utc(2025, 1, 9), 10)[0];
        assert_eq!(
            first.start,
            Utc.with_ymd_and_hms(2025, 1, 8, 4, 0, 0).unwrap()
        );
        assert_eq!(
            first.end,
            Utc.with_ymd_and_hms(2025, 1, 8, 12, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_first_saturday_on_the_first_or_the_seventh() {
        let r = Recurrence::new(
            tokyo(),
            date("2024-01-01"),
            parse_time("10:00").unwrap(),
            Duration::hours(8),
            "FREQ=MONTHLY;BYDAY=1SA",
            &[],
            &[],
        )
        .unwrap();
        // February 2025 starts on a Saturday; March 2025's first Saturday is the 1st too, and
        // June 2025's is the 7th.
        assert_eq!(
            local_dates(&r, utc(2025, 2, 1) - Duration::hours(9), utc(2025, 2, 2)),
            [date("2025-02-01")]
        );
        assert_eq!(
            local_dates(&r, utc(2025, 6, 1), utc(2025, 7, 1)),
            [date("2025-06-07")]
        );
    }

    #[test]
    fn exceptions_and_extra_dates() {
        let r = Recurrence::new(
            tokyo(),
            date("2025-01-01"),
            parse_time("12:00").unwrap(),
            Duration::hours(1),
            "FREQ=WEEKLY;BYDAY=MO",
            &[date("2025-01-13")],
            &[date("2025-01-15")],
        )
        .unwrap();
        assert_eq!(
            local_dates(&r, utc(2025, 1, 1), utc(2025, 1, 28)),
            [
                date("2025-01-06"),
                date("2025-01-15"),
                date("2025-01-20"),
                date("2025-01-27")
            ]
        );
    }

    #[test]
    fn a_year_of_the_sendai_schedule_against_an_independent_computation() {
        let wed = Recurrence::new(
            tokyo(),
            date("2024-01-01"),
            parse_time("13:00").unwrap(),
            Duration::hours(8),
            "FREQ=MONTHLY;BYDAY=2WE,3WE,4WE",
            &[],
            &[],
        )
        .unwrap();
        let sat = Recurrence::new(
            tokyo(),
            date("2024-01-01"),
            parse_time("10:00").unwrap(),
            Duration::hours(8),
            "FREQ=MONTHLY;BYDAY=1SA",
            &[],
            &[],
        )
        .unwrap();
        let from = local_instant(tokyo(), date("2026-01-01"), NaiveTime::MIN).unwrap();
        let to = local_instant(tokyo(), date("2027-01-01"), NaiveTime::MIN).unwrap();
        let mut got: Vec<NaiveDate> = local_dates(&wed, from, to);
        got.extend(local_dates(&sat, from, to));
        got.sort();
        // Independently: walk every day of 2026 and count weekdays within the month.
        let mut expected = Vec::new();
        let mut d = date("2026-01-01");
        while d.year() == 2026 {
            let nth = (d.day() - 1) / 7 + 1;
            match d.weekday() {
                chrono::Weekday::Wed if (2..=4).contains(&nth) => expected.push(d),
                chrono::Weekday::Sat if nth == 1 => expected.push(d),
                _ => {}
            }
            d = d.succ_opt().unwrap();
        }
        assert_eq!(got, expected);
        assert_eq!(expected.len(), 12 * 4);
    }

    #[test]
    fn wall_clock_times_hold_across_daylight_saving_changes() {
        let berlin = chrono_tz::Europe::Berlin;
        let r = Recurrence::new(
            berlin,
            date("2025-03-24"),
            parse_time("18:00").unwrap(),
            Duration::hours(2),
            "FREQ=WEEKLY;BYDAY=MO",
            &[],
            &[],
        )
        .unwrap();
        let o = r.occurrences(utc(2025, 3, 24), utc(2025, 4, 1), 10);
        // 18:00 CET is 17:00 UTC; after the switch, 18:00 CEST is 16:00 UTC.
        assert_eq!(
            o[0].start,
            Utc.with_ymd_and_hms(2025, 3, 24, 17, 0, 0).unwrap()
        );
        assert_eq!(
            o[1].start,
            Utc.with_ymd_and_hms(2025, 3, 31, 16, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_single_occurrence_and_bad_input() {
        let one = Recurrence::new(
            tokyo(),
            date("2025-05-05"),
            parse_time("10:00").unwrap(),
            Duration::hours(1),
            "",
            &[],
            &[],
        )
        .unwrap();
        assert_eq!(
            one.occurrences(utc(2025, 1, 1), utc(2026, 1, 1), 10).len(),
            1
        );
        assert!(matches!(
            Recurrence::new(
                tokyo(),
                date("2025-05-05"),
                parse_time("10:00").unwrap(),
                Duration::hours(1),
                "FREQ=SOMETIMES",
                &[],
                &[]
            ),
            Err(ScheduleError::InvalidRule { .. })
        ));
        assert!(matches!(
            Recurrence::new(
                tokyo(),
                date("2025-05-05"),
                parse_time("10:00").unwrap(),
                Duration::zero(),
                "",
                &[],
                &[]
            ),
            Err(ScheduleError::EmptyDuration)
        ));
        assert!(parse_time("25:00").is_err());
        assert!(parse_date("2025-02-30").is_err());
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}

//! The space's opening hours: recurring periods, minus closed days, plus extra days.

use crate::recurrence::{
    Occurrence, Recurrence, ScheduleError, local_instant, parse_date, parse_time, parse_tz,
};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// How opening hours are written in the configuration (`[opening_hours]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpeningHoursConfig {
    /// The space's IANA time zone.
    pub time_zone: String,
    /// Open at every hour, ignoring the rules (a trial, a demo, a space that never closes).
    pub always_open: bool,
    /// How many minutes before closing people inside are told, e.g. `[10, 1]`.
    pub closing_notice_minutes: Vec<u32>,
    /// Recurring opening periods.
    pub rules: Vec<OpeningRule>,
    /// Days the space stays closed although a rule would open it (`YYYY-MM-DD`).
    pub closed_days: Vec<String>,
    /// One-off opening periods.
    pub extra_days: Vec<ExtraDay>,
}

/// A recurring opening period: from `start` to `end` (wall clock) on the days `rrule` picks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningRule {
    /// An RFC 5545 RRULE value, e.g. `FREQ=MONTHLY;BYDAY=2WE,3WE,4WE`.
    pub rrule: String,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`, after `start` (periods do not cross midnight).
    pub end: String,
}

/// A one-off opening period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
}

impl Default for OpeningHoursConfig {
    /// The schedule of the space this project models (Sendai's 「ここにいるよ。」): the 2nd,
    /// 3rd and 4th Wednesday 13:00–21:00 and the 1st Saturday 10:00–18:00, Asia/Tokyo.
    fn default() -> Self {
        Self {
            time_zone: "Asia/Tokyo".to_owned(),
            always_open: false,
            closing_notice_minutes: vec![10, 1],
            rules: vec![
                OpeningRule {
                    rrule: "FREQ=MONTHLY;BYDAY=2WE,3WE,4WE".to_owned(),
                    start: "13:00".to_owned(),
                    end: "21:00".to_owned(),
                },
                OpeningRule {
                    rrule: "FREQ=MONTHLY;BYDAY=1SA".to_owned(),
                    start: "10:00".to_owned(),
                    end: "18:00".to_owned(),
                },
            ],
            closed_days: Vec::new(),
            extra_days: Vec::new(),
        }
    }
}

/// An opening period.
pub type Period = Occurrence;

/// Opening hours, ready to ask.
#[derive(Clone, Debug)]
pub struct OpeningHours {
    tz: Tz,
    always: bool,
    notices: Vec<Duration>,
    rules: Vec<Recurrence>,
    closed: Vec<NaiveDate>,
    extra: Vec<Period>,
}

/// Rules start from this date; nothing before it is ever asked about.
const ANCHOR: &str = "2000-01-01";

fn span(start: &str, end: &str) -> Result<(NaiveTime, Duration), ScheduleError> {
    let (start, end) = (parse_time(start)?, parse_time(end)?);
    if end <= start {
        return Err(ScheduleError::EmptyDuration);
    }
    Ok((start, end - start))
}

impl OpeningHours {
    /// Builds opening hours from their configuration, checking every part.
    pub fn from_config(config: &OpeningHoursConfig) -> Result<Self, ScheduleError> {
        let tz = parse_tz(&config.time_zone)?;
        let notices = config
            .closing_notice_minutes
            .iter()
            .map(|m| Duration::minutes(i64::from(*m)))
            .collect();
        if config.always_open {
            return Ok(Self {
                tz,
                notices,
                ..Self::always()
            });
        }
        let anchor = parse_date(ANCHOR)?;
        let rules = config
            .rules
            .iter()
            .map(|r| {
                let (start, duration) = span(&r.start, &r.end)?;
                Recurrence::new(tz, anchor, start, duration, &r.rrule, &[], &[])
            })
            .collect::<Result<Vec<_>, _>>()?;
        let closed = config
            .closed_days
            .iter()
            .map(|d| parse_date(d))
            .collect::<Result<Vec<_>, _>>()?;
        let extra = config
            .extra_days
            .iter()
            .map(|e| {
                let date = parse_date(&e.date)?;
                let (start, duration) = span(&e.start, &e.end)?;
                let start = local_instant(tz, date, start).ok_or_else(|| {
                    ScheduleError::NonexistentLocalTime(format!("{} {}", e.date, e.start))
                })?;
                Ok(Period {
                    start,
                    end: start + duration,
                })
            })
            .collect::<Result<Vec<_>, ScheduleError>>()?;
        Ok(Self {
            tz,
            always: false,
            notices,
            rules,
            closed,
            extra,
        })
    }

    /// Always open: for tests and for spaces that do not close.
    pub fn always() -> Self {
        Self {
            tz: chrono_tz::UTC,
            always: true,
            notices: Vec::new(),
            rules: Vec::new(),
            closed: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Whether the space never closes.
    pub fn is_always_open(&self) -> bool {
        self.always
    }

    /// How long before closing people are told, longest first.
    pub fn notice_leads(&self) -> Vec<Duration> {
        let mut leads = self.notices.clone();
        leads.sort_by(|a, b| b.cmp(a));
        leads.dedup();
        leads
    }

    /// The space's time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    fn is_closed_day(&self, p: &Period) -> bool {
        let day = p.start.with_timezone(&self.tz).date_naive();
        self.closed.contains(&day)
    }

    /// Opening periods overlapping `[from, to)`, in order, overlapping ones merged. Closed days
    /// remove the rules' periods that start on them; extra days add theirs.
    pub fn periods(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Period> {
        if self.always {
            return if from < to {
                vec![Period {
                    start: DateTime::<Utc>::MIN_UTC,
                    end: DateTime::<Utc>::MAX_UTC,
                }]
            } else {
                Vec::new()
            };
        }
        let mut all: Vec<Period> = self
            .rules
            .iter()
            .flat_map(|r| r.occurrences(from, to, 1000))
            .filter(|p| !self.is_closed_day(p))
            .chain(
                self.extra
                    .iter()
                    .copied()
                    .filter(|p| p.end > from && p.start < to),
            )
            .collect();
        all.sort();
        let mut merged: Vec<Period> = Vec::with_capacity(all.len());
        for p in all {
            match merged.last_mut() {
                Some(last) if p.start <= last.end => last.end = last.end.max(p.end),
                _ => merged.push(p),
            }
        }
        merged
    }

    /// The opening period that contains `at`, if the space is open then.
    pub fn current(&self, at: DateTime<Utc>) -> Option<Period> {
        self.periods(at - Duration::days(1), at + Duration::seconds(1))
            .into_iter()
            .find(|p| p.start <= at && at < p.end)
    }

    /// Whether the space is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.current(at).is_some()
    }

    /// The next period that starts after `at` (within a year).
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<Period> {
        self.periods(at, at + Duration::days(366))
            .into_iter()
            .find(|p| p.start > at)
    }

    /// The closing notices due in the current period: for each lead time (e.g. 10 and 1
    /// minutes), the instant to announce it, if still ahead of `at`.
    pub fn closing_notices(
        &self,
        at: DateTime<Utc>,
        leads: &[Duration],
    ) -> Vec<(Duration, DateTime<Utc>)> {
        let Some(period) = self.current(at) else {
            return Vec::new();
        };
        leads
            .iter()
            .map(|lead| (*lead, period.end - *lead))
            .filter(|(_, when)| *when > at)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone};
    use proptest::prelude::*;

    fn tokyo(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sendai() -> OpeningHours {
        OpeningHours::from_config(&OpeningHoursConfig::default()).unwrap()
    }

    #[test]
    fn open_on_the_second_wednesday_afternoon_only() {
        let h = sendai();
        // 2026-11-11 is the 2nd Wednesday of November 2026.
        assert!(!h.is_open(tokyo(2026, 11, 11, 12, 59)));
        assert!(h.is_open(tokyo(2026, 11, 11, 13, 0)));
        assert!(h.is_open(tokyo(2026, 11, 11, 20, 59)));
        assert!(!h.is_open(tokyo(2026, 11, 11, 21, 0)));
        // The 1st Wednesday is closed; the 1st Saturday (7 November) is open 10–18.
        assert!(!h.is_open(tokyo(2026, 11, 4, 15, 0)));
        assert!(h.is_open(tokyo(2026, 11, 7, 10, 0)));
        assert!(!h.is_open(tokyo(2026, 11, 7, 18, 0)));
    }

    #[test]
    fn next_opening_and_closing_notices() {
        let h = sendai();
        // Today (Sunday 22 November 2026) is closed; next is the 4th Wednesday, the 25th.
        let next = h.next_opening(tokyo(2026, 11, 22, 12, 0)).unwrap();
        assert_eq!(next.start, tokyo(2026, 11, 25, 13, 0));
        assert_eq!(next.end, tokyo(2026, 11, 25, 21, 0));
        let leads = [Duration::minutes(10), Duration::minutes(1)];
        let notices = h.closing_notices(tokyo(2026, 11, 25, 20, 45), &leads);
        assert_eq!(
            notices,
            vec![
                (leads[0], tokyo(2026, 11, 25, 20, 50)),
                (leads[1], tokyo(2026, 11, 25, 20, 59))
            ]
        );
        assert_eq!(
            h.closing_notices(tokyo(2026, 11, 25, 20, 55), &leads).len(),
            1
        );
        assert!(
            h.closing_notices(tokyo(2026, 11, 22, 12, 0), &leads)
                .is_empty()
        );
    }

    #[test]
    fn closed_days_and_extra_days() {
        let mut config = OpeningHoursConfig::default();
        config.closed_days.push("2026-12-23".to_owned()); // the 4th Wednesday of December
        config.extra_days.push(ExtraDay {
            date: "2026-12-28".to_owned(),
            start: "13:00".to_owned(),
            end: "17:00".to_owned(),
        });
        let h = OpeningHours::from_config(&config).unwrap();
        assert!(!h.is_open(tokyo(2026, 12, 23, 15, 0)));
        assert!(h.is_open(tokyo(2026, 12, 28, 16, 59)));
        assert!(!h.is_open(tokyo(2026, 12, 28, 17, 0)));
        let december: Vec<u32> = h
            .periods(tokyo(2026, 12, 1, 0, 0), tokyo(2027, 1, 1, 0, 0))
            .iter()
            .map(|p| p.start.with_timezone(&chrono_tz::Asia::Tokyo).day())
            .collect();
        // 1st Saturday the 5th; Wednesdays the 9th and 16th (the 23rd is closed); extra the 28th.
        assert_eq!(december, [5, 9, 16, 28]);
    }

    #[test]
    fn bad_configuration_is_refused_with_a_reason() {
        let config = OpeningHoursConfig {
            time_zone: "Asia/Sendai".to_owned(),
            ..OpeningHoursConfig::default()
        };
        assert!(matches!(
            OpeningHours::from_config(&config),
            Err(ScheduleError::UnknownTimeZone(_))
        ));
        let mut config = OpeningHoursConfig::default();
        config.rules[0].end = "12:00".to_owned();
        assert_eq!(
            OpeningHours::from_config(&config).unwrap_err(),
            ScheduleError::EmptyDuration
        );
        let mut config = OpeningHoursConfig::default();
        config.closed_days.push("23 Dec".to_owned());
        assert!(matches!(
            OpeningHours::from_config(&config),
            Err(ScheduleError::InvalidDate(_))
        ));
    }

    #[test]
    fn always_open_is_open() {
        let h = OpeningHours::always();
        assert!(h.is_open(tokyo(2026, 11, 22, 3, 0)));
        assert!(h.is_open(tokyo(2031, 2, 28, 23, 59)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever days are closed, no period ever starts on one of them, and every period
        /// lies inside the rules' hours.
        #[test]
        fn periods_never_fall_on_closed_days(offsets in proptest::collection::vec(0u32..365, 0..40), start_day in 0u32..365) {
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let closed: Vec<NaiveDate> = offsets.iter().map(|o| base + Duration::days(i64::from(*o))).collect();
            let config = OpeningHoursConfig { closed_days: closed.iter().map(|d| d.to_string()).collect(), ..OpeningHoursConfig::default() };
            let h = OpeningHours::from_config(&config).unwrap();
            let from = local_instant(h.tz(), base + Duration::days(i64::from(start_day)), NaiveTime::MIN).unwrap();
            for p in h.periods(from, from + Duration::days(120)) {
                let local = p.start.with_timezone(&h.tz());
                prop_assert!(!closed.contains(&local.date_naive()), "period on closed day {}", local);
                prop_assert!(h.is_open(p.start) && !h.is_open(p.end));
            }
        }
    }
}

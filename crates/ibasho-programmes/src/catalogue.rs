//! Every programme and session in memory, with each session's rule compiled: which
//! occurrences fall in a window, where each stands at an instant, and what its room looks
//! like. Pure: the caller passes the instant.

use crate::store::{CancellationRecord, ProgrammeRecord, SessionRecord};
use ibasho_protocol::programme::{
    Phase, PreviewOccurrence, ProgrammeRoom, SessionInput, Timetable, TimetableEntry,
};
use ibasho_protocol::{Millis, ProgrammeId, RoomId, RoomInfo, RoomKind, SessionId};
use ibasho_schedule::chrono::{DateTime, Duration, Utc};
use ibasho_schedule::chrono_tz::Tz;
use ibasho_schedule::recurrence::{parse_date, parse_time};
use ibasho_schedule::{OpeningHours, Recurrence, ScheduleError};
use std::collections::HashMap;

/// Longest session, in minutes (a whole opening day).
pub const MAX_SESSION_MINUTES: u32 = 720;
/// Longest a room may open before its session, in minutes.
pub const MAX_OPEN_BEFORE_MINUTES: u32 = 120;
/// Most occurrences a session may have in a year (twice a day, every day).
pub const MAX_OCCURRENCES_PER_YEAR: usize = 732;

/// Why a session's schedule was refused.
#[derive(Debug, thiserror::Error)]
pub enum InvalidSchedule {
    /// A date, time or rule does not parse.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A number is outside its range.
    #[error("{0}")]
    Range(String),
}

/// One occurrence of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The session.
    pub session: SessionId,
    /// Its programme.
    pub programme: ProgrammeId,
    /// When it starts.
    pub start: Millis,
    /// When it ends.
    pub end: Millis,
    /// When its room opens.
    pub opens_at: Millis,
    /// When people inside are told it ends soon.
    pub warn_at: Millis,
    /// Minutes between the warning and the end.
    pub warn_minutes: u32,
    /// Called off, with this reason.
    pub cancelled: Option<String>,
}

impl Occurrence {
    /// Where it stands at `now`.
    pub fn phase(&self, now: Millis) -> Phase {
        if self.cancelled.is_some() {
            Phase::Cancelled
        } else if now < self.opens_at {
            Phase::Scheduled
        } else if now < self.start {
            Phase::Open
        } else if now < self.end {
            Phase::Live
        } else {
            Phase::Ended
        }
    }

    /// Its room's id.
    pub fn room(&self) -> RoomId {
        RoomId::for_occurrence(self.session, self.start)
    }
}

struct Compiled {
    record: SessionRecord,
    rule: Recurrence,
}

/// Programmes and sessions, ready to ask.
pub struct Catalogue {
    hours: OpeningHours,
    programmes: HashMap<ProgrammeId, ProgrammeRecord>,
    sessions: Vec<Compiled>,
    cancellations: HashMap<(SessionId, Millis), String>,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("programmes", &self.programmes.len())
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

fn millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

fn instant(ms: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Checks a schedule and compiles its rule in `tz`.
pub fn compile(tz: Tz, input: &SessionInput) -> Result<Recurrence, InvalidSchedule> {
    if input.minutes == 0 || input.minutes > MAX_SESSION_MINUTES {
        return Err(InvalidSchedule::Range(format!(
            "minutes must be between 1 and {MAX_SESSION_MINUTES}"
        )));
    }
    if input.open_before_minutes > MAX_OPEN_BEFORE_MINUTES {
        return Err(InvalidSchedule::Range(format!(
            "open_before_minutes must be at most {MAX_OPEN_BEFORE_MINUTES}"
        )));
    }
    if input.warn_before_minutes >= input.minutes {
        return Err(InvalidSchedule::Range(
            "warn_before_minutes must be shorter than the session".into(),
        ));
    }
    let dates = |list: &[String]| {
        list.iter()
            .map(|d| parse_date(d))
            .collect::<Result<Vec<_>, _>>()
    };
    let rule = Recurrence::new(
        tz,
        parse_date(&input.first_date)?,
        parse_time(&input.start)?,
        Duration::minutes(i64::from(input.minutes)),
        &input.rrule,
        &dates(&input.except_dates)?,
        &dates(&input.extra_dates)?,
    )?;
    Ok(rule)
}

impl Catalogue {
    /// Builds the catalogue; a stored session whose rule no longer compiles (the time zone
    /// changed under it) is left out with a warning.
    pub fn new(
        hours: OpeningHours,
        programmes: Vec<ProgrammeRecord>,
        sessions: Vec<SessionRecord>,
        cancellations: Vec<CancellationRecord>,
    ) -> Self {
        let mut catalogue = Self {
            hours,
            programmes: programmes.into_iter().map(|p| (p.id, p)).collect(),
            sessions: Vec::new(),
            cancellations: cancellations
                .into_iter()
                .map(|c| ((c.session, c.start), c.reason))
                .collect(),
        };
        for s in sessions {
            if let Err(e) = catalogue.put_session(s.clone()) {
                tracing::warn!(session = %s.id, error = %e, "a stored session does not compile; left out");
            }
        }
        catalogue
    }

    /// The space's time zone.
    pub fn tz(&self) -> Tz {
        self.hours.tz()
    }

    /// A programme.
    pub fn programme(&self, id: ProgrammeId) -> Option<&ProgrammeRecord> {
        self.programmes.get(&id)
    }

    /// Every programme.
    pub fn programmes(&self) -> impl Iterator<Item = &ProgrammeRecord> {
        self.programmes.values()
    }

    /// Adds or replaces a programme.
    pub fn put_programme(&mut self, p: ProgrammeRecord) {
        self.programmes.insert(p.id, p);
    }

    /// A session.
    pub fn session(&self, id: SessionId) -> Option<&SessionRecord> {
        self.sessions
            .iter()
            .find(|c| c.record.id == id)
            .map(|c| &c.record)
    }

    /// Every session of a programme.
    pub fn sessions_of(&self, programme: ProgrammeId) -> Vec<&SessionRecord> {
        self.sessions
            .iter()
            .filter(|c| c.record.programme == programme)
            .map(|c| &c.record)
            .collect()
    }

    /// Adds or replaces a session, compiling its rule.
    pub fn put_session(&mut self, record: SessionRecord) -> Result<(), InvalidSchedule> {
        let rule = compile(self.tz(), &record.schedule)?;
        self.sessions.retain(|c| c.record.id != record.id);
        self.sessions.push(Compiled { record, rule });
        Ok(())
    }

    /// Calls off one occurrence.
    pub fn put_cancellation(&mut self, c: CancellationRecord) {
        self.cancellations.insert((c.session, c.start), c.reason);
    }

    /// Whether `[start, end)` lies inside one opening period.
    fn in_hours(&self, start: Millis, end: Millis) -> bool {
        self.hours
            .current(instant(start))
            .is_some_and(|p| millis(p.end) >= end)
    }

    /// The occurrences of `rule` overlapping `[from, to)`, each with whether it falls
    /// outside opening hours.
    fn expand(&self, rule: &Recurrence, from: Millis, to: Millis) -> Vec<(Millis, Millis, bool)> {
        rule.occurrences(instant(from), instant(to), 2000)
            .into_iter()
            .map(|o| {
                let (start, end) = (millis(o.start), millis(o.end));
                (start, end, !self.in_hours(start, end))
            })
            .collect()
    }

    /// The first `count` occurrences of a schedule from `from`, for a preview before saving.
    pub fn preview(
        &self,
        input: &SessionInput,
        from: Millis,
        count: usize,
    ) -> Result<Vec<PreviewOccurrence>, InvalidSchedule> {
        let rule = compile(self.tz(), input)?;
        let year = from + 366 * 86_400_000;
        let all = rule.occurrences(instant(from), instant(year), 2000);
        if all.len() > MAX_OCCURRENCES_PER_YEAR {
            return Err(InvalidSchedule::Range(format!(
                "this rule happens more than {MAX_OCCURRENCES_PER_YEAR} times a year"
            )));
        }
        Ok(all
            .into_iter()
            .take(count)
            .map(|o| {
                let (start, end) = (millis(o.start), millis(o.end));
                PreviewOccurrence {
                    start,
                    end,
                    outside_hours: !self.in_hours(start, end),
                }
            })
            .collect())
    }

    /// The occurrences that take place (inside opening hours, of programmes not archived)
    /// and overlap `[from, to)` — including their open-before time — in order of start.
    pub fn occurrences(&self, from: Millis, to: Millis) -> Vec<Occurrence> {
        let mut out = Vec::new();
        for c in &self.sessions {
            let Some(programme) = self.programmes.get(&c.record.programme) else {
                continue;
            };
            if programme.archived {
                continue;
            }
            let s = &c.record.schedule;
            let before = i64::from(s.open_before_minutes) * 60_000;
            let warn = i64::from(s.warn_before_minutes) * 60_000;
            for (start, end, outside) in self.expand(&c.rule, from, to.saturating_add(before)) {
                if outside {
                    continue;
                }
                let cancelled = match &c.record.cancelled {
                    Some(reason) if start > c.record.updated_at => Some(reason.clone()),
                    _ => self.cancellations.get(&(c.record.id, start)).cloned(),
                };
                out.push(Occurrence {
                    session: c.record.id,
                    programme: c.record.programme,
                    start,
                    end,
                    opens_at: start - before,
                    warn_at: end - warn,
                    warn_minutes: s.warn_before_minutes,
                    cancelled,
                });
            }
        }
        out.sort_by_key(|o| (o.start, o.session));
        out
    }

    /// The programme-room description of an occurrence at `now`. `room_capacity` bounds
    /// everyone in the room, watchers too; the programme's own capacity (people who write)
    /// is checked on join.
    pub fn room_info(&self, o: &Occurrence, now: Millis, room_capacity: u32) -> Option<RoomInfo> {
        let p = self.programmes.get(&o.programme)?;
        let tz = self.tz();
        let local = instant(o.start).with_timezone(&tz);
        Some(RoomInfo {
            id: o.room(),
            kind: RoomKind::Programme,
            name: format!("{} {}", p.title, local.format("%m/%d %H:%M")),
            topic: p.description.chars().take(200).collect(),
            capacity: room_capacity.max(p.capacity),
            last_seq: 0,
            archived: false,
            programme: Some(ProgrammeRoom {
                programme: p.id,
                session: o.session,
                category: p.category,
                start: o.start,
                end: o.end,
                phase: o.phase(now),
                modes: p.modes.clone(),
                capacity: p.capacity,
                age_bands: p.age_bands.clone(),
                hosts: p.hosts.clone(),
            }),
            // Hosts' controls are the room's own; `Hub::put_programme_room` keeps them.
            pinned: None,
            stage: false,
        })
    }

    /// The timetable for `[from, to)` as it stands at `now`.
    pub fn timetable(&self, from: Millis, to: Millis, now: Millis) -> Timetable {
        let entries = self
            .occurrences(from, to)
            .into_iter()
            .filter(|o| o.end > from && o.start < to)
            .filter_map(|o| {
                let p = self.programmes.get(&o.programme)?;
                let phase = o.phase(now);
                Some(TimetableEntry {
                    session: o.session,
                    programme: o.programme,
                    title: p.title.clone(),
                    category: p.category,
                    start: o.start,
                    end: o.end,
                    opens_at: o.opens_at,
                    phase,
                    cancel_reason: o.cancelled.clone().unwrap_or_default(),
                    room: matches!(phase, Phase::Open | Phase::Live).then(|| o.room()),
                    modes: p.modes.clone(),
                    capacity: p.capacity,
                    age_bands: p.age_bands.clone(),
                })
            })
            .collect();
        Timetable {
            from,
            to,
            time_zone: self.tz().name().to_owned(),
            entries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ibasho_protocol::programme::Category;
    use ibasho_protocol::{AccountId, Mode};
    use ibasho_schedule::OpeningHoursConfig;
    use ibasho_schedule::chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    fn tokyo(y: i32, m: u32, d: u32, h: u32, min: u32) -> Millis {
        ibasho_schedule::chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .timestamp_millis()
    }

    fn programme() -> ProgrammeRecord {
        ProgrammeRecord {
            id: ProgrammeId::new_v7(),
            title: "みんなでランチ".into(),
            description: String::new(),
            category: Category::Meal,
            hosts: vec![AccountId::new_v7()],
            modes: vec![Mode::ViewOnly, Mode::Participant],
            capacity: 8,
            age_bands: Vec::new(),
            gallery: None,
            archived: false,
            created_by: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn session(p: &ProgrammeRecord, rrule: &str, updated_at: Millis) -> SessionRecord {
        SessionRecord {
            id: SessionId::new_v7(),
            programme: p.id,
            schedule: SessionInput {
                first_date: "2026-01-01".into(),
                start: "14:00".into(),
                minutes: 60,
                rrule: rrule.into(),
                except_dates: Vec::new(),
                extra_dates: Vec::new(),
                open_before_minutes: 10,
                warn_before_minutes: 5,
            },
            cancelled: None,
            created_at: 0,
            updated_at,
        }
    }

    fn catalogue(
        closed: &[NaiveDate],
        sessions: Vec<SessionRecord>,
        p: ProgrammeRecord,
    ) -> Catalogue {
        let config = OpeningHoursConfig {
            closed_days: closed.iter().map(ToString::to_string).collect(),
            ..OpeningHoursConfig::default()
        };
        Catalogue::new(
            OpeningHours::from_config(&config).unwrap(),
            vec![p],
            sessions,
            Vec::new(),
        )
    }

    #[test]
    fn an_occurrence_is_scheduled_open_live_ended_and_a_series_cancels_from_then_on() {
        let p = programme();
        let mut s = session(&p, "FREQ=WEEKLY;BYDAY=WE", 0);
        let cat = catalogue(&[], vec![s.clone()], p.clone());
        // Wednesdays inside opening hours in November 2026: the 11th, 18th and 25th (the 4th
        // is the 1st Wednesday, closed).
        let nov = cat.occurrences(tokyo(2026, 11, 1, 0, 0), tokyo(2026, 12, 1, 0, 0));
        let starts: Vec<Millis> = nov.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            vec![
                tokyo(2026, 11, 11, 14, 0),
                tokyo(2026, 11, 18, 14, 0),
                tokyo(2026, 11, 25, 14, 0)
            ]
        );
        let o = &nov[0];
        assert_eq!(o.phase(tokyo(2026, 11, 11, 13, 49)), Phase::Scheduled);
        assert_eq!(o.phase(tokyo(2026, 11, 11, 13, 50)), Phase::Open);
        assert_eq!(o.phase(tokyo(2026, 11, 11, 14, 0)), Phase::Live);
        assert_eq!(o.warn_at, tokyo(2026, 11, 11, 14, 55));
        assert_eq!(o.phase(tokyo(2026, 11, 11, 15, 0)), Phase::Ended);
        let info = cat.room_info(o, tokyo(2026, 11, 11, 14, 0), 1000).unwrap();
        assert_eq!(info.id, o.room());
        assert_eq!(info.programme.as_ref().map(|r| r.phase), Some(Phase::Live));
        assert_eq!(info.name, "みんなでランチ 11/11 14:00");

        // The series is called off on the 15th: the 11th took place, the rest do not.
        s.cancelled = Some("年末でお休みします".into());
        s.updated_at = tokyo(2026, 11, 15, 9, 0);
        let cat = catalogue(&[], vec![s], p);
        let phases: Vec<Phase> = cat
            .occurrences(tokyo(2026, 11, 1, 0, 0), tokyo(2026, 12, 1, 0, 0))
            .iter()
            .map(|o| o.phase(tokyo(2026, 11, 16, 0, 0)))
            .collect();
        assert_eq!(
            phases,
            vec![Phase::Ended, Phase::Cancelled, Phase::Cancelled]
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever the rule and whatever days are closed, no session takes place on a closed
        /// day, and every one lies inside opening hours.
        #[test]
        fn generated_sessions_never_fall_on_closed_days_or_outside_hours(
            offsets in proptest::collection::vec(0u32..200, 0..30),
            rule in prop_oneof![
                Just("FREQ=DAILY"),
                Just("FREQ=WEEKLY;BYDAY=WE,SA"),
                Just("FREQ=MONTHLY;BYDAY=2WE,3WE,4WE"),
                Just("FREQ=MONTHLY;BYDAY=1SA"),
            ],
        ) {
            let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let closed: Vec<NaiveDate> = offsets
                .iter()
                .map(|o| base + ibasho_schedule::chrono::Duration::days(i64::from(*o)))
                .collect();
            let p = programme();
            let s = session(&p, rule, 0);
            let cat = catalogue(&closed, vec![s], p);
            let hours = OpeningHours::from_config(&OpeningHoursConfig {
                closed_days: closed.iter().map(ToString::to_string).collect(),
                ..OpeningHoursConfig::default()
            })
            .unwrap();
            let occurrences = cat.occurrences(tokyo(2026, 1, 1, 0, 0), tokyo(2026, 7, 20, 0, 0));
            prop_assert!(!occurrences.is_empty() || rule == "FREQ=MONTHLY;BYDAY=1SA");
            for o in occurrences {
                let day = instant(o.start).with_timezone(&cat.tz()).date_naive();
                prop_assert!(!closed.contains(&day), "a session on closed day {}", day);
                let period = hours.current(instant(o.start));
                prop_assert!(period.is_some_and(|p| millis(p.end) >= o.end), "outside hours: {}", day);
            }
        }
    }
}

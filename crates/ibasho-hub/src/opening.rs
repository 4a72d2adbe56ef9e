//! Opening hours as the hub lives them: whether the space is open at an instant, and what
//! changed since the last tick (opened, closed, a closing notice due).
//!
//! The recurrence rules are evaluated only when a period ends (or, with nothing scheduled,
//! once an hour); every other tick compares two integers.

use ibasho_protocol::{Millis, Opening, Span};
use ibasho_schedule::chrono::{DateTime, Utc};
use ibasho_schedule::{OpeningHours, Period};
use std::sync::Mutex;

/// With nothing scheduled within a year, look again this often.
const RECHECK_MS: Millis = 3_600_000;

/// Something the hub must tell people.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// The space opened or closed.
    Now(Opening),
    /// The space closes in `minutes`.
    ClosingSoon { closes_at: Millis, minutes: u32 },
}

#[derive(Debug)]
struct Window {
    /// The current period, or the next one; `None` when nothing is scheduled within a year.
    period: Option<Span>,
    /// When to evaluate the rules again at the latest.
    recheck_at: Millis,
    /// Whether the space was open at the last tick.
    was_open: bool,
    /// Closing notices still to send in the current period: (minutes, when), soonest last.
    notices: Vec<(u32, Millis)>,
}

/// The opening hours and where the space stands.
#[derive(Debug)]
pub(crate) struct OpeningWatch {
    hours: OpeningHours,
    window: Mutex<Window>,
}

fn millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

fn instant(ms: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn span(p: Period) -> Span {
    Span {
        start: millis(p.start),
        end: millis(p.end),
    }
}

impl OpeningWatch {
    pub(crate) fn new(hours: OpeningHours, now: Millis) -> Self {
        let watch = Self {
            hours,
            window: Mutex::new(Window {
                period: None,
                recheck_at: Millis::MIN,
                was_open: false,
                notices: Vec::new(),
            }),
        };
        {
            let mut w = watch.lock();
            watch.refresh(&mut w, now);
            w.was_open = Self::contains(w.period, now);
            if w.was_open {
                w.notices = watch.notices_for(w.period, now);
            }
        }
        watch
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn contains(period: Option<Span>, now: Millis) -> bool {
        period.is_some_and(|p| p.start <= now && now < p.end)
    }

    /// Evaluates the rules again if the known period has ended or the recheck is due.
    fn refresh(&self, w: &mut Window, now: Millis) {
        let stale = match w.period {
            Some(p) => now >= p.end,
            None => now >= w.recheck_at,
        };
        if !stale {
            return;
        }
        let at = instant(now);
        w.period = self
            .hours
            .current(at)
            .or_else(|| self.hours.next_opening(at))
            .map(span);
        w.recheck_at = now.saturating_add(RECHECK_MS);
    }

    fn notices_for(&self, period: Option<Span>, now: Millis) -> Vec<(u32, Millis)> {
        let Some(p) = period else { return Vec::new() };
        if self.hours.is_always_open() {
            return Vec::new();
        }
        // Longest lead first from `notice_leads`; stored soonest-last so that `pop` takes the
        // next one due.
        let mut notices: Vec<(u32, Millis)> = self
            .hours
            .notice_leads()
            .into_iter()
            .filter_map(|lead| {
                let minutes = u32::try_from(lead.num_minutes()).ok()?;
                let at = p.end.saturating_sub(lead.num_milliseconds());
                (at > now).then_some((minutes, at))
            })
            .collect();
        notices.reverse();
        notices
    }

    fn opening(&self, w: &Window, now: Millis) -> Opening {
        let open = Self::contains(w.period, now);
        Opening {
            open,
            closes_at: match w.period {
                Some(p) if open && !self.hours.is_always_open() => Some(p.end),
                _ => None,
            },
            next: if open { None } else { w.period },
        }
    }

    /// Where the space stands at `now`.
    pub(crate) fn status(&self, now: Millis) -> Opening {
        let mut w = self.lock();
        self.refresh(&mut w, now);
        self.opening(&w, now)
    }

    /// What changed since the last call: at most one opening or closing, then the closing
    /// notices that fell due (a late tick sends only the latest of them).
    pub(crate) fn tick(&self, now: Millis) -> Vec<Change> {
        let mut w = self.lock();
        self.refresh(&mut w, now);
        let mut changes = Vec::new();
        let open = Self::contains(w.period, now);
        if open != w.was_open {
            w.was_open = open;
            w.notices = if open {
                self.notices_for(w.period, now)
            } else {
                Vec::new()
            };
            changes.push(Change::Now(self.opening(&w, now)));
        }
        let mut due = None;
        while w.notices.last().is_some_and(|(_, at)| *at <= now) {
            due = w.notices.pop();
        }
        if let (Some((minutes, _)), Some(p)) = (due, w.period) {
            changes.push(Change::ClosingSoon {
                closes_at: p.end,
                minutes,
            });
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ibasho_schedule::OpeningHoursConfig;
    use ibasho_schedule::chrono::TimeZone;

    fn tokyo(d: u32, h: u32, min: u32) -> Millis {
        ibasho_schedule::chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(2026, 11, d, h, min, 0)
            .unwrap()
            .timestamp_millis()
    }

    const MIN: Millis = 60_000;

    #[test]
    fn opens_warns_twice_and_closes() {
        let hours = OpeningHours::from_config(&OpeningHoursConfig::default()).unwrap();
        // Sunday 22 November 2026: closed; next opening Wednesday 25th, 13:00–21:00.
        let now = tokyo(22, 12, 0);
        let watch = OpeningWatch::new(hours, now);
        let status = watch.status(now);
        assert!(!status.open);
        assert_eq!(
            status.next,
            Some(Span {
                start: tokyo(25, 13, 0),
                end: tokyo(25, 21, 0)
            })
        );
        assert!(watch.tick(now).is_empty());
        let open = watch.tick(tokyo(25, 13, 0));
        assert_eq!(
            open,
            vec![Change::Now(Opening {
                open: true,
                closes_at: Some(tokyo(25, 21, 0)),
                next: None
            })]
        );
        assert!(watch.tick(tokyo(25, 20, 49)).is_empty());
        assert_eq!(
            watch.tick(tokyo(25, 20, 50)),
            vec![Change::ClosingSoon {
                closes_at: tokyo(25, 21, 0),
                minutes: 10
            }]
        );
        assert!(watch.tick(tokyo(25, 20, 51)).is_empty());
        assert_eq!(
            watch.tick(tokyo(25, 20, 59) + 30_000),
            vec![Change::ClosingSoon {
                closes_at: tokyo(25, 21, 0),
                minutes: 1
            }]
        );
        let closed = watch.tick(tokyo(25, 21, 0));
        assert_eq!(closed.len(), 1);
        let Change::Now(o) = closed[0] else {
            panic!("{closed:?}")
        };
        assert!(!o.open);
        // Next: the 1st Saturday of December (the 5th), 10:00 — before the 2nd Wednesday (9th).
        let next = o.next.unwrap();
        assert_eq!(next.start - tokyo(25, 21, 0), (9 * 24 + 13) * 60 * MIN);
    }

    #[test]
    fn a_late_tick_sends_only_the_latest_notice_and_always_open_never_warns() {
        let hours = OpeningHours::from_config(&OpeningHoursConfig::default()).unwrap();
        let watch = OpeningWatch::new(hours, tokyo(25, 14, 0));
        assert!(watch.status(tokyo(25, 14, 0)).open);
        let changes = watch.tick(tokyo(25, 20, 59) + 1);
        assert_eq!(
            changes,
            vec![Change::ClosingSoon {
                closes_at: tokyo(25, 21, 0),
                minutes: 1
            }]
        );
        let always = OpeningWatch::new(OpeningHours::always(), tokyo(25, 14, 0));
        let s = always.status(tokyo(25, 14, 0));
        assert_eq!(
            s,
            Opening {
                open: true,
                closes_at: None,
                next: None
            }
        );
        assert!(always.tick(tokyo(30, 23, 59)).is_empty());
    }
}

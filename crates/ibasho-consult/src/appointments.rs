//! Appointments (予約制), the first part: the bookable slots a counsellor publishes. A
//! counsellor (or staff on their behalf) gives blocks of time — one-off or repeating by an
//! RFC 5545 rule, through `ibasho-schedule` — and the block is cut into slots of a given
//! length with a buffer between them. Slots fall only inside the space's opening hours unless
//! staff allowed otherwise. Pure: callers pass the window and the opening hours.

use ibasho_protocol::Millis;
use ibasho_protocol::consult::{ForWhom, Topic};
use ibasho_schedule::chrono::{DateTime, Duration, NaiveDate, Utc};
use ibasho_schedule::recurrence::{parse_date, parse_time, parse_tz};
use ibasho_schedule::{OpeningHours, Recurrence, ScheduleError};

/// Longest slot, in minutes.
pub const MAX_SLOT_MINUTES: u32 = 180;
/// Longest buffer between slots, in minutes.
pub const MAX_BUFFER_MINUTES: u32 = 120;
/// Most slots one query returns.
pub const MAX_SLOTS: usize = 2000;

/// How a counsellor's bookable time is given.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SlotRuleInput {
    /// The first day, `YYYY-MM-DD`.
    pub first_date: String,
    /// When the block starts on each day, `HH:MM` (wall clock of the space's zone).
    pub start: String,
    /// When the block ends on each day, `HH:MM`.
    pub end: String,
    /// The RRULE value (empty: that one day only).
    pub rrule: String,
    /// Days left out, `YYYY-MM-DD`.
    pub except_dates: Vec<String>,
    /// Length of one consult, minutes (default 50).
    pub slot_minutes: u32,
    /// Rest between two consults, minutes (default 10).
    pub buffer_minutes: u32,
    /// For whom they take consults (empty: both).
    pub for_whom: Vec<ForWhom>,
    /// Topics they take (empty: all).
    pub topics: Vec<Topic>,
    /// Staff allowed slots outside opening hours.
    pub outside_hours: bool,
}

impl Default for SlotRuleInput {
    fn default() -> Self {
        Self {
            first_date: String::new(),
            start: String::new(),
            end: String::new(),
            rrule: String::new(),
            except_dates: Vec::new(),
            slot_minutes: 50,
            buffer_minutes: 10,
            for_whom: Vec::new(),
            topics: Vec::new(),
            outside_hours: false,
        }
    }
}

/// Why a slot rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSlotRule {
    /// The dates, times or rule do not parse.
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A length out of range.
    #[error("{0}")]
    Range(String),
}

/// A compiled slot rule.
#[derive(Clone, Debug)]
pub struct SlotRule {
    blocks: Recurrence,
    slot: Duration,
    step: Duration,
    outside_hours: bool,
    for_whom: Vec<ForWhom>,
    topics: Vec<Topic>,
}

/// One bookable slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    /// When it starts.
    pub start: Millis,
    /// When it ends.
    pub end: Millis,
}

fn instant(ms: Millis) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl SlotRule {
    /// Checks and compiles `input` in the space's time zone `tz` (an IANA name).
    pub fn compile(tz: &str, input: &SlotRuleInput) -> Result<Self, InvalidSlotRule> {
        if input.slot_minutes == 0 || input.slot_minutes > MAX_SLOT_MINUTES {
            return Err(InvalidSlotRule::Range(format!(
                "slot_minutes must be between 1 and {MAX_SLOT_MINUTES}"
            )));
        }
        if input.buffer_minutes > MAX_BUFFER_MINUTES {
            return Err(InvalidSlotRule::Range(format!(
                "buffer_minutes must be at most {MAX_BUFFER_MINUTES}"
            )));
        }
        let tz = parse_tz(tz)?;
        let (start, end) = (parse_time(&input.start)?, parse_time(&input.end)?);
        if end <= start {
            return Err(InvalidSlotRule::Range("end must be after start".into()));
        }
        let slot = Duration::minutes(i64::from(input.slot_minutes));
        if end - start < slot {
            return Err(InvalidSlotRule::Range(
                "the block is shorter than one slot".into(),
            ));
        }
        let except = input
            .except_dates
            .iter()
            .map(|d| parse_date(d))
            .collect::<Result<Vec<NaiveDate>, _>>()?;
        let blocks = Recurrence::new(
            tz,
            parse_date(&input.first_date)?,
            start,
            end - start,
            &input.rrule,
            &except,
            &[],
        )?;
        Ok(Self {
            blocks,
            slot,
            step: slot + Duration::minutes(i64::from(input.buffer_minutes)),
            outside_hours: input.outside_hours,
            for_whom: input.for_whom.clone(),
            topics: input.topics.clone(),
        })
    }

    /// Whether this counsellor takes consults of this kind in these slots.
    pub fn takes(&self, for_whom: ForWhom, topic: Topic) -> bool {
        (self.for_whom.is_empty() || self.for_whom.contains(&for_whom))
            && (self.topics.is_empty() || self.topics.contains(&topic))
    }

    /// Whether they take consults for `for_whom` (whatever the topic).
    pub fn takes_for(&self, for_whom: ForWhom) -> bool {
        self.for_whom.is_empty() || self.for_whom.contains(&for_whom)
    }

    /// Whether they take consults about `topic` (whoever for).
    pub fn takes_topic(&self, topic: Topic) -> bool {
        self.topics.is_empty() || self.topics.contains(&topic)
    }

    /// The slots that start in `[from, to)`, in order: each block cut into slots with the
    /// buffer between them, a slot only where it fits in the block whole and — unless staff
    /// allowed otherwise — in one opening period of `hours` whole. At most [`MAX_SLOTS`].
    pub fn slots(&self, hours: &OpeningHours, from: Millis, to: Millis) -> Vec<Slot> {
        let (from_t, to_t) = (instant(from), instant(to));
        if to_t <= from_t {
            return Vec::new();
        }
        let blocks = self.blocks.occurrences(from_t, to_t, 1000);
        let periods = if self.outside_hours || blocks.is_empty() {
            Vec::new()
        } else {
            let (first, last) = (blocks[0].start, blocks[blocks.len() - 1].end);
            hours.periods(first, last)
        };
        let mut out = Vec::new();
        for b in blocks {
            let mut start = b.start;
            while start + self.slot <= b.end {
                let end = start + self.slot;
                let in_hours =
                    self.outside_hours || periods.iter().any(|p| p.start <= start && end <= p.end);
                if in_hours && start >= from_t && start < to_t {
                    out.push(Slot {
                        start: start.timestamp_millis(),
                        end: end.timestamp_millis(),
                    });
                    if out.len() >= MAX_SLOTS {
                        return out;
                    }
                }
                start += self.step;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ibasho_schedule::OpeningHoursConfig;
    use ibasho_schedule::chrono::TimeZone;
    use ibasho_schedule::chrono_tz::Asia::Tokyo;

    fn tokyo(m: u32, d: u32, h: u32, min: u32) -> Millis {
        Tokyo
            .with_ymd_and_hms(2026, m, d, h, min, 0)
            .unwrap()
            .timestamp_millis()
    }

    fn hours() -> OpeningHours {
        OpeningHours::from_config(&OpeningHoursConfig::default()).unwrap()
    }

    fn rule(input: SlotRuleInput) -> SlotRule {
        SlotRule::compile("Asia/Tokyo", &input).unwrap()
    }

    #[test]
    fn a_block_is_cut_into_slots_with_the_buffer_between_them() {
        // Wednesday 25 November 2026 is an opening day (13:00–21:00).
        let r = rule(SlotRuleInput {
            first_date: "2026-11-25".into(),
            start: "13:00".into(),
            end: "17:00".into(),
            ..SlotRuleInput::default()
        });
        let slots = r.slots(&hours(), tokyo(11, 1, 0, 0), tokyo(12, 31, 0, 0));
        let starts: Vec<Millis> = slots.iter().map(|s| s.start).collect();
        assert_eq!(
            starts,
            vec![
                tokyo(11, 25, 13, 0),
                tokyo(11, 25, 14, 0),
                tokyo(11, 25, 15, 0),
                tokyo(11, 25, 16, 0),
            ]
        );
        assert!(slots.iter().all(|s| s.end - s.start == 50 * 60_000));
    }

    #[test]
    fn slots_follow_the_rule_across_month_ends_and_skip_closed_days() {
        // Every Wednesday 12:00–15:00. The space opens on the 2nd–4th Wednesday at 13:00:
        // the 12:00 slot is outside hours; the 1st and 5th Wednesdays are closed days.
        let r = rule(SlotRuleInput {
            first_date: "2026-11-04".into(),
            start: "12:00".into(),
            end: "15:00".into(),
            rrule: "FREQ=WEEKLY;BYDAY=WE".into(),
            ..SlotRuleInput::default()
        });
        let slots = r.slots(&hours(), tokyo(11, 1, 0, 0), tokyo(12, 31, 0, 0));
        let days: Vec<(u32, u32)> = slots
            .iter()
            .map(|s| {
                let t = instant(s.start).with_timezone(&Tokyo);
                use ibasho_schedule::chrono::{Datelike, Timelike};
                (t.day(), t.hour())
            })
            .collect();
        // November: 11, 18, 25; December: 9, 16, 23 (2nd–4th Wednesdays), at 13:00 and 14:00.
        let expected: Vec<(u32, u32)> = [11, 18, 25, 9, 16, 23]
            .iter()
            .flat_map(|d| [(*d, 13), (*d, 14)])
            .collect();
        assert_eq!(days, expected);
        // Staff may allow slots outside hours: then every Wednesday, from 12:00.
        let anywhere = rule(SlotRuleInput {
            first_date: "2026-11-04".into(),
            start: "12:00".into(),
            end: "15:00".into(),
            rrule: "FREQ=WEEKLY;BYDAY=WE".into(),
            outside_hours: true,
            ..SlotRuleInput::default()
        });
        let n = anywhere
            .slots(&hours(), tokyo(11, 1, 0, 0), tokyo(12, 31, 0, 0))
            .len();
        assert_eq!(n, 9 * 3, "nine Wednesdays, three slots each");
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        let base = SlotRuleInput {
            first_date: "2026-11-25".into(),
            start: "13:00".into(),
            end: "17:00".into(),
            ..SlotRuleInput::default()
        };
        let refuse = |input: SlotRuleInput| SlotRule::compile("Asia/Tokyo", &input).is_err();
        assert!(refuse(SlotRuleInput {
            slot_minutes: 0,
            ..base.clone()
        }));
        assert!(refuse(SlotRuleInput {
            end: "13:30".into(),
            ..base.clone()
        }));
        assert!(refuse(SlotRuleInput {
            end: "12:00".into(),
            ..base.clone()
        }));
        assert!(refuse(SlotRuleInput {
            rrule: "FREQ=SOMETIMES".into(),
            ..base.clone()
        }));
        assert!(SlotRule::compile("Mars/Olympus", &base).is_err());
    }

    #[test]
    fn kinds_limit_who_may_book() {
        let r = rule(SlotRuleInput {
            first_date: "2026-11-25".into(),
            start: "13:00".into(),
            end: "17:00".into(),
            for_whom: vec![ForWhom::FamilyMember],
            ..SlotRuleInput::default()
        });
        assert!(r.takes(ForWhom::FamilyMember, Topic::Health));
        assert!(!r.takes(ForWhom::Myself, Topic::Health));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Whatever the rule: slots never overlap, keep their length and the buffer, lie in
        /// the window, and (unless allowed) lie whole inside one opening period.
        #[test]
        fn slots_are_whole_apart_and_inside_opening_hours(
            day in 1u32..28,
            start_h in 8u32..20,
            hours_long in 1u32..6,
            slot in 20u32..90,
            buffer in 0u32..30,
            weekly in proptest::bool::ANY,
        ) {
            let input = SlotRuleInput {
                first_date: format!("2026-11-{day:02}"),
                start: format!("{start_h:02}:00"),
                end: format!("{:02}:00", (start_h + hours_long).min(23)),
                rrule: if weekly { "FREQ=WEEKLY".into() } else { String::new() },
                slot_minutes: slot,
                buffer_minutes: buffer,
                ..SlotRuleInput::default()
            };
            let Ok(r) = SlotRule::compile("Asia/Tokyo", &input) else { return Ok(()) };
            let h = hours();
            let (from, to) = (tokyo(11, 1, 0, 0), tokyo(12, 31, 0, 0));
            let slots = r.slots(&h, from, to);
            for s in &slots {
                proptest::prop_assert_eq!(s.end - s.start, i64::from(slot) * 60_000);
                proptest::prop_assert!(s.start >= from && s.start < to);
                let inside = h
                    .periods(instant(s.start), instant(s.end))
                    .iter()
                    .any(|p| p.start <= instant(s.start) && instant(s.end) <= p.end);
                proptest::prop_assert!(inside, "slot outside opening hours: {:?}", s);
            }
            for w in slots.windows(2) {
                proptest::prop_assert!(w[1].start >= w[0].end + i64::from(buffer) * 60_000);
            }
        }
    }
}

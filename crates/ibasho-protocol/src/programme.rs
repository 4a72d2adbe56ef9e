//! Programmes (lunch together, live illustration, a singing café, peer salons by age band),
//! their sessions, and the timetable, as the HTTP API and room descriptions carry them.
//!
//! A programme says what happens; a *session* says when: one occurrence, or a recurring
//! series (an RFC 5545 RRULE) with exceptions. Each occurrence has its own room, which opens
//! `open_before_minutes` before the start, goes live at the start and closes at the end.

use crate::api::{AgeBand, wire_enum};
use crate::{AccountId, Millis, Mode, Person, ProgrammeId, RoomId, SessionId};
use serde::{Deserialize, Serialize};

wire_enum!(
    /// What a programme is about.
    Category {
        /// Lunch or dinner together.
        Meal = "meal",
        /// Live illustration, drawing, crafts.
        Art = "art",
        /// A singing café, music.
        Music = "music",
        /// A peer salon, often in groups by age band.
        PeerSalon = "peer_salon",
        /// Anything else.
        Other = "other",
    }
);

wire_enum!(
    /// Where one occurrence of a session stands.
    Phase {
        /// Not yet open.
        Scheduled = "scheduled",
        /// The room is open and waiting: people may come in before the start.
        Open = "open",
        /// Under way.
        Live = "live",
        /// Over; its room is closed.
        Ended = "ended",
        /// Called off, with a reason shown to people.
        Cancelled = "cancelled",
    }
);

/// A programme session's room, as listed with the room (`rooms[].programme`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeRoom {
    /// The programme.
    pub programme: ProgrammeId,
    /// The session this occurrence belongs to.
    pub session: SessionId,
    /// What it is about.
    pub category: Category,
    /// When it starts.
    pub start: Millis,
    /// When it ends; the room closes then.
    pub end: Millis,
    /// `open` (waiting) or `live`.
    pub phase: Phase,
    /// The attendance modes people may choose here.
    pub modes: Vec<Mode>,
    /// Most people at once who may write (`participant`, `chat_only`); watchers do not count
    /// when watching is allowed.
    pub capacity: u32,
    /// If not empty, only these age bands may join (staff and hosts always may).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub age_bands: Vec<AgeBand>,
    /// The hosts, who may moderate here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<AccountId>,
}

/// A programme's introduction: a video or image kept by the server, or an external link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GalleryItem {
    /// A file uploaded to the server.
    Upload {
        /// Where to fetch it (same origin).
        url: String,
        /// Its media type, checked on upload.
        content_type: String,
        /// Its size.
        bytes: u64,
    },
    /// A page elsewhere (only if `programmes.allow_external_links`).
    Link {
        /// The address.
        url: String,
    },
}

/// A programme as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeView {
    /// The programme.
    pub id: ProgrammeId,
    /// Its title.
    pub title: String,
    /// What happens, in a few lines.
    pub description: String,
    /// What it is about.
    pub category: Category,
    /// Who hosts it.
    pub hosts: Vec<Person>,
    /// The attendance modes people may choose.
    pub modes: Vec<Mode>,
    /// Most people at once who may write.
    pub capacity: u32,
    /// If not empty, only these age bands may join.
    pub age_bands: Vec<AgeBand>,
    /// The introduction, if any.
    pub gallery: Option<GalleryItem>,
    /// Archived programmes have no future sessions and are listed to staff only.
    pub archived: bool,
}

fn all_modes() -> Vec<Mode> {
    vec![Mode::ViewOnly, Mode::ChatOnly, Mode::Participant]
}

/// What staff send to create or change a programme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeInput {
    /// Its title.
    pub title: String,
    /// What happens.
    #[serde(default)]
    pub description: String,
    /// What it is about.
    pub category: Category,
    /// Who hosts it (accounts of counsellors, staff or admins).
    #[serde(default)]
    pub hosts: Vec<AccountId>,
    /// The attendance modes people may choose (default: all three).
    #[serde(default = "all_modes")]
    pub modes: Vec<Mode>,
    /// Most people at once who may write.
    pub capacity: u32,
    /// If not empty, only these age bands may join.
    #[serde(default)]
    pub age_bands: Vec<AgeBand>,
    /// An external introduction link (only if `programmes.allow_external_links`); an
    /// uploaded file replaces it.
    #[serde(default)]
    pub link: Option<String>,
}

fn ten() -> u32 {
    10
}

fn five() -> u32 {
    5
}

/// When a programme happens: one occurrence, or a recurring series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// The first (or only) date, `YYYY-MM-DD`, in the space's time zone.
    pub first_date: String,
    /// Start time, `HH:MM`, on the wall clock of the space's time zone.
    pub start: String,
    /// Length in minutes.
    pub minutes: u32,
    /// An RFC 5545 RRULE value such as `FREQ=WEEKLY;BYDAY=WE`; empty for a single session.
    #[serde(default)]
    pub rrule: String,
    /// Dates the series skips, `YYYY-MM-DD`.
    #[serde(default)]
    pub except_dates: Vec<String>,
    /// Dates the series adds, `YYYY-MM-DD`, at the same time.
    #[serde(default)]
    pub extra_dates: Vec<String>,
    /// The room opens this many minutes before the start (people may wait inside).
    #[serde(default = "ten")]
    pub open_before_minutes: u32,
    /// People inside are told this many minutes before the end.
    #[serde(default = "five")]
    pub warn_before_minutes: u32,
}

/// One occurrence that a session's rule yields, in a preview.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewOccurrence {
    /// When it starts.
    pub start: Millis,
    /// When it ends.
    pub end: Millis,
    /// It falls outside the space's opening hours (or on a closed day) and will not take
    /// place.
    pub outside_hours: bool,
}

/// A session as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// The session.
    pub id: SessionId,
    /// Its programme.
    pub programme: ProgrammeId,
    /// Its schedule.
    #[serde(flatten)]
    pub schedule: SessionInput,
    /// If the whole series was called off: why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cancelled: Option<String>,
}

/// One occurrence in the timetable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimetableEntry {
    /// The session it belongs to.
    pub session: SessionId,
    /// The programme.
    pub programme: ProgrammeId,
    /// The programme's title.
    pub title: String,
    /// What it is about.
    pub category: Category,
    /// When it starts.
    pub start: Millis,
    /// When it ends.
    pub end: Millis,
    /// When its room opens.
    pub opens_at: Millis,
    /// Where it stands now.
    pub phase: Phase,
    /// Why it was called off (when `cancelled`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cancel_reason: String,
    /// Its room, while `open` or `live`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub room: Option<RoomId>,
    /// The attendance modes people may choose.
    pub modes: Vec<Mode>,
    /// Most people at once who may write.
    pub capacity: u32,
    /// If not empty, only these age bands may join.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub age_bands: Vec<AgeBand>,
}

/// The timetable for a window of time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timetable {
    /// From (inclusive).
    pub from: Millis,
    /// To (exclusive).
    pub to: Millis,
    /// The space's time zone, to show times in.
    pub time_zone: String,
    /// The occurrences overlapping the window, in order of start.
    pub entries: Vec<TimetableEntry>,
}

/// How many came to one session, and how. Aggregate and anonymous: counts only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStatistics {
    /// The programme's title.
    pub title: String,
    /// What it is about.
    pub category: Category,
    /// When it started.
    pub start: Millis,
    /// When it ended.
    pub end: Millis,
    /// Called off.
    pub cancelled: bool,
    /// It has started, and was not called off.
    pub held: bool,
    /// People who came in (each once, however often they came and went).
    pub joined: u32,
    /// Of them, by the most present way they were there.
    pub view_only: u32,
    /// Chat only.
    pub chat_only: u32,
    /// As participants.
    pub participant: u32,
    /// Of them, people at their first programme session ever.
    pub first_time: u32,
    /// Of them, people who had come to one before.
    pub returning: u32,
    /// The most people at once.
    pub peak: u32,
}

/// A month's figures: every session that took place or was called off, and the totals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthStatistics {
    /// `YYYY-MM`, in the space's time zone.
    pub month: String,
    /// The space's time zone.
    pub time_zone: String,
    /// Each session, in order.
    pub sessions: Vec<SessionStatistics>,
    /// Sessions that took place (not called off, started before now).
    pub sessions_held: u32,
    /// Sum of `joined` over the month's sessions.
    pub joined: u32,
    /// Different people who came to at least one session this month.
    pub people: u32,
    /// Sum of `first_time`.
    pub first_time: u32,
    /// Sum of `returning`.
    pub returning: u32,
    /// Sum of `view_only`.
    pub view_only: u32,
    /// Sum of `chat_only`.
    pub chat_only: u32,
    /// Sum of `participant`.
    pub participant: u32,
}

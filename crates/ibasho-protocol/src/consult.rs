//! Private consultations on the wire: what a requester asks for, what a counsellor is offered,
//! and the states a consult passes through. The frames that carry them are in
//! [`crate::frames`]; `docs/consult.md` explains the routing policy.

pub use crate::api::Profession;
use crate::{AccountId, Millis, Person, RoomId};
use serde::{Deserialize, Serialize};

/// A consult request's id: a number given in order of arrival, stable across restarts.
pub type ConsultId = u64;

/// What a request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// 日々の暮らし.
    DailyLife,
    /// 心と体の健康.
    Health,
    /// 家族のこと.
    Family,
    /// 仕事や学校.
    WorkOrSchool,
    /// 人間関係.
    Relationships,
    /// そのほか.
    Other,
}

impl Topic {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::DailyLife => "daily_life",
            Topic::Health => "health",
            Topic::Family => "family",
            Topic::WorkOrSchool => "work_or_school",
            Topic::Relationships => "relationships",
            Topic::Other => "other",
        }
    }
}

/// For whom the consult is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForWhom {
    /// The requester themselves.
    #[serde(rename = "self")]
    Myself,
    /// A family member (families often come first).
    FamilyMember,
}

/// How the consult takes place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Text in a private room (voice comes when calls exist).
    #[default]
    Text,
}

/// A counsellor's availability.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Takes new consults.
    Available,
    /// Finishes what they have; takes nothing new.
    Away,
    /// Not connected.
    Offline,
}

/// Where a consult stands, as its requester sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// In the queue (an offer to a counsellor is not shown: it may be declined).
    Waiting,
    /// A counsellor is with them in the consult room.
    Active,
    /// The counsellor lost their connection and has a few minutes to come back; after that
    /// the consult goes back to the front of the queue, with everything said so far.
    Interrupted,
    /// Over; `end` says how.
    Ended,
}

/// How a consult ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsultEnd {
    /// It took place and one side ended it.
    Completed,
    /// The requester withdrew.
    Cancelled,
    /// No one was free; the requester left a message to be contacted at the next opening.
    LeftMessage,
    /// The space closed while the request waited.
    Closed,
    /// A booked consult the requester did not come to (never shown as a fault).
    Missed,
}

impl ConsultEnd {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultEnd::Completed => "completed",
            ConsultEnd::Cancelled => "cancelled",
            ConsultEnd::LeftMessage => "left_message",
            ConsultEnd::Closed => "closed",
            ConsultEnd::Missed => "missed",
        }
    }
}

/// The outcome a counsellor records in their wrap-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 次回も継続.
    ContinueNextTime,
    /// 医療機関を紹介.
    ReferredToMedicalCare,
    /// 公的な相談窓口を紹介.
    ReferredToPublicService,
    /// そのほか.
    Other,
}

impl Outcome {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::ContinueNextTime => "continue_next_time",
            Outcome::ReferredToMedicalCare => "referred_to_medical_care",
            Outcome::ReferredToPublicService => "referred_to_public_service",
            Outcome::Other => "other",
        }
    }
}

/// Why a counsellor no longer has a consult.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Released {
    /// It ended (either side, or the requester withdrew).
    Ended,
    /// They handed it on.
    Transferred,
    /// They were gone longer than the grace; it went back to the queue.
    GraceOver,
}

/// What a counsellor sees of a request: never more than they need to take it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultSummary {
    /// The request.
    pub consult: ConsultId,
    /// Who asks (their handle only).
    pub requester: Person,
    /// What about.
    pub topic: Topic,
    /// For whom.
    pub for_whom: ForWhom,
    /// The profession they would like; absent: anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profession: Option<Profession>,
    /// How.
    pub channel: Channel,
    /// Their first message, if they wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_message: Option<String>,
    /// A crisis word was seen, or someone flagged it.
    pub urgent: bool,
    /// When they asked.
    pub requested_at: Millis,
    /// The private note of the counsellor who handed it on, if it was transferred.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handover: Option<String>,
    /// The booked time, for a consult that was booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment: Option<AppointmentRef>,
}

/// A consult being talked, as the queue view shows it: never content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// The request.
    pub consult: ConsultId,
    /// Urgent or not.
    pub urgent: bool,
    /// Waiting (`waiting`), with a counsellor (`active`) or waiting for them (`interrupted`).
    pub phase: Phase,
    /// Since when it waits, or since when it is under way.
    pub since: Millis,
    /// The counsellor, for consults under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counsellor: Option<Person>,
    /// The room, for consults under way (a supervisor may observe it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomId>,
}

/// A counsellor as the queue view and the transfer dialog show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounsellorView {
    /// Who.
    pub person: Person,
    /// Their professions.
    pub professions: Vec<Profession>,
    /// How many consults they take at once.
    pub capacity: u32,
    /// Available, away or offline.
    pub availability: Availability,
    /// How many consults they have now.
    pub active: u32,
}

/// A counsellor's profile, set by staff: what they take and whether they supervise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounsellorProfile {
    /// Their professions.
    pub professions: Vec<Profession>,
    /// How many consults they take at once (1 or more).
    #[serde(default = "one")]
    pub capacity: u32,
    /// Whether they may observe other counsellors' consults (audited).
    #[serde(default)]
    pub supervisor: bool,
}

fn one() -> u32 {
    1
}

impl Default for CounsellorProfile {
    fn default() -> Self {
        Self {
            professions: Vec::new(),
            capacity: 1,
            supervisor: false,
        }
    }
}

/// An account id with the profile, for lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounsellorEntry {
    /// Who.
    pub account: AccountId,
    /// Their profile.
    #[serde(flatten)]
    pub profile: CounsellorProfile,
}

// ---- appointments (予約制) -------------------------------------------------------------

/// A booking's id: a number given in order, stable across restarts.
pub type AppointmentId = u64;

/// Where a booking stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentState {
    /// Booked; the time has not come.
    Booked,
    /// The consult room is open for the two.
    Open,
    /// It took place: both came.
    Held,
    /// The person did not come (never shown to them as a fault).
    Missed,
    /// Cancelled, by the person, the counsellor or staff.
    Cancelled,
    /// The person moved it to another time (see the new booking).
    Moved,
    /// The counsellor did not come; the person was put first in the drop-in queue.
    CounsellorAbsent,
}

impl AppointmentState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentState::Booked => "booked",
            AppointmentState::Open => "open",
            AppointmentState::Held => "held",
            AppointmentState::Missed => "missed",
            AppointmentState::Cancelled => "cancelled",
            AppointmentState::Moved => "moved",
            AppointmentState::CounsellorAbsent => "counsellor_absent",
        }
    }

    /// Booked or open: it holds its slot.
    pub fn is_live(self) -> bool {
        matches!(self, AppointmentState::Booked | AppointmentState::Open)
    }
}

/// Who cancelled a booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// The person who booked.
    Requester,
    /// The counsellor.
    Counsellor,
    /// Staff (or an admin), for the counsellor; also when the person's account was deleted.
    Staff,
}

/// A booking as the person and the counsellor see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentView {
    /// Its id.
    pub id: AppointmentId,
    /// With whom.
    pub counsellor: Person,
    /// Who booked (their handle only).
    pub requester: Person,
    /// When it starts.
    pub starts_at: Millis,
    /// When it ends.
    pub ends_at: Millis,
    /// For whom.
    pub for_whom: ForWhom,
    /// What about.
    pub topic: Topic,
    /// How.
    pub channel: Channel,
    /// The person's first note, if they wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_note: Option<String>,
    /// Where it stands.
    pub state: AppointmentState,
    /// Who cancelled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<CancelledBy>,
    /// The counsellor's or staff's message with a cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Reminders also by e-mail.
    pub email_reminders: bool,
    /// Once the room opened: the consult.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult: Option<ConsultId>,
    /// The person may still cancel or move it (before the cut-off).
    pub can_change: bool,
}

/// The booked time of a consult.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentRef {
    /// The booking.
    pub id: AppointmentId,
    /// When it starts.
    pub starts_at: Millis,
    /// When it ends.
    pub ends_at: Millis,
}

/// What happened to a booking, in an `appointment` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentEvent {
    /// It was booked.
    Booked,
    /// The person moved it (this is the new booking).
    Moved,
    /// It was cancelled.
    Cancelled,
    /// A reminder (`reminder` says which).
    Reminder,
    /// The consult room opened.
    Opened,
    /// It took place.
    Held,
    /// The person did not come.
    Missed,
    /// The counsellor did not come.
    CounsellorAbsent,
}

/// Which reminder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reminder {
    /// The day before.
    DayBefore,
    /// A few minutes before.
    Soon,
}

//! What consults need from persistence. The router itself keeps nothing: the server writes
//! every change of a request through this trait before it tells anyone, and restores the
//! queue from it after a restart. `ibasho-store` implements it for SQLite (PostgreSQL next).

use crate::appointments::SlotRuleInput;
use crate::router::{ConsultId, End, Profession, RequestSpec, Restored};
use async_trait::async_trait;
use ibasho_protocol::consult::{
    AppointmentId, AppointmentState, CancelledBy, Channel, CounsellorProfile, ForWhom, Outcome,
    Topic,
};
use ibasho_protocol::{AccountId, Millis};

/// The store failed; the detail is for the log, not for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("consult store: {0}")]
pub struct StoreFailure(pub String);

/// One consult request, as it is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultRecord {
    /// Its id.
    pub id: ConsultId,
    /// Who asked.
    pub requester: AccountId,
    /// What about.
    pub topic: Topic,
    /// For whom.
    pub for_whom: ForWhom,
    /// The profession asked for (or, after a transfer, handed on to).
    pub profession: Option<Profession>,
    /// How.
    pub channel: Channel,
    /// The first message, until the retention purge.
    pub first_message: Option<String>,
    /// Urgent or not.
    pub urgent: bool,
    /// When they asked.
    pub requested_at: Millis,
    /// When it (last) joined the queue.
    pub queued_at: Millis,
    /// It lost its counsellor and waits at the front of its class.
    pub front: bool,
    /// The counsellor it is under way with.
    pub counsellor: Option<AccountId>,
    /// When a counsellor first took it.
    pub started_at: Option<Millis>,
    /// A transfer to one counsellor in particular.
    pub only: Option<AccountId>,
    /// The latest private handover note, until the retention purge.
    pub handover: Option<String>,
    /// How it ended.
    pub end: Option<End>,
    /// When it ended.
    pub ended_at: Option<Millis>,
    /// The booking it was opened for, if it was booked.
    pub appointment: Option<AppointmentId>,
}

impl ConsultRecord {
    /// What the router needs to put it back after a restart.
    pub fn restored(&self) -> Restored {
        Restored {
            id: self.id,
            spec: RequestSpec {
                requester: self.requester,
                profession: self.profession,
                urgent: self.urgent,
            },
            queued_at: self.queued_at,
            front: self.front,
            counsellor: self.counsellor,
            started_at: self.started_at,
            only: self.only,
        }
    }
}

/// A counsellor's private wrap-up of a consult.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRecord {
    /// The consult.
    pub consult: ConsultId,
    /// Who wrote it.
    pub counsellor: AccountId,
    /// The notes.
    pub notes: String,
    /// The outcome, once known.
    pub outcome: Option<Outcome>,
    /// When it was last written.
    pub updated_at: Millis,
}

/// A message left by a requester when no one was free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftMessage {
    /// The consult it ended.
    pub consult: ConsultId,
    /// Who left it.
    pub requester: AccountId,
    /// What about.
    pub topic: Topic,
    /// For whom.
    pub for_whom: ForWhom,
    /// The message.
    pub body: String,
    /// When.
    pub left_at: Millis,
}

/// Persistence of consults.
#[async_trait]
pub trait ConsultStore: Send + Sync {
    /// The id the next request gets (one more than any kept).
    async fn next_consult_id(&self) -> Result<ConsultId, StoreFailure>;
    /// Creates or replaces a request's record.
    async fn save_consult(&self, record: &ConsultRecord) -> Result<(), StoreFailure>;
    /// A request's record.
    async fn consult(&self, id: ConsultId) -> Result<Option<ConsultRecord>, StoreFailure>;
    /// Every request that has not ended, oldest first.
    async fn open_consults(&self) -> Result<Vec<ConsultRecord>, StoreFailure>;
    /// Creates or replaces `counsellor`'s notes on a consult.
    async fn save_notes(&self, note: &NoteRecord) -> Result<(), StoreFailure>;
    /// The notes on a consult, by every counsellor who had it.
    async fn notes(&self, consult: ConsultId) -> Result<Vec<NoteRecord>, StoreFailure>;
    /// Keeps a message left by a requester.
    async fn leave_message(&self, message: &LeftMessage) -> Result<(), StoreFailure>;
    /// Messages left and not yet handled, oldest first.
    async fn left_messages(&self) -> Result<Vec<LeftMessage>, StoreFailure>;
    /// Marks a left message handled. Returns whether there was one to mark.
    async fn message_handled(
        &self,
        consult: ConsultId,
        by: AccountId,
        at: Millis,
    ) -> Result<bool, StoreFailure>;
    /// A counsellor's profile, if staff set one.
    async fn counsellor_profile(
        &self,
        account: AccountId,
    ) -> Result<Option<CounsellorProfile>, StoreFailure>;
    /// Sets a counsellor's profile.
    async fn set_counsellor_profile(
        &self,
        account: AccountId,
        profile: &CounsellorProfile,
    ) -> Result<(), StoreFailure>;
    /// Every profile staff set.
    async fn counsellor_profiles(
        &self,
    ) -> Result<Vec<(AccountId, CounsellorProfile)>, StoreFailure>;
    /// The retention purge: for consults that ended before `ended_before`, deletes what was
    /// said (the room's messages, the first message, handover notes, left messages). The
    /// counsellors' notes and outcomes stay (they are the service's records). Returns how many
    /// consults were purged.
    async fn purge_consults(&self, ended_before: Millis) -> Result<u64, StoreFailure>;
}

// ---- appointments --------------------------------------------------------------------------

/// A counsellor's published bookable time, as it is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRecord {
    /// Its id.
    pub id: u64,
    /// Whose time it is.
    pub counsellor: AccountId,
    /// The rule as given.
    pub input: SlotRuleInput,
    /// Who published it (the counsellor, or staff for them).
    pub created_by: AccountId,
    /// When.
    pub created_at: Millis,
}

/// A booking, as it is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppointmentRecord {
    /// Its id.
    pub id: AppointmentId,
    /// With whom.
    pub counsellor: AccountId,
    /// Who booked.
    pub requester: AccountId,
    /// When it starts.
    pub starts_at: Millis,
    /// When it ends.
    pub ends_at: Millis,
    /// For whom.
    pub for_whom: ForWhom,
    /// What about.
    pub topic: Topic,
    /// The person's first note, until the retention purge or their account's deletion.
    pub first_note: Option<String>,
    /// Where it stands.
    pub state: AppointmentState,
    /// Who cancelled it.
    pub cancelled_by: Option<CancelledBy>,
    /// The message given with a cancellation by the counsellor or staff.
    pub message: Option<String>,
    /// Reminders also by e-mail.
    pub email_reminders: bool,
    /// Where the reminders are mailed, when the person gave an address for them.
    pub email: Option<String>,
    /// The consult, once its room opened.
    pub consult: Option<ConsultId>,
    /// When it was booked.
    pub booked_at: Millis,
    /// When it last changed.
    pub changed_at: Millis,
    /// The "day before" reminder went.
    pub reminded_day_before: bool,
    /// The "soon" reminder went.
    pub reminded_soon: bool,
    /// When the person first came into the room.
    pub requester_came_at: Option<Millis>,
    /// When the counsellor first came into the room.
    pub counsellor_came_at: Option<Millis>,
}

/// A booking to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAppointment {
    /// With whom.
    pub counsellor: AccountId,
    /// Who books.
    pub requester: AccountId,
    /// When it starts.
    pub starts_at: Millis,
    /// When it ends.
    pub ends_at: Millis,
    /// For whom.
    pub for_whom: ForWhom,
    /// What about.
    pub topic: Topic,
    /// The person's first note.
    pub first_note: Option<String>,
    /// Reminders also by e-mail.
    pub email_reminders: bool,
    /// Where the reminders are mailed.
    pub email: Option<String>,
    /// Reminders that need not go (the time is nearer than they are).
    pub reminded_day_before: bool,
    /// As above.
    pub reminded_soon: bool,
}

/// What became of a booking attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Booking {
    /// It is booked.
    Booked(AppointmentRecord),
    /// Someone holds that counsellor's time already (the same slot, or one overlapping it).
    Taken,
    /// The person already holds `max_upcoming` bookings, or one overlapping this time.
    Limit,
    /// (Moves only) the booking to move is no longer booked.
    Gone,
}

/// Bookings per state, for staff's monthly counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AppointmentCounts {
    /// Every booking of the month that was not moved elsewhere.
    pub booked: u64,
    /// Took place.
    pub held: u64,
    /// The person did not come.
    pub missed: u64,
    /// Cancelled.
    pub cancelled: u64,
    /// The counsellor did not come.
    pub counsellor_absent: u64,
    /// Still to come (booked or open).
    pub upcoming: u64,
}

impl AppointmentCounts {
    /// Counts one booking in `state`.
    pub fn add(&mut self, state: AppointmentState) {
        if state == AppointmentState::Moved {
            return;
        }
        self.booked += 1;
        match state {
            AppointmentState::Held => self.held += 1,
            AppointmentState::Missed => self.missed += 1,
            AppointmentState::Cancelled => self.cancelled += 1,
            AppointmentState::CounsellorAbsent => self.counsellor_absent += 1,
            AppointmentState::Booked | AppointmentState::Open => self.upcoming += 1,
            AppointmentState::Moved => {}
        }
    }
}

/// Persistence of appointments. Booking is decided by the store: of two attempts at one
/// counsellor's time, exactly one wins, whichever node they came through.
#[async_trait]
pub trait AppointmentStore: Send + Sync {
    /// Keeps a new rule; returns it with its id.
    async fn create_rule(
        &self,
        counsellor: AccountId,
        input: &SlotRuleInput,
        by: AccountId,
        at: Millis,
    ) -> Result<RuleRecord, StoreFailure>;
    /// The rules in force, of one counsellor or of all, oldest first.
    async fn rules(&self, counsellor: Option<AccountId>) -> Result<Vec<RuleRecord>, StoreFailure>;
    /// One rule in force.
    async fn rule(&self, id: u64) -> Result<Option<RuleRecord>, StoreFailure>;
    /// Takes a rule out of force. Returns whether it was in force.
    async fn delete_rule(&self, id: u64, at: Millis) -> Result<bool, StoreFailure>;
    /// Books `new` if the counsellor's time is free (no live booking overlaps it) and the
    /// person holds fewer than `max_upcoming` live bookings, none overlapping it — in one
    /// atomic step.
    async fn book(
        &self,
        new: &NewAppointment,
        max_upcoming: u32,
        at: Millis,
    ) -> Result<Booking, StoreFailure>;
    /// Books `new` in place of `old` (which becomes `moved`), atomically, on the same terms
    /// as [`AppointmentStore::book`] (`old` does not count against the person).
    async fn move_appointment(
        &self,
        old: AppointmentId,
        new: &NewAppointment,
        max_upcoming: u32,
        at: Millis,
    ) -> Result<Booking, StoreFailure>;
    /// One booking.
    async fn appointment(
        &self,
        id: AppointmentId,
    ) -> Result<Option<AppointmentRecord>, StoreFailure>;
    /// Writes a booking's changing fields (state, cancellation, consult, reminders, arrivals)
    /// if it is still in state `expected`. Returns whether it was.
    async fn update_appointment(
        &self,
        record: &AppointmentRecord,
        expected: AppointmentState,
    ) -> Result<bool, StoreFailure>;
    /// Bookings that start in `[from, to)`, of one counsellor or of all, by start.
    async fn appointments_between(
        &self,
        from: Millis,
        to: Millis,
        counsellor: Option<AccountId>,
    ) -> Result<Vec<AppointmentRecord>, StoreFailure>;
    /// A person's bookings, newest start first, at most `limit`.
    async fn appointments_of(
        &self,
        requester: AccountId,
        limit: u32,
    ) -> Result<Vec<AppointmentRecord>, StoreFailure>;
    /// Every booking that is booked or open, by start.
    async fn live_appointments(&self) -> Result<Vec<AppointmentRecord>, StoreFailure>;
}

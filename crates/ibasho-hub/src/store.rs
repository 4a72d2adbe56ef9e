//! What the hub needs from persistence, as small capability traits composed into
//! [`HubStore`]. Methods are in CRUD order. `ibasho-store` implements them on SQLite; a
//! PostgreSQL backend implements the same traits in the same order.

use async_trait::async_trait;
use ibasho_protocol::api::{AccountStatus, AgeBand};
use ibasho_protocol::{
    AccountId, Avatar, Message, MessageId, Millis, Mode, Person, Role, RoomId, RoomInfo,
    SequencedEvent, Stamp,
};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The handle is taken (compared case-insensitively).
    #[error("handle is already taken")]
    HandleTaken,
    /// The thing asked for does not exist (or not in that room).
    #[error("not found")]
    NotFound,
    /// The caller may not change this (for example someone else's message).
    #[error("not the author")]
    NotAuthor,
    /// The database failed. The message is for logs, never for clients.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// A new account to create.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// Its id, chosen by the caller.
    pub id: AccountId,
    /// The handle, already normalised (see `ibasho_protocol::handle`).
    pub handle: String,
    /// The uniqueness key of the handle (`ibasho_protocol::handle::handle_key`).
    pub handle_key: String,
    /// The avatar.
    pub avatar: Avatar,
    /// The role.
    pub role: Role,
    /// When.
    pub created_at: Millis,
}

/// An account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRecord {
    /// Its id.
    pub id: AccountId,
    /// The handle.
    pub handle: String,
    /// The avatar.
    pub avatar: Avatar,
    /// The role.
    pub role: Role,
    /// Whether it may connect.
    pub status: AccountStatus,
    /// The age band the person gave when they registered, if any (peer salons by age band).
    pub age_band: Option<AgeBand>,
    /// When it was created.
    pub created_at: Millis,
}

impl AccountRecord {
    /// The account as others see it.
    pub fn person(&self) -> Person {
        Person {
            id: self.id,
            handle: self.handle.clone(),
            avatar: self.avatar,
            role: self.role,
        }
    }

    /// The identity a token for this account carries.
    pub fn identity(&self) -> crate::Identity {
        crate::Identity {
            account: self.id,
            handle: self.handle.clone(),
            role: self.role,
        }
    }
}

/// A room as stored. `RoomInfo` without the live parts.
#[derive(Clone, Debug)]
pub struct RoomRecord {
    /// The room as clients see it; `last_seq` is the stored sequence.
    pub info: RoomInfo,
    /// Who created it (none for the lobby, which the store creates itself).
    pub created_by: Option<AccountId>,
    /// When.
    pub created_at: Millis,
}

/// A change to a room's timeline, to be given the next sequence number.
#[derive(Clone, Debug)]
pub enum TimelineChange {
    /// Post a new message.
    Post {
        /// Its id.
        message_id: MessageId,
        /// The author.
        author: AccountId,
        /// The text, already checked.
        body: String,
        /// The client's idempotency key.
        client_msg_id: Option<uuid::Uuid>,
    },
    /// Change the text of a message; only its author may.
    Edit {
        /// Which message.
        message_id: MessageId,
        /// Who asks; must be the author.
        author: AccountId,
        /// The new text.
        body: String,
    },
    /// Delete a message: its author, or staff (`by_staff`).
    Delete {
        /// Which message.
        message_id: MessageId,
        /// Who asks.
        by: AccountId,
        /// Staff may delete any message.
        by_staff: bool,
    },
    /// Give or take back a stamp.
    React {
        /// Which message.
        message_id: MessageId,
        /// Who.
        account: AccountId,
        /// Which stamp.
        stamp: Stamp,
        /// Give or take back.
        on: bool,
    },
}

/// What [`TimelineStore::append_event`] did.
#[derive(Clone, Debug)]
pub enum Appended {
    /// A new event with its sequence number, durable.
    New(SequencedEvent),
    /// The same `client_msg_id` was posted before: nothing new was stored.
    Duplicate {
        /// The earlier post's event sequence number.
        seq: u64,
        /// The earlier post's message.
        message_id: MessageId,
    },
    /// Nothing changed (a stamp given twice), so no event.
    Unchanged,
}

/// The parts of a message the hub checks before changing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageMeta {
    /// Who wrote it.
    pub author: AccountId,
    /// Whether it is deleted.
    pub deleted: bool,
}

/// A mute in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MuteRecord {
    /// Where.
    pub room: RoomId,
    /// Whom.
    pub account: AccountId,
    /// Until when.
    pub until: Millis,
}

/// One line of the audit log: who did what to whom, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: Millis,
    /// Who acted.
    pub actor: AccountId,
    /// What they did, e.g. `mute`, `remove`, `delete_message`, `create_room`.
    pub action: String,
    /// The room concerned.
    pub room: Option<RoomId>,
    /// The account acted upon.
    pub target_account: Option<AccountId>,
    /// The message acted upon.
    pub target_message: Option<MessageId>,
    /// Why, in the actor's words.
    pub reason: String,
    /// Anything else, as JSON (for example the minutes of a mute).
    pub detail: serde_json::Value,
}

/// Accounts: who someone is.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account. Fails with [`StoreError::HandleTaken`] if the handle key is used.
    async fn create_account(&self, new: &NewAccount) -> Result<AccountRecord, StoreError>;
    /// One account by id.
    async fn account(&self, id: AccountId) -> Result<Option<AccountRecord>, StoreError>;
}

/// Rooms: which exist.
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Creates a room.
    async fn create_room(&self, room: &RoomRecord) -> Result<(), StoreError>;
    /// Every room, archived ones too, in creation order; the lobby first.
    async fn rooms(&self) -> Result<Vec<RoomRecord>, StoreError>;
    /// Archives a room (its history stays).
    async fn archive_room(&self, room: &RoomId) -> Result<(), StoreError>;
    /// Stores a room's pinned notice and stage mode.
    async fn update_room_controls(
        &self,
        room: &RoomId,
        pinned: Option<&str>,
        stage: bool,
    ) -> Result<(), StoreError>;
}

/// Timelines: the per-room, sequenced record of what was said.
#[async_trait]
pub trait TimelineStore: Send + Sync {
    /// Applies `change` and stores its event under the room's next sequence number, in one
    /// transaction. Returns only when the event is durable.
    async fn append_event(
        &self,
        room: &RoomId,
        change: TimelineChange,
        at: Millis,
    ) -> Result<Appended, StoreError>;
    /// Events with a sequence number above `after`, oldest first, at most `limit`.
    async fn events_after(
        &self,
        room: &RoomId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<SequencedEvent>, StoreError>;
    /// The newest `limit` messages posted before `before_seq` (all when `None`), oldest
    /// first, and whether older ones remain.
    async fn messages_before(
        &self,
        room: &RoomId,
        before_seq: Option<u64>,
        limit: u32,
    ) -> Result<(Vec<Message>, bool), StoreError>;
    /// Author and state of one message in a room.
    async fn message_meta(
        &self,
        room: &RoomId,
        id: MessageId,
    ) -> Result<Option<MessageMeta>, StoreError>;
}

/// Moderation: mutes, removals and the audit log.
#[async_trait]
pub trait ModerationStore: Send + Sync {
    /// Records a mute (replacing an earlier one for the same person and room).
    async fn create_mute(&self, mute: &MuteRecord) -> Result<(), StoreError>;
    /// Mutes in a room that end after `now`.
    async fn mutes(&self, room: &RoomId, now: Millis) -> Result<Vec<MuteRecord>, StoreError>;
    /// Ends a mute.
    async fn delete_mute(&self, room: &RoomId, account: AccountId) -> Result<(), StoreError>;
    /// Records that someone was removed from a room.
    async fn create_removal(
        &self,
        room: &RoomId,
        account: AccountId,
        at: Millis,
    ) -> Result<(), StoreError>;
    /// Everyone removed from a room.
    async fn removals(&self, room: &RoomId) -> Result<Vec<AccountId>, StoreError>;
    /// Lets someone back into a room.
    async fn delete_removal(&self, room: &RoomId, account: AccountId) -> Result<(), StoreError>;
    /// Appends a line to the audit log.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    /// The newest `limit` audit lines, newest first.
    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Attendance of programme sessions, for the statistics cities report.
#[async_trait]
pub trait AttendanceStore: Send + Sync {
    /// Notes that `account` is in `room` in `mode`; kept once per person and room, with the
    /// first time and the most present mode.
    async fn record_attendance(
        &self,
        room: &RoomId,
        account: AccountId,
        mode: Mode,
        at: Millis,
    ) -> Result<(), StoreError>;
    /// Raises the room's recorded peak of people at once to `peak` if it is higher.
    async fn record_peak(&self, room: &RoomId, peak: u32) -> Result<(), StoreError>;
}

/// Everything the hub persists, in one object.
#[async_trait]
pub trait HubStore:
    AccountStore
    + RoomStore
    + TimelineStore
    + ModerationStore
    + AttendanceStore
    + ibasho_consult::store::ConsultStore
    + ibasho_consult::store::AppointmentStore
{
    /// Whether the database answers (for `/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;
}

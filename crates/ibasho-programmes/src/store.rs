//! What programmes need from persistence. `ibasho-store` implements it on SQLite.

use async_trait::async_trait;
use ibasho_hub::store::StoreError;
use ibasho_protocol::api::AgeBand;
use ibasho_protocol::programme::{Category, GalleryItem, SessionInput};
use ibasho_protocol::{AccountId, Millis, Mode, ProgrammeId, RoomId, SessionId};

/// A programme as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgrammeRecord {
    /// The programme.
    pub id: ProgrammeId,
    /// Its title.
    pub title: String,
    /// What happens.
    pub description: String,
    /// What it is about.
    pub category: Category,
    /// Who hosts it.
    pub hosts: Vec<AccountId>,
    /// The attendance modes people may choose.
    pub modes: Vec<Mode>,
    /// Most people at once who may write.
    pub capacity: u32,
    /// If not empty, only these age bands may join.
    pub age_bands: Vec<AgeBand>,
    /// The introduction.
    pub gallery: Option<GalleryItem>,
    /// No longer offered.
    pub archived: bool,
    /// Who created it.
    pub created_by: Option<AccountId>,
    /// When.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// A session (one occurrence or a series) as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session.
    pub id: SessionId,
    /// Its programme.
    pub programme: ProgrammeId,
    /// When.
    pub schedule: SessionInput,
    /// The whole series was called off, with this reason.
    pub cancelled: Option<String>,
    /// When it was created.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

/// One occurrence called off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancellationRecord {
    /// The session.
    pub session: SessionId,
    /// The occurrence's start.
    pub start: Millis,
    /// Why, as shown to people.
    pub reason: String,
    /// Who called it off.
    pub by: AccountId,
    /// When.
    pub at: Millis,
}

/// One person's attendance of one session's room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttendanceRow {
    /// The room.
    pub room: RoomId,
    /// The person (never leaves the server: reports count).
    pub account: AccountId,
    /// The most present way they were there.
    pub mode: Mode,
    /// Their first programme session ever.
    pub first_time: bool,
}

/// Programmes, sessions and cancellations. Methods in CRUD order.
#[async_trait]
pub trait ProgrammeStore: Send + Sync {
    /// Stores a new programme.
    async fn create_programme(&self, p: &ProgrammeRecord) -> Result<(), StoreError>;
    /// Every programme, archived ones too.
    async fn programmes(&self) -> Result<Vec<ProgrammeRecord>, StoreError>;
    /// Replaces a programme. `NotFound` if there is none.
    async fn update_programme(&self, p: &ProgrammeRecord) -> Result<(), StoreError>;
    /// Stores a new session.
    async fn create_session(&self, s: &SessionRecord) -> Result<(), StoreError>;
    /// Every session.
    async fn sessions(&self) -> Result<Vec<SessionRecord>, StoreError>;
    /// Replaces a session. `NotFound` if there is none.
    async fn update_session(&self, s: &SessionRecord) -> Result<(), StoreError>;
    /// Calls off one occurrence (again: the reason is replaced).
    async fn create_cancellation(&self, c: &CancellationRecord) -> Result<(), StoreError>;
    /// Every occurrence called off.
    async fn cancellations(&self) -> Result<Vec<CancellationRecord>, StoreError>;
    /// Attendance first recorded in `[from, to)`.
    async fn attendance(&self, from: Millis, to: Millis) -> Result<Vec<AttendanceRow>, StoreError>;
    /// The most people at once, per programme room created in `[from, to)`.
    async fn peaks(&self, from: Millis, to: Millis) -> Result<Vec<(RoomId, u32)>, StoreError>;
}

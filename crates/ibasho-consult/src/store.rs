//! What consults need from persistence. The router itself keeps nothing: the server writes
//! every change of a request through this trait before it tells anyone, and restores the
//! queue from it after a restart. `ibasho-store` implements it for SQLite (PostgreSQL next).

use crate::router::{ConsultId, End, Profession, RequestSpec, Restored};
use async_trait::async_trait;
use ibasho_protocol::consult::{Channel, CounsellorProfile, ForWhom, Outcome, Topic};
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

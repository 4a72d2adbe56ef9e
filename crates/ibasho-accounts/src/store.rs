//! What entry needs from persistence: invitations, registration, credentials, device
//! sessions and account status. Methods in CRUD order per record kind; `ibasho-store`
//! implements them on SQLite.

use async_trait::async_trait;
use ibasho_protocol::api::{
    AccountStatus, AccountView, AgeBand, ApplicationStatus, ApplicationView, InvitationState,
    InvitationView, Profession, Relation,
};
use ibasho_protocol::{AccountId, Avatar, Millis, Role};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed. For logs, never for clients.
    #[error("storage failure: {0}")]
    Backend(String),
}

/// A new invitation. Only the hash of its token is kept.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    /// Its id.
    pub id: uuid::Uuid,
    /// SHA-256 of the token (`secret::token_hash`).
    pub token_hash: String,
    /// Where it goes.
    pub email: String,
    /// The role the invited person gets.
    pub role: Role,
    /// For counsellors.
    pub profession: Option<Profession>,
    /// For counsellors.
    pub supervisor: bool,
    /// The language of the e-mail: `ja` or `en`.
    pub lang: String,
    /// Who made it.
    pub created_by: AccountId,
    /// When.
    pub created_at: Millis,
    /// Until when it can be used.
    pub expires_at: Millis,
    /// For an access reset: the existing account it gives access back to.
    pub reset_account: Option<AccountId>,
}

/// An invitation as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRecord {
    /// Its id.
    pub id: uuid::Uuid,
    /// Where it goes.
    pub email: String,
    /// The role the invited person gets.
    pub role: Role,
    /// For counsellors.
    pub profession: Option<Profession>,
    /// For counsellors.
    pub supervisor: bool,
    /// The language of the e-mail.
    pub lang: String,
    /// Who made it.
    pub created_by: AccountId,
    /// When.
    pub created_at: Millis,
    /// Until when it can be used.
    pub expires_at: Millis,
    /// When someone registered with it.
    pub used_at: Option<Millis>,
    /// When staff revoked it.
    pub revoked_at: Option<Millis>,
    /// Who registered with it.
    pub account: Option<AccountId>,
    /// For an access reset: the existing account it gives access back to.
    pub reset_account: Option<AccountId>,
}

impl InvitationRecord {
    /// Its state at `now`. Used and revoked win over expired.
    pub fn state(&self, now: Millis) -> InvitationState {
        if self.used_at.is_some() {
            InvitationState::Used
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if now >= self.expires_at {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }

    /// How staff see it at `now`.
    pub fn view(&self, now: Millis) -> InvitationView {
        InvitationView {
            id: self.id,
            email: self.email.clone(),
            role: self.role,
            profession: self.profession,
            supervisor: self.supervisor,
            state: self.state(now),
            created_by: self.created_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
            account: self.account,
            reset_account: self.reset_account,
        }
    }
}

/// A person registering from an invitation.
#[derive(Clone, Debug)]
pub struct NewMember {
    /// The new account's id.
    pub id: AccountId,
    /// The handle, normalised.
    pub handle: String,
    /// Its uniqueness key.
    pub handle_key: String,
    /// The avatar.
    pub avatar: Avatar,
    /// The role (from the invitation; `family` when a participant registers as family).
    pub role: Role,
    /// For participants and family members.
    pub relation: Option<Relation>,
    /// Optional.
    pub age_band: Option<AgeBand>,
    /// For counsellors.
    pub profession: Option<Profession>,
    /// For counsellors.
    pub supervisor: bool,
    /// Sign-in e-mail, for roles that sign in with a password.
    pub email: Option<String>,
    /// argon2id hash of the password, for roles that sign in with one.
    pub secret_hash: Option<String>,
    /// When.
    pub created_at: Millis,
}

/// Why registration failed. Nothing was created.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The token matches no invitation.
    #[error("no such invitation")]
    UnknownInvitation,
    /// The invitation cannot be used (used, expired or revoked).
    #[error("the invitation is {}", .0.as_str())]
    Unusable(InvitationState),
    /// The handle is taken.
    #[error("handle taken")]
    HandleTaken,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What sign-in needs to know about an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The account.
    pub account: AccountId,
    /// Its handle.
    pub handle: String,
    /// Its role.
    pub role: Role,
    /// Whether it may sign in.
    pub status: AccountStatus,
    /// argon2id hash of the password or passphrase, if one is set.
    pub secret_hash: Option<String>,
    /// The TOTP secret, if two-step sign-in is on.
    pub totp_secret: Option<String>,
    /// The sign-in e-mail, for roles that sign in with a password.
    pub email: Option<String>,
}

/// What presenting a refresh token did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now used, and the new one replaces it.
    Rotated {
        /// Whose session.
        account: AccountId,
    },
    /// The token had already been used: someone holds a copy. The whole session (every token
    /// descended from the same sign-in) is revoked.
    Reused {
        /// Whose session.
        account: AccountId,
    },
    /// Unknown, expired, or from a revoked session.
    Invalid,
}

/// Persistence for entry.
#[async_trait]
pub trait EntryStore: Send + Sync {
    /// Stores a new invitation.
    async fn create_invitation(&self, new: &NewInvitation) -> Result<(), StoreError>;
    /// The newest invitations first.
    async fn invitations(&self, limit: u32) -> Result<Vec<InvitationRecord>, StoreError>;
    /// The invitation with this token hash.
    async fn invitation_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<InvitationRecord>, StoreError>;
    /// Revokes a pending invitation; `false` if it was not pending.
    async fn revoke_invitation(&self, id: uuid::Uuid, now: Millis) -> Result<bool, StoreError>;

    /// Uses the invitation and creates the account, in one transaction: either both happen or
    /// neither.
    async fn register(
        &self,
        token_hash: &str,
        member: &NewMember,
        now: Millis,
    ) -> Result<(), RegisterError>;
    /// Uses an access-reset invitation: returns the account it names, after setting a new
    /// password hash when one is given, and ends the account's other sessions. Either all of
    /// it happens or none.
    async fn redeem_reset(
        &self,
        token_hash: &str,
        secret_hash: Option<&str>,
        now: Millis,
    ) -> Result<AccountId, RegisterError>;

    /// Sign-in data by login: a handle key, or a lowercased e-mail address.
    async fn credentials(&self, login: &str) -> Result<Option<Credentials>, StoreError>;
    /// Sign-in data by account.
    async fn credentials_of(&self, account: AccountId) -> Result<Option<Credentials>, StoreError>;
    /// Sets (or replaces) the password or passphrase hash.
    async fn update_secret(&self, account: AccountId, secret_hash: &str) -> Result<(), StoreError>;
    /// Turns two-step sign-in on (with a secret) or off.
    async fn update_totp(&self, account: AccountId, secret: Option<&str>)
    -> Result<(), StoreError>;
    /// Records that a TOTP step was used; `false` if it (or a later one) was used before, so a
    /// code cannot be replayed.
    async fn use_totp_step(&self, account: AccountId, step: u64) -> Result<bool, StoreError>;
    /// Sets an account's status.
    async fn update_status(
        &self,
        account: AccountId,
        status: AccountStatus,
    ) -> Result<bool, StoreError>;

    /// Starts a device session with its first refresh token.
    async fn create_session(
        &self,
        account: AccountId,
        token_hash: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError>;
    /// Presents a refresh token: rotates it to `new_hash` if current. If it was rotated before,
    /// within `grace_ms` of that rotation and while its successor is still unused, the answer
    /// was lost rather than the token stolen: the successor is rotated instead. Any other reuse
    /// revokes the whole session.
    async fn rotate_refresh(
        &self,
        presented_hash: &str,
        new_hash: &str,
        now: Millis,
        expires_at: Millis,
        grace_ms: Millis,
    ) -> Result<Rotation, StoreError>;
    /// Ends the session a refresh token belongs to (sign-out).
    async fn delete_session(&self, presented_hash: &str, now: Millis) -> Result<(), StoreError>;
    /// Ends every session of an account (suspension, password change).
    async fn delete_sessions_of(&self, account: AccountId, now: Millis) -> Result<(), StoreError>;
}

/// An application from the public home page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationRecord {
    /// Its id.
    pub id: uuid::Uuid,
    /// Where to answer (lowercased).
    pub email: String,
    /// For themselves or as family.
    pub relation: Relation,
    /// What the applicant wrote.
    pub message: String,
    /// `ja` or `en`.
    pub lang: String,
    /// The consent text agreed to.
    pub consent_version: String,
    /// State.
    pub status: ApplicationStatus,
    /// When it came.
    pub created_at: Millis,
}

impl ApplicationRecord {
    /// How staff see it, given the retention period.
    pub fn view(&self, retention_ms: Millis) -> ApplicationView {
        ApplicationView {
            id: self.id,
            email: self.email.clone(),
            relation: self.relation,
            message: self.message.clone(),
            lang: self.lang.clone(),
            status: self.status,
            created_at: self.created_at,
            purge_at: self.created_at.saturating_add(retention_ms),
        }
    }
}

/// A mail waiting to go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Its id.
    pub id: uuid::Uuid,
    /// The recipient.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// Applications and the mail outbox.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Stores a new application.
    async fn create_application(&self, application: &ApplicationRecord) -> Result<(), StoreError>;
    /// Applications, newest first; only those with `status` when given.
    async fn applications(
        &self,
        status: Option<ApplicationStatus>,
        limit: u32,
    ) -> Result<Vec<ApplicationRecord>, StoreError>;
    /// One application.
    async fn application(&self, id: uuid::Uuid) -> Result<Option<ApplicationRecord>, StoreError>;
    /// Decides a pending application; `false` if it was not pending.
    async fn update_application(
        &self,
        id: uuid::Uuid,
        status: ApplicationStatus,
        by: AccountId,
        now: Millis,
    ) -> Result<bool, StoreError>;
    /// Deletes applications that came before `cutoff`, and sent mail older than it. Returns
    /// how many applications went.
    async fn delete_applications_before(&self, cutoff: Millis) -> Result<u64, StoreError>;

    /// Puts a mail in the outbox.
    async fn create_mail(&self, mail: &OutgoingMail, now: Millis) -> Result<(), StoreError>;
    /// Mail due now that has not used up its attempts, oldest first.
    async fn due_mail(
        &self,
        now: Millis,
        max_attempts: u32,
        limit: u32,
    ) -> Result<Vec<OutgoingMail>, StoreError>;
    /// Marks a mail sent.
    async fn update_mail_sent(&self, id: uuid::Uuid, now: Millis) -> Result<(), StoreError>;
    /// Records a failed attempt and when to try again.
    async fn update_mail_failed(
        &self,
        id: uuid::Uuid,
        error: &str,
        retry_at: Millis,
    ) -> Result<(), StoreError>;
}

/// What admins do to accounts, and what a person may take or erase of their own.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Accounts whose handle or e-mail contains `query` (all when empty), newest first.
    async fn accounts(&self, query: &str, limit: u32) -> Result<Vec<AccountView>, StoreError>;
    /// Changes a person's handle (with its key) and avatar. `Ok(false)` if the handle is taken.
    async fn update_profile(
        &self,
        account: AccountId,
        handle: Option<(&str, &str)>,
        avatar: Option<Avatar>,
    ) -> Result<bool, StoreError>;
    /// Changes an account's role; `false` if there is no such (undeleted) account.
    async fn update_role(&self, account: AccountId, role: Role) -> Result<bool, StoreError>;
    /// Everything stored about an account, as JSON, for the person to download.
    async fn export_account(&self, account: AccountId) -> Result<serde_json::Value, StoreError>;
    /// Deletes an account: its handle, avatar, e-mail, secrets and sessions go; its messages
    /// stay, shown as from a deleted member. `false` if there was no such account.
    async fn delete_account(&self, account: AccountId, now: Millis) -> Result<bool, StoreError>;
}

//! Shapes of the HTTP API that are not WebSocket frames: account attributes and the staff
//! and admin views of entry (applications, invitations, accounts). Like the frames, these are
//! wire types only.

use crate::{AccountId, Avatar, Millis, Role};
use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses a wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

pub(crate) use wire_enum;

wire_enum!(
    /// Whether an account may sign in.
    AccountStatus {
        /// Normal.
        Active = "active",
        /// Suspended by an admin: cannot sign in; open connections are closed.
        Suspended = "suspended",
        /// Deleted: the account's messages show as from a deleted member.
        Deleted = "deleted",
    }
);

wire_enum!(
    /// For whom someone comes.
    Relation {
        /// For themselves.
        ForSelf = "self",
        /// As a family member of someone in withdrawal.
        Family = "family",
    }
);

wire_enum!(
    /// A counsellor's profession.
    Profession {
        /// 臨床心理士 / 公認心理師.
        ClinicalPsychologist = "clinical_psychologist",
        /// 社会福祉士 / 精神保健福祉士.
        SocialWorker = "social_worker",
        /// Another profession.
        Other = "other",
    }
);

wire_enum!(
    /// An optional age band, used to group peer salons.
    AgeBand {
        /// Under 20.
        Under20 = "under_20",
        /// 20–29.
        Twenties = "20s",
        /// 30–39.
        Thirties = "30s",
        /// 40–49.
        Forties = "40s",
        /// 50–59.
        Fifties = "50s",
        /// 60 and over.
        SixtyPlus = "60_plus",
    }
);

wire_enum!(
    /// Where an invitation stands.
    InvitationState {
        /// Can still be used.
        Pending = "pending",
        /// Someone registered with it.
        Used = "used",
        /// Past its expiry.
        Expired = "expired",
        /// Revoked by staff.
        Revoked = "revoked",
    }
);

/// An invitation as staff see it. The token itself is never stored or shown again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    /// Its id.
    pub id: uuid::Uuid,
    /// Where it was (or would be) sent.
    pub email: String,
    /// The role the invited person gets.
    pub role: Role,
    /// For counsellors.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub profession: Option<Profession>,
    /// For counsellors.
    #[serde(default)]
    pub supervisor: bool,
    /// State now.
    pub state: InvitationState,
    /// Who made it.
    pub created_by: AccountId,
    /// When.
    pub created_at: Millis,
    /// Until when it can be used.
    pub expires_at: Millis,
    /// The account registered with it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account: Option<AccountId>,
    /// For an access reset: the account it gives access back to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reset_account: Option<AccountId>,
}

/// An account as admins see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// Its id.
    pub id: AccountId,
    /// The handle.
    pub handle: String,
    /// The avatar.
    pub avatar: Avatar,
    /// The role.
    pub role: Role,
    /// Active, suspended or deleted.
    pub status: AccountStatus,
    /// For participants and family members.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub relation: Option<Relation>,
    /// For counsellors.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub profession: Option<Profession>,
    /// For counsellors.
    #[serde(default)]
    pub supervisor: bool,
    /// Whether two-step sign-in is on.
    #[serde(default)]
    pub totp: bool,
    /// The sign-in e-mail, for roles that sign in with a password.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    /// When it was created.
    pub created_at: Millis,
}

wire_enum!(
    /// Where an application stands.
    ApplicationStatus {
        /// Waiting for staff.
        Pending = "pending",
        /// Staff sent an invitation.
        Invited = "invited",
        /// Staff declined it, with a message to the applicant.
        Declined = "declined",
        /// Put aside without an answer (a duplicate, a test).
        Archived = "archived",
    }
);

/// An application as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationView {
    /// Its id.
    pub id: uuid::Uuid,
    /// Where to answer.
    pub email: String,
    /// For themselves or as family.
    pub relation: Relation,
    /// What the applicant wrote (may be empty).
    pub message: String,
    /// The applicant's language: `ja` or `en`.
    pub lang: String,
    /// State now.
    pub status: ApplicationStatus,
    /// When it came.
    pub created_at: Millis,
    /// When it will be deleted (the retention period).
    pub purge_at: Millis,
}

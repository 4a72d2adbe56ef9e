//! Who may do what. One table, [`allowed`], that every handler asks; `docs/authorization.md`
//! shows the same table, and a test walks every cell of it against the running server.

use ibasho_protocol::Role;
use serde::{Deserialize, Serialize};

/// Something a person may or may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Enter the lobby and chat rooms, write, react.
    TakePart,
    /// See watchers by handle.
    SeeWatchers,
    /// Create and archive rooms.
    ManageRooms,
    /// Create, edit, schedule and call off programmes and their sessions.
    ManageProgrammes,
    /// Read the anonymous attendance figures of programme sessions.
    ReadStatistics,
    /// Mute, remove and readmit members; delete any message.
    Moderate,
    /// Ask to talk one to one with a counsellor.
    RequestConsult,
    /// Take consults: say one is available, be offered requests, talk, write notes.
    TakeConsults,
    /// See the consult queue (counts and waits, never content) and the messages people left
    /// to be contacted; mark a consult urgent.
    SeeConsultQueue,
    /// Set counsellors' professions, capacity and supervisor flag.
    ManageCounsellors,
    /// See, invite from, decline and archive applications.
    ReviewApplications,
    /// Invite participants and family members.
    InviteParticipants,
    /// Invite counsellors, staff and admins.
    InviteStaff,
    /// List and revoke invitations.
    ManageInvitations,
    /// List and search accounts.
    ListAccounts,
    /// Suspend and reactivate accounts, change roles, reissue access, delete accounts.
    AdministerAccounts,
    /// Read the audit log.
    ReadAuditLog,
    /// Download everything stored about oneself, delete one's own account.
    OwnData,
    /// Set a passphrase to sign in on another device (participants and family).
    SetPassphrase,
    /// Change one's password (counsellors, staff, admins).
    ChangePassword,
    /// Turn on two-step sign-in (TOTP).
    UseTotp,
}

impl Action {
    /// Every action, in the order of the documented table.
    pub const ALL: &'static [Action] = &[
        Action::TakePart,
        Action::SeeWatchers,
        Action::ManageRooms,
        Action::ManageProgrammes,
        Action::ReadStatistics,
        Action::Moderate,
        Action::RequestConsult,
        Action::TakeConsults,
        Action::SeeConsultQueue,
        Action::ManageCounsellors,
        Action::ReviewApplications,
        Action::InviteParticipants,
        Action::InviteStaff,
        Action::ManageInvitations,
        Action::ListAccounts,
        Action::AdministerAccounts,
        Action::ReadAuditLog,
        Action::OwnData,
        Action::SetPassphrase,
        Action::ChangePassword,
        Action::UseTotp,
    ];

    /// The action's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::TakePart => "take_part",
            Action::SeeWatchers => "see_watchers",
            Action::ManageRooms => "manage_rooms",
            Action::ManageProgrammes => "manage_programmes",
            Action::ReadStatistics => "read_statistics",
            Action::Moderate => "moderate",
            Action::RequestConsult => "request_consult",
            Action::TakeConsults => "take_consults",
            Action::SeeConsultQueue => "see_consult_queue",
            Action::ManageCounsellors => "manage_counsellors",
            Action::ReviewApplications => "review_applications",
            Action::InviteParticipants => "invite_participants",
            Action::InviteStaff => "invite_staff",
            Action::ManageInvitations => "manage_invitations",
            Action::ListAccounts => "list_accounts",
            Action::AdministerAccounts => "administer_accounts",
            Action::ReadAuditLog => "read_audit_log",
            Action::OwnData => "own_data",
            Action::SetPassphrase => "set_passphrase",
            Action::ChangePassword => "change_password",
            Action::UseTotp => "use_totp",
        }
    }
}

/// Every role, in the order of the documented table's columns.
pub const ROLES: &[Role] = &[
    Role::Participant,
    Role::Family,
    Role::Counsellor,
    Role::Staff,
    Role::Admin,
];

/// Whether `role` may do `action`.
pub fn allowed(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        Action::TakePart | Action::OwnData => true,
        Action::SeeWatchers
        | Action::ManageRooms
        | Action::ManageProgrammes
        | Action::ReadStatistics
        | Action::Moderate
        | Action::ReviewApplications
        | Action::InviteParticipants
        | Action::ManageInvitations
        | Action::ManageCounsellors => matches!(role, Staff | Admin),
        Action::RequestConsult => matches!(role, Participant | Family),
        Action::TakeConsults => role == Counsellor,
        Action::SeeConsultQueue => role.works_here(),
        Action::InviteStaff
        | Action::ListAccounts
        | Action::AdministerAccounts
        | Action::ReadAuditLog => role == Admin,
        Action::SetPassphrase => matches!(role, Participant | Family),
        Action::ChangePassword => matches!(role, Counsellor | Staff | Admin),
        Action::UseTotp => matches!(role, Staff | Admin),
    }
}

/// Roles that sign in with a password (and are invited by an admin).
pub fn uses_password(role: Role) -> bool {
    matches!(role, Role::Counsellor | Role::Staff | Role::Admin)
}

/// The action needed to invite someone with `role`.
pub fn invite_action(role: Role) -> Action {
    if uses_password(role) {
        Action::InviteStaff
    } else {
        Action::InviteParticipants
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hub, which knows nothing of this crate, decides the realtime staff actions with
    /// `Role::is_staff`; it must agree with the table.
    #[test]
    fn the_hubs_staff_check_agrees_with_the_table() {
        for role in ROLES {
            for action in [Action::SeeWatchers, Action::ManageRooms, Action::Moderate] {
                assert_eq!(
                    role.is_staff(),
                    allowed(*role, action),
                    "{} {}",
                    role.as_str(),
                    action.as_str()
                );
            }
        }
    }

    /// The table in docs/authorization.md says exactly what [`allowed`] says.
    #[test]
    fn the_documented_table_matches_the_code() {
        let doc = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/authorization.md"
        ))
        .expect("docs/authorization.md");
        let mut rows = 0;
        for line in doc.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            let name = cells[0].trim_matches('`');
            let action = Action::ALL
                .iter()
                .copied()
                .find(|a| a.as_str() == name)
                .unwrap_or_else(|| panic!("unknown action {name} in the table"));
            assert_eq!(cells.len(), 2 + ROLES.len(), "row {name}");
            for (i, role) in ROLES.iter().enumerate() {
                let documented = match cells[2 + i] {
                    "✓" => true,
                    "–" => false,
                    other => panic!("cell {other:?} in row {name}"),
                };
                assert_eq!(
                    documented,
                    allowed(*role, action),
                    "{name} for {}",
                    role.as_str()
                );
            }
            rows += 1;
        }
        assert_eq!(rows, Action::ALL.len(), "every action has a row");
    }
}

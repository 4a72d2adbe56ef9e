//! The frames a connection speaks: [`ClientFrame`] (client → server) and [`ServerFrame`]
//! (server → client), and the payload types they carry.
//!
//! Times are milliseconds since the Unix epoch (UTC), so that every client can format them
//! in the space's time zone without parsing.

use crate::consult::{
    AppointmentEvent, AppointmentRef, AppointmentView, Availability, Channel, ConsultEnd,
    ConsultId, ConsultSummary, CounsellorProfile, CounsellorView, ForWhom, Outcome, Phase,
    Profession, QueueEntry, Released, Reminder, Topic,
};
use crate::ids::{AccountId, ConnectionId, MessageId, RequestId, RoomId};
use crate::{ErrorCode, Limits};
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// What a person is in this space. Staff and admins moderate and see who is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Someone who comes to the space for themselves.
    Participant,
    /// A family member of someone in withdrawal.
    Family,
    /// A clinical psychologist or social worker who takes consultations.
    Counsellor,
    /// Runs the space: rooms, programmes, moderation.
    Staff,
    /// Accounts and configuration.
    Admin,
}

impl Role {
    /// Whether this role moderates rooms and sees watchers by name.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Staff | Role::Admin)
    }

    /// Whether this role works in the space (counsellors, staff, admins), and so may enter
    /// while it is closed to participants and families.
    pub fn works_here(self) -> bool {
        matches!(self, Role::Counsellor | Role::Staff | Role::Admin)
    }

    /// The role as it appears on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Participant => "participant",
            Role::Family => "family",
            Role::Counsellor => "counsellor",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    /// Parses the wire name of a role.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "participant" => Role::Participant,
            "family" => Role::Family,
            "counsellor" => Role::Counsellor,
            "staff" => Role::Staff,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

/// How a connection attends a room. Chosen on every join; the lobby too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Receives everything and may not write or react. Never shown to other participants by
    /// handle, only counted; staff see who is watching.
    ViewOnly,
    /// Writes and reacts; never voice or video.
    ChatOnly,
    /// Writes, reacts, and (later) speaks.
    Participant,
}

impl Mode {
    /// Whether this mode may post, edit and react.
    pub fn can_write(self) -> bool {
        !matches!(self, Mode::ViewOnly)
    }
}

/// The shapes an avatar may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvatarShape {
    /// ●
    Circle,
    /// ■
    Square,
    /// ▲
    Triangle,
    /// ★
    Star,
    /// ♥
    Heart,
    /// A water drop.
    Drop,
    /// A leaf.
    Leaf,
    /// A cloud.
    Cloud,
}

/// The colours an avatar may take: soft, distinguishable, with enough contrast on the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvatarColor {
    /// 桜 pale pink.
    Sakura,
    /// 空 sky blue.
    Sora,
    /// 若葉 fresh green.
    Wakaba,
    /// 蜜柑 orange.
    Mikan,
    /// 藤 wisteria purple.
    Fuji,
    /// 砂 sand.
    Suna,
    /// 海 deep teal.
    Umi,
    /// 墨 ink grey.
    Sumi,
}

/// An avatar: a shape and a colour from fixed sets, so that no picture of anyone is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Avatar {
    /// The shape.
    pub shape: AvatarShape,
    /// The colour.
    pub color: AvatarColor,
}

/// A reaction stamp from the fixed set; a way to take part without writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stamp {
    /// 👋 hello / I'm here.
    Wave,
    /// ❤ warmth.
    Heart,
    /// 😊 a smile.
    Smile,
    /// 🙏 thanks.
    Thanks,
    /// 👏 well done.
    Clap,
    /// 🍵 a cup of tea: take it easy.
    Tea,
    /// ✨ nice.
    Sparkle,
    /// 👀 I'm reading.
    Eyes,
}

impl Stamp {
    /// Every stamp, in display order.
    pub const ALL: &'static [Stamp] = &[
        Stamp::Wave,
        Stamp::Heart,
        Stamp::Smile,
        Stamp::Thanks,
        Stamp::Clap,
        Stamp::Tea,
        Stamp::Sparkle,
        Stamp::Eyes,
    ];
}

/// A person as others see them: a pseudonym and an avatar, plus a role so that staff are
/// recognisable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The account.
    pub id: AccountId,
    /// The pseudonymous handle.
    pub handle: String,
    /// The avatar.
    pub avatar: Avatar,
    /// The role.
    pub role: Role,
}

/// A stretch of time: from `start` (inclusive) to `end` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// When it starts.
    pub start: Millis,
    /// When it ends.
    pub end: Millis,
}

/// Whether the space is open, by the server's clock and the configured opening hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// Open now. Closed, participants and families cannot join rooms; counsellors, staff and
    /// admins can.
    pub open: bool,
    /// When open: when it closes. Absent: it does not close.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub closes_at: Option<Millis>,
    /// When closed: the next opening. Absent: none is scheduled within a year.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub next: Option<Span>,
}

/// What kind of room this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// The free space: a map with avatars and a chat.
    Lobby,
    /// A text chat room.
    Chat,
    /// The room of one occurrence of a programme session; see `programme`.
    Programme,
    /// A private consult between a requester and their counsellor (and a supervisor who
    /// observes): never listed; only those people may join.
    Consult,
}

/// A room as listed to clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    /// The room.
    pub id: RoomId,
    /// Lobby or chat.
    pub kind: RoomKind,
    /// Display name.
    pub name: String,
    /// What the room is for; may be empty.
    pub topic: String,
    /// Most members at once (watchers count too).
    pub capacity: u32,
    /// The sequence number of the room's latest event; a client that has seen it is up to date.
    pub last_seq: u64,
    /// Archived rooms cannot be joined; they are listed only to staff.
    pub archived: bool,
    /// For a programme room: the programme, the occurrence's times and phase, and who may
    /// join how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<crate::programme::ProgrammeRoom>,
    /// A notice pinned at the top by a host or staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// Stage mode: only hosts, staff and people given a voice write; the rest watch and
    /// react.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stage: bool,
}

impl RoomInfo {
    /// A new, empty room: no events yet, not archived, nothing pinned.
    pub fn new(id: RoomId, kind: RoomKind, name: String, topic: String, capacity: u32) -> Self {
        Self {
            id,
            kind,
            name,
            topic,
            capacity,
            last_seq: 0,
            archived: false,
            programme: None,
            pinned: None,
            stage: false,
        }
    }
}

/// A position on the lobby map, in map units (see `welcome.lobby_map`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Horizontal, 0 at the left.
    pub x: u16,
    /// Vertical, 0 at the top.
    pub y: u16,
}

/// The size of the lobby map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapSize {
    /// Width in map units.
    pub width: u16,
    /// Height in map units.
    pub height: u16,
}

/// Someone present in a room. Watchers (`view_only`) appear only in frames sent to staff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Who.
    pub person: Person,
    /// How they attend.
    pub mode: Mode,
    /// Where their avatar stands, in the lobby.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pos: Option<Position>,
}

/// Who is in a room, as the recipient may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Members shown by handle: participants and chat-only members; for staff, watchers too.
    pub members: Vec<Member>,
    /// How many watch (view-only), shown as a number only.
    pub watchers: u32,
}

/// The people who gave one stamp to a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    /// The stamp.
    pub stamp: Stamp,
    /// Who gave it, oldest first.
    pub by: Vec<AccountId>,
}

/// A chat message as it stands now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Stable id.
    pub id: MessageId,
    /// The sequence number of the event that posted it; orders the timeline.
    pub seq: u64,
    /// Who wrote it. An account deleted later shows as a deleted member.
    pub author: Person,
    /// The text; empty once deleted.
    pub body: String,
    /// When it was posted.
    pub created_at: Millis,
    /// When it was last edited.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub edited_at: Option<Millis>,
    /// Whether it was deleted (by its author or by staff).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// Whether staff deleted it (rather than its author).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted_by_staff: bool,
    /// Stamps given to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
}

/// Something that happened to a room's timeline. Every event has a per-room sequence number;
/// a resuming client receives the events it missed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RoomEvent {
    /// A new message.
    Posted {
        /// The message as posted.
        message: Message,
    },
    /// A message's text was changed by its author.
    Edited {
        /// Which message.
        message_id: MessageId,
        /// The new text.
        body: String,
        /// When.
        edited_at: Millis,
    },
    /// A message was deleted.
    Deleted {
        /// Which message.
        message_id: MessageId,
        /// Whether staff deleted it (rather than its author).
        by_staff: bool,
    },
    /// A stamp was given or taken back.
    Reacted {
        /// Which message.
        message_id: MessageId,
        /// The stamp.
        stamp: Stamp,
        /// Who.
        account: AccountId,
        /// Given (`true`) or taken back (`false`).
        on: bool,
    },
}

/// A room event with its place in the room's sequence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencedEvent {
    /// Per-room, strictly increasing, without gaps.
    pub seq: u64,
    /// When it happened.
    pub at: Millis,
    /// What happened.
    pub event: RoomEvent,
}

/// A lobby avatar's new position, within a `positions` batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    /// Whose avatar.
    pub account: AccountId,
    /// Horizontal.
    pub x: u16,
    /// Vertical.
    pub y: u16,
}

/// A frame from the client. Requests carry an `id` that the reply echoes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Must be the first frame. Answered by `welcome`.
    Hello {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// The protocol version the client speaks.
        protocol: u32,
    },
    /// Enter a room in a mode. With `since`, the reply carries the events after it
    /// (resume); without, the latest page of messages.
    Join {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// How to attend.
        mode: Mode,
        /// The last sequence number this client has seen in the room.
        #[serde(default)]
        since: Option<u64>,
    },
    /// Leave a room. No goodbye is shown to anyone.
    Leave {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
    },
    /// Write a message. Acknowledged once durable.
    Post {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// The text.
        body: String,
        /// A client-made id that makes re-sending after a reconnect safe: the same
        /// `client_msg_id` from the same account in the same room is stored once.
        #[serde(default)]
        client_msg_id: Option<uuid::Uuid>,
    },
    /// Change the text of one's own message.
    Edit {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Which message.
        message_id: MessageId,
        /// The new text.
        body: String,
    },
    /// Delete one's own message; staff may delete any, giving a reason.
    Delete {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Which message.
        message_id: MessageId,
        /// Why (required for staff deleting someone else's message; audited).
        #[serde(default)]
        reason: Option<String>,
    },
    /// Give or take back a stamp.
    React {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Which message.
        message_id: MessageId,
        /// The stamp.
        stamp: Stamp,
        /// Give (`true`) or take back (`false`).
        on: bool,
    },
    /// A page of older messages.
    History {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Only messages posted before this sequence number; the latest page when absent.
        #[serde(default)]
        before_seq: Option<u64>,
        /// At most this many (capped by `limits.history_page`).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Move one's avatar on the lobby map. Never answered; positions come back in batches.
    Move {
        /// Which room (the lobby).
        room: RoomId,
        /// Horizontal.
        x: u16,
        /// Vertical.
        y: u16,
    },
    /// The rooms one may join. Answered by `rooms`.
    ListRooms {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
    },
    /// Staff: create a chat room.
    CreateRoom {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Display name.
        name: String,
        /// What it is for.
        #[serde(default)]
        topic: String,
        /// Most members at once; `limits.default_room_capacity` when absent.
        #[serde(default)]
        capacity: Option<u32>,
    },
    /// Staff: archive a room. Its members are moved out; its history stays.
    ArchiveRoom {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Why (audited).
        reason: String,
    },
    /// Staff: mute a member of a room for some minutes.
    Mute {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Whom.
        account: AccountId,
        /// For how long.
        minutes: u32,
        /// Why (audited).
        reason: String,
    },
    /// Staff: end a mute early.
    Unmute {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Whom.
        account: AccountId,
        /// Why (audited).
        reason: String,
    },
    /// Staff: remove a member from a room; they cannot rejoin until readmitted.
    Remove {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Whom.
        account: AccountId,
        /// Why (audited; shown to the person).
        reason: String,
    },
    /// Staff: allow a removed member back.
    Readmit {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Whom.
        account: AccountId,
        /// Why (audited).
        reason: String,
    },
    /// Hosts and staff: pin a notice at the top of a room, or take it down (`text` absent).
    Pin {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// The notice; absent or empty takes it down.
        #[serde(default)]
        text: Option<String>,
    },
    /// Hosts and staff: stage mode on or off. On stage, only hosts, staff and the people
    /// given a voice write; everyone else watches and reacts.
    Stage {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// On or off.
        on: bool,
    },
    /// Hosts and staff: let someone join in (write on stage, join as a participant although
    /// the programme is full), or take that back.
    GiveVoice {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Whom.
        account: AccountId,
        /// Give (true) or take back (false).
        on: bool,
    },
    /// Ask to talk with a counsellor. Answered by `consult_status`.
    ConsultRequest {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// What about.
        topic: Topic,
        /// For whom.
        for_whom: ForWhom,
        /// The profession they would like; absent: anyone.
        #[serde(default)]
        profession: Option<Profession>,
        /// How (text for now).
        #[serde(default)]
        channel: Channel,
        /// A first message for the counsellor, if they want to write one.
        #[serde(default)]
        first_message: Option<String>,
    },
    /// The requester withdraws their request, or leaves a consult under way.
    ConsultCancel {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
    },
    /// No one is free: leave a message to be contacted at the next opening. Ends the request.
    ConsultLeaveMessage {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
        /// The message.
        body: String,
    },
    /// A counsellor says whether they take consults now. Answered by `counsellor`.
    CounsellorStatus {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Available or away (offline is what a closed connection means).
        availability: Availability,
    },
    /// A counsellor takes the consult they were offered.
    ConsultAccept {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
    },
    /// A counsellor passes the offer on to someone else.
    ConsultDecline {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
    },
    /// Either side ends a consult under way.
    ConsultEnd {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
    },
    /// The counsellor's private wrap-up: notes (never shown to the requester) and an
    /// outcome. May be written during the consult or after it; the latest counts.
    ConsultNotes {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
        /// The notes.
        notes: String,
        /// The outcome, once known.
        #[serde(default)]
        outcome: Option<Outcome>,
    },
    /// The counsellor hands a consult on to one counsellor, or to a profession (or anyone),
    /// with a private handover note for whoever takes it.
    ConsultTransfer {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
        /// To this counsellor.
        #[serde(default)]
        to: Option<AccountId>,
        /// Or to this profession (neither: anyone).
        #[serde(default)]
        profession: Option<Profession>,
        /// The handover note.
        note: String,
    },
    /// A counsellor or staff member marks a consult urgent.
    ConsultFlag {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
    },
    /// A supervisor (or an admin) observes a consult under way: answered by
    /// `consult_assigned` with `observing`; then `join` its room as a watcher. Audited; both
    /// sides are told.
    ConsultObserve {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
        /// Which consult.
        consult: ConsultId,
        /// Start (true, the default) or stop observing.
        #[serde(default = "yes")]
        on: bool,
    },
    /// Counsellors, staff and admins: the queue as it stands (counts and waits, never
    /// content). Answered by `consult_queue`, which is also sent whenever the queue changes.
    ConsultQueue {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
    },
    /// Application-level heartbeat, for clients that cannot see WebSocket pings (browsers).
    Ping {
        /// Request id.
        #[serde(default)]
        id: Option<RequestId>,
    },
}

fn yes() -> bool {
    true
}

impl ClientFrame {
    /// The wire names of every client frame type, to tell `unknown_type` from `bad_frame`.
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "join",
        "leave",
        "post",
        "edit",
        "delete",
        "react",
        "history",
        "move",
        "list_rooms",
        "create_room",
        "archive_room",
        "mute",
        "unmute",
        "remove",
        "readmit",
        "pin",
        "stage",
        "give_voice",
        "consult_request",
        "consult_cancel",
        "consult_leave_message",
        "counsellor_status",
        "consult_accept",
        "consult_decline",
        "consult_end",
        "consult_notes",
        "consult_transfer",
        "consult_flag",
        "consult_observe",
        "consult_queue",
        "ping",
    ];

    /// The request id, if the frame has one.
    pub fn request_id(&self) -> Option<&RequestId> {
        match self {
            Self::Hello { id, .. }
            | Self::Join { id, .. }
            | Self::Leave { id, .. }
            | Self::Post { id, .. }
            | Self::Edit { id, .. }
            | Self::Delete { id, .. }
            | Self::React { id, .. }
            | Self::History { id, .. }
            | Self::ListRooms { id }
            | Self::CreateRoom { id, .. }
            | Self::ArchiveRoom { id, .. }
            | Self::Mute { id, .. }
            | Self::Unmute { id, .. }
            | Self::Remove { id, .. }
            | Self::Readmit { id, .. }
            | Self::Pin { id, .. }
            | Self::Stage { id, .. }
            | Self::GiveVoice { id, .. }
            | Self::ConsultRequest { id, .. }
            | Self::ConsultCancel { id, .. }
            | Self::ConsultLeaveMessage { id, .. }
            | Self::CounsellorStatus { id, .. }
            | Self::ConsultAccept { id, .. }
            | Self::ConsultDecline { id, .. }
            | Self::ConsultEnd { id, .. }
            | Self::ConsultNotes { id, .. }
            | Self::ConsultTransfer { id, .. }
            | Self::ConsultFlag { id, .. }
            | Self::ConsultObserve { id, .. }
            | Self::ConsultQueue { id }
            | Self::Ping { id } => id.as_ref(),
            Self::Move { .. } => None,
        }
    }

    /// The wire name of this frame's type, for logs and spans.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Join { .. } => "join",
            Self::Leave { .. } => "leave",
            Self::Post { .. } => "post",
            Self::Edit { .. } => "edit",
            Self::Delete { .. } => "delete",
            Self::React { .. } => "react",
            Self::History { .. } => "history",
            Self::Move { .. } => "move",
            Self::ListRooms { .. } => "list_rooms",
            Self::CreateRoom { .. } => "create_room",
            Self::ArchiveRoom { .. } => "archive_room",
            Self::Mute { .. } => "mute",
            Self::Unmute { .. } => "unmute",
            Self::Remove { .. } => "remove",
            Self::Readmit { .. } => "readmit",
            Self::Pin { .. } => "pin",
            Self::Stage { .. } => "stage",
            Self::GiveVoice { .. } => "give_voice",
            Self::ConsultRequest { .. } => "consult_request",
            Self::ConsultCancel { .. } => "consult_cancel",
            Self::ConsultLeaveMessage { .. } => "consult_leave_message",
            Self::CounsellorStatus { .. } => "counsellor_status",
            Self::ConsultAccept { .. } => "consult_accept",
            Self::ConsultDecline { .. } => "consult_decline",
            Self::ConsultEnd { .. } => "consult_end",
            Self::ConsultNotes { .. } => "consult_notes",
            Self::ConsultTransfer { .. } => "consult_transfer",
            Self::ConsultFlag { .. } => "consult_flag",
            Self::ConsultObserve { .. } => "consult_observe",
            Self::ConsultQueue { .. } => "consult_queue",
            Self::Ping { .. } => "ping",
        }
    }
}

/// Just enough of a frame to answer a malformed one: its type and request id.
#[derive(Debug, Deserialize)]
pub struct FrameHead {
    /// The `type` field, if it is a string.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The `id` field, if it is a valid request id.
    #[serde(default)]
    pub id: Option<RequestId>,
}

/// A frame from the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to `hello`: who you are, what there is, and the limits.
    Welcome {
        /// Echo of the request id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// The protocol version the server speaks.
        protocol: u32,
        /// This connection.
        connection: ConnectionId,
        /// The signed-in person.
        me: Person,
        /// Rooms one may join, each with its `last_seq` (the resume point).
        rooms: Vec<RoomInfo>,
        /// The limits that concern a client.
        limits: Limits,
        /// The stamps one may give.
        stamps: Vec<Stamp>,
        /// The lobby map's size.
        lobby_map: MapSize,
        /// The server's clock, to correct the client's.
        server_time: Millis,
        /// Whether the space is open now.
        opening: Opening,
    },
    /// The answer to `join`.
    Joined {
        /// Echo of the request id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// The room, with its current `last_seq`.
        room: RoomInfo,
        /// The mode granted.
        mode: Mode,
        /// Who is here, as the recipient may see it.
        presence: Presence,
        /// Without `since` (or with `reset`): the latest page of messages, oldest first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        messages: Vec<Message>,
        /// Whether there are messages older than the page.
        #[serde(default)]
        has_older: bool,
        /// With `since`: every event after it, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        missed: Vec<SequencedEvent>,
        /// The gap since `since` was too long to replay: drop the local timeline and use
        /// `messages`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        reset: bool,
        /// If the recipient is muted here, until when.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        muted_until: Option<Millis>,
        /// For staff: the people removed from this room, who may be readmitted.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<Person>,
        /// A host gave the recipient a voice here (see `give_voice`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        voice: bool,
    },
    /// A request succeeded. The fields present depend on the request.
    Ack {
        /// Echo of the request id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// For `post`, `edit`, `delete`, `react`: the event's sequence number.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        seq: Option<u64>,
        /// For `post`: the new message's id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        message_id: Option<MessageId>,
        /// For `create_room` and `archive_room`: the room.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        room: Option<RoomInfo>,
    },
    /// A timeline event in a joined room.
    Event {
        /// Which room.
        room: RoomId,
        /// Per-room sequence number.
        seq: u64,
        /// When.
        at: Millis,
        /// What happened.
        event: RoomEvent,
    },
    /// The answer to `history`.
    History {
        /// Echo of the request id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// Which room.
        room: RoomId,
        /// Messages, oldest first.
        messages: Vec<Message>,
        /// Whether there are older ones still.
        has_older: bool,
    },
    /// The rooms one may join: the answer to `list_rooms`, and sent unasked when rooms are
    /// created or archived.
    Rooms {
        /// Echo of the request id, when it answers one.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// The rooms.
        rooms: Vec<RoomInfo>,
    },
    /// Someone became visible in a room (for staff: anyone who joined).
    MemberJoined {
        /// Which room.
        room: RoomId,
        /// Who, and how.
        member: Member,
    },
    /// Someone visible left a room (no goodbye is shown; clients just update the list).
    MemberLeft {
        /// Which room.
        room: RoomId,
        /// Who.
        account: AccountId,
    },
    /// The number of people watching a room changed.
    Watchers {
        /// Which room.
        room: RoomId,
        /// How many watch now.
        count: u32,
    },
    /// Lobby avatars that moved since the last batch (every tick), or all of them (a
    /// key frame, `full: true`, every second or so).
    Positions {
        /// Which room.
        room: RoomId,
        /// Latest position per avatar.
        moves: Vec<Movement>,
        /// A key frame lists every avatar; after a dropped batch it puts things right.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        full: bool,
    },
    /// You were muted in a room.
    Muted {
        /// Which room.
        room: RoomId,
        /// Until when.
        until: Millis,
    },
    /// Your mute in a room ended early.
    Unmuted {
        /// Which room.
        room: RoomId,
    },
    /// You were removed from a room and are no longer in it.
    Removed {
        /// Which room.
        room: RoomId,
        /// What staff told you.
        reason: String,
    },
    /// A room you were in was archived, or its programme session ended or was called off;
    /// you are no longer in it.
    RoomClosed {
        /// Which room.
        room: RoomId,
        /// Why, when it was called off.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        reason: String,
    },
    /// A room's pinned notice or stage mode changed: sent to everyone in it.
    RoomUpdated {
        /// The room as it is now.
        room: RoomInfo,
    },
    /// A host gave you a voice in a room (you may write on stage, and join in as a
    /// participant although the programme is full), or took it back.
    Voice {
        /// Which room.
        room: RoomId,
        /// Given (true) or taken back (false).
        on: bool,
    },
    /// The programme session in this room ends soon (`warn_before_minutes` before the end).
    SessionEnding {
        /// Which room.
        room: RoomId,
        /// When it ends.
        ends_at: Millis,
        /// Minutes left.
        minutes: u32,
    },
    /// The space opened or closed. When it closes, participants and families are taken out
    /// of every room they were in (no other frame says so); counsellors, staff and admins stay.
    Opening {
        /// Where the space stands now.
        opening: Opening,
    },
    /// The space closes soon: sent to everyone connected, at each configured lead time
    /// (`opening_hours.closing_notice_minutes`, 10 and 1 minutes by default).
    ClosingSoon {
        /// When it closes.
        closes_at: Millis,
        /// Minutes left, as configured (10, then 1).
        minutes: u32,
    },
    /// The requester's consult as it stands: sent on every change (position, estimated wait,
    /// a counsellor arriving, an interruption, the end) and after `welcome` while one is open.
    ConsultStatus {
        /// Echo of the request id (for the answer to `consult_request`).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// The consult.
        consult: ConsultId,
        /// Where it stands.
        phase: Phase,
        /// While waiting: the place in the queue (1 = next).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        position: Option<u32>,
        /// While waiting: an estimate from recent consults; absent rather than wrong.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        estimated_wait_ms: Option<u64>,
        /// Whether it was found urgent.
        urgent: bool,
        /// Once a counsellor took it: the private room to join.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        room: Option<RoomId>,
        /// Once a counsellor took it: who.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        counsellor: Option<Person>,
        /// When ended: how.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        end: Option<ConsultEnd>,
        /// Whether a supervisor is observing.
        #[serde(default)]
        observed: bool,
        /// Show the crisis contacts now (urgency was detected, or the space closed while
        /// they waited).
        #[serde(default)]
        crisis: bool,
        /// The booked time, for a consult that was booked.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        appointment: Option<AppointmentRef>,
    },
    /// Who is in a consult's room: sent to the requester and the counsellor whenever either
    /// comes or goes.
    ConsultPresence {
        /// The consult.
        consult: ConsultId,
        /// The requester has the room open.
        requester_here: bool,
        /// The counsellor has the room open.
        counsellor_here: bool,
    },
    /// A booking changed, or a reminder of it: sent to the person who booked and to the
    /// counsellor (reminders only to the person).
    Appointment {
        /// What happened.
        event: AppointmentEvent,
        /// The booking as it stands now.
        appointment: AppointmentView,
        /// For `reminder`: which.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reminder: Option<Reminder>,
    },
    /// A counsellor's own state: sent after `welcome` and in answer to `counsellor_status`.
    Counsellor {
        /// Echo of the request id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// What staff set: professions, capacity, supervisor.
        profile: CounsellorProfile,
        /// Available, away or offline.
        availability: Availability,
    },
    /// A counsellor is offered a request until `until`: `consult_accept` or
    /// `consult_decline`; without an answer it moves on.
    ConsultOffer {
        /// The request.
        consult: ConsultSummary,
        /// When the offer lapses.
        until: Millis,
    },
    /// The offer is no longer open (it lapsed, was answered, or the requester withdrew).
    ConsultWithdrawn {
        /// The request.
        consult: ConsultId,
    },
    /// A consult is this counsellor's (or this supervisor's, `observing`): join `room`. Sent
    /// on accepting, again after a reconnect (`resumed`), and to a supervisor who observes.
    ConsultAssigned {
        /// The request.
        consult: ConsultSummary,
        /// The private room.
        room: RoomId,
        /// It was already under way (reconnect, or a transfer to them).
        resumed: bool,
        /// They observe as a supervisor; they watch and do not write.
        observing: bool,
        /// The counsellor's own notes on this consult so far (never sent to anyone else).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notes: Option<String>,
        /// The outcome they recorded so far.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<Outcome>,
    },
    /// This counsellor no longer has the consult.
    ConsultReleased {
        /// The request.
        consult: ConsultId,
        /// Why.
        why: Released,
    },
    /// A supervisor began observing: sent to the requester and the counsellor.
    ConsultObserved {
        /// The consult.
        consult: ConsultId,
        /// Who observes.
        supervisor: Person,
        /// Began (true) or stopped (false) observing.
        on: bool,
    },
    /// The queue for counsellors, staff and admins: counts, waits and who is on duty; never
    /// content.
    ConsultQueue {
        /// Echo of the request id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// Whether the queue is open (it opens and closes with the space).
        open: bool,
        /// Requests waiting.
        waiting: u32,
        /// Of which urgent.
        urgent: u32,
        /// How long the longest-waiting request has waited.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        longest_wait_ms: Option<u64>,
        /// Every open request, waiting ones in queue order, then those under way.
        entries: Vec<QueueEntry>,
        /// Every counsellor known since the server started.
        counsellors: Vec<CounsellorView>,
    },
    /// The answer to `ping`.
    Pong {
        /// Echo of the request id.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// The server's clock.
        server_time: Millis,
    },
    /// A request was refused, or a frame could not be understood. Nothing was changed.
    Error {
        /// Echo of the request id, when it could be read.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<RequestId>,
        /// The stable code.
        code: ErrorCode,
        /// A human explanation (English; clients show their own text per code).
        message: String,
        /// The room concerned, if any.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        room: Option<RoomId>,
        /// For `rate_limited` and `muted`: how long until it may work.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        retry_after_ms: Option<u64>,
    },
}

impl ServerFrame {
    /// An error frame.
    pub fn error(id: Option<RequestId>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Error {
            id,
            code,
            message: message.into(),
            room: None,
            retry_after_ms: None,
        }
    }

    /// A plain acknowledgement.
    pub fn ack(id: Option<RequestId>) -> Self {
        Self::Ack {
            id,
            seq: None,
            message_id: None,
            room: None,
        }
    }

    /// The wire names of every server frame type.
    pub const TYPES: &'static [&'static str] = &[
        "welcome",
        "joined",
        "ack",
        "event",
        "history",
        "rooms",
        "member_joined",
        "member_left",
        "watchers",
        "positions",
        "muted",
        "unmuted",
        "removed",
        "room_closed",
        "room_updated",
        "voice",
        "session_ending",
        "opening",
        "closing_soon",
        "consult_status",
        "consult_presence",
        "appointment",
        "counsellor",
        "consult_offer",
        "consult_withdrawn",
        "consult_assigned",
        "consult_released",
        "consult_observed",
        "consult_queue",
        "pong",
        "error",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant names serde lists in "unknown variant `x`, expected one of `a`, `b`".
    fn expected_variants(err: &str) -> Vec<String> {
        let list = err.split("expected one of").nth(1).unwrap_or_default();
        list.split(',')
            .filter_map(|v| v.split('`').nth(1).map(str::to_owned))
            .collect()
    }

    #[test]
    fn frame_type_lists_are_complete() {
        // Every listed client type must be a variant: a frame with only its type fails on a
        // missing field, never with "unknown variant".
        for t in ClientFrame::TYPES {
            let err = serde_json::from_str::<ClientFrame>(&format!(r#"{{"type":"{t}"}}"#))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!err.contains("unknown variant"), "{t}: {err}");
        }
        let err = serde_json::from_str::<ClientFrame>(r#"{"type":"nope"}"#).unwrap_err();
        assert_eq!(expected_variants(&err.to_string()), ClientFrame::TYPES);
        let err = serde_json::from_str::<ServerFrame>(r#"{"type":"nope"}"#).unwrap_err();
        assert_eq!(expected_variants(&err.to_string()), ServerFrame::TYPES);
        for t in ServerFrame::TYPES {
            let err = serde_json::from_str::<ServerFrame>(&format!(r#"{{"type":"{t}"}}"#))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(!err.contains("unknown variant"), "{t}: {err}");
        }
    }

    #[test]
    fn mode_order_puts_participant_highest() {
        assert!(Mode::Participant > Mode::ChatOnly && Mode::ChatOnly > Mode::ViewOnly);
    }
}

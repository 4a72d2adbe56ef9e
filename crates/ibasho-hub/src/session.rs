//! One connection's side of the protocol: parses each frame, checks it, and dispatches it to
//! one handler per frame type from a single `match`. Handlers return a [`Refusal`] that
//! becomes an error frame echoing the request id; nothing is changed when a request is
//! refused.

use crate::consult::{Ask, DeskError};
use crate::hub::Hub;
use crate::outbound::{CloseReason, ConnectionHandle, Delivery, HubMetrics, SharedFrame};
use crate::rate::{AbuseMeter, TokenBucket};
use crate::room::{JoinRefusal, Room, RoomState};
use crate::store::{
    AccountRecord, Appended, AuditEntry, MuteRecord, RoomRecord, StoreError, TimelineChange,
};
use ibasho_protocol::api::AgeBand;
use ibasho_protocol::{
    AccountId, ClientFrame, ConnectionId, ErrorCode, FrameHead, MessageId, Mode, PROTOCOL_VERSION,
    Person, Position, RequestId, RoomId, RoomInfo, RoomKind, ServerFrame, Stamp, close,
};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;
use unicode_normalization::UnicodeNormalization;

/// What the connection should do after a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Close the connection with this code and reason.
    Close(CloseReason),
}

/// A refused request: the error frame's code, message and details.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    code: ErrorCode,
    message: String,
    room: Option<RoomId>,
    retry_after_ms: Option<u64>,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            room: None,
            retry_after_ms: None,
        }
    }

    fn in_room(mut self, room: &RoomId) -> Self {
        self.room = Some(room.clone());
        self
    }

    fn retry_after(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    /// Whether this refusal means the client is misbehaving (counted towards closing it),
    /// rather than an ordinary "not now" such as being muted.
    fn is_abuse(&self) -> bool {
        matches!(
            self.code,
            ErrorCode::BadFrame
                | ErrorCode::UnknownType
                | ErrorCode::TooLong
                | ErrorCode::RateLimited
                | ErrorCode::HelloRequired
        )
    }
}

impl From<DeskError> for Refusal {
    fn from(e: DeskError) -> Self {
        Refusal {
            code: e.code,
            message: e.message,
            room: None,
            retry_after_ms: e.retry_after_ms,
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Refusal::new(ErrorCode::UnknownMessage, "no such message"),
            StoreError::NotAuthor => Refusal::new(
                ErrorCode::NotAllowed,
                "you can only change your own messages",
            ),
            StoreError::HandleTaken => Refusal::new(ErrorCode::HandleTaken, "handle taken"),
            StoreError::Backend(detail) => {
                tracing::error!(%detail, "store failure");
                Refusal::new(
                    ErrorCode::Internal,
                    "the server could not save this; try again",
                )
            }
        }
    }
}

type Handled = Result<(), Refusal>;

/// The hub's state for one connection.
#[derive(Debug)]
pub struct Session {
    hub: Hub,
    conn: ConnectionHandle,
    me: Person,
    /// The age band given at registration (peer salons by age band).
    age_band: Option<AgeBand>,
    greeted: bool,
    /// Rooms this connection joined. The room's own state is the truth (staff may remove
    /// someone, or archive a room); this list is pruned against it.
    joined: Vec<RoomId>,
    frames: TokenBucket,
    writes: TokenBucket,
    abuse: AbuseMeter,
}

/// Sends `frame` to every connection `account` has in `room`, after applying `change` to the
/// room's state under the same lock (so that no frame can slip in between).
fn tell(room: &Room, account: AccountId, frame: &ServerFrame, change: impl FnOnce(&mut RoomState)) {
    let shared = SharedFrame::encode(frame);
    let mut state = room.state();
    change(&mut state);
    for c in state.connections_of(account) {
        c.send(&shared, Delivery::Essential);
    }
}

impl Session {
    pub(crate) fn new(hub: Hub, conn: ConnectionHandle, account: AccountRecord) -> Self {
        let now = hub.inner.clock.now();
        let limits = &hub.inner.settings.limits;
        Self {
            writes: TokenBucket::new(limits.messages_per_second, limits.message_burst, now),
            frames: TokenBucket::new(limits.frames_per_second, limits.frame_burst, now),
            abuse: AbuseMeter::new(limits.abuse_errors_per_minute, now),
            me: account.person(),
            age_band: account.age_band,
            hub,
            conn,
            greeted: false,
            joined: Vec::new(),
        }
    }

    /// This connection's id.
    pub fn id(&self) -> ConnectionId {
        self.conn.id
    }

    /// The signed-in person.
    pub fn person(&self) -> &Person {
        &self.me
    }

    fn is_staff(&self) -> bool {
        self.me.role.is_staff()
    }

    fn now(&self) -> i64 {
        self.hub.inner.clock.now()
    }

    /// Handles one text frame from the client.
    pub async fn handle_text(&mut self, text: &str) -> Flow {
        let limits = &self.hub.inner.settings.limits;
        let (id, result) = if text.len() > limits.max_frame_bytes {
            let head = serde_json::from_str::<FrameHead>(text).ok();
            let refusal = Refusal::new(
                ErrorCode::TooLong,
                format!("frames may be at most {} bytes", limits.max_frame_bytes),
            );
            (head.and_then(|h| h.id), Err(refusal))
        } else {
            match serde_json::from_str::<ClientFrame>(text) {
                Ok(frame) => {
                    let id = frame.request_id().cloned();
                    (id, self.dispatch(frame).await)
                }
                Err(e) => {
                    let head = serde_json::from_str::<FrameHead>(text).ok();
                    let known = head
                        .as_ref()
                        .and_then(|h| h.kind.as_deref())
                        .map(|k| ClientFrame::TYPES.contains(&k));
                    let refusal = match known {
                        Some(false) => Refusal::new(ErrorCode::UnknownType, "unknown frame type"),
                        _ => Refusal::new(ErrorCode::BadFrame, format!("malformed frame: {e}")),
                    };
                    (head.and_then(|h| h.id), Err(refusal))
                }
            }
        };
        match result {
            Ok(()) => Flow::Continue,
            Err(refusal) => self.refuse(id, refusal),
        }
    }

    /// Refuses a binary frame: the protocol speaks JSON text only.
    pub fn refuse_binary(&mut self) -> Flow {
        let refusal = Refusal::new(ErrorCode::BadFrame, "frames are JSON text, not binary");
        self.refuse(None, refusal)
    }

    fn refuse(&mut self, id: Option<RequestId>, refusal: Refusal) -> Flow {
        let abusive = refusal.is_abuse();
        let unsupported = refusal.code == ErrorCode::UnsupportedVersion;
        self.conn.send_frame(&ServerFrame::Error {
            id,
            code: refusal.code,
            message: refusal.message,
            room: refusal.room,
            retry_after_ms: refusal.retry_after_ms,
        });
        if unsupported {
            return Flow::Close(CloseReason {
                code: close::UNSUPPORTED_VERSION,
                reason: format!("this server speaks protocol {PROTOCOL_VERSION}"),
            });
        }
        if abusive && self.abuse.record(self.now()) {
            return Flow::Close(CloseReason {
                code: close::POLICY_ABUSE,
                reason: "too many invalid or refused frames".to_owned(),
            });
        }
        Flow::Continue
    }

    async fn dispatch(&mut self, frame: ClientFrame) -> Handled {
        if let Err(wait) = self.frames.take(self.now()) {
            return Err(Refusal::new(ErrorCode::RateLimited, "too many frames").retry_after(wait));
        }
        if !self.greeted && !matches!(frame, ClientFrame::Hello { .. }) {
            return Err(Refusal::new(ErrorCode::HelloRequired, "send hello first"));
        }
        let kind = frame.type_name();
        let span = tracing::debug_span!("frame", kind, connection = %self.conn.id);
        let started = Instant::now();
        let result = async {
            match frame {
                ClientFrame::Hello { id, protocol } => {
                    self.hello(id, protocol)?;
                    self.hub.consult_welcome(&self.me, &self.conn).await;
                    Ok(())
                }
                ClientFrame::Join {
                    id,
                    room,
                    mode,
                    since,
                } => self.join(id, room, mode, since).await,
                ClientFrame::Leave { id, room } => self.leave(id, room),
                ClientFrame::Post {
                    id,
                    room,
                    body,
                    client_msg_id,
                } => self.post(id, room, body, client_msg_id).await,
                ClientFrame::Edit {
                    id,
                    room,
                    message_id,
                    body,
                } => self.edit(id, room, message_id, body).await,
                ClientFrame::Delete {
                    id,
                    room,
                    message_id,
                    reason,
                } => self.delete(id, room, message_id, reason).await,
                ClientFrame::React {
                    id,
                    room,
                    message_id,
                    stamp,
                    on,
                } => self.react(id, room, message_id, stamp, on).await,
                ClientFrame::History {
                    id,
                    room,
                    before_seq,
                    limit,
                } => self.history(id, room, before_seq, limit).await,
                ClientFrame::Move { room, x, y } => self.move_avatar(room, x, y),
                ClientFrame::ListRooms { id } => self.list_rooms(id),
                ClientFrame::CreateRoom {
                    id,
                    name,
                    topic,
                    capacity,
                } => self.create_room(id, name, topic, capacity).await,
                ClientFrame::ArchiveRoom { id, room, reason } => {
                    self.archive_room(id, room, reason).await
                }
                ClientFrame::Mute {
                    id,
                    room,
                    account,
                    minutes,
                    reason,
                } => self.mute(id, room, account, minutes, reason).await,
                ClientFrame::Unmute {
                    id,
                    room,
                    account,
                    reason,
                } => self.unmute(id, room, account, reason).await,
                ClientFrame::Remove {
                    id,
                    room,
                    account,
                    reason,
                } => self.remove(id, room, account, reason).await,
                ClientFrame::Readmit {
                    id,
                    room,
                    account,
                    reason,
                } => self.readmit(id, room, account, reason).await,
                ClientFrame::Pin { id, room, text } => self.pin(id, room, text).await,
                ClientFrame::Stage { id, room, on } => self.stage(id, room, on).await,
                ClientFrame::GiveVoice {
                    id,
                    room,
                    account,
                    on,
                } => self.give_voice(id, room, account, on).await,
                ClientFrame::ConsultRequest {
                    id,
                    topic,
                    for_whom,
                    profession,
                    channel,
                    first_message,
                } => {
                    let first_message = match first_message {
                        Some(m) if !m.trim().is_empty() => Some(self.consult_text(&m)?),
                        _ => None,
                    };
                    let ask = Ask {
                        topic,
                        for_whom,
                        profession,
                        channel,
                        first_message,
                    };
                    self.hub
                        .consult_request(&self.me, &self.conn, id, ask)
                        .await
                        .map_err(Refusal::from)
                }
                ClientFrame::ConsultCancel { id, consult } => {
                    let done = self.hub.consult_cancel(&self.me, consult).await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultLeaveMessage { id, consult, body } => {
                    let body = self.consult_text(&body)?;
                    let done = self
                        .hub
                        .consult_leave_message(&self.me, consult, body)
                        .await;
                    self.acked(id, done)
                }
                ClientFrame::CounsellorStatus { id, availability } => self
                    .hub
                    .counsellor_status(&self.me, &self.conn, id, availability)
                    .await
                    .map_err(Refusal::from),
                ClientFrame::ConsultAccept { id, consult } => {
                    let done = self.hub.consult_answer(&self.me, consult, true).await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultDecline { id, consult } => {
                    let done = self.hub.consult_answer(&self.me, consult, false).await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultEnd { id, consult } => {
                    let done = self.hub.consult_end(&self.me, consult).await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultNotes {
                    id,
                    consult,
                    notes,
                    outcome,
                } => {
                    let done = self
                        .hub
                        .consult_notes(&self.me, consult, notes, outcome)
                        .await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultTransfer {
                    id,
                    consult,
                    to,
                    profession,
                    note,
                } => {
                    let done = self
                        .hub
                        .consult_transfer(&self.me, consult, to, profession, note)
                        .await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultFlag { id, consult } => {
                    let done = self.hub.consult_flag(&self.me, consult).await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultObserve { id, consult, on } => {
                    let done = self.hub.consult_observe(&self.me, consult, on).await;
                    self.acked(id, done)
                }
                ClientFrame::ConsultQueue { id } => self
                    .hub
                    .consult_queue(&self.me, &self.conn, id)
                    .await
                    .map_err(Refusal::from),
                ClientFrame::Ping { id } => {
                    self.conn.send_frame(&ServerFrame::Pong {
                        id,
                        server_time: self.now(),
                    });
                    Ok(())
                }
            }
        }
        .instrument(span)
        .await;
        tracing::debug!(kind, connection = %self.conn.id, micros = started.elapsed().as_micros() as u64, ok = result.is_ok(), "handled");
        result
    }

    // ---- consults ------------------------------------------------------------------------

    /// Acknowledges a consult event that went through.
    fn acked(&self, id: Option<RequestId>, done: Result<(), DeskError>) -> Handled {
        done.map_err(Refusal::from)?;
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    /// Checks a requester's text (a first message, a left message) like a message.
    fn consult_text(&self, text: &str) -> Result<String, Refusal> {
        let room = RoomId::lobby();
        self.message_body(text, &room).map_err(|mut r| {
            r.room = None;
            r
        })
    }

    // ---- hello ------------------------------------------------------------------------

    fn hello(&mut self, id: Option<RequestId>, protocol: u32) -> Handled {
        if self.greeted {
            return Err(Refusal::new(
                ErrorCode::BadFrame,
                "hello was already received",
            ));
        }
        if protocol != PROTOCOL_VERSION {
            return Err(Refusal::new(
                ErrorCode::UnsupportedVersion,
                format!(
                    "protocol {protocol} is not supported; this server speaks {PROTOCOL_VERSION}"
                ),
            ));
        }
        self.greeted = true;
        let settings = &self.hub.inner.settings;
        self.conn.send_frame(&ServerFrame::Welcome {
            id,
            protocol: PROTOCOL_VERSION,
            connection: self.conn.id,
            me: self.me.clone(),
            rooms: self.hub.room_list(self.is_staff()),
            limits: settings.limits.clone(),
            stamps: Stamp::ALL.to_vec(),
            lobby_map: settings.hub.lobby_map(),
            server_time: self.now(),
            opening: self.hub.opening(),
        });
        Ok(())
    }

    // ---- rooms: join, leave, list ---------------------------------------------------------

    fn room(&self, id: &RoomId) -> Result<Arc<Room>, Refusal> {
        self.hub
            .room(id)
            .ok_or_else(|| Refusal::new(ErrorCode::UnknownRoom, "no such room").in_room(id))
    }

    /// The room, if this connection is in it.
    fn joined_room(&self, id: &RoomId) -> Result<Arc<Room>, Refusal> {
        let room = self.room(id)?;
        if room.state().contains(self.conn.id) {
            Ok(room)
        } else {
            Err(Refusal::new(ErrorCode::NotJoined, "join the room first").in_room(id))
        }
    }

    /// The room, if this connection is in it in a mode that may write.
    fn writable_room(&self, id: &RoomId) -> Result<Arc<Room>, Refusal> {
        let room = self.joined_room(id)?;
        let mode = room.state().mode_of(self.conn.id);
        if mode.is_some_and(Mode::can_write) {
            Ok(room)
        } else {
            Err(Refusal::new(
                ErrorCode::NotAllowed,
                "you are watching this room; watchers do not write",
            )
            .in_room(id))
        }
    }

    fn check_not_muted(&self, room: &Room) -> Handled {
        let now = self.now();
        if let Some(until) = room.state().muted_until(self.me.id, now) {
            let wait = u64::try_from(until - now).unwrap_or(0);
            return Err(
                Refusal::new(ErrorCode::Muted, "you are muted in this room for now")
                    .in_room(&room.id)
                    .retry_after(wait),
            );
        }
        Ok(())
    }

    fn take_write_token(&mut self, room: &RoomId) -> Handled {
        self.writes.take(self.now()).map_err(|wait| {
            Refusal::new(ErrorCode::RateLimited, "writing too fast; wait a moment")
                .in_room(room)
                .retry_after(wait)
        })
    }

    async fn join(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        mode: Mode,
        since: Option<u64>,
    ) -> Handled {
        let room = self.room(&room_id)?;
        if room.info().kind != RoomKind::Consult {
            // A consult under way goes on after closing (its room admits only its people).
            self.check_open(&room_id)?;
        }
        // A handle on the hub (an Arc), so that the limits can be borrowed while `self` changes.
        let hub = self.hub.clone();
        let limits = &hub.inner.settings.limits;
        self.prune_joined();
        if !self.joined.contains(&room_id) && self.joined.len() >= limits.max_rooms_per_connection {
            return Err(Refusal::new(
                ErrorCode::TooManyRooms,
                format!(
                    "a connection may be in at most {} rooms",
                    limits.max_rooms_per_connection
                ),
            )
            .in_room(&room_id));
        }
        let refuse = |r: JoinRefusal| {
            let (code, msg) = match r {
                JoinRefusal::Archived => (ErrorCode::UnknownRoom, "this room was closed"),
                JoinRefusal::Private => (ErrorCode::UnknownRoom, "no such room"),
                JoinRefusal::Removed => (ErrorCode::Removed, "staff asked you to leave this room"),
                JoinRefusal::Full => (ErrorCode::RoomFull, "this room is full"),
            };
            Refusal::new(code, msg).in_room(&room_id)
        };
        let staff = self.is_staff();
        // Holding the room's write lock from here until `joined` is queued means no event can
        // be broadcast in between: the backlog and the live events that follow it arrive in
        // sequence order, without gap or duplicate.
        let _write = room.write.lock().await;
        let info = room.info();
        {
            let state = room.state();
            state.admit(&info, self.me.id, staff).map_err(refuse)?;
            self.check_programme(&state, &info, mode)?;
        }
        if info.kind == RoomKind::Consult
            && mode.can_write()
            && Hub::consult_admission(&room, self.me.id) == Some(false)
        {
            return Err(Refusal::new(
                ErrorCode::NotAllowed,
                "a supervisor observes a consult as a watcher",
            )
            .in_room(&room_id));
        }
        let store = &self.hub.inner.store;
        let (mut messages, mut has_older, mut missed, mut reset) =
            (Vec::new(), false, Vec::new(), false);
        match since {
            Some(since)
                if since <= info.last_seq
                    && info.last_seq - since <= u64::from(limits.resume_max_events) =>
            {
                missed = store
                    .events_after(&room_id, since, limits.resume_max_events)
                    .await?;
            }
            _ => {
                reset = since.is_some();
                (messages, has_older) = store
                    .messages_before(&room_id, None, limits.history_page)
                    .await?;
            }
        }
        let removed = if staff {
            self.removed_people(&room).await?
        } else {
            Vec::new()
        };
        let pos = room.is_lobby().then(|| self.spawn_point());
        let counted = info.kind == RoomKind::Programme && !self.me.role.works_here();
        let new_peak = {
            let mut state = room.state();
            state.admit(&info, self.me.id, staff).map_err(refuse)?;
            self.check_programme(&state, &info, mode)?;
            state.add(&room_id, self.conn.clone(), self.me.clone(), mode, pos);
            let new_peak = if counted { state.note_peak() } else { None };
            let frame = ServerFrame::Joined {
                id,
                room: info,
                mode,
                presence: state.presence(staff),
                messages,
                has_older,
                missed,
                reset,
                muted_until: state.muted_until(self.me.id, self.now()),
                removed,
                voice: state.voiced.contains(&self.me.id),
            };
            self.conn.send_frame(&frame);
            new_peak
        };
        if counted {
            self.record_attendance(&room_id, mode, new_peak).await;
        }
        if !self.joined.contains(&room_id) {
            self.joined.push(room_id);
        }
        Ok(())
    }

    /// For the statistics cities report: who came to a programme session and how (the most
    /// present mode), and the most people at once. Anonymous in every report; a failure here
    /// is logged, never felt by the person joining.
    async fn record_attendance(&self, room: &RoomId, mode: Mode, peak: Option<u32>) {
        let store = &self.hub.inner.store;
        let result = async {
            store
                .record_attendance(room, self.me.id, mode, self.now())
                .await?;
            if let Some(peak) = peak {
                store.record_peak(room, peak).await?;
            }
            Ok::<(), StoreError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(room = %room, error = %e, "attendance not recorded");
        }
    }

    /// A programme room's own rules: the attendance modes it allows, its age bands, and its
    /// capacity for people who write (watchers do not count where watching is allowed, nor
    /// do staff and hosts). Staff and the programme's hosts are exempt; people a host gave a
    /// voice may join in beyond the capacity.
    fn check_programme(&self, state: &RoomState, info: &RoomInfo, mode: Mode) -> Handled {
        let Some(p) = &info.programme else {
            return Ok(());
        };
        if self.is_staff() || p.hosts.contains(&self.me.id) {
            return Ok(());
        }
        let refuse = |code, msg: &str| Err(Refusal::new(code, msg).in_room(&info.id));
        if !p.modes.contains(&mode) {
            return refuse(
                ErrorCode::NotAllowed,
                "this programme does not allow that attendance mode",
            );
        }
        if !p.age_bands.is_empty() && !self.age_band.is_some_and(|b| p.age_bands.contains(&b)) {
            return refuse(
                ErrorCode::NotAllowed,
                "this group is for other age bands; the staff can help you find yours",
            );
        }
        if mode.can_write()
            && !state.writes_here(self.me.id)
            && !state.voiced.contains(&self.me.id)
            && state.writers(|w| w.role.is_staff() || p.hosts.contains(&w.id))
                >= p.capacity as usize
        {
            let msg = if p.modes.contains(&Mode::ViewOnly) {
                "this programme is full; you can still watch"
            } else {
                "this programme is full"
            };
            return refuse(ErrorCode::RoomFull, msg);
        }
        Ok(())
    }

    /// Outside opening hours only counsellors, staff and admins may enter rooms.
    fn check_open(&self, room_id: &RoomId) -> Handled {
        if self.me.role.works_here() {
            return Ok(());
        }
        let opening = self.hub.opening();
        if opening.open {
            return Ok(());
        }
        let mut refusal = Refusal::new(
            ErrorCode::Closed,
            "the space is closed now; it will be glad to see you when it opens",
        )
        .in_room(room_id);
        if let Some(next) = opening.next {
            refusal = refusal.retry_after(u64::try_from(next.start - self.now()).unwrap_or(0));
        }
        Err(refusal)
    }

    /// The people removed from `room`, for staff who may readmit them.
    async fn removed_people(&self, room: &Room) -> Result<Vec<Person>, Refusal> {
        let ids: Vec<AccountId> = room.state().removed.iter().copied().collect();
        let mut people = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(a) = self.hub.inner.store.account(id).await? {
                people.push(a.person());
            }
        }
        people.sort_by(|a, b| a.handle.cmp(&b.handle));
        Ok(people)
    }

    /// Where a new avatar appears: a stable spot per account in the middle two thirds of the map, so
    /// that people do not all land on top of each other.
    fn spawn_point(&self) -> Position {
        let map = self.hub.inner.settings.hub.lobby_map();
        let b = self.me.id.0.as_bytes();
        let spread = |extent: u16, byte: u8| {
            let extent = u32::from(extent);
            let range = (extent * 2 / 3).max(1);
            let at = extent / 2 - range / 2 + u32::from(byte) * range / 255;
            u16::try_from(at).unwrap_or(u16::MAX)
        };
        Position {
            x: spread(map.width, b[15]),
            y: spread(map.height, b[14]),
        }
    }

    fn prune_joined(&mut self) {
        let hub = &self.hub;
        let conn = self.conn.id;
        self.joined
            .retain(|r| hub.room(r).is_some_and(|room| room.state().contains(conn)));
    }

    fn leave(&mut self, id: Option<RequestId>, room_id: RoomId) -> Handled {
        let room = self.joined_room(&room_id)?;
        room.state().remove(&room_id, self.conn.id);
        self.joined.retain(|r| r != &room_id);
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    fn list_rooms(&mut self, id: Option<RequestId>) -> Handled {
        self.conn.send_frame(&ServerFrame::Rooms {
            id,
            rooms: self.hub.room_list(self.is_staff()),
        });
        Ok(())
    }

    // ---- timeline: post, edit, delete, react, history ---------------------------------------

    /// Checks and normalises a message text.
    fn message_body(&self, body: &str, room: &RoomId) -> Result<String, Refusal> {
        let body: String = body.replace("\r\n", "\n").nfc().collect();
        let max = self.hub.inner.settings.limits.max_message_chars;
        if body.chars().count() > max {
            return Err(Refusal::new(
                ErrorCode::TooLong,
                format!("a message may have at most {max} characters"),
            )
            .in_room(room));
        }
        if body.trim().is_empty() {
            return Err(
                Refusal::new(ErrorCode::InvalidInput, "a message cannot be empty").in_room(room),
            );
        }
        if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                "a message cannot contain control characters",
            )
            .in_room(room));
        }
        Ok(body)
    }

    /// Stores a timeline change and, when it made an event, acknowledges it and sends the
    /// event to everyone in the room. The ack goes out only once the event is durable.
    async fn append(&self, id: Option<RequestId>, room: &Room, change: TimelineChange) -> Handled {
        self.append_audited(id, room, change, None).await
    }

    /// Like [`Session::append`]; a staff action's audit line is written after the change and
    /// before anyone is told of it, so that nothing staff did is ever seen without its record.
    async fn append_audited(
        &self,
        id: Option<RequestId>,
        room: &Room,
        change: TimelineChange,
        audit: Option<AuditEntry>,
    ) -> Handled {
        let _write = room.write.lock().await;
        let appended = self
            .hub
            .inner
            .store
            .append_event(&room.id, change, self.now())
            .await?;
        if let (Some(entry), Appended::New(_)) = (&audit, &appended) {
            self.hub.inner.store.append_audit(entry).await?;
        }
        match appended {
            Appended::New(event) => {
                HubMetrics::inc(&self.hub.inner.metrics.events_stored);
                room.set_last_seq(event.seq);
                let message_id = match &event.event {
                    ibasho_protocol::RoomEvent::Posted { message } => Some(message.id),
                    _ => None,
                };
                self.conn.send_frame(&ServerFrame::Ack {
                    id,
                    seq: Some(event.seq),
                    message_id,
                    room: None,
                });
                let frame = ServerFrame::Event {
                    room: room.id.clone(),
                    seq: event.seq,
                    at: event.at,
                    event: event.event,
                };
                HubMetrics::inc(&self.hub.inner.metrics.frames_encoded);
                room.broadcast(&frame, Delivery::Essential);
            }
            Appended::Duplicate { seq, message_id } => {
                self.conn.send_frame(&ServerFrame::Ack {
                    id,
                    seq: Some(seq),
                    message_id: Some(message_id),
                    room: None,
                });
            }
            Appended::Unchanged => self.conn.send_frame(&ServerFrame::ack(id)),
        }
        Ok(())
    }

    async fn post(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        body: String,
        client_msg_id: Option<uuid::Uuid>,
    ) -> Handled {
        let room = self.writable_room(&room_id)?;
        self.check_not_muted(&room)?;
        self.check_stage(&room)?;
        let body = self.message_body(&body, &room_id)?;
        self.take_write_token(&room_id)?;
        let consult = (room.info().kind == RoomKind::Consult).then(|| body.clone());
        let change = TimelineChange::Post {
            message_id: MessageId::new_v7(),
            author: self.me.id,
            body,
            client_msg_id,
        };
        self.append(id, &room, change).await?;
        if let Some(body) = consult {
            self.hub.consult_posted(&self.me, &room_id, &body).await;
        }
        Ok(())
    }

    async fn edit(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        message_id: MessageId,
        body: String,
    ) -> Handled {
        let room = self.writable_room(&room_id)?;
        self.check_not_muted(&room)?;
        let body = self.message_body(&body, &room_id)?;
        self.take_write_token(&room_id)?;
        let change = TimelineChange::Edit {
            message_id,
            author: self.me.id,
            body,
        };
        self.append(id, &room, change)
            .await
            .map_err(|r| r.in_room(&room_id))
    }

    async fn delete(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        message_id: MessageId,
        reason: Option<String>,
    ) -> Handled {
        let room = self.joined_room(&room_id)?;
        self.take_write_token(&room_id)?;
        let meta = self
            .hub
            .inner
            .store
            .message_meta(&room_id, message_id)
            .await?
            .filter(|m| !m.deleted)
            .ok_or_else(|| {
                Refusal::new(ErrorCode::UnknownMessage, "no such message").in_room(&room_id)
            })?;
        let own = meta.author == self.me.id;
        if !own && !self.is_staff() {
            return Err(Refusal::new(
                ErrorCode::NotAllowed,
                "you can only delete your own messages",
            )
            .in_room(&room_id));
        }
        let reason = if own {
            reason.unwrap_or_default()
        } else {
            self.reason(reason.unwrap_or_default())?
        };
        let change = TimelineChange::Delete {
            message_id,
            by: self.me.id,
            by_staff: !own,
        };
        let audit = (!own).then(|| AuditEntry {
            at: self.now(),
            actor: self.me.id,
            action: "delete_message".to_owned(),
            room: Some(room_id.clone()),
            target_account: Some(meta.author),
            target_message: Some(message_id),
            reason,
            detail: serde_json::Value::Null,
        });
        self.append_audited(id, &room, change, audit).await?;
        Ok(())
    }

    async fn react(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        message_id: MessageId,
        stamp: Stamp,
        on: bool,
    ) -> Handled {
        let room = self.writable_room(&room_id)?;
        self.check_not_muted(&room)?;
        self.take_write_token(&room_id)?;
        let change = TimelineChange::React {
            message_id,
            account: self.me.id,
            stamp,
            on,
        };
        self.append(id, &room, change)
            .await
            .map_err(|r| r.in_room(&room_id))
    }

    async fn history(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        before_seq: Option<u64>,
        limit: Option<u32>,
    ) -> Handled {
        self.joined_room(&room_id)?;
        let page = self.hub.inner.settings.limits.history_page;
        let limit = limit.unwrap_or(page).clamp(1, page);
        let (messages, has_older) = self
            .hub
            .inner
            .store
            .messages_before(&room_id, before_seq, limit)
            .await?;
        self.conn.send_frame(&ServerFrame::History {
            id,
            room: room_id,
            messages,
            has_older,
        });
        Ok(())
    }

    // ---- lobby ----------------------------------------------------------------------------

    fn move_avatar(&mut self, room_id: RoomId, x: u16, y: u16) -> Handled {
        let room = self.joined_room(&room_id)?;
        if !room.is_lobby() {
            return Err(
                Refusal::new(ErrorCode::NotAllowed, "only the lobby has a map").in_room(&room_id),
            );
        }
        let map = self.hub.inner.settings.hub.lobby_map();
        let pos = Position {
            x: x.min(map.width.saturating_sub(1)),
            y: y.min(map.height.saturating_sub(1)),
        };
        if room.state().move_avatar(self.me.id, pos) {
            Ok(())
        } else {
            Err(
                Refusal::new(ErrorCode::NotAllowed, "watchers have no avatar on the map")
                    .in_room(&room_id),
            )
        }
    }

    // ---- staff: rooms and moderation --------------------------------------------------------

    fn require_staff(&self) -> Handled {
        if self.is_staff() {
            Ok(())
        } else {
            Err(Refusal::new(
                ErrorCode::NotAllowed,
                "only staff may do this",
            ))
        }
    }

    /// Checks a moderation reason: required, and within its limit.
    fn reason(&self, reason: String) -> Result<String, Refusal> {
        let reason = reason.trim().to_owned();
        let max = self.hub.inner.settings.limits.reason_max_chars;
        if reason.is_empty() {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                "give a reason; it is kept in the audit log",
            ));
        }
        if reason.chars().count() > max {
            return Err(Refusal::new(
                ErrorCode::TooLong,
                format!("a reason may have at most {max} characters"),
            ));
        }
        Ok(reason)
    }

    async fn audit(
        &self,
        action: &str,
        room: Option<&RoomId>,
        target_account: Option<AccountId>,
        target_message: Option<MessageId>,
        reason: String,
        detail: serde_json::Value,
    ) -> Handled {
        let entry = AuditEntry {
            at: self.now(),
            actor: self.me.id,
            action: action.to_owned(),
            room: room.cloned(),
            target_account,
            target_message,
            reason,
            detail,
        };
        self.hub.inner.store.append_audit(&entry).await?;
        tracing::info!(actor = %self.me.id, action, room = ?room.map(RoomId::as_str), target = ?target_account, "audited staff action");
        Ok(())
    }

    async fn create_room(
        &mut self,
        id: Option<RequestId>,
        name: String,
        topic: String,
        capacity: Option<u32>,
    ) -> Handled {
        self.require_staff()?;
        // A handle on the hub (an Arc), so that the limits can be borrowed while `self` changes.
        let hub = self.hub.clone();
        let limits = &hub.inner.settings.limits;
        let name: String = name.trim().nfc().collect();
        let topic: String = topic.trim().nfc().collect();
        let name_chars = name.chars().count();
        if name_chars == 0 || name_chars > limits.room_name_max_chars {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                format!(
                    "a room name needs 1 to {} characters",
                    limits.room_name_max_chars
                ),
            ));
        }
        if topic.chars().count() > limits.reason_max_chars {
            return Err(Refusal::new(
                ErrorCode::TooLong,
                format!(
                    "a topic may have at most {} characters",
                    limits.reason_max_chars
                ),
            ));
        }
        if name.chars().chain(topic.chars()).any(char::is_control) {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                "names and topics cannot contain control characters",
            ));
        }
        let capacity = capacity.unwrap_or(limits.default_room_capacity);
        if capacity == 0 || capacity > 100_000 {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                "capacity must be between 1 and 100000",
            ));
        }
        let info = RoomInfo::new(RoomId::generate(), RoomKind::Chat, name, topic, capacity);
        let record = RoomRecord {
            info: info.clone(),
            created_by: Some(self.me.id),
            created_at: self.now(),
        };
        self.hub.inner.store.create_room(&record).await?;
        self.hub
            .inner
            .rooms
            .insert(info.id.clone(), Arc::new(Room::new(info.clone())));
        self.audit(
            "create_room",
            Some(&info.id),
            None,
            None,
            String::new(),
            serde_json::json!({ "name": info.name, "capacity": capacity }),
        )
        .await?;
        self.conn.send_frame(&ServerFrame::Ack {
            id,
            seq: None,
            message_id: None,
            room: Some(info),
        });
        self.hub.broadcast_room_list();
        Ok(())
    }

    async fn archive_room(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        reason: String,
    ) -> Handled {
        self.require_staff()?;
        let reason = self.reason(reason)?;
        let room = self.room(&room_id)?;
        if room.is_lobby() {
            return Err(
                Refusal::new(ErrorCode::NotAllowed, "the lobby cannot be archived")
                    .in_room(&room_id),
            );
        }
        self.hub.close_room(&room_id, "").await?;
        self.audit(
            "archive_room",
            Some(&room_id),
            None,
            None,
            reason,
            serde_json::Value::Null,
        )
        .await?;
        self.conn.send_frame(&ServerFrame::Ack {
            id,
            seq: None,
            message_id: None,
            room: Some(room.info()),
        });
        Ok(())
    }

    /// Staff act on someone else, never on staff.
    async fn moderation_target(
        &self,
        room_id: &RoomId,
        account: AccountId,
    ) -> Result<Arc<Room>, Refusal> {
        let room = self.room(room_id)?;
        self.require_host(&room)?;
        let target = self
            .hub
            .inner
            .store
            .account(account)
            .await?
            .ok_or_else(|| Refusal::new(ErrorCode::NotFound, "no such account").in_room(room_id))?;
        if target.role.is_staff() || Self::hosts(&room.info(), target.id) {
            return Err(Refusal::new(
                ErrorCode::NotAllowed,
                "staff and hosts cannot be muted or removed",
            )
            .in_room(room_id));
        }
        Ok(room)
    }

    // ---- hosts: pin, stage, voice ------------------------------------------------------

    /// Whether `account` hosts the programme in this room.
    fn hosts(info: &RoomInfo, account: AccountId) -> bool {
        info.programme
            .as_ref()
            .is_some_and(|p| p.hosts.contains(&account))
    }

    /// Staff anywhere; a programme's hosts in its rooms.
    fn require_host(&self, room: &Room) -> Handled {
        if self.is_staff() || Self::hosts(&room.info(), self.me.id) {
            Ok(())
        } else {
            Err(
                Refusal::new(ErrorCode::NotAllowed, "only hosts and staff may do this")
                    .in_room(&room.id),
            )
        }
    }

    /// On stage, only hosts, staff and people given a voice write.
    fn check_stage(&self, room: &Room) -> Handled {
        let info = room.info();
        if !info.stage || self.is_staff() || Self::hosts(&info, self.me.id) {
            return Ok(());
        }
        if room.state().voiced.contains(&self.me.id) {
            return Ok(());
        }
        Err(Refusal::new(
            ErrorCode::NotAllowed,
            "the hosts have the stage now; you can still react",
        )
        .in_room(&room.id))
    }

    /// Changes a room's pinned notice or stage mode: stored, then told to everyone in it.
    async fn set_controls(&self, room: &Room, pinned: Option<String>, stage: bool) -> Handled {
        let _write = room.write.lock().await;
        self.hub
            .inner
            .store
            .update_room_controls(&room.id, pinned.as_deref(), stage)
            .await?;
        room.set_controls(pinned, stage);
        room.broadcast(
            &ServerFrame::RoomUpdated { room: room.info() },
            Delivery::Essential,
        );
        Ok(())
    }

    async fn pin(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        text: Option<String>,
    ) -> Handled {
        let room = self.room(&room_id)?;
        self.require_host(&room)?;
        let text = match text.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(t) => Some(self.message_body(t, &room_id)?),
        };
        self.set_controls(&room, text.clone(), room.info().stage)
            .await?;
        self.audit(
            "pin",
            Some(&room_id),
            None,
            None,
            String::new(),
            serde_json::json!({ "text": text }),
        )
        .await?;
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    async fn stage(&mut self, id: Option<RequestId>, room_id: RoomId, on: bool) -> Handled {
        let room = self.room(&room_id)?;
        self.require_host(&room)?;
        self.set_controls(&room, room.info().pinned, on).await?;
        self.audit(
            "stage",
            Some(&room_id),
            None,
            None,
            String::new(),
            serde_json::json!({ "on": on }),
        )
        .await?;
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    async fn give_voice(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        account: AccountId,
        on: bool,
    ) -> Handled {
        let room = self.room(&room_id)?;
        self.require_host(&room)?;
        if self.hub.inner.store.account(account).await?.is_none() {
            return Err(Refusal::new(ErrorCode::NotFound, "no such account").in_room(&room_id));
        }
        let frame = ServerFrame::Voice {
            room: room_id.clone(),
            on,
        };
        tell(&room, account, &frame, |state| {
            if on {
                state.voiced.insert(account);
            } else {
                state.voiced.remove(&account);
            }
        });
        self.audit(
            "give_voice",
            Some(&room_id),
            Some(account),
            None,
            String::new(),
            serde_json::json!({ "on": on }),
        )
        .await?;
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    async fn mute(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        account: AccountId,
        minutes: u32,
        reason: String,
    ) -> Handled {
        let reason = self.reason(reason)?;
        let room = self.moderation_target(&room_id, account).await?;
        let max = self.hub.inner.settings.limits.max_mute_minutes;
        if minutes == 0 || minutes > max {
            return Err(Refusal::new(
                ErrorCode::InvalidInput,
                format!("a mute lasts 1 to {max} minutes"),
            )
            .in_room(&room_id));
        }
        let until = self.now() + i64::from(minutes) * 60_000;
        self.hub
            .inner
            .store
            .create_mute(&MuteRecord {
                room: room_id.clone(),
                account,
                until,
            })
            .await?;
        self.audit(
            "mute",
            Some(&room_id),
            Some(account),
            None,
            reason,
            serde_json::json!({ "minutes": minutes, "until": until }),
        )
        .await?;
        let notice = ServerFrame::Muted {
            room: room_id.clone(),
            until,
        };
        tell(&room, account, &notice, |state| {
            state.mutes.insert(account, until);
        });
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    async fn unmute(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        account: AccountId,
        reason: String,
    ) -> Handled {
        let reason = self.reason(reason)?;
        let room = self.moderation_target(&room_id, account).await?;
        self.hub.inner.store.delete_mute(&room_id, account).await?;
        self.audit(
            "unmute",
            Some(&room_id),
            Some(account),
            None,
            reason,
            serde_json::Value::Null,
        )
        .await?;
        let notice = ServerFrame::Unmuted {
            room: room_id.clone(),
        };
        tell(&room, account, &notice, |state| {
            state.mutes.remove(&account);
        });
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    async fn remove(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        account: AccountId,
        reason: String,
    ) -> Handled {
        let reason = self.reason(reason)?;
        let room = self.moderation_target(&room_id, account).await?;
        if room.is_lobby() {
            return Err(Refusal::new(
                ErrorCode::NotAllowed,
                "no one can be removed from the lobby; mute instead",
            )
            .in_room(&room_id));
        }
        self.hub
            .inner
            .store
            .create_removal(&room_id, account, self.now())
            .await?;
        self.audit(
            "remove",
            Some(&room_id),
            Some(account),
            None,
            reason.clone(),
            serde_json::Value::Null,
        )
        .await?;
        let notice = SharedFrame::encode(&ServerFrame::Removed {
            room: room_id.clone(),
            reason,
        });
        {
            let mut state = room.state();
            state.removed.insert(account);
            for c in state.connections_of(account) {
                c.send(&notice, Delivery::Essential);
                state.remove(&room_id, c.id);
            }
        }
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    async fn readmit(
        &mut self,
        id: Option<RequestId>,
        room_id: RoomId,
        account: AccountId,
        reason: String,
    ) -> Handled {
        let reason = self.reason(reason)?;
        let room = self.moderation_target(&room_id, account).await?;
        self.hub
            .inner
            .store
            .delete_removal(&room_id, account)
            .await?;
        self.audit(
            "readmit",
            Some(&room_id),
            Some(account),
            None,
            reason,
            serde_json::Value::Null,
        )
        .await?;
        room.state().removed.remove(&account);
        self.conn.send_frame(&ServerFrame::ack(id));
        Ok(())
    }

    // ---- end --------------------------------------------------------------------------------

    /// Leaves every room and forgets the connection. Call once, when the socket is gone.
    pub fn close(mut self) {
        self.prune_joined();
        for room_id in std::mem::take(&mut self.joined) {
            if let Some(room) = self.hub.room(&room_id) {
                room.state().remove(&room_id, self.conn.id);
            }
        }
        self.hub.disconnect(self.conn.id, self.me.id);
        if self.me.role == ibasho_protocol::Role::Counsellor {
            let hub = self.hub.clone();
            let (account, role) = (self.me.id, self.me.role);
            tokio::spawn(async move { hub.consult_connection_closed(account, role).await });
        }
    }
}

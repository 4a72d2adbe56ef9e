//! One room in memory: who is connected to it, presence as each audience may see it, lobby
//! positions, and the mutes and removals in force. The durable timeline lives in the store.
//!
//! Two locks, never held together across an `.await`: `write` (async) serialises timeline
//! appends and joins so that a joining client's backlog and the live events that follow it
//! arrive in order; `state` (sync) guards membership and is held only for non-blocking work.

use crate::outbound::{ConnectionHandle, Delivery, SharedFrame};
use ibasho_protocol::{
    AccountId, ConnectionId, Member, Millis, Mode, Movement, Person, Position, Presence, RoomId,
    RoomInfo, ServerFrame,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, RwLock};

/// A room held in memory.
#[derive(Debug)]
pub(crate) struct Room {
    pub(crate) id: RoomId,
    /// Name, topic, capacity, archived flag and the latest sequence number.
    info: RwLock<RoomInfo>,
    /// Serialises appends and joins (see the module doc).
    pub(crate) write: tokio::sync::Mutex<()>,
    state: Mutex<RoomState>,
}

/// Membership and moderation state of a room.
#[derive(Debug, Default)]
pub(crate) struct RoomState {
    /// Every connection in the room, with its mode.
    conns: HashMap<ConnectionId, RoomConnection>,
    /// One entry per person present, however many connections they have here.
    people: HashMap<AccountId, PersonHere>,
    /// How many people are present only as watchers.
    watchers: u32,
    /// The watcher count changed since it was last sent; the next tick sends it.
    watchers_changed: bool,
    /// Avatars that moved since the last tick.
    moved: HashSet<AccountId>,
    /// Mutes in force: until when.
    pub(crate) mutes: HashMap<AccountId, Millis>,
    /// People who may not rejoin.
    pub(crate) removed: HashSet<AccountId>,
    /// People a host gave a voice: they write on stage and may join in beyond capacity.
    pub(crate) voiced: HashSet<AccountId>,
    /// The most visitors (people who do not work here) present at once since the room was
    /// loaded.
    peak: u32,
    /// For a consult room: who may enter.
    pub(crate) private: Option<PrivateRoom>,
}

/// Who may enter a private (consult) room.
#[derive(Debug, Default)]
pub(crate) struct PrivateRoom {
    /// The requester and their counsellor: they write.
    pub(crate) members: HashSet<AccountId>,
    /// Supervisors observing: they watch.
    pub(crate) observers: HashSet<AccountId>,
}

impl PrivateRoom {
    pub(crate) fn new(members: impl IntoIterator<Item = AccountId>) -> Self {
        Self {
            members: members.into_iter().collect(),
            observers: HashSet::new(),
        }
    }
}

#[derive(Debug)]
struct RoomConnection {
    handle: ConnectionHandle,
    mode: Mode,
}

/// A person present in a room, aggregated over their connections.
#[derive(Debug)]
struct PersonHere {
    person: Person,
    /// Connections per mode, indexed by `mode_index`.
    modes: [u32; 3],
    pos: Option<Position>,
}

fn mode_index(mode: Mode) -> usize {
    match mode {
        Mode::ViewOnly => 0,
        Mode::ChatOnly => 1,
        Mode::Participant => 2,
    }
}

impl PersonHere {
    /// The mode others see: the most present of this person's connections.
    fn visible_mode(&self) -> Option<Mode> {
        [Mode::Participant, Mode::ChatOnly, Mode::ViewOnly]
            .into_iter()
            .find(|m| self.modes[mode_index(*m)] > 0)
    }

    fn member(&self, mode: Mode) -> Member {
        Member {
            person: self.person.clone(),
            mode,
            pos: if mode.can_write() { self.pos } else { None },
        }
    }
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinRefusal {
    Archived,
    Private,
    Removed,
    Full,
}

impl Room {
    pub(crate) fn new(info: RoomInfo) -> Self {
        Self {
            id: info.id.clone(),
            info: RwLock::new(info),
            write: tokio::sync::Mutex::new(()),
            state: Mutex::new(RoomState::default()),
        }
    }

    pub(crate) fn info(&self) -> RoomInfo {
        self.info.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_last_seq(&self, seq: u64) {
        let mut info = self.info.write().unwrap_or_else(|e| e.into_inner());
        info.last_seq = info.last_seq.max(seq);
    }

    /// Replaces what may change about a room (name, topic, capacity, its programme), keeping
    /// its sequence number and archived flag. Returns whether anything changed.
    pub(crate) fn set_description(&self, new: &RoomInfo) -> bool {
        let mut info = self.info.write().unwrap_or_else(|e| e.into_inner());
        let same = info.name == new.name
            && info.topic == new.topic
            && info.capacity == new.capacity
            && info.programme == new.programme;
        if !same {
            info.name.clone_from(&new.name);
            info.topic.clone_from(&new.topic);
            info.capacity = new.capacity;
            info.programme.clone_from(&new.programme);
        }
        !same
    }

    /// Sets the hosts' controls: the pinned notice and stage mode.
    pub(crate) fn set_controls(&self, pinned: Option<String>, stage: bool) {
        let mut info = self.info.write().unwrap_or_else(|e| e.into_inner());
        info.pinned = pinned;
        info.stage = stage;
    }

    pub(crate) fn set_archived(&self) {
        self.info
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .archived = true;
    }

    pub(crate) fn is_lobby(&self) -> bool {
        self.id.is_lobby()
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, RoomState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `frame` to every connection in the room.
    pub(crate) fn broadcast(&self, frame: &ServerFrame, delivery: Delivery) {
        let shared = SharedFrame::encode(frame);
        let state = self.state();
        for c in state.conns.values() {
            c.handle.send(&shared, delivery);
        }
    }
}

impl RoomState {
    pub(crate) fn contains(&self, conn: ConnectionId) -> bool {
        self.conns.contains_key(&conn)
    }

    pub(crate) fn mode_of(&self, conn: ConnectionId) -> Option<Mode> {
        self.conns.get(&conn).map(|c| c.mode)
    }

    pub(crate) fn muted_until(&self, account: AccountId, now: Millis) -> Option<Millis> {
        self.mutes
            .get(&account)
            .copied()
            .filter(|&until| until > now)
    }

    /// Whether `person` may join now, given capacity and moderation.
    pub(crate) fn admit(
        &self,
        info: &RoomInfo,
        account: AccountId,
        is_staff: bool,
    ) -> Result<(), JoinRefusal> {
        if info.archived {
            return Err(JoinRefusal::Archived);
        }
        if info.kind == ibasho_protocol::RoomKind::Consult
            && !self
                .private
                .as_ref()
                .is_some_and(|p| p.members.contains(&account) || p.observers.contains(&account))
        {
            // Not theirs: as if there were no such room.
            return Err(JoinRefusal::Private);
        }
        if self.removed.contains(&account) && !is_staff {
            return Err(JoinRefusal::Removed);
        }
        let already_here = self.people.contains_key(&account);
        if !already_here && !is_staff && self.people.len() >= info.capacity as usize {
            return Err(JoinRefusal::Full);
        }
        Ok(())
    }

    /// Notes how many visitors (people who do not work here) are present; returns the new
    /// peak if this is one.
    pub(crate) fn note_peak(&mut self) -> Option<u32> {
        let visitors = self
            .people
            .values()
            .filter(|p| !p.person.role.works_here())
            .count();
        let visitors = u32::try_from(visitors).unwrap_or(u32::MAX);
        (visitors > self.peak).then(|| {
            self.peak = visitors;
            visitors
        })
    }

    /// How many people are here in a mode that writes, not counting those `exempt` says.
    pub(crate) fn writers(&self, exempt: impl Fn(&Person) -> bool) -> usize {
        self.people
            .values()
            .filter(|p| p.visible_mode().is_some_and(Mode::can_write) && !exempt(&p.person))
            .count()
    }

    /// Whether `account` is here in a mode that writes.
    pub(crate) fn writes_here(&self, account: AccountId) -> bool {
        self.people
            .get(&account)
            .and_then(PersonHere::visible_mode)
            .is_some_and(Mode::can_write)
    }

    /// Presence as `viewer_is_staff` may see it.
    pub(crate) fn presence(&self, viewer_is_staff: bool) -> Presence {
        let mut members: Vec<Member> = self
            .people
            .values()
            .filter_map(|p| {
                let mode = p.visible_mode()?;
                (viewer_is_staff || mode.can_write()).then(|| p.member(mode))
            })
            .collect();
        members.sort_by(|a, b| a.person.handle.cmp(&b.person.handle));
        Presence {
            members,
            watchers: self.watchers,
        }
    }

    /// Adds a connection and tells the others what changed. `initial_pos` places a new
    /// avatar in the lobby.
    pub(crate) fn add(
        &mut self,
        room: &RoomId,
        handle: ConnectionHandle,
        person: Person,
        mode: Mode,
        initial_pos: Option<Position>,
    ) {
        let account = handle.account;
        let before = self.people.get(&account).and_then(PersonHere::visible_mode);
        let entry = self.people.entry(account).or_insert_with(|| PersonHere {
            person,
            modes: [0; 3],
            pos: initial_pos,
        });
        entry.modes[mode_index(mode)] += 1;
        if let Some(old) = self
            .conns
            .insert(handle.id, RoomConnection { handle, mode })
        {
            // A connection joining again replaces its earlier mode.
            if let Some(p) = self.people.get_mut(&account) {
                p.modes[mode_index(old.mode)] -= 1;
            }
        }
        self.after_change(room, account, before);
    }

    /// Removes a connection (leave, disconnect, removal) and tells the others.
    pub(crate) fn remove(&mut self, room: &RoomId, conn: ConnectionId) -> bool {
        let Some(c) = self.conns.remove(&conn) else {
            return false;
        };
        let account = c.handle.account;
        let before = self.people.get(&account).and_then(PersonHere::visible_mode);
        if let Some(p) = self.people.get_mut(&account) {
            p.modes[mode_index(c.mode)] -= 1;
            if p.modes.iter().all(|&n| n == 0) {
                self.people.remove(&account);
                self.moved.remove(&account);
            }
        }
        self.after_change(room, account, before);
        true
    }

    /// Connections of one account in this room.
    pub(crate) fn connections_of(&self, account: AccountId) -> Vec<ConnectionHandle> {
        self.conns
            .values()
            .filter(|c| c.handle.account == account)
            .map(|c| c.handle.clone())
            .collect()
    }

    /// Every connection in this room.
    pub(crate) fn connections(&self) -> Vec<ConnectionHandle> {
        self.conns.values().map(|c| c.handle.clone()).collect()
    }

    /// Sends the presence changes that follow from `account`'s visible mode going from
    /// `before` to what it is now: by handle to whoever may see it, as a count to the rest.
    fn after_change(&mut self, room: &RoomId, account: AccountId, before: Option<Mode>) {
        let here = self.people.get(&account);
        let after = here.and_then(PersonHere::visible_mode);
        if before == after {
            return;
        }
        let was_watching = before == Some(Mode::ViewOnly);
        let watching = after == Some(Mode::ViewOnly);
        if was_watching != watching {
            if watching {
                self.watchers += 1;
            } else {
                self.watchers = self.watchers.saturating_sub(1);
            }
        }
        let presence_frame = |mode: Option<Mode>| match (mode, here) {
            (Some(mode), Some(p)) => ServerFrame::MemberJoined {
                room: room.clone(),
                member: p.member(mode),
            },
            _ => ServerFrame::MemberLeft {
                room: room.clone(),
                account,
            },
        };
        let visible = |m: Option<Mode>| m.filter(|m| m.can_write());
        let public = (visible(before) != visible(after))
            .then(|| SharedFrame::encode(&presence_frame(visible(after))));
        let staff = SharedFrame::encode(&presence_frame(after));
        if was_watching != watching {
            self.watchers_changed = true;
        }
        for c in self.conns.values() {
            if c.handle.account == account {
                // People do not get presence frames about themselves.
                continue;
            }
            if c.handle.role.is_staff() {
                c.handle.send(&staff, Delivery::Essential);
            } else if let Some(public) = &public {
                c.handle.send(public, Delivery::Essential);
            }
        }
    }

    /// The watcher count to send this tick, if it changed since the last one.
    pub(crate) fn take_watcher_count(&mut self) -> Option<u32> {
        std::mem::take(&mut self.watchers_changed).then_some(self.watchers)
    }

    /// Sends an essential frame to every connection.
    pub(crate) fn send_all(&self, frame: &SharedFrame) {
        for c in self.conns.values() {
            c.handle.send(frame, Delivery::Essential);
        }
    }

    /// Moves an avatar; it goes out with the next tick.
    pub(crate) fn move_avatar(&mut self, account: AccountId, pos: Position) -> bool {
        match self.people.get_mut(&account) {
            Some(p) if p.visible_mode().is_some_and(Mode::can_write) => {
                p.pos = Some(pos);
                self.moved.insert(account);
                true
            }
            _ => false,
        }
    }

    /// The movement batch for this tick: avatars that moved, or all of them for a key frame.
    pub(crate) fn take_movements(&mut self, keyframe: bool) -> Vec<Movement> {
        let moved = std::mem::take(&mut self.moved);
        let visible = |p: &PersonHere| p.visible_mode().is_some_and(Mode::can_write);
        let to_movement = |account: AccountId, p: &PersonHere| {
            p.pos.map(|pos| Movement {
                account,
                x: pos.x,
                y: pos.y,
            })
        };
        if keyframe {
            self.people
                .iter()
                .filter(|(_, p)| visible(p))
                .filter_map(|(a, p)| to_movement(*a, p))
                .collect()
        } else {
            moved
                .into_iter()
                .filter_map(|a| {
                    self.people
                        .get(&a)
                        .filter(|p| visible(p))
                        .and_then(|p| to_movement(a, p))
                })
                .collect()
        }
    }

    /// Sends a droppable frame to every connection.
    pub(crate) fn send_droppable(&self, frame: &SharedFrame) {
        for c in self.conns.values() {
            c.handle.send(frame, Delivery::Droppable);
        }
    }

    /// Checks the bookkeeping; for tests.
    pub(crate) fn check_invariants(&self) {
        let mut counted: HashMap<AccountId, [u32; 3]> = HashMap::new();
        for c in self.conns.values() {
            counted.entry(c.handle.account).or_default()[mode_index(c.mode)] += 1;
        }
        assert_eq!(counted.len(), self.people.len(), "people vs connections");
        for (a, modes) in &counted {
            assert_eq!(self.people[a].modes, *modes, "mode counts of {a}");
        }
        let watchers = self
            .people
            .values()
            .filter(|p| p.visible_mode() == Some(Mode::ViewOnly))
            .count();
        assert_eq!(watchers as u32, self.watchers, "watcher count");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::HubMetrics;
    use ibasho_protocol::{Avatar, AvatarColor, AvatarShape, Role};
    use std::sync::Arc;

    fn person(handle: &str, role: Role) -> Person {
        Person {
            id: AccountId::new_v7(),
            handle: handle.into(),
            avatar: Avatar {
                shape: AvatarShape::Circle,
                color: AvatarColor::Sora,
            },
            role,
        }
    }

    fn connect(n: u64, p: &Person) -> (ConnectionHandle, tokio::sync::mpsc::Receiver<SharedFrame>) {
        ConnectionHandle::new(
            ConnectionId(n),
            p.id,
            p.role,
            8,
            Arc::new(HubMetrics::default()),
        )
    }

    fn lobby() -> Room {
        Room::new(RoomInfo {
            id: RoomId::lobby(),
            kind: ibasho_protocol::RoomKind::Lobby,
            name: "lobby".into(),
            topic: String::new(),
            capacity: 10,
            last_seq: 0,
            archived: false,
            programme: None,
            pinned: None,
            stage: false,
        })
    }

    fn drain(rx: &mut tokio::sync::mpsc::Receiver<SharedFrame>) -> Vec<SharedFrame> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn a_broadcast_is_serialized_once_and_shares_its_bytes() {
        let room = lobby();
        let people: Vec<Person> = (0..3)
            .map(|i| person(&format!("p{i}"), Role::Participant))
            .collect();
        let mut receivers = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let (handle, rx) = connect(i as u64, p);
            room.state()
                .add(&room.id, handle, p.clone(), Mode::Participant, None);
            receivers.push(rx);
        }
        for rx in &mut receivers {
            drain(rx);
        }
        room.broadcast(
            &ServerFrame::Watchers {
                room: room.id.clone(),
                count: 9,
            },
            Delivery::Essential,
        );
        let frames: Vec<SharedFrame> = receivers.iter_mut().flat_map(drain).collect();
        assert_eq!(frames.len(), 3);
        let first = frames[0].bytes().as_ptr();
        assert!(
            frames.iter().all(|f| f.bytes().as_ptr() == first),
            "every recipient shares one buffer"
        );
        room.state().check_invariants();
    }

    #[test]
    fn watchers_reach_participants_only_as_a_count() {
        let room = lobby();
        let viewer = person("viewer", Role::Participant);
        let staff = person("staff", Role::Staff);
        let watcher = person("watcher", Role::Participant);
        let (v, mut v_rx) = connect(1, &viewer);
        let (s, mut s_rx) = connect(2, &staff);
        let (w, _w_rx) = connect(3, &watcher);
        room.state()
            .add(&room.id, v, viewer.clone(), Mode::Participant, None);
        room.state()
            .add(&room.id, s, staff.clone(), Mode::ChatOnly, None);
        drain(&mut v_rx);
        drain(&mut s_rx);
        room.state()
            .add(&room.id, w, watcher.clone(), Mode::ViewOnly, None);
        let to_viewer: Vec<String> = drain(&mut v_rx)
            .iter()
            .map(|f| String::from_utf8(f.bytes().to_vec()).unwrap())
            .collect();
        assert!(
            to_viewer.is_empty(),
            "nothing names the watcher: {to_viewer:?}"
        );
        // The count goes to everyone with the next tick, once per change.
        assert_eq!(room.state().take_watcher_count(), Some(1));
        assert_eq!(room.state().take_watcher_count(), None);
        let count = ServerFrame::Watchers {
            room: room.id.clone(),
            count: 1,
        };
        room.state().send_all(&SharedFrame::encode(&count));
        let to_viewer: Vec<String> = drain(&mut v_rx)
            .iter()
            .map(|f| String::from_utf8(f.bytes().to_vec()).unwrap())
            .collect();
        assert_eq!(
            to_viewer,
            [r#"{"type":"watchers","room":"lobby","count":1}"#]
        );
        let to_staff: Vec<String> = drain(&mut s_rx)
            .iter()
            .map(|f| String::from_utf8(f.bytes().to_vec()).unwrap())
            .collect();
        assert!(to_staff[0].contains("\"member_joined\"") && to_staff[0].contains("watcher"));
        let presence = room.state().presence(false);
        assert_eq!(presence.watchers, 1);
        assert!(presence.members.iter().all(|m| m.person.id != watcher.id));
        assert!(
            room.state()
                .presence(true)
                .members
                .iter()
                .any(|m| m.person.id == watcher.id)
        );
        room.state().remove(&room.id, ConnectionId(3));
        assert_eq!(room.state().presence(false).watchers, 0);
        room.state().check_invariants();
    }
}

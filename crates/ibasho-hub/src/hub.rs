//! The hub: every room and connection of this server process, and the work that spans them
//! (room list changes, the lobby tick, shutdown).

use crate::clock::Clock;
use crate::config::HubSettings;
use crate::consult::Desk;
use crate::opening::{Change, OpeningWatch};
use crate::outbound::{ConnectionHandle, Delivery, HubMetrics, KillSwitch, SharedFrame};
use crate::room::Room;
use crate::session::Session;
use crate::store::{HubStore, RoomRecord, StoreError};
use dashmap::DashMap;
use ibasho_protocol::api::AccountStatus;
use ibasho_protocol::{
    AccountId, ConnectionId, Opening, Role, RoomId, RoomInfo, RoomKind, ServerFrame, close,
};
use ibasho_schedule::{OpeningHours, ScheduleError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Who is connecting, as established by the server's authentication (a verified token).
/// This is the one seam between sign-in and the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The account.
    pub account: AccountId,
    /// The handle at the time the token was issued (the store has the current one).
    pub handle: String,
    /// The role.
    pub role: Role,
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The account already has its maximum of open connections.
    #[error("too many connections for this account")]
    TooManyConnections,
    /// The account in the token does not exist (any more), or is suspended.
    #[error("unknown account")]
    UnknownAccount,
    /// The hub is shutting down.
    #[error("shutting down")]
    ShuttingDown,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `[opening_hours]` is not valid.
    #[error("opening_hours: {0}")]
    OpeningHours(#[from] ScheduleError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the server needs to run one connection: the session that handles its frames, the
/// queue its writer drains, and the switch that stops both.
#[derive(Debug)]
pub struct Connection {
    /// Handles incoming frames.
    pub session: Session,
    /// Frames to write, in order.
    pub outbound: mpsc::Receiver<SharedFrame>,
    /// Fires when the hub wants the connection closed.
    pub kill: Arc<KillSwitch>,
}

/// The realtime core. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Hub {
    pub(crate) inner: Arc<HubInner>,
}

pub(crate) struct HubInner {
    pub(crate) settings: HubSettings,
    pub(crate) store: Arc<dyn HubStore>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Opening hours and where the space stands.
    pub(crate) opening: OpeningWatch,
    /// Every room, archived ones too (staff may still list them).
    pub(crate) rooms: DashMap<RoomId, Arc<Room>>,
    /// Every open connection.
    pub(crate) connections: DashMap<ConnectionId, ConnectionHandle>,
    /// Open connections per account, to enforce `max_connections_per_account`.
    per_account: DashMap<AccountId, usize>,
    next_connection: AtomicU64,
    shutting_down: AtomicBool,
    pub(crate) metrics: Arc<HubMetrics>,
    /// Private consultations.
    pub(crate) desk: Desk,
}

impl std::fmt::Debug for HubInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubInner")
            .field("rooms", &self.rooms.len())
            .field("connections", &self.connections.len())
            .finish_non_exhaustive()
    }
}

impl HubInner {
    /// Tells everyone connected that the space opened, closed or closes soon; at closing,
    /// takes participants and families out of every room.
    fn apply_opening_change(&self, change: Change) {
        let frame = match change {
            Change::Now(opening) => ServerFrame::Opening { opening },
            Change::ClosingSoon { closes_at, minutes } => {
                ServerFrame::ClosingSoon { closes_at, minutes }
            }
        };
        let frame = SharedFrame::encode(&frame);
        for c in self.connections.iter() {
            c.send(&frame, Delivery::Essential);
        }
        if let Change::Now(Opening { open: false, .. }) = change {
            // Consults under way go on to their end.
            for room in self
                .rooms
                .iter()
                .filter(|r| r.info().kind != RoomKind::Consult)
            {
                let mut state = room.state();
                for c in state.connections() {
                    if !c.role.works_here() {
                        state.remove(&room.id, c.id);
                    }
                }
            }
            tracing::info!("the space closed; participants and families moved out of rooms");
        } else if let Change::Now(Opening { open: true, .. }) = change {
            tracing::info!("the space opened");
        }
    }
}

impl Hub {
    /// Loads the rooms from the store (creating the lobby on first start) and starts the lobby
    /// tick. Must be called inside a Tokio runtime.
    pub async fn start(
        settings: HubSettings,
        store: Arc<dyn HubStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let hours = OpeningHours::from_config(&settings.opening_hours)?;
        let opening = OpeningWatch::new(hours, clock.now());
        let desk = Desk::new(settings.consult.clone(), settings.appointments.clone());
        let inner = Arc::new(HubInner {
            desk,
            settings,
            store,
            clock,
            opening,
            rooms: DashMap::new(),
            connections: DashMap::new(),
            per_account: DashMap::new(),
            next_connection: AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            metrics: Arc::new(HubMetrics::default()),
        });
        let mut records = inner.store.rooms().await?;
        if !records.iter().any(|r| r.info.id.is_lobby()) {
            let lobby = RoomRecord {
                info: RoomInfo::new(
                    RoomId::lobby(),
                    RoomKind::Lobby,
                    "ひろば".to_owned(),
                    String::new(),
                    inner.settings.limits.default_room_capacity,
                ),
                created_by: None,
                created_at: inner.clock.now(),
            };
            inner.store.create_room(&lobby).await?;
            records.insert(0, lobby);
        }
        let now = inner.clock.now();
        for record in records {
            // A consult that ended can never be entered again: no need to hold its room.
            if record.info.kind == RoomKind::Consult && record.info.archived {
                continue;
            }
            let room = Arc::new(Room::new(record.info));
            let mutes = inner.store.mutes(&room.id, now).await?;
            let removed = inner.store.removals(&room.id).await?;
            {
                let mut state = room.state();
                state.mutes = mutes.into_iter().map(|m| (m.account, m.until)).collect();
                state.removed = removed.into_iter().collect();
            }
            inner.rooms.insert(room.id.clone(), room);
        }
        let hub = Hub { inner };
        hub.load_consults().await?;
        hub.load_appointments()
            .await
            .map_err(|e| StoreError::Backend(e.0))?;
        hub.spawn_tick();
        hub.spawn_consult_tick();
        Ok(hub)
    }

    /// Opens a connection for an authenticated identity.
    pub async fn connect(&self, identity: Identity) -> Result<Connection, ConnectError> {
        if self.inner.shutting_down.load(Ordering::SeqCst) {
            return Err(ConnectError::ShuttingDown);
        }
        let record = self
            .inner
            .store
            .account(identity.account)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or(ConnectError::UnknownAccount)?;
        let max = self.inner.settings.limits.max_connections_per_account;
        {
            let mut count = self.inner.per_account.entry(identity.account).or_insert(0);
            if *count >= max {
                return Err(ConnectError::TooManyConnections);
            }
            *count += 1;
        }
        let id = ConnectionId(self.inner.next_connection.fetch_add(1, Ordering::Relaxed));
        let (handle, outbound) = ConnectionHandle::new(
            id,
            identity.account,
            record.role,
            self.inner.settings.hub.outbound_queue_frames,
            self.inner.metrics.clone(),
        );
        let kill = handle.kill.clone();
        self.inner.connections.insert(id, handle.clone());
        self.inner
            .metrics
            .connections_open
            .fetch_add(1, Ordering::Relaxed);
        let session = Session::new(self.clone(), handle, record);
        Ok(Connection {
            session,
            outbound,
            kill,
        })
    }

    /// Forgets a connection; called by [`Session::close`].
    pub(crate) fn disconnect(&self, conn: ConnectionId, account: AccountId) {
        if self.inner.connections.remove(&conn).is_some() {
            self.inner
                .metrics
                .connections_open
                .fetch_sub(1, Ordering::Relaxed);
        }
        if let dashmap::Entry::Occupied(mut e) = self.inner.per_account.entry(account) {
            *e.get_mut() = e.get().saturating_sub(1);
            if *e.get() == 0 {
                e.remove();
            }
        }
    }

    pub(crate) fn room(&self, id: &RoomId) -> Option<Arc<Room>> {
        self.inner.rooms.get(id).map(|r| r.value().clone())
    }

    /// Rooms as `role` may see them: archived rooms only for staff; the lobby first.
    pub(crate) fn room_list(&self, staff: bool) -> Vec<RoomInfo> {
        let mut rooms: Vec<RoomInfo> = self
            .inner
            .rooms
            .iter()
            .map(|r| r.info())
            .filter(|i| (staff || !i.archived) && i.kind != RoomKind::Consult)
            .collect();
        rooms.sort_by(|a, b| {
            (!a.id.is_lobby(), a.archived, &a.name).cmp(&(!b.id.is_lobby(), b.archived, &b.name))
        });
        rooms
    }

    /// Tells every connection that the room list changed.
    pub(crate) fn broadcast_room_list(&self) {
        let public = SharedFrame::encode(&ServerFrame::Rooms {
            id: None,
            rooms: self.room_list(false),
        });
        let staff = SharedFrame::encode(&ServerFrame::Rooms {
            id: None,
            rooms: self.room_list(true),
        });
        for c in self.inner.connections.iter() {
            let frame = if c.role.is_staff() { &staff } else { &public };
            c.send(frame, crate::outbound::Delivery::Essential);
        }
    }

    fn spawn_tick(&self) {
        let weak = Arc::downgrade(&self.inner);
        let period = Duration::from_millis(self.inner.settings.hub.tick_ms.max(10));
        let keyframe_every = self.inner.settings.hub.lobby_keyframe_ticks.max(1);
        let watchers_every = self.inner.settings.hub.watchers_every_ticks.max(1);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut tick: u32 = 0;
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                if inner.shutting_down.load(Ordering::SeqCst) {
                    break;
                }
                tick = tick.wrapping_add(1);
                let now = inner.clock.now();
                for change in inner.opening.tick(now) {
                    inner.apply_opening_change(change);
                }
                let keyframe = tick.is_multiple_of(keyframe_every);
                let counts = tick.is_multiple_of(watchers_every);
                for room in inner.rooms.iter() {
                    let mut state = room.state();
                    if let Some(count) = counts.then(|| state.take_watcher_count()).flatten() {
                        let frame = SharedFrame::encode(&ServerFrame::Watchers {
                            room: room.id.clone(),
                            count,
                        });
                        HubMetrics::inc(&inner.metrics.frames_encoded);
                        state.send_all(&frame);
                    }
                    if !room.is_lobby() {
                        continue;
                    }
                    let moves = state.take_movements(keyframe);
                    if moves.is_empty() {
                        continue;
                    }
                    let frame = SharedFrame::encode(&ServerFrame::Positions {
                        room: room.id.clone(),
                        moves,
                        full: keyframe,
                    });
                    HubMetrics::inc(&inner.metrics.frames_encoded);
                    state.send_droppable(&frame);
                }
            }
        });
    }

    /// Opens a programme room, or brings an open one's description (phase, capacity, hosts)
    /// up to date; tells everyone when the room list changed. A room already closed stays
    /// closed. Returns whether anything changed.
    pub async fn put_programme_room(&self, info: RoomInfo) -> Result<bool, StoreError> {
        if let Some(room) = self.room(&info.id) {
            if room.info().archived || !room.set_description(&info) {
                return Ok(false);
            }
            self.broadcast_room_list();
            return Ok(true);
        }
        let record = RoomRecord {
            info: RoomInfo {
                last_seq: 0,
                archived: false,
                ..info
            },
            created_by: None,
            created_at: self.inner.clock.now(),
        };
        self.inner.store.create_room(&record).await?;
        let room = Arc::new(Room::new(record.info));
        self.inner.rooms.insert(room.id.clone(), room);
        self.broadcast_room_list();
        Ok(true)
    }

    /// Closes a room for good: archived, everyone in it told (`room_closed`, with `reason`
    /// when there is one) and taken out, the room list sent again. The lobby cannot be
    /// closed. Returns whether it was open.
    pub async fn close_room(&self, id: &RoomId, reason: &str) -> Result<bool, StoreError> {
        let Some(room) = self.room(id) else {
            return Err(StoreError::NotFound);
        };
        if room.is_lobby() || room.info().archived {
            return Ok(false);
        }
        {
            let _write = room.write.lock().await;
            self.inner.store.archive_room(id).await?;
            room.set_archived();
        }
        let closed = SharedFrame::encode(&ServerFrame::RoomClosed {
            room: id.clone(),
            reason: reason.to_owned(),
        });
        {
            let mut state = room.state();
            for c in state.connections() {
                c.send(&closed, Delivery::Essential);
                state.remove(id, c.id);
            }
        }
        self.broadcast_room_list();
        Ok(true)
    }

    /// Sends `frame` to everyone in a room.
    pub fn tell_room(&self, id: &RoomId, frame: &ServerFrame) {
        if let Some(room) = self.room(id) {
            room.broadcast(frame, Delivery::Essential);
        }
    }

    /// The rooms of `kind` that are not archived.
    pub fn open_rooms_of_kind(&self, kind: RoomKind) -> Vec<RoomInfo> {
        self.inner
            .rooms
            .iter()
            .map(|r| r.info())
            .filter(|i| i.kind == kind && !i.archived)
            .collect()
    }

    /// A room's description, if there is such a room.
    pub fn room_info(&self, id: &RoomId) -> Option<RoomInfo> {
        self.room(id).map(|r| r.info())
    }

    /// Whether the space is open at this instant, and when it closes or opens next.
    pub fn opening(&self) -> Opening {
        self.inner.opening.status(self.inner.clock.now())
    }

    /// Closes every open connection of `account` (suspension, deletion, sign-out everywhere)
    /// with `code` and `reason`. Returns how many were open.
    pub fn disconnect_account(&self, account: AccountId, code: u16, reason: &str) -> usize {
        let mut closed = 0;
        for c in self
            .inner
            .connections
            .iter()
            .filter(|c| c.account == account)
        {
            c.kill.kill(code, reason);
            closed += 1;
        }
        closed
    }

    /// How many connections `account` has open.
    pub(crate) fn connections_of(&self, account: AccountId) -> usize {
        self.inner.per_account.get(&account).map_or(0, |c| *c)
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::SeqCst)
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.inner.connections.len()
    }

    /// Traffic counters.
    pub fn metrics(&self) -> &HubMetrics {
        &self.inner.metrics
    }

    /// The store, for the server's health check.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        &self.inner.store
    }

    /// Stops accepting connections, asks every open one to close with 1001, and waits until
    /// they are gone or `deadline` has passed. Returns how many were still open then.
    /// Acknowledged messages are durable before their ack, so nothing acknowledged is lost.
    pub async fn shutdown(&self, deadline: Duration) -> usize {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        for c in self.inner.connections.iter() {
            c.kill
                .kill(close::GOING_AWAY, "server is restarting; please reconnect");
        }
        let start = tokio::time::Instant::now();
        while !self.inner.connections.is_empty() && start.elapsed() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.inner.connections.len()
    }

    /// Checks every room's bookkeeping; panics on a broken invariant. For tests.
    pub fn check_invariants(&self) {
        for room in self.inner.rooms.iter() {
            room.state().check_invariants();
        }
    }
}

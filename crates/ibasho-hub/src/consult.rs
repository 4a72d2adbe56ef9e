//! The consult desk: carries out what the router (`ibasho-consult`) decides. It owns the
//! router behind one async lock — consults are few (tens an hour), and one lock held across
//! each event's store writes and frames means every change is durable before anyone hears of
//! it, and nobody hears of two changes out of order.
//!
//! What was said lives in the consult's room (kind `consult`, id `consult-<n>`): an ordinary
//! hub room, never listed, that only the requester, their counsellor and an observing
//! supervisor may join. So the words of a consult are as durable and resumable as any other.

mod appointments;

pub use appointments::ReminderSent;

use crate::hub::Hub;
use crate::outbound::{ConnectionHandle, Delivery, SharedFrame};
use crate::room::{PrivateRoom, Room};
use crate::store::{AuditEntry, RoomRecord, StoreError, TimelineChange};
use ibasho_consult::store::AppointmentRecord;
use ibasho_consult::store::{ConsultRecord, LeftMessage, NoteRecord, StoreFailure};
use ibasho_consult::{
    AppointmentConfig, Availability, ConsultConfig, CrisisWords, Decision, End, Refused,
    RequestSpec, Router, State,
};
use ibasho_protocol::consult::{
    AppointmentId, Channel, ConsultId, ConsultSummary, CounsellorProfile, CounsellorView, ForWhom,
    Outcome, Phase, Profession, QueueEntry, Released, Topic,
};
use ibasho_protocol::{
    AccountId, ErrorCode, MessageId, Millis, Person, RequestId, Role, RoomId, RoomInfo, RoomKind,
    ServerFrame,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A refused consult event: the error frame's code and message.
#[derive(Debug, Clone)]
pub(crate) struct DeskError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
    pub(crate) retry_after_ms: Option<u64>,
}

impl DeskError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
}

impl From<StoreFailure> for DeskError {
    fn from(e: StoreFailure) -> Self {
        tracing::error!(error = %e, "consult store failure");
        DeskError::new(
            ErrorCode::Internal,
            "the server could not save this; try again",
        )
    }
}

impl From<StoreError> for DeskError {
    fn from(e: StoreError) -> Self {
        DeskError::from(StoreFailure(e.to_string()))
    }
}

fn refused(r: Refused) -> DeskError {
    match r {
        Refused::UnknownConsult => DeskError::new(
            ErrorCode::UnknownConsult,
            "no such consult, or it has ended",
        ),
        Refused::UnknownCounsellor => {
            DeskError::new(ErrorCode::NotFound, "no such counsellor on duty")
        }
        Refused::QueueClosed => DeskError::new(
            ErrorCode::Closed,
            "consultations are closed now; they open with the space",
        ),
        Refused::WrongState => DeskError::new(
            ErrorCode::ConsultState,
            "the consult is not in a state that allows this",
        ),
        Refused::AlreadyWaiting => DeskError::new(
            ErrorCode::AlreadyRequested,
            "you already have a consult request open",
        ),
    }
}

type Result<T> = std::result::Result<T, DeskError>;

/// What a request carries besides the routing: the topic, the first message.
#[derive(Clone, Debug)]
pub(crate) struct Ask {
    pub(crate) topic: Topic,
    pub(crate) for_whom: ForWhom,
    pub(crate) profession: Option<Profession>,
    pub(crate) channel: Channel,
    pub(crate) first_message: Option<String>,
}

/// The room a consult is talked in.
pub fn consult_room(id: ConsultId) -> RoomId {
    RoomId::parse(&format!("consult-{id}")).unwrap_or_else(RoomId::lobby)
}

/// The consult a room belongs to, if it is a consult room.
fn consult_of(room: &RoomId) -> Option<ConsultId> {
    room.as_str().strip_prefix("consult-")?.parse().ok()
}

#[derive(Debug)]
struct DeskState {
    router: Router,
    /// Requests that have not ended, as stored.
    records: HashMap<ConsultId, ConsultRecord>,
    /// People met, for summaries and the queue view.
    people: HashMap<AccountId, Person>,
    /// Counsellors' profiles, loaded when they connect.
    profiles: HashMap<AccountId, CounsellorProfile>,
    /// What each counsellor last chose (available or away), for a reconnect within the
    /// grace, and when their last connection closed.
    chosen: HashMap<AccountId, (Availability, Option<Millis>)>,
    /// Supervisors observing each consult.
    observers: HashMap<ConsultId, HashSet<AccountId>>,
    /// The last `consult_status` sent for each open consult, so that only changes are sent.
    last_status: HashMap<ConsultId, ServerFrame>,
    /// Set when the queue changed; the tick sends the queue view.
    queue_changed: bool,
    /// Bookings that are booked or open.
    appointments: HashMap<AppointmentId, AppointmentRecord>,
    /// What the router was last told of each counsellor's bookings (paused, next start).
    marks: HashMap<AccountId, (bool, Option<Millis>)>,
    /// The last presence sent for each consult under way (requester here, counsellor here).
    presence_sent: HashMap<ConsultId, (bool, bool)>,
}

/// The consult desk of a hub.
#[derive(Debug)]
pub(crate) struct Desk {
    state: tokio::sync::Mutex<DeskState>,
    config: ConsultConfig,
    crisis: CrisisWords,
    loaded: AtomicBool,
    appointments: AppointmentConfig,
    /// Where sent reminders are reported (the server mails them).
    reminders: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<ReminderSent>>>,
}

impl Desk {
    pub(crate) fn new(config: ConsultConfig, appointments: AppointmentConfig) -> Self {
        Self {
            state: tokio::sync::Mutex::new(DeskState {
                router: Router::new(ibasho_consult::RouterConfig {
                    pause_before_ms: AppointmentConfig::ms(appointments.queue_pause_minutes),
                    ..config.router()
                }),
                records: HashMap::new(),
                people: HashMap::new(),
                profiles: HashMap::new(),
                chosen: HashMap::new(),
                observers: HashMap::new(),
                last_status: HashMap::new(),
                queue_changed: true,
                appointments: HashMap::new(),
                marks: HashMap::new(),
                presence_sent: HashMap::new(),
            }),
            crisis: CrisisWords::new(&config.crisis_words),
            config,
            loaded: AtomicBool::new(false),
            appointments,
            reminders: std::sync::Mutex::new(None),
        }
    }
}

impl Hub {
    fn desk(&self) -> &Desk {
        &self.inner.desk
    }

    /// Puts the queue back as it was before a restart: requests that had not ended wait
    /// again (offers are forgotten); consults under way wait for their counsellor for the
    /// reconnect grace; their rooms admit the same two people.
    pub(crate) async fn load_consults(&self) -> std::result::Result<(), StoreError> {
        let store = &self.inner.store;
        let fail = |e: StoreFailure| StoreError::Backend(e.0);
        let next = store.next_consult_id().await.map_err(fail)?;
        let open = store.open_consults().await.map_err(fail)?;
        let now = self.inner.clock.now();
        let mut st = self.desk().state.lock().await;
        st.router.restore(
            now,
            next,
            open.iter().map(ConsultRecord::restored).collect(),
        );
        for r in open {
            for account in std::iter::once(r.requester).chain(r.counsellor) {
                if let Some(a) = store.account(account).await? {
                    st.people.insert(account, a.person());
                }
            }
            if let Some(c) = r.counsellor
                && let Some(room) = self.room(&consult_room(r.id))
            {
                room.state().private = Some(PrivateRoom::new([r.requester, c]));
            }
            st.records.insert(r.id, r);
        }
        self.desk().loaded.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Starts the consult tick: lapsed offers, ended graces, the queue opening and closing
    /// with the space, and the queue view for those who work here.
    pub(crate) fn spawn_consult_tick(&self) {
        let weak = Arc::downgrade(&self.inner);
        let period = Duration::from_millis(self.desk().config.tick_ms.max(10));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let hub = Hub { inner };
                if hub.is_shutting_down() {
                    break;
                }
                hub.consult_tick().await;
            }
        });
    }

    async fn consult_tick(&self) {
        let open = self.opening().open;
        let mut st = self.desk().state.lock().await;
        // Read under the lock, so that the router never sees time go back.
        let now = self.inner.clock.now();
        let mut decisions = Vec::new();
        if open != st.router.is_open() {
            decisions.extend(if open {
                st.router.open(now)
            } else {
                st.router.close(now)
            });
            st.queue_changed = true;
        }
        decisions.extend(st.router.tick(now));
        if let Err(e) = self
            .carry_out(&mut st, decisions, Released::GraceOver)
            .await
        {
            tracing::error!(error = %e.message, "consult tick");
        }
        if let Err(e) = self.appointment_tick(&mut st, now).await {
            tracing::error!(error = %e.message, "appointments tick");
        }
        self.presence_tick(&mut st);
        self.refresh(&mut st);
        if std::mem::take(&mut st.queue_changed) {
            let frame = self.queue_frame(&st, None);
            let shared = SharedFrame::encode(&frame);
            for c in self.inner.connections.iter() {
                if c.role.works_here() {
                    c.send(&shared, Delivery::Essential);
                }
            }
        }
    }

    /// Tells the requester and the counsellor of each consult under way who has its room
    /// open, when that changes.
    fn presence_tick(&self, st: &mut DeskState) {
        let mut now_sent = HashMap::new();
        for r in st.records.values() {
            let Some(State::Active { counsellor, .. }) = st.router.state(r.id) else {
                continue;
            };
            let here = self.presence(r.requester, *counsellor, r.id);
            if st.presence_sent.get(&r.id) != Some(&here) {
                let frame = ServerFrame::ConsultPresence {
                    consult: r.id,
                    requester_here: here.0,
                    counsellor_here: here.1,
                };
                self.send_to_account(r.requester, &frame);
                self.send_to_account(*counsellor, &frame);
            }
            now_sent.insert(r.id, here);
        }
        st.presence_sent = now_sent;
    }

    // ---- sending ------------------------------------------------------------------------

    /// Sends `frame` to every connection of `account`.
    pub(crate) fn send_to_account(&self, account: AccountId, frame: &ServerFrame) {
        let shared = SharedFrame::encode(frame);
        for c in self.inner.connections.iter() {
            if c.account == account {
                c.send(&shared, Delivery::Essential);
            }
        }
    }

    /// Sends a reply (`with_id`) to the connection that asked, and the same news without the
    /// request id (`without_id`) to the account's other connections (another tab must not
    /// take it for the answer to one of its own requests).
    fn reply(&self, asking: &ConnectionHandle, with_id: &ServerFrame, without_id: &ServerFrame) {
        asking.send_frame(with_id);
        let shared = SharedFrame::encode(without_id);
        for c in self.inner.connections.iter() {
            if c.account == asking.account && c.id != asking.id {
                c.send(&shared, Delivery::Essential);
            }
        }
    }

    /// A counsellor's own notes and outcome on a consult, for their `consult_assigned`.
    async fn own_notes(
        &self,
        consult: ConsultId,
        counsellor: AccountId,
    ) -> Result<(Option<String>, Option<Outcome>)> {
        let notes = self.inner.store.notes(consult).await?;
        Ok(notes
            .into_iter()
            .find(|n| n.counsellor == counsellor)
            .map_or((None, None), |n| {
                ((!n.notes.is_empty()).then_some(n.notes), n.outcome)
            }))
    }

    async fn person(&self, st: &mut DeskState, account: AccountId) -> Result<Person> {
        if let Some(p) = st.people.get(&account) {
            return Ok(p.clone());
        }
        let person = self
            .inner
            .store
            .account(account)
            .await?
            .map(|a| a.person())
            .ok_or_else(|| DeskError::new(ErrorCode::NotFound, "no such account"))?;
        st.people.insert(account, person.clone());
        Ok(person)
    }

    fn summary(st: &DeskState, r: &ConsultRecord) -> ConsultSummary {
        let requester = st.people.get(&r.requester).cloned().unwrap_or(Person {
            id: r.requester,
            handle: String::new(),
            avatar: ibasho_protocol::Avatar {
                shape: ibasho_protocol::AvatarShape::Circle,
                color: ibasho_protocol::AvatarColor::Sumi,
            },
            role: Role::Participant,
        });
        ConsultSummary {
            consult: r.id,
            requester,
            topic: r.topic,
            for_whom: r.for_whom,
            profession: r.profession,
            channel: r.channel,
            first_message: r.first_message.clone(),
            urgent: st.router.is_urgent(r.id) || r.urgent,
            requested_at: r.requested_at,
            handover: r.handover.clone(),
            appointment: Self::appointment_ref(st, r.id),
        }
    }

    /// The requester's view of an open consult.
    fn status(&self, st: &DeskState, id: ConsultId) -> Option<ServerFrame> {
        st.records.get(&id)?;
        let state = st.router.state(id)?;
        let (phase, counsellor) = match state {
            State::Waiting | State::Offered { .. } => (Phase::Waiting, None),
            State::Active {
                counsellor,
                interrupted_until,
            } => (
                if interrupted_until.is_some() {
                    Phase::Interrupted
                } else {
                    Phase::Active
                },
                Some(*counsellor),
            ),
            State::Ended(_) => return None,
        };
        let waiting = phase == Phase::Waiting;
        Some(ServerFrame::ConsultStatus {
            id: None,
            consult: id,
            phase,
            position: if waiting {
                st.router
                    .position(id)
                    .map(|p| u32::try_from(p).unwrap_or(u32::MAX))
            } else {
                None
            },
            estimated_wait_ms: if waiting {
                st.router
                    .estimated_wait(id, self.inner.clock.now())
                    .map(|ms| u64::try_from(ms).unwrap_or(0))
            } else {
                None
            },
            urgent: st.router.is_urgent(id),
            room: counsellor.map(|_| consult_room(id)),
            counsellor: counsellor.and_then(|c| st.people.get(&c).cloned()),
            end: None,
            observed: st.observers.get(&id).is_some_and(|o| !o.is_empty()),
            crisis: st.router.is_urgent(id),
            appointment: Self::appointment_ref(st, id),
        })
    }

    /// Sends each requester whose consult changed (position, estimate, phase) its status.
    fn refresh(&self, st: &mut DeskState) {
        let ids: Vec<ConsultId> = st.records.keys().copied().collect();
        for id in ids {
            let Some(frame) = self.status(st, id) else {
                continue;
            };
            if st.last_status.get(&id) != Some(&frame) {
                if let Some(r) = st.records.get(&id) {
                    self.send_to_account(r.requester, &frame);
                }
                st.last_status.insert(id, frame);
            }
        }
    }

    fn queue_frame(&self, st: &DeskState, id: Option<RequestId>) -> ServerFrame {
        let now = self.inner.clock.now();
        let mut entries = Vec::new();
        let open = st.router.open_requests();
        let by_id: HashMap<ConsultId, _> = open.iter().map(|r| (r.id, r)).collect();
        for cid in st.router.queue() {
            if let Some(r) = by_id.get(&cid) {
                entries.push(QueueEntry {
                    consult: cid,
                    urgent: r.urgent,
                    phase: Phase::Waiting,
                    since: r.queued_at,
                    counsellor: None,
                    room: None,
                });
            }
        }
        let mut active: Vec<_> = open
            .iter()
            .filter_map(|r| match r.state {
                State::Active {
                    counsellor,
                    interrupted_until,
                } => Some((r, counsellor, interrupted_until.is_some())),
                _ => None,
            })
            .collect();
        active.sort_by_key(|(r, _, _)| (r.started_at, r.id));
        for (r, counsellor, interrupted) in active {
            entries.push(QueueEntry {
                consult: r.id,
                urgent: r.urgent,
                phase: if interrupted {
                    Phase::Interrupted
                } else {
                    Phase::Active
                },
                since: r.started_at.unwrap_or(r.queued_at),
                counsellor: st.people.get(&counsellor).cloned(),
                room: Some(consult_room(r.id)),
            });
        }
        let (urgent, waiting) = st.router.waiting();
        let longest = entries
            .iter()
            .filter(|e| e.phase == Phase::Waiting)
            .map(|e| e.since)
            .min()
            .map(|since| u64::try_from(now - since).unwrap_or(0));
        let mut counsellors: Vec<CounsellorView> = st
            .router
            .counsellors()
            .into_iter()
            .filter_map(|c| {
                Some(CounsellorView {
                    person: st.people.get(&c.id)?.clone(),
                    professions: c.professions,
                    capacity: c.capacity,
                    availability: c.availability,
                    active: c.active,
                })
            })
            .collect();
        counsellors.sort_by(|a, b| a.person.handle.cmp(&b.person.handle));
        ServerFrame::ConsultQueue {
            id,
            open: st.router.is_open(),
            waiting: u32::try_from(waiting).unwrap_or(u32::MAX),
            urgent: u32::try_from(urgent).unwrap_or(u32::MAX),
            longest_wait_ms: longest,
            entries,
            counsellors,
        }
    }

    // ---- carrying out the router's decisions ----------------------------------------------

    async fn save(&self, st: &DeskState, id: ConsultId) -> Result<()> {
        if let Some(r) = st.records.get(&id) {
            self.inner.store.save_consult(r).await?;
        }
        Ok(())
    }

    /// Carries out decisions in order: every change is stored before anyone is told.
    /// `released` says why a `Requeued` counsellor lost their consult.
    async fn carry_out(
        &self,
        st: &mut DeskState,
        decisions: Vec<Decision>,
        released: Released,
    ) -> Result<()> {
        let now = self.inner.clock.now();
        // Every decision is carried out even if one fails (a counsellor must not be left
        // marked as offered without having been told); the first failure is returned.
        let mut first_error = None;
        for d in decisions {
            if let Err(e) = self.carry_out_one(st, d, released, now).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn carry_out_one(
        &self,
        st: &mut DeskState,
        d: Decision,
        released: Released,
        now: Millis,
    ) -> Result<()> {
        st.queue_changed = true;
        match d {
            Decision::Offer {
                consult,
                counsellor,
                until,
            } => {
                if let Some(r) = st.records.get(&consult) {
                    let frame = ServerFrame::ConsultOffer {
                        consult: Self::summary(st, r),
                        until,
                    };
                    self.send_to_account(counsellor, &frame);
                }
            }
            Decision::Withdraw {
                consult,
                counsellor,
            } => {
                self.send_to_account(counsellor, &ServerFrame::ConsultWithdrawn { consult });
            }
            Decision::Start {
                consult,
                counsellor,
            } => {
                self.start_consult(st, consult, counsellor, now).await?;
            }
            Decision::Requeued {
                consult,
                counsellor,
            } => {
                if let Some(r) = st.records.get_mut(&consult) {
                    r.counsellor = None;
                    r.front = true;
                }
                // Out of the room first, whatever the store says: they no longer have it.
                if let Some(room) = self.room(&consult_room(consult)) {
                    let mut state = room.state();
                    if let Some(p) = &mut state.private {
                        p.members.remove(&counsellor);
                    }
                    for c in state.connections_of(counsellor) {
                        state.remove(&room.id, c.id);
                    }
                }
                self.save(st, consult).await?;
                self.send_to_account(
                    counsellor,
                    &ServerFrame::ConsultReleased {
                        consult,
                        why: released,
                    },
                );
            }
            Decision::Ended { consult, end } => {
                self.end_consult(st, consult, end, now).await?;
            }
            Decision::Urgent { consult } => {
                if let Some(r) = st.records.get_mut(&consult) {
                    r.urgent = true;
                }
                self.save(st, consult).await?;
                // The counsellor who has it sees the change.
                if let (Some(State::Active { counsellor, .. }), Some(r)) =
                    (st.router.state(consult), st.records.get(&consult))
                {
                    let counsellor = *counsellor;
                    let summary = Self::summary(st, r);
                    let (notes, outcome) = self.own_notes(consult, counsellor).await?;
                    let frame = ServerFrame::ConsultAssigned {
                        consult: summary,
                        room: consult_room(consult),
                        resumed: true,
                        observing: false,
                        notes,
                        outcome,
                    };
                    self.send_to_account(counsellor, &frame);
                }
            }
        }
        Ok(())
    }

    async fn start_consult(
        &self,
        st: &mut DeskState,
        consult: ConsultId,
        counsellor: AccountId,
        now: Millis,
    ) -> Result<()> {
        self.person(st, counsellor).await?;
        let Some(r) = st.records.get_mut(&consult) else {
            return Ok(());
        };
        let resumed = r.started_at.is_some();
        r.counsellor = Some(counsellor);
        r.started_at.get_or_insert(now);
        r.front = false;
        r.only = None;
        let requester = r.requester;
        let first = if resumed {
            None
        } else {
            r.first_message.clone()
        };
        self.save(st, consult).await?;
        let room = self
            .consult_room_for(consult, requester, counsellor)
            .await?;
        if let Some(body) = first {
            self.append_as(&room, requester, body).await?;
        }
        // A counsellor may write notes on every consult they had, even after handing it on.
        let store = &self.inner.store;
        if !store
            .notes(consult)
            .await?
            .iter()
            .any(|n| n.counsellor == counsellor)
        {
            store
                .save_notes(&NoteRecord {
                    consult,
                    counsellor,
                    notes: String::new(),
                    outcome: None,
                    updated_at: now,
                })
                .await?;
        }
        // A supervisor who observed and now takes it over is no longer an observer.
        if st
            .observers
            .get_mut(&consult)
            .is_some_and(|o| o.remove(&counsellor))
            && let Some(p) = &mut room.state().private
        {
            p.observers.remove(&counsellor);
        }
        let (notes, outcome) = self.own_notes(consult, counsellor).await?;
        if let Some(r) = st.records.get(&consult) {
            let frame = ServerFrame::ConsultAssigned {
                consult: Self::summary(st, r),
                room: room.id.clone(),
                resumed,
                observing: false,
                notes,
                outcome,
            };
            self.send_to_account(counsellor, &frame);
        }
        Ok(())
    }

    /// The consult's room, made on its first start; admits the requester and `counsellor`.
    async fn consult_room_for(
        &self,
        consult: ConsultId,
        requester: AccountId,
        counsellor: AccountId,
    ) -> Result<Arc<Room>> {
        let id = consult_room(consult);
        let room = match self.room(&id) {
            Some(room) => room,
            None => {
                let record = RoomRecord {
                    info: RoomInfo::new(
                        id.clone(),
                        RoomKind::Consult,
                        format!("consult {consult}"),
                        String::new(),
                        8,
                    ),
                    created_by: None,
                    created_at: self.inner.clock.now(),
                };
                self.inner.store.create_room(&record).await?;
                let room = Arc::new(Room::new(record.info));
                self.inner.rooms.insert(id, room.clone());
                room
            }
        };
        {
            let mut state = room.state();
            let private = state.private.get_or_insert_with(|| PrivateRoom::new([]));
            private.members.insert(requester);
            private.members.insert(counsellor);
        }
        Ok(room)
    }

    /// Stores a message by `author` in `room` and sends it to whoever is inside.
    async fn append_as(&self, room: &Room, author: AccountId, body: String) -> Result<()> {
        let _write = room.write.lock().await;
        let change = TimelineChange::Post {
            message_id: MessageId::new_v7(),
            author,
            body,
            client_msg_id: None,
        };
        let appended = self
            .inner
            .store
            .append_event(&room.id, change, self.inner.clock.now())
            .await?;
        if let crate::store::Appended::New(event) = appended {
            room.set_last_seq(event.seq);
            room.broadcast(
                &ServerFrame::Event {
                    room: room.id.clone(),
                    seq: event.seq,
                    at: event.at,
                    event: event.event,
                },
                Delivery::Essential,
            );
        }
        Ok(())
    }

    async fn end_consult(
        &self,
        st: &mut DeskState,
        consult: ConsultId,
        end: End,
        now: Millis,
    ) -> Result<()> {
        let Some(mut r) = st.records.remove(&consult) else {
            return Ok(());
        };
        r.end = Some(end);
        r.ended_at = Some(now);
        self.inner.store.save_consult(&r).await?;
        st.last_status.remove(&consult);
        let observers = st.observers.remove(&consult).unwrap_or_default();
        let room_id = consult_room(consult);
        if self.room(&room_id).is_some() {
            self.close_room(&room_id, "").await?;
            // It can never be entered again (as after a restart): no need to hold it.
            self.inner.rooms.remove(&room_id);
        }
        if let Some(c) = r.counsellor {
            self.send_to_account(
                c,
                &ServerFrame::ConsultReleased {
                    consult,
                    why: Released::Ended,
                },
            );
        }
        for o in observers {
            self.send_to_account(
                o,
                &ServerFrame::ConsultReleased {
                    consult,
                    why: Released::Ended,
                },
            );
        }
        self.send_to_account(
            r.requester,
            &ServerFrame::ConsultStatus {
                id: None,
                consult,
                phase: Phase::Ended,
                position: None,
                estimated_wait_ms: None,
                urgent: r.urgent,
                room: None,
                counsellor: None,
                end: Some(end),
                observed: false,
                crisis: end == End::Closed,
                appointment: None,
            },
        );
        if let Some(appointment) = r.appointment {
            self.consult_of_appointment_ended(st, consult, appointment, end)
                .await;
        }
        Ok(())
    }

    // ---- events from sessions -----------------------------------------------------------

    /// A participant or family member asks for a consult.
    pub(crate) async fn consult_request(
        &self,
        me: &Person,
        conn: &ConnectionHandle,
        id: Option<RequestId>,
        ask: Ask,
    ) -> Result<()> {
        if me.role.works_here() {
            return Err(DeskError::new(
                ErrorCode::NotAllowed,
                "counsellors, staff and admins do not queue for consults",
            ));
        }
        let urgent = ask
            .first_message
            .as_deref()
            .is_some_and(|m| self.desk().crisis.matches(m));
        let mut st = self.desk().state.lock().await;
        let now = self.inner.clock.now();
        let open = self.opening().open;
        if open && !st.router.is_open() {
            // The space opened since the last consult tick.
            let decisions = st.router.open(now);
            self.carry_out(&mut st, decisions, Released::GraceOver)
                .await?;
        }
        if !open {
            let mut e = refused(Refused::QueueClosed);
            if let Some(next) = self.opening().next {
                e.retry_after_ms = Some(u64::try_from(next.start - now).unwrap_or(0));
            }
            return Err(e);
        }
        st.people.insert(me.id, me.clone());
        st.queue_changed = true;
        let (consult, decisions) = st
            .router
            .submit(
                now,
                RequestSpec {
                    requester: me.id,
                    profession: ask.profession,
                    urgent,
                },
            )
            .map_err(refused)?;
        let record = ConsultRecord {
            id: consult,
            requester: me.id,
            topic: ask.topic,
            for_whom: ask.for_whom,
            profession: ask.profession,
            channel: ask.channel,
            first_message: ask.first_message,
            urgent,
            requested_at: now,
            queued_at: now,
            front: false,
            counsellor: None,
            started_at: None,
            only: None,
            handover: None,
            end: None,
            ended_at: None,
            appointment: None,
        };
        if let Err(e) = self.inner.store.save_consult(&record).await {
            // Not stored: take it back out, so that nothing is promised that a restart loses.
            let _ = st.router.cancel(now, consult);
            return Err(e.into());
        }
        st.records.insert(consult, record);
        // The answer first, then what follows (an offer; a start).
        if let Some(frame) = self.status(&st, consult) {
            let mut answer = frame.clone();
            if let ServerFrame::ConsultStatus { id: reply, .. } = &mut answer {
                *reply = id;
            }
            self.reply(conn, &answer, &frame);
            st.last_status.insert(consult, frame);
        }
        self.carry_out(&mut st, decisions, Released::GraceOver)
            .await?;
        self.refresh(&mut st);
        Ok(())
    }

    /// The requester withdraws (or leaves a consult under way).
    pub(crate) async fn consult_cancel(&self, me: &Person, consult: ConsultId) -> Result<()> {
        let mut st = self.desk().state.lock().await;
        Self::own_request(&st, me, consult)?;
        let decisions = st
            .router
            .cancel(self.inner.clock.now(), consult)
            .map_err(refused)?;
        self.carry_out(&mut st, decisions, Released::Ended).await?;
        self.refresh(&mut st);
        Ok(())
    }

    /// An account was suspended, deleted or given another role: a consult request it has
    /// open ends (as withdrawn), so that no counsellor is offered someone who is gone.
    pub async fn consults_account_gone(&self, account: AccountId) {
        let mut st = self.desk().state.lock().await;
        let Some(consult) = st.router.request_of(account) else {
            return;
        };
        let now = self.inner.clock.now();
        let result = match st.router.cancel(now, consult) {
            Ok(decisions) => self.carry_out(&mut st, decisions, Released::Ended).await,
            Err(r) => Err(refused(r)),
        };
        if let Err(e) = result {
            tracing::error!(error = %e.message, "ending the consult of an account that is gone");
        }
        self.refresh(&mut st);
    }

    fn own_request(st: &DeskState, me: &Person, consult: ConsultId) -> Result<()> {
        match st.records.get(&consult) {
            Some(r) if r.requester == me.id => Ok(()),
            _ => Err(refused(Refused::UnknownConsult)),
        }
    }

    /// No one could come: the requester leaves a message for the next opening.
    pub(crate) async fn consult_leave_message(
        &self,
        me: &Person,
        consult: ConsultId,
        body: String,
    ) -> Result<()> {
        let mut st = self.desk().state.lock().await;
        Self::own_request(&st, me, consult)?;
        if !matches!(
            st.router.state(consult),
            Some(State::Waiting | State::Offered { .. })
        ) {
            return Err(refused(Refused::WrongState));
        }
        let now = self.inner.clock.now();
        let r = &st.records[&consult];
        self.inner
            .store
            .leave_message(&LeftMessage {
                consult,
                requester: me.id,
                topic: r.topic,
                for_whom: r.for_whom,
                body,
                left_at: now,
            })
            .await?;
        let decisions = st.router.leave_message(now, consult).map_err(refused)?;
        self.carry_out(&mut st, decisions, Released::Ended).await?;
        self.refresh(&mut st);
        Ok(())
    }

    async fn profile(&self, st: &mut DeskState, me: AccountId) -> Result<CounsellorProfile> {
        if let Some(p) = st.profiles.get(&me) {
            return Ok(p.clone());
        }
        let p = self
            .inner
            .store
            .counsellor_profile(me)
            .await?
            .unwrap_or_default();
        st.profiles.insert(me, p.clone());
        Ok(p)
    }

    /// Staff changed a counsellor's profile: it applies at once.
    pub async fn counsellor_profile_changed(&self, account: AccountId, profile: CounsellorProfile) {
        let mut st = self.desk().state.lock().await;
        st.profiles.insert(account, profile.clone());
        if let Some(c) = st.router.counsellor(account) {
            let now = self.inner.clock.now();
            let decisions = st.router.set_counsellor(
                now,
                account,
                profile.professions.clone(),
                profile.capacity,
                c.availability,
            );
            if let Err(e) = self
                .carry_out(&mut st, decisions, Released::GraceOver)
                .await
            {
                tracing::error!(error = %e.message, "applying a counsellor profile");
            }
            self.refresh(&mut st);
            self.send_to_account(
                account,
                &ServerFrame::Counsellor {
                    id: None,
                    profile,
                    availability: c.availability,
                },
            );
        }
    }

    /// A counsellor says whether they take consults.
    pub(crate) async fn counsellor_status(
        &self,
        me: &Person,
        conn: &ConnectionHandle,
        id: Option<RequestId>,
        availability: Availability,
    ) -> Result<()> {
        if me.role != Role::Counsellor {
            return Err(DeskError::new(
                ErrorCode::NotAllowed,
                "only counsellors take consults",
            ));
        }
        if availability == Availability::Offline {
            return Err(DeskError::new(
                ErrorCode::InvalidInput,
                "choose available or away; offline is what closing the connection means",
            ));
        }
        let mut st = self.desk().state.lock().await;
        st.people.insert(me.id, me.clone());
        let profile = self.profile(&mut st, me.id).await?;
        st.chosen.insert(me.id, (availability, None));
        let decisions = st.router.set_counsellor(
            self.inner.clock.now(),
            me.id,
            profile.professions.clone(),
            profile.capacity,
            availability,
        );
        st.queue_changed = true;
        let news = ServerFrame::Counsellor {
            id: None,
            profile: profile.clone(),
            availability,
        };
        let answer = ServerFrame::Counsellor {
            id,
            profile,
            availability,
        };
        self.reply(conn, &answer, &news);
        self.carry_out(&mut st, decisions, Released::GraceOver)
            .await?;
        self.refresh(&mut st);
        Ok(())
    }

    /// After `welcome`: a requester's open consult; a counsellor's state, consults and
    /// offer (and, if they had dropped, their consults go on); the queue for those who work
    /// here.
    pub(crate) async fn consult_welcome(
        &self,
        me: &Person,
        conn: &crate::outbound::ConnectionHandle,
    ) {
        let mut st = self.desk().state.lock().await;
        let result: Result<()> = async {
            if !me.role.works_here() {
                if let Some(consult) = st.router.request_of(me.id)
                    && let Some(frame) = self.status(&st, consult)
                {
                    conn.send_frame(&frame);
                }
                return Ok(());
            }
            if me.role == Role::Counsellor {
                st.people.insert(me.id, me.clone());
                let profile = self.profile(&mut st, me.id).await?;
                let known = st.router.counsellor(me.id);
                let was = known.as_ref().map(|c| c.availability);
                let availability = match was {
                    Some(a) if a != Availability::Offline => a,
                    // Back within the grace: as they were. Later (or after a restart): away,
                    // until they say otherwise.
                    _ => match st.chosen.get(&me.id) {
                        Some((a, None)) => *a,
                        Some((a, Some(left)))
                            if self.inner.clock.now() - left
                                <= self.desk().config.router().reconnect_grace_ms =>
                        {
                            *a
                        }
                        _ => Availability::Away,
                    },
                };
                if was != Some(availability) {
                    let decisions = st.router.set_counsellor(
                        self.inner.clock.now(),
                        me.id,
                        profile.professions.clone(),
                        profile.capacity,
                        availability,
                    );
                    self.carry_out(&mut st, decisions, Released::GraceOver)
                        .await?;
                    st.queue_changed = true;
                }
                conn.send_frame(&ServerFrame::Counsellor {
                    id: None,
                    profile,
                    availability,
                });
                for r in st.router.open_requests() {
                    match r.state {
                        State::Active { counsellor, .. } if counsellor == me.id => {
                            let (notes, outcome) = self.own_notes(r.id, me.id).await?;
                            if let Some(rec) = st.records.get(&r.id) {
                                conn.send_frame(&ServerFrame::ConsultAssigned {
                                    consult: Self::summary(&st, rec),
                                    room: consult_room(r.id),
                                    resumed: true,
                                    observing: false,
                                    notes,
                                    outcome,
                                });
                            }
                        }
                        State::Offered { counsellor, until } if counsellor == me.id => {
                            if let Some(rec) = st.records.get(&r.id) {
                                conn.send_frame(&ServerFrame::ConsultOffer {
                                    consult: Self::summary(&st, rec),
                                    until,
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
            conn.send_frame(&self.queue_frame(&st, None));
            self.refresh(&mut st);
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e.message, "consult state after welcome");
        }
    }

    /// A connection closed. If it was a counsellor's last, they go offline: their offer moves
    /// on and their consults wait for them for the grace.
    pub(crate) async fn consult_connection_closed(&self, account: AccountId, role: Role) {
        if !role.works_here() {
            return;
        }
        let mut st = self.desk().state.lock().await;
        if self.connections_of(account) > 0 {
            return;
        }
        // A supervisor who is no longer connected is no longer watching: both sides are told.
        let watching: Vec<ConsultId> = st
            .observers
            .iter()
            .filter(|(_, o)| o.contains(&account))
            .map(|(c, _)| *c)
            .collect();
        if let Some(me) = st.people.get(&account).cloned() {
            for consult in watching {
                let _ = self.stop_observing(&mut st, &me, consult);
            }
        }
        if role != Role::Counsellor {
            return;
        }
        let now = self.inner.clock.now();
        if let Some(chosen) = st.chosen.get_mut(&account) {
            chosen.1 = Some(now);
        }
        let decisions = st.router.counsellor_disconnected(now, account);
        st.queue_changed = true;
        if let Err(e) = self
            .carry_out(&mut st, decisions, Released::GraceOver)
            .await
        {
            tracing::error!(error = %e.message, "counsellor disconnect");
        }
        self.refresh(&mut st);
    }

    fn counsellor_gate(me: &Person) -> Result<()> {
        if me.role == Role::Counsellor {
            Ok(())
        } else {
            Err(DeskError::new(
                ErrorCode::NotAllowed,
                "only counsellors take consults",
            ))
        }
    }

    /// A counsellor accepts or declines their offer.
    pub(crate) async fn consult_answer(
        &self,
        me: &Person,
        consult: ConsultId,
        accept: bool,
    ) -> Result<()> {
        Self::counsellor_gate(me)?;
        let mut st = self.desk().state.lock().await;
        let now = self.inner.clock.now();
        let decisions = if accept {
            st.router.accept(now, consult, me.id)
        } else {
            st.router.decline(now, consult, me.id)
        }
        .map_err(refused)?;
        self.carry_out(&mut st, decisions, Released::GraceOver)
            .await?;
        self.refresh(&mut st);
        Ok(())
    }

    /// Either side ends a consult (a requester's end of a request still waiting withdraws it).
    pub(crate) async fn consult_end(&self, me: &Person, consult: ConsultId) -> Result<()> {
        let mut st = self.desk().state.lock().await;
        let now = self.inner.clock.now();
        let Some(r) = st.records.get(&consult) else {
            return Err(refused(Refused::UnknownConsult));
        };
        let active_with = match st.router.state(consult) {
            Some(State::Active { counsellor, .. }) => Some(*counsellor),
            _ => None,
        };
        let decisions = if r.requester == me.id {
            if active_with.is_some() {
                st.router.end(now, consult)
            } else {
                st.router.cancel(now, consult)
            }
        } else if active_with == Some(me.id) {
            st.router.end(now, consult)
        } else {
            return Err(refused(Refused::UnknownConsult));
        }
        .map_err(refused)?;
        self.carry_out(&mut st, decisions, Released::Ended).await?;
        self.refresh(&mut st);
        Ok(())
    }

    /// A counsellor's private wrap-up.
    pub(crate) async fn consult_notes(
        &self,
        me: &Person,
        consult: ConsultId,
        notes: String,
        outcome: Option<Outcome>,
    ) -> Result<()> {
        Self::counsellor_gate(me)?;
        self.check_text(&notes, false)?;
        let store = &self.inner.store;
        let had_it = store
            .notes(consult)
            .await?
            .iter()
            .any(|n| n.counsellor == me.id);
        if !had_it {
            return Err(refused(Refused::UnknownConsult));
        }
        store
            .save_notes(&NoteRecord {
                consult,
                counsellor: me.id,
                notes,
                outcome,
                updated_at: self.inner.clock.now(),
            })
            .await?;
        Ok(())
    }

    fn check_text(&self, text: &str, required: bool) -> Result<()> {
        let max = self.desk().config.notes_max_chars;
        if text.chars().count() > max {
            return Err(DeskError::new(
                ErrorCode::TooLong,
                format!("at most {max} characters"),
            ));
        }
        if required && text.trim().is_empty() {
            return Err(DeskError::new(
                ErrorCode::InvalidInput,
                "write a few words for whoever takes it",
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(DeskError::new(
                ErrorCode::InvalidInput,
                "control characters are not allowed",
            ));
        }
        Ok(())
    }

    /// The counsellor hands a consult on.
    pub(crate) async fn consult_transfer(
        &self,
        me: &Person,
        consult: ConsultId,
        to: Option<AccountId>,
        profession: Option<Profession>,
        note: String,
    ) -> Result<()> {
        Self::counsellor_gate(me)?;
        self.check_text(&note, true)?;
        if to == Some(me.id) {
            return Err(DeskError::new(
                ErrorCode::InvalidInput,
                "hand it on to someone else",
            ));
        }
        let mut st = self.desk().state.lock().await;
        match st.router.state(consult) {
            Some(State::Active { counsellor, .. }) if *counsellor == me.id => {}
            _ => return Err(refused(Refused::UnknownConsult)),
        }
        if let Some(to) = to {
            self.person(&mut st, to).await?;
        }
        let now = self.inner.clock.now();
        let decisions = st
            .router
            .transfer(now, consult, to, profession)
            .map_err(refused)?;
        if let Some(r) = st.records.get_mut(&consult) {
            r.handover = Some(note);
            r.profession = profession;
            r.only = to;
        }
        self.save(&st, consult).await?;
        self.carry_out(&mut st, decisions, Released::Transferred)
            .await?;
        self.refresh(&mut st);
        Ok(())
    }

    /// A counsellor or staff member marks a consult urgent.
    pub(crate) async fn consult_flag(&self, me: &Person, consult: ConsultId) -> Result<()> {
        if !me.role.works_here() {
            return Err(DeskError::new(
                ErrorCode::NotAllowed,
                "only counsellors and staff mark a consult urgent",
            ));
        }
        let mut st = self.desk().state.lock().await;
        let requester = st
            .records
            .get(&consult)
            .map(|r| r.requester)
            .ok_or_else(|| refused(Refused::UnknownConsult))?;
        let decisions = st
            .router
            .flag_urgent(self.inner.clock.now(), consult)
            .map_err(refused)?;
        if !decisions.is_empty() {
            self.audit_consult(me, "consult_flag", consult, requester)
                .await?;
        }
        self.carry_out(&mut st, decisions, Released::GraceOver)
            .await?;
        self.refresh(&mut st);
        Ok(())
    }

    /// What the requester wrote in their consult room: a crisis word makes it urgent.
    pub(crate) async fn consult_posted(&self, me: &Person, room: &RoomId, body: &str) {
        let Some(consult) = consult_of(room) else {
            return;
        };
        if !self.desk().crisis.matches(body) {
            return;
        }
        let mut st = self.desk().state.lock().await;
        if st
            .records
            .get(&consult)
            .is_none_or(|r| r.requester != me.id)
        {
            return;
        }
        let Ok(decisions) = st.router.flag_urgent(self.inner.clock.now(), consult) else {
            return;
        };
        if let Err(e) = self
            .carry_out(&mut st, decisions, Released::GraceOver)
            .await
        {
            tracing::error!(error = %e.message, "marking a consult urgent");
        }
        self.refresh(&mut st);
    }

    async fn audit_consult(
        &self,
        me: &Person,
        action: &str,
        consult: ConsultId,
        requester: AccountId,
    ) -> Result<()> {
        self.inner
            .store
            .append_audit(&AuditEntry {
                at: self.inner.clock.now(),
                actor: me.id,
                action: action.to_owned(),
                room: Some(consult_room(consult)),
                target_account: Some(requester),
                target_message: None,
                reason: String::new(),
                detail: serde_json::json!({ "consult": consult }),
            })
            .await?;
        tracing::info!(actor = %me.id, action, consult, "audited consult action");
        Ok(())
    }

    /// A supervisor (or an admin) observes a consult under way. Audited; both sides told.
    pub(crate) async fn consult_observe(
        &self,
        me: &Person,
        consult: ConsultId,
        on: bool,
    ) -> Result<()> {
        let mut st = self.desk().state.lock().await;
        if !on {
            return self.stop_observing(&mut st, me, consult);
        }
        let allowed = match me.role {
            Role::Admin => true,
            Role::Counsellor => self.profile(&mut st, me.id).await?.supervisor,
            _ => false,
        };
        if !allowed {
            return Err(DeskError::new(
                ErrorCode::NotAllowed,
                "only supervisors and admins observe consults",
            ));
        }
        let counsellor = match st.router.state(consult) {
            Some(State::Active { counsellor, .. }) => *counsellor,
            Some(_) => return Err(refused(Refused::WrongState)),
            None => return Err(refused(Refused::UnknownConsult)),
        };
        if counsellor == me.id {
            return Err(DeskError::new(
                ErrorCode::InvalidInput,
                "this consult is yours already",
            ));
        }
        let Some(record) = st.records.get(&consult) else {
            return Err(refused(Refused::UnknownConsult));
        };
        let requester = record.requester;
        self.audit_consult(me, "consult_observe", consult, requester)
            .await?;
        st.people.insert(me.id, me.clone());
        st.observers.entry(consult).or_default().insert(me.id);
        if let Some(room) = self.room(&consult_room(consult)) {
            let mut state = room.state();
            let private = state.private.get_or_insert_with(|| PrivateRoom::new([]));
            private.observers.insert(me.id);
        }
        let summary = Self::summary(&st, &st.records[&consult]);
        self.send_to_account(
            me.id,
            &ServerFrame::ConsultAssigned {
                consult: summary,
                room: consult_room(consult),
                resumed: true,
                observing: true,
                notes: None,
                outcome: None,
            },
        );
        let told = ServerFrame::ConsultObserved {
            consult,
            supervisor: me.clone(),
            on: true,
        };
        self.send_to_account(requester, &told);
        self.send_to_account(counsellor, &told);
        self.refresh(&mut st);
        Ok(())
    }

    /// A supervisor stops observing: out of the room, both sides told.
    fn stop_observing(&self, st: &mut DeskState, me: &Person, consult: ConsultId) -> Result<()> {
        if !st
            .observers
            .get_mut(&consult)
            .is_some_and(|o| o.remove(&me.id))
        {
            return Err(refused(Refused::WrongState));
        }
        if let Some(room) = self.room(&consult_room(consult)) {
            let mut state = room.state();
            if let Some(p) = &mut state.private {
                p.observers.remove(&me.id);
            }
            for c in state.connections_of(me.id) {
                state.remove(&room.id, c.id);
            }
        }
        let told = ServerFrame::ConsultObserved {
            consult,
            supervisor: me.clone(),
            on: false,
        };
        if let Some(r) = st.records.get(&consult) {
            self.send_to_account(r.requester, &told);
        }
        if let Some(State::Active { counsellor, .. }) = st.router.state(consult) {
            self.send_to_account(*counsellor, &told);
        }
        self.refresh(st);
        Ok(())
    }

    /// The queue view, for those who work here.
    pub(crate) async fn consult_queue(
        &self,
        me: &Person,
        conn: &ConnectionHandle,
        id: Option<RequestId>,
    ) -> Result<()> {
        if !me.role.works_here() {
            return Err(DeskError::new(
                ErrorCode::NotAllowed,
                "the queue is for counsellors and staff",
            ));
        }
        let st = self.desk().state.lock().await;
        conn.send_frame(&self.queue_frame(&st, id));
        Ok(())
    }

    /// Whether `account` may join the consult room `room` and how: `Some(true)` as a member
    /// who writes, `Some(false)` only to watch (an observing supervisor); `None`: not at all.
    pub(crate) fn consult_admission(room: &Room, account: AccountId) -> Option<bool> {
        let state = room.state();
        let private = state.private.as_ref()?;
        if private.members.contains(&account) {
            Some(true)
        } else if private.observers.contains(&account) {
            Some(false)
        } else {
            None
        }
    }

    /// The retention purge: deletes what was said in consults that ended long enough ago.
    pub async fn purge_consults(&self) -> std::result::Result<u64, StoreFailure> {
        let days = i64::from(self.desk().config.transcript_retention_days);
        let cutoff = self.inner.clock.now() - days * 86_400_000;
        self.inner.store.purge_consults(cutoff).await
    }
}

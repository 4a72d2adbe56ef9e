//! The router: who waits, who is offered to whom, who talks with whom. Every method takes the
//! time it happens at and returns the [`Decision`]s for the server to carry out, in order.
//! Nothing here reads a clock or touches I/O, so a test can play any sequence of events.

use ibasho_protocol::{AccountId, Millis};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

pub use ibasho_protocol::consult::{Availability, ConsultId, Profession};

/// How a request ended. Every request ends exactly once.
pub use ibasho_protocol::consult::ConsultEnd as End;

/// How many ended requests the router remembers (a late answer about one older than that is
/// refused as unknown, which is what it is).
pub const ENDED_KEPT: usize = 10_000;

/// Settings of the router.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterConfig {
    /// How long an offer waits for an answer before it moves on.
    pub offer_timeout_ms: Millis,
    /// How long a counsellor who dropped mid-consult has to come back.
    pub reconnect_grace_ms: Millis,
    /// After this long waiting, a request's preferred profession is widened to any, so that
    /// a preference never leaves someone waiting while a counsellor is free.
    pub widen_after_ms: Millis,
    /// How many recent consults the estimated wait is taken from.
    pub recent_consults: usize,
    /// A counsellor gets no new offers from this long before their next booked consult.
    pub pause_before_ms: Millis,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            offer_timeout_ms: 60_000,
            reconnect_grace_ms: 120_000,
            widen_after_ms: 600_000,
            recent_consults: 20,
            pause_before_ms: 0,
        }
    }
}

/// What a requester asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSpec {
    /// Who asks.
    pub requester: AccountId,
    /// The profession they would like; `None`: anyone.
    pub profession: Option<Profession>,
    /// Urgent from the start (a crisis word in the first message).
    pub urgent: bool,
}

/// Where a request stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// In the queue.
    Waiting,
    /// Offered to a counsellor until `until`.
    Offered {
        /// To whom.
        counsellor: AccountId,
        /// When the offer lapses.
        until: Millis,
    },
    /// A counsellor and the requester are talking.
    Active {
        /// The counsellor.
        counsellor: AccountId,
        /// Set while the counsellor is disconnected: when their grace ends.
        interrupted_until: Option<Millis>,
    },
    /// Over, for good.
    Ended(End),
}

/// Something the server must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Offer the request to the counsellor, with a countdown to `until`.
    Offer {
        /// The request.
        consult: ConsultId,
        /// To whom.
        counsellor: AccountId,
        /// When it lapses.
        until: Millis,
    },
    /// The offer is no longer open (answered elsewhere, lapsed, withdrawn).
    Withdraw {
        /// The request.
        consult: ConsultId,
        /// From whom.
        counsellor: AccountId,
    },
    /// The consult starts: open its private room for these two.
    Start {
        /// The request.
        consult: ConsultId,
        /// The counsellor.
        counsellor: AccountId,
    },
    /// The counsellor left the consult (grace over, or a transfer); it waits again, at the
    /// front, with its transcript.
    Requeued {
        /// The request.
        consult: ConsultId,
        /// Who left.
        counsellor: AccountId,
    },
    /// The request ended.
    Ended {
        /// The request.
        consult: ConsultId,
        /// How.
        end: End,
    },
    /// The request became urgent.
    Urgent {
        /// The request.
        consult: ConsultId,
    },
}

/// Why an event was refused. Nothing changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No such request, or it has ended.
    UnknownConsult,
    /// No such counsellor.
    UnknownCounsellor,
    /// The queue is closed (outside opening hours).
    QueueClosed,
    /// The request is not in a state that allows this.
    WrongState,
    /// The requester already has a request that has not ended.
    AlreadyWaiting,
}

impl Counsellor {
    /// Someone the router has not seen: one seat, offline, idle since `now`.
    fn new(now: Millis) -> Self {
        Self {
            professions: Vec::new(),
            capacity: 1,
            availability: Availability::Offline,
            active: 0,
            offered: None,
            idle_since: now,
            paused: false,
            next_booking: None,
        }
    }
}

#[derive(Clone, Debug)]
struct Counsellor {
    professions: Vec<Profession>,
    capacity: u32,
    availability: Availability,
    active: u32,
    offered: Option<ConsultId>,
    /// Since when they have had nothing to do (for "idle the longest").
    idle_since: Millis,
    /// A booked consult is near or under way: no drop-in offers.
    paused: bool,
    /// When their next booked consult starts (for the estimated waits).
    next_booking: Option<Millis>,
}

/// Where a request sorts in the queue: urgent before normal; within a class, consults that
/// were interrupted or transferred before fresh ones; then by arrival.
type Key = (u8, u8, Millis, ConsultId);

#[derive(Clone, Debug)]
struct Request {
    spec: RequestSpec,
    state: State,
    queued_at: Millis,
    /// Since when its preference (a profession, one counsellor) has stood: set on arrival and
    /// on every hand-on, so that a transfer's choice is not widened at once.
    preferred_since: Millis,
    front: bool,
    /// Counsellors who declined it or let it lapse, or handed it on.
    passed_by: HashSet<AccountId>,
    /// A transfer to one counsellor in particular.
    only: Option<AccountId>,
    started_at: Option<Millis>,
}

impl Request {
    fn key(&self, id: ConsultId) -> Key {
        (
            u8::from(!self.spec.urgent),
            u8::from(!self.front),
            self.queued_at,
            id,
        )
    }
}

/// A request that has not ended, as [`Router::open_requests`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestView {
    /// The request.
    pub id: ConsultId,
    /// Who asked.
    pub requester: AccountId,
    /// Where it stands.
    pub state: State,
    /// Urgent or not.
    pub urgent: bool,
    /// When it (last) joined the queue.
    pub queued_at: Millis,
    /// When a counsellor first took it.
    pub started_at: Option<Millis>,
    /// It lost its counsellor and waits at the front of its class.
    pub front: bool,
    /// The profession it waits for (after a transfer, or widened to any).
    pub profession: Option<Profession>,
    /// A transfer to one counsellor in particular.
    pub only: Option<AccountId>,
}

/// A request to put back after a restart ([`Router::restore`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restored {
    /// Its id.
    pub id: ConsultId,
    /// What was asked.
    pub spec: RequestSpec,
    /// When it (last) joined the queue.
    pub queued_at: Millis,
    /// It waits at the front of its class (it had lost its counsellor).
    pub front: bool,
    /// The counsellor it was under way with, if it was.
    pub counsellor: Option<AccountId>,
    /// When a counsellor first took it.
    pub started_at: Option<Millis>,
    /// A transfer to one counsellor in particular.
    pub only: Option<AccountId>,
}

/// A counsellor as [`Router::counsellor`] shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounsellorView {
    /// Who.
    pub id: AccountId,
    /// Their professions.
    pub professions: Vec<Profession>,
    /// Consults at once.
    pub capacity: u32,
    /// Available, away, offline.
    pub availability: Availability,
    /// Consults under way.
    pub active: u32,
    /// The request on offer to them.
    pub offered: Option<ConsultId>,
}

/// The router.
#[derive(Clone, Debug)]
pub struct Router {
    config: RouterConfig,
    open: bool,
    next_id: ConsultId,
    /// Requests that have not ended.
    requests: HashMap<ConsultId, Request>,
    /// Requests that have ended, and how (kept so that a late event about one is refused),
    /// the latest [`ENDED_KEPT`] of them.
    ended: BTreeMap<ConsultId, State>,
    /// The request each requester has open (one at a time).
    by_requester: HashMap<AccountId, ConsultId>,
    queue: BTreeMap<Key, ConsultId>,
    counsellors: HashMap<AccountId, Counsellor>,
    recent: VecDeque<Millis>,
    /// The latest time an event came with (for the invariant checks).
    now: Millis,
}

impl Router {
    /// An empty router with the queue open.
    pub fn new(config: RouterConfig) -> Self {
        Self {
            config,
            open: true,
            next_id: 1,
            requests: HashMap::new(),
            ended: BTreeMap::new(),
            by_requester: HashMap::new(),
            queue: BTreeMap::new(),
            counsellors: HashMap::new(),
            recent: VecDeque::new(),
            now: Millis::MIN,
        }
    }

    // ---- reading ------------------------------------------------------------------------

    /// Where a request stands.
    pub fn state(&self, id: ConsultId) -> Option<&State> {
        self.requests
            .get(&id)
            .map(|r| &r.state)
            .or_else(|| self.ended.get(&id))
    }

    /// Whether a request is urgent.
    pub fn is_urgent(&self, id: ConsultId) -> bool {
        self.requests.get(&id).is_some_and(|r| r.spec.urgent)
    }

    /// Every request ever made (ended ones too), by id.
    pub fn ids(&self) -> impl Iterator<Item = ConsultId> + '_ {
        self.requests.keys().chain(self.ended.keys()).copied()
    }

    /// A waiting request's place in the queue (1 = next), counting only requests ahead of it.
    pub fn position(&self, id: ConsultId) -> Option<usize> {
        let r = self.requests.get(&id)?;
        if !matches!(r.state, State::Waiting | State::Offered { .. }) {
            return None;
        }
        let key = r.key(id);
        Some(self.queue.range(..key).count() + 1)
    }

    /// An estimate of the wait for a request, from the length of recent consults and the
    /// counsellors available now — leaving out those whose next booked consult starts before
    /// a consult of average length would end; `None` while there is no history or no one is
    /// available.
    pub fn estimated_wait(&self, id: ConsultId, now: Millis) -> Option<Millis> {
        let position = i64::try_from(self.position(id)?).ok()?;
        if self.recent.is_empty() {
            return None;
        }
        let average = self.recent.iter().sum::<Millis>() / self.recent.len() as i64;
        let seats: i64 = self
            .counsellors
            .values()
            .filter(|c| {
                c.availability == Availability::Available
                    && !c.paused
                    && c.next_booking.is_none_or(|t| t > now + average)
            })
            .map(|c| i64::from(c.capacity))
            .sum();
        if seats == 0 {
            return None;
        }
        // The requests ahead, served `seats` at a time.
        Some((position - 1) / seats * average + average / 2)
    }

    /// How many wait, urgent and in all.
    pub fn waiting(&self) -> (usize, usize) {
        let urgent = self.queue.keys().filter(|k| k.0 == 0).count();
        (urgent, self.queue.len())
    }

    /// The requests in queue order, with their state (waiting or offered).
    pub fn queue(&self) -> Vec<ConsultId> {
        self.queue.values().copied().collect()
    }

    /// The open request of `requester`, if any.
    pub fn request_of(&self, requester: AccountId) -> Option<ConsultId> {
        self.by_requester.get(&requester).copied()
    }

    /// Every request that has not ended, as the queue view and a restart need it.
    pub fn open_requests(&self) -> Vec<RequestView> {
        self.requests
            .iter()
            .map(|(id, r)| RequestView {
                id: *id,
                requester: r.spec.requester,
                state: r.state.clone(),
                urgent: r.spec.urgent,
                queued_at: r.queued_at,
                started_at: r.started_at,
                front: r.front,
                profession: r.spec.profession,
                only: r.only,
            })
            .collect()
    }

    /// A counsellor as the router knows them.
    pub fn counsellor(&self, id: AccountId) -> Option<CounsellorView> {
        self.counsellors.get(&id).map(|c| CounsellorView {
            id,
            professions: c.professions.clone(),
            capacity: c.capacity,
            availability: c.availability,
            active: c.active,
            offered: c.offered,
        })
    }

    /// Every counsellor the router knows.
    pub fn counsellors(&self) -> Vec<CounsellorView> {
        self.counsellors
            .keys()
            .filter_map(|id| self.counsellor(*id))
            .collect()
    }

    /// Whether the queue is open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// After a restart: puts back the requests that had not ended, as they were (offers are
    /// forgotten: those requests wait again), with the next id to give. No counsellor is
    /// connected yet: consults under way wait for theirs for the reconnect grace, as after
    /// any drop.
    pub fn restore(&mut self, now: Millis, next_id: ConsultId, requests: Vec<Restored>) {
        self.next_id = self.next_id.max(next_id);
        let until = now + self.config.reconnect_grace_ms;
        for r in requests {
            self.next_id = self.next_id.max(r.id + 1);
            if self.requests.contains_key(&r.id)
                || self.by_requester.contains_key(&r.spec.requester)
            {
                continue;
            }
            let state = match r.counsellor {
                Some(counsellor) => {
                    let c = self
                        .counsellors
                        .entry(counsellor)
                        .or_insert_with(|| Counsellor::new(now));
                    c.active += 1;
                    c.capacity = c.capacity.max(c.active);
                    State::Active {
                        counsellor,
                        interrupted_until: Some(until),
                    }
                }
                None => State::Waiting,
            };
            let request = Request {
                spec: r.spec,
                state,
                queued_at: r.queued_at,
                preferred_since: now,
                front: r.front,
                passed_by: HashSet::new(),
                only: r.only,
                started_at: r.started_at,
            };
            if matches!(request.state, State::Waiting) {
                self.queue.insert(request.key(r.id), r.id);
            }
            self.by_requester.insert(request.spec.requester, r.id);
            self.requests.insert(r.id, request);
        }
    }

    // ---- counsellors ----------------------------------------------------------------------

    /// A counsellor signs in, or changes what they take. Returns the offers that follow.
    pub fn set_counsellor(
        &mut self,
        now: Millis,
        id: AccountId,
        professions: Vec<Profession>,
        capacity: u32,
        availability: Availability,
    ) -> Vec<Decision> {
        let mut out = Vec::new();
        let c = self
            .counsellors
            .entry(id)
            .or_insert_with(|| Counsellor::new(now));
        c.professions = professions;
        // Lowering it below what they have now takes effect as their consults end.
        c.capacity = capacity.max(1).max(c.active);
        let was = c.availability;
        c.availability = availability;
        if was != Availability::Available && availability == Availability::Available {
            c.idle_since = now;
        }
        let reconnected = was == Availability::Offline && availability != Availability::Offline;
        // Not taking new consults, or no room for the one on offer: the offer moves on.
        if let Some(offered) = c.offered
            && (availability != Availability::Available || c.active + 1 > c.capacity)
        {
            self.lapse(offered, &mut out);
        }
        if reconnected {
            // Back within the grace: the consults go on.
            for r in self.requests.values_mut() {
                if let State::Active {
                    counsellor,
                    interrupted_until,
                } = &mut r.state
                    && *counsellor == id
                {
                    *interrupted_until = None;
                }
            }
        }
        self.assign(now, &mut out);
        out
    }

    /// What the counsellor's bookings mean for the queue: `paused` while a booked consult is
    /// near or under way (no drop-in offers; an open offer moves on), and when the next one
    /// starts (for the estimates). Returns the offers that follow.
    pub fn set_bookings(
        &mut self,
        now: Millis,
        id: AccountId,
        paused: bool,
        next_booking: Option<Millis>,
    ) -> Vec<Decision> {
        let mut out = Vec::new();
        let c = self
            .counsellors
            .entry(id)
            .or_insert_with(|| Counsellor::new(now));
        c.paused = paused;
        c.next_booking = next_booking;
        if paused && let Some(offered) = c.offered {
            self.lapse(offered, &mut out);
        }
        self.assign(now, &mut out);
        out
    }

    /// A counsellor's connection dropped: no new offers; their open offer lapses; their
    /// consults wait for them for the grace period.
    pub fn counsellor_disconnected(&mut self, now: Millis, id: AccountId) -> Vec<Decision> {
        let mut out = Vec::new();
        let Some(c) = self.counsellors.get_mut(&id) else {
            return out;
        };
        c.availability = Availability::Offline;
        if let Some(offered) = c.offered {
            self.lapse(offered, &mut out);
        }
        let until = now + self.config.reconnect_grace_ms;
        for r in self.requests.values_mut() {
            if let State::Active {
                counsellor,
                interrupted_until,
            } = &mut r.state
                && *counsellor == id
            {
                interrupted_until.get_or_insert(until);
            }
        }
        self.assign(now, &mut out);
        out
    }

    // ---- requests ---------------------------------------------------------------------

    /// A request comes in.
    pub fn submit(
        &mut self,
        now: Millis,
        spec: RequestSpec,
    ) -> Result<(ConsultId, Vec<Decision>), Refused> {
        if !self.open {
            return Err(Refused::QueueClosed);
        }
        if self.by_requester.contains_key(&spec.requester) {
            return Err(Refused::AlreadyWaiting);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.by_requester.insert(spec.requester, id);
        let request = Request {
            spec,
            state: State::Waiting,
            queued_at: now,
            preferred_since: now,
            front: false,
            passed_by: HashSet::new(),
            only: None,
            started_at: None,
        };
        self.queue.insert(request.key(id), id);
        self.requests.insert(id, request);
        let mut out = Vec::new();
        if self.requests[&id].spec.urgent {
            out.push(Decision::Urgent { consult: id });
        }
        self.assign(now, &mut out);
        Ok((id, out))
    }

    /// A booked consult's room opens: the request starts at once with its counsellor, past
    /// the queue (connected or not: the booking is theirs). Refused while the person has
    /// another request open.
    pub fn start_booked(
        &mut self,
        now: Millis,
        spec: RequestSpec,
        counsellor: AccountId,
    ) -> Result<(ConsultId, Vec<Decision>), Refused> {
        if self.by_requester.contains_key(&spec.requester) {
            return Err(Refused::AlreadyWaiting);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.by_requester.insert(spec.requester, id);
        let c = self
            .counsellors
            .entry(counsellor)
            .or_insert_with(|| Counsellor::new(now));
        c.active += 1;
        c.capacity = c.capacity.max(c.active + u32::from(c.offered.is_some()));
        self.requests.insert(
            id,
            Request {
                spec,
                state: State::Active {
                    counsellor,
                    interrupted_until: None,
                },
                queued_at: now,
                preferred_since: now,
                front: false,
                passed_by: HashSet::new(),
                only: None,
                started_at: Some(now),
            },
        );
        Ok((
            id,
            vec![Decision::Start {
                consult: id,
                counsellor,
            }],
        ))
    }

    /// A booked consult's counsellor did not come: it goes to the front of the drop-in
    /// queue, for whoever is free next.
    pub fn counsellor_absent(
        &mut self,
        now: Millis,
        id: ConsultId,
    ) -> Result<Vec<Decision>, Refused> {
        self.transfer(now, id, None, None)
    }

    /// The person did not come to a booked consult: it ends as missed.
    pub fn missed(&mut self, now: Millis, id: ConsultId) -> Result<Vec<Decision>, Refused> {
        self.live(id)?;
        let mut out = Vec::new();
        self.finish(now, id, End::Missed, &mut out);
        self.assign(now, &mut out);
        Ok(out)
    }

    /// Marks a request urgent (a crisis word in a later message, or a counsellor's or staff
    /// member's flag). It moves ahead of every normal request.
    pub fn flag_urgent(&mut self, now: Millis, id: ConsultId) -> Result<Vec<Decision>, Refused> {
        let r = self.live(id)?;
        if r.spec.urgent {
            return Ok(Vec::new());
        }
        let queued = self.queue.remove(&r.key(id)).is_some();
        let r = self.requests.get_mut(&id).ok_or(Refused::UnknownConsult)?;
        r.spec.urgent = true;
        if queued {
            self.queue.insert(r.key(id), id);
        }
        let mut out = vec![Decision::Urgent { consult: id }];
        self.assign(now, &mut out);
        Ok(out)
    }

    /// A counsellor accepts the offer they were given.
    pub fn accept(
        &mut self,
        now: Millis,
        id: ConsultId,
        counsellor: AccountId,
    ) -> Result<Vec<Decision>, Refused> {
        let r = self.live(id)?;
        if !matches!(r.state, State::Offered { counsellor: c, .. } if c == counsellor) {
            return Err(Refused::WrongState);
        }
        let key = r.key(id);
        self.queue.remove(&key);
        let c = self
            .counsellors
            .get_mut(&counsellor)
            .ok_or(Refused::UnknownCounsellor)?;
        c.offered = None;
        c.active += 1;
        let r = self.requests.get_mut(&id).ok_or(Refused::UnknownConsult)?;
        r.state = State::Active {
            counsellor,
            interrupted_until: None,
        };
        r.started_at.get_or_insert(now);
        let mut out = vec![Decision::Start {
            consult: id,
            counsellor,
        }];
        self.assign(now, &mut out);
        Ok(out)
    }

    /// A counsellor declines the offer they were given; it moves on to someone else.
    pub fn decline(
        &mut self,
        now: Millis,
        id: ConsultId,
        counsellor: AccountId,
    ) -> Result<Vec<Decision>, Refused> {
        let r = self.live(id)?;
        if !matches!(r.state, State::Offered { counsellor: c, .. } if c == counsellor) {
            return Err(Refused::WrongState);
        }
        let mut out = Vec::new();
        self.lapse(id, &mut out);
        self.assign(now, &mut out);
        Ok(out)
    }

    /// The requester withdraws, at any moment; a consult under way ends.
    pub fn cancel(&mut self, now: Millis, id: ConsultId) -> Result<Vec<Decision>, Refused> {
        self.live(id)?;
        let mut out = Vec::new();
        self.finish(now, id, End::Cancelled, &mut out);
        self.assign(now, &mut out);
        Ok(out)
    }

    /// No one is free: the requester leaves a message to be contacted at the next opening.
    pub fn leave_message(&mut self, now: Millis, id: ConsultId) -> Result<Vec<Decision>, Refused> {
        let r = self.live(id)?;
        if !matches!(r.state, State::Waiting | State::Offered { .. }) {
            return Err(Refused::WrongState);
        }
        let mut out = Vec::new();
        self.finish(now, id, End::LeftMessage, &mut out);
        self.assign(now, &mut out);
        Ok(out)
    }

    /// Either side ends a consult under way.
    pub fn end(&mut self, now: Millis, id: ConsultId) -> Result<Vec<Decision>, Refused> {
        let r = self.live(id)?;
        if !matches!(r.state, State::Active { .. }) {
            return Err(Refused::WrongState);
        }
        let mut out = Vec::new();
        self.finish(now, id, End::Completed, &mut out);
        self.assign(now, &mut out);
        Ok(out)
    }

    /// The counsellor hands a consult on: to one counsellor, or to whoever has `profession`
    /// (or anyone). It waits at the front; the one who handed it on is not offered it again
    /// unless no one else can take it.
    pub fn transfer(
        &mut self,
        now: Millis,
        id: ConsultId,
        to: Option<AccountId>,
        profession: Option<Profession>,
    ) -> Result<Vec<Decision>, Refused> {
        let r = self.live(id)?;
        let State::Active { counsellor, .. } = r.state else {
            return Err(Refused::WrongState);
        };
        if to.is_some_and(|t| !self.counsellors.contains_key(&t)) {
            return Err(Refused::UnknownCounsellor);
        }
        let mut out = Vec::new();
        self.requeue(now, id, counsellor, &mut out);
        if let Some(r) = self.requests.get_mut(&id) {
            r.only = to;
            r.spec.profession = profession;
            r.preferred_since = now;
        }
        self.assign(now, &mut out);
        Ok(out)
    }

    /// The queue opens with the space.
    pub fn open(&mut self, now: Millis) -> Vec<Decision> {
        self.open = true;
        let mut out = Vec::new();
        self.assign(now, &mut out);
        out
    }

    /// The queue closes with the space: requests still waiting end (`Closed`: the server
    /// sends them a message and the crisis contacts); consults under way go on.
    pub fn close(&mut self, now: Millis) -> Vec<Decision> {
        self.open = false;
        let mut out = Vec::new();
        for id in self.queue.values().copied().collect::<Vec<_>>() {
            self.finish(now, id, End::Closed, &mut out);
        }
        out
    }

    /// Lapses offers that were not answered in time, ends the grace of counsellors who did
    /// not come back, widens the preference of those who waited long, and offers again.
    pub fn tick(&mut self, now: Millis) -> Vec<Decision> {
        let mut out = Vec::new();
        let lapsed: Vec<ConsultId> = self
            .requests
            .iter()
            .filter(|(_, r)| matches!(r.state, State::Offered { until, .. } if until <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in lapsed {
            self.lapse(id, &mut out);
        }
        let orphaned: Vec<(ConsultId, AccountId)> = self
            .requests
            .iter()
            .filter_map(|(id, r)| match r.state {
                State::Active {
                    counsellor,
                    interrupted_until: Some(until),
                } if until <= now => Some((*id, counsellor)),
                _ => None,
            })
            .collect();
        for (id, counsellor) in orphaned {
            self.requeue(now, id, counsellor, &mut out);
        }
        let widen = self.config.widen_after_ms;
        for r in self.requests.values_mut() {
            if matches!(r.state, State::Waiting) && now - r.preferred_since >= widen {
                r.spec.profession = None;
                r.only = None;
            }
        }
        self.assign(now, &mut out);
        out
    }

    // ---- inside ---------------------------------------------------------------------------

    fn live(&self, id: ConsultId) -> Result<&Request, Refused> {
        match self.requests.get(&id) {
            Some(r) if !matches!(r.state, State::Ended(_)) => Ok(r),
            _ => Err(Refused::UnknownConsult),
        }
    }

    /// An offer ends unanswered (declined, lapsed, withdrawn): the request waits again, and
    /// that counsellor is not offered it again unless no one else can take it.
    fn lapse(&mut self, id: ConsultId, out: &mut Vec<Decision>) {
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        let State::Offered { counsellor, .. } = r.state else {
            return;
        };
        r.state = State::Waiting;
        r.passed_by.insert(counsellor);
        // Handed on to this one counsellor, who did not take it: anyone suitable may.
        if r.only == Some(counsellor) {
            r.only = None;
        }
        if let Some(c) = self.counsellors.get_mut(&counsellor) {
            c.offered = None;
        }
        out.push(Decision::Withdraw {
            consult: id,
            counsellor,
        });
    }

    /// A consult loses its counsellor and waits again, at the front of its class.
    fn requeue(
        &mut self,
        now: Millis,
        id: ConsultId,
        counsellor: AccountId,
        out: &mut Vec<Decision>,
    ) {
        self.release(now, counsellor);
        let Some(r) = self.requests.get_mut(&id) else {
            return;
        };
        r.state = State::Waiting;
        r.front = true;
        r.preferred_since = now;
        r.passed_by.insert(counsellor);
        self.queue.insert(r.key(id), id);
        out.push(Decision::Requeued {
            consult: id,
            counsellor,
        });
        // After closing, nobody will take it tonight: it ends, and the requester is shown
        // the crisis contacts, as those who waited at closing were.
        if !self.open {
            self.finish(now, id, End::Closed, out);
        }
    }

    fn release(&mut self, now: Millis, counsellor: AccountId) {
        if let Some(c) = self.counsellors.get_mut(&counsellor) {
            c.active = c.active.saturating_sub(1);
            if c.active == 0 {
                c.idle_since = now;
            }
        }
    }

    /// Ends a request for good, whatever state it was in.
    fn finish(&mut self, now: Millis, id: ConsultId, end: End, out: &mut Vec<Decision>) {
        let Some(r) = self.requests.get(&id) else {
            return;
        };
        let key = r.key(id);
        let started_at = r.started_at;
        match r.state.clone() {
            State::Ended(_) => return,
            State::Waiting => {}
            State::Offered { counsellor, .. } => {
                if let Some(c) = self.counsellors.get_mut(&counsellor) {
                    c.offered = None;
                }
                out.push(Decision::Withdraw {
                    consult: id,
                    counsellor,
                });
            }
            State::Active { counsellor, .. } => {
                self.release(now, counsellor);
                if end != End::Missed
                    && let Some(started) = started_at
                {
                    self.recent.push_back(now - started);
                    while self.recent.len() > self.config.recent_consults.max(1) {
                        self.recent.pop_front();
                    }
                }
            }
        }
        self.queue.remove(&key);
        if let Some(r) = self.requests.remove(&id) {
            self.by_requester.remove(&r.spec.requester);
        }
        self.ended.insert(id, State::Ended(end));
        while self.ended.len() > ENDED_KEPT {
            self.ended.pop_first();
        }
        out.push(Decision::Ended { consult: id, end });
    }

    /// Whether counsellor `c` can take request `r` at all (profession, a transfer to someone
    /// else), leaving aside who passed it by.
    fn suits(c: &Counsellor, cid: AccountId, r: &Request) -> bool {
        if r.only.is_some_and(|only| only != cid) || r.spec.requester == cid {
            return false;
        }
        r.spec.profession.is_none_or(|p| c.professions.contains(&p))
    }

    fn free(&self, c: &Counsellor, now: Millis) -> bool {
        c.availability == Availability::Available
            && !c.paused
            && c.next_booking
                .is_none_or(|t| now < t - self.config.pause_before_ms)
            && c.offered.is_none()
            && c.active < c.capacity
    }

    /// Offers waiting requests, most pressing first, each to the suitable free counsellor
    /// who has been idle the longest — preferring those who have not passed it by.
    fn assign(&mut self, now: Millis, out: &mut Vec<Decision>) {
        self.now = self.now.max(now);
        if !self.open {
            return;
        }
        let mut free: Vec<(Millis, AccountId)> = self
            .counsellors
            .iter()
            .filter(|(_, c)| self.free(c, now))
            .map(|(id, c)| (c.idle_since, *id))
            .collect();
        if free.is_empty() {
            return;
        }
        free.sort();
        // Read the queue in order until every free counsellor has an offer; then make them.
        let mut offers = Vec::new();
        for id in self.queue.values() {
            if free.is_empty() {
                break;
            }
            let r = &self.requests[id];
            if !matches!(r.state, State::Waiting) {
                continue;
            }
            let suitable =
                |(_, cid): &&(Millis, AccountId)| Self::suits(&self.counsellors[cid], *cid, r);
            let pick = free
                .iter()
                .filter(suitable)
                .find(|(_, cid)| !r.passed_by.contains(cid))
                .or_else(|| free.iter().find(suitable))
                .map(|(_, cid)| *cid);
            let Some(cid) = pick else { continue };
            free.retain(|(_, c)| *c != cid);
            offers.push((*id, cid));
        }
        let until = now + self.config.offer_timeout_ms;
        for (id, cid) in offers {
            if let Some(c) = self.counsellors.get_mut(&cid) {
                c.offered = Some(id);
            }
            if let Some(r) = self.requests.get_mut(&id) {
                r.state = State::Offered {
                    counsellor: cid,
                    until,
                };
            }
            out.push(Decision::Offer {
                consult: id,
                counsellor: cid,
                until,
            });
        }
    }

    /// Checks that an offer of `consult` to `counsellor` just made skipped no request ahead of
    /// it that this counsellor could have taken and had not passed by. For tests.
    pub fn check_offer_order(&self, consult: ConsultId, counsellor: AccountId) {
        let (Some(r), Some(c)) = (
            self.requests.get(&consult),
            self.counsellors.get(&counsellor),
        ) else {
            return;
        };
        let key = r.key(consult);
        for (k, other) in self.queue.range(..key) {
            let o = &self.requests[other];
            assert!(
                !(matches!(o.state, State::Waiting)
                    && Self::suits(c, counsellor, o)
                    && !o.passed_by.contains(&counsellor)),
                "{consult} was offered to {counsellor} ahead of {other} {k:?}"
            );
        }
    }

    /// Checks every invariant; panics with the broken one. For tests.
    pub fn check_invariants(&self) {
        let mut active: HashMap<AccountId, u32> = HashMap::new();
        let mut offered: HashMap<AccountId, u32> = HashMap::new();
        for (id, r) in &self.requests {
            let queued = self.queue.get(&r.key(*id)) == Some(id);
            match r.state {
                State::Waiting | State::Offered { .. } => {
                    assert!(queued, "{id} waits outside the queue")
                }
                _ => assert!(!queued, "{id} is queued in state {:?}", r.state),
            }
            match r.state {
                State::Offered { counsellor, .. } => {
                    *offered.entry(counsellor).or_default() += 1;
                    assert_eq!(self.counsellors[&counsellor].offered, Some(*id));
                }
                State::Active { counsellor, .. } => *active.entry(counsellor).or_default() += 1,
                _ => {}
            }
        }
        assert_eq!(
            self.queue.len(),
            self.requests
                .values()
                .filter(|r| matches!(r.state, State::Waiting | State::Offered { .. }))
                .count()
        );
        for (id, c) in &self.counsellors {
            let a = active.get(id).copied().unwrap_or(0);
            let o = offered.get(id).copied().unwrap_or(0);
            assert_eq!(c.active, a, "active count of {id}");
            assert!(o <= 1, "{id} has two offers");
            assert!(a + o <= c.capacity, "{id} is over capacity");
        }
        // Work-conserving, in order: no free counsellor could take a waiting request.
        if self.open {
            for (cid, c) in &self.counsellors {
                if !self.free(c, self.now) {
                    continue;
                }
                for id in self.queue.values() {
                    let r = &self.requests[id];
                    assert!(
                        !(matches!(r.state, State::Waiting) && Self::suits(c, *cid, r)),
                        "{cid} is free while {id} waits for them"
                    );
                }
            }
        }
    }
}

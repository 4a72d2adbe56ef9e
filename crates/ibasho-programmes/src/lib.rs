//! Programmes for ibasho: what happens (lunch together, live illustration, a singing café, peer
//! salons by age band) and when, and the task that opens and closes each occurrence's room on
//! time. No HTTP: the server's handlers call [`Programmes`].
//!
//! # Layout
//!
//! - [`store`]: records and the [`ProgrammeStore`] trait (SQLite in `ibasho-store`).
//! - [`catalogue`]: every programme and session in memory with its rule compiled; which
//!   occurrences fall in a window, where each stands at an instant, the timetable. Pure.
//! - [`ics`]: the public iCalendar feed.
//! - [`stats`]: the anonymous figures cities report, per session and per month; CSV.
//! - this module: [`Programmes`], the service: changes go to the store, then to the catalogue,
//!   then wake the driver, which makes the hub's rooms match the catalogue at the hub's clock.

pub mod catalogue;
pub mod ics;
pub mod stats;
pub mod store;

pub use catalogue::{Catalogue, InvalidSchedule, Occurrence};
pub use store::{CancellationRecord, ProgrammeRecord, ProgrammeStore, SessionRecord};

use ibasho_hub::store::StoreError;
use ibasho_hub::{Clock, Hub};
use ibasho_protocol::programme::Phase;
use ibasho_protocol::{Millis, RoomId, RoomKind, ServerFrame};
use ibasho_schedule::OpeningHours;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// How far back the driver looks for occurrences still running or just ended.
const LOOK_BACK_MS: Millis = catalogue::MAX_SESSION_MINUTES as Millis * 60_000 + 60_000;

/// Why a change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProgrammeError {
    /// The schedule is not valid.
    #[error(transparent)]
    Invalid(#[from] InvalidSchedule),
    /// The store failed, or the thing does not exist.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The programmes service. Cheap to share (`Arc`).
pub struct Programmes {
    store: Arc<dyn ProgrammeStore>,
    hub: Hub,
    clock: Arc<dyn Clock>,
    catalogue: RwLock<Catalogue>,
    wake: Notify,
    /// Rooms told that their session ends soon.
    warned: Mutex<HashSet<RoomId>>,
    /// The most people a programme room holds, watchers too.
    room_capacity: u32,
}

impl std::fmt::Debug for Programmes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Programmes").finish_non_exhaustive()
    }
}

impl Programmes {
    /// Loads every programme and session.
    pub async fn load(
        store: Arc<dyn ProgrammeStore>,
        hub: Hub,
        clock: Arc<dyn Clock>,
        hours: OpeningHours,
        room_capacity: u32,
    ) -> Result<Arc<Self>, StoreError> {
        let catalogue = Catalogue::new(
            hours,
            store.programmes().await?,
            store.sessions().await?,
            store.cancellations().await?,
        );
        Ok(Arc::new(Self {
            store,
            hub,
            clock,
            catalogue: RwLock::new(catalogue),
            wake: Notify::new(),
            warned: Mutex::new(HashSet::new()),
            room_capacity,
        }))
    }

    /// The catalogue, to read. Never hold it across an `.await`.
    pub fn catalogue(&self) -> RwLockReadGuard<'_, Catalogue> {
        self.catalogue.read().unwrap_or_else(|e| e.into_inner())
    }

    fn change(&self, f: impl FnOnce(&mut Catalogue)) {
        f(&mut self.catalogue.write().unwrap_or_else(|e| e.into_inner()));
        self.wake.notify_one();
    }

    /// The hub's clock.
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Stores a new programme.
    pub async fn create_programme(&self, p: ProgrammeRecord) -> Result<(), StoreError> {
        self.store.create_programme(&p).await?;
        self.change(|c| c.put_programme(p));
        Ok(())
    }

    /// Replaces a programme; open rooms take the change at once.
    pub async fn update_programme(&self, p: ProgrammeRecord) -> Result<(), StoreError> {
        self.store.update_programme(&p).await?;
        self.change(|c| c.put_programme(p));
        Ok(())
    }

    /// Stores a new session after checking its schedule.
    pub async fn create_session(&self, s: SessionRecord) -> Result<(), ProgrammeError> {
        catalogue::compile(self.catalogue().tz(), &s.schedule)?;
        self.store.create_session(&s).await?;
        // Compiled above: putting it cannot fail.
        self.change(|c| {
            let _ = c.put_session(s);
        });
        Ok(())
    }

    /// Replaces a session after checking its schedule.
    pub async fn update_session(&self, s: SessionRecord) -> Result<(), ProgrammeError> {
        catalogue::compile(self.catalogue().tz(), &s.schedule)?;
        self.store.update_session(&s).await?;
        // Compiled above: putting it cannot fail.
        self.change(|c| {
            let _ = c.put_session(s);
        });
        Ok(())
    }

    /// Calls off one occurrence; its room, if open, closes with the reason.
    pub async fn cancel_occurrence(&self, c: CancellationRecord) -> Result<(), StoreError> {
        self.store.create_cancellation(&c).await?;
        self.change(|cat| cat.put_cancellation(c));
        Ok(())
    }

    /// A month's figures (`YYYY-MM` in the space's time zone); `None` for a month that does
    /// not parse.
    pub async fn month_statistics(
        &self,
        month: &str,
    ) -> Result<Option<ibasho_protocol::programme::MonthStatistics>, StoreError> {
        let Some(bounds) = stats::month_bounds(&self.catalogue(), month) else {
            return Ok(None);
        };
        let (from, to) = stats::attendance_window(bounds.0, bounds.1);
        let rows = self.store.attendance(from, to).await?;
        let peaks = self.store.peaks(from, to).await?;
        let now = self.now();
        Ok(Some(stats::month(
            &self.catalogue(),
            month,
            bounds,
            now,
            &rows,
            &peaks,
        )))
    }

    /// Makes the hub's programme rooms match the catalogue now: opens the rooms of
    /// occurrences that are open or live (and keeps their phase current), warns before the
    /// end, and closes the rooms of occurrences that ended or were called off — and of any
    /// that no longer exist (an edited schedule, an archived programme).
    pub async fn reconcile(&self) -> Result<(), StoreError> {
        let now = self.now();
        let (wanted, to_close) = {
            let cat = self.catalogue();
            let occurrences = cat.occurrences(now - LOOK_BACK_MS, now + 1);
            let mut wanted = Vec::new();
            let mut to_close = Vec::new();
            for o in &occurrences {
                match o.phase(now) {
                    Phase::Open | Phase::Live => {
                        if let Some(info) = cat.room_info(o, now, self.room_capacity) {
                            wanted.push((info, o.clone()));
                        }
                    }
                    Phase::Cancelled => {
                        to_close.push((o.room(), o.cancelled.clone().unwrap_or_default()));
                    }
                    Phase::Ended => to_close.push((o.room(), String::new())),
                    Phase::Scheduled => {}
                }
            }
            // Rooms open in the hub that no current occurrence wants.
            let live: HashSet<&RoomId> = wanted.iter().map(|(i, _)| &i.id).collect();
            for info in self.hub.open_rooms_of_kind(RoomKind::Programme) {
                if !live.contains(&info.id) && !to_close.iter().any(|(id, _)| id == &info.id) {
                    to_close.push((info.id, String::new()));
                }
            }
            (wanted, to_close)
        };
        for (info, o) in wanted {
            let id = info.id.clone();
            self.hub.put_programme_room(info).await?;
            if now >= o.warn_at && self.warned_once(&id) {
                self.hub.tell_room(
                    &id,
                    &ServerFrame::SessionEnding {
                        room: id.clone(),
                        ends_at: o.end,
                        minutes: o.warn_minutes,
                    },
                );
            }
        }
        for (id, reason) in to_close {
            if self.hub.room_info(&id).is_some_and(|i| !i.archived) {
                self.hub.close_room(&id, &reason).await?;
                tracing::info!(room = %id, "programme room closed");
            }
            self.warned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
        Ok(())
    }

    /// True the first time it is asked for `room`.
    fn warned_once(&self, room: &RoomId) -> bool {
        self.warned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(room.clone())
    }

    /// Runs [`Programmes::reconcile`] every `period` and whenever something changes, until
    /// the service is dropped.
    pub fn spawn_driver(self: &Arc<Self>, period: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                let Some(this) = weak.upgrade() else { break };
                if let Err(e) = this.reconcile().await {
                    tracing::error!(error = %e, "programme rooms could not be brought up to date");
                }
                tokio::select! {
                    _ = interval.tick() => {}
                    () = this.wake.notified() => {}
                }
            }
        });
    }
}

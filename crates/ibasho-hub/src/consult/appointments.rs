//! Booked consults (予約制) at the desk. Bookings are made over HTTP and decided by the store
//! (of two attempts at one time, exactly one wins); the desk keeps the live ones (booked or
//! open) in memory and, on its tick: sends the reminders, opens the consult room for the two a
//! few minutes before the time (an ordinary consult from there on), tells both who has come,
//! puts the person first in the drop-in queue if their counsellor does not come, marks the
//! booking missed if the person does not, and keeps the counsellor out of the drop-in queue
//! while a booked consult is near or under way.

use super::{DeskState, Result, consult_room};
use crate::hub::Hub;
use ibasho_consult::store::{AppointmentRecord, Booking, ConsultRecord, NewAppointment};
use ibasho_consult::{AppointmentConfig, End, Refused, RequestSpec, State};
use ibasho_protocol::consult::{
    AppointmentEvent, AppointmentId, AppointmentRef, AppointmentState, AppointmentView,
    CancelledBy, Channel, ConsultId, Released, Reminder,
};
use ibasho_protocol::{AccountId, Millis, Person, Role, ServerFrame};
use std::collections::HashMap;

/// A reminder that went out, for the server to mail when the person asked for mail.
#[derive(Clone, Debug)]
pub struct ReminderSent {
    /// The booking.
    pub appointment: AppointmentRecord,
    /// Which reminder.
    pub reminder: Reminder,
}

fn ms(minutes: u32) -> Millis {
    AppointmentConfig::ms(minutes)
}

impl Hub {
    fn appointment_config(&self) -> &AppointmentConfig {
        &self.desk().appointments
    }

    /// The settings of appointments.
    pub fn appointment_settings(&self) -> AppointmentConfig {
        self.appointment_config().clone()
    }

    /// Where reminders are reported once sent (the server mails those who asked).
    pub fn on_reminders(&self, sink: tokio::sync::mpsc::UnboundedSender<ReminderSent>) {
        if let Ok(mut s) = self.desk().reminders.lock() {
            *s = Some(sink);
        }
    }

    /// A person as others see them; a deleted account keeps its id with an empty handle.
    pub async fn person_of(&self, account: AccountId) -> Person {
        match self.inner.store.account(account).await {
            Ok(Some(a)) => a.person(),
            _ => Person {
                id: account,
                handle: String::new(),
                avatar: ibasho_protocol::Avatar {
                    shape: ibasho_protocol::AvatarShape::Circle,
                    color: ibasho_protocol::AvatarColor::Sumi,
                },
                role: Role::Participant,
            },
        }
    }

    /// A booking as the person and the counsellor see it.
    pub async fn appointment_view(&self, r: &AppointmentRecord) -> AppointmentView {
        let now = self.inner.clock.now();
        AppointmentView {
            id: r.id,
            counsellor: self.person_of(r.counsellor).await,
            requester: self.person_of(r.requester).await,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            for_whom: r.for_whom,
            topic: r.topic,
            channel: Channel::Text,
            first_note: r.first_note.clone(),
            state: r.state,
            cancelled_by: r.cancelled_by,
            message: r.message.clone(),
            email_reminders: r.email_reminders,
            consult: r.consult,
            can_change: r.state == AppointmentState::Booked
                && now < r.starts_at - ms(self.appointment_config().change_until_minutes),
        }
    }

    async fn tell_appointment(
        &self,
        r: &AppointmentRecord,
        event: AppointmentEvent,
        reminder: Option<Reminder>,
    ) {
        let frame = ServerFrame::Appointment {
            event,
            appointment: self.appointment_view(r).await,
            reminder,
        };
        self.send_to_account(r.requester, &frame);
        if reminder.is_none() {
            self.send_to_account(r.counsellor, &frame);
        }
    }

    /// Books a slot (the caller checked that it is a free slot of that counsellor); the store
    /// decides between concurrent attempts. Both are told.
    pub async fn book_appointment(
        &self,
        new: &NewAppointment,
    ) -> std::result::Result<Booking, ibasho_consult::store::StoreFailure> {
        let now = self.inner.clock.now();
        let max = self.appointment_config().max_upcoming;
        let outcome = self.inner.store.book(new, max, now).await?;
        if let Booking::Booked(r) = &outcome {
            let mut st = self.desk().state.lock().await;
            st.appointments.insert(r.id, r.clone());
            self.mark_counsellors(&mut st).await;
            drop(st);
            self.tell_appointment(r, AppointmentEvent::Booked, None)
                .await;
        }
        Ok(outcome)
    }

    /// Moves a booking to another slot: the new booking, or why not.
    pub async fn move_appointment(
        &self,
        old: &AppointmentRecord,
        new: &NewAppointment,
    ) -> std::result::Result<Booking, ibasho_consult::store::StoreFailure> {
        let now = self.inner.clock.now();
        let max = self.appointment_config().max_upcoming;
        let outcome = self
            .inner
            .store
            .move_appointment(old.id, new, max, now)
            .await?;
        if let Booking::Booked(r) = &outcome {
            let mut st = self.desk().state.lock().await;
            st.appointments.remove(&old.id);
            st.appointments.insert(r.id, r.clone());
            self.mark_counsellors(&mut st).await;
            drop(st);
            if old.counsellor != r.counsellor {
                let mut was = old.clone();
                was.state = AppointmentState::Moved;
                self.send_to_account(
                    was.counsellor,
                    &ServerFrame::Appointment {
                        event: AppointmentEvent::Moved,
                        appointment: self.appointment_view(&was).await,
                        reminder: None,
                    },
                );
            }
            self.tell_appointment(r, AppointmentEvent::Moved, None)
                .await;
        }
        Ok(outcome)
    }

    /// Cancels a booking that has not opened. Returns it as it is now, or `None` if it was
    /// no longer booked.
    pub async fn cancel_appointment(
        &self,
        id: AppointmentId,
        by: CancelledBy,
        message: Option<String>,
    ) -> std::result::Result<Option<AppointmentRecord>, ibasho_consult::store::StoreFailure> {
        let Some(mut r) = self.inner.store.appointment(id).await? else {
            return Ok(None);
        };
        if r.state != AppointmentState::Booked {
            return Ok(None);
        }
        r.state = AppointmentState::Cancelled;
        r.cancelled_by = Some(by);
        r.message = message;
        r.changed_at = self.inner.clock.now();
        let mut st = self.desk().state.lock().await;
        if !self
            .inner
            .store
            .update_appointment(&r, AppointmentState::Booked)
            .await?
        {
            return Ok(None);
        }
        st.appointments.remove(&id);
        self.mark_counsellors(&mut st).await;
        drop(st);
        self.tell_appointment(&r, AppointmentEvent::Cancelled, None)
            .await;
        Ok(Some(r))
    }

    /// An account was deleted: its upcoming bookings are cancelled (the other side is told)
    /// and the notes it wrote in past bookings are erased.
    pub async fn appointments_account_removed(
        &self,
        account: AccountId,
    ) -> std::result::Result<(), ibasho_consult::store::StoreFailure> {
        let live: Vec<AppointmentRecord> = {
            let st = self.desk().state.lock().await;
            st.appointments
                .values()
                .filter(|a| {
                    a.state == AppointmentState::Booked
                        && (a.requester == account || a.counsellor == account)
                })
                .cloned()
                .collect()
        };
        for a in live {
            let message = (a.counsellor == account).then(|| {
                "Your counsellor is no longer with the service; please book another time. \
                 担当の相談員が退職しました。別の日時をご予約ください。"
                    .to_owned()
            });
            self.cancel_appointment(a.id, CancelledBy::Staff, message)
                .await?;
        }
        for mut a in self.inner.store.appointments_of(account, u32::MAX).await? {
            if a.first_note.is_some() || a.email.is_some() {
                let state = a.state;
                a.first_note = None;
                a.email = None;
                self.inner.store.update_appointment(&a, state).await?;
            }
        }
        Ok(())
    }

    /// Loads the live bookings after a start; an open booking whose consult is no longer
    /// open is closed as it stood.
    pub(crate) async fn load_appointments(
        &self,
    ) -> std::result::Result<(), ibasho_consult::store::StoreFailure> {
        let live = self.inner.store.live_appointments().await?;
        let mut st = self.desk().state.lock().await;
        for a in live {
            if a.state == AppointmentState::Open
                && !a.consult.is_some_and(|c| st.records.contains_key(&c))
            {
                self.finish_appointment(&mut st, a, None).await;
                continue;
            }
            st.appointments.insert(a.id, a);
        }
        Ok(())
    }

    /// The booking of an open consult, if it was booked.
    pub(super) fn appointment_ref(st: &DeskState, consult: ConsultId) -> Option<AppointmentRef> {
        let id = st.records.get(&consult)?.appointment?;
        let a = st.appointments.get(&id)?;
        Some(AppointmentRef {
            id: a.id,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
        })
    }

    /// The booked consult `consult` ended (`end`; `None`: found ended after a restart): the
    /// booking is held, missed or had no counsellor, as things went.
    pub(super) async fn consult_of_appointment_ended(
        &self,
        st: &mut DeskState,
        consult: ConsultId,
        appointment: AppointmentId,
        end: End,
    ) {
        let Some(a) = st.appointments.remove(&appointment) else {
            return;
        };
        if a.consult == Some(consult) {
            self.finish_appointment(st, a, Some(end)).await;
        } else {
            st.appointments.insert(a.id, a);
        }
    }

    async fn finish_appointment(
        &self,
        st: &mut DeskState,
        mut a: AppointmentRecord,
        end: Option<End>,
    ) {
        let state = match (a.requester_came_at, a.counsellor_came_at) {
            (_, None) => AppointmentState::CounsellorAbsent,
            (Some(_), Some(_)) if end != Some(End::Missed) => AppointmentState::Held,
            _ => AppointmentState::Missed,
        };
        let event = match state {
            AppointmentState::Held => AppointmentEvent::Held,
            AppointmentState::Missed => AppointmentEvent::Missed,
            _ => AppointmentEvent::CounsellorAbsent,
        };
        a.state = state;
        a.changed_at = self.inner.clock.now();
        match self
            .inner
            .store
            .update_appointment(&a, AppointmentState::Open)
            .await
        {
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "closing a booking"),
        }
        // The counsellor's pause ends at the next tick.
        st.appointments.remove(&a.id);
        self.tell_appointment(&a, event, None).await;
    }

    /// Writes a changed booking (expected in `expected`) and keeps it in memory.
    async fn store_appointment(
        &self,
        st: &mut DeskState,
        a: AppointmentRecord,
        expected: AppointmentState,
    ) -> Result<bool> {
        let written = self.inner.store.update_appointment(&a, expected).await?;
        if written {
            if a.state.is_live() {
                st.appointments.insert(a.id, a);
            } else {
                st.appointments.remove(&a.id);
            }
        } else {
            // Changed elsewhere (a cancellation that came first): forget our copy.
            st.appointments.remove(&a.id);
        }
        Ok(written)
    }

    /// The appointments' part of the consult tick.
    pub(super) async fn appointment_tick(&self, st: &mut DeskState, now: Millis) -> Result<()> {
        let cfg = self.appointment_config().clone();
        let mut ids: Vec<(Millis, AppointmentId)> = st
            .appointments
            .values()
            .map(|a| (a.starts_at, a.id))
            .collect();
        ids.sort_unstable();
        for (_, id) in ids {
            let Some(a) = st.appointments.get(&id).cloned() else {
                continue;
            };
            match a.state {
                AppointmentState::Booked => self.booked_tick(st, a, now, &cfg).await?,
                AppointmentState::Open => self.open_tick(st, a, now, &cfg).await?,
                _ => {
                    st.appointments.remove(&id);
                }
            }
        }
        self.mark_counsellors(st).await;
        Ok(())
    }

    async fn booked_tick(
        &self,
        st: &mut DeskState,
        mut a: AppointmentRecord,
        now: Millis,
        cfg: &AppointmentConfig,
    ) -> Result<()> {
        // Reminders: the day before, then soon.
        let mut reminder = None;
        if !a.reminded_day_before && now >= a.starts_at - ms(cfg.remind_day_before_hours * 60) {
            a.reminded_day_before = true;
            reminder = Some(Reminder::DayBefore);
        }
        if !a.reminded_soon && now >= a.starts_at - ms(cfg.remind_soon_minutes) {
            a.reminded_soon = true;
            a.reminded_day_before = true;
            reminder = Some(Reminder::Soon);
        }
        if let Some(reminder) = reminder {
            a.changed_at = now;
            if self
                .store_appointment(st, a.clone(), AppointmentState::Booked)
                .await?
            {
                self.tell_appointment(&a, AppointmentEvent::Reminder, Some(reminder))
                    .await;
                let sink = self.desk().reminders.lock().ok().and_then(|s| s.clone());
                if let Some(sink) = sink {
                    let _ = sink.send(ReminderSent {
                        appointment: a.clone(),
                        reminder,
                    });
                }
            } else {
                return Ok(());
            }
        }
        if now < a.starts_at - ms(cfg.open_minutes_before) {
            return Ok(());
        }
        if now >= a.ends_at {
            // The server was not running at the time: nobody could come. Say so, kindly.
            a.state = AppointmentState::Cancelled;
            a.cancelled_by = Some(CancelledBy::Staff);
            a.message = Some(
                "The service was unavailable at the booked time; we are sorry. Please book \
                 another time. 予約の時間にサービスが止まっていました。申し訳ありません。別の日時をご予約ください。"
                    .to_owned(),
            );
            a.changed_at = now;
            if self
                .store_appointment(st, a.clone(), AppointmentState::Booked)
                .await?
            {
                self.tell_appointment(&a, AppointmentEvent::Cancelled, None)
                    .await;
            }
            return Ok(());
        }
        self.open_appointment(st, a, now).await
    }

    /// Opens the consult room of a booking: a consult with its counsellor, past the queue.
    async fn open_appointment(
        &self,
        st: &mut DeskState,
        mut a: AppointmentRecord,
        now: Millis,
    ) -> Result<()> {
        let spec = RequestSpec {
            requester: a.requester,
            profession: None,
            urgent: false,
        };
        let (consult, decisions) = match st.router.start_booked(now, spec.clone(), a.counsellor) {
            Ok(started) => started,
            Err(Refused::AlreadyWaiting) => {
                // Waiting in the drop-in queue: the booking takes its place. In a consult
                // already: the room opens when that one ends.
                let Some(other) = st.router.request_of(a.requester) else {
                    return Ok(());
                };
                if !matches!(
                    st.router.state(other),
                    Some(State::Waiting | State::Offered { .. })
                ) {
                    return Ok(());
                }
                let d = st.router.cancel(now, other).map_err(super::refused)?;
                self.carry_out(st, d, Released::Ended).await?;
                st.router
                    .start_booked(now, spec, a.counsellor)
                    .map_err(super::refused)?
            }
            Err(r) => return Err(super::refused(r)),
        };
        self.person(st, a.requester).await?;
        let record = ConsultRecord {
            id: consult,
            requester: a.requester,
            topic: a.topic,
            for_whom: a.for_whom,
            profession: None,
            channel: Channel::Text,
            first_message: a.first_note.clone(),
            urgent: false,
            requested_at: a.booked_at,
            queued_at: now,
            front: false,
            counsellor: None,
            started_at: None,
            only: None,
            handover: None,
            end: None,
            ended_at: None,
            appointment: Some(a.id),
        };
        if let Err(e) = self.inner.store.save_consult(&record).await {
            let _ = st.router.cancel(now, consult);
            return Err(e.into());
        }
        st.records.insert(consult, record);
        a.state = AppointmentState::Open;
        a.consult = Some(consult);
        a.changed_at = now;
        if !self
            .store_appointment(st, a.clone(), AppointmentState::Booked)
            .await?
        {
            // Cancelled in the same instant: the consult does not go ahead.
            let d = st.router.cancel(now, consult).map_err(super::refused)?;
            return self.carry_out(st, d, Released::Ended).await;
        }
        st.queue_changed = true;
        self.carry_out(st, decisions, Released::GraceOver).await?;
        self.tell_appointment(&a, AppointmentEvent::Opened, None)
            .await;
        Ok(())
    }

    async fn open_tick(
        &self,
        st: &mut DeskState,
        mut a: AppointmentRecord,
        now: Millis,
        cfg: &AppointmentConfig,
    ) -> Result<()> {
        let Some(consult) = a.consult else {
            return Ok(());
        };
        // Who has come (the presence frames themselves go for every consult).
        let (requester_here, counsellor_here) = self.presence(a.requester, a.counsellor, consult);
        let mut changed = false;
        if requester_here && a.requester_came_at.is_none() {
            a.requester_came_at = Some(now);
            changed = true;
        }
        let with_booked_counsellor = matches!(
            st.router.state(consult),
            Some(State::Active { counsellor, .. }) if *counsellor == a.counsellor
        );
        if counsellor_here && with_booked_counsellor && a.counsellor_came_at.is_none() {
            a.counsellor_came_at = Some(now);
            changed = true;
        }
        if changed {
            a.changed_at = now;
            if !self
                .store_appointment(st, a.clone(), AppointmentState::Open)
                .await?
            {
                return Ok(());
            }
        }
        // The counsellor did not come, and the person is here: first in the drop-in queue.
        if a.counsellor_came_at.is_none()
            && with_booked_counsellor
            && a.requester_came_at.is_some()
            && now >= a.starts_at + ms(cfg.counsellor_grace_minutes)
        {
            let d = st
                .router
                .counsellor_absent(now, consult)
                .map_err(super::refused)?;
            a.state = AppointmentState::CounsellorAbsent;
            a.changed_at = now;
            self.store_appointment(st, a.clone(), AppointmentState::Open)
                .await?;
            self.mark_counsellors(st).await;
            self.carry_out(st, d, Released::GraceOver).await?;
            self.tell_appointment(&a, AppointmentEvent::CounsellorAbsent, None)
                .await;
            return Ok(());
        }
        // The person did not come: missed (nothing is held against them).
        if a.requester_came_at.is_none() && now >= a.starts_at + ms(cfg.missed_after_minutes) {
            let d = st.router.missed(now, consult).map_err(super::refused)?;
            self.carry_out(st, d, Released::Ended).await?;
        }
        Ok(())
    }

    /// Whether the requester and the counsellor have the consult's room open.
    pub(super) fn presence(
        &self,
        requester: AccountId,
        counsellor: AccountId,
        consult: ConsultId,
    ) -> (bool, bool) {
        match self.room(&consult_room(consult)) {
            Some(room) => {
                let state = room.state();
                (
                    !state.connections_of(requester).is_empty(),
                    !state.connections_of(counsellor).is_empty(),
                )
            }
            None => (false, false),
        }
    }

    /// Tells the router which counsellors are held by their bookings: paused from
    /// `queue_pause_minutes` before a booked time until its consult ends, and when each one's
    /// next booked consult starts (for the estimates). Only changes are passed on.
    pub(super) async fn mark_counsellors(&self, st: &mut DeskState) {
        let now = self.inner.clock.now();
        let pause = ms(self.appointment_config().queue_pause_minutes);
        let mut marks: HashMap<AccountId, (bool, Option<Millis>)> = HashMap::new();
        for a in st.appointments.values() {
            let paused = a.state == AppointmentState::Open || a.starts_at - pause <= now;
            let m = marks.entry(a.counsellor).or_insert((false, None));
            m.0 |= paused;
            m.1 = Some(m.1.map_or(a.starts_at, |t| t.min(a.starts_at)));
        }
        let mut changes: Vec<(AccountId, (bool, Option<Millis>))> = marks
            .iter()
            .filter(|(c, m)| st.marks.get(c) != Some(m))
            .map(|(c, m)| (*c, *m))
            .collect();
        changes.extend(
            st.marks
                .keys()
                .filter(|c| !marks.contains_key(c))
                .map(|c| (*c, (false, None))),
        );
        if changes.is_empty() {
            return;
        }
        let mut decisions = Vec::new();
        for (c, (paused, next)) in changes {
            decisions.extend(st.router.set_bookings(now, c, paused, next));
        }
        st.marks = marks;
        st.queue_changed = true;
        if let Err(e) = self.carry_out(st, decisions, Released::GraceOver).await {
            tracing::error!(error = %e.message, "applying counsellors' bookings");
        }
    }
}

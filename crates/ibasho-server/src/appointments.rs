//! Consult appointments (予約制) over HTTP: counsellors (or staff for them) publish bookable
//! time; participants and families see the free slots, book, cancel and move; staff see the
//! day per counsellor (never content), the month's counts and a CSV. Booking is decided by the
//! store (of two attempts at one time exactly one wins); the hub's desk opens the consult room
//! at the time and sends the reminders, which are mailed here to those who asked.

use crate::entry::parse_body;
use crate::error::{AppError, problem_response};
use crate::http::{AppState, Caller};
use crate::mail::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ibasho_accounts::authz::Action;
use ibasho_consult::AppointmentConfig;
use ibasho_consult::appointments::{Slot, SlotRule, SlotRuleInput};
use ibasho_consult::store::{
    AppointmentCounts, AppointmentRecord, Booking, NewAppointment, RuleRecord, StoreFailure,
};
use ibasho_protocol::consult::{
    AppointmentId, AppointmentState, AppointmentView, CancelledBy, ForWhom, Profession, Reminder,
    Topic,
};
use ibasho_protocol::error::Problem;
use ibasho_protocol::{AccountId, ErrorCode, Millis, Person, Role};
use ibasho_schedule::OpeningHours;
use ibasho_schedule::chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use ibasho_schedule::chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Most rules in force per counsellor.
pub const MAX_RULES_PER_COUNSELLOR: usize = 50;

const WEEK: Millis = 7 * 24 * 3_600_000;

fn store_error(e: StoreFailure) -> AppError {
    AppError::from(anyhow::anyhow!(e))
}

fn cfg(state: &AppState) -> &AppointmentConfig {
    &state.config.appointments
}

fn ms(minutes: u32) -> Millis {
    AppointmentConfig::ms(minutes)
}

fn time_zone(state: &AppState) -> Tz {
    ibasho_schedule::recurrence::parse_tz(&state.config.opening_hours.time_zone)
        .unwrap_or(ibasho_schedule::chrono_tz::Asia::Tokyo)
}

fn hours(state: &AppState) -> Result<OpeningHours, AppError> {
    OpeningHours::from_config(&state.config.opening_hours)
        .map_err(|e| AppError::from(anyhow::anyhow!("opening_hours: {e}")))
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Staff | Role::Admin)
}

/// A date written out, in the space's zone: 「2026年11月25日（水）14:00〜14:50」 and
/// "Wednesday 25 November 2026, 14:00–14:50".
pub fn written_out(tz: Tz, starts_at: Millis, ends_at: Millis) -> (String, String) {
    let at = |ms: Millis| {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .unwrap_or_default()
            .with_timezone(&tz)
    };
    let (s, e) = (at(starts_at), at(ends_at));
    let ja_day = match s.weekday() {
        Weekday::Mon => "月",
        Weekday::Tue => "火",
        Weekday::Wed => "水",
        Weekday::Thu => "木",
        Weekday::Fri => "金",
        Weekday::Sat => "土",
        Weekday::Sun => "日",
    };
    (
        format!(
            "{}年{}月{}日（{}）{}〜{}",
            s.year(),
            s.month(),
            s.day(),
            ja_day,
            s.format("%H:%M"),
            e.format("%H:%M")
        ),
        format!(
            "{}, {}–{}",
            s.format("%A %-d %B %Y"),
            s.format("%H:%M"),
            e.format("%H:%M")
        ),
    )
}

// ---- free slots ------------------------------------------------------------------------------

/// What a person looks for.
#[derive(Clone, Copy, Debug, Default)]
struct Wanted {
    counsellor: Option<AccountId>,
    profession: Option<Profession>,
    for_whom: Option<ForWhom>,
    topic: Option<Topic>,
}

/// The free slots starting in `[from, to)`: every rule in force cut into slots, kinds and
/// professions filtered, slots overlapping a live booking (or an earlier slot of the same
/// counsellor from another rule) left out. By start.
async fn free_slots(
    state: &AppState,
    from: Millis,
    to: Millis,
    wanted: Wanted,
) -> Result<(Vec<(AccountId, Slot)>, HashMap<AccountId, Vec<Profession>>), AppError> {
    let store = state.hub.store();
    let professions: HashMap<AccountId, Vec<Profession>> = store
        .counsellor_profiles()
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|(a, p)| (a, p.professions))
        .collect();
    let hours = hours(state)?;
    let tz = state.config.opening_hours.time_zone.clone();
    let mut per: BTreeMap<AccountId, Vec<Slot>> = BTreeMap::new();
    for rule in store.rules(wanted.counsellor).await.map_err(store_error)? {
        // Only counsellors still on the service publish.
        let Some(theirs) = professions.get(&rule.counsellor) else {
            continue;
        };
        if wanted.profession.is_some_and(|p| !theirs.contains(&p)) {
            continue;
        }
        let compiled = match SlotRule::compile(&tz, &rule.input) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(rule = rule.id, error = %e, "a stored slot rule no longer compiles");
                continue;
            }
        };
        if wanted.for_whom.is_some_and(|f| !compiled.takes_for(f))
            || wanted.topic.is_some_and(|t| !compiled.takes_topic(t))
        {
            continue;
        }
        per.entry(rule.counsellor)
            .or_default()
            .extend(compiled.slots(&hours, from, to));
    }
    let mut booked: HashMap<AccountId, Vec<(Millis, Millis)>> = HashMap::new();
    for a in store
        .appointments_between(from - WEEK, to + WEEK, wanted.counsellor)
        .await
        .map_err(store_error)?
    {
        if a.state.is_live() {
            booked
                .entry(a.counsellor)
                .or_default()
                .push((a.starts_at, a.ends_at));
        }
    }
    let mut out = Vec::new();
    for (counsellor, mut slots) in per {
        // A suspended counsellor's times are not offered.
        let active = store
            .account(counsellor)
            .await?
            .is_some_and(|a| a.status == ibasho_protocol::api::AccountStatus::Active);
        if !active {
            continue;
        }
        slots.sort_unstable();
        let taken = booked.get(&counsellor).map(Vec::as_slice).unwrap_or(&[]);
        let mut last_end = Millis::MIN;
        for s in slots {
            if s.start < last_end || taken.iter().any(|(b0, b1)| *b0 < s.end && *b1 > s.start) {
                continue;
            }
            last_end = s.end;
            out.push((counsellor, s));
        }
    }
    out.sort_by_key(|(c, s)| (s.start, *c));
    Ok((out, professions))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SlotsQuery {
    weeks: Option<u32>,
    profession: Option<String>,
    for_whom: Option<String>,
    topic: Option<String>,
    counsellor: Option<String>,
}

fn wire<T: serde::de::DeserializeOwned>(
    field: &str,
    v: Option<&str>,
) -> Result<Option<T>, AppError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            serde_json::from_value(serde_json::Value::String(s.to_owned()))
                .map_err(|_| AppError::field(ErrorCode::InvalidInput, field, "unknown value"))
        })
        .transpose()
}

fn account_param(field: &str, v: Option<&str>) -> Result<Option<AccountId>, AppError> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| AppError::field(ErrorCode::InvalidInput, field, "not an account id"))
        })
        .transpose()
}

#[derive(Debug, Serialize)]
struct SlotCounsellor {
    counsellor: Person,
    professions: Vec<Profession>,
}

#[derive(Debug, Serialize)]
struct FreeSlot {
    counsellor: AccountId,
    starts_at: Millis,
    ends_at: Millis,
}

/// The earliest start a booking may have now.
fn earliest(state: &AppState) -> Millis {
    state.now() + ms(cfg(state).book_until_minutes)
}

/// `GET /api/appointments/slots`: free slots for the next weeks.
pub(crate) async fn slots(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SlotsQuery>,
) -> Result<Response, AppError> {
    if !(authz_book(&caller) || caller.0.role.works_here()) {
        return Err(AppError::client(
            ErrorCode::NotAllowed,
            "your role does not allow this",
        ));
    }
    let weeks = q.weeks.unwrap_or(cfg(&state).weeks_ahead);
    if weeks == 0 || weeks > cfg(&state).weeks_ahead {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "weeks",
            format!("between 1 and {}", cfg(&state).weeks_ahead),
        ));
    }
    let wanted = Wanted {
        counsellor: account_param("counsellor", q.counsellor.as_deref())?,
        profession: wire("profession", q.profession.as_deref())?,
        for_whom: wire("for_whom", q.for_whom.as_deref())?,
        topic: wire("topic", q.topic.as_deref())?,
    };
    let from = earliest(&state);
    let to = state.now() + i64::from(weeks) * WEEK;
    let (found, professions) = free_slots(&state, from, to, wanted).await?;
    let mut counsellors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (c, _) in &found {
        if seen.insert(*c) {
            counsellors.push(SlotCounsellor {
                counsellor: state.hub.person_of(*c).await,
                professions: professions.get(c).cloned().unwrap_or_default(),
            });
        }
    }
    counsellors.sort_by(|a, b| a.counsellor.handle.cmp(&b.counsellor.handle));
    let slots: Vec<FreeSlot> = found
        .into_iter()
        .map(|(counsellor, s)| FreeSlot {
            counsellor,
            starts_at: s.start,
            ends_at: s.end,
        })
        .collect();
    Ok(Json(serde_json::json!({
        "time_zone": state.config.opening_hours.time_zone,
        "counsellors": counsellors,
        "slots": slots,
    }))
    .into_response())
}

fn authz_book(caller: &Caller) -> bool {
    ibasho_accounts::authz::allowed(caller.0.role, Action::RequestConsult)
}

// ---- booking ---------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BookBody {
    counsellor: AccountId,
    starts_at: Millis,
    for_whom: ForWhom,
    topic: Topic,
    #[serde(default)]
    first_note: Option<String>,
    #[serde(default)]
    email_reminders: bool,
    /// Where to mail the reminders (participants' accounts keep no address).
    #[serde(default)]
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    starts_at: Millis,
    #[serde(default)]
    counsellor: Option<AccountId>,
}

/// Checks a wished-for booking (`wish.starts_at`; its end and reminders are filled in here)
/// and returns the booking to make: a free slot of that counsellor that takes this kind, not
/// too late, not too far ahead.
async fn new_booking(
    state: &AppState,
    wish: NewAppointment,
    moving: Option<AppointmentId>,
) -> Result<NewAppointment, AppError> {
    let (counsellor, starts_at, for_whom, topic) =
        (wish.counsellor, wish.starts_at, wish.for_whom, wish.topic);
    let c = cfg(state);
    let now = state.now();
    if starts_at < earliest(state) {
        return Err(AppError::client(
            ErrorCode::TooLate,
            format!(
                "a time can be booked until {} minutes before it starts",
                c.book_until_minutes
            ),
        ));
    }
    if starts_at >= now + i64::from(c.weeks_ahead) * WEEK {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "starts_at",
            format!("times can be booked up to {} weeks ahead", c.weeks_ahead),
        ));
    }
    let wanted = Wanted {
        counsellor: Some(counsellor),
        for_whom: Some(for_whom),
        topic: Some(topic),
        profession: None,
    };
    let (found, _) = free_slots(state, starts_at, starts_at + 1, wanted).await?;
    let Some((_, slot)) = found.into_iter().find(|(_, s)| s.start == starts_at) else {
        // Is it a slot someone holds (or the one being moved)? Then say so; otherwise it was
        // never a free time of this counsellor for this kind.
        let held = state
            .hub
            .store()
            .appointments_between(starts_at, starts_at + 1, Some(counsellor))
            .await
            .map_err(store_error)?
            .into_iter()
            .any(|a| a.state.is_live() && Some(a.id) != moving);
        return Err(if held {
            AppError::client(
                ErrorCode::SlotTaken,
                "someone booked that time just now; please choose another",
            )
        } else {
            AppError::field(
                ErrorCode::InvalidInput,
                "starts_at",
                "not a free time of this counsellor for this kind of consult",
            )
        });
    };
    Ok(NewAppointment {
        starts_at: slot.start,
        ends_at: slot.end,
        reminded_day_before: slot.start - ms(c.remind_day_before_hours * 60) <= now,
        reminded_soon: slot.start - ms(c.remind_soon_minutes) <= now,
        ..wish
    })
}

fn refused(b: &Booking) -> AppError {
    match b {
        Booking::Booked(_) => AppError::from(anyhow::anyhow!("not a refusal")),
        Booking::Taken => AppError::client(
            ErrorCode::SlotTaken,
            "someone booked that time just now; please choose another",
        ),
        Booking::Limit => AppError::client(
            ErrorCode::BookingLimit,
            "you already hold as many bookings as one may, or one at that time",
        ),
        Booking::Gone => {
            AppError::client(ErrorCode::ConsultState, "that booking is no longer booked")
        }
    }
}

fn check_text(
    state: &AppState,
    field: &str,
    text: Option<String>,
    required: bool,
) -> Result<Option<String>, AppError> {
    let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    match &text {
        None if required => Err(AppError::field(
            ErrorCode::InvalidInput,
            field,
            "write a few words for the person",
        )),
        Some(t) if t.chars().count() > cfg(state).note_max_chars => Err(AppError::field(
            ErrorCode::TooLong,
            field,
            format!("at most {} characters", cfg(state).note_max_chars),
        )),
        _ => Ok(text),
    }
}

async fn email_of(state: &AppState, account: AccountId) -> Result<Option<String>, AppError> {
    Ok(state
        .entry
        .credentials_of(account)
        .await?
        .and_then(|c| c.email))
}

/// Mails a booking's news to the person, if they asked for mail and mail is configured.
async fn mail_person(state: &AppState, r: &AppointmentRecord, kind: MailKind) {
    if !r.email_reminders || !state.mailer.configured() {
        return;
    }
    let to = match &r.email {
        Some(to) => to.clone(),
        None => match email_of(state, r.requester).await {
            Ok(Some(to)) => to,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = ?e, "reading an e-mail address for a reminder");
                return;
            }
        },
    };
    let counsellor = state.hub.person_of(r.counsellor).await.handle;
    let (when_ja, when_en) = written_out(time_zone(state), r.starts_at, r.ends_at);
    let link = format!(
        "{}/#/consult",
        state.config.public_url().trim_end_matches('/')
    );
    let template = Template::Appointment {
        kind,
        when_ja: &when_ja,
        when_en: &when_en,
        counsellor: &counsellor,
        message: r.message.as_deref(),
        link: &link,
    };
    if let Err(e) = state.mailer.queue(&to, template).await {
        tracing::error!(error = %e, "queueing a booking mail");
    }
}

/// What a booking mail is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// Booked (or moved).
    Booked,
    /// The day before.
    DayBefore,
    /// Soon.
    Soon,
    /// Cancelled by the counsellor or staff.
    Cancelled,
}

/// Mails the reminders the desk sends, to those who asked for mail.
pub fn spawn_reminder_mail(state: AppState) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    state.hub.on_reminders(tx);
    tokio::spawn(async move {
        while let Some(sent) = rx.recv().await {
            let sent: ibasho_hub::ReminderSent = sent;
            let kind = match sent.reminder {
                Reminder::DayBefore => MailKind::DayBefore,
                Reminder::Soon => MailKind::Soon,
            };
            mail_person(&state, &sent.appointment, kind).await;
        }
    });
}

/// `POST /api/appointments`: books a free slot.
pub(crate) async fn book(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::RequestConsult)?;
    let b: BookBody = parse_body(&body)?;
    let note = check_text(&state, "first_note", b.first_note, false)?;
    let email = if b.email_reminders {
        if !state.mailer.configured() {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "email_reminders",
                "mail is not set up here; reminders come in the app",
            ));
        }
        match b.email.as_deref().filter(|e| !e.trim().is_empty()) {
            Some(e) => Some(crate::entry::check_email(e)?),
            None => email_of(&state, caller.0.account).await?,
        }
        .map(Some)
        .ok_or_else(|| {
            AppError::field(
                ErrorCode::InvalidInput,
                "email",
                "the address for the reminders",
            )
        })?
    } else {
        None
    };
    let wish = NewAppointment {
        counsellor: b.counsellor,
        requester: caller.0.account,
        starts_at: b.starts_at,
        ends_at: b.starts_at,
        for_whom: b.for_whom,
        topic: b.topic,
        first_note: note,
        email_reminders: b.email_reminders,
        email,
        reminded_day_before: false,
        reminded_soon: false,
    };
    let new = new_booking(&state, wish, None).await?;
    let outcome = state
        .hub
        .book_appointment(&new)
        .await
        .map_err(store_error)?;
    let Booking::Booked(r) = outcome else {
        return Err(refused(&outcome));
    };
    mail_person(&state, &r, MailKind::Booked).await;
    Ok((
        StatusCode::CREATED,
        Json(state.hub.appointment_view(&r).await),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    from: Option<Millis>,
    to: Option<Millis>,
}

/// `GET /api/appointments`: one's own bookings (a person's: upcoming, then the last 20 past;
/// a counsellor's: those with them in a window, from today on by default).
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let store = state.hub.store();
    let now = state.now();
    let records: Vec<AppointmentRecord> = if caller.0.role == Role::Counsellor {
        let from = q.from.unwrap_or(now - 24 * 3_600_000);
        let to =
            q.to.unwrap_or(now + i64::from(cfg(&state).weeks_ahead) * WEEK + WEEK);
        if to <= from || to - from > 366 * 24 * 3_600_000 {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "to",
                "a window of at most a year, ending after it starts",
            ));
        }
        store
            .appointments_between(from, to, Some(caller.0.account))
            .await
            .map_err(store_error)?
            .into_iter()
            .filter(|a| a.state != AppointmentState::Moved)
            .collect()
    } else if authz_book(&caller) {
        let mut all = store
            .appointments_of(caller.0.account, 200)
            .await
            .map_err(store_error)?;
        all.retain(|a| a.state != AppointmentState::Moved);
        let (mut live, past): (Vec<_>, Vec<_>) = all.into_iter().partition(|a| a.state.is_live());
        live.sort_by_key(|a| a.starts_at);
        live.extend(past.into_iter().take(20));
        live
    } else {
        return Err(AppError::client(
            ErrorCode::NotAllowed,
            "staff see bookings in the day view",
        ));
    };
    let mut out = Vec::with_capacity(records.len());
    for r in &records {
        out.push(state.hub.appointment_view(r).await);
    }
    Ok(Json(out).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    message: Option<String>,
}

fn body_or_default<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_body(body)
    }
}

async fn load(state: &AppState, id: &str) -> Result<AppointmentRecord, AppError> {
    let not_found = || AppError::client(ErrorCode::NotFound, "no such booking");
    let id: AppointmentId = id.parse().map_err(|_| not_found())?;
    state
        .hub
        .store()
        .appointment(id)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)
}

/// `POST /api/appointments/{id}/cancel`.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let r = load(&state, &id).await?;
    let b: CancelBody = body_or_default(&body)?;
    let me = caller.0.account;
    let (by, message) = if r.requester == me {
        if state.now() >= r.starts_at - ms(cfg(&state).change_until_minutes)
            && r.state == AppointmentState::Booked
        {
            return Err(AppError::client(
                ErrorCode::TooLate,
                format!(
                    "a booking can be cancelled until {} minutes before it starts; if you cannot come, that is all right",
                    cfg(&state).change_until_minutes
                ),
            ));
        }
        (CancelledBy::Requester, None)
    } else if caller.0.role == Role::Counsellor && r.counsellor == me {
        (
            CancelledBy::Counsellor,
            check_text(&state, "message", b.message, true)?,
        )
    } else if is_staff(caller.0.role) {
        (
            CancelledBy::Staff,
            check_text(&state, "message", b.message, true)?,
        )
    } else {
        return Err(AppError::client(ErrorCode::NotFound, "no such booking"));
    };
    if r.state != AppointmentState::Booked {
        return Err(AppError::client(
            ErrorCode::ConsultState,
            "this booking is no longer booked (its room may be open: end the consult instead)",
        ));
    }
    let Some(done) = state
        .hub
        .cancel_appointment(r.id, by, message)
        .await
        .map_err(store_error)?
    else {
        return Err(AppError::client(
            ErrorCode::ConsultState,
            "this booking is no longer booked",
        ));
    };
    if by == CancelledBy::Staff {
        state
            .audit(
                me,
                "appointment_cancelled",
                Some(r.requester),
                done.message.clone().unwrap_or_default(),
                serde_json::json!({ "appointment": r.id, "counsellor": r.counsellor }),
            )
            .await?;
    }
    if by != CancelledBy::Requester {
        mail_person(&state, &done, MailKind::Cancelled).await;
    }
    Ok(Json(state.hub.appointment_view(&done).await).into_response())
}

/// `POST /api/appointments/{id}/move`: the person moves their booking to another free slot.
pub(crate) async fn move_to(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let r = load(&state, &id).await?;
    if r.requester != caller.0.account {
        return Err(AppError::client(ErrorCode::NotFound, "no such booking"));
    }
    let b: MoveBody = parse_body(&body)?;
    if r.state != AppointmentState::Booked {
        return Err(AppError::client(
            ErrorCode::ConsultState,
            "this booking is no longer booked",
        ));
    }
    if state.now() >= r.starts_at - ms(cfg(&state).change_until_minutes) {
        return Err(AppError::client(
            ErrorCode::TooLate,
            format!(
                "a booking can be moved until {} minutes before it starts",
                cfg(&state).change_until_minutes
            ),
        ));
    }
    let wish = NewAppointment {
        counsellor: b.counsellor.unwrap_or(r.counsellor),
        requester: r.requester,
        starts_at: b.starts_at,
        ends_at: b.starts_at,
        for_whom: r.for_whom,
        topic: r.topic,
        first_note: r.first_note.clone(),
        email_reminders: r.email_reminders,
        email: r.email.clone(),
        reminded_day_before: false,
        reminded_soon: false,
    };
    let new = new_booking(&state, wish, Some(r.id)).await?;
    let outcome = state
        .hub
        .move_appointment(&r, &new)
        .await
        .map_err(store_error)?;
    let Booking::Booked(moved) = outcome else {
        return Err(refused(&outcome));
    };
    mail_person(&state, &moved, MailKind::Booked).await;
    Ok(Json(state.hub.appointment_view(&moved).await).into_response())
}

// ---- rules -----------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct RuleBody {
    #[serde(default)]
    counsellor: Option<AccountId>,
    #[serde(flatten)]
    input: SlotRuleInput,
}

#[derive(Debug, Serialize)]
struct RuleView {
    id: u64,
    counsellor: Person,
    #[serde(flatten)]
    input: SlotRuleInput,
    created_at: Millis,
}

async fn rule_view(state: &AppState, r: RuleRecord) -> RuleView {
    RuleView {
        id: r.id,
        counsellor: state.hub.person_of(r.counsellor).await,
        input: r.input,
        created_at: r.created_at,
    }
}

/// Whose rules the caller may manage: a counsellor their own; staff anyone's (named).
async fn rule_owner(
    state: &AppState,
    caller: &Caller,
    named: Option<AccountId>,
) -> Result<AccountId, AppError> {
    match caller.0.role {
        Role::Counsellor => match named {
            Some(c) if c != caller.0.account => Err(AppError::client(
                ErrorCode::NotAllowed,
                "counsellors publish their own times; staff may publish for others",
            )),
            _ => Ok(caller.0.account),
        },
        r if is_staff(r) => {
            let c = named.ok_or_else(|| {
                AppError::field(
                    ErrorCode::InvalidInput,
                    "counsellor",
                    "choose the counsellor",
                )
            })?;
            let is_counsellor = state
                .hub
                .store()
                .account(c)
                .await?
                .is_some_and(|a| a.role == Role::Counsellor);
            if !is_counsellor {
                return Err(AppError::field(
                    ErrorCode::InvalidInput,
                    "counsellor",
                    "no such counsellor",
                ));
            }
            Ok(c)
        }
        _ => Err(AppError::client(
            ErrorCode::NotAllowed,
            "your role does not allow this",
        )),
    }
}

fn compile(state: &AppState, caller: &Caller, input: &SlotRuleInput) -> Result<SlotRule, AppError> {
    if input.outside_hours && !is_staff(caller.0.role) {
        return Err(AppError::field(
            ErrorCode::NotAllowed,
            "outside_hours",
            "only staff may allow times outside the opening hours",
        ));
    }
    if input.except_dates.len() > 366 {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "except_dates",
            "at most 366 days",
        ));
    }
    SlotRule::compile(&state.config.opening_hours.time_zone, input)
        .map_err(|e| AppError::client(ErrorCode::InvalidInput, e.to_string()))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RulesQuery {
    counsellor: Option<String>,
}

/// `GET /api/appointment-rules`.
pub(crate) async fn rules(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RulesQuery>,
) -> Result<Response, AppError> {
    let named = account_param("counsellor", q.counsellor.as_deref())?;
    let whose = if is_staff(caller.0.role) {
        named
    } else {
        Some(rule_owner(&state, &caller, named).await?)
    };
    let mut out = Vec::new();
    for r in state.hub.store().rules(whose).await.map_err(store_error)? {
        out.push(rule_view(&state, r).await);
    }
    Ok(Json(out).into_response())
}

/// `POST /api/appointment-rules`: publishes bookable time.
pub(crate) async fn create_rule(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, AppError> {
    let b: RuleBody = parse_body(&body)?;
    let owner = rule_owner(&state, &caller, b.counsellor).await?;
    compile(&state, &caller, &b.input)?;
    let store = state.hub.store();
    if store.rules(Some(owner)).await.map_err(store_error)?.len() >= MAX_RULES_PER_COUNSELLOR {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            format!("at most {MAX_RULES_PER_COUNSELLOR} rules per counsellor; delete an old one"),
        ));
    }
    let rule = store
        .create_rule(owner, &b.input, caller.0.account, state.now())
        .await
        .map_err(store_error)?;
    if owner != caller.0.account {
        state
            .audit(
                caller.0.account,
                "appointment_rule_created",
                Some(owner),
                String::new(),
                serde_json::json!({ "rule": rule.id }),
            )
            .await?;
    }
    Ok((StatusCode::CREATED, Json(rule_view(&state, rule).await)).into_response())
}

/// `POST /api/appointment-rules/preview`: the slots a rule would give, nothing stored.
pub(crate) async fn preview_rule(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, AppError> {
    let b: RuleBody = parse_body(&body)?;
    rule_owner(&state, &caller, b.counsellor).await?;
    let compiled = compile(&state, &caller, &b.input)?;
    let now = state.now();
    let to = now + i64::from(cfg(&state).weeks_ahead) * WEEK;
    let slots: Vec<FreeSlot> = compiled
        .slots(&hours(&state)?, now, to)
        .into_iter()
        .map(|s| FreeSlot {
            counsellor: b.counsellor.unwrap_or(caller.0.account),
            starts_at: s.start,
            ends_at: s.end,
        })
        .collect();
    Ok(Json(serde_json::json!({ "slots": slots })).into_response())
}

#[derive(Debug, Serialize)]
struct BookedProblem {
    #[serde(flatten)]
    problem: Problem,
    appointments: Vec<AppointmentView>,
}

/// `DELETE /api/appointment-rules/{id}`: a booked slot goes only with its booking cancelled,
/// with a message to the person.
pub(crate) async fn delete_rule(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let not_found = || AppError::client(ErrorCode::NotFound, "no such rule");
    let id: u64 = id.parse().map_err(|_| not_found())?;
    let store = state.hub.store();
    let rule = store
        .rule(id)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    let owner = rule_owner(&state, &caller, Some(rule.counsellor))
        .await
        .map_err(|_| not_found())?;
    let b: CancelBody = body_or_default(&body)?;
    let message = check_text(&state, "message", b.message, false)?;
    // The bookings that would lose their slot: booked in one of this rule's slots, and in no
    // other rule's of the same counsellor.
    let now = state.now();
    let to = now + i64::from(cfg(&state).weeks_ahead) * WEEK + WEEK;
    let tz = &state.config.opening_hours.time_zone;
    let hours = hours(&state)?;
    let mine: std::collections::HashSet<Millis> = SlotRule::compile(tz, &rule.input)
        .map(|r| {
            r.slots(&hours, now, to)
                .into_iter()
                .map(|s| s.start)
                .collect()
        })
        .unwrap_or_default();
    let mut others = std::collections::HashSet::new();
    for other in store.rules(Some(owner)).await.map_err(store_error)? {
        if other.id != rule.id
            && let Ok(r) = SlotRule::compile(tz, &other.input)
        {
            others.extend(r.slots(&hours, now, to).into_iter().map(|s| s.start));
        }
    }
    let orphaned: Vec<AppointmentRecord> = store
        .appointments_between(now, to, Some(owner))
        .await
        .map_err(store_error)?
        .into_iter()
        .filter(|a| {
            a.state == AppointmentState::Booked
                && mine.contains(&a.starts_at)
                && !others.contains(&a.starts_at)
        })
        .collect();
    if !orphaned.is_empty() {
        let Some(message) = message else {
            let mut views = Vec::new();
            for a in &orphaned {
                views.push(state.hub.appointment_view(a).await);
            }
            let body = BookedProblem {
                problem: Problem::new(
                    ErrorCode::AppointmentsBooked,
                    format!(
                        "{} booking(s) lie in these times; cancel them with a message to the people first",
                        orphaned.len()
                    ),
                ),
                appointments: views,
            };
            let mut response = problem_response(&body.problem);
            *response.status_mut() = StatusCode::CONFLICT;
            let json = serde_json::to_vec(&body).unwrap_or_default();
            *response.body_mut() = axum::body::Body::from(json);
            return Ok(response);
        };
        let by = if caller.0.role == Role::Counsellor {
            CancelledBy::Counsellor
        } else {
            CancelledBy::Staff
        };
        for a in orphaned {
            if let Some(done) = state
                .hub
                .cancel_appointment(a.id, by, Some(message.clone()))
                .await
                .map_err(store_error)?
            {
                mail_person(&state, &done, MailKind::Cancelled).await;
            }
        }
    }
    store.delete_rule(id, now).await.map_err(store_error)?;
    if owner != caller.0.account {
        state
            .audit(
                caller.0.account,
                "appointment_rule_deleted",
                Some(owner),
                String::new(),
                serde_json::json!({ "rule": id }),
            )
            .await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- staff -----------------------------------------------------------------------------------

/// The instants a local day or month starts and ends.
fn local_bounds(tz: Tz, first: NaiveDate, next: NaiveDate) -> Option<(Millis, Millis)> {
    let start = tz
        .from_local_datetime(&first.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    let end = tz
        .from_local_datetime(&next.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    Some((start.timestamp_millis(), end.timestamp_millis()))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DayQuery {
    date: String,
}

#[derive(Debug, Serialize)]
struct DayEntry {
    id: AppointmentId,
    starts_at: Millis,
    ends_at: Millis,
    for_whom: ForWhom,
    topic: Topic,
    state: AppointmentState,
}

#[derive(Debug, Serialize)]
struct DayCounsellor {
    counsellor: Person,
    appointments: Vec<DayEntry>,
}

/// `GET /api/staff/appointments?date=`: the day's bookings per counsellor — times, kinds and
/// states; never who or what about.
pub(crate) async fn day(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<DayQuery>,
) -> Result<Response, AppError> {
    caller.require(Action::ManageCounsellors)?;
    let bad = || AppError::field(ErrorCode::InvalidInput, "date", "YYYY-MM-DD");
    let first = NaiveDate::parse_from_str(&q.date, "%Y-%m-%d").map_err(|_| bad())?;
    let next = first.succ_opt().ok_or_else(bad)?;
    let (from, to) = local_bounds(time_zone(&state), first, next).ok_or_else(bad)?;
    let mut per: BTreeMap<AccountId, Vec<DayEntry>> = BTreeMap::new();
    for a in state
        .hub
        .store()
        .appointments_between(from, to, None)
        .await
        .map_err(store_error)?
    {
        if a.state == AppointmentState::Moved {
            continue;
        }
        per.entry(a.counsellor).or_default().push(DayEntry {
            id: a.id,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            for_whom: a.for_whom,
            topic: a.topic,
            state: a.state,
        });
    }
    let mut counsellors = Vec::new();
    for (c, appointments) in per {
        counsellors.push(DayCounsellor {
            counsellor: state.hub.person_of(c).await,
            appointments,
        });
    }
    counsellors.sort_by(|a, b| a.counsellor.handle.cmp(&b.counsellor.handle));
    Ok(Json(serde_json::json!({ "date": q.date, "counsellors": counsellors })).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct MonthQuery {
    month: String,
}

async fn month_records(
    state: &AppState,
    caller: &Caller,
    month: &str,
) -> Result<Vec<AppointmentRecord>, AppError> {
    caller.require(Action::ManageCounsellors)?;
    let bad = || AppError::field(ErrorCode::InvalidInput, "month", "YYYY-MM");
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let next = first
        .checked_add_months(ibasho_schedule::chrono::Months::new(1))
        .ok_or_else(bad)?;
    let (from, to) = local_bounds(time_zone(state), first, next).ok_or_else(bad)?;
    Ok(state
        .hub
        .store()
        .appointments_between(from, to, None)
        .await
        .map_err(store_error)?
        .into_iter()
        .filter(|a| a.state != AppointmentState::Moved)
        .collect())
}

/// `GET /api/staff/appointments/stats?month=`: counts per state, per counsellor and in all.
pub(crate) async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let records = month_records(&state, &caller, &q.month).await?;
    let mut total = AppointmentCounts::default();
    let mut per: BTreeMap<AccountId, AppointmentCounts> = BTreeMap::new();
    for a in &records {
        total.add(a.state);
        per.entry(a.counsellor).or_default().add(a.state);
    }
    let mut counsellors = Vec::new();
    for (c, counts) in per {
        let mut v = serde_json::to_value(counts).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "counsellor".into(),
                serde_json::to_value(state.hub.person_of(c).await).unwrap_or_default(),
            );
        }
        counsellors.push(v);
    }
    Ok(
        Json(serde_json::json!({ "month": q.month, "total": total, "counsellors": counsellors }))
            .into_response(),
    )
}

fn csv_field(s: &str) -> String {
    // Quote, double inner quotes, and defuse spreadsheet formulas.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `GET /api/staff/appointments.csv?month=`: one line per booking — date, times, counsellor,
/// kind, state. Never who booked or what they wrote.
pub(crate) async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let records = month_records(&state, &caller, &q.month).await?;
    let tz = time_zone(&state);
    let mut handles: HashMap<AccountId, String> = HashMap::new();
    let mut body = String::from("date,start,end,counsellor,for_whom,topic,state\r\n");
    for a in &records {
        if let std::collections::hash_map::Entry::Vacant(e) = handles.entry(a.counsellor) {
            e.insert(state.hub.person_of(a.counsellor).await.handle);
        }
        let at = |ms: Millis| {
            DateTime::<Utc>::from_timestamp_millis(ms)
                .unwrap_or_default()
                .with_timezone(&tz)
        };
        let (s, e) = (at(a.starts_at), at(a.ends_at));
        let for_whom = match a.for_whom {
            ForWhom::Myself => "self",
            ForWhom::FamilyMember => "family_member",
        };
        body.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            s.format("%Y-%m-%d"),
            s.format("%H:%M"),
            e.format("%H:%M"),
            csv_field(&handles[&a.counsellor]),
            for_whom,
            a.topic.as_str(),
            a.state.as_str()
        ));
    }
    let disposition = format!(
        "attachment; filename=\"ibasho-appointments-{}.csv\"",
        q.month
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

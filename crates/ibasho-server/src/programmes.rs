//! Programmes over HTTP: the public timetable and iCalendar feed, and the staff API to create
//! and edit programmes and their sessions (with a preview of the next occurrences before
//! saving) and to call sessions off. The work is done by `ibasho_programmes::Programmes`.

use crate::entry::parse_body;
use crate::error::AppError;
use crate::http::{AppState, Caller};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ibasho_accounts::authz::Action;
use ibasho_hub::store::StoreError;
use ibasho_programmes::{
    CancellationRecord, InvalidSchedule, ProgrammeError, ProgrammeRecord, SessionRecord,
};
use ibasho_protocol::programme::{
    GalleryItem, ProgrammeInput, ProgrammeView, SessionInput, SessionView,
};
use ibasho_protocol::{ErrorCode, Millis, ProgrammeId, SessionId};
use serde::Deserialize;

/// Longest programme title, in characters.
pub const TITLE_MAX_CHARS: usize = 100;
/// Longest programme description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
/// Widest timetable window, in days.
pub const TIMETABLE_MAX_DAYS: i64 = 62;
/// Occurrences in a preview.
pub const PREVIEW_COUNT: usize = 12;

const DAY_MS: Millis = 86_400_000;

fn not_found() -> AppError {
    AppError::client(ErrorCode::NotFound, "no such programme or session")
}

pub(crate) fn store_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => not_found(),
        e => AppError::from(anyhow::anyhow!(e)),
    }
}

fn schedule_error(e: InvalidSchedule) -> AppError {
    AppError::field(ErrorCode::InvalidInput, "schedule", e.to_string())
}

fn programme_error(e: ProgrammeError) -> AppError {
    match e {
        ProgrammeError::Invalid(e) => schedule_error(e),
        ProgrammeError::Store(e) => store_error(e),
    }
}

pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, AppError> {
    s.parse().map_err(|_| not_found())
}

/// Checks a programme's fields; `hosts` must be accounts that work here.
async fn check_programme(state: &AppState, input: &ProgrammeInput) -> Result<(), AppError> {
    let title = input.title.trim();
    if title.is_empty() {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "title",
            "give a title",
        ));
    }
    if title.chars().count() > TITLE_MAX_CHARS {
        return Err(AppError::field(
            ErrorCode::TooLong,
            "title",
            format!("at most {TITLE_MAX_CHARS} characters"),
        ));
    }
    if input.description.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(AppError::field(
            ErrorCode::TooLong,
            "description",
            format!("at most {DESCRIPTION_MAX_CHARS} characters"),
        ));
    }
    if input.modes.is_empty() {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "modes",
            "allow at least one attendance mode",
        ));
    }
    let max = state.config.limits.default_room_capacity;
    if input.capacity == 0 || input.capacity > max {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "capacity",
            format!("between 1 and {max}"),
        ));
    }
    for host in &input.hosts {
        let ok = state
            .hub
            .store()
            .account(*host)
            .await
            .map_err(store_error)?
            .is_some_and(|a| a.role.works_here());
        if !ok {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "hosts",
                "hosts must be counsellors, staff or admins",
            ));
        }
    }
    if let Some(link) = &input.link {
        if !state.config.programmes.allow_external_links {
            return Err(AppError::field(
                ErrorCode::NotAllowed,
                "link",
                "external links are turned off (programmes.allow_external_links)",
            ));
        }
        if !link.starts_with("https://") || link.len() > 2000 || link.contains(char::is_whitespace)
        {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "link",
                "give an https:// address",
            ));
        }
    }
    Ok(())
}

pub(crate) async fn view(state: &AppState, p: &ProgrammeRecord) -> Result<ProgrammeView, AppError> {
    let mut hosts = Vec::with_capacity(p.hosts.len());
    for id in &p.hosts {
        if let Some(a) = state.hub.store().account(*id).await.map_err(store_error)? {
            hosts.push(a.person());
        }
    }
    Ok(ProgrammeView {
        id: p.id,
        title: p.title.clone(),
        description: p.description.clone(),
        category: p.category,
        hosts,
        modes: p.modes.clone(),
        capacity: p.capacity,
        age_bands: p.age_bands.clone(),
        gallery: p.gallery.clone(),
        archived: p.archived,
    })
}

pub(crate) fn programme_record(
    state: &AppState,
    id: ProgrammeId,
) -> Result<ProgrammeRecord, AppError> {
    state
        .programmes
        .catalogue()
        .programme(id)
        .cloned()
        .ok_or_else(not_found)
}

fn session_record(state: &AppState, id: SessionId) -> Result<SessionRecord, AppError> {
    state
        .programmes
        .catalogue()
        .session(id)
        .cloned()
        .ok_or_else(not_found)
}

/// Stores a changed programme, stamped with the time of the change.
pub(crate) async fn save_programme(
    state: &AppState,
    record: &mut ProgrammeRecord,
) -> Result<(), AppError> {
    record.updated_at = state.now();
    state
        .programmes
        .update_programme(record.clone())
        .await
        .map_err(store_error)
}

fn session_view(s: &SessionRecord) -> SessionView {
    SessionView {
        id: s.id,
        programme: s.programme,
        schedule: s.schedule.clone(),
        cancelled: s.cancelled.clone(),
    }
}

/// `GET /api/programmes` (public): the programmes on offer, for the gallery.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Response, AppError> {
    list_some(&state, false).await
}

/// `GET /api/staff/programmes` (staff): archived ones too.
pub(crate) async fn list_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    list_some(&state, true).await
}

async fn list_some(state: &AppState, staff: bool) -> Result<Response, AppError> {
    let mut records: Vec<ProgrammeRecord> = state
        .programmes
        .catalogue()
        .programmes()
        .filter(|p| staff || !p.archived)
        .cloned()
        .collect();
    records.sort_by(|a, b| (a.archived, &a.title).cmp(&(b.archived, &b.title)));
    let mut out = Vec::with_capacity(records.len());
    for p in &records {
        out.push(view(state, p).await?);
    }
    Ok(Json(out).into_response())
}

/// `GET /api/programmes/{id}`: one programme with its sessions.
pub(crate) async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id: ProgrammeId = parse_id(&id)?;
    let (record, sessions) = {
        let cat = state.programmes.catalogue();
        let record = cat.programme(id).filter(|p| !p.archived).cloned();
        let sessions: Vec<SessionView> =
            cat.sessions_of(id).into_iter().map(session_view).collect();
        (record, sessions)
    };
    let record = record.ok_or_else(not_found)?;
    Ok(Json(serde_json::json!({
        "programme": view(&state, &record).await?,
        "sessions": sessions,
    }))
    .into_response())
}

/// `POST /api/programmes` (staff).
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let input: ProgrammeInput = parse_body(&body)?;
    check_programme(&state, &input).await?;
    let now = state.now();
    let record = ProgrammeRecord {
        id: ProgrammeId::new_v7(),
        title: input.title.trim().to_owned(),
        description: input.description.trim().to_owned(),
        category: input.category,
        hosts: input.hosts,
        modes: input.modes,
        capacity: input.capacity,
        age_bands: input.age_bands,
        gallery: input.link.map(|url| GalleryItem::Link { url }),
        archived: false,
        created_by: Some(caller.0.account),
        created_at: now,
        updated_at: now,
    };
    state
        .programmes
        .create_programme(record.clone())
        .await
        .map_err(store_error)?;
    state
        .audit(
            caller.0.account,
            "create_programme",
            None,
            String::new(),
            serde_json::json!({ "programme": record.id, "title": record.title }),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, &record).await?)).into_response())
}

/// `PUT /api/programmes/{id}` (staff): open rooms take the change at once.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let id: ProgrammeId = parse_id(&id)?;
    let input: ProgrammeInput = parse_body(&body)?;
    check_programme(&state, &input).await?;
    let mut record = programme_record(&state, id)?;
    record.title = input.title.trim().to_owned();
    record.description = input.description.trim().to_owned();
    record.category = input.category;
    record.hosts = input.hosts;
    record.modes = input.modes;
    record.capacity = input.capacity;
    record.age_bands = input.age_bands;
    let audited = serde_json::json!({ "programme": record.id, "title": record.title });
    if let Some(url) = input.link {
        record.gallery = Some(GalleryItem::Link { url });
    } else if matches!(record.gallery, Some(GalleryItem::Link { .. })) {
        record.gallery = None;
    }
    save_programme(&state, &mut record).await?;
    state
        .audit(
            caller.0.account,
            "update_programme",
            None,
            String::new(),
            audited,
        )
        .await?;
    Ok(Json(view(&state, &record).await?).into_response())
}

/// `POST /api/programmes/{id}/archive` (staff): no more sessions; open rooms close.
pub(crate) async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let id: ProgrammeId = parse_id(&id)?;
    let mut record = programme_record(&state, id)?;
    record.archived = true;
    save_programme(&state, &mut record).await?;
    state
        .audit(
            caller.0.account,
            "archive_programme",
            None,
            String::new(),
            serde_json::json!({ "programme": record.id, "title": record.title }),
        )
        .await?;
    Ok(Json(view(&state, &record).await?).into_response())
}

/// `POST /api/programmes/{id}/sessions` (staff).
pub(crate) async fn create_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let programme: ProgrammeId = parse_id(&id)?;
    let schedule: SessionInput = parse_body(&body)?;
    if state.programmes.catalogue().programme(programme).is_none() {
        return Err(not_found());
    }
    check_rate(&state, &schedule)?;
    let now = state.now();
    let record = SessionRecord {
        id: SessionId::new_v7(),
        programme,
        schedule,
        cancelled: None,
        created_at: now,
        updated_at: now,
    };
    state
        .programmes
        .create_session(record.clone())
        .await
        .map_err(programme_error)?;
    state
        .audit(
            caller.0.account,
            "create_session",
            None,
            String::new(),
            serde_json::json!({ "programme": programme, "session": record.id, "schedule": record.schedule }),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(session_view(&record))).into_response())
}

/// A rule that happens too often is refused (the preview computes it).
fn check_rate(state: &AppState, schedule: &SessionInput) -> Result<(), AppError> {
    state
        .programmes
        .catalogue()
        .preview(schedule, state.now(), 1)
        .map(drop)
        .map_err(schedule_error)
}

/// `PUT /api/sessions/{id}` (staff).
pub(crate) async fn update_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let id: SessionId = parse_id(&id)?;
    let schedule: SessionInput = parse_body(&body)?;
    check_rate(&state, &schedule)?;
    let mut record = session_record(&state, id)?;
    if record.cancelled.is_some() {
        return Err(AppError::client(
            ErrorCode::NotAllowed,
            "this series was called off; schedule a new one instead",
        ));
    }
    record.schedule = schedule;
    record.updated_at = state.now();
    state
        .programmes
        .update_session(record.clone())
        .await
        .map_err(programme_error)?;
    state
        .audit(
            caller.0.account,
            "update_session",
            None,
            String::new(),
            serde_json::json!({ "session": record.id, "schedule": record.schedule }),
        )
        .await?;
    Ok(Json(session_view(&record)).into_response())
}

/// `POST /api/sessions/preview` (staff): the next occurrences of a schedule, before saving.
pub(crate) async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let schedule: SessionInput = parse_body(&body)?;
    let occurrences = state
        .programmes
        .catalogue()
        .preview(&schedule, state.now(), PREVIEW_COUNT)
        .map_err(schedule_error)?;
    Ok(Json(serde_json::json!({ "occurrences": occurrences })).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cancel {
    /// One occurrence (its start); absent: the whole series from now on.
    #[serde(default)]
    start: Option<Millis>,
    /// Shown to people.
    reason: String,
}

/// `POST /api/sessions/{id}/cancel` (staff): calls off one occurrence or the rest of a
/// series, with a reason shown to people; an open room closes with it.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ManageProgrammes)?;
    let id: SessionId = parse_id(&id)?;
    let req: Cancel = parse_body(&body)?;
    let reason = req.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "reason",
            "say why, for the people who planned to come",
        ));
    }
    if reason.chars().count() > state.config.limits.reason_max_chars {
        return Err(AppError::field(ErrorCode::TooLong, "reason", "too long"));
    }
    let now = state.now();
    let mut record = session_record(&state, id)?;
    state
        .audit(
            caller.0.account,
            "cancel_session",
            None,
            reason.clone(),
            serde_json::json!({ "session": id, "start": req.start }),
        )
        .await?;
    match req.start {
        Some(start) => {
            let exists = state
                .programmes
                .catalogue()
                .occurrences(start - DAY_MS, start + DAY_MS)
                .iter()
                .any(|o| o.session == id && o.start == start);
            if !exists {
                return Err(AppError::field(
                    ErrorCode::InvalidInput,
                    "start",
                    "this session has no occurrence then",
                ));
            }
            state
                .programmes
                .cancel_occurrence(CancellationRecord {
                    session: id,
                    start,
                    reason,
                    by: caller.0.account,
                    at: now,
                })
                .await
                .map_err(store_error)?;
        }
        None => {
            record.cancelled = Some(reason);
            record.updated_at = now;
            state
                .programmes
                .update_session(record.clone())
                .await
                .map_err(programme_error)?;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct Window {
    from: Option<Millis>,
    to: Option<Millis>,
}

/// `GET /api/timetable?from=&to=` (public): the occurrences in a window (default: the next
/// seven days from now), at most `TIMETABLE_MAX_DAYS` wide.
pub(crate) async fn timetable(
    State(state): State<AppState>,
    Query(w): Query<Window>,
) -> Result<Response, AppError> {
    let now = state.now();
    let from = w.from.unwrap_or(now);
    let to = w.to.unwrap_or(from + 7 * DAY_MS);
    if to <= from || to - from > TIMETABLE_MAX_DAYS * DAY_MS {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "to",
            format!("give a window of at most {TIMETABLE_MAX_DAYS} days, to after from"),
        ));
    }
    let table = state.programmes.catalogue().timetable(from, to, now);
    Ok(Json(table).into_response())
}

/// `GET /api/calendar.ics` (public): the last week and the next 90 days, for calendar apps.
pub(crate) async fn calendar(State(state): State<AppState>) -> Result<Response, AppError> {
    let now = state.now();
    let base = state.config.public_url();
    let domain = base
        .split("://")
        .nth(1)
        .unwrap_or("localhost")
        .split(['/', ':'])
        .next()
        .unwrap_or("localhost")
        .to_owned();
    let url = format!("{}/#/timetable", base.trim_end_matches('/'));
    let info = ibasho_programmes::ics::FeedInfo {
        name: &state.config.home.space_name,
        url: &url,
        uid_domain: &domain,
    };
    let body = ibasho_programmes::ics::feed(
        &state.programmes.catalogue(),
        &info,
        now - 7 * DAY_MS,
        now + 90 * DAY_MS,
        now,
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct MonthQuery {
    month: String,
}

async fn month_statistics(
    state: &AppState,
    caller: &Caller,
    month: &str,
) -> Result<ibasho_protocol::programme::MonthStatistics, AppError> {
    caller.require(Action::ReadStatistics)?;
    state
        .programmes
        .month_statistics(month)
        .await
        .map_err(store_error)?
        .ok_or_else(|| AppError::field(ErrorCode::InvalidInput, "month", "give a month as YYYY-MM"))
}

/// `GET /api/staff/statistics?month=YYYY-MM` (staff): the month's figures.
pub(crate) async fn statistics(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    Ok(Json(month_statistics(&state, &caller, &q.month).await?).into_response())
}

/// `GET /api/staff/statistics.csv?month=YYYY-MM` (staff): the same as a CSV download.
pub(crate) async fn statistics_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MonthQuery>,
) -> Result<Response, AppError> {
    let m = month_statistics(&state, &caller, &q.month).await?;
    let body = ibasho_programmes::stats::csv(&state.programmes.catalogue(), &m);
    let disposition = format!("attachment; filename=\"ibasho-{}.csv\"", m.month);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

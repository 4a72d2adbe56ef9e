//! Consults over HTTP: staff set each counsellor's professions, capacity and supervisor flag;
//! counsellors and staff read the messages people left when no one was free, and mark them
//! handled. The realtime part (requests, offers, the consult rooms) is the hub's consult desk.
//! Also the retention purge of what was said in consults.

use crate::entry::parse_body;
use crate::error::AppError;
use crate::http::{AppState, Caller};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ibasho_accounts::authz::Action;
use ibasho_hub::Hub;
use ibasho_protocol::consult::{ConsultId, CounsellorProfile, ForWhom, Profession, Topic};
use ibasho_protocol::{AccountId, ErrorCode, Millis, Person, Role};
use serde::Serialize;
use std::time::Duration;

/// Most consults one counsellor may take at once.
pub const COUNSELLOR_MAX_CAPACITY: u32 = 10;

/// How often the transcript purge runs.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

fn consult_store_error(e: ibasho_consult::store::StoreFailure) -> AppError {
    AppError::from(anyhow::anyhow!(e))
}

/// A counsellor with their profile.
#[derive(Debug, Serialize)]
struct CounsellorEntry {
    account: AccountId,
    handle: String,
    professions: Vec<Profession>,
    capacity: u32,
    supervisor: bool,
}

async fn entry(
    state: &AppState,
    account: AccountId,
    profile: CounsellorProfile,
) -> Result<Option<CounsellorEntry>, AppError> {
    let Some(a) = state.hub.store().account(account).await? else {
        return Ok(None);
    };
    Ok(Some(CounsellorEntry {
        account,
        handle: a.handle,
        professions: profile.professions,
        capacity: profile.capacity,
        supervisor: profile.supervisor,
    }))
}

/// `GET /api/counsellors` (staff): every counsellor with their profile.
pub(crate) async fn list_counsellors(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    caller.require(Action::ManageCounsellors)?;
    let profiles = state
        .hub
        .store()
        .counsellor_profiles()
        .await
        .map_err(consult_store_error)?;
    let mut out = Vec::with_capacity(profiles.len());
    for (account, profile) in profiles {
        out.extend(entry(&state, account, profile).await?);
    }
    Ok(Json(out).into_response())
}

/// `PUT /api/counsellors/{account}` (staff): sets a counsellor's profile; it applies at once.
/// Audited.
pub(crate) async fn set_counsellor(
    State(state): State<AppState>,
    caller: Caller,
    Path(account): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ManageCounsellors)?;
    let not_found = || AppError::client(ErrorCode::NotFound, "no such counsellor");
    let account: AccountId = account.parse().map_err(|_| not_found())?;
    let mut profile: CounsellorProfile = parse_body(&body)?;
    if profile.professions.is_empty() {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "professions",
            "choose at least one profession",
        ));
    }
    if profile.capacity == 0 || profile.capacity > COUNSELLOR_MAX_CAPACITY {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "capacity",
            format!("between 1 and {COUNSELLOR_MAX_CAPACITY}"),
        ));
    }
    profile.professions.sort_by_key(|p| p.as_str());
    profile.professions.dedup();
    let store = state.hub.store();
    let is_counsellor = store
        .account(account)
        .await?
        .is_some_and(|a| a.role == Role::Counsellor);
    if !is_counsellor {
        return Err(not_found());
    }
    store
        .set_counsellor_profile(account, &profile)
        .await
        .map_err(consult_store_error)?;
    state
        .audit(
            caller.0.account,
            "counsellor_profile",
            Some(account),
            String::new(),
            serde_json::to_value(&profile).unwrap_or_default(),
        )
        .await?;
    state
        .hub
        .counsellor_profile_changed(account, profile.clone())
        .await;
    let out = entry(&state, account, profile)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(out).into_response())
}

/// A message left for counsellors.
#[derive(Debug, Serialize)]
struct LeftMessageView {
    consult: ConsultId,
    requester: Person,
    topic: Topic,
    for_whom: ForWhom,
    body: String,
    left_at: Millis,
}

/// `GET /api/consults/messages` (counsellors, staff): messages left to be contacted, not yet
/// handled, oldest first.
pub(crate) async fn left_messages(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    caller.require(Action::SeeConsultQueue)?;
    let store = state.hub.store();
    let messages = store.left_messages().await.map_err(consult_store_error)?;
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let Some(a) = store.account(m.requester).await? else {
            continue;
        };
        out.push(LeftMessageView {
            consult: m.consult,
            requester: a.person(),
            topic: m.topic,
            for_whom: m.for_whom,
            body: m.body,
            left_at: m.left_at,
        });
    }
    Ok(Json(out).into_response())
}

/// `POST /api/consults/messages/{consult}/handled` (counsellors, staff): someone took care of
/// it. Audited.
pub(crate) async fn message_handled(
    State(state): State<AppState>,
    caller: Caller,
    Path(consult): Path<String>,
) -> Result<Response, AppError> {
    caller.require(Action::SeeConsultQueue)?;
    let not_found = || AppError::client(ErrorCode::NotFound, "no such message, or it was handled");
    let consult: ConsultId = consult.parse().map_err(|_| not_found())?;
    let store = state.hub.store();
    let requester = store
        .consult(consult)
        .await
        .map_err(consult_store_error)?
        .map(|c| c.requester)
        .ok_or_else(not_found)?;
    let done = store
        .message_handled(consult, caller.0.account, state.now())
        .await
        .map_err(consult_store_error)?;
    if !done {
        return Err(not_found());
    }
    state
        .audit(
            caller.0.account,
            "consult_message_handled",
            Some(requester),
            String::new(),
            serde_json::json!({ "consult": consult }),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Runs the transcript purge every hour (`consult.transcript_retention_days`).
pub fn spawn_purge(hub: Hub) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PURGE_EVERY);
        loop {
            every.tick().await;
            match hub.purge_consults().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    consults = n,
                    "purged consult transcripts past their retention"
                ),
                Err(e) => tracing::error!(error = %e, "purging consult transcripts failed"),
            }
        }
    });
}

//! Applications from the public home page, and what staff do with them: invite, decline with
//! a message, or archive. Applications are deleted after `applications.retention_days`.

use crate::entry::{check_email, parse_body, parse_lang};
use crate::error::AppError;
use crate::http::{AppState, Caller};
use crate::mail::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ibasho_accounts::authz::Action;
use ibasho_accounts::store::ApplicationRecord;
use ibasho_protocol::api::{ApplicationStatus, ApplicationView, Relation};
use ibasho_protocol::{ErrorCode, Role};
use serde::Deserialize;
use std::time::Duration;

/// The version of the consent text the home page shows; stored with each application so that
/// it is known what each applicant agreed to.
pub const CONSENT_VERSION: &str = "2026-11-22";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Apply {
    email: String,
    relation: Relation,
    #[serde(default)]
    message: String,
    /// Must be `true`: the applicant read and agreed to the consent text.
    consent: bool,
    #[serde(default)]
    lang: Option<String>,
}

/// `POST /api/applications` (public).
pub(crate) async fn apply(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let req: Apply = parse_body(&body)?;
    let email = check_email(&req.email)?;
    if !req.consent {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "consent",
            "please read and agree to how your data is kept",
        ));
    }
    let message = req.message.trim().to_owned();
    let max = state.config.applications.message_max_chars;
    if message.chars().count() > max {
        return Err(AppError::field(
            ErrorCode::TooLong,
            "message",
            format!("at most {max} characters"),
        ));
    }
    if message
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "message",
            "control characters are not allowed",
        ));
    }
    let lang = parse_lang(req.lang.as_deref())?;
    if !state.applications_this_minute.take() {
        return Err(AppError::rate_limited(
            60_000,
            "many applications are arriving right now; please try again in a minute",
        ));
    }
    let application = ApplicationRecord {
        id: uuid::Uuid::now_v7(),
        email,
        relation: req.relation,
        message,
        lang: lang.to_owned(),
        consent_version: CONSENT_VERSION.to_owned(),
        status: ApplicationStatus::Pending,
        created_at: state.now(),
    };
    state.applications.create_application(&application).await?;
    tracing::info!(application = %application.id, "application received");
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": application.id })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    status: Option<String>,
}

/// `GET /api/staff/applications?status=pending`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    caller.require(Action::ReviewApplications)?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ApplicationStatus::parse(s).ok_or_else(|| {
            AppError::field(
                ErrorCode::InvalidInput,
                "status",
                "pending, invited, declined or archived",
            )
        })?),
    };
    let retention = state.application_retention_ms();
    let list: Vec<ApplicationView> = state
        .applications
        .applications(status, 500)
        .await?
        .iter()
        .map(|a| a.view(retention))
        .collect();
    Ok(Json(list).into_response())
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Decision {
    /// For `invite`: `participant` or `family` (default: from the application's relation).
    #[serde(default)]
    role: Option<Role>,
    /// For `decline`: the message mailed to the applicant.
    #[serde(default)]
    message: Option<String>,
}

/// `POST /api/staff/applications/{id}/{invite|decline|archive}`.
pub(crate) async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, verb)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ReviewApplications)?;
    let decision: Decision = if body.is_empty() {
        Decision::default()
    } else {
        parse_body(&body)?
    };
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::client(ErrorCode::NotFound, "no such application"))?;
    let application = state
        .applications
        .application(id)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::NotFound, "no such application"))?;
    if application.status != ApplicationStatus::Pending {
        return Err(AppError::client(
            ErrorCode::InvalidInput,
            format!(
                "this application is already {}",
                application.status.as_str()
            ),
        ));
    }
    let now = state.now();
    let response = match verb.as_str() {
        "invite" => {
            let role = decision.role.unwrap_or(match application.relation {
                Relation::Family => Role::Family,
                Relation::ForSelf => Role::Participant,
            });
            if !matches!(role, Role::Participant | Role::Family) {
                return Err(AppError::field(
                    ErrorCode::InvalidInput,
                    "role",
                    "applicants are invited as participant or family",
                ));
            }
            let invited = state
                .invite(
                    &caller,
                    application.email.clone(),
                    role,
                    None,
                    false,
                    Some(&application.lang),
                    Some(application.id),
                    None,
                )
                .await?;
            state
                .applications
                .update_application(id, ApplicationStatus::Invited, caller.0.account, now)
                .await?;
            (StatusCode::CREATED, Json(invited)).into_response()
        }
        "decline" => {
            let message = decision.message.unwrap_or_default().trim().to_owned();
            if message.is_empty()
                || message.chars().count() > state.config.applications.message_max_chars
            {
                return Err(AppError::field(
                    ErrorCode::InvalidInput,
                    "message",
                    "write a short, kind message to the applicant",
                ));
            }
            if state.mailer.configured() {
                state
                    .mailer
                    .queue(
                        &application.email,
                        Template::Declined {
                            lang: &application.lang,
                            message: &message,
                        },
                    )
                    .await?;
            }
            state
                .applications
                .update_application(id, ApplicationStatus::Declined, caller.0.account, now)
                .await?;
            state
                .audit(
                    caller.0.account,
                    "decline_application",
                    None,
                    String::new(),
                    serde_json::json!({ "application": id }),
                )
                .await?;
            Json(serde_json::json!({ "mailed": state.mailer.configured() })).into_response()
        }
        "archive" => {
            state
                .applications
                .update_application(id, ApplicationStatus::Archived, caller.0.account, now)
                .await?;
            state
                .audit(
                    caller.0.account,
                    "archive_application",
                    None,
                    String::new(),
                    serde_json::json!({ "application": id }),
                )
                .await?;
            StatusCode::NO_CONTENT.into_response()
        }
        _ => return Err(AppError::client(ErrorCode::NotFound, "no such action")),
    };
    Ok(response)
}

impl AppState {
    fn application_retention_ms(&self) -> i64 {
        i64::try_from(self.config.applications.retention_days * 86_400_000).unwrap_or(i64::MAX)
    }

    /// Deletes applications (and mail about them) past the retention period, every hour.
    pub(crate) fn spawn_purge(&self) {
        let state = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every.tick().await;
                let cutoff = state.now().saturating_sub(state.application_retention_ms());
                match state.applications.delete_applications_before(cutoff).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(deleted = n, "purged applications past their retention")
                    }
                    Err(e) => tracing::error!(error = %e, "purging applications failed"),
                }
            }
        });
    }
}

//! Admins' work on accounts — list and search, suspend and reactivate, change role, reissue
//! access, delete — and the audit log; plus what everyone may do with their own account:
//! download everything stored about them, and delete it. Every admin action is audited.

use crate::entry::parse_body;
use crate::error::AppError;
use crate::http::{AppState, Caller};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ibasho_accounts::authz::Action;
use ibasho_protocol::api::AccountStatus;
use ibasho_protocol::{AccountId, ErrorCode, Role, close};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub(crate) struct AccountQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /api/admin/accounts?q=…`: accounts whose handle or e-mail contains `q`.
pub(crate) async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AccountQuery>,
) -> Result<Response, AppError> {
    caller.require(Action::ListAccounts)?;
    if query.q.chars().count() > 100 {
        return Err(AppError::field(
            ErrorCode::TooLong,
            "q",
            "at most 100 characters",
        ));
    }
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    Ok(Json(state.admin.accounts(&query.q, limit).await?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountChange {
    reason: String,
    /// For `role`.
    #[serde(default)]
    role: Option<Role>,
    /// For `reinvite`: where to send the new link (participants have no e-mail on file).
    #[serde(default)]
    email: Option<String>,
    /// For `reinvite`: `ja` or `en`.
    #[serde(default)]
    lang: Option<String>,
}

fn reason_of(state: &AppState, reason: &str) -> Result<String, AppError> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > state.config.limits.reason_max_chars {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "reason",
            "give a reason (it is kept in the audit log)",
        ));
    }
    Ok(reason)
}

fn account_id(id: &str) -> Result<AccountId, AppError> {
    id.parse()
        .map_err(|_| AppError::client(ErrorCode::NotFound, "no such account"))
}

/// `POST /api/admin/accounts/{id}/{suspend|reactivate|role|reinvite}`.
pub(crate) async fn account_action(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, verb)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::AdministerAccounts)?;
    let req: AccountChange = parse_body(&body)?;
    let reason = reason_of(&state, &req.reason)?;
    let account = account_id(&id)?;
    if account == caller.0.account {
        return Err(AppError::client(
            ErrorCode::NotAllowed,
            "ask another admin to change your own account",
        ));
    }
    let now = state.now();
    match verb.as_str() {
        "suspend" | "reactivate" => {
            let status = if verb == "suspend" {
                AccountStatus::Suspended
            } else {
                AccountStatus::Active
            };
            if !state.entry.update_status(account, status).await? {
                return Err(AppError::client(ErrorCode::NotFound, "no such account"));
            }
            if status == AccountStatus::Suspended {
                state.entry.delete_sessions_of(account, now).await?;
                state.hub.consults_account_gone(account).await;
                let closed = state.hub.disconnect_account(
                    account,
                    close::UNAUTHORIZED,
                    "this account was suspended",
                );
                tracing::info!(%account, closed, "account suspended");
            }
            let action = if status == AccountStatus::Suspended {
                "suspend_account"
            } else {
                "reactivate_account"
            };
            state
                .audit(
                    caller.0.account,
                    action,
                    Some(account),
                    reason,
                    serde_json::Value::Null,
                )
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        "role" => {
            let role = req.role.ok_or_else(|| {
                AppError::field(ErrorCode::InvalidInput, "role", "choose the new role")
            })?;
            if !state.admin.update_role(account, role).await? {
                return Err(AppError::client(ErrorCode::NotFound, "no such account"));
            }
            // A request made in the old role ends; open connections carry the old role: they
            // reconnect (with a refreshed token) and get the new one.
            state.hub.consults_account_gone(account).await;
            state.hub.disconnect_account(
                account,
                close::UNAUTHORIZED,
                "your role changed; please sign in again",
            );
            state
                .audit(
                    caller.0.account,
                    "change_role",
                    Some(account),
                    reason,
                    serde_json::json!({ "role": role }),
                )
                .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        "reinvite" => {
            let credentials = state
                .entry
                .credentials_of(account)
                .await?
                .filter(|c| c.status == AccountStatus::Active)
                .ok_or_else(|| AppError::client(ErrorCode::NotFound, "no such active account"))?;
            let email = match req.email.as_deref() {
                Some(e) => crate::entry::check_email(e)?,
                // Staff-like accounts sign in with an e-mail on file; participants have none.
                None => credentials.email.clone().ok_or_else(|| {
                    AppError::field(
                        ErrorCode::InvalidInput,
                        "email",
                        "this account has no e-mail on file; give one",
                    )
                })?,
            };
            state
                .audit(
                    caller.0.account,
                    "reissue_access",
                    Some(account),
                    reason,
                    serde_json::Value::Null,
                )
                .await?;
            let invited = state
                .invite(
                    &caller,
                    email,
                    credentials.role,
                    None,
                    false,
                    req.lang.as_deref(),
                    None,
                    Some(account),
                )
                .await?;
            Ok((StatusCode::CREATED, Json(invited)).into_response())
        }
        _ => Err(AppError::client(ErrorCode::NotFound, "no such action")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Deletion {
    /// Admins: why. People deleting themselves: their handle, typed again, as confirmation.
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    confirm: Option<String>,
}

/// `DELETE /api/admin/accounts/{id}`.
pub(crate) async fn delete_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::AdministerAccounts)?;
    let req: Deletion = parse_body(&body)?;
    let reason = reason_of(&state, req.reason.as_deref().unwrap_or(""))?;
    let account = account_id(&id)?;
    if account == caller.0.account {
        return Err(AppError::client(
            ErrorCode::NotAllowed,
            "delete your own account from your settings",
        ));
    }
    // The audit line is written first: the deletion empties the account's handle.
    state
        .audit(
            caller.0.account,
            "delete_account",
            Some(account),
            reason,
            serde_json::Value::Null,
        )
        .await?;
    if !state.admin.delete_account(account, state.now()).await? {
        return Err(AppError::client(ErrorCode::NotFound, "no such account"));
    }
    state.hub.consults_account_gone(account).await;
    state
        .hub
        .appointments_account_removed(account)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    state
        .hub
        .disconnect_account(account, close::UNAUTHORIZED, "this account was deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    limit: Option<u32>,
}

/// One audit line as admins read it.
#[derive(Debug, Serialize)]
struct AuditLine {
    at: i64,
    actor: AccountId,
    action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_account: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_message: Option<String>,
    reason: String,
    detail: serde_json::Value,
}

/// `GET /api/admin/audit?limit=…`: the newest lines first.
pub(crate) async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Response, AppError> {
    caller.require(Action::ReadAuditLog)?;
    let limit = query.limit.unwrap_or(200).clamp(1, 1000);
    let lines: Vec<AuditLine> = state
        .hub
        .store()
        .audit_log(limit)
        .await?
        .into_iter()
        .map(|e| AuditLine {
            at: e.at,
            actor: e.actor,
            action: e.action,
            room: e.room.map(|r| r.to_string()),
            target_account: e.target_account,
            target_message: e.target_message.map(|m| m.to_string()),
            reason: e.reason,
            detail: e.detail,
        })
        .collect();
    Ok(Json(lines).into_response())
}

/// `GET /api/me/export`: everything stored about the caller, as a JSON download.
pub(crate) async fn export_me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    caller.require(Action::OwnData)?;
    let data = state.admin.export_account(caller.0.account).await?;
    let body = serde_json::to_string_pretty(&data)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ibasho-my-data.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// `DELETE /api/me`: deletes the caller's own account, after they typed their handle again.
pub(crate) async fn delete_me(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::OwnData)?;
    let req: Deletion = parse_body(&body)?;
    let record = state
        .hub
        .store()
        .account(caller.0.account)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "sign in again"))?;
    if req.confirm.as_deref().map(str::trim) != Some(record.handle.as_str()) {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "confirm",
            "type your handle to confirm",
        ));
    }
    if !state
        .admin
        .delete_account(caller.0.account, state.now())
        .await?
    {
        return Err(AppError::client(ErrorCode::NotFound, "no such account"));
    }
    state.hub.consults_account_gone(caller.0.account).await;
    state
        .hub
        .appointments_account_removed(caller.0.account)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    state.hub.disconnect_account(
        caller.0.account,
        close::UNAUTHORIZED,
        "you deleted your account",
    );
    tracing::info!(account = %caller.0.account, "account deleted by its owner");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileChange {
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    avatar: Option<ibasho_protocol::Avatar>,
}

/// `PUT /api/me/profile`: a new handle and/or avatar. Others see it from the person's next
/// connection on; messages already written show the new handle in history.
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::OwnData)?;
    let req: ProfileChange = parse_body(&body)?;
    let handle = match req.handle.as_deref() {
        Some(raw) => {
            let h = ibasho_protocol::handle::normalize_handle(raw, &state.config.limits)
                .map_err(|e| AppError::field(ErrorCode::InvalidHandle, "handle", e.to_string()))?;
            let key = ibasho_protocol::handle::handle_key(&h);
            Some((h, key))
        }
        None => None,
    };
    let ok = state
        .admin
        .update_profile(
            caller.0.account,
            handle.as_ref().map(|(h, k)| (h.as_str(), k.as_str())),
            req.avatar,
        )
        .await?;
    if !ok {
        return Err(AppError::field(
            ErrorCode::HandleTaken,
            "handle",
            "someone already uses this handle; please choose another",
        ));
    }
    let record = state
        .hub
        .store()
        .account(caller.0.account)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "sign in again"))?;
    Ok(Json(record.person()).into_response())
}

//! Entry: invitations, registration from an invitation link, sign-in with a password or
//! passphrase (throttled, with optional TOTP), device sessions held in a rotating refresh
//! cookie, and suspension. Decisions come from `ibasho-accounts`; this module carries them out
//! over HTTP.

use crate::error::AppError;
use crate::http::{AppState, Caller};
use crate::mail::Template;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ibasho_accounts::authz::{self, Action};
use ibasho_accounts::secret::{self, PasswordError};
use ibasho_accounts::store::{NewInvitation, NewMember, RegisterError, Rotation};
use ibasho_accounts::totp;
use ibasho_hub::store::AuditEntry;
use ibasho_protocol::api::{
    AccountStatus, AgeBand, InvitationState, InvitationView, Profession, Relation,
};
use ibasho_protocol::handle::{handle_key, normalize_handle};
use ibasho_protocol::{AccountId, Avatar, ErrorCode, Person, Role, close};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// The refresh cookie's name.
pub const REFRESH_COOKIE: &str = "ibasho_refresh";
/// The only path the refresh cookie is sent to.
const REFRESH_COOKIE_PATH: &str = "/api/session";
/// Longest e-mail address accepted (RFC 5321's path limit).
const MAX_EMAIL_CHARS: usize = 254;

/// A signed-in person and their access token; the refresh cookie travels beside it.
#[derive(Debug, Serialize)]
pub struct SignedIn {
    /// The access token for the WebSocket and the API.
    pub token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Who.
    pub me: Person,
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // The path names the field at fault ("category", "hosts[2]"); for a missing field it
        // is the enclosing object, and serde_json names the field in its message instead
        // ("missing field `handle`").
        let msg = e.inner().to_string();
        let path = e.path().to_string();
        let field = if path != "." && !path.is_empty() {
            path
        } else {
            msg.strip_prefix("missing field `")
                .or_else(|| msg.strip_prefix("unknown field `"))
                .and_then(|rest| rest.split('`').next())
                .unwrap_or("body")
                .to_owned()
        };
        AppError::field(ErrorCode::InvalidInput, &field, msg)
    })
}

/// The language of mail to someone: `ja` (the default) or `en`.
pub(crate) fn parse_lang(lang: Option<&str>) -> Result<&'static str, AppError> {
    match lang {
        None | Some("ja") => Ok("ja"),
        Some("en") => Ok("en"),
        Some(_) => Err(AppError::field(ErrorCode::InvalidInput, "lang", "ja or en")),
    }
}

pub(crate) fn check_email(email: &str) -> Result<String, AppError> {
    let email = email.trim().to_lowercase();
    let valid = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid {
        Ok(email)
    } else {
        Err(AppError::field(
            ErrorCode::InvalidInput,
            "email",
            "this does not look like an e-mail address",
        ))
    }
}

fn password_error(field: &str, e: PasswordError) -> AppError {
    AppError::field(ErrorCode::InvalidInput, field, e.to_string())
}

impl AppState {
    /// Appends a line to the audit log.
    pub(crate) async fn audit(
        &self,
        actor: AccountId,
        action: &str,
        target: Option<AccountId>,
        reason: String,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let entry = AuditEntry {
            at: self.now(),
            actor,
            action: action.to_owned(),
            room: None,
            target_account: target,
            target_message: None,
            reason,
            detail,
        };
        self.hub.store().append_audit(&entry).await?;
        Ok(())
    }

    /// Issues an access token and starts (or continues) a device session: the response
    /// carries the new refresh cookie.
    async fn sign_in_response(
        &self,
        account: AccountId,
        status: StatusCode,
        session_token: Option<String>,
    ) -> Result<Response, AppError> {
        let record = self
            .hub
            .store()
            .account(account)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or_else(|| {
                AppError::client(ErrorCode::Unauthorized, "this account cannot sign in")
            })?;
        let refresh = match session_token {
            Some(t) => t,
            None => {
                let token = secret::new_token();
                let now = self.now();
                self.entry
                    .create_session(
                        account,
                        &secret::token_hash(&token),
                        now,
                        now + self.refresh_ttl_ms(),
                    )
                    .await?;
                token
            }
        };
        let identity = record.identity();
        let ttl = Duration::from_secs(self.config.auth.access_token_minutes * 60);
        let token = self.keys.issue(&identity, ttl)?;
        let me = record.person();
        let mut response = (
            status,
            Json(SignedIn {
                token,
                expires_in: ttl.as_secs(),
                me,
            }),
        )
            .into_response();
        response.headers_mut().insert(
            header::SET_COOKIE,
            self.refresh_cookie(&refresh, self.refresh_ttl_ms() / 1000)?,
        );
        Ok(response)
    }

    fn refresh_ttl_ms(&self) -> i64 {
        i64::try_from(self.config.auth.refresh_token_days * 86_400_000).unwrap_or(i64::MAX)
    }

    fn refresh_cookie(&self, value: &str, max_age_secs: i64) -> Result<HeaderValue, AppError> {
        let secure = if self.config.auth.cookie_secure {
            "; Secure"
        } else {
            ""
        };
        Ok(HeaderValue::from_str(&format!(
            "{REFRESH_COOKIE}={value}; HttpOnly; SameSite=Strict; Path={REFRESH_COOKIE_PATH}; Max-Age={max_age_secs}{secure}"
        ))?)
    }
}

/// The refresh token in the request's cookies.
fn refresh_cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == REFRESH_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

// ---- invitations (staff) ----------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteRequest {
    email: String,
    role: Role,
    #[serde(default)]
    profession: Option<Profession>,
    #[serde(default)]
    supervisor: bool,
    #[serde(default)]
    lang: Option<String>,
}

/// The answer to creating an invitation.
#[derive(Debug, Serialize)]
pub(crate) struct Invited {
    invitation: InvitationView,
    /// Whether it was put in the outbox.
    mailed: bool,
    /// The link to pass on, when no mail server is configured (the embedded default).
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
}

/// `POST /api/staff/invitations`.
pub(crate) async fn create_invitation(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let req: InviteRequest = parse_body(&body)?;
    let email = check_email(&req.email)?;
    let invited = state
        .invite(
            &caller,
            email,
            req.role,
            req.profession,
            req.supervisor,
            req.lang.as_deref(),
            None,
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(invited)).into_response())
}

impl AppState {
    /// Makes an invitation and mails it, or (without a mail server) returns the link for staff
    /// to pass on. Checks that the caller may invite that role. Audited.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn invite(
        &self,
        caller: &Caller,
        email: String,
        role: Role,
        profession: Option<Profession>,
        supervisor: bool,
        lang: Option<&str>,
        application: Option<uuid::Uuid>,
        reset_account: Option<AccountId>,
    ) -> Result<Invited, AppError> {
        caller.require(authz::invite_action(role))?;
        if role != Role::Counsellor && (profession.is_some() || supervisor) {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "profession",
                "only counsellors have a profession",
            ));
        }
        if role == Role::Counsellor && profession.is_none() {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "profession",
                "a counsellor needs a profession",
            ));
        }
        let lang = parse_lang(lang)?;
        let token = secret::new_token();
        let now = self.now();
        let invitation = NewInvitation {
            id: uuid::Uuid::now_v7(),
            token_hash: secret::token_hash(&token),
            email,
            role,
            profession,
            supervisor,
            lang: lang.to_owned(),
            created_by: caller.0.account,
            created_at: now,
            expires_at: now
                + i64::try_from(self.config.auth.invitation_days * 86_400_000).unwrap_or(i64::MAX),
            reset_account,
        };
        self.entry.create_invitation(&invitation).await?;
        self.audit(
            caller.0.account,
            "create_invitation",
            None,
            String::new(),
            serde_json::json!({ "invitation": invitation.id, "role": role, "application": application }),
        )
        .await?;
        let record = self
            .entry
            .invitation_by_token(&invitation.token_hash)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("invitation vanished")))?;
        let link = format!("{}/#/register?token={token}", self.config.public_url());
        let link = if self.mailer.configured() {
            let template = Template::Invitation {
                lang,
                link: &link,
                days: self.config.auth.invitation_days,
            };
            self.mailer.queue(&invitation.email, template).await?;
            None
        } else {
            Some(link)
        };
        Ok(Invited {
            mailed: link.is_none(),
            invitation: record.view(now),
            link,
        })
    }
}

/// `GET /api/staff/invitations`.
pub(crate) async fn list_invitations(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    caller.require(Action::ManageInvitations)?;
    let now = state.now();
    let list: Vec<InvitationView> = state
        .entry
        .invitations(500)
        .await?
        .iter()
        .map(|i| i.view(now))
        .collect();
    Ok(Json(list).into_response())
}

/// `POST /api/staff/invitations/{id}/revoke`.
pub(crate) async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    caller.require(Action::ManageInvitations)?;
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| AppError::client(ErrorCode::NotFound, "no such invitation"))?;
    if !state.entry.revoke_invitation(id, state.now()).await? {
        return Err(AppError::client(
            ErrorCode::InvitationInvalid,
            "only a pending invitation can be revoked",
        ));
    }
    state
        .audit(
            caller.0.account,
            "revoke_invitation",
            None,
            String::new(),
            serde_json::json!({ "invitation": id }),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- registration -----------------------------------------------------------------------

/// What the registration page may know about an invitation before using it.
#[derive(Debug, Serialize)]
struct InvitationPreview {
    role: Role,
    /// Whether a password must be chosen (counsellors, staff, admins).
    needs_password: bool,
    /// Whether this link gives an existing account its access back (no handle or avatar to
    /// choose).
    reset: bool,
}

/// `GET /api/invitations/{token}`: whether a link can be used, and for what role.
pub(crate) async fn preview_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let invalid = || {
        AppError::client(
            ErrorCode::InvitationInvalid,
            "this invitation link cannot be used; ask the staff for a new one",
        )
    };
    if token.len() > 128 {
        return Err(invalid());
    }
    let record = state
        .entry
        .invitation_by_token(&secret::token_hash(&token))
        .await?
        .ok_or_else(invalid)?;
    match record.state(state.now()) {
        InvitationState::Pending => Ok(Json(InvitationPreview {
            role: record.role,
            needs_password: authz::uses_password(record.role),
            reset: record.reset_account.is_some(),
        })
        .into_response()),
        other => Err(AppError::client(
            ErrorCode::InvitationInvalid,
            format!(
                "this invitation link is {}; ask the staff for a new one",
                other.as_str()
            ),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterRequest {
    token: String,
    /// Required, except for an access reset.
    #[serde(default)]
    handle: Option<String>,
    /// Required, except for an access reset.
    #[serde(default)]
    avatar: Option<Avatar>,
    #[serde(default)]
    age_band: Option<AgeBand>,
    #[serde(default)]
    relation: Option<Relation>,
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/register`: creates the account from an invitation and signs it in.
pub(crate) async fn register(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let req: RegisterRequest = parse_body(&body)?;
    let token_hash = secret::token_hash(&req.token);
    let now = state.now();
    let invitation = match state.entry.invitation_by_token(&token_hash).await? {
        Some(i) if i.state(now) == InvitationState::Pending => i,
        _ => {
            return Err(AppError::field(
                ErrorCode::InvitationInvalid,
                "token",
                "this invitation link cannot be used; ask the staff for a new one",
            ));
        }
    };
    let staff_like = authz::uses_password(invitation.role);
    if invitation.reset_account.is_some() {
        return redeem_reset(&state, &req, &token_hash, staff_like, now).await;
    }
    let raw_handle = req
        .handle
        .as_deref()
        .ok_or_else(|| AppError::field(ErrorCode::InvalidHandle, "handle", "choose a handle"))?;
    let avatar = req
        .avatar
        .ok_or_else(|| AppError::field(ErrorCode::InvalidInput, "avatar", "choose an avatar"))?;
    let handle = normalize_handle(raw_handle, &state.config.limits)
        .map_err(|e| AppError::field(ErrorCode::InvalidHandle, "handle", e.to_string()))?;
    let (role, relation, email, secret_hash) = if staff_like {
        if req.relation.is_some() {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "relation",
                "only participants choose self or family",
            ));
        }
        let password = req.password.as_deref().ok_or_else(|| {
            AppError::field(ErrorCode::InvalidInput, "password", "choose a password")
        })?;
        let hash = secret::hash_password(password).map_err(|e| password_error("password", e))?;
        (
            invitation.role,
            None,
            Some(invitation.email.clone()),
            Some(hash),
        )
    } else {
        if req.password.is_some() {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "password",
                "participants set a passphrase later, in settings",
            ));
        }
        let relation = req.relation.unwrap_or(if invitation.role == Role::Family {
            Relation::Family
        } else {
            Relation::ForSelf
        });
        let role = if relation == Relation::Family {
            Role::Family
        } else {
            Role::Participant
        };
        (role, Some(relation), None, None)
    };
    let member = NewMember {
        id: AccountId::new_v7(),
        handle_key: handle_key(&handle),
        handle,
        avatar,
        role,
        relation,
        age_band: req.age_band,
        profession: invitation.profession,
        supervisor: invitation.supervisor,
        email,
        secret_hash,
        created_at: now,
    };
    match state.entry.register(&token_hash, &member, now).await {
        Ok(()) => {}
        Err(RegisterError::HandleTaken) => {
            return Err(AppError::field(
                ErrorCode::HandleTaken,
                "handle",
                "someone already uses this handle; please choose another",
            ));
        }
        Err(RegisterError::UnknownInvitation | RegisterError::Unusable(_)) => {
            return Err(AppError::field(
                ErrorCode::InvitationInvalid,
                "token",
                "this invitation link cannot be used; ask the staff for a new one",
            ));
        }
        Err(RegisterError::Store(e)) => return Err(e.into()),
    }
    tracing::info!(account = %member.id, role = role.as_str(), "registered from an invitation");
    state
        .sign_in_response(member.id, StatusCode::CREATED, None)
        .await
}

/// Gives an existing account its access back: a new device session, and for staff-like roles
/// a new password (two-step sign-in is turned off, to be set up again).
async fn redeem_reset(
    state: &AppState,
    req: &RegisterRequest,
    token_hash: &str,
    staff_like: bool,
    now: i64,
) -> Result<Response, AppError> {
    if req.handle.is_some()
        || req.avatar.is_some()
        || req.relation.is_some()
        || req.age_band.is_some()
    {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "handle",
            "this link gives back an existing account; nothing else is chosen",
        ));
    }
    let hash = match (staff_like, req.password.as_deref()) {
        (true, Some(p)) => {
            Some(secret::hash_password(p).map_err(|e| password_error("password", e))?)
        }
        (true, None) => {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "password",
                "choose a new password",
            ));
        }
        (false, Some(_)) => {
            return Err(AppError::field(
                ErrorCode::InvalidInput,
                "password",
                "participants set a passphrase later, in settings",
            ));
        }
        (false, None) => None,
    };
    let account = match state
        .entry
        .redeem_reset(token_hash, hash.as_deref(), now)
        .await
    {
        Ok(a) => a,
        Err(RegisterError::Store(e)) => return Err(e.into()),
        Err(_) => {
            return Err(AppError::field(
                ErrorCode::InvitationInvalid,
                "token",
                "this invitation link cannot be used; ask the staff for a new one",
            ));
        }
    };
    // Whoever held the old sessions is signed out everywhere.
    state
        .hub
        .disconnect_account(account, close::UNAUTHORIZED, "access was reset");
    tracing::info!(%account, "access reset from an invitation");
    state.sign_in_response(account, StatusCode::OK, None).await
}

// ---- sign-in and sessions -----------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInRequest {
    /// A handle (participants with a passphrase) or an e-mail address (staff-like roles).
    login: String,
    /// The password or passphrase.
    secret: String,
    /// The current TOTP code, when two-step sign-in is on.
    #[serde(default)]
    totp: Option<String>,
}

/// `POST /api/sign-in`.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let req: SignInRequest = parse_body(&body)?;
    let login = if req.login.contains('@') {
        req.login.trim().to_lowercase()
    } else {
        handle_key(req.login.trim())
    };
    if login.is_empty() || login.chars().count() > MAX_EMAIL_CHARS {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "login",
            "enter your handle or e-mail address",
        ));
    }
    let now = state.now();
    let address = peer.ip().to_string();
    {
        let throttle = state
            .sign_in_throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let wait = [
            throttle.check(&format!("login:{login}"), now),
            throttle.check(&format!("addr:{address}"), now),
        ]
        .into_iter()
        .filter_map(Result::err)
        .max();
        if let Some(wait) = wait {
            return Err(AppError::rate_limited(
                wait,
                "too many attempts; please wait a little before trying again",
            ));
        }
    }
    let fail = |state: &AppState| {
        let mut throttle = state
            .sign_in_throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        throttle.fail(&format!("login:{login}"), now);
        throttle.fail(&format!("addr:{address}"), now);
        AppError::client(
            ErrorCode::SignInFailed,
            "the login or the password is not right",
        )
    };
    let credentials = state.entry.credentials(&login).await?;
    let Some(credentials) = credentials else {
        // Hash anyway, so that an unknown login takes as long as a wrong password.
        let _ = secret::verify_password(&req.secret, &DUMMY_HASH);
        return Err(fail(&state));
    };
    let secret_ok = credentials
        .secret_hash
        .as_deref()
        .is_some_and(|h| secret::verify_password(&req.secret, h));
    if !secret_ok {
        return Err(fail(&state));
    }
    if credentials.status == AccountStatus::Suspended {
        return Err(AppError::client(
            ErrorCode::Suspended,
            "this account is suspended; please contact the staff",
        ));
    }
    if let Some(totp_secret) = &credentials.totp_secret {
        let Some(code) = req.totp.as_deref() else {
            return Err(AppError::field(
                ErrorCode::TotpRequired,
                "totp",
                "enter the 6-digit code from your authenticator app",
            ));
        };
        let unix_secs = u64::try_from(now / 1000).unwrap_or(0);
        let fresh = match totp::verify(totp_secret, code, unix_secs) {
            Some(step) => state.entry.use_totp_step(credentials.account, step).await?,
            None => false,
        };
        if !fresh {
            return Err(fail(&state));
        }
    }
    {
        let mut throttle = state
            .sign_in_throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        throttle.succeed(&format!("login:{login}"));
        // A success from an address also clears it: many people may share one (a facility's
        // network), and one person's typos should not make the others wait.
        throttle.succeed(&format!("addr:{address}"));
    }
    state
        .sign_in_response(credentials.account, StatusCode::OK, None)
        .await
}

/// A real argon2id hash, verified against when the login is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| secret::hash_password(&secret::new_token()).unwrap_or_default());

/// `POST /api/session/refresh`: rotates the refresh cookie and issues a fresh access token.
/// Presenting a token that was already rotated revokes the whole session.
pub(crate) async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let presented = refresh_cookie_value(&headers)
        .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "no session on this device"))?;
    let next = secret::new_token();
    let now = state.now();
    let rotation = state
        .entry
        .rotate_refresh(
            &secret::token_hash(&presented),
            &secret::token_hash(&next),
            now,
            now + state.refresh_ttl_ms(),
            i64::try_from(state.config.auth.refresh_reuse_grace_secs * 1000).unwrap_or(0),
        )
        .await?;
    match rotation {
        Rotation::Rotated { account } => match state
            .sign_in_response(account, StatusCode::OK, Some(next))
            .await
        {
            Ok(r) => Ok(r),
            Err(e) => Ok(clear_cookie(&state, e.into_response())),
        },
        Rotation::Reused { account } => {
            tracing::warn!(%account, "a rotated refresh token was presented again; session revoked");
            Ok(clear_cookie(
                &state,
                AppError::client(
                    ErrorCode::Unauthorized,
                    "this session has ended; please sign in again",
                )
                .into_response(),
            ))
        }
        Rotation::Invalid => Ok(clear_cookie(
            &state,
            AppError::client(
                ErrorCode::Unauthorized,
                "this session has ended; please sign in again",
            )
            .into_response(),
        )),
    }
}

fn clear_cookie(state: &AppState, mut response: Response) -> Response {
    if let Ok(v) = state.refresh_cookie("", 0) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `POST /api/session/sign-out`: ends this device's session.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(presented) = refresh_cookie_value(&headers) {
        state
            .entry
            .delete_session(&secret::token_hash(&presented), state.now())
            .await?;
    }
    Ok(clear_cookie(&state, StatusCode::NO_CONTENT.into_response()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretChange {
    #[serde(default)]
    current: Option<String>,
    new: String,
}

/// `PUT /api/me/passphrase` (participants, family) and `PUT /api/me/password` (staff-like):
/// both set the secret used to sign in on another device.
pub(crate) async fn change_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(kind): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let req: SecretChange = parse_body(&body)?;
    let action = match kind.as_str() {
        "passphrase" => Action::SetPassphrase,
        "password" => Action::ChangePassword,
        _ => return Err(AppError::client(ErrorCode::NotFound, "no such setting")),
    };
    caller.require(action)?;
    let credentials = state
        .entry
        .credentials_of(caller.0.account)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "sign in again"))?;
    if let Some(existing) = &credentials.secret_hash {
        let ok = req
            .current
            .as_deref()
            .is_some_and(|c| secret::verify_password(c, existing));
        if !ok {
            return Err(AppError::field(
                ErrorCode::SignInFailed,
                "current",
                "the current one is not right",
            ));
        }
    }
    let hash = secret::hash_password(&req.new).map_err(|e| password_error("new", e))?;
    state.entry.update_secret(caller.0.account, &hash).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A new TOTP secret to show as a QR code or text; nothing is stored until confirmed.
#[derive(Debug, Serialize)]
struct TotpSetup {
    secret: String,
    uri: String,
}

/// `POST /api/me/totp/setup`.
pub(crate) async fn totp_setup(caller: Caller) -> Result<Response, AppError> {
    caller.require(Action::UseTotp)?;
    let secret = totp::new_secret();
    let uri = totp::provisioning_uri(&secret, "ibasho", &caller.0.handle);
    Ok(Json(TotpSetup { secret, uri }).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TotpConfirm {
    #[serde(default)]
    secret: Option<String>,
    code: String,
}

/// `POST /api/me/totp` turns two-step sign-in on (with the secret from setup and a current
/// code); `DELETE /api/me/totp` turns it off (with a current code).
pub(crate) async fn totp_enable(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::UseTotp)?;
    let req: TotpConfirm = parse_body(&body)?;
    let secret = req.secret.ok_or_else(|| {
        AppError::field(ErrorCode::InvalidInput, "secret", "start the setup first")
    })?;
    let unix_secs = u64::try_from(state.now() / 1000).unwrap_or(0);
    if totp::verify(&secret, &req.code, unix_secs).is_none() {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "code",
            "that code does not match; check the time on your device",
        ));
    }
    state
        .entry
        .update_totp(caller.0.account, Some(&secret))
        .await?;
    state
        .audit(
            caller.0.account,
            "enable_totp",
            Some(caller.0.account),
            String::new(),
            serde_json::Value::Null,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/me/totp`.
pub(crate) async fn totp_disable(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::UseTotp)?;
    let req: TotpConfirm = parse_body(&body)?;
    let credentials = state
        .entry
        .credentials_of(caller.0.account)
        .await?
        .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "sign in again"))?;
    let Some(secret) = credentials.totp_secret else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let unix_secs = u64::try_from(state.now() / 1000).unwrap_or(0);
    if totp::verify(&secret, &req.code, unix_secs).is_none() {
        return Err(AppError::field(
            ErrorCode::InvalidInput,
            "code",
            "that code does not match",
        ));
    }
    state.entry.update_totp(caller.0.account, None).await?;
    state
        .audit(
            caller.0.account,
            "disable_totp",
            Some(caller.0.account),
            String::new(),
            serde_json::Value::Null,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

//! The HTTP side: guest entry, who-am-I, health, metrics, and the router that ties them to the
//! WebSocket endpoint and the static web client.

use crate::accounts::create_account;
use crate::admin;
use crate::applications;
use crate::auth::TokenKeys;
use crate::config::Config;
use crate::entry;
use crate::error::{AppError, problem};
use crate::gallery;
use crate::mail::Mailer;
use crate::programmes;
use crate::ws;
use axum::Router;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use ibasho_accounts::authz::{self, Action};
use ibasho_accounts::store::EntryStore;
use ibasho_accounts::store::{AdminStore, ApplicationStore};
use ibasho_accounts::throttle::{Throttle, ThrottlePolicy};
use ibasho_hub::Clock;
use ibasho_hub::{Hub, Identity};
use ibasho_programmes::Programmes;
use ibasho_protocol::api::AccountStatus;
use ibasho_protocol::{Avatar, ErrorCode, Role};
use serde::Deserialize;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The realtime core.
    pub hub: Hub,
    /// Entry's records (the same database as the hub's).
    pub entry: Arc<dyn EntryStore>,
    /// Applications and the outbox (the same database again).
    pub applications: Arc<dyn ApplicationStore>,
    /// Account administration and own-data export (the same database again).
    pub admin: Arc<dyn AdminStore>,
    /// Sends mail, when a server is configured.
    pub mailer: Mailer,
    /// Applications in the current minute (`applications.per_minute`).
    pub(crate) applications_this_minute: Arc<PerMinute>,
    /// The clock (injected in tests).
    pub clock: Arc<dyn Clock>,
    /// Failed sign-ins per login and per address.
    pub sign_in_throttle: Arc<Mutex<Throttle<String>>>,
    /// Token signing and verification.
    pub keys: TokenKeys,
    /// Programmes, sessions and the timetable.
    pub programmes: Arc<Programmes>,
    /// The configuration in force.
    pub config: Arc<Config>,
    /// One permit per open WebSocket (`websocket.max_connections`).
    pub sockets: Arc<Semaphore>,
    /// Guest entries in the current minute (`auth.guest_entries_per_minute`).
    guest_entries_this_minute: Arc<PerMinute>,
}

/// A brake on something that anyone may do without signing in: at most `max` a minute, in all.
#[derive(Debug)]
pub(crate) struct PerMinute {
    max: u32,
    window: Mutex<(Instant, u32)>,
}

impl PerMinute {
    fn new(max: u32) -> Self {
        Self {
            max,
            window: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Counts one more; `false` when this minute's allowance is used up.
    pub(crate) fn take(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if window.0.elapsed() >= Duration::from_secs(60) {
            *window = (Instant::now(), 0);
        }
        if window.1 >= self.max {
            return false;
        }
        window.1 += 1;
        true
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Wires the state together.
    pub fn new<S>(
        hub: Hub,
        store: Arc<S>,
        mailer: Mailer,
        clock: Arc<dyn Clock>,
        keys: TokenKeys,
        config: Arc<Config>,
        programmes: Arc<Programmes>,
    ) -> Self
    where
        S: EntryStore + ApplicationStore + AdminStore + 'static,
    {
        let policy = ThrottlePolicy {
            free_failures: config.auth.sign_in_free_failures,
            max_delay_ms: config.auth.sign_in_max_delay_secs.saturating_mul(1000),
            ..ThrottlePolicy::default()
        };
        Self {
            hub,
            entry: store.clone(),
            applications: store.clone(),
            admin: store,
            mailer,
            applications_this_minute: Arc::new(PerMinute::new(config.applications.per_minute)),
            clock,
            sign_in_throttle: Arc::new(Mutex::new(Throttle::new(policy))),
            keys,
            sockets: Arc::new(Semaphore::new(config.websocket.max_connections)),
            guest_entries_this_minute: Arc::new(PerMinute::new(
                config.auth.guest_entries_per_minute,
            )),
            config,
            programmes,
        }
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

/// The signed-in caller of an API request (`Authorization: Bearer <access token>`).
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

impl Caller {
    /// Refuses with `not_allowed` unless the caller's role may do `action`.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if authz::allowed(self.0.role, action) {
            Ok(())
        } else {
            Err(AppError::client(
                ErrorCode::NotAllowed,
                "your role does not allow this",
            ))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let identity = bearer(&parts.headers)
            .and_then(|t| state.keys.verify(t))
            .ok_or_else(|| AppError::client(ErrorCode::Unauthorized, "sign in first"))?;
        // The token says who signed in; the account says what they may do now. A suspension
        // or a role change takes effect on the next request, not when the token expires.
        let record = state
            .hub
            .store()
            .account(identity.account)
            .await?
            .ok_or_else(|| {
                AppError::client(ErrorCode::Unauthorized, "this account no longer exists")
            })?;
        match record.status {
            AccountStatus::Active => {}
            AccountStatus::Suspended => {
                return Err(AppError::client(
                    ErrorCode::Suspended,
                    "this account is suspended; please contact the staff",
                ));
            }
            AccountStatus::Deleted => {
                return Err(AppError::client(
                    ErrorCode::Unauthorized,
                    "this account no longer exists",
                ));
            }
        }
        Ok(Caller(record.identity()))
    }
}

/// The router: API, WebSocket, and the static web client for everything else.
pub fn router(state: AppState) -> Router {
    let csp = HeaderValue::from_static(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'",
    );
    let static_files = ServeDir::new(&state.config.web_client_dir);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/guest", post(guest_entry))
        .route("/api/me", get(me).delete(admin::delete_me))
        .route("/api/me/export", get(admin::export_me))
        .route("/api/me/profile", put(admin::update_profile))
        .route("/api/config", get(public_config))
        .route("/api/me/{kind}", put(entry::change_secret))
        .route("/api/me/totp/setup", post(entry::totp_setup))
        .route(
            "/api/me/totp",
            post(entry::totp_enable).delete(entry::totp_disable),
        )
        .route("/api/invitations/{token}", get(entry::preview_invitation))
        .route("/api/register", post(entry::register))
        .route("/api/sign-in", post(entry::sign_in))
        .route("/api/session/refresh", post(entry::refresh))
        .route("/api/session/sign-out", post(entry::sign_out))
        .route("/api/applications", post(applications::apply))
        .route("/api/staff/applications", get(applications::list))
        .route(
            "/api/staff/applications/{id}/{verb}",
            post(applications::decide),
        )
        .route(
            "/api/staff/invitations",
            post(entry::create_invitation).get(entry::list_invitations),
        )
        .route(
            "/api/staff/invitations/{id}/revoke",
            post(entry::revoke_invitation),
        )
        .route("/api/admin/accounts", get(admin::list_accounts))
        .route("/api/admin/accounts/{id}", delete(admin::delete_account))
        .route(
            "/api/admin/accounts/{id}/{verb}",
            post(admin::account_action),
        )
        .route("/api/admin/audit", get(admin::audit_log))
        .route(
            "/api/programmes",
            get(programmes::list).post(programmes::create),
        )
        .route(
            "/api/programmes/{id}",
            get(programmes::show).put(programmes::update),
        )
        .route("/api/programmes/{id}/archive", post(programmes::archive))
        .route(
            "/api/programmes/{id}/gallery",
            put(gallery::upload).delete(gallery::remove),
        )
        .nest_service("/gallery", ServeDir::new(gallery::dir(&state)))
        .route(
            "/api/programmes/{id}/sessions",
            post(programmes::create_session),
        )
        .route("/api/staff/programmes", get(programmes::list_all))
        .route("/api/staff/statistics", get(programmes::statistics))
        .route("/api/staff/statistics.csv", get(programmes::statistics_csv))
        .route("/api/sessions/preview", post(programmes::preview))
        .route("/api/sessions/{id}", put(programmes::update_session))
        .route("/api/sessions/{id}/cancel", post(programmes::cancel))
        .route("/api/counsellors", get(crate::consults::list_counsellors))
        .route(
            "/api/counsellors/{account}",
            put(crate::consults::set_counsellor),
        )
        .route(
            "/api/consults/messages",
            get(crate::consults::left_messages),
        )
        .route(
            "/api/consults/messages/{consult}/handled",
            post(crate::consults::message_handled),
        )
        .route(
            "/api/appointments",
            get(crate::appointments::list).post(crate::appointments::book),
        )
        .route("/api/appointments/slots", get(crate::appointments::slots))
        .route(
            "/api/appointments/{id}/cancel",
            post(crate::appointments::cancel),
        )
        .route(
            "/api/appointments/{id}/move",
            post(crate::appointments::move_to),
        )
        .route(
            "/api/appointment-rules",
            get(crate::appointments::rules).post(crate::appointments::create_rule),
        )
        .route(
            "/api/appointment-rules/preview",
            post(crate::appointments::preview_rule),
        )
        .route(
            "/api/appointment-rules/{id}",
            axum::routing::delete(crate::appointments::delete_rule),
        )
        .route("/api/staff/appointments", get(crate::appointments::day))
        .route(
            "/api/staff/appointments/stats",
            get(crate::appointments::stats),
        )
        .route("/api/staff/appointments.csv", get(crate::appointments::csv))
        .route("/api/timetable", get(programmes::timetable))
        .route("/api/calendar.ics", get(programmes::calendar))
        .route("/ws", get(ws::upgrade))
        .fallback_service(static_files)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// The bearer token of a request, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.hub.store().ping().await {
        Ok(()) => axum::Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            problem(ErrorCode::Unavailable, "the database does not answer")
        }
    }
}

/// What the public pages need to know before anyone signs in.
async fn public_config(State(state): State<AppState>) -> Response {
    let c = &state.config;
    axum::Json(serde_json::json!({
        "space_name": c.home.space_name,
        "opening_hours": { "ja": c.home.opening_hours_ja, "en": c.home.opening_hours_en },
        "opening": state.hub.opening(),
        "gallery": {
            "types": crate::gallery::accepted_types(),
            "max_bytes": c.programmes.gallery_max_bytes,
            "external_links": c.programmes.allow_external_links,
        },
        "time_zone": c.opening_hours.time_zone,
        "operator": { "ja": c.home.operator_ja, "en": c.home.operator_en },
        "crisis_contacts": c.crisis_contacts,
        "guest_entry": c.auth.guest_entry,
        "mail": state.mailer.configured(),
        "consent_version": crate::applications::CONSENT_VERSION,
        "retention_days": c.applications.retention_days,
        "limits": {
            "handle_min_chars": c.limits.handle_min_chars,
            "handle_max_chars": c.limits.handle_max_chars,
            "application_message_max_chars": c.applications.message_max_chars,
            "secret_min_chars": ibasho_accounts::secret::MIN_SECRET_CHARS,
        },
    }))
    .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let m = state.hub.metrics();
    let line = |name: &str, help: &str, kind: &str, v: u64| {
        format!("# HELP ibasho_{name} {help}\n# TYPE ibasho_{name} {kind}\nibasho_{name} {v}\n")
    };
    let body = [
        line(
            "connections_open",
            "Open WebSocket connections.",
            "gauge",
            m.connections_open.load(Ordering::Relaxed),
        ),
        line(
            "frames_encoded_total",
            "Frames serialized for fan-out.",
            "counter",
            m.frames_encoded.load(Ordering::Relaxed),
        ),
        line(
            "frames_queued_total",
            "Frames queued to connections.",
            "counter",
            m.frames_queued.load(Ordering::Relaxed),
        ),
        line(
            "frames_dropped_total",
            "Droppable frames dropped for full queues.",
            "counter",
            m.frames_dropped.load(Ordering::Relaxed),
        ),
        line(
            "slow_consumer_closes_total",
            "Connections closed for a full queue.",
            "counter",
            m.slow_consumer_closes.load(Ordering::Relaxed),
        ),
        line(
            "events_stored_total",
            "Timeline events stored.",
            "counter",
            m.events_stored.load(Ordering::Relaxed),
        ),
    ]
    .concat();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The body of `POST /api/guest`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestEntry {
    handle: String,
    avatar: Avatar,
}

async fn guest_entry(State(state): State<AppState>, body: Bytes) -> Result<Response, AppError> {
    if !state.config.auth.guest_entry {
        return Err(AppError::client(
            ErrorCode::NotAllowed,
            "guest entry is switched off here",
        ));
    }
    let entry: GuestEntry = serde_json::from_slice(&body).map_err(|e| {
        AppError::client(
            ErrorCode::InvalidInput,
            format!("expected {{handle, avatar}}: {e}"),
        )
    })?;
    if !state.guest_entries_this_minute.take() {
        return Err(AppError::rate_limited(
            60_000,
            "many people are entering right now; try again in a minute",
        ));
    }
    let record = create_account(
        state.hub.store().as_ref(),
        &state.config.limits,
        &entry.handle,
        entry.avatar,
        Role::Participant,
        state.now(),
    )
    .await?;
    let identity = record.identity();
    let ttl = Duration::from_secs(state.config.auth.guest_token_days * 86_400);
    let token = state.keys.issue(&identity, ttl)?;
    tracing::info!(account = %record.id, "guest entered");
    let me = record.person();
    let signed_in = entry::SignedIn {
        token,
        expires_in: ttl.as_secs(),
        me,
    };
    Ok((StatusCode::CREATED, axum::Json(signed_in)).into_response())
}

async fn me(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let record = state
        .hub
        .store()
        .account(caller.0.account)
        .await?
        .ok_or_else(|| {
            AppError::client(ErrorCode::Unauthorized, "this account no longer exists")
        })?;
    let credentials = state.entry.credentials_of(caller.0.account).await?;
    let me = record.person();
    let mut body = serde_json::to_value(me)?;
    body["has_secret"] = credentials
        .as_ref()
        .is_some_and(|c| c.secret_hash.is_some())
        .into();
    body["totp"] = credentials
        .as_ref()
        .is_some_and(|c| c.totp_secret.is_some())
        .into();
    Ok(axum::Json(body).into_response())
}

//! The `ibasho` server: axum HTTP and WebSocket front, authentication, configuration, the
//! static web client, and the admin CLI. It wires the other crates together and holds little
//! logic of its own.
//!
//! # Layout
//!
//! - [`config`]: layered configuration (defaults → TOML → `IBASHO_*` env → CLI).
//! - [`auth`]: access tokens (JWT), the seam between sign-in and the hub.
//! - [`http`]: the router, guest entry, health and metrics.
//! - [`ws`]: the WebSocket endpoint: token check before upgrade, reader and writer loops.
//! - [`consults`]: counsellor profiles, messages left for counsellors, the transcript purge.
//! - [`entry`]: invitations, registration, sign-in, device sessions, suspension.
//! - [`admin`]: accounts (list, suspend, role, reissue access, delete), the audit log, and
//!   each person's own data (export, delete).
//! - [`applications`]: applications from the home page; staff invite, decline or archive.
//! - [`mail`]: templates (ja/en), the outbox and the SMTP worker with retries.
//! - [`accounts`]: account creation rules shared by guest entry and the admin CLI.
//! - [`error`]: HTTP problem responses sharing the protocol's error codes.
//!
//! [`start`] runs a server on a listener you give it; the binary and the tests both use it.

pub mod accounts;
pub mod admin;
pub mod applications;
pub mod appointments;
pub mod auth;
pub mod config;
pub mod consults;
pub mod entry;
pub mod error;
pub mod gallery;
pub mod http;
pub mod mail;
pub mod programmes;
pub mod ws;

pub use ibasho_hub::Identity;

use anyhow::Context;
use axum::serve::ListenerExt;
use config::Config;
use ibasho_hub::{Clock, Hub, HubSettings, SystemClock};
use ibasho_store::{SqliteOptions, SqliteStore};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The database file inside the data directory.
pub const DATABASE_FILE: &str = "ibasho.sqlite3";

/// Opens the embedded store in `config.data_dir`, creating the directory if needed.
pub async fn open_store(config: &Config) -> anyhow::Result<SqliteStore> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let options = SqliteOptions {
        synchronous: config.storage.sqlite_synchronous,
        ..SqliteOptions::default()
    };
    let path = config.data_dir.join(DATABASE_FILE);
    SqliteStore::open(&path, &options)
        .await
        .with_context(|| format!("opening database {}", path.display()))
}

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The realtime core (tests inspect it).
    pub hub: Hub,
    /// The token keys (tests issue tokens with them).
    pub keys: auth::TokenKeys,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Shuts down as on SIGTERM: closes every WebSocket with 1001 and a reason, waits for
    /// them within the deadline, then stops the HTTP server and closes the database.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.context("server task")?
    }

    /// Waits until the server stops by itself (after its shutdown signal).
    pub async fn wait(self) -> anyhow::Result<()> {
        let _keep = self.stop;
        self.task.await.context("server task")?
    }
}

/// Starts the server on `listener`. It stops when [`RunningServer::shutdown`] is called or
/// `signal` completes, whichever comes first.
pub async fn start(
    config: Config,
    listener: TcpListener,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningServer> {
    start_with_clock(config, listener, signal, Arc::new(SystemClock)).await
}

/// Like [`start`], with the hub's clock given (tests move time forward to end mutes).
pub async fn start_with_clock(
    config: Config,
    listener: TcpListener,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<RunningServer> {
    config.validate().map_err(|e| anyhow::anyhow!(e))?;
    let config = Arc::new(config);
    let keys = auth::TokenKeys::from_config(&config)?;
    let store = Arc::new(open_store(&config).await?);
    let settings = HubSettings {
        hub: config.hub.clone(),
        limits: config.limits.clone(),
        opening_hours: config.opening_hours.clone(),
        consult: config.consult.clone(),
        appointments: config.appointments.clone(),
    };
    let clock_for_http = clock.clone();
    let hub = Hub::start(settings, store.clone(), clock.clone())
        .await
        .context("starting the hub")?;
    let hours = ibasho_schedule::OpeningHours::from_config(&config.opening_hours)
        .map_err(|e| anyhow::anyhow!("opening_hours: {e}"))?;
    let programmes = ibasho_programmes::Programmes::load(
        store.clone(),
        hub.clone(),
        clock,
        hours,
        config.limits.default_room_capacity,
    )
    .await
    .context("loading programmes")?;
    programmes.spawn_driver(Duration::from_millis(
        config.programmes.driver_tick_ms.max(10),
    ));
    let addr = listener.local_addr()?;
    let mailer = mail::Mailer::new(&config.mail, store.clone(), clock_for_http.clone())?;
    mailer.spawn_worker();
    let state = http::AppState::new(
        hub.clone(),
        store.clone(),
        mailer,
        clock_for_http,
        keys.clone(),
        config.clone(),
        programmes,
    );
    state.spawn_purge();
    consults::spawn_purge(hub.clone());
    appointments::spawn_reminder_mail(state.clone());
    let app = http::router(state);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (http_stop_tx, http_stop_rx) = oneshot::channel::<()>();
    let deadline = Duration::from_secs(config.shutdown_deadline_secs);
    let shutdown_hub = hub.clone();
    let task = tokio::spawn(async move {
        // Small frames must leave at once: without TCP_NODELAY, Nagle's algorithm and delayed
        // acknowledgements add tens of milliseconds to every chat message.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = http_stop_rx.await;
        });
        let server = tokio::spawn(async move { server.await });
        tokio::select! {
            _ = signal => {}
            _ = stop_rx => {}
        }
        tracing::info!("shutting down: closing connections");
        // axum's graceful shutdown does not cover upgraded WebSockets: the hub closes its
        // own, with 1001 and a reason, and waits for them within the deadline.
        let left = shutdown_hub.shutdown(deadline).await;
        if left > 0 {
            tracing::warn!(left, "connections still open at the shutdown deadline");
        }
        let _ = http_stop_tx.send(());
        match tokio::time::timeout(deadline, server).await {
            Ok(joined) => joined.context("http server task")?.context("http server")?,
            Err(_) => tracing::warn!("http server did not stop within the deadline"),
        }
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    });
    tracing::info!(%addr, "ibasho is listening");
    Ok(RunningServer {
        addr,
        hub,
        keys,
        stop: Some(stop_tx),
        task,
    })
}

//! The way out of the hub: frames serialized once and shared, a bounded queue per
//! connection, and a kill switch that closes a connection with a code and a reason.

use bytes::Bytes;
use ibasho_protocol::{AccountId, ConnectionId, Role, ServerFrame, close};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{Notify, mpsc};

/// A server frame serialized to JSON once; cloning shares the same bytes, so a broadcast to a
/// thousand members costs one serialization and a thousand reference-count increments.
/// Pointer-sized, because every connection's outbound queue allocates room for 32 of them
/// up front (tokio's channel block): 256 bytes per idle connection instead of 1 KiB.
#[derive(Clone, Debug)]
pub struct SharedFrame(Arc<Bytes>);

impl SharedFrame {
    /// Serializes `frame`.
    pub fn encode(frame: &ServerFrame) -> Self {
        // Serializing our own frame types cannot fail: every map key is a string.
        let json = serde_json::to_vec(frame).unwrap_or_else(|_| b"{}".to_vec());
        Self(Arc::new(Bytes::from(json)))
    }

    /// The JSON text, as shared bytes (UTF-8).
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// The JSON text, as shared bytes (UTF-8).
    pub fn into_bytes(self) -> Bytes {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| Bytes::clone(&shared))
    }
}

/// Why and how the hub wants a connection closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReason {
    /// The WebSocket close code (see `ibasho_protocol::close`).
    pub code: u16,
    /// A short reason for the close frame (at most 123 bytes).
    pub reason: String,
}

/// Tells a connection's reader and writer to stop, once, with the first reason given.
#[derive(Debug, Default)]
pub struct KillSwitch {
    reason: OnceLock<CloseReason>,
    notify: Notify,
}

impl KillSwitch {
    /// Asks the connection to close. Later calls keep the first reason.
    pub fn kill(&self, code: u16, reason: &str) {
        let mut reason = reason.to_owned();
        reason.truncate(120);
        if self.reason.set(CloseReason { code, reason }).is_ok() {
            self.notify.notify_waiters();
        }
    }

    /// The reason, once killed.
    pub fn reason(&self) -> Option<&CloseReason> {
        self.reason.get()
    }

    /// Waits until the connection is killed.
    pub async fn killed(&self) -> CloseReason {
        loop {
            let notified = self.notify.notified();
            if let Some(r) = self.reason.get() {
                return r.clone();
            }
            notified.await;
        }
    }
}

/// Counters the hub keeps about its traffic; read by the server's `/metrics`.
#[derive(Debug, Default)]
pub struct HubMetrics {
    /// Connections open now.
    pub connections_open: AtomicU64,
    /// Frames serialized for fan-out.
    pub frames_encoded: AtomicU64,
    /// Frames put into outbound queues.
    pub frames_queued: AtomicU64,
    /// Droppable frames (lobby positions) dropped because a queue was full.
    pub frames_dropped: AtomicU64,
    /// Connections closed because an essential frame did not fit their queue.
    pub slow_consumer_closes: AtomicU64,
    /// Timeline events stored.
    pub events_stored: AtomicU64,
}

impl HubMetrics {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether a frame may be dropped when the recipient's queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Must arrive; if it cannot be queued, the connection is closed and resumes.
    Essential,
    /// May be dropped; a later frame supersedes it (lobby positions).
    Droppable,
}

/// The hub's side of one connection: where to send its frames and how to stop it.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionHandle {
    pub(crate) id: ConnectionId,
    pub(crate) account: AccountId,
    /// Staff and admins receive the staff view of presence.
    pub(crate) role: Role,
    tx: mpsc::Sender<SharedFrame>,
    pub(crate) kill: Arc<KillSwitch>,
    metrics: Arc<HubMetrics>,
}

impl ConnectionHandle {
    pub(crate) fn new(
        id: ConnectionId,
        account: AccountId,
        role: Role,
        queue: usize,
        metrics: Arc<HubMetrics>,
    ) -> (Self, mpsc::Receiver<SharedFrame>) {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let handle = Self {
            id,
            account,
            role,
            tx,
            kill: Arc::new(KillSwitch::default()),
            metrics,
        };
        (handle, rx)
    }

    /// Queues a frame without waiting. A full queue drops a droppable frame and closes the
    /// connection for an essential one; it never slows the sender down.
    pub(crate) fn send(&self, frame: &SharedFrame, delivery: Delivery) {
        match self.tx.try_send(frame.clone()) {
            Ok(()) => HubMetrics::inc(&self.metrics.frames_queued),
            Err(mpsc::error::TrySendError::Full(_)) => match delivery {
                Delivery::Droppable => HubMetrics::inc(&self.metrics.frames_dropped),
                Delivery::Essential => {
                    if self.kill.reason().is_none() {
                        HubMetrics::inc(&self.metrics.slow_consumer_closes);
                        tracing::info!(connection = %self.id, "closing slow consumer");
                    }
                    self.kill.kill(
                        close::SLOW_CONSUMER,
                        "outbound queue full; resume to catch up",
                    );
                }
            },
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Serializes and queues a frame meant for this connection only.
    pub(crate) fn send_frame(&self, frame: &ServerFrame) {
        self.send(&SharedFrame::encode(frame), Delivery::Essential);
    }
}

//! The WebSocket endpoint. The token is checked before the upgrade (401 otherwise). Each
//! connection then has a reader (this task: frames into the hub's session) and a writer (a
//! task draining the hub's bounded outbound queue into the socket, and pinging). The hub's
//! kill switch stops both with a close code.

use crate::error::problem;
use crate::http::{AppState, bearer};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use ibasho_hub::{CloseReason, ConnectError, Connection, Flow, Identity, KillSwitch, SharedFrame};
use ibasho_protocol::{ErrorCode, close};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The subprotocol the server speaks; browsers offer it alongside `ibasho.bearer.<token>`.
pub const SUBPROTOCOL: &str = "ibasho.v1";
const BEARER_PROTOCOL_PREFIX: &str = "ibasho.bearer.";

/// The access token: `Authorization: Bearer …`, or for browsers (which cannot set headers on
/// a WebSocket) a `Sec-WebSocket-Protocol` entry `ibasho.bearer.<token>`. Never the URL, which
/// ends up in logs.
fn token(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = bearer(headers) {
        return Some(t.to_owned());
    }
    headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(BEARER_PROTOCOL_PREFIX))
        .map(str::to_owned)
}

/// `GET /ws`.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(identity) = token(&headers).and_then(|t| state.keys.verify(&t)) else {
        return problem(ErrorCode::Unauthorized, "a valid access token is needed");
    };
    let Ok(permit) = state.sockets.clone().try_acquire_owned() else {
        return problem(
            ErrorCode::Unavailable,
            "the server is at its connection limit; try again soon",
        );
    };
    let limits = &state.config.limits;
    // Only what the connection needs is moved into its task: its future lives as long as the
    // connection, so every byte it holds is a byte per idle connection (the whole AppState
    // was 784 of them).
    let hub = state.hub.clone();
    let timing = Timing::from(&state.config.websocket);
    ws.protocols([SUBPROTOCOL])
        .max_message_size(limits.max_frame_hard_bytes)
        .max_frame_size(limits.max_frame_hard_bytes)
        .read_buffer_size(state.config.websocket.read_buffer_bytes)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            // Opening is boxed: its future is needed only once, and inline it would stay
            // in the connection's task for the connection's whole life.
            if let Some((socket, connection)) = Box::pin(open(socket, hub, identity)).await {
                serve(socket, connection, timing).await;
            }
            drop(permit);
        })
}

/// The `[websocket]` timings a connection needs, copied out of the configuration.
#[derive(Clone, Copy, Debug)]
struct Timing {
    ping_every: Duration,
    write_timeout: Duration,
    idle: Duration,
}

impl From<&crate::config::WebSocketConfig> for Timing {
    fn from(ws: &crate::config::WebSocketConfig) -> Self {
        Self {
            ping_every: Duration::from_secs(ws.ping_interval_secs.max(1)),
            write_timeout: Duration::from_secs(ws.write_timeout_secs.max(1)),
            idle: Duration::from_secs(ws.idle_timeout_secs.max(2)),
        }
    }
}

/// Opens the hub connection, or closes the socket with the reason it could not be opened.
async fn open(
    mut socket: WebSocket,
    hub: ibasho_hub::Hub,
    identity: Identity,
) -> Option<(WebSocket, Connection)> {
    let connection = match hub.connect(identity).await {
        Ok(c) => c,
        Err(e) => {
            let (code, reason) = match e {
                ConnectError::TooManyConnections => (
                    close::TOO_MANY_CONNECTIONS,
                    "too many open connections for this account",
                ),
                ConnectError::UnknownAccount => {
                    (close::UNAUTHORIZED, "this account no longer exists")
                }
                ConnectError::ShuttingDown => (close::GOING_AWAY, "server is restarting"),
                ConnectError::Store(e) => {
                    tracing::error!(error = %e, "could not open a connection");
                    (1011, "internal error")
                }
            };
            let _ = socket
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
            return None;
        }
    };
    Some((socket, connection))
}

async fn serve(socket: WebSocket, connection: Connection, timing: Timing) {
    let Connection {
        mut session,
        outbound,
        kill,
    } = connection;
    let span =
        tracing::info_span!("connection", id = %session.id(), account = %session.person().id);
    let _enter = span.enter();
    drop(_enter);
    tracing::debug!(parent: &span, "open");

    let (sink, mut stream) = socket.split();
    let writer = tokio::spawn(write_loop(
        sink,
        outbound,
        kill.clone(),
        timing.ping_every,
        timing.write_timeout,
    ));
    let idle = timing.idle;
    loop {
        tokio::select! {
            biased;
            _ = kill.killed() => break,
            next = tokio::time::timeout(idle, stream.next()) => match next {
                Err(_) => {
                    kill.kill(close::IDLE_TIMEOUT, "nothing received within the idle timeout");
                    break;
                }
                Ok(None) => {
                    kill.kill(close::NORMAL, "");
                    break;
                }
                Ok(Some(Err(e))) => {
                    if is_too_big(e) {
                        kill.kill(close::MESSAGE_TOO_BIG, "frame larger than the hard limit");
                    } else {
                        kill.kill(close::NORMAL, "");
                    }
                    break;
                }
                Ok(Some(Ok(msg))) => match msg {
                    Message::Text(text) => {
                        // Boxed: handling a frame needs a large future (every handler's state),
                        // which would otherwise live inline in this task's future for the whole
                        // life of every idle connection (measured: ~7 KB per connection).
                        if let Flow::Close(CloseReason { code, reason }) = Box::pin(session.handle_text(text.as_str())).await {
                            kill.kill(code, &reason);
                            break;
                        }
                    }
                    Message::Binary(_) => {
                        if let Flow::Close(CloseReason { code, reason }) = session.refuse_binary() {
                            kill.kill(code, &reason);
                            break;
                        }
                    }
                    Message::Close(_) => {
                        kill.kill(close::NORMAL, "");
                        break;
                    }
                    Message::Ping(_) | Message::Pong(_) => {}
                },
            },
        }
    }
    // Leave rooms first so that presence updates at once, then let the writer finish.
    session.close();
    let _ = tokio::time::timeout(timing.write_timeout + Duration::from_secs(1), writer).await;
    tracing::debug!(parent: &span, reason = ?kill.reason(), "closed");
}

/// Whether a read failed because a frame exceeded the hard size limit.
fn is_too_big(e: axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error as WsError;
    matches!(
        e.into_inner().downcast::<WsError>().map(|e| *e),
        Ok(WsError::Capacity(_))
    )
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut outbound: mpsc::Receiver<SharedFrame>,
    kill: Arc<KillSwitch>,
    ping_every: Duration,
    write_timeout: Duration,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    let send = |frame: SharedFrame| match Utf8Bytes::try_from(frame.into_bytes()) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Text(Utf8Bytes::from_static("{}")),
    };
    let reason = loop {
        tokio::select! {
            biased;
            reason = kill.killed() => break reason,
            frame = outbound.recv() => {
                let Some(frame) = frame else { break kill.killed().await };
                // Write everything already queued, then flush once.
                let mut batch = vec![send(frame)];
                while batch.len() < 64 {
                    match outbound.try_recv() {
                        Ok(f) => batch.push(send(f)),
                        Err(_) => break,
                    }
                }
                let write = async {
                    for m in batch {
                        sink.feed(m).await?;
                    }
                    sink.flush().await
                };
                match tokio::time::timeout(write_timeout, write).await {
                    Ok(Ok(())) => {}
                    _ => {
                        kill.kill(close::SLOW_CONSUMER, "write timed out");
                        return;
                    }
                }
            }
            _ = ping.tick() => {
                if tokio::time::timeout(write_timeout, sink.send(Message::Ping(Default::default()))).await.map_or(true, |r| r.is_err()) {
                    kill.kill(close::IDLE_TIMEOUT, "ping failed");
                    return;
                }
            }
        }
    };
    // Frames queued before a graceful close (acks, for instance) still go out; a slow
    // consumer gets only the close, since its queue is what it could not take.
    if reason.code != close::SLOW_CONSUMER {
        let drain = async {
            while let Ok(frame) = outbound.try_recv() {
                if sink.feed(send(frame)).await.is_err() {
                    return;
                }
            }
            let _ = sink.flush().await;
        };
        let _ = tokio::time::timeout(write_timeout, drain).await;
    }
    let close = Message::Close(Some(CloseFrame {
        code: reason.code,
        reason: reason.reason.into(),
    }));
    let _ = tokio::time::timeout(write_timeout, sink.send(close)).await;
}

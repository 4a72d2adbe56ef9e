//! The clients: accounts created over HTTP (`POST /api/guest`), WebSockets opened from a
//! spread of loopback source addresses, `hello` and `join` done.

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// A server to load.
#[derive(Clone, Debug)]
pub struct Target {
    /// Its address.
    pub addr: SocketAddr,
    /// Loopback source addresses to spread connections over (one address runs out of
    /// ephemeral ports near 28,000 connections).
    pub sources: Vec<IpAddr>,
}

impl Target {
    /// A target with `sources` addresses 127.0.0.1, 127.0.0.2, ….
    pub fn new(addr: SocketAddr, sources: u8) -> Self {
        let sources = (1..=sources.max(1))
            .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
            .collect();
        Self { addr, sources }
    }
}

/// A WebSocket to the server.
pub type Socket = WebSocketStream<TcpStream>;

/// Creates `n` guest accounts, `concurrency` at a time; returns their tokens. The server must
/// allow that many guest entries per minute (`IBASHO_AUTH__GUEST_ENTRIES_PER_MINUTE`).
pub async fn create_accounts(
    target: &Target,
    prefix: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let mut tokens = vec![String::new(); n];
    let mut next = 0;
    while next < n {
        let batch: Vec<usize> = (next..n.min(next + concurrency.max(1))).collect();
        next += batch.len();
        let results = futures_util::future::join_all(batch.iter().map(|&i| {
            let body = serde_json::json!({
                "handle": format!("{prefix}{i}"),
                "avatar": {"shape": "circle", "color": "sora"},
            });
            post_json(target.addr, "/api/guest", body.to_string())
        }))
        .await;
        for (i, r) in batch.into_iter().zip(results) {
            let v: serde_json::Value = serde_json::from_str(&r?)?;
            tokens[i] = v["token"]
                .as_str()
                .context("guest entry returned no token")?
                .to_owned();
        }
    }
    Ok(tokens)
}

async fn post_json(addr: SocketAddr, path: &str, body: String) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.split_whitespace().nth(1).unwrap_or("0");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    if !status.starts_with('2') {
        bail!("{path}: {status} {body}");
    }
    Ok(body)
}

/// Opens a WebSocket from source address number `i % sources`, and completes `hello`.
pub async fn connect(target: &Target, token: &str, i: usize) -> anyhow::Result<Socket> {
    let source = target.sources[i % target.sources.len()];
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(target.addr).await?;
    handshake(target, token, stream).await
}

/// Upgrades to a WebSocket and completes `hello`.
async fn handshake(target: &Target, token: &str, stream: TcpStream) -> anyhow::Result<Socket> {
    stream.set_nodelay(true)?;
    let mut request = format!("ws://{}/ws", target.addr).into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse()?);
    // Small buffers keep the load generator itself lean at tens of thousands of sockets.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    ws.send(Message::Text(
        r#"{"type":"hello","id":1,"protocol":1}"#.into(),
    ))
    .await?;
    expect_reply(&mut ws, "welcome").await?;
    Ok(ws)
}

/// Like [`connect`], with a tiny socket receive buffer: for a client that will stop reading,
/// so that the server sees it fall behind soon instead of the kernel absorbing megabytes.
pub async fn connect_slow(target: &Target, token: &str, i: usize) -> anyhow::Result<Socket> {
    let source = target.sources[i % target.sources.len()];
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(2048)?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(target.addr).await?;
    handshake(target, token, stream).await
}

/// Joins a room and waits for `joined`.
pub async fn join(ws: &mut Socket, room: &str, mode: &str) -> anyhow::Result<()> {
    let frame = serde_json::json!({"type": "join", "id": 2, "room": room, "mode": mode});
    ws.send(Message::Text(frame.to_string().into())).await?;
    expect_reply(ws, "joined").await
}

/// Reads until a frame of `kind` arrives (skipping presence and other frames); fails on an
/// error frame or a close.
pub async fn expect_reply(ws: &mut Socket, kind: &str) -> anyhow::Result<()> {
    let want = format!("\"type\":\"{kind}\"");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                if t.as_str().contains(&want) {
                    return Ok(());
                }
                if t.as_str().starts_with("{\"type\":\"error\"") {
                    bail!("server refused: {}", t.as_str());
                }
            }
            Some(Ok(Message::Close(c))) => bail!("closed: {c:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("connection ended"),
        }
    }
}

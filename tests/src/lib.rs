//! A harness for end-to-end tests: [`TestServer`] runs the real server (the same
//! `ibasho_server::start` the binary uses) on `127.0.0.1:0` with its own data directory, and
//! [`TestClient`] speaks the documented protocol over a real WebSocket.

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use ibasho_protocol::{
    AccountId, Avatar, AvatarColor, AvatarShape, Mode, RequestId, RoomId, ServerFrame,
};
use ibasho_server::RunningServer;
use ibasho_server::config::Config;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for any one expected frame before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory under the system's temp dir.
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("ibasho-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The configuration tests start from: port 0, a private data directory, commits that survive
/// a process crash (`normal`) to keep tests fast.
pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: data_dir.to_owned(),
        web_client_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../web-client"),
        shutdown_deadline_secs: 5,
        ..Config::default()
    };
    config.storage.sqlite_synchronous = ibasho_server::config::Synchronous::Normal;
    config.auth.guest_entries_per_minute = 10_000;
    // Most tests enter as guests; entry by invitation has its own tests.
    config.auth.guest_entry = true;
    // Most tests run at any hour; opening hours have their own tests with a moving clock.
    config.opening_hours.always_open = true;
    // Consult offers lapse and graces end soon after a test moves its clock.
    config.consult.tick_ms = 20;
    config
}

/// The real server, running in this process on an ephemeral port.
#[derive(Debug)]
pub struct TestServer {
    /// The running server.
    pub server: RunningServer,
    /// Its configuration.
    pub config: Config,
    dir: std::sync::Arc<TempDir>,
}

impl TestServer {
    /// Starts a server with the test configuration.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `adjust` has changed the test configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let dir = std::sync::Arc::new(TempDir::new());
        let mut config = test_config(dir.path());
        adjust(&mut config);
        Self::start_in(dir, config).await
    }

    async fn start_in(dir: std::sync::Arc<TempDir>, config: Config) -> anyhow::Result<Self> {
        Self::start_in_with_clock(dir, config, std::sync::Arc::new(ibasho_hub::SystemClock)).await
    }

    /// Logs go to the test's output when `IBASHO_LOG` is set (e.g. `IBASHO_LOG=debug`).
    fn init_logs() {
        if let Ok(filter) = std::env::var("IBASHO_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    }

    async fn start_in_with_clock(
        dir: std::sync::Arc<TempDir>,
        config: Config,
        clock: std::sync::Arc<dyn ibasho_hub::Clock>,
    ) -> anyhow::Result<Self> {
        Self::init_logs();
        let listener = TcpListener::bind(config.listen).await?;
        let server = ibasho_server::start_with_clock(
            config.clone(),
            listener,
            std::future::pending(),
            clock,
        )
        .await?;
        Ok(Self {
            server,
            config,
            dir,
        })
    }

    /// Starts a server whose hub reads time from `clock` (mutes, rate limits).
    pub async fn start_with_clock(
        clock: std::sync::Arc<dyn ibasho_hub::Clock>,
    ) -> anyhow::Result<Self> {
        Self::start_with_clock_and(clock, |_| {}).await
    }

    /// Starts a server whose hub reads time from `clock`, after `adjust` has changed the test
    /// configuration.
    pub async fn start_with_clock_and(
        clock: std::sync::Arc<dyn ibasho_hub::Clock>,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Self> {
        let dir = std::sync::Arc::new(TempDir::new());
        let mut config = test_config(dir.path());
        adjust(&mut config);
        Self::start_in_with_clock(dir, config, clock).await
    }

    /// Shuts the server down gracefully and starts it again on the same data directory (on a
    /// new port).
    pub async fn restart(self) -> anyhow::Result<Self> {
        let Self {
            server,
            config,
            dir,
        } = self;
        server.shutdown().await?;
        Self::start_in(dir, config).await
    }

    /// Like [`TestServer::restart`], with the hub reading time from `clock`.
    pub async fn restart_with_clock(
        self,
        clock: std::sync::Arc<dyn ibasho_hub::Clock>,
    ) -> anyhow::Result<Self> {
        let Self {
            server,
            config,
            dir,
        } = self;
        server.shutdown().await?;
        Self::start_in_with_clock(dir, config, clock).await
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `ws://…/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr())
    }

    /// Enters as a guest over HTTP; returns the token and account id.
    pub async fn guest(&self, handle: &str) -> anyhow::Result<(String, AccountId)> {
        let body = serde_json::json!({
            "handle": handle,
            "avatar": Avatar { shape: AvatarShape::Circle, color: AvatarColor::Sora },
        });
        let (status, reply) = self
            .http("POST", "/api/guest", None, Some(&body.to_string()))
            .await?;
        if status != 201 {
            bail!("guest entry failed: {status} {reply}");
        }
        let v: Value = serde_json::from_str(&reply)?;
        let token = v["token"].as_str().context("token")?.to_owned();
        let id = v["me"]["id"].as_str().context("id")?.parse()?;
        Ok((token, id))
    }

    /// Creates a staff account the way `ibasho admin create` does, and returns its token.
    pub async fn staff(&self, handle: &str) -> anyhow::Result<(String, AccountId)> {
        self.account(handle, ibasho_protocol::Role::Staff).await
    }

    /// Creates an account with any role the way `ibasho admin create` does, and returns its
    /// token.
    pub async fn account(
        &self,
        handle: &str,
        role: ibasho_protocol::Role,
    ) -> anyhow::Result<(String, AccountId)> {
        let avatar = Avatar {
            shape: AvatarShape::Star,
            color: AvatarColor::Umi,
        };
        let record = ibasho_server::accounts::create_account(
            self.server.hub.store().as_ref(),
            &self.config.limits,
            handle,
            avatar,
            role,
            0,
        )
        .await
        .map_err(|e| anyhow!("{e:?}"))?;
        let identity = record.identity();
        let token = self
            .server
            .keys
            .issue(&identity, Duration::from_secs(3600))?;
        Ok((token, record.id))
    }

    /// A fresh access token for an existing account (as signing in again would give).
    pub async fn token_for(&self, account: AccountId) -> anyhow::Result<String> {
        let record = self
            .server
            .hub
            .store()
            .account(account)
            .await?
            .ok_or_else(|| anyhow!("no account {account}"))?;
        self.server
            .keys
            .issue(&record.identity(), Duration::from_secs(3600))
    }

    /// A plain HTTP/1.1 request; returns status and body.
    pub async fn http(
        &self,
        method: &str,
        path: &str,
        headers: Option<&[(&str, &str)]>,
        body: Option<&str>,
    ) -> anyhow::Result<(u16, String)> {
        http_request(self.addr(), method, path, headers.unwrap_or(&[]), body).await
    }

    /// A request with the response headers, optionally with a bearer token and a cookie.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        cookie: Option<&str>,
        body: Option<&Value>,
    ) -> anyhow::Result<HttpReply> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let cookie = cookie.map(|c| format!("ibasho_refresh={c}"));
        let mut headers = Vec::new();
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        if let Some(c) = &cookie {
            headers.push(("Cookie", c.as_str()));
        }
        let body = body.map(Value::to_string);
        http_full(self.addr(), method, path, &headers, body.as_deref()).await
    }

    /// Connects a client with `token` and completes `hello`.
    pub async fn client(&self, token: &str) -> anyhow::Result<TestClient> {
        let mut c = TestClient::connect(&self.ws_url(), token).await?;
        c.hello().await?;
        Ok(c)
    }

    /// Enters as a guest and connects.
    pub async fn guest_client(&self, handle: &str) -> anyhow::Result<TestClient> {
        let (token, _) = self.guest(handle).await?;
        self.client(&token).await
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
    /// The body, as bytes.
    pub bytes: Vec<u8>,
}

impl HttpReply {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The value of a cookie set by this response (`name=value; …`).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next())
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole answer.
pub async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> anyhow::Result<(u16, String)> {
    let reply = http_full(addr, method, path, headers, body).await?;
    Ok((reply.status, reply.body))
}

/// Like [`http_request`], with the response headers.
pub async fn http_full(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> anyhow::Result<HttpReply> {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    http_bytes(addr, method, path, &all, body.unwrap_or("").as_bytes()).await
}

/// A request with any body; `headers` should include its Content-Type. The reply keeps the
/// body's bytes as they came.
pub async fn http_bytes(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<HttpReply> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("connection"))
    {
        req.push_str("Connection: close\r\n");
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw)).await??;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or((raw.len(), raw.len()), |at| (at, at + 4));
    let head = String::from_utf8_lossy(&raw[..split.0]).into_owned();
    let bytes = raw[split.1..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .context("status line")?
        .parse()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(HttpReply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes,
    })
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The close code, if a close frame came.
    pub code: Option<u16>,
    /// The reason.
    pub reason: String,
}

/// A protocol client over a real WebSocket.
#[derive(Debug)]
pub struct TestClient {
    socket: Socket,
    /// Frames received but not yet taken by a test.
    pending: VecDeque<(String, ServerFrame)>,
    next_id: u64,
    /// The `welcome` frame.
    pub welcome: Option<ServerFrame>,
}

impl TestClient {
    /// Opens the WebSocket with the token in the `Authorization` header.
    pub async fn connect(url: &str, token: &str) -> anyhow::Result<Self> {
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse()?);
        let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        Ok(Self {
            socket,
            pending: VecDeque::new(),
            next_id: 1000,
            welcome: None,
        })
    }

    /// Sends `hello` and waits for `welcome`.
    pub async fn hello(&mut self) -> anyhow::Result<ServerFrame> {
        let reply = self
            .request(serde_json::json!({"type": "hello", "protocol": 1}))
            .await?;
        match &reply {
            ServerFrame::Welcome { .. } => {
                self.welcome = Some(reply.clone());
                Ok(reply)
            }
            other => bail!("expected welcome, got {other:?}"),
        }
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: impl Into<String>) -> anyhow::Result<()> {
        self.socket.send(Message::Text(text.into().into())).await?;
        Ok(())
    }

    /// Sends a JSON frame as is.
    pub async fn send_json(&mut self, frame: Value) -> anyhow::Result<()> {
        self.send_text(frame.to_string()).await
    }

    /// Sends a frame with a fresh request id and returns the reply (or error) carrying it;
    /// other frames received meanwhile are kept for [`TestClient::next`].
    pub async fn request(&mut self, mut frame: Value) -> anyhow::Result<ServerFrame> {
        self.next_id += 1;
        let id = self.next_id;
        frame["id"] = Value::from(id);
        self.send_json(frame).await?;
        let want = RequestId::Number(id);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (_, f) = self.read_frame(deadline).await?;
            if reply_id(&f) == Some(&want) {
                return Ok(f);
            }
            self.pending.push_back((String::new(), f));
        }
    }

    /// Like [`TestClient::request`], but fails unless the reply is not an error.
    pub async fn ok(&mut self, frame: Value) -> anyhow::Result<ServerFrame> {
        match self.request(frame).await? {
            ServerFrame::Error { code, message, .. } => bail!("refused: {code}: {message}"),
            f => Ok(f),
        }
    }

    /// Joins a room; returns the `joined` frame.
    pub async fn join(
        &mut self,
        room: &str,
        mode: Mode,
        since: Option<u64>,
    ) -> anyhow::Result<ServerFrame> {
        let mut frame = serde_json::json!({"type": "join", "room": room, "mode": mode});
        if let Some(since) = since {
            frame["since"] = since.into();
        }
        self.ok(frame).await
    }

    /// Posts a message; returns the acknowledged sequence number.
    pub async fn post(&mut self, room: &str, body: &str) -> anyhow::Result<u64> {
        match self
            .ok(serde_json::json!({"type": "post", "room": room, "body": body}))
            .await?
        {
            ServerFrame::Ack { seq: Some(seq), .. } => Ok(seq),
            f => bail!("expected ack with seq, got {f:?}"),
        }
    }

    async fn read_frame(
        &mut self,
        deadline: tokio::time::Instant,
    ) -> anyhow::Result<(String, ServerFrame)> {
        loop {
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .map_err(|_| anyhow!("timed out waiting for a frame"))?
                .ok_or_else(|| anyhow!("connection ended"))??;
            match msg {
                Message::Text(text) => {
                    let frame: ServerFrame = serde_json::from_str(text.as_str())
                        .with_context(|| format!("server sent an undocumented frame: {text}"))?;
                    return Ok((text.as_str().to_owned(), frame));
                }
                Message::Close(c) => bail!("closed: {c:?}"),
                _ => {}
            }
        }
    }

    /// The next frame (kept ones first).
    pub async fn next(&mut self) -> anyhow::Result<ServerFrame> {
        Ok(self.next_raw().await?.1)
    }

    /// The next frame with its raw text (empty for frames kept while waiting for a reply).
    pub async fn next_raw(&mut self) -> anyhow::Result<(String, ServerFrame)> {
        if let Some(f) = self.pending.pop_front() {
            return Ok(f);
        }
        self.read_frame(tokio::time::Instant::now() + WAIT).await
    }

    /// Skips frames until one matches; fails after [`WAIT`].
    pub async fn next_matching(
        &mut self,
        mut pred: impl FnMut(&ServerFrame) -> bool,
    ) -> anyhow::Result<ServerFrame> {
        let deadline = tokio::time::Instant::now() + WAIT;
        while let Some((_, f)) = self.pending.pop_front() {
            if pred(&f) {
                return Ok(f);
            }
        }
        loop {
            let (_, f) = self.read_frame(deadline).await?;
            if pred(&f) {
                return Ok(f);
            }
        }
    }

    /// Every frame that arrives within `window`, with raw text.
    pub async fn drain_for(&mut self, window: Duration) -> Vec<(String, ServerFrame)> {
        let mut out: Vec<_> = self.pending.drain(..).collect();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(f) = self.read_frame(deadline).await {
            out.push(f);
        }
        out
    }

    /// Reads until the server closes the connection; returns the close code.
    pub async fn closed(&mut self) -> anyhow::Result<Closed> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .map_err(|_| anyhow!("timed out waiting for the close"))?;
            match msg {
                None => {
                    return Ok(Closed {
                        code: None,
                        reason: String::new(),
                    });
                }
                Some(Err(_)) => {
                    return Ok(Closed {
                        code: None,
                        reason: String::new(),
                    });
                }
                Some(Ok(Message::Close(frame))) => {
                    return Ok(Closed {
                        code: frame.as_ref().map(|f| u16::from(f.code)),
                        reason: frame
                            .map(|f| f.reason.as_str().to_owned())
                            .unwrap_or_default(),
                    });
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// Closes the connection from the client side.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    /// The underlying socket, for tests that misbehave on purpose.
    pub fn into_socket(self) -> Socket {
        self.socket
    }
}

/// The request id a server frame echoes.
pub fn reply_id(frame: &ServerFrame) -> Option<&RequestId> {
    match frame {
        ServerFrame::Welcome { id, .. }
        | ServerFrame::Joined { id, .. }
        | ServerFrame::Ack { id, .. }
        | ServerFrame::History { id, .. }
        | ServerFrame::Rooms { id, .. }
        | ServerFrame::Pong { id, .. }
        | ServerFrame::ConsultStatus { id, .. }
        | ServerFrame::Counsellor { id, .. }
        | ServerFrame::ConsultQueue { id, .. }
        | ServerFrame::Error { id, .. } => id.as_ref(),
        _ => None,
    }
}

/// The lobby's id.
pub fn lobby() -> String {
    RoomId::LOBBY.to_owned()
}

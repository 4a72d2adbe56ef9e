//! Connecting: the token is checked before the upgrade; `hello` comes first.

use ibasho_e2e::{TestClient, TestServer, http_request};
use ibasho_protocol::{ErrorCode, ServerFrame, close};

const UPGRADE: &[(&str, &str)] = &[
    ("Upgrade", "websocket"),
    ("Connection", "close, Upgrade"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
];

#[tokio::test]
async fn upgrade_without_a_valid_token_is_refused_with_401() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    // http_request adds `Connection: close`; the upgrade headers are what matter here.
    let (status, body) = http_request(server.addr(), "GET", "/ws", UPGRADE, None).await?;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"code\":\"unauthorized\""), "{body}");

    let mut bad = UPGRADE.to_vec();
    bad.push(("Authorization", "Bearer not.a.token"));
    let (status, _) = http_request(server.addr(), "GET", "/ws", &bad, None).await?;
    assert_eq!(status, 401);

    let err = TestClient::connect(&server.ws_url(), "forged")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    server.server.shutdown().await
}

#[tokio::test]
async fn browsers_pass_the_token_as_a_subprotocol() -> anyhow::Result<()> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let server = TestServer::start().await?;
    let (token, _) = server.guest("ブラウザ").await?;
    let mut request = server.ws_url().into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        format!("ibasho.v1, ibasho.bearer.{token}").parse()?,
    );
    let (_socket, response) = tokio_tungstenite::connect_async(request).await?;
    assert_eq!(response.headers()["sec-websocket-protocol"], "ibasho.v1");
    server.server.shutdown().await
}

#[tokio::test]
async fn hello_first_then_welcome_with_resume_points() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (token, id) = server.guest("ひなた").await?;
    let mut c = TestClient::connect(&server.ws_url(), &token).await?;
    let refused = c
        .request(serde_json::json!({"type": "join", "room": "lobby", "mode": "participant"}))
        .await?;
    assert!(
        matches!(
            refused,
            ServerFrame::Error {
                code: ErrorCode::HelloRequired,
                ..
            }
        ),
        "{refused:?}"
    );
    let welcome = c.hello().await?;
    let ServerFrame::Welcome {
        me,
        rooms,
        protocol,
        stamps,
        ..
    } = welcome
    else {
        unreachable!()
    };
    assert_eq!(protocol, 1);
    assert_eq!(me.id, id);
    assert_eq!(me.handle, "ひなた");
    assert_eq!(rooms[0].id.as_str(), "lobby");
    assert_eq!(rooms[0].last_seq, 0);
    assert_eq!(stamps.len(), 8);
    let again = c
        .request(serde_json::json!({"type": "hello", "protocol": 1}))
        .await?;
    assert!(matches!(
        again,
        ServerFrame::Error {
            code: ErrorCode::BadFrame,
            ..
        }
    ));
    server.server.shutdown().await
}

#[tokio::test]
async fn an_unsupported_version_is_refused_and_closed_with_4003() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (token, _) = server.guest("みらい").await?;
    let mut c = TestClient::connect(&server.ws_url(), &token).await?;
    let reply = c
        .request(serde_json::json!({"type": "hello", "protocol": 99}))
        .await?;
    assert!(matches!(
        reply,
        ServerFrame::Error {
            code: ErrorCode::UnsupportedVersion,
            ..
        }
    ));
    assert_eq!(c.closed().await?.code, Some(close::UNSUPPORTED_VERSION));
    server.server.shutdown().await
}

#[tokio::test]
async fn health_checks_the_database_and_api_me_needs_a_token() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (status, body) = server.http("GET", "/healthz", None, None).await?;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, _) = server.http("GET", "/api/me", None, None).await?;
    assert_eq!(status, 401);
    let (token, id) = server.guest("そよかぜ").await?;
    let auth = format!("Bearer {token}");
    let (status, body) = server
        .http("GET", "/api/me", Some(&[("Authorization", &auth)]), None)
        .await?;
    assert_eq!(status, 200);
    assert!(body.contains(&id.to_string()));
    let (status, metrics) = server.http("GET", "/metrics", None, None).await?;
    assert_eq!(status, 200);
    assert!(metrics.contains("ibasho_connections_open 0"), "{metrics}");
    server.server.shutdown().await
}

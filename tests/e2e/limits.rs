//! Every limit refuses with its error code, and bad input never takes the connection down
//! unless it goes on and on.

use ibasho_e2e::{TestClient, TestServer, lobby};
use ibasho_protocol::{ErrorCode, Mode, ServerFrame, close};
use serde_json::json;

fn code(f: &ServerFrame) -> Option<ErrorCode> {
    match f {
        ServerFrame::Error { code, .. } => Some(*code),
        _ => None,
    }
}

#[tokio::test]
async fn malformed_and_unknown_frames_get_errors_and_the_connection_stays() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut c = server.guest_client("ためし").await?;
    c.send_text("this is not json").await?;
    assert_eq!(code(&c.next().await?), Some(ErrorCode::BadFrame));
    c.send_text(r#"{"type":"dance","id":7}"#).await?;
    let f = c.next().await?;
    assert!(
        matches!(
            &f,
            ServerFrame::Error {
                code: ErrorCode::UnknownType,
                id: Some(_),
                ..
            }
        ),
        "{f:?}"
    );
    c.send_text(r#"{"type":"post","id":8,"room":"lobby"}"#)
        .await?;
    let f = c.next().await?;
    assert!(
        matches!(
            &f,
            ServerFrame::Error {
                code: ErrorCode::BadFrame,
                id: Some(_),
                ..
            }
        ),
        "{f:?}"
    );
    c.send_text(r#"{"type":"join","id":9,"room":"NOT A ROOM","mode":"participant"}"#)
        .await?;
    assert_eq!(code(&c.next().await?), Some(ErrorCode::BadFrame));
    c.send_text(r#"{"type":"join","id":10,"room":"nowhere","mode":"participant"}"#)
        .await?;
    assert_eq!(code(&c.next().await?), Some(ErrorCode::UnknownRoom));
    c.send_text(r#"[1,2,3]"#).await?;
    assert_eq!(code(&c.next().await?), Some(ErrorCode::BadFrame));
    c.send_text("\u{0}\u{1}\u{fffd}").await?;
    assert_eq!(code(&c.next().await?), Some(ErrorCode::BadFrame));
    // Still alive and useful.
    c.join(&lobby(), Mode::Participant, None).await?;
    c.post(&lobby(), "まだいるよ").await?;
    server.server.shutdown().await
}

#[tokio::test]
async fn sustained_garbage_closes_the_connection_with_4000() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.limits.abuse_errors_per_minute = 5).await?;
    let mut c = server.guest_client("あらし").await?;
    for _ in 0..6 {
        c.send_text("{").await?;
    }
    let closed = c.closed().await?;
    assert_eq!(closed.code, Some(close::POLICY_ABUSE));
    server.server.shutdown().await
}

#[tokio::test]
async fn message_length_emptiness_and_frame_size_are_limited() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.limits.max_message_chars = 10;
        c.limits.max_frame_bytes = 1024;
        c.limits.max_frame_hard_bytes = 8192;
    })
    .await?;
    let mut c = server.guest_client("ながい").await?;
    c.join(&lobby(), Mode::Participant, None).await?;
    // Ten characters (30 bytes in UTF-8) are fine; eleven are not.
    c.post(&lobby(), "あいうえおかきくけこ").await?;
    let r = c
        .request(json!({"type": "post", "room": "lobby", "body": "あいうえおかきくけこさ"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::TooLong));
    let r = c
        .request(json!({"type": "post", "room": "lobby", "body": "  \n "}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::InvalidInput));
    let r = c
        .request(json!({"type": "post", "room": "lobby", "body": "a\u{7}b"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::InvalidInput));
    // Over the parse limit: refused, and the request id is still echoed.
    let r = c
        .request(json!({"type": "post", "room": "lobby", "body": "x".repeat(2000)}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::TooLong));
    // Over the hard limit: the WebSocket layer closes with 1009.
    c.send_text("x".repeat(10_000)).await?;
    assert_eq!(c.closed().await?.code, Some(close::MESSAGE_TOO_BIG));
    server.server.shutdown().await
}

#[tokio::test]
async fn writes_are_rate_limited_with_a_retry_hint() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.limits.messages_per_second = 1;
        c.limits.message_burst = 3;
    })
    .await?;
    let mut c = server.guest_client("はやい").await?;
    c.join(&lobby(), Mode::Participant, None).await?;
    for i in 0..3 {
        c.post(&lobby(), &format!("{i}")).await?;
    }
    let r = c
        .request(json!({"type": "post", "room": "lobby", "body": "もう一つ"}))
        .await?;
    let ServerFrame::Error {
        code: ErrorCode::RateLimited,
        retry_after_ms: Some(wait),
        ..
    } = r
    else {
        panic!("{r:?}")
    };
    assert!(wait > 0 && wait <= 1000, "{wait}");
    server.server.shutdown().await
}

#[tokio::test]
async fn rooms_per_connection_and_connections_per_account_are_limited() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.limits.max_rooms_per_connection = 1;
        c.limits.max_connections_per_account = 2;
    })
    .await?;
    let (staff, _) = server.staff("かんり").await?;
    let mut s = server.client(&staff).await?;
    let ServerFrame::Ack {
        room: Some(room), ..
    } = s.ok(json!({"type": "create_room", "name": "部屋"})).await?
    else {
        panic!()
    };
    let (token, _) = server.guest("いそがしい").await?;
    let mut c1 = server.client(&token).await?;
    c1.join(&lobby(), Mode::Participant, None).await?;
    let r = c1
        .request(json!({"type": "join", "room": room.id, "mode": "participant"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::TooManyRooms));
    // Leaving makes room for another.
    c1.ok(json!({"type": "leave", "room": "lobby"})).await?;
    c1.join(room.id.as_str(), Mode::Participant, None).await?;

    let _c2 = server.client(&token).await?;
    let mut c3 = TestClient::connect(&server.ws_url(), &token).await?;
    assert_eq!(c3.closed().await?.code, Some(close::TOO_MANY_CONNECTIONS));
    server.server.shutdown().await
}

#[tokio::test]
async fn room_capacity_is_enforced() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("かんりにん").await?;
    let mut s = server.client(&staff).await?;
    let ServerFrame::Ack {
        room: Some(room), ..
    } = s
        .ok(json!({"type": "create_room", "name": "二人部屋", "capacity": 2}))
        .await?
    else {
        panic!()
    };
    let mut a = server.guest_client("ひとり").await?;
    let mut b = server.guest_client("ふたり").await?;
    let mut c = server.guest_client("さんにん").await?;
    a.join(room.id.as_str(), Mode::Participant, None).await?;
    b.join(room.id.as_str(), Mode::ViewOnly, None).await?;
    let r = c
        .request(json!({"type": "join", "room": room.id, "mode": "view_only"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::RoomFull));
    // Staff may always enter.
    s.join(room.id.as_str(), Mode::ViewOnly, None).await?;
    server.server.shutdown().await
}

#[tokio::test]
async fn handles_follow_the_rules_and_are_unique_case_insensitively() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let enter = |handle: &str| {
        json!({"handle": handle, "avatar": {"shape": "leaf", "color": "wakaba"}}).to_string()
    };
    let (status, _) = server
        .http("POST", "/api/guest", None, Some(&enter("Hana")))
        .await?;
    assert_eq!(status, 201);
    for (handle, status_want, code_want) in [
        ("HANA", 409, "handle_taken"),
        ("Ｈａｎａ", 409, "handle_taken"),
        ("h", 400, "invalid_handle"),
        ("ha\u{200b}na", 400, "invalid_handle"),
        ("ha\nna", 400, "invalid_handle"),
        (" hana2", 400, "invalid_handle"),
        (
            "あいうえおかきくけこさしすせそたちつてとなにぬねの",
            400,
            "invalid_handle",
        ),
    ] {
        let (status, body) = server
            .http("POST", "/api/guest", None, Some(&enter(handle)))
            .await?;
        assert_eq!(status, status_want, "{handle:?}: {body}");
        assert!(
            body.contains(&format!("\"code\":\"{code_want}\"")),
            "{handle:?}: {body}"
        );
    }
    let (status, body) = server
        .http("POST", "/api/guest", None, Some("{\"handle\":1}"))
        .await?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_input"));
    let (status, _) = server
        .http(
            "POST",
            "/api/guest",
            None,
            Some(
                &json!({"handle": "ねこ", "avatar": {"shape": "dragon", "color": "sora"}})
                    .to_string(),
            ),
        )
        .await?;
    assert_eq!(status, 400);
    server.server.shutdown().await
}

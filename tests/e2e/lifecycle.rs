//! The server's life: restarts keep everything, shutdown closes sockets with 1001, silent
//! peers are dropped, and a client that does not read cannot hurt a room.

use ibasho_e2e::{TestServer, lobby};
use ibasho_protocol::{Mode, RoomEvent, ServerFrame, close};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[tokio::test]
async fn rooms_history_and_identities_survive_a_restart() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("のこる").await?;
    let (token, id) = server.guest("おぼえて").await?;
    let mut s = server.client(&staff).await?;
    let ServerFrame::Ack {
        room: Some(room), ..
    } = s
        .ok(json!({"type": "create_room", "name": "残る部屋"}))
        .await?
    else {
        panic!()
    };
    let mut a = server.client(&token).await?;
    a.join(room.id.as_str(), Mode::Participant, None).await?;
    let seq1 = a.post(room.id.as_str(), "一つ目").await?;
    let seq2 = a.post(room.id.as_str(), "二つ目").await?;
    drop(a);

    let server = server.restart().await?;
    // The same token still works: the generated secret was kept in the data directory.
    let mut a = server.client(&token).await?;
    let ServerFrame::Welcome { me, rooms, .. } = a.welcome.clone().unwrap() else {
        panic!()
    };
    assert_eq!(me.id, id);
    let kept = rooms
        .iter()
        .find(|r| r.id == room.id)
        .expect("room survived");
    assert_eq!(kept.last_seq, seq2);
    let ServerFrame::Joined { messages, .. } =
        a.join(room.id.as_str(), Mode::Participant, None).await?
    else {
        panic!()
    };
    let got: Vec<_> = messages.iter().map(|m| (m.seq, m.body.as_str())).collect();
    assert_eq!(got, [(seq1, "一つ目"), (seq2, "二つ目")]);
    // Numbering goes on from where it was.
    assert_eq!(a.post(room.id.as_str(), "三つ目").await?, seq2 + 1);
    // The handle is still taken.
    let (status, _) = server
        .http(
            "POST",
            "/api/guest",
            None,
            Some(
                &json!({"handle": "おぼえて", "avatar": {"shape": "circle", "color": "sora"}})
                    .to_string(),
            ),
        )
        .await?;
    assert_eq!(status, 409);
    server.server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_socket_with_1001_and_keeps_what_was_acknowledged()
-> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.limits.messages_per_second = 10_000;
        c.limits.message_burst = 10_000;
        c.limits.frames_per_second = 10_000;
        c.limits.frame_burst = 10_000;
    })
    .await?;
    let (token, _) = server.guest("さいご").await?;
    let mut a = server.client(&token).await?;
    let mut b = server.guest_client("みおくり").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    b.join(&lobby(), Mode::Participant, None).await?;
    // A writes as fast as it can while the server shuts down; every ack it gets must be kept.
    let writer = tokio::spawn(async move {
        let mut acked = Vec::new();
        for i in 0.. {
            match a.post(&lobby(), &format!("{i}")).await {
                Ok(seq) => acked.push(seq),
                Err(_) => break,
            }
        }
        acked
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let data_config = server.config.clone();
    let closing = tokio::spawn(async move { b.closed().await });
    server.server.shutdown().await?;
    let closed = closing.await??;
    assert_eq!(closed.code, Some(close::GOING_AWAY));
    assert!(!closed.reason.is_empty());
    let acked = writer.await?;
    assert!(!acked.is_empty());

    // Start again on the same data directory: every acknowledged message is there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let again = ibasho_server::start(data_config, listener, std::future::pending()).await?;
    let mut c = ibasho_e2e::TestClient::connect(&format!("ws://{}/ws", again.addr), &token).await?;
    c.hello().await?;
    let ServerFrame::Joined { missed, .. } = c.join(&lobby(), Mode::ViewOnly, Some(0)).await?
    else {
        panic!()
    };
    let stored: Vec<u64> = missed
        .iter()
        .filter(|e| matches!(e.event, RoomEvent::Posted { .. }))
        .map(|e| e.seq)
        .collect();
    for seq in &acked {
        assert!(stored.contains(seq), "acknowledged seq {seq} was lost");
    }
    again.shutdown().await
}

#[tokio::test]
async fn a_silent_peer_is_dropped_after_the_idle_timeout_and_presence_updates() -> anyhow::Result<()>
{
    let server = TestServer::start_with(|c| {
        c.websocket.ping_interval_secs = 1;
        c.websocket.idle_timeout_secs = 2;
    })
    .await?;
    let mut watcher = server.guest_client("まつ").await?;
    watcher.join(&lobby(), Mode::Participant, None).await?;
    let mut silent = server.guest_client("だんまり").await?;
    silent.join(&lobby(), Mode::Participant, None).await?;
    // From now on the silent client neither reads nor answers pings: a half-open peer.
    let socket = silent.into_socket();
    // The watcher keeps answering pings (its reads do that) and sees the other leave.
    let left = watcher
        .next_matching(|f| matches!(f, ServerFrame::MemberLeft { .. }))
        .await?;
    assert!(matches!(left, ServerFrame::MemberLeft { .. }));
    assert_eq!(server.server.hub.connection_count(), 1);
    drop(socket);
    server.server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_and_nobody_else_waits_for_it() -> anyhow::Result<()> {
    // Enough bytes (about 9 MB) to fill the kernel's socket buffers on loopback.
    const POSTS: usize = 1500;
    let server = TestServer::start_with(|c| {
        c.hub.outbound_queue_frames = 16;
        c.limits.messages_per_second = 10_000;
        c.limits.message_burst = 10_000;
        c.limits.frames_per_second = 10_000;
        c.limits.frame_burst = 10_000;
    })
    .await?;
    let mut writer = server.guest_client("にぎやか").await?;
    let mut reader = server.guest_client("ききて").await?;
    let mut stuck = server.guest_client("ねている").await?;
    writer.join(&lobby(), Mode::Participant, None).await?;
    reader.join(&lobby(), Mode::Participant, None).await?;
    stuck.join(&lobby(), Mode::Participant, None).await?;
    let stuck_socket = stuck.into_socket(); // never read again

    let body = "あ".repeat(2000);
    let reading = tokio::spawn(async move {
        let mut got = 0;
        while got < POSTS {
            let f = reader
                .next_matching(|f| matches!(f, ServerFrame::Event { .. }))
                .await?;
            if matches!(f, ServerFrame::Event { .. }) {
                got += 1;
            }
        }
        anyhow::Ok((got, reader))
    });
    for _ in 0..POSTS {
        writer.post(&lobby(), &body).await?;
    }
    let (got, _reader) = reading.await??;
    assert_eq!(got, POSTS, "the reading member got every message");
    // The one that never read was closed for being slow, rather than buffered without end.
    let metrics = server.server.hub.metrics();
    assert_eq!(metrics.slow_consumer_closes.load(Ordering::Relaxed), 1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while server.server.hub.connection_count() != 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.server.hub.connection_count(), 2);
    drop(stuck_socket);
    server.server.shutdown().await
}

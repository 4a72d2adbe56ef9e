//! Presence and attendance modes: watchers are a number to everyone but staff, never a
//! handle; watchers cannot write; the lobby map moves in coalesced ticks.

use ibasho_e2e::{TestServer, lobby};
use ibasho_protocol::{ErrorCode, Mode, ServerFrame};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_are_only_counted_for_participants_and_named_for_staff() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut a = server.guest_client("あおい").await?;
    let (staff_token, _) = server.staff("スタッフ").await?;
    let mut s = server.client(&staff_token).await?;
    let (w_token, w_id) = server.guest("みているひと").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    s.join(&lobby(), Mode::Participant, None).await?;

    let mut w = server.client(&w_token).await?;
    let ServerFrame::Joined { presence, .. } = w.join(&lobby(), Mode::ViewOnly, None).await? else {
        panic!()
    };
    assert_eq!(
        presence.members.len(),
        2,
        "the watcher sees the visible members"
    );

    // A learns only that one more person watches.
    let count = a
        .next_matching(|f| matches!(f, ServerFrame::Watchers { .. }))
        .await?;
    assert!(matches!(count, ServerFrame::Watchers { count: 1, .. }));
    // Staff see who it is.
    let joined = s
        .next_matching(|f| matches!(f, ServerFrame::MemberJoined { .. }))
        .await?;
    let ServerFrame::MemberJoined { member, .. } = joined else {
        unreachable!()
    };
    assert_eq!((member.person.id, member.mode), (w_id, Mode::ViewOnly));

    // The watcher receives everything...
    let seq = a.post(&lobby(), "見ている人もいるね").await?;
    let got = w
        .next_matching(|f| matches!(f, ServerFrame::Event { .. }))
        .await?;
    assert!(matches!(got, ServerFrame::Event { seq: s, .. } if s == seq));
    // ...but cannot write, react or move, whatever it tries.
    let ServerFrame::Ack {
        message_id: Some(mid),
        ..
    } = a
        .ok(serde_json::json!({"type":"post","room":"lobby","body":"x"}))
        .await?
    else {
        panic!()
    };
    for frame in [
        serde_json::json!({"type": "post", "room": "lobby", "body": "こっそり"}),
        serde_json::json!({"type": "react", "room": "lobby", "message_id": mid, "stamp": "wave", "on": true}),
        serde_json::json!({"type": "edit", "room": "lobby", "message_id": mid, "body": "x"}),
    ] {
        let r = w.request(frame).await?;
        assert!(
            matches!(
                r,
                ServerFrame::Error {
                    code: ErrorCode::NotAllowed,
                    ..
                }
            ),
            "{r:?}"
        );
    }
    // `move` has no request id; its refusal comes without one.
    w.send_json(serde_json::json!({"type": "move", "room": "lobby", "x": 1, "y": 1}))
        .await?;
    let r = w
        .next_matching(|f| matches!(f, ServerFrame::Error { .. }))
        .await?;
    assert!(
        matches!(
            r,
            ServerFrame::Error {
                code: ErrorCode::NotAllowed,
                id: None,
                ..
            }
        ),
        "{r:?}"
    );

    // A fresh participant's snapshot also shows the watcher as a count only.
    let mut late = server.guest_client("おそめ").await?;
    let ServerFrame::Joined { presence, .. } = late.join(&lobby(), Mode::Participant, None).await?
    else {
        panic!()
    };
    assert_eq!(presence.watchers, 1);
    assert!(presence.members.iter().all(|m| m.person.id != w_id));
    let ServerFrame::Joined { presence, .. } = s.join(&lobby(), Mode::Participant, None).await?
    else {
        panic!()
    };
    assert!(
        presence
            .members
            .iter()
            .any(|m| m.person.id == w_id && m.mode == Mode::ViewOnly)
    );

    // The watcher leaves: the count drops. Nothing A ever received named the watcher.
    w.ok(serde_json::json!({"type": "leave", "room": "lobby"}))
        .await?;
    a.next_matching(|f| matches!(f, ServerFrame::Watchers { count: 0, .. }))
        .await?;
    let rest = a.drain_for(Duration::from_millis(300)).await;
    let everything: String = rest.iter().map(|(raw, f)| format!("{raw}{f:?}")).collect();
    assert!(!everything.contains("みているひと"));
    assert!(!everything.contains(&w_id.to_string()));
    server.server.hub.check_invariants();
    server.server.shutdown().await
}

#[tokio::test]
async fn no_frame_sent_to_a_participant_names_a_watcher() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut a = server.guest_client("ひかり").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    let (w_token, w_id) = server.guest("かくれんぼ").await?;
    let mut w = server.client(&w_token).await?;
    w.join(&lobby(), Mode::ViewOnly, None).await?;
    // Switch modes back and forth, join a second connection, leave.
    w.join(&lobby(), Mode::ViewOnly, None).await?;
    let mut w2 = server.client(&w_token).await?;
    w2.join(&lobby(), Mode::ViewOnly, None).await?;
    w2.close().await;
    w.close().await;
    // Watcher counts go out at most once a second (hub.watchers_every_ticks).
    let frames = a.drain_for(Duration::from_millis(1500)).await;
    assert!(!frames.is_empty());
    for (raw, _) in &frames {
        assert!(
            !raw.contains("かくれんぼ") && !raw.contains(&w_id.to_string()),
            "{raw}"
        );
    }
    server.server.shutdown().await
}

#[tokio::test]
async fn one_person_with_two_connections_counts_once_with_the_most_present_mode()
-> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut a = server.guest_client("みはり").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    let (token, id) = server.guest("ふたつ").await?;
    let mut tab1 = server.client(&token).await?;
    let mut tab2 = server.client(&token).await?;
    tab1.join(&lobby(), Mode::ViewOnly, None).await?;
    a.next_matching(|f| matches!(f, ServerFrame::Watchers { count: 1, .. }))
        .await?;
    tab2.join(&lobby(), Mode::ChatOnly, None).await?;
    // Now visible as chat-only, and no longer a watcher.
    let joined = a
        .next_matching(|f| matches!(f, ServerFrame::MemberJoined { .. }))
        .await?;
    assert!(
        matches!(joined, ServerFrame::MemberJoined { member, .. } if member.person.id == id && member.mode == Mode::ChatOnly)
    );
    a.next_matching(|f| matches!(f, ServerFrame::Watchers { count: 0, .. }))
        .await?;
    // The chat-only tab closes: back to a watcher, and gone from the list.
    tab2.close().await;
    let left = a
        .next_matching(|f| matches!(f, ServerFrame::MemberLeft { .. }))
        .await?;
    assert!(matches!(left, ServerFrame::MemberLeft { account, .. } if account == id));
    a.next_matching(|f| matches!(f, ServerFrame::Watchers { count: 1, .. }))
        .await?;
    server.server.hub.check_invariants();
    server.server.shutdown().await
}

#[tokio::test]
async fn lobby_movement_is_coalesced_into_ticks_with_the_latest_position() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.hub.tick_ms = 200;
        c.hub.lobby_keyframe_ticks = 1000;
    })
    .await?;
    let mut a = server.guest_client("うごく").await?;
    let mut b = server.guest_client("みる").await?;
    let ServerFrame::Joined { .. } = a.join(&lobby(), Mode::Participant, None).await? else {
        panic!()
    };
    let ServerFrame::Joined { presence, .. } = b.join(&lobby(), Mode::Participant, None).await?
    else {
        panic!()
    };
    let a_id = presence
        .members
        .iter()
        .find(|m| m.person.handle == "うごく")
        .map(|m| m.person.id)
        .expect("a is listed with a position");
    assert!(presence.members.iter().all(|m| m.pos.is_some()));
    for x in 100..120u16 {
        a.send_json(serde_json::json!({"type": "move", "room": "lobby", "x": x, "y": 50}))
            .await?;
    }
    // Positions outside the map are clamped to it.
    a.send_json(serde_json::json!({"type": "move", "room": "lobby", "x": 60000, "y": 50}))
        .await?;
    let mut batches = 0;
    let last = loop {
        let ServerFrame::Positions { moves, .. } = b
            .next_matching(|f| matches!(f, ServerFrame::Positions { .. }))
            .await?
        else {
            unreachable!()
        };
        batches += 1;
        assert!(moves.len() <= 2);
        if let Some(m) = moves.iter().find(|m| m.account == a_id && m.x == 959) {
            break *m;
        }
    };
    assert_eq!((last.x, last.y), (959, 50));
    assert!(
        batches <= 3,
        "21 moves must arrive in a few coalesced batches, not {batches}"
    );
    server.server.shutdown().await
}

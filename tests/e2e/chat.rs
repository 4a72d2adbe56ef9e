//! Writing, editing, deleting, reacting, reading history: sequence numbers, durability and
//! fan-out.

use ibasho_e2e::{TestServer, lobby};
use ibasho_protocol::{ErrorCode, Mode, RoomEvent, ServerFrame, Stamp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_get_strictly_increasing_sequence_numbers_and_reach_everyone() -> anyhow::Result<()>
{
    let server = TestServer::start().await?;
    let mut a = server.guest_client("あさひ").await?;
    let mut b = server.guest_client("ゆうひ").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    b.join(&lobby(), Mode::ChatOnly, None).await?;
    let mut acked = Vec::new();
    for i in 0..5 {
        acked.push(a.post(&lobby(), &format!("こんにちは {i}")).await?);
    }
    assert_eq!(acked, vec![1, 2, 3, 4, 5]);
    // B receives each as an event, in order, with the author and the text.
    for (i, seq) in acked.iter().enumerate() {
        let f = b
            .next_matching(|f| matches!(f, ServerFrame::Event { .. }))
            .await?;
        let ServerFrame::Event {
            seq: got,
            event: RoomEvent::Posted { message },
            ..
        } = f
        else {
            panic!("{f:?}")
        };
        assert_eq!(got, *seq);
        assert_eq!(message.body, format!("こんにちは {i}"));
        assert_eq!(message.author.handle, "あさひ");
    }
    // The author gets the event too.
    let own = a
        .next_matching(|f| matches!(f, ServerFrame::Event { seq: 1, .. }))
        .await?;
    assert!(matches!(own, ServerFrame::Event { .. }));
    server.server.shutdown().await
}

#[tokio::test]
async fn edit_delete_and_react_are_sequenced_events_with_rules() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut a = server.guest_client("さくら").await?;
    let mut b = server.guest_client("もみじ").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    b.join(&lobby(), Mode::Participant, None).await?;
    let reply = a
        .ok(serde_json::json!({"type": "post", "room": "lobby", "body": "おはよう"}))
        .await?;
    let ServerFrame::Ack {
        message_id: Some(mid),
        ..
    } = reply
    else {
        panic!("{reply:?}")
    };

    // Someone else cannot edit or delete it.
    let r = b
        .request(
            serde_json::json!({"type": "edit", "room": "lobby", "message_id": mid, "body": "x"}),
        )
        .await?;
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
    let r = b
        .request(serde_json::json!({"type": "delete", "room": "lobby", "message_id": mid}))
        .await?;
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

    // A stamp, given twice, is one event.
    let r = b.ok(serde_json::json!({"type": "react", "room": "lobby", "message_id": mid, "stamp": "tea", "on": true})).await?;
    assert!(matches!(r, ServerFrame::Ack { seq: Some(2), .. }), "{r:?}");
    let r = b.ok(serde_json::json!({"type": "react", "room": "lobby", "message_id": mid, "stamp": "tea", "on": true})).await?;
    assert!(matches!(r, ServerFrame::Ack { seq: None, .. }), "{r:?}");

    let r = a.ok(serde_json::json!({"type": "edit", "room": "lobby", "message_id": mid, "body": "おはよう！"})).await?;
    assert!(matches!(r, ServerFrame::Ack { seq: Some(3), .. }), "{r:?}");

    // History shows the current state: edited, with the stamp.
    let ServerFrame::History {
        messages,
        has_older,
        ..
    } = b
        .ok(serde_json::json!({"type": "history", "room": "lobby"}))
        .await?
    else {
        panic!()
    };
    assert!(!has_older);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, "おはよう！");
    assert!(messages[0].edited_at.is_some());
    assert_eq!(messages[0].reactions[0].stamp, Stamp::Tea);
    assert_eq!(messages[0].reactions[0].by.len(), 1);

    let r = a
        .ok(serde_json::json!({"type": "delete", "room": "lobby", "message_id": mid}))
        .await?;
    assert!(matches!(r, ServerFrame::Ack { seq: Some(4), .. }), "{r:?}");
    let deleted = b
        .next_matching(|f| {
            matches!(
                f,
                ServerFrame::Event {
                    event: RoomEvent::Deleted { .. },
                    ..
                }
            )
        })
        .await?;
    assert!(matches!(
        deleted,
        ServerFrame::Event {
            seq: 4,
            event: RoomEvent::Deleted {
                by_staff: false,
                ..
            },
            ..
        }
    ));
    let ServerFrame::History { messages, .. } = b
        .ok(serde_json::json!({"type": "history", "room": "lobby"}))
        .await?
    else {
        panic!()
    };
    assert!(messages[0].deleted);
    assert_eq!(messages[0].body, "");
    // Deleted messages take no more stamps.
    let r = b.request(serde_json::json!({"type": "react", "room": "lobby", "message_id": mid, "stamp": "wave", "on": true})).await?;
    assert!(
        matches!(
            r,
            ServerFrame::Error {
                code: ErrorCode::UnknownMessage,
                ..
            }
        ),
        "{r:?}"
    );
    server.server.shutdown().await
}

#[tokio::test]
async fn history_pages_from_the_latest_backwards() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.limits.history_page = 4;
        c.limits.message_burst = 100;
        c.limits.messages_per_second = 100;
    })
    .await?;
    let mut a = server.guest_client("よる").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    for i in 1..=10 {
        a.post(&lobby(), &format!("m{i}")).await?;
    }
    let mut fresh = server.guest_client("あさ").await?;
    let ServerFrame::Joined {
        messages,
        has_older,
        ..
    } = fresh.join(&lobby(), Mode::ViewOnly, None).await?
    else {
        panic!()
    };
    let bodies: Vec<_> = messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["m7", "m8", "m9", "m10"]);
    assert!(has_older);
    let mut before = messages[0].seq;
    let mut all = bodies.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    loop {
        let ServerFrame::History {
            messages,
            has_older,
            ..
        } = fresh
            .ok(serde_json::json!({"type": "history", "room": "lobby", "before_seq": before}))
            .await?
        else {
            panic!()
        };
        let mut page: Vec<String> = messages.iter().map(|m| m.body.clone()).collect();
        page.append(&mut all);
        all = page;
        if !has_older {
            break;
        }
        before = messages[0].seq;
    }
    let expected: Vec<String> = (1..=10).map(|i| format!("m{i}")).collect();
    assert_eq!(all, expected);
    server.server.shutdown().await
}

#[tokio::test]
async fn a_resent_post_with_the_same_client_id_is_stored_once() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let mut a = server.guest_client("しずく").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    let key = uuid::Uuid::new_v4();
    let post = serde_json::json!({"type": "post", "room": "lobby", "body": "一度だけ", "client_msg_id": key});
    let first = a.ok(post.clone()).await?;
    let second = a.ok(post).await?;
    let (
        ServerFrame::Ack {
            seq: s1,
            message_id: m1,
            ..
        },
        ServerFrame::Ack {
            seq: s2,
            message_id: m2,
            ..
        },
    ) = (first, second)
    else {
        panic!()
    };
    assert_eq!((s1, m1), (s2, m2));
    let ServerFrame::History { messages, .. } = a
        .ok(serde_json::json!({"type": "history", "room": "lobby"}))
        .await?
    else {
        panic!()
    };
    assert_eq!(messages.len(), 1);
    server.server.shutdown().await
}

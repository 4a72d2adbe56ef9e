//! Resuming: a client that comes back with its last seen sequence number receives exactly
//! what it missed — no gap, no duplicate — even while others keep writing.

use ibasho_e2e::{TestServer, lobby};
use ibasho_protocol::{Mode, RoomEvent, ServerFrame};

#[tokio::test]
async fn a_returning_client_gets_exactly_the_missed_events_in_order() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (token_a, _) = server.guest("かえる").await?;
    let mut a = server.client(&token_a).await?;
    let mut b = server.guest_client("つばめ").await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    b.join(&lobby(), Mode::Participant, None).await?;
    let first = b
        .ok(serde_json::json!({"type": "post", "room": "lobby", "body": "1"}))
        .await?;
    let ServerFrame::Ack {
        seq: Some(seen),
        message_id: Some(mid),
        ..
    } = first
    else {
        panic!()
    };
    a.next_matching(|f| matches!(f, ServerFrame::Event { seq, .. } if *seq == seen))
        .await?;
    a.close().await;

    // While A is away: two posts, an edit, a stamp.
    b.post(&lobby(), "2").await?;
    b.post(&lobby(), "3").await?;
    b.ok(serde_json::json!({"type": "edit", "room": "lobby", "message_id": mid, "body": "1!"}))
        .await?;
    b.ok(serde_json::json!({"type": "react", "room": "lobby", "message_id": mid, "stamp": "heart", "on": true})).await?;

    let mut a = server.client(&token_a).await?;
    let joined = a.join(&lobby(), Mode::Participant, Some(seen)).await?;
    let ServerFrame::Joined {
        missed,
        reset,
        messages,
        room,
        ..
    } = joined
    else {
        panic!()
    };
    assert!(!reset);
    assert!(messages.is_empty());
    let seqs: Vec<u64> = missed.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![seen + 1, seen + 2, seen + 3, seen + 4]);
    assert_eq!(room.last_seq, seen + 4);
    assert!(matches!(&missed[0].event, RoomEvent::Posted { message } if message.body == "2"));
    assert!(matches!(&missed[2].event, RoomEvent::Edited { body, .. } if body == "1!"));
    assert!(matches!(
        &missed[3].event,
        RoomEvent::Reacted { on: true, .. }
    ));

    // Live events continue right after.
    let next = b.post(&lobby(), "4").await?;
    let live = a
        .next_matching(|f| matches!(f, ServerFrame::Event { .. }))
        .await?;
    assert!(matches!(live, ServerFrame::Event { seq, .. } if seq == next));
    server.server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_again_and_again_while_others_write_loses_and_repeats_nothing()
-> anyhow::Result<()> {
    const POSTS: u64 = 300;
    let server = TestServer::start_with(|c| {
        c.limits.messages_per_second = 10_000;
        c.limits.message_burst = 10_000;
        c.limits.frames_per_second = 10_000;
        c.limits.frame_burst = 10_000;
    })
    .await?;
    let (token_reader, _) = server.guest("よみて").await?;
    let mut writer = server.guest_client("かきて").await?;
    writer.join(&lobby(), Mode::ChatOnly, None).await?;
    let writing = tokio::spawn(async move {
        for i in 0..POSTS {
            writer.post(&lobby(), &format!("#{i}")).await?;
        }
        anyhow::Ok(())
    });

    let mut seen: Vec<u64> = Vec::new();
    let mut last = 0u64;
    let mut round = 0u64;
    while last < POSTS {
        round += 1;
        let mut reader = server.client(&token_reader).await?;
        let since = (last > 0).then_some(last);
        let ServerFrame::Joined {
            missed,
            messages,
            reset,
            ..
        } = reader.join(&lobby(), Mode::ViewOnly, since).await?
        else {
            panic!()
        };
        assert!(!reset);
        if since.is_none() {
            // First join: the latest page stands in for everything before it.
            seen.extend(messages.iter().map(|m| m.seq));
        }
        seen.extend(missed.iter().map(|e| e.seq));
        last = seen.last().copied().unwrap_or(0);
        // Read a few live events, then drop the connection abruptly.
        let take = 1 + (round * 7) % 23;
        for _ in 0..take {
            if last >= POSTS {
                break;
            }
            let ServerFrame::Event { seq, .. } = reader
                .next_matching(|f| matches!(f, ServerFrame::Event { .. }))
                .await?
            else {
                unreachable!()
            };
            seen.push(seq);
            last = seq;
        }
        drop(reader.into_socket());
    }
    writing.await??;
    let expected: Vec<u64> = (seen[0]..=POSTS).collect();
    assert_eq!(
        seen, expected,
        "gaps or duplicates after {round} reconnects"
    );
    assert!(round > 5, "the test should have reconnected many times");
    server.server.shutdown().await
}

#[tokio::test]
async fn a_gap_longer_than_the_resume_limit_resets_to_the_latest_page() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| {
        c.limits.resume_max_events = 3;
        c.limits.message_burst = 100;
        c.limits.messages_per_second = 100;
    })
    .await?;
    let mut b = server.guest_client("あめ").await?;
    b.join(&lobby(), Mode::Participant, None).await?;
    for i in 0..6 {
        b.post(&lobby(), &format!("{i}")).await?;
    }
    let mut a = server.guest_client("くも").await?;
    let ServerFrame::Joined {
        reset,
        missed,
        messages,
        ..
    } = a.join(&lobby(), Mode::Participant, Some(1)).await?
    else {
        panic!()
    };
    assert!(reset);
    assert!(missed.is_empty());
    assert_eq!(messages.len(), 6);
    // A `since` from the future (a database that was reset) also resets.
    let ServerFrame::Joined { reset, .. } = a.join(&lobby(), Mode::Participant, Some(999)).await?
    else {
        panic!()
    };
    assert!(reset);
    server.server.shutdown().await
}

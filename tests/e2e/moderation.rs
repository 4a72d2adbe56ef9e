//! Staff: rooms, mutes, removals, deletion — each audited with who, what, when and why.

use ibasho_e2e::{TestServer, lobby};
use ibasho_protocol::{ErrorCode, Mode, RoomEvent, ServerFrame};
use serde_json::json;

fn code(f: &ServerFrame) -> Option<ErrorCode> {
    match f {
        ServerFrame::Error { code, .. } => Some(*code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_create_and_archive_rooms_and_everyone_is_told() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, staff_id) = server.staff("しょくいん").await?;
    let mut s = server.client(&staff).await?;
    let mut p = server.guest_client("さんかしゃ").await?;

    let r = p
        .request(json!({"type": "create_room", "name": "勝手な部屋"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed));

    let ServerFrame::Ack {
        room: Some(room), ..
    } = s
        .ok(json!({"type": "create_room", "name": "  絵の部屋 ", "topic": "描く", "capacity": 20}))
        .await?
    else {
        panic!()
    };
    assert_eq!(room.name, "絵の部屋");
    let listed = p
        .next_matching(|f| matches!(f, ServerFrame::Rooms { id: None, .. }))
        .await?;
    assert!(
        matches!(&listed, ServerFrame::Rooms { rooms, .. } if rooms.iter().any(|r| r.id == room.id))
    );

    p.join(room.id.as_str(), Mode::Participant, None).await?;
    let r = s
        .request(json!({"type": "archive_room", "room": room.id, "reason": ""}))
        .await?;
    assert_eq!(
        code(&r),
        Some(ErrorCode::InvalidInput),
        "a reason is required"
    );
    let r = s
        .request(json!({"type": "archive_room", "room": "lobby", "reason": "no"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed));
    s.ok(json!({"type": "archive_room", "room": room.id, "reason": "programme ended"}))
        .await?;
    let closed = p
        .next_matching(|f| matches!(f, ServerFrame::RoomClosed { .. }))
        .await?;
    assert!(matches!(closed, ServerFrame::RoomClosed { room: r, .. } if r == room.id));
    let r = p
        .request(json!({"type": "post", "room": room.id, "body": "まだ?"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotJoined));
    let r = p
        .request(json!({"type": "join", "room": room.id, "mode": "participant"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::UnknownRoom));
    let ServerFrame::Rooms { rooms, .. } = p.ok(json!({"type": "list_rooms"})).await? else {
        panic!()
    };
    assert!(
        rooms.iter().all(|r| r.id != room.id),
        "archived rooms are listed only to staff"
    );
    let ServerFrame::Rooms { rooms, .. } = s.ok(json!({"type": "list_rooms"})).await? else {
        panic!()
    };
    assert!(rooms.iter().any(|r| r.id == room.id && r.archived));

    let audit = server.server.hub.store().audit_log(10).await?;
    let actions: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["archive_room", "create_room"]);
    assert!(audit.iter().all(|e| e.actor == staff_id));
    assert_eq!(audit[0].reason, "programme ended");
    server.server.shutdown().await
}

#[tokio::test]
async fn a_muted_member_gets_muted_until_unmuted() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("みまもり").await?;
    let mut s = server.client(&staff).await?;
    let (token, id) = server.guest("おおごえ").await?;
    let mut m = server.client(&token).await?;
    m.join(&lobby(), Mode::Participant, None).await?;
    s.join(&lobby(), Mode::Participant, None).await?;

    let r = m
        .request(
            json!({"type": "mute", "room": "lobby", "account": id, "minutes": 5, "reason": "self"}),
        )
        .await?;
    assert_eq!(
        code(&r),
        Some(ErrorCode::NotAllowed),
        "participants cannot moderate"
    );
    let r = s
        .request(
            json!({"type": "mute", "room": "lobby", "account": id, "minutes": 0, "reason": "x"}),
        )
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::InvalidInput));
    s.ok(json!({"type": "mute", "room": "lobby", "account": id, "minutes": 10, "reason": "cool down"})).await?;
    let notice = m
        .next_matching(|f| matches!(f, ServerFrame::Muted { .. }))
        .await?;
    let ServerFrame::Muted { until, .. } = notice else {
        unreachable!()
    };

    let r = m
        .request(json!({"type": "post", "room": "lobby", "body": "聞いて"}))
        .await?;
    let ServerFrame::Error {
        code: ErrorCode::Muted,
        retry_after_ms: Some(wait),
        ..
    } = r
    else {
        panic!("{r:?}")
    };
    assert!(wait > 9 * 60_000 && wait <= 10 * 60_000);
    // Rejoining does not shake off a mute, and says so.
    let ServerFrame::Joined { muted_until, .. } = m.join(&lobby(), Mode::Participant, None).await?
    else {
        panic!()
    };
    assert_eq!(muted_until, Some(until));

    s.ok(json!({"type": "unmute", "room": "lobby", "account": id, "reason": "talked"}))
        .await?;
    m.next_matching(|f| matches!(f, ServerFrame::Unmuted { .. }))
        .await?;
    m.post(&lobby(), "ごめんなさい").await?;
    server.server.shutdown().await
}

#[tokio::test]
async fn a_mute_ends_by_itself_when_its_time_is_up() -> anyhow::Result<()> {
    let clock = std::sync::Arc::new(ibasho_hub::ManualClock::new(1_800_000_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("とけい").await?;
    let mut s = server.client(&staff).await?;
    let (token, id) = server.guest("まつひと").await?;
    let mut m = server.client(&token).await?;
    m.join(&lobby(), Mode::Participant, None).await?;
    s.ok(json!({"type": "mute", "room": "lobby", "account": id, "minutes": 1, "reason": "一息"}))
        .await?;
    clock.advance(59_000);
    let r = m
        .request(json!({"type": "post", "room": "lobby", "body": "まだ?"}))
        .await?;
    let ServerFrame::Error {
        code: ErrorCode::Muted,
        retry_after_ms: Some(1_000),
        ..
    } = r
    else {
        panic!("{r:?}")
    };
    clock.advance(1_000);
    m.post(&lobby(), "もう大丈夫").await?;
    server.server.shutdown().await
}

#[tokio::test]
async fn a_removed_member_cannot_rejoin_until_readmitted() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, staff_id) = server.staff("まもる").await?;
    let mut s = server.client(&staff).await?;
    let ServerFrame::Ack {
        room: Some(room), ..
    } = s
        .ok(json!({"type": "create_room", "name": "話す部屋"}))
        .await?
    else {
        panic!()
    };
    let room = room.id.to_string();
    let (token, id) = server.guest("こまった").await?;
    let mut x = server.client(&token).await?;
    let mut other = server.guest_client("まわり").await?;
    x.join(&room, Mode::Participant, None).await?;
    other.join(&room, Mode::Participant, None).await?;

    let r = s
        .request(json!({"type": "remove", "room": room, "account": staff_id, "reason": "x"}))
        .await?;
    assert_eq!(
        code(&r),
        Some(ErrorCode::NotAllowed),
        "staff cannot be removed"
    );
    s.ok(json!({"type": "remove", "room": room, "account": id, "reason": "少し休みましょう"}))
        .await?;
    let removed = x
        .next_matching(|f| matches!(f, ServerFrame::Removed { .. }))
        .await?;
    assert!(matches!(removed, ServerFrame::Removed { reason, .. } if reason == "少し休みましょう"));
    let left = other
        .next_matching(|f| matches!(f, ServerFrame::MemberLeft { .. }))
        .await?;
    assert!(matches!(left, ServerFrame::MemberLeft { account, .. } if account == id));
    let r = x
        .request(json!({"type": "post", "room": room, "body": "え"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotJoined));
    let r = x
        .request(json!({"type": "join", "room": room, "mode": "view_only"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::Removed));

    // A removal survives a restart.
    let server = server.restart().await?;
    let mut x = server.client(&token).await?;
    let r = x
        .request(json!({"type": "join", "room": room, "mode": "view_only"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::Removed));
    let mut s = server.client(&staff).await?;
    // Staff see who was removed, so that they can readmit them later.
    let ServerFrame::Joined { removed, .. } = s.join(&room, Mode::ViewOnly, None).await? else {
        panic!()
    };
    assert_eq!(removed.iter().map(|p| p.id).collect::<Vec<_>>(), [id]);
    let mut bystander = server.guest_client("そばのひと").await?;
    let ServerFrame::Joined { removed, .. } =
        bystander.join(&room, Mode::Participant, None).await?
    else {
        panic!()
    };
    assert!(removed.is_empty(), "only staff are told who was removed");
    s.ok(json!({"type": "readmit", "room": room, "account": id, "reason": "落ち着いた"}))
        .await?;
    x.join(&room, Mode::Participant, None).await?;

    let audit = server.server.hub.store().audit_log(10).await?;
    let actions: Vec<_> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.target_account))
        .collect();
    assert_eq!(actions[0], ("readmit", Some(id)));
    assert_eq!(actions[1], ("remove", Some(id)));
    server.server.shutdown().await
}

#[tokio::test]
async fn staff_delete_any_message_with_a_reason_that_is_audited() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, staff_id) = server.staff("けす").await?;
    let mut s = server.client(&staff).await?;
    let (token, author) = server.guest("かいた").await?;
    let mut a = server.client(&token).await?;
    a.join(&lobby(), Mode::Participant, None).await?;
    s.join(&lobby(), Mode::ChatOnly, None).await?;
    let ServerFrame::Ack {
        message_id: Some(mid),
        ..
    } = a
        .ok(json!({"type": "post", "room": "lobby", "body": "電話番号は090-..."}))
        .await?
    else {
        panic!()
    };
    let r = s
        .request(json!({"type": "delete", "room": "lobby", "message_id": mid}))
        .await?;
    assert_eq!(
        code(&r),
        Some(ErrorCode::InvalidInput),
        "staff must give a reason"
    );
    s.ok(json!({"type": "delete", "room": "lobby", "message_id": mid, "reason": "個人情報"}))
        .await?;
    let deleted = a
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
            event: RoomEvent::Deleted { by_staff: true, .. },
            ..
        }
    ));
    let entry = &server.server.hub.store().audit_log(1).await?[0];
    assert_eq!(entry.action, "delete_message");
    assert_eq!(entry.actor, staff_id);
    assert_eq!(entry.target_account, Some(author));
    assert_eq!(
        entry.target_message.map(|m| m.to_string()),
        Some(mid.to_string())
    );
    assert_eq!(entry.reason, "個人情報");
    assert!(entry.at > 0);

    // The deleted text does not come back through a resume either.
    let mut late = server.guest_client("あとから").await?;
    let ServerFrame::Joined { missed, .. } = late.join(&lobby(), Mode::ViewOnly, Some(0)).await?
    else {
        panic!()
    };
    assert!(matches!(&missed[0].event, RoomEvent::Posted { message } if message.deleted_by_staff));
    let ServerFrame::History { messages, .. } =
        late.ok(json!({"type": "history", "room": "lobby"})).await?
    else {
        panic!()
    };
    assert!(messages[0].deleted && messages[0].deleted_by_staff);
    let replay = serde_json::to_string(&missed)?;
    assert!(!replay.contains("090"), "{replay}");
    server.server.shutdown().await
}

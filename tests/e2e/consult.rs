//! Private consultations end to end: requesters and counsellors over real sockets, a moving
//! clock for offers and graces, the consult rooms, the queue view, the HTTP side (profiles,
//! left messages) and a restart.

use ibasho_e2e::{TestClient, TestServer};
use ibasho_hub::ManualClock;
use ibasho_protocol::consult::{ConsultEnd, Phase, Released};
use ibasho_protocol::{AccountId, ErrorCode, Mode, Role, ServerFrame};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const START: i64 = 1_795_322_900_000;

/// A counsellor with `professions`, set by staff over HTTP; connected, not yet available.
async fn counsellor(
    server: &TestServer,
    staff: &str,
    handle: &str,
    professions: Value,
) -> anyhow::Result<(TestClient, AccountId, String)> {
    let (token, id) = server.account(handle, Role::Counsellor).await?;
    let reply = server
        .call(
            "PUT",
            &format!("/api/counsellors/{id}"),
            Some(staff),
            None,
            Some(&json!({"professions": professions, "capacity": 1, "supervisor": false})),
        )
        .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut c = server.client(&token).await?;
    let state = c
        .next_matching(|f| matches!(f, ServerFrame::Counsellor { .. }))
        .await?;
    let ServerFrame::Counsellor { availability, .. } = state else {
        unreachable!()
    };
    assert_eq!(
        availability,
        ibasho_protocol::consult::Availability::Away,
        "a counsellor starts away"
    );
    Ok((c, id, token))
}

async fn available(c: &mut TestClient) -> anyhow::Result<()> {
    c.ok(json!({"type": "counsellor_status", "availability": "available"}))
        .await?;
    Ok(())
}

/// Asks for a consult; returns the consult id and the first status.
async fn ask(c: &mut TestClient, first: Option<&str>) -> anyhow::Result<(u64, ServerFrame)> {
    let mut frame =
        json!({"type": "consult_request", "topic": "family", "for_whom": "family_member"});
    if let Some(m) = first {
        frame["first_message"] = m.into();
    }
    let status = c.ok(frame).await?;
    let ServerFrame::ConsultStatus { consult, .. } = &status else {
        anyhow::bail!("expected consult_status, got {status:?}")
    };
    Ok((*consult, status))
}

async fn offer(c: &mut TestClient) -> anyhow::Result<(u64, ServerFrame)> {
    let f = c
        .next_matching(|f| matches!(f, ServerFrame::ConsultOffer { .. }))
        .await?;
    let ServerFrame::ConsultOffer { consult, .. } = &f else {
        unreachable!()
    };
    Ok((consult.consult, f))
}

/// The next status of `consult` that satisfies `pred`.
async fn status_where(
    c: &mut TestClient,
    consult: u64,
    mut pred: impl FnMut(&ServerFrame) -> bool,
) -> anyhow::Result<ServerFrame> {
    c.next_matching(|f| {
        matches!(f, ServerFrame::ConsultStatus { consult: id, .. } if *id == consult) && pred(f)
    })
    .await
}

fn phase_of(f: &ServerFrame) -> Option<Phase> {
    match f {
        ServerFrame::ConsultStatus { phase, .. } => Some(*phase),
        _ => None,
    }
}

fn position_of(f: &ServerFrame) -> Option<u32> {
    match f {
        ServerFrame::ConsultStatus { position, .. } => *position,
        _ => None,
    }
}

fn bodies(joined: &ServerFrame) -> Vec<String> {
    match joined {
        ServerFrame::Joined { messages, .. } => messages.iter().map(|m| m.body.clone()).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_counsellors_five_requesters_an_urgent_jump_and_a_requeue_with_its_transcript()
-> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (mut a, a_id, a_token) =
        counsellor(&server, &staff, "さとう", json!(["clinical_psychologist"])).await?;
    let (mut b, b_id, _) = counsellor(&server, &staff, "すずき", json!(["social_worker"])).await?;

    // Five requesters, one second apart; the fifth writes a crisis word in full-width kana.
    let mut people = Vec::new();
    let mut ids = Vec::new();
    for (n, handle) in ["いちか", "にしき", "さんご", "よつば", "ごろう"]
        .iter()
        .enumerate()
    {
        let role = if n % 2 == 0 {
            Role::Family
        } else {
            Role::Participant
        };
        let (token, _) = server.account(handle, role).await?;
        let mut c = server.client(&token).await?;
        let first = (n == 4).then_some("もう　キエタイ と思ってしまう");
        let (id, status) = ask(&mut c, first).await?;
        assert_eq!(phase_of(&status), Some(Phase::Waiting));
        if n < 4 {
            assert_eq!(position_of(&status), Some(n as u32 + 1), "{status:?}");
            let ServerFrame::ConsultStatus { urgent, crisis, .. } = status else {
                unreachable!()
            };
            assert!(!urgent && !crisis);
        } else {
            // Urgent: ahead of every normal request, and the crisis contacts are shown.
            assert_eq!(position_of(&status), Some(1), "{status:?}");
            let ServerFrame::ConsultStatus { urgent, crisis, .. } = status else {
                unreachable!()
            };
            assert!(urgent && crisis);
        }
        people.push(c);
        ids.push(id);
        clock.advance(1000);
    }
    // The first requester moved back one place, and was told.
    status_where(&mut people[0], ids[0], |f| position_of(f) == Some(2)).await?;

    // The queue view: counts and waits, never content.
    let queue = a.ok(json!({"type": "consult_queue"})).await?;
    let ServerFrame::ConsultQueue {
        waiting,
        urgent,
        entries,
        ..
    } = &queue
    else {
        anyhow::bail!("expected consult_queue, got {queue:?}")
    };
    assert_eq!((*waiting, *urgent), (5, 1));
    assert_eq!(entries[0].consult, ids[4]);
    assert!(!serde_json::to_string(&queue)?.contains("キエタイ"));

    // A becomes available: offered the urgent one first, with its first message.
    available(&mut a).await?;
    let (offered, frame) = offer(&mut a).await?;
    assert_eq!(offered, ids[4]);
    let ServerFrame::ConsultOffer { consult, until } = &frame else {
        unreachable!()
    };
    assert!(consult.urgent);
    assert_eq!(*until, clock_now(&clock) + 60_000);
    assert_eq!(
        consult.first_message.as_deref(),
        Some("もう　キエタイ と思ってしまう")
    );
    a.ok(json!({"type": "consult_accept", "consult": ids[4]}))
        .await?;
    let assigned = a
        .next_matching(|f| matches!(f, ServerFrame::ConsultAssigned { .. }))
        .await?;
    let ServerFrame::ConsultAssigned {
        room,
        resumed,
        observing,
        ..
    } = &assigned
    else {
        unreachable!()
    };
    assert!(!resumed && !observing);
    let room = room.as_str().to_owned();
    let active = status_where(&mut people[4], ids[4], |f| {
        phase_of(f) == Some(Phase::Active)
    })
    .await?;
    let ServerFrame::ConsultStatus {
        room: Some(r),
        counsellor: Some(c),
        ..
    } = &active
    else {
        anyhow::bail!("no room in {active:?}")
    };
    assert_eq!((r.as_str(), c.id), (room.as_str(), a_id));
    // The first queued request moved up again.
    status_where(&mut people[0], ids[0], |f| position_of(f) == Some(1)).await?;

    // Both enter the room; the first message is already there; they talk.
    let joined = people[4].join(&room, Mode::ChatOnly, None).await?;
    assert_eq!(bodies(&joined), vec!["もう　キエタイ と思ってしまう"]);
    a.join(&room, Mode::ChatOnly, None).await?;
    a.post(
        &room,
        "話してくれてありがとう。いま、安全な場所にいますか？",
    )
    .await?;
    people[4].post(&room, "はい、自分の部屋です").await?;
    // Nobody else may enter, not even staff; the room is never listed.
    let mut s = server.client(&staff).await?;
    let refused = s
        .request(json!({"type": "join", "room": room, "mode": "view_only"}))
        .await?;
    assert!(
        matches!(
            refused,
            ServerFrame::Error {
                code: ErrorCode::UnknownRoom,
                ..
            }
        ),
        "{refused:?}"
    );
    let rooms = s.ok(json!({"type": "list_rooms"})).await?;
    assert!(!serde_json::to_string(&rooms)?.contains("consult-"));
    let other = people[1]
        .request(json!({"type": "join", "room": room, "mode": "chat_only"}))
        .await?;
    assert!(matches!(
        other,
        ServerFrame::Error {
            code: ErrorCode::UnknownRoom,
            ..
        }
    ));

    // B becomes available: offered the oldest normal request. B declines; with no one else
    // free it comes back to B (a second chance beats leaving someone waiting); B lets it
    // lapse; it comes back again; B accepts.
    available(&mut b).await?;
    let (offered, _) = offer(&mut b).await?;
    assert_eq!(offered, ids[0]);
    b.ok(json!({"type": "consult_decline", "consult": ids[0]}))
        .await?;
    b.next_matching(|f| matches!(f, ServerFrame::ConsultWithdrawn { .. }))
        .await?;
    let (again, _) = offer(&mut b).await?;
    assert_eq!(again, ids[0]);
    clock.advance(60_000);
    b.next_matching(
        |f| matches!(f, ServerFrame::ConsultWithdrawn { consult } if *consult == ids[0]),
    )
    .await?;
    let (again, _) = offer(&mut b).await?;
    assert_eq!(again, ids[0]);
    b.ok(json!({"type": "consult_accept", "consult": ids[0]}))
        .await?;
    let late = a
        .request(json!({"type": "consult_accept", "consult": ids[1]}))
        .await?;
    assert!(
        matches!(
            late,
            ServerFrame::Error {
                code: ErrorCode::ConsultState,
                ..
            }
        ),
        "{late:?}"
    );

    // A's connection drops: the requester sees the interruption; after the grace the consult
    // goes back to the front of the queue with everything said.
    a.close().await;
    status_where(&mut people[4], ids[4], |f| {
        phase_of(f) == Some(Phase::Interrupted)
    })
    .await?;
    clock.advance(121_000);
    let back = status_where(&mut people[4], ids[4], |f| {
        phase_of(f) == Some(Phase::Waiting)
    })
    .await?;
    assert_eq!(position_of(&back), Some(1));

    // B ends their consult (with notes); B is free and gets the returned consult at once.
    b.ok(json!({"type": "consult_notes", "consult": ids[0], "notes": "家族の関わり方について。", "outcome": "continue_next_time"}))
        .await?;
    b.ok(json!({"type": "consult_end", "consult": ids[0]}))
        .await?;
    let ended = status_where(&mut people[0], ids[0], |f| {
        phase_of(f) == Some(Phase::Ended)
    })
    .await?;
    assert!(matches!(
        ended,
        ServerFrame::ConsultStatus {
            end: Some(ConsultEnd::Completed),
            crisis: false,
            ..
        }
    ));
    b.next_matching(|f| {
        matches!(f, ServerFrame::ConsultReleased { why: Released::Ended, consult } if *consult == ids[0])
    })
    .await?;
    let (offered, frame) = offer(&mut b).await?;
    assert_eq!(offered, ids[4], "the returned urgent consult comes first");
    let ServerFrame::ConsultOffer { consult, .. } = frame else {
        unreachable!()
    };
    assert!(consult.urgent);
    b.ok(json!({"type": "consult_accept", "consult": ids[4]}))
        .await?;
    let assigned = b
        .next_matching(|f| matches!(f, ServerFrame::ConsultAssigned { .. }))
        .await?;
    assert!(matches!(
        assigned,
        ServerFrame::ConsultAssigned { resumed: true, .. }
    ));
    let joined = b.join(&room, Mode::ChatOnly, None).await?;
    assert_eq!(
        bodies(&joined),
        vec![
            "もう　キエタイ と思ってしまう",
            "話してくれてありがとう。いま、安全な場所にいますか？",
            "はい、自分の部屋です",
        ]
    );
    // A comes back too late: no longer in the room.
    let mut a = server.client(&a_token).await?;
    let gone = a
        .request(json!({"type": "join", "room": room, "mode": "chat_only"}))
        .await?;
    assert!(matches!(
        gone,
        ServerFrame::Error {
            code: ErrorCode::UnknownRoom,
            ..
        }
    ));

    // The requester ends it; the room closes for both.
    people[4]
        .ok(json!({"type": "consult_end", "consult": ids[4]}))
        .await?;
    b.next_matching(|f| matches!(f, ServerFrame::RoomClosed { .. }))
        .await?;
    b.next_matching(|f| {
        matches!(
            f,
            ServerFrame::ConsultReleased {
                why: Released::Ended,
                ..
            }
        )
    })
    .await?;
    // B's notes are kept (the wrap-up may follow the end).
    b.ok(json!({"type": "consult_notes", "consult": ids[4], "notes": "安全確認済み。", "outcome": "referred_to_public_service"}))
        .await?;
    let _ = b_id;
    server.server.hub.check_invariants();
    Ok(())
}

fn clock_now(clock: &ManualClock) -> i64 {
    use ibasho_hub::Clock;
    clock.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_observation_messages_closing_a_restart_and_bad_input() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (mut a, _, _) =
        counsellor(&server, &staff, "さとう", json!(["clinical_psychologist"])).await?;
    let (mut b, b_id, _) = counsellor(&server, &staff, "すずき", json!(["social_worker"])).await?;
    let (sv_token, sv_id) = server.account("たなか", Role::Counsellor).await?;
    let reply = server
        .call(
            "PUT",
            &format!("/api/counsellors/{sv_id}"),
            Some(&staff),
            None,
            Some(&json!({"professions": ["clinical_psychologist"], "capacity": 2, "supervisor": true})),
        )
        .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // Bad input: clear errors, nothing changed.
    let (p_token, p_id) = server.account("ひなた", Role::Participant).await?;
    let mut p = server.client(&p_token).await?;
    for (frame, code) in [
        (
            json!({"type": "consult_request", "topic": "nope", "for_whom": "self"}),
            ErrorCode::BadFrame,
        ),
        (
            json!({"type": "consult_request", "topic": "health", "for_whom": "self", "first_message": "あ".repeat(5000)}),
            ErrorCode::TooLong,
        ),
        (
            json!({"type": "consult_cancel", "consult": 999}),
            ErrorCode::UnknownConsult,
        ),
        (
            json!({"type": "counsellor_status", "availability": "available"}),
            ErrorCode::NotAllowed,
        ),
        (json!({"type": "consult_queue"}), ErrorCode::NotAllowed),
    ] {
        let reply = p.request(frame.clone()).await?;
        assert!(
            matches!(&reply, ServerFrame::Error { code: c, .. } if *c == code),
            "{frame} → {reply:?}"
        );
    }
    let refused = a
        .request(json!({"type": "consult_request", "topic": "health", "for_whom": "self"}))
        .await?;
    assert!(matches!(
        refused,
        ServerFrame::Error {
            code: ErrorCode::NotAllowed,
            ..
        }
    ));
    let refused = a
        .request(json!({"type": "counsellor_status", "availability": "offline"}))
        .await?;
    assert!(matches!(
        refused,
        ServerFrame::Error {
            code: ErrorCode::InvalidInput,
            ..
        }
    ));
    let bad = server
        .call(
            "PUT",
            &format!("/api/counsellors/{p_id}"),
            Some(&staff),
            None,
            Some(&json!({"professions": ["social_worker"], "capacity": 1})),
        )
        .await?;
    assert_eq!(bad.status, 404);
    let bad = server
        .call(
            "PUT",
            &format!("/api/counsellors/{b_id}"),
            Some(&staff),
            None,
            Some(&json!({"professions": ["social_worker"], "capacity": 0})),
        )
        .await?;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["field"], "capacity");

    // A request for a social worker waits for B, although A is free.
    available(&mut a).await?;
    let (id, _) = {
        let status = p
            .ok(json!({"type": "consult_request", "topic": "work_or_school", "for_whom": "self", "profession": "social_worker", "first_message": "仕事のことで"}))
            .await?;
        let ServerFrame::ConsultStatus { consult, .. } = status else {
            anyhow::bail!("no status")
        };
        (consult, ())
    };
    let twice = p
        .request(json!({"type": "consult_request", "topic": "health", "for_whom": "self"}))
        .await?;
    assert!(matches!(
        twice,
        ServerFrame::Error {
            code: ErrorCode::AlreadyRequested,
            ..
        }
    ));
    let stray = a.drain_for(Duration::from_millis(200)).await;
    assert!(
        !stray
            .iter()
            .any(|(_, f)| matches!(f, ServerFrame::ConsultOffer { .. })),
        "A is not a social worker"
    );
    available(&mut b).await?;
    let (offered, _) = offer(&mut b).await?;
    assert_eq!(offered, id);
    b.ok(json!({"type": "consult_accept", "consult": id}))
        .await?;
    let room = ibasho_hub::consult_room(id).as_str().to_owned();
    status_where(&mut p, id, |f| phase_of(f) == Some(Phase::Active)).await?;
    p.join(&room, Mode::ChatOnly, None).await?;
    b.join(&room, Mode::ChatOnly, None).await?;
    p.post(&room, "職場に行けなくなって三か月です").await?;

    // The supervisor observes: audited, both sides told; they watch and do not write.
    let mut sv = server.client(&sv_token).await?;
    let plain = a
        .request(json!({"type": "consult_observe", "consult": id}))
        .await?;
    assert!(matches!(
        plain,
        ServerFrame::Error {
            code: ErrorCode::NotAllowed,
            ..
        }
    ));
    sv.ok(json!({"type": "consult_observe", "consult": id}))
        .await?;
    sv.next_matching(|f| {
        matches!(
            f,
            ServerFrame::ConsultAssigned {
                observing: true,
                ..
            }
        )
    })
    .await?;
    p.next_matching(|f| matches!(f, ServerFrame::ConsultObserved { .. }))
        .await?;
    status_where(&mut p, id, |f| {
        matches!(f, ServerFrame::ConsultStatus { observed: true, .. })
    })
    .await?;
    b.next_matching(|f| matches!(f, ServerFrame::ConsultObserved { .. }))
        .await?;
    let write = sv
        .request(json!({"type": "join", "room": room, "mode": "chat_only"}))
        .await?;
    assert!(matches!(
        write,
        ServerFrame::Error {
            code: ErrorCode::NotAllowed,
            ..
        }
    ));
    let watched = sv.join(&room, Mode::ViewOnly, None).await?;
    assert_eq!(bodies(&watched).len(), 2);
    // The supervisor stops observing: out of the room, and both sides are told.
    sv.ok(json!({"type": "consult_observe", "consult": id, "on": false}))
        .await?;
    p.next_matching(|f| matches!(f, ServerFrame::ConsultObserved { on: false, .. }))
        .await?;
    status_where(&mut p, id, |f| {
        matches!(
            f,
            ServerFrame::ConsultStatus {
                observed: false,
                ..
            }
        )
    })
    .await?;
    b.next_matching(|f| matches!(f, ServerFrame::ConsultObserved { on: false, .. }))
        .await?;
    let out = sv
        .request(json!({"type": "join", "room": room, "mode": "view_only"}))
        .await?;
    assert!(matches!(
        out,
        ServerFrame::Error {
            code: ErrorCode::UnknownRoom,
            ..
        }
    ));
    // Observing again, then the supervisor's connection closes: they no longer watch, and
    // both sides are told.
    sv.ok(json!({"type": "consult_observe", "consult": id}))
        .await?;
    p.next_matching(|f| matches!(f, ServerFrame::ConsultObserved { on: true, .. }))
        .await?;
    sv.close().await;
    p.next_matching(|f| matches!(f, ServerFrame::ConsultObserved { on: false, .. }))
        .await?;
    b.next_matching(|f| matches!(f, ServerFrame::ConsultObserved { on: false, .. }))
        .await?;
    let (admin, _) = server.account("かんり", Role::Admin).await?;
    let log = server
        .call("GET", "/api/admin/audit", Some(&admin), None, None)
        .await?
        .json();
    assert!(
        log.as_array()
            .is_some_and(|l| l.iter().any(|e| e["action"] == "consult_observe"
                && e["actor"] == json!(sv_id)
                && e["target_account"] == json!(p_id))),
        "{log}"
    );

    // B hands it on to a clinical psychologist with a private note: A is offered it, with
    // the note; the requester waits again, at the front.
    let no_note = b
        .request(json!({"type": "consult_transfer", "consult": id, "profession": "clinical_psychologist", "note": "  "}))
        .await?;
    assert!(matches!(
        no_note,
        ServerFrame::Error {
            code: ErrorCode::InvalidInput,
            ..
        }
    ));
    b.ok(json!({"type": "consult_transfer", "consult": id, "profession": "clinical_psychologist", "note": "睡眠の相談が中心。"}))
        .await?;
    b.next_matching(|f| {
        matches!(
            f,
            ServerFrame::ConsultReleased {
                why: Released::Transferred,
                ..
            }
        )
    })
    .await?;
    let (offered, frame) = offer(&mut a).await?;
    assert_eq!(offered, id);
    let ServerFrame::ConsultOffer { consult, .. } = frame else {
        unreachable!()
    };
    assert_eq!(consult.handover.as_deref(), Some("睡眠の相談が中心。"));
    let waiting = status_where(&mut p, id, |f| phase_of(f) == Some(Phase::Waiting)).await?;
    assert_eq!(position_of(&waiting), Some(1));
    let gone = b
        .request(json!({"type": "post", "room": room, "body": "まだいますか"}))
        .await?;
    assert!(matches!(gone, ServerFrame::Error { .. }), "{gone:?}");
    // The handover note never reaches the requester.
    let seen = p.drain_for(Duration::from_millis(200)).await;
    assert!(!seen.iter().any(|(raw, _)| raw.contains("睡眠の相談")));

    // Someone else asks while no one is free, and leaves a message instead.
    let (q_token, _) = server.account("ゆうひ", Role::Family).await?;
    let mut q = server.client(&q_token).await?;
    let (qid, _) = ask(&mut q, None).await?;
    q.ok(json!({"type": "consult_leave_message", "consult": qid, "body": "夕方なら連絡がつきます。"}))
        .await?;
    let ended = status_where(&mut q, qid, |f| phase_of(f) == Some(Phase::Ended)).await?;
    assert!(matches!(
        ended,
        ServerFrame::ConsultStatus {
            end: Some(ConsultEnd::LeftMessage),
            ..
        }
    ));
    let messages = server
        .call("GET", "/api/consults/messages", Some(&staff), None, None)
        .await?
        .json();
    assert_eq!(
        messages[0]["body"], "夕方なら連絡がつきます。",
        "{messages}"
    );
    assert_eq!(messages[0]["consult"], qid);
    let (p_plain, _) = server.guest("みる").await?;
    let forbidden = server
        .call("GET", "/api/consults/messages", Some(&p_plain), None, None)
        .await?;
    assert_eq!(forbidden.status, 403);
    let handled = server
        .call(
            "POST",
            &format!("/api/consults/messages/{qid}/handled"),
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(handled.status, 204);
    let messages = server
        .call("GET", "/api/consults/messages", Some(&staff), None, None)
        .await?
        .json();
    assert_eq!(messages, json!([]));
    // The requester's own data export has their request and the message they left.
    let export = server
        .call("GET", "/api/me/export", Some(&q_token), None, None)
        .await?
        .json();
    assert_eq!(export["consults"][0]["consult"], qid, "{export}");
    assert_eq!(
        export["consults"][0]["left_message"],
        "夕方なら連絡がつきます。"
    );
    assert_eq!(export["consults"][0]["ended"], "left_message");

    // A restart: the waiting request is still there, in the same place, and is offered again
    // when a counsellor comes.
    drop((a, b, q));
    p.close().await;
    let server = server.restart().await?;
    let mut p = server.client(&p_token).await?;
    let status = status_where(&mut p, id, |_| true).await?;
    assert_eq!(phase_of(&status), Some(Phase::Waiting));
    assert_eq!(position_of(&status), Some(1));
    let (a_token, _) = {
        // Sign the clinical psychologist in again (a fresh token for the same account).
        let accounts = server
            .call("GET", "/api/counsellors", Some(&staff), None, None)
            .await?
            .json();
        let a_id: AccountId = accounts
            .as_array()
            .and_then(|l| l.iter().find(|c| c["handle"] == "さとう"))
            .and_then(|c| c["account"].as_str())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no さとう in {accounts}"))?;
        (server.token_for(a_id).await?, a_id)
    };
    let mut a = server.client(&a_token).await?;
    available(&mut a).await?;
    let (offered, _) = offer(&mut a).await?;
    assert_eq!(offered, id);
    a.ok(json!({"type": "consult_accept", "consult": id}))
        .await?;
    a.join(&room, Mode::ChatOnly, None).await?;
    let joined = p.join(&room, Mode::ChatOnly, None).await?;
    assert_eq!(
        bodies(&joined),
        vec!["仕事のことで", "職場に行けなくなって三か月です"]
    );
    server.server.hub.check_invariants();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_closing_waiting_requests_end_with_the_crisis_contacts_and_consults_go_on()
-> anyhow::Result<()> {
    use ibasho_schedule::chrono::TimeZone;
    use ibasho_schedule::chrono_tz::Asia::Tokyo;
    // Wednesday 25 November 2026, 20:58 in the default hours (13:00–21:00).
    let at = Tokyo
        .with_ymd_and_hms(2026, 11, 25, 20, 58, 0)
        .unwrap()
        .timestamp_millis();
    let clock = Arc::new(ManualClock::new(at));
    let server = TestServer::start_with_clock_and(clock.clone(), |c| {
        c.opening_hours.always_open = false;
    })
    .await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (mut a, _, _) = counsellor(&server, &staff, "さとう", json!(["social_worker"])).await?;
    let (t1, _) = server.account("いちか", Role::Family).await?;
    let (t2, _) = server.account("にしき", Role::Participant).await?;
    let mut one = server.client(&t1).await?;
    let mut two = server.client(&t2).await?;
    let (id1, _) = ask(&mut one, Some("相談したいです")).await?;
    let (id2, _) = ask(&mut two, None).await?;
    available(&mut a).await?;
    offer(&mut a).await?;
    a.ok(json!({"type": "consult_accept", "consult": id1}))
        .await?;
    let room = ibasho_hub::consult_room(id1).as_str().to_owned();
    one.join(&room, Mode::ChatOnly, None).await?;
    a.join(&room, Mode::ChatOnly, None).await?;

    clock.advance(3 * 60_000);
    let closed = status_where(&mut two, id2, |f| phase_of(f) == Some(Phase::Ended)).await?;
    assert!(
        matches!(
            closed,
            ServerFrame::ConsultStatus {
                end: Some(ConsultEnd::Closed),
                crisis: true,
                ..
            }
        ),
        "{closed:?}"
    );
    // The consult under way goes on after closing.
    one.post(&room, "まだ話せますか").await?;
    a.post(&room, "はい、最後までお話を聞きます").await?;
    let refused = two
        .request(json!({"type": "consult_request", "topic": "health", "for_whom": "self"}))
        .await?;
    assert!(
        matches!(
            refused,
            ServerFrame::Error {
                code: ErrorCode::Closed,
                retry_after_ms: Some(_),
                ..
            }
        ),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drops_on_either_side_lose_nothing_and_waits_are_estimated_from_recent_consults()
-> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (mut a, _, a_token) =
        counsellor(&server, &staff, "さとう", json!(["clinical_psychologist"])).await?;
    let (p_token, _) = server.account("ひなた", Role::Family).await?;
    let mut p = server.client(&p_token).await?;
    let (id, status) = ask(&mut p, None).await?;
    // No history and no one on duty: no estimate rather than a wrong one.
    assert!(matches!(
        status,
        ServerFrame::ConsultStatus {
            estimated_wait_ms: None,
            ..
        }
    ));
    available(&mut a).await?;
    offer(&mut a).await?;
    a.ok(json!({"type": "consult_accept", "consult": id}))
        .await?;
    let room = ibasho_hub::consult_room(id).as_str().to_owned();
    p.join(&room, Mode::ChatOnly, None).await?;
    a.join(&room, Mode::ChatOnly, None).await?;
    let seen = p.post(&room, "こんにちは").await?;

    // The requester's connection drops; the counsellor writes meanwhile; the requester comes
    // back, finds the consult where it was and resumes the room without a gap.
    p.close().await;
    a.post(&room, "お待ちしています。戻られたら続けましょう")
        .await?;
    let mut p = server.client(&p_token).await?;
    status_where(&mut p, id, |f| phase_of(f) == Some(Phase::Active)).await?;
    let resumed = p.join(&room, Mode::ChatOnly, Some(seen)).await?;
    let ServerFrame::Joined { missed, .. } = &resumed else {
        anyhow::bail!("no joined")
    };
    assert_eq!(missed.len(), 1, "{missed:?}");

    // The counsellor drops and comes back within the grace: the consult goes on, and they
    // are given it again, with the notes they had saved.
    a.ok(json!({"type": "consult_notes", "consult": id, "notes": "途中までのメモ", "outcome": "other"}))
        .await?;
    a.close().await;
    status_where(&mut p, id, |f| phase_of(f) == Some(Phase::Interrupted)).await?;
    clock.advance(60_000);
    let mut a = server.client(&a_token).await?;
    let again = a
        .next_matching(|f| matches!(f, ServerFrame::ConsultAssigned { .. }))
        .await?;
    let ServerFrame::ConsultAssigned { resumed, notes, .. } = &again else {
        unreachable!()
    };
    assert!(*resumed);
    assert_eq!(notes.as_deref(), Some("途中までのメモ"));
    status_where(&mut p, id, |f| phase_of(f) == Some(Phase::Active)).await?;
    clock.advance(120_000);
    a.join(&room, Mode::ChatOnly, None).await?;
    a.post(&room, "おかえりなさい").await?;

    // Twenty minutes in all; then the next person's wait is estimated from it.
    clock.advance(20 * 60_000 - 180_000);
    a.ok(json!({"type": "consult_end", "consult": id})).await?;
    a.ok(json!({"type": "counsellor_status", "availability": "away"}))
        .await?;
    a.ok(json!({"type": "counsellor_status", "availability": "available"}))
        .await?;
    let (q_token, _) = server.account("ゆうひ", Role::Participant).await?;
    let (r_token, _) = server.account("あさひ", Role::Participant).await?;
    let mut q = server.client(&q_token).await?;
    let mut r = server.client(&r_token).await?;
    ask(&mut q, None).await?;
    let (rid, status) = ask(&mut r, None).await?;
    // One ahead (offered to the one counsellor on duty): one consult's length, less half.
    let ServerFrame::ConsultStatus {
        position,
        estimated_wait_ms,
        ..
    } = status
    else {
        unreachable!()
    };
    assert_eq!(position, Some(2));
    assert_eq!(
        estimated_wait_ms,
        Some(20 * 60_000 + 10 * 60_000),
        "rid {rid}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_flag_a_request_urgent_and_what_was_said_is_purged_after_the_retention()
-> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, staff_id) = server.staff("まとめ役").await?;
    let (mut a, _, _) = counsellor(&server, &staff, "さとう", json!(["social_worker"])).await?;
    let (t1, _) = server.account("いちか", Role::Family).await?;
    let (t2, _) = server.account("にしき", Role::Participant).await?;
    let mut one = server.client(&t1).await?;
    let mut two = server.client(&t2).await?;
    let (id1, _) = ask(&mut one, None).await?;
    clock.advance(1000);
    let (id2, _) = ask(&mut two, Some("眠れない日が続いています")).await?;
    // Staff mark the second urgent (audited): it moves ahead, and its requester sees the
    // crisis contacts. A participant may not flag.
    let refused = one
        .request(json!({"type": "consult_flag", "consult": id1}))
        .await?;
    assert!(matches!(
        refused,
        ServerFrame::Error {
            code: ErrorCode::NotAllowed,
            ..
        }
    ));
    let mut s = server.client(&staff).await?;
    s.ok(json!({"type": "consult_flag", "consult": id2}))
        .await?;
    let urgent = status_where(&mut two, id2, |f| {
        matches!(f, ServerFrame::ConsultStatus { urgent: true, .. })
    })
    .await?;
    assert_eq!(position_of(&urgent), Some(1));
    assert!(matches!(
        urgent,
        ServerFrame::ConsultStatus { crisis: true, .. }
    ));
    status_where(&mut one, id1, |f| position_of(f) == Some(2)).await?;
    let (admin, _) = server.account("かんり", Role::Admin).await?;
    let log = server
        .call("GET", "/api/admin/audit", Some(&admin), None, None)
        .await?
        .json();
    assert!(
        log.as_array().is_some_and(|l| l
            .iter()
            .any(|e| e["action"] == "consult_flag" && e["actor"] == json!(staff_id))),
        "{log}"
    );

    available(&mut a).await?;
    let (offered, _) = offer(&mut a).await?;
    assert_eq!(offered, id2);
    a.ok(json!({"type": "consult_accept", "consult": id2}))
        .await?;
    let room = ibasho_hub::consult_room(id2);
    two.join(room.as_str(), Mode::ChatOnly, None).await?;
    two.post(room.as_str(), "夜中に目が覚めてしまって").await?;
    a.ok(json!({"type": "consult_notes", "consult": id2, "notes": "睡眠について。", "outcome": "referred_to_medical_care"}))
        .await?;
    two.ok(json!({"type": "consult_end", "consult": id2}))
        .await?;
    status_where(&mut two, id2, |f| phase_of(f) == Some(Phase::Ended)).await?;

    // Within the retention nothing is purged; after it, what was said is gone and the
    // counsellor's notes stay.
    let hub = &server.server.hub;
    assert_eq!(hub.purge_consults().await?, 0);
    clock.advance(181 * 86_400_000);
    assert_eq!(hub.purge_consults().await?, 1);
    assert_eq!(hub.purge_consults().await?, 0, "purged once");
    let store = hub.store();
    let (messages, _) = store.messages_before(&room, None, 50).await?;
    assert!(messages.is_empty(), "{messages:?}");
    assert!(store.events_after(&room, 0, 50).await?.is_empty());
    let record = store.consult(id2).await?.expect("the record stays");
    assert_eq!(record.first_message, None);
    assert_eq!(record.end, Some(ConsultEnd::Completed));
    let notes = store.notes(id2).await?;
    assert!(notes.iter().any(|n| n.notes == "睡眠について。"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_requester_leaves_no_request_and_availability_lapses_after_the_grace()
-> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (admin, _) = server.account("かんり", Role::Admin).await?;
    let (mut a, _, a_token) =
        counsellor(&server, &staff, "さとう", json!(["clinical_psychologist"])).await?;
    available(&mut a).await?;
    let mut watch = server.client(&staff).await?;
    // Waits until the server has seen the counsellor's last connection close.
    async fn gone(watch: &mut TestClient) -> anyhow::Result<()> {
        watch
            .next_matching(|f| {
                matches!(f, ServerFrame::ConsultQueue { counsellors, .. }
                    if counsellors.iter().all(|c| c.availability == ibasho_protocol::consult::Availability::Offline))
            })
            .await?;
        Ok(())
    }
    // Back at once: still available.
    a.close().await;
    gone(&mut watch).await?;
    let mut a = server.client(&a_token).await?;
    let back = a
        .next_matching(|f| matches!(f, ServerFrame::Counsellor { .. }))
        .await?;
    assert!(
        matches!(
            back,
            ServerFrame::Counsellor {
                availability: ibasho_protocol::consult::Availability::Available,
                ..
            }
        ),
        "{back:?}"
    );
    // Back after the reconnect grace: away, until they say otherwise.
    a.close().await;
    gone(&mut watch).await?;
    clock.advance(121_000);
    let mut a = server.client(&a_token).await?;
    let later = a
        .next_matching(|f| matches!(f, ServerFrame::Counsellor { .. }))
        .await?;
    assert!(
        matches!(
            later,
            ServerFrame::Counsellor {
                availability: ibasho_protocol::consult::Availability::Away,
                ..
            }
        ),
        "{later:?}"
    );

    // Someone waits, then is suspended: their request ends and nobody is offered it.
    let (p_token, p_id) = server.account("いちか", Role::Participant).await?;
    let mut p = server.client(&p_token).await?;
    let (id, _) = ask(&mut p, None).await?;
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{p_id}/suspend"),
            Some(&admin),
            None,
            Some(&json!({"reason": "テスト"})),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);
    available(&mut a).await?;
    let queue = a.ok(json!({"type": "consult_queue"})).await?;
    let ServerFrame::ConsultQueue {
        waiting, entries, ..
    } = queue
    else {
        anyhow::bail!("{queue:?}")
    };
    assert_eq!(waiting, 0);
    assert!(entries.iter().all(|e| e.consult != id));
    let offered = a
        .drain_for(Duration::from_millis(200))
        .await
        .into_iter()
        .any(|(_, f)| matches!(f, ServerFrame::ConsultOffer { .. }));
    assert!(!offered, "a suspended person's request was offered");
    Ok(())
}

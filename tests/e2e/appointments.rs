//! Consult appointments end to end: counsellors publish times over HTTP, people book them
//! (concurrently: exactly one wins), cancel and move them until the cut-off on a moving clock;
//! at the time the room opens for the two, reminders come before it, an absent counsellor
//! sends the person to the front of the drop-in queue and an absent person makes it missed;
//! staff see the day, the counts and the CSV, never content.

use ibasho_e2e::{TestClient, TestServer};
use ibasho_hub::ManualClock;
use ibasho_protocol::consult::{AppointmentEvent, AppointmentState, Phase, Reminder};
use ibasho_protocol::{AccountId, Mode, Role, ServerFrame};
use serde_json::{Value, json};
use std::sync::Arc;

/// 2026-11-22 13:48:20 in Tokyo.
const START: i64 = 1_795_322_900_000;
/// 2026-11-24 14:00 in Tokyo, and the slots after it.
const TUE_14: i64 = 1_795_496_400_000;
const TUE_15: i64 = TUE_14 + HOUR;
const TUE_16: i64 = TUE_14 + 2 * HOUR;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// A counsellor with a profile set by staff, connected.
async fn counsellor(
    server: &TestServer,
    staff: &str,
    handle: &str,
) -> anyhow::Result<(TestClient, AccountId, String)> {
    let (token, id) = server.account(handle, Role::Counsellor).await?;
    let reply = server
        .call(
            "PUT",
            &format!("/api/counsellors/{id}"),
            Some(staff),
            None,
            Some(&json!({"professions": ["clinical_psychologist"], "capacity": 1})),
        )
        .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let c = server.client(&token).await?;
    Ok((c, id, token))
}

/// Publishes 2026-11-24 14:00–17:00 (three 50-minute slots) for the caller.
async fn publish(server: &TestServer, token: &str, extra: Value) -> anyhow::Result<u64> {
    let mut rule = json!({"first_date": "2026-11-24", "start": "14:00", "end": "17:00"});
    if let (Some(r), Some(e)) = (rule.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    let reply = server
        .call(
            "POST",
            "/api/appointment-rules",
            Some(token),
            None,
            Some(&rule),
        )
        .await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    Ok(reply.json()["id"].as_u64().unwrap_or(0))
}

async fn book(
    server: &TestServer,
    token: &str,
    counsellor: AccountId,
    starts_at: i64,
) -> anyhow::Result<ibasho_e2e::HttpReply> {
    server
        .call(
            "POST",
            "/api/appointments",
            Some(token),
            None,
            Some(&json!({
                "counsellor": counsellor,
                "starts_at": starts_at,
                "for_whom": "family_member",
                "topic": "family",
                "first_note": "息子が部屋から出てこなくなって半年です。",
            })),
        )
        .await
}

async fn free_starts(server: &TestServer, token: &str) -> anyhow::Result<Vec<i64>> {
    let reply = server
        .call("GET", "/api/appointments/slots", Some(token), None, None)
        .await?;
    assert_eq!(reply.status, 200, "{}", reply.body);
    Ok(reply.json()["slots"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["starts_at"].as_i64()).collect())
        .unwrap_or_default())
}

async fn appointment_event(
    c: &mut TestClient,
    want: AppointmentEvent,
) -> anyhow::Result<ServerFrame> {
    c.next_matching(|f| matches!(f, ServerFrame::Appointment { event, .. } if *event == want))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_people_book_the_same_slot_at_once_and_exactly_one_wins() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = Arc::new(TestServer::start_with_clock(clock.clone()).await?);
    let (staff, _) = server.staff("まとめ役").await?;
    let (_c, c_id, c_token) = counsellor(&server, &staff, "さとう").await?;
    publish(&server, &c_token, json!({})).await?;

    let mut people = Vec::new();
    for n in 0..10 {
        people.push(server.account(&format!("かぞく{n}"), Role::Family).await?.0);
    }
    assert_eq!(
        free_starts(&server, &people[0]).await?,
        vec![TUE_14, TUE_15, TUE_16]
    );
    let attempts = people.iter().cloned().map(|token| {
        let server = server.clone();
        tokio::spawn(async move { book(&server, &token, c_id, TUE_15).await })
    });
    let mut won = 0;
    let mut taken = 0;
    for a in attempts {
        let reply = a.await??;
        match reply.status {
            201 => won += 1,
            409 => {
                assert_eq!(reply.json()["code"], "slot_taken", "{}", reply.body);
                taken += 1;
            }
            other => anyhow::bail!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!((won, taken), (1, 9), "exactly one of ten wins");
    assert_eq!(
        free_starts(&server, &people[0]).await?,
        vec![TUE_14, TUE_16]
    );

    // One person holds at most two upcoming bookings (appointments.max_upcoming).
    let (one, _) = server.account("ひとり", Role::Participant).await?;
    let (_d, d_id, d_token) = counsellor(&server, &staff, "すずき").await?;
    publish(&server, &d_token, json!({})).await?;
    assert_eq!(book(&server, &one, c_id, TUE_14).await?.status, 201);
    // Not two at the same time with different counsellors.
    let same_time = book(&server, &one, d_id, TUE_14).await?;
    assert_eq!(
        same_time.json()["code"],
        "booking_limit",
        "{}",
        same_time.body
    );
    assert_eq!(book(&server, &one, d_id, TUE_15).await?.status, 201);
    let third = book(&server, &one, d_id, TUE_16).await?;
    assert_eq!(third.status, 409);
    assert_eq!(third.json()["code"], "booking_limit");

    // Bad input: a time that is no slot, a kind the counsellor does not take, unknown fields.
    let off = book(&server, &people[1], c_id, TUE_14 + 5 * MINUTE).await?;
    assert_eq!(
        (off.status, off.json()["field"].clone()),
        (400, json!("starts_at"))
    );
    let kind = server
        .call(
            "POST",
            "/api/appointments",
            Some(&people[1]),
            None,
            Some(&json!({"counsellor": c_id, "starts_at": TUE_16, "for_whom": "alien", "topic": "family"})),
        )
        .await?;
    assert_eq!(kind.status, 400, "{}", kind.body);
    let staff_books = book(&server, &staff, c_id, TUE_16).await?;
    assert_eq!(staff_books.status, 403);

    // A suspended counsellor's times are not offered.
    let (admin, _) = server.account("かんり", Role::Admin).await?;
    let before = free_starts(&server, &people[1]).await?.len();
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{d_id}/suspend"),
            Some(&admin),
            None,
            Some(&json!({"reason": "休職"})),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);
    let after = free_starts(&server, &people[1]).await?.len();
    assert_eq!(
        before - after,
        2,
        "すずき's free slots (14:00, 16:00) are gone"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_off_moves_cancellations_and_a_booked_slot_that_cannot_just_be_deleted()
-> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (mut c, c_id, c_token) = counsellor(&server, &staff, "さとう").await?;
    // Only family consults in these slots.
    let rule = publish(&server, &c_token, json!({"for_whom": ["family_member"]})).await?;
    let (p_token, _) = server.account("かぞく", Role::Family).await?;
    let mut p = server.client(&p_token).await?;

    // A participant looking for consults for themselves sees none of these.
    let (me_token, _) = server.account("ほんにん", Role::Participant).await?;
    let mine = server
        .call(
            "GET",
            "/api/appointments/slots?for_whom=self",
            Some(&me_token),
            None,
            None,
        )
        .await?;
    assert_eq!(mine.json()["slots"], json!([]));

    let booked = book(&server, &p_token, c_id, TUE_14).await?;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let first = booked.json();
    assert_eq!(first["state"], "booked");
    assert_eq!(first["can_change"], true);
    // The counsellor hears of it with the handle, the kind and the note.
    let ServerFrame::Appointment { appointment, .. } =
        appointment_event(&mut c, AppointmentEvent::Booked).await?
    else {
        unreachable!()
    };
    assert_eq!(appointment.requester.handle, "かぞく");
    assert_eq!(
        appointment.first_note.as_deref(),
        Some("息子が部屋から出てこなくなって半年です。")
    );

    // Moved to 16:00 before the cut-off: 14:00 is free again.
    let id = first["id"].as_u64().unwrap_or(0);
    let moved = server
        .call(
            "POST",
            &format!("/api/appointments/{id}/move"),
            Some(&p_token),
            None,
            Some(&json!({"starts_at": TUE_16})),
        )
        .await?;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let new_id = moved.json()["id"].as_u64().unwrap_or(0);
    assert_ne!(new_id, id);
    assert_eq!(free_starts(&server, &p_token).await?, vec![TUE_14, TUE_15]);
    let listed = server
        .call("GET", "/api/appointments", Some(&p_token), None, None)
        .await?
        .json();
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "the moved-from booking is not listed"
    );

    // Within 60 minutes of the time, the person can no longer cancel or move it.
    clock.set(TUE_16 - 59 * MINUTE);
    let late = server
        .call(
            "POST",
            &format!("/api/appointments/{new_id}/cancel"),
            Some(&p_token),
            None,
            None,
        )
        .await?;
    assert_eq!(
        (late.status, late.json()["code"].clone()),
        (409, json!("too_late"))
    );
    let late_move = server
        .call(
            "POST",
            &format!("/api/appointments/{new_id}/move"),
            Some(&p_token),
            None,
            Some(&json!({"starts_at": TUE_15})),
        )
        .await?;
    assert_eq!(late_move.json()["code"], "too_late");
    // Booking a slot that starts in 29 minutes is too late as well (book_until_minutes = 30).
    clock.set(TUE_15 - 29 * MINUTE);
    let (other, _) = server.account("もうひとり", Role::Family).await?;
    assert_eq!(
        book(&server, &other, c_id, TUE_15).await?.json()["code"],
        "too_late"
    );

    // The counsellor's rule cannot go while a booking lies in it, unless they write to them.
    clock.set(START);
    let refused = server
        .call(
            "DELETE",
            &format!("/api/appointment-rules/{rule}"),
            Some(&c_token),
            None,
            None,
        )
        .await?;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let problem = refused.json();
    assert_eq!(problem["code"], "appointments_booked");
    assert_eq!(problem["appointments"][0]["id"], json!(new_id));
    let deleted = server
        .call(
            "DELETE",
            &format!("/api/appointment-rules/{rule}"),
            Some(&c_token),
            None,
            Some(&json!({"message": "急な用事で、この日は相談をお受けできなくなりました。"})),
        )
        .await?;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let ServerFrame::Appointment { appointment, .. } =
        appointment_event(&mut p, AppointmentEvent::Cancelled).await?
    else {
        unreachable!()
    };
    assert_eq!(appointment.state, AppointmentState::Cancelled);
    assert!(
        appointment
            .message
            .as_deref()
            .is_some_and(|m| m.contains("急な用事"))
    );
    assert_eq!(free_starts(&server, &p_token).await?, Vec::<i64>::new());

    // A counsellor's cancellation needs a message; someone else's booking is not yours.
    publish(&server, &c_token, json!({})).await?;
    let again = book(&server, &p_token, c_id, TUE_15).await?.json();
    let again_id = again["id"].as_u64().unwrap_or(0);
    let nosy = server
        .call(
            "POST",
            &format!("/api/appointments/{again_id}/cancel"),
            Some(&other),
            None,
            None,
        )
        .await?;
    assert_eq!(nosy.status, 404);
    let bare = server
        .call(
            "POST",
            &format!("/api/appointments/{again_id}/cancel"),
            Some(&c_token),
            None,
            None,
        )
        .await?;
    assert_eq!(
        (bare.status, bare.json()["field"].clone()),
        (400, json!("message"))
    );
    let by_staff = server
        .call(
            "POST",
            &format!("/api/appointments/{again_id}/cancel"),
            Some(&staff),
            None,
            Some(&json!({"message": "相談員の体調不良のため"})),
        )
        .await?;
    assert_eq!(by_staff.status, 200, "{}", by_staff.body);
    assert_eq!(by_staff.json()["cancelled_by"], "staff");
    Ok(())
}

fn bodies(joined: &ServerFrame) -> Vec<String> {
    match joined {
        ServerFrame::Joined { messages, .. } => messages.iter().map(|m| m.body.clone()).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_time_the_room_opens_for_the_two_after_reminders_and_staff_see_only_times()
-> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (mut c, c_id, c_token) = counsellor(&server, &staff, "さとう").await?;
    c.ok(json!({"type": "counsellor_status", "availability": "available"}))
        .await?;
    publish(&server, &c_token, json!({})).await?;
    let (p_token, p_id) = server.account("かぞく", Role::Family).await?;
    let mut p = server.client(&p_token).await?;
    assert_eq!(book(&server, &p_token, c_id, TUE_14).await?.status, 201);

    // The day before, then ten minutes before: reminders to the person.
    clock.set(TUE_14 - 24 * HOUR);
    let ServerFrame::Appointment { reminder, .. } =
        appointment_event(&mut p, AppointmentEvent::Reminder).await?
    else {
        unreachable!()
    };
    assert_eq!(reminder, Some(Reminder::DayBefore));
    // Fifteen minutes before, the counsellor takes no drop-in: a request waits.
    clock.set(TUE_14 - 14 * MINUTE);
    let (w_token, _) = server.account("まちびと", Role::Participant).await?;
    let mut w = server.client(&w_token).await?;
    let waiting = w
        .ok(json!({"type": "consult_request", "topic": "health", "for_whom": "self"}))
        .await?;
    assert!(matches!(
        waiting,
        ServerFrame::ConsultStatus {
            phase: Phase::Waiting,
            ..
        }
    ));
    let offered = c
        .drain_for(std::time::Duration::from_millis(300))
        .await
        .into_iter()
        .any(|(_, f)| matches!(f, ServerFrame::ConsultOffer { .. }));
    assert!(
        !offered,
        "a counsellor about to start a booked consult was offered a drop-in"
    );
    clock.set(TUE_14 - 10 * MINUTE);
    let ServerFrame::Appointment { reminder, .. } =
        appointment_event(&mut p, AppointmentEvent::Reminder).await?
    else {
        unreachable!()
    };
    assert_eq!(reminder, Some(Reminder::Soon));

    // Five minutes before, the room opens for the two.
    clock.set(TUE_14 - 5 * MINUTE);
    let status = p
        .next_matching(|f| {
            matches!(
                f,
                ServerFrame::ConsultStatus {
                    phase: Phase::Active,
                    ..
                }
            )
        })
        .await?;
    let ServerFrame::ConsultStatus {
        consult,
        room: Some(room),
        appointment: Some(booked),
        ..
    } = status
    else {
        anyhow::bail!("no room in {status:?}")
    };
    assert_eq!(booked.starts_at, TUE_14);
    let assigned = c
        .next_matching(|f| matches!(f, ServerFrame::ConsultAssigned { .. }))
        .await?;
    let ServerFrame::ConsultAssigned {
        consult: summary, ..
    } = &assigned
    else {
        unreachable!()
    };
    assert_eq!(summary.consult, consult);
    assert_eq!(summary.appointment.map(|a| a.starts_at), Some(TUE_14));
    // Nobody else may come in.
    let refused = w
        .request(json!({"type": "join", "room": room, "mode": "participant"}))
        .await?;
    assert!(matches!(refused, ServerFrame::Error { .. }), "{refused:?}");

    // The person comes in: the first note is there; the counsellor is told they are here.
    let joined = p.join(room.as_str(), Mode::Participant, None).await?;
    assert_eq!(
        bodies(&joined),
        vec!["息子が部屋から出てこなくなって半年です。"]
    );
    c.next_matching(|f| {
        matches!(
            f,
            ServerFrame::ConsultPresence {
                requester_here: true,
                counsellor_here: false,
                ..
            }
        )
    })
    .await?;
    c.join(room.as_str(), Mode::Participant, None).await?;
    p.next_matching(|f| {
        matches!(
            f,
            ServerFrame::ConsultPresence {
                requester_here: true,
                counsellor_here: true,
                ..
            }
        )
    })
    .await?;
    c.post(room.as_str(), "こんにちは。さとうです。").await?;
    p.post(room.as_str(), "よろしくお願いします。").await?;
    c.ok(json!({"type": "consult_end", "consult": consult}))
        .await?;
    let ServerFrame::Appointment { appointment, .. } =
        appointment_event(&mut p, AppointmentEvent::Held).await?
    else {
        unreachable!()
    };
    assert_eq!(appointment.state, AppointmentState::Held);
    // After the booked consult, the counsellor takes the drop-in that waited.
    c.next_matching(|f| matches!(f, ServerFrame::ConsultOffer { .. }))
        .await?;

    // Staff: the day, per counsellor — times, kinds and states, never who or what.
    let day = server
        .call(
            "GET",
            "/api/staff/appointments?date=2026-11-24",
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(day.status, 200, "{}", day.body);
    assert_eq!(
        day.json()["counsellors"][0]["appointments"][0]["state"],
        "held"
    );
    assert!(
        !day.body.contains("かぞく") && !day.body.contains("息子"),
        "{}",
        day.body
    );
    let stats = server
        .call(
            "GET",
            "/api/staff/appointments/stats?month=2026-11",
            Some(&staff),
            None,
            None,
        )
        .await?
        .json();
    assert_eq!(stats["total"]["booked"], 1);
    assert_eq!(stats["total"]["held"], 1);
    let csv = server
        .call(
            "GET",
            "/api/staff/appointments.csv?month=2026-11",
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.body
            .contains("2026-11-24,14:00,14:50,\"さとう\",family_member,family,held"),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains("かぞく"));
    let forbidden = server
        .call(
            "GET",
            "/api/staff/appointments?date=2026-11-24",
            Some(&p_token),
            None,
            None,
        )
        .await?;
    assert_eq!(forbidden.status, 403);

    // The person's own-data export includes the booking.
    let export = server
        .call("GET", "/api/me/export", Some(&p_token), None, None)
        .await?;
    assert!(export.body.contains("appointments"), "{}", export.body);
    let _ = p_id;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_counsellor_sends_the_person_to_the_front_and_an_absent_person_is_missed()
-> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("まとめ役").await?;
    // さとう's booking: さとう never comes. すずき is on duty for drop-ins, busy with one.
    let (c, c_id, c_token) = counsellor(&server, &staff, "さとう").await?;
    c.close().await;
    let (mut d, d_id, d_token) = counsellor(&server, &staff, "すずき").await?;
    publish(&server, &c_token, json!({})).await?;
    publish(&server, &d_token, json!({})).await?;
    let (p_token, _) = server.account("かぞく", Role::Family).await?;
    let (q_token, _) = server.account("こない人", Role::Participant).await?;
    assert_eq!(book(&server, &p_token, c_id, TUE_14).await?.status, 201);
    assert_eq!(book(&server, &q_token, d_id, TUE_15).await?.status, 201);

    clock.set(TUE_14 - 4 * MINUTE);
    let mut p = server.client(&p_token).await?;
    let status = p
        .next_matching(|f| {
            matches!(
                f,
                ServerFrame::ConsultStatus {
                    phase: Phase::Active,
                    ..
                }
            )
        })
        .await?;
    let ServerFrame::ConsultStatus {
        consult,
        room: Some(room),
        ..
    } = status
    else {
        anyhow::bail!("{status:?}")
    };
    p.join(room.as_str(), Mode::Participant, None).await?;
    p.post(room.as_str(), "こんにちは").await?;
    // Someone is already waiting in the drop-in queue.
    let (w_token, _) = server.account("まちびと", Role::Participant).await?;
    let mut w = server.client(&w_token).await?;
    w.ok(json!({"type": "consult_request", "topic": "health", "for_whom": "self"}))
        .await?;

    // Five minutes after the time, nobody came: first in the drop-in queue.
    clock.set(TUE_14 + 5 * MINUTE);
    appointment_event(&mut p, AppointmentEvent::CounsellorAbsent).await?;
    let waiting = p
        .next_matching(|f| {
            matches!(
                f,
                ServerFrame::ConsultStatus {
                    phase: Phase::Waiting,
                    ..
                }
            )
        })
        .await?;
    assert!(
        matches!(waiting, ServerFrame::ConsultStatus { position: Some(1), consult: id, .. } if id == consult),
        "{waiting:?}"
    );
    // すずき becomes available: the person who was let down is offered first, with what
    // they said so far.
    d.ok(json!({"type": "counsellor_status", "availability": "available"}))
        .await?;
    let offer = d
        .next_matching(|f| matches!(f, ServerFrame::ConsultOffer { .. }))
        .await?;
    let ServerFrame::ConsultOffer {
        consult: summary, ..
    } = &offer
    else {
        unreachable!()
    };
    assert_eq!(summary.consult, consult);
    d.ok(json!({"type": "consult_accept", "consult": consult}))
        .await?;
    let joined = d.join(room.as_str(), Mode::Participant, None).await?;
    assert!(bodies(&joined).contains(&"こんにちは".to_owned()));
    d.ok(json!({"type": "consult_end", "consult": consult}))
        .await?;

    // すずき's own booking at 15:00: the person never comes. Missed, nothing more.
    clock.set(TUE_15 - 5 * MINUTE);
    let mut q = server.client(&q_token).await?;
    let opened = q
        .next_matching(|f| {
            matches!(
                f,
                ServerFrame::ConsultStatus {
                    phase: Phase::Active,
                    ..
                }
            )
        })
        .await?;
    let ServerFrame::ConsultStatus {
        consult: missed, ..
    } = opened
    else {
        unreachable!()
    };
    q.close().await;
    // すずき opens the room and waits.
    let assigned = d
        .next_matching(|f| matches!(f, ServerFrame::ConsultAssigned { consult, .. } if consult.consult == missed))
        .await?;
    let ServerFrame::ConsultAssigned {
        room: booked_room, ..
    } = assigned
    else {
        unreachable!()
    };
    d.join(booked_room.as_str(), Mode::Participant, None)
        .await?;
    clock.set(TUE_15 + 5 * MINUTE);
    d.post(booked_room.as_str(), "お待ちしています。").await?;
    clock.set(TUE_15 + 15 * MINUTE);
    let ServerFrame::Appointment { appointment, .. } =
        appointment_event(&mut d, AppointmentEvent::Missed).await?
    else {
        unreachable!()
    };
    assert_eq!(appointment.state, AppointmentState::Missed);
    assert_eq!(appointment.consult, Some(missed));
    let listed = server
        .call("GET", "/api/appointments", Some(&q_token), None, None)
        .await?
        .json();
    assert_eq!(listed[0]["state"], "missed");
    let stats = server
        .call(
            "GET",
            "/api/staff/appointments/stats?month=2026-11",
            Some(&staff),
            None,
            None,
        )
        .await?
        .json();
    assert_eq!(stats["total"]["counsellor_absent"], 1);
    assert_eq!(stats["total"]["missed"], 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_and_a_booked_consult_under_way_survive_restarts() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(START));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("まとめ役").await?;
    let (c, c_id, c_token) = counsellor(&server, &staff, "さとう").await?;
    publish(&server, &c_token, json!({})).await?;
    let (p_token, _) = server.account("かぞく", Role::Family).await?;
    assert_eq!(book(&server, &p_token, c_id, TUE_14).await?.status, 201);
    c.close().await;

    // Restarted before the time: the booking opens at its time all the same.
    let server = server.restart_with_clock(clock.clone()).await?;
    clock.set(TUE_14 - 5 * MINUTE);
    let mut p = server.client(&p_token).await?;
    let status = p
        .next_matching(|f| {
            matches!(
                f,
                ServerFrame::ConsultStatus {
                    phase: Phase::Active,
                    ..
                }
            )
        })
        .await?;
    let ServerFrame::ConsultStatus {
        consult,
        room: Some(room),
        ..
    } = status
    else {
        anyhow::bail!("{status:?}")
    };
    p.join(room.as_str(), Mode::Participant, None).await?;
    let mut c = server.client(&c_token).await?;
    c.join(room.as_str(), Mode::Participant, None).await?;
    c.post(room.as_str(), "こんにちは。").await?;
    p.next_matching(|f| {
        matches!(
            f,
            ServerFrame::ConsultPresence {
                counsellor_here: true,
                ..
            }
        )
    })
    .await?;
    drop((p, c));

    // Restarted in the middle: still open for the same two, with what was said.
    let server = server.restart_with_clock(clock.clone()).await?;
    let mut c = server.client(&c_token).await?;
    let joined = c.join(room.as_str(), Mode::Participant, None).await?;
    assert!(bodies(&joined).contains(&"こんにちは。".to_owned()));
    let mut p = server.client(&p_token).await?;
    p.join(room.as_str(), Mode::Participant, None).await?;
    p.post(room.as_str(), "また来られました。").await?;
    c.ok(json!({"type": "consult_end", "consult": consult}))
        .await?;
    let ServerFrame::Appointment { appointment, .. } =
        appointment_event(&mut p, AppointmentEvent::Held).await?
    else {
        unreachable!()
    };
    assert_eq!(appointment.consult, Some(consult));
    Ok(())
}

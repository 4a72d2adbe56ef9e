//! Programmes: staff schedule sessions; each occurrence's room opens before the start, goes
//! live, warns and closes by the clock; capacity leaves a way to watch; the timetable and the
//! iCalendar feed follow; calling off closes an open room with the reason.

use ibasho_e2e::{TestClient, TestServer};
use ibasho_hub::ManualClock;
use ibasho_protocol::programme::{Phase, Timetable};
use ibasho_protocol::{ErrorCode, Millis, Mode, RoomInfo, RoomKind, ServerFrame};
use ibasho_schedule::chrono::TimeZone;
use ibasho_schedule::chrono_tz::Asia::Tokyo;
use serde_json::{Value, json};
use std::sync::Arc;

const MIN: Millis = 60_000;

fn tokyo(m: u32, d: u32, h: u32, min: u32) -> Millis {
    Tokyo
        .with_ymd_and_hms(2026, m, d, h, min, 0)
        .unwrap()
        .timestamp_millis()
}

fn code(f: &ServerFrame) -> Option<ErrorCode> {
    match f {
        ServerFrame::Error { code, .. } => Some(*code),
        _ => None,
    }
}

/// The programme room in a `rooms` frame, once it is in `phase`.
async fn wait_for_room(c: &mut TestClient, phase: Phase) -> anyhow::Result<RoomInfo> {
    let f = c
        .next_matching(|f| match f {
            ServerFrame::Rooms { id: None, rooms } => rooms.iter().any(|r| {
                r.kind == RoomKind::Programme
                    && r.programme.as_ref().is_some_and(|p| p.phase == phase)
            }),
            _ => false,
        })
        .await?;
    let ServerFrame::Rooms { rooms, .. } = f else {
        unreachable!()
    };
    Ok(rooms
        .into_iter()
        .find(|r| r.kind == RoomKind::Programme)
        .expect("programme room"))
}

/// The programme room as the room list has it now, waiting until the driver has opened it.
async fn listed_room(c: &mut TestClient) -> anyhow::Result<RoomInfo> {
    for _ in 0..200 {
        let ServerFrame::Rooms { rooms, .. } = c.ok(json!({"type": "list_rooms"})).await? else {
            anyhow::bail!("no rooms frame")
        };
        if let Some(r) = rooms.into_iter().find(|r| r.kind == RoomKind::Programme) {
            return Ok(r);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    anyhow::bail!("the programme room did not open")
}

async fn timetable(server: &TestServer, from: Millis, to: Millis) -> anyhow::Result<Timetable> {
    let r = server
        .call(
            "GET",
            &format!("/api/timetable?from={from}&to={to}"),
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    Ok(serde_json::from_value(r.json())?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_opens_goes_live_warns_and_closes_and_full_means_watch() -> anyhow::Result<()> {
    // Wednesday 25 November 2026, 11:00 in Sendai; the space opens at 13:00.
    let clock = Arc::new(ManualClock::new(tokyo(11, 25, 11, 0)));
    let server = TestServer::start_with_clock_and(clock.clone(), |c| {
        c.opening_hours.always_open = false;
        c.programmes.driver_tick_ms = 20;
    })
    .await?;
    let (staff, _) = server.staff("しょくいん").await?;

    let created = server
        .call(
            "POST",
            "/api/programmes",
            Some(&staff),
            None,
            Some(&json!({
                "title": "みんなでランチ",
                "description": "おひるを持ってきて、いっしょに食べましょう。",
                "category": "meal",
                "modes": ["view_only", "participant"],
                "capacity": 1
            })),
        )
        .await?;
    assert_eq!(created.status, 201, "{}", created.body);
    let programme = created.json()["id"].as_str().unwrap().to_owned();

    // A preview before saving: weekly on Wednesdays; the 1st Wednesday (2 December) falls
    // outside opening hours and will not take place.
    let weekly = json!({"first_date": "2026-11-25", "start": "14:00", "minutes": 60, "rrule": "FREQ=WEEKLY;BYDAY=WE"});
    let preview = server
        .call(
            "POST",
            "/api/sessions/preview",
            Some(&staff),
            None,
            Some(&weekly),
        )
        .await?;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let occ = preview.json()["occurrences"].as_array().unwrap().clone();
    assert_eq!(occ.len(), 12);
    assert_eq!(occ[0]["start"], json!(tokyo(11, 25, 14, 0)));
    assert_eq!(occ[0]["outside_hours"], json!(false));
    assert_eq!(occ[1]["start"], json!(tokyo(12, 2, 14, 0)));
    assert_eq!(occ[1]["outside_hours"], json!(true));

    let session = server
        .call(
            "POST",
            &format!("/api/programmes/{programme}/sessions"),
            Some(&staff),
            None,
            Some(&json!({"first_date": "2026-11-25", "start": "14:00", "minutes": 60, "open_before_minutes": 10, "warn_before_minutes": 5})),
        )
        .await?;
    assert_eq!(session.status, 201, "{}", session.body);

    let t = timetable(&server, tokyo(11, 25, 0, 0), tokyo(11, 26, 0, 0)).await?;
    assert_eq!(t.time_zone, "Asia/Tokyo");
    assert_eq!(t.entries.len(), 1);
    assert_eq!(t.entries[0].phase, Phase::Scheduled);
    assert_eq!(t.entries[0].opens_at, tokyo(11, 25, 13, 50));
    assert!(t.entries[0].room.is_none());

    let (hana, _) = server.guest("はな").await?;
    let mut p1 = server.client(&hana).await?;
    let mut p2 = server.guest_client("そら").await?;

    // 13:50: the room opens (waiting).
    clock.advance(tokyo(11, 25, 13, 50) - tokyo(11, 25, 11, 0));
    let room = wait_for_room(&mut p1, Phase::Open).await?;
    let t = timetable(&server, tokyo(11, 25, 0, 0), tokyo(11, 26, 0, 0)).await?;
    assert_eq!(t.entries[0].phase, Phase::Open);
    assert_eq!(t.entries[0].room.as_ref(), Some(&room.id));
    let id = room.id.as_str().to_owned();

    p1.join(&id, Mode::Participant, None).await?;
    p1.post(&id, "いただきます").await?;
    // Full for people who write; watching is still open, and shows only in the count.
    let r = p2
        .request(json!({"type": "join", "room": id, "mode": "participant"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::RoomFull), "{r:?}");
    assert!(matches!(&r, ServerFrame::Error { message, .. } if message.contains("watch")));
    let r = p2
        .request(json!({"type": "join", "room": id, "mode": "chat_only"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed), "{r:?}");
    let ServerFrame::Joined { presence, .. } = p2.join(&id, Mode::ViewOnly, None).await? else {
        unreachable!()
    };
    assert_eq!(presence.members.len(), 1);
    let w = p1
        .next_matching(|f| matches!(f, ServerFrame::Watchers { count: 1, .. }))
        .await?;
    assert!(matches!(w, ServerFrame::Watchers { count: 1, .. }));

    // 14:00 live; 14:55 the warning; 15:00 closed for everyone in it.
    clock.advance(10 * MIN);
    wait_for_room(&mut p1, Phase::Live).await?;
    clock.advance(55 * MIN);
    let ending = p1
        .next_matching(|f| matches!(f, ServerFrame::SessionEnding { .. }))
        .await?;
    assert_eq!(
        ending,
        ServerFrame::SessionEnding {
            room: room.id.clone(),
            ends_at: tokyo(11, 25, 15, 0),
            minutes: 5
        }
    );
    clock.advance(5 * MIN);
    for c in [&mut p1, &mut p2] {
        let closed = c
            .next_matching(|f| matches!(f, ServerFrame::RoomClosed { .. }))
            .await?;
        assert!(matches!(closed, ServerFrame::RoomClosed { room: r, .. } if r == room.id));
    }
    let r = p1
        .request(json!({"type": "post", "room": id, "body": "ごちそうさま"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotJoined), "{r:?}");
    let t = timetable(&server, tokyo(11, 25, 0, 0), tokyo(11, 26, 0, 0)).await?;
    assert_eq!(t.entries[0].phase, Phase::Ended);

    // A second session at 16:00: はな comes back, by way of the room list.
    let again = server
        .call(
            "POST",
            &format!("/api/programmes/{programme}/sessions"),
            Some(&staff),
            None,
            Some(&json!({"first_date": "2026-11-25", "start": "16:00", "minutes": 30})),
        )
        .await?;
    assert_eq!(again.status, 201, "{}", again.body);
    clock.advance(tokyo(11, 25, 15, 55) - tokyo(11, 25, 15, 0));
    let second = wait_for_room(&mut p1, Phase::Open).await?;
    p1.join(second.id.as_str(), Mode::Participant, None).await?;
    p1.ok(json!({"type": "leave", "room": second.id})).await?;
    p1.join(second.id.as_str(), Mode::ViewOnly, None).await?;

    // The figures staff report: counts only, each person once per session, in their most
    // present way; first time or returning; the most at once.
    let (guest, _) = server.guest("のぞき").await?;
    let path = "/api/staff/statistics?month=2026-11";
    assert_eq!(
        server
            .call("GET", path, Some(&guest), None, None)
            .await?
            .status,
        403
    );
    let r = server.call("GET", path, Some(&staff), None, None).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let m: ibasho_protocol::programme::MonthStatistics = serde_json::from_value(r.json())?;
    assert_eq!(m.sessions.len(), 2);
    let (first, second) = (&m.sessions[0], &m.sessions[1]);
    assert_eq!(
        (
            first.joined,
            first.participant,
            first.view_only,
            first.first_time,
            first.returning,
            first.peak
        ),
        (2, 1, 1, 2, 0, 2)
    );
    assert_eq!(
        (
            second.joined,
            second.participant,
            second.first_time,
            second.returning,
            second.peak
        ),
        (1, 1, 0, 1, 1)
    );
    // The second has not started yet (people wait inside): not counted as held.
    assert!(m.sessions[0].held && !m.sessions[1].held);
    assert_eq!(
        (
            m.sessions_held,
            m.joined,
            m.people,
            m.first_time,
            m.returning
        ),
        (1, 3, 2, 2, 1)
    );
    assert!(
        !r.body.contains("はな") && !r.body.contains("そら"),
        "no names in the figures"
    );
    let csv = server
        .call(
            "GET",
            "/api/staff/statistics.csv?month=2026-11",
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "date,start,end,programme,category,status,joined,view_only,chat_only,participant,first_time,returning,peak"
    );
    assert_eq!(
        lines[1],
        "2026-11-25,14:00,15:00,みんなでランチ,meal,held,2,1,0,1,2,0,2"
    );
    assert_eq!(
        lines[2],
        "2026-11-25,16:00,16:30,みんなでランチ,meal,scheduled,1,0,0,1,0,1,1"
    );
    assert_eq!(lines[3], "2026-11,,,total,,1 held,3,1,0,2,2,1,");
    let bad = server
        .call(
            "GET",
            "/api/staff/statistics?month=november",
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(bad.status, 400);
    server.server.hub.check_invariants();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_off_closes_an_open_room_with_the_reason_and_the_feed_says_so() -> anyhow::Result<()>
{
    let clock = Arc::new(ManualClock::new(tokyo(11, 25, 13, 55)));
    let server = TestServer::start_with_clock_and(clock.clone(), |c| {
        c.opening_hours.always_open = false;
        c.programmes.driver_tick_ms = 20;
    })
    .await?;
    let (staff, _) = server.staff("しょくいん").await?;
    let p = server
        .call(
            "POST",
            "/api/programmes",
            Some(&staff),
            None,
            Some(&json!({"title": "うたカフェ, 歌; と音楽", "category": "music", "capacity": 20})),
        )
        .await?
        .json();
    let id = p["id"].as_str().unwrap();
    // The 2nd, 3rd and 4th Wednesdays at 14:00, like the space itself.
    let s = server
        .call(
            "POST",
            &format!("/api/programmes/{id}/sessions"),
            Some(&staff),
            None,
            Some(&json!({"first_date": "2026-11-11", "start": "14:00", "minutes": 90, "rrule": "FREQ=MONTHLY;BYDAY=2WE,3WE,4WE"})),
        )
        .await?
        .json();
    let session = s["id"].as_str().unwrap();

    let mut c = server.guest_client("はな").await?;
    // The room opened at 13:50, perhaps before this client came: it is in the room list.
    let room = listed_room(&mut c).await?;
    assert_eq!(room.programme.as_ref().map(|p| p.phase), Some(Phase::Open));
    c.join(room.id.as_str(), Mode::Participant, None).await?;

    let r = server
        .call(
            "POST",
            &format!("/api/sessions/{session}/cancel"),
            Some(&staff),
            None,
            Some(&json!({"start": tokyo(11, 25, 14, 0), "reason": "講師の体調不良のため、お休みします。"})),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);
    let closed = c
        .next_matching(|f| matches!(f, ServerFrame::RoomClosed { .. }))
        .await?;
    assert!(
        matches!(&closed, ServerFrame::RoomClosed { reason, .. } if reason.contains("体調不良")),
        "{closed:?}"
    );

    // Staff changes to programmes are audited, with the reason people were given.
    let (admin, _) = server
        .account("かんりしゃ", ibasho_protocol::Role::Admin)
        .await?;
    let audit = server
        .call("GET", "/api/admin/audit?limit=20", Some(&admin), None, None)
        .await?;
    assert_eq!(audit.status, 200, "{}", audit.body);
    let audit = audit.json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["create_programme", "create_session", "cancel_session"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(audit.to_string().contains("講師の体調不良"));

    let t = timetable(&server, tokyo(11, 25, 0, 0), tokyo(12, 31, 0, 0)).await?;
    let starts: Vec<Millis> = t.entries.iter().map(|e| e.start).collect();
    assert_eq!(
        starts,
        vec![
            tokyo(11, 25, 14, 0),
            tokyo(12, 9, 14, 0),
            tokyo(12, 16, 14, 0),
            tokyo(12, 23, 14, 0)
        ]
    );
    assert_eq!(t.entries[0].phase, Phase::Cancelled);
    assert!(t.entries[0].cancel_reason.contains("体調不良"));
    assert!(t.entries[0].room.is_none());

    let ics = server
        .call("GET", "/api/calendar.ics", None, None, None)
        .await?;
    assert_eq!(ics.status, 200);
    assert!(
        ics.header("content-type")
            .unwrap()
            .starts_with("text/calendar")
    );
    let unfolded = ics.body.replace("\r\n ", "");
    assert!(unfolded.starts_with("BEGIN:VCALENDAR\r\n"));
    assert!(unfolded.contains("SUMMARY:うたカフェ\\, 歌\\; と音楽\r\n"));
    assert!(unfolded.contains("DTSTART:20261125T050000Z\r\nDTEND:20261125T063000Z\r\n"));
    assert!(unfolded.contains("STATUS:CANCELLED"));
    // A week back and 90 days ahead: 18 November to 17 February, the 2nd-4th Wednesdays.
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 10);
    for line in ics.body.split("\r\n") {
        assert!(line.len() <= 75, "an unfolded line: {line}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_programmes_and_schedules_are_refused_with_the_field_at_fault() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("しょくいん").await?;
    let (guest, _) = server.guest("はな").await?;
    let post = |path: &'static str, token: String, body: Value| {
        let server = &server;
        async move {
            server
                .call("POST", path, Some(&token), None, Some(&body))
                .await
        }
    };
    let ok = json!({"title": "お絵かき", "category": "art", "capacity": 10});
    assert_eq!(
        post("/api/programmes", guest.clone(), ok.clone())
            .await?
            .status,
        403
    );
    for (body, field) in [
        (
            json!({"title": " ", "category": "art", "capacity": 10}),
            "title",
        ),
        (
            json!({"title": "x", "category": "art", "capacity": 0}),
            "capacity",
        ),
        (
            json!({"title": "x", "category": "cooking", "capacity": 3}),
            "category",
        ),
        (
            json!({"title": "x", "category": "art", "capacity": 3, "modes": []}),
            "modes",
        ),
        (
            json!({"title": "x", "category": "art", "capacity": 3, "link": "https://example.org"}),
            "link",
        ),
    ] {
        let r = post("/api/programmes", staff.clone(), body.clone()).await?;
        assert_eq!(r.status / 100, 4, "{body}: {}", r.body);
        assert_eq!(r.json()["field"], json!(field), "{body}: {}", r.body);
    }
    for body in [
        json!({"first_date": "2026-13-01", "start": "14:00", "minutes": 60}),
        json!({"first_date": "2026-11-25", "start": "25:00", "minutes": 60}),
        json!({"first_date": "2026-11-25", "start": "14:00", "minutes": 0}),
        json!({"first_date": "2026-11-25", "start": "14:00", "minutes": 60, "rrule": "FREQ=SOMETIMES"}),
        json!({"first_date": "2026-11-25", "start": "14:00", "minutes": 60, "rrule": "FREQ=MINUTELY"}),
        json!({"first_date": "2026-11-25", "start": "14:00", "minutes": 60, "warn_before_minutes": 60}),
    ] {
        let r = post("/api/sessions/preview", staff.clone(), body.clone()).await?;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert_eq!(r.json()["code"], json!("invalid_input"), "{body}");
    }
    let r = server
        .call(
            "GET",
            "/api/timetable?from=0&to=99999999999999",
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(r.status, 400);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_pin_take_the_stage_give_a_voice_and_moderate_their_room() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(tokyo(11, 25, 13, 55)));
    let server = TestServer::start_with_clock_and(clock.clone(), |c| {
        c.opening_hours.always_open = false;
        c.programmes.driver_tick_ms = 20;
    })
    .await?;
    let (staff, _) = server.staff("しょくいん").await?;
    let (host, host_id) = server
        .account("おんがくりょうほうし", ibasho_protocol::Role::Counsellor)
        .await?;
    let p = server
        .call(
            "POST",
            "/api/programmes",
            Some(&staff),
            None,
            Some(&json!({"title": "うたカフェ", "category": "music", "capacity": 1, "hosts": [host_id]})),
        )
        .await?;
    assert_eq!(p.status, 201, "{}", p.body);
    assert_eq!(
        p.json()["hosts"][0]["handle"],
        json!("おんがくりょうほうし")
    );
    let id = p.json()["id"].as_str().unwrap().to_owned();
    let s = server
        .call(
            "POST",
            &format!("/api/programmes/{id}/sessions"),
            Some(&staff),
            None,
            Some(&json!({"first_date": "2026-11-25", "start": "14:00", "minutes": 60})),
        )
        .await?;
    assert_eq!(s.status, 201, "{}", s.body);

    let mut h = server.client(&host).await?;
    let room = listed_room(&mut h).await?;
    let rid = room.id.as_str().to_owned();
    h.join(&rid, Mode::Participant, None).await?;
    let (p1_token, p1_id) = server.guest("はな").await?;
    let mut p1 = server.client(&p1_token).await?;
    p1.join(&rid, Mode::Participant, None).await?;
    let (p2_token, p2_id) = server.guest("そら").await?;
    let mut p2 = server.client(&p2_token).await?;

    // Pin: hosts only; everyone inside sees it.
    let r = p1
        .request(json!({"type": "pin", "room": rid, "text": "わたしのピン"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed), "{r:?}");
    h.ok(json!({"type": "pin", "room": rid, "text": "  今日のテーマ：好きな音  "}))
        .await?;
    let updated = p1
        .next_matching(|f| matches!(f, ServerFrame::RoomUpdated { .. }))
        .await?;
    let ServerFrame::RoomUpdated { room: info } = updated else {
        unreachable!()
    };
    assert_eq!(info.pinned.as_deref(), Some("今日のテーマ：好きな音"));

    // Stage: the host writes; a participant may only react.
    h.ok(json!({"type": "stage", "room": rid, "on": true}))
        .await?;
    let seq = h.post(&rid, "一曲目は「ふるさと」です").await?;
    let r = p1
        .request(json!({"type": "post", "room": rid, "body": "わーい"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed), "{r:?}");
    let ServerFrame::Event {
        event: ibasho_protocol::RoomEvent::Posted { message },
        ..
    } = p1
        .next_matching(|f| matches!(f, ServerFrame::Event { seq: s, .. } if *s == seq))
        .await?
    else {
        panic!("no posted event")
    };
    p1.ok(json!({"type": "react", "room": rid, "message_id": message.id, "stamp": "clap", "on": true}))
        .await?;

    // Full (capacity 1 writer besides the host): watch, then the host lets them join in.
    let r = p2
        .request(json!({"type": "join", "room": rid, "mode": "participant"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::RoomFull), "{r:?}");
    p2.join(&rid, Mode::ViewOnly, None).await?;
    h.ok(json!({"type": "give_voice", "room": rid, "account": p2_id, "on": true}))
        .await?;
    let voice = p2
        .next_matching(|f| matches!(f, ServerFrame::Voice { .. }))
        .await?;
    assert_eq!(
        voice,
        ServerFrame::Voice {
            room: room.id.clone(),
            on: true
        }
    );
    // The join says so too, so that a reloaded page knows.
    let ServerFrame::Joined { voice, .. } = p2.join(&rid, Mode::Participant, None).await? else {
        unreachable!()
    };
    assert!(voice);
    p2.post(&rid, "うたいます").await?;

    // Hosts moderate their room; participants do not; hosts and staff cannot be muted.
    let r = p1
        .request(
            json!({"type": "mute", "room": rid, "account": p2_id, "minutes": 5, "reason": "x"}),
        )
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed), "{r:?}");
    h.ok(json!({"type": "mute", "room": rid, "account": p1_id, "minutes": 5, "reason": "少し落ち着いてから"}))
        .await?;
    let (_, staff_id) = server.staff("もうひとりのしょくいん").await?;
    let r = h
        .request(
            json!({"type": "mute", "room": rid, "account": staff_id, "minutes": 5, "reason": "x"}),
        )
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed), "{r:?}");
    // The host's powers end at their room's door.
    let r = h
        .request(json!({"type": "pin", "room": "lobby", "text": "ここも"}))
        .await?;
    assert_eq!(code(&r), Some(ErrorCode::NotAllowed), "{r:?}");

    // The pin and the stage are stored with the room, so that a restart keeps them.
    let stored = server.server.hub.store().rooms().await?;
    let stored = stored
        .iter()
        .find(|r| r.info.id == room.id)
        .expect("stored");
    assert!(stored.info.stage);
    assert_eq!(
        stored.info.pinned.as_deref(),
        Some("今日のテーマ：好きな音")
    );
    server.server.hub.check_invariants();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_introduction_is_uploaded_checked_served_replaced_and_removed() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.programmes.gallery_max_bytes = 4096).await?;
    let (staff, _) = server.staff("しょくいん").await?;
    let (guest, _) = server.guest("はな").await?;
    let p = server
        .call(
            "POST",
            "/api/programmes",
            Some(&staff),
            None,
            Some(&json!({"title": "ライブお絵かき", "category": "art", "capacity": 30})),
        )
        .await?
        .json();
    let path = format!("/api/programmes/{}/gallery", p["id"].as_str().unwrap());
    let put = |token: String, content_type: &'static str, body: Vec<u8>| {
        let (server, path) = (&server, path.clone());
        async move {
            let auth = format!("Bearer {token}");
            ibasho_e2e::http_bytes(
                server.addr(),
                "PUT",
                &path,
                &[("Authorization", &auth), ("Content-Type", content_type)],
                &body,
            )
            .await
        }
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..500u32).map(|i| (i % 251) as u8));

    assert_eq!(
        put(guest.clone(), "image/png", png.clone()).await?.status,
        403
    );
    for (content_type, body, field) in [
        (
            "text/html",
            b"<script>alert(1)</script>".to_vec(),
            "content_type",
        ),
        ("image/png", b"<script>alert(1)</script>".to_vec(), "file"),
        ("video/mp4", png.clone(), "file"),
        ("image/png", Vec::new(), "file"),
        ("image/png", [png.clone(), vec![0; 4096]].concat(), "file"),
    ] {
        let r = put(staff.clone(), content_type, body).await?;
        assert_eq!(r.status, 400, "{content_type}: {}", r.body);
        assert_eq!(
            r.json()["field"],
            json!(field),
            "{content_type}: {}",
            r.body
        );
    }

    let r = put(staff.clone(), "image/png", png.clone()).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let item = r.json()["gallery"].clone();
    assert_eq!(item["kind"], json!("upload"));
    assert_eq!(item["content_type"], json!("image/png"));
    assert_eq!(item["bytes"], json!(png.len()));
    let url = item["url"].as_str().unwrap().to_owned();
    let got = ibasho_e2e::http_bytes(server.addr(), "GET", &url, &[], b"").await?;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(got.bytes, png);
    // The public list shows it.
    let list = server
        .call("GET", "/api/programmes", None, None, None)
        .await?
        .json();
    assert_eq!(list[0]["gallery"]["url"], json!(url));

    // A replacement removes the old file; removing leaves nothing.
    let mut webp = b"RIFF\x10\x00\x00\x00WEBPVP8 ".to_vec();
    webp.extend([7u8; 40]);
    let r = put(staff.clone(), "image/webp", webp).await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let new_url = r.json()["gallery"]["url"].as_str().unwrap().to_owned();
    assert_eq!(
        ibasho_e2e::http_bytes(server.addr(), "GET", &url, &[], b"")
            .await?
            .status,
        404
    );
    let r = server
        .call("DELETE", &path, Some(&staff), None, None)
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["gallery"], Value::Null);
    assert_eq!(
        ibasho_e2e::http_bytes(server.addr(), "GET", &new_url, &[], b"")
            .await?
            .status,
        404
    );
    let left: Vec<_> = std::fs::read_dir(server.config.data_dir.join("gallery"))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}

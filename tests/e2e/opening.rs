//! Opening hours: closed to participants and families outside them, open to those who work
//! here; notices before closing; everyone moved out gracefully at closing.

use ibasho_e2e::{TestClient, TestServer, lobby};
use ibasho_hub::ManualClock;
use ibasho_protocol::{ErrorCode, Millis, Mode, Opening, Role, ServerFrame, Span};
use ibasho_schedule::chrono::TimeZone;
use ibasho_schedule::chrono_tz::Asia::Tokyo;
use serde_json::json;
use std::sync::Arc;

fn tokyo(d: u32, h: u32, m: u32) -> Millis {
    Tokyo
        .with_ymd_and_hms(2026, 11, d, h, m, 0)
        .unwrap()
        .timestamp_millis()
}

fn opening_of(welcome: &ServerFrame) -> Opening {
    match welcome {
        ServerFrame::Welcome { opening, .. } => *opening,
        f => panic!("expected welcome, got {f:?}"),
    }
}

async fn connect(server: &TestServer, token: &str) -> anyhow::Result<(TestClient, Opening)> {
    let mut c = TestClient::connect(&server.ws_url(), token).await?;
    let welcome = c.hello().await?;
    Ok((c, opening_of(&welcome)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_space_keeps_its_hours_warns_before_closing_and_moves_people_out() -> anyhow::Result<()>
{
    // Sunday 22 November 2026, noon in Sendai: closed until Wednesday 25th, 13:00–21:00.
    let clock = Arc::new(ManualClock::new(tokyo(22, 12, 0)));
    let server = TestServer::start_with_clock_and(clock.clone(), |c| {
        c.opening_hours.always_open = false;
    })
    .await?;
    let next = Span {
        start: tokyo(25, 13, 0),
        end: tokyo(25, 21, 0),
    };

    let config = server
        .call("GET", "/api/config", None, None, None)
        .await?
        .json();
    assert_eq!(config["opening"], json!({"open": false, "next": next}));

    let (token, _) = server.guest("ひなた").await?;
    let (mut p, opening) = connect(&server, &token).await?;
    assert_eq!(
        opening,
        Opening {
            open: false,
            closes_at: None,
            next: Some(next)
        }
    );
    match p
        .request(json!({"type": "join", "room": lobby(), "mode": "participant"}))
        .await?
    {
        ServerFrame::Error {
            code: ErrorCode::Closed,
            retry_after_ms,
            room,
            ..
        } => {
            assert_eq!(
                retry_after_ms,
                Some((tokyo(25, 13, 0) - tokyo(22, 12, 0)) as u64)
            );
            assert_eq!(room.map(|r| r.as_str().to_owned()), Some(lobby()));
        }
        f => panic!("expected closed, got {f:?}"),
    }

    // Counsellors, staff and admins work while it is closed.
    let (staff, _) = server.staff("しょくいん").await?;
    let (mut s, _) = connect(&server, &staff).await?;
    s.join(lobby().as_str(), Mode::Participant, None).await?;
    let (counsellor, _) = server.account("そうだんいん", Role::Counsellor).await?;
    let (mut c, _) = connect(&server, &counsellor).await?;
    c.join(lobby().as_str(), Mode::Participant, None).await?;

    // Wednesday 13:00: everyone connected is told, and the participant may join.
    clock.advance(tokyo(25, 13, 0) - tokyo(22, 12, 0));
    let opened = p
        .next_matching(|f| matches!(f, ServerFrame::Opening { .. }))
        .await?;
    assert_eq!(
        opened,
        ServerFrame::Opening {
            opening: Opening {
                open: true,
                closes_at: Some(next.end),
                next: None
            }
        }
    );
    p.join(lobby().as_str(), Mode::Participant, None).await?;
    p.post(lobby().as_str(), "こんにちは").await?;

    // 20:50 and 20:59: the two notices, once each.
    clock.advance(tokyo(25, 20, 50) - tokyo(25, 13, 0));
    let ten = p
        .next_matching(|f| matches!(f, ServerFrame::ClosingSoon { .. }))
        .await?;
    assert_eq!(
        ten,
        ServerFrame::ClosingSoon {
            closes_at: next.end,
            minutes: 10
        }
    );
    clock.advance(tokyo(25, 20, 59) - tokyo(25, 20, 50));
    let one = s
        .next_matching(|f| matches!(f, ServerFrame::ClosingSoon { minutes: 1, .. }))
        .await?;
    assert!(matches!(one, ServerFrame::ClosingSoon { minutes: 1, .. }));

    // 21:00: closed. The participant is out of the lobby; staff see them leave and stay.
    clock.advance(tokyo(25, 21, 0) - tokyo(25, 20, 59));
    let closed = p
        .next_matching(|f| matches!(f, ServerFrame::Opening { .. }))
        .await?;
    let ServerFrame::Opening { opening } = closed else {
        unreachable!()
    };
    assert!(!opening.open);
    // The next opening: the 1st Saturday of December (the 5th), 10:00–18:00.
    let saturday = Tokyo
        .with_ymd_and_hms(2026, 12, 5, 10, 0, 0)
        .unwrap()
        .timestamp_millis();
    assert_eq!(opening.next.map(|n| n.start), Some(saturday));
    let frames = p.drain_for(std::time::Duration::from_millis(300)).await;
    assert!(
        !frames
            .iter()
            .any(|(_, f)| matches!(f, ServerFrame::ClosingSoon { minutes: 10, .. })),
        "each notice is sent once: {frames:?}"
    );
    let r = p
        .request(json!({"type": "post", "room": lobby(), "body": "まだいる？"}))
        .await?;
    assert!(
        matches!(
            r,
            ServerFrame::Error {
                code: ErrorCode::NotJoined,
                ..
            }
        ),
        "{r:?}"
    );
    let r = p
        .request(json!({"type": "join", "room": lobby(), "mode": "view_only"}))
        .await?;
    assert!(
        matches!(
            r,
            ServerFrame::Error {
                code: ErrorCode::Closed,
                ..
            }
        ),
        "{r:?}"
    );
    s.post(lobby().as_str(), "おつかれさまでした").await?;
    c.post(lobby().as_str(), "また来週").await?;
    server.server.hub.check_invariants();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_hours_that_do_not_parse_stop_the_server_with_a_reason() -> anyhow::Result<()> {
    let err = TestServer::start_with(|c| {
        c.opening_hours.always_open = false;
        c.opening_hours.rules[0].rrule = "FREQ=SOMETIMES".into();
    })
    .await
    .expect_err("a bad rule must not start");
    assert!(format!("{err:#}").contains("opening_hours"), "{err:#}");
    let err = TestServer::start_with(|c| c.opening_hours.closing_notice_minutes = vec![10, 0])
        .await
        .expect_err("a zero lead must not start");
    assert!(
        format!("{err:#}").contains("closing_notice_minutes"),
        "{err:#}"
    );
    Ok(())
}

//! SQL and script injection attempts through every text field are stored as they are and come
//! back as plain text: nothing is executed, nothing else changes.

use ibasho_e2e::{TestServer, lobby};
use ibasho_protocol::{Mode, Role, ServerFrame};
use serde_json::json;

const PAYLOADS: &[&str] = &[
    "'; DROP TABLE messages; --",
    "\" OR \"1\"=\"1",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "Robert'); DELETE FROM accounts WHERE ('a'='a",
    "{{7*7}} ${7*7} %s %n",
];

#[tokio::test]
async fn injection_attempts_are_stored_and_returned_verbatim() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.account("しらべる", Role::Admin).await?;
    let (staff, _) = server.staff("まもりて").await?;

    // Handles (within the 24-character limit).
    let handles = [
        "x');DROP TABLE rooms;--",
        "<svg onload=alert(1)>",
        "' OR 1=1 --",
    ];
    let mut clients = Vec::new();
    for h in handles {
        let (token, _) = server.guest(h).await?;
        let mut c = server.client(&token).await?;
        let ServerFrame::Welcome { me, .. } = c.welcome.clone().unwrap() else {
            unreachable!()
        };
        assert_eq!(me.handle, h);
        c.join(&lobby(), Mode::Participant, None).await?;
        clients.push(c);
    }

    // Message bodies, edits and moderation reasons.
    let writer = &mut clients[0];
    for p in PAYLOADS {
        writer.post(&lobby(), p).await?;
    }
    let mut s = server.client(&staff).await?;
    s.join(&lobby(), Mode::ViewOnly, None).await?;
    // Room names and topics.
    let ServerFrame::Ack {
        room: Some(room), ..
    } = s
        .ok(json!({"type": "create_room", "name": "<b>部屋</b>'--", "topic": PAYLOADS[0]}))
        .await?
    else {
        panic!()
    };
    assert_eq!(room.name, "<b>部屋</b>'--");
    assert_eq!(room.topic, PAYLOADS[0]);
    let target = server.guest("ねらわれ").await?.1;
    s.ok(json!({"type": "mute", "room": "lobby", "account": target, "minutes": 1, "reason": PAYLOADS[4]})).await?;

    // Application free text; a decline message.
    let apply = json!({"email": "a@example.org", "relation": "self", "message": PAYLOADS[2], "consent": true});
    assert_eq!(
        server
            .call("POST", "/api/applications", None, None, Some(&apply))
            .await?
            .status,
        201
    );
    let apps = server
        .call("GET", "/api/staff/applications", Some(&staff), None, None)
        .await?
        .json();
    assert_eq!(apps[0]["message"], PAYLOADS[2]);

    // Everything comes back exactly as written, and nothing was dropped or deleted.
    let ServerFrame::History { messages, .. } =
        s.ok(json!({"type": "history", "room": "lobby"})).await?
    else {
        panic!()
    };
    let bodies: Vec<&str> = messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, PAYLOADS);
    assert!(messages.iter().all(|m| m.author.handle == handles[0]));
    let accounts = server
        .call("GET", "/api/admin/accounts", Some(&admin), None, None)
        .await?
        .json();
    assert_eq!(accounts.as_array().map(Vec::len), Some(handles.len() + 3));
    let audit = server
        .call("GET", "/api/admin/audit", Some(&admin), None, None)
        .await?
        .json();
    assert_eq!(audit[0]["reason"], PAYLOADS[4]);
    let search = server
        .call(
            "GET",
            "/api/admin/accounts?q=%27%20OR%201%3D1%20--",
            Some(&admin),
            None,
            None,
        )
        .await?
        .json();
    assert_eq!(
        search.as_array().map(|a| a.len()),
        Some(1),
        "the search finds the one handle with that text"
    );
    let ServerFrame::Rooms { rooms, .. } = s.ok(json!({"type": "list_rooms"})).await? else {
        panic!()
    };
    assert_eq!(rooms.len(), 2, "the lobby and the new room are both there");
    server.server.shutdown().await
}

//! Entry: invitations, registration, sign-in with throttling and TOTP, refresh-token rotation
//! with reuse detection, and suspension closing a live socket.

use ibasho_e2e::{TestClient, TestServer, lobby};
use ibasho_hub::ManualClock;
use ibasho_protocol::{Mode, Role, close};
use serde_json::{Value, json};
use std::sync::Arc;

const DAY_MS: i64 = 86_400_000;

fn avatar() -> Value {
    json!({"shape": "drop", "color": "fuji"})
}

/// Staff invite; the link (no mail server configured) carries the token.
async fn invite(
    server: &TestServer,
    token: &str,
    email: &str,
    role: &str,
    extra: Value,
) -> anyhow::Result<String> {
    let mut body = json!({"email": email, "role": role});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let reply = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(token),
            None,
            Some(&body),
        )
        .await?;
    anyhow::ensure!(
        reply.status == 201,
        "invite: {} {}",
        reply.status,
        reply.body
    );
    let link = reply.json()["link"].as_str().unwrap_or_default().to_owned();
    Ok(link.split("token=").nth(1).unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_invitation_registers_exactly_one_person_who_can_then_enter() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, staff_id) = server.staff("うけつけ").await?;
    let token = invite(
        &server,
        &staff,
        "Someone@Example.org",
        "participant",
        json!({}),
    )
    .await?;
    assert_eq!(token.len(), 43);

    let preview = server
        .call(
            "GET",
            &format!("/api/invitations/{token}"),
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.json()["role"], "participant");
    assert_eq!(preview.json()["needs_password"], false);

    let listed = server
        .call("GET", "/api/staff/invitations", Some(&staff), None, None)
        .await?;
    let list = listed.json();
    assert_eq!(list[0]["state"], "pending");
    assert_eq!(list[0]["email"], "someone@example.org");
    assert_eq!(list[0]["created_by"], staff_id.to_string());

    let body = json!({"token": token, "handle": "はじめまして", "avatar": avatar(), "relation": "family", "age_band": "50s"});
    let reply = server
        .call("POST", "/api/register", None, None, Some(&body))
        .await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.json()["me"]["role"],
        "family",
        "a family member registers as family"
    );
    let cookie = reply.header("set-cookie").unwrap_or_default().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/api/session"),
        "{cookie}"
    );
    let access = reply.json()["token"].as_str().unwrap().to_owned();

    // The new person enters the lobby with the access token.
    let mut c = server.client(&access).await?;
    c.join(&lobby(), Mode::Participant, None).await?;

    // The link is single use: nothing more is created with it.
    let again = json!({"token": token, "handle": "にどめ", "avatar": avatar()});
    let reply = server
        .call("POST", "/api/register", None, None, Some(&again))
        .await?;
    assert_eq!(reply.status, 410);
    assert_eq!(reply.json()["code"], "invitation_invalid");
    assert_eq!(reply.json()["field"], "token");
    let listed = server
        .call("GET", "/api/staff/invitations", Some(&staff), None, None)
        .await?;
    assert_eq!(listed.json()[0]["state"], "used");
    let taken = server.guest("にどめ").await;
    assert!(taken.is_ok(), "the refused registration created nothing");

    // Forged tokens get the same clear answer.
    for forged in ["x", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        let reply = server
            .call(
                "GET",
                &format!("/api/invitations/{forged}"),
                None,
                None,
                None,
            )
            .await?;
        assert_eq!(reply.status, 410);
    }
    server.server.shutdown().await
}

#[tokio::test]
async fn expired_and_revoked_invitations_create_nothing() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("しめきり").await?;
    let expiring = invite(&server, &staff, "a@example.org", "participant", json!({})).await?;
    let revoked = invite(&server, &staff, "b@example.org", "participant", json!({})).await?;

    let list = server
        .call("GET", "/api/staff/invitations", Some(&staff), None, None)
        .await?
        .json();
    let revoked_id = list[0]["id"].as_str().unwrap().to_owned();
    let reply = server
        .call(
            "POST",
            &format!("/api/staff/invitations/{revoked_id}/revoke"),
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(reply.status, 204);
    let reply = server
        .call(
            "POST",
            &format!("/api/staff/invitations/{revoked_id}/revoke"),
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(
        reply.status, 410,
        "only a pending invitation can be revoked"
    );

    clock.advance(7 * DAY_MS - 1);
    let preview = server
        .call(
            "GET",
            &format!("/api/invitations/{expiring}"),
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(preview.status, 200, "valid until the last millisecond");
    clock.advance(1);
    for token in [&expiring, &revoked] {
        let preview = server
            .call(
                "GET",
                &format!("/api/invitations/{token}"),
                None,
                None,
                None,
            )
            .await?;
        assert_eq!(preview.status, 410);
        let body = json!({"token": token, "handle": "おそすぎた", "avatar": avatar()});
        let reply = server
            .call("POST", "/api/register", None, None, Some(&body))
            .await?;
        assert_eq!(reply.status, 410, "{}", reply.body);
    }
    let states: Vec<Value> = server
        .call("GET", "/api/staff/invitations", Some(&staff), None, None)
        .await?
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].clone())
        .collect();
    assert_eq!(states, [json!("revoked"), json!("expired")]);
    assert!(
        server.guest("おそすぎた").await.is_ok(),
        "nothing was created"
    );
    server.server.shutdown().await
}

#[tokio::test]
async fn who_may_invite_whom() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("すたっふ").await?;
    let (admin, _) = server.account("かんりしゃ", Role::Admin).await?;
    let (participant, _) = server.guest("いっぱん").await?;
    let ask = |role: &str| json!({"email": "x@example.org", "role": role});
    let reply = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(&participant),
            None,
            Some(&ask("participant")),
        )
        .await?;
    assert_eq!(
        (reply.status, reply.json()["code"].clone()),
        (403, json!("not_allowed"))
    );
    let reply = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(&staff),
            None,
            Some(&ask("staff")),
        )
        .await?;
    assert_eq!(reply.status, 403, "staff invite participants, not staff");
    let reply = server
        .call(
            "POST",
            "/api/staff/invitations",
            None,
            None,
            Some(&ask("participant")),
        )
        .await?;
    assert_eq!(reply.status, 401);
    let reply = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(&admin),
            None,
            Some(&ask("counsellor")),
        )
        .await?;
    assert_eq!(
        (reply.status, reply.json()["field"].clone()),
        (400, json!("profession"))
    );
    invite(
        &server,
        &admin,
        "c@example.org",
        "counsellor",
        json!({"profession": "clinical_psychologist", "supervisor": true}),
    )
    .await?;
    let reply = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(&staff),
            None,
            Some(&json!({"email": "not-an-address", "role": "participant"})),
        )
        .await?;
    assert_eq!(
        (reply.status, reply.json()["field"].clone()),
        (400, json!("email"))
    );
    let reply = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(&staff),
            None,
            Some(&json!({"email": "a@b.org", "role": "participant", "colour": "red"})),
        )
        .await?;
    assert_eq!(
        (reply.status, reply.json()["field"].clone()),
        (400, json!("colour"))
    );
    server.server.shutdown().await
}

#[tokio::test]
async fn password_sign_in_is_throttled_with_growing_delays() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (admin, _) = server.account("おおもと", Role::Admin).await?;
    let token = invite(
        &server,
        &admin,
        "Counsellor@Example.org",
        "counsellor",
        json!({"profession": "social_worker"}),
    )
    .await?;
    let preview = server
        .call(
            "GET",
            &format!("/api/invitations/{token}"),
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(preview.json()["needs_password"], true);
    let weak =
        json!({"token": token, "handle": "そうだんいん", "avatar": avatar(), "password": "short"});
    let reply = server
        .call("POST", "/api/register", None, None, Some(&weak))
        .await?;
    assert_eq!(
        (reply.status, reply.json()["field"].clone()),
        (400, json!("password"))
    );
    let good = json!({"token": token, "handle": "そうだんいん", "avatar": avatar(), "password": "しずかな午後の紅茶を一杯"});
    let reply = server
        .call("POST", "/api/register", None, None, Some(&good))
        .await?;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["me"]["role"], "counsellor");

    let attempt = |secret: &str| json!({"login": "counsellor@example.org", "secret": secret});
    let ok = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&attempt("しずかな午後の紅茶を一杯")),
        )
        .await?;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.cookie("ibasho_refresh").is_some());

    for _ in 0..3 {
        let r = server
            .call(
                "POST",
                "/api/sign-in",
                None,
                None,
                Some(&attempt("wrong password!")),
            )
            .await?;
        assert_eq!(
            (r.status, r.json()["code"].clone()),
            (401, json!("sign_in_failed"))
        );
    }
    // The fourth failure starts the delays: 1 s, then 2 s, then 4 s ...
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&attempt("wrong password!")),
        )
        .await?;
    assert_eq!(r.status, 401);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&attempt("しずかな午後の紅茶を一杯")),
        )
        .await?;
    assert_eq!(r.status, 429, "even the right password waits");
    assert_eq!(r.header("retry-after"), Some("1"));
    clock.advance(1_000);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&attempt("wrong password!")),
        )
        .await?;
    assert_eq!(r.status, 401);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&attempt("しずかな午後の紅茶を一杯")),
        )
        .await?;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("2")));
    clock.advance(2_000);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&attempt("しずかな午後の紅茶を一杯")),
        )
        .await?;
    assert_eq!(
        r.status, 200,
        "the right password after the wait: {}",
        r.body
    );
    // An unknown login fails the same way as a wrong password.
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&json!({"login": "nobody@example.org", "secret": "whatever123"})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (401, json!("sign_in_failed"))
    );
    server.server.shutdown().await
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_ends_the_session() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("まわす").await?;
    let token = invite(&server, &staff, "p@example.org", "participant", json!({})).await?;
    let reply = server
        .call(
            "POST",
            "/api/register",
            None,
            None,
            Some(&json!({"token": token, "handle": "まわるひと", "avatar": avatar()})),
        )
        .await?;
    let first = reply.cookie("ibasho_refresh").expect("refresh cookie");

    let r = server
        .call("POST", "/api/session/refresh", None, Some(&first), None)
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.cookie("ibasho_refresh").expect("rotated cookie");
    assert_ne!(first, second);
    let access = r.json()["token"].as_str().unwrap().to_owned();
    server.client(&access).await?;

    let r = server
        .call("POST", "/api/session/refresh", None, Some(&second), None)
        .await?;
    assert_eq!(r.status, 200);
    let third = r.cookie("ibasho_refresh").unwrap();

    // Someone replays the first token: the whole session ends, the current token too.
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&first), None)
        .await?;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.cookie("ibasho_refresh").as_deref(),
        Some(""),
        "the cookie is cleared"
    );
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&third), None)
        .await?;
    assert_eq!(r.status, 401, "reuse revoked the whole family");

    // Signing out ends a session as well.
    let passphrase = json!({"new": "わたしの秘密の合言葉です"});
    let r = server
        .call(
            "PUT",
            "/api/me/passphrase",
            Some(&access),
            None,
            Some(&passphrase),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&json!({"login": "マワルヒト", "secret": "わたしの秘密の合言葉です"})),
        )
        .await?;
    assert_eq!(
        r.status, 401,
        "handles are matched by key; katakana is not hiragana"
    );
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&json!({"login": "まわるひと", "secret": "わたしの秘密の合言葉です"})),
        )
        .await?;
    assert_eq!(
        r.status, 200,
        "a passphrase signs in on another device: {}",
        r.body
    );
    let device = r.cookie("ibasho_refresh").unwrap();
    let r = server
        .call("POST", "/api/session/sign-out", None, Some(&device), None)
        .await?;
    assert_eq!(r.status, 204);
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&device), None)
        .await?;
    assert_eq!(r.status, 401);
    server.server.shutdown().await
}

#[tokio::test]
async fn suspension_closes_a_live_socket_and_locks_the_account_out() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.account("きびしい", Role::Admin).await?;
    let (staff, _) = server.staff("みはる").await?;
    let token = invite(&server, &staff, "s@example.org", "participant", json!({})).await?;
    let reply = server
        .call(
            "POST",
            "/api/register",
            None,
            None,
            Some(&json!({"token": token, "handle": "とめられる", "avatar": avatar()})),
        )
        .await?;
    let access = reply.json()["token"].as_str().unwrap().to_owned();
    let id = reply.json()["me"]["id"].as_str().unwrap().to_owned();
    let cookie = reply.cookie("ibasho_refresh").unwrap();
    let r = server
        .call(
            "PUT",
            "/api/me/passphrase",
            Some(&access),
            None,
            Some(&json!({"new": "とめられる前の大事な言葉"})),
        )
        .await?;
    assert_eq!(r.status, 204);
    let mut live = server.client(&access).await?;
    live.join(&lobby(), Mode::Participant, None).await?;

    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{id}/suspend"),
            Some(&staff),
            None,
            Some(&json!({"reason": "x"})),
        )
        .await?;
    assert_eq!(r.status, 403, "staff do not suspend; admins do");
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{id}/suspend"),
            Some(&admin),
            None,
            Some(&json!({"reason": ""})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("reason"))
    );
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{id}/suspend"),
            Some(&admin),
            None,
            Some(&json!({"reason": "規約違反の確認中"})),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);

    let closed = live.closed().await?;
    assert_eq!(closed.code, Some(close::UNAUTHORIZED));
    let mut again = TestClient::connect(&server.ws_url(), &access).await?;
    assert_eq!(
        again.closed().await?.code,
        Some(close::UNAUTHORIZED),
        "a suspended account cannot connect"
    );
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&cookie), None)
        .await?;
    assert_eq!(r.status, 401);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&json!({"login": "とめられる", "secret": "とめられる前の大事な言葉"})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (403, json!("suspended"))
    );

    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{id}/reactivate"),
            Some(&admin),
            None,
            Some(&json!({"reason": "確認済み"})),
        )
        .await?;
    assert_eq!(r.status, 204);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&json!({"login": "とめられる", "secret": "とめられる前の大事な言葉"})),
        )
        .await?;
    assert_eq!(r.status, 200);
    let actions: Vec<String> = server
        .server
        .hub
        .store()
        .audit_log(2)
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["reactivate_account", "suspend_account"]);
    server.server.shutdown().await
}

#[tokio::test]
async fn two_step_sign_in_needs_a_fresh_code() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (admin, _) = server.account("にだんかい", Role::Admin).await?;
    let token = invite(&server, &admin, "totp@example.org", "staff", json!({})).await?;
    let r = server.call("POST", "/api/register", None, None, Some(&json!({"token": token, "handle": "かぎ", "avatar": avatar(), "password": "とても長い合言葉です"}))).await?;
    let access = r.json()["token"].as_str().unwrap().to_owned();
    let setup = server
        .call("POST", "/api/me/totp/setup", Some(&access), None, None)
        .await?
        .json();
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert!(
        setup["uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let now_secs = 1_800_000_000u64;
    let code = ibasho_accounts::totp::code_at(&secret, now_secs).unwrap();
    let r = server
        .call(
            "POST",
            "/api/me/totp",
            Some(&access),
            None,
            Some(&json!({"secret": secret, "code": "000000"})),
        )
        .await?;
    assert_eq!(r.status, 400);
    let r = server
        .call(
            "POST",
            "/api/me/totp",
            Some(&access),
            None,
            Some(&json!({"secret": secret, "code": code})),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);

    let login = |totp: Option<&str>| {
        let mut body = json!({"login": "totp@example.org", "secret": "とても長い合言葉です"});
        if let Some(t) = totp {
            body["totp"] = t.into();
        }
        body
    };
    let r = server
        .call("POST", "/api/sign-in", None, None, Some(&login(None)))
        .await?;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (401, json!("totp_required"))
    );
    clock.advance(30_000);
    let code = ibasho_accounts::totp::code_at(&secret, now_secs + 30).unwrap();
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&login(Some(&code))),
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server
        .call(
            "POST",
            "/api/sign-in",
            None,
            None,
            Some(&login(Some(&code))),
        )
        .await?;
    assert_eq!(r.status, 401, "a code works once");
    server.server.shutdown().await
}

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_can_be_repeated_briefly() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    let (staff, _) = server.staff("ゆるす").await?;
    let token = invite(&server, &staff, "g@example.org", "participant", json!({})).await?;
    let r = server
        .call(
            "POST",
            "/api/register",
            None,
            None,
            Some(&json!({"token": token, "handle": "まちがえた", "avatar": avatar()})),
        )
        .await?;
    let first = r.cookie("ibasho_refresh").unwrap();
    // The page reloads while refreshing: the answer with the second cookie never arrives.
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&first), None)
        .await?;
    assert_eq!(r.status, 200);
    clock.advance(5_000);
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&first), None)
        .await?;
    assert_eq!(
        r.status, 200,
        "within the grace period, the lost rotation is repeated: {}",
        r.body
    );
    let third = r.cookie("ibasho_refresh").unwrap();
    // Later, the first token again is a copy: the session ends.
    clock.advance(60_000);
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&first), None)
        .await?;
    assert_eq!(r.status, 401);
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&third), None)
        .await?;
    assert_eq!(r.status, 401, "the whole session ended");
    server.server.shutdown().await
}

#[tokio::test]
async fn failures_from_one_address_are_throttled_across_logins() -> anyhow::Result<()> {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let server = TestServer::start_with_clock(clock.clone()).await?;
    // Someone tries a different login each time, from the same address.
    for i in 0..4 {
        let body = json!({"login": format!("nobody{i}@example.org"), "secret": "whatever-secret"});
        let r = server
            .call("POST", "/api/sign-in", None, None, Some(&body))
            .await?;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    let body = json!({"login": "yet-another@example.org", "secret": "whatever-secret"});
    let r = server
        .call("POST", "/api/sign-in", None, None, Some(&body))
        .await?;
    assert_eq!(r.status, 429, "the address waits, whatever login it tries");
    assert_eq!(r.header("retry-after"), Some("1"));
    clock.advance(1_000);
    let r = server
        .call("POST", "/api/sign-in", None, None, Some(&body))
        .await?;
    assert_eq!(r.status, 401);
    server.server.shutdown().await
}

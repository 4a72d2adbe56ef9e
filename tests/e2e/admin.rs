//! Admins' work on accounts, the audit log, and each person's own data.

use ibasho_e2e::{TestClient, TestServer, lobby};
use ibasho_protocol::{Mode, Role, ServerFrame, close};
use serde_json::{Value, json};

fn avatar() -> Value {
    json!({"shape": "cloud", "color": "sora"})
}

/// Registers a participant through a real invitation; returns (access token, id, cookie).
async fn member(
    server: &TestServer,
    staff: &str,
    handle: &str,
) -> anyhow::Result<(String, String, String)> {
    let r = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(staff),
            None,
            Some(&json!({"email": "m@example.org", "role": "participant"})),
        )
        .await?;
    let link = r.json()["link"].as_str().unwrap_or_default().to_owned();
    let token = link.split("token=").nth(1).unwrap_or_default().to_owned();
    let r = server
        .call(
            "POST",
            "/api/register",
            None,
            None,
            Some(&json!({"token": token, "handle": handle, "avatar": avatar()})),
        )
        .await?;
    anyhow::ensure!(r.status == 201, "register: {}", r.body);
    Ok((
        r.json()["token"].as_str().unwrap().to_owned(),
        r.json()["me"]["id"].as_str().unwrap().to_owned(),
        r.cookie("ibasho_refresh").unwrap(),
    ))
}

#[tokio::test]
async fn admins_search_accounts_and_read_the_audit_log() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.account("まとめやく", Role::Admin).await?;
    let (staff, _) = server.staff("100%スタッフ").await?;
    member(&server, &staff, "さがされる").await?;
    let r = server
        .call(
            "GET",
            "/api/admin/accounts?q=%E3%81%95%E3%81%8C",
            Some(&admin),
            None,
            None,
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let handles: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["handle"].clone())
        .collect();
    assert_eq!(handles, [json!("さがされる")]);
    // "%" matches itself, not everything; a quote is just a character.
    let r = server
        .call(
            "GET",
            "/api/admin/accounts?q=100%25",
            Some(&admin),
            None,
            None,
        )
        .await?;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    let r = server
        .call(
            "GET",
            "/api/admin/accounts?q=%27%20OR%201%3D1%20--",
            Some(&admin),
            None,
            None,
        )
        .await?;
    assert_eq!(r.json().as_array().map(Vec::len), Some(0));
    let r = server
        .call("GET", "/api/admin/accounts", Some(&staff), None, None)
        .await?;
    assert_eq!(r.status, 403);

    let r = server
        .call("GET", "/api/admin/audit?limit=10", Some(&admin), None, None)
        .await?;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["action"], "create_invitation");
    let r = server
        .call("GET", "/api/admin/audit", Some(&staff), None, None)
        .await?;
    assert_eq!(r.status, 403, "only admins read the audit log");
    server.server.shutdown().await
}

#[tokio::test]
async fn a_role_change_reconnects_the_person_with_the_new_role() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.account("やくわり", Role::Admin).await?;
    let (staff, _) = server.staff("しょうかい").await?;
    let (access, id, cookie) = member(&server, &staff, "あたらしいすたっふ").await?;
    let mut live = server.client(&access).await?;
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{id}/role"),
            Some(&admin),
            None,
            Some(&json!({"role": "staff", "reason": "hired"})),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(live.closed().await?.code, Some(close::UNAUTHORIZED));
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&cookie), None)
        .await?;
    assert_eq!(r.json()["me"]["role"], "staff");
    let fresh = r.json()["token"].as_str().unwrap().to_owned();
    let mut c = server.client(&fresh).await?;
    let ok = c
        .ok(json!({"type": "create_room", "name": "新しい部屋"}))
        .await?;
    assert!(matches!(ok, ServerFrame::Ack { room: Some(_), .. }));
    server.server.shutdown().await
}

#[tokio::test]
async fn reissued_access_gives_the_same_account_back_and_ends_old_sessions() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.account("たすけ", Role::Admin).await?;
    let (staff, _) = server.staff("うけつけ2").await?;
    let (_access, id, old_cookie) = member(&server, &staff, "なくした").await?;
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{id}/reinvite"),
            Some(&admin),
            None,
            Some(&json!({"reason": "lost phone"})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("email")),
        "participants have no e-mail on file"
    );
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{id}/reinvite"),
            Some(&admin),
            None,
            Some(&json!({"reason": "lost phone", "email": "new@example.org"})),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["invitation"]["reset_account"], id.as_str());
    let token = r.json()["link"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let preview = server
        .call(
            "GET",
            &format!("/api/invitations/{token}"),
            None,
            None,
            None,
        )
        .await?;
    assert_eq!(preview.json()["reset"], true);
    let r = server
        .call(
            "POST",
            "/api/register",
            None,
            None,
            Some(&json!({"token": token, "handle": "べつじん", "avatar": avatar()})),
        )
        .await?;
    assert_eq!(r.status, 400, "a reset link does not make a new account");
    let r = server
        .call(
            "POST",
            "/api/register",
            None,
            None,
            Some(&json!({"token": token})),
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["me"]["id"], id.as_str());
    assert_eq!(r.json()["me"]["handle"], "なくした");
    let r = server
        .call(
            "POST",
            "/api/session/refresh",
            None,
            Some(&old_cookie),
            None,
        )
        .await?;
    assert_eq!(r.status, 401, "the lost device is signed out");
    server.server.shutdown().await
}

#[tokio::test]
async fn deleted_accounts_leave_their_words_as_from_a_deleted_member() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, admin_id) = server.account("けすひと", Role::Admin).await?;
    let (staff, _) = server.staff("みまもる").await?;
    let (access, id, _) = member(&server, &staff, "さようなら").await?;
    let mut c = server.client(&access).await?;
    c.join(&lobby(), Mode::Participant, None).await?;
    c.post(&lobby(), "またね").await?;
    let r = server
        .call(
            "DELETE",
            &format!("/api/admin/accounts/{admin_id}"),
            Some(&admin),
            None,
            Some(&json!({"reason": "x"})),
        )
        .await?;
    assert_eq!(r.status, 403, "not one's own account from here");
    let r = server
        .call(
            "DELETE",
            &format!("/api/admin/accounts/{id}"),
            Some(&admin),
            None,
            Some(&json!({"reason": "asked by phone"})),
        )
        .await?;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(c.closed().await?.code, Some(close::UNAUTHORIZED));
    let mut other = server.guest_client("のこるひと").await?;
    let ServerFrame::Joined { messages, .. } = other.join(&lobby(), Mode::ViewOnly, None).await?
    else {
        panic!()
    };
    assert_eq!(messages[0].body, "またね");
    assert_eq!(messages[0].author.handle, "", "shown as a deleted member");
    assert!(
        server.guest("さようなら").await.is_ok(),
        "the handle is free again"
    );
    let mut again = TestClient::connect(&server.ws_url(), &access).await?;
    assert_eq!(again.closed().await?.code, Some(close::UNAUTHORIZED));
    server.server.shutdown().await
}

#[tokio::test]
async fn people_download_their_data_and_delete_their_own_account() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (staff, _) = server.staff("てつづき").await?;
    let (access, id, cookie) = member(&server, &staff, "じぶんで").await?;
    let mut c = server.client(&access).await?;
    c.join(&lobby(), Mode::Participant, None).await?;
    c.post(&lobby(), "わたしの言葉").await?;
    let r = server
        .call("GET", "/api/me/export", Some(&access), None, None)
        .await?;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-disposition")
            .unwrap_or_default()
            .contains("attachment")
    );
    let data = r.json();
    assert_eq!(data["account"]["id"], id.as_str());
    assert_eq!(data["account"]["handle"], "じぶんで");
    assert_eq!(data["messages"][0]["body"], "わたしの言葉");
    assert_eq!(data["sessions"].as_array().map(Vec::len), Some(1));

    let r = server
        .call(
            "DELETE",
            "/api/me",
            Some(&access),
            None,
            Some(&json!({"confirm": "ちがう"})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("confirm"))
    );
    let r = server
        .call(
            "DELETE",
            "/api/me",
            Some(&access),
            None,
            Some(&json!({"confirm": "じぶんで"})),
        )
        .await?;
    assert_eq!(r.status, 204);
    assert_eq!(c.closed().await?.code, Some(close::UNAUTHORIZED));
    let r = server
        .call("POST", "/api/session/refresh", None, Some(&cookie), None)
        .await?;
    assert_eq!(r.status, 401);
    server.server.shutdown().await
}

#[tokio::test]
async fn the_public_config_and_profile_changes() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let r = server.call("GET", "/api/config", None, None, None).await?;
    assert_eq!(r.status, 200);
    let config = r.json();
    assert_eq!(config["crisis_contacts"][0]["phone"], "0120-279-338");
    assert_eq!(config["limits"]["handle_max_chars"], 24);
    assert_eq!(config["mail"], false);
    assert!(
        config["opening_hours"]["ja"]
            .as_str()
            .unwrap()
            .contains("水曜日")
    );

    let (staff, _) = server.staff("なまえ").await?;
    let (access, _, _) = member(&server, &staff, "まえのなまえ").await?;
    let r = server
        .call(
            "PUT",
            "/api/me/profile",
            Some(&access),
            None,
            Some(&json!({"handle": "なまえ"})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (409, json!("handle")),
        "taken"
    );
    let r = server
        .call(
            "PUT",
            "/api/me/profile",
            Some(&access),
            None,
            Some(&json!({"handle": "a\u{200b}b"})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("invalid_handle"))
    );
    let change =
        json!({"handle": "あたらしいなまえ", "avatar": {"shape": "leaf", "color": "wakaba"}});
    let r = server
        .call("PUT", "/api/me/profile", Some(&access), None, Some(&change))
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["handle"], "あたらしいなまえ");
    assert_eq!(r.json()["avatar"]["shape"], "leaf");
    let c = server.client(&access).await?;
    let ServerFrame::Welcome { me, .. } = c.welcome.clone().unwrap() else {
        unreachable!()
    };
    assert_eq!(me.handle, "あたらしいなまえ");
    assert!(
        server.guest("まえのなまえ").await.is_ok(),
        "the old handle is free"
    );
    server.server.shutdown().await
}

#[tokio::test]
async fn suspension_and_role_changes_bind_existing_tokens_at_once() -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let (admin, _) = server.account("うえ", Role::Admin).await?;
    let (other_admin, other_id) = server.account("もとかんり", Role::Admin).await?;
    let r = server
        .call("GET", "/api/admin/audit", Some(&other_admin), None, None)
        .await?;
    assert_eq!(r.status, 200);
    let body = json!({"role": "participant", "reason": "left the team"});
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{other_id}/role"),
            Some(&admin),
            None,
            Some(&body),
        )
        .await?;
    assert_eq!(r.status, 204);
    let r = server
        .call("GET", "/api/admin/audit", Some(&other_admin), None, None)
        .await?;
    assert_eq!(
        r.status, 403,
        "the old token no longer carries admin powers"
    );
    let r = server
        .call(
            "POST",
            &format!("/api/admin/accounts/{other_id}/suspend"),
            Some(&admin),
            None,
            Some(&json!({"reason": "x"})),
        )
        .await?;
    assert_eq!(r.status, 204);
    let r = server
        .call("GET", "/api/me", Some(&other_admin), None, None)
        .await?;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (403, json!("suspended"))
    );
    let r = server
        .call("GET", "/api/me", Some(&admin), None, None)
        .await?;
    assert_eq!(r.json()["has_secret"], false);
    assert_eq!(r.json()["totp"], false);
    server.server.shutdown().await
}

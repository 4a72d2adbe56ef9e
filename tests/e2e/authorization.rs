//! Walks every cell of docs/authorization.md against the running server: for each action and
//! each role, a real request that needs exactly that permission, allowed or refused as the
//! table says.

use ibasho_accounts::authz::{Action, ROLES, allowed};
use ibasho_e2e::{TestServer, lobby};
use ibasho_protocol::{ErrorCode, Mode, Role, ServerFrame};
use serde_json::json;

/// Whether the request for `action`, made as someone with `role`, went through.
async fn attempt(
    server: &TestServer,
    role: Role,
    n: usize,
    action: Action,
) -> anyhow::Result<bool> {
    let (token, _) = server
        .account(&format!("{}{n}", role.as_str()), role)
        .await?;
    let http_ok = |status: u16| match status {
        200..=299 => Ok(true),
        403 => Ok(false),
        other => Err(anyhow::anyhow!(
            "{} as {}: unexpected status {other}",
            action.as_str(),
            role.as_str()
        )),
    };
    let ws_ok = |f: ServerFrame| match f {
        ServerFrame::Error {
            code: ErrorCode::NotAllowed,
            ..
        } => Ok(false),
        ServerFrame::Error { code, message, .. } => {
            Err(anyhow::anyhow!("{}: {code} {message}", action.as_str()))
        }
        _ => Ok(true),
    };
    match action {
        Action::TakePart => {
            let mut c = server.client(&token).await?;
            c.join(&lobby(), Mode::Participant, None).await?;
            ws_ok(
                c.request(json!({"type": "post", "room": "lobby", "body": "こんにちは"}))
                    .await?,
            )
        }
        Action::SeeWatchers => {
            let (w, w_id) = server.guest(&format!("watcher{n}")).await?;
            let mut watcher = server.client(&w).await?;
            watcher.join(&lobby(), Mode::ViewOnly, None).await?;
            let mut c = server.client(&token).await?;
            let ServerFrame::Joined { presence, .. } =
                c.join(&lobby(), Mode::Participant, None).await?
            else {
                anyhow::bail!("no joined")
            };
            let seen = presence.members.iter().any(|m| m.person.id == w_id);
            watcher.close().await;
            Ok(seen)
        }
        Action::ManageRooms => {
            let mut c = server.client(&token).await?;
            ws_ok(
                c.request(json!({"type": "create_room", "name": format!("部屋{n}")}))
                    .await?,
            )
        }
        Action::ManageProgrammes => http_ok(
            server
                .call(
                    "POST",
                    "/api/programmes",
                    Some(&token),
                    None,
                    Some(
                        &json!({"title": format!("ランチ{n}"), "category": "meal", "capacity": 8}),
                    ),
                )
                .await?
                .status,
        ),
        Action::ReadStatistics => http_ok(
            server
                .call(
                    "GET",
                    "/api/staff/statistics?month=2026-11",
                    Some(&token),
                    None,
                    None,
                )
                .await?
                .status,
        ),
        Action::Moderate => {
            let (_, target) = server.guest(&format!("target{n}")).await?;
            let mut c = server.client(&token).await?;
            ws_ok(c.request(json!({"type": "mute", "room": "lobby", "account": target, "minutes": 1, "reason": "walk"})).await?)
        }
        Action::RequestConsult => {
            let mut c = server.client(&token).await?;
            ws_ok(
                c.request(json!({"type": "consult_request", "topic": "other", "for_whom": "self"}))
                    .await?,
            )
        }
        Action::TakeConsults => {
            let mut c = server.client(&token).await?;
            ws_ok(
                c.request(json!({"type": "counsellor_status", "availability": "away"}))
                    .await?,
            )
        }
        Action::SeeConsultQueue => {
            let mut c = server.client(&token).await?;
            let ws = ws_ok(c.request(json!({"type": "consult_queue"})).await?)?;
            let http = http_ok(
                server
                    .call("GET", "/api/consults/messages", Some(&token), None, None)
                    .await?
                    .status,
            )?;
            anyhow::ensure!(ws == http, "the queue and the left messages disagree");
            Ok(ws)
        }
        Action::ManageCounsellors => http_ok(
            server
                .call("GET", "/api/counsellors", Some(&token), None, None)
                .await?
                .status,
        ),
        Action::ReviewApplications => http_ok(
            server
                .call("GET", "/api/staff/applications", Some(&token), None, None)
                .await?
                .status,
        ),
        Action::InviteParticipants => {
            let body = json!({"email": "p@example.org", "role": "participant"});
            http_ok(
                server
                    .call(
                        "POST",
                        "/api/staff/invitations",
                        Some(&token),
                        None,
                        Some(&body),
                    )
                    .await?
                    .status,
            )
        }
        Action::InviteStaff => {
            let body = json!({"email": "s@example.org", "role": "staff"});
            http_ok(
                server
                    .call(
                        "POST",
                        "/api/staff/invitations",
                        Some(&token),
                        None,
                        Some(&body),
                    )
                    .await?
                    .status,
            )
        }
        Action::ManageInvitations => http_ok(
            server
                .call("GET", "/api/staff/invitations", Some(&token), None, None)
                .await?
                .status,
        ),
        Action::ListAccounts => http_ok(
            server
                .call("GET", "/api/admin/accounts", Some(&token), None, None)
                .await?
                .status,
        ),
        Action::AdministerAccounts => {
            let (_, target) = server.guest(&format!("suspendee{n}")).await?;
            let body = json!({"reason": "walk"});
            http_ok(
                server
                    .call(
                        "POST",
                        &format!("/api/admin/accounts/{target}/suspend"),
                        Some(&token),
                        None,
                        Some(&body),
                    )
                    .await?
                    .status,
            )
        }
        Action::ReadAuditLog => http_ok(
            server
                .call("GET", "/api/admin/audit", Some(&token), None, None)
                .await?
                .status,
        ),
        Action::OwnData => http_ok(
            server
                .call("GET", "/api/me/export", Some(&token), None, None)
                .await?
                .status,
        ),
        Action::SetPassphrase => {
            let body = json!({"new": "ながいながい合言葉です"});
            http_ok(
                server
                    .call("PUT", "/api/me/passphrase", Some(&token), None, Some(&body))
                    .await?
                    .status,
            )
        }
        Action::ChangePassword => {
            let body = json!({"new": "ながいながいパスワード"});
            http_ok(
                server
                    .call("PUT", "/api/me/password", Some(&token), None, Some(&body))
                    .await?
                    .status,
            )
        }
        Action::UseTotp => http_ok(
            server
                .call("POST", "/api/me/totp/setup", Some(&token), None, None)
                .await?
                .status,
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cell_of_the_authorization_table_holds() -> anyhow::Result<()> {
    let server = TestServer::start_with(|c| c.limits.max_connections_per_account = 100).await?;
    let mut n = 0;
    let mut wrong = Vec::new();
    for action in Action::ALL {
        for role in ROLES {
            n += 1;
            let did = attempt(&server, *role, n, *action).await?;
            if did != allowed(*role, *action) {
                wrong.push(format!(
                    "{} as {}: {}",
                    action.as_str(),
                    role.as_str(),
                    if did { "allowed" } else { "refused" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "cells that do not hold:\n{}",
        wrong.join("\n")
    );
    assert_eq!(n, Action::ALL.len() * ROLES.len());
    server.server.shutdown().await
}

//! The `ibasho` binary itself: `admin create` prints a working sign-in token, `serve` opens
//! the space, and SIGTERM closes every WebSocket with 1001 before the process exits cleanly.

use futures_util::{SinkExt, StreamExt};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn ibasho() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ibasho"));
    // Run from the repository root, as the README does, so config/default.toml applies.
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    cmd.env_remove("IBASHO_LISTEN")
        .env_remove("IBASHO_DATA_DIR");
    cmd
}

#[tokio::test]
async fn admin_create_then_serve_then_sigterm_closes_sockets_with_1001() -> anyhow::Result<()> {
    let data = std::env::temp_dir().join(format!("ibasho-bin-{}", uuid::Uuid::new_v4()));
    let data_arg = data.to_str().unwrap().to_owned();

    let out = ibasho()
        .args([
            "--data-dir",
            &data_arg,
            "admin",
            "create",
            "--role",
            "staff",
            "--handle",
            "はじめのスタッフ",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout)?;
    assert!(stdout.contains("/#token="), "{stdout}");
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .expect("token line")
        .to_owned();

    // The same handle again is refused, with the reason.
    let again = ibasho()
        .args([
            "--data-dir",
            &data_arg,
            "admin",
            "create",
            "--role",
            "staff",
            "--handle",
            "はじめのスタッフ",
        ])
        .output()?;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("handle_taken"));

    let mut child = ibasho()
        .args(["--data-dir", &data_arg, "serve", "--listen", "127.0.0.1:0"])
        .env("IBASHO_STORAGE__SQLITE_SYNCHRONOUS", "normal")
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("ibasho is open at http://").nth(1) {
                let _ = tx.send(rest.trim_end_matches('/').to_owned());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(30))?;

    let mut request = format!("ws://{addr}/ws").into_client_request()?;
    request
        .headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    ws.send(Message::Text(
        r#"{"type":"hello","id":1,"protocol":1}"#.into(),
    ))
    .await?;
    let welcome = ws.next().await.expect("a frame")?;
    assert!(
        welcome.to_text()?.contains("\"role\":\"staff\""),
        "{welcome}"
    );

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()?
            .success()
    );
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(msg) = ws.next().await {
            if let Ok(Message::Close(frame)) = msg {
                return frame;
            }
        }
        None
    })
    .await?
    .expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    assert!(!close.reason.is_empty());

    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    assert!(status.success(), "{status}");
    std::fs::remove_dir_all(&data)?;
    Ok(())
}

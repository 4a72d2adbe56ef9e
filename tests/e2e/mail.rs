//! The whole entry path through a real SMTP server (Python's aiosmtpd, started here on
//! loopback): apply → staff invite → the mail arrives → register from its link → enter the
//! lobby. Also declines, and retries when the mail server is down.

use ibasho_e2e::{TempDir, TestServer, lobby};
use ibasho_protocol::Mode;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A real SMTP server that stores what it receives in a maildir.
struct SmtpSink {
    child: Child,
    maildir: PathBuf,
    _dir: TempDir,
}

impl SmtpSink {
    async fn start(port: u16) -> anyhow::Result<Self> {
        let dir = TempDir::new();
        let maildir = dir.path().join("maildir");
        let python = std::env::var("IBASHO_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let child = Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let sink = Self {
            child,
            maildir,
            _dir: dir,
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(sink);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("aiosmtpd did not start (pip install aiosmtpd)")
    }

    /// Waits for the `n`th mail and returns its decoded text (headers and body).
    async fn mail(&self, n: usize) -> anyhow::Result<String> {
        for _ in 0..300 {
            let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            files.sort();
            if files.len() >= n {
                return Ok(decode(&std::fs::read_to_string(&files[n - 1])?));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("mail {n} did not arrive")
    }

    /// Waits for a mail whose decoded text contains `needle` (maildir names do not keep the
    /// order of mails that arrive within a second).
    async fn mail_with(&self, needle: &str) -> anyhow::Result<String> {
        for _ in 0..300 {
            let files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            for f in files {
                let text = decode(&std::fs::read_to_string(&f)?);
                if text.contains(needle) {
                    return Ok(text);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("no mail with {needle:?} arrived")
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headers as they are, and the body decoded from base64 or quoted-printable.
fn decode(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let lower = head.to_ascii_lowercase();
    let body = if lower.contains("content-transfer-encoding: base64") {
        let compact: String = body.split_whitespace().collect();
        String::from_utf8(
            data_encoding::BASE64
                .decode(compact.as_bytes())
                .unwrap_or_default(),
        )
        .unwrap_or_default()
    } else if lower.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) if bytes[i] == b'=' => {
                    out.push(b);
                    i += 3;
                }
                _ => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    } else {
        body.to_owned()
    };
    format!("{head}\n\n{body}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(2525)
}

fn token_in(mail: &str) -> Option<String> {
    let start = mail.find("#/register?token=")? + "#/register?token=".len();
    Some(
        mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}

async fn mail_server(port: u16) -> anyhow::Result<TestServer> {
    TestServer::start_with(|c| {
        c.mail.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.mail.from = "ibasho <staff@ibasho.example>".into();
        c.mail.poll_secs = 1;
        c.mail.retry_base_secs = 1;
        c.public_url = "https://ibasho.example".into();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_invite_mail_register_enter() -> anyhow::Result<()> {
    let port = free_port();
    let smtp = SmtpSink::start(port).await?;
    let server = mail_server(port).await?;
    let (staff, _) = server.staff("まどぐち").await?;

    let no_consent = json!({"email": "kazoku@example.org", "relation": "family", "consent": false});
    let r = server
        .call("POST", "/api/applications", None, None, Some(&no_consent))
        .await?;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("consent"))
    );
    let apply = json!({"email": "Kazoku@Example.org", "relation": "family", "message": "息子のことで相談したいです", "consent": true, "lang": "ja"});
    let r = server
        .call("POST", "/api/applications", None, None, Some(&apply))
        .await?;
    assert_eq!(r.status, 201, "{}", r.body);

    let r = server
        .call(
            "GET",
            "/api/staff/applications?status=pending",
            Some(&staff),
            None,
            None,
        )
        .await?;
    let list = r.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["email"], "kazoku@example.org");
    assert_eq!(list[0]["message"], "息子のことで相談したいです");
    assert!(list[0]["purge_at"].as_i64() > list[0]["created_at"].as_i64());
    let id = list[0]["id"].as_str().unwrap().to_owned();

    let r = server
        .call(
            "POST",
            &format!("/api/staff/applications/{id}/invite"),
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["mailed"], true);
    assert!(
        r.json().get("link").is_none(),
        "with a mail server the link goes only by mail"
    );
    assert_eq!(r.json()["invitation"]["role"], "family");
    let r = server
        .call(
            "POST",
            &format!("/api/staff/applications/{id}/invite"),
            Some(&staff),
            None,
            None,
        )
        .await?;
    assert_eq!(r.status, 400, "an application is decided once");

    let mail = smtp.mail(1).await?;
    assert!(mail.contains("To: kazoku@example.org"), "{mail}");
    assert!(
        mail.contains("ご招待") || mail.contains("=?utf-8?"),
        "{mail}"
    );
    assert!(
        mail.contains("https://ibasho.example/#/register?token="),
        "{mail}"
    );
    let token = token_in(&mail).expect("a link with a token");
    assert_eq!(token.len(), 43);

    let r = server.call("POST", "/api/register", None, None, Some(&json!({"token": token, "handle": "ははおや", "avatar": {"shape": "heart", "color": "mikan"}}))).await?;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["me"]["role"], "family");
    let access = r.json()["token"].as_str().unwrap().to_owned();
    let mut c = server.client(&access).await?;
    c.join(&lobby(), Mode::ViewOnly, None).await?;
    server.server.shutdown().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decline_is_mailed_and_mail_is_retried_until_the_server_answers() -> anyhow::Result<()> {
    let port = free_port();
    // No mail server yet: the first attempts fail and are retried with backoff.
    let server = mail_server(port).await?;
    let (staff, _) = server.staff("ことわり").await?;
    let apply =
        json!({"email": "someone@example.org", "relation": "self", "consent": true, "lang": "en"});
    server
        .call("POST", "/api/applications", None, None, Some(&apply))
        .await?;
    let list = server
        .call("GET", "/api/staff/applications", Some(&staff), None, None)
        .await?
        .json();
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let r = server
        .call(
            "POST",
            &format!("/api/staff/applications/{id}/decline"),
            Some(&staff),
            None,
            Some(&json!({"message": ""})),
        )
        .await?;
    assert_eq!(
        (r.status, r.json()["field"].clone()),
        (400, json!("message"))
    );
    let r = server
        .call("POST", &format!("/api/staff/applications/{id}/decline"), Some(&staff), None, Some(&json!({"message": "This space is for residents of the city; please see the list of other services."})))
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let smtp = SmtpSink::start(port).await?;
    let mail = smtp.mail(1).await?;
    assert!(mail.contains("About your application"), "{mail}");
    assert!(mail.contains("residents of the city"), "{mail}");
    let list = server
        .call(
            "GET",
            "/api/staff/applications?status=declined",
            Some(&staff),
            None,
            None,
        )
        .await?
        .json();
    assert_eq!(list[0]["status"], "declined");
    server.server.shutdown().await
}

/// A family member gives an e-mail address for a booking's reminders: the booking, the day
/// before, and the counsellor's cancellation with their message arrive, the time written out
/// in Japanese in the space's zone. Without an address (accounts of participants and families
/// keep none) they cannot ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booking_reminders_and_a_cancellation_are_mailed_to_those_who_asked() -> anyhow::Result<()>
{
    const START: i64 = 1_795_322_900_000; // 2026-11-22 13:48 in Tokyo
    const TUE_14: i64 = 1_795_496_400_000; // 2026-11-24 14:00 in Tokyo
    let port = free_port();
    let smtp = SmtpSink::start(port).await?;
    let clock = std::sync::Arc::new(ibasho_hub::ManualClock::new(START));
    let server = TestServer::start_with_clock_and(clock.clone(), |c| {
        c.mail.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.mail.from = "ibasho <staff@ibasho.example>".into();
        c.mail.poll_secs = 1;
        c.public_url = "https://ibasho.example".into();
    })
    .await?;
    let (staff, _) = server.staff("まどぐち").await?;
    let r = server
        .call(
            "POST",
            "/api/staff/invitations",
            Some(&staff),
            None,
            Some(&json!({"email": "kazoku@example.org", "role": "family"})),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.body);
    let token = token_in(&smtp.mail(1).await?).expect("a link with a token");
    let r = server.call("POST", "/api/register", None, None, Some(&json!({"token": token, "handle": "ははおや", "avatar": {"shape": "heart", "color": "mikan"}}))).await?;
    assert_eq!(r.status, 201, "{}", r.body);
    let family = r.json()["token"].as_str().unwrap_or_default().to_owned();

    let (c_token, c_id) = server
        .account("さとう", ibasho_protocol::Role::Counsellor)
        .await?;
    let r = server
        .call(
            "PUT",
            &format!("/api/counsellors/{c_id}"),
            Some(&staff),
            None,
            Some(&json!({"professions": ["social_worker"]})),
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = server
        .call(
            "POST",
            "/api/appointment-rules",
            Some(&c_token),
            None,
            Some(&json!({"first_date": "2026-11-24", "start": "14:00", "end": "15:00"})),
        )
        .await?;
    assert_eq!(r.status, 201, "{}", r.body);
    let booking = json!({"counsellor": c_id, "starts_at": TUE_14, "for_whom": "family_member", "topic": "family", "email_reminders": true});
    // Participants' and families' accounts keep no address: they give one for the reminders.
    let post = |body: serde_json::Value| {
        let (server, family) = (&server, family.clone());
        async move {
            server
                .call(
                    "POST",
                    "/api/appointments",
                    Some(&family),
                    None,
                    Some(&body),
                )
                .await
        }
    };
    let r = post(booking.clone()).await?;
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("email")));
    let mut booking = booking;
    booking["email"] = json!("not an address");
    assert_eq!(post(booking.clone()).await?.status, 400);
    booking["email"] = json!("Kazoku@Example.org");
    let r = post(booking).await?;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_u64().unwrap_or(0);

    let booked = smtp.mail_with("ご予約を承りました").await?;
    assert!(booked.contains("To: kazoku@example.org"), "{booked}");
    assert!(
        booked.contains("2026年11月24日（火）14:00〜14:50"),
        "{booked}"
    );
    assert!(
        booked.contains("Tuesday 24 November 2026, 14:00–14:50"),
        "{booked}"
    );
    assert!(
        booked.contains("https://ibasho.example/#/consult"),
        "{booked}"
    );

    clock.set(TUE_14 - 24 * 3_600_000);
    let day_before = smtp.mail_with("明日 2026年11月24日（火）14:00").await?;
    assert!(
        day_before.contains("To: kazoku@example.org"),
        "{day_before}"
    );

    let r = server
        .call(
            "POST",
            &format!("/api/appointments/{id}/cancel"),
            Some(&c_token),
            None,
            Some(&json!({"message": "体調を崩してしまいました。ごめんなさい。"})),
        )
        .await?;
    assert_eq!(r.status, 200, "{}", r.body);
    let cancelled = smtp.mail_with("取り消されました").await?;
    assert!(
        cancelled.contains("体調を崩してしまいました"),
        "{cancelled}"
    );
    server.server.shutdown().await
}

//! E-mail: templates in Japanese and English, an outbox in the database, and a worker that
//! hands mail to an SMTP server with retries and backoff. Without `mail.smtp_url` (the
//! embedded default) nothing is queued: staff are shown the links to pass on themselves.

use crate::config::MailConfig;
use ibasho_accounts::store::{ApplicationStore, OutgoingMail};
use ibasho_hub::Clock;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Queues mail and sends it in the background.
#[derive(Clone)]
pub struct Mailer {
    store: Arc<dyn ApplicationStore>,
    clock: Arc<dyn Clock>,
    /// `None` when no SMTP server is configured.
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    config: MailConfig,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("configured", &self.transport.is_some())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer from the `[mail]` configuration.
    pub fn new(
        config: &MailConfig,
        store: Arc<dyn ApplicationStore>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let transport = if config.smtp_url.is_empty() {
            None
        } else {
            Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
                    .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?
                    .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))))
                    .build(),
            )
        };
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from: {e}"))?;
        Ok(Self {
            store,
            clock,
            transport,
            from,
            config: config.clone(),
            wake: Arc::new(Notify::new()),
        })
    }

    /// Whether mail can be sent at all.
    pub fn configured(&self) -> bool {
        self.transport.is_some()
    }

    /// Puts a mail in the outbox and wakes the worker. Durable when this returns.
    pub async fn queue(&self, to: &str, template: Template<'_>) -> anyhow::Result<()> {
        let (subject, body) = template.render();
        let mail = OutgoingMail {
            id: uuid::Uuid::now_v7(),
            to: to.to_owned(),
            subject,
            body,
            attempts: 0,
        };
        self.store.create_mail(&mail, self.clock.now()).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Runs the worker until the process ends: sends due mail, retries failures with
    /// exponential backoff (`retry_base_secs` × 2^attempts), gives up after `max_attempts`.
    pub fn spawn_worker(&self) {
        let Some(transport) = self.transport.clone() else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let now = this.clock.now();
                match this.store.due_mail(now, this.config.max_attempts, 20).await {
                    Ok(batch) => {
                        for mail in batch {
                            this.send_one(&transport, mail).await;
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "reading the outbox failed"),
                }
                let poll = Duration::from_secs(this.config.poll_secs.max(1));
                let _ = tokio::time::timeout(poll, this.wake.notified()).await;
            }
        });
    }

    async fn send_one(&self, transport: &AsyncSmtpTransport<Tokio1Executor>, mail: OutgoingMail) {
        let result = async {
            let to: Mailbox = mail.to.parse()?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(mail.subject.clone())
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(mail.body.clone())?;
            transport.send(message).await?;
            anyhow::Ok(())
        }
        .await;
        let now = self.clock.now();
        match result {
            Ok(()) => {
                tracing::info!(mail = %mail.id, "mail sent");
                if let Err(e) = self.store.update_mail_sent(mail.id, now).await {
                    tracing::error!(error = %e, "could not mark mail sent");
                }
            }
            Err(e) => {
                let backoff = self
                    .config
                    .retry_base_secs
                    .saturating_mul(1 << mail.attempts.min(16))
                    * 1000;
                let retry_at = now.saturating_add(i64::try_from(backoff).unwrap_or(i64::MAX));
                tracing::warn!(mail = %mail.id, attempt = mail.attempts + 1, error = %e, "mail not sent; will retry");
                if let Err(e) = self
                    .store
                    .update_mail_failed(mail.id, &e.to_string(), retry_at)
                    .await
                {
                    tracing::error!(error = %e, "could not record the mail failure");
                }
            }
        }
    }
}

/// The mails ibasho sends.
#[derive(Debug, Clone, Copy)]
pub enum Template<'a> {
    /// An invitation with its link.
    Invitation {
        /// `ja` or `en`.
        lang: &'a str,
        /// The registration link.
        link: &'a str,
        /// Days it stays valid.
        days: u64,
    },
    /// News of a booked consult: booked, a reminder, or cancelled by the counsellor or
    /// staff (with their message). Both languages in one mail: the booking does not record
    /// one.
    Appointment {
        /// What about.
        kind: crate::appointments::MailKind,
        /// The time, written out in Japanese.
        when_ja: &'a str,
        /// The time, written out in English.
        when_en: &'a str,
        /// The counsellor's handle.
        counsellor: &'a str,
        /// The message given with a cancellation.
        message: Option<&'a str>,
        /// Where to go.
        link: &'a str,
    },
    /// An answer to an application that staff declined, with their message.
    Declined {
        /// `ja` or `en`.
        lang: &'a str,
        /// What staff wrote.
        message: &'a str,
    },
}

impl Template<'_> {
    /// Subject and plain-text body.
    pub fn render(&self) -> (String, String) {
        match *self {
            Template::Invitation {
                lang: "en",
                link,
                days,
            } => (
                "Your invitation to ibasho".to_owned(),
                format!(
                    "Hello,\n\nthank you for applying. You are welcome at ibasho, our online drop-in space.\n\n\
                     Open this link to choose a name and an avatar and come in:\n\n{link}\n\n\
                     The link works once and for {days} days. Nobody needs your real name; you may \
                     just watch, and you may leave whenever you like.\n\n\
                     If you did not apply, you can ignore this mail.\n\n— the ibasho staff\n"
                ),
            ),
            Template::Invitation { link, days, .. } => (
                "ibasho（居場所）へのご招待".to_owned(),
                format!(
                    "こんにちは。\n\nお申し込みありがとうございます。オンラインの居場所「ibasho」にご招待します。\n\n\
                     次のリンクから、呼び名とアバターを選んでお入りください。\n\n{link}\n\n\
                     このリンクは1回だけ、{days}日間使えます。本名は要りません。見ているだけでも、\
                     いつ退出しても大丈夫です。\n\nお心当たりのない場合は、このメールは破棄してください。\n\n— ibasho スタッフ\n"
                ),
            ),
            Template::Appointment {
                kind,
                when_ja,
                when_en,
                counsellor,
                message,
                link,
            } => {
                use crate::appointments::MailKind;
                let (subject, ja, en) = match kind {
                    MailKind::Booked => (
                        "ご予約を承りました / Your consult is booked",
                        format!("{when_ja}、{counsellor} さんとの相談のご予約を承りました。"),
                        format!("Your consult with {counsellor} is booked for {when_en}."),
                    ),
                    MailKind::DayBefore => (
                        "明日のご予約 / Your consult tomorrow",
                        format!("明日 {when_ja} に、{counsellor} さんとの相談のご予約があります。"),
                        format!("Tomorrow, {when_en}, you have a consult with {counsellor}."),
                    ),
                    MailKind::Soon => (
                        "まもなく相談の時間です / Your consult is soon",
                        format!("まもなく {when_ja} から、{counsellor} さんとの相談です。"),
                        format!("Your consult with {counsellor} begins soon ({when_en})."),
                    ),
                    MailKind::Cancelled => (
                        "ご予約の取り消し / Your booking was cancelled",
                        format!("{when_ja} のご予約は取り消されました。申し訳ありません。"),
                        format!("Your booking for {when_en} was cancelled. We are sorry."),
                    ),
                };
                let note = message.map(|m| format!("\n\n{m}")).unwrap_or_default();
                (
                    subject.to_owned(),
                    format!(
                        "{ja}{note}\n\n{link}\n\n— ibasho スタッフ\n\n----\n\n{en}{note}\n\n{link}\n\n— the ibasho staff\n"
                    ),
                )
            }
            Template::Declined {
                lang: "en",
                message,
            } => (
                "About your application to ibasho".to_owned(),
                format!(
                    "Hello,\n\nthank you for applying to ibasho.\n\n{message}\n\n— the ibasho staff\n"
                ),
            ),
            Template::Declined { message, .. } => (
                "ibasho（居場所）へのお申し込みについて".to_owned(),
                format!(
                    "こんにちは。\n\nibasho へのお申し込みありがとうございました。\n\n{message}\n\n— ibasho スタッフ\n"
                ),
            ),
        }
    }
}

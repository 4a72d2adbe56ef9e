//! Configuration, layered: built-in defaults → a TOML file (`config/default.toml` when it
//! exists, or `--config FILE`) → `IBASHO_*` environment variables (`__` separates sections:
//! `IBASHO_LIMITS__MAX_MESSAGE_CHARS=1000`) → command-line flags. Unknown keys are an error,
//! so that a typo never silently falls back to a default.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ibasho_hub::HubConfig;
use ibasho_protocol::Limits;
use ibasho_schedule::{OpeningHours, OpeningHoursConfig};
pub use ibasho_store::Synchronous;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The file read when `--config` is not given and it exists (relative to the working
/// directory).
pub const DEFAULT_CONFIG_FILE: &str = "config/default.toml";

/// How the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// A single machine, no other service: the JWT secret is generated into the data
    /// directory on first start, and guest entry is allowed.
    #[default]
    Embedded,
    /// A public deployment: refuses to start without an explicit, strong JWT secret.
    Production,
}

/// A secret string that never shows itself in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Secrets that appear in examples and must never be used in production.
pub const KNOWN_DEFAULT_SECRETS: &[&str] = &[
    "change-me",
    "changeme",
    "secret",
    "ibasho",
    "dev-secret-change-me",
];

/// Everything the server is configured with. Each field is a key of `config/default.toml`;
/// `docs/configuration.md` describes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `embedded` (single machine) or `production`.
    pub mode: RunMode,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Where the SQLite database and the generated JWT secret live.
    pub data_dir: PathBuf,
    /// The address people reach the service at, for links the admin CLI prints. Empty:
    /// derived from `listen`.
    pub public_url: String,
    /// The static web client's directory.
    pub web_client_dir: PathBuf,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Seconds to wait for connections to close on shutdown.
    pub shutdown_deadline_secs: u64,
    /// Sign-in.
    pub auth: AuthConfig,
    /// WebSocket transport.
    pub websocket: WebSocketConfig,
    /// Persistence.
    pub storage: StorageConfig,
    /// E-mail.
    pub mail: MailConfig,
    /// Applications from the home page.
    pub applications: ApplicationsConfig,
    /// What the public home page says.
    pub home: HomeConfig,
    /// Phone services shown on the home page and one tap away in the space. Replace them
    /// with your city's.
    pub crisis_contacts: Vec<CrisisContact>,
    /// The realtime core.
    pub hub: HubConfig,
    /// Input and resource limits.
    pub limits: Limits,
    /// When the space is open to participants and families.
    pub opening_hours: OpeningHoursConfig,
    /// Programmes and their sessions.
    pub programmes: ProgrammesConfig,
    /// Private consultations.
    pub consult: ibasho_consult::ConsultConfig,
    /// Consult appointments (予約制).
    pub appointments: ibasho_consult::AppointmentConfig,
}

/// `[programmes]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProgrammesConfig {
    /// Whether a programme's introduction may be a link to another site (off: uploaded files
    /// only, so that nobody's browser is sent elsewhere).
    pub allow_external_links: bool,
    /// How often, in milliseconds, session rooms are opened, put live, warned and closed by
    /// the clock (changes by staff take effect at once).
    pub driver_tick_ms: u64,
    /// Largest introduction file (image or video) staff may upload, in bytes.
    pub gallery_max_bytes: u64,
}

impl Default for ProgrammesConfig {
    fn default() -> Self {
        Self {
            allow_external_links: false,
            driver_tick_ms: 1000,
            gallery_max_bytes: 50 * 1024 * 1024,
        }
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[auth]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The HMAC secret that signs access tokens. In embedded mode, leave it unset: one is
    /// generated into `<data_dir>/jwt-secret` on first start. Production requires it.
    pub jwt_secret: Option<Secret>,
    /// Whether people may enter with just a handle and an avatar, without an invitation (for
    /// a trial or a demo). Off by default: a city space invites people.
    pub guest_entry: bool,
    /// How long a guest's access token lasts, in days.
    pub guest_token_days: u64,
    /// How long a token printed by `ibasho admin create` lasts, in hours.
    pub admin_token_hours: u64,
    /// Guest entries accepted per minute from the whole internet (a brake on handle
    /// squatting until invitations arrive).
    pub guest_entries_per_minute: u32,
    /// Lifetime of an access token (the WebSocket and API credential), in minutes. Short,
    /// because the refresh cookie renews it.
    pub access_token_minutes: u64,
    /// Lifetime of a device session's refresh token, in days; each use renews it.
    pub refresh_token_days: u64,
    /// Seconds after a rotation during which presenting the old refresh token again (its answer
    /// was lost: a reload mid-request) rotates its unused successor instead of ending the
    /// session. 0 turns this off.
    pub refresh_reuse_grace_secs: u64,
    /// How long an invitation link can be used, in days.
    pub invitation_days: u64,
    /// Mark cookies `Secure` (serve over HTTPS when this is on).
    pub cookie_secure: bool,
    /// Failed sign-ins allowed per account and per address before delays start.
    pub sign_in_free_failures: u32,
    /// The longest delay after repeated failed sign-ins, in seconds.
    pub sign_in_max_delay_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            guest_entry: false,
            guest_token_days: 30,
            admin_token_hours: 24,
            guest_entries_per_minute: 30,
            access_token_minutes: 15,
            refresh_token_days: 30,
            refresh_reuse_grace_secs: 30,
            invitation_days: 7,
            cookie_secure: false,
            sign_in_free_failures: 3,
            sign_in_max_delay_secs: 900,
        }
    }
}

/// `[websocket]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSocketConfig {
    /// Seconds between the server's pings.
    pub ping_interval_secs: u64,
    /// Seconds without any frame from the client (pongs count) before it is dropped (4009).
    pub idle_timeout_secs: u64,
    /// Seconds a write to a socket may take before the connection is dropped.
    pub write_timeout_secs: u64,
    /// Bytes the socket reads at once; small keeps idle connections cheap.
    pub read_buffer_bytes: usize,
    /// Open WebSocket connections the server accepts in all.
    pub max_connections: usize,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            ping_interval_secs: 20,
            idle_timeout_secs: 60,
            write_timeout_secs: 10,
            read_buffer_bytes: 1024,
            max_connections: 19_000,
        }
    }
}

/// `[storage]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `full`: an acknowledged message survives a power cut; `normal`: faster, may lose the
    /// last messages on a power cut (never on a crash of the process).
    pub sqlite_synchronous: Synchronous,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            sqlite_synchronous: Synchronous::Full,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: RunMode::Embedded,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            public_url: String::new(),
            web_client_dir: PathBuf::from("web-client"),
            log_format: LogFormat::Text,
            shutdown_deadline_secs: 10,
            auth: AuthConfig::default(),
            websocket: WebSocketConfig::default(),
            storage: StorageConfig::default(),
            mail: MailConfig::default(),
            applications: ApplicationsConfig::default(),
            home: HomeConfig::default(),
            crisis_contacts: default_crisis_contacts(),
            hub: HubConfig::default(),
            limits: Limits::default(),
            opening_hours: OpeningHoursConfig::default(),
            programmes: ProgrammesConfig::default(),
            consult: ibasho_consult::ConsultConfig::default(),
            appointments: ibasho_consult::AppointmentConfig::default(),
        }
    }
}

/// `[mail]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The SMTP server: `smtp://host:25`, `smtp://host:587?tls=required`,
    /// `smtps://user:password@host:465`. Empty: no mail; staff see invitation links instead.
    pub smtp_url: String,
    /// The sender.
    pub from: String,
    /// Attempts before a mail is given up (its failure stays in the outbox).
    pub max_attempts: u32,
    /// The first retry waits this long, in seconds; each further one twice as long.
    pub retry_base_secs: u64,
    /// How often the outbox is checked when nothing wakes it, in seconds.
    pub poll_secs: u64,
    /// How long one SMTP exchange may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            from: "ibasho <noreply@localhost>".to_owned(),
            max_attempts: 8,
            retry_base_secs: 30,
            poll_secs: 10,
            timeout_secs: 30,
        }
    }
}

/// `[applications]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationsConfig {
    /// Days an application (and the mail about it) is kept, whatever its state.
    pub retention_days: u64,
    /// Applications accepted per minute in all (a brake on floods).
    pub per_minute: u32,
    /// Longest free text in an application, in characters.
    pub message_max_chars: usize,
}

impl Default for ApplicationsConfig {
    fn default() -> Self {
        Self {
            retention_days: 90,
            per_minute: 10,
            message_max_chars: 2000,
        }
    }
}

/// `[home]`: the public home page's words that differ from space to space.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomeConfig {
    /// The space's name.
    pub space_name: String,
    /// Opening hours in words, Japanese.
    pub opening_hours_ja: String,
    /// Opening hours in words, English.
    pub opening_hours_en: String,
    /// Who runs the space, Japanese.
    pub operator_ja: String,
    /// Who runs the space, English.
    pub operator_en: String,
}

impl Default for HomeConfig {
    fn default() -> Self {
        Self {
            space_name: "ibasho".to_owned(),
            opening_hours_ja: "毎月 第2・第3・第4水曜日 13:00〜21:00、第1土曜日 10:00〜18:00".to_owned(),
            opening_hours_en: "2nd, 3rd and 4th Wednesday of the month 13:00–21:00; 1st Saturday 10:00–18:00 (Japan time)".to_owned(),
            operator_ja: String::new(),
            operator_en: String::new(),
        }
    }
}

/// A phone service for someone in crisis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrisisContact {
    /// The service's name, Japanese.
    pub name_ja: String,
    /// The service's name, English.
    pub name_en: String,
    /// The number to call.
    pub phone: String,
    /// When it answers, Japanese.
    pub hours_ja: String,
    /// When it answers, English.
    pub hours_en: String,
}

fn default_crisis_contacts() -> Vec<CrisisContact> {
    let c =
        |name_ja: &str, name_en: &str, phone: &str, hours_ja: &str, hours_en: &str| CrisisContact {
            name_ja: name_ja.into(),
            name_en: name_en.into(),
            phone: phone.into(),
            hours_ja: hours_ja.into(),
            hours_en: hours_en.into(),
        };
    vec![
        c(
            "よりそいホットライン",
            "Yorisoi Hotline",
            "0120-279-338",
            "24時間・無料",
            "24 hours, free of charge",
        ),
        c(
            "いのちの電話（ナビダイヤル）",
            "Inochi no Denwa (Lifeline)",
            "0570-783-556",
            "10:00〜22:00",
            "10:00–22:00",
        ),
        c(
            "こころの健康相談統一ダイヤル",
            "Mental health consultation line",
            "0570-064-556",
            "都道府県により異なります",
            "hours vary by prefecture",
        ),
        c(
            "救急（命に危険があるとき）",
            "Emergency (danger to life)",
            "119",
            "24時間",
            "24 hours",
        ),
    ]
}

/// Command-line values that override the configuration.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Loads the layered configuration. `file` is `--config`; without it,
    /// [`DEFAULT_CONFIG_FILE`] is read if it exists.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, Box<figment::Error>> {
        Self::figment(file, overrides).extract().map_err(Box::new)
    }

    /// The layers, for [`Config::load`] and tests.
    pub fn figment(file: Option<&Path>, overrides: &Overrides) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => {
                if Path::new(DEFAULT_CONFIG_FILE).exists() {
                    figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
                }
            }
        }
        figment
            .merge(
                Env::prefixed("IBASHO_")
                    .split("__")
                    .ignore(&["config", "log"]),
            )
            .merge(Serialized::defaults(overrides))
    }

    /// The base URL for printed links.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Refuses settings that cannot work, before anything starts.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode == RunMode::Production {
            match &self.auth.jwt_secret {
                None => {
                    return Err(
                        "production mode needs auth.jwt_secret (IBASHO_AUTH__JWT_SECRET)".into(),
                    );
                }
                Some(Secret(s)) if KNOWN_DEFAULT_SECRETS.contains(&s.as_str()) => {
                    return Err("auth.jwt_secret is a well-known default; set a random one".into());
                }
                Some(Secret(s)) if s.len() < 32 => {
                    return Err("auth.jwt_secret must have at least 32 characters".into());
                }
                Some(_) => {}
            }
        }
        if self.limits.max_frame_bytes > self.limits.max_frame_hard_bytes {
            return Err(
                "limits.max_frame_bytes must not exceed limits.max_frame_hard_bytes".into(),
            );
        }
        if self.websocket.idle_timeout_secs <= self.websocket.ping_interval_secs {
            return Err(
                "websocket.idle_timeout_secs must be longer than websocket.ping_interval_secs"
                    .into(),
            );
        }
        OpeningHours::from_config(&self.opening_hours)
            .map_err(|e| format!("opening_hours: {e}"))?;
        self.appointments.validate()?;
        if self.consult.offer_timeout_secs == 0 {
            return Err("consult.offer_timeout_secs must be at least 1".into());
        }
        if self.consult.transcript_retention_days == 0 {
            return Err("consult.transcript_retention_days must be at least 1".into());
        }
        if self.opening_hours.closing_notice_minutes.contains(&0) {
            return Err("opening_hours.closing_notice_minutes must be positive".into());
        }
        if self.hub.outbound_queue_frames == 0 || self.hub.tick_ms == 0 {
            return Err("hub.outbound_queue_frames and hub.tick_ms must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_matches_built_in_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
        let from_file: Config = Figment::new()
            .merge(Toml::file_exact(&path))
            .extract()
            .unwrap();
        assert_eq!(from_file, Config::default());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure type is given
    fn layers_apply_in_order_and_unknown_keys_fail() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "ibasho.toml",
                "listen = \"127.0.0.1:9000\"\n[limits]\nmax_message_chars = 500\n",
            )?;
            jail.set_env("IBASHO_DATA_DIR", "/tmp/from-env");
            jail.set_env("IBASHO_LIMITS__MESSAGE_BURST", "3");
            let overrides = Overrides {
                listen: Some("127.0.0.1:9100".parse().unwrap()),
                data_dir: None,
            };
            let config =
                Config::load(Some(Path::new("ibasho.toml")), &overrides).map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 9100);
            assert_eq!(config.data_dir, PathBuf::from("/tmp/from-env"));
            assert_eq!(config.limits.max_message_chars, 500);
            assert_eq!(config.limits.message_burst, 3);

            // IBASHO_LISTEN works when no flag overrides it.
            jail.set_env("IBASHO_LISTEN", "127.0.0.1:9200");
            let config = Config::load(Some(Path::new("ibasho.toml")), &Overrides::default())
                .map_err(|e| *e)?;
            assert_eq!(config.listen.port(), 9200);

            jail.set_env("IBASHO_LIMITS__MAX_MESAGE_CHARS", "3");
            assert!(Config::load(Some(Path::new("ibasho.toml")), &Overrides::default()).is_err());
            Ok(())
        });
    }

    #[test]
    fn production_refuses_default_secrets() {
        let mut config = Config {
            mode: RunMode::Production,
            ..Config::default()
        };
        assert!(config.validate().is_err());
        config.auth.jwt_secret = Some(Secret("change-me".into()));
        assert!(config.validate().is_err());
        config.auth.jwt_secret = Some(Secret("x".repeat(40)));
        assert!(config.validate().is_ok());
        assert_eq!(format!("{:?}", config.auth.jwt_secret), "Some(Secret(***))");
    }
}

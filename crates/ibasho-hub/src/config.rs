//! The hub's own settings: the `[hub]` section of the configuration, plus the `[limits]`.

use ibasho_protocol::{Limits, MapSize};
use ibasho_schedule::OpeningHoursConfig;
use serde::{Deserialize, Serialize};

/// Settings of the realtime core.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// Frames waiting to be written to one connection. When a frame that must not be dropped
    /// does not fit, the connection is closed with 4008 and the client resumes; lobby
    /// positions that do not fit are dropped and put right by the next key frame.
    pub outbound_queue_frames: usize,
    /// The hub's tick, in milliseconds (100 = 10 Hz): lobby movement and watcher counts are
    /// sent out at most once per tick, however often they change, so that a crowd joining a
    /// room costs each member a few frames a second rather than one frame per arrival.
    pub tick_ms: u64,
    /// Every this many ticks, a key frame with every avatar's position.
    pub lobby_keyframe_ticks: u32,
    /// Watcher counts go out at most once every this many ticks (10 = once a second): a
    /// crowd arriving in a room then costs each member one count a second, not ten.
    pub watchers_every_ticks: u32,
    /// Lobby map width, in map units.
    pub lobby_width: u16,
    /// Lobby map height, in map units.
    pub lobby_height: u16,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            outbound_queue_frames: 256,
            tick_ms: 100,
            lobby_keyframe_ticks: 20,
            watchers_every_ticks: 10,
            lobby_width: 960,
            lobby_height: 600,
        }
    }
}

impl HubConfig {
    /// The lobby map's size as the protocol states it.
    pub fn lobby_map(&self) -> MapSize {
        MapSize {
            width: self.lobby_width,
            height: self.lobby_height,
        }
    }
}

/// Everything the hub is configured with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HubSettings {
    /// `[hub]`.
    pub hub: HubConfig,
    /// `[limits]`.
    pub limits: Limits,
    /// `[opening_hours]`.
    pub opening_hours: OpeningHoursConfig,
    /// `[consult]`.
    pub consult: ibasho_consult::ConsultConfig,
    /// `[appointments]`.
    pub appointments: ibasho_consult::AppointmentConfig,
}

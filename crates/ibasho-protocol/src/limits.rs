//! Every input and resource limit, named, with its default. The server reads them from the
//! `[limits]` section of its configuration and tells clients the ones that concern them in
//! `welcome`.

use serde::{Deserialize, Serialize};

/// Limits on what one connection may send and hold. Each field is a configuration key of the
/// `[limits]` section; `docs/configuration.md` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest chat message, in Unicode scalar values (characters) after NFC normalisation.
    pub max_message_chars: usize,
    /// Largest text frame the server parses; larger ones are refused with `too_long`.
    pub max_frame_bytes: usize,
    /// Largest frame the WebSocket layer accepts at all; beyond it the connection is closed
    /// with 1009, because reading it would already cost the memory.
    pub max_frame_hard_bytes: usize,
    /// Sustained writes (post, edit, delete, react) per second per connection (token bucket
    /// refill rate).
    pub messages_per_second: u32,
    /// Burst of writes allowed above the sustained rate (token bucket size).
    pub message_burst: u32,
    /// Frames of any kind per second per connection (token bucket refill rate). Generous,
    /// because moving an avatar sends ten a second, but finite, so that a flood is refused
    /// before it costs much.
    pub frames_per_second: u32,
    /// Burst of frames allowed above the sustained rate.
    pub frame_burst: u32,
    /// Rooms one connection may have joined at once (the lobby counts).
    pub max_rooms_per_connection: usize,
    /// Open connections one account may hold at once (tabs, devices).
    pub max_connections_per_account: usize,
    /// Members a room holds when it is created without its own capacity.
    pub default_room_capacity: u32,
    /// Frames refused with an error within one minute before the connection is closed with
    /// close code 4000.
    pub abuse_errors_per_minute: u32,
    /// Shortest handle, in characters.
    pub handle_min_chars: usize,
    /// Longest handle, in characters.
    pub handle_max_chars: usize,
    /// Longest room name, in characters.
    pub room_name_max_chars: usize,
    /// Longest moderation reason, in characters.
    pub reason_max_chars: usize,
    /// Messages in one history page (the client may ask for fewer).
    pub history_page: u32,
    /// Missed events a resuming client receives in `joined`; beyond it, the client gets the
    /// latest page afresh (`reset: true`) and scrolls back for the rest.
    pub resume_max_events: u32,
    /// Longest mute staff may give, in minutes.
    pub max_mute_minutes: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_chars: 2000,
            max_frame_bytes: 16 * 1024,
            max_frame_hard_bytes: 256 * 1024,
            messages_per_second: 5,
            message_burst: 10,
            frames_per_second: 30,
            frame_burst: 60,
            max_rooms_per_connection: 16,
            max_connections_per_account: 8,
            default_room_capacity: 1000,
            abuse_errors_per_minute: 60,
            handle_min_chars: 2,
            handle_max_chars: 24,
            room_name_max_chars: 60,
            reason_max_chars: 500,
            history_page: 50,
            resume_max_events: 1000,
            max_mute_minutes: 7 * 24 * 60,
        }
    }
}

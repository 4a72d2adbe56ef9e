//! The `[consult]` section of the configuration.

use crate::crisis::DEFAULT_WORDS;
use crate::router::RouterConfig;
use serde::{Deserialize, Serialize};

/// Settings of private consultations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsultConfig {
    /// How long an offer waits for the counsellor's answer before it moves on.
    pub offer_timeout_secs: u64,
    /// How long a counsellor who dropped mid-consult has to come back before the consult
    /// returns to the front of the queue.
    pub reconnect_grace_secs: u64,
    /// After this long waiting, a preferred profession widens to any.
    pub widen_after_minutes: u64,
    /// How many recent consults the estimated wait is taken from.
    pub recent_consults: usize,
    /// Words that make a request urgent when the requester writes them (matched however
    /// they are typed: full/half width, katakana/hiragana, case, spaced-out letters). Review
    /// them with your counsellors.
    pub crisis_words: Vec<String>,
    /// Most characters in a counsellor's notes, a handover note or a left message.
    pub notes_max_chars: usize,
    /// Days after its end that what was said in a consult (its messages, the first message,
    /// handover notes, a left message) is kept; then the purge deletes it. Counsellors'
    /// notes and outcomes stay.
    pub transcript_retention_days: u32,
    /// How often the queue is checked for lapsed offers and ended graces, in milliseconds.
    pub tick_ms: u64,
}

impl Default for ConsultConfig {
    fn default() -> Self {
        Self {
            offer_timeout_secs: 60,
            reconnect_grace_secs: 120,
            widen_after_minutes: 10,
            recent_consults: 20,
            crisis_words: DEFAULT_WORDS.iter().map(|w| (*w).to_owned()).collect(),
            notes_max_chars: 10_000,
            transcript_retention_days: 180,
            tick_ms: 1_000,
        }
    }
}

impl ConsultConfig {
    /// The router's settings.
    pub fn router(&self) -> RouterConfig {
        let ms = |secs: u64| i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        RouterConfig {
            offer_timeout_ms: ms(self.offer_timeout_secs.max(1)),
            reconnect_grace_ms: ms(self.reconnect_grace_secs),
            widen_after_ms: ms(self.widen_after_minutes.saturating_mul(60)),
            recent_consults: self.recent_consults.max(1),
            pause_before_ms: 0,
        }
    }
}

/// Settings of consult appointments (予約制), the `[appointments]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppointmentConfig {
    /// How many weeks ahead free slots are shown and may be booked.
    pub weeks_ahead: u32,
    /// A slot may be booked until this many minutes before it starts.
    pub book_until_minutes: u32,
    /// The person may cancel or move a booking until this many minutes before it starts
    /// (the cut-off). Counsellors and staff may cancel, with a message, until it opens.
    pub change_until_minutes: u32,
    /// How many upcoming bookings one person may hold at once.
    pub max_upcoming: u32,
    /// The consult room opens this many minutes before the booked time.
    pub open_minutes_before: u32,
    /// The counsellor counts as absent when they have not come this many minutes after the
    /// booked time; the person is then put first in the drop-in queue.
    pub counsellor_grace_minutes: u32,
    /// The booking counts as missed when the person has not come this many minutes after
    /// the booked time.
    pub missed_after_minutes: u32,
    /// A counsellor gets no drop-in offers from this many minutes before a booked time.
    pub queue_pause_minutes: u32,
    /// The "day before" reminder goes this many hours before the booked time.
    pub remind_day_before_hours: u32,
    /// The "soon" reminder goes this many minutes before the booked time.
    pub remind_soon_minutes: u32,
    /// Most characters in the person's first note and in a cancellation message.
    pub note_max_chars: usize,
}

impl Default for AppointmentConfig {
    fn default() -> Self {
        Self {
            weeks_ahead: 4,
            book_until_minutes: 30,
            change_until_minutes: 60,
            max_upcoming: 2,
            open_minutes_before: 5,
            counsellor_grace_minutes: 5,
            missed_after_minutes: 15,
            queue_pause_minutes: 15,
            remind_day_before_hours: 24,
            remind_soon_minutes: 10,
            note_max_chars: 1_000,
        }
    }
}

impl AppointmentConfig {
    /// Minutes as milliseconds.
    pub fn ms(minutes: u32) -> i64 {
        i64::from(minutes) * 60_000
    }

    /// Checks the settings; the message names the one at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.weeks_ahead == 0 || self.weeks_ahead > 26 {
            return Err("appointments.weeks_ahead must be between 1 and 26".into());
        }
        if self.max_upcoming == 0 {
            return Err("appointments.max_upcoming must be at least 1".into());
        }
        if self.missed_after_minutes == 0 {
            return Err("appointments.missed_after_minutes must be at least 1".into());
        }
        if self.note_max_chars == 0 {
            return Err("appointments.note_max_chars must be at least 1".into());
        }
        Ok(())
    }
}

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
        }
    }
}

//! WebSocket close codes. 1000–1015 are the standard codes (RFC 6455); 4000–4999 are ours.
//! A client resumes after every code except [`UNSUPPORTED_VERSION`], [`UNAUTHORIZED`] and
//! [`TOO_MANY_CONNECTIONS`], after which it waits for the person to act.

/// Normal closure: the client asked to leave, or the server finished a clean close.
pub const NORMAL: u16 = 1000;
/// The server is shutting down (or restarting). Reconnect after a short pause and resume.
pub const GOING_AWAY: u16 = 1001;
/// A frame exceeded the hard frame size ([`crate::Limits::max_frame_hard_bytes`]).
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// Sustained abuse: too many refused frames in a short window
/// ([`crate::Limits::abuse_errors_per_minute`]).
pub const POLICY_ABUSE: u16 = 4000;
/// The access token expired or the account can no longer connect. Sign in again.
pub const UNAUTHORIZED: u16 = 4001;
/// The client speaks a protocol version this server does not. Do not retry.
pub const UNSUPPORTED_VERSION: u16 = 4003;
/// The connection could not keep up: a frame that must not be dropped did not fit in its
/// outbound queue (`hub.outbound_queue_frames` in the configuration). Reconnect and resume.
pub const SLOW_CONSUMER: u16 = 4008;
/// Nothing was received within the idle timeout. Reconnect and resume.
pub const IDLE_TIMEOUT: u16 = 4009;
/// This account already has the maximum number of open connections
/// ([`crate::Limits::max_connections_per_account`]). Do not retry at once.
pub const TOO_MANY_CONNECTIONS: u16 = 4029;

/// Every close code with its name, for documentation and tests.
pub const ALL: &[(u16, &str)] = &[
    (NORMAL, "normal"),
    (GOING_AWAY, "going_away"),
    (MESSAGE_TOO_BIG, "message_too_big"),
    (POLICY_ABUSE, "policy_abuse"),
    (UNAUTHORIZED, "unauthorized"),
    (UNSUPPORTED_VERSION, "unsupported_version"),
    (SLOW_CONSUMER, "slow_consumer"),
    (IDLE_TIMEOUT, "idle_timeout"),
    (TOO_MANY_CONNECTIONS, "too_many_connections"),
];

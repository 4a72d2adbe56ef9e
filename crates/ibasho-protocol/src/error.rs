//! The one error shape of ibasho: a stable [`ErrorCode`] that clients switch on, plus a human
//! message. WebSocket error frames and HTTP problem responses carry the same codes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable, machine-readable error code. New codes may be added; existing ones never change
/// meaning. Clients should treat an unknown code like [`ErrorCode::Internal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not valid JSON, or a field is missing or of the wrong type.
    BadFrame,
    /// The frame's `type` is not one this server knows.
    UnknownType,
    /// A text or frame is longer than its limit.
    TooLong,
    /// Too many requests in a short time; `retry_after_ms` says when to try again.
    RateLimited,
    /// The caller's role or attendance mode does not allow this.
    NotAllowed,
    /// The caller is muted in this room until the time given.
    Muted,
    /// No such room, or it was archived.
    UnknownRoom,
    /// The room is at capacity. Watching may still be possible.
    RoomFull,
    /// The caller was removed from this room and may not rejoin until staff allow it.
    Removed,
    /// The request needs the caller to have joined the room first.
    NotJoined,
    /// The connection has joined as many rooms as it may.
    TooManyRooms,
    /// No such message, or it is not the caller's.
    UnknownMessage,
    /// The first frame must be `hello`, and only once.
    HelloRequired,
    /// The client's protocol version is not supported.
    UnsupportedVersion,
    /// A handle breaks the handle rules (length, characters).
    InvalidHandle,
    /// Someone already uses this handle (compared case-insensitively).
    HandleTaken,
    /// A field is outside its allowed values.
    InvalidInput,
    /// Missing, expired or invalid credentials.
    Unauthorized,
    /// Nothing at this address.
    NotFound,
    /// Something went wrong on the server. Nothing was changed; try again.
    Internal,
    /// The server is shutting down.
    Unavailable,
    /// The invitation link is unknown, used, expired or revoked.
    InvitationInvalid,
    /// Wrong login or secret. Deliberately does not say which.
    SignInFailed,
    /// The account has two-step sign-in on: send the current code too.
    TotpRequired,
    /// The account is suspended.
    Suspended,
    /// The space is closed now; `retry_after_ms` says when it opens next (absent: no opening
    /// is scheduled within a year).
    Closed,
    /// No such consult, or not one of yours, or it has ended.
    UnknownConsult,
    /// You already have a consult request that has not ended.
    AlreadyRequested,
    /// The consult is not in a state that allows this (the offer lapsed or went to someone
    /// else; it has not started; it is not yours to answer).
    ConsultState,
    /// Someone booked that time first; choose another.
    SlotTaken,
    /// You already hold as many bookings as one may, or one at that time.
    BookingLimit,
    /// It is too close to the time (or past it) for this.
    TooLate,
    /// Bookings lie in these slots; cancel them with a message first.
    AppointmentsBooked,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadFrame => "bad_frame",
            Self::UnknownType => "unknown_type",
            Self::TooLong => "too_long",
            Self::RateLimited => "rate_limited",
            Self::NotAllowed => "not_allowed",
            Self::Muted => "muted",
            Self::UnknownRoom => "unknown_room",
            Self::RoomFull => "room_full",
            Self::Removed => "removed",
            Self::NotJoined => "not_joined",
            Self::TooManyRooms => "too_many_rooms",
            Self::UnknownMessage => "unknown_message",
            Self::HelloRequired => "hello_required",
            Self::UnsupportedVersion => "unsupported_version",
            Self::InvalidHandle => "invalid_handle",
            Self::HandleTaken => "handle_taken",
            Self::InvalidInput => "invalid_input",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::InvitationInvalid => "invitation_invalid",
            Self::SignInFailed => "sign_in_failed",
            Self::TotpRequired => "totp_required",
            Self::Suspended => "suspended",
            Self::Closed => "closed",
            Self::UnknownConsult => "unknown_consult",
            Self::AlreadyRequested => "already_requested",
            Self::ConsultState => "consult_state",
            Self::SlotTaken => "slot_taken",
            Self::BookingLimit => "booking_limit",
            Self::TooLate => "too_late",
            Self::AppointmentsBooked => "appointments_booked",
        }
    }

    /// The HTTP status that goes with this code in a problem response.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadFrame
            | Self::UnknownType
            | Self::TooLong
            | Self::InvalidHandle
            | Self::InvalidInput
            | Self::HelloRequired
            | Self::UnsupportedVersion => 400,
            Self::Unauthorized | Self::SignInFailed | Self::TotpRequired => 401,
            Self::Suspended => 403,
            Self::InvitationInvalid => 410,
            Self::NotAllowed | Self::Muted | Self::Removed | Self::NotJoined => 403,
            Self::UnknownRoom | Self::UnknownMessage | Self::NotFound | Self::UnknownConsult => 404,
            Self::HandleTaken
            | Self::RoomFull
            | Self::TooManyRooms
            | Self::AlreadyRequested
            | Self::ConsultState
            | Self::SlotTaken
            | Self::BookingLimit
            | Self::TooLate
            | Self::AppointmentsBooked => 409,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable | Self::Closed => 503,
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: &'static [ErrorCode] = &[
        Self::BadFrame,
        Self::UnknownType,
        Self::TooLong,
        Self::RateLimited,
        Self::NotAllowed,
        Self::Muted,
        Self::UnknownRoom,
        Self::RoomFull,
        Self::Removed,
        Self::NotJoined,
        Self::TooManyRooms,
        Self::UnknownMessage,
        Self::HelloRequired,
        Self::UnsupportedVersion,
        Self::InvalidHandle,
        Self::HandleTaken,
        Self::InvalidInput,
        Self::Unauthorized,
        Self::NotFound,
        Self::Internal,
        Self::Unavailable,
        Self::InvitationInvalid,
        Self::SignInFailed,
        Self::TotpRequired,
        Self::Suspended,
        Self::Closed,
        Self::UnknownConsult,
        Self::AlreadyRequested,
        Self::ConsultState,
        Self::SlotTaken,
        Self::BookingLimit,
        Self::TooLate,
        Self::AppointmentsBooked,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of an HTTP error response (`application/problem+json`, RFC 9457), sharing its
/// `code` with WebSocket error frames.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI reference naming the problem kind: `urn:ibasho:error:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, human summary.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// The stable error code.
    pub code: ErrorCode,
    /// What exactly went wrong, for a person.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
    /// The request field at fault, for form errors.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
}

impl Problem {
    /// A problem for `code` with a human `detail`.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:ibasho:error:{code}"),
            title: code.as_str().replace('_', " "),
            status: code.http_status(),
            code,
            detail: Some(detail.into()),
            field: None,
        }
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *code);
        }
    }
}

//! Wire types of the ibasho realtime protocol, and nothing else: no I/O, no async.
//!
//! Every frame is a JSON text frame whose `type` field names its kind. Client requests carry an
//! optional `id` that the server echoes in the matching reply or error, so a client can pair
//! them. `docs/protocol.md` documents each frame with an example; a test parses every example.
//!
//! # Layout
//!
//! - [`api`]: HTTP API shapes: account attributes, invitation and account views.
//! - [`ids`]: identifier newtypes (accounts, rooms, messages, request ids).
//! - [`frames`]: [`ClientFrame`] and [`ServerFrame`], the two enums a connection speaks, and the
//!   payload types they carry (messages, presence, room descriptions).
//! - [`error`]: [`ErrorCode`], the stable codes clients switch on, shared by WebSocket error
//!   frames and HTTP problem responses.
//! - [`close`]: WebSocket close codes the server uses and what each means.
//! - [`limits`]: [`Limits`], every input limit with its default.
//! - [`handle`]: the rules a pseudonymous handle must satisfy.
//! - [`consult`]: private consultations: requests, offers, phases, outcomes, the queue view.
//! - [`programme`]: programmes, their sessions and the timetable, as the HTTP API and room
//!   descriptions carry them.

pub mod api;
pub mod close;
pub mod consult;
pub mod error;
pub mod frames;
pub mod handle;
pub mod ids;
pub mod limits;
pub mod programme;

pub use error::ErrorCode;
pub use frames::*;
pub use ids::{AccountId, ConnectionId, MessageId, ProgrammeId, RequestId, RoomId, SessionId};
pub use limits::Limits;

/// The protocol version this build speaks. A client sends it in `hello`; the server refuses
/// other versions with [`ErrorCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u32 = 1;

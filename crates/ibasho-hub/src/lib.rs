//! The ibasho realtime core: connections, rooms, the lobby, presence, fan-out and moderation.
//! It knows nothing of HTTP or sockets: the server hands it authenticated identities and text
//! frames, and drains each connection's outbound queue into its socket. Persistence goes
//! through the traits in [`store`].
//!
//! # Layout
//!
//! - [`hub`]: [`Hub`], every room and connection of this process; connecting, the room
//!   list, the lobby tick, shutdown.
//! - [`session`]: [`Session`], one connection's side of the protocol: one handler per frame
//!   type, dispatched from one `match`.
//! - `room`: one room in memory: membership, presence per audience, positions, moderation.
//! - [`outbound`]: frames serialized once and shared ([`SharedFrame`]), bounded queues, the
//!   kill switch that closes a slow or abusive connection.
//! - `consult`: the consult desk: carries out the consult router's decisions (offers, the
//!   private consult rooms, statuses, the queue view), storing each change first.
//! - [`store`]: the storage traits the hub needs, implemented by `ibasho-store`.
//! - [`clock`]: injected time, so that mutes and limits are testable without sleeping.
//! - [`config`]: the `[hub]` settings.
//! - `rate`: token buckets and the abuse meter.

pub mod clock;
pub mod config;
mod consult;
pub mod hub;
mod opening;
pub mod outbound;
mod rate;
mod room;
pub mod session;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{HubConfig, HubSettings};
pub use consult::{ReminderSent, consult_room};
pub use hub::{ConnectError, Connection, Hub, Identity, StartError};
pub use outbound::{CloseReason, HubMetrics, KillSwitch, SharedFrame};
pub use session::{Flow, Session};

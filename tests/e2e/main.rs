//! End-to-end tests: the real server on port 0, real WebSocket clients speaking the
//! documented protocol, a real SQLite file. One binary, one module per area.

mod admin;
mod appointments;
mod authorization;
mod chat;
mod consult;
mod entry;
mod handshake;
mod injection;
mod lifecycle;
mod limits;
mod loadgen;
mod mail;
mod moderation;
mod opening;
mod presence;
mod programmes;
mod resume;

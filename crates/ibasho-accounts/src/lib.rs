//! Accounts for ibasho: who may do what, and the secrets that let people in. Pure logic with
//! an injected clock; the server carries out what it decides, and `ibasho-store` keeps the
//! records.
//!
//! # Layout
//!
//! - [`authz`]: [`authz::Action`] and [`authz::allowed`], the one authorization table
//!   (`docs/authorization.md`).
//! - [`secret`]: random tokens stored as SHA-256 hashes; argon2id password hashing.
//! - [`totp`]: RFC 6238 one-time codes for two-step sign-in.
//! - [`store`]: [`store::EntryStore`], invitations, registration, credentials, sessions.
//! - [`throttle`]: growing delays after failed sign-ins, per account and per address.

pub mod authz;
pub mod secret;
pub mod store;
pub mod throttle;
pub mod totp;

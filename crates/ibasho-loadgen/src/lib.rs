//! Load generation for ibasho: many real clients speaking the documented protocol over real
//! WebSockets, and the scenarios that measure the server with them. The `ibasho-loadgen`
//! binary runs a scenario against a running server and prints a table and JSON;
//! `docs/benchmarks.md` says how each figure was taken.
//!
//! # Layout
//!
//! - [`client`]: accounts over HTTP, connections (spread over 127.0.0.x source addresses),
//!   `hello` and `join`.
//! - [`measure`]: latency histograms and the server's RSS and CPU time read from `/proc`.
//! - [`scenario`]: `hold` (idle connections), `broadcast` (rooms at a message rate) and
//!   `lobby` (avatars moving).
//! - [`resilience`]: `churn` (resume checked under connects and disconnects) and
//!   `slow_consumer` (one client that never reads).

pub mod client;
pub mod measure;
pub mod resilience;
pub mod scenario;

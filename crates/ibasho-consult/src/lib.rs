//! Private consultations for ibasho: routing consult requests to counsellors.
//!
//! Pure logic, driven by events with the time passed in; each event returns the decisions for
//! the server to carry out (offer, withdraw, start, requeue, end). No sockets, no database, no
//! clock: the server owns those, and a test can play any sequence of events. `docs/consult.md`
//! explains the policy and the states.
//!
//! # Layout
//!
//! - [`appointments`]: bookable slots cut from a counsellor's published blocks of time
//!   (appointments, issue 7: the first part).
//! - [`config`]: [`ConsultConfig`], the `[consult]` settings.
//! - [`router`]: [`Router`], the queue, the offers and the consults under way.
//! - [`crisis`]: [`CrisisWords`], the configurable words that make a request urgent, matched
//!   however they are typed.
//! - [`store`]: [`store::ConsultStore`], what consults need from persistence.

pub mod appointments;
pub mod config;
pub mod crisis;
pub mod router;
pub mod store;

pub use config::{AppointmentConfig, ConsultConfig};
pub use crisis::CrisisWords;
pub use router::{
    Availability, ConsultId, CounsellorView, Decision, End, Profession, Refused, RequestSpec,
    RequestView, Restored, Router, RouterConfig, State,
};

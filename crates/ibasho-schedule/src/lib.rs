//! Schedules for ibasho: when the space is open, and when programme sessions happen.
//! Recurrences are RFC 5545 rules (`RRULE`, with `EXDATE`/`RDATE` exceptions) evaluated by the
//! maintained `rrule` crate, always in the space's time zone (Asia/Tokyo by default), so that
//! "the 2nd Wednesday at 13:00" means 13:00 on the wall clock of the city that runs the space.
//! Nothing here reads the clock or touches I/O: callers pass the instant to ask about.
//!
//! # Layout
//!
//! - [`recurrence`]: [`Recurrence`], one rule with a start time, a duration and exceptions;
//!   its occurrences in a window.
//! - [`opening`]: [`OpeningHours`], the space's opening rules plus closed days and extra days;
//!   whether it is open at an instant, the next opening, the periods in a window, and the
//!   closing notices due before the end of a period.

pub mod opening;
pub mod recurrence;

pub use chrono;
pub use chrono_tz;
pub use opening::{OpeningHours, OpeningHoursConfig, Period};
pub use recurrence::{Occurrence, Recurrence, ScheduleError};

//! Persistence for ibasho. The traits live next to the logic that needs them
//! (`ibasho_hub::store`); this crate implements them.
//!
//! # Layout
//!
//! - [`sqlite`]: [`SqliteStore`], the embedded default: one file under the data directory,
//!   WAL journal, `synchronous = FULL` by default so that an acknowledged message survives a
//!   power cut. Migrations are in `migrations/sqlite/`. It implements the hub's storage
//!   traits (`ibasho_hub::store`) and entry's (`ibasho_accounts::store`, in `entry`).
//!
//! PostgreSQL (for several nodes) will be a second module implementing the same traits in
//! the same order, with its own `migrations/postgres/`.

mod appointments;
mod consults;
mod entry;
mod programmes;
pub mod sqlite;

pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

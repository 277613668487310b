//! Checks and maintenance that read the catalog: tenancy rules, the idempotency proof (verify)
//! with its catalog snapshot, invalid indexes, baseline detection and repair actions.

pub mod baseline;
pub mod indexes;
pub mod repair;
pub mod scope;
pub mod snapshot;
pub mod tenancy;
pub mod verify;

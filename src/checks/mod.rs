//! Checks and maintenance that read the catalog: tenancy rules, the idempotency proof (verify)
//! with its catalog snapshot, invalid indexes, baseline detection, adopting another tool's history, and repair actions.

pub mod adopt;
pub mod baseline;
pub mod indexes;
pub mod repair;
pub mod replay;
pub mod scope;
pub mod snapshot;
pub mod tenancy;
pub mod verify;

//! pgboot's integration tests: one test binary, one throwaway PostgreSQL cluster (support/).
//!
//! The suites are modules, so a subset runs with a filter: `cargo test --test it -- migrate::`.
//! `docker::` tests need a Docker engine and the images tests/run.sh builds; they are ignored
//! unless asked for (`-- --ignored docker::`).

mod support;

mod adopt;
mod baseline;
mod compressed;
mod concurrency;
mod config_errors;
mod connect;
mod docker;
mod dumps;
mod exactly_once;
mod faults;
mod formats;
mod migrate;
mod operate;
mod pgbouncer;
mod psql_input;
mod repeatable;
mod schema;
mod seeds;
mod session;
mod streamed;
mod verify;

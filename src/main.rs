//! pgboot: bootstraps PostgreSQL schemas. See README.md.

mod app;
mod apply;
mod baseline;
mod cli;
mod config;
mod createdb;
mod db;
mod error;
mod history;
mod indexes;
mod lock;
mod logging;
mod plan;
mod repair;
mod report;
mod scaffold;
mod shutdown;
mod snapshot;
mod source;
mod sql;
mod tenancy;
mod tls;
mod verify;
mod wait;

use std::process::ExitCode;

fn main() -> ExitCode {
    match app::run() {
        Ok(code) => code,
        Err(e) => {
            report::print_error(&e, logging::is_json());
            e.into()
        }
    }
}

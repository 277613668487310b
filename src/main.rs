//! pgboot's entry point: parse the flags, run the command, print the error once, exit.

use std::process::ExitCode;

use clap::Parser;

use pgboot::{cli::Cli, commands, logging, report};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            report::print_error(&e, logging::is_json());
            ExitCode::from(e.exit_code())
        }
    }
}

//! `pgboot new <name>`: create the next migration file from the template.

use std::process::ExitCode;

use crate::config::Settings;
use crate::error::Result;

pub fn run(s: &Settings, name: &str) -> Result<ExitCode> {
    let path = crate::scaffold::create(&s.migrations, name)?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

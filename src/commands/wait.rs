//! `pgboot wait`: only wait until the database answers a query, then exit 0.

use std::process::ExitCode;

use super::Context;
use crate::error::Result;

pub async fn run(cx: &Context<'_>) -> Result<ExitCode> {
    let (target, tls) = cx.target()?;
    cx.connect(&target, &tls).await?;
    Ok(ExitCode::SUCCESS)
}

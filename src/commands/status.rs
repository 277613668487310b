//! `pgboot status`: applied, pending, drifted, missing and failed migrations with their times.

use std::process::ExitCode;

use super::Context;
use crate::checks::indexes;
use crate::error::Result;
use crate::history;
use crate::plan;
use crate::report::views::StatusView;

pub async fn run(cx: &Context<'_>, json: bool) -> Result<ExitCode> {
    let table = cx.table()?;
    let files = super::seed::files(cx, cx.discover()?, true)?;
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    let applied = history::load(&db, &table).await?;
    let view = StatusView::new(plan::status(&applied, &files), &applied);
    crate::report::emit(&view, json);
    indexes::warn(&indexes::invalid(&db).await?);
    Ok(ExitCode::SUCCESS)
}

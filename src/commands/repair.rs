//! `pgboot repair [NAME...] [--all-drifted] [--all-failed] [--drop-invalid-indexes] [--yes]`:
//! after a human fixed something. Shows every change; makes none without `--yes`.

use std::process::ExitCode;

use super::Context;
use crate::checks::{indexes, repair};
use crate::cli::RepairArgs;
use crate::error::Result;
use crate::history;
use crate::plan;
use crate::report::views::RepairView;

pub async fn run(cx: &Context<'_>, args: &RepairArgs) -> Result<ExitCode> {
    let table = cx.table()?;
    // Repeatable files and seeds too: a failed non-transactional one is repaired the same way.
    let found = super::seed::files(cx, cx.discover()?, true)?;
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    cx.with_lock(&target, &tls, &db, async |db, _| {
        let applied = history::load(db, &table).await?;
        let rows = plan::status(&applied, &found);
        let invalid = match args.drop_invalid_indexes {
            true => indexes::invalid(db).await?,
            false => Vec::new(),
        };
        let recorded = |name: &str| {
            let a = applied.iter().find(|a| a.name == name);
            a.map(|a| a.checksum.clone())
        };
        let req = repair::Request {
            names: &args.names,
            all_drifted: args.all_drifted,
            all_failed: args.all_failed,
            drop_invalid_indexes: args.drop_invalid_indexes,
        };
        let actions = repair::actions(&req, &rows, &recorded, &invalid)?;
        crate::report::emit(
            &RepairView {
                applied: args.yes,
                actions: actions.clone(),
            },
            args.json,
        );
        if args.yes {
            repair::execute(db, &table, &actions).await?;
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}

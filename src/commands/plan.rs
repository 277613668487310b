//! `pgboot plan` (= `migrate --dry-run`): what `migrate` would do, changing nothing. The same
//! function as `migrate` decides (`apply::schedule`), so they cannot disagree.

use std::process::ExitCode;

use super::Context;
use crate::apply::{self, Mode};
use crate::checks::indexes;
use crate::cli::CreateDatabase;
use crate::error::{Error, Result};
use crate::history;
use crate::model::Streamed;
use crate::report::views::{CopyBlock, PlanFile, PlanView};
use crate::sql::{self, MetaAction, NoTxReason, Piece, PieceKind};

pub async fn run(cx: &Context<'_>, json: bool, create: &CreateDatabase) -> Result<ExitCode> {
    let table = cx.table()?;
    let files = super::seed::files(cx, cx.discover()?, true)?;
    let (target, tls) = cx.target()?;
    // Changes nothing: a missing database is reported as "would be created", not created.
    let (applied, invalid, would_create) = match cx.connect(&target, &tls).await {
        Ok(db) => (
            history::load(&db, &table).await?,
            indexes::invalid(&db).await?,
            false,
        ),
        Err(Error::MissingDatabase(_)) if create.create_database => (Vec::new(), Vec::new(), true),
        Err(e) => return Err(e),
    };
    let sched = apply::schedule(&applied, &files);
    let mut stops: Vec<String> = sched.plan.problems.iter().map(|p| p.describe()).collect();
    stops.extend(sched.prepared.as_ref().err().map(|e| e.to_string()));
    let pending = plan_files(&sched);
    let view = PlanView {
        target: target.to_string(),
        database: target.dbname().to_owned(),
        create_database: would_create,
        pending,
        up_to_date: sched.plan.up_to_date,
        not_run: crate::repeatable::not_run(&applied, &files),
        warnings: sched.plan.warnings.clone(),
        stops,
        invalid_indexes: invalid,
    };
    crate::report::emit(&view, json);
    if !sched.plan.problems.is_empty() {
        return Err(Error::History(sched.plan.problems));
    }
    sched.prepared?;
    Ok(ExitCode::SUCCESS)
}

/// Each pending file as `plan` shows it: how it runs, and what its psql input does. `validate`
/// reports the same.
pub(super) fn plan_files(sched: &apply::Schedule<'_>) -> Vec<PlanFile> {
    sched
        .plan
        .pending
        .iter()
        .map(|m| {
            let prepared = apply::prepare(m);
            let (copy_blocks, ignored) = match (&prepared, &m.streamed) {
                (Ok(_), Some(s)) => streamed_decisions(s),
                (Ok(p), None) => psql_decisions(&m.sql, &p.analysis.pieces),
                (Err(_), _) => (Vec::new(), Vec::new()),
            };
            let mode = prepared.map(|p| p.mode);
            let (transactional, line, statement) = match &mode {
                Ok(Mode::NoTransaction(NoTxReason::Statement { what, line, .. })) => {
                    (false, Some(*line), Some(what.clone()))
                }
                Ok(Mode::NoTransaction(NoTxReason::Directive)) => {
                    (false, Some(1), Some("-- pgboot:no-transaction".to_owned()))
                }
                Ok(Mode::NoTransaction(NoTxReason::Marker { text, line })) => {
                    (false, Some(*line), Some(text.clone()))
                }
                _ => (true, None, None),
            };
            PlanFile {
                version: m.version,
                name: m.name.clone(),
                kind: m.kind,
                reason: sched.plan.why(&m.name),
                file: m.path.display().to_string(),
                format: m.format,
                transactional,
                mode: mode.map(|m| m.describe()).unwrap_or_else(|e| e.to_string()),
                no_transaction_line: line,
                no_transaction_statement: statement,
                out_of_order: sched.plan.out_of_order.contains(&m.name.as_str()),
                includes: m.included_files(),
                variables: m.variables.clone(),
                copy_files: m.copy_files(),
                copy_blocks,
                ignored,
                streamed: m.streamed.is_some(),
            }
        })
        .collect()
}

/// The same, from what discovery learned while it streamed a large file.
fn streamed_decisions(s: &Streamed) -> (Vec<CopyBlock>, Vec<String>) {
    let copies = s
        .copy_blocks
        .iter()
        .map(|&(line, rows)| CopyBlock { line, rows })
        .collect();
    let ignored = s
        .ignored
        .iter()
        .map(|(name, line)| ignored(name, *line))
        .collect();
    (copies, ignored)
}

fn ignored(name: &str, line: usize) -> String {
    format!("\\{name} (line {line})")
}

/// What a file's psql input does: its COPY blocks, and the meta-commands that do not run.
fn psql_decisions(src: &str, pieces: &[Piece]) -> (Vec<CopyBlock>, Vec<String>) {
    let mut copies = Vec::new();
    let mut ignored = Vec::new();
    for p in pieces {
        match &p.kind {
            PieceKind::CopyIn(d) => copies.push(CopyBlock {
                line: p.line,
                rows: src[d.range.clone()].lines().count(),
            }),
            PieceKind::Meta(meta) => match sql::meta_action(&meta.name) {
                MetaAction::Ignore | MetaAction::Echo => {
                    ignored.push(self::ignored(&meta.name, meta.line))
                }
                _ => {}
            },
            PieceKind::Sql => {}
        }
    }
    (copies, ignored)
}

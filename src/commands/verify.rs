//! `pgboot verify [--json]`: the CI gate that every migration is idempotent (exit 7 on findings).

use std::process::ExitCode;

use super::Context;
use crate::checks::verify;
use crate::error::{Error, Result};
use crate::report::views::{VerifyFile, VerifyView};

pub async fn run(cx: &Context<'_>, json: bool) -> Result<ExitCode> {
    let table = cx.table()?;
    // Repeatable files too: applied after the versioned ones, then run a second time like them.
    let mut found = super::seed::files(cx, cx.discover()?, false)?;
    // The second run goes statement by statement: large files are read whole here.
    crate::source::hold_in_memory(&mut found)?;
    let (target, tls) = cx.target()?;
    let admin = cx.connect(&target, &tls).await?;
    let migrations = &found;
    let r = verify::verify(&admin, &target, &tls, &table, migrations, cx.shutdown).await?;
    let files: Vec<VerifyFile> = migrations
        .iter()
        .map(|m| {
            let file = m.file_name();
            let problems = r.problems.iter().filter(|p| p.file == file).count();
            VerifyFile {
                file,
                idempotent: problems == 0,
                problems,
            }
        })
        .collect();
    let summary = format!(
        "verify: {} files, {} not idempotent, {} tenancy findings on {} tenant-scoped tables",
        migrations.len(),
        files.iter().filter(|f| !f.idempotent).count(),
        r.tenancy.len(),
        r.tables
    );
    let clean = r.problems.is_empty() && r.tenancy.is_empty();
    let view = VerifyView {
        database: r.database,
        files,
        findings: r.problems,
        info: r.info,
        tenancy: r.tenancy,
    };
    crate::report::emit(&view, json);
    if !clean {
        return Err(Error::Findings(summary));
    }
    tracing::info!("{summary}");
    Ok(ExitCode::SUCCESS)
}

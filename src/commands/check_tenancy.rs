//! `pgboot check-tenancy [--strict] [--json]`.

use std::process::ExitCode;

use super::Context;
use crate::checks::tenancy;
use crate::error::{Error, Result};
use crate::report::views::TenancyView;

pub async fn run(cx: &Context<'_>, strict: bool, json: bool) -> Result<ExitCode> {
    let history = cx.table()?;
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    let (tables, findings) = tenancy::check(&db, &history.schema).await?;
    let line = tenancy::summary(tables, &findings);
    let errors = tenancy::has_errors(&findings);
    let n = findings.len();
    crate::report::emit(&TenancyView(findings), json);
    tracing::info!(tables, findings = n, "{line}");
    if strict && errors {
        return Err(Error::Findings(format!("{line} (--strict)")));
    }
    Ok(ExitCode::SUCCESS)
}

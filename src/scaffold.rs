//! `pgboot new <name>`: the next numbered file, from the seed's template
//! (header comment, idempotent example, closing status line).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::source::{classify, Entry};

/// `Add SSO!` → `add_sso`. Pure.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// The next file name: one more than the highest version, as wide as the existing numbers; in a
/// directory of Flyway-named files, `V<next major>__<slug>.sql`. Pure.
pub fn next_file_name(existing: &[String], slug: &str) -> String {
    let mut max = 0i64;
    let mut width = 3usize;
    let (mut flyway, mut other) = (0, 0);
    for name in existing {
        if let Entry::Migration {
            version,
            stem,
            format,
            ..
        } = classify(name)
        {
            if format == crate::model::Format::Flyway {
                flyway += 1;
            } else {
                other += 1;
            }
            let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
            if version >= max {
                max = version;
                width = digits.max(1);
            }
        }
    }
    if flyway > 0 && other == 0 {
        return format!("V{}__{slug}.sql", max + 1);
    }
    format!("{:0width$}_{slug}.sql", max + 1)
}

fn title(slug: &str) -> String {
    slug.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The template. Pure.
pub fn template(slug: &str, date: &str) -> String {
    let title = title(slug);
    format!(
        "/**
 * {title} Migration
 * Describe what this migration does and why.
 * Created: {date}
 */

-- Keep every statement idempotent (safe to run twice): IF NOT EXISTS / IF EXISTS,
-- CREATE OR REPLACE for functions and views, guarded DO blocks for the rest.
-- A tenant-scoped table needs tenant_id uuid NOT NULL, an index leading with it,
-- row level security enabled and forced, and the tenant_isolation policy.
--
-- CREATE TABLE IF NOT EXISTS public.{slug} (
--   id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
--   tenant_id  uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
--   created_at timestamptz NOT NULL DEFAULT now()
-- );
-- CREATE INDEX IF NOT EXISTS {slug}_tenant_id_idx ON public.{slug} (tenant_id);
-- SELECT public.enable_tenant_isolation('public.{slug}');
-- GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.{slug} TO clientforge_app;

SELECT '{title} migration complete!' AS status;
"
    )
}

/// Writes the new file and returns its path. Never overwrites.
pub fn create(dir: &Path, name: &str) -> Result<PathBuf> {
    let slug = slug(name);
    if slug.is_empty() {
        return Err(Error::Config(format!(
            "migration name {name:?} has no letters or digits; e.g. pgboot new add_sso"
        )));
    }
    let existing: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| {
            Error::Source(format!(
                "migrations directory {}: {e}; create it or set --migrations",
                dir.display()
            ))
        })?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    let path = dir.join(next_file_name(&existing, &slug));
    let date = &humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..10];
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, template(&slug, date).as_bytes()))
        .map_err(|e| Error::Source(format!("{}: {e}", path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbering_keeps_the_width() {
        let seed = names(&[
            "001_initial_schema.sql",
            "002_perf.sql",
            "011_pgvector_embeddings.sql",
            "README.md",
        ]);
        assert_eq!(next_file_name(&seed, "add_sso"), "012_add_sso.sql");
        assert_eq!(
            next_file_name(&names(&["20251110_sso.sql"]), "x"),
            "20251111_x.sql"
        );
        assert_eq!(
            next_file_name(&names(&["9_a.up.sql", "10_b.sql"]), "c"),
            "11_c.sql"
        );
        assert_eq!(next_file_name(&[], "first"), "001_first.sql");
        assert_eq!(
            next_file_name(&names(&["V1__a.sql", "V1.10__b.sql", "V2__c.sql"]), "d"),
            "V3__d.sql"
        );
    }

    #[test]
    fn slugs_and_template() {
        assert_eq!(slug("Add SSO providers!"), "add_sso_providers");
        assert_eq!(slug("  --  "), "");
        let t = template("add_sso", "2026-11-25");
        assert!(t.starts_with("/**\n * Add Sso Migration"));
        assert!(t.contains("Created: 2026-11-25"));
        assert!(t
            .trim_end()
            .ends_with("SELECT 'Add Sso migration complete!' AS status;"));
        let a = crate::sql::analyze(&t);
        assert!(a.errors.is_empty() && a.no_transaction.is_none());
    }
}

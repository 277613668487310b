//! Throughput of [`analyze`](crate::sql::analyze) on large generated files, for `bench/lexer.sh`
//! (which compiles this file with `src/sql/` alone, optimised) and the ignored test
//! `sql::tests::bench_analyze`. Refers to the lexer only as `crate::sql`, so that it builds both
//! inside pgboot and in the script's stand-alone harness.

use std::time::Instant;

/// Statements cycled through to make a file: plain ones, strings, a dollar-quoted body.
const STATEMENTS: &[&str] = &[
    "SELECT 1;",
    "INSERT INTO contacts (id, name, note) VALUES (42, 'O''Brien', E'tab\\there');",
    "UPDATE deals SET stage = 'won' WHERE id = $1 AND note <> '✓ é';",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;",
    "/* a comment */ DELETE FROM t WHERE a IN (1, 2, 3);",
];

/// A file of about `bytes` bytes of statements, separated by `sep`.
pub(crate) fn generate(bytes: usize, sep: &str) -> String {
    let mut out = String::with_capacity(bytes + 128);
    for s in STATEMENTS.iter().cycle() {
        if out.len() >= bytes {
            break;
        }
        out.push_str(s);
        out.push_str(sep);
    }
    out
}

/// Prints one line per size (MiB) and layout: pieces, seconds and MiB/s of `analyze`.
pub(crate) fn run(sizes_mib: &[usize]) {
    for &mib in sizes_mib {
        for (layout, sep) in [("one line", " "), ("multi-line", "\n")] {
            let src = generate(mib << 20, sep);
            let t = Instant::now();
            let a = crate::sql::analyze(&src);
            let secs = t.elapsed().as_secs_f64();
            let size = src.len() as f64 / (1 << 20) as f64;
            println!(
                "analyze {size:5.2} MiB {layout:<10}: {:>7} pieces, {secs:8.3} s, {:8.1} MiB/s",
                a.pieces.len(),
                size / secs
            );
        }
    }
}

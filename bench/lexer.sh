#!/usr/bin/env bash
# Benchmark: throughput of pgboot's SQL lexer/splitter (`sql::analyze`) on generated files of
# 1, 2 and 8 MiB, written on one line and on many lines (src/sql/bench.rs makes them).
#
# Usage: bench/lexer.sh [--cargo] [REV]
#   default   compiles src/sql/ alone with a small main (rustc, opt-level "s" like the release
#             profile; no dependencies, so it builds in seconds) and runs it;
#   REV       benchmarks src/sql/ as of that git revision instead (src/sql/bench.rs always
#             comes from the work tree), for a before/after comparison;
#   --cargo   runs the same code as the ignored test through cargo, in the release profile:
#               cargo test --release --lib sql::tests::bench_analyze -- --ignored --nocapture
#             (the first run builds every dependency with LTO: minutes).
# PGBOOT_BENCH_MIB=1,2 picks other sizes (a quadratic revision needs minutes for 8 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGBOOT_BENCH_MIB=${PGBOOT_BENCH_MIB:-1,2,8}
if [ "${1:-}" = --cargo ]; then
  cmd=(cargo test --release --lib sql::tests::bench_analyze -- --ignored --nocapture)
  echo "+ PGBOOT_BENCH_MIB=$PGBOOT_BENCH_MIB ${cmd[*]}"
  "${cmd[@]}"
  exit
fi
rev=${1:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sql=$PWD/src/sql
if [ -n "$rev" ]; then
  git archive "$rev" src/sql | tar -x -C "$tmp"
  sql=$tmp/src/sql
fi
cat >"$tmp/main.rs" <<RS
#![allow(dead_code, unused_imports)]
#[path = "$sql/mod.rs"]
mod sql;
#[path = "$PWD/src/sql/bench.rs"]
mod bench;
fn main() {
    let sizes: Vec<usize> = std::env::var("PGBOOT_BENCH_MIB").unwrap()
        .split(',').map(|s| s.trim().parse().expect("PGBOOT_BENCH_MIB: sizes in MiB")).collect();
    bench::run(&sizes);
}
RS
build=(rustc --edition 2021 -C opt-level=s -C codegen-units=1 -o "$tmp/bench-lexer" "$tmp/main.rs")
echo "+ ${build[*]}   # src/sql of ${rev:-the work tree}"
"${build[@]}"
echo "+ PGBOOT_BENCH_MIB=$PGBOOT_BENCH_MIB $tmp/bench-lexer"
"$tmp/bench-lexer"

#!/usr/bin/env bash
# The release profile, chosen by measurement: builds pgboot with each opt-level (Cargo.toml's
# [profile.release] otherwise: lto, codegen-units = 1, strip, panic = abort) into its own target
# directory and measures
#   - the stripped binary's size (the limit is 8 MB),
#   - CPU time (user + sys, GNU time) of `pgboot migrate` applying 1,000 files to a new database,
#   - CPU time and peak RSS of `pgboot plan` on one 100 MB file (lexing it),
# each the median of RUNS runs, the two builds in turn.
#
# Usage: bench/profile.sh [RUNS] [LEVELS...]   (default 5 runs; levels s 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(s 3)
source bench/lib.sh
declare -A bins=()
current=$(sed -n '/^\[profile.release\]/,/^\[/ s/^opt-level *= *"\{0,1\}\([^"]*\)"\{0,1\}/\1/p' Cargo.toml)
for l in "${levels[@]}"; do
  if [ "$l" = "$current" ]; then bins[$l]=$bin; continue; fi   # lib.sh built it
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$l cargo build --release --locked -q --target-dir "target/opt-$l"
  bins[$l]=$PWD/target/opt-$l/release/pgboot
done
psql() { command psql -X -q -h 127.0.0.1 -p "$port" -U postgres "$@"; }
# 1,000 files of three statements; one file of ~100 MB of INSERTs with strings, comments and
# dollar quotes for the lexer.
python3 - "$tmp" <<'EOF'
import os, sys
root = sys.argv[1]
os.makedirs(f"{root}/many"); os.makedirs(f"{root}/big")
for i in range(1, 1001):
    with open(f"{root}/many/{i:04d}_m.sql", "w") as f:
        f.write(f"CREATE TABLE t_{i} (id bigint PRIMARY KEY, v text NOT NULL);\n"
                f"INSERT INTO t_{i} VALUES (1, 'one');\nCREATE INDEX t_{i}_v ON t_{i} (v);\n")
with open(f"{root}/big/001_big.sql", "w") as f:
    f.write("CREATE TABLE big (id bigint, v text, j jsonb);\n")
    chunk = "".join(
        f"INSERT INTO big VALUES ({i}, 'it''s row {i} -- not a comment', '{{\"k\": {i}}}'); /* c */ -- line\n"
        for i in range(1000))
    body = "DO $x$ BEGIN PERFORM 1; END $x$;\n"
    while f.tell() < 100 * 1024 * 1024:
        f.write(chunk); f.write(body)
EOF
cpu() { # prints "user+sys_seconds maxrss_kib" of the command
  /usr/bin/time -f '%U %S %M' -o "$tmp/time" "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }
  awk '{printf "%.3f %d\n", $1 + $2, $3}' "$tmp/time"
}
declare -A migrate=() plan=() rss=()
n=0
for r in $(seq 1 "$runs"); do
  for l in "${levels[@]}"; do
    n=$((n + 1))
    psql -d postgres -c "CREATE DATABASE m$n"
    read -r c _ < <(DATABASE_URL="postgres://postgres@127.0.0.1:$port/m$n?sslmode=disable" \
      PGBOOT_MIGRATIONS=$tmp/many PGBOOT_LOG=warn cpu "${bins[$l]}" migrate)
    migrate[$l]+="$c "
    psql -d postgres -c "DROP DATABASE m$n"
    read -r c m < <(DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" \
      PGBOOT_MIGRATIONS=$tmp/big PGBOOT_LOG=warn cpu "${bins[$l]}" plan)
    plan[$l]+="$c "; rss[$l]+="$m "
  done
done
echo "pgboot $("$bin" --version | cut -d' ' -f2), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $runs runs each, $(nproc) cores, big file $(du -m "$tmp/big/001_big.sql" | cut -f1) MB"
printf '| opt-level | binary (stripped) | CPU, migrate 1,000 files | CPU, plan on 100 MB | peak RSS, plan |\n|---|---|---|---|---|\n'
for l in "${levels[@]}"; do
  size=$(stat -c %s "${bins[$l]}")
  printf '| "%s"%s | %s MB | %s s | %s s | %s MiB |\n' "$l" "$([ "$l" = "$current" ] && echo ' (Cargo.toml)')" \
    "$(awk -v s="$size" 'BEGIN {printf "%.2f", s / 1e6}')" \
    "$(printf '%s\n' ${migrate[$l]} | median)" "$(printf '%s\n' ${plan[$l]} | median)" \
    "$(( $(printf '%s\n' ${rss[$l]} | median) / 1024 ))"
done

#!/usr/bin/env bash
# Benchmark: loading a pg_dump file of a populated database, psql against pgboot.
# Builds pgbench's tables at scale S (100,000 rows of pgbench_accounts per unit) in a throwaway
# local cluster, dumps them in plain format (with COPY, and with --inserts at a tenth of the
# scale), then loads each dump N times into fresh databases with `psql -v ON_ERROR_STOP=1 -f` and
# with `pgboot migrate` (the dump as 001_dump.sql). Prints the medians, their ratio, the dump
# size and both programs' peak RSS (GNU time).
#
# Usage: bench/dump.sh [SCALE] [RUNS]      (default 5 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-5}
runs=${2:-3}
# fsync and synchronous_commit on, as on any real server (lib.sh turns fsync off by default).
EXTRA_CONF="-c max_wal_size=2GB -c fsync=on -c synchronous_commit=on ${EXTRA_CONF:-}"
source bench/lib.sh
url() { echo "postgres://postgres@127.0.0.1:$port/$1?sslmode=disable"; }
export PGBOOT_LOG_FORMAT=json PGBOOT_LOG=warn
command psql -X -q -d "$(url postgres)" -c "CREATE DATABASE src" -c "CREATE DATABASE src_small"
"$pgbin/pgbench" -q -i -s "$scale" "$(url src)" >/dev/null 2>&1
"$pgbin/pgbench" -q -i -s "$(( scale > 9 ? scale / 10 : 1 ))" "$(url src_small)" >/dev/null 2>&1
n=0
bench() { # label, pg_dump args...
  local label=$1; shift
  local dir="$tmp/$label"; mkdir -p "$dir"
  "$pgbin/pg_dump" "$@" > "$dir/001_dump.sql"
  local size; size=$(du -m "$dir/001_dump.sql" | cut -f1)
  local a=() b=() ra rb
  for _ in $(seq 1 "$runs"); do
    n=$((n + 1))
    command psql -X -q -d "$(url postgres)" -c "CREATE DATABASE p$n" -c "CREATE DATABASE g$n"
    t=$(now); command psql -X -q -v ON_ERROR_STOP=1 -d "$(url p$n)" -f "$dir/001_dump.sql" >/dev/null; a+=($(( ($(now) - t) / 1000000 )))
    t=$(now); DATABASE_URL=$(url g$n) PGBOOT_MIGRATIONS=$dir "$bin" migrate; b+=($(( ($(now) - t) / 1000000 )))
  done
  n=$((n + 1))
  command psql -X -q -d "$(url postgres)" -c "CREATE DATABASE p$n" -c "CREATE DATABASE g$n"
  ra=$( { /usr/bin/time -f '%M' "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -d "$(url p$n)" -f "$dir/001_dump.sql" >/dev/null; } 2>&1 | tail -1)
  rb=$( { DATABASE_URL=$(url g$n) PGBOOT_MIGRATIONS=$dir /usr/bin/time -f '%M' "$bin" migrate; } 2>&1 | tail -1)
  local ma mb; ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
  printf '%-22s %5s MB  psql %6s ms  pgboot %6s ms  ratio %s  peak RSS psql %s KiB, pgboot %s KiB\n' \
    "$label" "$size" "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.2f", b / a}')" "$ra" "$rb"
}
echo "pgboot $("$bin" --version | cut -d' ' -f2), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), pgbench scale $scale, $runs runs, $(nproc) cores"
bench "copy-s$scale" "$(url src)"
bench "inserts-s$(( scale > 9 ? scale / 10 : 1 ))" --inserts "$(url src_small)"

#!/usr/bin/env bash
# Benchmark: peak memory (and time) applying a ~200 MB file of COPY data and a ~200 MB file of
# INSERT statements, psql against pgboot (issue 10: under 64 MiB whatever the file's size).
# pgbench's tables at scale C (COPY dump) and I (--inserts dump) in a throwaway local cluster,
# dumped in plain format; each file is loaded once into a fresh database by
# `psql -v ON_ERROR_STOP=1 -f` and by `pgboot migrate` (the dump as 001_dump.sql, and gzip'd as
# 001_dump.sql.gz), under GNU time: wall seconds and peak RSS.
# psql loads the INSERT file with --single-transaction (-1): in autocommit, one commit per row,
# it takes minutes; pgboot runs every file in one transaction anyway.
#
# Usage: bench/memory.sh [C] [I]      (default 22 and 15: about 200 MB each)
#        SKIP_PSQL=inserts bench/memory.sh   skips psql on the INSERT file (8 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
copy_scale=${1:-22}
insert_scale=${2:-15}
EXTRA_CONF="-c max_wal_size=4GB"
source bench/lib.sh
url() { echo "postgres://postgres@127.0.0.1:$port/$1?sslmode=disable"; }
export PGBOOT_LOG_FORMAT=json PGBOOT_LOG=warn
command psql -X -q -d "$(url postgres)" -c "CREATE DATABASE src_copy" -c "CREATE DATABASE src_inserts"
"$pgbin/pgbench" -q -i -s "$copy_scale" "$(url src_copy)" >/dev/null 2>&1
"$pgbin/pgbench" -q -i -s "$insert_scale" "$(url src_inserts)" >/dev/null 2>&1
n=0
fresh() { n=$((n + 1)); db=m$n; command psql -X -q -d "$(url postgres)" -c "CREATE DATABASE $db"; }
measure() { # label, command...: prints "label  seconds  peak-RSS-MiB"
  local label=$1; shift
  /usr/bin/time -o "$tmp/time" -f 'TIME %e %M' "$@" >/dev/null 2>"$tmp/stderr" || { echo "$label failed:"; tail -5 "$tmp/stderr"; exit 1; }
  local out; out=$(grep '^TIME' "$tmp/time" | tail -1)
  awk -v l="$label" -v o="$out" 'BEGIN {split(o, a, " "); printf "  %-28s %8.2f s  peak RSS %7.1f MiB\n", l, a[2], a[3] / 1024}'
}
bench() { # label, psql extra args, pg_dump args...
  local label=$1 psql_args=$2; shift 2
  local dir="$tmp/$label" gzdir="$tmp/$label-gz"; mkdir -p "$dir" "$gzdir"
  "$pgbin/pg_dump" "$@" > "$dir/001_dump.sql"
  gzip -1 -c "$dir/001_dump.sql" > "$gzdir/001_dump.sql.gz"
  echo "$label: $(du -m "$dir/001_dump.sql" | cut -f1) MB ($(du -m "$gzdir/001_dump.sql.gz" | cut -f1) MB gzip'd), $(wc -l < "$dir/001_dump.sql") lines"
  if [ "${SKIP_PSQL:-}" = "${label%%-*}" ]; then echo "  psql: skipped (SKIP_PSQL)"; else
  fresh; measure "psql $psql_args" "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 $psql_args -d "$(url "$db")" -f "$dir/001_dump.sql"; fi
  fresh; measure "pgboot" env DATABASE_URL="$(url "$db")" PGBOOT_MIGRATIONS="$dir" "$bin" migrate
  fresh; measure "pgboot (.sql.gz)" env DATABASE_URL="$(url "$db")" PGBOOT_MIGRATIONS="$gzdir" "$bin" migrate
  fresh; measure "pgboot plan" env DATABASE_URL="$(url "$db")" PGBOOT_MIGRATIONS="$dir" "$bin" plan
}
echo "pgboot $("$bin" --version | cut -d' ' -f2), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $(nproc) cores"
bench "copy-s$copy_scale" "" "$(url src_copy)"
bench "inserts-s$insert_scale" "-1" --inserts "$(url src_inserts)"

#!/usr/bin/env bash
# Benchmark: pgboot on the ClientForge set (migrations/ 001-010) against a throwaway local
# PostgreSQL cluster. Prints the median wall time of N runs of
#   - a fresh apply (new empty database),
#   - a no-op rerun (everything already applied),
#   - the same files through `psql -f` one by one (what initdb.d / the seed's manual path does),
# and pgboot's peak RSS (GNU time). Usage: bench/migrate.sh [RUNS]   (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
source bench/lib.sh
mig="$tmp/migrations"; mkdir "$mig"; cp migrations/0*.sql "$mig"/; rm -f "$mig"/011_*.sql
psql() { command psql -X -q -h 127.0.0.1 -p "$port" -U postgres "$@"; }
export PGBOOT_LOG_FORMAT=json PGBOOT_LOG=warn PGBOOT_MIGRATIONS=$mig
fresh=(); noop=(); viapsql=()
for i in $(seq 1 "$runs"); do
  psql -d postgres -c "CREATE DATABASE b$i" -c "CREATE DATABASE p$i"
  url="postgres://postgres@127.0.0.1:$port/b$i?sslmode=disable"
  t=$(now); DATABASE_URL=$url "$bin" migrate; fresh+=($(( ($(now) - t) / 1000000 )))
  t=$(now); DATABASE_URL=$url "$bin" migrate; noop+=($(( ($(now) - t) / 1000000 )))
  t=$(now); for f in "$mig"/*.sql; do psql -d "p$i" -v ON_ERROR_STOP=1 -f "$f" >/dev/null; done; viapsql+=($(( ($(now) - t) / 1000000 )))
done
rss=$( { DATABASE_URL="postgres://postgres@127.0.0.1:$port/rss?sslmode=disable" /usr/bin/time -f '%M' "$bin" migrate --create-database; } 2>&1 | tail -1)
echo "pgboot $("$bin" --version | cut -d' ' -f2), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $(ls "$mig" | wc -l) files, $runs runs, $(nproc) cores"
echo "fresh apply (median):     $(printf '%s\n' "${fresh[@]}" | median) ms"
echo "no-op rerun (median):     $(printf '%s\n' "${noop[@]}" | median) ms"
echo "psql -f per file (median): $(printf '%s\n' "${viapsql[@]}" | median) ms"
echo "peak RSS of a fresh apply: ${rss} KiB"

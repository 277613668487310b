#!/usr/bin/env bash
# What sending several files per simple-query message could save at most (issue 12): the
# round trips it removes. pgbench measures one round trip of a statement that does nothing
# (`SELECT 1`, simple protocol, over TCP to a local server as pgboot connects); a 1,000-file
# run makes one round trip per file, so batching N files per message saves at most
# 1,000 × (1 - 1/N) round trips. Printed next to a 1,000-file run's wall time (the peers set:
# CREATE TABLE, INSERT, CREATE INDEX per file) measured on the same server.
#
# Usage: bench/roundtrip.sh [SECONDS]     (default 5 seconds of pgbench)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
EXTRA_CONF="-c fsync=on -c synchronous_commit=on -c max_wal_size=4GB"
source bench/lib.sh
url() { echo "postgres://postgres@127.0.0.1:$port/$1?sslmode=disable"; }
echo "SELECT 1;" > "$tmp/one.sql"
lat=$("$pgbin/pgbench" -n -M simple -T "$secs" -f "$tmp/one.sql" "$(url postgres)" 2>/dev/null \
  | awk '/latency average/ {print $4}')
d=$tmp/set; mkdir -p "$d"
for i in $(seq -w 1 1000); do
  printf 'CREATE TABLE t_%s (id bigint PRIMARY KEY, v text NOT NULL);\nINSERT INTO t_%s (id, v) VALUES (1, %s);\nCREATE INDEX t_%s_v ON t_%s (v);\n' \
    "$i" "$i" "'one'" "$i" "$i" > "$d/${i}_m.sql"
done
command psql -X -q -d "$(url postgres)" -c "CREATE DATABASE r" -c CHECKPOINT
t=$(now)
DATABASE_URL=$(url r) PGBOOT_MIGRATIONS=$d PGBOOT_LOG=warn PGBOOT_LOG_FORMAT=json "$bin" migrate
run=$(( ($(now) - t) / 1000000 ))
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
echo "one round trip (pgbench, SELECT 1, simple protocol): $lat ms"
echo "pgboot, 1,000 files:                                  $run ms"
awk -v l="$lat" -v r="$run" 'BEGIN {
  printf "round trips of those 1,000 files:                    %.0f ms (%.1f %% of the run)\n", 1000 * l, 100000 * l / r
  printf "the most 10 files per message could save:           %.0f ms (%.1f %%)\n", 900 * l, 90000 * l / r
}'

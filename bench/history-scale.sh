#!/usr/bin/env bash
# A history of 10,000 applied files: how long a no-op `pgboot migrate` and `pgboot status --json`
# take (targets: ≤ 100 ms and ≤ 200 ms). Generates FILES one-line files, applies them once
# (timed too), then times RUNS no-op migrates and RUNS `status --json` and prints the medians
# and the slowest, plus `pgboot plan` (no lock, no history writes) for comparison.
#
# Usage: bench/history-scale.sh [RUNS] [FILES]   (default 11 runs, 10000 files)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-11}
files=${2:-10000}
source bench/lib.sh
mig="$tmp/migrations"; mkdir "$mig"
python3 - "$mig" "$files" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    with open(os.path.join(d, f"{i:05d}_step.sql"), "w") as f:
        f.write(f"SELECT {i} AS n;\n")
EOF
command psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE h"
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/h?sslmode=disable"
export PGBOOT_MIGRATIONS=$mig PGBOOT_LOG_FORMAT=json PGBOOT_LOG=warn
ms() { local t; t=$(now); "$@" >/dev/null; echo $(( ($(now) - t) / 1000000 )); }
# CPU time (user + sys, ms) of one run: on a busy machine the wall time is mostly waiting to run.
cpu() { /usr/bin/time -f '%U %S' -o "$tmp/time" "$@" >/dev/null; awk '{printf "%d\n", ($1 + $2) * 1000}' "$tmp/time"; }
first=$(ms "$bin" migrate)
rows=$(command psql -X -qtA -h 127.0.0.1 -p "$port" -U postgres -d h -c "SELECT count(*) FROM pgboot.schema_history")
[ "$rows" = "$files" ] || { echo "expected $files history rows, found $rows" >&2; exit 1; }
noop=(); status=(); plan=(); noop_cpu=(); status_cpu=()
for _ in $(seq 1 "$runs"); do
  noop+=($(ms "$bin" migrate))
  status+=($(ms "$bin" status --json))
  plan+=($(ms "$bin" plan))
  noop_cpu+=($(cpu "$bin" migrate))
  status_cpu+=($(cpu "$bin" status --json))
done
max() { sort -n | tail -1; }
echo "pgboot $("$bin" --version | cut -d' ' -f2), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $files one-line files, $runs runs, $(nproc) cores"
echo "first apply of $files files:         $first ms"
echo "no-op migrate (median, max):        $(printf '%s\n' "${noop[@]}" | median) ms, $(printf '%s\n' "${noop[@]}" | max) ms"
echo "status --json (median, max):        $(printf '%s\n' "${status[@]}" | median) ms, $(printf '%s\n' "${status[@]}" | max) ms"
echo "CPU of no-op migrate (median):      $(printf '%s\n' "${noop_cpu[@]}" | median) ms"
echo "CPU of status --json (median):      $(printf '%s\n' "${status_cpu[@]}" | median) ms"
echo "load average at the end:            $(cut -d' ' -f1-3 /proc/loadavg)"
echo "plan (median, max):                 $(printf '%s\n' "${plan[@]}" | median) ms, $(printf '%s\n' "${plan[@]}" | max) ms"

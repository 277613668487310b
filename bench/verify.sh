#!/usr/bin/env bash
# Benchmark: `pgboot verify` on a generated 160-file tree against a throwaway local PostgreSQL
# cluster. The tree is shaped like a real project's: tables with indexes, constraints, RLS
# policies, triggers and functions, seed rows with ON CONFLICT, ALTERs, a view, and several
# create/drop pairs (an index, a column, a table created by one file and dropped by a later
# one), all idempotent, so verify must exit 0 with one information line per pair.
# Prints the median wall time of N runs, the log's phase lines of the last run, and the
# information lines. Usage: bench/verify.sh [RUNS] [FILES]   (defaults 3, 160)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
files=${2:-160}
source bench/lib.sh
mig="$tmp/migrations"; mkdir "$mig"
python3 - "$mig" "$files" <<'EOF'
import sys, os
d, n = sys.argv[1], int(sys.argv[2])
def w(i, name, sql):
    open(os.path.join(d, f"{i:03d}_{name}.sql"), "w").write(f"-- {name}\n{sql}\nSELECT '{name} complete!' AS status;\n")
w(1, "base", "CREATE TABLE IF NOT EXISTS tenants (id uuid PRIMARY KEY, name text NOT NULL);")
pairs = {}
t = 0
for i in range(2, n + 1):
    k = i % 8
    if i in pairs:
        w(i, f"undo_{i}", pairs[i])
    elif k == 0 and i + 25 <= n:
        # A create/drop pair: this file creates, a file 25 later drops.
        w(i, f"tmp_index_{i}", f"CREATE INDEX IF NOT EXISTS tmp_idx_{i} ON t{t} (name);")
        pairs[i + 25] = f"DROP INDEX IF EXISTS tmp_idx_{i};"
    elif k == 4 and i + 30 <= n:
        w(i, f"tmp_table_{i}", f"CREATE TABLE IF NOT EXISTS tmp_{i} (id int PRIMARY KEY, note text);")
        pairs[i + 30] = f"DROP TABLE IF EXISTS tmp_{i};"
    elif k == 2 and t > 0:
        w(i, f"alter_{i}", f"ALTER TABLE t{t} ADD COLUMN IF NOT EXISTS extra_{i} integer DEFAULT 0;\n"
                           f"CREATE INDEX IF NOT EXISTS t{t}_extra_{i}_idx ON t{t} (tenant_id, extra_{i});")
    elif k == 6 and t > 0:
        w(i, f"fn_{i}", f"CREATE OR REPLACE FUNCTION count_t{t}_{i}(p uuid) RETURNS bigint\n"
                        f"LANGUAGE sql STABLE AS $$ SELECT count(*) FROM t{t} WHERE tenant_id = p $$;\n"
                        f"CREATE OR REPLACE VIEW v_t{t}_{i} AS SELECT tenant_id, count(*) AS n FROM t{t} GROUP BY tenant_id;")
    else:
        t += 1
        w(i, f"table_{t}", f"""CREATE TABLE IF NOT EXISTS t{t} (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);
CREATE INDEX IF NOT EXISTS t{t}_tenant_idx ON t{t} (tenant_id, updated_at);
ALTER TABLE t{t} ENABLE ROW LEVEL SECURITY;
ALTER TABLE t{t} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON t{t};
CREATE POLICY tenant_isolation ON t{t}
  USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
CREATE OR REPLACE FUNCTION t{t}_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
DROP TRIGGER IF EXISTS t{t}_touch ON t{t};
CREATE TRIGGER t{t}_touch BEFORE UPDATE ON t{t} FOR EACH ROW EXECUTE FUNCTION t{t}_touch();
INSERT INTO tenants (id, name) VALUES ('00000000-0000-0000-0000-{t:012d}', 'tenant {t}') ON CONFLICT DO NOTHING;
INSERT INTO t{t} (tenant_id, name) VALUES ('00000000-0000-0000-0000-{t:012d}', 'seed') ON CONFLICT DO NOTHING;""")
EOF
psql() { command psql -X -q -h 127.0.0.1 -p "$port" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE target"
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/target?sslmode=disable"
export PGBOOT_MIGRATIONS=$mig PGBOOT_LOG_FORMAT=text
times=()
for i in $(seq 1 "$runs"); do
  t=$(now); "$bin" verify >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/out" "$tmp/err"; exit 1; }
  times+=($(( ($(now) - t) / 1000000 )))
done
echo "pgboot $("$bin" --version | cut -d' ' -f2), PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}'), $(ls "$mig" | wc -l) files, $runs runs, $(nproc) cores"
echo "verify wall time (median): $(printf '%s\n' "${times[@]}" | median) ms   (runs: ${times[*]})"
grep -o 'verify: .*' "$tmp/err" | sed 's/^/  /'
echo "information lines: $(grep -c '^info:' "$tmp/out" || true); findings: $(grep -vc '^info:' "$tmp/out" || true)"

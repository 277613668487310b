#!/usr/bin/env bash
# Development check for migrations/*.sql against a running PostgreSQL server.
#
# Usage: tests/sql/check_schema.sh [PORT] [HOST]
#   PORT defaults to $PGPORT or 5432, HOST to $PGHOST or localhost.
#   Connects as $PGUSER (a superuser; password via $PGPASSWORD or ~/.pgpass)
#   to the maintenance database $PGDATABASE (default: postgres), creates
#   scratch databases and a scratch LOGIN role, and drops them at the end
#   (KEEP=1 keeps them for inspection).
#
# What it checks:
#   1. Every migration applies with `psql -v ON_ERROR_STOP=1 --single-transaction -f`
#      without errors or warnings; catalog snapshot (src/checks/catalog_snapshot.sql
#      after src/checks/scope.sql);
#      every migration applied a second time; snapshot again: identical.
#   2. The same with plain `psql -f` (autocommit, statement by statement) and
#      with each file sent as ONE simple-query message wrapped in BEGIN/COMMIT
#      (how a runner sends it): both twice, snapshots identical to (1).
#   3. Static tenancy rules from the catalog (tenant_catalog_check.sql).
#   4. Tenant isolation: fixture rows for two tenants in every tenant-scoped
#      table (tenant_fixtures.sql, inserted through the app role, i.e. through
#      RLS); fails if any tenant-scoped table has no rows for both tenants
#      (missing fixture); tenant A cannot read/update/delete B's rows nor write
#      rows for B (tenant_isolation_check.sql); a session without tenant sees
#      nothing and gets no error (tenant_no_context_check.sql); B's rows are
#      unchanged afterwards; clientforge_app cannot TRUNCATE, alter tables,
#      read the cross-tenant views or write global/append-only tables
#      (app_privileges_check.sql); search_embeddings() filters by itself
#      (tenant_function_check.sql); deleting tenant B cascades cleanly.
#
# 011_pgvector_embeddings.sql is skipped when the server does not offer the
# "vector" extension (set REQUIRE_VECTOR=1 to make that an error).
set -euo pipefail

PORT=${1:-${PGPORT:-5432}}
HOST=${2:-${PGHOST:-localhost}}
export PGPORT=$PORT PGHOST=$HOST
ADMIN_DB=${PGDATABASE:-postgres}
unset PGDATABASE

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MIGRATIONS_DIR=${MIGRATIONS_DIR:-$ROOT/migrations}

TAG="cs$$_$(date +%s)"
DB_TX="check_schema_${TAG}_tx"
DB_PLAIN="check_schema_${TAG}_plain"
DB_SIMPLE="check_schema_${TAG}_simple"
APP_LOGIN="clientforge_check_${TAG}"
APP_PASSWORD="pw_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
TENANT_A=aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
TENANT_B=bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb
WORK=$(mktemp -d "${TMPDIR:-/tmp}/check_schema.XXXXXX")

# NOTICEs (e.g. "relation ... already exists, skipping") are expected on
# re-runs; WARNINGs and ERRORs are not.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

log()  { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$?
  if [[ "${KEEP:-0}" == 1 ]]; then
    log "KEEP=1: keeping databases $DB_TX $DB_PLAIN $DB_SIMPLE, role $APP_LOGIN, work dir $WORK"
  else
    for db in "$DB_TX" "$DB_PLAIN" "$DB_SIMPLE"; do
      "${PSQL[@]}" -d "$ADMIN_DB" -c "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true
    done
    "${PSQL[@]}" -d "$ADMIN_DB" -c "DROP ROLE IF EXISTS \"$APP_LOGIN\"" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
  if [[ $rc -eq 0 ]]; then log "ALL CHECKS PASSED"; else printf 'check_schema.sh: FAILED (exit %s)\n' "$rc" >&2; fi
}
trap cleanup EXIT

# Which relations the checks look at is defined once, in src/checks/scope.sql
# (CTEs scope_namespaces, scope_relations, tenant_tables; history schema
# "pgboot"). The query files start at their first own CTE and run composed
# after it, exactly as pgboot composes its own (src/checks/scope.rs):
#   WITH\n<scope.sql>,\n<file>
# A DO block's query cannot take a WITH prefix: the DO-block checks get
# scope.sql's tenant_tables as the temporary view pg_temp.tenant_tables,
# created in front of them in the same session.
SCOPE_SQL=$ROOT/src/checks/scope.sql
scoped() { # query file -> path of the composed copy in $WORK
  local out
  [[ -r "$SCOPE_SQL" && -r "$1" ]] || fail "cannot read $SCOPE_SQL or $1"
  out=$WORK/$(basename "$1")
  { printf 'WITH\n'; cat "$SCOPE_SQL"; printf ',\n'; cat "$1"; } >"$out"
  printf '%s\n' "$out"
}
scoped_do() { # DO-block file -> path of the composed copy in $WORK
  local out
  [[ -r "$SCOPE_SQL" && -r "$1" ]] || fail "cannot read $SCOPE_SQL or $1"
  out=$WORK/$(basename "$1")
  { printf 'CREATE TEMP VIEW tenant_tables AS\nWITH\n'; cat "$SCOPE_SQL"; printf 'SELECT * FROM tenant_tables;\n'; cat "$1"; } >"$out"
  printf '%s\n' "$out"
}
SNAPSHOT_SQL=$(scoped "$ROOT/src/checks/catalog_snapshot.sql")
CATALOG_CHECK_SQL=$(scoped "$HERE/tenant_catalog_check.sql")
ROW_COUNTS_SQL=$(scoped "$HERE/tenant_row_counts.sql")
ISOLATION_SQL=$(scoped_do "$HERE/tenant_isolation_check.sql")
NO_CONTEXT_SQL=$(scoped_do "$HERE/tenant_no_context_check.sql")

# Runs a psql command; fails on non-zero exit or on any WARNING/ERROR output.
run_psql() {
  local what=$1; shift
  local out=$WORK/out.txt
  if ! "${PSQL[@]}" "$@" >"$out" 2>&1; then
    cat "$out" >&2
    fail "$what"
  fi
  if grep -Eq '(WARNING|ERROR|FATAL|PANIC):' "$out"; then
    cat "$out" >&2
    fail "$what (server reported a warning or error)"
  fi
}

snapshot() { # db file
  "${PSQL[@]}" -At -d "$1" -f "$SNAPSHOT_SQL" >"$2" || fail "catalog snapshot of $1"
  [[ -s "$2" ]] || fail "empty catalog snapshot of $1"
}

same_snapshot() { # a b label
  if ! diff -u "$1" "$2" >"$WORK/diff.txt"; then
    cat "$WORK/diff.txt" >&2
    fail "$3"
  fi
}

# --- server and migration list ----------------------------------------------
"${PSQL[@]}" -d "$ADMIN_DB" -Atc 'SELECT 1' >/dev/null || fail "cannot connect to $HOST:$PORT as ${PGUSER:-$(id -un)}"
SERVER_VERSION=$("${PSQL[@]}" -d "$ADMIN_DB" -Atc 'SHOW server_version')
IS_SUPER=$("${PSQL[@]}" -d "$ADMIN_DB" -Atc "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
[[ "$IS_SUPER" == t ]] || fail "connect as a superuser (PGUSER)"
HAS_VECTOR=$("${PSQL[@]}" -d "$ADMIN_DB" -Atc "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
log "server $HOST:$PORT, PostgreSQL $SERVER_VERSION, pgvector available: $([[ $HAS_VECTOR == 1 ]] && echo yes || echo no)"

FILES=()
for f in "$MIGRATIONS_DIR"/[0-9][0-9][0-9]_*.sql; do
  if [[ "$(basename "$f")" == *pgvector* && "$HAS_VECTOR" != 1 ]]; then
    [[ "${REQUIRE_VECTOR:-0}" == 1 ]] && fail "pgvector is not available on this server"
    log "skipping $(basename "$f") (no pgvector on this server)"
    continue
  fi
  FILES+=("$f")
done
[[ ${#FILES[@]} -gt 0 ]] || fail "no migrations found in $MIGRATIONS_DIR"

for db in "$DB_TX" "$DB_PLAIN" "$DB_SIMPLE"; do
  run_psql "create database $db" -d "$ADMIN_DB" -c "CREATE DATABASE \"$db\""
done

apply_all() { # db mode pass
  local db=$1 mode=$2 pass=$3 f
  for f in "${FILES[@]}"; do
    case $mode in
      tx)     run_psql "$(basename "$f") ($mode, pass $pass)" --single-transaction -d "$db" -f "$f" ;;
      plain)  run_psql "$(basename "$f") ($mode, pass $pass)" -d "$db" -f "$f" ;;
      simple) run_psql "$(basename "$f") ($mode, pass $pass)" -d "$db" -c "BEGIN;
$(cat "$f")
COMMIT;" ;;
    esac
  done
}

# --- 1. apply, snapshot, re-apply, snapshot ------------------------------------
log "applying ${#FILES[@]} migrations with --single-transaction"
apply_all "$DB_TX" tx 1
snapshot "$DB_TX" "$WORK/snap_tx_1.txt"
log "catalog snapshot: $(wc -l <"$WORK/snap_tx_1.txt") lines"
log "re-applying all migrations (idempotency)"
apply_all "$DB_TX" tx 2
snapshot "$DB_TX" "$WORK/snap_tx_2.txt"
same_snapshot "$WORK/snap_tx_1.txt" "$WORK/snap_tx_2.txt" "catalog changed when the migrations were applied a second time"

# --- 2. other execution modes -------------------------------------------------
for mode in plain simple; do
  db=$DB_PLAIN; [[ $mode == simple ]] && db=$DB_SIMPLE
  log "applying migrations in $mode mode (twice)"
  apply_all "$db" "$mode" 1
  snapshot "$db" "$WORK/snap_${mode}_1.txt"
  apply_all "$db" "$mode" 2
  snapshot "$db" "$WORK/snap_${mode}_2.txt"
  same_snapshot "$WORK/snap_${mode}_1.txt" "$WORK/snap_${mode}_2.txt" "catalog changed on re-run in $mode mode"
  same_snapshot "$WORK/snap_tx_1.txt" "$WORK/snap_${mode}_1.txt" "$mode mode produced a different catalog than --single-transaction"
done

# --- 3. static tenancy rules --------------------------------------------------
log "checking tenancy rules in the catalog"
"${PSQL[@]}" -At -d "$DB_TX" -f "$CATALOG_CHECK_SQL" >"$WORK/violations.txt" || fail "tenant_catalog_check.sql"
if [[ -s "$WORK/violations.txt" ]]; then
  cat "$WORK/violations.txt" >&2
  fail "tenancy rules violated ($(wc -l <"$WORK/violations.txt") problems)"
fi
TENANT_TABLES=$("${PSQL[@]}" -At -d "$DB_TX" -f "$ROW_COUNTS_SQL" | wc -l)
log "tenant-scoped tables: $TENANT_TABLES"

# --- 4. tenant isolation --------------------------------------------------------
log "creating login role $APP_LOGIN (member of clientforge_app)"
run_psql "create login role" -d "$ADMIN_DB" -c \
  "CREATE ROLE \"$APP_LOGIN\" LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '$APP_PASSWORD' IN ROLE clientforge_app"

as_app() { # file [extra PGOPTIONS]
  PGUSER=$APP_LOGIN PGPASSWORD=$APP_PASSWORD \
  PGOPTIONS="$PGOPTIONS -c check.tenant_a=$TENANT_A -c check.tenant_b=$TENANT_B" \
    run_psql "$(basename "$1") as $APP_LOGIN" -d "$DB_TX" -f "$1"
}
as_admin() { # file
  PGOPTIONS="$PGOPTIONS -c check.tenant_a=$TENANT_A -c check.tenant_b=$TENANT_B" \
    run_psql "$(basename "$1")" -d "$DB_TX" -f "$1"
}

log "loading fixtures for tenants A and B through the app role"
as_admin "$HERE/fixtures_global.sql"
for tenant in "$TENANT_A" "$TENANT_B"; do
  {
    echo "BEGIN;"
    echo "SELECT set_config('app.current_tenant_id', '$tenant', true);"
    cat "$HERE/tenant_fixtures.sql"
    echo "COMMIT;"
  } >"$WORK/fixture_$tenant.sql"
  PGUSER=$APP_LOGIN PGPASSWORD=$APP_PASSWORD \
    run_psql "tenant_fixtures.sql for $tenant" -At -d "$DB_TX" -f "$WORK/fixture_$tenant.sql"
done

"${PSQL[@]}" -At -d "$DB_TX" -f "$ROW_COUNTS_SQL" >"$WORK/counts_before.txt" || fail "row counts"
missing=$(awk -v a="$TENANT_A" -v b="$TENANT_B" 'index($2, a"=") == 0 || index($2, b"=") == 0 { print $1 }' "$WORK/counts_before.txt")
if [[ -n "$missing" ]]; then
  cat "$WORK/counts_before.txt" >&2
  fail "tenant-scoped tables without fixture rows for both tenants (add them to tests/sql/tenant_fixtures.sql): $(echo $missing)"
fi

log "isolation: tenant A vs tenant B"
as_app "$ISOLATION_SQL"
log "isolation: session without tenant"
as_app "$NO_CONTEXT_SQL"
log "least privilege of clientforge_app"
as_app "$HERE/app_privileges_check.sql"
"${PSQL[@]}" -At -d "$DB_TX" -f "$ROW_COUNTS_SQL" >"$WORK/counts_after.txt" || fail "row counts"
same_snapshot "$WORK/counts_before.txt" "$WORK/counts_after.txt" "isolation probes changed data"
log "search function tenant filter (as superuser)"
as_admin "$HERE/tenant_function_check.sql"

log "refresh_tenant_stats() (twice)"
run_psql "refresh_tenant_stats" -d "$DB_TX" -c "SELECT public.refresh_tenant_stats(); SELECT public.refresh_tenant_stats();"

log "deleting tenant B (ON DELETE CASCADE through every table)"
run_psql "delete tenant B" -d "$DB_TX" -c "DELETE FROM public.tenants WHERE id = '$TENANT_B'"
"${PSQL[@]}" -At -d "$DB_TX" -f "$ROW_COUNTS_SQL" >"$WORK/counts_deleted.txt" || fail "row counts"
if grep -q "$TENANT_B" "$WORK/counts_deleted.txt"; then
  grep "$TENANT_B" "$WORK/counts_deleted.txt" >&2
  fail "rows of tenant B survived its deletion"
fi
left=$(awk -v a="$TENANT_A" 'index($2, a"=") == 0 { print $1 }' "$WORK/counts_deleted.txt")
[[ -z "$left" ]] || fail "deleting tenant B removed tenant A's rows in: $left"

log "PostgreSQL $SERVER_VERSION: ${#FILES[@]} migrations, idempotent in 3 modes, $TENANT_TABLES tenant-scoped tables isolated"

#!/usr/bin/env bash
# Self-test of check_schema.sh: each mutation below (appended to a copy of
# migrations/ as 099_mutation.sql) breaks one rule and MUST make
# check_schema.sh fail. Usage and connection settings as check_schema.sh:
#   tests/sql/check_schema_selftest.sh [PORT] [HOST]
# 011 (pgvector) is left out of the copy so this runs on any server.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

declare -A M=(
  [missing_fixture]="CREATE TABLE IF NOT EXISTS public.leads_import (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE, raw jsonb);
CREATE INDEX IF NOT EXISTS leads_import_tenant_id_idx ON public.leads_import (tenant_id);
DO \$\$ BEGIN PERFORM public.enable_tenant_isolation('public.leads_import'); END \$\$;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.leads_import TO clientforge_app;"
  [extra_permissive_policy]="DROP POLICY IF EXISTS leak ON public.notes; CREATE POLICY leak ON public.notes USING (true);"
  [table_without_rls]="CREATE TABLE IF NOT EXISTS public.x_norls (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS x_norls_tenant_id_idx ON public.x_norls (tenant_id);"
  [not_idempotent]="CREATE INDEX contacts_phone_idx ON public.contacts (phone);"
  [catalog_drift_on_rerun]="DO \$\$ BEGIN EXECUTE format('COMMENT ON TABLE public.contacts IS %L', clock_timestamp()::text); END \$\$;"
  [matview_granted_to_app]="GRANT USAGE ON SCHEMA reporting TO clientforge_app; GRANT SELECT ON reporting.tenant_deal_stats TO clientforge_app;"
  [truncate_granted_to_app]="GRANT TRUNCATE ON public.contacts TO clientforge_app;"
)

bad=0
for name in $(printf '%s\n' "${!M[@]}" | sort); do
  dir=$(mktemp -d)
  cp "$ROOT"/migrations/[0-9][0-9][0-9]_*.sql "$dir/"
  rm -f "$dir"/*pgvector*
  printf '%s\n' "${M[$name]}" >"$dir/099_mutation.sql"
  out=$(MIGRATIONS_DIR=$dir "$HERE/check_schema.sh" "$@" 2>&1)
  rc=$?
  rm -rf "$dir"
  if [[ $rc -eq 0 ]]; then
    echo "NOT DETECTED: $name"; bad=1
  else
    echo "detected:     $name -> $(grep -m1 '^FAIL' <<<"$out")"
  fi
done
exit $bad

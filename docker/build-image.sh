#!/usr/bin/env bash
# Builds the pgboot image from docker/Dockerfile with a binary compiled on this machine
# (BUILDER=host-build), for machines that cannot pull the Rust base image (tests, CI).
# Users with registry access build with `docker build -f docker/Dockerfile -t pgboot .` instead.
#
#   docker/build-image.sh            # -> $PGBOOT_IMAGE (default pgboot-test/pgboot:local)
#
# Needs: the x86_64-unknown-linux-musl Rust target and musl-tools (ring compiles C),
# and a docker client that can use BuildKit (skips the unused rust-build stage).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${PGBOOT_IMAGE:-pgboot-test/pgboot:local}"
TARGET=x86_64-unknown-linux-musl

# A BuildKit-capable client: buildx plugin, or a pre-23 client with built-in BuildKit
# (Debian bookworm's docker.io is 20.10 and has no buildx package).
client_major() { "$1" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 | tr -dc 0-9; }
DOCKER=
if docker buildx version >/dev/null 2>&1; then
  DOCKER=docker
else
  for c in docker /usr/bin/docker; do
    m="$(client_major "$c" || true)"
    if [ -n "$m" ] && [ "$m" -lt 23 ]; then DOCKER="$c"; break; fi
  done
fi
[ -n "$DOCKER" ] || { echo "no BuildKit-capable docker client (install buildx)" >&2; exit 1; }

cargo build --release --locked --target "$TARGET" --target-dir target/musl
mkdir -p target/docker
cp "target/musl/$TARGET/release/pgboot" target/docker/pgboot
cp /etc/ssl/certs/ca-certificates.crt target/docker/ca-certificates.crt
DOCKER_BUILDKIT=1 "$DOCKER" build -q -f docker/Dockerfile \
  --build-arg BUILDER=host-build \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -t "$IMAGE" . >/dev/null
docker image inspect -f "{{ index .RepoTags 0 }}  {{ .Size }} bytes" "$IMAGE"

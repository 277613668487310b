#!/usr/bin/env bash
# Run the PostgreSQL 17 (+pgvector) server of pgboot-test/postgres:17 WITHOUT
# Docker: chroot into the same Debian trixie root filesystem that
# build-images.sh imports, listening on 127.0.0.1:PORT only.
#
#   sudo docker/pg/run-chroot.sh ROOTFS_DIR PORT DATADIR [extra postgres args...]
#
#   ROOTFS_DIR  unpacked root filesystem. build-images.sh leaves one in
#               ${PGBOOT_CACHE:-~/.cache/pgboot}/rootfs-pg17 when it builds 17;
#               if ROOTFS_DIR does not contain PostgreSQL 17 yet, it is
#               unpacked from the cached rootfs-pg17-*.tar.zst (run
#               `docker/pg/build-images.sh 17` first if there is none).
#               Several servers may share one ROOTFS_DIR (distinct PORTs).
#   PORT        TCP port on 127.0.0.1
#   DATADIR     host directory for PGDATA (created; chowned to uid 999).
#               Empty -> initdb on first start, exactly like the image.
#
# Uses the image's docker-entrypoint.sh, so the same environment applies:
# POSTGRES_PASSWORD (default here: "postgres"), POSTGRES_USER (postgres),
# POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD.
#
# Runs in the foreground; the script's PID becomes the postmaster's PID (every
# step exec()s), so stop it with SIGINT (fast shutdown) or SIGTERM. All mounts
# (/proc, /dev, private /run/postgresql and /tmp, DATADIR bind mount) live in a
# private mount namespace (unshare -m) and disappear with the server; nothing
# has to be cleaned up on the host. Needs root (chroot, mount namespace).
#
# Example (test harness):
#   docker/pg/run-chroot.sh ~/.cache/pgboot/rootfs-pg17 55432 /tmp/pgdata & pid=$!
#   until pg_isready -q -h 127.0.0.1 -p 55432; do sleep 0.2; done
#   PGPASSWORD=postgres psql -h 127.0.0.1 -p 55432 -U postgres -c 'CREATE EXTENSION vector'
#   kill -INT "$pid"; wait "$pid"
set -euo pipefail

if [ $# -lt 3 ]; then
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
fi
ROOT="$1" PORT="$2" DATA="$3"; shift 3
MAJOR=17
CACHE="${PGBOOT_CACHE:-$HOME/.cache/pgboot}"
log() { printf '[run-chroot] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (chroot + mount namespace)"
case "$PORT" in ''|*[!0-9]*) die "PORT must be a number, got '$PORT'" ;; esac

if [ ! -x "$ROOT/usr/lib/postgresql/$MAJOR/bin/postgres" ]; then
	tarball="$(ls -t "$CACHE"/rootfs-pg$MAJOR-*.tar.zst 2>/dev/null | head -n1 || true)"
	[ -n "$tarball" ] || die "no PostgreSQL $MAJOR in $ROOT and no cached $CACHE/rootfs-pg$MAJOR-*.tar.zst; run docker/pg/build-images.sh $MAJOR"
	log "unpacking $tarball into $ROOT"
	mkdir -p "$ROOT"
	zstd -dc "$tarball" | tar --numeric-owner -xpf - -C "$ROOT"
fi
[ -x "$ROOT/usr/local/bin/docker-entrypoint.sh" ] || die "$ROOT has no docker-entrypoint.sh"
ROOT="$(cd "$ROOT" && pwd)"
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd)"

log "PostgreSQL $MAJOR from $ROOT on 127.0.0.1:$PORT, data in $DATA (pid $$)"
exec unshare --mount --propagation private -- /bin/sh -euc '
	root="$1"; data="$2"; port="$3"; shift 3
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
	mkdir -p "$root/run/postgresql"
	mount -t tmpfs -o mode=3775,uid=999,gid=999 tmpfs "$root/run/postgresql"
	mkdir -p "$root/var/lib/postgresql/data"
	mount --bind "$data" "$root/var/lib/postgresql/data"
	exec chroot "$root" /usr/bin/env -i \
		PATH="/usr/lib/postgresql/'"$MAJOR"'/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data \
		POSTGRES_USER="${POSTGRES_USER:-postgres}" \
		POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-postgres}" \
		POSTGRES_DB="${POSTGRES_DB:-}" \
		POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-}" \
		/usr/local/bin/docker-entrypoint.sh postgres \
		-c listen_addresses=127.0.0.1 -c port="$port" "$@"
' sh "$ROOT" "$DATA" "$PORT" "$@"

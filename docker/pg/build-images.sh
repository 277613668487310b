#!/usr/bin/env bash
# Build the pgboot PostgreSQL test images without any container registry.
#
#   docker/pg/build-images.sh            # build whatever is missing/outdated
#   docker/pg/build-images.sh 17         # only some majors (13, 15, 17)
#   PGBOOT_FORCE=1 docker/pg/build-images.sh    # rebuild rootfs + images
#
# Produces (each from a `debootstrap --variant=minbase` Debian root filesystem
# turned into a one-layer image with `docker load`, i.e. a hand-made
# `docker import` that can also set STOPSIGNAL; no `FROM`, no pulls):
#   pgboot-test/postgres:13  Debian bullseye + postgresql-13
#   pgboot-test/postgres:15  Debian bookworm + postgresql-15
#   pgboot-test/postgres:17  Debian trixie   + postgresql-17 + postgresql-17-pgvector
#
# The images behave like the official `postgres` image for docker-compose use:
# same entrypoint contract (POSTGRES_USER / POSTGRES_PASSWORD[_FILE] /
# POSTGRES_DB / POSTGRES_HOST_AUTH_METHOD / PGDATA, see docker-entrypoint.sh),
# postgres (uid 999) runs as PID 1 in the foreground, STOPSIGNAL SIGINT,
# VOLUME /var/lib/postgresql/data, EXPOSE 5432, pg_isready on PATH.
#
# Caching / idempotency (cache dir: ${PGBOOT_CACHE:-$HOME/.cache/pgboot}):
#   * every image carries the label pgboot.recipe=<hash of this script and the
#     entrypoint>; an existing image with the current hash is skipped;
#   * the finished root filesystem is kept as rootfs-pgNN-<suite>-<hash>.tar.zst,
#     so a lost image is re-imported in seconds without debootstrap;
#   * downloaded .debs are kept in debs/<suite> (debootstrap --cache-dir and
#     apt's archive dir), so a recipe change does not re-download everything.
#   * after building 17 the unpacked tree is left in rootfs-pg17 for
#     docker/pg/run-chroot.sh (PostgreSQL 17 as a chroot, without Docker);
#   * per-image build logs: logs/pgNN.log.
#   The missing root filesystems are built in parallel (network/IO bound).
#
# Environment:
#   PGBOOT_CACHE          cache directory (default ~/.cache/pgboot)
#   PGBOOT_DEBIAN_MIRROR  Debian mirror (default: first URI in /etc/apt/sources.list*)
#   PGBOOT_FORCE=1        ignore existing images and cached root filesystems
#   PGBOOT_JOBS           parallel root filesystem builds (default 3)
#
# Needs root, docker, debootstrap, zstd, unshare (util-linux).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${PGBOOT_CACHE:-$HOME/.cache/pgboot}"
FORCE="${PGBOOT_FORCE:-0}"
JOBS="${PGBOOT_JOBS:-3}"
REPO=pgboot-test/postgres

# major -> "suite packages..."
declare -A SPEC=(
	[13]="bullseye postgresql-13"
	[15]="bookworm postgresql-15"
	[17]="trixie postgresql-17 postgresql-17-pgvector"
)
ALL_MAJORS=(13 15 17)

log() { printf '[build-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s; }

detect_mirror() {
	if [ -n "${PGBOOT_DEBIAN_MIRROR:-}" ]; then
		echo "$PGBOOT_DEBIAN_MIRROR"; return
	fi
	local m
	# deb822 (*.sources) "URIs:" lines, then one-line "deb URI suite" format.
	m="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
		| awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' \
		| grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)"
	if [ -z "$m" ]; then
		m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
			| awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' \
			| grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)"
	fi
	echo "${m:-http://deb.debian.org/debian}"
}

preflight() {
	[ "$(id -u)" = 0 ] || die "must run as root (debootstrap/chroot)"
	local c
	for c in docker debootstrap zstd unshare chroot tar; do
		command -v "$c" >/dev/null || die "missing command: $c (apt-get install -y debootstrap zstd)"
	done
	docker info >/dev/null 2>&1 || die "docker daemon not reachable"
}

# Recipe hash: anything that changes image content changes the hash.
recipe_hash() {
	cat "$SCRIPT_DIR/build-images.sh" "$SCRIPT_DIR/docker-entrypoint.sh" | sha256sum | cut -c1-12
}

image_is_current() { # tag hash
	local label
	label="$(docker image inspect -f '{{ index .Config.Labels "pgboot.recipe" }}' "$1" 2>/dev/null)" || return 1
	[ "$label" = "$2" ]
}

# Run a command chrooted into $1 inside a private mount namespace, with /proc
# and the .deb cache mounted; the mounts vanish when the namespace exits.
in_chroot() { # rootfs debcache cmd...
	local root="$1" debs="$2"; shift 2
	unshare --mount --propagation private -- /bin/sh -euc '
		root="$1"; debs="$2"; shift 2
		mount -t proc proc "$root/proc"
		mount --bind "$debs" "$root/var/cache/apt/archives"
		exec chroot "$root" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive "$@"
	' sh "$root" "$debs" "$@"
}

# Build the root filesystem tarball for one major version.
build_rootfs() { # major suite tarball packages...
	local major="$1" suite="$2" tarball="$3"; shift 3
	local pkgs=("$@")
	local work="$CACHE/work/pg$major" debs="$CACHE/debs/$suite"
	local root="$work/rootfs"
	rm -rf "$work"
	mkdir -p "$root" "$debs/partial"

	log "pg$major: debootstrap --variant=minbase $suite ($MIRROR)"
	debootstrap --variant=minbase --cache-dir="$debs" "$suite" "$root" "$MIRROR"

	log "pg$major: configuring apt / dpkg"
	local sec="${MIRROR%/}-security"
	{
		echo "deb $MIRROR $suite main"
		echo "deb $MIRROR $suite-updates main"
		echo "deb $sec $suite-security main"
	} > "$root/etc/apt/sources.list"
	cat > "$root/etc/apt/apt.conf.d/90pgboot" <<-'APT'
	APT::Install-Recommends "false";
	APT::Install-Suggests "false";
	Acquire::Languages "none";
	Acquire::Retries "3";
	APT
	# Never install docs or translations (as Debian's slim images). Man pages
	# are deleted after installing instead: postgresql-client-NN registers
	# them with update-alternatives, which fails if they are excluded.
	cat > "$root/etc/dpkg/dpkg.cfg.d/90pgboot-nodoc" <<-'DPKG'
	path-exclude /usr/share/doc/*
	path-include /usr/share/doc/*/copyright
	path-exclude /usr/share/info/*
	path-exclude /usr/share/locale/*
	path-exclude /usr/share/lintian/*
	DPKG
	# No service starts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
	chmod +x "$root/usr/sbin/policy-rc.d"
	# The package must not create a "main" cluster: the entrypoint does initdb.
	mkdir -p "$root/etc/postgresql-common/createcluster.d"
	echo 'create_main_cluster = false' > "$root/etc/postgresql-common/createcluster.d/pgboot.conf"

	log "pg$major: apt-get install ${pkgs[*]}"
	# Same uid/gid as the official image (999), created before the package does.
	in_chroot "$root" "$debs" /bin/sh -euc '
		groupadd -r -g 999 postgres
		useradd -r -g postgres -u 999 --home-dir=/var/lib/postgresql --shell=/bin/bash postgres
		mkdir -p /var/lib/postgresql && chown postgres:postgres /var/lib/postgresql
		apt-get -q update
		apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade
		apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install "$@"
	' sh "${pkgs[@]}"

	log "pg$major: entrypoint + cleanup"
	local bindir="$root/usr/lib/postgresql/$major/bin"
	[ -x "$bindir/postgres" ] && [ -x "$bindir/initdb" ] && [ -x "$bindir/pg_isready" ] \
		|| die "pg$major: postgres binaries missing in $bindir"
	[ -x "$root/usr/bin/setpriv" ] || die "pg$major: setpriv missing in rootfs"
	# Safety net in case a cluster got created anyway.
	rm -rf "$root/etc/postgresql/$major" "$root/var/lib/postgresql/$major"
	# listen on all interfaces by default, like the official image does.
	sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" \
		"$root/usr/share/postgresql/$major/postgresql.conf.sample"
	install -m 0755 "$SCRIPT_DIR/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
	install -d -o 999 -g 999 -m 03775 "$root/var/run/postgresql"
	install -d -o 999 -g 999 -m 0700 "$root/var/lib/postgresql/data"
	rm -f "$root/usr/sbin/policy-rc.d"
	rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin \
		"$root/var/cache/apt/archives" "$root/var/cache/debconf/"*-old \
		"$root/var/lib/dpkg/"*-old "$root/var/log/"* "$root/tmp/"* "$root/root/".bash_history
	mkdir -p "$root/var/cache/apt/archives/partial"
	find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || :
	find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || :
	rm -rf "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/lintian" \
		"$root/usr/share/locale/"* "$root/usr/share/i18n" "$root/usr/share/postgresql/$major/man"
	# Only keep the C.UTF-8 locale.
	find "$root/usr/lib/locale" -mindepth 1 -maxdepth 1 ! -iname 'C.utf*8' -exec rm -rf {} + 2>/dev/null || :

	log "pg$major: packing $(du -sh --apparent-size "$root" | cut -f1) root filesystem"
	tar --numeric-owner --xattrs -C "$root" \
		--exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' --exclude='./run/lock/*' \
		-cf - . | zstd -q -T0 -3 -o "$tarball.tmp"
	mv -f "$tarball.tmp" "$tarball"
	# Keep the unpacked tree for docker/pg/run-chroot.sh only for 17.
	if [ "$major" = 17 ]; then
		rm -rf "$CACHE/rootfs-pg17"; mv "$root" "$CACHE/rootfs-pg17"
	fi
	rm -rf "$work"
}

# Turn the rootfs tarball into an image.  This is `docker import` done by hand:
# the tarball becomes the single layer of a `docker save`-format archive that
# is fed to `docker load`.  Reason: the image needs STOPSIGNAL SIGINT (fast
# shutdown, as the official image), and `docker import --change STOPSIGNAL ...`
# is rejected by the daemon ("stopsignal is not a valid change command", Docker
# 20.10); writing the image config ourselves needs no builder, no FROM and no
# registry, and works with any daemon version.
import_image() { # major suite tarball hash
	local major="$1" suite="$2" tarball="$3" hash="$4"
	local dir="$CACHE/work/import-pg$major" diffid created arch
	log "pg$major: docker load -> $REPO:$major"
	rm -rf "$dir"; mkdir -p "$dir"
	diffid="$(zstd -dc "$tarball" | tee "$dir/layer.tar" | sha256sum | cut -d' ' -f1)"
	created="$(date -u -r "$tarball" +%Y-%m-%dT%H:%M:%SZ)"
	case "$(dpkg --print-architecture)" in
		arm64) arch=arm64 ;; armhf) arch=arm ;; *) arch=amd64 ;;
	esac
	cat > "$dir/config.json" <<-JSON
	{
	  "architecture": "$arch",
	  "os": "linux",
	  "created": "$created",
	  "config": {
	    "Env": [
	      "PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	      "LANG=C.UTF-8",
	      "PG_MAJOR=$major",
	      "PGDATA=/var/lib/postgresql/data"
	    ],
	    "Entrypoint": ["docker-entrypoint.sh"],
	    "Cmd": ["postgres"],
	    "ExposedPorts": {"5432/tcp": {}},
	    "Volumes": {"/var/lib/postgresql/data": {}},
	    "StopSignal": "SIGINT",
	    "Labels": {
	      "pgboot.recipe": "$hash",
	      "pgboot.debian-suite": "$suite",
	      "pgboot.pg-major": "$major"
	    }
	  },
	  "rootfs": {"type": "layers", "diff_ids": ["sha256:$diffid"]},
	  "history": [{
	    "created": "$created",
	    "created_by": "docker/pg/build-images.sh: debootstrap --variant=minbase $suite + ${SPEC[$major]#* }"
	  }]
	}
	JSON
	printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]\n' \
		"$REPO:$major" > "$dir/manifest.json"
	tar -C "$dir" -cf - manifest.json config.json layer.tar | docker load -q >/dev/null
	rm -rf "$dir"
}

# Full pipeline for one major, run in the background with its own log file.
build_one() { # major hash
	local major="$1" hash="$2"
	# shellcheck disable=SC2206
	local spec=(${SPEC[$major]})
	local suite="${spec[0]}" pkgs=("${spec[@]:1}")
	local tarball="$CACHE/rootfs-pg$major-$suite-$hash.tar.zst"
	local t0 t1 t2
	t0=$(now)
	if [ "$FORCE" = 1 ] || [ ! -s "$tarball" ]; then
		# Drop tarballs of older recipes for this major.
		rm -f "$CACHE/rootfs-pg$major-"*.tar.zst
		build_rootfs "$major" "$suite" "$tarball" "${pkgs[@]}"
	else
		log "pg$major: using cached root filesystem $tarball"
	fi
	t1=$(now)
	import_image "$major" "$suite" "$tarball" "$hash"
	t2=$(now)
	log "pg$major: done (rootfs $((t1 - t0))s, import $((t2 - t1))s)"
}

main() {
	local majors=("$@") m
	[ ${#majors[@]} -gt 0 ] || majors=("${ALL_MAJORS[@]}")
	for m in "${majors[@]}"; do
		[ -n "${SPEC[$m]:-}" ] || die "unknown major '$m' (supported: ${ALL_MAJORS[*]})"
	done
	preflight
	MIRROR="$(detect_mirror)"
	mkdir -p "$CACHE/logs"
	local hash start todo=() pids=() failed=0 i
	hash="$(recipe_hash)"
	start=$(now)
	log "recipe $hash, cache $CACHE, mirror $MIRROR"

	for m in "${majors[@]}"; do
		if [ "$FORCE" != 1 ] && image_is_current "$REPO:$m" "$hash"; then
			log "pg$m: $REPO:$m is up to date, skipping"
		else
			todo+=("$m")
		fi
	done

	# Run the builds, at most $JOBS at a time; each logs to $CACHE/logs/pgNN.log.
	for m in "${todo[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
		log "pg$m: building (log: $CACHE/logs/pg$m.log)"
		( build_one "$m" "$hash" ) >"$CACHE/logs/pg$m.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!todo[@]}"; do
		m="${todo[$i]}"
		if wait "${pids[$i]}"; then
			grep -h 'done (rootfs' "$CACHE/logs/pg$m.log" >&2 || :
		else
			failed=1
			log "pg$m: FAILED; last lines of $CACHE/logs/pg$m.log:"
			tail -n 30 "$CACHE/logs/pg$m.log" >&2
		fi
	done
	[ "$failed" = 0 ] || die "some images failed to build"

	for m in "${majors[@]}"; do
		docker image inspect -f "{{ index .RepoTags 0 }}  {{ .Size }} bytes" "$REPO:$m" \
			| awk '{ printf "  %s  %.0f MB\n", $1, $2 / 1000000 }' >&2
	done
	log "all done in $(( $(now) - start ))s"
}

main "$@"

#!/usr/bin/env bash
# pgboot-test postgres entrypoint.
#
# A small re-implementation of the official postgres image's
# docker-entrypoint.sh (docker-library/postgres), baked into the images built by
# docker/pg/build-images.sh and also used by docker/pg/run-chroot.sh.
#
# Supported environment (same meaning as in the official image):
#   POSTGRES_USER              superuser name (default: postgres)
#   POSTGRES_PASSWORD          superuser password (required unless
#                              POSTGRES_HOST_AUTH_METHOD=trust)
#   POSTGRES_PASSWORD_FILE     read the password from this file instead
#   POSTGRES_USER_FILE, POSTGRES_DB_FILE  likewise
#   POSTGRES_DB                database created on first start (default: $POSTGRES_USER)
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for "host all all all" (default: scram-sha-256)
#   POSTGRES_INITDB_ARGS       extra arguments for initdb
#   PGDATA                     data directory (default: /var/lib/postgresql/data)
# Not supported: /docker-entrypoint-initdb.d scripts, POSTGRES_INITDB_WALDIR.
set -Eeuo pipefail

# file_env VAR [DEFAULT]: allow VAR or VAR_FILE (docker secrets), not both.
file_env() {
	local var="$1" fileVar="${1}_FILE" def="${2:-}"
	if [ -n "${!var:-}" ] && [ -n "${!fileVar:-}" ]; then
		echo >&2 "error: both $var and $fileVar are set (but are exclusive)"
		exit 1
	fi
	local val="$def"
	if [ -n "${!var:-}" ]; then
		val="${!var}"
	elif [ -n "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# First argument is a flag ("-c foo=bar"): run postgres with it.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

# Non-server commands (bash, psql, ...) run as given.
if [ "$1" != 'postgres' ]; then
	exec "$@"
fi

# "postgres --help/--version/-C ..." must not initialise anything.
for arg; do
	case "$arg" in
		-'?'|--help|--describe-config|-V|--version|-C) exec "$@" ;;
	esac
done

if [ "$(id -u)" = '0' ]; then
	# As root: prepare directories, then re-exec this script as postgres.
	# setpriv exec()s (no intermediate process), like gosu, so postgres ends
	# up as PID 1 and receives docker's stop signal directly.
	mkdir -p "$PGDATA" /var/run/postgresql
	chmod 00700 "$PGDATA" || :
	chmod 03775 /var/run/postgresql || :
	find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
	find /var/run/postgresql \! -user postgres -exec chown postgres:postgres '{}' +
	exec setpriv --reuid=postgres --regid=postgres --init-groups \
		env HOME=/var/lib/postgresql "${BASH_SOURCE[0]}" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	file_env POSTGRES_USER postgres
	file_env POSTGRES_PASSWORD
	file_env POSTGRES_DB "$POSTGRES_USER"
	file_env POSTGRES_INITDB_ARGS
	: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"

	if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
		cat >&2 <<-'EOM'
		Error: Database is uninitialized and superuser password is not specified.
		       You must specify POSTGRES_PASSWORD to a non-empty value for the
		       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

		       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
		       connections without a password. This is *not* recommended.
		EOM
		exit 1
	fi
	if [ "$POSTGRES_HOST_AUTH_METHOD" = 'trust' ]; then
		echo >&2 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: connections need no password.'
	fi

	echo "pgboot entrypoint: initialising database in $PGDATA"
	# Local (unix socket) connections are trusted, as in the official image;
	# TCP connections use $POSTGRES_HOST_AUTH_METHOD.  Passwords are stored as
	# SCRAM (PostgreSQL 13 still defaults to md5, so set it explicitly).
	pwfile="$(mktemp)"
	printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
	# shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a word list on purpose
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" \
		--auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
		$POSTGRES_INITDB_ARGS
	rm -f "$pwfile"

	{
		echo
		echo "# added by the pgboot-test entrypoint"
		echo "listen_addresses = '*'"
		echo "password_encryption = 'scram-sha-256'"
	} >> "$PGDATA/postgresql.conf"
	{
		echo
		echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
	} >> "$PGDATA/pg_hba.conf"

	if [ "$POSTGRES_DB" != 'postgres' ]; then
		# Temporary server on the unix socket only (no TCP) to create the
		# database, like the official image; clients polling pg_isready on
		# TCP only see the server once the real one starts.
		pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
		psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password \
			--username "$POSTGRES_USER" --dbname postgres \
			--set db="$POSTGRES_DB" <<-'EOSQL'
			CREATE DATABASE :"db";
		EOSQL
		pg_ctl -D "$PGDATA" -m fast -w stop
	fi
	unset POSTGRES_PASSWORD
	echo 'pgboot entrypoint: init complete; starting PostgreSQL'
else
	echo 'pgboot entrypoint: database directory already initialised; skipping init'
fi

exec "$@"

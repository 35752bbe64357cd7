#!/bin/sh
# Entrypoint of the course's postgres stand-in (written for the course). Behaves like the
# official image's for what the lessons use:
#   POSTGRES_PASSWORD   required on first start (the superuser's password)
#   POSTGRES_USER       superuser name, default postgres
#   POSTGRES_DB         database created on first start, default $POSTGRES_USER
#   POSTGRES_INITDB_ARGS  extra initdb arguments
#   /docker-entrypoint-initdb.d/*.sh, *.sql run once, after initdb
# The data goes directly in PGDATA; started as root, it fixes PGDATA's ownership and runs
# the server as user postgres, in the foreground.
set -eu

# `docker run IMAGE -c shared_buffers=...`: options for postgres
case "${1:-}" in -*) set -- postgres "$@" ;; esac
[ "${1:-}" = postgres ] || exec "$@"

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    chmod 2775 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
mkdir -p "$PGDATA"
chmod 700 "$PGDATA" 2>/dev/null || :

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        cat >&2 <<'MSG'
Error: the database is not initialised and POSTGRES_PASSWORD is empty or unset.
       Set POSTGRES_PASSWORD to the superuser's password, e.g. from a Secret:
         env:
         - name: POSTGRES_PASSWORD
           valueFrom: {secretKeyRef: {name: db-credentials, key: password}}
MSG
        exit 1
    fi
    user=${POSTGRES_USER:-postgres}
    db=${POSTGRES_DB:-$user}
    echo "Initialising a database in $PGDATA (superuser $user)"
    # The password goes in through a file descriptor, never on a command line.
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words
    initdb --username="$user" --pwfile=/dev/fd/3 --auth-local=trust \
        --auth-host=scram-sha-256 ${POSTGRES_INITDB_ARGS:-} 3<<PW
$POSTGRES_PASSWORD
PW
    printf '\n# any address, with a password\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"

    # A server on the local socket only, to create the database and run the init scripts.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    if [ "$db" != postgres ]; then
        # psql quotes the name (:"db"); it interpolates only what it reads, not -c
        echo 'CREATE DATABASE :"db";' | psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -v db="$db" -q
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case "$f" in
            *.sh)  echo "running $f"; sh "$f" ;;
            *.sql) echo "running $f"; psql -v ON_ERROR_STOP=1 -U "$user" -d "$db" -f "$f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo "Initialisation done; starting postgres"
else
    echo "PGDATA already holds a database; starting postgres"
fi

exec "$@"

#!/bin/sh
# Entrypoint of the course's redis stand-in. Like the official image's: arguments that are
# options (`--appendonly yes`) or a .conf file go to redis-server; redis-server runs in the
# foreground without protected mode (the official image builds that in, so pods reach it
# through a Service), as user redis, after taking ownership of /data when started as root.
set -eu
case "${1:-}" in -*|*.conf) set -- redis-server "$@" ;; esac
[ "${1:-}" = redis-server ] || exec "$@"

if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis:redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

shift
case "${1:-}" in
    *.conf) conf=$1; shift
            if grep -qs '^[[:space:]]*protected-mode' "$conf"; then
                set -- redis-server "$conf" "$@"
            else
                set -- redis-server "$conf" --protected-mode no "$@"
            fi ;;
    *)      set -- redis-server --protected-mode no "$@" ;;
esac
exec "$@"

#!/usr/bin/env bash
# pg-test-cluster.sh — a throw-away PostgreSQL 15 + PostGIS cluster for the tests.
#
#   scripts/pg-test-cluster.sh start        initdb in a new /tmp/cityops-pg.XXXXXX, listen on
#                                           127.0.0.1 at a random free port (trust auth, user
#                                           postgres), create the database cityops_test with
#                                           PostGIS, and print two shell lines:
#                                             CITYOPS_TEST_PG=postgres://postgres@127.0.0.1:PORT/cityops_test
#                                             CITYOPS_TEST_PG_DIR=/tmp/cityops-pg.XXXXXX
#   scripts/pg-test-cluster.sh stop DIR     stop that cluster and remove DIR
#   scripts/pg-test-cluster.sh halt DIR     stop its server, keeping DIR (an outage, for tests)
#   scripts/pg-test-cluster.sh resume DIR   start the halted server again on the same port
#
# The cluster runs with fsync, synchronous_commit and full_page_writes off (fast, not crash
# safe); PG_TEST_DURABLE=1 keeps PostgreSQL's durable defaults, for benchmarks.
#
# The tests create what they need inside it: unit tests a schema per fixture, HTTP tests a
# database per server (CREATE DATABASE … TEMPLATE). cityops_test is itself marked a template
# so databases copied from it come with PostGIS already installed.
# The server runs as the unprivileged `postgres` user when this script runs as root
# (initdb and postgres refuse to run as root).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

free_port() {
    local port
    for port in $(shuf -i 30000-39999 -n 100); do port_free "$port" && { echo "$port"; return 0; }; done
    echo "pg-test-cluster: no free port" >&2
    return 1
}

start() {
    [ -x "$PG_BIN/initdb" ] || { echo "pg-test-cluster: no $PG_BIN/initdb (apt-get install postgresql-15)" >&2; exit 1; }
    ls /usr/share/postgresql/15/extension/postgis.control >/dev/null 2>&1 ||
        { echo "pg-test-cluster: PostGIS missing (apt-get install postgresql-15-postgis-3)" >&2; exit 1; }
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    local dir port
    dir=$(mktemp -d /tmp/cityops-pg.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    {
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $port"
        echo "unix_socket_directories = '$dir'"
        echo "max_connections = 200"
        # throw-away data: no need to wait for the disk (the tests check behaviour, not
        # durability); PG_TEST_DURABLE=1 keeps the defaults (benchmarks)
        if [ "${PG_TEST_DURABLE:-0}" != 1 ]; then
            echo "fsync = off"
            echo "synchronous_commit = off"
            echo "full_page_writes = off"
        fi
    } >>"$dir/data/postgresql.conf"
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    local psql=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
    "${psql[@]}" -d postgres -c "CREATE DATABASE cityops_test" >&2
    "${psql[@]}" -d cityops_test -c "CREATE EXTENSION postgis" >&2
    "${psql[@]}" -d postgres -c "ALTER DATABASE cityops_test WITH IS_TEMPLATE true" >&2
    echo "CITYOPS_TEST_PG=postgres://postgres@127.0.0.1:$port/cityops_test"
    echo "CITYOPS_TEST_PG_DIR=$dir"
}

check_dir() {
    case "${1:-}" in /tmp/cityops-pg.*) ;; *) echo "usage: $0 stop|halt|resume /tmp/cityops-pg.XXXXXX" >&2; exit 2 ;; esac
}

halt() {
    check_dir "${1:-}"
    as_owner "$PG_BIN/pg_ctl" -D "$1/data" -m fast -w -t 60 stop >/dev/null
}

resume() {
    check_dir "${1:-}"
    as_owner "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 start >/dev/null ||
        { cat "$1/server.log" >&2; exit 1; }
}

stop() {
    local dir=${1:-}
    case "$dir" in /tmp/cityops-pg.*) ;; *) echo "usage: $0 stop /tmp/cityops-pg.XXXXXX" >&2; exit 2 ;; esac
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
halt) halt "${2:-}" ;;
resume) resume "${2:-}" ;;
*) echo "usage: $0 start | stop DIR | halt DIR | resume DIR" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A PostgreSQL cluster of its own in a folder, on 127.0.0.1: for CI's tests (.ci/run) and the
# one-machine example (deploy/run.sh). Not a production setup: trust auth on loopback only.
#
#   scripts/pg_cluster.sh start DIR [PORT]   initdb DIR/data if new, start; prints the URL
#                                            postgresql://postgres@127.0.0.1:PORT/postgres
#                                            (PORT omitted or 0: a free port)
#   scripts/pg_cluster.sh createdb DIR NAME  create database NAME if absent; prints its URL
#   scripts/pg_cluster.sh stop DIR           stop the server (open sessions are ended)
#
# initdb refuses to run as root, so as root the server runs as user `postgres` (runuser) and
# DIR is handed to it. Extra server settings go in PG_OPTIONS (CI: "-c fsync=off").
set -euo pipefail

usage() {
    echo "usage: $0 start DIR [PORT] | createdb DIR NAME | stop DIR" >&2
    exit 2
}

bin_dir() {
    # Debian keeps the server programs out of PATH, in /usr/lib/postgresql/<major>/bin.
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return
        fi
    done
    echo "$0: PostgreSQL is not installed (Debian: apt-get install postgresql)" >&2
    exit 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

[ $# -ge 2 ] || usage
command="$1"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"
bin="$(bin_dir)"

case "$command" in
start)
    port="${3:-0}"
    if [ "$port" = 0 ]; then port="$(free_port)"; fi
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-instructions \
            >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$bin/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
        "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir ${PG_OPTIONS:-}" \
        >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port" # for `createdb`
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
createdb)
    [ $# -eq 3 ] || usage
    [[ "$3" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "$0: database name must be [a-z_][a-z0-9_]*" >&2; exit 2; }
    port="$(cat "$dir/port")"
    exists="$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$3'")"
    if [ "$exists" != 1 ]; then "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$3"; fi
    echo "postgresql://postgres@127.0.0.1:$port/$3"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" stop -D "$dir/data" -m fast >/dev/null
    fi
    ;;
*)
    usage
    ;;
esac

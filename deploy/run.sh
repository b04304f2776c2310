#!/usr/bin/env bash
# newsrec on several machines, played on one: PostgreSQL, one builder and two serving
# replicas, started with one command. deploy/README.md says what runs where.
#
#   deploy/run.sh [ARTICLES]   start everything, ingest ARTICLES (default: the bundled
#                              sample), serve until Ctrl-C, then stop everything
#   deploy/run.sh stop         stop what a killed run left behind
#
# Settings (environment): DEPLOY_DIR (default ./.deploy), PG_PORT (55433), REPLICA_PORTS
# ("8001 8002"), NEWSREC (the newsrec command; default .venv/bin/newsrec, else on PATH).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mkdir -p "${DEPLOY_DIR:-$here/.deploy}" && cd "${DEPLOY_DIR:-$here/.deploy}" && pwd)"
pg_port="${PG_PORT:-55433}"
replica_ports="${REPLICA_PORTS:-8001 8002}"
if [ -n "${NEWSREC:-}" ]; then
    newsrec="$NEWSREC"
elif [ -x "$here/.venv/bin/newsrec" ]; then
    newsrec="$here/.venv/bin/newsrec"
else
    newsrec="newsrec"
fi
pg_cluster="$here/scripts/pg_cluster.sh"

stop_all() {
    local pidfile
    for pidfile in "$dir"/replica-*.pid; do
        [ -f "$pidfile" ] || continue
        # SIGTERM: requests in flight finish, then the replica exits.
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    done
    wait 2>/dev/null || true
    "$pg_cluster" stop "$dir/postgres" || true
}

if [ "${1:-}" = stop ]; then
    stop_all
    echo "stopped (data kept in $dir; rm -rf it to start afresh)"
    exit 0
fi
articles="${1:-$here/recommender/sample/articles.jsonl}"

# 1. The database machine: PostgreSQL, one database for newsrec. As root the server runs as
#    user postgres, which must be able to reach DEPLOY_DIR.
trap stop_all EXIT
trap 'exit 130' INT TERM
"$pg_cluster" start "$dir/postgres" "$pg_port" >/dev/null
catalogue_url="$("$pg_cluster" createdb "$dir/postgres" newsrec)"

# What every newsrec process needs, identical on every machine: the catalogue, the shared
# store, and the keys (made once here; a real site keeps them in its secret store).
mkdir -p "$dir/store"
if [ ! -f "$dir/keys.env" ]; then
    (
        umask 077
        echo "NEWSREC_API_KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
        echo "NEWSREC_RECOMMENDATION_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
    ) >"$dir/keys.env.tmp"
    mv "$dir/keys.env.tmp" "$dir/keys.env"
fi
set -a
# shellcheck source=/dev/null
. "$dir/keys.env"
set +a
export NEWSREC_CATALOGUE_URL="$catalogue_url"
export NEWSREC_STORE_URL="$dir/store"

# 2. The schema, once per upgrade, from one machine.
"$newsrec" migrate --home "$dir/builder"

# 3. The builder: ingests into the catalogue and publishes the index to the shared store.
#    A job, not a server: rerun it (or `newsrec reindex`) to roll a new index version.
"$newsrec" ingest --home "$dir/builder" "$articles"

# 4. The replicas: each with a home of its own (its local verified copy of the index),
#    following the catalogue's change log and fetching new versions from the store.
for port in $replica_ports; do
    "$newsrec" serve --home "$dir/replica-$port" --port "$port" \
        --catalogue "$catalogue_url" --store "$dir/store" >"$dir/replica-$port.log" 2>&1 &
    echo $! >"$dir/replica-$port.pid"
done
for port in $replica_ports; do
    for _ in $(seq 1 120); do
        if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then continue 2; fi
        if ! kill -0 "$(cat "$dir/replica-$port.pid")" 2>/dev/null; then
            echo "replica on port $port exited; its log:" >&2
            tail -20 "$dir/replica-$port.log" >&2
            exit 1
        fi
        sleep 1
    done
    echo "replica on port $port not ready after 120 s; see $dir/replica-$port.log" >&2
    exit 1
done

first="${replica_ports%% *}"
cat <<EOF

PostgreSQL  $catalogue_url   (data: $dir/postgres)
store       $dir/store
builder     home $dir/builder   (rerun: $newsrec ingest --home $dir/builder FILE)
EOF
for port in $replica_ports; do
    echo "replica     http://127.0.0.1:$port   home $dir/replica-$port   log $dir/replica-$port.log"
done
cat <<EOF

Try:  curl -s http://127.0.0.1:$first/readyz
      curl -s 'http://127.0.0.1:$first/articles/sample-001/related?k=5'
Keys: $dir/keys.env (X-API-Key for writes). Ctrl-C stops everything.
EOF
wait

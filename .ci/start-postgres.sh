#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 cluster on loopback and prints the URL to
# use as ATTEST_STORE_POSTGRES_URL. Usage: eval "$(bash .ci/start-postgres.sh DIR PORT)"
# The server runs as the unprivileged `postgres` user when started as root.
set -euo pipefail
dir=${1:?data directory}
port=${2:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL server binaries not found; installing postgresql-15" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >&2
    bin=/usr/lib/postgresql/15/bin
fi
# Take the first free port from the one asked for.
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
mkdir -p "$dir"
as_pg=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$dir"
    as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
echo "export ATTEST_STORE_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
echo "export ATTEST_PG_CTL='${as_pg[*]} $bin/pg_ctl -D $dir/data'"

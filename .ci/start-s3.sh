#!/usr/bin/env bash
# Starts an S3-compatible server on loopback for the tile log's object-store
# tests and prints what to export. Usage: eval "$(bash .ci/start-s3.sh DIR PORT)"
#
# The server is moto's S3 server (PyPI `moto[server]`, pinned), in a venv
# under target/: a well-kept S3 emulator that implements the conditional
# writes the sequencer's fencing relies on (`If-None-Match: *` and
# `If-Match: <etag>` on PutObject), installable from PyPI with no download
# of a prebuilt binary. It keeps objects in memory; DIR holds its log.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?log directory}
port=${2:-54330}
venv=target/moto-venv
if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' >&2
fi
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
mkdir -p "$dir"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > "$dir/moto.log" 2>&1 &
pid=$!
# Wait for it to answer (an event, not a fixed sleep), at most ~60 s.
for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "export ATTEST_S3_ENDPOINT=http://127.0.0.1:$port"
        echo "export ATTEST_S3_PID=$pid"
        exit 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$dir/moto.log" >&2; exit 1; }
    sleep 0.1
done
echo "moto_server did not start" >&2
exit 1

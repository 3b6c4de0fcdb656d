#!/usr/bin/env bash
# The auditor portal as its users meet it: `attestlog portal serve` (a release
# build) answering the page of one subject with N attestations (default 1,000)
# over HTTP to curl, a separate process, while it audits every row against
# `attestlog log serve` over HTTP. Beside it, in the same run, the raw
# primitive: `attestlog audit --subject` of the same rows against the same log.
# Prints the median of R requests each (default 9) and the ratio.
#   bash benches/portal-http.sh [N] [R]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
rounds=${2:-9}
cargo build --quiet --release -p attestlog-cli
bin=$PWD/target/release/attestlog
work=$(mktemp -d /tmp/attestlog-portal-http.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
"$bin" keygen --out key.pem > /dev/null
"$bin" keys serve-doc --key key.pem > keys.json
subject="app@sha256:$(printf '%064d' 0)"
echo "seeding $n attestations of one subject (the embedded log, in process)..." >&2
for i in $(seq 1 "$n"); do
    echo "{\"run\":$i}" > p.json
    "$bin" attest --tenant acme --subject "$subject" --predicate-type https://slsa.dev/provenance/v1 \
        --predicate p.json --key key.pem --db store.db --rekor-url "local:$work/log" > /dev/null
done

wait_listening() { # FILE PID
    until grep -q listening "$1" 2>/dev/null; do kill -0 "$2" || exit 1; sleep 0.05; done
}
"$bin" log serve --dir log --addr 127.0.0.1:0 > log.json &
pids+=($!)
wait_listening log.json $!
log_url=$(grep -o 'http://127.0.0.1:[0-9]*' log.json | head -1)
token=$("$bin" portal token --auth auth.json --tenant acme 2> /dev/null)
"$bin" portal serve --key keys.json --auth auth.json --addr 127.0.0.1:0 --db store.db \
    --rekor-url "$log_url" --log-key log/log-public.pem --baseline portal-baseline.json \
    --trust-current-tree > portal.json &
pids+=($!)
wait_listening portal.json $!
portal=$(grep -o '"listening":"[^"]*"' portal.json | cut -d'"' -f4)
page="$portal/audit/acme/$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$subject")"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# The first page starts the portal's baseline; it is not timed.
code=$(curl -s -o first.html -w '%{http_code}' -H "Authorization: Bearer $token" "$page")
[ "$code" = 200 ] || { echo "portal answered $code" >&2; exit 1; }
passes=$(grep -o 'data-row=' first.html | wc -l)
[ "$passes" = "$n" ] || { echo "summary lists $passes of $n" >&2; exit 1; }
"$bin" audit --tenant acme --subject "$subject" --key keys.json --db store.db --rekor-url "$log_url" \
    --log-key log/log-public.pem --baseline audit-baseline.json --trust-current-tree > /dev/null
page_times=()
audit_times=()
for _ in $(seq 1 "$rounds"); do
    page_times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$page")")
    start=$(date +%s.%N)
    "$bin" audit --tenant acme --subject "$subject" --key keys.json --db store.db \
        --rekor-url "$log_url" --log-key log/log-public.pem --baseline audit-baseline.json > /dev/null
    audit_times+=("$(echo "$(date +%s.%N) - $start" | bc)")
done
p=$(printf '%s\n' "${page_times[@]}" | median)
a=$(printf '%s\n' "${audit_times[@]}" | median)
echo "portal page over HTTP, $n attestations audited: median ${p}s of $rounds"
echo "attestlog audit --subject (same rows, same log): median ${a}s of $rounds"
echo "ratio page/audit: $(echo "scale=2; $p / $a" | bc)"

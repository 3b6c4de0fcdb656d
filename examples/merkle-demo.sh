#!/usr/bin/env bash
# A transparency-log tree built, proven and verified entirely through the
# `attestlog merkle` commands.
set -euo pipefail
cd "$(dirname "$0")/.."
# ATTESTLOG_BIN: a binary already built (CI passes the debug one).
bin=${ATTESTLOG_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet -p attestlog-cli
    bin=target/release/attestlog
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1000 leaves: each an 8-byte big-endian counter, hex-encoded, one per line.
printf '%016x\n' $(seq 0 999) > "$tmp/leaves.hex"
echo "== root of the 1000-leaf tree"
"$bin" merkle root < "$tmp/leaves.hex"

leaf_hash() { # the root of a one-leaf tree is that leaf's hash
    printf '%016x\n' "$1" | "$bin" merkle root | sed 's/.*"root":"\([0-9a-f]*\)".*/\1/'
}

echo "== inclusion proof for leaf 17 in the tree as it was at size 600"
"$bin" merkle prove --index 17 --size 600 < "$tmp/leaves.hex" > "$tmp/incl.json"
cat "$tmp/incl.json"
case=$(sed "s/^{/{\"type\":\"inclusion\",\"leafIdx\":17,\"treeSize\":600,\"leafHash\":\"$(leaf_hash 17)\",/" "$tmp/incl.json")

echo "== consistency proof from size 600 to size 1000"
"$bin" merkle prove --size1 600 --size2 1000 < "$tmp/leaves.hex" > "$tmp/cons.json"
cat "$tmp/cons.json"
cons=$(sed 's/^{/{"type":"consistency","size1":600,"size2":1000,/' "$tmp/cons.json")

echo "== verifying both (exit 0 = every case verified)"
printf '%s\n%s\n' "$case" "$cons" | "$bin" merkle verify

echo "== the same cases tampered with: a changed leaf index, a flipped proof digit, a malformed line"
tampered_index=$(echo "$case" | sed 's/"leafIdx":17/"leafIdx":16/')
# Replace the first hex digit of the first proof hash with a different digit.
tampered_proof=$(echo "$cons" | sed -E 's/"proof":\["0/"proof":["1/; t; s/"proof":\["[0-9a-f]/"proof":["0/')
set +e
printf '%s\n%s\n%s\n' "$tampered_index" "$tampered_proof" '{"type":"inclusion"}' | "$bin" merkle verify
status=$?
set -e
echo "exit status $status (1 = a proof failed, 2 = a line was malformed)"
[ "$status" -eq 2 ] || { echo "expected exit 2" >&2; exit 1; }
echo "== demo complete"

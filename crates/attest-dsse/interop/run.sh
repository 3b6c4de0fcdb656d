#!/usr/bin/env bash
# DSSE interoperability with Python securesystemslib, both directions, through
# the real `attestlog` binary. Creates its own virtual environment.
#   bash crates/attest-dsse/interop/run.sh [--update-fixtures]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"
venv=target/interop-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'securesystemslib[crypto]==1.6.0'
fi
cargo build --quiet -p attestlog-cli
bin=target/debug/attestlog
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
type=application/vnd.in-toto+json

echo "== Python signs, attestlog verifies"
"$venv/bin/python" "$here/securesystemslib_interop.py" sign "$work"
for name in python-ed25519 python-p256; do
    "$bin" dsse verify --key "$work/$name.pub.pem" --payload-type "$type" "$work/$name.envelope.json"
done

echo "== attestlog signs, Python verifies"
payload="$work/payload.json"
printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"interop.tar.gz","digest":{"sha256":"%s"}}],"predicateType":"https://example.com/interop/v1","predicate":{"signedBy":"attestlog"}}' \
    "$(printf 'cd%.0s' $(seq 32))" > "$payload"
for alg in ed25519 p256; do
    name="rust-$alg"
    "$bin" keygen --alg "$alg" --out "$work/$name.key.pem" > "$work/$name.keygen.json"
    "$bin" keys export "$work/$name.key.pem" > /dev/null
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["publicKeyPem"], end="")' \
        "$work/$name.keygen.json" > "$work/$name.pub.pem"
    "$bin" dsse sign --key "$work/$name.key.pem" --payload-type "$type" --keyid "$name" "$payload" \
        > "$work/$name.envelope.json"
done
"$venv/bin/python" "$here/securesystemslib_interop.py" verify "$work"

if [ "${1:-}" = "--update-fixtures" ]; then
    dest=crates/attest-dsse/tests/interop
    mkdir -p "$dest"
    cp "$work"/python-*.envelope.json "$work"/python-*.pub.pem "$dest/"
    cp "$work"/rust-*.envelope.json "$work"/rust-*.pub.pem "$dest/"
    echo "fixtures written to $dest"
fi
echo "== interop ok"

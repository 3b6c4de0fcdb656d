#!/usr/bin/env bash
# Exports two bundles with the attestlog binary (key hint; self-signed
# certificate) and reads them with the PyPI `sigstore` package.
#   bash crates/attestlog/interop/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv=target/sigstore-python-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'sigstore==4.5.1'
fi
cargo build --quiet -p attestlog-cli
bin=target/debug/attestlog
work=$(mktemp -d /tmp/attestlog-sigstore-python.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" keygen --alg p256 --out "$work/key.pem" >/dev/null
echo '{"buildDefinition":{"buildType":"https://example.com/ci"}}' > "$work/predicate.json"
export REKOR_URL="local:$work/log" ATTESTLOG_DB="$work/store.db"
id=$("$bin" attest --tenant acme --subject "app@sha256:$(printf 'ab%.0s' {1..32})" \
    --predicate-type https://slsa.dev/provenance/v1 --predicate "$work/predicate.json" \
    --key "$work/key.pem" | python3 -c 'import json,sys; print(json.load(sys.stdin)["attestationId"])')
"$bin" bundle export "$id" > "$work/hint.sigstore.json"
"$bin" bundle export --self-signed "$work/key.pem" "$id" > "$work/cert.sigstore.json"
# Our own verifier accepts both.
digest="sha256:$(printf 'ab%.0s' {1..32})"
"$bin" bundle verify --log-key "$work/log/log-public.pem" --key "$work/key.pem" --artifact "$digest" "$work/cert.sigstore.json" >/dev/null
"$bin" bundle verify --log-key "$work/log/log-public.pem" --key "$work/key.pem" --artifact "$digest" "$work/hint.sigstore.json" >/dev/null
"$venv/bin/python" crates/attestlog/interop/sigstore_python_bundle.py "$work/hint.sigstore.json" "$work/cert.sigstore.json"

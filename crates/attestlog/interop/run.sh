#!/usr/bin/env bash
# Exports two bundles with the attestlog binary (key hint; self-signed
# certificate) and reads them with the PyPI `sigstore` package.
#   bash crates/attestlog/interop/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv=$(bash .ci/sigstore-python-venv.sh)
cargo build --quiet -p attestlog-cli
bin=target/debug/attestlog
work=$(mktemp -d /tmp/attestlog-sigstore-python.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin" keygen --alg p256 --out "$work/key.pem" >/dev/null
# Keys from `keygen` load in Python `cryptography` (and OpenSSL): Ed25519 as
# PKCS#8 v1, which both accept (v2 with the public key is refused).
"$bin" keygen --alg ed25519 --out "$work/ed25519.pem" >/dev/null
"$venv/bin/python" - "$work/ed25519.pem" "$work/key.pem" <<'PY'
import sys
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key
kinds = [ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey]
for path, kind in zip(sys.argv[1:], kinds):
    key = load_pem_private_key(open(path, "rb").read(), password=None)
    assert isinstance(key, kind), (path, type(key))
print("== keygen keys load in Python cryptography")
PY
if command -v openssl >/dev/null; then
    openssl pkey -in "$work/ed25519.pem" -noout
    openssl pkey -in "$work/key.pem" -noout
    echo "== keygen keys load in OpenSSL"
fi
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

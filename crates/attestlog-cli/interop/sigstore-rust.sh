#!/usr/bin/env bash
# A bundle exported from the embedded log, served over loopback, verified by
# sigstore-rust's `sigstore-verify` (a peer package outside the workspace
# members, benches/peers/sigstore-rust) given only the trusted root that
# `attestlog log trusted-root` prints and the signer's public key — and by
# our own verify-bundle with the same two. Ed25519 and P-256 signers.
#   bash crates/attestlog-cli/interop/sigstore-rust.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
cargo build --quiet -p attestlog-cli
CARGO_TARGET_DIR=target/peers cargo build --quiet --release \
    --manifest-path benches/peers/sigstore-rust/Cargo.toml --bin verify
bin=$PWD/target/debug/attestlog
peer=$PWD/target/peers/release/verify
work=$(mktemp -d /tmp/attestlog-sigstore-rust.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"
"$bin" log serve --dir ./log --addr 127.0.0.1:0 > log.json &
until grep -q listening log.json 2>/dev/null; do
    kill -0 $! || { echo "attestlog log serve exited" >&2; exit 1; }
    sleep 0.1
done
export REKOR_URL=$(grep -o 'http://127.0.0.1:[0-9]*' log.json) REKOR_PUBLIC_KEY=./log/log-public.pem
export ATTESTLOG_DB=./store.db
"$bin" log trusted-root ./log > trusted_root.json
echo '{"buildDefinition":{"buildType":"https://example.com/ci"}}' > predicate.json
digest=$(printf 'cd%.0s' {1..32})
for alg in ed25519 p256; do
    "$bin" keygen --alg "$alg" --out "$alg.pem" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["publicKeyPem"], end="")' > "$alg.pub.pem"
    "$bin" attest --tenant "$alg" --subject "app@sha256:$digest" --key "$alg.pem" \
        --predicate-type https://slsa.dev/provenance/v1 --predicate predicate.json > attest.json
    id=$(grep -o '"attestationId":"[0-9a-f]*"' attest.json | cut -d'"' -f4)
    "$bin" bundle export "$id" > "$alg.sigstore.json"
    "$bin" verify-bundle --bundle "$alg.sigstore.json" --key "$alg.pub.pem" \
        --trusted-root trusted_root.json "sha256:$digest" > /dev/null
    "$peer" trusted_root.json "$alg.sigstore.json" "$alg.pub.pem" "$digest"
    # A wrong artifact is refused by both.
    other=$(printf 'ef%.0s' {1..32})
    if "$peer" trusted_root.json "$alg.sigstore.json" "$alg.pub.pem" "$other" > /dev/null; then
        echo "sigstore-rust accepted the $alg bundle for another artifact" >&2
        exit 1
    fi
    echo "== $alg: attestlog verify-bundle and sigstore-rust sigstore-verify accept the bundle"
done

#!/usr/bin/env bash
# sigstore-python's Rekor v2 and timestamp clients against the embedded v2
# log (`attestlog log serve --rekor-api 2`), and the bundles it assembles verified
# by `attestlog verify-bundle`; then sigstore-python's own Verifier on the
# bundles our client (`attestlog rekor-v2 publish`) makes from that log, with
# certificates from the offline test CA (`attestlog rekor-v2 test-ca`).
#   bash crates/attestlog-cli/interop/sigstore-python-v2.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv=$(bash .ci/sigstore-python-venv.sh)
cargo build --quiet -p attestlog-cli
bin=target/debug/attestlog
work=$(mktemp -d /tmp/attestlog-sigstore-python-v2.XXXXXX)
"$bin" log serve --rekor-api 2 --dir "$work/log" --addr 127.0.0.1:0 > "$work/serve.out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
line=""
for _ in $(seq 1 600); do # the server prints one JSON line once it listens
    line=$(head -n1 "$work/serve.out" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 $pid 2>/dev/null || { echo "log serve exited" >&2; exit 1; }
    sleep 0.1
done
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$line" "$1"; }
url=$(field listening) tsa=$(field tsaUrl) root=$(field trustedRoot)
mkdir -p "$work/out"
"$venv/bin/python" crates/attestlog-cli/interop/sigstore_python_v2.py "$url" "$tsa" "$root" "$work/out"
for b in message dsse; do
    "$bin" verify-bundle --bundle "$work/out/$b.sigstore.json" --key "$work/out/signer.pem" \
        --trusted-root "$root" "$work/out/artifact.txt"
    echo "== attestlog verify-bundle: sigstore-python's $b bundle verified"
    "$bin" verify-bundle --bundle "$work/out/${b}384.sigstore.json" --key "$work/out/signer384.pem" \
        --trusted-root "$root" "$work/out/artifact.txt"
    echo "== attestlog verify-bundle: sigstore-python's P-384 $b bundle (SHA-384) verified"
done
# The P-384 bundle under the P-256 key is refused.
if "$bin" verify-bundle --bundle "$work/out/message384.sigstore.json" --key "$work/out/signer.pem" \
    --trusted-root "$root" "$work/out/artifact.txt" 2>/dev/null; then
    echo "verify-bundle accepted a P-384 bundle under another key" >&2
    exit 1
fi
# Another artifact is refused.
echo other > "$work/out/other.txt"
if "$bin" verify-bundle --bundle "$work/out/message.sigstore.json" --key "$work/out/signer.pem" \
    --trusted-root "$root" "$work/out/other.txt" 2>/dev/null; then
    echo "verify-bundle accepted another artifact" >&2
    exit 1
fi

# sigstore-python's own Verifier on bundles our client makes: a certificate
# from the offline test CA (with an SCT from its CT log), the v2 log's entry,
# the TSA's timestamp; a message signature and a DSSE envelope.
id=dev@attestlog.test issuer=https://oidc.attestlog.test
"$bin" keygen --alg p256 --out "$work/keyless.pem" > /dev/null
"$bin" rekor-v2 test-ca --dir "$work/ca" --key "$work/keyless.pem" --identity "$id" \
    --oidc-issuer "$issuer" --trusted-root "$root" > /dev/null
kl_root="$work/ca/trusted_root.json"
publish=("$bin" rekor-v2 publish --rekor-url "$url" --trusted-root "$kl_root" --key "$work/keyless.pem"
    --tsa-url "$tsa" --certificate "$work/ca/leaf.pem")
"${publish[@]}" "$work/out/artifact.txt" > "$work/out/keyless-message.sigstore.json"
digest=$(sha256sum "$work/out/artifact.txt" | cut -d' ' -f1)
printf '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"artifact.txt","digest":{"sha256":"%s"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}' \
    "$digest" > "$work/out/statement.json"
"${publish[@]}" --dsse application/vnd.in-toto+json "$work/out/statement.json" \
    > "$work/out/keyless-dsse.sigstore.json"
"$venv/bin/python" crates/attestlog-cli/interop/sigstore_python_verify.py "$kl_root" "$id" "$issuer" \
    "$work/out/artifact.txt" "$work/out/keyless-message.sigstore.json" \
    "$work/out/keyless-dsse.sigstore.json" "$root"
for b in message dsse; do
    "$bin" verify-bundle --bundle "$work/out/keyless-$b.sigstore.json" --certificate-identity "$id" \
        --certificate-oidc-issuer "$issuer" --trusted-root "$kl_root" "$work/out/artifact.txt" > /dev/null
    echo "== attestlog verify-bundle: the same keyless $b bundle verified"
done
echo "== interop ok"

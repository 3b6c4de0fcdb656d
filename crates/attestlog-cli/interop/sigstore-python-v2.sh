#!/usr/bin/env bash
# sigstore-python's Rekor v2 and timestamp clients against the embedded v2
# log (`attestlog log serve --api 2`), and the bundles it assembles verified
# by `attestlog verify-bundle`.
#   bash crates/attestlog-cli/interop/sigstore-python-v2.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv=$(bash .ci/sigstore-python-venv.sh)
cargo build --quiet -p attestlog-cli
bin=target/debug/attestlog
work=$(mktemp -d /tmp/attestlog-sigstore-python-v2.XXXXXX)
"$bin" log serve --api 2 --dir "$work/log" --addr 127.0.0.1:0 > "$work/serve.out" &
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
done
# Another artifact is refused.
echo other > "$work/out/other.txt"
if "$bin" verify-bundle --bundle "$work/out/message.sigstore.json" --key "$work/out/signer.pem" \
    --trusted-root "$root" "$work/out/other.txt" 2>/dev/null; then
    echo "verify-bundle accepted another artifact" >&2
    exit 1
fi
echo "== interop ok"

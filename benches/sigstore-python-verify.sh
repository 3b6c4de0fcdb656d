#!/usr/bin/env bash
# sigstore-python (PyPI `sigstore`) offline verification of the same production
# bundle as `cargo bench -p attestlog-benches --bench rekor`, on this machine.
#   bash benches/sigstore-python-verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/sigstore-python-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'sigstore==4.5.1'
fi
"$venv/bin/python" benches/sigstore_python_verify.py crates/attestlog-testkit/vectors

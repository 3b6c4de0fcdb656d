#!/usr/bin/env bash
# sigstore-python (PyPI `sigstore`) offline verification of the same production
# bundle as `cargo bench -p attestlog-benches --bench rekor`, on this machine.
#   bash benches/sigstore-python-verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(bash .ci/sigstore-python-venv.sh)
"$venv/bin/python" benches/sigstore_python_verify.py crates/attestlog-testkit/vectors

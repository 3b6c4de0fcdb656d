#!/usr/bin/env bash
# The Python venv with the pinned PyPI `sigstore` package that the interop
# scripts and the peer bench share; created on first use. Prints its path.
#   venv=$(bash .ci/sigstore-python-venv.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/sigstore-python-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'sigstore==4.5.1' >&2
fi
echo "$PWD/$venv"

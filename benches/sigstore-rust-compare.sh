#!/usr/bin/env bash
# attest-rekor's Verifier beside sigstore-rust's sigstore-verify 0.15.1 in one
# process: five conformance bundles, warm and cold, alternated in blocks, the
# median of per-round ratios (attestlog / sigstore-rust; below 1 is faster).
# Extra arguments go to cargo (e.g. `--features ring`). Built in its own target
# directory: the peer package (aws-lc) is not a workspace member.
#   bash benches/sigstore-rust-compare.sh [--features ring]
#   bash benches/sigstore-rust-compare.sh --process   # whole commands (dist builds):
#       `attestlog verify-bundle` and `attestlog-verify`, each beside the peer's
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=target/peers
manifest=benches/peers/sigstore-rust/Cargo.toml
if [ "${1:-}" = "--process" ]; then
    shift
    cargo build --quiet --release --manifest-path "$manifest" --features compare \
        --bin peer-verify-bundle --bin compare "$@"
    # attestlog as the README installs it (`cargo install --profile dist`).
    CARGO_TARGET_DIR=target cargo build --quiet --profile dist -p attestlog-cli
    exec target/peers/release/compare crates/attestlog-testkit/vectors --process \
        target/dist/attestlog target/dist/attestlog-verify \
        target/peers/release/peer-verify-bundle
fi
cargo run --quiet --release --manifest-path "$manifest" --features compare --bin compare "$@" \
    -- crates/attestlog-testkit/vectors

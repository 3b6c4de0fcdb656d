#!/usr/bin/env bash
# sigstore-rust (crates.io `sigstore-verify`, aws-lc backed) verifying the same
# production keyless bundle as `cargo bench -p attestlog-benches --bench rekor --
# prod_dsse_keyless`, on this machine. Built in its own target directory: the
# peer package is not a workspace member.
#   bash benches/sigstore-rust-verify.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_TARGET_DIR=target/peers cargo run --quiet --release \
    --manifest-path benches/peers/sigstore-rust/Cargo.toml --bin sigstore-rust-peer -- crates/attestlog-testkit/vectors

#!/usr/bin/env bash
# Instruction counts (valgrind callgrind) per verification at tree size 1M:
# attest-merkle, ct-merkle, and the floor (the node hashes the algorithm must
# compute, counted with the same sha2). Deterministic, unlike wall-clock time
# on a shared VM. Usage: bash benches/callgrind-merkle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p attestlog-benches --example merkle_ops
bin=target/release/examples/merkle_ops
"$bin" gen
count() { # instructions of N iterations minus the program's fixed cost, per iteration
    local base run
    base=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" 0 2>&1 | awk '/Collected/ {print $4}')
    run=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" 1000 2>&1 | awk '/Collected/ {print $4}')
    echo $(( (run - base) / 1000 ))
}
node=$(count node_hash)
leaf=$(count leaf_hash)
printf '%-24s %10s\n' operation instructions
printf '%-24s %10d\n' node_hash "$node" leaf_hash "$leaf"
# Inclusion of leaf 777777 in 1M: 20 node hashes. Consistency 600000 -> 1M: 21.
printf '%-24s %10d\n' inclusion_floor $((20 * node))
for m in attest_inclusion ct_merkle_inclusion; do printf '%-24s %10d\n' "$m" "$(count "$m")"; done
printf '%-24s %10d\n' consistency_floor $((21 * node))
for m in attest_consistency ct_merkle_consistency; do printf '%-24s %10d\n' "$m" "$(count "$m")"; done

#!/usr/bin/env bash
# A fuzzing campaign: each TARGET runs for --minutes wall-clock minutes on
# --jobs processes (libFuzzer's -fork; CPU-minutes = minutes x jobs) from its
# checked-in minimized corpus (fuzz/corpus-min/TARGET) plus the seeds cut from
# the repository's vectors (fuzz/seeds.py), then its corpus is minimized back
# into fuzz/corpus-min/TARGET and a line is appended to the campaign table of
# fuzz/README.md: date, commit, CPU-minutes, executions, coverage, corpus size,
# crashes. Crashes are kept in fuzz/artifacts/TARGET and make the exit status 1.
#
#   bash fuzz/campaign.sh [--minutes N] [--jobs J] [--no-record] [TARGET...]
#   (default: every target, 5 minutes, J = the number of cores)
#
# cargo-fuzz runs on nightly; without a nightly toolchain the stable one is
# used with RUSTC_BOOTSTRAP=1 (the sanitizer flags are nightly-only).
set -euo pipefail
cd "$(dirname "$0")"
minutes=5
jobs=$(nproc)
record=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --no-record) record=0; shift ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi
fuzz() {
    if rustup run nightly rustc --version > /dev/null 2>&1; then
        cargo +nightly fuzz "$@"
    else
        RUSTC_BOOTSTRAP=1 cargo fuzz "$@"
    fi
}
commit=$(git rev-parse --short HEAD)
seeds=target/seeds
rm -rf "$seeds"
python3 seeds.py "$seeds" "${targets[@]}"
status=0
for t in "${targets[@]}"; do
    corpus=corpus/$t
    mkdir -p "$corpus" "corpus-min/$t" "artifacts/$t"
    cp -n "corpus-min/$t"/* "$corpus"/ 2> /dev/null || true
    cp -n "$seeds/$t"/* "$corpus"/ 2> /dev/null || true
    before=$(find "artifacts/$t" -type f | wc -l)
    log=$(mktemp)
    echo "== $t: $minutes min x $jobs jobs from $(find "$corpus" -type f | wc -l) inputs" >&2
    # -fork keeps going past a crash only when told; here a crash stops the
    # target (its input is in artifacts/) and the campaign goes on.
    fuzz run -O "$t" "$corpus" -- -fork="$jobs" -max_total_time=$((minutes * 60)) \
        -max_len=262144 -rss_limit_mb=4096 -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$PWD/artifacts/$t/" > "$log" 2>&1 || true
    # Fork mode's progress lines: "#EXECS: cov: C ft: F corp: N exec/s ... crash: …".
    last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -1 || true)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<< "$last")
    cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<< "$last")
    crashes=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
    if [ -z "$last" ]; then
        tail -20 "$log" >&2
        echo "$t: no progress line (did it build?)" >&2
        status=1
        continue
    fi
    # Minimize into the checked-in corpus (inputs over 256 KiB are left out).
    fuzz cmin -O "$t" "$corpus" -- -max_len=262144 > /dev/null 2>&1 || true
    rm -rf "corpus-min/$t"
    mkdir -p "corpus-min/$t"
    find "$corpus" -type f -size -256k -exec cp {} "corpus-min/$t"/ \;
    size=$(find "corpus-min/$t" -type f | wc -l)
    echo "$t: $execs executions, $cov edges, corpus $size, $crashes crashes" >&2
    if [ "$crashes" -gt 0 ]; then
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -5 >&2
        status=1
    fi
    if [ "$record" = 1 ]; then
        printf '| %s | %s | `%s` | %s | %s | %s edges | %s | %s |\n' "$(date -u +%F)" "$commit" "$t" \
            "$((minutes * jobs))" "$execs" "$cov" "$size" "$crashes" >> README.md
    fi
    rm -f "$log"
done
exit $status

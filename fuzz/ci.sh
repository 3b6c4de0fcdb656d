#!/usr/bin/env bash
# CI's short fuzz runs: every target for SECONDS (default 20) from its
# checked-in minimized corpus (a copy: CI never changes fuzz/corpus-min), so
# a parser that regressed on an input the campaigns found fails the next run.
# Any crash, leak or timeout fails. The long campaigns are fuzz/campaign.sh.
#   bash fuzz/ci.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-20}
fuzz() {
    if rustup run nightly rustc --version > /dev/null 2>&1; then
        cargo +nightly fuzz "$@"
    else
        RUSTC_BOOTSTRAP=1 cargo fuzz "$@"
    fi
}
fuzz build -O
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in $(cargo fuzz list); do
    mkdir -p "$work/$t"
    cp corpus-min/"$t"/* "$work/$t"/ 2> /dev/null || true
    echo "== $t ($(find "$work/$t" -type f | wc -l) inputs, ${secs}s)"
    if ! fuzz run -O "$t" "$work/$t" -- -max_total_time="$secs" -max_len=262144 -timeout=30 \
        -rss_limit_mb=4096 -artifact_prefix="$work/$t-" > "$work/$t.log" 2>&1; then
        tail -30 "$work/$t.log" >&2
        echo "$t: failed; its input: $(ls "$work/$t"-* 2> /dev/null)" >&2
        exit 1
    fi
    grep -E '^(#[0-9]+\s+DONE|Done [0-9]+ runs)' "$work/$t.log" || tail -1 "$work/$t.log"
done

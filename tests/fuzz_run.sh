#!/usr/bin/env bash
# Runs each libFuzzer target for a while on its committed seeds, run by `make fuzz`:
#   fuzz_run.sh SRC FUZZ_DIR SECONDS target...
# New inputs a run finds go to FUZZ_DIR/corpus-<target>, the seeds in
# tests/fuzz/corpus/<target> stay as committed. A crash, leak, hang (10 s per
# input) or sanitizer report fails the run, leaving FUZZ_DIR/crash-<target>-*.
set -euo pipefail
src=$1 dir=$2 seconds=$3
shift 3
for t in "$@"; do
    work=$dir/corpus-$t
    mkdir -p "$work"
    echo "fuzz_$t: ${seconds}s"
    if ! UBSAN_OPTIONS=print_stacktrace=1 "$dir/fuzz_$t" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$dir/crash-$t-" \
        "$work" "$src/tests/fuzz/corpus/$t" > "$dir/fuzz_$t.log" 2>&1; then
        tail -n 60 "$dir/fuzz_$t.log"
        echo "fuzz_$t failed; log: $dir/fuzz_$t.log"
        exit 1
    fi
    grep -E '^Done [0-9]+ runs' "$dir/fuzz_$t.log"
done

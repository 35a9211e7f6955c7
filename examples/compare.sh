#!/usr/bin/env bash
# Compares training modes of examples/train_fmnist on Fashion-MNIST:
# plain cross-entropy, label smoothing, SFR (EMD-l2) and SFR with the l2
# ablation, for E epochs and S seeds each, and prints the mean and spread of
# the final test accuracy.
#
#   examples/compare.sh [-e EPOCHS] [-s SEEDS] [-o OUTDIR] [-- extra trainer options]
#
# Needs `make examples` first. Every run's output and CSV are kept in OUTDIR.
set -euo pipefail
epochs=10 seeds=3 outdir=compare-runs
while getopts "e:s:o:h" opt; do
    case $opt in
    e) epochs=$OPTARG ;;
    s) seeds=$OPTARG ;;
    o) outdir=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
here=$(cd "$(dirname "$0")/.." && pwd)
train=${TRAIN_FMNIST:-$here/build/examples/train_fmnist}
[ -x "$train" ] || { echo "compare.sh: $train not built: run 'make examples'" >&2; exit 1; }
mkdir -p "$outdir"

configs=("ce:--mode ce" "ls:--mode ls" "sfr:--mode sfr" "sfr-l2:--mode sfr --match l2")
for config in "${configs[@]}"; do
    name=${config%%:*} args=${config#*:}
    for seed in $(seq 1 "$seeds"); do
        log=$outdir/$name-seed$seed.log
        echo "running $name seed $seed ($epochs epochs) -> $log" >&2
        # shellcheck disable=SC2086 # args holds several options
        "$train" $args --epochs "$epochs" --seed "$seed" --csv "$outdir/$name-seed$seed.csv" \
            "$@" > "$log" 2>&1 || { echo "compare.sh: run failed, see $log" >&2; exit 1; }
    done
done

printf '| mode | runs | test accuracy mean (%%) | std (%%) | min (%%) | max (%%) |\n'
printf '|---|---|---|---|---|---|\n'
for config in "${configs[@]}"; do
    name=${config%%:*}
    for seed in $(seq 1 "$seeds"); do
        tail -n 1 "$outdir/$name-seed$seed.csv" | cut -d, -f8
    done | awk -v name="$name" '
        { x[NR] = 100 * $1; sum += x[NR] }
        END {
            mean = sum / NR; ss = 0; lo = x[1]; hi = x[1]
            for (i = 1; i <= NR; i++) { ss += (x[i] - mean) ^ 2; if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i] }
            std = NR > 1 ? sqrt(ss / (NR - 1)) : 0
            printf "| %s | %d | %.2f | %.2f | %.2f | %.2f |\n", name, NR, mean, std, lo, hi
        }'
done

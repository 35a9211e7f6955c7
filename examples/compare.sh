#!/usr/bin/env bash
# Compares training configurations of examples/train_fmnist on Fashion-MNIST
# over several seeds and prints the mean and spread of the final accuracy.
#
#   examples/compare.sh [-e EPOCHS] [-s SEEDS] [-o OUTDIR] [-j JOBS] [-v] [-c CONFIGS]
#                       [-- extra trainer options]
#
#   -e  epochs per run (default 10)        -s  seeds 1..S per configuration (default 3)
#   -o  directory of every run's log and CSV (default compare-runs)
#   -j  runs at a time (default 1; give each run --threads accordingly)
#   -v  validation mode: every run holds out the last 10,000 training images
#       and is scored on them; the test set is never read. Choose
#       hyper-parameters this way, then compare on the test set without -v.
#   -c  file of configurations, one "name: trainer options" a line (# comments);
#       the default set is ce, ls, SFR as 0.1.0 shipped it, and the SFR default
#       (a head on stage 3) with its ablations (adapted feature pairs, both).
#
# Needs `make examples` first. A run whose CSV already holds every epoch is not
# run again, so an interrupted comparison continues where it stopped.
set -euo pipefail
epochs=10 seeds=3 outdir=compare-runs jobs=1 validation=0 config_file=
while getopts "e:s:o:j:vc:h" opt; do
    case $opt in
    e) epochs=$OPTARG ;;
    s) seeds=$OPTARG ;;
    o) outdir=$OPTARG ;;
    j) jobs=$OPTARG ;;
    v) validation=1 ;;
    c) config_file=$OPTARG ;;
    *) sed -n '2,19p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
here=$(cd "$(dirname "$0")/.." && pwd)
train=${TRAIN_FMNIST:-$here/build/examples/train_fmnist}
[ -x "$train" ] || { echo "compare.sh: $train not built: run 'make examples'" >&2; exit 1; }
mkdir -p "$outdir"

if [ -n "$config_file" ]; then
    mapfile -t configs < <(grep -v '^[[:space:]]*\(#\|$\)' "$config_file")
else
    configs=(
        "ce: --mode ce"
        "ls: --mode ls"
        "sfr-0.1: --mode sfr --beta 1 --pairs 1,2,3 --heads none --warmup 0 --eps-absolute --eps 0.05 --eps-scaling 0"
        "sfr: --mode sfr"
        "sfr-features-only: --mode sfr --heads none --pairs 1,2,3 --adapters --beta 0.1"
        "sfr-heads-features: --mode sfr --pairs 1,2,3 --adapters --beta 0.1"
    )
fi
split=()
[ "$validation" = 1 ] && split=(--val 10000)

# One line per run for xargs: name, seed, options.
runs=$(mktemp)
trap 'rm -f "$runs"' EXIT
for config in "${configs[@]}"; do
    name=${config%%:*} args=${config#*:}
    for seed in $(seq 1 "$seeds"); do
        csv=$outdir/$name-seed$seed.csv
        if [ -f "$csv" ] && [ "$(tail -n 1 "$csv" | cut -d, -f1)" = "$epochs" ]; then
            continue
        fi
        printf '%s\t%s\t%s\n' "$name" "$seed" "$args" >> "$runs"
    done
done

run_one() {
    local name=$1 seed=$2 args=$3 log=$outdir/$1-seed$2.log
    echo "running $name seed $seed ($epochs epochs) -> $log" >&2
    # shellcheck disable=SC2086 # args holds several options
    "$train" $args --epochs "$epochs" --seed "$seed" --csv "$outdir/$name-seed$seed.csv" \
        "${split[@]}" "${extra[@]}" > "$log" 2>&1 || { echo "compare.sh: run failed, see $log" >&2; return 1; }
}
export -f run_one
export train outdir epochs
extra=("$@")
# Arrays cannot be exported: the child rebuilds them from these strings.
export split_s="${split[*]:-}" extra_s="${extra[*]:-}"
xargs -a "$runs" -d '\n' -P "$jobs" -I{} bash -c '
    IFS=$'"'"'\t'"'"' read -r name seed args <<< "$1"
    read -r -a split <<< "$split_s"; read -r -a extra <<< "$extra_s"
    run_one "$name" "$seed" "$args"' _ {}

what=test
[ "$validation" = 1 ] && what=validation
printf '| configuration | runs | %s accuracy mean (%%) | std (%%) | min (%%) | max (%%) |\n' "$what"
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

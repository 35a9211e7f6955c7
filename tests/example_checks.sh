#!/usr/bin/env bash
# Checks of the example programs, run by tests/test_examples.c:
#   example_checks.sh SRC BUILD loader   train_fmnist stops with a clear message on a
#                                        missing, corrupt, truncated or mismatched data set
#   example_checks.sh SRC BUILD train    a short real run writes its CSV and checkpoint,
#                                        a resumed run ends in the state of an
#                                        uninterrupted one, byte for byte; an
#                                        AdamW run follows its warm-up and cosine; the
#                                        mobilenet trains
#   example_checks.sh SRC BUILD external the external-taps example runs and reports
#   example_checks.sh SRC BUILD minimal  examples/minimal.c learns its task, its loaded
#                                        checkpoint gives the same logits, and a failing
#                                        call stops it with the library's message
#   example_checks.sh SRC BUILD compare  compare.sh's validation mode runs a configuration
#                                        file in parallel, scores on the held-out images,
#                                        and skips finished runs when run again
set -euo pipefail
src=$1 build=$2 what=$3
train=$build/examples/train_fmnist
data=${SFR_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A 32-bit big-endian integer as raw bytes.
be32() {
    local v=$(($1))
    printf '%b' "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((v >> 24 & 255)) $((v >> 16 & 255)) \
        $((v >> 8 & 255)) $((v & 255)))"
}

# Writes a gzip'ed IDX file: magic, then 32-bit big-endian sizes, then payload zero bytes.
idx() { # path magic payload_bytes size...
    local path=$1 magic=$2 payload=$3; shift 3
    {
        be32 "$magic"
        for s in "$@"; do be32 "$s"; done
        head -c "$payload" /dev/zero
    } | gzip -c > "$path"
}

# Runs the trainer expecting a clean failure (an exit status, not a crash or
# a sanitizer's abort) with a message matching pattern.
expect_failure() { # pattern args...
    local pattern=$1 rc=0; shift
    "$train" "$@" > "$tmp/out" 2>&1 || rc=$?
    [ "$rc" -ne 0 ] || { echo "train_fmnist $* succeeded, expected: $pattern"; exit 1; }
    [ "$rc" -lt 128 ] || { echo "train_fmnist $* crashed (status $rc):"; cat "$tmp/out"; exit 1; }
    grep -q -- "$pattern" "$tmp/out" || { echo "expected '$pattern', got:"; cat "$tmp/out"; exit 1; }
}

case $what in
loader)
    expect_failure "cannot open" --data "$tmp/none"
    d=$tmp/bad && mkdir "$d"
    idx "$d/train-images-idx3-ubyte.gz" 0x803 $((4 * 784)) 4 28 28
    idx "$d/train-labels-idx1-ubyte.gz" 0x801 4 4
    cp "$d/train-images-idx3-ubyte.gz" "$d/t10k-images-idx3-ubyte.gz"
    cp "$d/train-labels-idx1-ubyte.gz" "$d/t10k-labels-idx1-ubyte.gz"
    # A valid tiny set still has fewer images than one batch.
    expect_failure "fewer than one batch" --data "$d"
    idx "$d/train-images-idx3-ubyte.gz" 0x802 0 4 28 28
    expect_failure "magic 0x00000802" --data "$d"
    idx "$d/train-images-idx3-ubyte.gz" 0x803 $((4 * 784 - 1)) 4 28 28
    expect_failure "truncated" --data "$d"
    idx "$d/train-images-idx3-ubyte.gz" 0x803 $((4 * 784 + 1)) 4 28 28
    expect_failure "longer than its header" --data "$d"
    idx "$d/train-images-idx3-ubyte.gz" 0x803 $((4 * 27 * 28)) 4 27 28
    expect_failure "images are 27x28" --data "$d"
    idx "$d/train-images-idx3-ubyte.gz" 0x803 $((5 * 784)) 5 28 28
    expect_failure "holds 5 images but" --data "$d"
    printf 'not gzip at all, but long enough to be read as a header' > "$d/train-images-idx3-ubyte.gz"
    expect_failure "magic" --data "$d"
    expect_failure "unknown mode" --mode nope
    expect_failure "needs --checkpoint" --resume
    ;;
train)
    common=(--data "$data" --limit 256 --batch 64 --threads 2 --csv "$tmp/run.csv"
            --checkpoint "$tmp/net.ckpt")
    # A run stopped after epoch 1 of 2, then resumed, ends with the state of
    # an uninterrupted run, byte for byte (same thread count).
    "$train" "${common[@]}" --epochs 2 --stop-after 1 > "$tmp/first" 2>&1 || { cat "$tmp/first"; exit 1; }
    grep -q '^epoch 1/2: loss' "$tmp/first" || { cat "$tmp/first"; exit 1; }
    grep -q '^stopped after epoch 1 of 2' "$tmp/first" || { cat "$tmp/first"; exit 1; }
    grep -q '^done: 1 epoch(s)' "$tmp/first" || { cat "$tmp/first"; exit 1; }
    [ -s "$tmp/net.ckpt" ] && [ ! -e "$tmp/net.ckpt.epoch" ]
    [ "$(wc -l < "$tmp/run.csv")" = 2 ] || { cat "$tmp/run.csv"; exit 1; }
    head -1 "$tmp/run.csv" | grep -q '^epoch,label_loss,pair1_loss'
    # Losses and accuracies are finite numbers in range.
    awk -F, 'NR == 2 { if (!($2 > 0 && $2 < 10 && $7 >= 0 && $7 <= 1 && $8 > 0.1 && $8 <= 1)) exit 1 }' \
        "$tmp/run.csv" || { cat "$tmp/run.csv"; exit 1; }
    "$train" "${common[@]}" --epochs 2 --resume > "$tmp/second" 2>&1 || { cat "$tmp/second"; exit 1; }
    grep -q 'resumed from .* after epoch 1$' "$tmp/second" || { cat "$tmp/second"; exit 1; }
    grep -q '^epoch 2/2: loss' "$tmp/second" || { cat "$tmp/second"; exit 1; }
    ! grep -q '^epoch 1/2' "$tmp/second" || { echo "resumed run repeated epoch 1"; exit 1; }
    [ "$(wc -l < "$tmp/run.csv")" = 3 ] || { cat "$tmp/run.csv"; exit 1; }
    "$train" --data "$data" --limit 256 --batch 64 --threads 2 --checkpoint "$tmp/whole.ckpt" \
        --epochs 2 > "$tmp/whole" 2>&1 || { cat "$tmp/whole"; exit 1; }
    cmp "$tmp/net.ckpt" "$tmp/whole.ckpt" || { echo "the resumed run's state differs"; exit 1; }
    # --epochs 0 evaluates the loaded net: the accuracy of the last epoch.
    "$train" "${common[@]}" --epochs 0 --resume > "$tmp/eval" 2>&1 || { cat "$tmp/eval"; exit 1; }
    acc=$(sed -n 's/^epoch 2\/2: .*, test \([0-9.]*\)%.*/\1/p' "$tmp/whole")
    grep -q "^evaluation only: test accuracy $acc%" "$tmp/eval" || { echo "expected $acc%:"; cat "$tmp/eval"; exit 1; }
    # --export-onnx writes the net; --init-onnx builds it again, with the same accuracy,
    # and trains it with pairs on the stages the demo named.
    "$train" "${common[@]}" --epochs 0 --resume --export-onnx "$tmp/net.onnx" > "$tmp/export" 2>&1 ||
        { cat "$tmp/export"; exit 1; }
    grep -q "^exported the net to $tmp/net.onnx" "$tmp/export" || { cat "$tmp/export"; exit 1; }
    onnx=(--data "$data" --limit 256 --batch 64 --threads 2 --init-onnx "$tmp/net.onnx")
    "$train" "${onnx[@]}" --epochs 0 --mode ce > "$tmp/onnx-eval" 2>&1 || { cat "$tmp/onnx-eval"; exit 1; }
    grep -q "^evaluation only: test accuracy $acc%" "$tmp/onnx-eval" || { echo "expected $acc%:"; cat "$tmp/onnx-eval"; exit 1; }
    "$train" "${onnx[@]}" --heads none --pairs 1,2,3 --stage-names stage1,stage2,stage3,stage4 \
        > "$tmp/onnx-train" 2>&1 || { cat "$tmp/onnx-train"; exit 1; }
    grep -q '^epoch 1/1: loss [0-9.]* (label [0-9.]*, sfr 0\.[0-9]*[1-9]' "$tmp/onnx-train" &&
        grep -q '^done: 1 epoch(s)' "$tmp/onnx-train" || { cat "$tmp/onnx-train"; exit 1; }
    expect_failure "takes no side branches" "${onnx[@]}"
    expect_failure "needs four layer names" "${onnx[@]}" --heads none --pairs 1 --stage-names stage1
    # Another seed cannot continue the run.
    expect_failure "another --seed" "${common[@]}" --epochs 3 --resume --seed 5
    # A resumed run does not append rows to a CSV with other columns.
    printf 'epoch,label_loss,pair1_loss\n1,0.5,0\n' > "$tmp/old.csv"
    expect_failure "has other columns than this run writes" "${common[@]}" --epochs 3 --resume \
        --csv "$tmp/old.csv"
    [ "$(wc -l < "$tmp/old.csv")" = 2 ] || { cat "$tmp/old.csv"; exit 1; }
    # The last-batch term: batches overlap by half, (256 - 64) / 32 + 1 = 7
    # steps an epoch; the term is positive once a batch has one before it.
    "$train" --data "$data" --limit 256 --batch 64 --threads 2 --heads none --last-batch 1 \
        --csv "$tmp/dlb.csv" > "$tmp/dlb" 2>&1 || { cat "$tmp/dlb"; exit 1; }
    grep -q '^epoch 1/1 batch 7/7 ' "$tmp/dlb" || { cat "$tmp/dlb"; exit 1; }
    grep -q '^  last-batch term: 0\.[0-9]*[1-9]' "$tmp/dlb" || { cat "$tmp/dlb"; exit 1; }
    head -1 "$tmp/dlb.csv" | grep -q ',classwise_loss,last_batch_loss$' &&
        awk -F, 'NR == 2 { exit !($16 > 0) }' "$tmp/dlb.csv" || { cat "$tmp/dlb.csv"; exit 1; }
    expect_failure "--last-batch needs --mode sfr" --data "$data" --limit 256 --mode ce --last-batch 1
    # A corrupt checkpoint is refused with libsfr's format error.
    printf 'garbage' > "$tmp/net.ckpt"
    expect_failure "corrupt or incompatible file" "${common[@]}" --epochs 3 --resume
    # AdamW with a one-epoch warm-up (4 steps an epoch, 8 in all): the last
    # step of epoch 1 runs at 2e-3 (0.1 + 0.9 * 3/4), that of epoch 2 at
    # 2e-3 (1 + cos(3 pi / 4)) / 2.
    "$train" --data "$data" --limit 256 --batch 64 --threads 2 --epochs 2 --optimizer adamw \
        --warmup-epochs 1 --csv "$tmp/adamw.csv" > "$tmp/adamw" 2>&1 || { cat "$tmp/adamw"; exit 1; }
    [ "$(cut -d, -f11 "$tmp/adamw.csv" | tail -n 2 | tr '\n' ' ')" = "0.00155 0.000292893 " ] ||
        { cat "$tmp/adamw.csv"; exit 1; }
    expect_failure "--warmup-epochs 3 is longer than the 2 epoch" --data "$data" --epochs 2 \
        --warmup-epochs 3
    # bf16 mixed precision trains where the CPU has AVX512_BF16, and is refused where not.
    if grep -qw avx512_bf16 /proc/cpuinfo; then
        "$train" --data "$data" --limit 256 --batch 64 --threads 2 --precision bf16 \
            > "$tmp/bf16" 2>&1 || { cat "$tmp/bf16"; exit 1; }
        grep -q '^libsfr .*: fmnist-resnet (bf16), mode sfr' "$tmp/bf16" &&
            grep -q '^done: 1 epoch(s)' "$tmp/bf16" || { cat "$tmp/bf16"; exit 1; }
    else
        expect_failure "lacks AVX512_BF16" --data "$data" --limit 256 --precision bf16
    fi
    expect_failure "unknown precision 'fp16'" --precision fp16
    # fmnist-mobilenet trains, with the default head on its stage 3.
    "$train" --data "$data" --limit 256 --batch 64 --threads 2 --net mobilenet --optimizer adamw \
        > "$tmp/mobilenet" 2>&1 || { cat "$tmp/mobilenet"; exit 1; }
    grep -q '^libsfr .*: fmnist-mobilenet, mode sfr' "$tmp/mobilenet" &&
        grep -q '^done: 1 epoch(s)' "$tmp/mobilenet" || { cat "$tmp/mobilenet"; exit 1; }
    ;;
external)
    "$build/examples/external_taps" 3 > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    [ "$(grep -c '^step [0-2]: loss [0-9.]* (label [0-9.]*, pair 0 [0-9.]*), sinkhorn [0-9]* iterations' "$tmp/out")" = 3 ] ||
        { cat "$tmp/out"; exit 1; }
    grep -q '^setting a negative sinkhorn_eps: invalid argument: sfr_reg_set_param: ' "$tmp/out" ||
        { cat "$tmp/out"; exit 1; }
    ;;
minimal)
    minimal=$build/examples/minimal
    "$minimal" "$tmp/net.ckpt" > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    [ -s "$tmp/net.ckpt" ] || { echo "no checkpoint written"; cat "$tmp/out"; exit 1; }
    # Four reports; the label loss falls; the loaded net agrees and has learnt.
    awk '/^step/ { label[n++] = $6 + 0 }
         /^loaded .*: the same logits, [0-9]+\/16 correct$/ { split($(NF - 1), c, "/"); correct = c[1] }
         END { exit !(n == 4 && label[3] < 0.5 * label[0] && correct >= 14) }' "$tmp/out" ||
        { cat "$tmp/out"; exit 1; }
    # A save into a missing directory: a clean exit with the call and the message.
    rc=0
    "$minimal" "$tmp/missing/net.ckpt" > "$tmp/out" 2>&1 || rc=$?
    [ "$rc" = 1 ] || { echo "minimal exited with $rc on a failed save:"; cat "$tmp/out"; exit 1; }
    grep -q "^minimal: sfr_net_save(net, path): input/output error (sfr_net_save: .*missing/net.ckpt" \
        "$tmp/out" || { cat "$tmp/out"; exit 1; }
    ;;
compare)
    printf '# two configurations\nce: --mode ce\nheads: --mode sfr --heads 2,3\n' > "$tmp/cfg"
    TRAIN_FMNIST=$train bash "$src/examples/compare.sh" -v -e 1 -s 2 -j 2 -c "$tmp/cfg" \
        -o "$tmp/runs" -- --data "$data" --limit 256 --batch 64 --threads 1 > "$tmp/out" 2> "$tmp/err" ||
        { cat "$tmp/out" "$tmp/err"; exit 1; }
    [ "$(grep -c '^running ' "$tmp/err")" = 4 ] || { cat "$tmp/err"; exit 1; }
    grep -q '^| configuration | runs | validation accuracy mean' "$tmp/out" || { cat "$tmp/out"; exit 1; }
    grep -Eq '^\| ce \| 2 \| [0-9.]+ \|' "$tmp/out" && grep -Eq '^\| heads \| 2 \| [0-9.]+ \|' "$tmp/out" ||
        { cat "$tmp/out"; exit 1; }
    # Scored on the held-out images (the CSV names them), the heads' loss recorded.
    head -1 "$tmp/runs/heads-seed1.csv" | grep -q ',train_accuracy,val_accuracy,.*,head_loss,' ||
        { cat "$tmp/runs/heads-seed1.csv"; exit 1; }
    awk -F, 'NR == 2 { exit !($12 > 0) }' "$tmp/runs/heads-seed1.csv" ||
        { cat "$tmp/runs/heads-seed1.csv"; exit 1; }
    grep -q 'validation' "$tmp/runs/ce-seed1.log" || { cat "$tmp/runs/ce-seed1.log"; exit 1; }
    # Run again: every run is complete, none is repeated, the table is the same.
    TRAIN_FMNIST=$train bash "$src/examples/compare.sh" -v -e 1 -s 2 -c "$tmp/cfg" -o "$tmp/runs" \
        -- --data "$data" --limit 256 --batch 64 --threads 1 > "$tmp/out2" 2> "$tmp/err2"
    ! grep -q '^running ' "$tmp/err2" && cmp -s "$tmp/out" "$tmp/out2" || { cat "$tmp/err2" "$tmp/out2"; exit 1; }
    ;;
*)
    echo "unknown check: $what"; exit 2 ;;
esac

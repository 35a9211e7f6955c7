#!/usr/bin/env bash
# Checks of exported ONNX models by other implementations, run by tests/test_onnx.c:
#   onnx_checks.sh SRC checker MODEL...   onnx.checker (Debian's python3-onnx) accepts each
#                                         model, shape inference included
#   onnx_checks.sh SRC ort MODEL INPUT N C H W OUTPUT
#                                         ONNX Runtime's outputs for INPUT, into OUTPUT;
#                                         needs SFR_ORT_DIR (see tests/fixtures/ort_run.js)
set -euo pipefail
src=$1 what=$2
shift 2
case $what in
checker)
    /usr/bin/python3 - "$@" <<'PY'
import sys
import onnx
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({n.op_type for n in model.graph.node})
    print("%s: opset %d, %d nodes (%s)" % (path, model.opset_import[0].version,
                                           len(model.graph.node), " ".join(ops)))
PY
    ;;
ort)
    [ -n "${SFR_ORT_DIR:-}" ] || { echo "SFR_ORT_DIR is not set"; exit 2; }
    NODE_PATH="$SFR_ORT_DIR/node_modules" node "$src/tests/fixtures/ort_run.js" "$@"
    ;;
*)
    echo "unknown check $what"; exit 2 ;;
esac

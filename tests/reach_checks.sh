#!/usr/bin/env bash
# Checks of the ways libsfr reaches its users, run by tests/test_reach.c:
#   reach_checks.sh SRC BUILD python-module    the Python package's own tests (tests/python)
#   reach_checks.sh SRC BUILD python-install   make install into a temporary prefix: the
#                                              package imports from outside the tree and
#                                              finds the library with no environment
#                                              variable; pip installs it offline
#   reach_checks.sh SRC BUILD python-train     examples/python/train_fmnist.py trains briefly
#   reach_checks.sh SRC BUILD python-external  external_taps.py's losses and gradients are
#                                              bitwise those of the C API on the same data
#   reach_checks.sh SRC BUILD cpp-header       sfr.hpp compiles alone and behaves
#                                              (tests/fixtures/hpp_checks.cpp), as C++11
#                                              (the promise) and as C++17
#   reach_checks.sh SRC BUILD cpp-train        examples/cpp/train.cpp learns its synthetic task
#   reach_checks.sh SRC BUILD mpi              train_ddp on 2 ranks: the loss falls and both
#                                              ranks end with bitwise-identical parameters
#   reach_checks.sh SRC BUILD static           a staged install without the shared library:
#                                              examples link libsfr.a through
#                                              `pkg-config --static` and run
#   reach_checks.sh SRC BUILD plot             make plot turns a small CSV into a PNG of
#                                              the right size with something drawn on it
set -euo pipefail
src=$1 build=$2 what=$3
cc=${CC:-cc} cxx=${CXX:-g++}
cxxflags=(-pedantic -Wall -Wextra -Werror -Wshadow)
# Debian's interpreter, which python3-numpy serves (a pyenv or venv python3 on
# PATH may lack numpy).
python=${SFR_PYTHON:-/usr/bin/python3}
data=${SFR_FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SFR_LIBRARY=$build/libsfr.so OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

case $what in
python-module)
    "$python" -m unittest discover -s "$src/tests/python" > "$tmp/out" 2>&1 ||
        { cat "$tmp/out"; exit 1; }
    ;;
python-install)
    prefix=$tmp/prefix
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" install BUILD="$build" \
        PREFIX="$prefix" PYTHON="$python" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
    site=$(echo "$prefix"/lib/python3*/*-packages)
    [ -f "$site/sfr/_install.py" ] || { echo "no package under $prefix/lib"; cat "$tmp/install.log"; exit 1; }
    # Isolated (-I: no PYTHON* variables, no current directory), from /, with
    # no SFR_LIBRARY or LD_LIBRARY_PATH: only what the install recorded.
    check_installed='
import sys
site, lib = sys.argv[1], sys.argv[2]
sys.path.insert(0, site)
import numpy as np, sfr
assert sfr.__file__.startswith(site + "/"), sfr.__file__
assert sfr.library_path().startswith(lib + "/libsfr.so."), sfr.library_path()
with sfr.Net() as net:
    x = net.input(1, 4, 4)
    net.linear(net.global_avgpool(net.relu(net.conv2d(x, 2, 3, 1, 1))), 3)
    net.compile(2)
    net.init_params(1)
    net.forward(np.ones((2, 1, 4, 4)))
    assert np.isfinite(net.output()).all() and np.abs(net.output()).max() > 0
'
    (cd / && env -u SFR_LIBRARY -u LD_LIBRARY_PATH -u PYTHONPATH \
        "$python" -I -c "$check_installed" "$site" "$prefix/lib") || exit 1
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" uninstall BUILD="$build" \
        PREFIX="$prefix" PYTHON="$python" > "$tmp/uninstall.log" 2>&1 || { cat "$tmp/uninstall.log"; exit 1; }
    [ ! -e "$site/sfr" ] || { echo "make uninstall left $site/sfr"; ls -R "$site/sfr"; exit 1; }
    # The documented pip command works offline (a copy: pip builds in place).
    cp -r "$src/python" "$tmp/pysrc"
    "$python" -m pip install --no-build-isolation --no-deps --no-index --target "$tmp/pip" \
        "$tmp/pysrc" > "$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; exit 1; }
    (cd / && "$python" -I -c '
import sys
sys.path.insert(0, sys.argv[1])
import sfr
assert sfr.__file__.startswith(sys.argv[1] + "/"), sfr.__file__
assert sfr.version() == sfr.__version__, (sfr.version(), sfr.__version__)
' "$tmp/pip") || exit 1
    ;;
python-train)
    "$python" "$src/examples/python/train_fmnist.py" --data "$data" --limit 64 --batch 32 \
        --test-limit 64 > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    # The loss is a finite number in range and accuracies are percentages.
    grep -Eq '^epoch 1/1: loss [0-9]+\.[0-9]+ \(label [0-9.]+\), train [0-9.]+%, test [0-9.]+%' \
        "$tmp/out" || { cat "$tmp/out"; exit 1; }
    ;;
python-external)
    "$cc" -std=c11 -Wall -Wextra -Werror -I"$src/include" "$src/tests/fixtures/external_taps_ref.c" \
        -L"$build" -lsfr -Wl,-rpath,"$build" -o "$tmp/external_taps_ref"
    "$tmp/external_taps_ref" "$tmp/c.bin"
    "$python" "$src/examples/python/external_taps.py" --steps 3 --save "$tmp/py.bin" \
        > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    # Every part of the reference holds something, so equality means agreement.
    "$python" - "$tmp/c.bin" <<'PY' || exit 1
import sys, numpy as np
raw = open(sys.argv[1], "rb").read()
parts = np.frombuffer(raw, np.float64, 4)
floats = np.frombuffer(raw, np.float32, offset=32)
sizes = [4 * 10, 4 * 8 * 6 * 6, 4 * 32 * 3 * 3, 4 * 16 * 3 * 3]  # dlogits, s1, s2, teacher
assert floats.size == sum(sizes), floats.size
assert (parts > 0).all() and abs(parts[:3].sum() - parts[3]) < 1e-9 * parts[3], parts
for piece in np.split(floats, np.cumsum(sizes)[:-1]):
    assert np.isfinite(piece).all() and np.abs(piece).max() > 0
PY
    cmp "$tmp/c.bin" "$tmp/py.bin" || { echo "Python and C results differ"; exit 1; }
    # The demonstration's gradient steps lower the loss.
    awk '/^step/ { loss[n++] = $4 } END { exit !(n == 3 && loss[2] < loss[0]) }' "$tmp/out" ||
        { cat "$tmp/out"; exit 1; }
    ;;
cpp-header)
    printf '#include <sfr/sfr.hpp>\n' > "$tmp/h.cpp"
    for std in c++11 c++17; do
        "$cxx" -std=$std "${cxxflags[@]}" -fsyntax-only -I"$src/include" "$tmp/h.cpp" ||
            { echo "sfr/sfr.hpp does not compile alone as $std"; exit 1; }
        "$cxx" -std=$std "${cxxflags[@]}" -I"$src/include" "$src/tests/fixtures/hpp_checks.cpp" \
            -L"$build" -lsfr -Wl,-rpath,"$build" -o "$tmp/hpp_checks" ||
            { echo "tests/fixtures/hpp_checks.cpp does not build as $std"; exit 1; }
        "$tmp/hpp_checks" > "$tmp/out" 2>&1 || { echo "as $std:"; cat "$tmp/out"; exit 1; }
    done
    ;;
cpp-train)
    "$build/examples/train_cpp" --steps 80 --batch 16 > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    # The mean loss of the last report is below the first's, and the net learnt the task.
    awk '/^step/ { loss[n++] = $4 } /^held-out accuracy/ { acc = $3 }
         END { exit !(n == 10 && loss[n - 1] < 0.8 * loss[0] && acc >= 0.75) }' "$tmp/out" ||
        { cat "$tmp/out"; exit 1; }
    ;;
mpi)
    # One OpenMP thread per rank: two ranks share this machine's cores.
    # Under check-asan, Open MPI's plugins leak at finalize from modules that
    # are already unloaded (nothing to name in a suppression): leak detection
    # is off for the ranks alone; every other suite still checks libsfr's leaks.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    OMP_NUM_THREADS=1 mpirun --oversubscribe --allow-run-as-root -np 2 -x OMP_NUM_THREADS \
        "$build/examples/train_ddp" --data "$data" --limit 4096 --steps 40 --batch 16 \
        --report 10 --save-params "$tmp/params" > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    awk '/^step/ { loss[n++] = $4 } END { exit !(n == 4 && loss[3] < loss[0]) }' "$tmp/out" ||
        { echo "the loss did not fall:"; cat "$tmp/out"; exit 1; }
    count=$(sed -n 's/.*, \([0-9]*\) parameters$/\1/p' "$tmp/out")
    for r in 0 1; do
        [ "$(stat -c %s "$tmp/params.rank$r")" = $((4 * count)) ] ||
            { echo "rank $r wrote $(stat -c %s "$tmp/params.rank$r") bytes for $count parameters"; exit 1; }
    done
    cmp "$tmp/params.rank0" "$tmp/params.rank1" ||
        { echo "the ranks' parameters differ"; cat "$tmp/out"; exit 1; }
    ;;
static)
    stage=$tmp/stage
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" install BUILD="$build" \
        DESTDIR="$stage" PREFIX=/usr > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
    lib=$stage/usr/lib
    [ -f "$stage/usr/include/sfr/sfr.hpp" ] || { echo "sfr.hpp is not installed"; exit 1; }
    # An SDK that ships libsfr.a alone: the linker can only take the archive.
    # SFR_LINK_FLAGS: what an instrumented archive (make check-asan) needs on top.
    SFR_LINK_FLAGS=${SFR_LINK_FLAGS:-}
    rm -f "$lib"/libsfr.so*
    export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
    # shellcheck disable=SC2046,SC2086 # lists of flags
    "$cxx" -std=c++17 -Wall -Wextra -Werror "$src/examples/cpp/train.cpp" \
        $(pkg-config --static --cflags --libs sfr) $SFR_LINK_FLAGS -o "$tmp/train_cpp"
    # Every object of the archive, not only those the example pulls in, finds
    # what it needs in Libs.private, with the C compiler's default libraries.
    # shellcheck disable=SC2046,SC2086
    "$cc" -std=c11 -Wall -Werror "$src/tests/fixtures/external_taps_ref.c" \
        $(pkg-config --cflags sfr) -Wl,--whole-archive "$lib/libsfr.a" -Wl,--no-whole-archive \
        $(pkg-config --static --libs sfr) $SFR_LINK_FLAGS -o "$tmp/external_taps_ref"
    for exe in train_cpp external_taps_ref; do
        needed=$(readelf -d "$tmp/$exe" | grep NEEDED)
        ! grep -q libsfr <<< "$needed" || { echo "$exe still needs libsfr.so"; exit 1; }
        grep -q libdnnl <<< "$needed" || { echo "$exe does not use oneDNN"; echo "$needed"; exit 1; }
    done
    "$tmp/train_cpp" --steps 20 > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    grep -q '^held-out accuracy' "$tmp/out" || { cat "$tmp/out"; exit 1; }
    "$tmp/external_taps_ref" "$tmp/static.bin"
    "$cc" -std=c11 -I"$src/include" "$src/tests/fixtures/external_taps_ref.c" -L"$build" -lsfr \
        -Wl,-rpath,"$build" -o "$tmp/external_taps_shared"
    "$tmp/external_taps_shared" "$tmp/shared.bin"
    cmp "$tmp/static.bin" "$tmp/shared.bin" || { echo "static and shared results differ"; exit 1; }
    ;;
plot)
    {
        echo "epoch,label_loss,pair1_loss,pair2_loss,pair3_loss,total_loss,train_accuracy,test_accuracy,images_per_second,seconds,lr"
        echo "1,0.900000,0.500000,0.400000,0.300000,2.100000,0.700000,0.750000,900.0,60.000,0.1"
        echo "2,0.600000,0.450000,0.350000,0.250000,1.650000,0.820000,0.840000,910.0,59.000,0.05"
        echo "3,0.450000,0.400000,0.300000,0.200000,1.350000,0.870000,0.870000,905.0,59.500,0.01"
    } > "$tmp/run.csv"
    run_make() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" "$@"; }
    run_make plot CSV="$tmp/run.csv" > "$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    png=$tmp/run.png
    [ -s "$png" ] || { echo "make plot wrote no $png"; cat "$tmp/out"; exit 1; }
    # Signature, then the IHDR chunk: width and height as 32-bit big-endian.
    [ "$(od -An -tx1 -N16 "$png" | tr -d ' \n')" = 89504e470d0a1a0a0000000d49484452 ] ||
        { echo "not a PNG:"; od -An -c -N16 "$png"; exit 1; }
    read -r w3 w2 w1 w0 h3 h2 h1 h0 < <(od -An -tu1 -j16 -N8 "$png")
    width=$(((w3 << 24) | (w2 << 16) | (w1 << 8) | w0)) height=$(((h3 << 24) | (h2 << 16) | (h1 << 8) | h0))
    [ "$width" = 1000 ] && [ "$height" = 800 ] || { echo "PNG is ${width}x$height, expected 1000x800"; exit 1; }
    # Both panels' axes and titles alone compress to about 20 kB; with the
    # seven curves and their keys the PNG is about twice that.
    [ "$(stat -c %s "$png")" -gt 30000 ] ||
        { echo "PNG of $(stat -c %s "$png") bytes: are the curves missing?"; exit 1; }
    if run_make plot > "$tmp/usage" 2>&1; then echo "make plot without CSV succeeded"; exit 1; fi
    grep -q 'usage: make plot CSV=' "$tmp/usage" || { cat "$tmp/usage"; exit 1; }
    ;;
*)
    echo "unknown check: $what"; exit 2 ;;
esac

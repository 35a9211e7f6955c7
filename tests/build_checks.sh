#!/usr/bin/env bash
# Checks of the built and installed artefacts, run by tests/test_build.c:
#   build_checks.sh SRC BUILD headers   every public header compiles alone (C99 and C++11)
#   build_checks.sh SRC BUILD symbols   exported symbols == tests/abi/symbols.txt, all sfr_,
#                                       and every SFR_API declaration is exported and links
#   build_checks.sh SRC BUILD soname    readelf shows SONAME libsfr.so.MAJOR
#   build_checks.sh SRC BUILD install   make install DESTDIR=tmp, then a pkg-config build runs
#   build_checks.sh SRC BUILD deps      on a machine with no package, make demo asks for the
#                                       build's packages only, make check for the tests' too
#   build_checks.sh SRC BUILD link-commands   the `cc ... pkg-config` lines of README.md and
#                                       docs/embedding.md, run as written on a staged install
#   build_checks.sh SRC BUILD relocated-pkg-config   an installed tree moved elsewhere builds
#                                       with pkg-config --define-variable=prefix=NEW
#   build_checks.sh SRC BUILD relocated-cmake   ... and with find_package(sfr X.Y), whose
#                                       version file follows docs/abi.md
set -euo pipefail
src=$1 build=$2 what=$3
cc=${CC:-cc} cxx=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version_part() { sed -n "s/^#define SFR_VERSION_$1 \([0-9][0-9]*\).*/\1/p" "$src/include/sfr/version.h"; }
major=$(version_part MAJOR) minor=$(version_part MINOR)
version=$major.$minor.$(version_part PATCH)
shared=$build/libsfr.so.$version

# Names of the functions declared with SFR_API in the public headers (the
# macro's own definitions in export.h are not declarations, and the doc
# comments that mention it are removed first).
run_make() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" BUILD="$build" "$@"; }

# Installs with PREFIX=prefix (and the other make variables given), moves the
# installed tree to tmp/moved and removes the staging directory, so that
# nothing is left where the tree was installed. Prints the new prefix.
install_moved() { # prefix make-variables...
    local prefix=$1; shift
    run_make install DESTDIR="$tmp/stage" PREFIX="$prefix" "$@" > "$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log" >&2; exit 1; }
    mv "$tmp/stage$prefix" "$tmp/moved"
    rm -rf "$tmp/stage"
    echo "$tmp/moved"
}

# Runs a program built from tests/fixtures/print_version.c: it must print this version.
expect_version_printed() { # program
    local out
    out=$("$1") || { echo "$1 failed: $out"; exit 1; }
    [ "$out" = "libsfr $version" ] || { echo "$1 printed '$out'"; exit 1; }
}

declared_functions() {
    perl -0777 -pe 's{/\*.*?\*/}{ }gs' "$src"/include/sfr/*.h | grep -v '^#' | tr '\n' ' ' |
        grep -o 'SFR_API[^;(]*(' |
        sed 's/($//; s/.*[ *]//' | sort -u
}

exported_functions() {
    nm -D --defined-only "$shared" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort
}

case $what in
headers)
    for h in "$src"/include/sfr/*.h; do
        name=sfr/$(basename "$h")
        # A declaration after the include keeps the C unit non-empty for -pedantic.
        printf '#include <%s>\ntypedef int header_compiles_alone;\n' "$name" > "$tmp/h.c"
        cp "$tmp/h.c" "$tmp/h.cpp"
        "$cc" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$src/include" "$tmp/h.c" ||
            { echo "$name does not compile alone as C99"; exit 1; }
        "$cxx" -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$src/include" "$tmp/h.cpp" ||
            { echo "$name does not compile alone as C++11"; exit 1; }
    done
    ;;
symbols)
    exported_functions > "$tmp/exported"
    sort "$src/tests/abi/symbols.txt" > "$tmp/listed"
    bad_prefix=$(grep -v '^sfr_' "$tmp/exported" || true)
    [ -z "$bad_prefix" ] || { echo "exported without the sfr_ prefix:"; echo "$bad_prefix"; exit 1; }
    # The list is append-only: everything listed must still be exported, and
    # everything exported must be listed (a new symbol is a deliberate change).
    if ! diff -u "$tmp/listed" "$tmp/exported"; then
        echo "exported symbols differ from tests/abi/symbols.txt (- listed only, + exported only)"
        exit 1
    fi
    declared_functions > "$tmp/declared"
    if ! diff -u "$tmp/declared" "$tmp/exported"; then
        echo "SFR_API declarations differ from the exported symbols (- declared only, + exported only)"
        exit 1
    fi
    # Every declared function links against the shared library by its declaration.
    {
        echo '#include <sfr/sfr.h>'
        echo 'typedef void (*any_fn)(void);'
        echo 'any_fn all_functions[] = {'
        sed 's/.*/    (any_fn)&,/' "$tmp/declared"
        echo '};'
        echo 'int main(void) { return all_functions[0] == 0; }'
    } > "$tmp/link.c"
    "$cc" -std=c99 -Wall -Wno-cast-function-type -I"$src/include" "$tmp/link.c" \
        -L"$build" -lsfr -Wl,-rpath,"$build" -o "$tmp/link"
    "$tmp/link"
    ;;
soname)
    readelf -d "$shared" | grep -q "(SONAME).*\[libsfr.so.$major\]" ||
        { echo "SONAME of $shared is not libsfr.so.$major"; readelf -d "$shared"; exit 1; }
    [ "$(readlink "$build/libsfr.so.$major")" = "libsfr.so.$version" ]
    [ "$(readlink "$build/libsfr.so")" = "libsfr.so.$major" ]
    ;;
install)
    stage=$tmp/stage
    run_make install DESTDIR="$stage" PREFIX=/usr > "$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log"; exit 1; }
    lib=$stage/usr/lib
    for f in include/sfr/sfr.h lib/libsfr.so.$version lib/libsfr.a lib/pkgconfig/sfr.pc \
             lib/cmake/sfr/sfrConfig.cmake lib/cmake/sfr/sfrConfigVersion.cmake; do
        [ -f "$stage/usr/$f" ] || { echo "not installed: /usr/$f"; exit 1; }
    done
    [ "$(readlink "$lib/libsfr.so.$major")" = "libsfr.so.$version" ]
    [ "$(readlink "$lib/libsfr.so")" = "libsfr.so.$major" ]
    export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
    [ "$(pkg-config --modversion sfr)" = "$version" ]
    # shellcheck disable=SC2046 # pkg-config's output is a list of flags
    "$cc" -std=c99 -Wall -Werror "$src/tests/fixtures/print_version.c" \
        $(pkg-config --cflags --libs sfr) -o "$tmp/print_version"
    LD_LIBRARY_PATH=$lib expect_version_printed "$tmp/print_version"
    run_make uninstall DESTDIR="$stage" PREFIX=/usr > "$tmp/uninstall.log" 2>&1 ||
        { cat "$tmp/uninstall.log"; exit 1; }
    left=$(find "$stage" -type f)
    [ -z "$left" ] || { echo "left after uninstall:"; echo "$left"; exit 1; }
    ;;
deps)
    # A machine where no package is installed and make does not run as root:
    # each target stops at its deps step and prints the packages it wants.
    mkdir "$tmp/bin"
    printf '#!/bin/sh\nexit 1\n' > "$tmp/bin/dpkg-query"
    printf '#!/bin/sh\necho 1000\n' > "$tmp/bin/id"
    chmod +x "$tmp/bin"/*
    wanted() { # target: the packages it asks for, one a line
        local out
        out=$(PATH=$tmp/bin:$PATH run_make "$1" 2>&1) && { echo "make $1 ran without its packages"; exit 1; }
        sed -n 's/.*missing packages; run: sudo apt-get install -y //p' <<< "$out" | tr ' ' '\n' | sort
    }
    wanted demo > "$tmp/demo"
    wanted check > "$tmp/check"
    wanted docs > "$tmp/docs"
    for p in make gcc libdnnl-dev zlib1g-dev dataset-fashion-mnist; do
        grep -qx "$p" "$tmp/demo" || { echo "make demo does not ask for $p"; exit 1; }
    done
    # The tests' tools: none for the demo, all for make check.
    for p in g++ check valgrind clang abigail-tools libopenmpi-dev python3-numpy doxygen cmake; do
        ! grep -qx "$p" "$tmp/demo" || { echo "make demo asks for $p, a tests' package"; exit 1; }
        grep -qx "$p" "$tmp/check" || { echo "make check does not ask for $p"; exit 1; }
    done
    extra=$(comm -23 "$tmp/demo" "$tmp/check")
    [ -z "$extra" ] || { echo "make check does not ask for the demo's $extra"; exit 1; }
    [ "$(cat "$tmp/docs")" = doxygen ] || { echo "make docs asks for:"; cat "$tmp/docs"; exit 1; }
    ;;
link-commands)
    # Each indented line that starts with cc and runs pkg-config, its comment
    # removed; app.c becomes the version-check program.
    grep -h '^    cc .*pkg-config' "$src/README.md" "$src/docs/embedding.md" |
        sed -e 's/^ *//' -e 's/[[:space:]]*#.*//' | sort -u > "$tmp/commands"
    grep -q -- '--static' "$tmp/commands" && grep -qv -- '--static' "$tmp/commands" ||
        { echo "expected shared and static link commands, found:"; cat "$tmp/commands"; exit 1; }
    stage=$tmp/stage lib=$tmp/stage/usr/lib
    run_make install DESTDIR="$stage" PREFIX=/usr > "$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log"; exit 1; }
    export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
    cp "$src/tests/fixtures/print_version.c" "$tmp/app.c"
    # The shared commands run first; the static ones, as the documents say,
    # where libsfr.a is the only libsfr installed.
    # SFR_LINK_FLAGS: what an instrumented archive (make check-asan) needs on top.
    link() { # command expected-libsfr-dependency(yes/no)
        (cd "$tmp" && eval "$1 ${SFR_LINK_FLAGS:-} -o app") || { echo "failed as written: $1"; exit 1; }
        if readelf -d "$tmp/app" | grep -q 'NEEDED.*libsfr'; then needs=yes; else needs=no; fi
        [ "$needs" = "$2" ] || { echo "'$1' needs libsfr.so: $needs, expected $2"; exit 1; }
        LD_LIBRARY_PATH=$lib expect_version_printed "$tmp/app"
        rm -f "$tmp/app"
    }
    while read -r command; do link "$command" yes; done < <(grep -v -- '--static' "$tmp/commands")
    rm -f "$lib"/libsfr.so*
    while read -r command; do link "$command" no; done < <(grep -- '--static' "$tmp/commands")
    ;;
relocated-pkg-config)
    installed=/nonexistent/libsfr
    moved=$(install_moved "$installed")
    # Only prefix= may name the place the tree was installed to.
    if grep -v '^prefix=' "$moved/lib/pkgconfig/sfr.pc" | grep -n "$installed"; then
        echo "sfr.pc names $installed beyond prefix=: it cannot be relocated"; exit 1
    fi
    export PKG_CONFIG_PATH=$moved/lib/pkgconfig
    pc=(pkg-config --define-variable=prefix="$moved")
    flags=$("${pc[@]}" --cflags --libs sfr)
    for want in "-I$moved/include" "-L$moved/lib"; do
        grep -qw -- "$want" <<< "$flags" || { echo "pkg-config gave '$flags', without $want"; exit 1; }
    done
    # shellcheck disable=SC2086 # a list of flags
    "$cc" -std=c99 -Wall -Werror "$src/tests/fixtures/print_version.c" $flags \
        -Wl,-rpath,"$("${pc[@]}" --variable=libdir sfr)" -o "$tmp/print_version"
    expect_version_printed "$tmp/print_version"
    ;;
relocated-cmake)
    # A multiarch LIBDIR, as Debian's: the package climbs four levels to the prefix.
    installed=/nonexistent/libsfr multiarch=$("$cc" -print-multiarch)
    moved=$(install_moved "$installed" LIBDIR="$installed/lib/$multiarch")
    package=$moved/lib/$multiarch/cmake/sfr
    if grep -rn "$installed" "$package"; then
        echo "the CMake package names $installed: it cannot be relocated"; exit 1
    fi
    app=$tmp/app && mkdir "$app"
    cat > "$app/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.13)
project(app C)
find_package(sfr $major.$minor REQUIRED)
add_executable(app_shared "$src/tests/fixtures/print_version.c")
target_link_libraries(app_shared PRIVATE sfr::sfr)
add_executable(app_static "$src/tests/fixtures/print_version.c")
target_link_libraries(app_static PRIVATE sfr::sfr_static)
CMAKE
    { cmake -S "$app" -B "$app/build" -DCMAKE_PREFIX_PATH="$moved" \
            -DCMAKE_EXE_LINKER_FLAGS="${SFR_LINK_FLAGS:-}" &&
        cmake --build "$app/build"; } > "$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log"; exit 1; }
    # CMake's build tree finds libsfr.so through the RPATH it sets.
    expect_version_printed "$app/build/app_shared"
    expect_version_printed "$app/build/app_static"
    readelf -d "$app/build/app_shared" | grep -q "NEEDED.*\[libsfr.so.$major\]" ||
        { echo "app_shared does not need libsfr.so.$major"; exit 1; }
    ! readelf -d "$app/build/app_static" | grep -q "NEEDED.*libsfr" ||
        { echo "app_static needs libsfr.so"; exit 1; }
    # Which requests this version serves (docs/abi.md): the same major
    # version, at most this one; for a range, a start in this major version.
    # The probes enable no language, so they name the package's directory
    # (CMake searches lib/<multiarch> only once it knows the architecture).
    probe() { # request expected(1 found, 0 not)
        local dir=$tmp/probe found
        rm -rf "$dir" && mkdir "$dir"
        printf 'cmake_minimum_required(VERSION 3.19)\nproject(probe NONE)\n%s\n%s\n' \
            "find_package(sfr $1 QUIET)" 'message(STATUS "sfr_FOUND=${sfr_FOUND}")' \
            > "$dir/CMakeLists.txt"
        cmake -S "$dir" -B "$dir/build" -Dsfr_DIR="$package" > "$dir/log" 2>&1 ||
            { cat "$dir/log"; exit 1; }
        if grep -q -- '-- sfr_FOUND=1' "$dir/log"; then found=1; else found=0; fi
        [ "$found" = "$2" ] || { echo "find_package(sfr $1): found $found, expected $2"; cat "$dir/log"; exit 1; }
    }
    probe "$version" 1
    probe "$major.$minor" 1
    [ "$minor" = 0 ] || probe "$major.$((minor - 1))" 1
    probe "$major.$((minor + 1))" 0
    probe "$((major + 1)).0" 0
    probe "$major.$minor...<$major.$((minor + 1))" 1
    probe "$major.$((minor + 1))...$major.$((minor + 3))" 0
    ;;
*)
    echo "unknown check: $what"; exit 2 ;;
esac

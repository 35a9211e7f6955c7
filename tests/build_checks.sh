#!/usr/bin/env bash
# Checks of the built and installed artefacts, run by tests/test_build.c:
#   build_checks.sh SRC BUILD headers   every public header compiles alone (C99 and C++11)
#   build_checks.sh SRC BUILD symbols   exported symbols == tests/abi/symbols.txt, all sfr_,
#                                       and every SFR_API declaration is exported and links
#   build_checks.sh SRC BUILD soname    readelf shows SONAME libsfr.so.MAJOR
#   build_checks.sh SRC BUILD install   make install DESTDIR=tmp, then a pkg-config build runs
set -euo pipefail
src=$1 build=$2 what=$3
cc=${CC:-cc} cxx=${CXX:-c++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

version_part() { sed -n "s/^#define SFR_VERSION_$1 \([0-9][0-9]*\).*/\1/p" "$src/include/sfr/version.h"; }
major=$(version_part MAJOR)
version=$major.$(version_part MINOR).$(version_part PATCH)
shared=$build/libsfr.so.$version

# Names of the functions declared with SFR_API in the public headers (the
# macro's own definitions in export.h are not declarations, and the doc
# comments that mention it are removed first).
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
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" install BUILD="$build" \
        DESTDIR="$stage" PREFIX=/usr > "$tmp/install.log" 2>&1 ||
        { cat "$tmp/install.log"; exit 1; }
    lib=$stage/usr/lib
    for f in include/sfr/sfr.h lib/libsfr.so.$version lib/libsfr.a lib/pkgconfig/sfr.pc; do
        [ -f "$stage/usr/$f" ] || { echo "not installed: /usr/$f"; exit 1; }
    done
    [ "$(readlink "$lib/libsfr.so.$major")" = "libsfr.so.$version" ]
    [ "$(readlink "$lib/libsfr.so")" = "libsfr.so.$major" ]
    export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
    [ "$(pkg-config --modversion sfr)" = "$version" ]
    # shellcheck disable=SC2046 # pkg-config's output is a list of flags
    "$cc" -std=c99 -Wall -Werror "$src/tests/fixtures/print_version.c" \
        $(pkg-config --cflags --libs sfr) -o "$tmp/print_version"
    out=$(LD_LIBRARY_PATH=$lib "$tmp/print_version")
    [ "$out" = "libsfr $version" ] || { echo "printed '$out'"; exit 1; }
    env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" uninstall BUILD="$build" \
        DESTDIR="$stage" PREFIX=/usr > "$tmp/uninstall.log" 2>&1 ||
        { cat "$tmp/uninstall.log"; exit 1; }
    left=$(find "$stage" -type f)
    [ -z "$left" ] || { echo "left after uninstall:"; echo "$left"; exit 1; }
    ;;
*)
    echo "unknown check: $what"; exit 2 ;;
esac

#!/usr/bin/env bash
# Checks that the documentation cannot drift from the code, run by tests/test_docs.c:
#   doc_checks.sh SRC snippets   every code block in docs/*.md and README.md that is
#                                preceded by `<!-- from: PATH -->` appears, line for line
#                                (indentation aside), as a contiguous run of lines in PATH,
#                                a file that make check builds or runs
#   doc_checks.sh SRC guide-program  docs/integration.md quotes a whole program: every C
#                                block is tagged (so `snippets` checks it), and those
#                                from examples/minimal.c show its whole life, from the
#                                version check to the last destroy, taps before compile
#   doc_checks.sh SRC api-warnings  make docs renders the API reference with no
#                                Doxygen warning or error
#   doc_checks.sh SRC api-symbols   the rendered reference has a page for every
#                                public header and, for every symbol of
#                                tests/abi/symbols.txt, a documented entry with
#                                a Since section
#   doc_checks.sh SRC api-map       the reference's index page is the map of the API:
#                                it links every public header's page and every
#                                handle type, and names every guide in docs/
set -euo pipefail
src=$1 what=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# make docs into tmp/api, its output (warnings included) in tmp/doxygen.log;
# make's own lines are silenced with -s, so the log is empty when all is well.
render_api() {
    if ! env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "${SFR_MAKE:-make}" -s -C "$src" docs \
            DOCS_DIR="$tmp/api" > "$tmp/doxygen.out" 2> "$tmp/doxygen.log"; then
        echo "make docs failed:"
        cat "$tmp/doxygen.out" "$tmp/doxygen.log"
        exit 1
    fi
}

# Lines with leading and trailing blanks removed, empty lines dropped.
normalize() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"; }

case $what in
snippets)
    count=0
    for doc in "$src"/README.md "$src"/docs/*.md; do
        # Split the document into one file per tagged block: tmp/block.N with its source in tmp/source.N.
        rm -f "$tmp"/block.* "$tmp"/source.*
        awk -v dir="$tmp" '
            /^<!-- from: .* -->$/ { source = $3; next }
            /^```/ {
                if (inside) { inside = 0; close(dir "/block." n); next }
                if (source != "") { inside = 1; n++; print source > (dir "/source." n); close(dir "/source." n); source = ""; next }
            }
            inside { print > (dir "/block." n) }
        ' "$doc"
        for block in "$tmp"/block.*; do
            [ -e "$block" ] || continue
            n=${block##*.}
            file=$src/$(cat "$tmp/source.$n")
            [ -f "$file" ] || { echo "$doc: snippet $n names a missing file $file"; exit 1; }
            normalize "$block" > "$tmp/want"
            normalize "$file" > "$tmp/have"
            # The snippet must be a contiguous run of the file's lines.
            if ! awk 'NR == FNR { want[++w] = $0; next }
                      { have[++h] = $0 }
                      END {
                          for (i = 1; i + w - 1 <= h; i++) {
                              for (j = 1; j <= w && have[i + j - 1] == want[j]; j++) ;
                              if (j > w) exit 0
                          }
                          exit 1
                      }' "$tmp/want" "$tmp/have"; then
                echo "$doc: snippet $n is not in $(cat "$tmp/source.$n") any more:"
                cat "$block"
                exit 1
            fi
            count=$((count + 1))
        done
    done
    [ "$count" -gt 0 ] || { echo "no tagged snippets found"; exit 1; }
    ;;
guide-program)
    guide=$src/docs/integration.md
    # The C blocks in order: untagged ones reported, minimal.c's concatenated.
    awk -v quoted="$tmp/quoted" '
        /^<!-- from: .* -->$/ { source = $3; next }
        /^```c$/ { inside = 1; if (source == "") { print "untagged C block at line " NR; bad = 1 } ; next }
        /^```/ && inside { inside = 0; source = ""; next }
        inside && source == "examples/minimal.c" { print > quoted }
        !inside && !/^$/ { source = "" }
        END { exit bad }
    ' "$guide" || { echo "$guide: every C block must be tagged with its source"; exit 1; }
    [ -s "$tmp/quoted" ] || { echo "$guide quotes nothing from examples/minimal.c"; exit 1; }
    for f in sfr_version_number sfr_net_create sfr_net_tap sfr_net_compile sfr_net_init_params \
             sfr_reg_create sfr_reg_add_pair sfr_sgd_create sfr_net_forward sfr_net_output \
             sfr_reg_compute sfr_net_backward sfr_sgd_step sfr_net_save sfr_net_load \
             sfr_sgd_destroy sfr_reg_destroy sfr_net_destroy; do
        grep -q "$f(" "$tmp/quoted" || { echo "$guide does not quote minimal.c's $f"; exit 1; }
    done
    grep -q '^#define CHECK(call)' "$tmp/quoted" ||
        { echo "$guide uses CHECK without quoting its definition"; exit 1; }
    # net.h: taps asked for before compile avoid a recompile.
    tap=$(grep -n 'sfr_net_tap(' "$tmp/quoted" | head -1 | cut -d: -f1)
    compile=$(grep -n 'sfr_net_compile(' "$tmp/quoted" | head -1 | cut -d: -f1)
    [ "$tap" -lt "$compile" ] || { echo "$guide asks for taps after compile"; exit 1; }
    ;;
api-warnings)
    render_api
    if [ -s "$tmp/doxygen.log" ]; then
        echo "make docs printed (a warning fails the reference):"
        cat "$tmp/doxygen.log"
        exit 1
    fi
    ;;
api-symbols)
    render_api
    html=$tmp/api/html
    for h in "$src"/include/sfr/*.h; do
        # Doxygen names a header's page after its file name, '_' doubled, '.' as '_8'.
        page=$html/$(basename "$h" | sed 's/_/__/g; s/\./_8/').html
        [ -f "$page" ] || { echo "$(basename "$h") has no page: is its @file block missing?"; exit 1; }
    done
    # Each documented member starts with <h2 class="memtitle">...NAME()</h2>;
    # list the functions whose entry holds a Since section.
    cat "$html"/*_8h.html | awk '
        /<h2 class="memtitle">/ { name = $0; sub(/<\/h2>.*/, "", name); sub(/.*<\/span>/, "", name) }
        /<dl class="section since">/ && name ~ /\(\)$/ { sub(/\(\)$/, "", name); print name; name = "" }
    ' | sort -u > "$tmp/documented"
    missing=$(sort -u "$src/tests/abi/symbols.txt" | comm -23 - "$tmp/documented")
    if [ -n "$missing" ]; then
        echo "exported but without a documented entry (with @since) in the API reference:"
        echo "$missing"
        exit 1
    fi
    ;;
api-map)
    render_api
    index=$tmp/api/html/index.html
    for h in "$src"/include/sfr/*.h "$src"/include/sfr/*.hpp; do
        page=$(basename "$h" | sed 's/_/__/g; s/\./_8/').html
        grep -q "href=\"$page\"" "$index" ||
            { echo "the index page does not link sfr/$(basename "$h") ($page)"; exit 1; }
    done
    for handle in sfr_net sfr_tap sfr_reg sfr_sgd; do
        grep -q "<a [^>]*>$handle</a>" "$index" || { echo "the index page does not link $handle"; exit 1; }
    done
    for doc in "$src"/docs/*.md; do
        name=$(basename "$doc")
        [ "$name" != api-mainpage.md ] || continue
        grep -q "<code>$name</code>" "$index" || { echo "the index page does not name docs/$name"; exit 1; }
    done
    ;;
*)
    echo "unknown check: $what"; exit 2 ;;
esac

#!/usr/bin/env bash
# Checks that the documentation cannot drift from the code, run by tests/test_docs.c:
#   doc_checks.sh SRC snippets   every code block in docs/*.md and README.md that is
#                                preceded by `<!-- from: PATH -->` appears, line for line
#                                (indentation aside), as a contiguous run of lines in PATH,
#                                a file that make check builds or runs
set -euo pipefail
src=$1 what=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
*)
    echo "unknown check: $what"; exit 2 ;;
esac

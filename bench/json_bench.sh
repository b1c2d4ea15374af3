#!/bin/sh
# Build and run the JSON library comparison (bench/json_bench.c); prints
# Markdown tables. Not part of ctest.
#   bench/json_bench.sh [runs]        runs >= 7 (default 11); median reported
# Needs: libjsmn-dev libyajl-dev libjansson-dev libjson-c-dev libcjson-dev libssl-dev
# Two binaries, because jansson and json-c export clashing symbol names.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src="$here/../src"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O2}
build() {  # build OUT EXTRA-CFLAGS PKGS
    $CC -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $CFLAGS $2 -Wall -Wextra -Wno-unused-parameter \
        -I"$src" -o "$1" "$here/json_bench.c" "$src/json.c" "$src/base64.c" "$src/buf.c" "$src/error.c" \
        $(pkg-config --cflags --libs $3) -lm
}
build "$tmp/main" "" "yajl jansson libcjson libcrypto"
build "$tmp/jsonc" "-DBENCH_JSONC" "json-c"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $($CC --version | head -1); CFLAGS=$CFLAGS"
echo "command: bench/json_bench.sh $*"
{ "$tmp/main" "$@"; "$tmp/jsonc" "$@" | grep -v 'luakcl json.c'; } > "$tmp/out"

awk -F'\t' '
$1 == "RUNS" { runs = $2 }
$1 == "JSON" || $1 == "B64" {
    k = $1 SUBSEP $2
    if (!(k in seen)) { seen[k] = 1; order[++nk] = k; kind[k] = $1; pay[k] = $2; nrec[k] = $3; bytes[k] = $4 }
    n = ++cnt[k]; name[k, n] = $5; t[k, n] = $6; mn[k, n] = $7
    if (!(k in best) || $6 < best[k]) best[k] = $6
}
END {
    printf "Thread CPU time (CLOCK_THREAD_CPUTIME_ID): median (and minimum) of %d runs each, after one warm-up run,\n", runs
    printf "runs interleaved across libraries.\n"
    printf "Every library extracted the same fields and data (checksums matched json.c'"'"'s).\n"
    for (i = 1; i <= nk; i++) {
        k = order[i]
        if (kind[k] == "JSON") {
            printf "\n### GetRecords body: %d records x %d B payload (%.2f MB of JSON)\n\n", nrec[k], pay[k], bytes[k] / 1e6
            print "| library | median ms (min) | ns/record | MB/s of body | time vs fastest |"
        } else {
            printf "\n### base64 decode alone: %d strings of %d B payload\n\n", nrec[k], pay[k]
            print "| decoder | median ms (min) | ns/record | MB/s of base64 | time vs fastest |"
        }
        print "|---|---:|---:|---:|---:|"
        for (j = 1; j <= cnt[k]; j++)
            printf "| %s | %.2f (%.2f) | %.0f | %.0f | %.2fx |\n", name[k, j], t[k, j] / 1e6, mn[k, j] / 1e6, t[k, j] / nrec[k],
                   bytes[k] / (t[k, j] / 1e9) / 1e6, t[k, j] / best[k]
    }
}' "$tmp/out"

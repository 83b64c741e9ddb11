#!/bin/sh
# bench/logscan/run.sh [BUILDDIR] [LINES] [RUNS]
#
# Lines per second and peak memory of `pinsplice logscan`, side by side with GoAccess on the
# same file, in one run:
#   1. a generated native-format ("squid") access.log of LINES lines (default 5000000):
#      pinsplice logscan, then GoAccess;
#   2. the same traffic in the pinsplice logformat: pinsplice logscan (GoAccess cannot read it).
# Each command runs RUNS times (default 3) under /usr/bin/time -v; the fastest run is reported
# (lines/s = LINES / wall-clock seconds) with its peak RSS. Files are read from the page cache
# (read once before timing). The generated logs are kept in $LOGSCAN_BENCH_DIR
# (default /tmp/pinsplice-logscan-bench) for the next run.
#
# GoAccess: its predefined --log-format=SQUID expects a syslog prefix before each record
# ("%^ %^ %^ %v %^: %x.%^ %~%L %h %^/%s %b %m %U", GoAccess 1.7 src/settings.c), so on a plain
# access.log it rejects every line. We give it that same format without the syslog part, with
# the date and time formats its SQUID preset uses (%s), and write its report to /dev/null.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$(cd "$here/../.." && pwd)}
lines=${2:-5000000}
runs=${3:-3}
work=${LOGSCAN_BENCH_DIR:-/tmp/pinsplice-logscan-bench}
pinsplice=$build/tools/pinsplice
ga_format='%x.%^ %~%L %h %^/%s %b %m %U'

[ -x "$pinsplice" ] || { echo "no $pinsplice: build first (make)" >&2; exit 1; }
command -v goaccess >/dev/null || { echo "goaccess not found (apt-get install goaccess)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found (apt-get install time)" >&2; exit 1; }
mkdir -p "$work"
${CC:-cc} -O2 -o "$work/genlog" "$here/genlog.c"
for fmt in squid pinsplice; do
    f=$work/$fmt-$lines.log
    if [ ! -s "$f" ]; then
        echo "generating $f ..."
        "$work/genlog" "$fmt" "$lines" >"$f.tmp" && mv "$f.tmp" "$f"
    fi
    cat "$f" >/dev/null
done

# measure LABEL FILE COMMAND...: best of $runs; prints one table row.
measure() {
    label=$1 file=$2
    shift 2
    best=""
    best_rss=""
    i=0
    while [ "$i" -lt "$runs" ]; do
        i=$((i + 1))
        if ! /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out.txt" 2>"$work/err.txt"; then
            # logscan exits 1 when it finds suspects and 3 when the records cannot show any
            # (the native format): results, not failures
            st=$(sed -n 's/^[[:space:]]*Exit status: //p' "$work/time.txt")
            [ "$st" = 1 ] || [ "$st" = 3 ] || { echo "$label failed (exit $st):" >&2; tail -5 "$work/err.txt" >&2; exit 1; }
        fi
        wall=$(sed -n 's/^[[:space:]]*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" |
            awk -F: '{ s = 0; for (k = 1; k <= NF; k++) s = s * 60 + $k; print s }')
        rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/time.txt")
        if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall
            best_rss=$rss
        fi
    done
    awk -v l="$label" -v n="$lines" -v s="$best" -v r="$best_rss" -v f="$(basename "$file")" \
        'BEGIN { printf "%-34s %-24s %8.2f s %12.0f lines/s %8.1f MiB\n", l, f, s, n / s, r / 1024 }'
}

echo "pinsplice logscan vs GoAccess: $lines lines, best of $runs runs, $(nproc) CPUs, $(uname -m)"
echo "$(goaccess --version | head -n 1) $("$pinsplice" --version 2>/dev/null | head -n 1)"
printf '%-34s %-24s %10s %18s %12s\n' "command" "file" "wall" "rate" "peak RSS"
measure "pinsplice logscan (native)" "$work/squid-$lines.log" \
    "$pinsplice" logscan --no-db "$work/squid-$lines.log"
ps_rate=$(awk -v n="$lines" -v s="$best" 'BEGIN { printf "%.0f", n / s }')
measure "goaccess (native, -o /dev/null)" "$work/squid-$lines.log" \
    goaccess "$work/squid-$lines.log" --no-global-config --log-format="$ga_format" \
    --date-format=%s --time-format=%s --no-progress -o /dev/null
ga_rate=$(awk -v n="$lines" -v s="$best" 'BEGIN { printf "%.0f", n / s }')
measure "pinsplice logscan (pinsplice fmt)" "$work/pinsplice-$lines.log" \
    "$pinsplice" logscan --no-db "$work/pinsplice-$lines.log"
awk -v a="$ps_rate" -v b="$ga_rate" 'BEGIN {
    printf "native format: pinsplice logscan is %.1fx GoAccess (target >= 3x): %s\n", a / b,
        (a >= 3 * b) ? "PASS" : "FAIL" }'

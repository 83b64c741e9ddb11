#!/bin/bash
# bench/metrics.sh: what counting for the live metrics (issue 14, --metrics) costs the helper,
# side by side in one run: ext_pinsplice_acl with metrics off and with --metrics (written every
# second), driven by bench/helper/drive as Squid drives it (lock-step, and K in flight), rounds
# alternating off/on (the order reversed every other round) so that the machine's load falls on
# both alike. The rules are the shipped defaults (pinsplice db init); the queries are every
# default-rule domain, one name below it and a miss, so about two thirds are rule matches (each
# counted per rule) and one third default bumps. Both variants must give the same verdicts.
#
# Rates move with the machine's load; instructions do not. So the script also counts the helper's
# user-space instructions per answered line with valgrind's callgrind (when valgrind is installed):
# the helper answers N and 2N lines from a file, off and on, and the difference of the totals
# divided by N is the cost of one line without the start-up (loading the DB). With metrics on the
# file is written once (--metrics-interval 3600): the writer's work is per interval, not per line.
#
# Usage: bench/metrics.sh [BUILDDIR [SRCDIR]]     (or: make bench-metrics)
# Environment: SECS (seconds per run, default 4), ROUNDS (default 7), K (in flight, default 64),
#   N (lines for the instruction count, default 42000).
# Prints one table: median lines/s and helper CPU per line of the rounds, and on/off as the ratio
# of the medians and as the median of the per-round ratios ("paired"); then instructions per line.
# Exits 1 when an answer failed or the verdicts differ.
set -eu

build=$(cd "${1:-.}" && pwd)
src=$(cd "${2:-$(dirname "$0")/..}" && pwd)
secs=${SECS:-4}
rounds=${ROUNDS:-7}
k=${K:-64}
drive=$build/bench/helper/drive
acl=$build/helper/ext_pinsplice_acl
cli=$build/tools/pinsplice
for p in "$drive" "$acl" "$cli"; do
    [ -x "$p" ] || { echo "bench/metrics: $p not built (make bench-metrics builds it)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "bench/metrics: sqlite3 not found" >&2; exit 2; }

tmp=$(mktemp -d /tmp/pinsplice-bench-metrics.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)
PINSPLICE_SQLDIR=$src/sql "$cli" db init --db "$tmp/rules.db" >/dev/null
sqlite3 "$tmp/rules.db" "SELECT domain FROM rule_domains ORDER BY id" |
    awk '{ print $1; print "www." $1; print "nx" NR ".miss" NR ".test" }' |
    awk '{ print $1 " " $1 " 10.0.0.1 - - splice" }' >"$tmp/q.txt"
mkdir "$tmp/m"

fail=0
# run LABEL MODE-ARGS... : one drive run of each variant, results in $tmp/r.LABEL.VARIANT.N
run() {
    local label=$1 n=$2 v
    shift 2
    for v in $( [ $((n % 2)) -eq 0 ] && echo "off on" || echo "on off"); do
        if [ "$v" = off ]; then
            "$drive" -l "$label-$v" -q "$tmp/q.txt" -d "$secs" "$@" -W "$tmp/v.$label.$n.$v" -- \
                "$acl" --db "$tmp/rules.db" >"$tmp/r.$label.$v.$n" || fail=1
        else
            "$drive" -l "$label-$v" -q "$tmp/q.txt" -d "$secs" "$@" -W "$tmp/v.$label.$n.$v" -- \
                "$acl" --db "$tmp/rules.db" --metrics "$tmp/m/bench-%p.prom" \
                --metrics-interval 1 >"$tmp/r.$label.$v.$n" || fail=1
        fi
        cat "$tmp/r.$label.$v.$n" >&2
    done
    cmp -s "$tmp/v.$label.$n.off" "$tmp/v.$label.$n.on" || {
        echo "bench/metrics: verdicts differ with metrics on ($label, round $n)" >&2
        fail=1
    }
}
for n in $(seq 1 "$rounds"); do
    run lock "$n"
    run k "$n" -k "$k"
done

get() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1"; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { for n in $(seq 1 "$rounds"); do get "$tmp/r.$1.$2.$n" "$3"; done | median; }
paired() {
    for n in $(seq 1 "$rounds"); do
        awk -v a="$(get "$tmp/r.$1.on.$n" "$2")" -v b="$(get "$tmp/r.$1.off.$n" "$2")" \
            'BEGIN { print (b > 0 ? 100 * a / b : 0) }'
    done | median
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * a / b : 0) }'; }
echo "# helper with metrics off / on, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average" \
    "at start $load0; $rounds rounds x $secs s per variant; $(wc -l <"$tmp/q.txt") queries," \
    "shipped default rules"
fmt='%-14s %12s %12s %16s %12s %12s\n'
# shellcheck disable=SC2059
printf "$fmt" mode "off lines/s" "on lines/s" "on/off (paired)" "off cpu_us" "on cpu_us"
for label in lock k; do
    mode=$([ "$label" = lock ] && echo lock-step || echo "$k in flight")
    off=$(col "$label" off rate)
    on=$(col "$label" on rate)
    # shellcheck disable=SC2059
    printf "$fmt" "$mode" "$off" "$on" "$(pct "$on" "$off") ($(printf '%.1f' "$(paired "$label" rate)")%)" \
        "$(col "$label" off helper_cpu_us)" "$(col "$label" on helper_cpu_us)"
done
echo "cpu_us: the helper's user+system CPU per answered line (median of the rounds)"

# ---- instructions per line (callgrind) ----------------------------------------------------------
if command -v valgrind >/dev/null; then
    n=${N:-42000}
    reps=$(( (n + $(wc -l <"$tmp/q.txt") - 1) / $(wc -l <"$tmp/q.txt") ))
    n=$((reps * $(wc -l <"$tmp/q.txt")))
    for i in $(seq "$reps"); do cat "$tmp/q.txt"; done >"$tmp/in.1"
    cat "$tmp/in.1" "$tmp/in.1" >"$tmp/in.2"
    # ir VARIANT INPUT: the helper's instructions (all threads) answering INPUT
    ir() {
        local extra=""
        [ "$1" = on ] && extra="--metrics $tmp/m/ir-%p.prom --metrics-interval 3600"
        # shellcheck disable=SC2086
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$acl" --db "$tmp/rules.db" \
            $extra <"$2" >"$tmp/ir.replies" 2>"$tmp/cg.err" || fail=1
        [ "$(wc -l <"$tmp/ir.replies")" -eq "$(wc -l <"$2")" ] || fail=1
        sed -n 's/^summary: *//p' "$tmp/cg.out"
    }
    for v in off on; do
        a=$(ir "$v" "$tmp/in.1")
        b=$(ir "$v" "$tmp/in.2")
        eval "ir_$v=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')"
    done
    # shellcheck disable=SC2154 # set by the eval above
    echo "instructions per answered line (callgrind, $n lines): off $ir_off, on $ir_on," \
        "+$(awk -v a="$ir_on" -v b="$ir_off" 'BEGIN { printf "%.1f (%.1f%%)", a - b, 100 * (a - b) / b }')"
fi
last=$(ls -t "$tmp"/r.k.on.* | head -n 1)
echo "# metrics files left after the runs (each helper removes its own at exit): $(ls "$tmp/m" | wc -l)"
echo "# total $SECONDS s, load average at end $(cut -d' ' -f1-3 /proc/loadavg); failed: $fail" \
    "(last run: $(get "$last" failed) failed answers)"
[ "$fail" -eq 0 ]

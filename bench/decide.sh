#!/bin/sh
# Matcher benchmark (issue 2): median ns per full decision at 16, 100k and 1M domain entries, and
# the time and memory to build the 1M snapshot from SQLite. Run from the build tree:
#     make bench-decide        (or: sh bench/decide.sh BUILDDIR SRCDIR)
set -eu
build=${1:-.}
src=${2:-.}
bin=$build/bench/bench_decide
work=$(mktemp -d /tmp/pinsplice-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
printf '%-10s %10s %12s %14s %12s %12s %10s\n' entries load_s snapshot_MB bytes/domain median_ns p90_ns rss_MB
for n in 16 100000 1000000; do
    PS_SQLDIR=$src/sql/schema.sql "$bin" gen "$n" "$work/r.db"
    "$bin" run "$work/r.db" 2000000 > "$work/out"
    get() { sed -n "s/^$1 //p" "$work/out"; }
    printf '%-10s %10s %12.1f %14s %12s %12s %10.1f\n' "$n" "$(get load_s)" \
        "$(awk "BEGIN{print $(get snapshot_bytes)/1048576}")" "$(get bytes_per_domain)" \
        "$(get median_ns)" "$(get p90_ns)" "$(awk "BEGIN{print $(get rss_delta_kb)/1024}")"
done
echo "targets: <= 350 ns per decision at 1M, <= 1 s to load 1M, <= 64 bytes per domain"

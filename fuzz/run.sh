#!/bin/bash
# fuzz/run.sh BUILDDIR SRCDIR SECONDS [TARGET...]: run each libFuzzer target (default: all built
# in BUILDDIR/fuzz) for SECONDS over a scratch corpus seeded from SRCDIR/fuzz/corpus/TARGET (the
# committed seeds are read, never written). Prints one line per target with its executions, and
# exits 1 when any target found something (a crash, a broken invariant, a leak, a timeout): the
# input is kept as BUILDDIR/fuzz/findings/TARGET-*, to be reproduced with
#     BUILDDIR/fuzz/TARGET BUILDDIR/fuzz/findings/TARGET-...
set -u
build=$1 src=$2 secs=$3
shift 3
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for t in "$build"/fuzz/fuzz_*; do
        [ -x "$t" ] && targets+=("$(basename "$t")")
    done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz/run.sh: no fuzz targets in $build/fuzz (make fuzz)" >&2; exit 1; }
mkdir -p "$build/fuzz/findings"
scratch=$(mktemp -d /tmp/pinsplice-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
status=0
for t in "${targets[@]}"; do
    seeds=$src/fuzz/corpus/${t#fuzz_}
    [ -d "$seeds" ] || { echo "$t: no seed corpus $seeds"; status=1; continue; }
    mkdir -p "$scratch/$t"
    # Request lines may be up to 16 KiB (and longer ones must be refused): room for both.
    case $t in fuzz_proto | fuzz_logline) max_len=20000 ;; *) max_len=4096 ;; esac
    ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        "$build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=$max_len -print_final_stats=1 -artifact_prefix="$build/fuzz/findings/$t-" \
        "$scratch/$t" "$seeds" >"$scratch/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$scratch/$t.log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "$t: ${runs:-?} executions in ${secs} s (${cov:-no coverage line}), no finding"
    else
        echo "$t: FINDING (exit $rc) after ${runs:-?} executions:"
        grep -E 'ERROR|invariant broken|runtime error|SUMMARY|Test unit written' "$scratch/$t.log" |
            head -n 8
        status=1
    fi
done
exit $status

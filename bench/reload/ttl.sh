#!/bin/bash
# bench/reload/ttl.sh: the snippet's ttl trade-off, measured through real Squid (issue 16).
# For each ttl (default "0 1 3"; ttl = negative_ttl): one Squid with the shipped snippet but that
# ttl, the helper with --debug (it logs every line it answers, i.e. every lookup Squid did not
# answer from its cache); a client opens CONNS pinned connections at about RATE per second,
# round-robin over NAMES names (each name comes back every NAMES/RATE seconds, as an app's
# connections do); then 5 edit-to-effect toggles as in t28. Prints per ttl: helper lookups per
# connection, Squid + helper CPU per connection, edit-to-effect median/worst.
# Run as root from a build: PS_BUILDDIR=_build PS_SRCDIR=. PS_SQLDIR=sql bash bench/reload/ttl.sh
# Environment: TTLS ("0 1 3"), CONNS (60), RATE (4), NAMES (3), TOGGLES (5).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../tests/e2e/lib.sh"
. "$here/../../tests/e2e/lib-latency.sh"
: "${TTLS:=0 1 3}" "${CONNS:=60}" "${RATE:=4}" "${NAMES:=3}" "${TOGGLES:=5}"
names=(www.zoom.us unpinned.test www.example.test www.bank.test)
eval "orig_$(declare -f e2e_snippet)"
e2e_snippet() {
    orig_e2e_snippet "$@"
    sed -i -E "s/ ttl=[0-9]+ negative_ttl=[0-9]+ / ttl=$TTL negative_ttl=$TTL /" "$1"
}
cpu_ticks() { # utime + stime of the given PIDs, in clock ticks
    local p t=0
    for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo "$t"
}
e2e_init bench-ttl
E2E_HELPER_ARGS=--debug
e2e_pki
e2e_origin_start
hz=$(getconf CLK_TCK)
printf '%-4s %9s %12s %14s %10s %9s\n' ttl conns lookups/conn cpu_us/conn lat_med_ms lat_max_ms >"$E2E_DIR/table"
for TTL in $TTLS; do
    e2e_db_create
    e2e_squid_start
    e2e_curl --pin www.zoom.us # helper started
    pids="$E2E_SQUID_PID $(e2e_helper_pids)"
    l0=$(grep -c " -> " "$E2E_CACHE_LOG")
    c0=$(cpu_ticks $pids)
    for i in $(seq 0 $((CONNS - 1))); do
        e2e_curl --pin "${names[$((i % NAMES))]}"
        sleep "$(awk -v r="$RATE" 'BEGIN {printf "%.3f", 1 / r}')"
    done
    c1=$(cpu_ticks $pids $(e2e_helper_pids))
    l1=$(grep -c " -> " "$E2E_CACHE_LOG")
    lat_series "ttl=$TTL" "$TOGGLES" sql
    awk -v t="$TTL" -v n="$CONNS" -v l=$((l1 - l0)) -v c=$((c1 - c0)) -v hz="$hz" \
        -v m="$LAT_MEDIAN" -v w="$LAT_WORST" \
        'BEGIN {printf "%-4s %9d %12.2f %14.0f %10d %9d\n", t, n, l / n, c * 1e6 / hz / n, m, w}' \
        >>"$E2E_DIR/table"
    e2e_squid_stop
done
cat "$E2E_DIR/table"
e2e_pass "measured"
e2e_finish

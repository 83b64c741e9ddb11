# tests/e2e/lib-latency.sh: edit-to-effect measurements through real Squid (issue 16), shared by
# the helper path (t28) and the ICAP path (t34). Source after lib.sh, with Squid running.
#
#   lat_series LABEL N MODE        # N toggles of the Zoom rule, MODE sql (sqlite3 UPDATE) or
#                                  # publish (edit a copy, `pinsplice db publish` it over E2E_DB)
#                                  # -> LAT_MEDIAN LAT_WORST LAT_ALL (ms), "# figures:" line
#   lat_check LABEL BOUND_MS       # assert median and worst of the last series <= BOUND_MS
#
# The client is a pinned curl to www.zoom.us that never uses --fresh: the same line every time,
# so Squid's answer cache (the snippet's ttl) counts in the figure, as for a real app retrying.
# Edit-to-effect is the time from the edit's commit (sqlite3 or db publish returned) to the
# start of the first connection that got the new decision; the connection before it, started
# earlier, still got the old one. Each edit waits a random 0-999 ms first, so that the edits
# fall at every phase of Squid's one-second clock and of the helper's checks.

LAT_RULE="Bypass Zoom - Pre-configured"
LAT_NAME=www.zoom.us

# lat_state: 1 when the Zoom rule is enabled in E2E_DB.
lat_state() { e2e_sql "SELECT enabled FROM rules WHERE name = '$LAT_RULE';"; }

# lat_edit MODE VALUE: set the rule's enabled to VALUE, by sqlite3 or by db publish.
lat_edit() {
    local mode=$1 v=$2 src=$E2E_DIR/publish-src.db
    if [ "$mode" = publish ]; then
        [ -f "$src" ] || cp "$E2E_DB" "$src"
        sqlite3 -bail "$src" "UPDATE rules SET enabled = $v WHERE name = '$LAT_RULE';" ||
            e2e_die "sqlite3 on $src failed"
        "$PS_BUILDDIR/tools/pinsplice" db publish "$src" "$E2E_DB" >"$E2E_DIR/publish.out" 2>&1 ||
            e2e_die "db publish: $(cat "$E2E_DIR/publish.out")"
        chmod 0644 "$E2E_DB"
    else
        e2e_sql "UPDATE rules SET enabled = $v WHERE name = '$LAT_RULE';"
    fi
}

# lat_one MODE: toggle once and measure. Sets LAT_MS, and LAT_LOW: the start of the last
# connection that still got the old decision (0 when the first one got the new one), so the
# edit took effect between LAT_LOW and LAT_MS. Dies after 15 s without effect.
lat_one() {
    local mode=$1 want_rc v t0 ts prev=""
    if [ "$(lat_state)" = 1 ]; then v=0; want_rc=90; else v=1; want_rc=0; fi
    e2e_curl --pin "$LAT_NAME" # the old answer is in Squid's cache now, as for a busy client
    [ "$E2E_RC" != "$want_rc" ] || e2e_die "before the edit the new decision is already seen"
    sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
    lat_edit "$mode" "$v"
    t0=$(e2e_now_ms)
    while :; do
        ts=$(e2e_now_ms)
        e2e_curl --pin "$LAT_NAME"
        [ "$E2E_RC" = "$want_rc" ] && break
        prev=$ts
        [ $((ts - t0)) -gt 15000 ] && e2e_die "$mode edit: no effect after 15 s (curl $E2E_RC)"
    done
    LAT_MS=$((ts - t0))
    LAT_LOW=0
    [ -n "$prev" ] && LAT_LOW=$((prev - t0))
    return 0
}

lat_series() {
    local label=$1 n=$2 mode=$3 i sorted
    LAT_ALL=""
    LAT_WORST_LOW=0
    for i in $(seq 1 "$n"); do
        lat_one "$mode"
        LAT_ALL="$LAT_ALL $LAT_MS"
        [ "$LAT_LOW" -gt "$LAT_WORST_LOW" ] && LAT_WORST_LOW=$LAT_LOW
    done
    sorted=$(printf '%s\n' $LAT_ALL | sort -n)
    LAT_WORST=$(printf '%s\n' "$sorted" | tail -n 1)
    LAT_MEDIAN=$(printf '%s\n' "$sorted" | awk '{a[NR]=$1} END {
        if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }')
    e2e_log "figures: $label: edit-to-effect median ${LAT_MEDIAN} ms, worst ${LAT_WORST} ms of $n (all:$LAT_ALL; load $(cut -d' ' -f1-3 /proc/loadavg))"
}

# The bound is asserted as it is meant: median and worst <= BOUND. The sampler's resolution is
# one connection: on a machine so loaded that one curl takes longer than the bound, a worst over
# BOUND whose last old-decision connection still started within BOUND cannot tell the helper
# from the sampler; it passes with that said, and the figures show it.
lat_check() {
    local label=$1 bound=$2
    if [ "$LAT_MEDIAN" -le "$bound" ]; then e2e_pass "$label: median ${LAT_MEDIAN} ms <= ${bound} ms"
    else e2e_fail "$label: median ${LAT_MEDIAN} ms > ${bound} ms (all:$LAT_ALL)"; fi
    if [ "$LAT_WORST" -le "$bound" ]; then e2e_pass "$label: worst ${LAT_WORST} ms <= ${bound} ms"
    elif [ "$LAT_WORST_LOW" -lt "$bound" ]; then
        e2e_pass "$label: worst ${LAT_WORST} ms, sampler-limited (the old decision was last seen at ${LAT_WORST_LOW} ms < ${bound} ms; all:$LAT_ALL)"
    else e2e_fail "$label: worst ${LAT_WORST} ms > ${bound} ms (old decision still seen at ${LAT_WORST_LOW} ms; all:$LAT_ALL)"; fi
}

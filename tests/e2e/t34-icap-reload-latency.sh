#!/bin/bash
# t34 (issue 16): the ICAP path with the module's shipped defaults (no ReloadInterval line in
# c-icap.conf) and the shipped ICAP snippet: a rule toggled with sqlite3 is in force through real
# Squid within 2 s (median and worst of 10), the same after `pinsplice db publish`, and a burst
# of 100 statements gives a bounded number of reloads (the service's "reloads" counter).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-icap.sh"
. "$(dirname "$0")/lib-latency.sh"
e2e_init t34-icap-reload-latency
icap_init
e2e_pki
e2e_origin_start
e2e_db_create
ICAP_RELOAD=default icap_start
e2e_expect "c-icap.conf sets no ReloadInterval (the module's default applies)" "" \
    "$(grep -i 'ReloadInterval' "$ICAP_CONF")"
icap_squid_start
e2e_check_spliced "before" "$LAT_NAME" "$LAT_RULE"

lat_series "ICAP, sqlite3 UPDATE" 10 sql
lat_check "ICAP, sqlite3 UPDATE" 2000
lat_series "ICAP, db publish" 10 publish
lat_check "ICAP, db publish" 2000

children=$(ps -o pid= --ppid "$ICAP_PID" | wc -w)
r0=$(icap_info reloads)
# The burst ends with the rule ON ((i + 1) % 2: the 100th statement sets 1), as in t28: ending
# it OFF made the check below pass only when c-icap missed the burst's last change.
sql=""
for i in $(seq 1 100); do sql="$sql UPDATE rules SET enabled = $(((i + 1) % 2)) WHERE name = '$LAT_RULE';"; done
t0=$(e2e_now_ms)
e2e_sql "$sql"
burst_ms=$(($(e2e_now_ms) - t0))
if e2e_poll 10 e2e_pinned_rc_is 0 "$LAT_NAME"; then e2e_pass "after the burst: spliced after $E2E_POLL_TOOK"
else e2e_fail "after the burst: not spliced after 10 s"; fi
sleep 2
# each child moves its load count into the statistics when it answers a request
for i in 1 2 3 4 5 6; do e2e_curl --pin "$LAT_NAME"; done
reloads=$(($(icap_info reloads) - r0))
e2e_log "figures: burst of 100 statements in ${burst_ms} ms: $reloads reload(s) in $children c-icap child(ren)"
if [ "$reloads" -ge 1 ] && [ "$reloads" -le $((3 * children)) ]; then
    e2e_pass "burst of 100 statements: $reloads reload(s) for $children children (<= 3 each)"
else
    e2e_fail "burst of 100 statements: $reloads reload(s) for $children children"
fi

e2e_check_squid_healthy "after t34"
e2e_finish

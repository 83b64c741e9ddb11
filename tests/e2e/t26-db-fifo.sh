#!/bin/bash
# t26 (fault, issue 12 item 1): the DB path becomes a FIFO nobody writes to, then a directory,
# while Squid runs with the helper. The helper keeps answering every connection promptly with the
# last good rules (a helper that waited on the FIFO would stop answering, and Squid splices what
# it cannot ask about), reports each as not a regular file in cache.log, and loads the good DB
# once it is back.
. "$(dirname "$0")/lib.sh"
e2e_init t26-db-fifo
E2E_LOG_ALLOW='^ext_pinsplice_acl: ERROR: .*rules\.db: (not a regular file \((a FIFO|a directory)\)|No such file or directory) \(keeping the last good rules\)'
e2e_pki
e2e_origin_start
e2e_db_create
zoom_rule="Bypass Zoom - Pre-configured"
e2e_squid_start
helpers=$(e2e_helper_pids)
e2e_check_spliced "before" www.zoom.us "$zoom_rule" --fresh
mv "$E2E_DB" "$E2E_DB.good"

for kind in FIFO directory; do
    n=$(e2e_cachelog_count "not a regular file \\(a $kind\\)")
    if [ "$kind" = FIFO ]; then mkfifo -m 0644 "$E2E_DB"; else mkdir -m 0755 "$E2E_DB"; fi
    if e2e_cachelog_wait "not a regular file \\(a $kind\\)" "$n" 10; then
        e2e_pass "$kind: the helper reported it in cache.log"
    else
        e2e_fail "$kind: no report in cache.log within 10 s"
    fi
    t0=$(e2e_now_ms)
    e2e_check_spliced "$kind, last good rules" www.zoom.us "$zoom_rule" --fresh
    e2e_check_bumped "$kind, unruled" unpinned.test --fresh
    e2e_check_served "$kind" www.example.test --fresh
    took=$(($(e2e_now_ms) - t0))
    # each takes ~50 ms when idle; the bound only catches a helper that stopped answering
    if [ "$took" -lt 15000 ]; then e2e_pass "$kind: three connections took ${took} ms"
    else e2e_fail "$kind: three connections took ${took} ms (helper blocked?)"; fi
    if [ "$kind" = FIFO ]; then rm -f "$E2E_DB"; else rmdir "$E2E_DB"; fi
done

# The good DB back, with the Zoom rule disabled: loaded, so www.zoom.us is bumped.
sqlite3 "$E2E_DB.good" "UPDATE rules SET enabled = 0 WHERE name = '$zoom_rule';"
mv "$E2E_DB.good" "$E2E_DB"
if e2e_poll 15 e2e_pinned_rc_is 90 --fresh www.zoom.us; then
    e2e_pass "good DB back: its rules in force after ${E2E_POLL_TOOK}"
else
    e2e_fail "good DB back: still the old rules after 15 s"
fi
e2e_check_helpers_same "after t26" "$helpers"
e2e_check_squid_healthy "after t26"
e2e_finish

#!/bin/bash
# t17 (fault): the rules DB is truncated or overwritten with garbage while Squid runs. The
# helper reports it and keeps the last good rules: nothing is spliced that those rules would not
# splice, Squid keeps serving, the helper keeps answering, and a good DB is picked up again
# (issue 3, End-to-end tests, fault cases).
. "$(dirname "$0")/lib.sh"
e2e_init t17-db-garbage
# cache.log may hold the helper's own reports of the broken DBs this test writes, nothing else.
E2E_LOG_ALLOW='^ext_pinsplice_acl: ERROR: [^ ]*rules\.db: '
e2e_pki
e2e_origin_start
e2e_db_create
zoom_rule="Bypass Zoom - Pre-configured"
lync_rule="Bypass Microsoft Lync and Skype - Pre-configured"
limit=15
e2e_squid_start
helpers=$(e2e_helper_pids)
e2e_check_spliced "good DB" www.zoom.us "$zoom_rule" --fresh

# broken WHAT COMMAND...: break the DB with COMMAND, wait for the helper's report.
broken() {
    local what=$1 n
    shift
    n=$(e2e_cachelog_count "keeping the last good rules")
    "$@"
    if e2e_cachelog_wait "keeping the last good rules" "$n" 10; then
        e2e_pass "$what: the helper reported the broken DB in cache.log"
    else
        e2e_fail "$what: no report in cache.log within 10 s"
    fi
}
# replace WHAT ZOOM-ENABLED: rename a good DB into place (Zoom rule enabled 0/1), wait for the load.
replace() {
    local n
    n=$(e2e_cachelog_count ": loaded [0-9]+ rules")
    e2e_db_build "$E2E_DB.new"
    sqlite3 "$E2E_DB.new" "UPDATE rules SET enabled = $2 WHERE name = '$zoom_rule';"
    mv "$E2E_DB.new" "$E2E_DB"
    if e2e_cachelog_wait ": loaded [0-9]+ rules" "$n" 10; then
        e2e_pass "$1: the helper loaded the new DB"
    else
        e2e_fail "$1: the helper did not load the new DB within 10 s"
    fi
}

# 1. Truncated to zero bytes in place.
broken "truncated to 0 bytes" truncate -s 0 "$E2E_DB"
e2e_check_spliced "empty DB, last good rules" www.zoom.us "$zoom_rule" --fresh
e2e_check_bumped "empty DB, unruled" unpinned.test --fresh
e2e_check_served "empty DB" www.example.test --fresh

# 2. A good DB without the Zoom rule, then overwritten in place with random bytes: the rules
#    in force stay the last good ones (Zoom bumped, Lync spliced), not "splice everything".
replace "good DB, Zoom disabled" 0
e2e_check_bumped "Zoom disabled" www.zoom.us --fresh
broken "overwritten with garbage" sh -c "head -c 65536 /dev/urandom > '$E2E_DB'"
e2e_check_bumped "garbage DB, last good rules" www.zoom.us --fresh
e2e_check_spliced "garbage DB, last good rules" teams.lync.com "$lync_rule" --fresh
e2e_check_bumped "garbage DB, unruled" unpinned.test --fresh

# 3. A good DB (Zoom enabled) cut in half: corrupt, so the last good rules (Zoom disabled) stay.
replace "good DB again" 0
e2e_db_build "$E2E_DB.full"
size=$(stat -c %s "$E2E_DB.full")
head -c $((size / 2)) "$E2E_DB.full" >"$E2E_DB.half"
chown proxy:proxy "$E2E_DB.half"
broken "truncated to half" mv "$E2E_DB.half" "$E2E_DB"
e2e_check_bumped "half DB, last good rules" www.zoom.us --fresh
e2e_check_spliced "half DB, last good rules" teams.lync.com "$lync_rule" --fresh
e2e_check_served "half DB" www.example.test --fresh

# 4. The full DB: Zoom spliced again, without restarting anything.
mv "$E2E_DB.full" "$E2E_DB"
if e2e_poll "$limit" e2e_pinned_rc_is 0 --fresh www.zoom.us; then
    e2e_pass "good DB restored: www.zoom.us spliced after ${E2E_POLL_TOOK}"
else
    e2e_fail "good DB restored: www.zoom.us not spliced after ${limit}s"
fi

e2e_check_helpers_same "after t17" "$helpers"
e2e_check_squid_healthy "after t17"
e2e_finish

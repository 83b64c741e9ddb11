#!/bin/bash
# t16 (fault): the rules DB is missing when the helper starts, then appears, then is deleted
# while Squid runs. Nothing is spliced that the rules would not splice (no DB: everything is
# bumped; deleted: the last good rules stay), Squid keeps serving and the helper keeps answering
# (issue 3, End-to-end tests, fault cases; helper: "A missing or broken DB at start").
. "$(dirname "$0")/lib.sh"
e2e_init t16-db-missing
# cache.log may hold the helper's own report of the missing DB it was started on, nothing else.
E2E_LOG_ALLOW='^ext_pinsplice_acl: ERROR: [^ ]*rules\.db: No such file or directory'
e2e_pki
e2e_origin_start
E2E_DB=$(e2e_db_path)
mkdir -p "$(dirname "$E2E_DB")" && chown proxy:proxy "$(dirname "$E2E_DB")"
zoom_rule="Bypass Zoom - Pre-configured"
limit=15
e2e_squid_start
helpers=$(e2e_helper_pids)

# No DB: the helper runs, says so, and answers ERR (bump) for everything.
if e2e_cachelog_wait "ext_pinsplice_acl.*rules unavailable" 0 10; then
    e2e_pass "no DB: the helper reported it in cache.log"
else
    e2e_fail "no DB: no 'rules unavailable' report in cache.log"
fi
e2e_expect_match "no DB: the report names the DB" "$E2E_DB" "$(grep 'rules unavailable' "$E2E_CACHE_LOG" | head -n 1)"
e2e_check_bumped "no DB" www.zoom.us --fresh
e2e_expect "no DB: access.log rule" "-" "$(e2e_field rule)"
e2e_check_bumped "no DB, unruled" unpinned.test --fresh
e2e_check_served "no DB" www.example.test --fresh

# The DB appears (built aside, renamed into place): the helper loads it without a restart.
e2e_db_build "$E2E_DB.new" && mv "$E2E_DB.new" "$E2E_DB"
if e2e_poll "$limit" e2e_pinned_rc_is 0 --fresh www.zoom.us; then
    e2e_pass "DB created: www.zoom.us spliced after ${E2E_POLL_TOOK}"
else
    e2e_fail "DB created: www.zoom.us still not spliced after ${limit}s"
fi
e2e_check_spliced "DB created" www.zoom.us "$zoom_rule" --fresh

# Deleted while running: the helper reports it once and keeps the last good rules.
n=$(e2e_cachelog_count "keeping the last good rules")
rm -f "$E2E_DB"
if e2e_cachelog_wait "keeping the last good rules" "$n" 10; then
    e2e_pass "DB deleted: the helper reported it in cache.log"
else
    e2e_fail "DB deleted: no report in cache.log within 10 s"
fi
e2e_check_spliced "DB deleted, last good rules" www.zoom.us "$zoom_rule" --fresh
e2e_check_bumped "DB deleted, unruled" unpinned.test --fresh
e2e_check_served "DB deleted" www.example.test --fresh

# And it goes on reloading: a new DB without the Zoom rule is picked up.
e2e_db_build "$E2E_DB.new"
sqlite3 "$E2E_DB.new" "UPDATE rules SET enabled = 0 WHERE name = '$zoom_rule';"
mv "$E2E_DB.new" "$E2E_DB"
if e2e_poll "$limit" e2e_pinned_rc_is 90 --fresh www.zoom.us; then
    e2e_pass "DB back (Zoom rule disabled): www.zoom.us bumped after ${E2E_POLL_TOOK}"
else
    e2e_fail "DB back (Zoom rule disabled): www.zoom.us still spliced after ${limit}s"
fi

e2e_check_helpers_same "after t16" "$helpers"
e2e_check_squid_healthy "after t16"
e2e_finish

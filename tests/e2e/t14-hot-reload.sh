#!/bin/bash
# t14: rule edits apply to the next connections without restarting or reconfiguring Squid:
# a disabled default rule does not splice; one sqlite3 UPDATE enabling it makes the next
# connection splice (t28 measures how soon); a DB replaced by rename
# is picked up the same way (issue 3, End-to-end tests; helper "Hot reload").
. "$(dirname "$0")/lib.sh"
e2e_init t14-hot-reload
e2e_pki
e2e_origin_start
sensitive="Bypass sensitive traffic - Pre-configured"
# The disabled default rule splices by category; give one of its categories a test domain.
e2e_db_create "INSERT INTO category_domains (category, domain, list) VALUES ('Financial Services', 'bank.test', 'e2e');"
e2e_expect "default DB: '$sensitive' is disabled" 0 \
    "$(e2e_sql "SELECT enabled FROM rules WHERE name = '$sensitive';")"
e2e_squid_start
squid_pid=$E2E_SQUID_PID
helpers=$(e2e_helper_pids)
e2e_expect_match "helper running" '^[0-9]+' "$helpers"
limit=15   # about 0.1 s (inotify, ttl=0; t28 measures it), with a wide margin for a loaded CI machine

e2e_check_bumped "rule disabled" www.bank.test
e2e_expect "rule disabled: access.log rule" "-" "$(e2e_field rule)"

e2e_sql "UPDATE rules SET enabled = 1 WHERE name = '$sensitive';"
if e2e_poll "$limit" e2e_pinned_rc_is 0 www.bank.test; then
    e2e_pass "enabled with one UPDATE: spliced after ${E2E_POLL_TOOK} (limit ${limit}s)"
else
    e2e_fail "enabled with one UPDATE: still not spliced after ${limit}s (last curl exit $E2E_RC)"
fi
e2e_check_spliced "rule enabled" www.bank.test "$sensitive"

# Disable it again: the next connections are bumped again.
e2e_sql "UPDATE rules SET enabled = 0 WHERE name = '$sensitive';"
if e2e_poll "$limit" e2e_pinned_rc_is 90 www.bank.test; then
    e2e_pass "disabled again: bumped after ${E2E_POLL_TOOK}"
else
    e2e_fail "disabled again: still spliced after ${limit}s (last curl exit $E2E_RC)"
fi

# Replace the whole DB by rename (as `pinsplice db init --force` or a deployment would): the new
# file has the Zoom rule disabled.
e2e_check_spliced "before rename" www.zoom.us "Bypass Zoom - Pre-configured" --fresh
new=$E2E_DIR/var/lib/pinsplice/rules.db.new
e2e_db_build "$new"
sqlite3 "$new" "UPDATE rules SET enabled = 0 WHERE name = 'Bypass Zoom - Pre-configured';"
mv "$new" "$E2E_DB"
if e2e_poll "$limit" e2e_pinned_rc_is 90 --fresh www.zoom.us; then
    e2e_pass "DB replaced by rename: www.zoom.us bumped after ${E2E_POLL_TOOK}"
else
    e2e_fail "DB replaced by rename: www.zoom.us still spliced after ${limit}s"
fi
e2e_check_bumped "after rename" www.zoom.us --fresh

# All of it without restarting Squid or its helper.
e2e_expect "same Squid process" "$squid_pid" "$E2E_SQUID_PID"
e2e_check_helpers_same "after the edits" "$helpers"
e2e_expect "no reconfigure in cache.log" "" "$(grep -i 'reconfigur' "$E2E_CACHE_LOG" | head -n 1)"
e2e_check_squid_healthy "after t14"
e2e_finish

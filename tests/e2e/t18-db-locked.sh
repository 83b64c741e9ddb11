#!/bin/bash
# t18 (fault): an admin's sqlite3 holds a long write transaction (BEGIN EXCLUSIVE plus an
# uncommitted UPDATE) on the rules DB. The helper keeps answering promptly from the last good
# rules (the committed ones): nothing is spliced that they would not splice, Squid keeps serving;
# after COMMIT the change applies (issue 3, End-to-end tests, fault cases).
. "$(dirname "$0")/lib.sh"
e2e_init t18-db-locked
# cache.log may hold the helper's own report of the lock this test holds, nothing else.
E2E_LOG_ALLOW='^ext_pinsplice_acl: ERROR: [^ ]*rules\.db: .*database is locked'
e2e_pki
e2e_origin_start
e2e_db_create
zoom_rule="Bypass Zoom - Pre-configured"
limit=15
e2e_squid_start
helpers=$(e2e_helper_pids)
e2e_check_spliced "before the lock" www.zoom.us "$zoom_rule" --fresh

# The lock holder: sqlite3 reading statements from a FIFO we keep open.
mkfifo "$E2E_DIR/sql.fifo"
sqlite3 "$E2E_DB" <"$E2E_DIR/sql.fifo" >"$E2E_DIR/locker.out" 2>&1 &
locker=$!
e2e_bg "$locker"
exec 9>"$E2E_DIR/sql.fifo"
echo "BEGIN EXCLUSIVE; UPDATE rules SET enabled = 0 WHERE name = '$zoom_rule';" >&9
if e2e_wait_for 10 test -e "$E2E_DB-journal"; then
    e2e_pass "lock taken (rollback journal present)"
else
    e2e_die "the lock holder did not start its transaction: $(cat "$E2E_DIR/locker.out")"
fi
e2e_expect_not "another writer is refused while locked (sqlite3 exit status)" 0 \
    "$(sqlite3 "$E2E_DB" "UPDATE rules SET comment = 'x' WHERE id = 1;" >/dev/null 2>&1; echo $?)"
# Make sure the helper tries to reload while the lock is held: change the file's mtime.
n=$(e2e_cachelog_count "keeping the last good rules")
touch "$E2E_DB"
if e2e_cachelog_wait "keeping the last good rules" "$n" 10; then
    e2e_pass "locked DB: the helper reported it in cache.log"
else
    e2e_fail "locked DB: no report in cache.log within 10 s"
fi

# Answers during the lock: prompt, from the committed rules.
t0=$(e2e_now_ms)
e2e_check_spliced "locked, committed rules" www.zoom.us "$zoom_rule" --fresh
e2e_check_bumped "locked, unruled" unpinned.test --fresh
e2e_check_served "locked" www.example.test --fresh
# A helper that waited for the lock would hold these until COMMIT, which comes only below; the
# bound is loose so that a loaded CI machine does not fail it (each takes ~50 ms when idle).
took=$(($(e2e_now_ms) - t0))
if [ "$took" -lt 15000 ]; then e2e_pass "three connections during the lock took ${took} ms"
else e2e_fail "three connections during the lock took ${took} ms (helper blocked by the lock?)"; fi
e2e_expect "lock still held after those connections" 0 "$(kill -0 "$locker" 2>/dev/null; echo $?)"

# COMMIT: the Zoom rule is now disabled, and the next connections say so.
echo "COMMIT;" >&9
exec 9>&-
wait "$locker"
e2e_expect "lock holder committed" 0 "$?"
if e2e_poll "$limit" e2e_pinned_rc_is 90 --fresh www.zoom.us; then
    e2e_pass "after COMMIT: www.zoom.us bumped after ${E2E_POLL_TOOK}"
else
    e2e_fail "after COMMIT: www.zoom.us still spliced after ${limit}s"
fi
e2e_check_bumped "after COMMIT" www.zoom.us --fresh

e2e_check_helpers_same "after t18" "$helpers"
e2e_check_squid_healthy "after t18"
e2e_finish

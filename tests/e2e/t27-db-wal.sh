#!/bin/bash
# t27 (fault, issue 12 item 9): the admin switches the rules DB to WAL mode. The DB and its
# directory belong to root (0644 / 0755) as `pinsplice db init` leaves them, and Squid runs the
# helper as proxy, which cannot create the -shm file. The helper still loads the rules (at start,
# with no -wal file left), sees edits committed while a writer keeps the WAL open (-wal and -shm
# present, read-only for proxy) and after it closes, and `pinsplice db check --as proxy` says
# whether proxy can read the DB (and names what it cannot).
. "$(dirname "$0")/lib.sh"
e2e_init t27-db-wal
e2e_pki
e2e_origin_start
e2e_db_create
zoom_rule="Bypass Zoom - Pre-configured"
limit=15
tool=$PS_BUILDDIR/tools/pinsplice
dir=$(dirname "$E2E_DB")
chown root:root "$dir" "$E2E_DB" && chmod 0755 "$dir" && chmod 0644 "$E2E_DB"
e2e_expect "journal_mode set to WAL" wal "$(e2e_sql "PRAGMA journal_mode=WAL;")"
e2e_expect "no -wal / -shm left by the last writer" "" "$(ls "$E2E_DB"-wal "$E2E_DB"-shm 2>/dev/null)"
e2e_expect "proxy cannot create files in the DB's directory" 1 \
    "$(runuser -u proxy -- touch "$dir/x" 2>/dev/null; echo $?)"

out=$("$tool" db check --db "$E2E_DB" --as proxy 2>&1)
e2e_expect_match "db check --as proxy: the DB is readable" \
    "as proxy: $E2E_DB: ok \(read\)" "$out"
e2e_expect_match "db check --as proxy: the rules load" "as proxy: loads: [0-9]+ rules" "$out"

e2e_squid_start
helpers=$(e2e_helper_pids)
e2e_check_spliced "WAL DB, loaded by proxy at start" www.zoom.us "$zoom_rule" --fresh

# An edit by sqlite3 (it checkpoints and removes -wal when it exits).
e2e_sql "UPDATE rules SET enabled = 0 WHERE name = '$zoom_rule';"
if e2e_poll "$limit" e2e_pinned_rc_is 90 --fresh www.zoom.us; then
    e2e_pass "WAL edit seen: www.zoom.us bumped after ${E2E_POLL_TOOK}"
else
    e2e_fail "WAL edit not seen: www.zoom.us still spliced after ${limit}s"
fi

# A writer that stays open: its commit is in -wal only (not checkpointed), -shm is root's 0644.
mkfifo "$E2E_DIR/sql.fifo"
sqlite3 "$E2E_DB" <"$E2E_DIR/sql.fifo" >"$E2E_DIR/writer.out" 2>&1 &
writer=$!
e2e_bg "$writer"
exec 9>"$E2E_DIR/sql.fifo"
echo "PRAGMA wal_autocheckpoint=0; UPDATE rules SET enabled = 1 WHERE name = '$zoom_rule';" >&9
e2e_wait_for 10 test -e "$E2E_DB-wal" || e2e_fail "no -wal file while the writer is open"
if e2e_poll "$limit" e2e_pinned_rc_is 0 --fresh www.zoom.us; then
    e2e_pass "commit held in -wal seen: www.zoom.us spliced after ${E2E_POLL_TOOK}"
else
    e2e_fail "commit held in -wal not seen: www.zoom.us still bumped after ${limit}s"
fi
e2e_check_spliced "writer open, -wal present" www.zoom.us "$zoom_rule" --fresh
out=$("$tool" db check --db "$E2E_DB" --as proxy 2>&1)
e2e_expect_match "db check --as proxy with a -wal: -shm readable" "as proxy: $E2E_DB-shm: ok" "$out"
e2e_expect_match "db check --as proxy with a -wal: the rules load" "as proxy: loads: " "$out"
exec 9>&-
wait "$writer"
e2e_expect "writer exited cleanly" 0 "$?"

# Unreadable for proxy: db check --as names what it cannot read, and exits 1. The running helpers
# see the chmod too (inotify IN_ATTRIB on the directory, checked ~100 ms later): when db check
# takes longer than that (a loaded machine), they log that they keep the last good rules, which is
# what they must do.
E2E_LOG_ALLOW='^ext_pinsplice_acl: ERROR: [^ ]*rules\.db: Permission denied \(keeping the last good rules\)$'
chmod 0700 "$dir"
out=$("$tool" db check --db "$E2E_DB" --as proxy 2>&1); rc=$?
chmod 0755 "$dir"
e2e_expect "db check --as proxy, directory 0700: exit status" 1 "$rc"
e2e_expect_match "db check --as proxy, directory 0700: names the directory" \
    "as proxy: $dir: error: cannot enter it: Permission denied" "$out"
e2e_expect_match "db check --as proxy, directory 0700: the rules do not load" \
    "as proxy: error: the rules do not load: .*Permission denied" "$out"
e2e_expect_match "db check --as nosuchuser: error" "no such user" \
    "$("$tool" db check --db "$E2E_DB" --as nosuchuser-pinsplice 2>&1)"

e2e_check_helpers_same "after t27" "$helpers"
e2e_check_squid_healthy "after t27"
e2e_finish

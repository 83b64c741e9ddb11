#!/bin/bash
# t23-db-publish: `pinsplice db publish SRC DST` as a fleet uses it, with the real helper
# (ext_pinsplice_acl, driven through pipes as Squid drives it) reading DST:
#   - the copy is consistent (an edit not yet committed in SRC is not in it), loadable, mode 0644,
#     in rollback-journal mode, and leaves no temporary file;
#   - editing SRC changes nothing for the helper until DST is published again; then the helper
#     answers with the new rules within its reload interval (measured);
#   - a SRC the helper would refuse is not published: DST and the helper's answers stay as they
#     were; SRC onto itself is refused.
#
# Environment: PS_BUILDDIR (tools/pinsplice, helper/ext_pinsplice_acl), PS_SQLDIR. Needs sqlite3,
# md5sum, stat; no Squid, no root. Exit 0 pass, 1 fail, 77 when a tool is missing and
# PINSPLICE_ALLOW_SKIP=1.
. "$(dirname "$0")/../lib/check.sh"

e2e_workdir t23-db-publish
e2e_require sqlite3 md5sum stat mkfifo
PS=$PS_BUILDDIR/tools/pinsplice
[ -x "$PS" ] || e2e_die "$PS not built"
[ -x "$PS_HELPER" ] || e2e_die "helper not built: $PS_HELPER"
trap '' PIPE # a dead helper must fail a check, not kill this script
unset PINSPLICE_DB
export PINSPLICE_SQLDIR=$PS_SQLDIR
SRC=$E2E_DIR/admin/rules.db
DST=$E2E_DIR/fleet/rules.db
INTERVAL=200 # ms, the helper's --reload-interval
LIMIT=500    # ms: the interval, one load, and a margin for a loaded CI machine
ZOOM='Bypass Zoom - Pre-configured'
mkdir -p "$E2E_DIR/admin" "$E2E_DIR/fleet"

t_run() {
    OUT=$("$PS" "$@" 2>"$E2E_DIR/stderr")
    RC=$?
    ERR=$(cat "$E2E_DIR/stderr")
}
ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the helper, as Squid runs it (concurrency: channel-IDs) --------------------------------------
ID=0
REPLY=""
helper_start() {
    coproc HELPER { exec "$PS_HELPER" --db "$DST" --reload-interval "$INTERVAL" \
        2>>"$E2E_DIR/helper.err"; }
    e2e_bg "$HELPER_PID"
}
# ask NAME: the reply to "ID NAME NAME 10.0.0.1 - - splice", without the ID, in REPLY.
ask() {
    local line
    ID=$((ID + 1))
    printf '%s %s %s 10.0.0.1 - - splice\n' "$ID" "$1" "$1" >&"${HELPER[1]}" ||
        e2e_die "helper gone (stdin closed)"
    IFS= read -r -t 5 line <&"${HELPER[0]}" || e2e_die "no reply from the helper to request $ID"
    [ "${line%% *}" = "$ID" ] || e2e_die "reply to $ID has the wrong channel-ID: $line"
    REPLY=${line#* }
}
# decision NAME: DEC = "OK|ERR action rule" of the helper's reply (no subshell: IDs count on).
decision() {
    ask "$1"
    DEC=$(printf '%s\n' "$REPLY" |
        sed -E 's/^(OK|ERR) pinsplice_action_=([a-z]+) pinsplice_rule_=("([^"]*)"|-) .*/\1 \2 \4/; s/ $//')
}
# wait_for NAME EXPECTED: poll every 10 ms for at most 5 s; TOOK = ms until the answer changed.
wait_for() {
    local start now
    start=$(ms)
    while :; do
        now=$(ms)
        decision "$1"
        [ "$DEC" = "$2" ] && break
        [ $((now - start)) -gt 5000 ] && { TOOK=-1; return 1; }
        sleep 0.01
    done
    TOOK=$((now - start))
}

# ---- first publish ------------------------------------------------------------------------------
"$PS" db init --db "$SRC" >/dev/null || e2e_die "db init failed"
t_run db publish "$SRC" "$DST"
e2e_expect "publish: exit status" 0 "$RC"
e2e_expect "publish: report" "$DST: published from $SRC ($(stat -c %s "$DST") bytes)" "$OUT"
e2e_expect "publish: no error" "" "$ERR"
e2e_expect "copy: mode" 644 "$(stat -c %a "$DST")"
e2e_expect "copy: rollback-journal mode" delete "$(sqlite3 "$DST" 'PRAGMA journal_mode')"
e2e_expect "copy: no temporary file left" "rules.db" "$(ls "$E2E_DIR/fleet")"
e2e_expect "copy: same rules" "$(sqlite3 "$SRC" 'SELECT group_concat(name) FROM rules')" \
    "$(sqlite3 "$DST" 'SELECT group_concat(name) FROM rules')"

helper_start
decision www.zoom.us; e2e_expect "helper on DST: www.zoom.us" "OK splice $ZOOM" "$DEC"
decision new.test; e2e_expect "helper on DST: new.test" "ERR bump" "$DEC"

# ---- edit SRC: nothing changes for the fleet until it is published -------------------------------
sqlite3 -bail "$SRC" "UPDATE rules SET enabled = 0 WHERE name = '$ZOOM';
INSERT INTO rules (name, action, position) VALUES ('Fleet rule', 'splice', 1);
INSERT INTO rule_domains (rule_id, domain) SELECT id, 'new.test' FROM rules WHERE name = 'Fleet rule';" ||
    e2e_die "editing SRC"
sleep $((3 * INTERVAL / 1000)).$((3 * INTERVAL % 1000))
decision www.zoom.us; e2e_expect "SRC edited, not published: still the old answer" "OK splice $ZOOM" "$DEC"
ino=$(stat -c %i "$DST")
t_run db publish "$SRC" "$DST"
e2e_expect "second publish: exit status" 0 "$RC"
e2e_expect_not "second publish: DST is a new file (inode)" "$ino" "$(stat -c %i "$DST")"
if wait_for www.zoom.us "ERR bump"; then
    if [ "$TOOK" -le "$LIMIT" ]; then e2e_pass "published edit in force after ${TOOK} ms (limit ${LIMIT} ms)"
    else e2e_fail "published edit in force only after ${TOOK} ms (limit ${LIMIT} ms)"; fi
else
    e2e_fail "published edit not in force after 5 s"
fi
decision new.test; e2e_expect "new rule in force" "OK splice Fleet rule" "$DEC"

# ---- consistency: an edit in progress in SRC is not in the copy ---------------------------------
mkfifo "$E2E_DIR/sql.fifo"
sqlite3 -bail "$SRC" <"$E2E_DIR/sql.fifo" >"$E2E_DIR/sql.out" 2>&1 &
writer=$!
e2e_bg "$writer"
exec 7>"$E2E_DIR/sql.fifo"
printf "BEGIN; DELETE FROM rules WHERE name = 'Fleet rule'; SELECT 'held';\n" >&7
for _ in $(seq 100); do grep -q held "$E2E_DIR/sql.out" && break; sleep 0.05; done
e2e_expect "a writer holds an uncommitted edit" held "$(cat "$E2E_DIR/sql.out")"
t_run db publish "$SRC" "$DST"
e2e_expect "publish during the edit: exit status" 0 "$RC"
e2e_expect "the uncommitted delete is not in the copy" 1 \
    "$(sqlite3 "$DST" "SELECT count(*) FROM rules WHERE name = 'Fleet rule'")"
printf 'ROLLBACK;\n' >&7
exec 7>&-
wait "$writer"

# ---- refusals: DST and the helper's answers stay --------------------------------------------------
sqlite3 -bail "$SRC" "PRAGMA ignore_check_constraints = 1;
UPDATE rule_domains SET domain = 'bad name.test' WHERE domain = 'new.test';" || e2e_die "breaking SRC"
sum=$(md5sum <"$DST")
ino=$(stat -c %i "$DST")
t_run db publish "$SRC" "$DST"
e2e_expect "unloadable SRC: exit status" 2 "$RC"
e2e_expect_match "unloadable SRC: says why" "the copy does not load: .*bad name\\.test.*\\($DST unchanged\\)" "$ERR"
e2e_expect "unloadable SRC: DST untouched" "$sum $ino" "$(md5sum <"$DST") $(stat -c %i "$DST")"
e2e_expect "unloadable SRC: no temporary file left" "rules.db" "$(ls "$E2E_DIR/fleet")"
sleep $((3 * INTERVAL / 1000)).$((3 * INTERVAL % 1000))
decision new.test; e2e_expect "unloadable SRC: helper keeps the published rules" "OK splice Fleet rule" "$DEC"
t_run db publish "$DST" "$DST"
e2e_expect "onto itself: refused" "pinsplice db publish: $DST and $DST are the same file ($DST unchanged)" "$ERR"
t_run db publish "$SRC"
e2e_expect "one operand: refused" "pinsplice db publish: needs SRC and DST (pinsplice db publish SRC DST)" "$ERR"
n=$ID
ask www.zoom.us
e2e_expect "helper still alive, every request answered" "$((n + 1))" "$ID"
e2e_expect "helper wrote no error" "" "$(grep -E 'ERROR|FATAL' "$E2E_DIR/helper.err")"
e2e_finish

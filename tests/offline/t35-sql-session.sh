#!/bin/bash
# t35-sql-session: `pinsplice sql` with the real sqlite3 CLI records each session's OS user in
# audit.who, per session and never persistently:
#  1. a long-lived session as root and, while it is open, a session as user nobody: each edit is
#     recorded under its own session's user (neither overwrites the other), and the root session
#     still records root after nobody's session;
#  2. a plain sqlite3 edit, during and after the sessions, records who = NULL, never a name left
#     by a session; nothing of a session stays in the DB (no setting, no schema object);
#  3. pinsplice commands that write record the OS user too (categories import as nobody);
#  4. a DB of an earlier version with the persistent setting audit_who = 'alice': a session
#     records its own user, not alice; `db update` removes the setting, after which a plain
#     sqlite3 edit records NULL; the setting cannot be inserted again;
#  5. pinsplice sql refuses a missing DB (sqlite3 would create it) and one with no audit trail,
#     and passes sqlite3's exit status on (a misspelt rule name fails, naming it).
#
# Environment: PS_BUILDDIR (tools/pinsplice), PS_SQLDIR. Needs root (runuser), the user nobody,
# sqlite3. Exit 0 pass, 1 fail, 77 when something is missing and PINSPLICE_ALLOW_SKIP=1.
. "$(dirname "$0")/../lib/check.sh"

e2e_workdir t35-sql-session
[ "$(id -u)" = 0 ] || e2e_missing "$E2E_NAME must run as root (sessions as another user: runuser)"
e2e_require sqlite3 runuser mkfifo
getent passwd nobody >/dev/null || e2e_missing "user 'nobody' does not exist"
PS=$PS_BUILDDIR/tools/pinsplice
[ -x "$PS" ] || e2e_die "$PS not built"
unset PINSPLICE_DB SUDO_USER
export PINSPLICE_SQLDIR=$PS_SQLDIR
# nobody must reach and write the DB and its journal.
chmod 0711 "$E2E_DIR"
mkdir -m 0777 "$E2E_DIR/db"
DB=$E2E_DIR/db/rules.db
sql() { sqlite3 -bail -batch -cmd ".timeout 5000" "$DB" "$1" || e2e_die "sqlite3 $DB: $1"; }
ZOOM='Bypass Zoom - Pre-configured'
DROPBOX='Bypass Dropbox - Pre-configured'
edit() { printf "INSERT INTO edit_rule (rule, field, value) VALUES ('%s', '%s', %s);" "$1" "$2" "$3"; }
# last_who RULE FIELD-VALUE: who of the newest audit row of that rule whose new value is given
# ("-" when there is none yet, "NULL" for no name).
last_who() {
    sql "SELECT coalesce((SELECT coalesce(who, 'NULL') FROM audit WHERE tbl = 'rules'
           AND new ->> 'name' = '$1' AND $2 ORDER BY id DESC LIMIT 1), '-')"
}
arrived() { [ "$(last_who "$1" "$2")" != - ]; }

"$PS" db init --db "$DB" >/dev/null || e2e_die "db init failed"
chmod 0666 "$DB"

# ---- 1. two sessions at once -----------------------------------------------------------------------
mkfifo "$E2E_DIR/a.in"
"$PS" sql --db "$DB" <"$E2E_DIR/a.in" >"$E2E_DIR/a.out" 2>"$E2E_DIR/a.err" &
apid=$!
e2e_bg "$apid"
exec 7>"$E2E_DIR/a.in"
edit "$ZOOM" enabled 0 >&7
echo >&7
e2e_wait_for 10 arrived "$ZOOM" "new ->> 'enabled' = 0" ||
    e2e_fail "session A: its edit did not arrive within 10 s ($(cat "$E2E_DIR/a.err"))"
e2e_expect "session A (root, open): its edit is recorded as root" root \
    "$(last_who "$ZOOM" "new ->> 'enabled' = 0")"

out=$(runuser -u nobody -- "$PS" sql --db "$DB" "$(edit "$DROPBOX" enabled 0)" 2>&1)
e2e_expect "session B (nobody, while A is open): exit status and output" "0|" "$?|$out"
e2e_expect "session B: its edit is recorded as nobody" nobody \
    "$(last_who "$DROPBOX" "new ->> 'enabled' = 0")"

edit "$ZOOM" enabled 1 >&7
echo >&7
e2e_wait_for 10 arrived "$ZOOM" "new ->> 'enabled' = 1" ||
    e2e_fail "session A: its second edit did not arrive within 10 s"
e2e_expect "session A after B: still recorded as root (B did not overwrite it)" root \
    "$(last_who "$ZOOM" "new ->> 'enabled' = 1")"

# ---- 2. plain sqlite3: no name, during and after the sessions --------------------------------------
sql "$(edit "$DROPBOX" enabled 1)"
e2e_expect "plain sqlite3 while session A is open: who NULL" NULL \
    "$(last_who "$DROPBOX" "new ->> 'enabled' = 1")"
exec 7>&-
wait "$apid"
e2e_expect "session A ends with sqlite3's exit status 0 (stderr: $(cat "$E2E_DIR/a.err"))" 0 "$?"
sql "$(edit "$ZOOM" action "'bump'")"
e2e_expect "plain sqlite3 after both sessions: who NULL (nothing inherited)" NULL \
    "$(last_who "$ZOOM" "new ->> 'action' = 'bump'")"
e2e_expect "no session object or setting stays in the DB" "0|0" \
    "$(sql "SELECT (SELECT count(*) FROM sqlite_master WHERE name LIKE 'pinsplice_session%'),
                   (SELECT count(*) FROM settings WHERE key = 'audit_who')")"
e2e_expect "every audit row is named root, nobody or nothing" "" \
    "$(sql "SELECT DISTINCT who FROM audit WHERE who NOT IN ('root', 'nobody')")"
out=$(SUDO_USER=alice-t35 "$PS" sql --db "$DB" "$(edit "$ZOOM" action "'splice'")" 2>&1)
e2e_expect "under sudo (SUDO_USER set): exit status" 0 "$?"
e2e_expect "under sudo: recorded as 'root (sudo by alice-t35)'" "root (sudo by alice-t35)" \
    "$(last_who "$ZOOM" "new ->> 'action' = 'splice'")"

# ---- 3. a pinsplice command that writes, as nobody ---------------------------------------------------
mkdir -p "$E2E_DIR/bl/bank" && echo bank.example >"$E2E_DIR/bl/bank/domains"
chmod -R a+rX "$E2E_DIR/bl"
out=$(runuser -u nobody -- "$PS" categories import "$E2E_DIR/bl" --db "$DB" 2>&1)
e2e_expect "categories import as nobody: exit status ($out)" 0 "$?"
e2e_expect "categories import as nobody: audit_import names nobody" "nobody|bank" \
    "$(sql "SELECT who, list FROM audit_import ORDER BY at DESC LIMIT 1")"

# ---- 4. a DB of an earlier version, with the persistent who ------------------------------------------
sqlite3 -bail "$DB" "DROP TRIGGER settings_audit_who_insert;
    INSERT INTO settings (key, value) VALUES ('audit_who', 'alice');" || e2e_die "making an old DB"
sql "$(edit "$DROPBOX" position 71)"
e2e_expect "old DB: a plain edit inherits the stale name (the bug)" alice \
    "$(last_who "$DROPBOX" "new ->> 'position' = 71")"
out=$(runuser -u nobody -- "$PS" sql --db "$DB" "$(edit "$DROPBOX" position 72)" 2>&1)
e2e_expect "old DB: a session as nobody: exit status ($out)" 0 "$?"
e2e_expect "old DB: the session records nobody, not the stale alice" nobody \
    "$(last_who "$DROPBOX" "new ->> 'position' = 72")"
out=$("$PS" db update --db "$DB" 2>&1)
e2e_expect "db update: exit status ($out)" 0 "$?"
e2e_expect "db update removes audit_who" 0 "$(sql "SELECT count(*) FROM settings WHERE key = 'audit_who'")"
sql "$(edit "$DROPBOX" position 73)"
e2e_expect "after db update: a plain edit records NULL" NULL \
    "$(last_who "$DROPBOX" "new ->> 'position' = 73")"
out=$(sqlite3 "$DB" "INSERT INTO settings (key, value) VALUES ('audit_who', 'alice')" 2>&1)
e2e_expect_match "audit_who cannot be inserted again" "settings.audit_who: retired" "$out"

# ---- interactive: on a terminal (script gives sqlite3 one), the banner, then the shell ------------
if command -v script >/dev/null 2>&1; then
    out=$(printf '%s\n' "SELECT 'session:' || who FROM pinsplice_session;" .quit |
        timeout 20 script -qec "'$PS' sql --db '$DB'" /dev/null | tr -d '\r')
    e2e_expect "interactive: the banner names the DB and the user" \
        "pinsplice sql: $DB as root (recorded in audit.who)" \
        "$(printf '%s\n' "$out" | grep -F 'pinsplice sql:')"
    e2e_expect_match "interactive: the session's user is set in the shell" "session:root" "$out"
else
    e2e_log "script (util-linux) not found: the interactive banner is not checked"
fi

# ---- 5. errors ---------------------------------------------------------------------------------------
out=$("$PS" sql --db "$E2E_DIR/db/none.db" "SELECT 1" 2>&1)
e2e_expect "missing DB: exit status 2, message" \
    "2|pinsplice sql: $E2E_DIR/db/none.db: No such file or directory (create it with 'pinsplice db init')" \
    "$?|$out"
e2e_expect "missing DB: not created" no "$([ -e "$E2E_DIR/db/none.db" ] && echo yes || echo no)"
sqlite3 "$E2E_DIR/db/bare.db" "PRAGMA user_version = 1; CREATE TABLE rules (id);" ||
    e2e_die "making a DB without the audit trail"
out=$("$PS" sql --db "$E2E_DIR/db/bare.db" "SELECT 1" 2>&1)
e2e_expect_match "DB without the audit trail: refused" \
    "^pinsplice sql: .*bare.db: no audit trail .*run 'pinsplice db update' first" "$out"
out=$("$PS" sql --db "$DB" "$(edit 'Bypass Zom' enabled 0)" 2>&1)
rc=$?
e2e_expect "a misspelt rule: sqlite3's exit status (1)" 1 "$rc"
e2e_expect_match "a misspelt rule: the error names it" 'edit_rule: no rule named "Bypass Zom"' "$out"
sql "$(edit "$ZOOM" enabled 1)"
out=$(printf '%s\n' "BEGIN;" "$(edit "$ZOOM" enabled 0)" "$(edit 'Bypass Zom' enabled 0)" "COMMIT;" |
    "$PS" sql --db "$DB" 2>&1)
e2e_expect "a script on stdin stops at its first error (exit 1)" 1 "$?"
e2e_expect "...and its open transaction is rolled back (Zoom still enabled)" 1 \
    "$(sql "SELECT enabled FROM rules WHERE name = '$ZOOM'")"
out=$(PINSPLICE_SQLITE3=/nonexistent/sqlite3 "$PS" sql --db "$DB" "SELECT 1" 2>&1)
e2e_expect_match "no sqlite3: exit status 2 and a hint" "^2\\|pinsplice sql: /nonexistent/sqlite3: No such file or directory \\(install the sqlite3 package" "$?|$out"

e2e_finish

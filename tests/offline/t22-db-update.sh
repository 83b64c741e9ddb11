#!/bin/bash
# t22-db-update: `pinsplice db update` upgrades a DB an admin has edited with the sqlite3 CLI to a
# newer vendor set, keeping every local decision. The DB is made by `pinsplice db init` from the
# shipped SQL; the "newer vendor set" is the shipped SQL plus statements a vendor release would
# add (an app, a default rule, a changed domain list, a changed action, a dropped domain). The
# result is read back with sqlite3 and decided by `pinsplice check` (what the helper would do).
#   1. first update (no vendor baseline yet): local decisions kept, new data gained, the admin's
#      deletion not resurrected (audit trail), untouched values refreshed;
#   2. a second vendor release: three-way merge against the recorded baseline;
#   3. --dry-run, a DB without manage.sql (applied by the update), schema versions (a DB from the
#      future, not a pinsplice DB), broken vendor SQL: refused, the DB byte-for-byte unchanged.
#
# Environment: PS_BUILDDIR (tools/pinsplice), PS_SQLDIR. Needs sqlite3, md5sum; no Squid, no root.
# Exit 0 pass, 1 fail, 77 when a tool is missing and PINSPLICE_ALLOW_SKIP=1.
. "$(dirname "$0")/../lib/check.sh"

e2e_workdir t22-db-update
e2e_require sqlite3 md5sum
PS=$PS_BUILDDIR/tools/pinsplice
[ -x "$PS" ] || e2e_die "$PS not built"
[ -r "$PS_SQLDIR/manage.sql" ] || e2e_die "$PS_SQLDIR/manage.sql missing"
unset PINSPLICE_DB
export PINSPLICE_SQLDIR=$PS_SQLDIR
DB=$E2E_DIR/rules.db
# audit.who as pinsplice writes it: the OS user, and who ran sudo when it did.
WHO=$(id -un)
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != "$WHO" ]; then WHO="$WHO (sudo by $SUDO_USER)"; fi
nl=$'\n'
ZOOM='Bypass Zoom - Pre-configured'
DROPBOX='Bypass Dropbox - Pre-configured'
APPLE='Bypass Apple services - Pre-configured'
SPOTIFY='Bypass Spotify - Pre-configured'
NEWRULE='Bypass NewApp - Pre-configured'

t_run() {
    OUT=$("$PS" "$@" 2>"$E2E_DIR/stderr")
    RC=$?
    ERR=$(cat "$E2E_DIR/stderr")
}
sql() { sqlite3 -bail -batch "$DB" "$1" || e2e_die "sqlite3 $DB: $1"; }
decide() {
    "$PS" check --db "$DB" --sni "$1" | sed -n 's/^action: *//p; s/^rule: *//p' | paste -sd' ' |
        sed 's/ (id [0-9]*)$//'
}
# has_line WHAT LINE: OUT holds exactly this line.
has_line() {
    if printf '%s\n' "$OUT" | grep -qxF -- "$2"; then e2e_pass "$1"
    else e2e_fail "$1: no line '$2' in:$nl$OUT"; fi
}
# vendor_set DIR VENDOR-SQL DEFAULTS-SQL: the shipped SQL with statements appended.
vendor_set() {
    mkdir -p "$1"
    cp "$PS_SQLDIR/schema.sql" "$PS_SQLDIR/audit.sql" "$PS_SQLDIR/manage.sql" "$1/"
    { cat "$PS_SQLDIR/vendor.sql"; printf '%s\n' "$2"; } >"$1/vendor.sql"
    { cat "$PS_SQLDIR/defaults.sql"; printf '%s\n' "$3"; } >"$1/defaults.sql"
}

# ---- the admin's DB -----------------------------------------------------------------------------
"$PS" db init --db "$DB" >/dev/null || e2e_die "db init failed"
if [ "$(sql "SELECT count(*) FROM sqlite_master WHERE name = 'audit'")" = 0 ]; then
    # This build's db init does not load manage.sql yet: build the DB as it will (manage.sql
    # right after schema.sql, so the audit trail holds the vendor rows' whole history).
    rm -f "$DB"
    cat "$PS_SQLDIR/schema.sql" "$PS_SQLDIR/audit.sql" "$PS_SQLDIR/manage.sql" "$PS_SQLDIR/vendor.sql" \
        "$PS_SQLDIR/defaults.sql" | sqlite3 -bail "$DB" || e2e_die "building $DB"
fi
sql "UPDATE rules SET enabled = 0 WHERE name = '$ZOOM';
UPDATE rules SET action = 'bump' WHERE name = '$DROPBOX';
DELETE FROM rule_domains WHERE domain = 'mzstatic.com';
INSERT INTO rules (name, action, position) VALUES ('Local intranet', 'splice', 5);
INSERT INTO rule_domains (rule_id, domain) SELECT id, 'intranet.test' FROM rules WHERE name = 'Local intranet';
INSERT INTO rule_domains (rule_id, domain) SELECT id, 'mirror.zoom.test' FROM rules WHERE name = '$ZOOM';
UPDATE settings SET value = '10.0.0.0/8' WHERE key = 'program_trusted_sources';"
e2e_expect "before: www.zoom.us (rule disabled)" "bump none (default)" "$(decide www.zoom.us)"
e2e_expect "before: dropbox.com" "bump $DROPBOX" "$(decide www.dropbox.com)"
local_rule=$(sql "SELECT id || '|' || name || '|' || action || '|' || position || '|' || origin FROM rules WHERE name = 'Local intranet'")

# ---- vendor release 2 ---------------------------------------------------------------------------
vendor_set "$E2E_DIR/v2" \
"INSERT INTO apps (id, name, note, origin) VALUES (21, 'NewApp', 'new in release 2', 'vendor');
INSERT INTO app_domains (app_id, domain) VALUES (21, 'newapp.test'), (21, 'cdn.newapp.test');
INSERT INTO app_domains (app_id, domain) VALUES (20, 'zoomgov.com');" \
"INSERT INTO rules (id, name, action, enabled, position, origin, comment)
 VALUES (17, '$NEWRULE', 'splice', 1, 170, 'vendor', 'new in release 2');
INSERT INTO rule_domains (rule_id, domain) VALUES (17, 'newapp.test');
INSERT INTO rule_domains (rule_id, domain) VALUES (14, 'zoom.com'), (12, 'apple.news.test');
UPDATE rules SET action = 'bump' WHERE id = 16;
INSERT INTO settings (key, value, comment) VALUES ('vendor_release', '2', 'test');"

sum=$(md5sum <"$DB")
t_run db update --db "$DB" --from "$E2E_DIR/v2" --dry-run
e2e_expect "dry run: exit status" 0 "$RC"
has_line "dry run: reports the new rule" "add      rule '$NEWRULE'"
e2e_expect "dry run: DB byte-for-byte unchanged" "$sum" "$(md5sum <"$DB")"

t_run db update --db "$DB" --from "$E2E_DIR/v2"
e2e_expect "update: exit status" 0 "$RC"
e2e_expect "update: no error" "" "$ERR"
has_line "report: new app" "add      app 'NewApp'"
has_line "report: new app domain" "add      app 'Zoom': domain zoomgov.com"
has_line "report: new rule" "add      rule '$NEWRULE'"
has_line "report: new domain in a disabled rule" "add      rule '$ZOOM': domain zoom.com"
has_line "report: disabled rule kept" "keep     rule '$ZOOM': enabled = 0 (yours, kept; vendor: 1)"
has_line "report: action kept" "keep     rule '$DROPBOX': action = bump (yours, kept; vendor: splice)"
has_line "report: deleted domain stays deleted" "keep     rule '$APPLE': domain mzstatic.com: you removed it; it stays removed"
has_line "report: untouched action refreshed" "update   rule '$SPOTIFY': action = bump (was splice)"
has_line "report: new setting" "add      setting 'vendor_release'"

# Every local decision kept ...
e2e_expect "disabled default rule still disabled" 0 "$(sql "SELECT enabled FROM rules WHERE name = '$ZOOM'")"
e2e_expect "changed action kept" bump "$(sql "SELECT action FROM rules WHERE name = '$DROPBOX'")"
e2e_expect "deleted vendor domain not resurrected" 0 "$(sql "SELECT count(*) FROM rule_domains WHERE domain = 'mzstatic.com'")"
e2e_expect "domain added to a default rule kept" 1 "$(sql "SELECT count(*) FROM rule_domains WHERE domain = 'mirror.zoom.test'")"
e2e_expect "local rule untouched" "$local_rule" \
    "$(sql "SELECT id || '|' || name || '|' || action || '|' || position || '|' || origin FROM rules WHERE name = 'Local intranet'")"
e2e_expect "setting kept" 10.0.0.0/8 "$(sql "SELECT value FROM settings WHERE key = 'program_trusted_sources'")"
# ... and the new data gained.
e2e_expect "new app" "cdn.newapp.test, newapp.test" "$(sql "SELECT domains FROM app_overview WHERE app = 'NewApp'")"
e2e_expect "new rule decides" "splice $NEWRULE" "$(decide www.newapp.test)"
e2e_expect "new domain in an enabled default rule" "splice $APPLE" "$(decide apple.news.test)"
e2e_expect "disabled rule with a new domain still off" "bump none (default)" "$(decide www.zoom.com)"
e2e_expect "changed action still decides" "bump $DROPBOX" "$(decide www.dropbox.com)"
e2e_expect "local rule still decides" "splice Local intranet" "$(decide intranet.test)"
e2e_expect "untouched default rule follows the vendor" "bump $SPOTIFY" "$(decide open.spotify.com)"
e2e_expect "baseline recorded" 1 "$(sql "SELECT count(*) > 0 FROM vendor_base")"
e2e_expect "the update's changes are audited under the OS user" 1 \
    "$(sql "SELECT count(*) > 0 FROM audit WHERE who = '$WHO' AND tbl = 'rules' AND op = 'INSERT'")"
e2e_expect "no persistent who left behind (no audit_who setting)" 0 "$(sql "SELECT count(*) FROM settings WHERE key = 'audit_who'")"

t_run db update --db "$DB" --from "$E2E_DIR/v2"
e2e_expect "same release again: summary" \
    "$DB: updated from $E2E_DIR/v2: 0 added, 0 removed, 0 updated, 3 local values kept, 0 conflicts" \
    "$(printf '%s\n' "$OUT" | grep ': updated from ')"

# ---- vendor release 3: three-way merge against the baseline --------------------------------------
sql "UPDATE rules SET enabled = 0 WHERE name = '$NEWRULE'"
vendor_set "$E2E_DIR/v3" \
"INSERT INTO apps (id, name, note, origin) VALUES (21, 'NewApp', 'new in release 2', 'vendor');
INSERT INTO app_domains (app_id, domain) VALUES (21, 'newapp.test');" \
"INSERT INTO rules (id, name, action, enabled, position, origin, comment)
 VALUES (17, '$NEWRULE', 'splice', 1, 170, 'vendor', 'release 3');
INSERT INTO rule_domains (rule_id, domain) VALUES (17, 'newapp.test'), (17, 'api.newapp.test');
INSERT INTO rule_domains (rule_id, domain) VALUES (14, 'zoom.com');
UPDATE rules SET action = 'bump' WHERE id = 16;
INSERT INTO rules (id, name, origin) VALUES (18, 'Local intranet', 'vendor');
INSERT INTO settings (key, value, comment) VALUES ('vendor_release', '3', 'test');"
t_run db update --db "$DB" --from "$E2E_DIR/v3"
e2e_expect "release 3: exit status" 0 "$RC"
has_line "release 3: vendor-dropped domain removed" "remove   rule '$APPLE': domain apple.news.test"
has_line "release 3: vendor-dropped app domain removed" "remove   app 'NewApp': domain cdn.newapp.test"
has_line "release 3: domain added to a rule the admin disabled" "add      rule '$NEWRULE': domain api.newapp.test"
has_line "release 3: comment refreshed" "update   rule '$NEWRULE': comment = release 3 (was new in release 2)"
has_line "release 3: conflict with a local rule reported" \
    "conflict rule 'Local intranet': a local rule has this name; the vendor's is not applied"
e2e_expect "release 3: apple.news.test no longer spliced" "bump none (default)" "$(decide apple.news.test)"
e2e_expect "release 3: rule the admin disabled stays disabled" 0 "$(sql "SELECT enabled FROM rules WHERE name = '$NEWRULE'")"
e2e_expect "release 3: local rule untouched" "$local_rule" \
    "$(sql "SELECT id || '|' || name || '|' || action || '|' || position || '|' || origin FROM rules WHERE name = 'Local intranet'")"
e2e_expect "release 3: settings are the admin's" 2 "$(sql "SELECT value FROM settings WHERE key = 'vendor_release'")"

# ---- manage.sql applied to a DB that lacks it ----------------------------------------------------
DB2=$E2E_DIR/plain.db
cat "$PS_SQLDIR/schema.sql" "$PS_SQLDIR/vendor.sql" "$PS_SQLDIR/defaults.sql" | sqlite3 -bail "$DB2" ||
    e2e_die "building $DB2"
t_run db update --db "$DB2"
e2e_expect "plain DB: exit status" 0 "$RC"
has_line "plain DB: manage.sql applied" "$DB2: applied $PS_SQLDIR/manage.sql (views, triggers, audit)"
e2e_expect "plain DB: one-statement views now work" 1 \
    "$(sqlite3 -bail "$DB2" "INSERT INTO add_domain (rule, domain) VALUES ('New bypass', 'x.test'); SELECT count(*) FROM rule_overview WHERE name = 'New bypass';")"

# ---- a schema version 1 DB (as the last v1 release made it) migrates to 3 ----------------------
# tests/fixtures/{schema,manage}-v1.sql are sql/schema.sql and sql/manage.sql of schema version 1;
# the admin's edits are made through the v1 views, then the update migrates and keeps them.
DB1=$E2E_DIR/v1.db
{ echo 'BEGIN;'; cat "$PS_SRCDIR/tests/fixtures/schema-v1.sql" "$PS_SRCDIR/tests/fixtures/manage-v1.sql" \
    "$PS_SQLDIR/vendor.sql" "$PS_SQLDIR/defaults.sql"; echo 'COMMIT;'; } | sqlite3 -bail "$DB1" ||
    e2e_die "building $DB1"
sqlite3 -bail "$DB1" "INSERT INTO add_domain (rule, domain) VALUES ('Local v1', 'v1.test');
    INSERT INTO add_source (rule, source) VALUES ('Local v1', '10.1.0.0/16');
    UPDATE rule_overview SET enabled = 0 WHERE name = '$DROPBOX';" || e2e_die "editing $DB1"
e2e_expect "v1 DB: version" 1 "$(sqlite3 "$DB1" 'PRAGMA user_version')"
v1_rules=$(sqlite3 "$DB1" "SELECT group_concat(id || ':' || name || ':' || action || ':' || enabled || ':' || position, '|') FROM (SELECT * FROM rules ORDER BY id)")
v1_entries=$(sqlite3 "$DB1" "SELECT count(*) FROM rule_domains")+$(sqlite3 "$DB1" "SELECT count(*) FROM rule_sources")
v1_audit=$(sqlite3 "$DB1" "SELECT count(*) FROM audit")
t_run db update --db "$DB1"
e2e_expect "v1 DB: update exit status" 0 "$RC"
has_line "v1 DB: says it migrated" "$DB1: schema migrated from version 1 to 3"
e2e_expect "v1 DB: now version 3" 3 "$(sqlite3 "$DB1" 'PRAGMA user_version')"
e2e_expect "v1 DB: every rule kept (id, name, action, enabled, position)" "$v1_rules" \
    "$(sqlite3 "$DB1" "SELECT group_concat(id || ':' || name || ':' || action || ':' || enabled || ':' || position, '|') FROM (SELECT * FROM rules ORDER BY id)")"
e2e_expect "v1 DB: every entry kept" "$v1_entries" \
    "$(sqlite3 "$DB1" "SELECT count(*) FROM rule_domains")+$(sqlite3 "$DB1" "SELECT count(*) FROM rule_sources")"
e2e_expect "v1 DB: the audit trail kept (and grown by no migration row)" "$v1_audit" \
    "$(sqlite3 "$DB1" "SELECT count(*) FROM audit WHERE id <= $v1_audit")"
e2e_expect "v1 DB: old rules enforce and inherit the verification" "0" \
    "$(sqlite3 "$DB1" "SELECT count(*) FROM rules WHERE mode <> 'enforce' OR verify <> 'inherit' OR verify_ca_file IS NOT NULL")"
e2e_expect "v1 DB: the v2 views work on it" "monitor|192.0.2.0/24" \
    "$(sqlite3 -bail "$DB1" "INSERT INTO add_destination (rule, cidr) VALUES ('Local v1', '192.0.2.0/24');
        INSERT INTO edit_rule (rule, field, value) VALUES ('Local v1', 'mode', 'monitor');
        SELECT mode || '|' || destinations FROM rule_overview WHERE name = 'Local v1'")"
e2e_expect "v1 DB: the migrated rule, switched to monitor, no longer decides" "bump none (default)" \
    "$("$PS" check --db "$DB1" --sni v1.test | sed -n 's/^action: *//p; s/^rule: *//p' | paste -sd' ' | sed 's/ (id [0-9]*)$//')"
t_run db update --db "$DB1"
e2e_expect "v1 DB: a second update migrates nothing" "" "$(printf '%s\n' "$OUT" | grep 'schema migrated')"

# ---- refusals: the DB is left byte-for-byte as it was --------------------------------------------
sum=$(md5sum <"$DB")
vendor_set "$E2E_DIR/broken" "INSERT INTO app_domains (app_id, domain) VALUES (2, 'Bad Name');" ""
t_run db update --db "$DB" --from "$E2E_DIR/broken"
e2e_expect "broken vendor SQL: exit status" 2 "$RC"
e2e_expect_match "broken vendor SQL: names the file" "$E2E_DIR/broken/vendor.sql: .*\\(nothing changed\\)" "$ERR"
t_run db update --db "$DB" --from "$E2E_DIR/nonexistent"
e2e_expect "missing SQL dir: message" \
    "pinsplice db update: $E2E_DIR/nonexistent/schema.sql: No such file or directory (--from or PINSPLICE_SQLDIR names the SQL directory)" "$ERR"
e2e_expect "refusals left the DB untouched" "$sum" "$(md5sum <"$DB")"
cp "$DB" "$E2E_DIR/future.db"
sqlite3 "$E2E_DIR/future.db" "PRAGMA user_version = 4"
sum=$(md5sum <"$E2E_DIR/future.db")
t_run db update --db "$E2E_DIR/future.db"
e2e_expect "DB from the future: refused" \
    "pinsplice db update: $E2E_DIR/future.db: schema version 4 is newer than this build's 3 (nothing changed)" "$ERR"
e2e_expect "DB from the future: untouched" "$sum" "$(md5sum <"$E2E_DIR/future.db")"
sqlite3 "$E2E_DIR/other.db" "CREATE TABLE t (x)"
t_run db update --db "$E2E_DIR/other.db"
e2e_expect "not a pinsplice DB: refused" \
    "pinsplice db update: $E2E_DIR/other.db: not a pinsplice rules database (user_version 0) (nothing changed)" "$ERR"
t_run db update --db "$E2E_DIR/missing.db"
e2e_expect "missing DB: refused" \
    "pinsplice db update: $E2E_DIR/missing.db: No such file or directory (nothing changed)" "$ERR"
e2e_expect "missing DB: not created" no "$([ -e "$E2E_DIR/missing.db" ] && echo yes || echo no)"
e2e_finish

#!/bin/bash
# t36-feed-import: `pinsplice feed import` on an m365-format file (shaped like Microsoft's
# endpoints web service output) and on pinsplice's own generic format, into a real DB made by
# `pinsplice db init`, read back with the sqlite3 CLI; `enable_app` turns a feed app into a rule
# that the real helper (ext_pinsplice_acl, driven on stdin as Squid drives it) splices for a covered
# name and bumps for others; a re-import with a changed feed keeps the admin's local edits and
# --dry-run shows the diff and changes nothing (dump before/after); bad files (malformed JSON, a
# wrong type, a public suffix, a missing file) get an error naming the file and the entry and leave
# the DB byte-for-byte unchanged; the audit records every import with its provenance.
#
# Last, the same feed app through real Squid: a pinning client to a covered name is spliced, one
# to a name below an exact feed entry is bumped.
#
# Environment: PS_BUILDDIR, PS_SQLDIR, PS_SRCDIR. Needs root, Squid, sqlite3, curl.
. "$(dirname "$0")/lib.sh"

e2e_init t36-feed-import
e2e_require md5sum
PS=$PS_BUILDDIR/tools/pinsplice
[ -x "$PS" ] || e2e_die "$PS not built"
[ -x "$PS_HELPER" ] || e2e_die "helper not built: $PS_HELPER"
unset PINSPLICE_DB
export PINSPLICE_SQLDIR=$PS_SQLDIR
DB=$E2E_DIR/rules.db
FX=$PS_SRCDIR/tests/fixtures/feeds
M365=$E2E_DIR/endpoints.json
ACME=$E2E_DIR/acme.json
cp "$FX/m365-worldwide.json" "$M365" && cp "$FX/acme.json" "$ACME" || e2e_die "fixtures"
WHO=$(id -un)
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != "$WHO" ]; then WHO="$WHO (sudo by $SUDO_USER)"; fi
EXO='Microsoft 365: Exchange Online (Optimize)'
TEAMS='Microsoft 365: Skype for Business Online and Microsoft Teams (Allow)'
SPO='Microsoft 365: SharePoint Online and OneDrive for Business (Optimize)'
COMMON='Microsoft 365: Microsoft 365 Common and Office Online (Allow)'

# t_run ARGS...: OUT, ERR, RC of pinsplice (import times replaced by T).
t_run() {
    OUT=$("$PS" "$@" 2>"$E2E_DIR/stderr")
    RC=$?
    ERR=$(cat "$E2E_DIR/stderr")
}
sql() { sqlite3 -bail -batch "$DB" "$1" || e2e_die "sqlite3 $DB: $1"; }
dump() { sqlite3 "$DB" .dump | md5sum; }
# ask LINE: the helper's reply to one request line (SNI HOST:PORT CLIENT USER PROGRAM ACTION).
ask() { printf '%s\n' "$1" | timeout 20 "$PS_HELPER" --db "$DB" 2>>"$E2E_DIR/helper.err"; }
splice_by() { printf 'OK pinsplice_action_=splice pinsplice_rule_="%s" message="rule matched"' "$1"; }
NO_RULE='ERR pinsplice_action_=bump pinsplice_rule_=- message="no rule matched: default action"'

"$PS" db init --db "$DB" >/dev/null || e2e_die "db init failed"
e2e_expect "DB has the feeds table and audit" 2 \
    "$(sql "SELECT count(*) FROM sqlite_master WHERE name IN ('feeds', 'audit_feed')")"

# ---- m365: the first import -------------------------------------------------------------------------
t_run feed import "$M365" --format m365 --db "$DB" \
    --source https://endpoints.office.com/endpoints/worldwide --version 2026112800
e2e_expect "m365 import: exit 0" 0 "$RC"
e2e_expect "m365 import: stdout" "add      app 'Microsoft 365: Exchange Online (Allow)'
add      app '$EXO'
add      app '$COMMON'
add      app '$SPO'
add      app '$TEAMS'
$DB: imported feed 'Microsoft 365' (m365, version 2026112800): 5 apps from 8 entries; 5 added, 0 removed, 0 updated, 0 local values kept, 0 conflicts (first import)
$DB: not imported: 1 Default sets (Microsoft: may be inspected), 2 UDP-only sets
$DB: 4 entries skipped (see above)" "$(printf '%s\n' "$OUT" | grep -v 'destination ranges not stored')"
e2e_expect "m365 import: skipped entries on stderr, never widened" \
"pinsplice feed import: $M365: entry 2 (id 2): skipped 'udpPorts 443': no tcpPorts (UDP only: Squid never sees it); not imported
pinsplice feed import: $M365: entry 3 (id 9): skipped 'autodiscover.*.onmicrosoft.com': a wildcard inside a label or in the middle: no entry covers exactly these names (a subtree would cover more than the feed lists); skipped
pinsplice feed import: $M365: entry 4 (id 11): skipped 'udpPorts 3478,3479,3480,3481': no tcpPorts (UDP only: Squid never sees it); not imported
pinsplice feed import: $M365: entry 6 (id 31): skipped '*-admin.sharepoint.com': a wildcard inside a label or in the middle: no entry covers exactly these names (a subtree would cover more than the feed lists); skipped" "$ERR"
e2e_expect "m365: apps, domains (exact = plain name, subtree = *.)" \
"Microsoft 365: Exchange Online (Allow)|outlook.com:0
$EXO|outlook.cloud.microsoft:1 outlook.office.com:1 outlook.office365.com:1
$COMMON|account.activedirectory.windowsazure.com:1 msftidentity.com:0 msidentity.com:0
$SPO|sharepoint.com:0
$TEAMS|lync.com:0 teams.cloud.microsoft:0 teams.microsoft.com:0" \
    "$(sql "SELECT a.name || '|' || group_concat(d.domain || ':' || d.exact, ' ') FROM apps a
            JOIN (SELECT * FROM app_domains ORDER BY domain) d ON d.app_id = a.id
            WHERE a.feed = 'Microsoft 365' GROUP BY a.id ORDER BY a.name")"
e2e_expect "m365: Default entries are not imported" 0 \
    "$(sql "SELECT count(*) FROM app_domains WHERE domain IN ('officeapps.live.com', 'online.office.com', 'office.live.com')")"
e2e_expect "m365: feed apps are origin local (db update never touches them)" "local|5" \
    "$(sql "SELECT origin, count(*) FROM apps WHERE feed = 'Microsoft 365' GROUP BY origin")"
e2e_expect_match "m365: provenance in the note" \
    '^Microsoft 365 endpoints, service area Exchange, category Optimize \(Microsoft: route directly, do not inspect TLS\), id 1 required tcp 80,443\. Feed "Microsoft 365" \(m365\): source https://endpoints\.office\.com/endpoints/worldwide, version 2026112800, imported 20[0-9-]{8}T[0-9:]{8}Z\.$' \
    "$(sql "SELECT note FROM apps WHERE name = '$EXO'")"
e2e_expect "m365: the app's audit row names the feed and who" "Microsoft 365|$WHO" \
    "$(sql "SELECT (new ->> 'feed') || '|' || who FROM audit WHERE tbl = 'apps' AND op = 'INSERT' AND new ->> 'name' = '$EXO'")"
e2e_expect "m365: feeds row" "Microsoft 365|m365|https://endpoints.office.com/endpoints/worldwide|2026112800|5" \
    "$(sql "SELECT feed, format, source, version, apps FROM feed_overview")"

# ---- the generic format ---------------------------------------------------------------------------
t_run feed import "$ACME" --format json --db "$DB"
e2e_expect "json import: exit 0, stderr empty" "0 " "$RC $ERR"
e2e_expect_match "json import: summary" \
    "imported feed 'Acme' \(json, version 2026-12-01\): 2 apps from 2 entries; 2 added" "$OUT"
e2e_expect "json: domains, programs, reason" \
"Acme Payroll|mutual TLS with a client certificate|payroll.acme.example:1|
Acme VPN|pinned certificate|gw.acme.example:0 vpn.acme.example:1|any:acmevpn.exe macos:com.acme.vpn" \
    "$(sql "SELECT a.name || '|' || a.reason || '|' ||
              coalesce((SELECT group_concat(domain || ':' || exact, ' ') FROM (SELECT * FROM app_domains
                        WHERE app_id = a.id ORDER BY domain)), '') || '|' ||
              coalesce((SELECT group_concat(os || ':' || program, ' ') FROM (SELECT * FROM app_programs
                        WHERE app_id = a.id ORDER BY os)), '')
            FROM apps a WHERE a.feed = 'Acme' ORDER BY a.name")"
e2e_expect_match "json: note = the feed's note + provenance" \
    "^The VPN client pins Acme's own CA\.\. Feed \"Acme\" \(json\): source https://intranet\.acme\.example/pinsplice-feed\.json, version 2026-12-01, imported " \
    "$(sql "SELECT note FROM apps WHERE name = 'Acme VPN'")"

# ---- enable_app -> a rule the helper splices by -------------------------------------------------
sql "INSERT INTO enable_app (app, by) VALUES ('$EXO', 'domain')"
sql "INSERT INTO enable_app (app, by) VALUES ('Acme VPN', 'domain')"
e2e_expect "helper: an exact feed name is spliced by the app's rule" "$(splice_by "App: $EXO")" \
    "$(ask 'outlook.office.com outlook.office.com:443 192.0.2.1 - - splice')"
e2e_expect "helper: a name below an exact entry is bumped (not widened)" "$NO_RULE" \
    "$(ask 'x.outlook.office.com x.outlook.office.com:443 192.0.2.1 - - splice')"
e2e_expect "helper: a *. entry covers its subtree" "$(splice_by "App: Acme VPN")" \
    "$(ask 'eu1.gw.acme.example eu1.gw.acme.example:443 192.0.2.1 - - splice')"
e2e_expect "helper: a look-alike is bumped" "$NO_RULE" \
    "$(ask 'evilgw.acme.example evilgw.acme.example:443 192.0.2.1 - - splice')"
e2e_expect "m365: the ranges are the app's destinations" \
    "13.107.18.10/31 13.107.6.152/31 2603:1006::/40 52.96.0.0/14" \
    "$(sql "SELECT group_concat(cidr, ' ') FROM (SELECT cidr FROM app_destinations d JOIN apps a ON a.id = d.app_id
            WHERE a.name = '$EXO' ORDER BY cidr)")"
e2e_expect "helper: no SNI, CONNECT to a covered address: spliced by the destinations rule" \
    "$(splice_by "App: $EXO (destinations)")" "$(ask '- 13.107.6.153:443 192.0.2.1 - - splice')"
e2e_expect "helper: no SNI, an IPv6 address in a feed range: spliced" \
    "$(splice_by "App: $EXO (destinations)")" "$(ask '- [2603:1006::5]:443 192.0.2.1 - - splice')"
e2e_expect "helper: no SNI, an address outside the ranges: bumped" "$NO_RULE" \
    "$(ask '- 13.107.6.154:443 192.0.2.1 - - splice')"

# ---- local edits, then a changed feed ------------------------------------------------------------
sql "UPDATE settings SET value = 'alice' WHERE key = 'audit_who'"
sql "UPDATE apps SET note = 'reviewed by alice' WHERE name = '$SPO'"
sql "DELETE FROM app_domains WHERE domain = 'lync.com'"
sql "INSERT INTO app_domains (app_id, domain, exact) SELECT id, 'files.corp.example', 1 FROM apps WHERE name = '$SPO'"
sql "DELETE FROM apps WHERE name = '$COMMON'"
sql "UPDATE settings SET value = '' WHERE key = 'audit_who'"
# Microsoft drops outlook.cloud.microsoft and lists *.skype.com; *.sharepoint.com moves.
sed -e 's/"outlook.cloud.microsoft", //' -e 's/"\*.lync.com", /"*.lync.com", "*.skype.com", /' \
    -e 's/"\*.sharepoint.com", /"*.sharepoint.com", "*.svc.ms", /' -e 's|, "52.96.0.0/14"||' \
    "$FX/m365-worldwide.json" >"$M365"
BEFORE=$(dump)
t_run feed import "$M365" --format m365 --db "$DB" --version 2026120100 --dry-run
e2e_expect "dry run: exit 0" 0 "$RC"
e2e_expect "dry run: the diff" \
"update   app 'Microsoft 365: Exchange Online (Allow)': note updated
update   app '$EXO': note updated
remove   app '$EXO': destination 52.96.0.0/14
remove   app '$EXO': domain outlook.cloud.microsoft
keep     app '$COMMON': you deleted it; it stays deleted
keep     app '$SPO': note: yours is kept (the feed's changed)
keep     app '$SPO': domain files.corp.example: not in the feed; yours is kept
add      app '$SPO': domain svc.ms
update   app '$TEAMS': note updated
keep     app '$TEAMS': domain lync.com: you removed it; it stays removed
add      app '$TEAMS': domain skype.com
note     rule 'App: $EXO' was made from this feed's app by enable_app and keeps its old entries (DELETE it and enable_app again to follow the feed)
note     rule 'App: $EXO (destinations)' was made from this feed's app by enable_app and keeps its old entries (DELETE it and enable_app again to follow the feed)
$DB: would import feed 'Microsoft 365' (m365, version 2026120100): 5 apps from 8 entries; 2 added, 2 removed, 3 updated, 4 local values kept, 0 conflicts" \
    "$(printf '%s\n' "$OUT" | grep -v -e '^.*: not imported: ' -e 'entries skipped' -e 'destination ranges not stored')"
e2e_expect "dry run: the DB is unchanged (dump)" "$BEFORE" "$(dump)"

t_run feed import "$M365" --format m365 --db "$DB" --version 2026120100
e2e_expect "re-import: exit 0" 0 "$RC"
e2e_expect "re-import: feed changes applied, local edits kept" \
"Microsoft 365: Exchange Online (Allow)|outlook.com:0
$EXO|outlook.office.com:1 outlook.office365.com:1
$SPO|files.corp.example:1 sharepoint.com:0 svc.ms:0
$TEAMS|skype.com:0 teams.cloud.microsoft:0 teams.microsoft.com:0" \
    "$(sql "SELECT a.name || '|' || group_concat(d.domain || ':' || d.exact, ' ') FROM apps a
            JOIN (SELECT * FROM app_domains ORDER BY domain) d ON d.app_id = a.id
            WHERE a.feed = 'Microsoft 365' GROUP BY a.id ORDER BY a.name")"
e2e_expect "re-import: the range the feed dropped is gone" 0 \
    "$(sql "SELECT count(*) FROM app_destinations WHERE cidr = '52.96.0.0/14'")"
e2e_expect "re-import: the local note is kept" "reviewed by alice" \
    "$(sql "SELECT note FROM apps WHERE name = '$SPO'")"
e2e_expect "re-import: the other feed is untouched" 2 "$(sql "SELECT count(*) FROM apps WHERE feed = 'Acme'")"
e2e_expect "re-import: the rule made from the app keeps its entries" \
    "outlook.cloud.microsoft (exact), outlook.office.com (exact), outlook.office365.com (exact)" \
    "$(sql "SELECT domains FROM rule_overview WHERE name = 'App: $EXO'")"
e2e_expect "audit: one IMPORT row per import, with provenance and who" \
"$WHO|Microsoft 365|2026112800||5|0|0
$WHO|Acme|2026-12-01||2|0|0
$WHO|Microsoft 365|2026120100|2026112800|2|2|4" \
    "$(sql "SELECT who, feed, version, coalesce(previous_version, ''), added, removed, kept FROM audit_feed")"
e2e_expect "audit: app rows carry who too" "$WHO" \
    "$(sql "SELECT DISTINCT who FROM audit WHERE tbl = 'app_domains' AND op = 'INSERT' AND new ->> 'domain' = 'skype.com'")"
# the same feed again: nothing but the provenance notes changes
t_run feed import "$M365" --format m365 --db "$DB" --version 2026120100
e2e_expect_match "same feed again: only notes (when the second changed)" "0 added, 0 removed, [03] updated, 4 local values kept" "$OUT"
e2e_expect "same feed again: no entry changes" "" "$(printf '%s\n' "$OUT" | grep -E '^(add|remove) ')"

# ---- a conflict: a feed app named like a vendor app --------------------------------------------
printf '{"pinsplice_feed": 1, "name": "Other", "apps": [{"name": "Webex", "domains": ["webex.example"]}]}\n' >"$E2E_DIR/other.json"
t_run feed import "$E2E_DIR/other.json" --format json --db "$DB"
e2e_expect "conflict: reported, the vendor app untouched" \
"0|conflict app 'Webex': another app (vendor, local or another feed) has this name; the feed's is not written|0" \
    "$RC|$(printf '%s\n' "$OUT" | head -n 1 | tr -s ' ')|$(sql "SELECT count(*) FROM app_domains d JOIN apps a ON a.id = d.app_id WHERE a.name = 'Webex' AND d.domain = 'webex.example'")"

# ---- bad files: an error naming the file and the entry, the DB unchanged ----------------------
BEFORE=$(dump)
bad() { # bad NAME FORMAT CONTENT EXPECTED-STDERR
    printf '%s' "$3" >"$E2E_DIR/bad.json"
    t_run feed import "$E2E_DIR/bad.json" --format "$2" --db "$DB"
    e2e_expect "$1: exit 2, stdout empty, error" "2||$4" "$RC|$OUT|$ERR"
    e2e_expect "$1: the DB is unchanged (dump)" "$BEFORE" "$(dump)"
}
B=$E2E_DIR/bad.json
bad "malformed JSON" m365 '[{"id": 1, "serviceArea": "Exchange",
  "urls": ["a.example" "b.example"]}]' \
    "pinsplice feed import: $B:2:34: malformed JSON: ']' expected near '\"b.example\"' (nothing imported)"
bad "wrong type" m365 '[{"id": 7, "serviceArea": "Exchange", "category": "Allow", "required": true,
  "tcpPorts": "443", "urls": "outlook.office.com"}]' \
    "pinsplice feed import: $B: entry 1 (id 7): \"urls\" must be an array of strings (nothing imported)"
bad "public suffix" m365 '[{"id": 8, "serviceArea": "Exchange", "category": "Optimize", "required": true,
  "tcpPorts": "443", "urls": ["outlook.office.com", "*.co.uk"]}]' \
    "pinsplice feed import: $B: entry 1 (id 8): \"urls\"[1] \"*.co.uk\": co.uk is a public suffix: a subtree entry would cover every site registered under it (refused as db check does) (nothing imported)"
bad "broad shared zone" json '{"pinsplice_feed": 1, "name": "Acme", "apps": [{"name": "Acme VPN",
  "domains": ["vpn.acme.example", "*.akadns.net"]}]}' \
    "pinsplice feed import: $B: apps[0] \"Acme VPN\": \"domains\"[1] \"*.akadns.net\": akadns.net is a public suffix: a subtree entry would cover every site registered under it (refused as db check does) (nothing imported)"
bad "wrong format" json '[]' \
    "pinsplice feed import: $B: not a pinsplice feed: the top level must be an object with \"pinsplice_feed\": 1 (is this --format m365?) (nothing imported)"
bad "host bits in a range" json '{"pinsplice_feed": 1, "name": "Acme", "apps": [{"name": "Acme VPN",
  "destinations": ["192.0.2.1/24"]}]}' \
    "pinsplice feed import: $B: apps[0] \"Acme VPN\": \"destinations\"[0] \"192.0.2.1/24\": host bits set in '192.0.2.1/24' (the network is 192.0.2.0/24) (nothing imported)"
t_run feed import "$E2E_DIR/none.json" --format json --db "$DB"
e2e_expect "missing file" "2|pinsplice feed import: $E2E_DIR/none.json: No such file or directory (nothing imported)" "$RC|$ERR"
mkfifo "$E2E_DIR/fifo.json"
OUT=$(timeout 10 "$PS" feed import "$E2E_DIR/fifo.json" --format json --db "$DB" 2>&1); RC=$?
e2e_expect "a FIFO: refused at once" "2|pinsplice feed import: $E2E_DIR/fifo.json: not a regular file (nothing imported)" "$RC|$OUT"
t_run feed import "$ACME" --db "$DB"
e2e_expect "no --format" "2|pinsplice feed import: --format missing: use m365 or json" "$RC|$ERR"
e2e_expect "bad files: the DB is unchanged (dump)" "$BEFORE" "$(dump)"

e2e_expect "the helper logged no error" "" "$(grep -E 'ERROR|WARNING|FATAL' "$E2E_DIR/helper.err")"

# ---- through real Squid ---------------------------------------------------------------------------
E2E_NAMES+=" outlook.office.com x.outlook.office.com"
e2e_pki
e2e_origin_start
e2e_db_create
cp "$FX/m365-worldwide.json" "$M365"
"$PS" feed import "$M365" --format m365 --db "$E2E_DB" >/dev/null 2>&1 || e2e_die "feed import into $E2E_DB"
e2e_sql "INSERT INTO enable_app (app, by) VALUES ('$EXO', 'domain')"
e2e_squid_start
e2e_check_spliced "squid: a feed name" outlook.office.com "App: $EXO"
e2e_check_bumped "squid: below an exact feed name" x.outlook.office.com
e2e_check_squid_healthy "after t36"
e2e_finish

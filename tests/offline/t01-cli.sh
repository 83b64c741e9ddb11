#!/bin/bash
# t01-cli: the `pinsplice` command, built in the build tree, against real databases made by
# `pinsplice db init` and edited with the real sqlite3 CLI, as an admin would. Every check is on
# exact output and exit status: db init (paths, modes, refusal, --force), check (text and JSON,
# Unicode names, SNI versus CONNECT host, sources, users, trusted programs, expiry), db check
# (the shipped defaults, every kind of finding, a DB the helper would refuse), the DB path order
# (--db, $PINSPLICE_DB, default), usage errors and help.
#
# Environment: PS_BUILDDIR (tools/pinsplice), PS_SQLDIR, PS_SRCDIR (set by make check; derived
# by ../lib/check.sh when run by hand). Needs only sqlite3, no Squid. Exit 0 pass, 1 fail, 77 when sqlite3
# is missing and PINSPLICE_ALLOW_SKIP=1.
. "$(dirname "$0")/../lib/check.sh"

e2e_workdir t01-cli
e2e_require sqlite3 stat md5sum
PS=$PS_BUILDDIR/tools/pinsplice
[ -x "$PS" ] || e2e_die "$PS not built"

unset PINSPLICE_DB
export PINSPLICE_SQLDIR=$PS_SQLDIR
VERSION=$(sed -n 's/^AC_INIT(\[pinsplice\], \[\([^]]*\)\].*/\1/p' "$PS_SRCDIR/configure.ac")

# t_run ARGS...: run pinsplice; OUT, ERR (stdout, stderr without the last newline), RC.
t_run() {
    OUT=$("$PS" "$@" 2>"$E2E_DIR/stderr")
    RC=$?
    ERR=$(cat "$E2E_DIR/stderr")
}
# t_expect WHAT RC STDOUT [STDERR]: the last t_run's exit status and exact output.
t_expect() {
    e2e_expect "$1: exit status" "$2" "$RC"
    e2e_expect "$1: stdout" "$3" "$OUT"
    e2e_expect "$1: stderr" "${4-}" "$ERR"
}
sql() { sqlite3 -bail -batch "$DB" "$1" || e2e_die "sqlite3 $DB: $1"; }
nl=$'\n'

# ---- global options, usage errors, help ---------------------------------------------------------
t_run --version
t_expect "--version" 0 "pinsplice $VERSION"
t_run
e2e_expect "no arguments: exit status" 2 "$RC"
e2e_expect "no arguments: usage on stderr" "Usage: pinsplice COMMAND [OPTIONS]" "${ERR%%$nl*}"
t_run --help
e2e_expect "--help: exit status" 0 "$RC"
for line in "  db init            create the rules database from the installed SQL" \
    "  db check           report broken, dangerous, duplicate and shadowed rule entries" \
    "  check              show the decision for one connection and why"; do
    if printf '%s\n' "$OUT" | grep -qxF -- "$line"; then e2e_pass "--help lists '$line'"
    else e2e_fail "--help does not list '$line'"; fi
done
t_run frob
t_expect "unknown command" 2 "" "pinsplice: unknown command 'frob'${nl}Try 'pinsplice --help'."
t_run db
e2e_expect "db alone: exit status" 2 "$RC"
e2e_expect "db alone: message" "pinsplice db: which command?" "${ERR%%$nl*}"
t_run db frob
e2e_expect "db frob: exit status" 2 "$RC"
e2e_expect "db frob: message" "pinsplice db: unknown command 'frob'" "${ERR%%$nl*}"
t_run help db
t_expect "help db" 0 "  pinsplice db init     create the rules database from the installed SQL
  pinsplice db check    report broken, dangerous, duplicate and shadowed rule entries
  pinsplice db update   apply a newer vendor catalogue and default rules, keeping local changes
  pinsplice db publish  write a consistent copy of the database for a fleet of proxies"
t_run help db init
e2e_expect "help db init: exit status" 0 "$RC"
e2e_expect "help db init: synopsis" "Usage: pinsplice db init [--db PATH] [--force]" "${OUT%%$nl*}"
t_run db check --help
e2e_expect "db check --help: synopsis" "Usage: pinsplice db check [--db PATH] [--json | --as USER]" "${OUT%%$nl*}"
t_run check --frob
t_expect "unknown option" 2 "" \
    "pinsplice check: unknown option '--frob'${nl}Try 'pinsplice help check'."
t_run check --sni
t_expect "option without value" 2 "" \
    "pinsplice check: option '--sni' needs a value${nl}Try 'pinsplice help check'."
t_run check --sni a.test --sni b.test
t_expect "option twice" 2 "" \
    "pinsplice check: option '--sni' given twice${nl}Try 'pinsplice help check'."
t_run check www.zoom.us
t_expect "operand" 2 "" \
    "pinsplice check: unexpected argument 'www.zoom.us'${nl}Try 'pinsplice help check'."
t_run check
t_expect "check without a question" 2 "" "pinsplice check: say what to decide: --sni, --host, \
--src, --user or --program${nl}Try 'pinsplice help check'."
t_run db init --force=yes
t_expect "flag with a value" 2 "" \
    "pinsplice db init: option '--force' takes no value${nl}Try 'pinsplice help db init'."

# ---- db init ---------------------------------------------------------------------------------
DB=$E2E_DIR/var/lib/pinsplice/rules.db
PINSPLICE_SQLDIR=/nonexistent t_run db init --db "$E2E_DIR/other.db"
t_expect "db init without SQL" 2 "" "pinsplice db init: /nonexistent/schema.sql: No such file or \
directory (PINSPLICE_SQLDIR names the SQL directory)"
e2e_expect "db init without SQL creates nothing" no "$([ -e "$E2E_DIR/other.db" ] && echo yes || echo no)"

rm -rf "$E2E_DIR/var"
OUT=$(umask 077 && "$PS" db init --db "$DB" 2>"$E2E_DIR/stderr"); RC=$?; ERR=$(cat "$E2E_DIR/stderr")
n_dom=$(sql "SELECT count(*) FROM rule_domains d JOIN rules r ON r.id = d.rule_id WHERE r.enabled")
t_expect "db init (umask 077, no parent dirs)" 0 \
    "$DB: created (schema version 3): 15 enabled rules, $n_dom domain entries"
e2e_expect "db init: DB mode" 644 "$(stat -c %a "$DB")"
e2e_expect "db init: parent dir modes" "755 755 755" \
    "$(stat -c %a "$E2E_DIR/var" "$E2E_DIR/var/lib" "$E2E_DIR/var/lib/pinsplice" | tr '\n' ' ' | sed 's/ $//')"
e2e_expect "db init: schema version" 3 "$(sql 'PRAGMA user_version')"
e2e_expect "db init: rules" "16 15" "$(sql 'SELECT count(*), sum(enabled) FROM rules' | tr '|' ' ')"
e2e_expect "db init: no temporary file left" "rules.db" "$(ls "$E2E_DIR/var/lib/pinsplice")"

sum=$(md5sum <"$DB")
t_run db init --db "$DB"
t_expect "db init refuses an existing DB" 2 "" \
    "pinsplice db init: $DB: exists (use --force to replace it)"
e2e_expect "refused db init leaves the DB alone" "$sum" "$(md5sum <"$DB")"
sql "INSERT INTO rules (name) VALUES ('Local edit')"
t_run db init --db "$DB" --force
e2e_expect "db init --force: exit status" 0 "$RC"
e2e_expect "db init --force replaced the DB" 0 \
    "$(sql "SELECT count(*) FROM rules WHERE name = 'Local edit'")"

# ---- check -----------------------------------------------------------------------------------
t_run check --db "$DB" --sni www.zoom.us
t_expect "check www.zoom.us" 0 "action:      splice
rule:        Bypass Zoom - Pre-configured (id 14)
reason:      rule
server name: www.zoom.us
domain:      zoom.us
expires:     never"
t_run check --db "$DB" --sni www.zoom.us --json
t_expect "check --json" 0 '{"action":"splice","rule":"Bypass Zoom - Pre-configured","rule_id":14,'\
'"reason":"rule","detail":null,"matched":{"domain":"zoom.us","program":null,"category":null,'\
'"source":null,"destination":null},"monitor":null,"server_name":"www.zoom.us","expires_at":null,"check":null,"settings":{"no_sni_action":"host","ip_sni_action":"ignore","splice_verify":"ip"}}'

default_out() {
    printf 'action:      bump\nrule:        none (default)\nreason:      default\nserver name: %s' "$1"
}
t_run check --db "$DB" --sni example.com
t_expect "no rule: default action" 0 "$(default_out example.com)"
t_run check --db "$DB" --host evilzoom.us:443
t_expect "label boundary (evilzoom.us)" 0 "$(default_out evilzoom.us)"
t_run check --db "$DB" --host zoom.us.evil.test:443
t_expect "label boundary (zoom.us.evil.test)" 0 "$(default_out zoom.us.evil.test)"
t_run check --db "$DB" --host 'ZOOM.US.:443' --json
t_expect "CONNECT host normalised" 0 '{"action":"splice","rule":"Bypass Zoom - Pre-configured",'\
'"rule_id":14,"reason":"rule","detail":null,"matched":{"domain":"zoom.us","program":null,'\
'"category":null,"source":null,"destination":null},"monitor":null,"server_name":"zoom.us","expires_at":null,"check":null,"settings":{"no_sni_action":"host","ip_sni_action":"ignore","splice_verify":"ip"}}'
t_run check --db "$DB" --sni www.zoom.us --host evil.test:443
t_expect "SNI and CONNECT host differ: both must match, and the reason says so" 0 \
    "$(printf 'action:      bump\nrule:        none (default)\nreason:      default: SNI and CONNECT host differ, and no rule covers both\nserver name: www.zoom.us')"
t_run check --db "$DB" --sni zoom..us --json
e2e_expect "bad SNI: exit status" 0 "$RC"
e2e_expect_match "bad SNI: bump, bad-name" \
    '^\{"action":"bump","rule":null,"rule_id":null,"reason":"bad-name","detail":"[^"]+",' "$OUT"
t_run check --db "$DB" --sni 192.0.2.1 --json
e2e_expect_match "IP SNI never matches a domain" '^\{"action":"bump","rule":null,' "$OUT"

# Unicode in, A-labels out; a JSON-hostile rule name comes back escaped.
sql "INSERT INTO rules (id, name, position) VALUES (100, 'Say \"hi\" \\ tab	é', 1);
     INSERT INTO rule_domains (rule_id, domain) VALUES (100, 'xn--bcher-kva.example');"
t_run check --db "$DB" --sni 'BÜCHER.example.' --json
t_expect "Unicode SNI, escaped rule name" 0 '{"action":"splice","rule":"Say \"hi\" \\ tab\té",'\
'"rule_id":100,"reason":"rule","detail":null,"matched":{"domain":"xn--bcher-kva.example",'\
'"program":null,"category":null,"source":null,"destination":null},"monitor":null,"server_name":"xn--bcher-kva.example",'\
'"expires_at":null,"check":null,"mapped":{"sni":"xn--bcher-kva.example","host":null},'\
'"settings":{"no_sni_action":"host","ip_sni_action":"ignore","splice_verify":"ip"}}'

# The CLI accepts Unicode and says what it mapped (Squid's paths bump such a name: t02).
zwsp=$'\u200b'
t_run check --db "$DB" --sni "www.zoom.us$zwsp"
t_expect "Unicode SNI: the mapping is shown" 0 "mapped:      sni 'www.zoom.us$zwsp' -> 'www.zoom.us' (UTS#46; Squid would bump the Unicode name as bad-name)
action:      splice
rule:        Bypass Zoom - Pre-configured (id 14)
reason:      rule
server name: www.zoom.us
domain:      zoom.us
expires:     never"
t_run check --db "$DB" --host $'b\u00fccher.example:8443' --json
e2e_expect_match "Unicode CONNECT host: the mapping in JSON" \
    '"mapped":\{"sni":null,"host":"xn--bcher-kva.example:8443"\}' "$OUT"
# A rule name with control bytes (the schema allows them) is escaped in text mode.
sql "INSERT INTO rules (id, name, position) VALUES (99, 'Esc' || char(27) || '[2J' || char(7) || 'x\y', 1);
     INSERT INTO rule_domains (rule_id, domain) VALUES (99, 'ctl.example');"
t_run check --db "$DB" --sni ctl.example
e2e_expect "control bytes of a rule name escaped in text" 'rule:        Esc\x1B[2J\x07x\\y (id 99)' \
    "$(printf '%s\n' "$OUT" | sed -n 2p)"
e2e_expect "no raw control byte in the text answer" 0 "$(printf '%s' "$OUT" | tr -d '\n' | tr -dc '\000-\037\177' | wc -c)"

# Sources, users, programs, expiry.
sql "INSERT INTO rules (id, name, position, expires_at) VALUES
       (101, 'Office', 2, '2999-12-31 18:00:00'), (102, 'Alice', 3, NULL), (103, 'Zoom app', 4, NULL);
     INSERT INTO rule_domains (rule_id, domain) VALUES (101, 'office.test'), (102, 'alice.test');
     INSERT INTO rule_sources (rule_id, source) VALUES (101, '10.1.0.0/16'), (102, 'user:alice');
     INSERT INTO rule_programs (rule_id, os, program) VALUES (103, 'windows', 'Zoom.exe');"
t_run check --db "$DB" --sni office.test --src 10.1.2.3
t_expect "source rule" 0 "action:      splice
rule:        Office (id 101)
reason:      rule
server name: office.test
domain:      office.test
source:      10.1.0.0/16
expires:     2999-12-31 18:00:00 UTC"
t_run check --db "$DB" --sni office.test --src 10.2.0.1
t_expect "source rule, other client" 0 "$(default_out office.test)"
t_run check --db "$DB" --sni office.test --src 10.1.2.3 --json
e2e_expect_match "expiry in JSON" '"expires_at":"2999-12-31 18:00:00 UTC","check":null,"settings":\{"no_sni_action":"host","ip_sni_action":"ignore","splice_verify":"ip"\}\}$' "$OUT"
t_run check --db "$DB" --sni alice.test --user alice
e2e_expect "user rule" "action:      splice" "${OUT%%$nl*}"
t_run check --db "$DB" --sni alice.test --user bob
t_expect "user rule, other user" 0 "$(default_out alice.test)"
t_run check --db "$DB" --program 'C:\Program Files\Zoom\ZOOM.EXE' --src 10.0.0.5 --json
e2e_expect_match "program from an untrusted client is ignored" '^\{"action":"bump","rule":null,' "$OUT"
sql "UPDATE settings SET value = '10.0.0.0/8' WHERE key = 'program_trusted_sources'"
t_run check --db "$DB" --program 'C:\Program Files\Zoom\ZOOM.EXE' --src 10.0.0.5
t_expect "program from a trusted client" 0 "action:      splice
rule:        Zoom app (id 103)
reason:      rule
server name: none
program:     zoom.exe
expires:     never"

# ---- the DB path: --db, then $PINSPLICE_DB, then the default -----------------------------------
PINSPLICE_DB=$DB t_run check --sni www.zoom.us --json
e2e_expect_match "PINSPLICE_DB is used" '^\{"action":"splice","rule":"Bypass Zoom' "$OUT"
PINSPLICE_DB=/nonexistent/rules.db t_run check --db "$DB" --sni www.zoom.us --json
e2e_expect_match "--db wins over PINSPLICE_DB" '^\{"action":"splice","rule":"Bypass Zoom' "$OUT"
PINSPLICE_DB=$E2E_DIR/missing.db t_run check --sni www.zoom.us
t_expect "missing DB" 2 "" "pinsplice check: $E2E_DIR/missing.db: No such file or directory (create it with 'pinsplice db init')"
default_db=$(printf '%s\n' "$("$PS" --help)" | sed -n 's/^ *\(\/.*\/lib\/pinsplice\/rules\.db\))$/\1/p')
if [ -e "$default_db" ]; then
    e2e_log "a DB exists at the default path $default_db: not checking the default path"
else
    t_run check --sni www.zoom.us
    t_expect "default DB path" 2 "" "pinsplice check: $default_db: No such file or directory (create it with 'pinsplice db init')"
fi
echo "not a database" >"$E2E_DIR/text.db"
t_run db check --db "$E2E_DIR/text.db"
e2e_expect "db check on a text file: exit status" 2 "$RC"
e2e_expect_match "db check on a text file: names it" "^pinsplice db check: .*text\\.db" "$ERR"

# ---- db check --------------------------------------------------------------------------------
DB=$E2E_DIR/fresh.db
"$PS" db init --db "$DB" >/dev/null || e2e_die "db init $DB"
apple="rule 'Bypass Apple services - Pre-configured'"
t_run db check --db "$DB"
t_expect "db check on a fresh DB (the shipped defaults)" 0 "$DB: no problems found"
t_run db check --db "$DB" --json
t_expect "db check --json on a fresh DB" 0 "{\"db\":\"$DB\",\"errors\":0,\"warnings\":0,\"findings\":[]}"

# A DB made before the Apple rule was corrected (it held the vendor's akadns.net and
# p24-keyvalueservice.icloud.com, which the catalogue keeps): db check names both ...
apple_sql="'Bypass Apple services - Pre-configured'"
sql "INSERT INTO rule_domains (rule_id, domain) SELECT 12, domain FROM app_domains
       WHERE app_id = 2 AND domain IN ('akadns.net', 'p24-keyvalueservice.icloud.com');
     INSERT INTO vendor_base (kind, owner, item, value) VALUES
       ('rule_domain', $apple_sql, 'akadns.net', '{\"exact\":0,\"comment\":null}'),
       ('rule_domain', $apple_sql, 'p24-keyvalueservice.icloud.com', '{\"exact\":0,\"comment\":null}');"
t_run db check --db "$DB"
t_expect "db check on a DB with the old Apple rule" 1 "$DB: $apple: error: domain 'akadns.net' is a public \
suffix: the rule covers every site registered under it (exact = 1 would match the name alone) \
[public-suffix]
$DB: $apple: warning: domain 'p24-keyvalueservice.icloud.com' is already covered by 'icloud.com' \
in the same rule [duplicate]
$DB: 1 error, 1 warning"
t_run db check --db "$DB" --json
t_expect "db check --json" 1 "{\"db\":\"$DB\",\"errors\":1,\"warnings\":1,\"findings\":[\
{\"severity\":\"error\",\"check\":\"public-suffix\",\"rule_id\":12,\"rule\":\"Bypass Apple \
services - Pre-configured\",\"kind\":\"domain\",\"value\":\"akadns.net\",\"message\":\"domain \
'akadns.net' is a public suffix: the rule covers every site registered under it (exact = 1 would \
match the name alone)\"},{\"severity\":\"warning\",\"check\":\"duplicate\",\"rule_id\":12,\"rule\":\
\"Bypass Apple services - Pre-configured\",\"kind\":\"domain\",\"value\":\"p24-keyvalueservice.\
icloud.com\",\"message\":\"domain 'p24-keyvalueservice.icloud.com' is already covered by \
'icloud.com' in the same rule\"}]}"
# ... and db update brings the correction (the vendor no longer ships them; the admin did not
# touch them), after which the DB is clean.
t_run db update --db "$DB"
e2e_expect "db update of the old Apple rule: exit status" 0 "$RC"
e2e_expect_match "db update: removes akadns.net from the Apple rule" \
    "remove +rule 'Bypass Apple services - Pre-configured': domain akadns.net" "$OUT"
e2e_expect "db update: the catalogue keeps both" 2 \
    "$(sql "SELECT count(*) FROM app_domains WHERE app_id = 2 AND domain IN ('akadns.net', 'p24-keyvalueservice.icloud.com')")"
t_run db check --db "$DB"
t_expect "db check, clean" 0 "$DB: no problems found"

sql "INSERT INTO rules (id, name, action, position) VALUES
       (200, 'Bypass UK', 'splice', 1000), (201, 'Empty', 'splice', 1001),
       (202, 'Bump zoom api', 'bump', 1002), (203, 'Net', 'splice', 1003),
       (204, 'Zoom again', 'splice', 1004);
     INSERT INTO rule_domains (rule_id, domain, exact) VALUES (200, 'co.uk', 0),
       (202, 'api.zoom.us', 0), (204, 'zoom.us', 0);
     INSERT INTO rule_sources (rule_id, source) VALUES (203, '10.1.0.0/16'), (203, '10.1.2.0/24');"
t_run db check --db "$DB"
t_expect "db check, problems" 1 "$DB: rule 'Bypass UK': error: domain 'co.uk' is a public suffix: \
the rule covers every site registered under it (exact = 1 would match the name alone) \
[public-suffix]
$DB: rule 'Empty': warning: rule has no entries: it matches nothing [empty-rule]
$DB: rule 'Bump zoom api': error: domain 'api.zoom.us' never decides: rule 'Bypass Zoom - \
Pre-configured' (id 14), evaluated earlier, splices it (via domain 'zoom.us'), not bump as this \
rule says; move this rule above it [shadowed]
$DB: rule 'Net': warning: source '10.1.2.0/24' is inside '10.1.0.0/16' of the same rule [duplicate]
$DB: rule 'Zoom again': warning: domain 'zoom.us' never decides: rule 'Bypass Zoom - \
Pre-configured' (id 14), evaluated earlier, already splices it (via domain 'zoom.us') [shadowed]
$DB: 2 errors, 3 warnings"

# Values the schema refuses, slipped past it (CHECKs and the validating triggers switched off):
# db check names them, check refuses the DB.
sqlite3 -bail -batch "$DB" ".dbconfig enable_trigger off" "PRAGMA ignore_check_constraints = ON;
     INSERT INTO rule_sources (rule_id, source) VALUES (203, '10.0.0.1/8');" ||
    e2e_die "sqlite3 $DB: inserting a bad source past the triggers"
sql "PRAGMA ignore_check_constraints = ON;
     INSERT INTO rule_domains (rule_id, domain) VALUES (201, 'zoom..us');"
t_run db check --db "$DB"
e2e_expect "db check, unloadable DB: exit status" 1 "$RC"
e2e_expect "db check, unloadable DB: bad source" \
    "$DB: rule 'Net': error: bad source: host bits set in '10.0.0.1/8' (the network is 10.0.0.0/8) [bad-source]" \
    "$(printf '%s\n' "$OUT" | grep -F '[bad-source]')"
e2e_expect "db check, unloadable DB: shadowing not checked" "" \
    "$(printf '%s\n' "$OUT" | grep -F '[shadowed]')"
e2e_expect_match "db check, unloadable DB: load finding" \
    "^$DB: error: the rules do not load \\(the helper would refuse this database\\): .*'zoom\\.\\.us'.* \\[load\\]$" \
    "$(printf '%s\n' "$OUT" | grep -F '[load]')"
e2e_expect "db check, unloadable DB: bad name" \
    "$DB: rule 'Empty': error: bad domain 'zoom..us': empty label [bad-name]" \
    "$(printf '%s\n' "$OUT" | grep -F '[bad-name]')"
t_run check --db "$DB" --sni www.zoom.us
e2e_expect "check on an unloadable DB: exit status" 2 "$RC"
e2e_expect_match "check on an unloadable DB: names DB and value" \
    "^pinsplice check: .*/fresh\\.db: .*bad domain 'zoom\\.\\.us': empty label$" "$ERR"
t_run db check --db "$E2E_DIR/missing.db"
t_expect "db check, missing DB" 2 "" \
    "pinsplice db check: $E2E_DIR/missing.db: No such file or directory (create it with 'pinsplice db init')"

e2e_finish

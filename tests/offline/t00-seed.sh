#!/bin/bash
# t00-seed: the shipped SQL (schema.sql, vendor.sql, defaults.sql) loads into a fresh database in
# one transaction, as `pinsplice db init` loads it, and holds exactly the vendor data: 20 apps,
# 16 default rules (15 enabled), the corrected names, and a schema that refuses a bad domain.
#
# Environment: PS_SQLDIR (default: the source tree's sql/). Needs only the sqlite3 CLI.
# Exit 0 all checks passed, 1 a check failed or the SQL did not load, 77 sqlite3 missing and
# PINSPLICE_ALLOW_SKIP=1.
set -eu
. "$(dirname "$0")/../lib/check.sh"
e2e_workdir t00-seed "${TMPDIR:-/tmp}"
sqldir=$PS_SQLDIR
e2e_require sqlite3
for f in schema.sql audit.sql manage.sql vendor.sql defaults.sql; do
    [ -r "$sqldir/$f" ] || e2e_die "$sqldir/$f not readable (PS_SQLDIR=$sqldir)"
done
db=$E2E_DIR/rules.db

# One transaction, in the order `pinsplice db init` uses; -bail stops at the first error.
if ! load_err=$({ echo 'BEGIN;'; cat "$sqldir/schema.sql" "$sqldir/audit.sql" "$sqldir/manage.sql" "$sqldir/vendor.sql" \
        "$sqldir/defaults.sql"; echo 'COMMIT;'; } | sqlite3 -bail -batch "$db" 2>&1) \
        || [ -n "$load_err" ]; then
    e2e_die "loading schema.sql + vendor.sql + defaults.sql from $sqldir: $load_err"
fi
e2e_pass "schema.sql, vendor.sql, defaults.sql load in one transaction"

# q SQL: the query's output (list mode, no header); on an SQL error, a line saying so, which
# then fails the comparison with the message in it.
q() {
    sqlite3 -batch -noheader -list "$db" "$1" 2>&1 || echo "(sqlite3 failed)"
}

# All domain columns of the DB, one row each.
all_domains="SELECT domain FROM app_domains UNION ALL SELECT domain FROM rule_domains
             UNION ALL SELECT domain FROM category_domains"
sensitive='Bypass sensitive traffic - Pre-configured'
apple='Bypass Apple services - Pre-configured'

e2e_expect "20 apps, ids 1..20" "20|1|20" "$(q "SELECT count(*), min(id), max(id) FROM apps")"
e2e_expect "16 rules" "16" "$(q "SELECT count(*) FROM rules")"
e2e_expect "15 rules enabled" "15" "$(q "SELECT count(*) FROM rules WHERE enabled = 1")"
e2e_expect "the one disabled rule is '$sensitive'" "$sensitive" \
    "$(q "SELECT group_concat(name, '|') FROM rules WHERE enabled = 0")"
e2e_expect "'$sensitive' has exactly the 4 categories" \
    "Financial Services|Government|Health and Medicine|Legal" \
    "$(q "SELECT group_concat(category, '|') FROM (SELECT c.category FROM rule_categories c
          JOIN rules r ON r.id = c.rule_id WHERE r.name = '$sensitive' ORDER BY c.category)")"
e2e_expect "the 4 categories exist in categories" "4" \
    "$(q "SELECT count(*) FROM categories WHERE name IN
          ('Financial Services', 'Government', 'Health and Medicine', 'Legal')")"
e2e_expect "rules: ids 1..16 at positions 10..160, all splice, all vendor" "16|16|16" \
    "$(q "SELECT sum(position = id * 10), sum(action = 'splice'), sum(origin = 'vendor') FROM rules")"
e2e_expect "rule 'Bypass Zoom - Pre-configured' has domain zoom.us (subtree)" "zoom.us|0" \
    "$(q "SELECT d.domain, d.exact FROM rule_domains d JOIN rules r ON r.id = d.rule_id
          WHERE r.name = 'Bypass Zoom - Pre-configured'")"
e2e_expect "no domain anywhere is upper case or ends in a dot" "0" \
    "$(q "SELECT count(*) FROM ($all_domains) WHERE domain <> lower(domain) OR domain LIKE '%.'")"
e2e_expect "sjremetrics.java.com in the Java Updates app and the Java rule" "1|1" \
    "$(q "SELECT (SELECT count(*) FROM app_domains d JOIN apps a ON a.id = d.app_id
                  WHERE a.name = 'Java Updates' AND d.domain = 'sjremetrics.java.com'),
                 (SELECT count(*) FROM rule_domains d JOIN rules r ON r.id = d.rule_id
                  WHERE r.name = 'Bypass Java updates - Pre-configured'
                    AND d.domain = 'sjremetrics.java.com')")"
e2e_expect "sjremetrics.java.comm (typo) absent everywhere" "0" \
    "$(q "SELECT count(*) FROM ($all_domains UNION ALL SELECT program FROM app_programs
          UNION ALL SELECT program FROM rule_programs) WHERE domain LIKE '%sjremetrics.java.comm%'")"
e2e_expect "'$apple' has 12 domains including music.apple.com, not akadns.net nor p24-keyvalueservice" "12|1|0" \
    "$(q "SELECT count(*), sum(d.domain = 'music.apple.com'),
                 sum(d.domain IN ('akadns.net', 'p24-keyvalueservice.icloud.com')) FROM rule_domains d
          JOIN rules r ON r.id = d.rule_id WHERE r.name = '$apple'")"
e2e_expect "akadns.net stays in the Apple app, its note says why it is not in the default rule" "1|1" \
    "$(q "SELECT count(*), sum(d.note LIKE '%public suffix%not in the default Apple rule%')
          FROM app_domains d WHERE d.app_id = 2 AND d.domain = 'akadns.net'")"
e2e_expect "AWS Console: signin.aws.amazon.com once, images-na.ssl-images-amazon.com present" "1|1" \
    "$(q "SELECT sum(d.domain = 'signin.aws.amazon.com'),
                 sum(d.domain = 'images-na.ssl-images-amazon.com')
          FROM app_domains d JOIN apps a ON a.id = d.app_id WHERE a.name = 'AWS Console'")"
e2e_expect "Zoom app programs = windows zoom.exe, macos us.zoom.xos" "macos us.zoom.xos|windows zoom.exe" \
    "$(q "SELECT group_concat(p, '|') FROM (SELECT os || ' ' || program AS p FROM app_programs
          WHERE app_id = (SELECT id FROM apps WHERE name = 'Zoom') ORDER BY p)")"

# The schema refuses an upper-case domain, names the reason, and leaves the table as it was.
before=$(q "SELECT count(*) FROM rule_domains")
if ins_out=$(sqlite3 -batch "$db" "INSERT INTO rule_domains (rule_id, domain)
        VALUES ((SELECT id FROM rules WHERE name = 'Bypass Zoom - Pre-configured'), 'Zoom.US')" 2>&1); then
    ins="accepted"
else
    case $ins_out in
        *"upper case"*) ins="refused (upper case)" ;;
        *) ins="refused for another reason: $ins_out" ;;
    esac
fi
after=$(q "SELECT count(*) FROM rule_domains")
e2e_expect "inserting 'Zoom.US' into rule_domains is refused as upper case" "refused (upper case)" "$ins"
e2e_expect "rule_domains row count unchanged after the refused insert" "$before" "$after"

e2e_finish

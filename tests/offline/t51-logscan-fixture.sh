#!/bin/bash
# t51-logscan-fixture: `pinsplice logscan` on the checked-in real logs (tests/fixtures/squid-5.7
# and squid-6.13, made by t50 from real Squid 5.7 and 6.13; see tests/fixtures/README-access-logs.md),
# with exact values: the text report line for line, the JSON counters, CSV, SQL, time filters,
# gzip and stdin input, a copy with broken lines appended (counted and shown, never fatal), and
# the exit statuses. The same traffic was captured on both versions, so the counts are the same;
# what a capture alone decides (times, byte counts) is in that capture's expect.sh.
# Needs only the built pinsplice and python3 (no Squid, no root).
. "$(dirname "$0")/../lib/check.sh"
. "$(dirname "$0")/../lib/logscan.sh"
e2e_workdir t51-logscan-fixture "${TMPDIR:-/tmp}"
ls_init
tmp=$E2E_DIR
# expect_grep WHAT TEXT FILE: FILE holds TEXT (fixed string); else its first lines are shown.
expect_grep() {
    if grep -qF -- "$2" "$3"; then
        e2e_pass "$1"
    else
        e2e_fail "$1: '$2' not in $3:"
        sed 's/^/#   /' "$3" | head -n 20
    fi
}
T="--no-db --min-failures 2 --min-clients 1"

# fixture_checks DIR: every check below on one capture (DIR holds the two logs, the text report
# and expect.sh with that capture's own values).
fixture_checks() {
fx=$1
v=$(basename "$fx")
# shellcheck source=/dev/null
. "$fx/expect.sh"
mkdir -p "$tmp/$v" && cd "$tmp/$v" || exit 1
cp "$fx/access-pinsplice.log" "$fx/access-squid.log" .
echo "# ---- $v"

# ---- the text report, line for line ----------------------------------------------------------
ls_run report.txt $T --all access-pinsplice.log
e2e_expect "text: exit 1 (suspects)" 1 "$LS_RC"
if diff -u "$fx/logscan-report.txt" report.txt >report.diff; then
    e2e_expect "text report equals tests/fixtures/logscan-report.txt" same same
else
    e2e_expect "text report equals tests/fixtures/logscan-report.txt" same "$(cat report.diff)"
fi

# ---- JSON: every counter, by hand from the 13 records ----------------------------------------
ls_run r.json $T --json --all access-pinsplice.log
j() { jget r.json "$1"; }
e2e_expect "json: records" 13 "$(j input.records)"
e2e_expect "json: first record" "$FX_FIRST" "$(j input.first)"
e2e_expect "json: last record" "$FX_LAST" "$(j input.last)"
e2e_expect "json: spliced" 1 "$(j totals.connections.splice)"
e2e_expect "json: bumped" 9 "$(j totals.connections.bump)"
e2e_expect "json: all connections" 10 "$(j totals.connections.total)"
e2e_expect "json: requests in bumped connections" 2 "$(j totals.requests.bump)"
e2e_expect "json: bytes to clients, spliced (tunnel record)" "$FX_SPLICE_OUT" "$(j totals.bytes_out.splice)"
e2e_expect "json: bytes to clients, bumped (2 inner GETs)" "$FX_BUMP_OUT" "$(j totals.bytes_out.bump)"
e2e_expect "json: bytes from clients, spliced (CONNECT + tunnel)" "$FX_SPLICE_IN" "$(j totals.bytes_in.splice)"
e2e_expect "json: bytes from clients, bumped" "$FX_BUMP_IN" "$(j totals.bytes_in.bump)"
e2e_expect "json: Squid errors" 5 "$(j totals.errors)"
e2e_expect "json: bumped ok" 2 "$(j totals.bumped_ok)"
e2e_expect "json: abandoned" '{"alert": 3, "closed": 1, "no_request": 2, "reset": 1, "total": 7}' \
    "$(j totals.abandoned)"
e2e_expect "json: rule of the splice" "Bypass Zoom - Pre-configured" "$(j 'rules[kind=rule].rule')"
e2e_expect "json: default action" 9 "$(j 'rules[kind=default].connections.bump')"
e2e_expect "json: top bumped" reject.test "$(j top_bumped[0].name)"
e2e_expect "json: reject.test first failure" "$FX_REJECT_FIRST" \
    "$(j 'findings.names[name=reject.test].first_failure')"
e2e_expect "json: reject.test last failure" "$FX_REJECT_LAST" \
    "$(j 'findings.names[name=reject.test].last_failure')"
e2e_expect "json: pinned.test no request" 2 \
    "$(j 'findings.names[name=pinned.test].counts.abandoned.no_request')"
e2e_expect "json: suspects" 'suspect suspect below below' \
    "$(for n in reject pinned closed reset; do j "findings.names[name=$n.test].status"; done | xargs)"

# ---- CSV -------------------------------------------------------------------------------------
ls_run names.csv $T --csv access-pinsplice.log
e2e_expect "csv: exit 1" 1 "$LS_RC"
e2e_expect "csv: header + 6 names" 7 "$(wc -l <names.csv)"
e2e_expect "csv: reject.test row" \
    "reject.test,3,0,3,0,0,0,0,354,3,0,3,0,0,0,0,3,$FX_REJECT_FIRST,$FX_REJECT_LAST" \
    "$(grep '^reject.test,' names.csv)"
e2e_expect "csv: good.test row" \
    "good.test,2,0,2,0,0,2,$FX_BUMP_OUT,386,0,2,0,0,0,0,0,0,$FX_GOOD_FIRST,$FX_GOOD_LAST" \
    "$(grep '^good.test,' names.csv)"
ls_run rules.csv $T --csv=rules access-pinsplice.log
e2e_expect "csv rules" "\"Bypass Zoom - Pre-configured\",1,1,0,0,0,$FX_ZOOM,$FX_ZOOM" \
    "$(grep Bypass rules.csv)"

# ---- the native format of the same traffic ---------------------------------------------------
ls_run n.json $T --json access-squid.log
e2e_expect "native: exit 3 (nothing judged, not \"no suspect\")" 3 "$LS_RC"
e2e_expect "native: squid records" 13 "$(jget n.json input.records_by_format.squid)"
e2e_expect "native: spliced" 1 "$(jget n.json totals.connections.splice)"
e2e_expect "native: bumped" 9 "$(jget n.json totals.connections.bump)"
e2e_expect "native: bumped, outcome unknown" 9 "$(jget n.json input.bumped_outcome_unknown)"
e2e_expect "native: CONNECT without server connection" 1 \
    "$(jget n.json input.native_connect_without_server)"
e2e_expect "native: bytes" "$((FX_SPLICE_OUT + FX_BUMP_OUT))" "$(jget n.json totals.bytes_out.total)"
e2e_expect "native: not searched" false "$(jget n.json findings.searched)"

# ---- time filters ----------------------------------------------------------------------------
ls_run t.json $T --json --since "$FX_SINCE" --until "$FX_UNTIL" access-pinsplice.log
e2e_expect "since/until: records kept" "$FX_WINDOW_KEPT" "$(jget t.json input.records)"
e2e_expect "since/until: records skipped" "$((13 - FX_WINDOW_KEPT))" "$(jget t.json input.filtered)"
e2e_expect "since/until: reject.test failures inside the range" 2 \
    "$(jget t.json 'findings.names[name=reject.test].abandoned')"
ls_run t.json $T --json --since "$FX_SINCE_RESET" access-pinsplice.log
e2e_expect "since @unixtime (the reset.test record): records kept" 4 "$(jget t.json input.records)"
ls_run t.json $T --json --until "$FX_BEFORE" access-pinsplice.log
e2e_expect "until before the log: nothing" 0 "$(jget t.json input.records)"
e2e_expect "until before the log: exit 3 (nothing read)" 3 "$LS_RC"

# ---- gzip, stdin, several files --------------------------------------------------------------
gzip -c access-pinsplice.log >access.log.1.gz
ls_run g.json $T --json access.log.1.gz - <access-squid.log
e2e_expect "gz + stdin: exit 1" 1 "$LS_RC"
e2e_expect "gz + stdin: pinsplice records" 13 "$(jget g.json input.records_by_format.pinsplice)"
e2e_expect "gz + stdin: squid records" 13 "$(jget g.json input.records_by_format.squid)"
e2e_expect "gz + stdin: file names" '["access.log.1.gz", "-"]' \
    "$(python3 -c 'import json,sys; print(json.dumps([f["path"] for f in json.load(open(sys.argv[1]))["input"]["files"]]))' g.json)"

# ---- broken lines: counted, shown with line numbers, never fatal -----------------------------
cp access-pinsplice.log mangled.log
{
    head -c 60 access-pinsplice.log; echo                              # line 14: truncated
    echo 'x1795732891.740 70 127.0.0.1:1 NONE_NONE/200 0 1 CONNECT a:1 - bump a a -/- - - -'
    echo '1795732891.740 70 127.0.0.1:1 NONE_NONE/200 0 1 CONNECT a:1 - bump "a a -/- - - -'
    head -c 70000 /dev/zero | tr '\0' 'y'; echo                        # line 17: huge
    printf '\r\n'                                                     # line 18: blank (CRLF)
    printf '1795732891.740 70 127.0.0.1:1 NONE\0_NONE/200 0 1 CONNECT a:1 - bump a a -/- - - -\n'
    tail -n 1 access-pinsplice.log | tr -d '\n'; printf '\r\n'          # line 20: good, CRLF
} >>mangled.log
ls_run m.json $T --json --show-bad 10 mangled.log
e2e_expect "mangled: exit 1 (still a report)" 1 "$LS_RC"
e2e_expect "mangled: lines" 20 "$(jget m.json input.lines)"
e2e_expect "mangled: records" 14 "$(jget m.json input.records)"
e2e_expect "mangled: bad" 5 "$(jget m.json input.bad)"
e2e_expect "mangled: blank" 1 "$(jget m.json input.blank)"
e2e_expect "mangled: bad line numbers" '[14, 15, 16, 17, 19]' \
    "$(python3 -c 'import json,sys; print([b["line"] for b in json.load(open(sys.argv[1]))["bad_lines"]])' m.json)"
e2e_expect "mangled: truncated line" "too few fields (7 of 16)" "$(jget m.json 'bad_lines[0].reason')"
e2e_expect "mangled: bad timestamp" "bad timestamp 'x1795732891.740'" "$(jget m.json 'bad_lines[1].reason')"
e2e_expect "mangled: open quote" "unterminated quote or bracket" "$(jget m.json 'bad_lines[2].reason')"
e2e_expect "mangled: huge line" "line too long (70000 bytes, at most 65536)" "$(jget m.json 'bad_lines[3].reason')"
e2e_expect "mangled: huge line shown cut" true "$(jget m.json 'bad_lines[3].cut')"
e2e_expect "mangled: NUL byte" "NUL byte in the line" "$(jget m.json 'bad_lines[4].reason')"
e2e_expect "mangled: the CRLF record counted (a second tunnel of www.zoom.us)" "$((2 * FX_SPLICE_OUT))" \
    "$(jget m.json totals.bytes_out.splice)"
ls_run m.txt $T mangled.log
expect_grep "text: bad lines listed with file:line" \
    'mangled.log:15: bad timestamp '"'"'x1795732891.740'"'"': "x1795732891.740 70' m.txt
expect_grep "text: huge line cut" '  mangled.log:17: line too long (70000 bytes, at most 65536): "yyyy' m.txt

# ---- SQL -------------------------------------------------------------------------------------
ls_run bypass.sql $T --sql access-pinsplice.log
e2e_expect "sql: exit 1" 1 "$LS_RC"
e2e_expect "sql: statements (add_domain, expiry)" "2 2" \
    "$(grep -c '^INSERT INTO add_domain' bypass.sql) $(grep -c "^INSERT INTO edit_rule (rule, field, value) VALUES ('logscan: [a-z.]*', 'expires_at'" bypass.sql)"
e2e_expect "sql: one transaction" "BEGIN;|COMMIT;" "$(grep -E '^(BEGIN|COMMIT);$' bypass.sql | paste -sd'|')"
if command -v sqlite3 >/dev/null 2>&1; then
    sqlite3 -bail rules.db <"$PS_SQLDIR/schema.sql" && sqlite3 -bail rules.db <"$PS_SQLDIR/audit.sql" &&
        sqlite3 -bail rules.db <"$PS_SQLDIR/manage.sql" &&
        sqlite3 -bail rules.db <bypass.sql
    e2e_expect "sql: applies to a fresh schema with the views" "logscan: pinned.test|pinned.test,logscan: reject.test|reject.test" \
        "$(sqlite3 rules.db "SELECT r.name || '|' || d.domain FROM rules r JOIN rule_domains d ON d.rule_id = r.id ORDER BY 1" | paste -sd,)"
fi

# ---- the rules DB: $PINSPLICE_DB when --db is not given ----------------------------------------
echo "not a database" >garbage.db
PINSPLICE_DB=$tmp/$v/garbage.db ls_run g.txt --min-failures 2 --min-clients 1 access-pinsplice.log
e2e_expect "broken default DB: the scan goes on (exit 1, suspects)" 1 "$LS_RC"
expect_grep "broken default DB: said on stderr" "garbage.db" g.txt.err
expect_grep "broken default DB: said in the report" "Rules DB: could not be read" g.txt
PINSPLICE_DB=$tmp/$v/garbage.db ls_run g.txt --db "$tmp/$v/garbage.db" access-pinsplice.log
e2e_expect "broken --db: exit 2" 2 "$LS_RC"
PINSPLICE_DB=$tmp/$v/none.db ls_run g.txt --min-failures 2 --min-clients 1 access-pinsplice.log
expect_grep "no default DB: said so" "Rules DB: none at $tmp/$v/none.db" g.txt
if command -v sqlite3 >/dev/null 2>&1; then
    cat "$PS_SQLDIR/schema.sql" "$PS_SQLDIR/vendor.sql" "$PS_SQLDIR/defaults.sql" |
        sqlite3 -bail shipped.db
    echo "INSERT INTO rules (name, action) VALUES ('Pinned app', 'splice');
        INSERT INTO rule_domains (rule_id, domain) SELECT id, 'pinned.test' FROM rules
        WHERE name = 'Pinned app';" | sqlite3 -bail shipped.db
    PINSPLICE_DB=$tmp/$v/shipped.db ls_run d.json --json --all --min-failures 2 --min-clients 1 \
        access-pinsplice.log
    e2e_expect "default DB: used" "$tmp/$v/shipped.db" "$(jget d.json findings.rules_db)"
    e2e_expect "default DB: pinned.test handled by its rule" "rule 'Pinned app' (splice)" \
        "$(jget d.json 'findings.names[name=pinned.test].handled_by')"
    e2e_expect "default DB: reject.test still a suspect" suspect \
        "$(jget d.json 'findings.names[name=reject.test].status')"
fi

# ---- usage errors: exit 2 --------------------------------------------------------------------
for bad in "--bogus access-pinsplice.log" "" "--since yesterday access-pinsplice.log" \
    "--min-ratio 1.5 access-pinsplice.log" "--min-clients 0 access-pinsplice.log" \
    "--format apache access-pinsplice.log" "--csv=users access-pinsplice.log" \
    "--sql --json access-pinsplice.log" "--since 2026-11-27 --until 2026-11-26 access-pinsplice.log" \
    "--logformat %>a access-pinsplice.log"; do
    # shellcheck disable=SC2086
    ls_run u.txt --no-db $bad
    e2e_expect "usage error: '$bad' exits 2" 2 "$LS_RC"
done
ls_run u.txt --no-db --bogus access-pinsplice.log
expect_grep "usage error names the option" "unrecognized option '--bogus'" u.txt.err
ls_run miss.txt $T access-pinsplice.log no-such-file.log
e2e_expect "missing file: exit 2" 2 "$LS_RC"
expect_grep "missing file: named on stderr" "no-such-file.log: No such file or directory" miss.txt.err
expect_grep "missing file: the report still covers the other file" "Apps that break under bumping: 2 suspect names" miss.txt
ls_run h.txt --help
e2e_expect "--help: exit 0" 0 "$LS_RC"
expect_grep "--help: usage" "Usage: pinsplice logscan [OPTIONS] FILE..." h.txt
# A custom logformat: the native format written out, read as --logformat.
ls_run c.json --no-db --json --logformat '%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt' access-squid.log
e2e_expect "--logformat: records in that format" 13 "$(jget c.json input.records_by_format.logformat)"
e2e_expect "--logformat: spliced" 1 "$(jget c.json totals.connections.splice)"

cd "$tmp" || exit 1
}

for d in "$PS_SRCDIR"/tests/fixtures/squid-*/; do
    fixture_checks "${d%/}"
done
e2e_expect "both captures checked (Squid 5.7 and 6.13)" "squid-5.7 squid-6.13" "$(ls -d "$tmp"/squid-* | xargs -n1 basename | xargs)"
e2e_finish

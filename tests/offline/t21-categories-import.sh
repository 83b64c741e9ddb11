#!/bin/bash
# t21-categories-import: `pinsplice categories import` on a real UT1-style directory into a real
# DB made by `pinsplice db init` (+ `db update`, which applies manage.sql: the audit trail), read
# back with the sqlite3 CLI and decided by `pinsplice check`. Exact output and exit status for:
# the built-in map, names normalised as the matcher does, invalid lines counted and shown with
# FILE:LINE, urls files counted, unmapped lists listed, a re-import replacing the list's rows
# (and only them), --map, one audit row per list with the OS user, the progress line on a
# terminal only, and errors that leave the DB untouched.
#
# Environment: PS_BUILDDIR (tools/pinsplice), PS_SQLDIR. Needs sqlite3, script (util-linux),
# md5sum; no Squid, no root. Exit 0 pass, 1 fail, 77 when a tool is missing and
# PINSPLICE_ALLOW_SKIP=1.
. "$(dirname "$0")/../lib/check.sh"

e2e_workdir t21-categories-import
e2e_require sqlite3 md5sum script
PS=$PS_BUILDDIR/tools/pinsplice
[ -x "$PS" ] || e2e_die "$PS not built"
[ -r "$PS_SQLDIR/manage.sql" ] || e2e_die "$PS_SQLDIR/manage.sql missing (the audit trail)"
unset PINSPLICE_DB
export PINSPLICE_SQLDIR=$PS_SQLDIR
nl=$'\n'
DB=$E2E_DIR/rules.db
# audit.who as pinsplice writes it: the OS user, and who ran sudo when it did.
WHO=$(id -un)
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != "$WHO" ]; then WHO="$WHO (sudo by $SUDO_USER)"; fi
BL=$E2E_DIR/blacklists

# t_run ARGS...: OUT (the import's duration replaced by T), ERR, RC.
t_run() {
    OUT=$("$PS" "$@" 2>"$E2E_DIR/stderr")
    RC=$?
    OUT=$(printf '%s' "$OUT" | sed -E 's/ in [0-9]+\.[0-9] s/ in T s/')
    ERR=$(cat "$E2E_DIR/stderr")
}
t_expect() {
    e2e_expect "$1: exit status" "$2" "$RC"
    e2e_expect "$1: stdout" "$3" "$OUT"
    e2e_expect "$1: stderr" "${4-}" "$ERR"
}
sql() { sqlite3 -bail -batch "$DB" "$1" || e2e_die "sqlite3 $DB: $1"; }
# decide NAME: "action rule" as `pinsplice check` says.
decide() {
    "$PS" check --db "$DB" --sni "$1" | sed -n 's/^action: *//p; s/^rule: *//p' | paste -sd' '
}

"$PS" db init --db "$DB" >/dev/null || e2e_die "db init failed"
"$PS" db update --db "$DB" >/dev/null || e2e_die "db update (manage.sql) failed"
e2e_expect "DB has the audit trail" 1 "$(sql "SELECT count(*) FROM sqlite_master WHERE name = 'audit_import'")"
sql "UPDATE rules SET enabled = 1 WHERE name = 'Bypass sensitive traffic - Pre-configured'"
e2e_expect "before: www.bank.test is bumped" "bump none (default)" "$(decide www.bank.test)"

# ---- a UT1-style directory ----------------------------------------------------------------------
mkdir -p "$BL/bank" "$BL/adult" "$BL/financial" "$BL/government" "$BL/redirector"
printf '%s\n' '# UT1 bank list' '' 'bank.test' 'WWW.Other-Bank.TEST.' '.dotted.test' \
    'bücher.test' '10.1.2.3' 'two words.test' 'com' 'co.uk' 'a..b.test' 'bank.test' \
    '  spaced.test  ' 'trailing.test # note' >"$BL/bank/domains"
printf 'bank.test/login\n' >"$BL/bank/urls"
printf 'adult.test\n' >"$BL/adult/domains"
printf 'adult.test/x\n' >"$BL/adult/urls"
printf 'finance.test\nbank.test\n' >"$BL/financial/domains"
printf 'gov.test\r\nministry.gov.test\r\n' >"$BL/government/domains"   # CRLF
printf 'r.test/x\n' >"$BL/redirector/urls"                             # urls only

t_run categories import "$BL" --db "$DB"
t_expect "first import" 0 "bank -> Financial Services: 6 names, 1 already in the category, 5 invalid lines
financial -> Financial Services: 1 name, 1 already in the category
government -> Government: 2 names
skipped (not in the map): adult
skipped 3 urls files (pinsplice matches host names only)
$DB: imported 9 names from 3 lists in T s, 5 invalid lines" \
"pinsplice categories import: $BL/bank/domains:7: '10.1.2.3': an IP address, not a name
pinsplice categories import: $BL/bank/domains:8: 'two words.test': a space inside the line (one name per line)
pinsplice categories import: $BL/bank/domains:9: 'com': a single label: it would cover a whole top-level domain
pinsplice categories import: $BL/bank/domains:10: 'co.uk': a public suffix: it would cover every site under it
pinsplice categories import: $BL/bank/domains:11: 'a..b.test': bad name 'a..b.test': empty label"
e2e_expect "stored as the matcher normalises" \
    "bank.test dotted.test spaced.test trailing.test www.other-bank.test xn--bcher-kva.test" \
    "$(sql "SELECT group_concat(domain, ' ') FROM (SELECT domain FROM category_domains WHERE list = 'bank' ORDER BY domain)")"
e2e_expect "rows by list and category" "bank|Financial Services|6 financial|Financial Services|1 government|Government|2" \
    "$(sql "SELECT list, category, count(*) FROM category_domains GROUP BY 1, 2 ORDER BY 1" | paste -sd' ')"
e2e_expect "after: www.bank.test spliced by the category rule" \
    "splice Bypass sensitive traffic - Pre-configured (id 1)" "$(decide www.bank.test)"
e2e_expect "after: an IDN name in the list matches its Unicode form" \
    "splice Bypass sensitive traffic - Pre-configured (id 1)" "$(decide www.bücher.test)"
e2e_expect "after: unmapped list not imported" "bump none (default)" "$(decide adult.test)"
e2e_expect "one audit row per list, by the OS user" \
    "bank|Financial Services|0|6|$WHO financial|Financial Services|0|1|$WHO government|Government|0|2|$WHO" \
    "$(sql "SELECT list, category, removed, added, who FROM audit_import ORDER BY list" | paste -sd' ')"
e2e_expect "no persistent who left behind (no audit_who setting)" 0 "$(sql "SELECT count(*) FROM settings WHERE key = 'audit_who'")"

# ---- re-import: the list's rows are replaced, other rows stay -----------------------------------
sql "INSERT INTO category_domains (category, domain) VALUES ('Financial Services', 'byhand.test')"
printf 'bank.test\nnew-bank.test\n' >"$BL/bank/domains"
t_run categories import "$BL" --db "$DB"
e2e_expect "re-import: exit status" 0 "$RC"
e2e_expect "re-import: bank line" "bank -> Financial Services: 2 names (replacing 6)" \
    "$(printf '%s\n' "$OUT" | grep '^bank ')"
e2e_expect "re-import: bank rows" "bank.test new-bank.test" \
    "$(sql "SELECT group_concat(domain, ' ') FROM (SELECT domain FROM category_domains WHERE list = 'bank' ORDER BY domain)")"
e2e_expect "re-import: a row added by hand stays" 1 \
    "$(sql "SELECT count(*) FROM category_domains WHERE domain = 'byhand.test' AND list IS NULL")"
e2e_expect "re-import: removed name no longer spliced" "bump none (default)" \
    "$(decide www.other-bank.test)"
e2e_expect "re-import: audit row" "bank|6|2" \
    "$(sql "SELECT list, removed, added FROM audit_import WHERE list = 'bank' ORDER BY at DESC LIMIT 1")"

# ---- --map ---------------------------------------------------------------------------------------
printf '# my map\nadult = Adult Content\nbank = Financial Services\n' >"$E2E_DIR/map"
t_run categories import "$BL" --map "$E2E_DIR/map" --db "$DB"
t_expect "--map" 0 "adult -> Adult Content: 1 name [new category]
bank -> Financial Services: 2 names (replacing 2)
skipped (not in the map): financial, government
skipped 3 urls files (pinsplice matches host names only)
$DB: imported 3 names from 2 lists in T s"
e2e_expect "--map: category created" 1 "$(sql "SELECT count(*) FROM categories WHERE name = 'Adult Content'")"
e2e_expect "--map: lists it does not name keep their rows" 2 \
    "$(sql "SELECT count(*) FROM category_domains WHERE list = 'government'")"
printf 'bank Financial Services\n' >"$E2E_DIR/badmap"
sum=$(md5sum <"$DB")
t_run categories import "$BL" --map "$E2E_DIR/badmap" --db "$DB"
t_expect "bad map" 2 "" "pinsplice categories import: $E2E_DIR/badmap:1: expected 'LIST = Category'"

# ---- errors: nothing written ---------------------------------------------------------------------
t_run categories import "$E2E_DIR/nonexistent" --db "$DB"
t_expect "missing directory" 2 "" \
    "pinsplice categories import: $E2E_DIR/nonexistent: No such file or directory (nothing imported)"
mkdir -p "$E2E_DIR/empty/other"
printf 'x.test\n' >"$E2E_DIR/empty/other/domains"
t_run categories import "$E2E_DIR/empty" --db "$DB"
t_expect "no list mapped" 2 "" \
    "pinsplice categories import: $E2E_DIR/empty: no list is in the map (other); nothing imported"
t_run categories import "$BL" --db "$E2E_DIR/missing.db"
t_expect "missing DB" 2 "" \
    "pinsplice categories import: $E2E_DIR/missing.db: No such file or directory (nothing imported)"
t_run categories import --db "$DB"
t_expect "no DIR" 2 "" "pinsplice categories import: which directory? (pinsplice categories import DIR)"
t_run categories import "$BL" "$BL" --db "$DB"
t_expect "two DIRs" 2 "" "pinsplice categories import: unexpected argument '$BL'
Try 'pinsplice help categories import'."
e2e_expect "errors left the DB untouched" "$sum" "$(md5sum <"$DB")"
t_run help categories import
e2e_expect "help: synopsis" "Usage: pinsplice categories import DIR [--map FILE] [--db PATH]" "${OUT%%$nl*}"
e2e_expect_match "help: shows the built-in map" "bank += Financial Services" "$OUT"

# ---- the progress line: on a terminal only -------------------------------------------------------
script -qec "'$PS' categories import '$BL' --db '$DB' >/dev/null" "$E2E_DIR/typescript" \
    >/dev/null 2>&1 </dev/null
e2e_expect "on a terminal: exit status" 0 "$?"
e2e_expect_match "on a terminal: progress line drawn and erased" \
    $'\r\033\\[Kimporting bank: [0-9]+ names written, [0-9]+% read' "$(cat "$E2E_DIR/typescript")"
e2e_finish

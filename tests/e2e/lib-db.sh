# tests/e2e/lib-db.sh: the rules DB of the e2e tests (sourced by lib.sh), made the way an admin
# makes it (`pinsplice db init` of this build) and edited with the sqlite3 CLI.

# e2e_db_path: where the snippet's @localstatedir@ points for the test: $E2E_DIR/var.
e2e_db_path() { echo "$E2E_DIR/var/lib/pinsplice/rules.db"; }

# e2e_db_build PATH: create a rules DB at PATH the way an admin does: `pinsplice db init` of this
# build, from the source tree's SQL (PINSPLICE_SQLDIR=$PS_SQLDIR), readable by proxy.
e2e_db_build() {
    local db=$1 tool=$PS_BUILDDIR/tools/pinsplice
    rm -f "$db"
    [ -x "$tool" ] || e2e_die "$tool not built (run make first)"
    PINSPLICE_SQLDIR=$PS_SQLDIR "$tool" db init --db "$db" >"$E2E_DIR/sqlite.err" 2>&1 ||
        e2e_die "pinsplice db init --db $db: $(cat "$E2E_DIR/sqlite.err")"
    chown proxy:proxy "$db" && chmod 0644 "$db"
}

# e2e_db_create [SQL...]: build the default DB at E2E_DB. Optional SQL arguments run afterwards
# (test setup, e.g. adding a rule), before Squid starts.
e2e_db_create() {
    E2E_DB=$(e2e_db_path)
    mkdir -p "$(dirname "$E2E_DB")"
    chown proxy:proxy "$(dirname "$E2E_DB")"
    e2e_db_build "$E2E_DB"
    local sql
    for sql in "$@"; do e2e_sql "$sql"; done
}

# e2e_sql SQL: run SQL on E2E_DB as an admin would (sqlite3 CLI, waits up to 5 s for a lock).
# Dies on an SQL error; prints the query output.
e2e_sql() {
    sqlite3 -bail -cmd '.timeout 5000' "$E2E_DB" "$1" 2>"$E2E_DIR/sqlite.err" ||
        e2e_die "sqlite3: $1: $(cat "$E2E_DIR/sqlite.err")"
}

# e2e_rule_for DOMAIN: name of the enabled rule holding exactly this domain entry (first by
# position), for asserting what access.log names.
e2e_rule_for() {
    e2e_sql "SELECT r.name FROM rules r JOIN rule_domains d ON d.rule_id = r.id
             WHERE d.domain = '$1' AND r.enabled = 1 ORDER BY r.position, r.id LIMIT 1;"
}

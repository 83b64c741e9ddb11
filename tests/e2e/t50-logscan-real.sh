#!/bin/bash
# t50-logscan-real: `pinsplice logscan` on the access.log a real Squid 5.7 with the pinsplice
# snippet writes, in both the pinsplice and Squid's native format (two access_log lines), for
# clients that
#   - succeed through the bump (curl trusting the proxy CA), twice          -> good.test
#   - reject the proxy's certificate (curl without the proxy CA: alert 48)  -> reject.test x3
#   - check a pin after the handshake (curl --pinnedpubkey: exit 90)       -> pinned.test x2
#   - reset the connection during the handshake (RST)                      -> reset.test
#   - close it during the handshake (FIN, no alert)                        -> closed.test
#   - are spliced by the default Zoom rule (curl --pinnedpubkey: exit 0)   -> www.zoom.us
# and asserts the exact counts, the suspects, the --sql statements (applied to a copy of the DB,
# after which the same scan finds the names handled), the native-format limits, gzip input and
# the exit status. With PS_LOGSCAN_CAPTURE=DIR the two logs are copied there (how
# tests/fixtures/squid-*/access-*.log were made).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/logscan.sh"
e2e_init t50-logscan-real
# cache.log may hold Squid's report of the handshakes this test's clients abort on purpose, nothing else.
E2E_LOG_ALLOW='ERROR: (system call )?failure while accepting a TLS connection'
e2e_require python3 gzip
ls_init
E2E_NAMES+=" good.test reject.test pinned.test reset.test closed.test"
e2e_pki
e2e_origin_start
e2e_db_create
native_log=$E2E_DIR/squid/log/native.log
E2E_SQUID_POST="access_log stdio:$native_log squid"
e2e_squid_start
zoom_rule=$(e2e_rule_for zoom.us)
[ -n "$zoom_rule" ] || e2e_die "the default DB has no rule for zoom.us"

# tls_abort reset|close NAME: CONNECT to NAME, send a TLS ClientHello, read what the proxy sends
# back (its bumped certificate), then reset (SO_LINGER 0) or close (FIN) without answering.
tls_abort() {
    timeout "$E2E_TIMEOUT" python3 - "$1" "$2" "$E2E_ORIGIN_PORT" "$E2E_SQUID_PORT" <<'PY'
import socket, ssl, struct, sys
mode, host, port, proxy = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection(("127.0.0.1", proxy), timeout=10)
s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port, host, port)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        sys.exit(2)
    buf += d
if b" 200 " not in buf.split(b"\r\n")[0]:
    sys.exit(3)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname=host)
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
s.sendall(out.read())
got = 0
s.settimeout(1.0)
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
except socket.timeout:
    pass
if got == 0:
    sys.exit(4)
if mode == "reset":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
    E2E_RC=$?
}

# ---- traffic ---------------------------------------------------------------------------------
e2e_check_served "good 1" good.test
e2e_check_served "good 2" good.test
for i in 1 2 3; do
    timeout "$E2E_TIMEOUT" curl -sS --proxy "http://127.0.0.1:$E2E_SQUID_PORT" \
        --cacert "$E2E_ORIGIN_CA" -o /dev/null "https://reject.test:$E2E_ORIGIN_PORT/" \
        2>"$E2E_DIR/reject.err"
    e2e_expect "reject $i: curl without the proxy CA rejects the bumped certificate" 60 "$?"
done
for i in 1 2; do
    e2e_curl --pin pinned.test
    e2e_expect "pinned $i: pin checked after the handshake fails" 90 "$E2E_RC"
done
tls_abort reset reset.test
e2e_expect "reset: client sent a ClientHello, got the bumped certificate, reset" 0 "$E2E_RC"
tls_abort close closed.test
e2e_expect "closed: client sent a ClientHello, got the bumped certificate, closed" 0 "$E2E_RC"
e2e_check_spliced "zoom" www.zoom.us "$zoom_rule"
zoom_port=$E2E_LPORT
e2e_log_wait "\$client == \"127.0.0.1:$zoom_port\" && \$status ~ /^TCP_TUNNEL/" ||
    e2e_fail "zoom: no tunnel record"
# Columns of the access.log fields, from the snippet's logformat (lib.sh parsed it).
col() { printf '%s\n' "$E2E_LOG_COLS" | awk -v n="$1" '$1 == n { print $2 }'; }
c_method=$(col method)
c_status=$(col status)
c_bytes=$(col bytes_out)
# Every connection logged: 2 good + 3 reject + 2 pinned + reset + closed + zoom = 10, and the
# splice logs its tunnel as an 11th CONNECT record.
connects() { [ "$(awk -v m="$c_method" '$m == "CONNECT"' "$E2E_ACCESS_LOG" | wc -l)" -ge 11 ]; }
e2e_wait_for 10 connects || e2e_fail "not every CONNECT record was written"
e2e_squid_stop

if [ -n "${PS_LOGSCAN_CAPTURE:-}" ]; then
    cp "$E2E_ACCESS_LOG" "$PS_LOGSCAN_CAPTURE/access-pinsplice.log"
    cp "$native_log" "$PS_LOGSCAN_CAPTURE/access-squid.log"
    e2e_log "captured the logs into $PS_LOGSCAN_CAPTURE"
fi

lines=$(wc -l <"$E2E_ACCESS_LOG")
nlines=$(wc -l <"$native_log")
# Byte counts the report must add up: the tunnel's and the two inner GETs'.
tunnel_bytes=$(awk -v st="$c_status" -v b="$c_bytes" '$st ~ /^TCP_TUNNEL/ { s += $b }
    END { print s + 0 }' "$E2E_ACCESS_LOG")
get_bytes=$(awk -v m="$c_method" -v b="$c_bytes" '$m == "GET" { s += $b } END { print s + 0 }' \
    "$E2E_ACCESS_LOG")

# ---- the pinsplice format --------------------------------------------------------------------
r=$E2E_DIR/report.json
ls_run "$r" --json --no-db --min-failures 2 --min-clients 1 --all "$E2E_ACCESS_LOG"
e2e_expect "pinsplice log: exit status 1 (suspects found)" 1 "$LS_RC"
e2e_expect "pinsplice log: every line is a record" "$lines" "$(jget "$r" input.records)"
e2e_expect "pinsplice log: records in the pinsplice format" "$lines" \
    "$(jget "$r" input.records_by_format.pinsplice)"
e2e_expect "pinsplice log: no bad line" 0 "$(jget "$r" input.bad)"
e2e_expect "spliced connections" 1 "$(jget "$r" totals.connections.splice)"
e2e_expect "bumped connections" 9 "$(jget "$r" totals.connections.bump)"
e2e_expect "terminated connections" 0 "$(jget "$r" totals.connections.terminate)"
e2e_expect "other connections" 0 "$(jget "$r" totals.connections.other)"
e2e_expect "requests inside bumped connections" 2 "$(jget "$r" totals.requests.bump)"
e2e_expect "bumped connections that carried a request" 2 "$(jget "$r" totals.bumped_ok)"
e2e_expect "abandoned: TLS alert" 3 "$(jget "$r" totals.abandoned.alert)"
e2e_expect "abandoned: reset" 1 "$(jget "$r" totals.abandoned.reset)"
e2e_expect "abandoned: closed" 1 "$(jget "$r" totals.abandoned.closed)"
e2e_expect "abandoned: no request after the handshake" 2 "$(jget "$r" totals.abandoned.no_request)"
e2e_expect "Squid errors (the 5 handshake failures)" 5 "$(jget "$r" totals.errors)"
e2e_expect_match "tunnel bytes are counted" '^[1-9][0-9]*$' "$tunnel_bytes"
e2e_expect "spliced bytes = the tunnel record's" "$tunnel_bytes" "$(jget "$r" totals.bytes_out.splice)"
e2e_expect "bumped bytes = the inner GETs'" "$get_bytes" "$(jget "$r" totals.bytes_out.bump)"
e2e_expect "rule: $zoom_rule spliced 1" 1 "$(jget "$r" "rules[rule=$zoom_rule].connections.splice")"
e2e_expect "rule: default action bumped 9" 9 "$(jget "$r" "rules[kind=default].connections.bump")"
e2e_expect "top spliced name" www.zoom.us "$(jget "$r" top_spliced[0].name)"
e2e_expect "top client" 127.0.0.1 "$(jget "$r" top_clients[0].client)"
e2e_expect "top client connections" 10 "$(jget "$r" top_clients[0].counts.connections.total)"
f="findings.names[name=reject.test]"
e2e_expect "reject.test: suspect" suspect "$(jget "$r" "$f.status")"
e2e_expect "reject.test: 3 abandoned" 3 "$(jget "$r" "$f.abandoned")"
e2e_expect "reject.test: alert 48 decoded by OpenSSL" '[{"alert": 48, "count": 3, "name": "unknown_ca"}]' \
    "$(jget "$r" "$f.alerts")"
e2e_expect "reject.test: one client" 1 "$(jget "$r" "$f.clients")"
e2e_expect "reject.test: example client" '["127.0.0.1"]' "$(jget "$r" "$f.example_clients")"
e2e_expect "reject.test: ratio" 1.0 "$(jget "$r" "$f.ratio")"
e2e_expect_match "reject.test: first failure time" '^20[0-9-]{8}T[0-9:.]{12}Z$' \
    "$(jget "$r" "$f.first_failure")"
f="findings.names[name=pinned.test]"
e2e_expect "pinned.test: suspect" suspect "$(jget "$r" "$f.status")"
e2e_expect "pinned.test: 2 without a request" 2 "$(jget "$r" "$f.counts.abandoned.no_request")"
e2e_expect "reset.test: below the thresholds (1 failure)" below \
    "$(jget "$r" "findings.names[name=reset.test].status")"
e2e_expect "reset.test: counted as a reset" 1 \
    "$(jget "$r" "findings.names[name=reset.test].counts.abandoned.reset")"
e2e_expect "closed.test: counted as closed" 1 \
    "$(jget "$r" "findings.names[name=closed.test].counts.abandoned.closed")"
e2e_expect "good.test: never abandoned, not listed" MISSING \
    "$(jget "$r" "findings.names[name=good.test].status")"
e2e_expect "good.test: 2 bumped with requests" 2 \
    "$(jget "$r" "top_bumped[name=good.test].counts.bumped_ok")"

# Default thresholds (5 failures, 2 clients): nothing qualifies; exit 0.
ls_run "$E2E_DIR/default.txt" --no-db "$E2E_ACCESS_LOG"
e2e_expect "default thresholds: exit 0" 0 "$LS_RC"
e2e_expect_match "default thresholds: text report says 0 suspects" \
    'Apps that break under bumping: 0 suspect names' "$(cat "$E2E_DIR/default.txt")"

# ---- SQL for review, applied to a copy of the DB ---------------------------------------------
ls_run "$E2E_DIR/bypass.sql" --sql --db "$E2E_DB" --min-failures 2 --min-clients 1 "$E2E_ACCESS_LOG"
e2e_expect "--sql: exit status 1" 1 "$LS_RC"
e2e_expect "--sql: two rules, through the add_domain view" 2 \
    "$(grep -c '^INSERT INTO add_domain ' "$E2E_DIR/bypass.sql")"
e2e_expect "--sql: no raw table insert" 0 "$(grep -c '^INSERT INTO rules' "$E2E_DIR/bypass.sql")"
e2e_expect "--sql: each rule expires in a week by default" 2 \
    "$(grep -c "^INSERT INTO edit_rule (rule, field, value) VALUES ('logscan: [a-z.]*', 'expires_at', datetime('now', '+7 days'));" "$E2E_DIR/bypass.sql")"
cp "$E2E_DB" "$E2E_DIR/copy.db"
sqlite3 -bail "$E2E_DIR/copy.db" <"$E2E_DIR/bypass.sql" >"$E2E_DIR/apply.out" 2>&1
e2e_expect "--sql: sqlite3 applies it" "0:" "$?:$(cat "$E2E_DIR/apply.out")"
e2e_expect "--sql: the rule for reject.test" "splice|reject.test|1" \
    "$(sqlite3 "$E2E_DIR/copy.db" "SELECT r.action, d.domain, d.exact FROM rules r JOIN rule_domains d
        ON d.rule_id = r.id WHERE r.name = 'logscan: reject.test'")"
e2e_expect "logscan changed nothing in the DB it read" "" \
    "$(sqlite3 "$E2E_DB" "SELECT name FROM rules WHERE name LIKE 'logscan:%'")"
ls_run "$r" --json --db "$E2E_DIR/copy.db" --min-failures 2 --min-clients 1 --all "$E2E_ACCESS_LOG"
e2e_expect "with the new rules: exit 0" 0 "$LS_RC"
e2e_expect "with the new rules: reject.test handled" "rule 'logscan: reject.test' (splice)" \
    "$(jget "$r" "findings.names[name=reject.test].handled_by")"
e2e_expect "with the new rules: rules DB named" "$E2E_DIR/copy.db" "$(jget "$r" findings.rules_db)"
e2e_expect "--sql: the applied rule expires in about 7 days" 7 \
    "$(sqlite3 "$E2E_DIR/copy.db" "SELECT CAST(round(julianday(expires_at) - julianday('now')) AS INTEGER) FROM rule_overview WHERE name = 'logscan: reject.test'")"

# ---- a name the catalogue covers: enable the app, not a new rule -------------------------------
cp "$E2E_DB" "$E2E_DIR/cat.db"
e2e_sql_db() { sqlite3 -bail "$1" "$2"; }
e2e_sql_db "$E2E_DIR/cat.db" "INSERT INTO apps (name, origin) VALUES ('Pinned Test App', 'local');
    INSERT INTO app_domains (app_id, domain) SELECT id, 'pinned.test' FROM apps WHERE name = 'Pinned Test App';"
ls_run "$E2E_DIR/cat.sql" --sql --expires 0 --db "$E2E_DIR/cat.db" --min-failures 2 --min-clients 1 "$E2E_ACCESS_LOG"
e2e_expect "--sql, catalogue: exit status 1" 1 "$LS_RC"
e2e_expect "--sql, catalogue: the covering app is enabled" \
    "INSERT INTO enable_app (app, by) VALUES ('Pinned Test App', 'domain');" \
    "$(grep '^INSERT INTO enable_app' "$E2E_DIR/cat.sql")"
e2e_expect "--sql, catalogue: no new rule for the name the app covers" 0 \
    "$(grep -c "'logscan: pinned.test'" "$E2E_DIR/cat.sql")"
e2e_expect "--sql --expires 0: no expiry" 0 "$(grep -c 'expires_at' "$E2E_DIR/cat.sql")"
sqlite3 -bail "$E2E_DIR/cat.db" <"$E2E_DIR/cat.sql" >"$E2E_DIR/apply.out" 2>&1
e2e_expect "--sql, catalogue: sqlite3 applies it" "0:" "$?:$(cat "$E2E_DIR/apply.out")"
ls_run "$r" --json --db "$E2E_DIR/cat.db" --min-failures 2 --min-clients 1 --all "$E2E_ACCESS_LOG"
e2e_expect "--sql, catalogue: pinned.test now handled by the app's rule" \
    "rule 'App: Pinned Test App' (splice)" \
    "$(jget "$r" "findings.names[name=pinned.test].handled_by")"
# --monitor: the suggested rules start in monitor mode (they change no answer until switched)
cp "$E2E_DB" "$E2E_DIR/mon.db"
ls_run "$E2E_DIR/mon.sql" --sql --monitor --db "$E2E_DIR/mon.db" --min-failures 2 --min-clients 1 "$E2E_ACCESS_LOG"
sqlite3 -bail "$E2E_DIR/mon.db" <"$E2E_DIR/mon.sql" >"$E2E_DIR/apply.out" 2>&1
e2e_expect "--sql --monitor: sqlite3 applies it" "0:" "$?:$(cat "$E2E_DIR/apply.out")"
e2e_expect "--sql --monitor: the rules are in monitor mode" "logscan: pinned.test|monitor logscan: reject.test|monitor" \
    "$(sqlite3 "$E2E_DIR/mon.db" "SELECT group_concat(name || '|' || mode, ' ') FROM (SELECT name, mode FROM rule_overview WHERE name LIKE 'logscan:%' ORDER BY name)")"
ls_run "$r" --json --db "$E2E_DIR/mon.db" --min-failures 2 --min-clients 1 --all "$E2E_ACCESS_LOG"
e2e_expect "--sql --monitor: reject.test still a suspect (a monitor rule decides nothing)" suspect \
    "$(jget "$r" "findings.names[name=reject.test].status")"
ls_run "$E2E_DIR/x.sql" --monitor --db "$E2E_DIR/cat.db" "$E2E_ACCESS_LOG"
e2e_expect "--monitor without --sql: a usage error" 2 "$LS_RC"
ls_run "$r" --json --db "$E2E_DIR/missing.db" "$E2E_ACCESS_LOG"
e2e_expect "--db naming a missing file: exit 2" 2 "$LS_RC"

# ---- the native format of the same traffic ---------------------------------------------------
ls_run "$r" --json --no-db --min-failures 1 --min-clients 1 "$native_log"
e2e_expect "native log: exit 3 (cannot judge bumped connections: never read as all clear)" 3 "$LS_RC"
e2e_expect "native log: every line is a squid record" "$nlines" \
    "$(jget "$r" input.records_by_format.squid)"
e2e_expect "native log: spliced (tunnel) connections" 1 "$(jget "$r" totals.connections.splice)"
e2e_expect "native log: bumped connections" 9 "$(jget "$r" totals.connections.bump)"
e2e_expect "native log: CONNECT without server connection (the splice's first record)" 1 \
    "$(jget "$r" input.native_connect_without_server)"
e2e_expect "native log: requests inside bumped connections" 2 "$(jget "$r" totals.requests.bump)"
e2e_expect "native log: spliced bytes" "$tunnel_bytes" "$(jget "$r" totals.bytes_out.splice)"
e2e_expect "native log: finder not run" false "$(jget "$r" findings.searched)"
e2e_expect_match "native log: says what it cannot tell" 'native squid format' "$(jget "$r" notes)"

# ---- both files, one of them gzip-compressed, in one report ----------------------------------
gzip -c "$E2E_ACCESS_LOG" >"$E2E_DIR/access.log.1.gz"
ls_run "$r" --json --no-db --min-failures 2 --min-clients 1 "$E2E_DIR/access.log.1.gz" "$native_log"
e2e_expect "gz + native: exit 1" 1 "$LS_RC"
e2e_expect "gz + native: pinsplice records" "$lines" "$(jget "$r" input.records_by_format.pinsplice)"
e2e_expect "gz + native: squid records" "$nlines" "$(jget "$r" input.records_by_format.squid)"
e2e_expect "gz + native: reject.test still a suspect" suspect \
    "$(jget "$r" "findings.names[name=reject.test].status")"

e2e_finish
